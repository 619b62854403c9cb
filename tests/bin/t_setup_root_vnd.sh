# The NetBSD back end (vndconfig, mount, umount), run on this host with
# recording stubs first in PATH.  The mount stub copies a staged tree into
# the mount point and umount copies it back out, so the whole run happens.
# Nothing is attached or mounted: an ordinary user runs these cases too,
# the tools run as root of a user namespace of the user's own ($asroot,
# unshare -r: no privilege), since only as root do they attach images.

vnd_stubs()
{
	here=$(pwd)
	mkdir -p stubs out
	cat > stubs/vndconfig <<STUB
#!/bin/sh
echo "vndconfig \$*" >> $here/log
if [ "\$1" = -l ]; then
	printf '%s' "\$VND_LIST"
fi
exit \${VND_RC:-0}
STUB
	cat > stubs/mount <<STUB
#!/bin/sh
echo "mount \$*" >> $here/log
[ -z "\$MOUNT_RC" ] || exit \$MOUNT_RC
[ "\$1" != -u ] || exit 0
for last; do :; done
cp -a $here/tree/. "\$last"/
[ -z "\$MOUNT_KILL" ] || kill -TERM \$PPID
exit 0
STUB
	cat > stubs/umount <<STUB
#!/bin/sh
echo "umount \$*" >> $here/log
cp -a "\$1"/. $here/out/ && find "\$1" -mindepth 1 -delete
STUB
	chmod +x stubs/*
	export PATH=$here/stubs:$PATH SHAREDROOT_ATTACH=vnd
	asroot=
	if [ "$(id -u)" != 0 ]; then
		unshare -r true 2>/dev/null || atf_skip "needs root, or a user" \
		    "namespace (unshare -r) to run the tools as its root"
		asroot="unshare -r"
	fi
	export VND_LIST='vnd0: /other.img (/dev/wd0a) inode 12
vnd1: not in use
vnd2: not in use
'
	make_root nb4 tree
	: > root.img
	: > log
}

atf_test_case vnd_command_lines
vnd_command_lines_head()
{
	atf_set descr "Attach, mount, unmount and detach with exact commands"
}
vnd_command_lines_body()
{
	vnd_stubs
	atf_check -o match:prepared $asroot setup-root root.img
	mnt=$(sed -n 's/^umount //p' log)
	atf_check -o inline:"vndconfig -l
vndconfig -l
vndconfig vnd1 root.img
mount -o nodev,nosuid,noexec /dev/vnd1a $mnt
umount $mnt
vndconfig -u vnd1
" cat log
	atf_check -o match:'^\. /etc/rc.pre-hooks$' cat out/etc/rc
	atf_check -o inline:'MAKEDEV\nMAKEDEV.local\nMAKEDEV.orig\n' ls out/dev
	atf_check test ! -e "$mnt"
}

atf_test_case vnd_dry_run_read_only
vnd_dry_run_read_only_head()
{
	atf_set descr "-n attaches with vndconfig -r and mounts with -r"
}
vnd_dry_run_read_only_body()
{
	vnd_stubs
	atf_check -o match:'dry run' $asroot setup-root -n root.img
	atf_check -o match:'^vndconfig -r vnd1 root.img$' cat log
	atf_check -o match:'^mount -r -o nodev,nosuid,noexec /dev/vnd1a ' cat log
	atf_check cmp tree/etc/rc out/etc/rc
}

atf_test_case vnd_in_use_refused
vnd_in_use_refused_head()
{
	atf_set descr "An image a vnd already holds is refused, nothing run"
}
vnd_in_use_refused_body()
{
	vnd_stubs
	export VND_LIST="vnd0: $(pwd)/root.img (/dev/wd0a) inode $(stat -c %i root.img)
vnd1: not in use
"
	atf_check -s exit:1 \
	    -e inline:"setup-root: $(pwd)/root.img: attach: already attached to vnd0 (in use; detach it first)\n" \
	    $asroot setup-root "$(pwd)/root.img"
	atf_check -o inline:'vndconfig -l\n' cat log
}

atf_test_case vnd_mount_failure_detaches
vnd_mount_failure_detaches_head()
{
	atf_set descr "A failed mount detaches the vnd and removes the mount point"
}
vnd_mount_failure_detaches_body()
{
	vnd_stubs
	export MOUNT_RC=1
	atf_check -s exit:1 -e match:'^setup-root: root.img: mount /dev/vnd1a: mount: exited with status 1' \
	    $asroot setup-root root.img
	atf_check -o match:'^vndconfig -u vnd1$' tail -n 1 log
	atf_check -o not-match:umount cat log
	check_no_leftovers
}

atf_test_case vnd_interrupted_unwinds
vnd_interrupted_unwinds_head()
{
	atf_set descr "SIGTERM after mounting: unmounted, detached, nothing written"
}
vnd_interrupted_unwinds_body()
{
	vnd_stubs
	export MOUNT_KILL=1
	atf_check -s exit:1 -e match:'interrupted by signal 15' \
	    $asroot setup-root root.img
	atf_check -o match:'^umount ' cat log
	atf_check -o match:'^vndconfig -u vnd1$' tail -n 1 log
	atf_check cmp tree/etc/rc out/etc/rc
	check_no_leftovers
}

atf_test_case vnd_setup_local_cgd
vnd_setup_local_cgd_head()
{
	atf_set descr "setup-local -c: vnd, then cgdconfig, then mount cgd"
}
vnd_setup_local_cgd_body()
{
	vnd_stubs
	cat > stubs/cgdconfig <<STUB
#!/bin/sh
echo "cgdconfig \$*" >> $here/log
[ "\$1" != -l ] || printf 'cgd0: /dev/vnd0a\ncgd1: not in use\n'
STUB
	chmod +x stubs/cgdconfig
	rm -rf tree
	mkdir tree
	make_root nb10 root
	# Recorded as the tools see it (an ordinary user's files are root's
	# in the namespace).
	atf_check -o ignore $asroot setup-root root
	printf 'params\n' > key
	chmod 0600 key
	: > local.img
	atf_check -o match:provisioned $asroot setup-local -c key root \
	    local.img
	mnt=$(sed -n 's/^umount //p' log)
	atf_check -o inline:"vndconfig -l
vndconfig -l
vndconfig vnd1 local.img
cgdconfig -l
cgdconfig cgd1 /dev/vnd1a key
mount -r -o nodev,nosuid,noexec /dev/cgd1a $mnt
mount -u -w $mnt
umount $mnt
cgdconfig -u cgd1
vndconfig -u vnd1
" cat log
	atf_check -o match:'^/dev/xbd2a' cat out/etc/fstab
	check_no_leftovers
}

# nb_disk_stubs: vndconfig(8), cgdconfig(8), newfs(8), mount(8) and
# umount(8) as NetBSD's manuals describe them, keeping their state in
# disks.state: "vndN IMAGE" configured, "cgdN /dev/vndNa" configured on a
# vnd, "fs DEV" a file system made on it, "mnt DIR DEV" mounted.  A vnd
# with a cgd on it, or either mounted, is busy (EBUSY); a vnd under a
# cgd holds ciphertext, so neither newfs nor mount may use it directly.
# What a mounted image holds is trees/IMAGE, copied in and out.
nb_disk_stubs()
{
	here=$(pwd)
	mkdir -p stubs trees
	st=$here/disks.state
	: > "$st"
	cat > stubs/nbdisk <<STUB
#!/bin/sh
# The state's lookups: which vnd or cgd a device is, and what is on it.
st=$st
busy() { echo "\$1: Device busy" >&2; exit 1; }
unit() { u=\${1#/dev/}; u=\${u#r}; echo \${u%a}; }
has() { grep -q "^\$*\$" \$st; }
under() { awk -v d=/dev/\$1a '\$2 == d { print \$1 }' \$st; }
image() { awk -v u=\$1 '\$1 == u { print \$2 }' \$st; }
cmd=\${0##*/}
echo "\$cmd \$*" >> $here/log
case \$cmd in
vndconfig)
	case \$1 in
	-l)	for n in 0 1 2; do i=\$(image vnd\$n)
		[ -n "\$i" ] && echo "vnd\$n: \$i (/dev/wd0a) inode 1" ||
		    echo "vnd\$n: not in use"; done ;;
	-u)	[ -z "\$(under \$2)" ] || busy \$2
		grep -q " /dev/\$2a\$" \$st && busy \$2
		grep -v "^\$2 " \$st > \$st.t; mv \$st.t \$st ;;
	-r)	echo "\$2 \$3" >> \$st ;;
	*)	echo "\$1 \$2" >> \$st ;;
	esac ;;
