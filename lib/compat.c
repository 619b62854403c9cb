/*
 * The little that differs between hosts (see compat.h).
 */
#include "compat.h"

#include <sys/resource.h>
#if SR_LINUX
#include <sys/prctl.h>
#endif

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if !SR_NETBSD
#include <libutil.h>
#endif

int
sr_parse_size(const char *s, uint64_t *v)
{
#if SR_NETBSD
	int64_t r;

	if (dehumanize_number(s, &r) == -1 || r < 0)
		return -1;
	*v = (uint64_t)r;
	return 0;
#else
	return expand_number(s, v);
#endif
}

#if !SR_LINUX
static void
parent_gone(int sig)
{
	(void)sig;
	(void)kill(getpid(), SIGKILL);
}
#endif

int
sr_die_with_parent(pid_t parent, int watchfd)
{
#if SR_LINUX
	(void)watchfd;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		return -1;
#else
	struct sigaction sa;
	int fl;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = parent_gone;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGIO, &sa, NULL) == -1 ||
	    fcntl(watchfd, F_SETOWN, getpid()) == -1 ||
	    (fl = fcntl(watchfd, F_GETFL)) == -1 ||
	    fcntl(watchfd, F_SETFL, fl | O_ASYNC) == -1)
		return -1;
#endif
	/* Gone before that was set: nobody would tell us. */
	if (getppid() != parent)
		(void)kill(getpid(), SIGKILL);
	return 0;
}

int
sr_no_core(void)
{
	const struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) == -1)
		return -1;
#if SR_LINUX
	if (prctl(PR_SET_DUMPABLE, 0) == -1)
		return -1;
#endif
	return 0;
}
