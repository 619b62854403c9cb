# Helpers shared by the atf-sh tests, sourced by each test program
# (installed beside them: the Makefile's test-files) after the lines
# that say where the staged install is.
#
# $SR_TESTS is where the test programs are installed, with the helper
# programs (h_*), the scripts and data they read (data/, sample-root.sh,
# demo.sh, docs/, fuzz/): atf_get_srcdir, made absolute here, while the
# directory the program was started from is the current one.
SR_TESTS=$(cd "$(atf_get_srcdir)" && pwd)
SR_DATA=$SR_TESTS/data

# A rule for every stub a test puts first in PATH in place of a real
# program (cryptsetup, losetup, xenstore-*, mount, fsck, vndconfig,
# ...): it models that program's documented behaviour, read in its
# manual or source and named in the stub's comment, and keeps the state
# the real one would (what is attached, mapped or mounted, and with
# which key), so that the test asserts an outcome.  It never just
# records the command line we expect to pass it: a test comparing such
# a record locks in a wrong command as firmly as a right one.  What the
# stub does not model it refuses loudly (exit 2, "stub: ... not
# modelled"), and where a program's own test vectors exist, a test
# checks the stub against them (t_block_cgd: cryptsetup's).

# The sbin directories too: an ordinary user's PATH lacks them, and
# makefs, mke2fs and losetup live there on Debian.
PATH=$SR_SBIN:$PATH:/usr/local/sbin:/usr/sbin:/sbin
export PATH

# make_root SHAPE DIR: a small NetBSD root of the given shape (nb4 or
# nb10), as mk/sample-root.sh makes it from tests/data.
make_root()
{
	atf_check sh "$SR_TESTS/sample-root.sh" "$1" "$2"
}

# digest DIR: every path with its type, mode, owner, size, link count
# and content hash; two equal digests mean two identical trees.
digest()
{
	(cd "$1" && find . -print0 | sort -z | xargs -0 stat -c \
	    '%n %F %a %u %g %s %h %t,%T' && find . -type f -print0 |
	    sort -z | xargs -0 -r md5sum && find . -type l -print0 |
	    sort -z | xargs -0 -r -n1 readlink)
}

# Skip unless we are root with working loop devices.
require_loop()
{
	[ "$(id -u)" = 0 ] || atf_skip "needs root to attach loop devices"
	[ -e /dev/loop-control ] || atf_skip "no /dev/loop-control"
	command -v losetup >/dev/null || atf_skip "no losetup"
	command -v mke2fs >/dev/null || atf_skip "no mke2fs"
	_f=$(losetup -f 2>/dev/null) || atf_skip "no free loop device"
}

# make_ext2 DIR IMG [SIZE]: an ext2 image holding DIR, made without
# mounting.
make_ext2()
{
	atf_check -o ignore -e ignore mke2fs -q -F -t ext2 -d "$1" "$2" \
	    "${3:-16M}"
}

# The undo file: each line a command the cleanup runs (in reverse).
undo_add()
{
	echo "$*" >> undo
}

undo_run()
{
	[ -f undo ] || return 0
	tac undo | while read -r _cmd; do
		eval "$_cmd" >/dev/null 2>&1 || true
	done
	rm -f undo
}

# hold_lock [-s] TARGET: another run holding TARGET's lock (tests/lib/
# h_lock.c: the tools' own lock; -s a reader's) until the test kills it;
# its pid in $holder.
hold_lock()
{
	rm -f lock.ready
	"$SR_TESTS/h_lock" "$@" lock.ready &
	holder=$!
	undo_add "kill $holder"
	wait_until 10 "h_lock did not take the lock" \
	    '[ -e lock.ready ] || ! kill -0 $holder 2>/dev/null'
	[ -e lock.ready ] || atf_fail "h_lock failed"
}

