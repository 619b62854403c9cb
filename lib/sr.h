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

/* The largest text of a guest's (etc/rc, MAKEDEV, a template) read to edit. */
#define SR_TEXT_MAX	(4 * 1024 * 1024)
/* How deep a walk of a guest tree goes (components of a directory). */
#define SR_MAXDEPTH	128

/* Progress reporting, supplied by the tool. */
enum sr_level { SR_INFO, SR_VERBOSE, SR_WARN };
typedef void sr_logfn(void *, enum sr_level, const char *, ...)
    __attribute__((format(printf, 3, 4)));

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

/* Signals -------------------------------------------------------------- */

/* Catch SIGINT, SIGTERM and SIGHUP: they only set a flag. */
void	sr_signals_catch(void);
/* The signal caught so far, or 0. */
int	sr_interrupted(void);
/* Fail with "interrupted" if a signal arrived; for use between steps. */
int	sr_checkpoint(void);

/* Text edits ----------------------------------------------------------- */

/*
 * The outcome of a pure edit from old text to new text.
 */
enum edit_result {
	EDIT_CHANGED,		/* new text differs */
	EDIT_ALREADY,		/* the edit had been made before */
	EDIT_NOTNEEDED,		/* this shape of file needs no edit */
	EDIT_CANNOT,		/* the place for the edit was not found */
	EDIT_ERROR		/* out of memory */
};

/*
 * Each edit takes the old text (len bytes, not NUL-terminated), stores a
 * malloc'd new text in *out (NUL-terminated, *outlen bytes) when it
 * returns EDIT_CHANGED, and otherwise leaves *out NULL and may set a
 * reason with sr_seterr().
 */
#define RC_HOOK_LINE	". /etc/rc.pre-hooks"
enum edit_result rc_insert_hook(const char *, size_t, char **, size_t *);
enum edit_result rc_remove_hook(const char *, size_t, char **, size_t *);
/*
 * The shape of an etc/rc (NETBSD.md): 4 (4.x: rc.subr loaded at column
 * 0), or 10 (today: in an if block).  nb_shape() reads a root's.
 */
int	rc_shape(const char *, size_t);
enum edit_result makedev_patch(const char *, size_t, char **, size_t *);
/* Whether rc.conf has an active assignment of name: 1, 0, -1 (memory). */
int	rcconf_assigns(const char *, size_t, const char *);
/* Set name=value in rc.conf: replace each active assignment, or append. */
enum edit_result rcconf_set(const char *, size_t, const char *, const char *,
	    char **, size_t *);
/* Turn off every terminal in ttys but the console. */
enum edit_result ttys_console_only(const char *, size_t, char **, size_t *);
/* Comment out root's crontab lines running /etc/daily and /etc/weekly. */
enum edit_result crontab_quiet(const char *, size_t, char **, size_t *);

/*
 * Unified diff of two texts, appended to out: "--- a/path" (or
 * "--- /dev/null" when old is NULL, a new file) and "+++ b/path", then
 * hunks with 3 lines of context.  Texts with NUL bytes are diffed as text.
 */
int	udiff(struct sbuf *, const char *, const char *, size_t,
	    const char *, size_t);
/* Start libgit2 once for the process (the diffs, the merges). */
int	sr_git_init(void);

/* Templates ------------------------------------------------------------ */

struct tmpl_var {
	const char *name;
	const char *value;
};

/*
 * Replace each @NAME@ in text with its value from vars (NULL-terminated).
 * An unknown @NAME@ is an error naming file:line.
 */
int	tmpl_render(const char *, const char *, size_t,
	    const struct tmpl_var *, struct sbuf *);
/* Read the template file dir/name (a host path the tool was given). */
int	tmpl_load(const char *, const char *, const struct tmpl_var *,
	    struct sbuf *);

#endif /* SR_H */
