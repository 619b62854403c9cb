# FFS images on a host that cannot mount them (Linux): setup-root and
# setup-local read them with libtsk, rebuild them like themselves with
# makefs and rename the new image over the old.  Checked with sleuthkit,
# an independent reader, entry by entry.  As root, and as an ordinary
# user ($as_user: see h_common.sh).

ffs_require()
{
	for p in makefs fls istat icat fsstat sfdisk; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null || atf_skip "no setpriv"
	fi
}

# A directory anyone can use, as the user who runs the tools: $W.
workdir()
{
	W=$(mktemp -d /tmp/sharedroot-ffs.XXXXXX)
	undo_add "rm -rf $W"
	chmod 0755 "$W"
	[ "$(id -u)" = 0 ] && chown 65534 "$W"
	# The tools and their data where the user can read them, whatever
	# the mode of the directory this clone is in.
	cp -R "$SR_SHARE" "$W/share"
	mkdir "$W/sbin"
	cp "$SR_SBIN/setup-root" "$SR_SBIN/setup-local" "$W/sbin/"
	chmod -R go+rX "$W/share" "$W/sbin"
	export TMPDIR=$W
	# The tools as the user ($as_user), their data in $W/share.
	SETUP_ROOT="$as_user env SHAREDROOT_SHAREDIR=$W/share $W/sbin/setup-root"
	SETUP_LOCAL="$as_user env SHAREDROOT_SHAREDIR=$W/share $W/sbin/setup-local"
}

# ffs_root SHAPE IMG [SIZE]: an FFSv1 image of an unprepared root, with
# its NetBSD owners (an mtree spec says them, whoever runs makefs), and
# a /fastboot left by an earlier install.  $FFS_ROOT_HOOK, if set, is run
# on the tree before the image is made.
ffs_root()
{
	rm -rf "$W/tree"
	make_root "$1" "$W/tree"
	: > "$W/tree/fastboot"
	[ -z "$FFS_ROOT_HOOK" ] || $FFS_ROOT_HOOK "$W/tree"
	# Device nodes come from the spec (an ordinary user's sample has
	# plain files in their place).
	rm -f "$W/tree/dev/console" "$W/tree/dev/wd0a" \
	    "$W/tree/var/chroot/dev/null"
	(cd "$W/tree" && find . | sort | while read -r p; do
		if [ -L "$p" ]; then
			echo "$p type=link mode=0755 uid=0 gid=0 link=$(readlink "$p")"
		elif [ -d "$p" ]; then
			echo "$p type=dir mode=$(stat -c %a "$p") uid=0 gid=0"
		elif [ -p "$p" ]; then
			echo "$p type=fifo mode=$(stat -c %a "$p") uid=0 gid=0"
		elif [ -f "$p" ]; then
			echo "$p type=file mode=$(stat -c %a "$p") uid=0 gid=0"
		fi
	done
	echo "./var/log/messages type=file mode=0644 uid=12345 gid=12345"
	echo "./var/run/sgid-tool type=file mode=02750 uid=0 gid=5"
	echo "./dev/console type=char mode=0600 uid=0 gid=0 device=netbsd,0,0"
	echo "./var/chroot/dev/null type=char mode=0666 uid=0 gid=0 device=netbsd,2,2") \
	    > "$W/tree.spec"
	atf_check -o ignore makefs -t ffs -s "${3:-32m}" -F "$W/tree.spec" \
	    "$2" "$W/tree"
	[ "$(id -u)" = 0 ] && chown 65534 "$2"
	chmod 0644 "$2"
}

