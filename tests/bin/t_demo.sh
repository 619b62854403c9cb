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
	atf_check -o save:out -e save:err sh "$SR_DATA/../../mk/demo.sh" "$SR_SBIN"
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
	# The kernel xl loads is uncompressed, and root.img holds the same.
	atf_check -o inline:'a sample XEN3_DOMU kernel\n' cat demo/netbsd-XEN3_DOMU
	atf_check -o inline:'a sample XEN3_DOMU kernel\n' icat demo/root.img \
	    "$(ino demo/root.img netbsd)"
	# Swap disks are sparse.
	atf_check -o match:'^0	' du -k demo/guest1-swap.img
}

atf_init_test_cases()
{
	atf_add_test_case demo_makes_what_it_names
}
