# setup-root on directory targets: what it changes, and what it refuses.

atf_test_case prepares_4x_root
prepares_4x_root_head()
{
	atf_set descr "A 4.x root gets kernel, /dev, mount points and hook"
}
prepares_4x_root_body()
{
	make_root nb4 root
	printf 'XEN3_DOMU kernel\n' > netbsd-XEN3_DOMU
	atf_check -o match:'prepared' setup-root -k netbsd-XEN3_DOMU root

	atf_check -o inline:'XEN3_DOMU kernel\n' cat root/netbsd-XEN3_DOMU
	atf_check -o inline:"$(stat -c %i root/netbsd-XEN3_DOMU)\n" \
	    stat -c %i root/netbsd
	atf_check -o inline:'netbsd kernel\n' cat root/netbsd.orig
	atf_check -o inline:'MAKEDEV\nMAKEDEV.local\nMAKEDEV.orig\n' ls root/dev
	atf_check -o match:'^	makedev xbd0 xbd1 xbd2 xbd3 xbd4 xencons$' \
	    cat root/dev/MAKEDEV
	atf_check -o match:'^	makedev vnd0$' cat root/dev/MAKEDEV
	atf_check -o inline:'555\n' stat -c %a root/dev/MAKEDEV
	atf_check cmp "$SR_DATA/nb4/MAKEDEV" root/dev/MAKEDEV.orig
	for d in emul local usr/pkg; do
		atf_check -o inline:'directory 755\n' stat -c '%F %a' root/$d
	done
	atf_check -o match:'^_sr_rdev=/dev/rxbd2a$' cat root/etc/rc.pre-hooks
	atf_check -o match:'^_sr_dev=/dev/xbd2a$' cat root/etc/rc.pre-hooks
	atf_check -o inline:'644\n' stat -c %a root/etc/rc.pre-hooks
	atf_check cmp "$SR_DATA/nb4/rc" root/etc/rc.orig
	hook=$(grep -n '^\. /etc/rc.pre-hooks$' root/etc/rc | cut -d: -f1)
	subr=$(grep -n '^\. /etc/rc.subr$' root/etc/rc | cut -d: -f1)
	atf_check test "$hook" -lt "$subr"
	check_no_leftovers
}

atf_test_case prepares_today_root
prepares_today_root_head()
{
	atf_set descr "Today's MAKEDEV is left alone; the hook goes before if"
}
prepares_today_root_body()
{
	make_root nb10 root
	atf_check -o match:'no kernel given' -o match:'prepared' \
	    setup-root root
	atf_check cmp "$SR_DATA/nb10/MAKEDEV" root/dev/MAKEDEV
	atf_check test ! -e root/dev/MAKEDEV.orig
	atf_check -o inline:'MAKEDEV\nMAKEDEV.local\n' ls root/dev
	atf_check -o inline:'netbsd kernel\n' cat root/netbsd
	hook=$(grep -n '^\. /etc/rc.pre-hooks$' root/etc/rc | cut -d: -f1)
	ifl=$(grep -n '^if \[ -e ./rc.subr \] ; then$' root/etc/rc | cut -d: -f1)
	atf_check test "$((hook + 2))" -eq "$ifl"
	atf_check -o inline:'1\n' grep -c 'rc.pre-hooks' root/etc/rc
}

atf_test_case second_run_changes_nothing
second_run_changes_nothing_head()
{
	atf_set descr "A rerun says the root is prepared and changes nothing"
}
second_run_changes_nothing_body()
{
	make_root nb4 root
	printf 'k\n' > kern
	atf_check -o ignore setup-root -k kern root
	digest root > before
	atf_check -o match:'already prepared; nothing changed' \
	    setup-root -k kern root
	digest root > after
	atf_check cmp before after
}

