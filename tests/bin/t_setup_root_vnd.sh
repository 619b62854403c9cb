# The NetBSD back end (lib/image/attach_vnd.c, attach_cgd.c) run on this
# host against stubs of vndconfig(8), cgdconfig(8), newfs(8), mount(8)
# and umount(8) first in PATH.  The stubs model the real programs (the
# stub's own comment names NetBSD's sources it follows) and keep the
# kernel's state in nb/: what is configured on which vnd or cgd, what is
# mounted where, and what each image's file system holds (nb/trees/
# INODE, copied into the mount point and back out).  The cases assert
# that state and the image's tree, never the command lines.  Nothing is
# attached or mounted for real: an ordinary user runs these cases too,
# the tools run as root of a user namespace of the user's own ($asroot,
# unshare -r: no privilege), since only as root do they attach images.

# nb_stubs: the stubs first in PATH, the state empty.
nb_stubs()
{
	here=$(pwd)
	mkdir -p stubs nb/trees
	cat > stubs/nbdisk <<'STUB'
#!/bin/sh
# NetBSD's vndconfig(8), cgdconfig(8), newfs(8), mount(8) (with
# mount_ffs) and umount(8), modelled on their sources (NetBSD/src
# usr.sbin/vnconfig/vnconfig.c 1.33 and 1.41, sbin/cgdconfig/cgdconfig.c,
# sbin/mount/mount.c, sbin/umount/umount.c), one program a name of this
# file.  The kernel's state is kept in $NB_STATE:
#   vnd    "N INODE RO FILE": vndN configured on FILE (-r: RO 1)
#   cgd    "N VND PARAMSUM": cgdN configured on /dev/VNDa
#   mnt    "DIR DEV RO": DEV mounted on DIR
#   trees/INODE/  what the file system in the image of that inode holds
#                 (copied into the mount point and back out at umount)
#   history       one line a change of state, for the tests to read
#   violations    what the real kernel would have refused (a write on a
#                 read-only mount)
# Units vnd0-3 and cgd0-3 exist.  With MOUNT_KILL set, mount sends
# SIGTERM to its caller once mounted: a test's way to interrupt a run
# at that point, not a behaviour of mount.
# What is not modelled fails loudly: exit 2, "stub: ... not modelled".
S=${NB_STATE:?}
NUNIT=4
cmd=${0##*/}
touch "$S/vnd" "$S/cgd" "$S/mnt"
mkdir -p "$S/trees"

nm() { echo "stub: $cmd $*: not modelled" >&2; exit 2; }
hist() { echo "$*" >> "$S/history"; }
# field FILE KEY N: field N of the line whose first field is KEY.
field() { awk -v k="$2" -v n="$3" '$1 == k { print $n; exit }' "$S/$1"; }
drop() { awk -v k="$2" '$1 != k' "$S/$1" > "$S/$1.t" && mv "$S/$1.t" "$S/$1"; }
# unit DEV: "vnd 1" for vnd1, /dev/vnd1a, /dev/rvnd1d, vnd1a.
unit() {
	echo "$1" | sed -n -E 's#^(/dev/)?r?(vnd|cgd)([0-9]+)[a-p]?$#\2 \3#p'
}
# inode DEV: the inode of the image under a vnd or cgd, if configured.
inode() {
	set -- $(unit "$1")
	[ $# = 2 ] || return 0
	if [ "$1" = cgd ]; then
		v=$(field cgd "$2" 2) || return 0
		[ -n "$v" ] || return 0
		set -- $(unit "$v")
	fi
	field vnd "$2" 2
}
mounted_dev() { awk -v d="$1" '$2 == d' "$S/mnt" | grep -q .; }

vndconfig() {
	usage() {
		printf '%s%s' "usage: vnconfig [-crvz] [-f disktab] [-t typename] vnode_disk regular-file [geomspec]\n" \
		    "       vnconfig -u [-Fv] vnode_disk\n       vnconfig -l [vnode_disk]\n" >&2
		exit 1
	}
	act=config ro=0 verbose=0
	while getopts Fcf:lrt:uvz o; do
		case $o in
		c) act=config ;; l) act=list ;; u) act=unconfig ;;
		r) ro=1 ;; v) verbose=1 ;;
		F|f|t|z) nm "-$o" ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	case $act in
	list)	[ $# -le 1 ] || usage
		[ $# = 0 ] || nm "-l $1"
		for n in $(seq 0 $((NUNIT - 1))); do
			i=$(field vnd $n 2)
			# show(): the file system holding the file, as
			# "MNTON (MNTFROM) ", and its inode; never its path.
			if [ -n "$i" ]; then
				echo "vnd$n: / (/dev/wd0a) inode $i"
			else
				echo "vnd$n: not in use"
			fi
		done
		exit 0 ;;
	unconfig)
		[ $# = 1 ] || usage
		set -- "$1" $(unit "$1")
		[ $# = 3 ] && [ "$2" = vnd ] && [ "$3" -lt $NUNIT ] || {
			echo "vndconfig: /dev/r${1#/dev/}: opendisk: No such file or directory" >&2
			exit 1; }
		r=/dev/rvnd$3d
		if [ -z "$(field vnd $3 2)" ]; then
			echo "vndconfig: $r: VNDIOCCLR: Device not configured" >&2
			exit 1
		fi
		# Open elsewhere (mounted, or a cgd on it): EBUSY.
		if mounted_dev /dev/vnd$3a ||
		    awk -v d=/dev/vnd$3a '$2 == d' "$S/cgd" | grep -q .; then
			echo "vndconfig: $r: VNDIOCCLR: Device busy" >&2
			exit 1
		fi
		drop vnd $3
		hist "vnd$3 unconfigured"
		[ $verbose = 0 ] || echo "$r: cleared"
		exit 0 ;;
	esac
	[ $# -ge 2 ] && [ $# -le 3 ] || usage
	[ $# = 2 ] || nm "geomspec $3"
	set -- "$1" "$2" $(unit "$1")
	[ $# = 4 ] && [ "$3" = vnd ] && [ "$4" -lt $NUNIT ] || {
		echo "vndconfig: /dev/r${1#/dev/}: opendisk: No such file or directory" >&2
		exit 1; }
	r=/dev/rvnd$4d
	# config(): a file it cannot open is only warned about, and the
	# status stays 0 (rv is not set on that path).
	if [ ! -e "$2" ]; then
		echo "vndconfig: $2: No such file or directory" >&2; exit 0
	fi
	ok=1
	[ -r "$2" ] || ok=0
	[ $ro = 1 ] || [ -w "$2" ] || ok=0
	if [ $ok = 0 ]; then
		echo "vndconfig: $2: Permission denied" >&2; exit 0
	fi
	if [ -n "$(field vnd $4 2)" ]; then
		echo "vndconfig: $r: VNDIOCSET: Device busy" >&2
		exit 1
	fi
	i=$(stat -L -c %i "$2")
	echo "$4 $i $ro $(realpath "$2")" >> "$S/vnd"
	hist "vnd$4 configured inode $i ro $ro"
	exit 0
}

cgdconfig() {
	usage() {
		echo "usage: cgdconfig [-nv] [-V vmeth] cgd dev [paramsfile]" >&2
		echo "       cgdconfig -u [-nv] cgd" >&2
		exit 1
	}
	act=config
	while getopts CGUV:b:f:gi:k:lno:usv o; do
		case $o in
		l) act=list ;; u) act=unconfig ;; v) ;;
		C|G|U|V|b|f|g|i|k|n|o|s) nm "-$o" ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	case $act in
	list)	[ $# = 0 ] || nm "-l $1"
		for n in $(seq 0 $((NUNIT - 1))); do
			v=$(field cgd $n 2)
			# show(): devname() of the disk, then a space.
			if [ -n "$v" ]; then
				echo "cgd$n: ${v#/dev/} "
			else
				echo "cgd$n: not in use"
			fi
		done
		exit 0 ;;
	unconfig)
		[ $# = 1 ] || usage
		set -- $(unit "$1")
		[ $# = 2 ] && [ "$1" = cgd ] && [ "$2" -lt $NUNIT ] ||
		    nm "-u of a device that is not a cgd"
		if [ -z "$(field cgd $2 2)" ]; then
			echo "ioctl: Device not configured" >&2; exit 255
		fi
		if mounted_dev /dev/cgd$2a; then
			echo "ioctl: Device busy" >&2; exit 255
		fi
		drop cgd $2
		hist "cgd$2 unconfigured"
		exit 0 ;;
	esac
	case $# in
	2) nm "params from /etc/cgd" ;;
	3) cgd_config "$@" ;;
	*) echo "cgdconfig: wrong number of args" >&2; usage ;;
	esac
}

