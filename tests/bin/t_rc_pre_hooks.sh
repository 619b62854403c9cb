# The guest-side hook, run under sh with recording stubs of fsck, mount
# and mount_null.  The hook is the one setup-root installs; only its path
# constants (/local/etc, /local/var, /etc/rc) are pointed into the work
# directory, so the logic under test is the shipped one.

# stubs: make recording fsck, mount and mount_null in ./stubs.
# FSCK_RC and MOUNT_RC set their exit codes; MOUNT_OUT what a bare
# "mount" lists.
stubs()
{
	mkdir -p stubs local/etc local/var
	for c in fsck mount mount_null; do
		cat > stubs/$c <<'STUB'
#!/bin/sh
name=${0##*/}
if [ "$name" = mount ] && [ $# -eq 0 ]; then
	printf '%s' "$MOUNT_OUT"
	exit 0
fi
echo "$name $*" >> "$LOG"
case $name in
fsck) exit ${FSCK_RC:-0} ;;
mount) exit ${MOUNT_RC:-0} ;;
*) exit 0 ;;
esac
STUB
		chmod +x stubs/$c
	done
	make_root nb10 root
	atf_check -o ignore setup-root -l /dev/rxbd7a root
	here=$(pwd)
	sed -e "s|^_sr_local_etc=.*|_sr_local_etc=$here/local/etc|" \
	    -e "s|^_sr_local_var=.*|_sr_local_var=$here/local/var|" \
	    -e "s|^_sr_rc=.*|_sr_rc=$here/guest-rc|" \
	    -e "s|^_sr_root_id=.*|_sr_root_id=$here/root/.sharedroot/id|" \
	    -e "s|^_sr_local_id=.*|_sr_local_id=$here/local/.sharedroot/root-id|" \
	    root/etc/rc.pre-hooks > hook
	# Only the five path lines differ from what was installed.
	atf_check -o match:'^5$' sh -c \
	    "diff root/etc/rc.pre-hooks hook | grep -c '^>'"
	printf 'echo "guest rc: $*" >> "$LOG"\n' > guest-rc
	# What /etc/rc does: source the hook, then go on.
	printf '. ./hook\necho "shared rc went on: $*" >> "$LOG"\n' > rc
	export LOG=$here/log PATH=$here/stubs:$PATH
	: > log
}

atf_test_case mounts_and_reruns_rc
mounts_and_reruns_rc_head()
{
	atf_set descr "fsck, mount, null mounts, then the guest's rc, in order"
}
mounts_and_reruns_rc_body()
{
	stubs
	atf_check sh rc autoboot
	atf_check -o inline:"fsck -t ffs -p /dev/rxbd7a
mount -t ffs -r /dev/xbd7a /local
mount_null $(pwd)/local/etc /etc
mount_null $(pwd)/local/var /var
guest rc: autoboot
" cat log
}

atf_test_case null_mounted_does_nothing
null_mounted_does_nothing_head()
{
	atf_set descr "With /etc already the null mount, the hook returns"
}
null_mounted_does_nothing_body()
{
	stubs
	export MOUNT_OUT='/dev/xbd0a on / type ffs (read-only, local)
/local/etc on /etc type null (local)
'
	atf_check sh rc autoboot
	atf_check -o inline:'shared rc went on: autoboot\n' cat log
}

atf_test_case fsck_failure_stops_autoboot
fsck_failure_stops_autoboot_head()
{
	atf_set descr "An fsck failure in autoboot sends TERM to rc"
}
fsck_failure_stops_autoboot_body()
{
	stubs
	export FSCK_RC=8
	atf_check -s signal:15 -e match:'fsck -t ffs -p /dev/rxbd7a failed' \
	    -e match:'multi-user boot aborted' sh rc autoboot
	atf_check -o inline:'fsck -t ffs -p /dev/rxbd7a\n' cat log
}

atf_test_case mount_failure_stops_rc
mount_failure_stops_rc_head()
{
	atf_set descr "A mount failure by hand stops rc with status 1"
}
mount_failure_stops_rc_body()
{
	stubs
	export MOUNT_RC=1
	atf_check -s exit:1 -e match:'cannot mount /dev/xbd7a on /local' \
	    sh rc
	atf_check -o inline:'fsck -t ffs -p /dev/rxbd7a\nmount -t ffs -r /dev/xbd7a /local\n' \
	    cat log
}

atf_test_case unprovisioned_disk_stops_rc
unprovisioned_disk_stops_rc_head()
{
	atf_set descr "A local disk without etc and var stops the boot"
}
unprovisioned_disk_stops_rc_body()
{
	stubs
	rmdir local/var
	atf_check -s signal:15 -e match:'holds no etc and var; run setup-local' \
	    sh rc autoboot
	atf_check -o not-match:mount_null cat log
}

atf_test_case other_root_stops_boot
other_root_stops_boot_head()
{
	atf_set descr "A local seeded from another root stops the boot, naming both; unless allowed"
}
other_root_stops_boot_body()
{
	stubs
	mkdir -p local/.sharedroot local/etc/rc.conf.d
	# The same root: on it goes.
	cp root/.sharedroot/id local/.sharedroot/root-id
	atf_check sh rc autoboot
	atf_check -o match:'^guest rc: autoboot$' cat log
	# Another root.
	: > log
	echo 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
	    > local/.sharedroot/root-id
	rid=$(cut -c1-12 root/.sharedroot/id)
	atf_check -s signal:15 \
	    -e match:"/dev/xbd7a was seeded from root 0123456789ab, not this root $rid; upgrade it to this root .setup-local -u., roll it back .setup-local -R." \
	    -e match:'multi-user boot aborted' sh rc autoboot
	atf_check -s exit:1 -o empty grep -E 'mount_null|guest rc' log
	# A comment says nothing; a later NO undoes an earlier YES.
	: > log
	printf '#sharedroot_other_root=YES\n' > local/etc/rc.conf.d/sharedroot
	atf_check -s signal:15 -e match:'multi-user boot aborted' sh rc autoboot
	printf 'sharedroot_other_root=YES\nsharedroot_other_root=NO\n' \
	    > local/etc/rc.conf.d/sharedroot
	atf_check -s signal:15 -e match:'multi-user boot aborted' sh rc autoboot
	atf_check -s exit:1 -o empty grep -E 'mount_null|guest rc' log
	# The guest says it may: a warning, and on it goes.
	: > log
	echo '  sharedroot_other_root="YES"' > local/etc/rc.conf.d/sharedroot
	atf_check -e match:'warning: .* not this root .*booting anyway' \
	    sh rc autoboot
	atf_check -o match:'^guest rc: autoboot$' cat log
	# A local from before identities: not judged.
	rm local/etc/rc.conf.d/sharedroot local/.sharedroot/root-id
	: > log
	atf_check sh rc autoboot
	atf_check -o match:'^guest rc: autoboot$' cat log
}

atf_init_test_cases()
{
	atf_add_test_case other_root_stops_boot
	atf_add_test_case mounts_and_reruns_rc
	atf_add_test_case null_mounted_does_nothing
	atf_add_test_case fsck_failure_stops_autoboot
	atf_add_test_case mount_failure_stops_rc
	atf_add_test_case unprovisioned_disk_stops_rc
}