# wait_until SECONDS WHAT CONDITION: until the shell CONDITION holds,
# looked at every 10 ms; after SECONDS the test fails: WHAT never
# happened.  How a test waits for a run in the background to reach a
# point: on a file or a state that proves it got there, never a sleep.
wait_until()
{
	_wu_end=$(( $(date +%s) + $1 ))
	until eval "$3"; do
		[ "$(date +%s)" -le $_wu_end ] ||
		    atf_fail "$2 (waited $1 s)"
		sleep 0.01
	done
}

# lock_holder FILE: the pid of the process holding a POSIX lock on FILE
# (a lock file of the tools, lib/lock.c) as /proc/locks shows it;
# nothing when FILE is not there or not locked.
lock_holder()
{
	_lh_ino=$(stat -c %i "$1" 2>/dev/null) || return 0
	awk -v ino="$_lh_ino" '$2 == "POSIX" { n = split($6, f, ":");
	    if (f[n] == ino) { print $5; exit } }' /proc/locks
}

# makefs_gate DIR: DIR/makefs, put first in PATH in place of makefs(8),
# is the real makefs run unchanged, only started when the test lets it:
# a test holds a run at the point where it calls makefs, its locks held
# and its stage made.  Each start records its pid in DIR/makefs.pids
# (for gate_stop), makes DIR/makefs.started.PID, waits while the gate is
# shut (gate_shut DIR; it is open at first: gate_open DIR), runs makefs
# and makes DIR/makefs.done.PID.  Shut for 10 minutes, it fails as
# makefs fails: status 1, saying why.
makefs_gate()
{
	mkdir -p "$1"
	cat > "$1/makefs" <<EOF
#!/bin/sh
echo \$\$ >> "$1/makefs.pids"
: > "$1/makefs.started.\$\$"
_n=0
while [ ! -e "$1/makefs.go" ]; do
	_n=\$((_n + 1))
	if [ \$_n -ge 60000 ]; then
		echo "makefs: (test stub) the test never let it start" >&2
		exit 1
	fi
	sleep 0.01
done
$(command -v makefs) "\$@"
_rc=\$?
: > "$1/makefs.done.\$\$"
exit \$_rc
EOF
	chmod 0755 "$1/makefs"
	gate_open "$1"
	undo_add "gate_stop '$1'"
}

gate_open()
{
	: > "$1/makefs.go"
}

gate_shut()
{
	rm -f "$1/makefs.go"
}

# gate_count DIR started|done: how many makefs runs started, or ended.
gate_count()
{
	find "$1" -maxdepth 1 -name "makefs.$2.*" | wc -l
}

# gate_stop DIR: end the makefs stubs still waiting at the gate (a killed
# run's: by pid, each still the stub), and forget them all.
gate_stop()
{
	# A preloaded gate (h_hold.c) keeps no pids: its runs are the tools.
	for _p in $(cat "$1/makefs.pids" 2>/dev/null); do
		grep -qa "$1/makefs" /proc/$_p/cmdline 2>/dev/null &&
		    kill -9 "$_p" 2>/dev/null
	done
	rm -f "$1/makefs.pids" "$1"/makefs.started.* "$1"/makefs.done.*
}

# Nothing the tool attached or made is left: no loop device on the
# image, no mount point directory, no temporary file beside edits.
check_no_leftovers()
{
	if [ -n "$1" ] && [ -e "$1" ]; then
		atf_check -o empty losetup -j "$1"
	fi
	atf_check -o empty find "${TMPDIR:-/tmp}" -maxdepth 1 \
	    -name 'sharedroot.*'
}

# check_no_build_leftovers DIR: a build without mounting left neither a
# stage (sharedroot.*) nor a half-made image (.NAME.img.*) in DIR.
check_no_build_leftovers()
{
	atf_check -o empty find "$1" -maxdepth 1 -name 'sharedroot.*'
	atf_check -o empty find "$1" -maxdepth 1 -name '.*.img.*'
}

