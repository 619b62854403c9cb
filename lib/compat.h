/*
 * What differs between the hosts the tools build on.  SR_LINUX selects
 * Linux's interfaces (openat2, renameat2, loop devices, libblkid, hole
 * punching); elsewhere (NetBSD) the portable paths are used.  Building
 * with SR_FORCE_NETBSD compiles the NetBSD paths on Linux, against the
 * stubs in mk/netbsd-stubs, so that CI keeps them compiling.
 */
#ifndef COMPAT_H
#define COMPAT_H

#include <sys/types.h>

#include <stdint.h>

#if defined(__linux__) && !defined(SR_FORCE_NETBSD)
#define SR_LINUX	1
#else
#define SR_LINUX	0
#endif

#if defined(__NetBSD__) || defined(SR_FORCE_NETBSD)
#define SR_NETBSD	1
#else
#define SR_NETBSD	0
#endif

/*
 * A size with an optional k, m, g or t suffix: expand_number(3) from
 * libbsd or FreeBSD's libutil, dehumanize_number(3) on NetBSD.
 */
int	sr_parse_size(const char *, uint64_t *);

/*
 * In a child process: die (SIGKILL) when the parent dies, so that no
 * worker of a run goes on after the run was killed.  Linux uses
 * PR_SET_PDEATHSIG; elsewhere watchfd, the read end of a pipe whose write
 * end only the parent holds, raises SIGIO when the parent's end closes
 * (NetBSD's pipeclose() signals the reader's owner on hang-up).  Either
 * way a parent gone before it was set is seen by getppid().
 */
int	sr_die_with_parent(pid_t, int);

/*
 * No core dump of this process or its children, which hold a guest's key
 * and plaintext: RLIMIT_CORE 0, and on Linux not dumpable at all (a
 * core_pattern pipe ignores the limit).
 */
int	sr_no_core(void);

#endif /* COMPAT_H */
