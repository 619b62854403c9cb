# setup-local -u and -R: a guest's local moved to a new root (a release)
# with a three-way merge of its etc, and back.  Two roots of the same
# shape differ as a release does: a changed rc.d script, a new one, a
# removed one, a changed defaults/rc.conf and group, a new directory in
# var.  The guest changed its rc.conf, added hosts, changed group (a
# clean merge with the release's change) and, in one case, its shells as
# the release did (a conflict).

# release OLD NEW [open]: NEW is OLD as the next release has it, prepared.
release()
{
	cp -a "$1" "$2"
	# (As an ordinary user the scripts are read-only to their owner too.)
	chmod u+w "$2/etc/rc.d/network"
	printf '#!/bin/sh\n# PROVIDE: network\nname=network\n# 10.1\n' \
	    > "$2/etc/rc.d/network"
	printf '#!/bin/sh\n# PROVIDE: npf\nname=npf\n' > "$2/etc/rc.d/npf"
	chmod 0555 "$2/etc/rc.d/network" "$2/etc/rc.d/npf"
	rm "$2/etc/rc.d/wscons"
	echo 'npf=NO' >> "$2/etc/defaults/rc.conf"
	echo 'npf:*:45:' >> "$2/etc/group"
	mkdir -m 0750 "$2/var/db/npf"
	echo 'npf state' > "$2/var/db/npf/state"
	rm -rf "$2/var/spool/lock" "$2/etc/pf"
	chmod 0750 "$2/etc/ssh"
	[ -f "$2/etc/shells" ] && printf '/bin/sh\n/bin/ksh\n' > "$2/etc/shells"
	# open: readable by an ordinary user (before setup-root records it).
	[ "$3" = open ] && chmod -R go+rX "$2"
	atf_check -o ignore setup-root "$2"
}

# fixture [shells]: root1, its release root2, and a local seeded from root1
# that the guest then changed; with shells, the roots have one.
fixture()
{
	make_root nb10 root1
	[ "$1" = shells ] && printf '/bin/sh\n/bin/csh\n' > root1/etc/shells
	# A directory the release removes, and a name that sorts between it
	# and what was in it.
	mkdir root1/etc/pf && echo 'pass all' > root1/etc/pf/rules
	echo 'kept' > root1/etc/pf-b
	atf_check -o ignore setup-root root1
	release root1 root2
	mkdir local
	atf_check -o ignore setup-local root1 local
	echo 'sshd=YES' >> local/etc/rc.conf
	echo '10.0.0.1 gateway' > local/etc/hosts
	sed -i 's/^wheel:\*:0:root$/wheel:*:0:root,admin/' local/etc/group
	echo 'PRIVATE the guest own key' > local/etc/ssh/ssh_host_ed25519_key
	echo 'guest log' >> local/var/log/messages
}

id_of()
{
	cat "$1/.sharedroot/id"
}

atf_test_case upgrade_merges_release
upgrade_merges_release_head()
{
	atf_set descr "-u takes the release's changes, keeps the guest's," \
	    "merges both, adds what var lacks, and records the new root"
}
upgrade_merges_release_body()
{
	fixture
	cp local/var/log/messages messages.guest
	old=$(cat local/.sharedroot/root-id)
	# The guest installed packages with their database in var.
	mkdir -p local/var/db/pkg/sudo-1.9

	atf_check -o match:'upgraded from root .* 7 taken, 1 kept, 2 merged, 0 conflicts, 2 added in var' \
	    -e match:'^setup-local: local: warning: var/db/pkg: the guest keeps a package database in var.*PKG_DBDIR' \
	    setup-local -u root2 local
	# The release's own: changed, new and removed scripts, defaults.
	atf_check cmp root2/etc/rc.d/network local/etc/rc.d/network
	atf_check cmp root2/etc/rc.d/npf local/etc/rc.d/npf
	atf_check test ! -e local/etc/rc.d/wscons
	atf_check test ! -e local/etc/pf
	atf_check -o inline:'kept\n' cat local/etc/pf-b
	# A directory's new mode, the guest's file in it kept.
	atf_check -o inline:'750\n' stat -c %a local/etc/ssh
	atf_check -o inline:'PRIVATE the guest own key\n' \
	    cat local/etc/ssh/ssh_host_ed25519_key
	atf_check cmp root2/etc/defaults/rc.conf local/etc/defaults/rc.conf
	# (The root's owners: NetBSD's as root, an ordinary user's own else.)
	atf_check -o inline:"555 $(stat -c '%u %g' root2/etc/rc.d/npf)\n" \
	    stat -c '%a %u %g' local/etc/rc.d/npf
	# The vanilla rc of the new root (setup-root kept it as rc.orig).
	atf_check cmp root2/etc/rc.orig local/etc/rc
	atf_check test ! -e local/etc/rc.pre-hooks
	# The guest's own, kept.
	atf_check -o inline:'10.0.0.1 gateway\n' cat local/etc/hosts
	# Merged: the guest's wheel and the release's npf group; the guest's
	# sshd, and no wscons=NO (the new root has no rc.d/wscons to read it).
	atf_check -o inline:'wheel:*:0:root,admin\noperator:*:5:root\nuucp:*:66:\nnpf:*:45:\n' \
	    cat local/etc/group
	atf_check -o match:'^sshd=YES$' cat local/etc/rc.conf
	atf_check -o match:'^rc_configured=YES$' cat local/etc/rc.conf
	atf_check -s exit:1 grep '^wscons=' local/etc/rc.conf
	# var: the new directory added with its owner and mode; the guest's
	# data untouched; what the release removed is said and kept.
	atf_check -o inline:'npf state\n' cat local/var/db/npf/state
	atf_check -o inline:"750 $(stat -c '%u %g' root2/var/db/npf)\n" \
	    stat -c '%a %u %g' local/var/db/npf
	atf_check cmp messages.guest local/var/log/messages
	atf_check test -d local/var/spool/lock
	# The record: this root now, the old one a step back.
	atf_check -o inline:"$(id_of root2)\n" cat local/.sharedroot/root-id
	atf_check -o inline:"$old\n" cat local/.sharedroot/prev/root-id
	atf_check test -s local/.sharedroot/prev/etc.tgz
	atf_check test ! -e local/.sharedroot.stage
	# Again: nothing to do.
	atf_check -o match:'already seeded from root' setup-local -u root2 local
	# And the hook's comparison holds: the local is this root's now.
	atf_check -o inline:"$(id_of root2)\n" cat local/.sharedroot/root-id
}

