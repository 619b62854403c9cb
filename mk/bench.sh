#!/bin/sh
# make bench: speed figures, not tests.
#  1. FFS images without mounting (any user): a NetBSD-10-shaped FFS
#     root.img prepared in place by setup-root, then a second, idle run;
#     a guest's FFS local image re-seeded in place with setup-local -f.
#  2. As root with loop devices: 20 guests provisioned from an ext2 root
#     image by setup-local (FFS, makefs) and by the same steps as a shell
#     pipeline (ext2, loop), and the ratio.
#  3. 20 guests built by an ordinary user with makefs.
#  Also (any user): 20 guests' FFS local images upgraded to a new release
#  of their root in one setup-local -u run, against seeding each afresh.
set -e
tool=$1
N=${BENCH_GUESTS:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
w=$(mktemp -d "${TMPDIR:-/tmp}/sharedroot-bench.XXXXXX")
trap 'umount "$w/rmnt" "$w/lmnt" 2>/dev/null || true
      losetup -j "$w/root.img" | cut -d: -f1 | xargs -r losetup -d
      rm -rf "$w"' EXIT INT TERM

# The root: the sample tree plus the bulk of a real etc and var.
sh "$top/mk/sample-root.sh" nb10 "$w/tree"
i=0
while [ $i -lt 600 ]; do
	mkdir -p "$w/tree/etc/mtree.d" "$w/tree/var/db/pkg/p$((i % 40))"
	printf 'config %d\n' $i > "$w/tree/etc/mtree.d/f$i"
	head -c 2048 /dev/urandom > "$w/tree/var/db/pkg/p$((i % 40))/f$i"
	i=$((i + 1))
done
head -c 4000000 /dev/urandom > "$w/tree/var/db/locate.database"
head -c 20000000 /dev/urandom > "$w/tree/netbsd"
mkdir -p "$w/tree/usr/lib"
i=0
while [ $i -lt 400 ]; do
	head -c 16384 /dev/urandom > "$w/tree/usr/lib/lib$i.so"
	i=$((i + 1))
done
now() { date +%s.%N; }

# 1. FFS in place, no mounting: the sample root as it is (32 MiB), then
# the bulked-up one (256 MiB).  makefs writes every byte of an image, so
# the time grows with the image's size, not with what changed.
sh "$top/mk/sample-root.sh" nb10 "$w/small"
makefs -t ffs -s 32m "$w/small.img" "$w/small" >/dev/null
printf 'a XEN3_DOMU kernel\n' > "$w/netbsd-XEN3_DOMU"
s0=$(now)
"$tool/setup-root" -q -k "$w/netbsd-XEN3_DOMU" "$w/small.img"
s1=$(now)
"$tool/setup-local" -q "$w/small.img" "$w/small-local.img" 2>/dev/null
s2=$(now)
"$tool/setup-local" -q -f "$w/small.img" "$w/small-local.img" 2>/dev/null
s3=$(now)
awk -v a="$s0" -v b="$s1" -v c="$s2" -v d="$s3" 'BEGIN {
	printf "bench: FFS images, nothing mounted (the 32 MiB sample root)\n"
	printf "bench: setup-root, root.img prepared in place   %.3f s\n", b - a
	printf "bench: setup-local, new local image              %.3f s\n", c - b
	printf "bench: setup-local -f, local re-seeded in place  %.3f s\n", d - c
}'
# Encrypted local images: 64 MiB, built and re-seeded, against plain.
e0=$(now)
"$tool/setup-local" -q -s 64m "$w/small.img" "$w/plain64.img" 2>/dev/null
e1=$(now)
"$tool/setup-local" -q -c "$w/key" -s 64m "$w/small.img" "$w/enc64.img" \
    2>/dev/null
e2=$(now)
"$tool/setup-local" -q -f -s 64m "$w/small.img" "$w/plain64.img" 2>/dev/null
e3=$(now)
"$tool/setup-local" -q -f -c "$w/key" "$w/small.img" "$w/enc64.img" \
    2>/dev/null
