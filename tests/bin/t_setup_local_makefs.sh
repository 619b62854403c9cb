# setup-local as an ordinary user: a new local image built with makefs,
# without mounting anything, and checked with an independent reader
# (sleuthkit's fls, istat and icat).  As root, the cases drop to nobody.
# as_user, ino and meta_img: see h_common.sh.

# A prepared root everyone can read, with its owners kept, in a
# directory the user can write: $W.
user_fixture()
{
	# The fixture has NetBSD's owners (root, uid 12345, ...): only root
	# can make it; the cases then run the tools as nobody.
	[ "$(id -u)" = 0 ] || atf_skip "needs root to make a fixture with NetBSD's owners; runs the tools as nobody"
	for p in makefs fls istat icat; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null || atf_skip "no setpriv"
	fi
	W=$(mktemp -d /tmp/sharedroot-user.XXXXXX)
	undo_add "rm -rf $W"
	chmod 0755 "$W"
	make_root "$1" "$W/root"
	chmod -R go+rX "$W/root"
	atf_check -o ignore setup-root "$W/root"
	[ "$(id -u)" = 0 ] && chown 65534 "$W"
	cp -R "$SR_SHARE/templates" "$W/templates"
	chmod -R go+rX "$W/templates"
	cp "$SR_SBIN/setup-local" "$W/setup-local"
	chmod 0755 "$W/setup-local"
	cp -R "$SR_SHARE" "$W/share"
	chmod -R go+rX "$W/share"
	as_user="$as_user env SHAREDROOT_SHAREDIR=$W/share"
	# The user's stage goes where the user may write.
	export TMPDIR=$W
}

# meta_dir PATH: "uid gid rwxr-xr-x" of a file on this host, as meta_img
# (h_common.sh) gives it for one in an image.
meta_dir()
{
	echo "$(stat -c '%u %g' "$1") $(stat -c %A "$1" | cut -c2-)"
}

atf_test_case makefs_builds_local_image cleanup
makefs_builds_local_image_head()
{
	atf_set descr "An ordinary user builds a guest's FFS local image"
	atf_set require.progs setpriv
}
makefs_builds_local_image_body()
{
	user_fixture nb10
	atf_check -o match:'built from .*: [0-9]+ entries' -e save:err $as_user \
	    "$W/setup-local" -T "$W/templates" -h g1 "$W/root" "$W/local.img"
	img=$W/local.img
	# What the image cannot hold is said, file by file.
	if getfattr -d "$W/root/etc/group" 2>/dev/null | grep -q user.; then
		atf_check -o match:'warning: etc/group: extended attributes not kept' \
		    cat err
	fi
	atf_check -s exit:1 -o empty grep -v 'extended attributes not kept' err
	atf_check -o inline:'65534\n' stat -c %u "$img"
	atf_check -o match:'UFS' fsstat "$img"
	atf_check test "$(du -k "$img" | cut -f1)" -lt 8192
	# Owners and modes as in the root, set-id and sticky bits included.
	for p in var/log/messages var/run/sgid-tool etc/passwd tmp \
	    etc/master.passwd var/spool/lock etc/group var/cron/tabs; do
		atf_check_equal "$p $(meta_dir "$W/root/$p")" \
		    "$p $(meta_img "$img" "$p")"
	done
	atf_check_equal '12345 12345 rw-r--r--' \
	    "$(meta_img "$img" var/log/messages)"
	# (the fixture was opened to go+rX: 2750 became 2755)
	atf_check_equal '0 5 rwxr-sr-x' "$(meta_img "$img" var/run/sgid-tool)"
	atf_check_equal '0 0 rwxrwxrwt' "$(meta_img "$img" tmp)"
	atf_check_equal '0 0 rw-------' "$(meta_img "$img" var/cron/tabs/root)"
	# Hard links stay one inode; links keep their targets.
	atf_check_equal "$(ino "$img" etc/passwd)" \
	    "$(ino "$img" etc/passwd.hardlink)"
	atf_check -o match:'symbolic link to: /usr/share/zoneinfo/UTC' \
	    istat "$img" "$(ino "$img" etc/localtime)"
	# Devices and fifos, from the spec alone.
	atf_check -o match:'mode: crw-rw-rw-' \
	    istat "$img" "$(ino "$img" var/chroot/dev/null)"
	atf_check -o match:'mode: prw-r--r--' \
	    istat "$img" "$(ino "$img" var/spool/lock/fifo)"
	# The guest's own files, and no template secrets.
	atf_check -o match:'^/dev/xbd2a	/local		ffs	rw' \
	    icat "$img" "$(ino "$img" etc/fstab)"
	atf_check -o inline:'g1\n' icat "$img" "$(ino "$img" etc/myname)"
	atf_check cmp "$W/root/etc/rc.orig" /dev/stdin <<EOF2
$(icat "$img" "$(ino "$img" etc/rc)")
EOF2
	atf_check_equal '0 0 rw-r--r--' "$(meta_img "$img" etc/rc.conf.d/root)"
	atf_check_equal '0 0 rw-------' "$(meta_img "$img" etc/cgd/xbd1a)"
	atf_check -s exit:1 -o empty sh -c "fls -r -p $img | grep ssh_host"
	atf_check -s exit:1 -o empty sh -c "fls -r -p $img | grep entropy-file"
	atf_check -o match:'^r/r' sh -c "fls -r -p $img | grep -P '\tvar/db/sparse$'"
	# Large content intact.
	atf_check -o inline:"$(md5sum < "$W/root/var/db/sparse")\n" sh -c \
	    "icat $img $(ino "$img" var/db/sparse) | md5sum"
	check_no_build_leftovers "$W"
}
makefs_builds_local_image_cleanup()
{
	undo_run
}

