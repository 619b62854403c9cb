/*
 * Unified diffs of two texts, for what a dry run shows.
 */
#ifndef UDIFF_H
#define UDIFF_H

#include <stddef.h>

#include "base/sr.h"

/*
 * Unified diff of two texts, appended to out: "--- a/path" (or
 * "--- /dev/null" when old is NULL, a new file) and "+++ b/path", then
 * hunks with 3 lines of context.  Texts with NUL bytes are diffed as text.
 */
int	udiff(struct sbuf *, const char *, const char *, size_t,
	    const char *, size_t);
/* Start libgit2 once for the process (the diffs, the merges). */
int	sr_git_init(void);

#endif /* UDIFF_H */
