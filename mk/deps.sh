#!/bin/sh
# Check the build and test dependencies; as root on Debian, install what
# is missing, otherwise print the one apt-get command that would.
pkgs=""
need() { pkgs="$pkgs $1"; }

command -v cc >/dev/null 2>&1 || need gcc
command -v make >/dev/null 2>&1 || need make
command -v pkg-config >/dev/null 2>&1 || need pkg-config
if command -v pkg-config >/dev/null 2>&1; then
	pkg-config --exists libbsd-overlay || need libbsd-dev
	pkg-config --exists libarchive || need libarchive-dev
	pkg-config --exists blkid || need libblkid-dev
	pkg-config --exists atf-c || need libatf-dev
	pkg-config --exists tsk || need libtsk-dev
else
	need libbsd-dev; need libarchive-dev; need libblkid-dev; need libatf-dev
	need libtsk-dev
fi
command -v atf-sh >/dev/null 2>&1 || need atf-sh
command -v kyua >/dev/null 2>&1 || need kyua
command -v mke2fs >/dev/null 2>&1 || need e2fsprogs
command -v losetup >/dev/null 2>&1 || need mount
command -v pax >/dev/null 2>&1 || need pax
command -v flock >/dev/null 2>&1 || need util-linux
command -v getfattr >/dev/null 2>&1 || need attr
command -v makefs >/dev/null 2>&1 || need makefs
command -v fls >/dev/null 2>&1 || need sleuthkit
command -v sfdisk >/dev/null 2>&1 || need fdisk

[ -z "$pkgs" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$pkgs"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq $pkgs && exit 0
	echo "deps: apt-get failed" >&2
	exit 1
fi
echo "deps: missing; run as root: apt-get install -y$pkgs" >&2
exit 1
