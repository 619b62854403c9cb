/*
 * Target handling common to every back end: open, lock, sanity checks,
 * the private mount point and the ordered teardown.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "compat.h"
#include "scratch.h"
#include "sr.h"
#include "dir.h"

extern char **environ;

enum attach_backend
attach_backend(void)
{
	const char *e = getenv("SHAREDROOT_ATTACH");

	if (e != NULL && strcmp(e, "vnd") == 0)
		return BACKEND_VND;
	if (e != NULL && strcmp(e, "loop") == 0)
		return BACKEND_LOOP;
#if SR_LINUX
	return BACKEND_LOOP;
#else
	return BACKEND_VND;
#endif
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
	if ((size_t)snprintf(a->mntdir, sizeof(a->mntdir), "%s/mnt",
	    a->mnt.dir) >= sizeof(a->mntdir) || mkdir(a->mntdir, 0700) == -1) {
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
			sr_seterr("attach: cgd is for images, not directories");
			sr_sethint(SR_HINT_CGD);
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

/*
 * Where a helper program is: PATH first, then the sbin directories an
 * ordinary user's PATH often lacks (makefs, mke2fs and losetup live in
 * /usr/sbin and /sbin on Debian).
 */
static int
find_helper(const char *name, char *buf, size_t bufsz)
{
	static const char *const sbins[] = { "/usr/local/sbin", "/usr/sbin",
	    "/sbin", "/usr/pkg/sbin", NULL };
	const char *path = getenv("PATH"), *p, *end;
	size_t i;

	if (strchr(name, '/') != NULL) {
		strlcpy(buf, name, bufsz);
		return 0;
	}
	for (p = path ? path : ""; *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		if (end > p && (size_t)snprintf(buf, bufsz, "%.*s/%s",
		    (int)(end - p), p, name) < bufsz && access(buf, X_OK) == 0)
			return 0;
	}
	for (i = 0; sbins[i] != NULL; i++)
		if ((size_t)snprintf(buf, bufsz, "%s/%s", sbins[i], name) <
		    bufsz && access(buf, X_OK) == 0)
			return 0;
	sr_seterr("%s: not found in PATH nor in /usr/sbin, /sbin (is it "
	    "installed?)", name);
	return -1;
}

int
run_cmd(char *const argv[], struct sbuf *out)
{
	return run_cmd_err(argv, out, NULL);
}

int
run_cmd_err(char *const argv[], struct sbuf *out, struct sbuf *err)
{
	char prog[PATH_MAX];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def;
	struct pollfd pfds[2];
	struct sbuf *bufs[2] = { out, err };
	int pfd[2][2] = { { -1, -1 }, { -1, -1 } }, status, rv = -1, i;
	pid_t pid;

	if (find_helper(argv[0], prog, sizeof(prog)) == -1)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&def);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	for (i = 0; i < 2; i++) {
		if (bufs[i] == NULL)
			continue;
		if (pipe2(pfd[i], O_CLOEXEC) == -1) {
			sr_seterrno("%s: pipe", argv[0]);
			goto done;
		}
		posix_spawn_file_actions_adddup2(&fa, pfd[i][1], i + 1);
	}
	if ((errno = posix_spawn(&pid, prog, &fa, &attr, argv,
	    environ)) != 0) {
		sr_seterrno("%s", argv[0]);
		goto done;
	}
	/* Both outputs read as they come: neither pipe fills and blocks. */
	for (i = 0; i < 2; i++) {
		if (pfd[i][1] != -1) {
			close(pfd[i][1]);
			pfd[i][1] = -1;
		}
		pfds[i].fd = pfd[i][0];
		pfds[i].events = POLLIN;
	}
	while (pfds[0].fd != -1 || pfds[1].fd != -1) {
		if (poll(pfds, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			char buf[4096];
			ssize_t n;

			if (pfds[i].fd == -1 || pfds[i].revents == 0)
				continue;
			n = read(pfds[i].fd, buf, sizeof(buf));
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0 || sbuf_add(bufs[i], buf, (size_t)n) == -1)
				pfds[i].fd = -1;
		}
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			sr_seterrno("%s: wait", argv[0]);
			goto done;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rv = 0;
	else if (WIFEXITED(status))
		sr_seterr("%s: exited with status %d", argv[0],
		    WEXITSTATUS(status));
	else
		sr_seterr("%s: killed by signal %d", argv[0],
		    WTERMSIG(status));
done:
	for (i = 0; i < 2; i++) {
		if (pfd[i][0] != -1)
			close(pfd[i][0]);
		if (pfd[i][1] != -1)
			close(pfd[i][1]);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return rv;
}
