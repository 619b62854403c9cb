#!/bin/sh
# make demo: the project's main job on a bundled sample, without root
# and without mounting anything.  Generates a NetBSD-10-shaped root,
# packs it as NetBSD sets, builds a prepared root.img from the sets with
# setup-root, three guests' local images with setup-local, their swap
# disks and a pkg disk, upgrades the guests to a next release of the
# root, and writes an xl configuration for each guest.
set -e
sbin=$1
# This script's directory (mk/, or where the tests are installed, with
# sample-root.sh beside it).
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=${DEMO_OUT:-$top/build/demo}
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
rm -rf "$out"
mkdir -p "$out"
cd "$out"

echo "demo: a NetBSD-10-shaped sample root, packed as sets base.tgz and etc.tgz"
sh "$here/sample-root.sh" nb10 tree
# NetBSD's sets record root's ownership.  As root the sample's files have
# their owners already; an ordinary user's are recorded as root's.
own="--numeric-owner"
[ "$(id -u)" = 0 ] || own="--numeric-owner --owner=0 --group=0"
(cd tree && tar $own -czf ../base.tgz ./netbsd ./dev ./usr &&
    tar $own -czf ../etc.tgz ./etc ./var ./tmp)
# The release ships the domU kernel gzipped; setup-root takes it so.
printf 'a sample XEN3_DOMU kernel\n' | gzip -9 > netbsd-XEN3_DOMU.gz

echo "demo: root.img from the sets (setup-root -k netbsd-XEN3_DOMU.gz -o root.img base.tgz etc.tgz)"
"$sbin/setup-root" -k netbsd-XEN3_DOMU.gz -o root.img base.tgz etc.tgz
for g in 1 2 3; do
	"$sbin/setup-local" -h guest$g root.img guest$g-local.img 2>&1 |
	    grep -v 'extended attributes not kept' || true
	[ -s guest$g-local.img ] || { echo "demo: guest$g failed" >&2; exit 1; }
	# Swap: blank, sparse; cgd gives it a new random key at every boot.
	truncate -s 256M guest$g-swap.img
done
# The next release: a new rc.d script and a changed defaults/rc.conf.
# Every guest is upgraded in one run (its etc merged three ways with the
# release's), then the new root swapped in; root-prev.img and
# setup-local -R would go back.
echo "demo: the next release, root-next.img; every guest upgraded to it (setup-local -u root-next.img guest*-local.img)"
printf '#!/bin/sh\n# PROVIDE: npf\nname=npf\n' > tree/etc/rc.d/npf
chmod 0555 tree/etc/rc.d/npf
echo 'npf=NO' >> tree/etc/defaults/rc.conf
(cd tree && tar $own -czf ../etc-next.tgz ./etc ./var ./tmp)
"$sbin/setup-root" -q -k netbsd-XEN3_DOMU.gz -o root-next.img base.tgz \
    etc-next.tgz
"$sbin/setup-local" -u root-next.img guest1-local.img guest2-local.img \
    guest3-local.img
mv root.img root-prev.img
mv root-next.img root.img
echo "demo: root.img is the new release now (the old one: root-prev.img)"
echo "demo: pkg.img, a shared read-only /usr/pkg (here nearly empty)"
mkdir -p pkgtree/bin pkgtree/etc
printf '#!/bin/sh\necho hello from pkg.img\n' > pkgtree/bin/hello
makefs -t ffs -s 32m pkg.img pkgtree >/dev/null
fallocate --dig-holes pkg.img 2>/dev/null || true
# A guest's MAC address, the same at every boot (README.md, "A stable
# MAC"): Xen's 00:16:3e, then the first three bytes of the SHA-256 of
# its name, the first with its top bit set (the MACs xl makes up for a
# vif without one have it clear, so the two never meet).
mac_of()
{
	_h=$(printf %s "$1" | sha256sum | cut -c1-6)
	printf '00:16:3e:%02x:%.2s:%s\n' $((0x$_h >> 16 | 0x80)) "${_h#??}" \
	    "${_h#????}"
}
# xl loads the kernel from the dom0, gzipped as the release ships it.
for g in 1 2 3; do
	cat > guest$g.cfg <<CFG
# xl create $out/guest$g.cfg
name = "guest$g"
type = "pv"
kernel = "$out/netbsd-XEN3_DOMU.gz"
root = "xbd0a"
memory = 256
vif = [ 'mac=$(mac_of guest$g), bridge=xenbr0' ]
disk = [ 'format=raw, vdev=0x1, access=ro, target=$out/root.img',
         'format=raw, vdev=0x2, access=rw, target=$out/guest$g-swap.img',
         'format=raw, vdev=0x3, access=rw, target=$out/guest$g-local.img',
         'format=raw, vdev=0x4, access=ro, target=$out/pkg.img' ]
CFG
done

echo
echo "demo: made in $out (length, then space taken on disk):"
for f in root.img guest1-local.img guest2-local.img guest3-local.img \
    guest1-swap.img pkg.img; do
	printf '  %-18s %10s bytes  %6s KiB on disk\n' "$f" \
	    "$(stat -c %s "$f")" "$(du -k "$f" | cut -f1)"
done
echo
echo "demo: each guest's xl configuration, e.g. $out/guest1.cfg:"
sed 's/^/  /' guest1.cfg
echo
echo "demo: look inside with sleuthkit, which reads FFS without mounting it:"
echo "  fls -r -p $out/root.img | head"
echo "  icat $out/guest1-local.img \$(ifind -n /etc/fstab $out/guest1-local.img)"
echo "demo: on a Xen dom0, as root: xl create $out/guest1.cfg"
