#!/bin/sh
# make bench: speed figures, not tests; each line "bench: ..." names its
# target where issue 16 set one.  Usage: bench.sh SBIN-DIR.
#  1. FFS images without mounting (any user): a NetBSD-10-shaped FFS
#     root.img prepared in place by setup-root, then a second, idle run;
#     a guest's FFS local image re-seeded in place with setup-local -f;
#     64 MiB local images plain and encrypted.
#  2. Per guest, side by side: setup-local as an ordinary user (nobody
#     when run as root) from the bench root to a 64 MiB image, against the
#     shell pipeline it replaces (ext2 images, loop, pax: needs root),
#     one guest of each in turn; the ratio and ms per guest.
#  3. BENCH_GUESTS (100) guests in one setup-local run, then -u of them
#     all to the root's next release, as the same user.
#  4. Peak memory (max RSS) and temporary disk use of a provision, an -f
#     re-seed and an -u upgrade of a 4 GiB (sparse) local image.
#  The machine's load average at the start and the end: the machine is
#  shared, and every figure is wall time.
set -e
tool=$1
N=${BENCH_GUESTS:-100}
# Guests of each kind in the side-by-side comparison.
P=20
[ "$N" -lt "$P" ] && P=$N
top=$(cd "$(dirname "$0")/.." && pwd)
w=$(mktemp -d "${TMPDIR:-/tmp}/sharedroot-bench.XXXXXX")
# Nothing left mounted or attached, whatever happens; a failed run says so.
trap 'rc=$?
      [ -e "$w/stop" ] || touch "$w/stop" 2>/dev/null
      umount "$w/rmnt" "$w/lmnt" 2>/dev/null || true
      losetup -j "$w/root.img" 2>/dev/null | cut -d: -f1 | xargs -r losetup -d 2>/dev/null
      for f in "$w"/p*.img; do
	      losetup -j "$f" 2>/dev/null | cut -d: -f1 | xargs -r losetup -d 2>/dev/null
      done
      rm -rf "$w"
      [ $rc = 0 ] || echo "bench: FAILED (exit $rc)" >&2
      exit $rc' EXIT
trap 'exit 1' INT TERM

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
load() { uptime | sed 's/.*load averages*: *//'; }
echo "bench: load average at the start: $(load) ($(nproc 2>/dev/null ||
    sysctl -n hw.ncpu) CPUs)"

# 1. FFS in place, no mounting: the sample root as it is (32 MiB), then
# the bulked-up one (256 MiB).  makefs only makes the roots here.
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
	detach "$ldev" "$img"
	umount "$w/rmnt"
	detach "$rdev" "$w/root.img"
}
# detach DEV FILE: the loop device gone, or no longer FILE's (the machine
# is shared: something else may detach a free device first).
detach()
{
	losetup -d "$1" 2>/dev/null && return 0
	! losetup -j "$2" | grep -q "^$1:" || { echo "bench: $1 stays attached"
	    exit 1; }
}

# Runs as the ordinary user: nobody when root (its tree opened for
# reading; owners stay in the images), otherwise whoever runs the bench.
asuser()
{
	if [ "$(id -u)" = 0 ]; then
		TMPDIR=$w/u/tmp setpriv --reuid=65534 --regid=65534 \
		    --clear-groups "$@"
	else
		TMPDIR=$w/u/tmp "$@"
	fi
}
# run LABEL COMMAND...: runs it as the ordinary user, adds its wall time
# to $w/t.LABEL; a failure stops the bench with the tool's message.
run()
{
	lbl=$1
	shift
	a=$(now)
	if ! asuser "$@" 2>"$w/err"; then
		grep -v 'extended attributes not kept' "$w/err" >&2
		echo "bench: $lbl failed: $*" >&2
		exit 1
	fi
	b=$(now)
	echo "$a $b" | awk '{ printf "%.6f\n", $2 - $1 }' >> "$w/t.$lbl"
}
sum() { awk '{ s += $1 } END { printf "%.6f\n", s }' "$w/t.$1"; }
# Whether this setup-local provisions several guests in one run (the
# release before did not).
multi=no
"$tool/setup-local" 2>&1 | grep -q 'root local local' && multi=yes