cgdconfig)
	case \$1 in
	-l)	for n in 0 1; do d=\$(image cgd\$n)
		[ -n "\$d" ] && echo "cgd\$n: \$d" ||
		    echo "cgd\$n: not in use"; done ;;
	-u)	grep -q " /dev/\$2a\$" \$st && busy \$2
		grep -v "^\$2 " \$st > \$st.t; mv \$st.t \$st ;;
	*)	[ -n "\$(image \$(unit \$2))" ] ||
		    { echo "cgdconfig: \$2: not configured" >&2; exit 1; }
		[ -f "\$3" ] || { echo "cgdconfig: \$3: no params" >&2; exit 1; }
		echo "\$1 \$2" >> \$st ;;
	esac ;;
newfs)	u=\$(unit \$1)
	[ -n "\$(image \$u)" ] || { echo "newfs: \$1: not configured" >&2;
	    exit 1; }
	[ -z "\$(under \$u)" ] || { echo "newfs: \$1: under a cgd" >&2;
	    exit 1; }
	echo "fs \$u" >> \$st ;;
mount)	[ "\$1" != -u ] || exit 0
	for last; do :; done
	for a; do case \$a in /dev/*) dev=\$a ;; esac; done
	u=\$(unit \$dev)
	[ -z "\$(under \$u)" ] || { echo "mount: \$dev: ciphertext" >&2;
	    exit 1; }
	v=\$u
	case \$u in cgd*) v=\$(unit \$(image \$u)) ;; esac
	img=\$(image \$v); img=\${img##*/}
	[ -d $here/trees/\$img ] || has "fs \$u" ||
	    { echo "mount: \$dev: no file system" >&2; exit 1; }
	mkdir -p $here/trees/\$img
	cp -a $here/trees/\$img/. "\$last"/
	echo "mnt \$last \$u \$img" >> \$st ;;
