/*
 * A gate for tests, preloaded (LD_PRELOAD) into setup-local: a run is
 * held where it makes its new image durable, just before it takes the
 * old one's place, with its locks held and its new image begun (what
 * the makefs stub of h_common.sh's makefs_gate held before images were
 * written directly).  With $SR_HOLD set to a directory: the fsync(2) of
 * a file named .NAME.PID.XXXXXX (a new image beside its target) makes
 * $SR_HOLD/makefs.started.PID, waits while $SR_HOLD/makefs.go is not
 * there (10 minutes at most: then it fails as a full disk would), and
 * makes $SR_HOLD/makefs.done.PID after the real fsync.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
touch(const char *dir, const char *what)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/makefs.%s.%ld", dir, what, (long)getpid());
	if ((fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) != -1)
		close(fd);
}

/* Whether fd is a new image beside its target: .NAME.PID.XXXXXX. */
static int
new_image(int fd)
{
	char link[64], path[PATH_MAX], *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return 0;
	path[n] = '\0';
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return base[0] == '.' && strstr(base, ".img.") != NULL &&
	    strstr(base, ".lock") == NULL;
}

int
fsync(int fd)
{
	static int (*real)(int);
	const char *dir = getenv("SR_HOLD");
	char go[PATH_MAX];
	int i, rv;

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (dir == NULL || !new_image(fd))
		return real(fd);
	touch(dir, "started");
	snprintf(go, sizeof(go), "%s/makefs.go", dir);
	for (i = 0; access(go, F_OK) == -1; i++) {
		if (i > 600 * 50) {
			errno = ENOSPC;
			return -1;
		}
		usleep(20000);
	}
	rv = real(fd);
	touch(dir, "done");
	return rv;
}