"$tool/setup-root" -q "$w/tree"
mkdir "$w/u" "$w/u/tmp" "$w/u/big"
cp -a "$w/tree" "$w/u/root"
chmod -R go+rX "$w/u/root"
# Opened up: its identity is recorded again, as it now is.
"$tool/setup-root" -q "$w/u/root"
# Its next release, for -u.
cp -a "$w/u/root" "$w/u/rel2"
printf '#!/bin/sh\n# PROVIDE: npf\nname=npf\n' > "$w/u/rel2/etc/rc.d/npf"
echo '# 10.1' >> "$w/u/rel2/etc/rc.d/network"
echo 'npf=NO' >> "$w/u/rel2/etc/defaults/rc.conf"
mkdir "$w/u/rel2/var/db/npf"
chmod -R go+rX "$w/u/rel2"
"$tool/setup-root" -q "$w/u/rel2"
chmod 0755 "$w"
[ "$(id -u)" != 0 ] || chown 65534 "$w/u" "$w/u/tmp" "$w/u/big"
piped=no
if [ "$(id -u)" = 0 ] && [ -e /dev/loop-control ]; then
	mke2fs -q -F -t ext2 -d "$w/tree" "$w/root.img" 256M >/dev/null
	mkdir "$w/rmnt" "$w/lmnt"
	piped=yes
fi

# 2. Per guest, side by side: one guest by the tool, one by the pipeline,
# in turn, so that both see the same load.
: > "$w/t.tool"
: > "$w/t.pipe"
i=1
while [ $i -le "$P" ]; do
	run tool "$tool/setup-local" -q -s 64m "$w/u/root" "$w/u/s$i.img"
	[ -s "$w/u/s$i.img" ] || { echo "bench: no image s$i.img"; exit 1; }
	if [ $piped = yes ]; then
		a=$(now)
		pipeline "$w/p$i.img" >/dev/null
		b=$(now)
		rm -f "$w/p$i.img"
		echo "$a $b" | awk '{ printf "%.6f\n", $2 - $1 }' >> "$w/t.pipe"
	fi
	i=$((i + 1))
done
awk -v t="$(sum tool)" -v p="$(sum pipe)" -v n="$P" -v piped=$piped \
    'BEGIN {
	printf "bench: per guest, %d guests one run each, ordinary user, the bench root, 64 MiB\n", n
	printf "bench: setup-local   %.1f ms per guest (target: under 100 ms)\n", 1000 * t / n
	if (piped != "yes") {
		print "bench: the pipeline needs root and loop devices: no ratio"
		exit
	}
	printf "bench: pipeline      %.1f ms per guest (ext2, loop, pax, as root)\n", 1000 * p / n
	printf "bench: ratio         %.2f (target: at most 0.33)\n", t / p
}'

# 3. N guests in one run (the names give the hostnames), then -u of all of
# them to the next release.
set --
i=1
while [ $i -le "$N" ]; do
	set -- "$@" "$w/u/g$i.img"
	i=$((i + 1))
done
if [ $multi = yes ]; then
	run many "$tool/setup-local" -q -s 64m "$w/u/root" "$@"
	how="in one run"
else
	for g; do
		run many "$tool/setup-local" -q -s 64m "$w/u/root" "$g"
	done
	how="one run each (this setup-local provisions one guest a run)"
fi
for g; do
	[ -s "$g" ] || { echo "bench: no image $g"; exit 1; }
