#!/bin/sh
# make demo: the project's main job on a bundled sample.  Generates a
# NetBSD-10-shaped root, prepares it with setup-root, and gives three
# guests their local trees with setup-local.  As root with loop devices
# it also builds the images: root.img and each guest's local.img.
set -e
sbin=$1
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/demo
rm -rf "$out"
mkdir -p "$out"
cd "$out"

echo "demo: a NetBSD-10-shaped root in $out/root"
sh "$top/mk/sample-root.sh" nb10 root
printf 'a sample XEN3_DOMU kernel\n' > netbsd-XEN3_DOMU
"$sbin/setup-root" -k netbsd-XEN3_DOMU root

images=false
if [ "$(id -u)" = 0 ] && [ -e /dev/loop-control ] &&
    command -v mke2fs >/dev/null; then
	images=true
	mke2fs -q -F -t ext2 -d root root.img 64M
fi
for g in 1 2 3; do
	if $images; then
		"$sbin/setup-local" -h guest$g -s 32m root.img guest$g-local.img
	else
		mkdir guest$g-local
		"$sbin/setup-local" -h guest$g root guest$g-local
	fi
done

echo
if $images; then
	echo "demo: images (length, then space taken on disk):"
	for f in root.img guest1-local.img guest2-local.img guest3-local.img; do
		printf '  %-18s %10s bytes  %6s KiB on disk\n' "$f" \
		    "$(stat -c %s "$f")" "$(du -k "$f" | cut -f1)"
	done
else
	echo "demo: not root (or no loop devices): the local trees are"
	echo "      directories; run 'make demo' as root for images."
	for g in 1 2 3; do
		echo "  guest$g-local: $(find guest$g-local | wc -l) entries"
	done
fi
echo
echo "demo: disk lines for each guest's Xen configuration:"
for g in 1 2 3; do
	echo "  guest$g: disk = [ 'file:$out/root.img,0x1,r',"
	echo "           'file:$out/guest$g-swap.img,0x2,w',"
	echo "           'file:$out/guest$g-local.img,0x3,w',"
	echo "           'file:$out/pkg.img,0x4,r' ]"
done
echo
echo "demo: look next at root/etc/rc and root/etc/rc.pre-hooks (the hook),"
echo "      root/dev (emptied but for MAKEDEV), and a guest's etc/fstab,"
echo "      etc/rc.conf, etc/cgd/ and etc/rc.conf.d/."
