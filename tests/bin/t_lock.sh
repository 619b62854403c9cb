# Two runs on one target: each run that changes an image or a directory
# holds an exclusive lock for its whole run (lib/lock.c: a lock file
# beside the target, which the rename of a rebuilt image does not
# defeat), each reader a shared one; the second run refuses with one line
# naming the target and the holder's pid, and changes nothing.  Real
# runs, started together; as root and as an ordinary user ($as_user).

# lk_fixture [user]: $W (the user's) holds rootA, its release rootB, the
# tools and a makefs the test can hold a run at ($W/bin/makefs, see
# makefs_gate); $SL and $SR run setup-local and setup-root as the user,
# with that makefs.
lk_fixture()
{
	for p in makefs fls icat; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	run=
	if [ "$1" = user ]; then
		[ "$(id -u)" = 0 ] || atf_skip "needs root to run as nobody"
		run=$as_user
	fi
	W=$(mktemp -d /tmp/sharedroot-lock.XXXXXX)
	undo_add "rm -rf $W"
	chmod 0755 "$W"
	make_root nb10 "$W/rootA"
	# Many small files: a directory's run lasts long enough for a pair
	# to catch it holding its lock.
	mkdir "$W/rootA/var/db/many"
	i=0
	while [ $i -lt 400 ]; do
		echo "$i" > "$W/rootA/var/db/many/f$i"
		i=$((i + 1))
	done
	# An ordinary user cannot make device nodes in a directory local.
	[ -n "$run" ] && find "$W/rootA/etc" "$W/rootA/var" \( -type b -o \
	    -type c \) -exec rm {} +
	chmod -R go+rX "$W/rootA"
	atf_check -o ignore setup-root "$W/rootA"
	cp -a "$W/rootA" "$W/rootB"
	chmod u+w "$W/rootB/etc/rc.d/network"
	echo '# 10.1' >> "$W/rootB/etc/rc.d/network"
	echo 'npf:*:45:' >> "$W/rootB/etc/group"
	atf_check -o ignore setup-root "$W/rootB"
	cp -R "$SR_SHARE" "$W/share"
	cp "$SR_SBIN/setup-local" "$SR_SBIN/setup-root" "$W/"
	makefs_gate "$W/bin"
	# setup-local writes its images itself: held by a preloaded gate
	# (h_hold.c) where it makes the new image durable, on the same files.
	cp "$SR_TESTS/h_hold.so" "$W/bin/"
	# The user's directory: its roots stay as setup-root recorded them.
	[ -n "$run" ] && chown 65534:65534 "$W" "$W/bin" "$W/bin/makefs"
	chmod -R go+rX "$W/share" "$W/bin"
	SL="$run env SHAREDROOT_SHAREDIR=$W/share PATH=$W/bin:$PATH TMPDIR=$W SR_HOLD=$W/bin LD_PRELOAD=$W/bin/h_hold.so $W/setup-local"
	SR="$run env SHAREDROOT_SHAREDIR=$W/share PATH=$W/bin:$PATH TMPDIR=$W SR_HOLD=$W/bin LD_PRELOAD=$W/bin/h_hold.so $W/setup-root"
}

# rec_of LOCAL PATH: the file PATH in a local, an image or a directory.
rec_of()
{
	if [ -d "$1" ]; then
		cat "$1/$2"
	else
		icat "$1" "$(ino "$1" "$2")"
	fi
}

# rec_is EXPECTED ARGS...: rec_of ARGS prints EXPECTED.
rec_is()
{
	_want=$1
	shift
	atf_check_equal "$_want" "$(rec_of "$@")"
}

# start NAME ARGS...: ARGS run in the background once $W/go exists;
# NAME.pid holds their pid, out.NAME and err.NAME their output, and
# NAME.st their exit status once they end; $bg is the background job.
start()
{
	_n=$1
	shift
	rm -f $_n.pid $_n.st
	(while [ ! -e "$W/go" ]; do sleep 0.01; done
	sh -c 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
	    $_n.pid "$@"
	echo $? > $_n.st.tmp
	mv $_n.st.tmp $_n.st) > out.$_n 2> err.$_n &
	bg=$!
}