atf_test_case dry_run_shows_plan
dry_run_shows_plan_head()
{
	atf_set descr "-u -n prints what it would take, keep and merge as" \
	    "unified diffs, and writes nothing"
}
dry_run_shows_plan_body()
{
	fixture shells
	printf '/bin/sh\n/usr/pkg/bin/bash\n' > local/etc/shells
	digest local > before
	atf_check -s exit:1 -o save:out -e match:'warning: conflict: etc/shells' \
	    setup-local -n -u root2 local
	atf_check -o match:'^take etc/rc.d/npf$' cat out
	atf_check -o match:'^take etc/rc.d/wscons$' cat out
	atf_check -o match:'^keep etc/hosts$' cat out
	atf_check -o match:'^merge etc/group$' cat out
	atf_check -o match:'^conflict etc/shells$' cat out
	atf_check -o match:'^add var/db/npf/$' cat out
	atf_check -o match:'^removed by the release, kept: var/spool/lock$' cat out
	atf_check -o match:'^\+# 10.1$' cat out
	atf_check -o match:'^\+npf:\*:45:$' cat out
	atf_check -o match:'^remove etc/rc.d/wscons$' cat out
	atf_check -o match:'would go from root' cat out
	digest local > after
	atf_check cmp before after
	# Without the conflict: exit 0, and the same nothing written.
	cp root2/etc/shells local/etc/shells
	digest local > before
	atf_check -o match:'would go from root .* 0 conflicts' \
	    setup-local -n -u root2 local
	digest local > after
	atf_check cmp before after
}

atf_test_case conflict_keeps_guest
conflict_keeps_guest_head()
{
	atf_set descr "a file both changed that will not merge keeps the" \
	    "guest's, with the merge beside it where nothing reads it; exit 1" \
	    "unless -f"
}
conflict_keeps_guest_body()
{
	fixture shells
	printf '/bin/sh\n/usr/pkg/bin/zsh\n' > local/etc/shells
	cp -a local local2
	atf_check -s exit:1 -o match:'1 conflicts' \
	    -e match:'local: warning: conflict: etc/shells' \
	    setup-local -u root2 local
	atf_check -o inline:'/bin/sh\n/usr/pkg/bin/zsh\n' cat local/etc/shells
	c=local/.sharedroot/conflicts/etc/shells
	atf_check -o match:'^<<<<<<< guest$' cat $c
	atf_check -o match:'^\|\|\|\|\|\|\| old root$' cat $c
	atf_check -o match:'^>>>>>>> new root$' cat $c
	atf_check -o match:'^/bin/ksh$' -o match:'^/usr/pkg/bin/zsh$' cat $c
	# The rest is upgraded all the same.
	atf_check cmp root2/etc/rc.d/npf local/etc/rc.d/npf
	atf_check -o inline:"$(id_of root2)\n" cat local/.sharedroot/root-id
	# -f: the same, exit 0.
	atf_check -o match:'1 conflicts' -e match:'conflict: etc/shells' \
	    setup-local -f -u root2 local2
	atf_check cmp local/etc/shells local2/etc/shells
	atf_check test -f local2/.sharedroot/conflicts/etc/shells
	# Nothing in etc reads it: it is not in etc.
	atf_check -o empty find local/etc -name '*conflict*'
}

atf_test_case rollback_restores
rollback_restores_head()
{
	atf_set descr "-R puts back the etc and record of before the upgrade," \
	    "and -R again goes forward"
}
rollback_restores_body()
{
	fixture
	digest local/etc > etc.before
	old=$(cat local/.sharedroot/root-id)
	atf_check -o ignore setup-local -u root2 local
	digest local/etc > etc.after
	atf_check -s exit:1 cmp -s etc.before etc.after
	digest local/etc > upgraded
	# Back to the old root's etc, exactly (owners, modes, contents);
	# var, which does not change, is not even copied.
	vi=$(stat -c %i local/var/log/messages)
	atf_check -o match:'rolled back from root' setup-local -R local
	atf_check -o inline:"$vi\n" stat -c %i local/var/log/messages
	atf_check -o inline:"$old\n" cat local/.sharedroot/root-id
	atf_check test ! -e local/etc/rc.d/npf
	atf_check test -f local/etc/rc.d/wscons
	atf_check -o match:'^wheel:\*:0:root,admin$' cat local/etc/group
	atf_check -s exit:1 grep npf local/etc/group
	atf_check -o inline:'PRIVATE the guest own key\n' \
	    cat local/etc/ssh/ssh_host_ed25519_key
	# The old root booted again: the hook's record matches it.
	atf_check -o inline:"$(id_of root1)\n" cat local/.sharedroot/root-id
	digest local/etc > etc.back
	atf_check cmp etc.before etc.back
	# And forward again, with a guest never upgraded beside it (named
	# long, and whole in the table): that one fails alone.
	mkdir never-upgraded-guest-with-a-long-name
	atf_check -o ignore setup-local root1 never-upgraded-guest-with-a-long-name
	atf_check -s exit:1 -o match:'rolled forward from root' \
	    -o match:'^local +[0-9]+ +0 +0 +0 +0  rolled forward$' \
	    -o match:'^never-upgraded-guest-with-a-long-name +- +- +- +- +-  failed$' \
	    -e match:'never-upgraded-guest-with-a-long-name: .sharedroot/prev: no earlier etc' \
	    setup-local -R local never-upgraded-guest-with-a-long-name
	digest local/etc > again
	atf_check cmp upgraded again
	atf_check -o inline:"$(id_of root2)\n" cat local/.sharedroot/root-id
}

