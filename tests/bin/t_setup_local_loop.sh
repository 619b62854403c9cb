# setup-local as root with images through loop devices: an ext2 root
# mounted, new local images (always FFS, written with makefs), and an old
# ext2 local filled in place.  After each case: no loop device on any
# image, no mount point, no temporary image.

# A prepared ext2 root image, root.img.
root_image()
{
	make_root "$1" tree
	atf_check -o ignore setup-root tree
	make_ext2 tree root.img 32M
}

no_temp_images()
{
	atf_check -o empty find . -maxdepth 1 -name '.*.img.*'
}

atf_test_case creates_local_image cleanup
creates_local_image_head()
{
	atf_set descr "-s makes a sparse FFS local image of that size, from a mounted root"
	atf_set require.user root
}
creates_local_image_body()
{
	require_loop
	command -v fls >/dev/null || atf_skip "sleuthkit is not installed"
	root_image nb10
	atf_check -o match:'built from root.img: [0-9]+ entries' -e ignore \
	    setup-local -h g1 -s 64m root.img local.img
	check_no_leftovers root.img
	check_no_leftovers local.img
	no_temp_images
	atf_check -o inline:'67108864\n' stat -c %s local.img
	atf_check test "$(du -k local.img | cut -f1)" -lt 16384
	# A guest's local disk is FFS, whatever the root is.
	atf_check -o match:'File System Type: UFS 1' fsstat local.img
	# Room to live on: an inode for every 8 KiB, not just the copy's.
	atf_check test "$(fsstat local.img | awk '/^Inode Range:/ { print $5 }')" -gt 8000
	img=local.img
	atf_check -o match:'^/dev/xbd2a	/local		ffs	rw		0 0' \
	    -o match:'^/dev/xbd0a	/		ext2fs	ro		0 0' \
	    icat $img "$(ino $img etc/fstab)"
	atf_check -o inline:'g1\n' icat $img "$(ino $img etc/myname)"
	atf_check_equal '12345 12345 rw-r--r--' "$(meta_img $img var/log/messages)"
	atf_check_equal '0 5 rwxr-s---' "$(meta_img $img var/run/sgid-tool)"
	atf_check_equal '0 0 rwxrwxrwt' "$(meta_img $img tmp)"
	atf_check -o match:'mode: crw-rw-rw-' \
	    istat $img "$(ino $img var/chroot/dev/null)"
	atf_check -s exit:1 -o empty sh -c "fls -r -p $img | grep -E 'ssh_host|sharedroot.stage'"
}
creates_local_image_cleanup()
{
	undo_run
}

atf_test_case existing_image_rerun_force cleanup
existing_image_rerun_force_head()
{
	atf_set descr "An old ext2 local is filled (with a warning); a rerun is refused, -f redoes"
	atf_set require.user root
}
existing_image_rerun_force_body()
{
	require_loop
	root_image nb4
	mkdir empty
	make_ext2 empty local.img 32M
	atf_check -o ignore -e match:'warning: holds ext2: a guest.s rc.pre-hooks mounts its local disk as ffs' \
	    setup-local root.img local.img
	sum=$(md5sum < local.img)
	atf_check -s exit:1 -e match:'^setup-local: local.img: etc: already provisioned' \
	    setup-local root.img local.img
	atf_check -o inline:"$sum\n" sh -c 'md5sum < local.img'
	atf_check -o match:'replaced' -e ignore setup-local -f -h again root.img \
	    local.img
	check_no_leftovers local.img
	check_no_leftovers root.img
	mount_ro local.img m
	atf_check -o inline:'again\n' cat m/etc/myname
	atf_check -o inline:'1\n' grep -c '^wscons=NO$' m/etc/rc.conf
}
existing_image_rerun_force_cleanup()
{
	undo_run
}

atf_test_case failure_removes_new_image
failure_removes_new_image_head()
{
	atf_set descr "A failed run removes the image it created, leaves nothing"
	atf_set require.user root
}
failure_removes_new_image_body()
{
	require_loop
	root_image nb10
	mkdir t
	cp "$SR_SHARE"/templates/* t/
	echo '@BROKEN@' > t/cgd.conf
	atf_check -s exit:1 -e match:'t/cgd.conf:1: unknown variable @BROKEN@' \
	    setup-local -T t -s 32m root.img local.img
	atf_check -o empty find . -maxdepth 1 -name 'sharedroot.*' 
	atf_check test ! -e local.img
	no_temp_images
	check_no_leftovers root.img
	# A local that does not mount: nothing written anywhere.
	dd if=/dev/zero of=zero.img bs=1M count=8 2>/dev/null
	atf_check -s exit:1 \
	    -e inline:'setup-local: zero.img: probe: holds no file system this host recognizes\n' \
	    setup-local root.img zero.img
	atf_check -o inline:'0\n' sh -c 'tr -d "\\000" < zero.img | wc -c'
	check_no_leftovers zero.img
	check_no_leftovers root.img
	# -c with a key file that does not parse: one line, nothing written.
	printf 'params\n' > key
	chmod 0600 key
	atf_check -s exit:1 -e inline:'setup-local: zero.img: key:1: syntax error\n' \
	    setup-local -c key root.img zero.img
	atf_check -o inline:'0\n' sh -c 'tr -d "\\000" < zero.img | wc -c' 
	check_no_leftovers root.img
}

atf_test_case interrupted_runs_leave_nothing cleanup
interrupted_runs_leave_nothing_head()
{
	atf_set descr "Runs killed at any moment leave no image half-made"
	atf_set require.user root
}
interrupted_runs_leave_nothing_body()
{
	require_loop
	command -v icat >/dev/null || atf_skip "sleuthkit is not installed"
	root_image nb10
	for delay in 0.02 0.05 0.1 0.2 0.4; do
		rm -f local.img
		setup-local -q -s 64m root.img local.img 2>/dev/null &
		pid=$!
		sleep $delay
		kill -TERM $pid 2>/dev/null
		wait $pid
		check_no_leftovers root.img
		no_temp_images
		if [ -e local.img ]; then
			# Renamed into place only when complete.
			check_no_leftovers local.img
			atf_check -o match:'^/dev/xbd2a' icat local.img \
			    "$(ino local.img etc/fstab)"
		else
			atf_check -o ignore -e ignore setup-local -q -s 64m \
			    root.img local.img
			check_no_leftovers local.img
		fi
	done
}
interrupted_runs_leave_nothing_cleanup()
{
	undo_run
}

atf_init_test_cases()
{
	atf_add_test_case creates_local_image
	atf_add_test_case existing_image_rerun_force
	atf_add_test_case failure_removes_new_image
	atf_add_test_case interrupted_runs_leave_nothing
}
