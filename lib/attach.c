/*
 * Target handling common to every back end: open, lock, sanity checks,
 * the private mount point and the ordered teardown.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "os.h"
#include "run.h"
#include "scratch.h"
#include "sr.h"
#include "dir.h"

enum attach_backend
attach_backend(void)
{
	const char *e = getenv("SHAREDROOT_ATTACH");

	if (e != NULL && strcmp(e, "vnd") == 0)
		return BACKEND_VND;
	if (e != NULL && strcmp(e, "loop") == 0)
		return BACKEND_LOOP;
	return strcmp(os_attach_default(), "vnd") == 0 ? BACKEND_VND :
	    BACKEND_LOOP;
}

void
attach_init(struct attach *a, const char *path, bool rdonly)
{
	memset(a, 0, sizeof(*a));
	a->path = path;
	a->rdonly = rdonly;
	a->backend = attach_backend();
	a->fd = a->loopfd = a->rootfd = -1;
	a->loopnr = -1;
	a->mnt.lockfd = -1;
}

static int
open_target(struct attach *a)
{
	struct stat st;

	/* The target itself may be a symlink the admin made: follow it. */
	a->fd = open(a->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (a->fd == -1) {
		sr_seterrno("open");
		return -1;
	}
	if (fstat(a->fd, &st) == -1) {
		sr_seterrno("stat");
		return -1;
	}
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	if (S_ISDIR(st.st_mode)) {
		a->isdir = true;
	} else if (!S_ISREG(st.st_mode)) {
		sr_seterr("open: not a regular file or a directory");
		return -1;
	} else if (geteuid() != 0) {
		sr_seterr("attach: attaching an image needs root");
		return -1;
	} else if (!a->rdonly) {
		int rw;

		/* Root ignores mode bits; a read-only image is still one. */
		if ((st.st_mode & 0222) == 0) {
			sr_seterr("open: image file is read-only (mode %04o)",
			    (unsigned)(st.st_mode & 07777));
			return -1;
		}
		if ((rw = open(a->path, O_RDWR | O_CLOEXEC)) == -1) {
			sr_seterrno("open read-write");
			return -1;
		}
		close(a->fd);
		a->fd = rw;
	}
	/* The lock is the front end's, beside the target (lock.h). */
	return 0;
}

/*
 * The mount point: mnt in a private directory of ours, so that a later
 * run can tell it from a live run's once we are gone.
 */
static int
make_mntdir(struct attach *a)
{
	if (scratch_make(&a->mnt, scratch_base(), SCRATCH_STAGE) == -1) {
		sr_prefixerr("mount point");
		return -1;
	}
	if (scratch_path(&a->mnt, "mnt", a->mntdir, sizeof(a->mntdir)) == -1) {
		sr_prefixerr("mount point");
		a->mntdir[0] = '\0';
		return -1;
	}
	if (mkdir(a->mntdir, 0700) == -1) {
		sr_seterrno("mount point %s", a->mntdir);
		a->mntdir[0] = '\0';
		return -1;
	}
	a->mntdir_made = true;
	return 0;
}

int
attach_in_use(const char *path)
{
	struct attach a;
	struct stat st;
	bool loop;

	attach_init(&a, path, true);
	loop = a.backend == BACKEND_LOOP;
	if (stat(path, &st) == -1) {
		sr_seterrno("stat");
		return -1;
	}
	/* Only root may ask vndconfig; loop devices tell anyone. */
	if (!loop && geteuid() != 0)
		return 0;
	a.dev = st.st_dev;
	a.ino = st.st_ino;
	if ((loop ? loop_check_unused(&a) : vnd_check_unused(&a)) == -1) {
		sr_prefixerr("rebuild");
		return -1;
	}
	return 0;
}