# cgd_config CGD DEV PARAMSFILE: configure() and configure_params().
cgd_config() {
	c=$1 d=$2 p=$3
	if [ ! -r "$p" ]; then
		echo "cgdconfig: $p: No such file or directory" >&2; exit 255
	fi
	grep -q '^algorithm ' "$p" && grep -q '^keygen ' "$p" || {
		echo "cgdconfig: params invalid" >&2; exit 255; }
	set -- $(unit "$c")
	[ $# = 2 ] && [ "$1" = cgd ] && [ "$2" -lt $NUNIT ] || {
		echo "cgdconfig: can't open cgd \"$c\", \"/dev/r$c\"" >&2
		exit 255; }
	n=$2
	if [ -n "$(field cgd $n 2)" ]; then
		echo "ioctl: Device busy" >&2; exit 16
	fi
	set -- $(unit "$d")
	[ $# = 2 ] && [ "$1" = vnd ] || nm "a cgd on $d"
	if [ -z "$(field vnd $2 2)" ]; then
		echo "ioctl: Device not configured" >&2; exit 6
	fi
	if mounted_dev /dev/vnd$2a; then
		echo "ioctl: Device busy" >&2; exit 16
	fi
	i=$(field vnd $2 2)
	sum=$(cksum < "$p" | cut -d' ' -f1)
	# verify(): verify_method ffs looks for a superblock through the
	# cgd; without one the real program asks for the key again, for
	# ever with a stored key.
	if grep -q '^verify_method ffs' "$p" && [ ! -d "$S/trees/$i" ]; then
		nm "verify_method ffs with no file system (it asks again)"
	fi
	echo "$n /dev/vnd$2a $sum" >> "$S/cgd"
	hist "cgd$n configured on /dev/vnd$2a"
	exit 0
}

newfs() {
	[ $# = 1 ] || nm "$*"
	set -- "$1" $(unit "$1")
	[ $# = 3 ] || nm "$1"
	i=$(inode "$1")
	if [ -z "$i" ]; then
		echo "newfs: $1: Device not configured" >&2; exit 1
	fi
	if [ "$2" = vnd ] &&
	    awk -v d=/dev/vnd$3a '$2 == d' "$S/cgd" | grep -q .; then
		echo "newfs: $1: Device busy" >&2; exit 1
	fi
	if mounted_dev /dev/$2$3a; then
		echo "newfs: /dev/$2$3a is mounted" >&2; exit 1
	fi
	rm -rf "$S/trees/$i"
	mkdir "$S/trees/$i"
	hist "newfs on $2$3 inode $i"
	exit 0
}

mount() {
	usage() {
		echo "usage: mount [-Aadfruvw] [-t type]" >&2
		echo "       mount [-dfruvw] special | node" >&2
		echo "       mount [-dfruvw] [-o options] [-t type] special node" >&2
		exit 1
	}
	ro=0 upd=0 type= opts=
	while getopts Aadfo:rwt:uv o; do
		case $o in
		r) ro=1 ;; w) ro=0 ;; u) upd=1 ;; v) ;;
		o) opts="$opts,$OPTARG" ;;
		t) type=$OPTARG ;;
		A|a|d|f) nm "-$o" ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ -z "$type" ] || [ "$type" = ffs ] || nm "-t $type"
	# mount_ffs (getmntopts): the options it knows.
	for x in $(echo "$opts" | tr ',' ' '); do
		case $x in
		ro) ro=1 ;; rw) ro=0 ;;
		nodev|nosuid|noexec|noatime|nodevmtime|async|sync|log|update) ;;
		*) echo "mount_ffs: -o $x: option not supported" >&2
		   exit 1 ;;
		esac
	done
	case $# in
	1)	[ $upd = 1 ] || nm "fstab lookups"
		mount_update $ro "$1" ;;
	2)	[ $upd = 0 ] || nm "-u with two arguments" ;;
	*)	usage ;;
	esac
	dev=$1
	if ! d=$(realpath "$2" 2>/dev/null) || [ ! -d "$d" ]; then
		echo "mount: realpath $2: No such file or directory" >&2; exit 1
	fi
	set -- $(unit "$dev")
	[ $# = 2 ] || nm "$dev"
	i=$(inode "$dev")
	# getfslab() opens the device first (without -t): an unconfigured
	# vnd or cgd fails there, ENXIO; mount_ffs says it with -t ffs.
	if [ -z "$i" ]; then
		if [ -z "$type" ]; then
			echo "mount: cannot open \`$dev': Device not configured" >&2
		else
			echo "mount_ffs: $dev on $d: Device not configured" >&2
		fi
		exit 1
	fi
	if mounted_dev "$dev" || awk -v d="$d" '$1 == d' "$S/mnt" | grep -q . ||
	    { [ "$1" = vnd ] &&
	    awk -v d=/dev/vnd$2a '$2 == d' "$S/cgd" | grep -q .; }; then
		echo "mount_ffs: $dev on $d: Device busy" >&2; exit 1
	fi
	if [ $ro = 0 ] && [ "$1" = vnd ] && [ "$(field vnd $2 3)" = 1 ]; then
		echo "mount_ffs: $dev on $d: Read-only file system" >&2; exit 1
	fi
	# No superblock (nothing staged, no newfs): ffs_mountfs, EINVAL.
	if [ ! -d "$S/trees/$i" ]; then
		echo "mount_ffs: $dev on $d: Invalid argument" >&2; exit 1
	fi
	cp -a "$S/trees/$i/." "$d"/
	echo "$d $dev $ro" >> "$S/mnt"
	hist "mounted $dev ro $ro"
	[ -z "$MOUNT_KILL" ] || kill -TERM $PPID
	exit 0
}

