/*
 * sharedroot: the library shared by setup-root and setup-local.
 *
 * Conventions: functions return 0 on success and -1 on failure, leaving a
 * message for the caller in sr_errmsg().  Nothing in lib/ prints or exits;
 * the tools in bin/ decide what to say and how to end.
 */
#ifndef SR_H
#define SR_H

#include <sys/types.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Messages ------------------------------------------------------------- */

/* Record why the current operation failed ("etc/rc: cannot ..."). */
void	sr_seterr(const char *, ...) __attribute__((format(printf, 1, 2)));
/* The same, with ": strerror(errno)" appended. */
void	sr_seterrno(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Put "prefix: " before the message recorded (the step that failed). */
void	sr_prefixerr(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * A path cut to at most SR_SHORTPATH bytes (its first components and its
 * last ones), for a message about a deep path that must stay readable;
 * valid until the second call after.
 */
#define SR_SHORTPATH	120
const char *sr_shortpath(const char *);
/* A size for people: "512 bytes", "3.2 MiB" (four at once). */
const char *sr_size(uint64_t);
/* Whether an errno says a file system is full (ENOSPC, EDQUOT). */
bool	sr_noroom(int);
/*
 * Where the file system holding fd is mounted (Linux: from mountinfo;
 * NetBSD: statvfs), and what room it has left for us.
 */
int	sr_fsroom(int, char *, size_t, uint64_t *);
/*
 * Record that a write found no room: "no room left on /tmp (12.0 KiB
 * free) to write what; about 3.1 MiB more needed" (more: 0 if unknown;
 * with atleast, a lower bound); fd is anything on the full file system.
 * errno is kept.
 */
void	sr_seterr_noroom(int, const char *, uint64_t, bool);
/* Record "out of memory" (errno ENOMEM) and return -1. */
int	sr_oom(void);
/* The last message recorded. */
const char *sr_errmsg(void);

/*
 * What the user could change to get past the failure recorded, for the
 * tool to name in its own words: lib/ says what happened and never names
 * a command-line option.  A hint is set after the message (sr_sethint),
 * kept by sr_prefixerr() and cleared by the next sr_seterr*().
 */
enum sr_hint {
	SR_HINT_NONE,
	/* The message is about a value given ("a;b: not a host name"): */
	SR_HINT_HOSTNAME,	/* the guest's host name */
	SR_HINT_PKGDEV,		/* the /usr/pkg device */
	SR_HINT_CIPHER,		/* the swap cipher */
	SR_HINT_LOCALDEV,	/* the local disk's raw device */
	SR_HINT_PARTITION,	/* the partition of an image */
	SR_HINT_BASEROOT,	/* the root a local was seeded from */
	/* The message ends where the tool can say what would help: */
	SR_HINT_FORCE,		/* going on regardless */
	SR_HINT_PICKPART,	/* naming one partition ("pick one") */
	SR_HINT_NAMEBASE,	/* naming the root a local was seeded from */
	SR_HINT_CGD,		/* asking for cgd encryption */
	SR_HINT_PASSFILE,	/* the passphrase in a file */
	SR_HINT_REPROVISION,	/* provisioning the guest afresh */
	SR_HINT_ROLLBACK,	/* rolling a local back */
	SR_HINT_UPGRADE,	/* upgrading a local */
	SR_HINT_SETS,		/* building a root from its sets */
	SR_HINT_REPLACE,	/* replacing what is there */
	SR_HINT_BUILDROOT,	/* a root built from sets, nothing mounted */
	SR_HINT_KEYFILE,	/* the key file (a value given) */
	SR_HINT_MAKESIZE,	/* giving a size, to make a new image */
	SR_HINT_ARGORDER,	/* the arguments in their order */
	SR_HINT_MAKEROOT,	/* making a root from sets first */
	SR_HINT_NOCIPHER	/* no swap cipher */
};
void	sr_sethint(enum sr_hint);
enum sr_hint sr_errhint(void);

/* The largest text of a guest's (etc/rc, MAKEDEV, a template) read to edit. */
#define SR_TEXT_MAX	(4 * 1024 * 1024)
/* How deep a walk of a guest tree goes (components of a directory). */
#define SR_MAXDEPTH	128

/*
 * Progress reporting, supplied by the tool: registered once with
 * sr_setlog() (a fleet's workers inherit it), then every sr_log() of lib
 * goes to it.  None registered, sr_log() says nothing.  Filtering by
 * verbosity is the logger's.
 */
enum sr_level { SR_INFO, SR_VERBOSE, SR_WARN };
typedef void sr_logfn(void *, enum sr_level, const char *, ...)
    __attribute__((format(printf, 3, 4)));
void	sr_setlog(sr_logfn *, void *);
/* The logger registered and its context (to register it again after). */
void	sr_getlog(sr_logfn **, void **);
void	sr_log(enum sr_level, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Growing buffers ------------------------------------------------------ */

struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

int	sbuf_add(struct sbuf *, const void *, size_t);
int	sbuf_adds(struct sbuf *, const char *);
int	sbuf_printf(struct sbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	sbuf_free(struct sbuf *);
/* Whether n bytes are all zeros (a run a sparse file keeps as a hole). */
bool	sr_zeros(const void *, size_t);

/* Signals -------------------------------------------------------------- */

/* Catch SIGINT, SIGTERM and SIGHUP: they only set a flag. */
void	sr_signals_catch(void);
/* The signal caught so far, or 0. */
int	sr_interrupted(void);
/* Fail with "interrupted" if a signal arrived; for use between steps. */
int	sr_checkpoint(void);

#endif /* SR_H */