# pair TARGET: -u to rootB and -f -h hY from rootA on TARGET (a copy of
# $W/pristine, seeded from rootA as h0), started together.  Whichever
# is seen holding TARGET's lock is stopped there (SIGSTOP) until the
# other has ended, which must have refused, naming it; then it goes on,
# and TARGET is exactly what it made.  Two that ran one after the other,
# neither seen holding the lock, are started again.  $won counts the
# -u wins.
pair()
{
	_tries=0
	until pair_once "$1"; do
		_tries=$((_tries + 1))
		[ $_tries -lt 20 ] || atf_fail "$1: in 20 pairs, neither" \
		    "run was ever seen holding the lock"
	done
}

# pair_once TARGET: one pair; status 1 if they ran one after the other.
pair_once()
{
	t=$W/$1
	rm -rf "$t" "$W/go"
	cp -a "$W/pristine" "$t"
	[ -n "$run" ] && chown -R 65534:65534 "$t"
	start u $SL -u "$W/rootB" "$t"
	bgu=$bg
	start f $SL -f -h hY "$W/rootA" "$t"
	bgf=$bg
	: > "$W/go"
	catch_holder "$W/.$1.lock"
	if [ -n "$held" ]; then
		undo_add "kill -CONT $held"
		if [ "$(cat u.pid 2>/dev/null)" = $held ]; then
			other=f
		elif [ "$(cat f.pid 2>/dev/null)" = $held ]; then
			other=u
		else
			atf_fail "$1: locked by pid $held, neither run"
		fi
		wait_until 120 "$1: -$other did not end while pid $held held the lock" \
		    "[ -e $other.st ]"
		kill -CONT $held
		caught=$((caught + 1))
	fi
	wait $bgu $bgf
	pu=$(cat u.pid) pf=$(cat f.pid) su=$(cat u.st) sf=$(cat f.st)
	# Both done: one after the other (a run that ended before the other
	# was caught holding the lock: runs of a directly written image are
	# short); another pair.  A lock that held nothing would end here in
	# every pair, and fail.
	if [ $su = 0 ] && [ $sf = 0 ]; then
		[ -n "$held" ] && caught=$((caught - 1))
		return 1
	fi
	if [ $su = 0 ] && [ $sf = 1 ]; then
		atf_check -o inline:"setup-local: $t: in use: setup-local (pid $pu) is changing it\n" cat err.f
		rec_is "$(cat "$W/rootB/.sharedroot/id")" "$t" .sharedroot/root-id
		rec_is 'h0' "$t" etc/myname
		won=$((won + 1))
	elif [ $su = 1 ] && [ $sf = 0 ]; then
		atf_check -o inline:"setup-local: $t: in use: setup-local (pid $pf) is changing it\n" cat err.u
		rec_is "$(cat "$W/rootA/.sharedroot/id")" "$t" .sharedroot/root-id
		rec_is 'hY' "$t" etc/myname
	else
		cat err.u err.f >&2
		atf_fail "-u exited $su and -f -h exited $sf: not one of each"
	fi
	# The winner's lock file went with it; nothing else is left.
	atf_check -o empty find "$W" -maxdepth 1 -name ".$1*"
	atf_check -o empty find "$W" -mindepth 1 -maxdepth 1 -name 'sharedroot*'
}

# catch_holder LOCKFILE: once a process holds LOCKFILE, stop it there;
# $held is its pid, or empty if both runs ended first.
catch_holder()
{
	held=
	_end=$(( $(date +%s) + 120 ))
	until [ -e u.st ] && [ -e f.st ]; do
		[ "$(date +%s)" -le $_end ] ||
		    atf_fail "the pair neither took the lock nor ended in 120 s"
		_h=$(lock_holder "$1")
		[ -n "$_h" ] && kill -STOP $_h 2>/dev/null || continue
		# Still holding it once stopped: it holds it until let go.
		if [ "$(lock_holder "$1")" = $_h ]; then
			held=$_h
			return 0
		fi
		kill -CONT $_h
	done
}

