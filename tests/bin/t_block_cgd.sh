# share/sharedroot/xen/block-cgd, the Linux dom0's Xen block script for
# cgd images, run as xl runs it, and its key reader sharedroot-cgdkey.
#
# The stubs model the real programs' documented behaviour, not the
# command line we expect (see h_common.sh):
# - cryptsetup: "open --type plain" as cryptsetup 2.x does it
#   (src/cryptsetup.c action_open_plain, lib/utils.c
#   crypt_keyfile_device_read, lib/crypt_plain.c crypt_plain_hash;
#   cryptsetup(8), "NOTES ON PASSPHRASE PROCESSING FOR PLAIN MODE"): it
#   computes the key dm-crypt would get and keeps the mapping as
#   "dmsetup table --showkeys" shows it, and is checked against the
#   vectors of cryptsetup's own tests/password-hash-test;
# - losetup: util-linux's -f --show, -d, -j, -a, keeping which file
#   each loop device holds;
# - xenstore-read, xenstore-write: a key per file.
# The real test, where the kernel has device-mapper, uses the real
# losetup and cryptsetup on an image setup-local -c made.

# stubs: the stubs in ./stubs, first in PATH; state in ./loops,
# ./mapper (the mappings) and ./store.
stubs()
{
	here=$(pwd)
	mkdir -p stubs store mapper loops stubtmp
	cat > stubs/xenstore-read <<'STUB'
#!/bin/sh
# xenstore-read PATH: its value, or exit 1 where there is none.
cat "$STORE/$(echo "$1" | tr / _)" 2>/dev/null || {
	echo "couldn't read path $1" >&2
	exit 1
}
STUB
	cat > stubs/xenstore-write <<'STUB'
#!/bin/sh
# xenstore-write PATH VALUE [PATH VALUE ...]
[ $# -ge 2 ] && [ $(($# % 2)) = 0 ] || { echo "usage" >&2; exit 1; }
while [ $# -ge 2 ]; do
	printf '%s' "$2" > "$STORE/$(echo "$1" | tr / _)"
	shift 2
done
STUB
	cat > stubs/losetup <<'STUB'
#!/bin/sh
# util-linux losetup(8): -f [--show] FILE attaches FILE to the first
# free loop device (printing it with --show); -d DEV... detaches; -j
# FILE and -a list.  $LOOPS/loopN holds the file loopN is attached to.
echo "losetup $*" >> "$LOG"
first_free()
{
	n=0
	while [ -e "$LOOPS/loop$n" ]; do n=$((n + 1)); done
	echo "$n"
}
case $1 in
-f|--find)
	shift
	show=
	[ "$1" = --show ] && { show=1; shift; }
	if [ $# = 0 ]; then
		echo "/dev/loop$(first_free)"
		exit 0
	fi
	[ $# = 1 ] || { echo "losetup: stub: $* not modelled" >&2; exit 2; }
	if [ ! -e "$1" ]; then
		echo "losetup: $1: failed to set up loop device: No such file or directory" >&2
		exit 1
	fi
	n=$(first_free)
	readlink -f "$1" > "$LOOPS/loop$n"
	[ -n "$show" ] && echo "/dev/loop$n"
	exit 0
	;;
-d|--detach)
	shift
	rc=0
	for d; do
		if [ -e "$LOOPS/${d#/dev/}" ]; then
			rm "$LOOPS/${d#/dev/}"
		else
			echo "losetup: $d: detach failed: No such device or address" >&2
			rc=1
		fi
	done
	exit $rc
	;;
-j|--associated)
	f=$(readlink -f "$2")
	for l in "$LOOPS"/loop*; do
		[ -e "$l" ] && [ "$(cat "$l")" = "$f" ] &&
		    echo "/dev/${l##*/}: []: ($f)"
	done
	exit 0
	;;
-a|--all)
	for l in "$LOOPS"/loop*; do
		[ -e "$l" ] && echo "/dev/${l##*/}: []: ($(cat "$l"))"
	done
	exit 0
	;;
esac
echo "losetup: stub: $* not modelled" >&2
exit 2
STUB
	cat > stubs/cryptsetup <<'STUB'
#!/bin/sh
# cryptsetup 2.x, plain mode: the key dm-crypt gets from what it reads.
# $MAPPERS/NAME holds the mapping, as "dmsetup table --showkeys" shows
# it: 0 0 crypt CIPHER KEY 0 DEVICE 0 1 sector_size:N
echo "cryptsetup $*" >> "$LOG"
die() { echo "$2" >&2; exit "$1"; }
hex() { od -An -v -tx1 | tr -d ' \n'; }
type= cipher=aes-cbc-essiv:sha256 keybits=256 hash= hashset= keyfile=
kfsize=0 kfoffset=0 sector=512 args=
while [ $# -gt 0 ]; do
	case $1 in
	--*=*)	opt=${1%%=*} val=${1#*=} ;;
	-c|-s|-h|-d|-l|--type|--cipher|--key-size|--hash|--key-file|\
	--keyfile-size|--keyfile-offset|--sector-size)
		[ $# -ge 2 ] || die 1 "$1: an argument is needed"
		opt=$1 val=$2
		shift ;;
	-q|--batch-mode|-v|--verbose)
		shift
		continue ;;
	-*)	die 2 "cryptsetup: stub: option $1 not modelled" ;;
	*)	args="$args $1"
		shift
		continue ;;
	esac
	shift
	case $opt in
	--type) type=$val ;;
	-c|--cipher) cipher=$val ;;
	-s|--key-size) keybits=$val ;;
	-h|--hash) hash=$val hashset=1 ;;
	-d|--key-file) keyfile=$val ;;
	-l|--keyfile-size) kfsize=$val ;;
	--keyfile-offset) kfoffset=$val ;;
	--sector-size) sector=$val ;;
	*) die 2 "cryptsetup: stub: option $opt not modelled" ;;
	esac
