/*
 * The portability layer: what differs between the hosts the tools run
 * on, behind one set of functions.  lib/os_linux.c is Linux's (openat2,
 * renameat2, syncfs, hole punching, extended attributes, libblkid,
 * /proc); lib/os_bsd.c is NetBSD's, and the portable fallbacks.  The
 * Makefile builds one of them; nothing else in lib/ asks which host it
 * is on, but for the messages (msg.c, below this layer).
 *
 * SR_LINUX says which is built.  Building with SR_FORCE_NETBSD compiles
 * the NetBSD paths on Linux, against the stubs in mk/netbsd-stubs, so
 * that CI keeps them compiling (make compat-check).
 */
#ifndef OS_H
#define OS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
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

/* Files and file systems ---------------------------------------------- */

/*
 * Open rel below dirfd in one call that follows no symbolic link and
 * cannot leave dirfd (Linux's openat2 with RESOLVE_IN_ROOT and
 * RESOLVE_NO_SYMLINKS), flags with O_NOFOLLOW and O_CLOEXEC added.
 * -1 with ENOSYS (or EPERM, a filter's refusal) where the host has no
 * such call, or the build says not to use it (SR_NO_OPENAT2): the caller
 * then walks one component at a time (dir.c).
 */
int	os_open_beneath(int, const char *, int);
/*
 * Swap two names atomically (renameat2 RENAME_EXCHANGE); -1 with
 * EINVAL or ENOSYS where the host or the file system cannot.
 */
int	os_exchange(int, const char *, int, const char *);
/* Flush the file system holding fd; all of them where it cannot tell. */
int	os_syncfs(int);
/* Whether os_punch_hole() can make holes on this host. */
bool	os_can_punch(void);
/*
 * Make len bytes at off a hole, the file's size kept; -1 with
 * EOPNOTSUPP where the host or the file system cannot.
 */
int	os_punch_hole(int, off_t, off_t);
/*
 * Give to the extended attributes (and so the ACLs) of from; a host or
 * file system without them has none to give.
 */
int	os_copy_xattrs(int, int);
/* Whether the file system holding path is in memory (tmpfs, ramfs, mfs). */
int	os_in_memory(const char *);
/* A path naming open descriptor fd ("/proc/self/fd/N", "/dev/fd/N"). */
void	os_fd_path(int, char *, size_t);

/*
 * A file only this process and its children see, in memory where the
 * host can (Linux's memfd_create), else created in $TMPDIR and unlinked
 * at once; close-on-exec.  A fleet's worker holds its output in one.
 */
int	os_anon_file(void);

/* Disks ---------------------------------------------------------------- */

/* The attach back end the host has: "loop" (Linux) or "vnd". */
const char *os_attach_default(void);
/*
 * The file-system type in the image open at fd, as libblkid names it
 * ("ufs", "ext2"); a message saying why not where it cannot tell.
 */
int	os_fstype(int, char *, size_t);
/* The raw partition's letter: the whole disk ('d' on amd64 and i386). */
char	os_raw_partition(void);

/* Processes ------------------------------------------------------------ */

/* Whether pid is a zombie (gone, not yet reaped); false if unknown. */
bool	os_pid_zombie(long);
/* The command name of process pid, or "" where the host does not say. */
void	os_pid_name(pid_t, char *, size_t);
/*
 * In a child process: die (SIGKILL) when the parent dies, so that no
 * worker of a run goes on after the run was killed.  Linux uses
 * PR_SET_PDEATHSIG; elsewhere watchfd, the read end of a pipe whose write
 * end only the parent holds, raises SIGIO when the parent's end closes
 * (NetBSD's pipeclose() signals the reader's owner on hang-up); with
 * watchfd -1 there, nothing watches.  Either way a parent gone before it
 * was set is seen by getppid().
 */
int	sr_die_with_parent(pid_t, int);
/*
 * No core dump of this process or its children, which hold a guest's key
 * and plaintext: RLIMIT_CORE 0, and on Linux not dumpable at all (a
 * core_pattern pipe ignores the limit).
 */
int	sr_no_core(void);

/* Numbers -------------------------------------------------------------- */

/*
 * A size with an optional k, m, g or t suffix: expand_number(3) from
 * libbsd, dehumanize_number(3) on NetBSD.
 */
int	sr_parse_size(const char *, uint64_t *);

#endif /* OS_H */
