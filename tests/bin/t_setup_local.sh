# setup-local on directories: the guest's files, its options, and what it
# refuses.

atf_test_case provisions_today_guest
provisions_today_guest_head()
{
	atf_set descr "Today's root: every generated and edited file"
}
provisions_today_guest_body()
{
	sl_fixture nb10
	atf_check -o match:'provisioned from root' setup-local root local
	atf_check -o inline:'etc\ntmp\nvar\n' ls local
	# The vanilla rc, without the hook; no hook file.
	atf_check cmp "$SR_DATA/nb10/rc" local/etc/rc
	atf_check test ! -e local/etc/rc.pre-hooks
	atf_check -o inline:'/dev/xbd0a	/		ffs	ro		0 0
/dev/cgd0b	none		swap	sw		0 0
/dev/xbd2a	/local		ffs	rw		0 0
/dev/xbd3a	/usr/pkg	ffs	ro		0 0
/local/etc	/etc		null	rw		0 0
/local/tmp	/tmp		null	rw		0 0
/local/var	/var		null	rw		0 0
kernfs		/kern		kernfs	rw
procfs		/proc		procfs	rw,noauto
' grep -v '^#' local/etc/fstab
	atf_check cmp "$SR_DATA/nb10/fstab" local/etc/fstab.orig
	# The etc set's rc_configured=NO replaced in place; the rest
	# appended, each only where the root has the rc.d script reading it
	# (postfix is the mailer: no sendmail= line, which nothing reads;
	# rc.d/random_seed's seed on /local, which df -G calls ffs, not on
	# the null-mounted /var).
	atf_check -o inline:'rc_configured=YES
critical_filesystems_local="/local /etc /tmp /var"
random_file=/local/var/db/entropy-file
powerd=YES
savecore=NO
postfix=NO
wscons=NO
cgd=YES
' sh -c 'diff root/etc/rc.conf local/etc/rc.conf | sed -n "s/^> //p"'
	atf_check -s exit:1 -o empty grep '^rc_configured=NO' local/etc/rc.conf
	atf_check cmp root/etc/rc.conf local/etc/rc.conf.orig
	atf_check -o match:'^	mount -uw /local$' \
	    -o match:'^start_postcmd=sharedroot_local_rw$' \
	    cat local/etc/rc.conf.d/root
	atf_check -o inline:'cgd0	/dev/xbd1a	/etc/cgd/xbd1a\n' \
	    grep -v '^#' local/etc/cgd/cgd.conf
	atf_check -o inline:'algorithm aes-xts;
iv-method encblkno1;
keylength 256;
verify_method none;
keygen urandomkey;
' cat local/etc/cgd/xbd1a
	atf_check -o inline:'600\n' stat -c %a local/etc/cgd/xbd1a
	atf_check -o match:'disklabel -R -r cgd0' \
	    -o match:'^start_postcmd=sharedroot_swap_label$' \
	    cat local/etc/rc.conf.d/cgd
	atf_check -o inline:'console\n' sh -c \
	    "awk '!/^#/ && \$NF != \"\" { for (i = 1; i <= NF; i++) \
	    if (\$i == \"on\") print \$1 }' local/etc/ttys"
	atf_check -o inline:'2\n' grep -c '^#[0-9].*/etc/\(daily\|weekly\)' \
	    local/var/cron/tabs/root
	atf_check -s exit:1 -o inline:'0\n' \
	    grep -c '^[0-9].*/etc/\(daily\|weekly\)' local/var/cron/tabs/root
	atf_check -o inline:'600\n' stat -c %a local/var/cron/tabs/root
	# cron reads every file in tabs/: the original is kept beside it.
	atf_check -o inline:'root\n' ls local/var/cron/tabs
	atf_check cmp root/var/cron/tabs/root local/var/cron/root.orig
	# No guest gets the template's secrets.
	atf_check -o inline:'sshd_config\n' ls local/etc/ssh
	atf_check test ! -e local/var/db/entropy-file
	atf_check test ! -e local/.sharedroot.stage
	# Which root it was seeded from, and that root's pristine etc.
	atf_check -o match:'^[0-9a-f]{64}$' cat root/.sharedroot/id
	atf_check cmp root/.sharedroot/id local/.sharedroot/root-id
	atf_check -o match:'^etc/rc.conf$' -o match:'^etc/ttys$' \
	    -o not-match:'ssh_host' tar tzf local/.sharedroot/base-etc.tgz
	mkdir base
	atf_check tar xzf local/.sharedroot/base-etc.tgz -C base
	atf_check cmp root/etc/rc.conf base/etc/rc.conf
	# Nothing in the root changed.
	atf_check cmp "$SR_DATA/nb10/ttys" root/etc/ttys
}

