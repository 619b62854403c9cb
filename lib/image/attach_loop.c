/*
 * The Linux back end: loop devices through /dev/loop-control and
 * LOOP_CONFIGURE, the file-system type from libblkid (os_fstype), and
 * mount(2) in a mount namespace of our own, so that nobody else sees the
 * mount and a killed run cannot leave it behind.  Built on Linux only;
 * elsewhere attach_noloop.c says there is none.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <linux/loop.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/attach.h"
#include "image/attach_impl.h"
#include "base/os.h"
#include "base/run.h"
#include "base/sr.h"

/*
 * Whether loop device name is backed by a's file, as sysfs tells anyone
 * (an ordinary user may not open the device).
 */
static bool
backing_is(const char *name, const struct attach *a)
{
	char path[300], file[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, file, sizeof(file) - 1);
	close(fd);
	if (n <= 0)
		return false;
	file[n] = '\0';
	file[strcspn(file, "\n")] = '\0';
	return stat(file, &st) == 0 && st.st_dev == a->dev &&
	    st.st_ino == a->ino;
}

/* Refuse an image some loop device already holds (mounted or not). */
static int
loop_check_unused(struct attach *a)
{
	struct loop_info64 info;
	struct dirent *de;
	char path[300];
	DIR *d;
	int fd;

	if ((d = opendir("/sys/block")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		bool held = false;

		if (strncmp(de->d_name, "loop", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
			held = ioctl(fd, LOOP_GET_STATUS64, &info) == 0 &&
			    info.lo_device == (uint64_t)a->dev &&
			    info.lo_inode == (uint64_t)a->ino;
			close(fd);
		} else
			held = backing_is(de->d_name, a);
		if (held) {
			closedir(d);
			sr_seterr("attach: already attached to %s "
			    "(in use; detach it first)", path);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

static int
loop_attach(struct attach *a)
{
	struct loop_config cfg;
	char dev[32];
	int ctl, nr, fd, tries;

	if (os_fstype(a->fd, a->fstype, sizeof(a->fstype)) == -1)
		return -1;
	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) == -1) {
		sr_seterrno("attach: /dev/loop-control");
		return -1;
	}
	for (tries = 0; tries < 16; tries++) {
		if ((nr = ioctl(ctl, LOOP_CTL_GET_FREE)) < 0) {
			sr_seterrno("attach: no free loop device");
			break;
		}
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		fd = open(dev, (a->rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (fd == -1) {
			sr_seterrno("attach: %s", dev);
			break;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)a->fd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR |
		    (a->rdonly ? LO_FLAGS_READ_ONLY : 0);
		strlcpy((char *)cfg.info.lo_file_name, a->path,
		    sizeof(cfg.info.lo_file_name));
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
			close(ctl);
			a->be.loop.fd = fd;
			a->be.loop.nr = nr;
			a->attached = true;
			snprintf(a->disk, sizeof(a->disk), "loop%d", nr);
			return 0;
		}
		close(fd);
		/* Another process took this one between the two calls. */
		if (errno != EBUSY) {
			sr_seterrno("attach: %s", dev);
			break;
		}
	}
	close(ctl);
	if (tries == 16)
		sr_seterr("attach: loop devices kept being taken; try again");
	return -1;
}

static int
loop_mount(struct attach *a)
{
	static bool unshared;
	unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	char dev[32];

	/*
	 * A namespace of our own: the mount is invisible to the host and
	 * goes away with us, even if we are killed outright.
	 */
	if (!unshared && unshare(CLONE_NEWNS) == 0) {
		(void)mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
		unshared = true;
	}
	if (a->rdonly || a->ro_first)
		flags |= MS_RDONLY;
	snprintf(dev, sizeof(dev), "/dev/%s", a->disk);
	if (mount(dev, a->mntdir, a->fstype, flags, NULL) == -1) {
		if (errno == ENODEV)
			sr_seterr("mount: this kernel cannot mount %s",
			    a->fstype);
		else
			sr_seterrno("mount %s (%s)", dev, a->fstype);
		return -1;
	}
	a->mounted = true;
	return 0;
}

static int
loop_remount_rw(struct attach *a)
{
	if (mount(NULL, a->mntdir, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, NULL) == -1) {
		sr_seterrno("mount read-write");
		return -1;
	}
	return 0;
}

static int
loop_unmount(struct attach *a)
{
	if (umount2(a->mntdir, 0) == -1 &&
	    umount2(a->mntdir, MNT_DETACH) == -1) {
		sr_seterrno("unmount %s", a->mntdir);
		return -1;
	}
	a->mounted = false;
	return 0;
}

/* Once closed, it is not ours to detach again, whatever happens next. */
static int
loop_detach(struct attach *a)
{
	char path[64];
	struct stat st;
	int i;

	(void)ioctl(a->be.loop.fd, LOOP_CLR_FD, 0);
	close(a->be.loop.fd);
	a->be.loop.fd = -1;
	a->attached = false;
	/* Autoclear finishes after the last close; wait for it briefly. */
	snprintf(path, sizeof(path), "/sys/block/loop%d/loop", a->be.loop.nr);
	for (i = 0; i < 200 && stat(path, &st) == 0; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (stat(path, &st) == 0) {
		sr_seterr("detach: /dev/loop%d is still attached",
		    a->be.loop.nr);
		return -1;
	}
	a->be.loop.nr = -1;
	return 0;
}

/* A new image's file system, made in the file: ext2, owned by root. */
static int
loop_format_file(const char *path)
{
	char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext2", "-E",
	    "root_owner=0:0", (char *)path, NULL };

	return run_cmd(argv, NULL);
}

const struct attach_ops loop_ops = {
	.name = "loop",
	.check_unused = loop_check_unused,
	.attach = loop_attach,
	.format = NULL,
	.mount = loop_mount,
	.remount_rw = loop_remount_rw,
	.unmount = loop_unmount,
	.detach = loop_detach,
	.format_file = loop_format_file,
	.transforms = false,
	.check_mount = true,
};