atf_test_case upgrade_after_rollback
upgrade_after_rollback_head()
{
	atf_set descr "after -R, the root rolled back from is the newer one:" \
	    "-u to it upgrades, and -R goes back and forth, said as such"
}
upgrade_after_rollback_body()
{
	fixture
	atf_check -o match:'upgraded from root' setup-local -u root2 local
	atf_check -o inline:'older\n' cat local/.sharedroot/prev/root-age
	atf_check -o match:"rolled back from root $(id_of root2 | cut -c1-12) to $(id_of root1 | cut -c1-12)" \
	    setup-local -R local
	atf_check -o inline:'newer\n' cat local/.sharedroot/prev/root-age
	# The guest lives on the old root a while, then goes up again: an
	# upgrade like the first, keeping what it changed meanwhile.
	echo 'ntpd=YES' >> local/etc/rc.conf
	atf_check -o match:'upgraded from root' setup-local -u root2 local
	atf_check -o inline:"$(id_of root2)\n" cat local/.sharedroot/root-id
	atf_check -o match:'^ntpd=YES$' cat local/etc/rc.conf
	atf_check cmp root2/etc/rc.d/npf local/etc/rc.d/npf
	atf_check -o inline:'older\n' cat local/.sharedroot/prev/root-age
	# Back, and forward: each said as it is.
	atf_check -o match:'rolled back from root' setup-local -R local
	atf_check -o inline:"$(id_of root1)\n" cat local/.sharedroot/root-id
	atf_check -o match:"rolled forward from root $(id_of root1 | cut -c1-12) to $(id_of root2 | cut -c1-12)" \
	    setup-local -R local
	atf_check -o inline:"$(id_of root2)\n" cat local/.sharedroot/root-id
	atf_check -o inline:'older\n' cat local/.sharedroot/prev/root-age
	# Going back to the older root by -u is still refused.
	atf_check -s exit:1 -o empty -e match:'is the one this local was upgraded from .*setup-local -R' \
	    setup-local -u root1 local
	# A record kept before the age was: the step back is an upgrade's.
	rm local/.sharedroot/prev/root-age
	atf_check -s exit:1 -o empty -e match:'is the one this local was upgraded from' \
	    setup-local -u root1 local
	# A guest's own word for it, neither: refused as corrupt, unchanged.
	echo sideways > local/.sharedroot/prev/root-age
	digest local > before
	atf_check -s exit:1 -o empty \
	    -e inline:'setup-local: local: .sharedroot/prev/root-age: neither older nor newer (corrupt record)\n' \
	    setup-local -R local
	atf_check -s exit:1 -o empty -e match:'root-age: neither older nor newer' \
	    setup-local -u root1 local
	digest local > after
	atf_check cmp before after
}

atf_test_case random_file_through_upgrades
random_file_through_upgrades_head()
{
	atf_set descr "random_file (the seed on /local) is kept by an upgrade," \
	    "given to a local an older setup-local made, and a guest's own kept"
}
random_file_through_upgrades_body()
{
	fixture
	line='random_file=/local/var/db/entropy-file'
	atf_check -o inline:"$line\n" grep '^random_file=' local/etc/rc.conf
	# Made now: kept, once.
	cp -a local now
	atf_check -o ignore setup-local -u root2 now
	atf_check -o inline:"$line\n" grep '^random_file=' now/etc/rc.conf
	atf_check -o match:'^sshd=YES$' cat now/etc/rc.conf
	# Made by a setup-local that did not set it, the guest's rc.conf
	# changed (sshd=YES) or not: the upgrade brings it.
	for g in old oldsame; do
		cp -a local $g
		sed -i '/^random_file=/d' $g/etc/rc.conf
	done
	sed -i '/^sshd=YES$/d' oldsame/etc/rc.conf
	# (oldsame's rc.conf is then as the older setup-local wrote it.)
	atf_check -o ignore setup-local -u root2 old oldsame
	for g in old oldsame; do
		atf_check -o inline:"$line\n" grep '^random_file=' $g/etc/rc.conf
		atf_check test ! -e $g/.sharedroot/conflicts
	done
	atf_check -o match:'^sshd=YES$' cat old/etc/rc.conf
	# A guest's own setting is its own (changed in place).
	cp -a local own
	sed -i 's|^random_file=.*|random_file=/var/db/entropy-file|' \
	    own/etc/rc.conf
	atf_check -o ignore setup-local -u root2 own
	atf_check -o inline:'random_file=/var/db/entropy-file\n' \
	    grep '^random_file=' own/etc/rc.conf
	# And back: -R puts the etc of before back as it was.
	atf_check -o ignore setup-local -R old
	atf_check -s exit:1 -o empty grep '^random_file=' old/etc/rc.conf
}

