/*
 * Target handling common to every back end: open, lock, sanity checks,
 * the private mount point and the ordered teardown; the back end's own
 * steps through its table (attach_impl.h).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/attach.h"
#include "image/attach_impl.h"
#include "tree/dir.h"
#include "base/os.h"
#include "tree/scratch.h"
#include "base/sr.h"

/* The back ends, by enum attach_backend. */
static const struct attach_ops *const backends[] = {
	[BACKEND_LOOP] = &loop_ops,
	[BACKEND_VND] = &vnd_ops,
};
#define NBACKENDS	(sizeof(backends) / sizeof(backends[0]))

/* The back end called name; -1 if none is. */
static int
backend_named(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NBACKENDS; i++)
		if (strcmp(name, backends[i]->name) == 0)
			return (int)i;
	return -1;
}

enum attach_backend
attach_backend(void)
{
	int i;

	if ((i = backend_named(getenv("SHAREDROOT_ATTACH"))) == -1 &&
	    (i = backend_named(os_attach_default())) == -1)
		i = BACKEND_LOOP;
	return (enum attach_backend)i;
}

void
attach_init(struct attach *a, const char *path, bool rdonly)
{
	memset(a, 0, sizeof(*a));
	a->path = path;
	a->rdonly = rdonly;
	a->backend = attach_backend();
	a->ops = backends[a->backend];
	a->fd = a->rootfd = -1;
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

	attach_init(&a, path, true);
	if (stat(path, &st) == -1) {
		sr_seterrno("stat");
		return -1;
	}
	a.dev = st.st_dev;
	a.ino = st.st_ino;
	if (a.ops->check_unused(&a) == -1) {
		sr_prefixerr("rebuild");
		return -1;
	}
	return 0;
}

/*
 * Give the image its disk: the back end's device, the transform (cgd)
 * on it for a key file, and a new file system if asked.
 */
static int
attach_disk(struct attach *a)
{
	if (a->ops->attach(a) == -1)
		return -1;
	if (a->keyfile != NULL) {
		if (cgd_xform.attach(a) == -1)
			return -1;
		if (a->format && !a->sparse && cgd_xform.fill(a) == -1)
			return -1;
	}
	if (a->format && a->ops->format != NULL && a->ops->format(a) == -1)
		return -1;
	return 0;
}

/*
 * Where the back end mounts with mount(2), a mount that silently did
 * not happen would leave us looking at our own empty directory: check
 * that the root is on another file system.
 */
static int
check_mounted(const struct attach *a)
{
	struct stat st, pst;

	if (fstat(a->rootfd, &st) == -1 ||
	    fstatat(a->rootfd, "..", &pst, 0) == -1 ||
	    st.st_dev == pst.st_dev) {
		sr_seterr("mount: %s is not a mounted file system", a->mntdir);
		return -1;
	}
	return 0;
}

int
attach_open(struct attach *a)
{
	const struct attach_ops *ops = a->ops;

	if (open_target(a) == -1)
		return -1;
	if (a->isdir) {
		if (a->keyfile != NULL) {
			sr_seterr("attach: cgd is for images, not directories");
			sr_sethint(SR_HINT_CGD);
			return -1;
		}
		a->rootfd = a->fd;
		a->fd = -1;
		return 0;
	}
	if (a->keyfile != NULL && !ops->transforms) {
		sr_seterr("attach: cgd volumes need a NetBSD host for now");
		return -1;
	}
	if (ops->check_unused(a) == -1 || sr_checkpoint() == -1)
		return -1;
	if (attach_disk(a) == -1 || sr_checkpoint() == -1)
		return -1;
	if (make_mntdir(a) == -1)
		return -1;
	if (ops->mount(a) == -1 || sr_checkpoint() == -1)
		return -1;
	if ((a->rootfd = open(a->mntdir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		sr_seterrno("mount: open %s", a->mntdir);
		return -1;
	}
	return ops->check_mount ? check_mounted(a) : 0;
}

int
attach_remount_rw(struct attach *a)
{
	if (a->isdir || !a->ro_first)
		return 0;
	if (a->ops->remount_rw(a) == -1)
		return -1;
	a->ro_first = false;
	return 0;
}

int
attach_teardown(struct attach *a)
{
	int rv = 0;

	if (a->rootfd != -1) {
		if (!a->rdonly && dir_syncfs(a->rootfd) == -1 && rv == 0) {
			sr_seterrno("sync");
			rv = -1;
		}
		close(a->rootfd);
		a->rootfd = -1;
	}
	if (a->mounted && a->ops->unmount(a) == -1)
		rv = -1;
	/* The device stays while a transform on it does. */
	if (a->xf.attached && cgd_xform.detach(a) == -1)
		rv = -1;
	else if (a->attached && a->ops->detach(a) == -1)
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
	const struct attach_ops *ops = backends[be];
	int fd;

	if ((fd = image_temp(path, tmp, tmpsz)) == -1)
		return -1;
	/* Sparse: only what the file system writes takes space. */
	if (ftruncate(fd, size) == -1 || fsync(fd) == -1) {
		sr_seterrno("create");
		close(fd);
		return -1;
	}
	if (ops->format_file != NULL && ops->format_file(tmp) == -1) {
		sr_prefixerr("create");
		close(fd);
		return -1;
	}
	return fd;
}