# img_meta IMG [SECTOR]: every path of an FFS image with type, mode,
# owner, size and time, as sleuthkit reads them.
img_meta()
{
	_o=${2:-0}
	fls -o "$_o" -r -p "$1" | while IFS="	" read -r _h _p; do
		_i=${_h#* }
		_i=${_i#\*}
		_i=${_i%:}
		istat -o "$_o" "$1" "$_i" | awk -v p="$_p" '
		    /^uid \/ gid:/ { u = $4 " " $6 }
		    /^mode:/ { m = $2 }
		    /^size:/ { s = $2 }
		    /^Written:/ { t = $2 " " $3 }
		    END { print p, m, u, s, t }'
	done | LC_ALL=C sort
}

# iget IMG PATH [SECTOR]: a file's content from an FFS image.
iget()
{
	_o=${3:-0}
	_i=$(fls -o "$_o" -r -p "$1" | awk -F'\t' -v p="$2" '$2 == p {
	    split($1, a, " "); n = a[2]; sub(/^\*/, "", n); sub(/:$/, "", n);
	    print n }')
	[ -n "$_i" ] || return 1
	icat -o "$_o" "$1" "$_i"
}

atf_test_case root_image_rebuilt_in_place cleanup
root_image_rebuilt_in_place_head()
{
	atf_set descr "setup-root on an FFS root.img: -n, rebuild like itself, rerun"
}
root_image_rebuilt_in_place_body()
{
	ffs_require
	workdir
	ffs_root nb10 "$W/root.img" 32m
	printf 'XEN3_DOMU kernel\n' > "$W/netbsd-XEN3_DOMU"
	chmod 0644 "$W/netbsd-XEN3_DOMU"
	img_meta "$W/root.img" > before
	sum=$(md5sum < "$W/root.img")
	inode=$(stat -c %i "$W/root.img")
	# -n: the diffs, nothing written.
	atf_check -o match:'^\+\. /etc/rc.pre-hooks$' -o match:'fastboot' \
	    -o match:'dry run: .* changes; nothing written' \
	    $SETUP_ROOT -n -k "$W/netbsd-XEN3_DOMU" "$W/root.img"
	atf_check_equal "$sum" "$(md5sum < "$W/root.img")"
	# The rebuild: a new file in the old one's place.
	atf_check -o match:'fastboot: to be removed' \
	    -o match:'prepared \([0-9]* changes\); rebuilt like itself' \
	    $SETUP_ROOT -k "$W/netbsd-XEN3_DOMU" "$W/root.img"
	atf_check test "$(stat -c %i "$W/root.img")" != "$inode"
	atf_check -o inline:'33554432 644\n' stat -c '%s %a' "$W/root.img"
	atf_check -o match:'File System Type: UFS 1' \
	    -o match:'Block Size: 8192' -o match:'Fragment Size: 1024' \
	    fsstat "$W/root.img"
	ffs_check "$W/root.img"
	check_no_build_leftovers "$W"
	# What setup-root does, and nothing else.
	iget "$W/root.img" etc/rc > got || true
	atf_check -o match:'^\. /etc/rc.pre-hooks$' cat got
	iget "$W/root.img" etc/rc.pre-hooks > got || true
	atf_check -o match:'fsck -t ffs -p "\$_sr_rdev"' cat got
	iget "$W/root.img" netbsd > got || true
	atf_check -o inline:'XEN3_DOMU kernel\n' cat got
	img_meta "$W/root.img" > after
	atf_check -o inline:'MAKEDEV\nMAKEDEV.local\n' sh -c \
	    "grep '^dev/' after | cut -d' ' -f1 | cut -d/ -f2"
	atf_check -s exit:1 -o empty grep -E '^fastboot ' after
	for d in emul local usr/pkg; do
		atf_check -o match:"^$d drwxr-xr-x 0 0 " grep "^$d " after
	done
	# Every other entry as it was: type, mode, owner, size, time.
	changed='^(\.sharedroot|dev/|fastboot |netbsd|etc/rc |etc/rc\.orig |etc/rc\.pre-hooks |emul |local |usr |usr/pkg )'
	grep -Ev "$changed" before > b.kept
	grep -Ev "$changed" after > a.kept
	atf_check -o match:'var/log/messages rrw-r--r-- 12345 12345' cat a.kept
	atf_check -o match:'var/run/sgid-tool rrwxr-s--- 0 5' cat a.kept
	atf_check -o match:'var/chroot/dev/null crw-rw-rw- 0 0' cat a.kept
	atf_check diff b.kept a.kept
	# The root's identity, recorded: a digest of what guests copy.
	iget "$W/root.img" .sharedroot/id > got || true
	atf_check -o match:'^[0-9a-f]{64}$' cat got
	iget "$W/root.img" .sharedroot/manifest > got || true
	atf_check -o match:'^etc/rc f 0644 0 0 [0-9a-f]{64}$' \
	    -o match:'^var/log/messages f 0644 12345 12345 ' cat got
	atf_check -s exit:1 -o empty grep ssh_host got
	# The original rc kept, as a file's first edit always is.
	atf_check cmp "$SR_DATA/nb10/rc" /dev/stdin <<EOF
$(iget "$W/root.img" etc/rc.orig)
EOF
	# A second run changes nothing and rewrites nothing.
	inode=$(stat -c %i "$W/root.img")
	sum=$(md5sum < "$W/root.img")
	atf_check -o match:'already prepared; nothing changed' \
	    $SETUP_ROOT -k "$W/netbsd-XEN3_DOMU" "$W/root.img"
	atf_check_equal "$inode $sum" \
	    "$(stat -c %i "$W/root.img") $(md5sum < "$W/root.img")"
	# As root: the image keeps its owner as well as its mode.
	if [ "$(id -u)" = 0 ]; then
		ffs_root nb4 "$W/root4.img" 16m
		chown 4321:4322 "$W/root4.img"
		chmod 0640 "$W/root4.img"
		atf_check -o match:'rebuilt like itself' setup-root "$W/root4.img"
		atf_check -o inline:'4321 4322 640\n' stat -c '%u %g %a' \
		    "$W/root4.img"
		iget "$W/root4.img" etc/rc > got || true
		atf_check -o match:'^\. /etc/rc.pre-hooks$' cat got
	fi
}
root_image_rebuilt_in_place_cleanup()
{
	undo_run
}

atf_test_case partitioned_images cleanup
partitioned_images_head()
{
	atf_set descr "MBR and GPT disks: the FFS partition is found and rebuilt in place"
}
partitioned_images_body()
{
	ffs_require
	workdir
	ffs_root nb4 "$W/fs.img" 24m
	# An MBR disk: a NetBSD partition (type a9) at 1 MiB, 24 MiB long,
	# and something of the owner's in the gap before it.
	d=$W/disk.img
	atf_check dd if=/dev/zero of="$d" bs=1M count=0 seek=32 status=none
	printf 'start=2048,size=49152,type=a9\n' |
	    atf_check -o ignore -e ignore sfdisk -q "$d"
	atf_check dd if="$W/fs.img" of="$d" bs=1M seek=1 conv=notrunc,sparse \
	    status=none
	printf 'boot loader' | atf_check dd of="$d" bs=1 seek=4096 \
	    conv=notrunc status=none
	[ "$(id -u)" = 0 ] && chown 65534 "$d"
	head=$(head -c 1048576 "$d" | md5sum)
	tail=$(tail -c 7340032 "$d" | md5sum)
	atf_check -o match:'prepared .*rebuilt like itself' \
	    $SETUP_ROOT "$d"
	atf_check -o inline:'33554432\n' stat -c %s "$d"
	atf_check_equal "$head" "$(head -c 1048576 "$d" | md5sum)"
	atf_check_equal "$tail" "$(tail -c 7340032 "$d" | md5sum)"
	iget "$d" etc/rc 2048 > got || true
	atf_check -o match:'^\. /etc/rc.pre-hooks$' cat got
	img_meta "$d" 2048 > got || true
	atf_check -o match:'^var/log/messages rrw-r--r-- 12345 12345 ' cat got
	ffs_check "$d" 1048576 25165824
	check_no_build_leftovers "$W"

	# A GPT disk with two FFS partitions: which is meant is asked.
	g=$W/gpt.img
	atf_check dd if=/dev/zero of="$g" bs=1M count=0 seek=64 status=none
	printf 'label: gpt\nstart=2048,size=49152\nstart=51200,size=49152\n' |
	    atf_check -o ignore -e ignore sfdisk -q "$g"
	atf_check dd if="$W/fs.img" of="$g" bs=1M seek=1 conv=notrunc,sparse \
	    status=none
	atf_check dd if="$W/fs.img" of="$g" bs=512 seek=51200 \
	    conv=notrunc,sparse status=none
	[ "$(id -u)" = 0 ] && chown 65534 "$g"
	sum=$(md5sum < "$g")
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-root: $g: 2 partitions hold FFS: 1 (offset 1048576, 24 MiB), 2 (offset 26214400, 24 MiB); pick one with -p\n" \
	    $SETUP_ROOT "$g"
	atf_check_equal "$sum" "$(md5sum < "$g")"
	atf_check -o match:'rebuilt like itself' $SETUP_ROOT -p 2 "$g"
	iget "$g" etc/rc 51200 > got || true
	atf_check -o match:'^\. /etc/rc.pre-hooks$' cat got
	iget "$g" etc/rc 2048 > got || true
	atf_check -s exit:1 grep -q pre-hooks got
	# setup-root -o takes a partitioned source, -p naming the partition.
	atf_check -s exit:1 -o empty -e match:"$g: 2 partitions hold FFS: .*pick one with -p" \
	    $SETUP_ROOT -o "$W/fromgpt.img" "$g"
	atf_check -o match:'built from 1 source' $SETUP_ROOT -p 2 \
	    -o "$W/fromgpt.img" "$g"
	iget "$W/fromgpt.img" etc/rc > got || true
	atf_check -o match:'^\. /etc/rc.pre-hooks$' cat got
	# setup-local reads a partitioned root as well.
	atf_check -o match:'built from .*: [0-9]+ entries' -e ignore \
	    $SETUP_LOCAL -p 2 -h g1 "$g" "$W/local.img"
	iget "$W/local.img" etc/myname > got || true
	atf_check -o inline:'g1\n' cat got

	# A partition table with no FFS in it.
	n=$W/nofs.img
	atf_check dd if=/dev/zero of="$n" bs=1M count=0 seek=8 status=none
	printf 'start=2048,size=8192,type=83\n' |
	    atf_check -o ignore -e ignore sfdisk -q "$n"
	[ "$(id -u)" = 0 ] && chown 65534 "$n"
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-root: $n: a dos partition table with no FFS partition\n" \
	    $SETUP_ROOT "$n"
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-root: $n: -p 3: no such partition holds FFS\n" \
	    $SETUP_ROOT -p 3 "$n"
	check_no_build_leftovers "$W"
}
partitioned_images_cleanup()
{
	undo_run
}

atf_test_case bad_images_unchanged cleanup
bad_images_unchanged_head()
{
	atf_set descr "Read-only, truncated, corrupt, full, FFSv2: one line, exit 1, unchanged"
}
bad_images_unchanged_body()
{
	ffs_require
	workdir
	ffs_root nb10 "$W/root.img" 12m
	cp "$W/root.img" "$W/orig.img"
	chmod 0444 "$W/root.img"
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-root: $W/root.img: the image file is read-only (mode 0444); nothing written\n" \
	    $SETUP_ROOT "$W/root.img"
	atf_check cmp "$W/orig.img" "$W/root.img"
	chmod 0644 "$W/root.img"
	# Too small for what must go in: said in one line, with how much
	# more is needed (makefs's count); all is removed.
	atf_check dd if=/dev/urandom of="$W/big-kernel" bs=1M count=12 \
	    status=none
	chmod 0644 "$W/big-kernel"
	atf_check -s exit:1 -o ignore \
	    -e match:"^setup-root: $W/root.img: no room in its file system of 12\.0 MiB for the new tree: it needs about [0-9.]+ MiB; about [0-9.]+ MiB more needed \(refused, nothing written\)$" \
	    $SETUP_ROOT -k "$W/big-kernel" "$W/root.img"
	atf_check cmp "$W/orig.img" "$W/root.img"
	check_no_build_leftovers "$W"
	# Truncated, and with its superblock garbled.
	atf_check truncate -s 9m "$W/root.img"
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-root: $W/root.img: truncated: its FFS file system is 12582912 bytes from offset 0, the image only 9437184\n" \
	    $SETUP_ROOT "$W/root.img"
	cp "$W/orig.img" "$W/root.img"
	printf '\377\377\377\377' | atf_check dd of="$W/root.img" bs=1 \
	    seek=8240 conv=notrunc status=none
	cp "$W/root.img" "$W/bad.img"
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-root: $W/root.img: corrupt FFS superblock at offset 8192: fs_bsize is -1, not a power of 2 from 4096 to 65536 (refused)\n" \
	    $SETUP_ROOT "$W/root.img"
	atf_check cmp "$W/bad.img" "$W/root.img"
	# Debian makefs's FFSv2 (its superblock at 8 KiB, where newfs does
	# not put it and libtsk does not look): refused, nothing written.
	atf_check -o ignore makefs -t ffs -s 12m -o version=2 "$W/v2.img" \
	    "$W/tree"
	chmod 0666 "$W/v2.img"
	cp "$W/v2.img" "$W/v2.orig"
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-root: $W/v2.img: read image: holds no FFS file system libtsk can read\n" \
	    $SETUP_ROOT "$W/v2.img"
	atf_check cmp "$W/v2.orig" "$W/v2.img"
	check_no_build_leftovers "$W"
}
bad_images_unchanged_cleanup()
{
	undo_run
}

atf_test_case local_image_reseeded cleanup
local_image_reseeded_head()
{
	atf_set descr "setup-local on an existing FFS local: refused, -n, -f rebuilds, guest files kept"
}
local_image_reseeded_body()
{
	ffs_require
	workdir
	ffs_root nb10 "$W/root.img" 32m
	atf_check -o ignore $SETUP_ROOT "$W/root.img"
	atf_check -o match:'built from' -e ignore \
	    $SETUP_LOCAL -h g1 -s 64m \
	    "$W/root.img" "$W/local.img"
	sum=$(md5sum < "$W/local.img")
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: $W/local.img: etc: already provisioned; its /etc is the guest's own (-f replaces it)\n" \
	    $SETUP_LOCAL "$W/root.img" "$W/local.img"
	atf_check -o match:'would be rebuilt like itself \(FFSv1, 67108864 bytes\)' \
	    -o match:'dry run: nothing written' \
	    $SETUP_LOCAL -n -f -h g2 "$W/root.img" \
	    "$W/local.img"
	atf_check_equal "$sum" "$(md5sum < "$W/local.img")"
	inode=$(stat -c %i "$W/local.img")
	atf_check -o match:'rebuilt from .*: [0-9]+ entries' -e ignore \
	    $SETUP_LOCAL -f -h g2 "$W/root.img" \
	    "$W/local.img"
	atf_check test "$(stat -c %i "$W/local.img")" != "$inode"
	atf_check -o inline:'67108864\n' stat -c %s "$W/local.img"
	iget "$W/local.img" etc/myname > got || true
	atf_check -o inline:'g2\n' cat got
	# The same root identity, computed from the image by setup-local as
	# setup-root recorded it.
	iget "$W/root.img" .sharedroot/id > rid || true
	iget "$W/local.img" .sharedroot/root-id > lid || true
	atf_check -o match:'^[0-9a-f]{64}$' cat rid
	atf_check cmp rid lid
	img_meta "$W/local.img" > got || true
	atf_check -o match:'^var/log/messages rrw-r--r-- 12345 12345 ' 	    -o match:'^var/chroot/dev/null crw-rw-rw- 0 0 ' cat got
	check_no_build_leftovers "$W"
}
local_image_reseeded_cleanup()
{
	undo_run
}

atf_test_case local_keeps_guest_files cleanup
local_keeps_guest_files_head()
{
	atf_set descr "A re-seed keeps what the local holds beside etc, tmp and var"
}
local_keeps_guest_files_body()
{
	ffs_require
	workdir
	ffs_root nb4 "$W/root.img" 32m
	atf_check -o ignore $SETUP_ROOT "$W/root.img"
	# An old local with the guest's home on it, made by makefs.
	mkdir -p "$W/old/etc" "$W/old/home/alice"
	printf 'old\n' > "$W/old/etc/myname"
	printf 'notes\n' > "$W/old/home/alice/notes"
	printf '. type=dir mode=0755 uid=0 gid=0\n./etc type=dir mode=0755 uid=0 gid=0\n./etc/myname type=file mode=0644 uid=0 gid=0\n./home type=dir mode=0755 uid=0 gid=0\n./home/alice type=dir mode=0700 uid=1000 gid=100\n./home/alice/notes type=file mode=0600 uid=1000 gid=100\n' \
	    > "$W/old.spec"
	atf_check -o ignore makefs -t ffs -s 48m -F "$W/old.spec" "$W/local.img" \
	    "$W/old"
	[ "$(id -u)" = 0 ] && chown 65534 "$W/local.img"
	atf_check -o ignore -e ignore $SETUP_LOCAL -f \
	    "$W/root.img" "$W/local.img"
	iget "$W/local.img" home/alice/notes > got || true
	atf_check -o inline:'notes\n' cat got
	img_meta "$W/local.img" > got || true
	atf_check -o match:'^home/alice drwx------ 1000 100 ' 	    -o match:'^home/alice/notes rrw------- 1000 100 ' cat got
	iget "$W/local.img" etc/myname > got || true
	atf_check -o inline:'template\n' cat got
	atf_check -o inline:'50331648\n' stat -c %s "$W/local.img"
}
local_keeps_guest_files_cleanup()
{
	undo_run
}

atf_test_case local_dir_from_ffs_root cleanup
local_dir_from_ffs_root_head()
{
	atf_set descr "As root, a local directory from an FFS root: the root's owners"
	atf_set require.user root
}
local_dir_from_ffs_root_body()
{
	ffs_require
	workdir
	ffs_root nb10 "$W/root.img" 32m
	atf_check -o ignore setup-root "$W/root.img"
	mkdir "$W/local"
	atf_check -o match:'provisioned from' -e ignore \
	    setup-local -h g3 "$W/root.img" "$W/local"
	atf_check -o inline:'12345 12345 644\n' stat -c '%u %g %a' \
	    "$W/local/var/log/messages"
	atf_check -o inline:'0 5 2750\n' stat -c '%u %g %a' \
	    "$W/local/var/run/sgid-tool"
	atf_check -o inline:'character special file 2,2\n' \
	    stat -c '%F %t,%T' "$W/local/var/chroot/dev/null"
	atf_check -o match:'^/dev/xbd0a	/		ffs	ro		0 0' \
	    cat "$W/local/etc/fstab"
	check_no_leftovers "$W/root.img"
}
local_dir_from_ffs_root_cleanup()
{
	undo_run
}

atf_test_case interrupted_rebuilds_lose_nothing cleanup
interrupted_rebuilds_lose_nothing_head()
{
	atf_set descr "Rebuilds killed at any moment: the old image whole, or the new one; nothing left"
}
interrupted_rebuilds_lose_nothing_body()
{
	ffs_require
	workdir
	ffs_root nb10 "$W/root.img" 32m
	cp "$W/root.img" "$W/orig.img"
	old=$(md5sum < "$W/orig.img")
	for delay in 0.01 0.03 0.06 0.1 0.2 0.3; do
		cp "$W/orig.img" "$W/root.img"
		[ "$(id -u)" = 0 ] && chown 65534 "$W/root.img"
		$SETUP_ROOT -q "$W/root.img" 2>/dev/null &
		pid=$!
		sleep $delay
		kill -TERM $pid 2>/dev/null
		wait $pid
		now=$(md5sum < "$W/root.img")
		if [ "$now" != "$old" ]; then
			# Replaced: then whole, and prepared.
			iget "$W/root.img" etc/rc > got || true
			atf_check -o match:'^\. /etc/rc.pre-hooks$' cat got
		fi
		check_no_build_leftovers "$W"
	done
}
interrupted_rebuilds_lose_nothing_cleanup()
{
	undo_run
}

# one_line FILE: FILE holds exactly one line.
one_line()
{
	atf_check -o inline:'1\n' sh -c "wc -l < '$1'"
}

atf_test_case corrupt_superblocks_refused cleanup
corrupt_superblocks_refused_head()
{
	atf_set descr "A superblock field libtsk divides or indexes by, broken: one line naming it, exit 1, unchanged, no stage"
}
corrupt_superblocks_refused_body()
{
	ffs_require
	workdir
	ffs_root nb10 "$W/root.img" 32m
	atf_check -o ignore $SETUP_ROOT "$W/root.img"
	atf_check -o ignore -e ignore $SETUP_LOCAL -h g1 -s 16m \
	    "$W/root.img" "$W/local.img"
	# struct fs offsets (NetBSD sys/ufs/ffs/fs.h) and a value each that
	# NetBSD's kernel would not mount (fs_inopb 0: SIGFPE in libtsk).
	for f in 104:100:fs_sbsize 48:12288:fs_bsize 52:0:fs_fsize \
	    56:4:fs_frag 80:20:fs_bshift 84:0:fs_fshift 96:31:fs_fragshift \
	    72:0:fs_bmask 76:0:fs_fmask 120:0:fs_inopb 36:0:fs_size \
	    44:0:fs_ncg 188:0:fs_fpg 184:0:fs_ipg 156:0:fs_cssize \
	    92:0:fs_maxbpg 160:0:fs_cgsize 8:-1:fs_sblkno \
	    24:-1:fs_old_cgoffset 1000:65536:fs_sblockloc; do
		off=${f%%:*}
		val=${f#*:}
		val=${val%%:*}
		field=${f##*:}
		cp "$W/local.img" "$W/bad.img"
		atf_check "$SR_TESTS/h_ffspatch" le32 "$W/bad.img" \
		    $((8192 + off)) "$val"
		[ "$(id -u)" = 0 ] && chown 65534 "$W/bad.img"
		cp "$W/bad.img" "$W/bad.orig"
		for mode in -u -f; do
			atf_check -s exit:1 -o empty -e save:err \
			    $SETUP_LOCAL $mode "$W/root.img" "$W/bad.img"
			atf_check -o match:"^setup-local: $W/bad.img: corrupt FFS superblock at offset 8192: $field " \
			    cat err
			one_line err
			atf_check cmp "$W/bad.orig" "$W/bad.img"
			check_no_build_leftovers "$W"
		done
	done
	# A root with fs_inopb 0, read by setup-root and by setup-local.
	cp "$W/root.img" "$W/badroot.img"
	atf_check "$SR_TESTS/h_ffspatch" le32 "$W/badroot.img" $((8192 + 120)) 0
	[ "$(id -u)" = 0 ] && chown 65534 "$W/badroot.img"
	cp "$W/badroot.img" "$W/bad.orig"
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-root: $W/badroot.img: corrupt FFS superblock at offset 8192: fs_inopb is 0, not 64 (fs_bsize / the inode size) (refused)\n" \
	    $SETUP_ROOT "$W/badroot.img"
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: $W/badroot.img: corrupt FFS superblock at offset 8192: fs_inopb is 0, not 64 (fs_bsize / the inode size) (refused)\n" \
	    $SETUP_LOCAL "$W/badroot.img" "$W/new.img"
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: $W/badroot.img: corrupt FFS superblock at offset 8192: fs_inopb is 0, not 64 (fs_bsize / the inode size) (refused)\n" \
	    $SETUP_LOCAL -u "$W/badroot.img" "$W/local.img"
	atf_check cmp "$W/bad.orig" "$W/badroot.img"
	atf_check test ! -e "$W/new.img"
	check_no_build_leftovers "$W"
}
corrupt_superblocks_refused_cleanup()
{
	undo_run
}

# chain TREE: var/chain/p00/p01/.../p39, and beside each pNN a decoy
# directory qNN that a guest points at pNN (see two_parents_refused).
chain()
{
	_d=$1/var/chain
	for _i in $(seq -w 0 39); do
		mkdir -p "$_d/q$_i" "$_d/p$_i"
		_d=$_d/p$_i
	done
}

atf_test_case two_parents_refused cleanup
two_parents_refused_head()
{
	atf_set descr "A guest's directories with two names, chained 40 deep (2^40 paths): refused at once, nothing changed, no stage"
}
two_parents_refused_body()
{
	ffs_require
	workdir
	FFS_ROOT_HOOK=chain ffs_root nb10 "$W/root.img" 32m
	atf_check -o ignore $SETUP_ROOT "$W/root.img"
	atf_check -o ignore -e ignore $SETUP_LOCAL -h g1 -s 16m \
	    "$W/root.img" "$W/local.img"
	# The guest points each qNN at pNN: one directory, two parents.
	p=var/chain
	for i in $(seq -w 0 39); do
		n=$("$SR_TESTS/h_ffspatch" ino "$W/local.img" "$p/p$i")
		atf_check "$SR_TESTS/h_ffspatch" dirent "$W/local.img" "q$i" "$n"
		p=$p/p$i
	done
	cp "$W/local.img" "$W/local.orig"
	atf_check -s exit:1 -o empty -e save:err \
	    timeout 120 $SETUP_LOCAL -u "$W/root.img" "$W/local.img"
	atf_check -o match:"^setup-local: $W/local.img: read directory: a directory with two parents \(corrupt; refused\): var/chain/.*/[pq][0-9]+, also var/chain/.*/[pq][0-9]+$" \
	    cat err
	one_line err
	atf_check cmp "$W/local.orig" "$W/local.img"
	check_no_build_leftovers "$W"
	# The same local read as a root: refused before it is read (a
	# root is read as it is copied, no longer staged first).
	atf_check -s exit:1 -o empty -e match:"a guest's local disk .*not a shared root" \
	    timeout 120 $SETUP_LOCAL "$W/local.img" "$W/other.img"
	atf_check test ! -e "$W/other.img"
	check_no_build_leftovers "$W"
}
two_parents_refused_cleanup()
{
	undo_run
}

atf_test_case deep_tree_refused_no_stage_left cleanup
deep_tree_refused_no_stage_left_head()
{
	atf_set descr "A guest's var nested deeper than the walks allow: -u and -R refuse in one short line and leave no stage"
}
deep_tree_refused_no_stage_left_body()
{
	ffs_require
	workdir
	# A local made elsewhere (makefs): etc, and a var 200 deep.
	mkdir -p "$W/old/etc" "$W/old/var"
	printf 'old\n' > "$W/old/etc/myname"
	d=$W/old/var/deep
	for i in $(seq 200); do
		d=$d/d
	done
	mkdir -p "$d"
	: > "$d/leaf"
	atf_check -o ignore makefs -t ffs -s 16m "$W/local.img" "$W/old"
	[ "$(id -u)" = 0 ] && chown 65534 "$W/local.img"
	ffs_root nb10 "$W/root.img" 32m
	atf_check -o ignore $SETUP_ROOT "$W/root.img"
	cp "$W/local.img" "$W/local.orig"
	for run in "-u $W/root.img" "-R"; do
		atf_check -s exit:1 -o empty -e save:err \
		    $SETUP_LOCAL $run "$W/local.img"
		atf_check -o match:"^setup-local: $W/local.img: read directory: nested more than 128 deep \(refused\): var/deep/d/.*/d/d$" \
		    cat err
		one_line err
		atf_check test "$(wc -c < err)" -lt 250
		atf_check cmp "$W/local.orig" "$W/local.img"
		check_no_build_leftovers "$W"
	done
}
deep_tree_refused_no_stage_left_cleanup()
{
	undo_run
}

atf_test_case ffsv2_root_built_and_prepared cleanup
ffsv2_root_built_and_prepared_head()
{
	atf_set descr "setup-root -O 2 -o: an FFSv2 root; prepared in place" \
	    "like itself, whole and in an MBR partition; NetBSD's FFS checks each"
}
ffsv2_root_built_and_prepared_body()
{
	ffs_require
	workdir
	ffs_root nb10 "$W/src.img" 32m
	printf 'XEN3_DOMU kernel\n' > "$W/k"
	chmod 0644 "$W/k"
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-root: -O 3: give the FFS version, 1 or 2\n" \
	    $SETUP_ROOT -O 3 -o "$W/v2.img" "$W/src.img"
	atf_check -s exit:1 -o empty -e match:'^usage: ' \
	    $SETUP_ROOT -O 2 "$W/src.img"
	# Too small a -s: refused before anything is written.
	atf_check -s exit:1 -o ignore \
	    -e match:"^setup-root: $W/small.img: no room in its file system of 1\.0 MiB for the new tree: it needs about [0-9.]+ MiB; about [0-9.]+ MiB more needed \(refused, nothing written\)$" \
	    $SETUP_ROOT -O 2 -s 1m -o "$W/small.img" "$W/src.img"
	atf_check test ! -e "$W/small.img"
	check_no_build_leftovers "$W"
	atf_check -o match:'built from 1 source' \
	    $SETUP_ROOT -O 2 -o "$W/v2.img" "$W/src.img"
	atf_check -o match:'File System Type: UFS 2' fsstat "$W/v2.img"
	ffs_check "$W/v2.img"
	iget "$W/v2.img" etc/rc > got || true
	atf_check -o match:'^\. /etc/rc.pre-hooks$' cat got
	img_meta "$W/v2.img" > got || true
	atf_check -o match:'^var/log/messages rrw-r--r-- 12345 12345 ' \
	    -o match:'^var/run/sgid-tool rrwxr-s--- 0 5 ' cat got
	# Prepared in place: rebuilt like itself, FFSv2 still.
	inode=$(stat -c %i "$W/v2.img")
	atf_check -o match:'prepared \([0-9]+ changes\); rebuilt like itself' \
	    $SETUP_ROOT -k "$W/k" "$W/v2.img"
	atf_check test "$(stat -c %i "$W/v2.img")" != "$inode"
	atf_check -o match:'File System Type: UFS 2' fsstat "$W/v2.img"
	iget "$W/v2.img" netbsd > got || true
	atf_check -o inline:'XEN3_DOMU kernel\n' cat got
	img_meta "$W/v2.img" > got || true
	atf_check -o match:'^var/log/messages rrw-r--r-- 12345 12345 ' cat got
	ffs_check "$W/v2.img"
	atf_check -o match:'already prepared; nothing changed' \
	    $SETUP_ROOT -k "$W/k" "$W/v2.img"
	check_no_build_leftovers "$W"

	# An FFSv2 partition of an MBR disk: the rest of the disk kept.
	atf_check -o match:'built from 1 source' \
	    $SETUP_ROOT -O 2 -s 24m -o "$W/fs2.img" "$W/src.img"
	d=$W/disk.img
	atf_check dd if=/dev/zero of="$d" bs=1M count=0 seek=32 status=none
	printf 'start=2048,size=49152,type=a9\n' |
	    atf_check -o ignore -e ignore sfdisk -q "$d"
	atf_check dd if="$W/fs2.img" of="$d" bs=1M seek=1 \
	    conv=notrunc,sparse status=none
	printf 'boot loader' | atf_check dd of="$d" bs=1 seek=4096 \
	    conv=notrunc status=none
	[ "$(id -u)" = 0 ] && chown 65534 "$d"
	head=$(head -c 1048576 "$d" | md5sum)
	tail=$(tail -c 7340032 "$d" | md5sum)
	atf_check -o match:'prepared .*rebuilt like itself' \
	    $SETUP_ROOT -k "$W/k" "$d"
	atf_check -o inline:'33554432\n' stat -c %s "$d"
	atf_check_equal "$head" "$(head -c 1048576 "$d" | md5sum)"
	atf_check_equal "$tail" "$(tail -c 7340032 "$d" | md5sum)"
	atf_check -o match:'File System Type: UFS 2' fsstat -o 2048 "$d"
	iget "$d" netbsd 2048 > got || true
	atf_check -o inline:'XEN3_DOMU kernel\n' cat got
	ffs_check "$d" 1048576 25165824
	check_no_build_leftovers "$W"
}
ffsv2_root_built_and_prepared_cleanup()
{
	undo_run
}

atf_test_case identity_as_directory_root cleanup
identity_as_directory_root_head()
{
	atf_set descr "The identity an image built with -o records is the" \
	    "one the same root prepared as a directory records"
	# Only root can give a directory's new files (etc/rc.pre-hooks)
	# root's owner, as an image always has them: an ordinary user's
	# directory holds them under his own uid, and its identity says so.
	atf_set require.user root
}
identity_as_directory_root_body()
{
	ffs_require
	workdir
	make_root nb10 "$W/tree"
	cp -a "$W/tree" "$W/dir"
	sr="env SHAREDROOT_SHAREDIR=$W/share $W/sbin/setup-root"
	atf_check -o match:'prepared' $sr "$W/dir"
	for v in 1 2; do
		atf_check -o match:'built from 1 source' \
		    $sr -O $v -o "$W/v$v.img" "$W/tree"
		iget "$W/v$v.img" .sharedroot/id > got || true
		atf_check -o match:'^[0-9a-f]{64}$' cat got
		atf_check cmp "$W/dir/.sharedroot/id" got
		iget "$W/v$v.img" .sharedroot/manifest > got || true
		atf_check cmp "$W/dir/.sharedroot/manifest" got
		ffs_check "$W/v$v.img"
	done
}
identity_as_directory_root_cleanup()
{
	undo_run
}

atf_init_test_cases()
{
	atf_add_test_case corrupt_superblocks_refused
	atf_add_test_case two_parents_refused
	atf_add_test_case deep_tree_refused_no_stage_left
	atf_add_test_case interrupted_rebuilds_lose_nothing
	atf_add_test_case root_image_rebuilt_in_place
	atf_add_test_case partitioned_images
	atf_add_test_case bad_images_unchanged
	atf_add_test_case local_image_reseeded
	atf_add_test_case local_keeps_guest_files
	atf_add_test_case local_dir_from_ffs_root
	atf_add_test_case ffsv2_root_built_and_prepared
	atf_add_test_case identity_as_directory_root
}