atf_test_case provisions_4x_guest
provisions_4x_guest_head()
{
	atf_set descr "A 4.x root: wscons= replaced, aes-cbc and encblkno"
}
provisions_4x_guest_body()
{
	sl_fixture nb4
	atf_check -o ignore setup-local root local
	atf_check cmp "$SR_DATA/nb4/rc" local/etc/rc
	atf_check -o inline:'wscons=NO\n' grep '^wscons=' local/etc/rc.conf
	atf_check -o inline:'cgd=YES\n' grep '^cgd=' local/etc/rc.conf
	atf_check -o inline:'rc_configured=YES\n' grep '^rc_configured=' \
	    local/etc/rc.conf
	atf_check -o inline:'postfix=NO\n' grep '^postfix=' local/etc/rc.conf
	atf_check -s exit:1 -o empty grep '^sendmail=' local/etc/rc.conf
	atf_check -o match:'^algorithm aes-cbc;$' -o match:'^iv-method encblkno;$' \
	    -o match:'^keylength 256;$' cat local/etc/cgd/xbd1a
	atf_check -o inline:'2\n' grep -c '^#[0-9].*/etc/\(daily\|weekly\)' \
	    local/var/cron/tabs/root
	rm -rf local && mkdir local
	atf_check -s exit:1 -e match:'4.x-shaped, whose cgd lacks aes-xts' \
	    setup-local -S aes-xts root local
	atf_check -o empty ls local
}

atf_test_case rcconf_only_known_variables
rcconf_only_known_variables_head()
{
	atf_set descr "A service's variable is written only with its rc.d script"
}
rcconf_only_known_variables_body()
{
	sl_fixture nb10
	rm root/etc/rc.d/postfix root/etc/rc.d/powerd
	atf_check -o ignore setup-root root
	atf_check -o ignore -e ignore -o match:'powerd not set: the root has no rc.d/powerd' \
	    setup-local -v root local
	atf_check -s exit:1 -o empty grep -E '^(postfix|powerd|sendmail)=' \
	    local/etc/rc.conf
	atf_check -o inline:'rc_configured=YES\nsavecore=NO\nwscons=NO\n' \
	    grep -E '^(rc_configured|savecore|wscons)=' local/etc/rc.conf
}

atf_test_case kernel_without_cgd_warned
kernel_without_cgd_warned_head()
{
	atf_set descr "A 4.x root whose ELF kernel lacks cgd: a warning, not a failure"
}
kernel_without_cgd_warned_body()
{
	sl_fixture nb4
	printf '\177ELF kernel with wd and xbd only\0' > root/netbsd
	atf_check -o ignore -e match:'warning: root: netbsd: the root.s kernel has no cgd driver' \
	    setup-local root local
	# Told no swap, or a kernel with the driver: nothing to say.
	rm -rf local && mkdir local
	atf_check -o ignore -e empty setup-local -S none root local
	printf '\177ELF kernel\0cgd\0xbd\0' > root/netbsd
	rm -rf local && mkdir local
	atf_check -o ignore -e empty setup-local root local
	# A compressed kernel cannot be told: nothing is said.
	printf '\037\213 gzip' > root/netbsd
	rm -rf local && mkdir local
	atf_check -o ignore -e empty setup-local root local
	# Today's shape: the stock kernels have cgd.
	rm -rf root local && sl_fixture nb10
	printf '\177ELF kernel without\0' > root/netbsd
	atf_check -o ignore -e empty setup-local root local
}

