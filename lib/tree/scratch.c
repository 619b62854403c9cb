/*
 * A run's temporaries and where plaintext may go (see scratch.h).
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tree/dir.h"
#include "base/os.h"
#include "tree/scratch.h"
#include "base/tmpname.h"

#define MIB(n)	(((n) + (1 << 20) - 1) >> 20)

/* TMPDIR if the admin set it to an absolute path, else NULL. */
static const char *
tmpdir_set(void)
{
	const char *tmp = getenv("TMPDIR");

	return tmp != NULL && *tmp == '/' ? tmp : NULL;
}

const char *
scratch_base(void)
{
	const char *tmp = tmpdir_set();

	return tmp != NULL ? tmp : "/tmp";
}

/*
 * For a temporary whose lock is not yet taken (the instant between its
 * making and its locking: its lock file is absent or still mode 0):
 * gone only if no process has its pid.
 */
static bool
pid_gone(long pid)
{
	if (kill((pid_t)pid, 0) == -1)
		return errno == ESRCH;
	/* A zombie (an orphan init has not reaped yet) is gone too. */
	return os_pid_zombie(pid);
}

/*
 * Whether lfd (a temporary's lock, or the temporary itself) says its
 * owner is gone; if so, it is left locked by us.
 */
static bool
lock_free(int lfd, long pid)
{
	struct stat st;

	if (fstat(lfd, &st) == -1 || !S_ISREG(st.st_mode))
		return false;
	/* Made mode 0, then locked, then made 0600: not locked yet. */
	if ((st.st_mode & 07777) == 0)
		return pid_gone(pid);
	return flock(lfd, LOCK_EX | LOCK_NB) == 0;
}

/*
 * Open name in dfd (a temporary's lock, or the temporary itself) and
 * tell whether its owner is gone, as lock_free() does; *lfd is then
 * held locked by us, or -1 where the file is still mode 0: an ordinary
 * user cannot open a file of mode 0 even when it is his own, and a run
 * killed between making it and locking it leaves one.  ENOENT is
 * returned in errno for a file that is not there.
 */
static bool
open_stale(int dfd, const char *name, long pid, int *lfd)
{
	struct stat st;

	if ((*lfd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) != -1)
		return lock_free(*lfd, pid);
	if (errno != EACCES || fstatat(dfd, name, &st,
	    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 07777) != 0)
		return false;
	return pid_gone(pid);
}

int
scratch_make(struct scratch *sc, const char *base, const char *prefix)
{
	int dfd = -1, i;

	sc->lockfd = -1;
	for (i = 0; i < 100; i++) {
		if (tmpname(sc->dir, sizeof(sc->dir), "%s/%s", base,
		    prefix) == -1) {
			sr_seterr("a directory in %s: path too long", base);
			sc->dir[0] = '\0';
			return -1;
		}
		if (mkdir(sc->dir, 0700) == 0)
			break;
		if (errno != EEXIST || i == 99) {
			sr_seterrno("make a directory in %s", base);
			sc->dir[0] = '\0';
			return -1;
		}
	}
	/* Mode 0 until locked: a later run tells the instant between. */
	if ((dfd = open(sc->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (sc->lockfd = openat(dfd, "lock", O_RDWR |
	    O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0)) == -1 ||
	    flock(sc->lockfd, LOCK_EX | LOCK_NB) == -1 ||
	    fchmod(sc->lockfd, 0600) == -1) {
		sr_seterrno("%s: lock", sc->dir);
		if (dfd != -1)
			close(dfd);
		(void)scratch_remove(sc);
		return -1;
	}
	close(dfd);
	return 0;
}

int
scratch_path(const struct scratch *sc, const char *name, char *buf,
    size_t bufsz)
{
	if ((size_t)snprintf(buf, bufsz, "%s/%s", sc->dir, name) >= bufsz) {
		sr_seterr("TMPDIR too long");
		return -1;
	}
	return 0;
}

/*
 * Remove the temporary directory name in pfd: all but its lock file,
 * then the lock, then the directory, so that a run killed half-way
 * through leaves what is left still marked by its (free) lock.
 */
static int
remove_dir(int pfd, const char *name)
{
	char **names = NULL;
	size_t i;
	int dfd, rv = 0;

	if ((dfd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		sr_seterrno("remove %s", name);
		return -1;
	}
	if (dir_list(dfd, "", &names) == -1) {
		close(dfd);
		return -1;
	}
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], "lock") != 0 &&
		    dir_purge(dfd, names[i]) == -1)
			rv = -1;
	dir_freelist(names);
	if (rv == 0 && unlinkat(dfd, "lock", 0) == -1 && errno != ENOENT) {
		sr_seterrno("remove %s/lock", name);
		rv = -1;
	}
	close(dfd);
	if (rv == 0 && unlinkat(pfd, name, AT_REMOVEDIR) == -1) {
		sr_seterrno("remove %s", name);
		rv = -1;
	}
	return rv;
}