atf_test_case refusals
refusals_head()
{
	atf_set descr "no record, a corrupt one, an older root, a 4.x local" \
	    "for today's root, no earlier etc: one line, exit 1, nothing changed"
}
refusals_body()
{
	fixture
	# A local made by an older setup-local: no record.
	cp -a local norec && rm -rf norec/.sharedroot
	digest norec > before
	atf_check -s exit:1 -o empty \
	    -e match:'^setup-local: norec: .sharedroot/root-id: no record of the root it was seeded from .*-b old-root' \
	    setup-local -u root2 norec
	atf_check -o inline:'1\n' -x "setup-local -u root2 norec 2>&1 | wc -l"
	digest norec > after
	atf_check cmp before after

	# A corrupt record: an id that is not its manifest's digest.
	cp -a local bad1
	echo 0000000000000000000000000000000000000000000000000000000000000000 \
	    > bad1/.sharedroot/root-id
	atf_check -s exit:1 -o empty -e match:'bad1: .sharedroot/base-manifest: does not match .*corrupt record' \
	    setup-local -u root2 bad1
	# A truncated base.
	cp -a local bad2
	head -c 100 local/.sharedroot/base-etc.tgz > bad2/.sharedroot/base-etc.tgz
	atf_check -s exit:1 -o empty -e match:'bad2: .sharedroot/base-etc.tgz .corrupt record.' \
	    setup-local -u root2 bad2
	# A base whose names leave etc (its manifest and id left intact).
	cp -a local bad3
	mkdir -p evil/etc && echo x > evil/etc/x
	(cd evil && tar czf ../evil.tgz --transform 's,^etc/x,etc/../../escape,' etc/x)
	cp evil.tgz bad3/.sharedroot/base-etc.tgz
	digest bad3 > before
	atf_check -s exit:1 -o empty -e match:'bad3: .*(corrupt record).*outside etc' \
	    setup-local -u root2 bad3
	digest bad3 > after
	atf_check cmp before after
	atf_check test ! -e escape

	# The root the local was upgraded from is older than its own.
	cp -a local up
	atf_check -o ignore setup-local -u root2 up
	digest up > before
	atf_check -s exit:1 -o empty -e match:'is the one this local was upgraded from .*setup-local -R' \
	    setup-local -u root1 up
	digest up > after
	atf_check cmp before after

	# Never upgraded: nothing to roll back to.
	atf_check -s exit:1 -o empty -e match:'local: .sharedroot/prev: no earlier etc' \
	    setup-local -R local

	# A 4.x guest and today's root: refused, saying what to do.
	make_root nb4 old4
	atf_check -o ignore setup-root old4
	mkdir l4
	atf_check -o ignore setup-local old4 l4
	digest l4 > before
	atf_check -s exit:1 -o empty -e match:'l4: the local was seeded from a NetBSD 4.x-shaped root, and this root is today.s shape.*setup-local -f' \
	    setup-local -u root2 l4
	digest l4 > after
	atf_check cmp before after

	# A root setup-root never prepared: its guests would not mount
	# their locals; none is moved to it.
	cp -a root2 raw && rm -rf raw/.sharedroot
	digest local > before
	atf_check -s exit:1 -o empty -e match:'^setup-local: raw: .sharedroot/id: not prepared by setup-root' \
	    setup-local -u raw local
	digest local > after
	atf_check cmp before after

	# Options a mode does not use are refused, not ignored: one line
	# naming the option, exit 1, nothing changed.
	digest up > before
	for o in -f '-h web9' '-P none' '-S none' '-T tmpl' '-p 1' \
	    '-b root1' '-s 8m'; do
		atf_check -s exit:1 -o empty \
		    -e inline:"setup-local: ${o%% *}: not used with -R\n" \
		    setup-local -R $o up
	done
	atf_check -s exit:1 -o empty \
	    -e inline:'setup-local: -s: not used with -u\n' \
	    setup-local -u -s 8m root1 up
	digest up > after
	atf_check cmp before after

	# Arguments: a missing local; -u and -R together.
	atf_check -s exit:1 -o empty -e match:'nothere: stat' \
	    setup-local -u root2 nothere
	atf_check -s exit:1 -o empty -e match:usage setup-local -u -R root2 local
}

atf_test_case motd_first_line_is_the_guests
motd_first_line_is_the_guests_head()
{
	atf_set descr "the first line of motd, which rc.d/motd rewrites at" \
	    "every boot, is no change of the guest's: the rest is upgraded"
}
motd_first_line_is_the_guests_body()
{
	make_root nb10 root1
	printf 'NetBSD 10.0 (GENERIC)\n\nWelcome to NetBSD!\n' > root1/etc/motd
	atf_check -o ignore setup-root root1
	cp -a root1 root2
	printf 'NetBSD 10.1 (GENERIC)\n\nWelcome to NetBSD 10.1!\n' \
	    > root2/etc/motd
	atf_check -o ignore setup-root root2
	mkdir local
	atf_check -o ignore setup-local root1 local
	# What rc.d/motd left after a boot of the guest's kernel.
	printf 'NetBSD 10.0 (XEN3_DOMU) #0: Mon Mar 28 2024\n\nWelcome to NetBSD!\n' \
	    > local/etc/motd
	cp -a local local2
	atf_check -o match:'0 conflicts' setup-local -u root2 local
	atf_check -o inline:'NetBSD 10.0 (XEN3_DOMU) #0: Mon Mar 28 2024\n\nWelcome to NetBSD 10.1!\n' \
	    cat local/etc/motd
	# A guest's own words below it are its own, and conflict with the
	# release's there.
	printf 'NetBSD 10.0 (XEN3_DOMU) #0\n\nThis is web1.\n' > local2/etc/motd
	atf_check -s exit:1 -o match:'1 conflicts' -e match:'conflict: etc/motd' \
	    setup-local -u root2 local2
	atf_check -o inline:'NetBSD 10.0 (XEN3_DOMU) #0\n\nThis is web1.\n' \
	    cat local2/etc/motd
	atf_check -o match:'^NetBSD 10.0 \(XEN3_DOMU\) #0$' -o match:'^<<<<<<< guest$' \
	    cat local2/.sharedroot/conflicts/etc/motd
}