atf_test_case pkgdb_in_var_warned
pkgdb_in_var_warned_head()
{
	atf_set descr "A package database in the root's var is warned of (pkg.img swaps)"
}
pkgdb_in_var_warned_body()
{
	sl_fixture nb10
	atf_check -o ignore -e not-match:'var/db/pkg' setup-local root local
	mkdir -p root/var/db/pkg/sudo-1.9
	atf_check -o ignore setup-root root
	rm -rf local && mkdir local
	atf_check -o ignore -e match:'warning: var/db/pkg: the root keeps a package database in var.*PKG_DBDIR=/usr/pkg/pkgdb' \
	    setup-local root local
}

atf_test_case copy_matches_pax
copy_matches_pax_head()
{
	atf_set descr "The copy keeps what pax -rwpe keeps, path by path"
	atf_set require.user root
	atf_set require.progs pax
}
copy_matches_pax_body()
{
	sl_fixture nb10
	atf_check -o ignore setup-local root local
	mkdir paxcopy
	(cd root && pax -rw -pe etc tmp var ../paxcopy) ||
	    atf_fail "pax failed"
	# Debian's pax drops extended attributes; they are compared with
	# the root's below.  What setup-local leaves out or edits is
	# compared apart.
	export META_NOXATTR=1
	skip='^\./(\.sharedroot|etc/ssh/ssh_host_|var/db/entropy-file|etc/rc.pre-hooks|etc/cgd|etc/rc.conf.d|etc/fstab|etc/rc.conf( |\.orig)|etc/rc( |\.orig)|etc/ttys|etc/myname|var/cron/tabs/root|var/cron/root.orig|etc/rc.conf.d)'
	# (The top's link count counts the local's .sharedroot too.)
	meta paxcopy | grep -Ev "$skip|^\. " > want
	meta local | grep -Ev "$skip|^\. " > got
	atf_check -o ignore grep -c 'character special file 666 0 0 0 1 1,3' got
	atf_check -o ignore grep 'passwd.hardlink regular file 644 0 0 35 2' got
	atf_check -o ignore grep 'var/log/messages regular file 644 12345 12345' got
	atf_check -o ignore grep 'var/run/sgid-tool regular file 2750 0 5' got
	atf_check -o ignore grep 'etc/localtime symbolic link .* -> /usr/share/zoneinfo/UTC' got
	atf_check -o ignore grep '^./tmp directory 1777' got
	atf_check -o ignore grep 'var/spool/lock/fifo fifo' got
	atf_check diff want got
	# An edited file's original keeps every attribute of the root's.
	meta local > all
	meta paxcopy > paxall
	# root's crontab keeps its original out of cron's tabs directory.
	for f in etc/rc.conf etc/ttys var/cron/tabs/root etc/fstab; do
		o=$f.orig
		[ $f = var/cron/tabs/root ] && o=var/cron/root.orig
		grep "^\./$f " paxall | cut -d' ' -f2- > w.$$
		grep "^\./$o " all | cut -d' ' -f2- > g.$$
		atf_check -o match:'regular file' cat g.$$
		atf_check cmp w.$$ g.$$
	done
	unset META_NOXATTR
	if command -v getfattr >/dev/null; then
		atf_check -o match:'user.sharedroot="kept"' \
		    getfattr -d local/etc/rc.conf.orig
		atf_check -o match:'user.sharedroot="group"' \
		    getfattr -d local/etc/group
		# An edited file keeps the attributes of the one it replaced.
		atf_check -o match:'user.sharedroot="kept"' \
		    getfattr -d local/etc/rc.conf
	fi
	# Directory times too, where nothing was added.
	atf_check -o inline:"$(stat -c %Y paxcopy/var/log)\n" \
	    stat -c %Y local/var/log
	# Sparse stays sparse: 8 MiB long, a few KiB on disk.
	atf_check -o inline:'8388608\n' stat -c %s local/var/db/sparse
	atf_check test "$(du -k local/var/db/sparse | cut -f1)" -lt 64
}

