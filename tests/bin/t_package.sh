# The packages: make dist's tarball (what git tracks, reproducible, with
# the pkgsrc distinfo for it), make install and uninstall against
# pkgsrc's PLIST, and the Debian package built from the tarball with
# dpkg-buildpackage, its file list and lintian's verdict.  They run
# make in the source tree the tests were built from (SR_SRCDIR), with
# their own object and output directories: nothing is written there.

# The make of the outer "make check" is not ours to join.
unset MAKEFLAGS MFLAGS MAKELEVEL
src=$SR_SRCDIR
pkgdir=$src/pkgsrc/sysutils/sharedroot

require_src()
{
	[ -n "$src" ] && [ -f "$src/Makefile" ] && [ -f "$src/VERSION" ] ||
	    atf_skip "no source tree at '$src' (SR_SRCDIR)"
	version=$(cat "$src/VERSION")
	distname=sharedroot-$version
}

# require_git: make dist needs the source tree to be a git checkout that
# git reads (a release tarball is not; nor is a checkout git refuses as
# another user's).
require_git()
{
	command -v git >/dev/null || atf_skip "no git: make dist runs git archive"
	_e=$(git -C "$src" rev-parse --verify -q HEAD 2>&1) ||
	    atf_skip "$src is not a git checkout git reads, so no make dist: $_e"
}

# dist DIR: make dist's tarball and distinfo into DIR.
dist()
{
	mkdir -p "$1"
	atf_check -o ignore -e ignore make -C "$src" dist DISTDIR="$PWD/$1" \
	    DISTINFO="$PWD/$1/distinfo"
	[ -f "$1/$distname.tar.gz" ] || atf_fail "make dist made no $1/$distname.tar.gz"
}

# files DIR: the files and symbolic links under DIR, relative, sorted.
files()
{
	(cd "$1" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)
}

atf_test_case dist
dist_head()
{
	atf_set descr "make dist: git's files under sharedroot-VERSION/," \
	    "the same bytes twice, distinfo's digests and size its own;" \
	    "the version the same in VERSION, debian/changelog and pkgsrc"
	atf_set timeout 600
}
dist_body()
{
	require_src
	require_git
	dist a
	dist b
	atf_check cmp a/$distname.tar.gz b/$distname.tar.gz
	atf_check cmp a/distinfo b/distinfo

	git -C "$src" ls-files | LC_ALL=C sort > want
	tar tzf a/$distname.tar.gz > listing || atf_fail "tar cannot list the tarball"
	grep -v "^$distname/" listing && atf_fail "a path outside $distname/"
	grep -v '/$' listing | sed "s|^$distname/||" | LC_ALL=C sort > got
	atf_check -o empty diff want got

	t=a/$distname.tar.gz f=$distname.tar.gz
	b2=$(openssl dgst -blake2s256 -r "$t" | cut -d' ' -f1)
	sha=$(openssl dgst -sha512 -r "$t" | cut -d' ' -f1)
	size=$(wc -c < "$t" | tr -d ' ')
	printf '%s\n\n%s\n%s\n%s\n' '$NetBSD$' "BLAKE2s ($f) = $b2" \
	    "SHA512 ($f) = $sha" "Size ($f) = $size bytes" > distinfo.want
	atf_check -o empty diff distinfo.want a/distinfo
	# The committed distinfo is the one make dist wrote for a release
	# tarball: its own digests cannot match (it is inside the tarball),
	# but it names this version's tarball, in the same form.
	sed 's/= .*//' distinfo.want > form.want
	sed 's/= .*//' "$pkgdir/distinfo" > form.got
	atf_check -o empty diff form.want form.got

	atf_check -o inline:"DISTNAME=\t$distname\n" \
	    grep '^DISTNAME=' "$pkgdir/Makefile"
	atf_check -o inline:"sharedroot ($version) unstable; urgency=medium\n" \
	    sed -n 1p "$src/debian/changelog"
}

# mk TARGET DESTDIR PREFIX [VAR=value...]: make TARGET from the source
# tree (objects here) into DESTDIR.
mk()
{
	_t=$1 _d=$2 _p=$3
	shift 3
	atf_check -o ignore -e ignore make -C "$src" -j2 B="$PWD/obj" \
	    PREFIX="$_p" DESTDIR="$PWD/$_d" "$@" $_t
}