atf_test_case netbsd4_within_shape
netbsd4_within_shape_head()
{
	atf_set descr "a 4.x-shaped guest upgrades to a later 4.x-shaped" \
	    "root: its swap keeps 4.x's cipher and IV method"
}
netbsd4_within_shape_body()
{
	make_root nb4 root1
	atf_check -o ignore setup-root root1
	release root1 root2
	mkdir local
	atf_check -o ignore setup-local root1 local
	echo 'sshd=YES' >> local/etc/rc.conf
	atf_check -o match:'upgraded from root .* 0 conflicts' \
	    setup-local -u root2 local
	atf_check cmp root2/etc/rc.d/npf local/etc/rc.d/npf
	atf_check cmp root2/etc/rc.orig local/etc/rc
	atf_check -o match:'^sshd=YES$' cat local/etc/rc.conf
	atf_check -o match:'^algorithm aes-cbc;$' -o match:'^iv-method encblkno;$' \
	    cat local/etc/cgd/xbd1a
}

atf_test_case password_files_by_record
password_files_by_record_head()
{
	atf_set descr "master.passwd, passwd and group merge record by" \
	    "record: users the guest and the release both added are kept;" \
	    "the password databases are the guest's, to be remade"
}
password_files_by_record_body()
{
	make_root nb10 root1
	printf 'root:*:0:0::0:0:Charlie &:/root:/bin/sh\ndaemon:*:1:1::0:0:The devil:/:/sbin/nologin\n' \
	    > root1/etc/master.passwd
	printf 'db\0root daemon' > root1/etc/pwd.db
	atf_check -o ignore setup-root root1
	cp -a root1 root2
	echo '_npf:*:45:45::0:0:npf:/var/chroot/npf:/sbin/nologin' \
	    >> root2/etc/master.passwd
	echo '_npf:*:45:' >> root2/etc/group
	printf 'db\0root daemon _npf' > root2/etc/pwd.db
	atf_check -o ignore setup-root root2
	mkdir local
	atf_check -o ignore setup-local root1 local
	echo 'alice:*:1000:100::0:0:Alice:/home/alice:/bin/sh' \
	    >> local/etc/master.passwd
	echo 'users:*:100:alice' >> local/etc/group
	printf 'db\0root daemon alice' > local/etc/pwd.db
	cp -a local local2

	atf_check -o match:'0 conflicts' \
	    -e match:"warning: etc/pwd.db: made from etc/master.passwd, which the upgrade changed: run 'pwd_mkdb -p /etc/master.passwd' in the guest" \
	    setup-local -u root2 local
	atf_check -o inline:'root:*:0:0::0:0:Charlie &:/root:/bin/sh
daemon:*:1:1::0:0:The devil:/:/sbin/nologin
_npf:*:45:45::0:0:npf:/var/chroot/npf:/sbin/nologin
alice:*:1000:100::0:0:Alice:/home/alice:/bin/sh
' cat local/etc/master.passwd
	atf_check -o inline:'wheel:*:0:root\noperator:*:5:root\nuucp:*:66:\n_npf:*:45:\nusers:*:100:alice\n' \
	    cat local/etc/group
	atf_check -o inline:'db\0root daemon alice' cat local/etc/pwd.db

	# The same record changed both ways: a conflict, the guest's kept.
	sed -i 's,^root:\(.*\):/bin/sh$,root:\1:/bin/ksh,' local2/etc/master.passwd
	sed -i 's,^root:\(.*\):/bin/sh$,root:\1:/bin/csh,' root2/etc/master.passwd
	atf_check -o ignore setup-root root2
	atf_check -s exit:1 -o match:'1 conflicts' \
	    -e match:"conflict: etc/master.passwd .the guest's kept; the merge is in .sharedroot/conflicts/etc/master.passwd.$" \
	    -e not-match:pwd_mkdb setup-local -u root2 local2
	atf_check -o inline:'db\0root daemon alice' cat local2/etc/pwd.db
	atf_check -o match:'^root:.*:/bin/ksh$' cat local2/etc/master.passwd
	c=local2/.sharedroot/conflicts/etc/master.passwd
	atf_check -o inline:'<<<<<<< guest
root:*:0:0::0:0:Charlie &:/root:/bin/ksh
=======
root:*:0:0::0:0:Charlie &:/root:/bin/csh
>>>>>>> new root
daemon:*:1:1::0:0:The devil:/:/sbin/nologin
_npf:*:45:45::0:0:npf:/var/chroot/npf:/sbin/nologin
alice:*:1000:100::0:0:Alice:/home/alice:/bin/sh
' cat $c
}

atf_test_case older_local_with_b
older_local_with_b_head()
{
	atf_set descr "a local with no record (an older setup-local) is" \
	    "upgraded with -b naming the root it was seeded from"
}
older_local_with_b_body()
{
	fixture
	rm -rf local/.sharedroot
	cp -a local local-ffs
	atf_check -o match:'upgraded from root .* 7 taken, 1 kept, 2 merged, 0 conflicts' \
	    setup-local -u -b root1 root2 local
	# The old root as an FFS image, read without mounting: the same.
	if command -v makefs >/dev/null; then
		atf_check -o ignore -e ignore setup-root -o root1.img root1
		atf_check -o match:'upgraded from root .* 7 taken, 1 kept, 2 merged, 0 conflicts' \
		    setup-local -u -b root1.img root2 local-ffs
		digest local/etc > a
		digest local-ffs/etc > b
		atf_check cmp a b
	fi
	atf_check cmp root2/etc/rc.d/npf local/etc/rc.d/npf
	atf_check -o match:'^sshd=YES$' cat local/etc/rc.conf
	atf_check -o match:'^wheel:\*:0:root,admin$' cat local/etc/group
	atf_check -o inline:"$(id_of root2)\n" cat local/.sharedroot/root-id
	atf_check -o inline:"$(id_of root1)\n" cat local/.sharedroot/prev/root-id
	# And back, as for any other.
	atf_check -o match:'rolled back' setup-local -R local
	atf_check -o inline:"$(id_of root1)\n" cat local/.sharedroot/root-id
	# -b for a local that has a record: refused, not ignored.
	digest local > before
	atf_check -s exit:1 -o empty -e match:'local: -b: the local has a record' \
	    setup-local -u -b root1 root2 local
	digest local > after
	atf_check cmp before after
	# A -b that is not there: one line naming it.
	atf_check -s exit:1 -o empty -e match:'^setup-local: nothere: -b: open: No such file' \
	    setup-local -u -b nothere root2 local
	# -b is for -u alone.
	atf_check -s exit:1 -o empty \
	    -e inline:'setup-local: -b: only with -u\n' \
	    setup-local -b root1 root2 local
}