# pairs TARGET: SR_TRIES pairs (default 10; the issue's figures: 20).
pairs()
{
	won=0
	caught=0
	n=0
	while [ $n -lt "${SR_TRIES:-10}" ]; do
		pair "$1"
		n=$((n + 1))
	done
	echo "$1: $n concurrent pairs, each one run and one refusal ($won won" \
	    "by -u; $caught with the one that ran stopped holding the lock)"
}

pairs_image()
{
	lk_fixture "$1"
	atf_check -o ignore -e ignore $SL -h h0 -s 32m "$W/rootA" "$W/pristine"
	pairs local.img
}

pairs_dir()
{
	lk_fixture "$1"
	$run mkdir "$W/pristine"
	atf_check -o ignore -e ignore $SL -h h0 "$W/rootA" "$W/pristine"
	pairs local
}

atf_test_case concurrent_image cleanup
concurrent_image_head()
{
	atf_set descr "-u and -f -h on one FFS image at once: one runs, one refuses"
	atf_set timeout 600
}
concurrent_image_body()
{
	pairs_image
}
concurrent_image_cleanup()
{
	undo_run
}

atf_test_case concurrent_image_user cleanup
concurrent_image_user_head()
{
	atf_set descr "The same as an ordinary user"
	atf_set timeout 600
}
concurrent_image_user_body()
{
	pairs_image user
}
concurrent_image_user_cleanup()
{
	undo_run
}

atf_test_case concurrent_dir cleanup
concurrent_dir_head()
{
	atf_set descr "-u and -f -h on one directory at once: one runs, one refuses"
	atf_set timeout 600
}
concurrent_dir_body()
{
	pairs_dir
}
concurrent_dir_cleanup()
{
	undo_run
}

atf_test_case concurrent_dir_user cleanup
concurrent_dir_user_head()
{
	atf_set descr "The same as an ordinary user"
	atf_set timeout 600
}
concurrent_dir_user_body()
{
	pairs_dir user
}
concurrent_dir_user_cleanup()
{
	undo_run
}

atf_test_case reader_blocks_setup_root cleanup
reader_blocks_setup_root_head()
{
	atf_set descr "setup-root refuses a root setup-local reads, and setup-local one setup-root rebuilds"
}
reader_blocks_setup_root_body()
{
	lk_fixture
	# A directory root, read while a local is built from it (the run
	# held where it makes its new image durable).
	gate_shut "$W/bin"
	$SL -h g1 "$W/rootA" "$W/g1.img" > out 2> err &
	p=$!
	wait_until 60 "setup-local never reached the gate" \
	    '[ $(gate_count "$W/bin" started) = 1 ]'
	atf_check -s exit:1 \
	    -e inline:"setup-root: $W/rootA: in use: setup-local (pid $p) is reading it\n" \
	    $SR "$W/rootA"
	atf_check -s exit:1 \
	    -e inline:"setup-root: $W/rootA: in use: setup-local (pid $p) is reading it\n" \
	    $SR -f -o "$W/rootA" "$W/rootB"
	gate_open "$W/bin"
	wait $p
	atf_check_equal 0 $?
	rec_is 'g1' "$W/g1.img" etc/myname
	# An FFS root.img, rebuilt by rename while guests would read it.
	atf_check -o ignore -e ignore $SR -o "$W/root.img" "$W/rootA"
	ino0=$(stat -c %i "$W/root.img")
	gate_stop "$W/bin"
	gate_shut "$W/bin"
	$SR -f -o "$W/root.img" "$W/rootB" > out 2> err &
	p=$!
	wait_until 60 "setup-root never reached the gate" \
	    '[ $(gate_count "$W/bin" started) = 1 ]'
	atf_check -s exit:1 \
	    -e inline:"setup-local: $W/root.img: in use: setup-root (pid $p) is changing it\n" \
	    $SL -h g2 "$W/root.img" "$W/g2.img"
	atf_check -s exit:1 \
	    -e inline:"setup-local: $W/root.img: in use: setup-root (pid $p) is changing it\n" \
	    $SL -u "$W/root.img" "$W/g1.img"
	atf_check test ! -e "$W/g2.img"
	gate_open "$W/bin"
	wait $p
	atf_check_equal 0 $?
	atf_check test "$(stat -c %i "$W/root.img")" != "$ino0"
	atf_check -o empty find "$W" -maxdepth 1 -name '.*'
}
reader_blocks_setup_root_cleanup()
{
	undo_run
}