atf_test_case makefs_from_ffs_root_image cleanup
makefs_from_ffs_root_image_head()
{
	atf_set descr "From an FFS root image, read with libtsk, not mounted"
	atf_set require.progs setpriv
}
makefs_from_ffs_root_image_body()
{
	user_fixture nb4
	# The root as an FFS image, made from the prepared tree with its
	# owners and modes as they were before the fixture opened them.
	rm -rf "$W/root"
	make_root nb4 "$W/tree"
	atf_check -o ignore setup-root "$W/tree"
	atf_check -o ignore makefs -t ffs -M 16m "$W/root.img" "$W/tree"
	chmod 0644 "$W/root.img"
	atf_check -o match:'built from .*root.img: [0-9]+ entries' -e ignore \
	    $as_user "$W/setup-local" -T "$W/templates" -h g4 "$W/root.img" \
	    "$W/local.img"
	img=$W/local.img
	for p in var/log/messages var/run/sgid-tool etc/master.passwd \
	    var/spool/lock etc/passwd; do
		atf_check_equal "$p $(meta_dir "$W/tree/$p")" \
		    "$p $(meta_img "$img" "$p")"
	done
	atf_check_equal '0 5 rwxr-s---' "$(meta_img "$img" var/run/sgid-tool)"
	# Edited files keep the root's owners and modes, not the stager's.
	atf_check_equal '0 5 rw-r--r--' "$(meta_img "$img" etc/ssh/sshd_config)"
	atf_check_equal '0 0 rw-r--r--' "$(meta_img "$img" etc/rc.conf)"
	atf_check_equal '0 0 rw-------' "$(meta_img "$img" var/cron/tabs/root)"
	atf_check_equal "$(ino "$img" etc/passwd)" \
	    "$(ino "$img" etc/passwd.hardlink)"
	atf_check -o match:'mode: crw-rw-rw-' \
	    istat "$img" "$(ino "$img" var/chroot/dev/null)"
	atf_check -o match:'^/dev/xbd0a	/		ffs	ro' \
	    icat "$img" "$(ino "$img" etc/fstab)"
	atf_check -o match:'^wscons=NO$' icat "$img" "$(ino "$img" etc/rc.conf)"
	atf_check -o match:'^algorithm aes-cbc;$' \
	    icat "$img" "$(ino "$img" etc/cgd/xbd1a)"
	atf_check cmp "$SR_DATA/nb4/rc" /dev/stdin <<EOF2
$(icat "$img" "$(ino "$img" etc/rc)")
EOF2
	atf_check -s exit:1 -o empty sh -c "fls -r -p $img | grep ssh_host"
	check_no_build_leftovers "$W"

	# A hostile root image: var is a link out of it.
	rm -rf "$W/tree/var"
	ln -s /etc "$W/tree/var"
	atf_check -o ignore makefs -t ffs -M 4m "$W/bad.img" "$W/tree"
	chmod 0644 "$W/bad.img"
	atf_check -s exit:1 \
	    -e inline:"setup-local: $W/bad.img: var: not a directory in the root (refused)\n" \
	    $as_user "$W/setup-local" -T "$W/templates" "$W/bad.img" "$W/l2.img"
	atf_check test ! -e "$W/l2.img"
	check_no_build_leftovers "$W"
}
makefs_from_ffs_root_image_cleanup()
{
	undo_run
}