e4=$(now)
awk -v a="$e0" -v b="$e1" -v c="$e2" -v d="$e3" -v e="$e4" 'BEGIN {
	printf "bench: 64 MiB local image, plain and encrypted (aes-xts 512)\n"
	printf "bench: build      plain %.3f s, encrypted %.3f s (+%.0f%%)\n",
	    b - a, c - b, 100 * ((c - b) / (b - a) - 1)
	printf "bench: re-seed    plain %.3f s, encrypted %.3f s (+%.0f%%; target: under +50%%)\n",
	    d - c, e - d, 100 * ((e - d) / (d - c) - 1)
}'
makefs -t ffs -s 256m "$w/ffs-root.img" "$w/tree" >/dev/null
f0=$(now)
"$tool/setup-root" -q -k "$w/netbsd-XEN3_DOMU" "$w/ffs-root.img"
f1=$(now)
"$tool/setup-root" -q -k "$w/netbsd-XEN3_DOMU" "$w/ffs-root.img"
f2=$(now)
"$tool/setup-local" -q -s 64m "$w/ffs-root.img" "$w/ffs-local.img" \
    2>/dev/null
f3=$(now)
"$tool/setup-local" -q -f "$w/ffs-root.img" "$w/ffs-local.img" 2>/dev/null
f4=$(now)
awk -v a="$f0" -v b="$f1" -v c="$f2" -v d="$f3" -v e="$f4" 'BEGIN {
	printf "bench: FFS images, nothing mounted (256 MiB root, 64 MiB local)\n"
	printf "bench: setup-root, root.img prepared in place   %.3f s\n", b - a
	printf "bench: setup-root, second run (nothing to do)    %.3f s\n", c - b
	printf "bench: setup-local, new local image              %.3f s\n", d - c
	printf "bench: setup-local -f, local re-seeded in place  %.3f s\n", e - d
}'
# Upgrades: N guests' FFS local images seeded from a root, then moved to
# its next release with one command (setup-local -u), against seeding
# each afresh.
cp -a "$w/tree" "$w/rel1"
"$tool/setup-root" -q -k "$w/netbsd-XEN3_DOMU" "$w/rel1"
cp -a "$w/rel1" "$w/rel2"
printf '#!/bin/sh\n# PROVIDE: npf\nname=npf\n' > "$w/rel2/etc/rc.d/npf"
echo '# 10.1' >> "$w/rel2/etc/rc.d/network"
echo 'npf=NO' >> "$w/rel2/etc/defaults/rc.conf"
mkdir "$w/rel2/var/db/npf"
"$tool/setup-root" -q "$w/rel2"
u0=$(now)
i=1
while [ $i -le "$N" ]; do
	"$tool/setup-local" -q "$w/rel1" "$w/up$i.img" 2>/dev/null
	i=$((i + 1))
done
u1=$(now)
set --
i=1
while [ $i -le "$N" ]; do
	set -- "$@" "$w/up$i.img"
	i=$((i + 1))
done
# Not -q: its table says what each guest did.
"$tool/setup-local" -u "$w/rel2" "$@" > "$w/upgrade.out" 2> "$w/upgrade.err"
u2=$(now)
grep -c ' upgraded$' "$w/upgrade.out" | grep -qx "$N" ||
    { cat "$w/upgrade.out" "$w/upgrade.err"; echo "bench: an upgrade failed"
    exit 1; }
awk -v a="$u0" -v b="$u1" -v c="$u2" -v n="$N" 'BEGIN {
	printf "bench: %d guests upgraded to a new release (setup-local -u, one run)\n", n
	printf "bench: seeded afresh  %.3f s per guest\n", (b - a) / n
	printf "bench: upgraded       %.3f s per guest (%.0f%% of seeding; target: well under)\n",
	    (c - b) / n, 100 * (c - b) / (b - a)
}'
if [ "$(id -u)" != 0 ] || [ ! -e /dev/loop-control ]; then
	echo "bench: the loop and unprivileged figures need root and loop devices"
	exit 0
fi
"$tool/setup-root" -q "$w/tree"
mke2fs -q -F -t ext2 -d "$w/tree" "$w/root.img" 256M
mkdir "$w/rmnt" "$w/lmnt"

