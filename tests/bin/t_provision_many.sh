# setup-local root local1 local2 ...: several guests provisioned in one
# run, each named by its image, as root and as an ordinary user, on
# directories and FFS images; one bad guest fails alone.

# A prepared root in a directory $W the tools may write (nobody's when
# we are root), and $SL: setup-local as root (who=root) or as nobody
# (who=user).  The staged setup-local and share are copied where nobody
# can read them.
many_fixture()
{
	[ "$(id -u)" = 0 ] || atf_skip "needs root to make a root with NetBSD's owners; runs the tools as root and as nobody"
	W=$(mktemp -d /tmp/sharedroot-many.XXXXXX)
	undo_add "rm -rf $W"
	chmod 0755 "$W"
	cd "$W"
	make_root nb10 root
	# Only root makes device nodes: a guest in a directory an ordinary
	# user fills gets none (an image gets them from makefs).
	[ "$2" = nodev ] && find root \( -type b -o -type c \) -delete
	chmod -R go+rX root
	atf_check -o ignore setup-root root
	cp -R "$SR_SHARE" share
	cp "$SR_SBIN/setup-local" .
	chmod -R go+rX share setup-local
	export TMPDIR=$W
	if [ "$1" = user ]; then
		command -v setpriv >/dev/null || atf_skip "no setpriv"
		chown 65534 "$W"
		SL="$as_user env SHAREDROOT_SHAREDIR=$W/share TMPDIR=$W $W/setup-local"
		MKDIR="$as_user mkdir"
	else
		SL="env SHAREDROOT_SHAREDIR=$W/share $W/setup-local"
		MKDIR=mkdir
	fi
}

# same_but_name DIR NAME: DIR's digest, its host name NAME (etc/myname,
# rc.conf's one hostname=) replaced by one placeholder.
same_but_name()
{
	rm -rf n.guest
	cp -a "$1" n.guest
	atf_check -o inline:"$2\n" cat n.guest/etc/myname
	echo GUEST > n.guest/etc/myname
	atf_check -o inline:"hostname=$2\n" grep '^hostname=' n.guest/etc/rc.conf
	sed -i "s/^hostname=$2\$/hostname=GUEST/" n.guest/etc/rc.conf
	# The root's etc as a gzip'd tar: gzip's header says when.
	gzip -dc n.guest/.sharedroot/base-etc.tgz | md5sum
	rm n.guest/.sharedroot/base-etc.tgz
	digest n.guest
	rm -rf n.guest
}

# The three guests' trees differ by their host names only, and are each
# what setup-local makes of one guest alone (with -h).
three_dirs()
{
	many_fixture "$1" ${2:-}
	$MKDIR web1 db-2 mail3 alone
	atf_check -o save:out -e empty $SL root web1 db-2 mail3
	atf_check -o match:'^guest +entries +changes +result$' \
	    -o match:'^web1 +[0-9]+ +[0-9]+  provisioned$' \
	    -o match:'^db-2 +[0-9]+ +[0-9]+  provisioned$' \
	    -o match:'^mail3 +[0-9]+ +[0-9]+  provisioned$' \
	    -o match:'^setup-local: web1: provisioned from root' cat out
	atf_check -o inline:'etc\ntmp\nvar\n' ls web1
	same_but_name web1 web1 > d.web1
	same_but_name db-2 db-2 > d.db-2
	same_but_name mail3 mail3 > d.mail3
	atf_check -o empty diff d.web1 d.db-2
	atf_check -o empty diff d.web1 d.mail3
	atf_check -o ignore -e empty $SL -h xxxx root alone
	same_but_name alone xxxx > d.alone
	atf_check -o empty diff d.web1 d.alone
	# The owners are the root's (as root) or the user's.
	if [ "$1" = root ]; then
		atf_check -o inline:'0 0\n' stat -c '%u %g' mail3/etc/rc.conf
	else
		atf_check -o inline:'65534\n' stat -c '%u' mail3/etc/rc.conf
	fi
	atf_check test ! -e web1/.sharedroot.stage
	check_no_build_leftovers .
	# Provisioned already: each refused alone without -f, re-seeded
	# with it.
	echo mine > db-2/etc/mine
	atf_check -s exit:1 -o match:'^web1 .*failed$' \
	    -o match:'^db-2 .*failed$' -e match:'web1: .*-f' $SL root web1 db-2
	atf_check -o match:'^db-2 .*provisioned$' -e empty $SL -f root web1 db-2
	atf_check test ! -e db-2/etc/mine
	atf_check -o inline:'db-2\n' cat db-2/etc/myname
}