atf_test_case hostile_guest
hostile_guest_head()
{
	atf_set descr "links in the guest's etc and var that point at the" \
	    "host are replaced or left, never followed"
}
hostile_guest_body()
{
	fixture
	echo 'host file' > host.txt
	mkdir hostdir
	rm local/etc/rc.d/network
	ln -s "$(pwd)/host.txt" local/etc/rc.d/network
	ln -s "$(pwd)/hostdir" local/var/db/npf
	atf_check -s exit:1 -o ignore -e ignore setup-local -u root2 local
	atf_check -o inline:'host file\n' cat host.txt
	atf_check -o empty ls hostdir
	# The guest replaced the script with a link, the release changed it:
	# a conflict, the guest's link kept; var's link is the guest's.
	atf_check test -L local/etc/rc.d/network
	atf_check test -L local/var/db/npf
}

atf_test_case fleet_table
fleet_table_head()
{
	atf_set descr "-u over many guests reads the root once, upgrades each" \
	    "on its own, and ends with a table; one failure stops no other"
}
fleet_table_body()
{
	fixture
	cp -a local g1
	cp -a local g2
	cp -a local g3
	echo garbage > g2/.sharedroot/root-id
	atf_check -s exit:1 -o save:out -e match:'g2: .sharedroot/root-id: not a root.s identity' \
	    setup-local -u root2 g1 g2 g3
	atf_check -o match:'^guest +taken +kept +merged +conflicts +added +result$' cat out
	atf_check -o match:'^g1 +7 +1 +2 +0 +2  upgraded$' cat out
	atf_check -o match:'^g2 +- +- +- +- +-  failed$' cat out
	atf_check -o match:'^g3 +7 +1 +2 +0 +2  upgraded$' cat out
	for g in g1 g3; do
		atf_check -o inline:"$(id_of root2)\n" cat $g/.sharedroot/root-id
		atf_check cmp root2/etc/rc.d/npf $g/etc/rc.d/npf
	done
	atf_check -o inline:'garbage\n' cat g2/.sharedroot/root-id
	atf_check test ! -e g2/etc/rc.d/npf
	atf_check -o match:'^g1 .*current$' -o match:'^g3 .*current$' \
	    setup-local -u root2 g1 g3
	# -q: no table, nothing on standard output; the error still said,
	# and the exit status tells.
	cp -a local g4
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: g2: .sharedroot/root-id: not a root's identity (corrupt record)\n" \
	    setup-local -q -u root2 g4 g2
	atf_check -o inline:"$(id_of root2)\n" cat g4/.sharedroot/root-id
	atf_check -o empty setup-local -q -R g1 g3
	atf_check -o inline:"$(id_of root1)\n" cat g1/.sharedroot/root-id
	cp -a local g5
	digest g5 > before
	atf_check -o empty setup-local -q -n -u root2 g5
	digest g5 > after
	atf_check cmp before after
	# One guest named twice would be changed by two runs at once.
	atf_check -s exit:1 -o empty -e match:'g1/: named twice .as g1.' \
	    setup-local -u root2 g1 g2 g1/
}

atf_test_case ffs_images cleanup
ffs_images_head()
{
	atf_set descr "-u and -R on FFS local images, read with libtsk and" \
	    "rebuilt with makefs, as an ordinary user; an encrypted one too"
}
ffs_images_body()
{
	for p in makefs fls icat; do
		command -v $p >/dev/null || atf_skip "$p is not installed"
	done
	[ "$(id -u)" = 0 ] || atf_skip "needs root to make roots with NetBSD's owners; runs the tools as nobody"
	W=$(mktemp -d /tmp/sharedroot-upg.XXXXXX)
	echo "rm -rf $W" > undo
	chmod 0755 "$W"
	cd "$W"
	make_root nb10 root1
	chmod -R go+rX root1
	atf_check -o ignore setup-root root1
	release root1 root2 open
	chown 65534 "$W"
	cp -R "$SR_SHARE" share
	cp "$SR_SBIN/setup-local" .
	chmod -R go+rX share setup-local
	SL="$as_user env SHAREDROOT_SHAREDIR=$W/share TMPDIR=$W $W/setup-local"
	atf_check -o ignore -e ignore $SL root1 g1.img
	atf_check -o ignore -e ignore $SL -c key root1 g2.img
	atf_check -o match:'upgraded from root' -e ignore $SL -u -c key root2 g2.img
	atf_check -o match:'upgraded from root' -e ignore $SL -u root2 g1.img
	atf_check -o match:'already seeded' -e ignore $SL -u root2 g1.img
	# What sleuthkit reads in the images.
	check_img()
	{
		icat "$1" "$(ino "$1" "$2")" > got || atf_fail "$1: no $2"
		printf "$3" > want
		cmp -s want got || atf_fail "$1: $2: not as expected"
	}
	check_img g1.img etc/rc.d/npf "$(cat root2/etc/rc.d/npf)\n"
	check_img g1.img var/db/npf/state 'npf state\n'
	check_img g1.img .sharedroot/root-id "$(id_of root2)\n"
	check_img g1.img etc/group "$(cat root2/etc/group)\n"
	[ "$(meta_img g1.img var/db/npf)" = "0 0 rwxr-xr-x" ] ||
	    atf_fail "var/db/npf: $(meta_img g1.img var/db/npf)"
	[ "$(meta_img g1.img etc/rc.d/npf)" = "0 0 r-xr-xr-x" ] ||
	    atf_fail "etc/rc.d/npf: $(meta_img g1.img etc/rc.d/npf)"
	atf_check -s exit:1 -o empty -x "fls -r -p g1.img | grep 'etc/rc.d/wscons\$'"
	# The encrypted one, decrypted with the key.
	atf_check "$SR_TESTS/h_cgdcat" key g2.img g2.plain
	check_img g2.plain .sharedroot/root-id "$(id_of root2)\n"
	check_img g2.plain var/db/npf/state 'npf state\n'
	# Rebuilt whole: no holes to show which blocks the guest uses.
	atf_check -o inline:"0 $(stat -c %s g2.img)\n" "$SR_TESTS/h_holes" g2.img
	atf_check -o match:'rolled back' -e ignore $SL -R -c key g2.img
	atf_check -o inline:"0 $(stat -c %s g2.img)\n" "$SR_TESTS/h_holes" g2.img
	rm g2.plain
	atf_check "$SR_TESTS/h_cgdcat" key g2.img g2.plain
	check_img g2.plain .sharedroot/root-id "$(id_of root1)\n"
	# Back.
	atf_check -o match:'rolled back' -e ignore $SL -R g1.img
	check_img g1.img .sharedroot/root-id "$(id_of root1)\n"
	atf_check -s exit:1 -o empty -x "fls -r -p g1.img | grep 'etc/rc.d/npf\$'"
	atf_check -o empty find "$W" -mindepth 1 -maxdepth 1 -name 'sharedroot*'
	atf_check -o empty find "$W" -maxdepth 1 -name '.*.img.*'
}
ffs_images_cleanup()
{
	undo_run
}

