# Runs killed outright (SIGKILL) at random moments, many times, and what
# must hold after each: the image whole (the old one or the new, read
# back), no worker left running, and everything the killed run left (its
# stages, the decrypted image, the half-made image beside the old, its
# lock file) removed by the next run.  Nothing of an encrypted guest's
# plaintext is ever written to a disk: it is kept on a memory file system
# (lib/scratch.c), or the run is refused.

# kl_fixture [user]: $W (the user's, on disk) with rootA and its release
# rootB, the tools, and $SL, $SR running them as the user (nobody when we
# are root; else ourselves); $T is TMPDIR ($W/tmp, on disk).  $M is a
# word that only the guests' own files hold (their hostnames start with
# it).
kl_fixture()
{
	for p in makefs fls icat fsstat; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	run=
	[ "$1" = user ] && run=$as_user
	SHM=
	# Without a tmpfs of our own, ours in /dev/shm are looked at.
	[ "$(id -u)" = 0 ] || SHM=/dev/shm
	W=$(mktemp -d /tmp/sharedroot-kill.XXXXXX)
	undo_add "rm -rf $W"
	chmod 0755 "$W"
	make_root nb10 "$W/rootA"
	chmod -R go+rX "$W/rootA"
	atf_check -o ignore setup-root "$W/rootA"
	cp -a "$W/rootA" "$W/rootB"
	chmod u+w "$W/rootB/etc/rc.d/network"
	echo '# 10.1' >> "$W/rootB/etc/rc.d/network"
	atf_check -o ignore setup-root "$W/rootB"
	cp -R "$SR_SHARE" "$W/share"
	cp "$SR_SBIN/setup-local" "$SR_SBIN/setup-root" "$W/"
	chmod -R go+rX "$W/share"
	mkdir "$W/tmp"
	# The user's directory: its roots stay as setup-root recorded them.
	[ -n "$run" ] && chown 65534:65534 "$W" "$W/tmp"
	T=$W/tmp
	M=pt$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	SL="$run env SHAREDROOT_SHAREDIR=$W/share TMPDIR=$T $W/setup-local"
	SR="$run env SHAREDROOT_SHAREDIR=$W/share TMPDIR=$T $W/setup-root"
	# Plaintext the test itself reads back is kept in memory too.
	P=$(mktemp -d /dev/shm/srtest.XXXXXX)
	undo_add "rm -rf $P"
}

# private_tmpfs: TMPDIR on a tmpfs of the test's own, so that what the
# runs keep in memory is theirs alone to look at.
private_tmpfs()
{
	if [ "$(id -u)" != 0 ]; then
		[ -z "$2" ] || atf_skip "needs root to mount a tmpfs"
		return 0
	fi
	mkdir -p "$W/shm"
	mount -t tmpfs -o size=${1:-512m},mode=0777 tmpfs "$W/shm" ||
	    atf_skip "cannot mount a tmpfs"
	undo_add "umount $W/shm"
	T=$W/shm
	SL="$run env SHAREDROOT_SHAREDIR=$W/share TMPDIR=$T $W/setup-local"
	SR="$run env SHAREDROOT_SHAREDIR=$W/share TMPDIR=$T $W/setup-root"
}

# rec IMG PATH [key]: the file PATH in a local image (decrypted with the
# key, in memory); empty and status 1 if the image is not a whole FFS.
rec()
{
	_img=$1
	if [ -n "$3" ]; then
		rm -f "$P/p.img"
		TMPDIR=$P "$SR_TESTS/h_cgdcat" "$3" "$1" "$P/p.img" \
		    >/dev/null 2>&1 || return 1
		_img=$P/p.img
	fi
	fsstat "$_img" >/dev/null 2>&1 || return 1
	icat "$_img" "$(ino "$_img" "$2")"
}

# rec_is EXPECTED ARGS...: rec ARGS prints EXPECTED.
rec_is()
{
	_want=$1
	shift
	atf_check_equal "$_want" "$(rec "$@")"
}