# mount_update RO NODE: mount -u, the node looked up among the mounts.
mount_update() {
	d=$(realpath "$2" 2>/dev/null) || d=$2
	dev=$(awk -v d="$d" '$1 == d { print $2 }' "$S/mnt")
	if [ -z "$dev" ]; then
		echo "mount: unknown special file or file system $2." >&2
		exit 1
	fi
	i=$(inode "$dev")
	set -- $1 $(unit "$dev")
	if [ $1 = 0 ] && [ "$2" = vnd ] && [ "$(field vnd $3 3)" = 1 ]; then
		echo "mount_ffs: $dev on $d: Read-only file system" >&2
		exit 1
	fi
	was=$(awk -v d="$d" '$1 == d { print $3 }' "$S/mnt")
	awk -v d="$d" -v r=$1 '$1 == d { $3 = r } { print }' \
	    "$S/mnt" > "$S/mnt.t" && mv "$S/mnt.t" "$S/mnt"
	# Read-write from now on: what is there now is the image's.
	[ "$was" = 0 ] || [ $1 = 1 ] || check_ro "$d" "$i"
	hist "remounted $dev ro $1"
	exit 0
}

# snap DIR: each path's type, mode, owner, size, device and content.
snap() {
	(cd "$1" && find . -print0 | sort -z |
	    xargs -0 stat -c '%n %F %a %u %g %s %t,%T' &&
	    find . -type f -print0 | sort -z | xargs -0 -r md5sum &&
	    find . -type l -print0 | sort -z | xargs -0 -r -n1 readlink)
}

