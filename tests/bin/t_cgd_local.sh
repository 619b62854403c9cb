# setup-local -c keyfile where vnd and cgdconfig cannot do it (Linux, an
# ordinary user): the guest's local image built or rebuilt as FFS in a
# private directory and encrypted as cgd(4) does.  Read back with
# h_cgdcat (lib/cgd.c, checked against NetBSD's vectors) and sleuthkit.
# As root, and as an ordinary user ($as_user: see h_common.sh).

cgd_fixture()
{
	for p in makefs fls icat fsstat; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	[ "$(id -u)" = 0 ] || atf_skip "needs root to make a fixture with NetBSD's owners; runs the tools as nobody"
	W=$(mktemp -d /tmp/sharedroot-cgd.XXXXXX)
	undo_add "rm -rf $W"
	chmod 0755 "$W"
	make_root nb10 "$W/root"
	chmod -R go+rX "$W/root"
	atf_check -o ignore setup-root "$W/root"
	chown 65534 "$W"
	cp -R "$SR_SHARE" "$W/share"
	cp "$SR_SBIN/setup-local" "$W/setup-local"
	chmod -R go+rX "$W/share" "$W/setup-local"
	SL="$as_user env SHAREDROOT_SHAREDIR=$W/share TMPDIR=$W $W/setup-local"
}

# plain IMG OUT: decrypt with the key file $W/key.
plain()
{
	atf_check "$SR_TESTS/h_cgdcat" "${3:-$W/key}" "$1" "$2"
}

# whole IMG: an encrypted image written whole: no byte in a hole, and
# blocks for all of it (a file system may add blocks of its own).
whole()
{
	atf_check -o inline:"0 $(stat -c %s "$1")\n" "$SR_TESTS/h_holes" "$1"
	atf_check test "$(($(stat -c %b "$1") * $(stat -c %B "$1")))" -ge \
	    "$(stat -c %s "$1")"
}

# sparse IMG: more than half of it in holes, and as few blocks.
sparse()
{
	set -- "$1" $("$SR_TESTS/h_holes" "$1")
	atf_check test "$2" -gt "$(($3 / 2))"
	atf_check test "$(($(stat -c %b "$1") * 512))" -lt "$(($3 / 2))"
}

# Skip unless the file system under $W keeps holes.
need_holes()
{
	truncate -s 1m "$W/probe"
	[ "$(stat -c %b "$W/probe")" = 0 ] || atf_skip "$W keeps no holes"
	rm -f "$W/probe"
}

# No plaintext anywhere but where it was asked for; no temporaries.
no_plaintext_left()
{
	atf_check -o empty find "$W" -maxdepth 1 -name 'sharedroot-plain.*'
	atf_check -o empty find "$W" -maxdepth 1 -name '.*.img.*'
	atf_check -o empty find "$W" -maxdepth 1 -name 'sharedroot.*'
}

