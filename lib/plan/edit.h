/*
 * The edits of a NetBSD root's files: pure functions from an old text to
 * a new one, over lines.h, that touch no file.
 */
#ifndef EDIT_H
#define EDIT_H

#include <stddef.h>

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
 * The shape of an etc/rc: 4 (4.x: rc.subr loaded at column 0), or 10
 * (today: in an if block).  nb_shape() reads a root's.
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

#endif /* EDIT_H */