# The pipeline: what setup-local does, as an administrator would script it.
pipeline()
{
	img=$1
	truncate -s 64M "$img"
	mke2fs -q -F -t ext2 "$img"
	rdev=$(losetup -f --show -r "$w/root.img")
	mount -o ro "$rdev" "$w/rmnt"
	ldev=$(losetup -f --show "$img")
	mount "$ldev" "$w/lmnt"
	(cd "$w/rmnt" && pax -rw -pe etc tmp var "$w/lmnt")
	l=$w/lmnt
	rm -f "$l"/etc/ssh/ssh_host_*key* "$l/var/db/entropy-file" \
	    "$l/etc/rc.pre-hooks"
	cp -p "$l/etc/rc.orig" "$l/etc/rc"
	for f in rc.conf fstab ttys; do cp -p "$l/etc/$f" "$l/etc/$f.orig"; done
	cp -p "$l/var/cron/tabs/root" "$l/var/cron/tabs/root.orig"
	sed -i -e '/^wscons=/d' -e '/^sendmail=/d' "$l/etc/rc.conf"
	printf '%s\n' 'critical_filesystems_local="/local /etc /tmp /var"' \
	    powerd=YES savecore=NO sendmail=NO wscons=NO cgd=YES \
	    >> "$l/etc/rc.conf"
	awk -F'\t' 'BEGIN { OFS = "\t" } !/^#/ && $1 != "console" {
	    sub(/^on/, "off", $4) } { print }' "$l/etc/ttys.orig" > "$l/etc/ttys"
	sed -i -E 's,^([^#].*/etc/(daily|weekly)),#\1,' "$l/var/cron/tabs/root"
	cat > "$l/etc/fstab" <<FSTAB
/dev/xbd0a / ffs ro 1 1
/dev/cgd0b none swap sw 0 0
/dev/xbd2a /local ext2fs rw 1 2
/dev/xbd3a /usr/pkg ffs ro 1 2
/local/etc /etc null rw 0 0
/local/tmp /tmp null rw 0 0
/local/var /var null rw 0 0
kernfs /kern kernfs rw
procfs /proc procfs rw,noauto
FSTAB
	mkdir -p "$l/etc/cgd" "$l/etc/rc.conf.d"
	echo 'cgd0 /dev/xbd1a /etc/cgd/xbd1a' > "$l/etc/cgd/cgd.conf"
	printf 'algorithm aes-xts;\niv-method encblkno1;\nkeylength 256;\nverify_method none;\nkeygen urandomkey;\n' \
	    > "$l/etc/cgd/xbd1a"
	cp "$top/templates/rc.conf.d-cgd" "$l/etc/rc.conf.d/cgd"
	cp "$top/templates/rc.conf.d-root" "$l/etc/rc.conf.d/root"
	umount "$w/lmnt"
	losetup -d "$ldev"
	umount "$w/rmnt"
	losetup -d "$rdev"
}

t0=$(now)
i=1
while [ $i -le "$N" ]; do
	"$tool/setup-local" -q -s 64m "$w/root.img" "$w/g$i.img"
	i=$((i + 1))
done
t1=$(now)
i=1
while [ $i -le "$N" ]; do
	pipeline "$w/p$i.img" >/dev/null
	i=$((i + 1))
done
t2=$(now)
# Without root: the same guests built with makefs from the staged root,
# as nobody (its tree opened for reading; owners stay in the images).
chmod 0755 "$w"
mkdir "$w/u"
cp -a "$w/tree" "$w/u/root"
chmod -R go+rX "$w/u/root"
# Opened up: its identity is recorded again, as it now is.
"$tool/setup-root" -q "$w/u/root"
chown 65534 "$w/u"
t3=$(now)
i=1
while [ $i -le "$N" ]; do
	TMPDIR=$w/u setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$tool/setup-local" -q "$w/u/root" "$w/u/g$i.img" 2>&1 |
	    grep -v "extended attributes not kept" >&2 || true
	[ -s "$w/u/g$i.img" ] || { echo "bench: unprivileged build failed"; exit 1; }
	i=$((i + 1))
done
t4=$(now)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" -v n="$N" 'BEGIN {
	tool = (b - a) / n; pipe = (c - b) / n
	printf "bench: %d guests from a NetBSD-10-shaped root on ext2, loop\n", n
	printf "bench: setup-local   %.3f s per guest (FFS, makefs)\n", tool
	printf "bench: pipeline      %.3f s per guest (ext2, loop, pax)\n", pipe
	printf "bench: ratio         %.2f (target: at most 0.33)\n", tool / pipe
	printf "bench: %d guests built unprivileged with makefs (FFS)\n", n
	printf "bench: setup-local   %.3f s per guest\n", (e - d) / n
}'