atf_test_case loop_image cleanup
loop_image_head()
{
	atf_set descr "-u on an image mounted through a loop device: changed" \
	    "on a copy, swapped in, and nothing left attached"
}
loop_image_body()
{
	require_loop
	fixture
	make_ext2 local l.img 32M
	atf_check -o match:'upgraded from root' setup-local -u root2 l.img
	check_no_leftovers l.img
	mount_ro l.img m
	atf_check cmp root2/etc/rc.d/npf m/etc/rc.d/npf
	atf_check -o match:'^sshd=YES$' cat m/etc/rc.conf
	atf_check -o inline:"$(id_of root2)\n" cat m/.sharedroot/root-id
	atf_check test ! -e m/.sharedroot.stage
}
loop_image_cleanup()
{
	undo_run
}

# vnd_stubs: NetBSD's vndconfig, mount and umount as recording stubs: an
# image's tree is trees/IMAGE, copied into the mount point by mount and
# back out by umount, so that a whole run happens as on NetBSD.
vnd_stubs()
{
	here=$(pwd)
	mkdir -p stubs trees
	: > vnd.state
	cat > stubs/vndconfig <<STUB
#!/bin/sh
echo "vndconfig \$*" >> $here/log
st=$here/vnd.state
case \$1 in
-l)	for n in 0 1 2 3; do
		img=\$(awk -v u=vnd\$n '\$1 == u { print \$2 }' \$st)
		if [ -n "\$img" ]; then
			echo "vnd\$n: \$img (/dev/wd0a) inode 1"
		else
			echo "vnd\$n: not in use"
		fi
	done ;;
-u)	grep -v "^\$2 " \$st > \$st.t; mv \$st.t \$st ;;
-r)	echo "\$2 \$3" >> \$st ;;
*)	echo "\$1 \$2" >> \$st ;;
esac
STUB
	cat > stubs/mount <<STUB
