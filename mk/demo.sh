#!/bin/sh
# make demo: the project's main job on a bundled sample, without root
# and without mounting anything.  Generates a NetBSD-10-shaped root,
# packs it as NetBSD sets, builds a prepared root.img from the sets with
# setup-root, and three guests' local images with setup-local.
set -e
sbin=$1
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/demo
rm -rf "$out"
mkdir -p "$out"
cd "$out"

echo "demo: a NetBSD-10-shaped root in $out/tree, packed as sets"
sh "$top/mk/sample-root.sh" nb10 tree
# NetBSD's sets record root's ownership.  As root the sample's files have
# their owners already; an ordinary user's are recorded as root's.
own="--numeric-owner"
[ "$(id -u)" = 0 ] || own="--numeric-owner --owner=0 --group=0"
(cd tree && tar $own -czf ../base.tgz ./netbsd ./dev ./usr &&
    tar $own -czf ../etc.tgz ./etc ./var ./tmp)
printf 'a sample XEN3_DOMU kernel\n' > netbsd-XEN3_DOMU

echo "demo: root.img from the sets (setup-root -o)"
"$sbin/setup-root" -k netbsd-XEN3_DOMU -o root.img base.tgz etc.tgz
for g in 1 2 3; do
	"$sbin/setup-local" -h guest$g root.img guest$g-local.img 2>&1 |
	    grep -v 'extended attributes not kept' || true
	[ -s guest$g-local.img ] || { echo "demo: guest$g failed" >&2; exit 1; }
done

echo
echo "demo: images (length, then space taken on disk):"
for f in root.img guest1-local.img guest2-local.img guest3-local.img; do
	printf '  %-18s %10s bytes  %6s KiB on disk\n' "$f" \
	    "$(stat -c %s "$f")" "$(du -k "$f" | cut -f1)"
done
echo
echo "demo: disk lines for each guest's Xen configuration (make the swap"
echo "      images with dd; pkg.img is optional: setup-local -P none):"
for g in 1 2 3; do
	echo "  guest$g: disk = [ 'file:$out/root.img,0x1,r',"
	echo "           'file:$out/guest$g-swap.img,0x2,w',"
	echo "           'file:$out/guest$g-local.img,0x3,w',"
	echo "           'file:$out/pkg.img,0x4,r' ]"
done
echo
echo "demo: look next with sleuthkit, which reads FFS without mounting it:"
echo "      fls -r -p $out/root.img | head"
echo "      icat $out/root.img \$(ifind -n /etc/rc $out/root.img)"
echo "      icat $out/guest1-local.img \$(ifind -n /etc/fstab $out/guest1-local.img)"