atf_test_case install_uninstall
install_uninstall_head()
{
	atf_set descr "make install puts what pkgsrc's PLIST lists (manuals" \
	    "under MANDIR, by default share/man/man8); make uninstall" \
	    "takes it all away again, and share/sharedroot with it"
	atf_set timeout 600
}
install_uninstall_body()
{
	require_src
	mk install pkg /usr/pkg MANDIR=/usr/pkg/man
	grep -v '^@' "$pkgdir/PLIST" > plist
	files pkg/usr/pkg > got
	atf_check -o empty diff plist got
	for f in $(cat plist); do
		case $f in
		sbin/*|libexec/*|*/block-cgd) m=755 ;;
		*) m=644 ;;
		esac
		atf_check -o inline:"$m\n" stat -c %a "pkg/usr/pkg/$f"
	done
	for m in setup-root setup-local sharedroot-cgdkey; do
		atf_check cmp "$src/man/$m.8" "pkg/usr/pkg/man/man8/$m.8"
	done
	atf_check -o match:'^cgdkey=/usr/pkg/libexec/sharedroot-cgdkey$' \
	    grep '^cgdkey=' pkg/usr/pkg/share/sharedroot/xen/block-cgd

	# The default: the manuals under share/man, the rest as pkgsrc's.
	mk install local /usr/local
	sed 's|^man/|share/man/|' plist | LC_ALL=C sort > want
	files local/usr/local > got
	atf_check -o empty diff want got

	mk uninstall pkg /usr/pkg MANDIR=/usr/pkg/man
	# An administrator's file stays, and its folders; nothing else.
	echo keep > local/usr/local/share/sharedroot/templates/mine
	mk uninstall local /usr/local
	files local > left
	atf_check -o inline:"usr/local/share/sharedroot/templates/mine\n" \
	    cat left
	rm local/usr/local/share/sharedroot/templates/mine
	mk uninstall local /usr/local
	files pkg > left
	files local >> left
	atf_check -o empty cat left
	# Left: only the system's own folders, none of sharedroot's.
	(cd pkg && find . -type d; cd ../local && find . -type d) |
	    LC_ALL=C sort -u > dirs
	atf_check -s exit:1 -o empty grep -v -x -e . -e ./usr -e './usr/[a-z]*' \
	    -e './usr/[a-z]*/sbin' -e './usr/[a-z]*/libexec' \
	    -e './usr/[a-z]*/man' -e './usr/[a-z]*/man/man8' \
	    -e './usr/[a-z]*/share' -e './usr/[a-z]*/share/man' \
	    -e './usr/[a-z]*/share/man/man8' dirs
}

# require_deb: the tools dpkg-buildpackage needs, and the build
# dependencies debian/control declares.
require_deb()
{
	for p in dpkg-buildpackage dh dpkg-checkbuilddeps; do
		command -v $p >/dev/null || atf_skip "no $p (dpkg-dev," \
		    "debhelper): the Debian package is not built here"
	done
	_e=$(cd "$src" && dpkg-checkbuilddeps 2>&1) ||
	    atf_skip "build dependencies missing: $_e"
}

# The tree to build the package from: make dist's tarball where there
# is git, otherwise (a release tarball's tree) a copy of the source.
deb_tree()
{
	if git -C "$src" rev-parse --verify -q HEAD >/dev/null 2>&1; then
		dist dist
		atf_check tar xzf dist/$distname.tar.gz
	else
		mkdir $distname
		(cd "$src" && tar cf - --exclude=./build .) |
		    (cd $distname && tar xf -) || atf_fail "cannot copy $src"
	fi
}

# The package's files: pkgsrc's PLIST in /usr, the manuals compressed
# under share/man, and Debian's changelog and copyright.
deb_want()
{
	{ grep -v '^@' "$pkgdir/PLIST" |
	    sed -e 's|^man/\(.*\)|share/man/\1.gz|' -e 's|^|./usr/|'
	  echo ./usr/share/doc/sharedroot/changelog.gz
	  echo ./usr/share/doc/sharedroot/copyright; } | LC_ALL=C sort
}

atf_test_case deb
deb_head()
{
	atf_set descr "debian/: dpkg-buildpackage builds the package from" \
	    "make dist's tarball; it holds what install puts, owned by" \
	    "root, declares its dependencies, and lintian finds no error" \
	    "or warning in it"
	atf_set timeout 1200
}
deb_body()
{
	require_src
	require_deb
	deb_tree
	arch=$(dpkg --print-architecture)
	deb=sharedroot_${version}_$arch.deb
	(cd $distname && DEB_BUILD_OPTIONS=parallel=2 \
	    dpkg-buildpackage -us -uc -b) > build.log 2>&1 ||
	    { tail -20 build.log; atf_fail "dpkg-buildpackage failed"; }
	[ -f "$deb" ] || atf_fail "no $deb"

	dpkg -c "$deb" > contents
	awk '$1 !~ /^d/ { print $6 }' contents | LC_ALL=C sort > got
	deb_want > want
	atf_check -o empty diff want got
	atf_check -o empty awk '$2 != "root/root"' contents
	atf_check -o match:'^-rwxr-xr-x .* \./usr/sbin/setup-root$' cat contents
	atf_check -o match:'^-rwxr-xr-x .* \./usr/libexec/sharedroot-cgdkey$' \
	    cat contents

	dpkg-deb -f "$deb" Depends > depends
	atf_check -s exit:1 grep -E "(^|, )makefs" depends
	for d in libarchive13 libtsk libssl libargon2 libgit2 libblkid1 \
	    libbsd0 libc6; do
		atf_check -o ignore grep -E "(^|, )$d" depends
	done
	atf_check -o inline:"cryptsetup-bin, e2fsprogs, mount\n" \
	    dpkg-deb -f "$deb" Recommends

	command -v lintian >/dev/null || { echo "no lintian: not checked"; return 0; }
	lintian -I --pedantic "$deb" > lintian.out 2>lintian.err ||
	    { cat lintian.out lintian.err; atf_fail "lintian failed"; }
	cat lintian.out
	atf_check -s exit:1 -o empty grep -E '^[EW]: ' lintian.out
}

atf_init_test_cases()
{
	atf_add_test_case dist
	atf_add_test_case install_uninstall
	atf_add_test_case deb
}