done
set -- $args
case $1 in
close|remove)
	[ $# = 2 ] || die 1 "Command requires device as argument."
	[ -e "$MAPPERS/$2" ] || die 4 "Device $2 is not active."
	rm "$MAPPERS/$2"
	exit 0 ;;
open)
	[ "$type" = plain ] ||
	    die 2 "cryptsetup: stub: open --type ${type:-luks} not modelled"
	[ $# = 3 ] || die 1 "Command requires device and mapped name as arguments."
	dev=$2 name=$3 ;;
*)	die 2 "cryptsetup: stub: action $1 not modelled" ;;
esac
case $dev in
/dev/loop*) [ -e "$LOOPS/${dev#/dev/}" ] ;;
*) [ -e "$dev" ] ;;
esac || die 4 "Device $dev does not exist or access denied."
[ $((keybits % 8)) = 0 ] || die 1 "Invalid key size."
keybytes=$((keybits / 8))
# DEFAULT_PLAIN_HASH is ripemd160.  A key file named by path is never
# hashed ("--hash is being ignored"); "plain" means no hash.
[ -n "$hashset" ] || hash=ripemd160
t=$STUBTMP
if [ -n "$keyfile" ] && [ "$keyfile" != - ]; then
	# Read exactly the key's size, after the offset; --keyfile-size
	# is ignored (with a warning).
	[ -r "$keyfile" ] || die 1 "Failed to open key file."
	size=$(wc -c < "$keyfile")
	[ "$kfoffset" -le "$size" ] ||
	    die 1 "Cannot seek to requested keyfile offset."
	tail -c +$((kfoffset + 1)) "$keyfile" | head -c "$keybytes" > "$t/key"
	[ "$(wc -c < "$t/key")" = "$keybytes" ] ||
	    die 1 "Cannot read requested amount of data."
	key=$(hex < "$t/key")
