/*
 * The merges of an upgrade (setup-local -u, upgrade.c): a guest's file
 * and the new root's, from the old root's.  Pure functions over texts:
 * nothing is read or written but the texts given, which are a guest's
 * and may be anything.  Conflicts are marked as git marks them, the
 * sides named "guest" and "new root" (the base "old root").
 */
#ifndef MERGE_H
#define MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/sr.h"

/* A text: s may be NULL with len 0 (an empty file, or none at all). */
struct text {
	const char *s;
	size_t	 len;
};

/*
 * Three-way merge of lines (libgit2, as git merge-file in diff3
 * style) of mine (the guest's) and theirs (the new root's) from base
 * (the old root's, or none): *clean says whether it merged without a
 * conflict; out holds the merge, with markers where it did not.  path
 * names the file in messages.  sr_git_init() first.
 */
int	merge_lines(const char *, const struct text *, const struct text *,
	    const struct text *, struct sbuf *, bool *);

/*
 * Files of records, a line each, keyed by what comes before the first
 * colon: the password and group files.  Whether path is one.
 */
bool	merge_is_keyed(const char *);
/*
 * Merge such files record by record: a record either side alone
 * changed, added or removed is that side's; the release's new records
 * go after the record they follow in it; one both changed differently,
 * or that the guest removed and the release changed, is a conflict
 * (the guest's record, then the release's, between markers).
 * *applicable false, and nothing added to out, where a side has a key
 * twice: records cannot be told apart then.
 */
int	merge_keyed(const struct text *, const struct text *,
	    const struct text *, struct sbuf *, bool *, bool *);
/* A text file both changed: by record where path is keyed, else lines. */
int	merge_file(const char *, const struct text *, const struct text *,
	    const struct text *, struct sbuf *, bool *);

/*
 * etc/motd's first line where rc.d/motd writes the running kernel's
 * version at every boot (a line starting "NetBSD"): its length with its
 * newline, or 0 where the text does not start so.
 */
size_t	merge_motd_head(const struct text *);

#endif /* MERGE_H */
