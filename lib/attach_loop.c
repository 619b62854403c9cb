/*
 * The Linux back end: loop devices through /dev/loop-control and
 * LOOP_CONFIGURE, the file-system type from libblkid, and mount(2) in a
 * mount namespace of our own, so that nobody else sees the mount and a
 * killed run cannot leave it behind.
 */
#include "compat.h"
#if SR_LINUX

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <linux/loop.h>

#include <blkid/blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "sr.h"

static int probe_fstype(struct attach *);

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
int
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

int
image_fstype(const char *path, char *buf, size_t bufsz)
{
	struct attach a;
	int rv;

	memset(&a, 0, sizeof(a));
	if ((a.fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -1;
	rv = probe_fstype(&a);
	close(a.fd);
	if (rv == 0)
		strlcpy(buf, a.fstype, bufsz);
	return rv;
}

static int
probe_fstype(struct attach *a)
{
	blkid_probe pr;
	const char *type = NULL;
	int rv = -1;

	if ((pr = blkid_new_probe()) == NULL) {
		sr_seterr("probe: cannot start libblkid");
		return -1;
	}
	if (blkid_probe_set_device(pr, a->fd, 0, 0) != 0) {
		sr_seterr("probe: cannot read the image");
		goto done;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	if (blkid_do_safeprobe(pr) != 0 ||
	    blkid_probe_lookup_value(pr, "TYPE", &type, NULL) != 0 ||
	    type == NULL) {
		sr_seterr("probe: holds no file system this host recognizes");
		goto done;
	}
	if (strcmp(type, "swap") == 0 || strlen(type) >= sizeof(a->fstype)) {
		sr_seterr("probe: holds %s, not a file system", type);
		goto done;
	}
	strlcpy(a->fstype, type, sizeof(a->fstype));
	rv = 0;
done:
	blkid_free_probe(pr);
	return rv;
}

int
loop_attach(struct attach *a)
{
	struct loop_config cfg;
	char dev[32];
	int ctl, nr, fd, tries;

	if (probe_fstype(a) == -1)
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
			a->loopfd = fd;
			a->loopnr = nr;
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

int
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
	snprintf(dev, sizeof(dev), "/dev/loop%d", a->loopnr);
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

int
loop_remount_rw(struct attach *a)
{
	if (mount(NULL, a->mntdir, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, NULL) == -1) {
		sr_seterrno("mount read-write");
		return -1;
	}
	return 0;
}

int
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

int
loop_detach(struct attach *a)
{
	char path[64];
	struct stat st;
	int i;

	(void)ioctl(a->loopfd, LOOP_CLR_FD, 0);
	close(a->loopfd);
	a->loopfd = -1;
	/* Autoclear finishes after the last close; wait for it briefly. */
	snprintf(path, sizeof(path), "/sys/block/loop%d/loop", a->loopnr);
	for (i = 0; i < 200 && stat(path, &st) == 0; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (stat(path, &st) == 0) {
		sr_seterr("detach: /dev/loop%d is still attached", a->loopnr);
		return -1;
	}
	a->loopnr = -1;
	return 0;
}

#else /* !__linux__ */

#include "attach.h"
#include "sr.h"

static int
noloop(void)
{
	sr_seterr("attach: loop devices exist only on Linux");
	return -1;
}

int loop_check_unused(struct attach *a) { (void)a; return noloop(); }
int image_fstype(const char *p, char *b, size_t n)
{
	(void)p; (void)b; (void)n;
	return noloop();
}
int loop_attach(struct attach *a) { (void)a; return noloop(); }
int loop_mount(struct attach *a) { (void)a; return noloop(); }
int loop_remount_rw(struct attach *a) { (void)a; return noloop(); }
int loop_unmount(struct attach *a) { (void)a; return noloop(); }
int loop_detach(struct attach *a) { (void)a; return noloop(); }

#endif