# mount_ro IMG DIR: look at an image as the test, read-only.
mount_ro()
{
	mkdir -p "$2"
	atf_check mount -o loop,ro "$1" "$2"
	undo_add "umount '$(pwd)/$2'"
}

# meta DIR: one line a path with what a faithful copy keeps: type, mode,
# owner, group, size, links, device numbers, the time of non-directories,
# content hash, link target and extended attributes.
meta()
{
	(cd "$1" && find . -print | LC_ALL=C sort | while read -r _p; do
		_l=$(stat -c '%F %a %u %g %s %h %t,%T' "$_p")
		[ -d "$_p" ] || _l="$_l $(stat -c %Y "$_p")"
		if [ -L "$_p" ]; then
			_l="$_l -> $(readlink "$_p")"
		elif [ -f "$_p" ]; then
			_l="$_l $(md5sum < "$_p" | cut -c1-32)"
		fi
		if [ -z "$META_NOXATTR" ] && [ ! -L "$_p" ] &&
		    command -v getfattr >/dev/null 2>&1; then
			_l="$_l $(getfattr -d -m user. --absolute-names "$_p" \
			    2>/dev/null | grep -v '^#' | tr '\n' ' ')"
		fi
		echo "$_p $_l"
	done)
}

# sl_fixture SHAPE: a prepared root "root" and an empty local "local".
sl_fixture()
{
	make_root "$1" root
	atf_check -o ignore setup-root root
	mkdir local
}

# $as_user, put before a command, runs it as an ordinary user (nobody
# when we are root).
as_user=
if [ "$(id -u)" = 0 ]; then
	as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi

# ino IMG PATH: the inode of PATH in an FFS image, as sleuthkit sees it.
ino()
{
	fls -r -p "$1" | awk -F'\t' -v p="$2" '$2 == p { split($1, a, " ");
	    n = a[2]; sub(/^\*/, "", n); sub(/:$/, "", n); print n }'
}

# meta_img IMG PATH: "uid gid rwxr-xr-x" as istat sees it.
meta_img()
{
	istat "$1" "$(ino "$1" "$2")" | awk '/^uid \/ gid:/ { u = $4; g = $6 }
	    /^mode:/ { m = substr($2, 2) } END { print u, g, m }'
}

# mac_rule NAME: the MAC address README.md gives a guest of that name:
# Xen's 00:16:3e, then the first three bytes of the SHA-256 of NAME, the
# first with its top bit set (computed here with openssl, not as the
# demo does it).
mac_rule()
{
	_h=$(printf %s "$1" | openssl dgst -sha256 -r | cut -c1-6)
	printf '00:16:3e:%02x:%s:%s\n' \
	    $((0x$(echo "$_h" | cut -c1-2) | 0x80)) \
	    "$(echo "$_h" | cut -c3-4)" "$(echo "$_h" | cut -c5-6)"
}

# ffs_check IMG [OFFSET LENGTH]: NetBSD's own kernel FFS and fsck_ffs
# (../shared/tools/netbsd-ffs, $SR_FFSCHECK) accept the image setup-root
# or setup-local wrote: mounted read-only and read whole, checked clean,
# then written and checked again (on a copy).  Where that checker is not
# beside the source tree, the image is not checked (said on stderr).
ffs_check()
{
	if [ ! -x "${SR_FFSCHECK:-}" ]; then
		echo "no ${SR_FFSCHECK:-ffs-check}: $1 not checked with NetBSD's FFS" >&2
		return 0
	fi
	if [ $# -ge 3 ]; then
		atf_check -o match:'fsck_ffs -n -f after the kernel wrote to it: clean' \
		    "$SR_FFSCHECK" -w -o "$2" -l "$3" "$1"
	else
		atf_check -o match:'fsck_ffs -n -f after the kernel wrote to it: clean' \
		    "$SR_FFSCHECK" -w "$1"
	fi
}
