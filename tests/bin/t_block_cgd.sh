# share/sharedroot/xen/block-cgd, the Linux dom0's Xen block script for
# cgd images, run as xl runs it, with recording stubs of xenstore-read,
# xenstore-write, losetup and cryptsetup.

stubs()
{
	here=$(pwd)
	mkdir -p stubs store mapper
	cat > stubs/xenstore-read <<'STUB'
#!/bin/sh
cat "$STORE/$(echo "$1" | tr / _)" 2>/dev/null || exit 1
STUB
	cat > stubs/xenstore-write <<'STUB'
#!/bin/sh
while [ $# -ge 2 ]; do
	printf '%s' "$2" > "$STORE/$(echo "$1" | tr / _)"
	echo "xenstore-write $1 $2" >> "$LOG"
	shift 2
done
STUB
	cat > stubs/losetup <<'STUB'
#!/bin/sh
echo "losetup $*" >> "$LOG"
[ "$1" = -f ] && echo /dev/loop7
exit 0
STUB
	cat > stubs/cryptsetup <<'STUB'
#!/bin/sh
if [ "$1" = open ]; then
	echo "cryptsetup $* key=$(od -An -tx1 | tr -d ' \n')" >> "$LOG"
	: > "$MAPPERS/$(eval echo \${$#})"
else
	echo "cryptsetup $*" >> "$LOG"
fi
exit ${CRYPTSETUP_RC:-0}
STUB
	chmod +x stubs/*
	export PATH=$here/stubs:$PATH STORE=$here/store LOG=$here/log \
	    MAPPERS=$here/mapper MAPPER_DIR=$here/mapper \
	    XENBUS_PATH=backend/vbd/7/51715
	: > log
	: > web1-local.img
	# A 512-bit stored key 0x00, 0x01, ... 0x3f.
	printf 'algorithm aes-xts;\niv-method encblkno1;\nkeylength 512;\nverify_method ffs;\nkeygen storedkey key AAACAAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=;\n' \
	    > web1.cgd
	chmod 0600 web1.cgd
	script=$SR_SHARE/xen/block-cgd
}

params()
{
	printf '%s' "$1" > "store/$(echo "$XENBUS_PATH/params" | tr / _)"
}

atf_test_case add_and_remove
add_and_remove_head()
{
	atf_set descr "add maps the image with the stored key; remove undoes it"
}
add_and_remove_body()
{
	stubs
	params "$(pwd)/web1-local.img:$(pwd)/web1.cgd"
	atf_check sh "$script" add
	key=$(printf '%02x' $(seq 0 63))
	atf_check -o inline:"losetup -f --show $(pwd)/web1-local.img
cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --sector-size 512 --key-file - /dev/loop7 sharedroot-web1-local.img key=$key
xenstore-write $XENBUS_PATH/physical-device 0:0
xenstore-write $XENBUS_PATH/physical-device-path $(pwd)/mapper/sharedroot-web1-local.img
xenstore-write $XENBUS_PATH/sharedroot-loop /dev/loop7
xenstore-write $XENBUS_PATH/hotplug-status connected
" cat log
	: > log
	atf_check sh "$script" remove
	atf_check -o inline:'cryptsetup close sharedroot-web1-local.img\nlosetup -d /dev/loop7\n' \
	    cat log
	# Without ":params", IMAGE.cgd.
	mv web1.cgd web1-local.img.cgd
	params "$(pwd)/web1-local.img"
	: > log
	atf_check sh "$script" add
	atf_check -o match:'^cryptsetup open .* /dev/loop7 sharedroot-web1-local.img' cat log
}

atf_test_case refusals
refusals_head()
{
	atf_set descr "What dm-crypt cannot serve is refused, saying why; nothing left set up"
}
refusals_body()
{
	stubs
	params "$(pwd)/web1-local.img:$(pwd)/web1.cgd"
	chmod 0644 web1.cgd
	atf_check -s exit:1 -e match:'web1.cgd: readable by group or others' \
	    sh "$script" add
	chmod 0600 web1.cgd
	sed -i 's/aes-xts/aes-cbc/' web1.cgd
	atf_check -s exit:1 -e match:'algorithm aes-cbc: only aes-xts is served on Linux' \
	    sh "$script" add
	atf_check -o match:'only aes-xts' cat "store/$(echo "$XENBUS_PATH/hotplug-error" | tr / _)"
	printf 'algorithm aes-xts;\nkeylength 256;\nkeygen pkcs5_pbkdf2/sha1 {\n iterations 9;\n salt AAAAIHNhbHQ=;\n};\n' > web1.cgd
	atf_check -s exit:1 -e match:'only one keygen storedkey' sh "$script" add
	atf_check -s exit:1 -o empty grep -E 'losetup|cryptsetup' log
	# cryptsetup fails: the loop device is let go again.
	printf 'algorithm aes-xts;\nkeylength 512;\nkeygen storedkey key AAACAAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=;\n' > web1.cgd
	export CRYPTSETUP_RC=1
	atf_check -s exit:1 -e match:'cryptsetup could not map it' sh "$script" add
	atf_check -o match:'^losetup -d /dev/loop7$' cat log
	atf_check -s exit:1 -e match:'no such image' \
	    env XENBUS_PATH=$XENBUS_PATH sh -c "printf /nonexistent > store/\$(echo \$XENBUS_PATH/params | tr / _); sh $script add"
}

atf_init_test_cases()
{
	atf_add_test_case add_and_remove
	atf_add_test_case refusals
}
