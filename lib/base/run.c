/*
 * Running helper programs (see run.h).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/run.h"
#include "base/sr.h"

extern char **environ;

/* makefs, mke2fs and losetup live in /usr/sbin and /sbin on Debian. */
int
run_find(const char *name, char *buf, size_t bufsz)
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

/* A child being run: its pid and the read ends of its output pipes. */
struct child {
	pid_t	 pid;
	int	 pfd[2][2];		/* stdout, stderr: read, write */
};

/*
 * Start argv with a pipe for each output asked for (bufs[i] != NULL),
 * the signals we catch back at their defaults.
 */
static int
spawn(char *const argv[], struct sbuf *const bufs[2], struct child *c)
{
	char prog[PATH_MAX];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def;
	int i, rv = -1;

	if (run_find(argv[0], prog, sizeof(prog)) == -1)
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
		if (pipe2(c->pfd[i], O_CLOEXEC) == -1) {
			sr_seterrno("%s: pipe", argv[0]);
			goto done;
		}
		posix_spawn_file_actions_adddup2(&fa, c->pfd[i][1], i + 1);
	}
	if ((errno = posix_spawn(&c->pid, prog, &fa, &attr, argv,
	    environ)) != 0) {
		sr_seterrno("%s", argv[0]);
		goto done;
	}
	rv = 0;
done:
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return rv;
}

/* Both outputs read as they come: neither pipe fills and blocks. */
static void
drain(struct child *c, struct sbuf *const bufs[2])
{
	struct pollfd pfds[2];
	int i;

	for (i = 0; i < 2; i++) {
		if (c->pfd[i][1] != -1) {
			close(c->pfd[i][1]);
			c->pfd[i][1] = -1;
		}
		pfds[i].fd = c->pfd[i][0];
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
}

/* Wait for the child; 0 if it exited 0, else -1 saying how it ended. */
static int
reap(const char *name, pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			sr_seterrno("%s: wait", name);
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		sr_seterr("%s: exited with status %d", name,
		    WEXITSTATUS(status));
	else
		sr_seterr("%s: killed by signal %d", name, WTERMSIG(status));
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
	struct sbuf *const bufs[2] = { out, err };
	struct child c = { -1, { { -1, -1 }, { -1, -1 } } };
	int rv = -1, i;

	if (spawn(argv, bufs, &c) == 0) {
		drain(&c, bufs);
		rv = reap(argv[0], c.pid);
	}
	for (i = 0; i < 2; i++) {
		if (c.pfd[i][0] != -1)
			close(c.pfd[i][0]);
		if (c.pfd[i][1] != -1)
			close(c.pfd[i][1]);
	}
	return rv;
}
