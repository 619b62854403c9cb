# A prepared guest's boot, walked through the rc.d order with recording
# stubs that keep NetBSD's rules.  Each stub is modelled on the real
# source, not on what sharedroot expects:
#
#   fsck      sbin/fsck/fsck.c: with no argument, every fstab entry with a
#             pass number (isok(): fs_passno 0 is skipped); with one, the
#             entry found by getfsfile/getfsspec whatever its pass, else
#             -t's type, else the disk label's (a label-less xbd has a
#             made-up partition a of type 4.2BSD: ffs); a file system
#             mounted read-write on its mount point is not checked.
#   fsck_ffs  preen opens the raw device for writing first: a disk
#             attached read-only gives "NO WRITE ACCESS", exit 8.
#   mount     sbin/mount/mount.c: "mount /" is always an update with the
#             fstab's options; "mount PATH" takes type and options from
#             fstab; "mount DEV DIR" takes -t, else the label, else ffs;
#             -a skips what is mounted already; mount_TYPE fails on a
#             disk of another type, and read-write on a read-only disk.
#   umount -a unmounts all but /, except what is busy: /etc, which rc is
#             running from, and a file system a null mount still uses.
#   df        bin/df/df.c -G PATH: statvfs(2) of the file system PATH is
#             on, printed as a block whose fourth line names its type
#             ("null" for a null mount: layerfs_statvfs copies the lower
#             file system's counts but the mount's own type name).
#   rndctl    sbin/rndctl/rndctl.c: -S FILE writes a new 56-byte seed to
#             FILE.tmp (mode 0600) and renames it over FILE; -L FILE reads
#             FILE (too short: an error), feeds it in, and saves anew.
#   rc.d      root (umount -a; mount /; rm -f /fastboot), fsck_root
#             (today: skip / when its pass is 0), fsck (4.x, before root;
#             today, after it), mountcritlocal (rc.subr's
#             mount_critical_filesystems, which greps mount's output),
#             mountall (mount -a), random_seed (today's shape: NetBSD 6
#             on; etc/rc.d/random_seed as it is, but for host paths);
#             run_rc_command skips a script whose rcvar is not YES, and
#             runs start_postcmd only when the start command succeeded;
#             rc stops unless rc_configured is YES; rc.shutdown runs the
#             scripts with KEYWORD: shutdown, last first, with stop.
#
# The guest's own files (fstab, rc.conf, rc.conf.d/root) are the ones
# setup-local wrote; the hook is the one setup-root installed.

# sim SHAPE [setup-local options]: a prepared root and local, and the
# simulated machine in ./m.  DISK_LOCAL sets the local disk's type.
sim()
{
	SHAPE=$1
	make_root "$1" root
	shift
	atf_check -o ignore setup-root root
	mkdir local
	atf_check -o ignore -e ignore setup-local "$@" root local
	here=$(pwd)
	mkdir -p m stubs
	printf '/dev/xbd0a on / type ffs (read-only)\n' > m/mounts
	printf 'xbd0a ffs ro\nxbd1a none rw\nxbd2a %s rw\nxbd3a ffs ro\n' \
	    "${DISK_LOCAL:-ffs}" > m/disks
	: > m/log
	sed -e "s|^_sr_local_etc=.*|_sr_local_etc=$here/local/etc|" \
	    -e "s|^_sr_local_var=.*|_sr_local_var=$here/local/var|" \
	    -e "s|^_sr_rc=.*|_sr_rc=$here/guest-rc|" \
	    -e "s|^_sr_root_id=.*|_sr_root_id=$here/root/.sharedroot/id|" \
	    -e "s|^_sr_local_id=.*|_sr_local_id=$here/local/.sharedroot/root-id|" \
	    root/etc/rc.pre-hooks > hook
	write_lib
	write_stubs
	write_rcd "$SHAPE"
	write_guest_rc
	write_guest_shutdown
	# What the shared root's /etc/rc does before rc.subr: the hook.
	printf '. %s/hook\necho "shared rc went on" >> %s/m/log\n' "$here" \
	    "$here" > shared-rc
	# The boot: the kernel has mounted xbd0a read-only on /, and init
	# runs the shared root's /etc/rc.
	BOOT="env PATH=$here/stubs:$PATH SIMLIB=$here/lib.sh sh shared-rc autoboot"
	# shutdown(8) runs the guest's /etc/rc.shutdown.
	SHUTDOWN="env PATH=$here/stubs:$PATH SIMLIB=$here/lib.sh sh guest-rc.shutdown"
}