atf_test_case new_encrypted_image cleanup
new_encrypted_image_head()
{
	atf_set descr "-c with no key file: one is made, the image is encrypted FFS"
}
new_encrypted_image_body()
{
	cgd_fixture
	atf_check -o match:"key: made: aes-xts, a new 512-bit stored key, mode 0600" \
	    -o match:'built from .*, encrypted: [0-9]+ entries' -e ignore \
	    $SL -c "$W/key" -h g1 -s 32m "$W/root" "$W/local.img"
	atf_check -o inline:'600 65534\n' stat -c '%a %u' "$W/key"
	atf_check -o match:'^algorithm aes-xts;$' -o match:'^keylength 512;$' \
	    -o match:'^keygen storedkey key ' cat "$W/key"
	atf_check -o inline:'33554432 600\n' stat -c '%s %a' "$W/local.img"
	# Ciphertext: no file system to be seen, no text of the guest's.
	atf_check -s not-exit:0 -o ignore -e ignore fsstat "$W/local.img"
	atf_check -s exit:1 grep -q 'xbd2a' "$W/local.img"
	no_plaintext_left
	plain "$W/local.img" "$W/p.img"
	atf_check -o match:'File System Type: UFS 1' fsstat "$W/p.img"
	atf_check -o inline:'g1\n' icat "$W/p.img" "$(ino "$W/p.img" etc/myname)"
	atf_check_equal '12345 12345 rw-r--r--' "$(meta_img "$W/p.img" var/log/messages)"
	atf_check -o match:'^/dev/xbd2a	/local		ffs	rw' \
	    icat "$W/p.img" "$(ino "$W/p.img" etc/fstab)"
	# A file of zeros and data: its zero blocks are the file's, so they
	# are encrypted, not left as holes, and read back as zeros.
	atf_check -o inline:"$(md5sum < "$W/root/var/db/sparse")\n" sh -c \
	    "icat $W/p.img $(ino "$W/p.img" var/db/sparse) | md5sum"
	# Written whole: no holes to show which blocks the guest uses.
	whole "$W/local.img"
	# As root too: the image is root's, mode 0600.
	atf_check -o ignore -e ignore env SHAREDROOT_SHAREDIR="$W/share" \
	    TMPDIR="$W" "$W/setup-local" -c "$W/key" -h g3 "$W/root" \
	    "$W/root.img"
	atf_check -o inline:'0 600\n' stat -c '%u %a' "$W/root.img"
	plain "$W/root.img" "$W/p3.img"
	atf_check -o inline:'g3\n' icat "$W/p3.img" "$(ino "$W/p3.img" etc/myname)"
	no_plaintext_left
}
new_encrypted_image_cleanup()
{
	undo_run
}

atf_test_case reseed_encrypted_image cleanup
reseed_encrypted_image_head()
{
	atf_set descr "An encrypted local: refused, -n, -f rebuilt and encrypted again"
}
reseed_encrypted_image_body()
{
	cgd_fixture
	atf_check -o ignore -e ignore $SL -c "$W/key" -h g1 -s 32m "$W/root" \
	    "$W/local.img"
	chmod 0640 "$W/local.img"
	sum=$(md5sum < "$W/local.img")
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: $W/local.img: etc: already provisioned; its /etc is the guest's own (-f replaces it)\n" \
	    $SL -c "$W/key" "$W/root" "$W/local.img"
	atf_check -o match:'would be rebuilt like itself \(FFSv1, 33554432 bytes\), encrypted again' \
	    -o match:'dry run: nothing written' \
	    $SL -n -f -c "$W/key" -h g2 "$W/root" "$W/local.img"
	atf_check_equal "$sum" "$(md5sum < "$W/local.img")"
	no_plaintext_left
	inode=$(stat -c %i "$W/local.img")
	atf_check -o match:'rebuilt from .*, encrypted: [0-9]+ entries' -e ignore \
	    $SL -f -c "$W/key" -h g2 "$W/root" "$W/local.img"
	atf_check test "$(stat -c %i "$W/local.img")" != "$inode"
	atf_check -o inline:'33554432 640\n' stat -c '%s %a' "$W/local.img"
	whole "$W/local.img"
	no_plaintext_left
	plain "$W/local.img" "$W/p.img"
	atf_check -o inline:'g2\n' icat "$W/p.img" "$(ino "$W/p.img" etc/myname)"
}
reseed_encrypted_image_cleanup()
{
	undo_run
}