atf_test_case file_flags_kept
file_flags_kept_head()
{
	atf_set descr "File flags are copied where both sides support them"
	atf_set require.progs chattr lsattr
}
file_flags_kept_body()
{
	make_root nb10 root
	atf_check -o ignore setup-root root
	chattr +d root/etc/group 2>/dev/null ||
	    atf_skip "this file system has no nodump flag"
	mkdir local
	atf_check -o ignore setup-local root local
	atf_check -o match:'^[^ ]*d[^ ]* local/etc/group$' lsattr local/etc/group
	atf_check -o match:'^[^d ]* local/etc/passwd$' lsattr local/etc/passwd
}

atf_test_case unprepared_root_warned
unprepared_root_warned_head()
{
	atf_set descr "A root setup-root never prepared is provisioned, with a warning"
}
unprepared_root_warned_body()
{
	make_root nb10 root
	mkdir local
	atf_check -o ignore -e match:'warning: etc/rc: the root does not call rc.pre-hooks' \
	    setup-local root local
	atf_check cmp root/etc/rc local/etc/rc
}

atf_test_case rerun_refused_force_reseeds
rerun_refused_force_reseeds_head()
{
	atf_set descr "A provisioned guest is refused; -f re-seeds it, once"
}
rerun_refused_force_reseeds_body()
{
	sl_fixture nb10
	atf_check -o ignore setup-local root local
	echo mine > local/etc/guest-data
	digest local > before
	atf_check -s exit:1 -e inline:"setup-local: local: etc: already provisioned; its /etc is the guest's own (-f replaces it)\n" \
	    setup-local root local
	digest local > after
	atf_check cmp before after
	atf_check -o match:'replaced \(forced\)' setup-local -f root local
	atf_check test ! -e local/etc/guest-data
	atf_check -o inline:'1\n' grep -c '^wscons=NO$' local/etc/rc.conf
	atf_check -o inline:'1\n' grep -c '^/dev/xbd2a' local/etc/fstab
	atf_check test ! -e local/.sharedroot.stage
	atf_check cmp root/etc/rc.conf local/etc/rc.conf.orig
}

atf_test_case options_h_S_P
options_h_S_P_head()
{
	atf_set descr "-h, -S and -P change exactly their lines"
}
options_h_S_P_body()
{
	sl_fixture nb10
	atf_check -o ignore setup-local -h web1.example.org -S adiantum \
	    -P /dev/xbd5a root local
	atf_check -o inline:'hostname=web1.example.org\n' \
	    grep '^hostname=' local/etc/rc.conf
	atf_check -o inline:'web1.example.org\n' cat local/etc/myname
	atf_check -o inline:'template\n' cat local/etc/myname.orig
	atf_check -o match:'^algorithm adiantum;$' -o match:'^keylength 256;$' \
	    cat local/etc/cgd/xbd1a
	atf_check -o inline:'/dev/xbd5a	/usr/pkg	ffs	ro		0 0\n' \
	    grep /usr/pkg local/etc/fstab

	mkdir l2
	atf_check -o ignore -e match:'warning: blowfish-cbc: obsolete cipher' \
	    setup-local -S blowfish-cbc root l2
	atf_check -o match:'^keylength 128;$' -o match:'^iv-method encblkno1;$' \
	    cat l2/etc/cgd/xbd1a

	mkdir l3
	atf_check -o ignore setup-local -S none -P none root l3
	atf_check test ! -e l3/etc/cgd/cgd.conf
	atf_check test ! -e l3/etc/cgd/xbd1a
	atf_check test ! -e l3/etc/rc.conf.d/cgd
	atf_check -s exit:1 -o inline:'0\n' grep -c '^cgd=' l3/etc/rc.conf
	atf_check -s exit:1 -o inline:'0\n' grep -c '^[^#].*\(swap\|/usr/pkg\)' \
	    l3/etc/fstab
}