write_lib()
{
	cat > lib.sh <<EOF
SIM=$here
EOF
	cat >> lib.sh <<'EOF'
M=$SIM/m
log() { echo "$*" >> "$M/log"; }
# A guest path on the host: /etc and /var are the local's once the
# null mounts are there, the shared root's before.
gpath()
{
	case "$1" in
	/etc/*|/etc) grep -q ' on /etc type null' "$M/mounts" &&
	    { echo "$SIM/local${1}"; return; } ;;
	/var/*|/var) grep -q ' on /var type null' "$M/mounts" &&
	    { echo "$SIM/local${1}"; return; } ;;
	/local/*|/local) echo "$SIM/local${1#/local}"; return ;;
	esac
	echo "$SIM/root$1"
}
# disk DEV: its type and how it is attached ("ffs ro").
disk()
{
	_d=${1#/dev/}
	_d=${_d#r}
	awk -v d="$_d" '$1 == d { print $2, $3 }' "$M/disks"
}
# The fstab entry whose file or spec is $1: "spec file type opts pass".
fstab_find()
{
	awk -v a="$1" '!/^#/ && NF >= 4 && ($1 == a || $2 == a) {
	    print $1, $2, $3, $4, ($6 == "" ? 0 : $6); exit }' \
	    "$(gpath /etc/fstab)"
}
mounted_on() { awk -v p="$1" '$3 == p' "$M/mounts"; }
add_mount() { echo "$1 on $2 type $3${4:+ ($4)}" >> "$M/mounts"; }
del_mount()
{
	awk -v p="$1" '$3 != p' "$M/mounts" > "$M/mounts.new"
	mv "$M/mounts.new" "$M/mounts"
}
EOF
}

write_stubs()
{
	# fsck(8)
	cat > stubs/fsck <<'EOF'
#!/bin/sh
. "$SIMLIB"
log "fsck $*"
preen= type=
while getopts pt: o; do
	case $o in p) preen=-p ;; t) type=$OPTARG ;; esac
done
shift $((OPTIND - 1))
rv=0
if [ $# -eq 0 ]; then
	# checkfstab(): every entry isok() passes: pass number not 0.
	while read -r spec file vfs opts freq pass; do
		case "$spec" in \#*|'') continue ;; esac
		[ "${pass:-0}" = 0 ] && continue
		case ",$opts," in *,rw,*|*,ro,*) ;; *) continue ;; esac
		fsck_$vfs $preen "$spec" || rv=$?
	done < "$(gpath /etc/fstab)"
	exit $rv
fi
for a; do
	set -- $(fstab_find "$a")
	if [ $# -gt 0 ]; then
		spec=$1 file=$2 vfs=$3 opts=$4
	else
		spec=$a file=$a vfs=${type:-$(disk "$a" | cut -d' ' -f1)}
		# A label-less disk: the made-up partition a is 4.2BSD.
		[ -n "$vfs" ] || vfs=ffs
	fi
	m=$(mounted_on "$file")
	case "$m" in
	*"(read-only)"*|'') ;;
	*) echo "$spec: file system is mounted read-write on $file; not checking"
	   continue ;;
	esac
	fsck_$vfs $preen "$spec" || rv=$?
done
exit $rv
EOF
	# fsck_ffs(8), and what any other checker does with an FFS disk.
	cat > stubs/fsck_ffs <<'EOF'
#!/bin/sh
. "$SIMLIB"
dev=$2; [ "$1" = -p ] || dev=$1
log "fsck_ffs $*"
set -- $(disk "$dev")
if [ "$1" != ffs ]; then
	echo "$dev: BAD SUPER BLOCK: MAGIC NUMBER WRONG" >&2
	exit 8
fi
if [ "$2" = ro ]; then
	echo "$dev: NO WRITE ACCESS" >&2
	echo "$dev: UNEXPECTED INCONSISTENCY; RUN fsck_ffs MANUALLY." >&2
	exit 8
fi
exit 0
EOF
	# mount(8) and mount_TYPE(8)
	cat > stubs/mount <<'EOF'
#!/bin/sh
. "$SIMLIB"
if [ $# -eq 0 ]; then
	cat "$M/mounts"
	exit 0
fi
log "mount $*"
type= ro= update= all= rw=
while getopts art:uwo: o; do
	case $o in a) all=1 ;; r) ro=1 ;; t) type=$OPTARG ;; u) update=1 ;;
	w) rw=1 ;; o) ;; esac
done
shift $((OPTIND - 1))
# mountfs(): "/" is always an update; mount_TYPE checks the disk.
mountfs()
{
	_vfs=$1 _spec=$2 _dir=$3 _opts=$4 _skip=$5
	_ro=
	case ",$_opts," in *,ro,*) _ro=1 ;; esac
	if [ "$_dir" = / ] || [ -n "$update" ]; then
		set -- $(disk "$(mounted_on "$_dir" | cut -d' ' -f1)")
		if [ -z "$_ro" ] && [ "$2" = ro ]; then
			echo "mount_$_vfs: $_spec on $_dir: Read-only file system" >&2
			return 1
		fi
		del_mount "$_dir"
		add_mount "$_spec" "$_dir" "$_vfs" "${_ro:+read-only}"
		return 0
	fi
	if [ -n "$_skip" ] && [ -n "$(mounted_on "$_dir")" ]; then
		return 0
	fi
	case $_vfs in
	null)
		[ -d "$(gpath "$_spec")" ] || { echo "mount_null: $_spec: No such file or directory" >&2; return 1; } ;;
	kernfs|procfs|ptyfs|tmpfs) ;;
	*)
		set -- $(disk "$_spec")
		if [ "$1" != "$_vfs" ]; then
			echo "mount_$_vfs: $_spec on $_dir: Inappropriate file type or format" >&2
			return 1
		fi
		if [ -z "$_ro" ] && [ "$2" = ro ]; then
			echo "mount_$_vfs: $_spec on $_dir: Read-only file system" >&2
			return 1
		fi ;;
	esac
	add_mount "$_spec" "$_dir" "$_vfs" "${_ro:+read-only}"
}
if [ -n "$all" ]; then
	rv=0
	while read -r spec file vfs opts rest; do
		case "$spec" in \#*|'') continue ;; esac
		case ",$opts," in *,noauto,*) continue ;; esac
		case ",$opts," in *,rw,*|*,ro,*) ;; *) continue ;; esac
		mountfs "$vfs" "$spec" "$file" "$opts" skip || rv=1
	done < "$(gpath /etc/fstab)"
	exit $rv
fi
if [ $# -eq 1 ]; then
	if [ -n "$update" ]; then
		m=$(mounted_on "$1")
		[ -n "$m" ] || { echo "mount: unknown special file or file system $1." >&2; exit 1; }
		set -- $m
		opts=rw
		[ -n "$ro" ] && opts=ro
		[ -z "$rw" ] && [ -z "$ro" ] && case "$m" in *read-only*) opts=ro ;; esac
		mountfs "$5" "$1" "$3" "$opts" || exit 1
		exit 0
	fi
	set -- $(fstab_find "$1") ""
	if [ -z "$1" ]; then
		echo "mount: $1: unknown special file or file system." >&2
		exit 1
	fi
	mountfs "$3" "$1" "$2" "$4" || exit 1
	exit 0
fi
vfs=${type:-$(disk "$1" | cut -d' ' -f1)}
[ -n "$vfs" ] || vfs=ffs
mountfs "$vfs" "$1" "$2" "${ro:+ro}" || exit 1
EOF
	cat > stubs/mount_null <<'EOF'
#!/bin/sh
. "$SIMLIB"
log "mount_null $*"
src=$1
case "$src" in "$SIM"/local/*) src=/local/${src#"$SIM"/local/} ;; esac
[ -d "$(gpath "$src")" ] || exit 1
add_mount "$src" "$2" null
EOF
	# umount -a: all but /, the last mounted first, unless busy.
	cat > stubs/umount <<'EOF'
#!/bin/sh
. "$SIMLIB"
log "umount $*"
[ "$1" = -a ] || exit 1
tac "$M/mounts" | while read -r spec on dir rest; do
	[ "$dir" = / ] && continue
	[ "$dir" = /etc ] && continue	# rc runs from it
	if awk -v d="$dir" '$5 == "null" && index($1, d "/") == 1' \
	    "$M/mounts" | grep -q .; then
		continue		# a null mount's source is on it
	fi
	del_mount "$dir"
done
exit 0
EOF
	# df(1) -G, as rc.d/random_seed asks it: the type of the file
	# system PATH is on, from the mount whose point is its longest
	# prefix (a null mount's own type, not its source's).
	cat > stubs/df <<'EOF'
#!/bin/sh
. "$SIMLIB"
log "df $*"
[ "$1" = -G ] || { echo "df: only -G is modelled" >&2; exit 1; }
shift
rv=0
for p; do
	if [ ! -e "$(gpath "$p")" ]; then
		echo "df: $p: No such file or directory" >&2
		rv=1
		continue
	fi
	m=$(awk -v p="$p" '{ d = $3
	    if ((d == "/" || p == d || index(p, d "/") == 1) &&
	    length(d) > best) { best = length(d); m = $1 " " $3 " " $5 } }
	    END { print m }' "$M/mounts")
	from=${m%% *} m=${m#* } on=${m%% *} type=${m#* }
	printf '%10s (%-12s): %7d block size %12d frag size\n' "$on" "$from" \
	    16384 2048
	printf '%10d total blocks %10d free blocks  %10d available\n' 8000 \
	    4000 3600
	printf '%10d total files  %10d free files %12x filesys id\n' 1000 \
	    900 1234
	printf '%10s fstype  %#15x flag  %17d filename length\n' "$type" \
	    4096 255
	printf '%10d owner %17d syncwrites %12d asyncwrites\n\n' 0 0 0
done
exit $rv
EOF
	# rndctl(8) -L and -S: a seed is an entropy count, 32 bytes of data
	# and their SHA-1 (56 bytes); each run leaves a new one.
	cat > stubs/rndctl <<'EOF'
#!/bin/sh
. "$SIMLIB"
log "rndctl $*"
save()
{
	if ! (umask 077 && head -c 56 /dev/urandom > "$1.tmp") 2>/dev/null; then
		echo "rndctl: open seed file to save: No such file or directory" >&2
		exit 1
	fi
	mv "$1.tmp" "$1"
}
f=$(gpath "$2")
case $1 in
-S)	save "$f" ;;
-L)	if [ ! -r "$f" ]; then
		echo "rndctl: open seed file to load: No such file or directory" >&2
		exit 1
	fi
	if [ "$(wc -c < "$f")" -lt 56 ]; then
		echo "rndctl: seed too short" >&2
		exit 1
	fi
	log "seed fed in: $(md5sum < "$f" | cut -c1-32)"
	save "$f" ;;
*)	exit 1 ;;
esac
EOF
	# rm: only what rc.d/root removes from the root matters here.
	cat > stubs/rm <<'EOF'
#!/bin/sh
. "$SIMLIB"
log "rm $*"
for a; do
	case "$a" in -*) continue ;; esac
	if [ -e "$(gpath "$a")" ] && mounted_on / | grep -q read-only; then
		echo "rm: $a: Read-only file system" >&2
		exit 1
	fi
done
exit 0
EOF
	chmod +x stubs/*
}

# write_rcd SHAPE: the rc.d scripts a boot runs up to multi-user, in
# rcorder's order for the shape, with rc.subr's run_rc_command.
write_rcd()
{
	mkdir -p rcd
	cat > rcd/subr <<'EOF'
. "$SIMLIB"
stop_boot()
{
	if [ "$autoboot" = yes ]; then
		echo "ERROR: ABORTING BOOT (sending SIGTERM to parent)!"
		kill -TERM ${RC_PID}
	fi
	exit 1
}
checkyesno()
{
	eval _value=\$${1}
	case $_value in
	[Yy][Ee][Ss]|[Tt][Rr][Uu][Ee]|[Oo][Nn]|1) return 0 ;;
	*) return 1 ;;
	esac
}
load_rc_config()
{
	_f=$(gpath /etc/rc.conf.d/$1)
	[ -f "$_f" ] && . "$_f"
	:
}
# rc.subr: nothing where rcvar is not YES; a custom start_cmd (or
# stop_cmd); postcmd only when it succeeded.
run_rc_command()
{
	if [ -n "$rcvar" ] && ! checkyesno $rcvar; then
		return 0
	fi
	eval _cmd=\$${1}_cmd _precmd=\$${1}_precmd _postcmd=\$${1}_postcmd
	if ! eval $_precmd && [ -z "$rc_force" ]; then
		return 1
	fi
	if ! eval $_cmd && [ -z "$rc_force" ]; then
		return 1
	fi
	eval $_postcmd
	return 0
}
nl='
'
mount_critical_filesystems()
{
	eval _fslist=\$critical_filesystems_${1}
	_mountcrit_es=0
	for _fs in $_fslist; do
		_optional=false
		case "$_fs" in
		OPTIONAL:*) _optional=true; _fs="${_fs#*:}" ;;
		esac
		_ismounted=false
		case "${nl}$( mount )${nl}" in
		*" on ${_fs} type "*) _ismounted=true ;;
		*"${nl}${_fs} on "*) _ismounted=true ;;
		esac
		if ! $_ismounted; then
			_mount_output=$( mount $_fs 2>&1 )
			_mount_es=$?
			case "$_mount_output" in
			*[uU]'nknown special file or file system'*)
				if $_optional; then
					_mount_es=0
					_mount_output=""
				fi ;;
			esac
			[ -n "$_mount_output" ] && printf >&2 "%s\n" "$_mount_output"
			[ "$_mount_es" != 0 ] && _mountcrit_es="$_mount_es"
		fi
	done
	return $_mountcrit_es
}
handle_fsck_error()
{
	case $1 in
	0) return ;;
	8) echo "Automatic file system check failed; help!" ;;
	*) echo "Unknown error $1; help!" ;;
	esac
	stop_boot
}
EOF
	cat > rcd/fsck_root <<'EOF'
name=fsck_root
start_cmd=fsck_root_start
fsck_root_start()
{
	if [ -e "$(gpath /fastboot)" ]; then
		echo "Fast boot: skipping disk checks."
		return
	fi
	while read fs_spec fs_file fs_vfstype fs_mntops fs_freq fs_passno
	do
		case "${fs_spec}:${fs_file}:${fs_passno:=0}" in
		\#*|'':*) continue ;;
		*:/:0)
			echo "Not checking /: fs_passno = 0 in /etc/fstab"
			return ;;
		*:/:*)
			echo "Starting root file system check:"
			fsck $fsck_flags /
			handle_fsck_error "$?"
			return ;;
		esac
	done < "$(gpath /etc/fstab)"
}
load_rc_config $name
run_rc_command start
EOF
	cat > rcd/fsck <<'EOF'
name=fsck
start_cmd=fsck_start
fsck_start()
{
	if [ -e "$(gpath /fastboot)" ]; then
		echo "Fast boot: skipping disk checks."
		return
	fi
	echo "Starting file system checks:"
	fsck $fsck_flags
	handle_fsck_error "$?"
}
load_rc_config $name
run_rc_command start
EOF
	cat > rcd/root <<'EOF'
name=root
start_cmd=root_start
root_start()
{
	umount -a >/dev/null 2>&1
	mount /
	rm -f /fastboot
}
load_rc_config $name
run_rc_command start
EOF
	cat > rcd/mountcritlocal <<'EOF'
name=mountcritlocal
start_cmd=mountcritlocal_start
mountcritlocal_start()
{
	mount_critical_filesystems local
}
load_rc_config $name
run_rc_command start
EOF
	cat > rcd/mountall <<'EOF'
name=mountall
start_cmd=mountall_start
mountall_start()
{
	echo 'Mounting all file systems...'
	mount -a
}
load_rc_config $name
run_rc_command start
EOF
	# rc.d/random_seed (NetBSD 6 on), as NetBSD has it but that the
	# files it looks at are the host's copies (gpath): the guest's root
	# is whoever runs the test.
	cat > rcd/random_seed <<'EOF'
# PROVIDE: random_seed
# REQUIRE: mountcritlocal
# BEFORE: securelevel
# BEFORE: bootconf
# KEYWORD: shutdown
name="random_seed"
rcvar=$name
start_cmd="random_load"
stop_cmd="random_save"
random_file="${random_file:-/var/db/entropy-file}"
message()
{
	echo "${name}: ${random_file}: $@" 1>&2
}
getfstype() {
	df -G "$1" | while read line; do
		set -- $line
		if [ "$2" = "fstype" ]; then
			echo "$1"
			return
		fi
	done
}
fs_safe()
{
	fstype="$(getfstype "$1")"
	case "${fstype}" in
	ffs|lfs|ext2fs|msdos|v7fs|zfs)
		return 0
		;;
	*)
		message "Bad file system type ${fstype}"
		return 1
		;;
	esac
}
random_load()
{
	if [ ! -f "$(gpath "${random_file}")" ]; then
		message "Not present"
		return
	fi
	if ! fs_safe "$(dirname "${random_file}")"; then
		return 1
	fi
	set -- $(ls -ldn "$(gpath "${random_file}")")
	st_mode="${1%[.+]}"	# GNU ls marks an ACL or a context: + or .
	st_uid="$3"
	if [ "$st_uid" != "$(id -u)" ]; then
		message "Bad owner ${st_uid}"
		return 1
	fi
	if [ "$st_mode" != "-rw-------" ]; then
		message "Bad mode ${st_mode}"
		return 1
	fi
	if rndctl -L "${random_file}"; then
		echo "Loaded entropy from ${random_file}."
	fi
}
random_save()
{
	oum="$(umask)"
	umask 077
	if ! fs_safe "$(dirname "${random_file}")"; then
		umask "${oum}"
		return 1
	fi
	if rndctl -S "${random_file}"; then
		echo "Saved entropy to ${random_file}."
	fi
	umask "${oum}"
}
load_rc_config "${name}"
run_rc_command "$1"
EOF
	if [ "$1" = nb4 ]; then
		echo "fsck root mountcritlocal mountall" > rcd/order
	else
		echo "fsck_root root mountcritlocal random_seed fsck mountall" \
		    > rcd/order
	fi
}

# The guest's own /etc/rc, re-run by the hook: rc.conf, rc_configured,
# then each rc.d script in a subshell, as run_rc_script does.
write_guest_rc()
{
	cat > guest-rc <<EOF
SIMLIB=$here/lib.sh
EOF
	cat >> guest-rc <<'EOF'
. "$SIMLIB"
RC_PID=$$
export SIMLIB
log "guest rc: $*"
_conf=$(gpath /etc/rc.conf)
case "$_conf" in "$SIM"/local/*) ;; *) echo "rc: /etc is not the guest's"; exit 1 ;; esac
eval "$(sed "s|/etc/defaults/rc.conf|$SIM/local/etc/defaults/rc.conf|g" "$_conf")"
if ! [ "$(echo $rc_configured | tr a-z A-Z)" = YES ]; then
	echo "/etc/rc.conf is not configured.  Multiuser boot aborted."
	exit 1
fi
[ "$1" = autoboot ] && autoboot=yes
: ${fsck_flags:=-p}
for _s in $(cat "$SIM/rcd/order"); do
	log "rc.d/$_s"
	( . "$SIM/rcd/subr"; set -- start; . "$SIM/rcd/$_s" )
done
log "multi-user"
echo "multi-user"
EOF
}

# The guest's /etc/rc.shutdown: rc.conf, then the scripts that stop at
# shutdown (rcorder -k shutdown), in reverse order, each with stop.
write_guest_shutdown()
{
	cat > guest-rc.shutdown <<EOF
SIMLIB=$here/lib.sh
EOF
	cat >> guest-rc.shutdown <<'EOF'
. "$SIMLIB"
export SIMLIB
log "guest rc.shutdown"
eval "$(sed "s|/etc/defaults/rc.conf|$SIM/local/etc/defaults/rc.conf|g" \
    "$(gpath /etc/rc.conf)")"
_list=
for _s in $(cat "$SIM/rcd/order"); do
	grep -q '^# KEYWORD: shutdown' "$SIM/rcd/$_s" && _list="$_s $_list"
done
for _s in $_list; do
	log "rc.d/$_s stop"
	( . "$SIM/rcd/subr"; set -- stop; . "$SIM/rcd/$_s" )
done
log "halted"
EOF
}


# The mount table a guest must come up with.
check_multiuser()
{
	atf_check -o match:'^/dev/xbd0a on / type ffs \(read-only\)$' \
	    -o match:'^/dev/xbd2a on /local type ffs$' \
	    -o match:'^/local/etc on /etc type null$' \
	    -o match:'^/local/var on /var type null$' \
	    -o match:'^/local/tmp on /tmp type null$' \
	    -o match:'^kernfs on /kern type kernfs$' \
	    cat m/mounts
	atf_check -o match:'^multi-user$' cat m/log
	atf_check -s exit:1 -o empty grep '^shared rc went on' m/log
	atf_check -s exit:1 -o empty grep '^/proc' m/mounts
}

atf_test_case boots_today
boots_today_head()
{
	atf_set descr "Today's shape, with a pkg disk: multi-user, everything mounted"
}
boots_today_body()
{
	sim nb10 -h g1
	atf_check -o save:out -e save:err $BOOT
	atf_check -o match:'Not checking /: fs_passno = 0' -o match:'^multi-user$' \
	    cat out
	check_multiuser
	atf_check -o match:'^/dev/xbd3a on /usr/pkg type ffs \(read-only\)$' \
	    cat m/mounts
	# The hook checked the local disk, as FFS, and nothing else was.
	atf_check -o inline:'fsck -t ffs -p /dev/rxbd2a\nfsck_ffs -p /dev/rxbd2a\nfsck -p\n' \
	    sh -c "grep '^fsck' m/log"
	atf_check -o match:'^mount -uw /local$' cat m/log
}

atf_test_case boots_4x_without_pkg
boots_4x_without_pkg_head()
{
	atf_set descr "The 4.x shape, no pkg disk: multi-user, nothing on /usr/pkg"
}
boots_4x_without_pkg_body()
{
	sim nb4 -P none
	atf_check -o save:out -e save:err $BOOT
	check_multiuser
	atf_check -s exit:1 -o empty grep /usr/pkg m/mounts
	# 4.x has no rc.d/random_seed: nothing set for it.
	atf_check -s exit:1 -o empty grep random_file local/etc/rc.conf
	atf_check -o match:'^rc.d/fsck$' cat m/log
}

atf_test_case boots_both_shapes_both_ways
boots_both_shapes_both_ways_head()
{
	atf_set descr "Both shapes, with and without a pkg disk"
}
boots_both_shapes_both_ways_body()
{
	for shape in nb4 nb10; do
		for pkg in '' '-P none'; do
			rm -rf root local m stubs rcd
			sim $shape $pkg
			atf_check -o save:out -e save:err $BOOT
			check_multiuser
		done
	done
}

atf_test_case old_fstab_passes_stop_boot
old_fstab_passes_stop_boot_head()
{
	atf_set descr "The model bites: pass numbers on read-only disks stop the boot"
}
old_fstab_passes_stop_boot_body()
{
	for shape in nb4 nb10; do
		rm -rf root local m stubs rcd
		sim $shape
		sed -i -e 's|^\(/dev/xbd0a.*\)0 0$|\11 1|' \
		    -e 's|^\(/dev/xbd3a.*\)0 0$|\11 2|' local/etc/fstab
		atf_check -s signal:15 -o match:'Automatic file system check failed' \
		    -e match:'NO WRITE ACCESS' $BOOT
		atf_check -s exit:1 -o empty grep '^multi-user' m/log
	done
}

atf_test_case other_root_stops_boot
other_root_stops_boot_head()
{
	atf_set descr "A local seeded from another root stops the boot before /etc is its"
}
other_root_stops_boot_body()
{
	sim nb10
	# The same root: multi-user.  A new release of the root: stopped.
	atf_check cmp root/.sharedroot/id local/.sharedroot/root-id
	echo 'changed by a release' >> root/etc/rc.conf
	atf_check -o ignore setup-root root
	atf_check -s signal:15 -e match:'was seeded from root .*, not this root' $BOOT
	atf_check -s exit:1 -o empty grep -E '^(mount_null|multi-user)' m/log
}

atf_test_case upgraded_guest_boots
upgraded_guest_boots_head()
{
	atf_set descr "A local upgraded to a new root (setup-local -u) boots" \
	    "it; the old root swapped back stops it until setup-local -R"
}
upgraded_guest_boots_body()
{
	sim nb10
	echo 'sshd=YES' >> local/etc/rc.conf
	cp -a root root.old
	# The release: a new setting in the root's rc.conf.
	echo 'ntpd=YES' >> root/etc/rc.conf
	atf_check -o ignore setup-root root
	atf_check -s signal:15 -e match:'not this root' $BOOT
	atf_check -o match:'upgraded from root' setup-local -u root local
	: > m/log
	atf_check -o ignore -e ignore $BOOT
	atf_check -o match:'^multi-user$' cat m/log
	atf_check -o match:'^mount_null .*/local/etc /etc' cat m/log
	# The guest's rc.conf has the release's setting and its own.
	atf_check -o match:'^ntpd=YES$' cat local/etc/rc.conf
	atf_check -o match:'^sshd=YES$' cat local/etc/rc.conf
	atf_check -o match:'^rc_configured=YES$' cat local/etc/rc.conf
	# It keeps its seed on the local disk.
	atf_check -o inline:'Saved entropy to /local/var/db/entropy-file.\n' \
	    $SHUTDOWN
	atf_check test -s local/var/db/entropy-file
	# Roll back: the old root.img swapped in stops the boot; -R mends it.
	rm -rf root && mv root.old root
	printf '/dev/xbd0a on / type ffs (read-only)\n' > m/mounts
	: > m/log
	atf_check -s signal:15 -e match:'not this root' $BOOT
	atf_check -o match:'rolled back' setup-local -R local
	printf '/dev/xbd0a on / type ffs (read-only)\n' > m/mounts
	: > m/log
	atf_check -o ignore -e ignore $BOOT
	atf_check -o match:'^multi-user$' cat m/log
	atf_check -s exit:1 grep '^ntpd=' local/etc/rc.conf
	atf_check -o match:'^sshd=YES$' cat local/etc/rc.conf
}

atf_test_case seed_kept_on_local
seed_kept_on_local_head()
{
	atf_set descr "The random seed is saved at shutdown to the local disk" \
	    "and loaded from it at the next boot (rc.d/random_seed)"
}
seed_kept_on_local_body()
{
	sim nb10
	atf_check -o match:'^random_file=/local/var/db/entropy-file$' \
	    cat local/etc/rc.conf
	atf_check test -d local/var/db
	atf_check test ! -e local/var/db/entropy-file
	# First boot: no seed yet (setup-local leaves the root's out).
	atf_check -o match:'^multi-user$' \
	    -e match:'^random_seed: /local/var/db/entropy-file: Not present$' \
	    $BOOT
	# As NetBSD's df says: /var is a null mount, /local is ffs.
	atf_check -o match:'^      null fstype' env SIMLIB=$here/lib.sh \
	    stubs/df -G /var/db
	atf_check -o match:'^       ffs fstype' env SIMLIB=$here/lib.sh \
	    stubs/df -G /local/var/db
	atf_check -o inline:'Saved entropy to /local/var/db/entropy-file.\n' \
	    -e empty $SHUTDOWN
	atf_check -o match:'^df -G /local/var/db$' \
	    -o match:'^rndctl -S /local/var/db/entropy-file$' cat m/log
	atf_check -o inline:'56 600\n' stat -c '%s %a' local/var/db/entropy-file
	saved=$(md5sum < local/var/db/entropy-file | cut -c1-32)
	# The next boot feeds that seed in and saves a new one.
	printf '/dev/xbd0a on / type ffs (read-only)\n' > m/mounts
	: > m/log
	atf_check -o match:'^Loaded entropy from /local/var/db/entropy-file\.$' \
	    -o match:'^multi-user$' -e empty $BOOT
	atf_check -o match:"^seed fed in: $saved\$" cat m/log
	atf_check test "$(md5sum < local/var/db/entropy-file | cut -c1-32)" != \
	    "$saved"
	atf_check -o inline:'56 600\n' stat -c '%s %a' local/var/db/entropy-file
}

atf_test_case seed_lost_on_null_mount
seed_lost_on_null_mount_head()
{
	atf_set descr "The model bites: with the default random_file on the" \
	    "null-mounted /var, the seed is neither saved nor loaded"
}
seed_lost_on_null_mount_body()
{
	sim nb10
	sed -i '/^random_file=/d' local/etc/rc.conf
	atf_check -o match:'^multi-user$' \
	    -e match:'^random_seed: /var/db/entropy-file: Not present$' $BOOT
	atf_check -s exit:0 -o empty \
	    -e inline:'random_seed: /var/db/entropy-file: Bad file system type null\n' \
	    $SHUTDOWN
	atf_check test ! -e local/var/db/entropy-file
	# A seed there all the same is not loaded either.
	head -c 56 /dev/urandom > local/var/db/entropy-file
	chmod 0600 local/var/db/entropy-file
	printf '/dev/xbd0a on / type ffs (read-only)\n' > m/mounts
	: > m/log
	atf_check -o match:'^multi-user$' \
	    -e match:'^random_seed: /var/db/entropy-file: Bad file system type null$' \
	    $BOOT
	atf_check -s exit:1 -o empty grep '^rndctl' m/log
}

atf_test_case ext2_local_stops_boot
ext2_local_stops_boot_head()
{
	atf_set descr "A local disk that is not FFS stops the boot in the hook"
}
ext2_local_stops_boot_body()
{
	DISK_LOCAL=ext2fs sim nb10
	atf_check -s signal:15 -e match:'fsck -t ffs -p /dev/rxbd2a failed' \
	    -e match:'BAD SUPER BLOCK' $BOOT
	atf_check -s exit:1 -o empty grep 'mount' m/log
}

atf_test_case unconfigured_rcconf_stops_boot
unconfigured_rcconf_stops_boot_head()
{
	atf_set descr "rc_configured=NO (as the etc set ships it) stops the boot"
}
unconfigured_rcconf_stops_boot_body()
{
	sim nb10
	atf_check -o match:'^rc_configured=YES$' cat local/etc/rc.conf
	sed -i 's/^rc_configured=YES$/rc_configured=NO/' local/etc/rc.conf
	atf_check -s exit:1 -o match:'not configured.  Multiuser boot aborted' $BOOT
}

atf_test_case fastboot_leaves_local_readonly
fastboot_leaves_local_readonly_head()
{
	atf_set descr "A /fastboot on the root would leave /local read-only; setup-root removes it"
}
fastboot_leaves_local_readonly_body()
{
	sim nb10
	# What setup-root prevents: rc.d/root's rm fails, start_postcmd is
	# skipped, and /local (so /etc and /var) stays read-only.
	: > root/fastboot
	atf_check -o ignore -e match:'rm: /fastboot: Read-only file system' $BOOT
	atf_check -o match:'^/dev/xbd2a on /local type ffs \(read-only\)$' \
	    cat m/mounts
	atf_check -s exit:1 -o empty grep '^mount -uw /local' m/log
	# setup-root takes it away, and says so.
	atf_check -o match:'fastboot: to be removed' setup-root root
	atf_check test ! -e root/fastboot
	rm -rf m/log m/mounts
	printf '/dev/xbd0a on / type ffs (read-only)\n' > m/mounts
	: > m/log
	atf_check -o save:out -e save:err $BOOT
	check_multiuser
}

atf_init_test_cases()
{
	atf_add_test_case boots_today
	atf_add_test_case boots_4x_without_pkg
	atf_add_test_case boots_both_shapes_both_ways
	atf_add_test_case old_fstab_passes_stop_boot
	atf_add_test_case other_root_stops_boot
	atf_add_test_case upgraded_guest_boots
	atf_add_test_case seed_kept_on_local
	atf_add_test_case seed_lost_on_null_mount
	atf_add_test_case ext2_local_stops_boot
	atf_add_test_case unconfigured_rcconf_stops_boot
	atf_add_test_case fastboot_leaves_local_readonly
}