# check_ro DIR INODE: a read-only mount's tree must be as mounted.
check_ro() {
	if [ "$(snap "$S/trees/$2")" != "$(snap "$1")" ]; then
		echo "written while read-only: $1 (inode $2)" >> "$S/violations"
	fi
}

umount() {
	while getopts AaFfh:Rt:v o; do
		case $o in
		f|v) ;;
		A|a|F|h|R|t) nm "-$o" ;;
		*) echo "Usage: umount [-fvFR] [-t fstypelist] special | node" >&2
		   exit 1 ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -ge 1 ] || { echo "Usage: umount [-fvFR] [-t fstypelist] special | node" >&2; exit 1; }
	rc=0
	for a; do
		d=$(realpath "$a" 2>/dev/null) || d=$a
		line=$(awk -v d="$d" '$1 == d || $2 == d' "$S/mnt" | tail -n 1)
		if [ -z "$line" ]; then
			echo "umount: $d: not currently mounted" >&2
			rc=1; continue
		fi
		set -- $line
		i=$(inode "$2")
		if [ "$3" = 1 ]; then
			check_ro "$1" "$i"
		else
			rm -rf "$S/trees/$i" && mkdir "$S/trees/$i" &&
			    cp -a "$1"/. "$S/trees/$i"/
		fi
		find "$1" -mindepth 1 -delete
		awk -v d="$1" '$1 != d' "$S/mnt" > "$S/mnt.t" &&
		    mv "$S/mnt.t" "$S/mnt"
		hist "unmounted $2"
	done
	exit $rc
}

