# Every xl configuration the documentation and the demo give is one xl
# reads: each is taken out of README.md, the manuals, xen/block-cgd's
# comment and the demo's output, and read by h_xlcfg with xl's own
# parser (libxlutil); every guest has the stable MAC address README.md
# documents.

# The documents, installed with the tests (the Makefile's test-files).
docs=$SR_TESTS/docs

require_xlcfg()
{
	[ -x "$SR_TESTS/h_xlcfg" ] || atf_skip "h_xlcfg was not built:" \
	    "no libxlutil (Debian's libxen-dev) to read xl configurations with"
}

# extract md|mdoc|sh FILE PREFIX: write each xl configuration in FILE
# (a Markdown code block, an mdoc literal display, or a block of "#   "
# comment lines, that sets disk, vif, name or kernel) to PREFIX.N.cfg
# as a reader would paste it; print how many.
extract()
{
	if [ "$1" = mdoc ]; then
		sed -e 's/\\&//g' -e 's/\\e/\\/g' "$2"
	else
		cat "$2"
	fi | awk -v kind="$1" -v pre="$3" '
	function flush() {
		if (isxl) {
			k++
			f = pre "." k ".cfg"
			printf "%s", buf > f
			close(f)
		}
		buf = ""
		isxl = 0
	}
	function add(l) {
		buf = buf l "\n"
		if (l ~ /^[ \t]*(name|kernel|disk|vif)[ \t]*=/)
			isxl = 1
	}
	kind == "md" {
		if ($0 ~ /^    /) add(substr($0, 5)); else flush()
		next
	}
	kind == "mdoc" {
		if ($0 ~ /^\.Bd -literal/) { inb = 1; next }
		if ($0 ~ /^\.Ed/) { inb = 0; flush(); next }
		if (inb) add($0)
		next
	}
	kind == "sh" {
		if ($0 ~ /^#   /) add(substr($0, 5)); else flush()
		next
	}
	END { flush(); print k + 0 }'
}

# check_macs OUT: in h_xlcfg's output, every configuration that names
# its guest has one vif, with the MAC the rule gives that name.
check_macs()
{
	awk '$2 == "name" { print $1, $3 }' "$1" > names
	while read -r f n; do
		atf_check -o inline:"$f vif mac=$(mac_rule "$n") bridge=xenbr0\n" \
		    grep "^$f vif " "$1"
	done < names
}

atf_test_case docs_parse
docs_parse_head()
{
	atf_set descr "Every xl configuration in README.md, the manuals and block-cgd parses with xl's parser"
}
docs_parse_body()
{
	require_xlcfg
	command -v openssl >/dev/null || atf_skip "openssl is not installed"
	n=$(extract md "$docs/README.md" readme)
	[ "$n" -ge 2 ] || atf_fail "README.md: $n xl configurations found, not 2"
	n=$(extract mdoc "$docs/man/setup-local.8" setup-local)
	[ "$n" -ge 2 ] || atf_fail "setup-local.8: $n found, not 2"
	for m in "$docs"/man/*.8; do
		b=$(basename "$m" .8)
		[ "$b" = setup-local ] || extract mdoc "$m" "$b" >/dev/null
	done
	n=$(extract sh "$docs/xen/block-cgd" block-cgd)
	[ "$n" = 1 ] || atf_fail "xen/block-cgd: $n found, not 1"
	atf_check -o save:out "$SR_TESTS/h_xlcfg" *.cfg
	# The encrypted disk, as each of the three gives it.
	for src in readme setup-local block-cgd; do
		atf_check -o match:"^$src\.[0-9]+\.cfg: disk vdev=0x3 access=rw format=raw script=/usr/local/share/sharedroot/xen/block-cgd target=/srv/xen/web1-local.img:/srv/xen/web1.cgd$" \
		    cat out
	done
	# Whole configurations: a MAC of their own, the kernel gzipped as
	# the release ships it (xl gunzips it).
	atf_check -o match:'^readme\.[0-9]+\.cfg: name web1$' cat out
	atf_check -o match:'^setup-local\.[0-9]+\.cfg: name web1$' cat out
	check_macs out
	atf_check -o match:' kernel /srv/xen/netbsd-XEN3_DOMU\.gz$' cat out
	awk '$2 == "kernel" && $3 !~ /\.gz$/' out > unzipped
	atf_check -o empty cat unzipped
	atf_check -s exit:1 grep -n gunzip "$docs/README.md"
}

atf_test_case docs_broken_line_refused
docs_broken_line_refused_head()
{
	atf_set descr "h_xlcfg refuses what xl refuses: a quoted string broken over lines, an unknown disk or vif key, a bad MAC"
}
docs_broken_line_refused_body()
{
	require_xlcfg
	printf '%s\n' "disk = [ 'format=raw, vdev=0x3, access=rw," \
	    "   target=/srv/xen/web1-local.img' ]" > broken.cfg
	atf_check -s exit:1 -e match:'broken.cfg: xl cannot read' \
	    "$SR_TESTS/h_xlcfg" broken.cfg
	echo "disk = [ 'format=raw, vdev=0x3, acces=rw, target=/x.img' ]" \
	    > key.cfg
	atf_check -s exit:1 -e match:'unknown parameter' \
	    "$SR_TESTS/h_xlcfg" key.cfg
	echo "vif = [ 'mac=00:16:3e:zz:01:02, bridge=xenbr0' ]" > mac.cfg
	atf_check -s exit:1 -e match:"Invalid parameter .mac'" \
	    "$SR_TESTS/h_xlcfg" mac.cfg
	echo "vif = [ 'mac=00:16:3e:80:01:02, brige=xenbr0' ]" > vif.cfg
	atf_check -s exit:1 -e match:'unrecognized argument .brige=xenbr0' \
	    "$SR_TESTS/h_xlcfg" vif.cfg
}

atf_test_case demo_configs_parse
demo_configs_parse_head()
{
	atf_set descr "The demo's xl configurations parse with xl's parser: four disks in order, a MAC each"
}
demo_configs_parse_body()
{
	require_xlcfg
	for p in makefs openssl; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	atf_check -o ignore -e ignore env DEMO_OUT=$(pwd)/demo \
	    sh "$SR_TESTS/demo.sh" "$SR_SBIN"
	for g in 1 2 3; do
		f=demo/guest$g.cfg
		atf_check -o save:out$g "$SR_TESTS/h_xlcfg" $f
		atf_check -o inline:"$f: name guest$g
$f: kernel $(pwd)/demo/netbsd-XEN3_DOMU.gz
$f: disk vdev=0x1 access=ro format=raw script= target=$(pwd)/demo/root.img
$f: disk vdev=0x2 access=rw format=raw script= target=$(pwd)/demo/guest$g-swap.img
$f: disk vdev=0x3 access=rw format=raw script= target=$(pwd)/demo/guest$g-local.img
$f: disk vdev=0x4 access=ro format=raw script= target=$(pwd)/demo/pkg.img
$f: vif mac=$(mac_rule guest$g) bridge=xenbr0
" cat out$g
	done
}

atf_init_test_cases()
{
	atf_add_test_case docs_parse
	atf_add_test_case docs_broken_line_refused
	atf_add_test_case demo_configs_parse
}
