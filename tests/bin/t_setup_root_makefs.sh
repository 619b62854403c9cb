# setup-root -o as an ordinary user: a prepared FFS root image built from
# NetBSD sets, an FFS image or a directory, without mounting anything,
# and checked with sleuthkit.  As root, the cases drop to nobody.

# as_user, ino and meta_img: see h_common.sh.

# $W: a directory the user owns, with the sample tree (owners kept, as
# root) packed as sets, a kernel, and the tool.
sets_fixture()
{
	# The fixture has NetBSD's owners (root, uid 12345, ...): only root
	# can make it; the cases then run the tools as nobody.
	[ "$(id -u)" = 0 ] || atf_skip "needs root to make a fixture with NetBSD's owners; runs the tools as nobody"
	for p in makefs fls istat icat tar; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	W=$(mktemp -d /tmp/sharedroot-user.XXXXXX)
	undo_add "rm -rf $W"
	chmod 0755 "$W"
	make_root nb10 "$W/tree"
	head -c 3000000 /dev/urandom > "$W/tree/usr/bin/big"
	(cd "$W/tree" && tar --numeric-owner -czf ../base.tgz ./usr ./netbsd \
	    ./dev && tar --numeric-owner -cJf ../etc.txz ./etc ./var ./tmp) ||
	    atf_fail "cannot pack the sets"
	printf 'XEN3_DOMU\n' > "$W/netbsd-XEN3_DOMU"
	chmod 0644 "$W/base.tgz" "$W/etc.txz" "$W/netbsd-XEN3_DOMU"
	# The tools and their data where the user can read them, whatever
	# the mode of the directory this clone is in.
	cp "$SR_SBIN/setup-root" "$SR_SBIN/setup-local" "$W/"
	cp -R "$SR_SHARE" "$W/share"
	chmod -R go+rX "$W/share"
	chmod 0755 "$W/setup-root" "$W/setup-local"
	as_user="$as_user env SHAREDROOT_SHAREDIR=$W/share"
	[ "$(id -u)" = 0 ] && chown 65534 "$W"
	export TMPDIR=$W
}