atf_test_case sparse_only_when_asked cleanup
sparse_only_when_asked_head()
{
	atf_set descr "Encrypted images are written whole, new and re-seeded;" \
	    "-z keeps one sparse and still readable; -z without -c refused"
}
sparse_only_when_asked_body()
{
	cgd_fixture
	need_holes
	atf_check -o ignore -e ignore $SL -c "$W/key" -h g1 -s 32m "$W/root" \
	    "$W/local.img"
	whole "$W/local.img"
	# -z: the free sectors stay holes; the file system reads back.
	atf_check -o match:'rebuilt' -e ignore \
	    $SL -z -f -c "$W/key" -h g2 "$W/root" "$W/local.img"
	sparse "$W/local.img"
	plain "$W/local.img" "$W/p.img"
	atf_check -o inline:'g2\n' icat "$W/p.img" "$(ino "$W/p.img" etc/myname)"
	# A re-seed without it: whole again.
	atf_check -o match:'rebuilt' -e ignore \
	    $SL -f -c "$W/key" -h g3 "$W/root" "$W/local.img"
	whole "$W/local.img"
	rm -f "$W/p.img"
	plain "$W/local.img" "$W/p.img"
	atf_check -o inline:'g3\n' icat "$W/p.img" "$(ino "$W/p.img" etc/myname)"
	# A new image with -z, sized to its content.
	atf_check -o match:'built' -e ignore \
	    $SL -z -c "$W/key" -h g4 "$W/root" "$W/new.img"
	sparse "$W/new.img"
	# Without -c there is nothing to keep sparse: refused, nothing made.
	atf_check -s exit:1 -o empty \
	    -e inline:'setup-local: -z: only with -c (it keeps an encrypted image sparse)\n' \
	    $SL -z "$W/root" "$W/plain.img"
	atf_check test ! -e "$W/plain.img"
	atf_check -s exit:1 -o empty -e match:'^setup-local: -z: only with -c' \
	    $SL -R -z "$W/local.img"
	no_plaintext_left
}
sparse_only_when_asked_cleanup()
{
	undo_run
}

atf_test_case netbsd_reads_aes_cbc_image cleanup
netbsd_reads_aes_cbc_image_head()
{
	atf_set descr "NetBSD's own cgd and FFS (../shared/tools/netbsd-ffs)" \
	    "open an aes-cbc image -c wrote, whole and sparse"
}
netbsd_reads_aes_cbc_image_body()
{
	check=$SR_FFSCHECK
	[ -x "$check" ] || atf_skip "no $check (../shared/tools/netbsd-ffs beside the source tree: NetBSD's own FFS and cgd as a checker)"
	cgd_fixture
	# A 256-bit stored key: its bit length, big-endian, then the key.
	key=$( { printf '\0\0\1\0'; head -c 32 /dev/urandom; } | base64 -w0)
	printf 'algorithm aes-cbc;\niv-method encblkno1;\nkeylength 256;\nverify_method ffs;\nkeygen storedkey key %s;\n' \
	    "$key" > "$W/cbc"
	chmod 0600 "$W/cbc"
	chown 65534 "$W/cbc"
	atf_check -o match:'encrypted' -e ignore \
	    $SL -c "$W/cbc" -h g1 -s 32m "$W/root" "$W/local.img"
	whole "$W/local.img"
	atf_check -o match:'NetBSD kernel: mounts read-only and reads everything: ok' \
	    -o match:'NetBSD fsck_ffs -n -f: clean' "$check" -k "$W/cbc" "$W/local.img"
	atf_check -o match:'rebuilt' -e ignore \
	    $SL -z -f -c "$W/cbc" -h g2 "$W/root" "$W/local.img"
	atf_check -o match:'NetBSD kernel: mounts read-only and reads everything: ok' \
	    -o match:'NetBSD fsck_ffs -n -f: clean' "$check" -k "$W/cbc" "$W/local.img"
	no_plaintext_left
}
netbsd_reads_aes_cbc_image_cleanup()
{
	undo_run
}