case $cmd in
vndconfig|vnconfig|cgdconfig|newfs|mount|umount) $cmd "$@" ;;
*) nm "$cmd" ;;
esac
STUB
	chmod +x stubs/nbdisk
	for c in vndconfig cgdconfig newfs mount umount; do
		ln -s nbdisk stubs/$c
	done
	export PATH=$here/stubs:$PATH SHAREDROOT_ATTACH=vnd NB_STATE=$here/nb
	: > nb/vnd
	: > nb/cgd
	: > nb/mnt
	asroot=
	if [ "$(id -u)" != 0 ]; then
		unshare -r true 2>/dev/null || atf_skip "needs root, or a user" \
		    "namespace (unshare -r) to run the tools as its root"
		asroot="unshare -r"
	fi
}

# stage IMG DIR: IMG (made, empty) holds a file system with DIR's tree.
stage()
{
	[ -e "$1" ] || : > "$1"
	cp -a "$2" "nb/trees/$(stat -c %i "$1")"
}

# hold N FILE INODE: another program holds vndN on FILE.
hold()
{
	echo "$1 $3 0 $2" >> nb/vnd
}

# fixture: the state before the run, to compare with after it.
fixture()
{
	cp nb/vnd fixture.vnd
	cp nb/cgd fixture.cgd
}

# released: the run left the units as it found them, nothing mounted,
# and never wrote through a read-only mount.
released()
{
	atf_check cmp fixture.vnd nb/vnd
	atf_check cmp fixture.cgd nb/cgd
	atf_check -o empty cat nb/mnt
	atf_check test ! -e nb/violations
	check_no_leftovers
}

# tree IMG: the image's file system, as the stubs hold it.
tree()
{
	echo "nb/trees/$(stat -c %i "$1")"
}

atf_test_case vnd_first_free_unit
vnd_first_free_unit_head()
{
	atf_set descr "The image on the first free vnd (busy ones skipped)," \
	    "mounted, prepared as a directory is, all released after"
}
vnd_first_free_unit_body()
{
	nb_stubs
	make_root nb4 tree
	cp -a tree ref
	stage root.img tree
	hold 0 /other0.img 12
	hold 2 /other2.img 14
	fixture
	atf_check -o match:prepared $asroot setup-root ref
	atf_check -o match:prepared $asroot setup-root root.img
	i=$(stat -c %i root.img)
	atf_check -o match:"^vnd1 configured inode $i ro 0\$" cat nb/history
	atf_check -o match:'^mounted /dev/vnd1a ro 0$' cat nb/history
	# The image holds what a directory run makes, and only that.
	digest ref > want
	digest "$(tree root.img)" > got
	atf_check cmp want got
	atf_check -o match:'^\. /etc/rc.pre-hooks$' cat "$(tree root.img)/etc/rc"
	atf_check -o inline:'MAKEDEV\nMAKEDEV.local\nMAKEDEV.orig\n' \
	    ls "$(tree root.img)/dev"
	released
}

atf_test_case vnd_dry_run_read_only
vnd_dry_run_read_only_head()
{
	atf_set descr "-n: the vnd read-only, mounted read-only, the image" \
	    "unchanged"
}
vnd_dry_run_read_only_body()
{
	nb_stubs
	make_root nb4 tree
	stage root.img tree
	fixture
	digest "$(tree root.img)" > before
	atf_check -o match:'dry run' $asroot setup-root -n root.img
	i=$(stat -c %i root.img)
	atf_check -o match:"^vnd0 configured inode $i ro 1\$" cat nb/history
	atf_check -o match:'^mounted /dev/vnd0a ro 1$' cat nb/history
	digest "$(tree root.img)" > after
	atf_check cmp before after
	released
}

