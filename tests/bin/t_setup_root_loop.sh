# setup-root on ext2 images through loop devices (root only).  After each
# case: no loop device on the image and no mount point left.

atf_test_case loop_prepares_image cleanup
loop_prepares_image_head()
{
	atf_set descr "An ext2 image is prepared, then unmounted and detached"
	atf_set require.user root
}
loop_prepares_image_body()
{
	require_loop
	make_root nb4 tree
	make_ext2 tree root.img
	printf 'XEN3_DOMU\n' > kern
	atf_check -o match:prepared setup-root -k kern root.img
	check_no_leftovers root.img
	mount_ro root.img m
	atf_check -o inline:'MAKEDEV\nMAKEDEV.local\nMAKEDEV.orig\n' ls m/dev
	atf_check -o match:'^\. /etc/rc.pre-hooks$' cat m/etc/rc
	atf_check -o inline:'XEN3_DOMU\n' cat m/netbsd
	atf_check -o inline:'0 0 644\n' stat -c '%u %g %a' m/etc/rc.pre-hooks
	atf_check -o inline:'directory\n' stat -c %F m/usr/pkg
}
loop_prepares_image_cleanup()
{
	undo_run
}

atf_test_case loop_rerun_and_dry_run cleanup
loop_rerun_and_dry_run_head()
{
	atf_set descr "A rerun and a dry run change nothing in the image's tree"
	atf_set require.user root
}
loop_rerun_and_dry_run_body()
{
	require_loop
	make_root nb10 tree
	make_ext2 tree root.img
	atf_check -o ignore setup-root root.img
	mount_ro root.img m
	digest m > before
	umount m
	: > undo
	atf_check -o match:'already prepared' setup-root root.img
	atf_check -o match:'already prepared' setup-root -n root.img
	check_no_leftovers root.img
	mount_ro root.img m
	digest m > after
	atf_check cmp before after
}
loop_rerun_and_dry_run_cleanup()
{
	undo_run
}

atf_test_case loop_dry_run_on_fresh_image cleanup
loop_dry_run_on_fresh_image_head()
{
	atf_set descr "-n on an unprepared image shows the changes, writes nothing"
	atf_set require.user root
}
loop_dry_run_on_fresh_image_body()
{
	require_loop
	make_root nb4 tree
	make_ext2 tree root.img
	# A read-only attach: the image file itself is not written at all.
	sum=$(md5sum < root.img)
	atf_check -o match:'^\+\. /etc/rc.pre-hooks$' setup-root -n root.img
	atf_check -o inline:"$sum\n" sh -c 'md5sum < root.img'
	check_no_leftovers root.img
}
loop_dry_run_on_fresh_image_cleanup()
{
	undo_run
}

atf_test_case loop_bad_images
loop_bad_images_head()
{
	atf_set descr "No file system, read-only file: one line, nothing left"
	atf_set require.user root
}
loop_bad_images_body()
{
	require_loop
	dd if=/dev/zero of=zero.img bs=1M count=4 2>/dev/null
	atf_check -s exit:1 \
	    -e inline:'setup-root: zero.img: probe: holds no file system this host recognizes\n' \
	    setup-root zero.img
	check_no_leftovers zero.img
	make_root nb4 tree
	make_ext2 tree ro.img
	chmod 0444 ro.img
	sum=$(md5sum < ro.img)
	atf_check -s exit:1 \
	    -e inline:'setup-root: ro.img: open: image file is read-only (mode 0444)\n' \
	    setup-root ro.img
	atf_check -o inline:"$sum\n" sh -c 'md5sum < ro.img'
	# The hook cannot be placed: nothing in the image changes.
	make_root nb4 t2
	printf '#!/bin/sh\necho no subr\n' > t2/etc/rc
	make_ext2 t2 norc.img
	atf_check -s exit:1 \
	    -e inline:'setup-root: norc.img: etc/rc: cannot find where rc.subr is loaded\n' \
	    setup-root norc.img
	check_no_leftovers norc.img
}

atf_test_case loop_in_use_refused cleanup
loop_in_use_refused_head()
{
	atf_set descr "An image already on a loop device, or locked, is refused"
	atf_set require.user root
}
loop_in_use_refused_body()
{
	require_loop
	make_root nb4 tree
	make_ext2 tree root.img
	dev=$(losetup -f --show root.img)
	undo_add "losetup -d $dev"
	atf_check -s exit:1 \
	    -e inline:"setup-root: root.img: attach: already attached to $dev (in use; detach it first)\n" \
	    setup-root root.img
	losetup -d "$dev"
	hold_lock root.img
	atf_check -s exit:1 \
	    -e inline:"setup-root: root.img: in use: h_lock (pid $holder) is changing it\n" \
	    setup-root root.img
	kill $holder
	check_no_leftovers root.img
}
loop_in_use_refused_cleanup()
{
	undo_run
}

atf_test_case loop_interrupted_runs cleanup
loop_interrupted_runs_head()
{
	atf_set descr "Runs killed at any moment leave nothing; a rerun completes"
	atf_set require.user root
}
loop_interrupted_runs_body()
{
	require_loop
	make_root nb4 tree
	# A kernel big enough that some signals land mid-copy.
	dd if=/dev/urandom of=kern bs=1M count=24 2>/dev/null
	make_ext2 tree ref.img 64M
	atf_check -o ignore setup-root -k kern ref.img
	mount_ro ref.img r
	digest r | grep -v lost+found > want
	for delay in 0.01 0.03 0.06 0.1 0.2; do
		make_ext2 tree root.img 64M
		for sig in TERM INT HUP; do
			setup-root -q -k kern root.img 2>/dev/null &
			pid=$!
			sleep $delay
			kill -$sig $pid 2>/dev/null
			wait $pid
			check_no_leftovers root.img
		done
		atf_check -o ignore setup-root -k kern root.img
		check_no_leftovers root.img
		mount_ro root.img m
		digest m | grep -v lost+found > got
		umount m
		atf_check cmp want got
	done
}
loop_interrupted_runs_cleanup()
{
	undo_run
}

atf_init_test_cases()
{
	atf_add_test_case loop_prepares_image
	atf_add_test_case loop_rerun_and_dry_run
	atf_add_test_case loop_dry_run_on_fresh_image
	atf_add_test_case loop_bad_images
	atf_add_test_case loop_in_use_refused
	atf_add_test_case loop_interrupted_runs
}
