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

atf_init_test_cases()
{
	atf_add_test_case root_swapped_while_copied
}