atf_test_case vnd_in_use_refused
vnd_in_use_refused_head()
{
	atf_set descr "An image a vnd already holds is refused, nothing done"
}
vnd_in_use_refused_body()
{
	nb_stubs
	make_root nb4 tree
	stage root.img tree
	hold 0 "$(pwd)/root.img" "$(stat -c %i root.img)"
	fixture
	digest "$(tree root.img)" > before
	atf_check -s exit:1 \
	    -e inline:"setup-root: $(pwd)/root.img: attach: already attached to vnd0 (in use; detach it first)\n" \
	    $asroot setup-root "$(pwd)/root.img"
	digest "$(tree root.img)" > after
	atf_check cmp before after
	released
}

atf_test_case vnd_no_free_unit
vnd_no_free_unit_head()
{
	atf_set descr "Every vnd busy: refused in one line, nothing done"
}
vnd_no_free_unit_body()
{
	nb_stubs
	make_root nb4 tree
	stage root.img tree
	for n in 0 1 2 3; do
		hold $n /other$n.img $((20 + n))
	done
	fixture
	digest "$(tree root.img)" > before
	atf_check -s exit:1 \
	    -e inline:"setup-root: root.img: attach: no free vnd device\n" \
	    $asroot setup-root root.img
	digest "$(tree root.img)" > after
	atf_check cmp before after
	atf_check test ! -e nb/history
	released
}

atf_test_case vnd_mount_failure_detaches
vnd_mount_failure_detaches_head()
{
	atf_set descr "An image with no file system: mount fails, the vnd" \
	    "is detached, the mount point removed"
}
vnd_mount_failure_detaches_body()
{
	nb_stubs
	: > root.img
	hold 0 /other0.img 12
	fixture
	atf_check -s exit:1 -e save:err $asroot setup-root root.img
	atf_check -o match:'^mount_ffs: /dev/vnd1a on .*: Invalid argument$' \
	    sed -n 1p err
	atf_check -o match:'^setup-root: root.img: mount /dev/vnd1a: mount: exited with status 1' \
	    sed -n 2p err
	atf_check -o inline:'2\n' sh -c 'wc -l < err'
	atf_check -o match:'^vnd1 unconfigured$' tail -n 1 nb/history
	atf_check test ! -e "$(tree root.img)"
	released
}

atf_test_case vnd_interrupted_unwinds
vnd_interrupted_unwinds_head()
{
	atf_set descr "SIGTERM after mounting: unmounted, detached, nothing" \
	    "written"
}
vnd_interrupted_unwinds_body()
{
	nb_stubs
	make_root nb4 tree
	stage root.img tree
	fixture
	digest "$(tree root.img)" > before
	export MOUNT_KILL=1
	atf_check -s exit:1 -e match:'interrupted by signal 15' \
	    $asroot setup-root root.img
	digest "$(tree root.img)" > after
	atf_check cmp before after
	atf_check -o match:'^unmounted /dev/vnd0a$' cat nb/history
	released
}

# The params file of a cgd with a stored key (cgdconfig(8)).
params()
{
	cat > "$1" <<'P'
algorithm aes-xts;
iv-method encblkno1;
keylength 512;
verify_method ffs;
keygen storedkey key AAACAAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=;
P
	[ -z "$2" ] || sed -i "s/verify_method ffs/verify_method $2/" "$1"
	chmod 0600 "$1"
}

atf_test_case vnd_setup_local_cgd
vnd_setup_local_cgd_head()
{
	atf_set descr "setup-local -c: a cgd on the image's vnd, mounted" \
	    "from it read-only then read-write, provisioned, all released"
}
vnd_setup_local_cgd_body()
{
	nb_stubs
	make_root nb10 root
	# Prepared as a directory: no vnd for it.
	atf_check -o ignore $asroot setup-root root
	params key
	mkdir empty
	stage local.img empty
	hold 0 /other0.img 12
	echo "0 /dev/vnd0a 1" >> nb/cgd
	fixture
	atf_check -o match:provisioned $asroot setup-local -c key root \
	    local.img
	atf_check -o match:'^cgd1 configured on /dev/vnd1a$' cat nb/history
	atf_check -o match:'^mounted /dev/cgd1a ro 1$' cat nb/history
	atf_check -o match:'^remounted /dev/cgd1a ro 0$' cat nb/history
	atf_check -o match:'^/dev/xbd2a' cat "$(tree local.img)/etc/fstab"
	released
}