else
	[ -t 0 ] && die 2 "cryptsetup: stub: a passphrase typed at a terminal is not modelled"
	[ "$hash" = plain ] && hash=
	# --key-file - with no hash reads exactly the key's size;
	# otherwise --keyfile-size, or up to the 8 MiB default.
	if [ -n "$keyfile" ] && [ -z "$hash" ]; then
		max=$keybytes unlimited=
	elif [ "$kfsize" -gt 0 ]; then
		max=$kfsize unlimited=
	else
		max=$((8192 * 1024 + 1)) unlimited=1
	fi
	cat > "$t/in"
	size=$(wc -c < "$t/in")
	[ "$kfoffset" -le "$size" ] ||
	    die 1 "Cannot seek to requested keyfile offset."
	tail -c +$((kfoffset + 1)) "$t/in" | head -c "$max" > "$t/data"
	newline=
	if [ -z "$keyfile" ]; then
		# No --key-file: standard input ends at a newline, which
		# is not part of the passphrase.
		nl=$(od -An -v -tx1 "$t/data" | tr -s ' \n' '\n' |
		    grep -v '^$' | grep -n '^0a$' | head -1 | cut -d: -f1)
		if [ -n "$nl" ]; then
			head -c $((nl - 1)) "$t/data" > "$t/d2"
			mv "$t/d2" "$t/data"
			newline=1
		fi
	fi
	i=$(wc -c < "$t/data")
	[ "$i" = 0 ] && [ -z "$newline" ] && die 1 "Nothing to read on input."
	[ -n "$unlimited" ] && [ "$i" = "$max" ] &&
	    die 1 "Maximum keyfile size exceeded."
	[ -z "$unlimited" ] && [ "$i" != "$max" ] &&
	    die 1 "Cannot read requested amount of data."
	if [ -z "$hash" ]; then
		# Zero-padded or cut to the key's size.
		key=$(head -c "$keybytes" "$t/data" | hex)
		while [ ${#key} -lt $((keybytes * 2)) ]; do key=${key}00; done
	else
		# crypt_plain_hash: "hash[:len]"; round r hashes r
		# letters A and then the passphrase, until the key is full.
		hname=${hash%%:*} hsize=$keybytes
		[ "$hname" != "$hash" ] && hsize=${hash#*:}
		[ "$hsize" -le "$keybytes" ] ||
		    die 1 "Key processing error (using hash $hash)."
		key=
		if [ "$hname" = plain ]; then
			[ "$i" -ge "$hsize" ] ||
			    die 1 "Key processing error (using hash $hash)."
			key=$(head -c "$hsize" "$t/data" | hex)
		else
			printf x | openssl dgst -"$hname" >/dev/null 2>&1 ||
			    die 1 "Hash algorithm $hname not supported."
			r=0
			while [ ${#key} -lt $((hsize * 2)) ]; do
				a=0
				{ while [ $a -lt $r ]; do printf A; a=$((a + 1)); done
				  cat "$t/data"; } |
				    openssl dgst -"$hname" -binary > "$t/h"
				key=$key$(hex < "$t/h")
				r=$((r + 1))
			done
			key=$(printf %s "$key" | cut -c1-$((hsize * 2)))
		fi
		while [ ${#key} -lt $((keybytes * 2)) ]; do key=${key}00; done
	fi
fi
# The mapping is made once the key is read: only then is a name in use
# found (dm_create_device).
[ -e "$MAPPERS/$name" ] && die 5 "Device $name already exists."
echo "0 0 crypt $cipher $key 0 $dev 0 1 sector_size:$sector" > "$MAPPERS/$name"
exit 0
STUB
	chmod +x stubs/*
	export PATH=$here/stubs:$PATH STORE=$here/store LOG=$here/log \
	    MAPPERS=$here/mapper MAPPER_DIR=$here/mapper LOOPS=$here/loops \
	    STUBTMP=$here/stubtmp XENBUS_PATH=backend/vbd/7/51715
	: > log
	: > web1-local.img
	script=$SR_SHARE/xen/block-cgd
	cgdkey=$SR_SBIN/../libexec/sharedroot-cgdkey
}

# cgdconfig_g BITS KEYHEX: a parameters file as "cgdconfig -g -k
# storedkey -V ffs aes-xts BITS" writes it (NetBSD sbin/cgdconfig/
# params.c: params_fput, keygen_fput, and print_kvpair_b64, which
# wraps the base64 past column 50 with " \" and a newline, going on
# under its first character).
cgdconfig_g()
{
	printf 'algorithm aes-xts;\niv-method encblkno1;\nkeylength %s;\n' "$1"
	printf 'verify_method ffs;\nkeygen storedkey '
	{ printf '%08x' "$1"; echo "$2"; } | xxd -r -p | base64 -w0 |
	    awk '{ printf "key "; pos = 21
		for (i = 1; i <= length($0); i++) {
			if (pos > 50) {
				printf " \\\n%21s", ""
				pos = 21
			}
			printf "%s", substr($0, i, 1)
			pos++
		}
		printf ";\n" }'
}

# newkey BITS: a random key, in hex.
newkey()
{
	head -c $(($1 / 8)) /dev/urandom | od -An -v -tx1 | tr -d ' \n'
}

params()
{
	printf '%s' "$1" > "store/$(echo "$XENBUS_PATH/params" | tr / _)"
}

# sp KEY: the file holding $XENBUS_PATH/KEY in the xenstore stub.
sp()
{
	echo "store/$(echo "$XENBUS_PATH/$1" | tr / _)"
}

# Nothing attached, nothing mapped.
check_nothing_set_up()
{
	atf_check -o empty losetup -a
	atf_check -o empty ls mapper
}

atf_test_case stub_follows_cryptsetup
stub_follows_cryptsetup_head()
{
	atf_set descr "The cryptsetup stub gives the keys real cryptsetup gives (its own test vectors), by plain mode's rules"
}
stub_follows_cryptsetup_body()
{
	command -v openssl >/dev/null || atf_skip "openssl is not installed"
	command -v xxd >/dev/null || atf_skip "xxd is not installed"
	stubs
	atf_check -o inline:'/dev/loop0\n' losetup -f --show web1-local.img
	# crypt_key HOW HASH BITS INPUT: the key the stub maps under.
	crypt_key()
	{
		_h=$2
		[ "$3" -gt 256 ] && _c=aes-xts-plain || _c=aes-cbc-essiv:sha256
		case $1 in
		pwd)	printf "$4" | cryptsetup open --type plain -c $_c \
			    -h $_h -s $3 /dev/loop0 t ;;
		stdin)	printf "$4" | cryptsetup open --type plain -c $_c \
			    -d - -h $_h -s $3 /dev/loop0 t ;;
		file)	cryptsetup open --type plain -c $_c -d "$4" -h $_h \
			    -s $3 /dev/loop0 t ;;
		esac || atf_fail "cryptsetup stub failed: $*"
		cut -d' ' -f5 mapper/t
		cryptsetup close t
	}
	# cryptsetup's tests/password-hash-test, which reads the key back
	# with dmsetup table --showkeys.
	atf_check_equal "$(crypt_key pwd ripemd160 256 xxx)" \
	    aeb26d1f69eb6dddfb9381eed4d7299f091e99aa5d3ff06866d4ce9f620f7aca
	atf_check_equal "$(crypt_key pwd ripemd160 128 xxx)" \
	    aeb26d1f69eb6dddfb9381eed4d7299f
	atf_check_equal "$(crypt_key pwd sha1 256 xxx)" \
	    b60d121b438a380c343d5ec3c2037564b82ffef30b1e0a6ad9af7a73aa91c197
	atf_check_equal "$(crypt_key pwd sha256 128 xxx)" \
	    cd2eb0837c9b4c962c22d2ff8b5441b7
	atf_check_equal "$(crypt_key stdin ripemd160 256 'xxx\n')" \
	    625ce2a8dbdf08f1de400dba7ab9fab246f2a55ad6136e6cafd6703732dab8cf
	head -c 4096 /dev/zero > zero
	atf_check_equal "$(crypt_key file ripemd160 256 zero)" \
	    0000000000000000000000000000000000000000000000000000000000000000
	printf '0123456789abcdef\n\001\000\003\377\377\r\377\377\n\r 2352j3rkjhadcfasc823rqaw7e1 3dq sdq3d 2dkjqw3h2=====' > keyfile
	kf=303132333435363738396162636465660a010003ffff0dffff0a0d20323335326a33726b6a686164636661736338323372716177376531203364712073647133
	atf_check_equal "$(crypt_key file sha256 256 keyfile)" \
	    "$(echo $kf | cut -c1-64)"
	atf_check_equal "$(crypt_key file sha256 512 keyfile)" "$kf"
	# The default hash is ripemd160; without --key-file a newline
	# ends the passphrase, with --key-file - it is part of it.
	printf xxx | atf_check cryptsetup open --type plain /dev/loop0 t
	atf_check -o inline:'0 0 crypt aes-cbc-essiv:sha256 aeb26d1f69eb6dddfb9381eed4d7299f091e99aa5d3ff06866d4ce9f620f7aca 0 /dev/loop0 0 1 sector_size:512\n' \
	    cat mapper/t
	atf_check cryptsetup close t
	atf_check_equal "$(crypt_key pwd ripemd160 256 'xxx\nyyy')" \
	    aeb26d1f69eb6dddfb9381eed4d7299f091e99aa5d3ff06866d4ce9f620f7aca
	# --hash plain: the bytes themselves; from --key-file - exactly
	# the key's size, or an error; --keyfile-offset skips bytes.
	k=$(newkey 512)
	echo "$k" | xxd -r -p > raw
	atf_check cryptsetup open --type plain -c aes-xts-plain64 \
	    --hash plain -d - -s 512 /dev/loop0 t < raw
	atf_check_equal "$(cut -d' ' -f5 mapper/t)" "$k"
	atf_check cryptsetup close t
	head -c 20 raw > short
	atf_check -s exit:1 -e inline:'Cannot read requested amount of data.\n' \
	    cryptsetup open --type plain --hash plain -d - -s 512 /dev/loop0 t \
	    < short
	{ printf abc; cat raw; } > offset
	atf_check cryptsetup open --type plain --hash plain -d - -s 512 \
	    --keyfile-offset 3 /dev/loop0 t < offset
	atf_check_equal "$(cut -d' ' -f5 mapper/t)" "$k"
	atf_check cryptsetup close t
	# The line block-cgd used before: the stored key, hashed.
	atf_check cryptsetup open --type plain --cipher aes-xts-plain64 \
	    --key-size 512 --sector-size 512 --key-file - /dev/loop0 t < raw
	atf_check -s exit:1 test "$(cut -d' ' -f5 mapper/t)" = "$k"
	atf_check cryptsetup close t
	# Mappings and devices as cryptsetup has them.
	atf_check -s exit:4 -e inline:'Device t is not active.\n' \
	    cryptsetup close t
	atf_check -s exit:4 -e match:'does not exist' cryptsetup open \
	    --type plain -d zero /dev/loop5 t
}

# add_serves_key BITS WRAPS: block-cgd maps the image with the cgd key
# of a parameters file in cgdconfig's own form, its key wrapped WRAPS
# times.
add_serves_key()
{
	stubs
	k=$(newkey "$1")
	cgdconfig_g "$1" "$k" > web1.cgd
	chmod 0600 web1.cgd
	atf_check -o inline:"$2\n" grep -c ' \\$' web1.cgd
	params "$(pwd)/web1-local.img:$(pwd)/web1.cgd"
	atf_check sh "$script" add
	# The key dm-crypt was given is the cgd key, for the image's loop.
	atf_check -o inline:"0 0 crypt aes-xts-plain64 $k 0 /dev/loop0 0 1 sector_size:512\n" \
	    cat mapper/sharedroot-web1-local.img
	atf_check -o inline:"/dev/loop0: []: ($(pwd)/web1-local.img)\n" \
	    losetup -a
	atf_check -o inline:'0:0' cat "$(sp physical-device)"
	atf_check -o inline:"$(pwd)/mapper/sharedroot-web1-local.img" \
	    cat "$(sp physical-device-path)"
	atf_check -o inline:/dev/loop0 cat "$(sp sharedroot-loop)"
	atf_check -o inline:connected cat "$(sp hotplug-status)"
	# Never on a command line, never in a file of ours.
	b64=$(sed -n 's/.*key \([^ ]*\).*/\1/p' web1.cgd)
	atf_check -s exit:1 grep -e "$k" -e "$b64" log
	atf_check sh "$script" remove
	check_nothing_set_up
	# Without ":params", IMAGE.cgd.
	mv web1.cgd web1-local.img.cgd
	params "$(pwd)/web1-local.img"
	atf_check sh "$script" add
	atf_check -o match:" $k " cat mapper/sharedroot-web1-local.img
	atf_check sh "$script" remove
	check_nothing_set_up
}

atf_test_case add_512
add_512_head()
{
	atf_set descr "A 512-bit stored key, wrapped over three lines as cgdconfig writes it, is the key dm-crypt gets; remove undoes all"
}
add_512_body()
{
	command -v openssl >/dev/null || atf_skip "openssl is not installed"
	command -v xxd >/dev/null || atf_skip "xxd is not installed"
	add_serves_key 512 3
}

atf_test_case add_256
add_256_head()
{
	atf_set descr "A 256-bit stored key, wrapped as cgdconfig writes it, is the key dm-crypt gets"
}
add_256_body()
{
	command -v openssl >/dev/null || atf_skip "openssl is not installed"
	command -v xxd >/dev/null || atf_skip "xxd is not installed"
	add_serves_key 256 1
}

# refused CASE MESSAGE: add fails with MESSAGE on stderr and in the
# store's hotplug-error, and nothing is attached or mapped.
refused()
{
	atf_check -s exit:1 -e match:"$1" sh "$script" add
	atf_check -o match:"^block-cgd: .*$1" cat "$(sp hotplug-error)"
	atf_check -o inline:error cat "$(sp hotplug-status)"
	check_nothing_set_up
	rm -f store/*
	params "$(pwd)/web1-local.img:$(pwd)/web1.cgd"
}

atf_test_case refusals
refusals_head()
{
	atf_set descr "What dm-crypt cannot serve as cgd does is refused with one line, before anything is attached"
}
refusals_body()
{
	command -v xxd >/dev/null || atf_skip "xxd is not installed"
	stubs
	params "$(pwd)/web1-local.img:$(pwd)/web1.cgd"
	k=$(newkey 512)
	cgdconfig_g 512 "$k" > good
	chmod 0600 good
	cp -p good web1.cgd
	chmod 0640 web1.cgd
	refused 'web1.cgd: readable by group or others \(mode 0640\); chmod go-rwx it$'
	chmod 0602 web1.cgd
	refused 'web1.cgd: writable by group or others \(mode 0602\)'
	rm web1.cgd
	ln -s good web1.cgd
	refused 'web1.cgd: a symbolic link; name the file itself$'
	rm web1.cgd
	refused 'web1.cgd: No such file or directory$'
	# Another algorithm, iv-method or key length.
	sed 's/aes-xts/aes-cbc/' good > web1.cgd
	chmod 0600 web1.cgd
	refused 'web1.cgd: algorithm aes-cbc: only aes-xts is served on Linux'
	sed 's/encblkno1/encblkno8/' good > web1.cgd
	refused 'web1.cgd: iv-method encblkno8: only encblkno1'
	cgdconfig_g 384 "$(newkey 384)" > web1.cgd
	refused 'web1.cgd: keylength 384: aes-xts takes 256 or 512$'
	# A stored key that is not keylength bits long.
	cgdconfig_g 256 "$(newkey 256)" | sed 's/keylength 256/keylength 512/' \
	    > web1.cgd
	refused 'web1.cgd: keygen storedkey: its key is not 512 bits'
	# Passphrase keygens, as cgdconfig -g writes them.
	printf '%s\n' 'algorithm aes-xts;' 'iv-method encblkno1;' \
	    'keylength 256;' 'verify_method none;' \
	    'keygen pkcs5_pbkdf2/sha1 {' '        iterations 39361;' \
	    '        salt AAAAgMoHiYonye6KogdYJAobCHE=;' '};' > web1.cgd
	refused 'web1.cgd: keygen pkcs5_pbkdf2/sha1: only storedkey can be served'
	printf '%s\n' 'algorithm aes-xts;' 'iv-method encblkno1;' \
	    'keylength 256;' 'verify_method none;' 'keygen argon2id {' \
	    '        iterations 3;' '        memory 65536;' \
	    '        parallelism 1;' '        version 19;' \
	    '        salt AAAAgMoHiYonye6KogdYJAobCHE=;' '};' > web1.cgd
	refused 'web1.cgd: keygen argon2id: only storedkey can be served'
	# Two keygens, even two stored keys (cgd would XOR them).
	{ cat good; sed -n '/^keygen/,$p' good; } > web1.cgd
	refused 'web1.cgd: 2 keygens: only one, storedkey, can be served'
	# Not a parameters file at all: the parser's line.
	printf 'algorithm aes-xts;\nkeygen storedkey key !!;\n' > web1.cgd
	refused 'web1.cgd:2: not base64$'
	# And the image must be there.
	cp -p good web1.cgd
	params "$(pwd)/nonexistent.img:$(pwd)/web1.cgd"
	atf_check -s exit:1 -e match:'nonexistent.img: no such image' \
	    sh "$script" add
	check_nothing_set_up
	# The refusals came before any losetup or cryptsetup.
	atf_check -s exit:1 grep -E 'losetup -f|cryptsetup open' log
}

atf_test_case cryptsetup_fails
cryptsetup_fails_head()
{
	atf_set descr "When cryptsetup cannot map the image, the loop device is let go and the guest does not start"
}
cryptsetup_fails_body()
{
	command -v xxd >/dev/null || atf_skip "xxd is not installed"
	stubs
	cgdconfig_g 512 "$(newkey 512)" > web1.cgd
	chmod 0600 web1.cgd
	params "$(pwd)/web1-local.img:$(pwd)/web1.cgd"
	# A mapping of that name is there already (another guest's).
	echo 'another' > mapper/sharedroot-web1-local.img
	atf_check -s exit:1 -e save:err sh "$script" add
	atf_check -o inline:'Device sharedroot-web1-local.img already exists.
block-cgd: '"$(pwd)"'/web1-local.img: cryptsetup could not map it
' cat err
	atf_check -o empty losetup -a
	atf_check -o inline:'another\n' cat mapper/sharedroot-web1-local.img
	atf_check -o inline:error cat "$(sp hotplug-status)"
}

atf_test_case cgdkey_pipe_only
cgdkey_pipe_only_head()
{
	atf_set descr "sharedroot-cgdkey writes the key, read across cgdconfig's wrapped lines, into a pipe and nowhere else"
}
cgdkey_pipe_only_body()
{
	command -v xxd >/dev/null || atf_skip "xxd is not installed"
	stubs
	k=$(newkey 512)
	cgdconfig_g 512 "$k" > web1.cgd
	chmod 0600 web1.cgd
	# cgdconfig's form: the key over three lines with continuations.
	atf_check -o inline:'3\n' grep -c '\\$' web1.cgd
	atf_check -o inline:'512\n' "$cgdkey" -c web1.cgd
	atf_check -s exit:1 -o empty -e match:'web1.cgd: standard output is not a pipe' \
	    "$cgdkey" web1.cgd
	atf_check -s exit:1 -e match:'not a pipe' sh -c "'$cgdkey' web1.cgd > out"
	atf_check -o empty cat out
	atf_check -o inline:"$k" sh -c "'$cgdkey' web1.cgd | od -An -v -tx1 | tr -d ' \n'"
	atf_check -s exit:1 -e match:'^usage:' "$cgdkey"
}

atf_test_case real_device_mapper
real_device_mapper_head()
{
	atf_set descr "On a kernel with device-mapper, block-cgd maps an image setup-local -c made, and sleuthkit reads its FFS"
	atf_set require.user root
}
real_device_mapper_body()
{
	[ -e /dev/mapper/control ] || atf_skip "the kernel has no device-mapper here (no /dev/mapper/control)"
	for p in cryptsetup losetup fls icat makefs; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	require_loop
	here=$(pwd)
	mkdir stubs store
	cat > stubs/xenstore-read <<'STUB'
#!/bin/sh
cat "$STORE/$(echo "$1" | tr / _)" 2>/dev/null || exit 1
STUB
	cat > stubs/xenstore-write <<'STUB'
#!/bin/sh
while [ $# -ge 2 ]; do
	printf '%s' "$2" > "$STORE/$(echo "$1" | tr / _)"
	shift 2
done
STUB
	chmod +x stubs/*
	sl_fixture nb10
	atf_check -o ignore -e ignore setup-local -c "$here/web1.cgd" \
	    -h web1 root "$here/web1-local.img"
	name=sharedroot-web1-local.img
	undo_add "cryptsetup close $name"
	undo_add "losetup -j '$here/web1-local.img' | cut -d: -f1 | xargs -r losetup -d"
	export PATH=$here/stubs:$PATH STORE=$here/store \
	    XENBUS_PATH=backend/vbd/7/51715
	printf '%s' "$here/web1-local.img:$here/web1.cgd" \
	    > "store/$(echo "$XENBUS_PATH/params" | tr / _)"
	atf_check sh "$SR_SHARE/xen/block-cgd" add
	atf_check test -b /dev/mapper/$name
	atf_check -o inline:"web1\n" icat /dev/mapper/$name \
	    "$(ino /dev/mapper/$name etc/myname)"
	atf_check -o match:'etc/rc.conf' fls -r -p /dev/mapper/$name
	atf_check sh "$SR_SHARE/xen/block-cgd" remove
	atf_check -s exit:1 test -e /dev/mapper/$name
	atf_check -o empty losetup -j "$here/web1-local.img"
}
real_device_mapper_cleanup()
{
	undo_run
}

atf_init_test_cases()
{
	atf_add_test_case stub_follows_cryptsetup
	atf_add_test_case add_512
	atf_add_test_case add_256
	atf_add_test_case refusals
	atf_add_test_case cryptsetup_fails
	atf_add_test_case cgdkey_pipe_only
	atf_add_test_case real_device_mapper
}