atf_test_case dry_run_writes_nothing
dry_run_writes_nothing_head()
{
	atf_set descr "-n prints diffs and paths and leaves the tree as it was"
}
dry_run_writes_nothing_body()
{
	make_root nb4 root
	printf 'k\n' > kern
	digest root > before
	atf_check -o save:out setup-root -n -k kern root
	digest root > after
	atf_check cmp before after
	atf_check -o match:'^\+\+\+ b/etc/rc$' cat out
	atf_check -o match:'^\+\. /etc/rc.pre-hooks$' cat out
	atf_check -o match:'^--- /dev/null$' cat out
	atf_check -o match:'^\+	makedev xbd0 xbd1 xbd2 xbd3 xbd4 xencons$' \
	    cat out
	atf_check -o match:'^remove dev/wd0a$' cat out
	atf_check -o match:'^remove dev/root$' cat out
	atf_check -o match:'^create local/$' cat out
	atf_check -o match:'^install kern from kern$' cat out
	atf_check -o match:'^link netbsd to kern$' cat out
	atf_check -o match:'dry run: [0-9]+ changes; nothing written' cat out
	# A backslash in the hook is shown as one backslash, not two.
	atf_check -o match:'^\+	echo "rc.pre-hooks: cannot set up this guest.s local disk;" \\$' \
	    cat out
	atf_check -s exit:1 -o empty grep -F '\\' out
	# -q: nothing but errors, the plan too; still nothing written.
	atf_check -o empty -e empty setup-root -q -n -k kern root
	digest root > after
	atf_check cmp before after
}

atf_test_case untrusted_text_encoded
untrusted_text_encoded_head()
{
	atf_set descr "Names and text from an image cannot drive the terminal"
}
untrusted_text_encoded_body()
{
	make_root nb4 root
	esc=$(printf '\033')
	: > "root/dev/$(printf 'evil\033[2Jname\rx')"
	printf '. /etc/rc.subr\n. /etc/rc.conf\necho "\033]0;pwned\007"\n' \
	    > root/etc/rc
	atf_check -o save:out setup-root -n root
	atf_check -s exit:1 -o inline:'0\n' grep -c "$esc" out
	atf_check -s exit:1 -o inline:'0\n' grep -c "$(printf '\r')" out
	atf_check -o match:'^remove dev/evil\\033\[2Jname\\rx$' cat out
	atf_check -o match:'^ echo "\\033\]0;pwned\\a"$' cat out
	# An error naming such a path is still one line.
	rm -rf root/dev
	mkdir -p "root/$(printf 'a\nb')"
	ln -s "$(printf 'a\nb')" root/dev
	atf_check -s exit:1 -e save:err setup-root root
	atf_check -o inline:'1\n' sh -c 'wc -l < err'
}

atf_test_case nul_in_text_hides_nothing
nul_in_text_hides_nothing_head()
{
	atf_set descr "A NUL in an image's file is shown encoded, and the" \
	    "rest of the dry run after it is still printed"
}
nul_in_text_hides_nothing_body()
{
	make_root nb4 root
	# A NUL in a line of MAKEDEV the diff shows as context.
	perl -pi -e 's/^\tmakedev bpf$/\tmakedev bpf\0x/' root/dev/MAKEDEV
	atf_check -o save:out setup-root -n root
	atf_check -o match:'^ 	makedev bpf\\0x$' cat out
	# What the plan says after that diff is there too.
	atf_check -o match:'^\+	makedev xbd0 xbd1 xbd2 xbd3 xbd4 xencons$' \
	    cat out
	atf_check -o match:'^remove dev/wd0a$' cat out
	atf_check -o match:'^\+\. /etc/rc.pre-hooks$' cat out
}

atf_test_case local_device_option
local_device_option_head()
{
	atf_set descr "-l names the local disk's raw device in the hook"
}
local_device_option_body()
{
	make_root nb10 root
	atf_check -o ignore setup-root -l /dev/rxbd5a root
	atf_check -o match:'^_sr_rdev=/dev/rxbd5a$' cat root/etc/rc.pre-hooks
	atf_check -o match:'^_sr_dev=/dev/xbd5a$' cat root/etc/rc.pre-hooks
	# Changing it rewrites the hook, once.
	atf_check -o ignore setup-root -l /dev/rxbd2a root
	atf_check -o match:'^_sr_rdev=/dev/rxbd2a$' cat root/etc/rc.pre-hooks
	atf_check -o inline:'1\n' grep -c 'rc.pre-hooks' root/etc/rc
}