atf_test_case vnd_create_cgd
vnd_create_cgd_head()
{
	atf_set descr "setup-local -c -s: a new image's file system is made" \
	    "on the cgd over its vnd, mounted from it, all undone in reverse"
}
vnd_create_cgd_body()
{
	nb_stubs
	make_root nb10 root
	atf_check -o ignore $asroot setup-root root
	# verify_method none: a new volume has no file system for ffs to
	# find, and cgdconfig would ask for the key again for ever.
	params key none
	fixture
	atf_check -o match:provisioned $asroot setup-local -z -c key -s 8m \
	    root new.img
	atf_check test -f new.img
	atf_check -o match:'^newfs on cgd0 inode ' cat nb/history
	atf_check -o match:'^/dev/xbd2a' cat "$(tree new.img)/etc/fstab"
	released
}

atf_test_case vnd_cgd_failure_detaches
vnd_cgd_failure_detaches_head()
{
	atf_set descr "setup-local -c: cgdconfig refusing the params file" \
	    "leaves the vnd detached and the image as it was"
}
vnd_cgd_failure_detaches_body()
{
	nb_stubs
	make_root nb10 root
	atf_check -o ignore $asroot setup-root root
	# Parsed by cgdconfig only: no algorithm, so "params invalid".
	params key
	sed -i '/^algorithm/d' key
	mkdir empty
	stage local.img empty
	fixture
	atf_check -s exit:1 -e save:err $asroot setup-local -c key root \
	    local.img
	atf_check -o inline:'cgdconfig: params invalid\n' sed -n 1p err
	atf_check -o match:'^setup-local: local.img: attach cgd: cgdconfig: exited with status 255' \
	    sed -n 2p err
	atf_check -o inline:'2\n' sh -c 'wc -l < err'
	atf_check -o match:'^vnd0 unconfigured$' tail -n 1 nb/history
	atf_check -o empty find "$(tree local.img)" -mindepth 1
	released
}

atf_test_case vnd_cgd_interrupted_unwinds
vnd_cgd_interrupted_unwinds_head()
{
	atf_set descr "setup-local -c, SIGTERM after mounting the cgd:" \
	    "unmounted, cgd and vnd unconfigured, nothing written"
}
vnd_cgd_interrupted_unwinds_body()
{
	nb_stubs
	make_root nb10 root
	atf_check -o ignore $asroot setup-root root
	params key
	mkdir empty
	stage local.img empty
	fixture
	export MOUNT_KILL=1
	atf_check -s exit:1 -e match:'interrupted by signal 15' \
	    $asroot setup-local -c key root local.img
	atf_check -o inline:'cgd0 unconfigured\nvnd0 unconfigured\n' \
	    sh -c 'tail -n 2 nb/history'
	atf_check -o empty find "$(tree local.img)" -mindepth 1
	released
}

