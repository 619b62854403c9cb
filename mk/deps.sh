#!/bin/sh
# Check the build and test dependencies (with "fuzz": make fuzz's too;
# with "ci": .ci/run's; with "bench": make bench's).  As root on Debian, install what is missing,
# quietly (the log goes to build/deps.log); otherwise print the one
# apt-get command that would.  A program counts as installed
# where it is, in PATH or in the sbin directories an ordinary user's PATH
# lacks: it is not asked for again.
cd "$(dirname "$0")/.." || exit 1
pkgs=""
need() { case " $pkgs " in *" $1 "*) ;; *) pkgs="$pkgs $1" ;; esac; }
have()
{
	command -v "$1" >/dev/null 2>&1 && return 0
	for d in /usr/local/sbin /usr/sbin /sbin; do
		[ -x "$d/$1" ] && return 0
	done
	return 1
}

have cc || need gcc
have make || need make
have pkg-config || need pkg-config
if have pkg-config; then
	pkg-config --exists libbsd-overlay || need libbsd-dev
	pkg-config --exists libarchive || need libarchive-dev
	pkg-config --exists blkid || need libblkid-dev
	pkg-config --exists atf-c || need libatf-dev
	pkg-config --exists tsk || need libtsk-dev
	pkg-config --exists libcrypto || need libssl-dev
	pkg-config --exists libargon2 || need libargon2-dev
	pkg-config --exists libgit2 || need libgit2-dev
	# xl's configuration parser, for the test that reads every xl
	# line of the documentation with it.
	pkg-config --exists xlutil || need libxen-dev
else
	need libbsd-dev; need libarchive-dev; need libblkid-dev; need libatf-dev
	need libtsk-dev; need libssl-dev; need libargon2-dev; need libgit2-dev
	need libxen-dev
fi
have atf-sh || need atf-sh
have kyua || need kyua
have makefs || need makefs
have xz || need xz-utils
have bzip2 || need bzip2
have mke2fs || need e2fsprogs
have losetup || need mount
have setpriv || need util-linux
have flock || need util-linux
have sfdisk || need fdisk
have pax || need pax
have getfattr || need attr
have fls || need sleuthkit
have md5sum || need coreutils
# block-cgd's tests: the cryptsetup stub hashes with openssl, and the
# real one maps an image where the kernel has device-mapper.
have openssl || need openssl
have xxd || need xxd
have cryptsetup || need cryptsetup-bin
# make fuzz alone: libFuzzer comes with clang (make check needs no clang);
# .ci/run clones the tree it was given, which a fresh machine may lack git for,
# and builds the Debian package.
case $1 in
# make bench's peak memory: GNU time's %M, which the bench calls by
# its path.
bench)	[ -x /usr/bin/time ] || need time ;;
fuzz)	have clang || need clang ;;
ci)	have git || need git
	# t_package builds the .deb (dpkg-buildpackage wants
	# build-essential besides debian/control's Build-Depends) and runs
	# lintian on it; elsewhere it skips, saying so.
	have dpkg-buildpackage || need dpkg-dev
	have dh || need debhelper
	have lintian || need lintian
	dpkg-query -W -f '${Status}' build-essential 2>/dev/null |
	    grep -q ' installed$' || need build-essential ;;
esac

[ -z "$pkgs" ] && exit 0
if [ "$(id -u)" = 0 ] && have apt-get; then
	mkdir -p build
	n=$(echo $pkgs | wc -w)
	echo "deps: installing $n Debian packages:$pkgs (log: build/deps.log)"
	export DEBIAN_FRONTEND=noninteractive
	if { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	    $pkgs; } >build/deps.log 2>&1; then
		exit 0
	fi
	tail -5 build/deps.log >&2
	echo "deps: apt-get failed; see build/deps.log" >&2
	exit 1
fi
echo "deps: missing; run as root: apt-get install -y$pkgs" >&2
exit 1