atf_test_case three_dirs_root cleanup
three_dirs_root_head()
{
	atf_set descr "Three directories provisioned in one run, as root"
}
three_dirs_root_body()
{
	three_dirs root
}
three_dirs_root_cleanup()
{
	undo_run
}

atf_test_case three_dirs_user cleanup
three_dirs_user_head()
{
	atf_set descr "Three directories provisioned in one run, as an" \
	    "ordinary user"
}
three_dirs_user_body()
{
	three_dirs user nodev
}
three_dirs_user_cleanup()
{
	undo_run
}

# IMG PATH: the file's contents in an FFS image, as sleuthkit reads it.
img_cat()
{
	_i=$(ino "$1" "$2")
	[ -n "$_i" ] || atf_fail "$1: no $2"
	icat "$1" "$_i"
}

# Three FFS images built with makefs; each checked by NetBSD's own code
# where the checker is there.
three_images()
{
	for p in makefs fls icat; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	many_fixture "$1"
	atf_check -o save:out -e ignore $SL root g1.img web-2.img h3.img
	for g in g1 web-2 h3; do
		atf_check -o match:"^$g.img +[0-9]+ +[0-9]+  provisioned\$" cat out
		[ "$(img_cat $g.img etc/myname)" = "$g" ] ||
		    atf_fail "$g.img: etc/myname: not $g"
		[ "$(img_cat $g.img etc/rc.conf | grep '^hostname=')" = \
		    "hostname=$g" ] ||
		    atf_fail "$g.img: etc/rc.conf: not one hostname=$g"
		# The same paths in each image, the same owners.
		fls -r -p $g.img | sed 's/^[^\t]*\t//' | LC_ALL=C sort > l.$g
		[ "$(meta_img $g.img etc/rc.conf)" = "0 0 rw-r--r--" ] ||
		    atf_fail "$g.img: etc/rc.conf: $(meta_img $g.img etc/rc.conf)"
		if [ -x "$SR_FFSCHECK" ]; then
			atf_check -o match:'NetBSD fsck_ffs -n -f: clean' \
			    "$SR_FFSCHECK" $g.img
		fi
	done
	atf_check cmp l.g1 l.web-2
	atf_check cmp l.g1 l.h3
	# Their files but the host name's the same.
	for f in etc/fstab etc/rc etc/ttys var/cron/tabs/root; do
		img_cat g1.img $f > a
		img_cat h3.img $f > b
		atf_check cmp a b
	done
	[ "$1" = user ] && atf_check -o inline:'65534\n' stat -c %u h3.img
	check_no_build_leftovers .
}

atf_test_case three_images_root cleanup
three_images_root_head()
{
	atf_set descr "Three FFS images built in one run, as root"
}
three_images_root_body()
{
	three_images root
}
three_images_root_cleanup()
{
	undo_run
}

atf_test_case three_images_user cleanup
three_images_user_head()
{
	atf_set descr "Three FFS images built in one run, as an ordinary user"
}
three_images_user_body()
{
	three_images user
}
three_images_user_cleanup()
{
	undo_run
}

