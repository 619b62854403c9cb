# make demo, as a newcomer runs it: every image its Xen configurations
# name is made, and each is what it says it is.

atf_test_case demo_makes_what_it_names
demo_makes_what_it_names_head()
{
	atf_set descr "The demo makes every disk and kernel its xl configurations name"
}
demo_makes_what_it_names_body()
{
	for p in makefs fsstat fls icat gzip; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	export DEMO_OUT=$(pwd)/demo
	atf_check -o save:out -e save:err sh "$SR_TESTS/demo.sh" "$SR_SBIN"
	atf_check -o match:'xl create' cat out
	for g in 1 2 3; do
		cfg=demo/guest$g.cfg
		atf_check test -s "$cfg"
		# Every target and the kernel exist.
		for f in $(sed -n "s/.*target=\([^']*\)'.*/\1/p; s/^kernel = \"\(.*\)\"/\1/p" "$cfg"); do
			atf_check test -s "$f"
		done
		atf_check -o inline:'4\n' grep -c 'target=' "$cfg"
		atf_check -o match:'File System Type: UFS' fsstat demo/guest$g-local.img
		atf_check -o inline:"guest$g\n" icat demo/guest$g-local.img \
		    "$(ino demo/guest$g-local.img etc/myname)"
		# Upgraded to the release now in root.img: the hook lets it
		# boot, and it has the release's new script.
		icat demo/root.img "$(ino demo/root.img .sharedroot/id)" > rid
		atf_check -o file:rid icat demo/guest$g-local.img \
		    "$(ino demo/guest$g-local.img .sharedroot/root-id)"
		atf_check -o match:'name=npf' icat demo/guest$g-local.img \
		    "$(ino demo/guest$g-local.img etc/rc.d/npf)"
		atf_check -o match:"^guest$g-local.img +2 +3 +0 +0 +0  upgraded$" \
		    cat out
	done
	# The root before, kept for going back, is another root.
	icat demo/root-prev.img "$(ino demo/root-prev.img .sharedroot/id)" > pid
	atf_check -o match:'^[0-9a-f]{64}$' cat pid
	atf_check -s exit:1 cmp -s rid pid
	atf_check -o match:'File System Type: UFS' fsstat demo/root.img
	atf_check -o match:'File System Type: UFS' fsstat demo/pkg.img
	# xl loads the kernel gzipped, as the release ships it (libxenguest
	# gunzips it: xc_dom_kernel_file), and root.img holds the same.
	atf_check -o match:'^kernel = ".*/netbsd-XEN3_DOMU.gz"$' \
	    cat demo/guest1.cfg
	atf_check -o inline:'a sample XEN3_DOMU kernel\n' \
	    gzip -dc demo/netbsd-XEN3_DOMU.gz
	atf_check -o inline:'a sample XEN3_DOMU kernel\n' icat demo/root.img \
	    "$(ino demo/root.img netbsd)"
	# Swap disks are sparse.
	atf_check -o match:'^0	' du -k demo/guest1-swap.img
}

atf_test_case demo_macs_stable
demo_macs_stable_head()
{
	atf_set descr "Each demo guest has its own MAC, derived from its name, the same at every run"
}
demo_macs_stable_body()
{
	for p in makefs openssl; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	for run in 1 2; do
		atf_check -o ignore -e ignore env DEMO_OUT=$(pwd)/run$run \
		    sh "$SR_TESTS/demo.sh" "$SR_SBIN"
		for g in 1 2 3; do
			atf_check -o save:vif$run-$g grep '^vif = ' \
			    run$run/guest$g.cfg
		done
	done
	: > macs
	for g in 1 2 3; do
		atf_check -o inline:"vif = [ 'mac=$(mac_rule guest$g), bridge=xenbr0' ]\n" \
		    cat vif1-$g
		atf_check cmp vif1-$g vif2-$g
		sed "s/.*mac=\([^,]*\),.*/\1/" vif1-$g >> macs
	done
	atf_check sort -u -o uniq macs
	atf_check -o inline:'3\n' grep -c '^00:16:3e:[89a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]$' uniq
}

atf_init_test_cases()
{
	atf_add_test_case demo_makes_what_it_names
	atf_add_test_case demo_macs_stable
}
