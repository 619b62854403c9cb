/*
 * The portability layer on NetBSD, and the portable paths (see os.h).
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/sysctl.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/os.h"
#include "base/sr.h"

/* No openat2 here: dir.c walks one component at a time. */
int
os_open_beneath(int dirfd, const char *rel, int flags)
{
	(void)dirfd;
	(void)rel;
	(void)flags;
	errno = ENOSYS;
	return -1;
}

int
os_exchange(int fromfd, const char *from, int tofd, const char *to)
{
	(void)fromfd;
	(void)from;
	(void)tofd;
	(void)to;
	errno = ENOSYS;
	return -1;
}

int
os_syncfs(int fd)
{
	(void)fd;
	sync();
	return 0;
}

bool
os_can_punch(void)
{
	return false;
}

int
os_punch_hole(int fd, off_t off, off_t len)
{
	(void)fd;
	(void)off;
	(void)len;
	errno = EOPNOTSUPP;
	return -1;
}

int
os_copy_xattrs(int from, int to)
{
	(void)from;
	(void)to;
	return 0;
}

int
os_in_memory(const char *path)
{
	struct statvfs sv;

	/* memcmp: the compat-check stubs give glibc's spare ints the name. */
	if (statvfs(path, &sv) == -1)
		return -1;
	return memcmp(sv.f_fstypename, "tmpfs", sizeof("tmpfs")) == 0 ||
	    memcmp(sv.f_fstypename, "mfs", sizeof("mfs")) == 0;
}

void
os_fd_path(int fd, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "/dev/fd/%d", fd);
}

/* An unlinked file in $TMPDIR: no name left, even if killed next. */
int
os_anon_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd, e;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/.sharedroot.XXXXXX",
	    dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkstemp(path)) == -1)
		return -1;
	if (unlink(path) == -1 || fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		e = errno;
		(void)unlink(path);
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

const char *
os_attach_default(void)
{
	return "vnd";
}

/* Only the loop back end asks, and there is none here. */
int
os_fstype(int fd, char *buf, size_t bufsz)
{
	(void)fd;
	(void)buf;
	(void)bufsz;
	sr_seterr("attach: loop devices exist only on Linux");
	return -1;
}

char
os_raw_partition(void)
{
	int rp;
	size_t len = sizeof(rp);

	if (sysctlbyname("kern.rawpartition", &rp, &len, NULL, 0) == 0 &&
	    rp >= 0 && rp < 26)
		return (char)('a' + rp);
	return 'd';
}

bool
os_pid_zombie(long pid)
{
	(void)pid;
	return false;
}

void
os_pid_name(pid_t pid, char *buf, size_t bufsz)
{
	(void)pid;
	if (bufsz > 0)
		buf[0] = '\0';
}

static void
parent_gone(int sig)
{
	(void)sig;
	(void)kill(getpid(), SIGKILL);
}

int
sr_die_with_parent(pid_t parent, int watchfd)
{
	struct sigaction sa;
	int fl;

	if (watchfd != -1) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = parent_gone;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGIO, &sa, NULL) == -1 ||
		    fcntl(watchfd, F_SETOWN, getpid()) == -1 ||
		    (fl = fcntl(watchfd, F_GETFL)) == -1 ||
		    fcntl(watchfd, F_SETFL, fl | O_ASYNC) == -1)
			return -1;
	}
	/* Gone before that was set: nobody would tell us. */
	if (getppid() != parent)
		(void)kill(getpid(), SIGKILL);
	return 0;
}

int
sr_no_core(void)
{
	const struct rlimit none = { 0, 0 };

	return setrlimit(RLIMIT_CORE, &none);
}

int
sr_parse_size(const char *s, uint64_t *v)
{
	int64_t r;

	if (dehumanize_number(s, &r) == -1 || r < 0)
		return -1;
	*v = (uint64_t)r;
	return 0;
}