atf_test_case bad_guest_fails_alone cleanup
bad_guest_fails_alone_head()
{
	atf_set descr "A local that is not an image, and one whose name is" \
	    "not a host name, fail alone; the others are made"
}
bad_guest_fails_alone_body()
{
	many_fixture user nodev
	echo 'not an image' > bad.img
	chown 65534 bad.img
	sum=$(md5sum < bad.img)
	$MKDIR d1
	atf_check -s exit:1 -o save:out -e save:err \
	    $SL root d1 bad.img x_y.img g4.img
	atf_check -o match:'^d1 +[0-9]+ +[0-9]+  provisioned$' \
	    -o match:'^bad.img +- +-  failed$' \
	    -o match:'^x_y.img +- +-  failed$' \
	    -o match:'^g4.img +[0-9]+ +[0-9]+  provisioned$' cat out
	atf_check -o match:'^setup-local: bad.img: ' \
	    -o match:"^setup-local: x_y.img: the host name from the image's name: x_y: not a host name" \
	    cat err
	atf_check -o inline:'d1\n' cat d1/etc/myname
	atf_check -o inline:"$sum\n" sh -c 'md5sum < bad.img'
	atf_check test ! -e x_y.img
	check_no_build_leftovers .
	# -q: the errors, no table.
	atf_check -s exit:1 -o empty -e match:'y_z.img: the host name' \
	    $SL -q root y_z.img g5.img
	atf_check test -s g5.img
	atf_check test ! -e y_z.img
}
bad_guest_fails_alone_cleanup()
{
	undo_run
}

atf_test_case refusals cleanup
refusals_head()
{
	atf_set descr "-h and -c name one guest: refused with several; a guest" \
	    "named twice, even one still to be made, is refused"
}
refusals_body()
{
	many_fixture root
	mkdir a b
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: -h: one guest's host name: with several locals, each guest's is its image's name (web1.img: web1)\n" \
	    $SL -h web root a b
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: -c: one guest's key: encrypted guests are provisioned a run each\n" \
	    $SL -c key root a b.img
	atf_check test ! -e key
	echo secret > pass
	atf_check -s exit:1 -o empty -e match:'^setup-local: -K: one guest' \
	    $SL -K pass root a b.img
	atf_check -s exit:1 -o empty -e match:'c.img: named twice .as c.img.' \
	    $SL root c.img a ./c.img
	atf_check -s exit:1 -o empty -e match:'a/: named twice .as a.' \
	    $SL root a b a/
	# Two guests of one host name: refused, nothing made.
	mkdir x y
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: y/local.img: host name local, as x/local.img's: each guest is named by its image's name\n" \
	    $SL root a x/local.img y/local.img
	atf_check -o empty ls -A a
	atf_check -o empty ls -A b
	atf_check -o empty ls -A x
	atf_check -o empty ls -A y
	atf_check test ! -e b.img
	atf_check test ! -e c.img
	# One local is one guest, as before: -h taken.
	atf_check -o match:'provisioned from root' $SL -h web root a
	atf_check -o inline:'web\n' cat a/etc/myname
}
refusals_cleanup()
{
	undo_run
}

atf_test_case dry_run_each_plan cleanup
dry_run_each_plan_head()
{
	atf_set descr "-n with several: each guest's plan under its name," \
	    "nothing written"
}
dry_run_each_plan_body()
{
	many_fixture user
	$MKDIR d1
	atf_check -o save:out -e ignore $SL -n root d1 g2.img
	# Each plan whole, under its guest's name, with its host name.
	awk '/^guest d1 \(host name d1\):$/ { p = 1; next }
	    /^guest / { p = 0 } p' out > plan.d1
	awk '/^guest g2.img \(host name g2\):$/ { p = 1; next }
	    /^guest / { p = 0 } p' out > plan.g2
	atf_check -o match:'^copy etc, tmp, var: [0-9]+ entries from root$' \
	    -o match:'^\+hostname=d1$' -o not-match:'hostname=g2' cat plan.d1
	atf_check -o match:'^copy etc, tmp, var: [0-9]+ entries from root$' \
	    -o match:'^\+hostname=g2$' -o not-match:'hostname=d1' cat plan.g2
	atf_check -o match:'^d1 +[0-9]+ +[0-9]+  planned$' \
	    -o match:'^g2.img +[0-9]+ +[0-9]+  planned$' cat out
	atf_check -o empty ls d1
	atf_check test ! -e g2.img
	check_no_build_leftovers .
}
dry_run_each_plan_cleanup()
{
	undo_run
}