atf_test_case killed_holder_does_not_block cleanup
killed_holder_does_not_block_head()
{
	atf_set descr "The lock file of a run killed outright blocks nothing; what it left is removed"
}
killed_holder_does_not_block_body()
{
	lk_fixture
	atf_check -o ignore -e ignore $SL -h h0 -s 32m "$W/rootA" "$W/local.img"
	cp "$W/local.img" "$W/before.img"
	# Killed while held at the gate: its new image begun.
	gate_stop "$W/bin"
	gate_shut "$W/bin"
	$SL -f -h hK "$W/rootA" "$W/local.img" > out 2> err &
	p=$!
	wait_until 60 "setup-local never reached the gate" \
	    '[ $(gate_count "$W/bin" started) = 1 ]'
	kill -9 $p
	wait $p
	gate_stop "$W/bin"
	# Its lock file and half-made image are left (no stage: the image
	# is written directly)...
	atf_check test -f "$W/.local.img.lock"
	atf_check -o not-empty find "$W" -maxdepth 1 -name ".local.img.$p.*"
	atf_check cmp "$W/before.img" "$W/local.img"
	# ...and the next run goes ahead, and removes them.
	gate_open "$W/bin"
	atf_check -o match:'rebuilt' -e ignore $SL -f -h h2 "$W/rootA" \
	    "$W/local.img"
	rec_is 'h2' "$W/local.img" etc/myname
	atf_check -o empty find "$W" -maxdepth 1 -name '.*'
	atf_check -o empty find "$W" -mindepth 1 -maxdepth 1 -name 'sharedroot*'
}
killed_holder_does_not_block_cleanup()
{
	undo_run
}

atf_test_case fleet_refuses_held_guest cleanup
fleet_refuses_held_guest_head()
{
	atf_set descr "-u over guests: one another run holds is refused alone"
}
fleet_refuses_held_guest_body()
{
	lk_fixture
	for g in g1 g2 g3; do
		mkdir "$W/$g"
		atf_check -o ignore -e ignore $SL -h $g "$W/rootA" "$W/$g"
	done
	hold_lock "$W/g2"
	atf_check -s exit:1 -o save:out \
	    -e inline:"setup-local: $W/g2: in use: h_lock (pid $holder) is changing it\n" \
	    $SL -u "$W/rootB" "$W/g1" "$W/g2" "$W/g3"
	atf_check -o match:"g1 .* upgraded" -o match:"g2 .* failed" \
	    -o match:"g3 .* upgraded" cat out
	new=$(cat "$W/rootB/.sharedroot/id")
	atf_check -o inline:"$new\n" cat "$W/g1/.sharedroot/root-id"
	atf_check -o inline:"$new\n" cat "$W/g3/.sharedroot/root-id"
	atf_check -o inline:"$(cat "$W/rootA/.sharedroot/id")\n" \
	    cat "$W/g2/.sharedroot/root-id"
	kill $holder
}
fleet_refuses_held_guest_cleanup()
{
	undo_run
}

atf_init_test_cases()
{
	atf_add_test_case concurrent_image
	atf_add_test_case concurrent_image_user
	atf_add_test_case concurrent_dir
	atf_add_test_case concurrent_dir_user
	atf_add_test_case reader_blocks_setup_root
	atf_add_test_case killed_holder_does_not_block
	atf_add_test_case fleet_refuses_held_guest
}
