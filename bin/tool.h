/*
 * What the two front ends share: how they report, and how they end a
 * run that holds attached images.
 */
#ifndef TOOL_H
#define TOOL_H

#include <stdbool.h>
#include <stdio.h>

#include "image/attach.h"
#include "base/sr.h"

struct toolout {
	const char *image;	/* named in every message */
	int	 verbose;	/* -q: -1, default: 0, -v: 1 */
};

/* Print untrusted text with control characters encoded (vis(3)). */
void	tool_putsafe(FILE *, const char *);
/* The same, line by line, keeping the newlines. */
void	tool_putlines(FILE *, const char *, size_t);
/* The sr_logfn the library reports through (sr_setlog()). */
void	tool_log(void *, enum sr_level, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * The message recorded, with the option a hint names in this tool's
 * words ("-h a;b: not a host name"), into buf.
 */
void	tool_errmsg(char *, size_t);
/* The words this tool puts before and after a message with a hint. */
void	tool_hintwords(enum sr_hint, const char **, const char **);
/*
 * Undo everything attached (in reverse order), then say what failed
 * ("prog: image: message") and exit 1.
 */
void	tool_fail(const char *, struct attach **, int)
	    __attribute__((noreturn));
/*
 * Where the rc hook and templates are: $SHAREDROOT_SHAREDIR (an absolute
 * path) if set, else where make install put them.
 */
const char *tool_sharedir(const char *);
/* Undo everything attached; -1 (with the message set) if that failed. */
int	tool_finish(struct attach **, int);

#endif /* TOOL_H */
