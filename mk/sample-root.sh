#!/bin/sh
# sample-root.sh SHAPE DIR: write a small NetBSD root of the given shape
# (nb4: the 4.x layout, nb10: today's) into DIR, from tests/data/SHAPE
# (data/SHAPE beside this script where it is installed with the tests).
# As root it also makes device nodes and gives files their NetBSD owners;
# as an ordinary user those steps are left out.
set -e
shape=$1 d=$2
here=$(dirname "$0")
if [ -d "$here/data/$shape" ]; then
	data=$(cd "$here/data/$shape" && pwd)
else
	data=$(cd "$here/../tests/data/$shape" && pwd)
fi
root=false
[ "$(id -u)" = 0 ] && root=true

umask 022
mkdir -p "$d"
cd "$d"
mkdir -p etc/defaults etc/rc.d etc/ssh etc/cgd etc/rc.conf.d dev usr/bin \
    usr/sbin usr/share/zoneinfo var/cron/tabs var/db var/log var/run \
    var/spool/lock var/mail var/tmp var/chroot/dev tmp
cp "$data/rc" etc/rc
printf '# rc.subr: functions for the rc.d scripts\nload_rc_config() { :; }\n' \
    > etc/rc.subr
cp "$data/rc.conf" etc/rc.conf
cp "$data/defaults.rc.conf" etc/defaults/rc.conf
cp "$data/ttys" etc/ttys
cp "$data/fstab" etc/fstab
cp "$data/MAKEDEV" dev/MAKEDEV
chmod 0555 dev/MAKEDEV
echo '#	site devices' > dev/MAKEDEV.local
printf 'template\n' > etc/myname
printf 'root:*:0:0::0:0:Charlie &:/root:/bin/sh\n' > etc/master.passwd
chmod 0600 etc/master.passwd
printf 'root:*:0:0:Charlie &:/root:/bin/sh\n' > etc/passwd
printf 'wheel:*:0:root\noperator:*:5:root\nuucp:*:66:\n' > etc/group
ln etc/passwd etc/passwd.hardlink
printf '#!/bin/sh\n# PROVIDE: root\nname=root\nstart_cmd=root_start\n' \
    > etc/rc.d/root
for s in cgd network postfix powerd savecore wscons; do
	printf '#!/bin/sh\n# PROVIDE: %s\nname=%s\n' $s $s > etc/rc.d/$s
done
# NetBSD 6 on saves the random seed; 4.x has no such script.
if [ "$shape" = nb10 ]; then
	printf '#!/bin/sh\n# PROVIDE: random_seed\nname=random_seed\n' \
	    > etc/rc.d/random_seed
fi
chmod 0555 etc/rc.d/*
printf 'UTC\n' > usr/share/zoneinfo/UTC
ln -s /usr/share/zoneinfo/UTC etc/localtime
printf 'Port 22\n' > etc/ssh/sshd_config
for k in rsa ecdsa ed25519; do
	printf 'PRIVATE %s KEY of the template\n' $k > etc/ssh/ssh_host_${k}_key
	chmod 0600 etc/ssh/ssh_host_${k}_key
	printf 'ssh-%s AAAA template\n' $k > etc/ssh/ssh_host_${k}_key.pub
done
printf 'the template random seed\n' > var/db/entropy-file
chmod 0600 var/db/entropy-file
cp "$data/crontab" var/cron/tabs/root
chmod 0600 var/cron/tabs/root
chmod 0700 var/cron/tabs
printf 'log\n' > var/log/messages
mkfifo var/spool/lock/fifo
chmod 1777 tmp var/tmp
chmod 1775 var/mail
# A sparse file: 8 MiB with one block of data in the middle.
dd if=/dev/zero of=var/db/sparse bs=1 count=0 seek=8M 2>/dev/null
printf 'data in the middle' | dd of=var/db/sparse bs=1 seek=4M conv=notrunc \
    2>/dev/null
printf 'netbsd kernel\n' > netbsd
printf 'passwd\n' > usr/bin/passwd
chmod 4555 usr/bin/passwd
printf 'postdrop\n' > usr/sbin/postdrop
chmod 2555 usr/sbin/postdrop
printf 'sgid in var\n' > var/run/sgid-tool
chmod 2750 var/run/sgid-tool
ln -s ../tmp var/tmp-link
if command -v setfattr >/dev/null 2>&1; then
	setfattr -n user.sharedroot -v kept etc/rc.conf 2>/dev/null || true
	setfattr -n user.sharedroot -v group etc/group 2>/dev/null || true
fi
if $root; then
	mknod dev/console c 0 0
	mknod dev/wd0a b 0 0
	mkdir -p dev/pts
	mknod dev/pts/0 c 5 2
	mknod var/chroot/dev/null c 1 3
	chmod 0666 var/chroot/dev/null
	chown 0:5 var/run/sgid-tool
	chmod 2750 var/run/sgid-tool
	chown 66:66 var/spool/lock
	chown 12345:12345 var/log/messages
	chown -R 0:0 etc
	chgrp 5 etc/ssh/sshd_config
else
	: > dev/console
	: > dev/wd0a
fi
ln -s wd0a dev/root