#!/bin/sh
echo "mount \$*" >> $here/log
[ "\$1" != -u ] || exit 0
for last; do :; done
for a; do case \$a in /dev/vnd*) dev=\$a ;; esac; done
unit=\${dev#/dev/}
img=\$(awk -v u=\${unit%a} '\$1 == u { print \$2 }' $here/vnd.state)
img=\${img##*/}
cp -a $here/trees/\$img/. "\$last"/
echo "\$last \$img" >> $here/mounts
STUB
	cat > stubs/umount <<STUB
#!/bin/sh
echo "umount \$*" >> $here/log
img=\$(awk -v m="\$1" '\$1 == m { print \$2 }' $here/mounts)
rm -rf $here/trees/\$img && mkdir $here/trees/\$img &&
    cp -a "\$1"/. $here/trees/\$img/ && find "\$1" -mindepth 1 -delete
STUB
	chmod +x stubs/*
	export PATH=$here/stubs:$PATH SHAREDROOT_ATTACH=vnd
}

atf_test_case running_guest_refused cleanup
running_guest_refused_head()
{
	atf_set descr "a local image a loop device holds (a running guest's" \
	    "disk on a Linux dom0) is not rebuilt under it, by root or a user"
}
running_guest_refused_body()
{
	require_loop
	command -v setpriv >/dev/null || atf_skip "no setpriv"
	fixture
	W=$(mktemp -d /tmp/sharedroot-busy.XXXXXX)
	echo "rm -rf $W" > undo
	chmod 0755 "$W"
	cp -R root1 root2 "$W/"
	chmod -R go+rX "$W/root1" "$W/root2"
	atf_check -o ignore setup-root "$W/root1"
	atf_check -o ignore setup-root "$W/root2"
	atf_check -o ignore -e ignore setup-local "$W/root1" "$W/g.img"
	chown 65534 "$W" "$W/g.img"
	dev=$(losetup -f --show -r "$W/g.img")
	echo "losetup -d $dev" >> undo
	sum=$(md5sum < "$W/g.img")
	atf_check -s exit:1 -o empty \
	    -e inline:"setup-local: $W/g.img: rebuild: attach: already attached to $dev (in use; detach it first)\n" \
	    setup-local -u "$W/root2" "$W/g.img"
	atf_check -s exit:1 -o empty -e match:"rebuild: attach: already attached to $dev" \
	    setup-local -f "$W/root1" "$W/g.img"
	# The tool where an ordinary user can run it, whatever the mode of
	# the directory this clone is in.
	cp -R "$SR_SHARE" "$W/share"
	cp "$SR_SBIN/setup-local" "$W/setup-local"
	chmod -R go+rX "$W/share" "$W/setup-local"
	atf_check -s exit:1 -o empty -e match:"rebuild: attach: already attached to $dev" \
	    $as_user env SHAREDROOT_SHAREDIR="$W/share" TMPDIR="$W" \
	    "$W/setup-local" -u "$W/root2" "$W/g.img"
	atf_check -o inline:"$sum\n" -x "md5sum < $W/g.img"
	# Detached: on it goes.
	atf_check losetup -d "$dev"
	atf_check -o match:'upgraded from root' -e ignore \
	    setup-local -u "$W/root2" "$W/g.img"
}
running_guest_refused_cleanup()
{
	undo_run
}

atf_test_case netbsd_vnd
netbsd_vnd_head()
{
	atf_set descr "-u as on NetBSD: both images attached through vnd," \
	    "the root read-only, the local remounted read-write, all undone"
	atf_set require.user root
}
netbsd_vnd_body()
{
	fixture
	vnd_stubs
	mv root2 trees/root.img
	mv local trees/l.img
	: > root.img
	: > l.img
	: > log
	atf_check -o match:'upgraded from root' setup-local -u root.img l.img
	atf_check -o inline:"$(id_of trees/root.img)\n" \
	    cat trees/l.img/.sharedroot/root-id
	atf_check cmp trees/root.img/etc/rc.d/npf trees/l.img/etc/rc.d/npf
	atf_check -o match:'^sshd=YES$' cat trees/l.img/etc/rc.conf
	# The commands: the root read-only, the local read-only until its
	# plan is made, then read-write; everything detached.
	atf_check -o match:'^vndconfig -r vnd0 root.img$' \
	    -o match:'^vndconfig vnd1 l.img$' \
	    -o match:'^mount -r -o nodev,nosuid,noexec /dev/vnd1a ' \
	    -o match:'^mount -r -o nodev,nosuid,noexec /dev/vnd0a ' \
	    -o match:'^mount -u -w ' -o match:'^vndconfig -u vnd0$' \
	    -o match:'^vndconfig -u vnd1$' cat log
	atf_check -o empty cat vnd.state
	atf_check -o inline:'2\n' grep -c '^umount ' log
}

atf_test_case interrupted_upgrades_lose_nothing cleanup
interrupted_upgrades_lose_nothing_head()
{
	atf_set descr "-u killed at random moments leaves no stage and" \
	    "loses nothing: an image is old or new, whole; a directory is" \
	    "upgraded by the next run as by an uninterrupted one"
}
interrupted_upgrades_lose_nothing_body()
{
	command -v fls >/dev/null || atf_skip "sleuthkit is not installed"
	fixture
	W=$(mktemp -d /tmp/sharedroot-upgkill.XXXXXX)
	echo "rm -rf $W" > undo
	export TMPDIR=$W
	atf_check -o ignore -e ignore setup-local root1 img.img
	cp img.img img.orig
	old=$(md5sum < img.orig)
	cp -a local ref
	atf_check -o ignore setup-local -u root2 ref
	digest ref/etc > ref.etc
	for delay in 0.01 0.03 0.06 0.1 0.2 0.3; do
		rm -rf dir && cp -a local dir
		cp img.orig img.img
		setup-local -q -u root2 img.img dir >/dev/null 2>&1 &
		pid=$!
		sleep $delay
		kill -TERM $pid 2>/dev/null
		wait $pid
		# The image: the old one, or a whole new one.
		if [ "$(md5sum < img.img)" != "$old" ]; then
			i=$(ino img.img .sharedroot/root-id)
			[ -n "$i" ] || atf_fail "$delay: no record in the image"
			atf_check -o inline:"$(id_of root2)\n" icat img.img "$i"
		fi
		# No stage, no temporaries, here or in TMPDIR.
		atf_check test ! -e dir/.sharedroot.stage
		atf_check -o empty find . -maxdepth 1 -name '.*.img.*'
		atf_check -o empty find "$W" -mindepth 1 -maxdepth 1 -name 'sharedroot*'
		# The next run finishes the job.
		setup-local -q -u root2 img.img dir >/dev/null 2>&1
		digest dir/etc > dir.etc
		atf_check cmp ref.etc dir.etc
		atf_check -o inline:"$(id_of root2)\n" cat dir/.sharedroot/root-id
		i=$(ino img.img .sharedroot/root-id)
		atf_check -o inline:"$(id_of root2)\n" icat img.img "$i"
	done
}
interrupted_upgrades_lose_nothing_cleanup()
{
	undo_run
}

atf_init_test_cases()
{
	atf_add_test_case upgrade_merges_release
	atf_add_test_case dry_run_shows_plan
	atf_add_test_case conflict_keeps_guest
	atf_add_test_case rollback_restores
	atf_add_test_case upgrade_after_rollback
	atf_add_test_case random_file_through_upgrades
	atf_add_test_case refusals
	atf_add_test_case motd_first_line_is_the_guests
	atf_add_test_case netbsd4_within_shape
	atf_add_test_case password_files_by_record
	atf_add_test_case older_local_with_b
	atf_add_test_case hostile_guest
	atf_add_test_case fleet_table
	atf_add_test_case ffs_images
	atf_add_test_case interrupted_upgrades_lose_nothing
	atf_add_test_case loop_image
	atf_add_test_case netbsd_vnd
	atf_add_test_case running_guest_refused
}