atf_test_case bad_keys_change_nothing cleanup
bad_keys_change_nothing_head()
{
	atf_set descr "Wrong key, truncated image, bad key files: one line, exit 1, unchanged"
}
bad_keys_change_nothing_body()
{
	cgd_fixture
	atf_check -o ignore -e ignore $SL -c "$W/key" -h g1 -s 32m "$W/root" \
	    "$W/local.img"
	sum=$(md5sum < "$W/local.img")
	# Another key: the verify_method says so.
	atf_check -o ignore -e ignore $SL -c "$W/other" "$W/root" "$W/other.img"
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: $W/local.img: verify_method ffs: no FFS superblock after decryption: a wrong key, or not this volume\n" \
	    $SL -f -c "$W/other" "$W/root" "$W/local.img"
	atf_check_equal "$sum" "$(md5sum < "$W/local.img")"
	# No key file for an existing disk: none is made up.
	atf_check -s exit:1 -o empty -e match:"key file $W/nokey: No such file" \
	    $SL -f -c "$W/nokey" "$W/root" "$W/local.img"
	atf_check test ! -e "$W/nokey"
	atf_check_equal "$sum" "$(md5sum < "$W/local.img")"
	# Truncated.
	cp "$W/local.img" "$W/trunc.img"
	atf_check truncate -s 1000000 "$W/trunc.img"
	chown 65534 "$W/trunc.img"
	atf_check -s exit:1 -o empty -e match:"trunc.img: not a cgd image: 1000000 bytes is not a whole number of sectors" \
	    $SL -f -c "$W/key" "$W/root" "$W/trunc.img"
	# Key files: a syntax error, an unknown cipher, a random key, and
	# one others may read.
	printf 'algorithm aes-xts;\nkeylength 512\nkeygen storedkey key %%;\n' > "$W/bad"
	printf 'algorithm rot13;\nkeygen storedkey key AAAAQAECAwQFBgcI;\n' > "$W/rot"
	printf 'algorithm aes-xts;\nkeylength 256;\nkeygen urandomkey;\n' > "$W/rnd"
	chmod 0600 "$W/bad" "$W/rot" "$W/rnd"
	chown 65534 "$W/bad" "$W/rot" "$W/rnd" "$W/key" "$W/other" 2>/dev/null || true
	atf_check -s exit:1 -o empty -e match:": $W/bad:3: not base64$" \
	    $SL -c "$W/bad" "$W/root" "$W/new.img"
	# A run that fails after making a key file takes it away again.
	cp -a "$W/root" "$W/big"
	head -c 6000000 /dev/urandom > "$W/big/var/big"
	atf_check -o ignore -e ignore setup-root "$W/big"
	atf_check -s exit:1 -o ignore -e match:'no room left in the file system' \
	    $SL -c "$W/newkey" -s 4m "$W/big" "$W/new.img"
	atf_check test ! -e "$W/newkey"
	atf_check -s exit:1 -o empty -e match:"algorithm rot13: unknown" \
	    $SL -c "$W/rot" "$W/root" "$W/new.img"
	atf_check -s exit:1 -o empty -e match:"keygen urandomkey: a new key each time, for swap" \
	    $SL -c "$W/rnd" "$W/root" "$W/new.img"
	# An obsolete cipher reads and re-seeds old disks, makes no new one.
	printf 'algorithm blowfish-cbc;\nkeylength 64;\nkeygen storedkey key AAAAQAECAwQFBgcI;\n' > "$W/bf"
	chmod 0600 "$W/bf"
	chown 65534 "$W/bf"
	atf_check -s exit:1 -o empty -e match:"algorithm blowfish-cbc is obsolete: kept to read and re-seed old disks" \
	    $SL -c "$W/bf" "$W/root" "$W/new.img"
	chmod 0644 "$W/rot"
	atf_check -s exit:1 -o empty -e match:"key file $W/rot: readable by group or others" \
	    $SL -c "$W/rot" "$W/root" "$W/new.img"
	atf_check test ! -e "$W/new.img"
	atf_check_equal "$sum" "$(md5sum < "$W/local.img")"
	no_plaintext_left
}
bad_keys_change_nothing_cleanup()
{
	undo_run
}

atf_test_case passphrase_keyfile cleanup
passphrase_keyfile_head()
{
	atf_set descr "A pkcs5_pbkdf2/sha1 key file, its passphrase from -K"
}
passphrase_keyfile_body()
{
	cgd_fixture
	printf 'algorithm aes-cbc;\niv-method encblkno1;\nkeylength 256;\nverify_method ffs;\nkeygen pkcs5_pbkdf2/sha1 {\n\titerations 1000;\n\tsalt AAAAgAABAgMEBQYHCAkKCwwNDg8=;\n};\n' > "$W/pkey"
	printf 'open sesame\n' > "$W/pass"
	chmod 0600 "$W/pkey" "$W/pass"
	chown 65534 "$W/pkey" "$W/pass"
	atf_check -o match:'encrypted' -e ignore \
	    $SL -c "$W/pkey" -K "$W/pass" -s 16m "$W/root" "$W/local.img"
	# No terminal, no -K: one line saying so.
	atf_check -s exit:1 -o empty -e match:'a passphrase is needed and there is no terminal: give it in a file with -K' \
	    sh -c "$SL -f -c $W/pkey $W/root $W/local.img < /dev/null"
	printf 'wrong\n' > "$W/pass2"
	chown 65534 "$W/pass2"
	atf_check -s exit:1 -o empty -e match:'verify_method ffs: no FFS superblock' \
	    $SL -f -c "$W/pkey" -K "$W/pass2" "$W/root" "$W/local.img"
	atf_check -o match:'rebuilt' -e ignore \
	    $SL -f -c "$W/pkey" -K "$W/pass" -h g5 "$W/root" "$W/local.img"
}
passphrase_keyfile_cleanup()
{
	undo_run
}