int
attach_open(struct attach *a)
{
	bool loop = a->backend == BACKEND_LOOP;

	if (open_target(a) == -1)
		return -1;
	if (a->isdir) {
		if (a->keyfile != NULL) {
			sr_seterr("attach: -c is for images, not directories");
			return -1;
		}
		a->rootfd = a->fd;
		a->fd = -1;
		return 0;
	}
	if (a->keyfile != NULL && loop) {
		sr_seterr("attach: cgd volumes need a NetBSD host for now");
		return -1;
	}
	if ((loop ? loop_check_unused(a) : vnd_check_unused(a)) == -1 ||
	    sr_checkpoint() == -1)
		return -1;
	if ((loop ? loop_attach(a) : vnd_attach(a)) == -1 ||
	    sr_checkpoint() == -1)
		return -1;
	if (make_mntdir(a) == -1)
		return -1;
	if ((loop ? loop_mount(a) : vnd_mount(a)) == -1 ||
	    sr_checkpoint() == -1)
		return -1;
	/*
	 * Open the root through the mount; if the mount had silently not
	 * happened we would be looking at our own empty directory, so
	 * check that it is a different file system.
	 */
	if ((a->rootfd = open(a->mntdir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		sr_seterrno("mount: open %s", a->mntdir);
		return -1;
	}
	if (loop) {
		struct stat st, pst;

		if (fstat(a->rootfd, &st) == -1 ||
		    fstatat(a->rootfd, "..", &pst, 0) == -1 ||
		    st.st_dev == pst.st_dev) {
			sr_seterr("mount: %s is not a mounted file system",
			    a->mntdir);
			return -1;
		}
	}
	return 0;
}

int
attach_remount_rw(struct attach *a)
{
	if (a->isdir || !a->ro_first)
		return 0;
	if ((a->backend == BACKEND_LOOP ? loop_remount_rw(a) :
	    vnd_remount_rw(a)) == -1)
		return -1;
	a->ro_first = false;
	return 0;
}

int
attach_teardown(struct attach *a)
{
	bool loop = a->backend == BACKEND_LOOP;
	int rv = 0;

	if (a->rootfd != -1) {
		if (!a->rdonly && dir_syncfs(a->rootfd) == -1 && rv == 0) {
			sr_seterrno("sync");
			rv = -1;
		}
		close(a->rootfd);
		a->rootfd = -1;
	}
	if (a->mounted && (loop ? loop_unmount(a) : vnd_unmount(a)) == -1)
		rv = -1;
	if ((a->loopfd != -1 || a->vnd_attached) &&
	    (loop ? loop_detach(a) : vnd_detach(a)) == -1)
		rv = -1;
	if (a->mntdir_made && !a->mounted) {
		if (rmdir(a->mntdir) == -1 && errno != ENOENT && rv == 0) {
			sr_seterrno("remove mount point %s", a->mntdir);
			rv = -1;
		}
		a->mntdir_made = false;
	}
	/* Still mounted: left for the admin, never purged through. */
	if (!a->mounted && scratch_remove(&a->mnt) == -1 && rv == 0)
		rv = -1;
	if (a->fd != -1) {
		close(a->fd);
		a->fd = -1;
	}
	return rv;
}

int
image_temp(const char *path, char *tmp, size_t tmpsz)
{
	return scratch_file(path, tmp, tmpsz);
}

int
image_create(const char *path, off_t size, enum attach_backend be,
    char *tmp, size_t tmpsz)
{
	int fd;

	if ((fd = image_temp(path, tmp, tmpsz)) == -1)
		return -1;
	/* Sparse: only what the file system writes takes space. */
	if (ftruncate(fd, size) == -1 || fsync(fd) == -1) {
		sr_seterrno("create");
		close(fd);
		return -1;
	}
	if (be == BACKEND_LOOP) {
		char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext2", "-E",
		    "root_owner=0:0", tmp, NULL };

		if (run_cmd(argv, NULL) == -1) {
			sr_prefixerr("create");
			close(fd);
			return -1;
		}
	}
	return fd;
}

int
keyfile_check(const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		sr_seterrno("key file %s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		sr_seterr("key file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	close(fd);
	if (st.st_mode & 0044) {
		sr_seterr("key file %s: readable by group or others (mode "
		    "%04o); chmod go-rwx it", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int
image_fstype(const char *path, char *buf, size_t bufsz)
{
	int fd, rv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -1;
	rv = os_fstype(fd, buf, bufsz);
	close(fd);
	return rv;
}