atf_test_case local_device_refused
local_device_refused_head()
{
	atf_set descr "A -l that is not a plain raw device is refused"
}
local_device_refused_body()
{
	make_root nb10 root
	digest root > before
	for bad in /dev/xbd2a 'rxbd2a' '/dev/r$(reboot)' '/dev/r../../x' \
	    '/dev/r' '/dev/rxbd2a;x'; do
		atf_check -s exit:1 -e match:'give the local disk.s raw device' \
		    setup-root -l "$bad" root
	done
	digest root > after
	atf_check cmp before after
}

atf_test_case bad_input_one_line
bad_input_one_line_head()
{
	atf_set descr "Bad input: one line naming image, path and step; exit 1"
}
bad_input_one_line_body()
{
	atf_check -s exit:1 -e inline:'setup-root: nonexistent: open: No such file or directory\n' \
	    setup-root nonexistent
	mkdir empty
	atf_check -s exit:1 \
	    -e inline:'setup-root: empty: etc/rc: not found; not a NetBSD root\n' \
	    setup-root empty
	atf_check -s exit:1 -e match:'^usage: setup-root \[-fnqv\] \[-k kernel\] \[-l local-device\] \[-p partition\] target$' \
	    setup-root -x empty
	atf_check -s exit:1 -e match:'^usage:' setup-root
	make_root nb4 root
	digest root > before
	atf_check -s exit:1 \
	    -e inline:'setup-root: root: kernel nokernel: No such file or directory\n' \
	    setup-root -k nokernel root
	digest root > after
	atf_check cmp before after
	printf '#!/bin/sh\n. /etc/rc.conf\nrun\n' > root/etc/rc
	digest root > before
	atf_check -s exit:1 \
	    -e inline:'setup-root: root: etc/rc: cannot find where rc.subr is loaded\n' \
	    setup-root root
	digest root > after
	atf_check cmp before after
	mkfifo fifo
	atf_check -s exit:1 -e match:'not a regular file or a directory' \
	    setup-root fifo
}

atf_test_case unknown_makedev
unknown_makedev_head()
{
	atf_set descr "An unknown MAKEDEV is refused, or left alone with -f"
}
unknown_makedev_body()
{
	make_root nb4 root
	# (MAKEDEV is mode 0555: replaced, not written through.)
	rm -f root/dev/MAKEDEV
	printf '#!/bin/sh\ncase $1 in\nall) ;;\nesac\n' > root/dev/MAKEDEV
	digest root > before
	atf_check -s exit:1 \
	    -e inline:'setup-root: root: dev/MAKEDEV: no init) case; unknown MAKEDEV shape (-f leaves it as it is)\n' \
	    setup-root root
	digest root > after
	atf_check cmp before after
	atf_check -o match:prepared -e match:'warning: .*left as it is' \
	    setup-root -f root
	atf_check -o inline:'#!/bin/sh\ncase $1 in\nall) ;;\nesac\n' \
	    cat root/dev/MAKEDEV
	atf_check -o inline:'MAKEDEV\nMAKEDEV.local\n' ls root/dev
}