atf_test_case bad_options
bad_options_head()
{
	atf_set descr "Bad -h, -P, -S, -s, -c: one line, exit 1, nothing written"
}
bad_options_body()
{
	sl_fixture nb10
	atf_check -s exit:1 -e match:'^setup-local: local: -h a;b: not a host name' \
	    setup-local -h 'a;b' root local
	# "-h -- root local": the host name was forgotten.
	atf_check -s exit:1 -e inline:"setup-local: local: -h --: not a host name (is the host name missing before the arguments?)\n" \
	    setup-local -h -- root local
	long=$(printf 'a%.0s' $(seq 64))
	atf_check -s exit:1 -e match:"-h $long.example: not a host name \(each label 1 to 63" \
	    setup-local -h "$long.example" root local
	atf_check -s exit:1 -e match:'not a host name' setup-local -h 'a..b' root local
	atf_check -s exit:1 -e match:'not a host name' setup-local -h 'web-.x' root local
	atf_check -s exit:1 -e match:'^setup-local: local: -P /dev/x y: give a device' \
	    setup-local -P '/dev/x y' root local
	atf_check -s exit:1 -e match:'^setup-local: local: -S rot13: unknown cipher \(aes-xts' \
	    setup-local -S rot13 root local
	atf_check -s exit:1 -e match:'^setup-local: -s 1k: give a size from 4m to 16t' \
	    setup-local -s 1k root local
	atf_check -s exit:1 -e match:'^usage: setup-local \[-fnqvz\] \[-c keyfile\]' \
	    setup-local root
	printf 'key\n' > key
	chmod 0640 key
	atf_check -s exit:1 -e match:'key file key: readable by group or others \(mode 0640\)' \
	    setup-local -c key root local
	mkdir keydir
	atf_check -s exit:1 -e match:'key file keydir: not a regular file' \
	    setup-local -c keydir root local
	chmod 0600 key
	atf_check -s exit:1 -e inline:'setup-local: local: -c key: a directory cannot be encrypted; name an image\n' \
	    setup-local -c key root local
	atf_check -s exit:1 -e inline:'setup-local: root: root and local are the same\n' \
	    setup-local root root
	atf_check -o empty ls local
}

atf_test_case keyfile_never_downgraded
keyfile_never_downgraded_head()
{
	atf_set descr "-c where the image would be filled in plaintext: refused, one line"
}
keyfile_never_downgraded_body()
{
	sl_fixture nb10
	printf 'not a key file\n' > key
	chmod 0600 key
	# A key file that does not parse: nothing is made.
	atf_check -s exit:1 -o empty -e inline:'setup-local: new.img: key:1: syntax error\n' \
	    setup-local -c key root new.img
	atf_check -s exit:1 test -e new.img
	# An old ext2 local, filled in place through a loop device: that
	# would write plaintext, so it is refused.
	if [ "$(id -u)" = 0 ] && command -v mke2fs >/dev/null; then
		mkdir empty
		make_ext2 empty old.img 8M
		sum=$(md5sum < old.img)
		atf_check -s exit:1 -o empty \
		    -e match:'^setup-local: old.img: .*plaintext|not a cgd image|key:1' \
		    setup-local -c key root old.img
		atf_check_equal "$sum" "$(md5sum < old.img)"
	fi
	check_no_leftovers
}

atf_test_case swapped_arguments_refused
swapped_arguments_refused_head()
{
	atf_set descr "A guest's local disk or a set given as the root: refused, saying which is which"
}
swapped_arguments_refused_body()
{
	sl_fixture nb10
	atf_check -o ignore -e ignore setup-local -h g1 root local
	mkdir new
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: local: a guest's local disk (setup-local made it), not a shared root: the root comes first, then the local (setup-local root local)\n" \
	    setup-local local new
	atf_check -o empty ls new
	# The same disk as an FFS image, read without mounting.
	if command -v makefs >/dev/null; then
		atf_check -o ignore makefs -t ffs local.img local
		atf_check -s exit:1 -o empty -e match:"^setup-local: local.img: a guest's local disk" \
		    setup-local local.img new.img
		atf_check test ! -e new.img
	fi
	# A set is not a root image.
	printf 'x' > base.tgz
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: base.tgz: a set archive, not a root image: make a root with setup-root -o root.img SETS first\n" \
	    setup-local base.tgz new.img
	atf_check test ! -e new.img
}

