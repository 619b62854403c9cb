# Trees that change under the tools, and disks that fill up: what a
# hostile or careless neighbour does while setup-local and setup-root
# run.

atf_test_case root_swapped_while_copied cleanup
root_swapped_while_copied_head()
{
	atf_set descr "A root's directory swapped, again and again, for a link to a root-only host directory while setup-local copies: the host's file never lands in the local"
	atf_set require.user root
	atf_set timeout 300
}
root_swapped_while_copied_body()
{
	[ "$(uname -s)" = Linux ] || atf_skip "the swapper needs Linux's renameat2"
	make_root nb10 root
	# A directory worth copying, and a link to the host's secrets that
	# takes its place in turns.
	mkdir root/var/swap
	for i in $(seq 300); do
		echo "$i" > root/var/swap/f$i
	done
	mkdir -m 0700 host
	echo SR-HOST-MARKER > host/secret
	ln -s "$PWD/host" root/var/swap.l
	# And a file, for a link to the host's secret file.
	head -c 200000 /dev/zero | tr '\0' x > root/var/swapf
	ln -s "$PWD/host/secret" root/var/swapf.l
	# Not prepared by setup-root: its identity would stop most runs
	# before they copy (the swaps change it); setup-local only warns.
	"$SR_TESTS/h_swapdir" root/var swap swap.l 240 300 > swaps &
	echo $! > swapper
	undo_add "kill -TERM $(cat swapper)"
	"$SR_TESTS/h_swapdir" root/var swapf swapf.l 240 0 > swapsf &
	echo $! > swapperf
	undo_add "kill -TERM $(cat swapperf)"
	# Copies, until enough of them ran: each sees the directory or the
	# link, or refuses a tree that changed under it.
	i=0
	copied=0
	end=$(($(date +%s) + 100))
	while [ $i -lt 80 ] && [ "$(date +%s)" -lt $end ]; do
		i=$((i + 1))
		mkdir local.$i
		setup-local -q root local.$i >out.$i 2>&1
		status=$?
		if grep -rqs SR-HOST-MARKER local.$i; then
			atf_fail "run $i copied the host's file: $(grep -rl SR-HOST-MARKER local.$i)"
		fi
		if [ $status = 0 ]; then
			copied=$((copied + 1))
		else
			atf_check -o match:'^setup-local: (root|local\.[0-9]+): .*refused\)' \
			    sed -n '$p' out.$i
		fi
		# Never anything but the root's files or the link itself.
		if [ -d local.$i/var/swap ] && [ ! -L local.$i/var/swap ]; then
			atf_check -o inline:'300\n' sh -c \
			    "ls local.$i/var/swap | wc -l"
		fi
	done
	kill -TERM "$(cat swapper)" "$(cat swapperf)"
	wait
	echo "$i runs, $copied copied, $(cat swaps) and $(cat swapsf) swaps"
	atf_check test "$(cat swaps)" -gt 1000
	atf_check test "$(cat swapsf)" -gt 1000
	# Where the file was copied, it is the root's.
	for l in local.*; do
		if [ -f $l/var/swapf ] && [ ! -L $l/var/swapf ]; then
			atf_check cmp root/var/swapf $l/var/swapf
		fi
	done
	atf_check test $copied -gt 0
	atf_check -s exit:1 grep -rl SR-HOST-MARKER local.1
	check_no_leftovers
}
root_swapped_while_copied_cleanup()
{
	undo_run
}

# small_tmpfs DIR SIZE: a tmpfs of SIZE mounted on DIR (made), unmounted
# by the cleanup.
small_tmpfs()
{
	mkdir -p "$1"
	atf_check mount -t tmpfs -o size="$2" tmpfs "$1"
	undo_add "umount '$(pwd)/$1'"
}

