/*
 * A text seen as lines: the edits work on these, never on raw offsets.
 * Lines point into the caller's text (or at constant strings the edit
 * adds); nothing is copied until lines_join().
 */
#ifndef LINES_H
#define LINES_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/edit.h"

struct line {
	const char *s;
	size_t	 len;		/* without the newline */
	char	*own;		/* set if s was allocated for this line */
};

struct lines {
	struct line *v;
	size_t	 n;
	size_t	 cap;
	bool	 lastnl;	/* the text ended with a newline */
};

int	lines_split(struct lines *, const char *, size_t);
int	lines_insert(struct lines *, size_t, const char *, size_t);
/* Insert a line the lines now own (formatted). */
int	lines_insertf(struct lines *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * Replace a line, or insert one, with a copy of len bytes: text taken
 * from the file keeps every byte (a NUL would end a %s).
 */
int	lines_replace(struct lines *, size_t, const char *, size_t);
int	lines_insert_copy(struct lines *, size_t, const char *, size_t);
void	lines_delete(struct lines *, size_t);
int	lines_replacef(struct lines *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	lines_join(const struct lines *, char **, size_t *);
void	lines_free(struct lines *);
/* End an edit: its new text if changed, else EDIT_ALREADY; frees l. */
enum edit_result lines_result(struct lines *, bool, char **, size_t *);

/* Helpers on one line. */
size_t	line_indent(const struct line *);
/* The line without leading and trailing blanks and any "# comment". */
void	line_code(const struct line *, const char **, size_t *);
bool	line_code_is(const struct line *, const char *);

/* Split a line's code into words (at most max); returns the count. */
size_t	line_words(const struct line *, const char **, size_t *, size_t);

#endif /* LINES_H */