atf_test_case templates_option
templates_option_head()
{
	atf_set descr "-T uses other templates; an unknown variable names file:line"
}
templates_option_body()
{
	sl_fixture nb10
	mkdir t
	cp "$SR_SHARE"/templates/* t/
	printf '# site fstab\n/dev/xbd0a / @ROOT_FSTYPE@ ro 1 1\n@SWAP_LINE@\n' \
	    > t/fstab
	atf_check -o ignore setup-local -T t root local
	atf_check -o inline:'# site fstab\n/dev/xbd0a / ffs ro 1 1\n/dev/cgd0b	none		swap	sw		0 0\n' \
	    cat local/etc/fstab
	printf 'ok\nalgorithm @CHIPHER@;\n' > t/cgd-params
	mkdir l2
	atf_check -s exit:1 -e inline:'setup-local: root: t/cgd-params:2: unknown variable @CHIPHER@\n' \
	    setup-local -T t root l2
	atf_check -o empty ls l2
}

atf_test_case dry_run_writes_nothing
dry_run_writes_nothing_head()
{
	atf_set descr "-n shows copies, secrets and diffs; writes nothing"
}
dry_run_writes_nothing_body()
{
	sl_fixture nb4
	digest root > rbefore
	atf_check -o save:out -e empty setup-local -n -h g1 root local
	atf_check -o empty ls -A local
	digest root > rafter
	atf_check cmp rbefore rafter
	atf_check -o match:'^copy etc, tmp, var: [0-9]+ entries from root$' cat out
	atf_check -o match:'var/db/entropy-file: not copied' cat out
	atf_check -o match:'etc/ssh/ssh_host_rsa_key: not copied' cat out
	atf_check -o match:'^-wscons=YES$' -o match:'^\+wscons=NO$' cat out
	atf_check -o match:'^\+hostname=g1$' cat out
	atf_check -o match:'^remove etc/rc.pre-hooks$' cat out
	atf_check -o match:'^\+\+\+ b/etc/cgd/xbd1a$' cat out
	atf_check -o match:'dry run: nothing written' cat out
	# -q: nothing printed; exit 0 says the run would succeed.
	atf_check -o empty -e empty setup-local -q -n -h g1 root local
	atf_check -o empty ls -A local
}

atf_test_case hostile_trees
hostile_trees_head()
{
	atf_set descr "Links in root or local never reach host files"
}
hostile_trees_body()
{
	here=$(pwd)
	mkdir host
	echo secret > host/file
	echo keep > host/node

	# A root whose var is a link to a host directory.
	sl_fixture nb10
	rm -rf root/var
	ln -s "$here/host" root/var
	atf_check -s exit:1 -e inline:'setup-local: root: var: not a directory in the root (refused)\n' \
	    setup-local root local
	atf_check -o empty ls -A local

	# A root whose rc.conf links to a host file.
	rm -rf root local
	sl_fixture nb10
	rm root/etc/rc.conf
	ln -s "$here/host/file" root/etc/rc.conf
	atf_check -s exit:1 -e match:'^setup-local: root: etc/rc.conf: read: is a symbolic link' \
	    setup-local root local
	atf_check -o empty ls -A local

	# A local whose etc links to a host directory: replaced, not followed.
	rm -rf root local
	sl_fixture nb10
	ln -s "$here/host" local/etc
	atf_check -s exit:1 -e match:'already provisioned' setup-local root local
	atf_check -o ignore setup-local -f root local
	atf_check -o inline:'directory\n' stat -c %F local/etc
	atf_check -o inline:'file\nnode\n' ls host
	atf_check -o inline:'secret\n' cat host/file
}

atf_init_test_cases()
{
	atf_add_test_case provisions_today_guest
	atf_add_test_case provisions_4x_guest
	atf_add_test_case rcconf_only_known_variables
	atf_add_test_case kernel_without_cgd_warned
	atf_add_test_case pkgdb_in_var_warned
	atf_add_test_case copy_matches_pax
	atf_add_test_case file_flags_kept
	atf_add_test_case unprepared_root_warned
	atf_add_test_case rerun_refused_force_reseeds
	atf_add_test_case options_h_S_P
	atf_add_test_case bad_options
	atf_add_test_case keyfile_never_downgraded
	atf_add_test_case swapped_arguments_refused
	atf_add_test_case templates_option
	atf_add_test_case dry_run_writes_nothing
	atf_add_test_case hostile_trees
}