atf_test_case killed_run_plaintext_purged cleanup
killed_run_plaintext_purged_head()
{
	atf_set descr "Plaintext left by a run killed outright is removed by the next"
}
killed_run_plaintext_purged_body()
{
	cgd_fixture
	# What a SIGKILLed run leaves: its private directory, named for it.
	sh -c 'exit 0' &
	dead=$!
	wait $dead
	mkdir -m 0700 "$W/sharedroot-plain.$dead.AbCdEf"
	printf 'guest secrets\n' > "$W/sharedroot-plain.$dead.AbCdEf/plain.img"
	# One of a live process, and one of another user: left alone.
	mkdir -m 0700 "$W/sharedroot-plain.$$.XyZxYz"
	chown -R 65534 "$W/sharedroot-plain.$dead.AbCdEf" "$W/sharedroot-plain.$$.XyZxYz"
	mkdir -m 0700 "$W/sharedroot-plain.$dead.NotOur"
	atf_check -o ignore -e ignore $SL -c "$W/key" -s 16m "$W/root" \
	    "$W/local.img"
	atf_check test ! -e "$W/sharedroot-plain.$dead.AbCdEf"
	atf_check test -d "$W/sharedroot-plain.$$.XyZxYz"
	atf_check test -d "$W/sharedroot-plain.$dead.NotOur"
	rmdir "$W/sharedroot-plain.$$.XyZxYz" "$W/sharedroot-plain.$dead.NotOur"
	no_plaintext_left
}
killed_run_plaintext_purged_cleanup()
{
	undo_run
}

atf_test_case interrupted_reseeds_lose_nothing cleanup
interrupted_reseeds_lose_nothing_head()
{
	atf_set descr "Encrypted re-seeds killed at any moment: old or new image, no plaintext left"
}
interrupted_reseeds_lose_nothing_body()
{
	cgd_fixture
	atf_check -o ignore -e ignore $SL -c "$W/key" -h g1 -s 32m "$W/root" \
	    "$W/local.img"
	cp "$W/local.img" "$W/orig.img"
	old=$(md5sum < "$W/orig.img")
	for delay in 0.01 0.03 0.06 0.1 0.2 0.3; do
		cp "$W/orig.img" "$W/local.img"
		chown 65534 "$W/local.img"
		$SL -q -f -c "$W/key" -h g2 "$W/root" "$W/local.img" \
		    2>/dev/null &
		pid=$!
		sleep $delay
		kill -TERM $pid 2>/dev/null
		wait $pid
		rm -f "$W/p.img"
		plain "$W/local.img" "$W/p.img"
		name=$(icat "$W/p.img" "$(ino "$W/p.img" etc/myname)")
		case "$(md5sum < "$W/local.img")" in
		"$old")	atf_check_equal g1 "$name" ;;
		*)	atf_check_equal g2 "$name" ;;
		esac
		no_plaintext_left
	done
}
interrupted_reseeds_lose_nothing_cleanup()
{
	undo_run
}

atf_init_test_cases()
{
	atf_add_test_case interrupted_reseeds_lose_nothing
	atf_add_test_case killed_run_plaintext_purged
	atf_add_test_case new_encrypted_image
	atf_add_test_case reseed_encrypted_image
	atf_add_test_case bad_keys_change_nothing
	atf_add_test_case passphrase_keyfile
	atf_add_test_case sparse_only_when_asked
	atf_add_test_case netbsd_reads_aes_cbc_image
}