done
# Not -q: its table says what each guest did.
run up "$tool/setup-local" -u "$w/u/rel2" "$@" > "$w/upgrade.out"
# One guest has no table: its line says it.
ok=$(grep -c ' upgraded$' "$w/upgrade.out" || true)
[ "$ok" != 0 ] || ok=$(cat "$w/upgrade.out" "$w/err" |
    grep -c ': upgraded from root' || true)
[ "$ok" = "$N" ] ||
    { cat "$w/upgrade.out" "$w/err"; echo "bench: an upgrade failed"
    exit 1; }
awk -v m="$(sum many)" -v u="$(sum up)" -v n="$N" -v how="$how" \
    -v p="$(sum pipe)" -v pn="$P" -v piped=$piped 'BEGIN {
	printf "bench: %d guests provisioned %s: %.2f s (target: under 10 s), %.1f ms per guest\n",
	    n, how, m, 1000 * m / n
	if (piped == "yes")
		printf "bench: ratio per guest in that run against the pipeline: %.2f (target: at most 0.33)\n",
		    (m / n) / (p / pn)
	printf "bench: %d guests upgraded to the next release (-u, one run): %.2f s, %.1f ms per guest (target: under 100 ms)\n",
	    n, u, 1000 * u / n
}'

# 4. Peak memory and temporary disk use of a large image: a 4 GiB (sparse)
# local provisioned, re-seeded with -f, then upgraded with -u.  Disk: what the image's
# directory and TMPDIR hold, sampled while the run goes, beyond what they
# held before, against what the finished image allocates.
kib() { du -sk "$@" 2>/dev/null | awk '{ t += $1 } END { print t + 0 }'; }
sampler()
{
	max=0
	while [ ! -e "$w/stop" ]; do
		k=$(kib "$w/u/big" "$w/u/tmp")
		if [ "$k" -gt "$max" ]; then
			max=$k
			echo "$max" > "$w/peak"
		fi
	done
}
# big LABEL ROOT SETUP-LOCAL-ARGS...: runs it measured; prints the figures.
# Temporary use: the sampled peak beyond the larger of before and after
# (a re-seed holds the old image and the new one at once).
big()
{
	lbl=$1
	r=$2
	shift 2
	before=$(kib "$w/u/big" "$w/u/tmp")
	echo "$before" > "$w/peak"
	rm -f "$w/stop"
	sampler &
	spid=$!
	if ! asuser /usr/bin/time -f %M -o "$w/u/rss" "$tool/setup-local" -q \
	    "$@" "$r" "$w/u/big/big.img" 2>"$w/err"; then
		touch "$w/stop"
		wait $spid
		cat "$w/err" >&2
		echo "bench: $lbl failed" >&2
		exit 1
	fi
	touch "$w/stop"
	wait $spid
	awk -v l="$lbl" -v rss="$(tail -1 "$w/u/rss")" -v b="$before" \
	    -v p="$(cat "$w/peak")" -v f="$(kib "$w/u/big/big.img")" \
	    -v a="$(kib "$w/u/big" "$w/u/tmp")" 'BEGIN {
	printf "bench: %s: peak memory %.1f MiB (target: under 64 MiB)\n", l, rss / 1024
	printf "bench: %s: temporary disk %.1f MiB at most (sampled), image allocates %.1f MiB (target: no more)\n",
	    l, (p > (a > b ? a : b) ? p - (a > b ? a : b) : 0) / 1024, f / 1024
}'
	left=$(find "$w/u/big" "$w/u/tmp" -mindepth 1 ! -name big.img)
	[ -z "$left" ] || { echo "bench: $lbl: left beside the image: $left"
	    exit 1; }
}
if [ -x /usr/bin/time ]; then
	big "4 GiB local, provisioned" "$w/u/root" -s 4g
	big "4 GiB local, re-seeded (-f)" "$w/u/root" -f
	big "4 GiB local, upgraded (-u)" "$w/u/rel2" -u
else
	echo "bench: peak memory needs GNU time (/usr/bin/time): not measured"
fi
echo "bench: load average at the end: $(load)"