atf_test_case full_disks_named cleanup
full_disks_named_head()
{
	atf_set descr "A full file system (the local, TMPDIR, beside an image): refused in one line saying where and how much more is needed; nothing left"
	atf_set require.user root
}
full_disks_named_body()
{
	# In sbin, which atf's require.progs would not look in as a user.
	command -v makefs >/dev/null || atf_skip "no makefs(8)"
	make_root nb10 root
	# 3 MB the local must hold, more than the 1 MiB file systems below.
	head -c 3000000 /dev/urandom > root/var/big
	atf_check -o ignore setup-root root
	small_tmpfs full 1m
	fs=$(pwd)/full
	# A local directory on it: the copy is refused before it starts.
	mkdir full/local
	atf_check -s exit:1 -o empty -e save:err setup-local root full/local
	atf_check -o match:"^setup-local: full/local: no room left on $fs \(1\.0 MiB free\) to write a copy of 3\.[0-9] MiB; about 2\.[0-9] MiB more needed$" \
	    cat err
	atf_check -o inline:'1\n' sh -c 'wc -l < err'
	atf_check -o empty find full/local -mindepth 1
	# From an FFS image, with a full TMPDIR: nothing is staged there
	# any more (the image is written directly), so it is not needed.
	atf_check -o ignore makefs -t ffs -s 16m root.img root
	atf_check -o ignore -e ignore env TMPDIR="$fs" setup-local root.img new.img
	atf_check test -f new.img
	atf_check -o empty find full -mindepth 1 -name 'sharedroot*'
	rm new.img
	# The new image beside a local, on a file system without room for it.
	atf_check -s exit:1 -o empty -e save:err \
	    setup-local -q -s 4m root full/l.img
	atf_check -o match:"^setup-local: full/l.img: no room left on $fs \(1\.0 MiB free\) to write the new image of 4\.0 MiB; about 3\.0 MiB more needed$" \
	    sed -n '$p' err
	# Without -s, makefs says so as it writes it.
	rm -f root/var/big
	atf_check -o ignore setup-root root
	atf_check -s exit:1 -o empty -e save:err setup-local -q root full/l.img
	atf_check -o match:"^setup-local: full/l.img: no room left on $fs \(1\.0 MiB free\) to write the new image of 64\.0 MiB; about [0-9.]+ MiB more needed$" \
	    sed -n '$p' err
	atf_check -o empty find full -mindepth 1 -name '.l.img.*'
	atf_check test ! -e full/l.img
	check_no_leftovers
}
full_disks_named_cleanup()
{
	undo_run
}

atf_test_case local_image_too_small_for_upgrade
local_image_too_small_for_upgrade_head()
{
	atf_set descr "An FFS local that the upgraded tree does not fit: -n -u says so, -u refuses in one line with how much more is needed, nothing changed"
}
local_image_too_small_for_upgrade_body()
{
	# In sbin, which atf's require.progs would not look in as a user.
	command -v makefs >/dev/null || atf_skip "no makefs(8)"
	make_root nb10 root
	head -c 6000000 /dev/urandom > root/var/big
	atf_check -o ignore setup-root root
	atf_check -o ignore -e ignore setup-local -q -s 16m root local.img
	# The next release's etc is 8 MB larger: 16 MiB no longer holds it.
	cp -a root new
	head -c 8000000 /dev/urandom > new/etc/firmware.bin
	atf_check -o ignore setup-root new
	cp local.img local.orig
	atf_check -s exit:1 -o ignore -e save:err setup-local -n -u new local.img
	atf_check -o match:"^setup-local: local.img: warning: no room in its file system of 16\.0 MiB for the new tree: would need about [0-9.]+ MiB; about [0-9.]+ MiB more needed$" \
	    cat err
	atf_check -s exit:1 -o empty -e save:err setup-local -u new local.img
	atf_check -o match:"^setup-local: local.img: the new image: etc/firmware\.bin: no room left in the file system \(16\.0 MiB\) for its data$" \
	    sed -n '$p' err
	# One line but for the warnings about the sample's test attributes.
	atf_check -o inline:'1\n' sh -c \
	    "grep -vc 'warning: .*extended attributes not kept' err"
	atf_check cmp local.orig local.img
	check_no_leftovers
	atf_check -o empty find . -maxdepth 1 -name '.local.img.*'
}

atf_init_test_cases()
{
	atf_add_test_case root_swapped_while_copied
	atf_add_test_case full_disks_named
	atf_add_test_case local_image_too_small_for_upgrade
}
