/*
 * A run first decides everything it will change (a plan), checking all
 * input before touching anything; then either shows the plan (-n) or
 * applies it, change by change, each one atomic.
 */
#ifndef PLAN_H
#define PLAN_H

#include <sys/stat.h>

#include "base/sr.h"
#include "plan/edit.h"
#include "tree/tree.h"

enum change_kind {
	CH_WRITE,		/* replace or create a file with text */
	CH_WRITE_FD,		/* the same, content from a host file */
	CH_LINK,		/* hard link path to target */
	CH_MKDIR,
	CH_REMOVE,		/* recursively */
	CH_SYMLINK,		/* a symbolic link to target, owned as wo */
	CH_ATTR			/* owner and mode of what is there */
};

struct change {
	enum change_kind kind;
	char	*path;
	char	*target;	/* CH_LINK; CH_WRITE_FD: source name */
	char	*old;		/* CH_WRITE: the text replaced, or NULL */
	size_t	 oldlen;
	char	*new;
	size_t	 newlen;
	int	 srcfd;		/* CH_WRITE_FD; not owned */
	bool	 binary;	/* CH_WRITE: shown by its size, not a diff */
	struct tree_wopts wo;
};

struct plan {
	struct change *v;
	size_t	 n;
	size_t	 cap;
};

/* Each adder copies its strings; new text passed to plan_write is owned. */
int	plan_write(struct plan *, const char *, const struct sbuf *,
	    char *, size_t, const struct tree_wopts *);
int	plan_write_fd(struct plan *, const char *, int, const char *,
	    const struct tree_wopts *);
/* A write of data that is no text (shown by its size by -n); owned. */
int	plan_write_data(struct plan *, const char *, char *, size_t,
	    const struct tree_wopts *);
int	plan_link(struct plan *, const char *, const char *, bool);
int	plan_mkdir(struct plan *, const char *, mode_t);
int	plan_remove(struct plan *, const char *);
/* A directory with the owner and mode of wo. */
int	plan_mkdir_as(struct plan *, const char *, const struct tree_wopts *);
int	plan_symlink(struct plan *, const char *, const char *,
	    const struct tree_wopts *);
int	plan_attr(struct plan *, const char *, const struct tree_wopts *);

/* Deciding from a tree ----------------------------------------------------- */

/*
 * A text file of the tree (at most SR_TEXT_MAX bytes) and its attributes
 * (st may be NULL).  Missing is an error, unless optional: then 0 and
 * *found false.
 */
int	plan_read(struct tree *, const char *, bool, struct sbuf *,
	    struct stat *, bool *);
/*
 * A write of text new (owned, taken: new is left empty) over old, the
 * text there now (NULL: none), unless they are the same.  With st, the
 * attributes of old: the owner is kept, and with mode 0 the mode too.
 * The original is kept as NAME.orig, or, where something reads every
 * file in that directory (cron's tabs), linked at origpath.
 */
int	plan_text(struct plan *, const char *, const struct sbuf *,
	    struct sbuf *, const struct stat *, mode_t, const char *);

/* An edit of a text, as edit_*.c's (ctx: what it needs to know). */
typedef enum edit_result plan_editfn(const void *, const char *, size_t,
	    char **, size_t *);
struct plan_edit {
	const char *what;	/* what the edit does, said when it is made */
	const char *already;	/* said when made before (NULL: what) */
	const char *notneeded;	/* said when not needed (NULL: already) */
	mode_t	 mode;		/* the mode it gets; 0: the original's */
	const char *origpath;	/* plan_text()'s; NULL: NAME.orig */
	bool	 optional;	/* missing: a warning, and no edit */
	bool	 cannot_ok;	/* EDIT_CANNOT: 1, the caller says why */
};
/*
 * Read the file rel of the tree, edit it and plan the write of the new
 * text (plan_text(): owner and mode from the original, kept as
 * NAME.orig), saying what was done.  An edit that cannot be made is an
 * error naming rel; with cannot_ok, 1 and the edit's reason alone.
 */
int	plan_edit_file(struct plan *, struct tree *, const char *,
	    plan_editfn *, const void *, const struct plan_edit *);

/*
 * Carry out the changes in order on the tree; stops at the first
 * failure.  The one interpreter of a plan, whatever holds the tree.
 */
int	plan_apply(const struct plan *, struct tree *);
/* The same on a host directory at fd (tree_dir()'s flags). */
int	plan_apply_dir(const struct plan *, int, int);
/* What the plan writes, in blocks of the size given. */
uint64_t plan_bytes(const struct plan *, uint64_t);
/* What the plan would do: diffs and a list of paths. */
int	plan_describe(const struct plan *, struct sbuf *);
void	plan_free(struct plan *);

#endif /* PLAN_H */