int
scratch_remove(struct scratch *sc)
{
	char parent[PATH_MAX], *slash;
	int pfd, rv = 0;

	/* Its lock is held until all is gone. */
	if (sc->dir[0] != '\0') {
		strlcpy(parent, sc->dir, sizeof(parent));
		slash = strrchr(parent, '/');
		*slash = '\0';
		if ((pfd = open(*parent ? parent : "/", O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC)) == -1) {
			sr_seterrno("remove %s", sc->dir);
			rv = -1;
		} else {
			rv = remove_dir(pfd, slash + 1);
			close(pfd);
		}
		sc->dir[0] = '\0';
		if (sc->lockfd >= 0)
			close(sc->lockfd);
	}
	sc->lockfd = -1;
	return rv;
}

/*
 * Whether the directory name in basefd is a dead run's temporary of
 * ours, with nothing mounted in it (a vnd mount a killed run left on
 * NetBSD stays until the admin unmounts it); if so *lfd holds its lock.
 */
static bool
dir_stale(int basefd, const char *name, long pid, int *lfd)
{
	struct stat st, cst;
	struct dirent *de;
	DIR *d;
	int dfd;
	bool stale;

	*lfd = -1;
	if (fstatat(basefd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (dfd = openat(basefd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return false;
	if (!(stale = open_stale(dfd, "lock", pid, lfd)) && *lfd == -1 &&
	    errno == ENOENT)
		stale = pid_gone(pid);
	/* Mount points are only ever one level down. */
	if (stale && (d = fdopendir(dup(dfd))) != NULL) {
		while (stale && (de = readdir(d)) != NULL)
			if (strcmp(de->d_name, "..") != 0 && fstatat(dfd,
			    de->d_name, &cst, AT_SYMLINK_NOFOLLOW) == 0 &&
			    cst.st_dev != st.st_dev)
				stale = false;
		closedir(d);
	} else if (stale)
		stale = false;
	close(dfd);
	if (!stale && *lfd != -1) {
		close(*lfd);
		*lfd = -1;
	}
	return stale;
}

/* Remove dead runs' prefix.PID.XXXXXX directories in base. */
static void
purge_base(const char *base, const char *prefix)
{
	struct dirent *de;
	DIR *d;
	int fd, lfd;
	char **names = NULL;
	size_t i;

	if ((fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(dup(fd))) == NULL) {
		close(fd);
		return;
	}
	/* Collect first: removing while reading may skip entries. */
	{
		size_t n = 0, cap = 0;
		char **nv;

		while ((de = readdir(d)) != NULL) {
			if (tmpname_pid(de->d_name, prefix) == -1)
				continue;
			if (n + 2 > cap) {
				cap = cap ? cap * 2 : 8;
				if ((nv = reallocarray(names, cap,
				    sizeof(*nv))) == NULL)
					break;
				names = nv;
			}
			if ((names[n] = strdup(de->d_name)) == NULL)
				break;
			names[++n] = NULL;
		}
	}
	closedir(d);
	for (i = 0; names != NULL && names[i] != NULL; i++)
		if (dir_stale(fd, names[i], tmpname_pid(names[i], prefix),
		    &lfd)) {
			(void)remove_dir(fd, names[i]);
			if (lfd != -1)
				close(lfd);
		}
	dir_freelist(names);
	close(fd);
}

void
scratch_purge(void)
{
	const char *bases[6];
	char run[64];
	size_t i, j, n = 0;

	snprintf(run, sizeof(run), "/run/user/%u", (unsigned)geteuid());
	bases[n++] = scratch_base();
	bases[n++] = "/tmp";
	bases[n++] = "/dev/shm";
	bases[n++] = run;
	bases[n++] = "/var/shm";
	for (i = 0; i < n; i++) {
		for (j = 0; j < i && strcmp(bases[j], bases[i]) != 0; j++)
			;
		if (j < i)
			continue;
		purge_base(bases[i], SCRATCH_STAGE);
		purge_base(bases[i], SCRATCH_PLAIN);
	}
}

/* Split path into its directory (or ".") and its last name. */
static int
split_path(const char *path, char *dir, size_t dirsz, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		strlcpy(dir, ".", dirsz);
		*base = path;
	} else if ((size_t)(slash - path) >= dirsz) {
		sr_seterr("path too long");
		return -1;
	} else {
		snprintf(dir, dirsz, "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
		*base = slash + 1;
	}
	if (**base == '\0') {
		sr_seterr("not a file name");
		return -1;
	}
	return 0;
}

void
scratch_purge_beside(const char *path)
{
	char dir[PATH_MAX], prefix[NAME_MAX + 2];
	const char *base;
	struct dirent *de;
	DIR *d;
	int fd;

	if (split_path(path, dir, sizeof(dir), &base) == -1 ||
	    (size_t)snprintf(prefix, sizeof(prefix), ".%s", base) >=
	    sizeof(prefix) ||
	    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(dup(fd))) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		long pid = tmpname_pid(de->d_name, prefix);
		struct stat st, nst;
		int lfd;

		if (pid == -1 || fstatat(fd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid())
			continue;
		if (!open_stale(fd, de->d_name, pid, &lfd)) {
			if (lfd != -1)
				close(lfd);
			continue;
		}
		/* Still the same file, once locked: then it is a dead one. */
		if (lfd == -1 || (fstat(lfd, &st) == 0 &&
		    fstatat(fd, de->d_name, &nst, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_dev == nst.st_dev && st.st_ino == nst.st_ino))
			(void)unlinkat(fd, de->d_name, 0);
		if (lfd != -1)
			close(lfd);
	}
	closedir(d);
	close(fd);
}

int
scratch_file(const char *path, char *tmp, size_t tmpsz)
{
	char dir[PATH_MAX];
	const char *base;
	int fd = -1, i;

	tmp[0] = '\0';
	if (split_path(path, dir, sizeof(dir), &base) == -1) {
		sr_prefixerr("create");
		return -1;
	}
	if (strlen(base) + 24 > NAME_MAX) {
		sr_seterr("create: the name is too long for a temporary "
		    "beside it");
		return -1;
	}
	scratch_purge_beside(path);
	for (i = 0; i < 100 && fd == -1; i++) {
		if (tmpname(tmp, tmpsz, "%.*s.%s", (int)(base - path), path,
		    base) == -1) {
			sr_seterr("create: path too long");
			tmp[0] = '\0';
			return -1;
		}
		/* Mode 0 until locked (see lock_free). */
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0);
		if (fd == -1 && errno != EEXIST) {
			sr_seterrno("create");
			tmp[0] = '\0';
			return -1;
		}
	}
	if (fd == -1 || flock(fd, LOCK_EX | LOCK_NB) == -1 ||
	    fchmod(fd, 0600) == -1) {
		sr_seterrno("create: %s", tmp);
		if (fd != -1) {
			close(fd);
			unlink(tmp);
		}
		tmp[0] = '\0';
		return -1;
	}
	return fd;
}

/* Bytes free in path's file system; UINT64_MAX for one without a limit. */
static uint64_t
free_bytes(const char *path)
{
	struct statvfs sv;

	if (statvfs(path, &sv) == -1)
		return 0;
	/* ramfs: no size, no limit. */
	if (sv.f_blocks == 0)
		return UINT64_MAX;
	return (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
}

int
scratch_memory(uint64_t need, const char *what, char *buf, size_t bufsz)
{
	const char *tmp = tmpdir_set(), *cands[4], *best = NULL;
	char run[64];
	uint64_t bestfree = 0;
	size_t i;

	if (tmp != NULL && os_in_memory(tmp) == 1) {
		/* The admin's choice: kept, and refused if without room. */
		if (free_bytes(tmp) < need) {
			sr_seterr("TMPDIR %s: no room in memory for %s: %ju "
			    "MiB needed, %ju MiB free (refused, nothing "
			    "written)", tmp, what, (uintmax_t)MIB(need),
			    (uintmax_t)MIB(free_bytes(tmp)));
			return -1;
		}
		strlcpy(buf, tmp, bufsz);
		return 0;
	}
	snprintf(run, sizeof(run), "/run/user/%u", (unsigned)geteuid());
	cands[0] = "/dev/shm";
	cands[1] = run;
	cands[2] = "/var/shm";
	cands[3] = "/tmp";
	for (i = 0; i < 4; i++) {
		struct stat st;
		uint64_t f;

		if (stat(cands[i], &st) == -1 || !S_ISDIR(st.st_mode) ||
		    faccessat(AT_FDCWD, cands[i], W_OK | X_OK,
		    AT_EACCESS) == -1 || os_in_memory(cands[i]) != 1)
			continue;
		if ((f = free_bytes(cands[i])) >= need) {
			strlcpy(buf, cands[i], bufsz);
			return 0;
		}
		if (best == NULL || f > bestfree) {
			best = cands[i];
			bestfree = f;
		}
	}
	if (best != NULL)
		sr_seterr("no room in memory for %s: %ju MiB needed, at most "
		    "%ju MiB free (%s); refused, nothing written (TMPDIR may "
		    "name a larger tmpfs)", what, (uintmax_t)MIB(need),
		    (uintmax_t)MIB(bestfree), best);
	else
		sr_seterr("no memory file system (tmpfs) to hold %s, which "
		    "must not reach a disk: refused, nothing written (set "
		    "TMPDIR to a directory on a tmpfs)", what);
	return -1;
}

int
scratch_room(const char *base, uint64_t need, const char *what)
{
	uint64_t f = free_bytes(base);

	if (f >= need)
		return 0;
	sr_seterr("%s: no room in memory for %s: %ju MiB more needed, %ju "
	    "MiB free (refused, nothing written)", base, what,
	    (uintmax_t)MIB(need), (uintmax_t)MIB(f));
	return -1;
}

/* The blocks below the directory fd (consumed), to a bounded depth. */
static uint64_t
du_fd(int fd, int depth)
{
	struct dirent *de;
	struct stat st;
	uint64_t sum = 0;
	DIR *d;

	if (fd == -1)
		return 0;
	if (depth > 128 || (d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		sum += (uint64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode))
			sum += du_fd(openat(dirfd(d), de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), depth + 1);
	}
	closedir(d);
	return sum;
}

int
scratch_du(int rootfd, const char *const *tops, uint64_t *bytes)
{
	size_t i;

	*bytes = 0;
	for (i = 0; tops[i] != NULL; i++)
		*bytes += du_fd(openat(rootfd, tops[i], O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), 0);
	return 0;
}
