/*
 * Locks on targets (see lock.h).
 *
 * POSIX record locks belong to a process and file: closing any
 * descriptor of a locked file drops them.  Each lock file is therefore
 * opened once per process and kept in a table; a second lock of the same
 * file is the first one.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tree/lock.h"
#include "base/os.h"
#include "tree/scratch.h"
#include "base/sr.h"

static struct held {
	int	 dirfd, fd;
	int	 tfd;		/* a directory target, flocked */
	dev_t	 dev;
	ino_t	 ino;
	bool	 excl;
	char	 name[NAME_MAX + 1];
} *held;
static size_t nheld, maxheld;

/*
 * The directory the target is in (resolved: a link is locked as what it
 * names) and the lock file's name there.
 */
static int
lock_place(const char *target, char *dir, size_t dirsz, char *name,
    size_t namesz)
{
	char real[PATH_MAX], tmp[PATH_MAX], *slash;
	const char *base;

	if (realpath(target, real) == NULL) {
		/* Not made yet: its directory, then its name. */
		if (errno != ENOENT ||
		    strlcpy(tmp, target, sizeof(tmp)) >= sizeof(tmp)) {
			sr_seterrno("lock");
			return -1;
		}
		slash = strrchr(tmp, '/');
		base = slash ? target + (slash - tmp) + 1 : target;
		if (slash == tmp)
			strlcpy(tmp, "/", sizeof(tmp));
		else if (slash != NULL)
			*slash = '\0';
		if (realpath(slash ? tmp : ".", real) == NULL) {
			sr_seterrno("lock");
			return -1;
		}
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s",
		    strcmp(real, "/") == 0 ? "" : real, base) >= sizeof(tmp)) {
			sr_seterr("lock: path too long");
			return -1;
		}
		strlcpy(real, tmp, sizeof(real));
	}
	slash = strrchr(real, '/');
	if (slash == NULL || slash[1] == '\0') {
		sr_seterr("lock: / cannot be locked as a target");
		return -1;
	}
	if ((size_t)snprintf(name, namesz, ".%s.lock", slash + 1) >= namesz ||
	    strlen(name) > NAME_MAX) {
		sr_seterr("lock: the name is too long for a lock file beside "
		    "it");
		return -1;
	}
	snprintf(dir, dirsz, "%.*s", slash == real ? 1 : (int)(slash - real),
	    real);
	return 0;
}

/* Say who holds the lock fd asks for, as well as the system tells. */
static void
say_holder(int fd, short type)
{
	struct flock fl;
	char comm[64] = "";

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == -1 || fl.l_type == F_UNLCK ||
	    fl.l_pid <= 0) {
		sr_seterr("in use by another run");
		return;
	}
	os_pid_name(fl.l_pid, comm, sizeof(comm));
	sr_seterr("in use: %s%spid %ld%s is %s it", comm, *comm ? " (" : "",
	    (long)fl.l_pid, *comm ? ")" : "", fl.l_type == F_WRLCK ?
	    "changing" : "reading");
}

/* Take or upgrade the lock on fd without waiting. */
static int
set_lock(int fd, bool excl)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = excl ? F_WRLCK : F_RDLCK;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

/* Whether name in dirfd is still the file st describes. */
static bool
still_named(int dirfd, const char *name, const struct stat *st)
{
	struct stat nst;

	return fstatat(dirfd, name, &nst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    nst.st_dev == st->st_dev && nst.st_ino == st->st_ino;
}

/*
 * Open the lock file; 1 if it can neither be opened nor made (a
 * directory this user may not write): the run goes on unlocked, and its
 * own checks refuse what it may not change.
 */
static int
open_lockfile(int dirfd, const char *name, bool excl, int *fd)
{
	*fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0644);
	if (*fd != -1) {
		/* Readers of other users lock it too: whatever the umask. */
		(void)fchmod(*fd, 0644);
		return 0;
	}
	if (errno == EEXIST || errno == EACCES || errno == EPERM ||
	    errno == EROFS)
		*fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (*fd == -1 && !excl && (errno == EACCES || errno == EPERM ||
	    errno == EROFS))
		*fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (*fd == -1 && errno == ENOENT)
		return 1;
	if (*fd == -1) {
		sr_seterrno("lock: %s", name);
		return -1;
	}
	return 0;
}

/*
 * A directory target is never replaced by a rename: it is flocked too,
 * so that runs that could not make its lock file exclude each other.
 */