umount)	img=\$(awk -v m="\$1" '\$1 == "mnt" && \$2 == m { print \$4 }' \$st)
	rm -rf $here/trees/\$img && mkdir $here/trees/\$img &&
	    cp -a "\$1"/. $here/trees/\$img/ && find "\$1" -mindepth 1 -delete
	grep -v "^mnt \$1 " \$st > \$st.t; mv \$st.t \$st ;;
esac
STUB
	chmod +x stubs/nbdisk
	for c in vndconfig cgdconfig newfs mount umount; do
		ln -s nbdisk stubs/$c
	done
	export PATH=$here/stubs:$PATH SHAREDROOT_ATTACH=vnd
}

atf_test_case vnd_create_cgd
vnd_create_cgd_head()
{
	atf_set descr "setup-local -c -s: a new image's file system is made" \
	    "on the cgd over its vnd, mounted from it, all undone in reverse"
	atf_set require.user root
}
vnd_create_cgd_body()
{
	nb_disk_stubs
	make_root nb10 root
	atf_check -o ignore setup-root root
	printf 'params\n' > key
	chmod 0600 key
	atf_check -o match:provisioned setup-local -z -c key -s 8m root \
	    new.img
	# Made: the image in place, its tree provisioned through the cgd.
	atf_check test -f new.img
	atf_check -o match:'^/dev/xbd2a' cat trees/.new.img.*/etc/fstab
	atf_check -o inline:"fs cgd0\n" cat disks.state
	atf_check -o match:'^newfs /dev/rcgd0a$' cat log
	check_no_leftovers
}

atf_init_test_cases()
{
	atf_add_test_case vnd_create_cgd
	atf_add_test_case vnd_setup_local_cgd
	atf_add_test_case vnd_command_lines
	atf_add_test_case vnd_dry_run_read_only
	atf_add_test_case vnd_in_use_refused
	atf_add_test_case vnd_mount_failure_detaches
	atf_add_test_case vnd_interrupted_unwinds
}
