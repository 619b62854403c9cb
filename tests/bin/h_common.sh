# Helpers shared by the atf-sh tests (prepended to each test program,
# after the lines that say where the staged install and the data are).

PATH=$SR_SBIN:$PATH
export PATH

# make_root SHAPE DIR: a small NetBSD root of the given shape (nb4 or
# nb10), as NETBSD.md describes it.  Device nodes need root; without it
# they are plain files, which is all setup-root needs to remove.
make_root()
{
	_shape=$1 _d=$2
	mkdir -p "$_d/etc" "$_d/dev" "$_d/usr/bin" "$_d/var/cron/tabs" \
	    "$_d/var/db" "$_d/tmp" "$_d/etc/ssh" "$_d/etc/rc.d" \
	    "$_d/etc/defaults" "$_d/dev/pts"
	cp "$SR_DATA/$_shape/rc" "$_d/etc/rc"
	cp "$SR_DATA/$_shape/MAKEDEV" "$_d/dev/MAKEDEV"
	chmod 0555 "$_d/dev/MAKEDEV"
	echo '# site devices' > "$_d/dev/MAKEDEV.local"
	printf 'old kernel\n' > "$_d/netbsd"
	if [ "$(id -u)" = 0 ]; then
		mknod "$_d/dev/console" c 0 0
		mknod "$_d/dev/wd0a" b 0 0
		mknod "$_d/dev/pts/0" c 5 2
	else
		: > "$_d/dev/console"; : > "$_d/dev/wd0a"; : > "$_d/dev/pts/0"
	fi
	ln -s wd0a "$_d/dev/root"
	chmod 1777 "$_d/tmp"
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

# mount_ro IMG DIR: look at an image as the test, read-only.
mount_ro()
{
	mkdir -p "$2"
	atf_check mount -o loop,ro "$1" "$2"
	undo_add "umount '$(pwd)/$2'"
}