static int
lock_dir(const char *target, bool excl, int *tfd)
{
	*tfd = open(target, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (*tfd == -1)
		return 0;
	if (flock(*tfd, (excl ? LOCK_EX : LOCK_SH) | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			sr_seterr("in use by another run");
		else
			sr_seterrno("lock");
		close(*tfd);
		*tfd = -1;
		return -1;
	}
	return 0;
}

/*
 * The lock file name in dirfd held already by this run (a root named
 * twice): never a second descriptor; a shared hold made exclusive when
 * asked.  1: not held; 0: held (now as asked); -1: refused.
 */
static int
lock_again(int dirfd, const char *name, bool excl)
{
	struct stat st;
	size_t i;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 1;
	for (i = 0; i < nheld; i++) {
		if (held[i].dev != st.st_dev || held[i].ino != st.st_ino)
			continue;
		if (!excl || held[i].excl)
			return 0;
		if (set_lock(held[i].fd, true) == -1) {
			say_holder(held[i].fd, F_WRLCK);
			return -1;
		}
		if (held[i].tfd != -1 &&
		    flock(held[i].tfd, LOCK_EX | LOCK_NB) == -1) {
			sr_seterr("in use by another run");
			return -1;
		}
		held[i].excl = true;
		return 0;
	}
	return 1;
}

/* Room in the table of held locks for one more. */
static int
held_room(void)
{
	size_t n;
	struct held *nh;

	if (nheld < maxheld)
		return 0;
	n = maxheld ? maxheld * 2 : 8;
	if ((nh = reallocarray(held, n, sizeof(*nh))) == NULL) {
		sr_seterrno("lock");
		return -1;
	}
	held = nh;
	maxheld = n;
	return 0;
}

/*
 * Open and lock the lock file name in dirfd (dir for messages), again
 * while its last holder removes or replaces it meanwhile.  0: *fd
 * holds it, *st says what it is; 1: no lock file can be made there
 * (a directory a run may not write); -1: refused.
 */
static int
take_lockfile(int dirfd, const char *dir, const char *name, bool excl,
    int *fd, struct stat *st)
{
	int tries, r;

	for (tries = 0; tries < 20; tries++) {
		if ((r = open_lockfile(dirfd, name, excl, fd)) != 0)
			return r;
		if (fstat(*fd, st) == -1 || !S_ISREG(st->st_mode)) {
			sr_seterr("lock: %s/%s: not a regular file", dir, name);
			break;
		}
		if (set_lock(*fd, excl) == -1) {
			if (errno == EAGAIN || errno == EACCES)
				say_holder(*fd, excl ? F_WRLCK : F_RDLCK);
			else
				sr_seterrno("lock: %s/%s", dir, name);
			break;
		}
		/* Removed or replaced by its last holder meanwhile: again. */
		if (still_named(dirfd, name, st))
			return 0;
		close(*fd);
		*fd = -1;
	}
	if (*fd == -1)
		sr_seterr("lock: %s/%s keeps being replaced", dir, name);
	else {
		close(*fd);
		*fd = -1;
	}
	return -1;
}

int
sr_lock(const char *target, bool excl)
{
	char dir[PATH_MAX], name[NAME_MAX + 2];
	struct stat st;
	int dirfd, fd = -1, tfd = -1, r;

	if (lock_place(target, dir, sizeof(dir), name, sizeof(name)) == -1)
		return -1;
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		sr_seterrno("lock: %s", dir);
		return -1;
	}
	if ((r = lock_again(dirfd, name, excl)) != 1 ||
	    (r = held_room()) == -1 ||
	    (r = take_lockfile(dirfd, dir, name, excl, &fd, &st)) != 0) {
		close(dirfd);
		if (r == 1 && lock_dir(target, excl, &tfd) == -1)
			return -1;
		/* 1: kept for the run, never removed: not in the table. */
		return r;
	}
	if (lock_dir(target, excl, &tfd) == -1) {
		close(fd);
		close(dirfd);
		return -1;
	}
	held[nheld].tfd = tfd;
	held[nheld].dirfd = dirfd;
	held[nheld].fd = fd;
	held[nheld].dev = st.st_dev;
	held[nheld].ino = st.st_ino;
	held[nheld].excl = excl;
	strlcpy(held[nheld].name, name, sizeof(held[nheld].name));
	nheld++;
	if (excl)
		scratch_purge_beside(target);
	return 0;
}

void
sr_unlock_all(void)
{
	size_t i;

	for (i = 0; i < nheld; i++) {
		struct held *h = &held[i];
		struct stat st;

		/* A reader removes it only if no other run holds it. */
		if ((h->excl || set_lock(h->fd, true) == 0) &&
		    fstat(h->fd, &st) == 0 && still_named(h->dirfd, h->name,
		    &st))
			(void)unlinkat(h->dirfd, h->name, 0);
		close(h->fd);
		close(h->dirfd);
		if (h->tfd != -1)
			close(h->tfd);
	}
	nheld = 0;
}

void
sr_lock_forget(void)
{
	size_t i;

	/* Closing them drops only the child's locks: it has none. */
	for (i = 0; i < nheld; i++) {
		close(held[i].fd);
		close(held[i].dirfd);
		if (held[i].tfd != -1)
			close(held[i].tfd);
	}
	nheld = 0;
}