atf_test_case makefs_existing_image_refused cleanup
makefs_existing_image_refused_head()
{
	atf_set descr "An ordinary user's existing image is never rebuilt"
	atf_set require.progs setpriv
}
makefs_existing_image_refused_body()
{
	user_fixture nb10
	printf 'guest data' > "$W/local.img"
	chmod 0666 "$W/local.img"
	atf_check -s exit:1 -e inline:"setup-local: $W/local.img: updating an image that is not FFS needs root to mount it\n" \
	    $as_user "$W/setup-local" -T "$W/templates" "$W/root" "$W/local.img"
	atf_check -o inline:'guest data' cat "$W/local.img"
}
makefs_existing_image_refused_cleanup()
{
	undo_run
}

atf_test_case makefs_failure_leaves_nothing cleanup
makefs_failure_leaves_nothing_head()
{
	atf_set descr "A failed build leaves no image, stage or temporary"
	atf_set require.progs setpriv
}
makefs_failure_leaves_nothing_body()
{
	user_fixture nb4
	echo '@NOSUCH@' > "$W/templates/fstab"
	atf_check -s exit:1 -e match:'fstab:1: unknown variable @NOSUCH@' \
	    $as_user "$W/setup-local" -T "$W/templates" "$W/root" "$W/local.img"
	cp "$SR_SHARE/templates/fstab" "$W/templates/fstab"
	# Too small for the content: the writer fails, and all is removed.
	cp -a "$W/root" "$W/big"
	head -c 6000000 /dev/urandom > "$W/big/var/big"
	atf_check -o ignore -e ignore setup-root "$W/big"
	atf_check -s exit:1 -e match:'no room left in the file system' $as_user "$W/setup-local" \
	    -T "$W/templates" -s 4m -q "$W/big" "$W/local.img"
	atf_check test ! -e "$W/local.img"
	check_no_build_leftovers "$W"
}
makefs_failure_leaves_nothing_cleanup()
{
	undo_run
}

atf_test_case ffsv2_local_made_and_upgraded cleanup
ffsv2_local_made_and_upgraded_head()
{
	atf_set descr "-O 2: an FFSv2 local made, re-seeded and upgraded like itself, checked by NetBSD's kernel and fsck where they are"
	atf_set require.progs setpriv
}
ffsv2_local_made_and_upgraded_body()
{
	user_fixture nb10
	check=$SR_FFSCHECK
	img=$W/local.img
	atf_check -s exit:1 -e match:'-O 3: give an FFS version, 1 or 2' \
	    $as_user "$W/setup-local" -O 3 "$W/root" "$img"
	atf_check -o match:'built from .*: [0-9]+ entries' -e ignore $as_user \
	    "$W/setup-local" -T "$W/templates" -O 2 -h g1 -s 48m "$W/root" "$img"
	atf_check -o match:'File System Type: UFS 2' fsstat "$img"
	atf_check -o inline:'g1\n' icat "$img" "$(ino "$img" etc/myname)"
	if [ -x "$check" ]; then
		atf_check -o match:'reads everything: ok' \
		    -o match:'fsck_ffs -n -f: clean' "$check" -w "$img"
	else
		echo "skipped NetBSD's check: no $check"
	fi
	# A re-seed and an upgrade keep its version and size.
	atf_check -o match:'rebuilt from' -e ignore $as_user \
	    "$W/setup-local" -T "$W/templates" -f -h g2 "$W/root" "$img"
	cp -a "$W/root" "$W/rootB"
	echo '# next' >> "$W/rootB/etc/rc.d/network"
	atf_check -o ignore setup-root "$W/rootB"
	chmod -R go+rX "$W/rootB"
	atf_check -o match:'upgraded' -e ignore $as_user \
	    "$W/setup-local" -u "$W/rootB" "$img"
	atf_check -o match:'File System Type: UFS 2' fsstat "$img"
	atf_check -o inline:'50331648\n' stat -c %s "$img"
	atf_check -o inline:'g2\n' icat "$img" "$(ino "$img" etc/myname)"
	atf_check -o match:'# next' icat "$img" "$(ino "$img" etc/rc.d/network)"
	if [ -x "$check" ]; then
		atf_check -o match:'reads everything: ok' \
		    -o match:'fsck_ffs -n -f: clean' "$check" -w "$img"
	fi
	check_no_build_leftovers "$W"
}
ffsv2_local_made_and_upgraded_cleanup()
{
	undo_run
}

atf_init_test_cases()
{
	atf_add_test_case ffsv2_local_made_and_upgraded
	atf_add_test_case makefs_builds_local_image
	atf_add_test_case makefs_from_ffs_root_image
	atf_add_test_case makefs_existing_image_refused
	atf_add_test_case makefs_failure_leaves_nothing
}