atf_test_case vnd_stubs_model
vnd_stubs_model_head()
{
	atf_set descr "The stubs fail where NetBSD's programs do: busy and" \
	    "unconfigured units, usage errors, not mounted"
}
vnd_stubs_model_body()
{
	nb_stubs
	mkdir tree m m2
	stage a.img tree
	: > b.img
	atf_check -s exit:1 -e match:'^usage: vnconfig ' vndconfig -q vnd0 a.img
	atf_check -s exit:1 -e match:'^usage: mount ' mount -x /dev/vnd0a m
	atf_check -s exit:1 -e match:'^usage: cgdconfig ' cgdconfig -Q
	atf_check vndconfig vnd0 a.img
	atf_check -s exit:1 \
	    -e inline:'vndconfig: /dev/rvnd0d: VNDIOCSET: Device busy\n' \
	    vndconfig vnd0 b.img
	# A missing file is only warned about (vnconfig.c config()).
	atf_check -e inline:'vndconfig: nothere: No such file or directory\n' \
	    vndconfig vnd1 nothere
	atf_check -o inline:"vnd0: / (/dev/wd0a) inode $(stat -c %i a.img)
vnd1: not in use
vnd2: not in use
vnd3: not in use
" vndconfig -l
	atf_check -s exit:1 \
	    -e inline:"mount: cannot open \`/dev/vnd1a': Device not configured\n" \
	    mount /dev/vnd1a m
	atf_check -s exit:1 \
	    -e inline:"mount_ffs: /dev/vnd1a on $(pwd)/m: Device not configured\n" \
	    mount -t ffs /dev/vnd1a m
	atf_check -s exit:1 \
	    -e inline:"mount_ffs: -o bogus: option not supported\n" \
	    mount -o bogus /dev/vnd0a m
	atf_check -s exit:1 \
	    -e inline:"umount: $(pwd)/m: not currently mounted\n" umount m
	atf_check mount -r /dev/vnd0a m
	atf_check -s exit:1 \
	    -e inline:"mount_ffs: /dev/vnd0a on $(pwd)/m2: Device busy\n" \
	    mount /dev/vnd0a m2
	atf_check -s exit:1 \
	    -e inline:'vndconfig: /dev/rvnd0d: VNDIOCCLR: Device busy\n' \
	    vndconfig -u vnd0
	atf_check -s exit:1 \
	    -e inline:"mount: unknown special file or file system m2.\n" \
	    mount -u -w m2
	atf_check mount -u -w m
	echo new > m/file
	atf_check umount m
	atf_check -o inline:'new\n' cat "$(tree a.img)/file"
	atf_check vndconfig -u vnd0
	atf_check -s exit:1 \
	    -e inline:'vndconfig: /dev/rvnd0d: VNDIOCCLR: Device not configured\n' \
	    vndconfig -u vnd0
	atf_check -o empty cat nb/vnd nb/mnt
	# A read-only vnd: no read-write mount of it.
	atf_check vndconfig -r vnd0 a.img
	atf_check -s exit:1 \
	    -e inline:"mount_ffs: /dev/vnd0a on $(pwd)/m: Read-only file system\n" \
	    mount /dev/vnd0a m
	atf_check mount -r /dev/vnd0a m
	atf_check -s exit:1 \
	    -e inline:"mount_ffs: /dev/vnd0a on $(pwd)/m: Read-only file system\n" \
	    mount -u -w m
	atf_check umount m
	atf_check vndconfig -u vnd0
	atf_check test ! -e nb/violations
	# A cgd holds its vnd: neither detached nor mounted under it; the
	# cgd itself busy while mounted.
	params key
	atf_check vndconfig vnd1 a.img
	atf_check -s exit:6 -e inline:'ioctl: Device not configured\n' \
	    cgdconfig cgd0 /dev/vnd0a key
	atf_check cgdconfig cgd0 /dev/vnd1a key
	atf_check -o inline:'cgd0: vnd1a \ncgd1: not in use\ncgd2: not in use\ncgd3: not in use\n' \
	    cgdconfig -l
	atf_check -s exit:1 \
	    -e inline:'vndconfig: /dev/rvnd1d: VNDIOCCLR: Device busy\n' \
	    vndconfig -u vnd1
	atf_check -s exit:1 \
	    -e inline:"mount_ffs: /dev/vnd1a on $(pwd)/m: Device busy\n" \
	    mount /dev/vnd1a m
	atf_check mount /dev/cgd0a m
	atf_check -s exit:255 -e inline:'ioctl: Device busy\n' cgdconfig -u cgd0
	atf_check umount /dev/cgd0a
	atf_check cgdconfig -u cgd0
	atf_check -s exit:255 -e inline:'ioctl: Device not configured\n' \
	    cgdconfig -u cgd0
	atf_check vndconfig -u vnd1
	atf_check -o empty cat nb/vnd nb/cgd nb/mnt
}

atf_init_test_cases()
{
	atf_add_test_case vnd_stubs_model
	atf_add_test_case vnd_first_free_unit
	atf_add_test_case vnd_dry_run_read_only
	atf_add_test_case vnd_in_use_refused
	atf_add_test_case vnd_no_free_unit
	atf_add_test_case vnd_mount_failure_detaches
	atf_add_test_case vnd_interrupted_unwinds
	atf_add_test_case vnd_setup_local_cgd
	atf_add_test_case vnd_create_cgd
	atf_add_test_case vnd_cgd_failure_detaches
	atf_add_test_case vnd_cgd_interrupted_unwinds
}