# rand_ms MAX: a random number of milliseconds below MAX.
rand_ms()
{
	echo $(( $(od -An -N2 -tu2 /dev/urandom) % $1 ))
}

# kill_run MAXMS CMD...: CMD killed outright after a random time below
# MAXMS ms; then no process of the tools may be left (workers die with
# their run) after 2 s.
kill_run()
{
	_max=$1
	shift
	"$@" >/dev/null 2>&1 &
	_p=$!
	sleep "$(printf '0.%03d' "$(rand_ms "$_max")")"
	kill -9 $_p 2>/dev/null
	wait $_p
	_i=0
	while pgrep -f "$W/setup-(local|root)" >/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt 200 ] || atf_fail "a worker of a killed run is still running"
		sleep 0.01
	done
	killed=$((killed + 1))
}

# ms CMD...: run CMD (it must succeed); $took is how long it took (ms).
ms()
{
	_t0=$(date +%s%N)
	atf_check -o ignore -e ignore "$@"
	took=$(( ($(date +%s%N) - _t0) / 1000000 + 1 ))
	[ $took -lt 1000 ] || took=999
}

# nothing_left: no temporary of a dead run anywhere the tools put them,
# no lock file, and the word only guests hold on no disk.
nothing_left()
{
	if [ -n "$(find "$T" -mindepth 1 -maxdepth 1)" ]; then
		ls -laR "$T" >&2
		for _d in "$T"/*; do
			[ -f "$_d/lock" ] && flock -n "$_d/lock" true &&
			    echo "$_d: its lock is free" >&2
		done
		ps -ef >&2
	fi
	atf_check -o empty find "$T" -mindepth 1 -maxdepth 1
	[ -z "$SHM" ] || atf_check -o empty find "$SHM" -maxdepth 1 \
	    -user "$(id -u)" -name 'sharedroot*'
	atf_check -o empty find "$W" -maxdepth 1 -name '.*'
	atf_check -s exit:1 grep -rl --exclude-dir=shm "$M" "$W"
}

atf_test_case plaintext_never_on_disk cleanup
plaintext_never_on_disk_head()
{
	atf_set descr "-c: with TMPDIR on a disk, no run writes there; the plaintext is in memory"
}
plaintext_never_on_disk_body()
{
	kl_fixture user
	# A TMPDIR the user may not write: a run that put anything there fails.
	[ "$(id -u)" = 0 ] && chown root "$T"
	chmod 0555 "$T"
	# A new local is written directly: nothing staged in TMPDIR.
	atf_check -o match:"built from" -e ignore \
	    $SL -h plain "$W/rootA" "$W/plain.img"
	rm "$W/plain.img"
	atf_check -o match:'built .* encrypted' -e ignore \
	    $SL -c "$W/key" -h ${M}a -s 32m "$W/rootA" "$W/g.img"
	atf_check -o match:'rebuilt .* encrypted' -e ignore \
	    $SL -c "$W/key" -f -h ${M}b "$W/rootA" "$W/g.img"
	atf_check -o ignore -e ignore $SL -n -u -c "$W/key" "$W/rootB" "$W/g.img"
	atf_check -o match:upgraded -e ignore \
	    $SL -u -c "$W/key" "$W/rootB" "$W/g.img"
	atf_check -o match:'rolled back' -e ignore $SL -R -c "$W/key" "$W/g.img"
	atf_check -o match:'decrypted as it is read' -e ignore \
	    $SL -v -c "$W/key" -f -h ${M}c "$W/rootA" "$W/g.img"
	rec_is "${M}c" "$W/g.img" etc/myname "$W/key"
	nothing_left
}
plaintext_never_on_disk_cleanup()
{
	undo_run
}

atf_test_case crypt_needs_no_memory_fs cleanup
crypt_needs_no_memory_fs_head()
{
	atf_set descr "-c writes no plaintext anywhere: a full TMPDIR is no matter, nothing is put in it or in /dev/shm, even mid-run, by a new image, a re-seed or an upgrade"
	atf_set require.user root
}
crypt_needs_no_memory_fs_body()
{
	kl_fixture
	atf_check -o ignore -e ignore $SL -c "$W/key" -h ${M} -s 32m \
	    "$W/rootA" "$W/g.img"
	private_tmpfs 4m required
	# Fill it: a run that needed room there would fail.
	dd if=/dev/zero of="$T/fill" bs=64k 2>/dev/null
	# Held where it makes the new image durable: its plaintext was
	# all laid out by then, and none of it went to a file.
	cp "$SR_TESTS/h_hold.so" "$W/h_hold.so"
	mkdir "$W/gate"
	env SR_HOLD="$W/gate" LD_PRELOAD="$W/h_hold.so" SHAREDROOT_SHAREDIR="$W/share" \
	    TMPDIR="$T" "$W/setup-local" -c "$W/key" -f -h ${M}b "$W/rootA" \
	    "$W/g.img" >/dev/null 2>&1 &
	p=$!
	wait_until 120 "setup-local never reached the gate" \
	    '[ $(gate_count "$W/gate" started) = 1 ]'
	# Nothing of this run's in TMPDIR or /dev/shm (other runs on this
	# host may have theirs there: this one's names hold its pid).
	atf_check -o inline:'fill\n' ls "$T"
	atf_check -o empty sh -c "ls -a /dev/shm | grep '^sharedroot.*\.$p\.' || :"
	gate_open "$W/gate"
	wait $p
	atf_check_equal 0 $?
	rec_is "${M}b" "$W/g.img" etc/myname "$W/key"
	atf_check -o ignore -e ignore $SL -c "$W/new.key" -h ${M} -s 32m \
	    "$W/rootA" "$W/new.img"
	rec_is "${M}" "$W/new.img" etc/myname "$W/new.key"
	atf_check -o inline:'fill\n' ls "$T"
	# An upgrade is planned from the guest's trees read where they are
	# (decrypted a block at a time) and written as the image is laid
	# out: held there, with the full TMPDIR, nothing of it in TMPDIR
	# or /dev/shm, neither the run's nor its guest's worker's.
	rm -rf "$W/gate"
	mkdir "$W/gate"
	env SR_HOLD="$W/gate" LD_PRELOAD="$W/h_hold.so" SHAREDROOT_SHAREDIR="$W/share" \
	    TMPDIR="$T" "$W/setup-local" -u -c "$W/key" "$W/rootB" \
	    "$W/g.img" >/dev/null 2>&1 &
	p=$!
	wait_until 120 "setup-local -u never reached the gate" \
	    '[ $(gate_count "$W/gate" started) = 1 ]'
	w=$(ls "$W/gate" | sed -n 's/^makefs\.started\.//p')
	atf_check -o inline:'fill\n' ls "$T"
	atf_check -o empty sh -c "ls -a /dev/shm | grep -E '^sharedroot.*\.($p|$w)\.' || :"
	gate_open "$W/gate"
	wait $p
	atf_check_equal 0 $?
	# Upgraded, the guest's own settings kept.
	rec_is "$(cat "$W/rootB/.sharedroot/id")" "$W/g.img" \
	    .sharedroot/root-id "$W/key"
	rec_is "${M}b" "$W/g.img" etc/myname "$W/key"
	atf_check -o inline:'fill\n' ls "$T"
	rm -f "$T/fill" "$W/new.img" "$W/new.key" "$W/h_hold.so"
	rm -rf "$W/gate"
	nothing_left
}
crypt_needs_no_memory_fs_cleanup()
{
	undo_run
}

atf_test_case killed_encrypted_runs cleanup
killed_encrypted_runs_head()
{
	atf_set descr "-c runs (-f, -u and -R over two guests) killed at random moments, SR_KILLS times each (default 5)"
	atf_set timeout 900
}
killed_encrypted_runs_body()
{
	kl_fixture
	private_tmpfs
	K=${SR_KILLS:-5}
	A=$(cat "$W/rootA/.sharedroot/id")
	B=$(cat "$W/rootB/.sharedroot/id")
	killed=0
	kept=0

	# -f: re-seeded with a new hostname each time.
	ms $SL -c "$W/key" -h ${M}0 -s 32m "$W/rootA" "$W/g.img"
	i=1
	while [ $i -le $K ]; do
		ms $SL -c "$W/key" -f -h ${M}x "$W/rootA" "$W/g.img"
		old=$(rec "$W/g.img" etc/myname "$W/key") ||
		    atf_fail "-f: not a whole image before a kill"
		kill_run $took $SL -c "$W/key" -f -h ${M}$i "$W/rootA" \
		    "$W/g.img"
		now=$(rec "$W/g.img" etc/myname "$W/key") ||
		    atf_fail "-f: killed run $i left a broken image"
		[ "$now" = "$old" ] || [ "$now" = "${M}$i" ] ||
		    atf_fail "-f: killed run $i left hostname $now"
		[ "$now" = "$old" ] && kept=$((kept + 1))
		atf_check -o ignore -e ignore \
		    $SL -c "$W/key" -f -h ${M}$i "$W/rootA" "$W/g.img"
		rec_is "${M}$i" "$W/g.img" etc/myname "$W/key"
		nothing_left
		i=$((i + 1))
	done

	# -u and -R of two guests at once, each in a worker.
	i=1
	while [ $i -le $K ]; do
		for g in g1 g2; do
			rm -f "$W/$g.img"
			atf_check -o ignore -e ignore $SL -c "$W/key" \
			    -h ${M}$g -s 32m "$W/rootA" "$W/$g.img"
		done
		ms $SL -n -u -c "$W/key" "$W/rootB" "$W/g1.img" "$W/g2.img"
		kill_run $((took * 3)) $SL -u -c "$W/key" "$W/rootB" \
		    "$W/g1.img" "$W/g2.img"
		for g in g1 g2; do
			id=$(rec "$W/$g.img" .sharedroot/root-id "$W/key") ||
			    atf_fail "-u: killed run $i left $g broken"
			[ "$id" = "$A" ] || [ "$id" = "$B" ] ||
			    atf_fail "-u: killed run $i left $g seeded from $id"
			[ "$id" = "$A" ] && kept=$((kept + 1))
		done
		atf_check -o ignore -e ignore $SL -u -c "$W/key" \
		    "$W/rootB" "$W/g1.img" "$W/g2.img"
		nothing_left
		kill_run $((took * 3)) $SL -R -c "$W/key" "$W/g1.img" \
		    "$W/g2.img"
		# A second -R would go forward again: only those not done.
		todo=
		for g in g1 g2; do
			id=$(rec "$W/$g.img" .sharedroot/root-id "$W/key") ||
			    atf_fail "-R: killed run $i left $g broken"
			[ "$id" = "$A" ] || [ "$id" = "$B" ] ||
			    atf_fail "-R: killed run $i left $g seeded from $id"
			[ "$id" = "$B" ] && todo="$todo $W/$g.img" &&
			    kept=$((kept + 1))
		done
		[ -z "$todo" ] ||
		    atf_check -o ignore -e ignore $SL -R -c "$W/key" $todo
		# Any next run clears a killed run's lock file: a dry one too.
		atf_check -o ignore -e ignore $SL -n -u -c "$W/key" "$W/rootA" \
		    "$W/g1.img" "$W/g2.img"
		for g in g1 g2; do
			rec_is "$A" "$W/$g.img" .sharedroot/root-id "$W/key"
			rec_is "${M}$g" "$W/$g.img" etc/myname "$W/key"
		done
		nothing_left
		i=$((i + 1))
	done
	echo "killed $killed encrypted runs: every image whole (the old one" \
	    "in $kept of $((K * 5)) images), nothing left"
}
killed_encrypted_runs_cleanup()
{
	undo_run
}

atf_test_case killed_plain_runs cleanup
killed_plain_runs_head()
{
	atf_set descr "An ordinary user's setup-local -f and setup-root -o killed at random moments: nothing left"
	atf_set timeout 900
}
killed_plain_runs_body()
{
	kl_fixture user
	K=${SR_KILLS:-5}
	killed=0
	kept=0
	ms $SL -h h0 -s 32m "$W/rootA" "$W/g.img"
	ms $SR -o "$W/root.img" "$W/rootA"
	i=1
	while [ $i -le $K ]; do
		ms $SL -f -h hx "$W/rootA" "$W/g.img"
		old=$(rec "$W/g.img" etc/myname)
		kill_run $took $SL -f -h h$i "$W/rootA" "$W/g.img"
		now=$(rec "$W/g.img" etc/myname) ||
		    atf_fail "killed run $i left a broken image"
		[ "$now" = "$old" ] || [ "$now" = "h$i" ] ||
		    atf_fail "killed run $i left hostname $now"
		[ "$now" = "$old" ] && kept=$((kept + 1))
		atf_check -o ignore -e ignore \
		    $SL -f -h h$i "$W/rootA" "$W/g.img"
		rec_is "h$i" "$W/g.img" etc/myname
		nothing_left
		ms $SR -f -o "$W/root.img" "$W/rootA"
		kill_run $took $SR -f -o "$W/root.img" "$W/rootB"
		id=$(rec "$W/root.img" .sharedroot/id) ||
		    atf_fail "killed setup-root $i left a broken root.img"
		[ "$id" = "$(cat "$W/rootA/.sharedroot/id")" ] &&
		    kept=$((kept + 1))
		atf_check -o ignore -e ignore $SR -f -o "$W/root.img" \
		    "$W/rootB"
		rec_is "$(cat "$W/rootB/.sharedroot/id")" "$W/root.img" .sharedroot/id
		nothing_left
		i=$((i + 1))
	done
	echo "killed $killed runs of an ordinary user: every image whole" \
	    "(the old one in $kept of $((K * 2))), nothing left"
}
killed_plain_runs_cleanup()
{
	undo_run
}

atf_test_case workers_die_with_parent cleanup
workers_die_with_parent_head()
{
	atf_set descr "setup-local -u killed outright: its workers die at once, and no image is replaced after"
}
workers_die_with_parent_body()
{
	kl_fixture
	private_tmpfs
	for g in g1 g2 g3 g4; do
		atf_check -o ignore -e ignore $SL -c "$W/key" -h ${M}$g \
		    -s 32m "$W/rootA" "$W/$g.img"
	done
	# The workers are held where they make their new images durable
	# (a preloaded gate, h_hold.c): mid-run when killed.
	makefs_gate "$W/bin"
	gate_shut "$W/bin"
	cp "$SR_TESTS/h_hold.so" "$W/bin/"
	env SR_HOLD="$W/bin" LD_PRELOAD="$W/bin/h_hold.so" $SL -u -c "$W/key" \
	    "$W/rootB" "$W/g1.img" "$W/g2.img" "$W/g3.img" "$W/g4.img" \
	    >/dev/null 2>&1 &
	p=$!
	wait_until 120 "no worker reached the gate" \
	    '[ $(gate_count "$W/bin" started) -ge 1 ]'
	# Holding a key and plaintext, it dumps no core.
	atf_check -o match:'^Max core file size +0 +0 ' cat /proc/$p/limits
	kill -9 $p
	wait $p
	t0=$(date +%s%N)
	while pgrep -f "$W/setup-local" >/dev/null; do
		[ $(( $(date +%s%N) - t0 )) -lt 500000000 ] ||
		    atf_fail "workers still running 0.5 s after their run was killed"
		sleep 0.01
	done
	stat -c '%n %i %Y %s' "$W"/g*.img > after.kill
	# The gate opened: a worker alive would go on and rename now.
	gate_open "$W/bin"
	sleep 1
	atf_check -o inline:'0\n' sh -c "ls '$W/bin' | grep -c '^makefs.done' || :"
	stat -c '%n %i %Y %s' "$W"/g*.img > later
	atf_check cmp after.kill later
	A=$(cat "$W/rootA/.sharedroot/id")
	for g in g1 g2 g3 g4; do
		rec_is "$A" "$W/$g.img" .sharedroot/root-id "$W/key"
	done
	# The next run finishes the job, and clears what they left.
	atf_check -o ignore -e ignore $SL -u -c "$W/key" "$W/rootB" \
	    "$W/g1.img" "$W/g2.img" "$W/g3.img" "$W/g4.img"
	gate_stop "$W/bin"
	rm -rf "$W/bin"
	nothing_left
}
workers_die_with_parent_cleanup()
{
	undo_run
}

atf_test_case live_temporaries_kept cleanup
live_temporaries_kept_head()
{
	atf_set descr "Only dead runs' temporaries are removed: a live run's, and one not yet locked, stay"
}
live_temporaries_kept_body()
{
	kl_fixture user
	atf_check -o ignore -e ignore $SL -h h0 -s 32m "$W/rootA" "$W/a.img"
	# A run held mid-way (where it makes its new image durable: a
	# preloaded gate, h_hold.c) on a.img...
	makefs_gate "$W/bin"
	gate_shut "$W/bin"
	cp "$SR_TESTS/h_hold.so" "$W/bin/"
	[ -n "$run" ] && chown -R 65534:65534 "$W/bin"
	$run env SHAREDROOT_SHAREDIR="$W/share" TMPDIR="$T" \
	    SR_HOLD="$W/bin" LD_PRELOAD="$W/bin/h_hold.so" "$W/setup-local" \
	    -f -h h1 "$W/rootA" "$W/a.img" >/dev/null 2>&1 &
	p=$!
	wait_until 120 "setup-local never reached the gate" \
	    '[ $(gate_count "$W/bin" started) = 1 ]'
	# A dead run's stage, a live process's not yet locked (pid 1), and
	# the stage of an older version (no lock, its process gone).
	$run mkdir "$T/sharedroot.1.aaaaaa" "$T/sharedroot-plain.999999999.bbbbbb"
	$run sh -c "mkdir '$T/sharedroot.999999998.cccccc' && : > '$T/sharedroot.999999998.cccccc/lock'"
	# ...while another run, on another image, clears dead runs' leftovers.
	atf_check -o ignore -e ignore $SL -h h2 -s 32m "$W/rootA" "$W/b.img"
	atf_check -o not-empty find "$W" -maxdepth 1 -name ".a.img.$p.*"
	atf_check test -d "$T/sharedroot.1.aaaaaa"
	atf_check test ! -e "$T/sharedroot-plain.999999999.bbbbbb"
	atf_check test ! -e "$T/sharedroot.999999998.cccccc"
	gate_open "$W/bin"
	wait $p
	atf_check_equal 0 $?
	rec_is 'h1' "$W/a.img" etc/myname
	rmdir "$T/sharedroot.1.aaaaaa"
	gate_stop "$W/bin"
	rm -rf "$W/bin"
	nothing_left
}
live_temporaries_kept_cleanup()
{
	undo_run
}

atf_init_test_cases()
{
	atf_add_test_case plaintext_never_on_disk
	atf_add_test_case crypt_needs_no_memory_fs
	atf_add_test_case killed_encrypted_runs
	atf_add_test_case killed_plain_runs
	atf_add_test_case workers_die_with_parent
	atf_add_test_case live_temporaries_kept
}