atf_test_case hostile_symlinks
hostile_symlinks_head()
{
	atf_set descr "Symlinks to host paths never make the tool leave the tree"
}
hostile_symlinks_body()
{
	mkdir host
	echo secret > host/file
	mkdir host/dir
	echo keep > host/dir/node
	here=$(pwd)

	# dev pointing at a host directory: refused, host intact.
	make_root nb4 r1
	rm -rf r1/dev
	ln -s "$here/host/dir" r1/dev
	atf_check -s exit:1 -e match:'r1: dev/MAKEDEV: .*symbolic link' \
	    setup-root r1
	atf_check -o inline:'keep\n' cat host/dir/node

	# etc/rc linking to a host file: refused, host file intact.
	make_root nb4 r2
	rm r2/etc/rc
	ln -s "$here/host/file" r2/etc/rc
	atf_check -s exit:1 -e match:'r2: etc/rc: .*symbolic link' \
	    setup-root r2
	atf_check -o inline:'secret\n' cat host/file
	atf_check test ! -e r2/etc/rc.pre-hooks

	# netbsd climbing out: the link is replaced, never written through.
	make_root nb10 r3
	rm r3/netbsd
	ln -s ../../../../../../../../../../"$here"/host/file r3/netbsd
	printf 'kernel\n' > kern
	atf_check -o ignore setup-root -k kern r3
	atf_check -o inline:'secret\n' cat host/file
	atf_check -o inline:'regular file\n' stat -c %F r3/netbsd
	atf_check -o inline:'kernel\n' cat r3/netbsd

	# a mount point that is a link to the host: refused.
	make_root nb10 r4
	ln -s "$here/host/dir" r4/local
	atf_check -s exit:1 -e match:'r4: local: mount point exists and is not a directory' \
	    setup-root r4
	atf_check -o inline:'node\n' ls host/dir

	# dev/pts linking out: the link is removed, not what it points at.
	make_root nb10 r5
	rm -rf r5/dev/pts
	ln -s "$here/host/dir" r5/dev/pts
	atf_check -o ignore setup-root r5
	atf_check -o inline:'keep\n' cat host/dir/node
}

atf_test_case locked_target_refused cleanup
locked_target_refused_head()
{
	atf_set descr "A target another run holds is refused, naming it; a lock left by a killed run does not block"
}
locked_target_refused_body()
{
	make_root nb10 root
	digest root > before
	hold_lock root
	atf_check -s exit:1 \
	    -e inline:"setup-root: root: in use: h_lock (pid $holder) is changing it\n" \
	    setup-root root
	atf_check -s exit:1 \
	    -e inline:"setup-root: root: in use: h_lock (pid $holder) is changing it\n" \
	    setup-root -n root
	kill -9 $holder
	wait $holder
	# A reader (setup-local, as h_lock -s) blocks changes, not reads.
	hold_lock -s root
	atf_check -s exit:1 \
	    -e inline:"setup-root: root: in use: h_lock (pid $holder) is reading it\n" \
	    setup-root root
	atf_check -o ignore setup-root -n root
	digest root > after
	atf_check cmp before after
	# Killed outright, it leaves its lock file, which blocks nothing.
	kill -9 $holder
	wait $holder
	atf_check test -f .root.lock
	atf_check -o ignore setup-root root
	atf_check test ! -e .root.lock
}
locked_target_refused_cleanup()
{
	undo_run
}

atf_test_case verbose_reports_steps
verbose_reports_steps_head()
{
	atf_set descr "-v reports every step; -q says nothing"
}
verbose_reports_steps_body()
{
	make_root nb4 root
	# As root the sample has more device nodes than as a user.
	n=$(ls root/dev | grep -vc MAKEDEV)
	atf_check -o save:out setup-root -v root
	for m in 'dev/MAKEDEV: init) to make' "dev: $n entries to remove" \
	    'emul, local, usr/pkg: mount points to be made' \
	    'etc/rc.pre-hooks: to be installed' \
	    'etc/rc: to source rc.pre-hooks' 'etc/rc: edited' \
	    'dev/wd0a: removed' 'local: directory made'; do
		atf_check -o match:"$m" cat out
	done
	atf_check -o save:out2 setup-root -v root
	atf_check -o match:'dev/MAKEDEV: already patched' cat out2
	atf_check -o match:'etc/rc: already sources rc.pre-hooks' cat out2
	make_root nb10 q
	atf_check -o empty -e empty setup-root -q q
}