atf_test_case dry_run_plans_whole_in_a_pipe cleanup
dry_run_plans_whole_in_a_pipe_head()
{
	atf_set descr "-n with many guests into a pipe: each guest's plan" \
	    "and messages in one piece, however long, never cut into" \
	    "another's"
}
dry_run_plans_whole_in_a_pipe_body()
{
	many_fixture root
	# Plans longer than a pipe's atomic write and stdio's buffer: 400
	# terminals on, each turned off in the plan's diff of etc/ttys.
	for i in $(seq 1 400); do
		printf 'ttyX%d\t"/usr/libexec/getty default"\tvt100\ton secure\n' $i
	done >> root/etc/ttys
	atf_check -o ignore setup-root root
	set -- g1.img g2.img g3.img g4.img g5.img g6.img g7.img g8.img
	atf_check -e ignore sh -c "$SL -n -v root $* | cat > out"
	[ "$(wc -c < out)" -gt 65536 ] || atf_fail "the plans are too short"
	for g in g1 g2 g3 g4 g5 g6 g7 g8; do
		# Its block: its header to the next guest's header or the table.
		awk -v h="guest $g.img (host name $g):" '
		    $0 == h { p = 1; n++; next }
		    /^guest .* \(host name / || /^guest +entries/ { p = 0 } p' out > b.$g
		atf_check -o inline:"1\n" grep -c "^guest $g.img (host name $g):\$" out
		atf_check -o inline:"+hostname=$g\n" grep 'hostname=' b.$g
		atf_check -o inline:"400\n" grep -c '^+ttyX[0-9]*	.*off secure$' b.$g
		atf_check -o match:"^$g.img +[0-9]+ +[0-9]+  planned\$" cat out
	done
	for g in "$@"; do
		atf_check test ! -e $g
	done
	check_no_build_leftovers .
}
dry_run_plans_whole_in_a_pipe_cleanup()
{
	undo_run
}

atf_test_case interrupted_leaves_nothing cleanup
interrupted_leaves_nothing_head()
{
	atf_set descr "A run of several killed at any point: each image whole" \
	    "or absent, no stage or temporary left"
}
interrupted_leaves_nothing_body()
{
	command -v fls >/dev/null || atf_skip "sleuthkit is not installed"
	many_fixture root
	for delay in 0.01 0.03 0.06 0.1 0.2 0.4; do
		rm -rf d1 g2.img g3.img
		mkdir d1
		$SL -q root d1 g2.img g3.img >/dev/null 2>&1 &
		pid=$!
		sleep $delay
		kill -TERM $pid 2>/dev/null
		wait $pid
		for g in g2 g3; do
			[ -e $g.img ] || continue
			[ "$(img_cat $g.img etc/myname)" = "$g" ] ||
			    atf_fail "$delay: $g.img: not whole"
		done
		if [ -e d1/etc ]; then
			atf_check -o inline:'d1\n' cat d1/etc/myname
		fi
		atf_check test ! -e d1/.sharedroot.stage
		atf_check -o empty find . -maxdepth 1 -name '.*.img.*'
		atf_check -o empty find "$W" -mindepth 1 -maxdepth 1 \
		    -name 'sharedroot*'
		# No worker outlives the run (not atf-check's own line).
		! pgrep -f "^$W/setup-local" >/dev/null ||
		    atf_fail "$delay: a worker outlived the run"
	done
}
interrupted_leaves_nothing_cleanup()
{
	undo_run
}

atf_test_case killed_at_makefs cleanup
killed_at_makefs_head()
{
	atf_set descr "A run of several killed outright while its workers" \
	    "write their images: they die with it, no image is put in place" \
	    "after, and the next run makes them all"
}
killed_at_makefs_body()
{
	command -v fls >/dev/null || atf_skip "sleuthkit is not installed"
	many_fixture root
	# Each worker held where it makes its new image durable (a
	# preloaded gate, h_hold.c), its locks held and its image begun.
	mkdir -p "$W/bin"
	cp "$SR_TESTS/h_hold.so" "$W/bin/"
	undo_add "gate_stop '$W/bin'"
	gate_shut "$W/bin"
	env SR_HOLD="$W/bin" LD_PRELOAD="$W/bin/h_hold.so" $SL root g1.img \
	    g2.img g3.img >/dev/null 2>&1 &
	p=$!
	wait_until 120 "no worker reached its new image's fsync" \
	    '[ $(gate_count "$W/bin" started) -ge 1 ]'
	kill -9 $p
	wait $p
	wait_until 1 "workers still running after their run was killed" \
	    '! pgrep -f "^$W/setup-local" >/dev/null'
	gate_open "$W/bin"
	atf_check -o empty find . -maxdepth 1 -name 'g*.img'
	gate_stop "$W/bin"
	# The next run clears what they left, and makes every guest.
	atf_check -o match:'^g3.img .*provisioned$' -e ignore \
	    $SL root g1.img g2.img g3.img
	for g in g1 g2 g3; do
		[ "$(img_cat $g.img etc/myname)" = $g ] ||
		    atf_fail "$g.img: etc/myname"
	done
	check_no_build_leftovers .
	atf_check -o empty find "$W" -mindepth 1 -maxdepth 1 \
	    -name 'sharedroot*'
}
killed_at_makefs_cleanup()
{
	undo_run
}

atf_test_case planned_once cleanup
planned_once_head()
{
	atf_set descr "What is the same for every guest is planned once (the" \
	    "root's identity and etc); a root holding the placeholder host" \
	    "name is planned by each guest"
}
planned_once_body()
{
	many_fixture root
	mkdir a b c
	atf_check -o save:out -e empty $SL -v root a b c
	atf_check -o inline:'1\n' grep -c 'seeded from root' out
	atf_check -o match:'^setup-local: root: .sharedroot/root-id: seeded from root' cat out
	atf_check cmp a/.sharedroot/base-etc.tgz b/.sharedroot/base-etc.tgz
	atf_check cmp a/.sharedroot/base-etc.tgz c/.sharedroot/base-etc.tgz
	atf_check cmp a/.sharedroot/base-manifest c/.sharedroot/base-manifest
	# The placeholder in the root's own rc.conf: kept as it is there,
	# each guest planned alone, with its own name.
	p=sharedroot-host-name-to-be-swapped-in-0f6b3c
	rm -rf root a b c
	make_root nb10 root
	echo "# $p" >> root/etc/rc.conf
	atf_check -o ignore setup-root root
	mkdir a b
	atf_check -o save:out -e empty $SL -v root a b
	atf_check -o inline:'2\n' grep -c '^setup-local: [ab]: .*seeded from root' out
	for g in a b; do
		atf_check -o inline:"$g\n" cat $g/etc/myname
		atf_check -o inline:"# $p\n" grep -F "$p" $g/etc/rc.conf
		atf_check -o inline:"hostname=$g\n" grep '^hostname=' $g/etc/rc.conf
	done
}
planned_once_cleanup()
{
	undo_run
}

atf_test_case loop_root cleanup
loop_root_head()
{
	atf_set descr "A root image attached through a loop device, once," \
	    "for several guests; nothing left attached"
}
loop_root_body()
{
	require_loop
	many_fixture root
	command -v fls >/dev/null || atf_skip "sleuthkit is not installed"
	make_ext2 root root.ext2 32M
	mkdir d1
	atf_check -o save:out -e ignore $SL root.ext2 d1 g2.img
	atf_check -o match:'^d1 +[0-9]+ +[0-9]+  provisioned$' \
	    -o match:'^g2.img +[0-9]+ +[0-9]+  provisioned$' cat out
	atf_check -o inline:'d1\n' cat d1/etc/myname
	[ "$(img_cat g2.img etc/myname)" = g2 ] || atf_fail "g2.img: etc/myname"
	atf_check -o empty losetup -j root.ext2
	atf_check -s exit:1 -o empty grep -F "$W" /proc/mounts
	check_no_build_leftovers .
}
loop_root_cleanup()
{
	undo_run
}

atf_init_test_cases()
{
	atf_add_test_case loop_root
	atf_add_test_case planned_once
	atf_add_test_case killed_at_makefs
	atf_add_test_case three_dirs_root
	atf_add_test_case three_dirs_user
	atf_add_test_case three_images_root
	atf_add_test_case three_images_user
	atf_add_test_case bad_guest_fails_alone
	atf_add_test_case refusals
	atf_add_test_case dry_run_each_plan
	atf_add_test_case dry_run_plans_whole_in_a_pipe
	atf_add_test_case interrupted_leaves_nothing
}