atf_test_case root_image_from_sets cleanup
root_image_from_sets_head()
{
	atf_set descr "Sets in, a prepared FFS root image out, as a user"
}
root_image_from_sets_body()
{
	sets_fixture
	[ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null &&
	    atf_skip "no setpriv"
	atf_check -o match:'built from 2 sources' $as_user "$W/setup-root" \
	    -k "$W/netbsd-XEN3_DOMU" -o "$W/root.img" "$W/base.tgz" \
	    "$W/etc.txz"
	img=$W/root.img
	atf_check -o match:'UFS' fsstat "$img"
	ffs_check "$img"
	# The kernel, hard-linked as /netbsd; the old one kept.
	atf_check_equal "$(ino "$img" netbsd)" "$(ino "$img" netbsd-XEN3_DOMU)"
	atf_check -o inline:'XEN3_DOMU\n' icat "$img" "$(ino "$img" netbsd)"
	atf_check -o inline:'netbsd kernel\n' \
	    icat "$img" "$(ino "$img" netbsd.orig)"
	# /dev holds only MAKEDEV, whatever the sets had.
	atf_check -o inline:'MAKEDEV\nMAKEDEV.local\n' sh -c \
	    "fls -p $img $(ino "$img" dev) | cut -f2 | sort"
	# The hook, its call, the mount points.
	atf_check -o match:'^\. /etc/rc.pre-hooks$' \
	    icat "$img" "$(ino "$img" etc/rc)"
	atf_check -o match:'^_sr_rdev=/dev/rxbd2a$' \
	    icat "$img" "$(ino "$img" etc/rc.pre-hooks)"
	atf_check_equal '0 0 rw-r--r--' "$(meta_img "$img" etc/rc.pre-hooks)"
	# Edited files keep the sets' owners and modes, not the stager's.
	atf_check_equal '0 0 rw-r--r--' "$(meta_img "$img" etc/rc)"
	for d in emul local usr/pkg; do
		atf_check_equal "$d 0 0 rwxr-xr-x" "$d $(meta_img "$img" $d)"
	done
	# Owners and modes from the sets: set-id bits, numeric owners.
	atf_check_equal '0 0 r-sr-xr-x' "$(meta_img "$img" usr/bin/passwd)"
	atf_check_equal '0 0 r-xr-sr-x' "$(meta_img "$img" usr/sbin/postdrop)"
	atf_check_equal '12345 12345 rw-r--r--' \
	    "$(meta_img "$img" var/log/messages)"
	atf_check_equal '0 0 rwxrwxrwt' "$(meta_img "$img" tmp)"
	atf_check_equal "$(ino "$img" etc/passwd)" \
	    "$(ino "$img" etc/passwd.hardlink)"
	atf_check -o match:'symbolic link to: /usr/share/zoneinfo/UTC' \
	    istat "$img" "$(ino "$img" etc/localtime)"
	atf_check -o match:'mode: crw-rw-rw-' \
	    istat "$img" "$(ino "$img" var/chroot/dev/null)"
	atf_check -o inline:"$(md5sum < "$W/tree/usr/bin/big")\n" sh -c \
	    "icat $img $(ino "$img" usr/bin/big) | md5sum"
	check_no_build_leftovers "$W"

	# And guests from it, still without mounting anything.
	atf_check -o match:'built from' -e ignore $as_user "$W/setup-local" \
	    -h g1 "$img" "$W/g1.img"
	atf_check -o match:'^/dev/xbd2a	/local		ffs	rw' \
	    icat "$W/g1.img" "$(ino "$W/g1.img" etc/fstab)"
	atf_check -s exit:1 -o empty sh -c \
	    "icat $W/g1.img $(ino "$W/g1.img" etc/rc) | grep rc.pre-hooks"
}
root_image_from_sets_cleanup()
{
	undo_run
}

atf_test_case root_image_from_image_and_dir cleanup
root_image_from_image_and_dir_head()
{
	atf_set descr "An FFS image or a directory as the source; -n writes nothing"
}
root_image_from_image_and_dir_body()
{
	sets_fixture
	atf_check -o ignore makefs -t ffs -M 16m "$W/src.img" "$W/tree"
	chmod 0644 "$W/src.img"
	atf_check -o match:'built from 1 source' $as_user "$W/setup-root" \
	    -o "$W/a.img" "$W/src.img"
	atf_check -o match:'^\. /etc/rc.pre-hooks$' \
	    icat "$W/a.img" "$(ino "$W/a.img" etc/rc)"
	atf_check_equal '0 5 rwxr-s---' "$(meta_img "$W/a.img" var/run/sgid-tool)"
	# A directory source, read as it is (the user's own files).
	cp -R "$W/tree" "$W/dirsrc" 2>/dev/null
	chmod -R go+rX "$W/dirsrc"
	atf_check -o match:'built from 1 source' $as_user "$W/setup-root" \
	    -s 32m -o "$W/b.img" "$W/dirsrc"
	atf_check -o inline:'33554432\n' stat -c %s "$W/b.img"
	atf_check -o match:'^\. /etc/rc.pre-hooks$' \
	    icat "$W/b.img" "$(ino "$W/b.img" etc/rc)"
	# The directory's files are the user's: so are the edited ones,
	# and dev/MAKEDEV keeps its own mode, not the stage's.
	atf_check_equal "$(stat -c %u "$W/dirsrc/etc/rc") $(stat -c %g "$W/dirsrc/etc/rc") rw-r--r--" \
	    "$(meta_img "$W/b.img" etc/rc)"
	atf_check_equal "$(stat -c %u "$W/dirsrc/dev/MAKEDEV") $(stat -c %g "$W/dirsrc/dev/MAKEDEV") r-xr-xr-x" \
	    "$(meta_img "$W/b.img" dev/MAKEDEV)"
	# A dry run shows the plan and writes no image.
	atf_check -o match:'^\+\. /etc/rc.pre-hooks$' -o match:'dry run' \
	    $as_user "$W/setup-root" -n -o "$W/c.img" "$W/base.tgz" "$W/etc.txz"
	atf_check test ! -e "$W/c.img"
	check_no_build_leftovers "$W"
}
root_image_from_image_and_dir_cleanup()
{
	undo_run
}

atf_test_case gzipped_kernel cleanup
gzipped_kernel_head()
{
	atf_set descr "-k takes the release's netbsd-XEN3_DOMU.gz as it comes"
}
gzipped_kernel_body()
{
	sets_fixture
	printf 'XEN3_DOMU kernel, uncompressed\n' > "$W/netbsd-XEN3_DOMU"
	gzip -9 "$W/netbsd-XEN3_DOMU"
	chmod 0644 "$W/netbsd-XEN3_DOMU.gz"
	atf_check -o match:'built from' $as_user "$W/setup-root" \
	    -k "$W/netbsd-XEN3_DOMU.gz" -o "$W/root.img" "$W/base.tgz" \
	    "$W/etc.txz"
	img=$W/root.img
	atf_check -o inline:'XEN3_DOMU kernel, uncompressed\n' \
	    icat "$img" "$(ino "$img" netbsd-XEN3_DOMU)"
	atf_check_equal "$(ino "$img" netbsd)" "$(ino "$img" netbsd-XEN3_DOMU)"
	atf_check -s exit:1 -o empty sh -c "fls -r -p $img | grep '\.gz'"
	# A broken one: one line, nothing made.
	printf '\037\213 not really gzip' > "$W/bad.gz"
	chmod 0644 "$W/bad.gz"
	atf_check -s exit:1 -e match:"kernel $W/bad.gz: uncompress" \
	    $as_user "$W/setup-root" -k "$W/bad.gz" -o "$W/new.img" \
	    "$W/base.tgz"
	atf_check test ! -e "$W/new.img"
}
gzipped_kernel_cleanup()
{
	undo_run
}

atf_test_case root_image_bad_sources cleanup
root_image_bad_sources_head()
{
	atf_set descr "Members outside the root, bad sources: one line, nothing left"
}
root_image_bad_sources_body()
{
	sets_fixture
	printf 'x\n' > "$W/x"
	tar -C "$W" -cPf "$W/evil.tar" "$W/x" 2>/dev/null
	chmod 0644 "$W/evil.tar"
	atf_check -s exit:1 -e match:"^setup-root: $W/root.img: $W/evil.tar: .*a name outside the root \(refused\)$" \
	    $as_user "$W/setup-root" -o "$W/root.img" "$W/base.tgz" \
	    "$W/evil.tar"
	atf_check test ! -e "$W/root.img"
	printf 'not an image' > "$W/junk.img"
	chmod 0644 "$W/junk.img"
	atf_check -s exit:1 -e match:"junk.img: neither a directory, a set .* nor an FFS image" \
	    $as_user "$W/setup-root" -o "$W/root.img" "$W/junk.img"
	atf_check -s exit:1 -e match:'nosuch.tgz' \
	    $as_user "$W/setup-root" -o "$W/root.img" "$W/nosuch.tgz"
	atf_check test ! -e "$W/root.img"
	check_no_build_leftovers "$W"
	# An existing image is not replaced by surprise; -f replaces it.
	atf_check -o ignore $as_user "$W/setup-root" -o "$W/root.img" \
	    "$W/base.tgz" "$W/etc.txz"
	sum=$(md5sum < "$W/root.img")
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-root: $W/root.img: exists; -f replaces it (guests running from it keep the old one until they reboot)\n" \
	    $as_user "$W/setup-root" -o "$W/root.img" "$W/base.tgz" \
	    "$W/etc.txz"
	atf_check_equal "$sum" "$(md5sum < "$W/root.img")"
	atf_check -o match:'built from 2 sources' $as_user "$W/setup-root" -f \
	    -k "$W/netbsd-XEN3_DOMU" -o "$W/root.img" "$W/base.tgz" \
	    "$W/etc.txz"
	atf_check test "$sum" != "$(md5sum < "$W/root.img")"
}
root_image_bad_sources_cleanup()
{
	undo_run
}

atf_init_test_cases()
{
	atf_add_test_case root_image_from_sets
	atf_add_test_case root_image_from_image_and_dir
	atf_add_test_case root_image_bad_sources
	atf_add_test_case gzipped_kernel
}