atf_test_case ordinary_user_image cleanup
ordinary_user_image_head()
{
	atf_set descr "An ordinary user naming an image gets one line"
	atf_set require.user root
	atf_set require.progs setpriv
}
ordinary_user_image_body()
{
	d=$(mktemp -d /tmp/sharedroot-user.XXXXXX)
	undo_add "rm -rf $d"
	chmod 0755 "$d"
	printf 'x' > "$d/root.img"
	chmod 0666 "$d/root.img"
	# The tool where the user can run it, whatever this clone's mode.
	cp "$SR_SBIN/setup-root" "$d/setup-root"
	chmod 0755 "$d/setup-root"
	atf_check -s exit:1 \
	    -e inline:"setup-root: $d/root.img: not an FFS image; mounting it needs root (setup-root -o builds a prepared root.img from sets without)\n" \
	    setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$d/setup-root" "$d/root.img"
	atf_check -o inline:'x' cat "$d/root.img"
	# A set given as the target is named as such.
	printf 'x' > "$d/base.tgz"
	chmod 0666 "$d/base.tgz"
	atf_check -s exit:1 \
	    -e inline:"setup-root: $d/base.tgz: a set archive, not an image; mounting it needs root (setup-root -o builds a prepared root.img from sets without)\n" \
	    setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$d/setup-root" "$d/base.tgz"
}
ordinary_user_image_cleanup()
{
	undo_run
}

atf_test_case identity_recorded
identity_recorded_head()
{
	atf_set descr "The root's identity: recorded, kept, and recorded again when etc changes"
}
identity_recorded_body()
{
	make_root nb10 root
	atf_check -o match:'recording the root.s identity' setup-root -v root
	atf_check -o match:'^[0-9a-f]{64}$' cat root/.sharedroot/id
	id=$(cat root/.sharedroot/id)
	# The manifest it digests: what guests copy, no guest's secrets.
	atf_check -o match:'^etc/rc f 0644 ' -o match:'^var/spool/lock/fifo p ' \
	    -o match:'^etc/localtime l - [0-9]* [0-9]* /usr/share/zoneinfo/UTC$' \
	    cat root/.sharedroot/manifest
	atf_check -s exit:1 -o empty grep -E 'ssh_host|entropy-file|^usr/|^dev/' \
	    root/.sharedroot/manifest
	atf_check_equal "$id" "$(sha256sum < root/.sharedroot/manifest | cut -c1-64)"
	atf_check -o match:'already prepared; nothing changed' setup-root root
	atf_check_equal "$id" "$(cat root/.sharedroot/id)"
	# What guests copy changes: -n says so, a run records it.
	echo 'new setting' >> root/etc/rc.conf
	atf_check -o match:'would record the root.s identity' \
	    -o match:'dry run: 1 changes' setup-root -n -v root
	atf_check_equal "$id" "$(cat root/.sharedroot/id)"
	atf_check -o match:'prepared \(1 changes\)' setup-root root
	atf_check test "$id" != "$(cat root/.sharedroot/id)"
	# Times alone change nothing.
	touch -d '2001-01-01' root/etc/rc.conf
	atf_check -o match:'already prepared' setup-root root
}

atf_init_test_cases()
{
	atf_add_test_case identity_recorded
	atf_add_test_case ordinary_user_image
	atf_add_test_case prepares_4x_root
	atf_add_test_case prepares_today_root
	atf_add_test_case second_run_changes_nothing
	atf_add_test_case dry_run_writes_nothing
	atf_add_test_case untrusted_text_encoded
	atf_add_test_case nul_in_text_hides_nothing
	atf_add_test_case local_device_option
	atf_add_test_case local_device_refused
	atf_add_test_case bad_input_one_line
	atf_add_test_case unknown_makedev
	atf_add_test_case hostile_symlinks
	atf_add_test_case locked_target_refused
	atf_add_test_case verbose_reports_steps
}
