/*
 * A run first decides everything it will change (a plan), checking all
 * input before touching anything; then either shows the plan (-n) or
 * applies it, change by change, each one atomic.
 */
#ifndef PLAN_H
#define PLAN_H

#include "base/sr.h"
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
/*
 * Carry out the changes in order on the tree; stops at the first
 * failure.  The one interpreter of a plan, whatever holds the tree.
 */
int	plan_apply(const struct plan *, struct tree *, sr_logfn *, void *);
/* The same on a host directory at fd (tree_dir()'s flags). */
int	plan_apply_dir(const struct plan *, int, int, sr_logfn *, void *);
/* What the plan writes, in blocks of the size given. */
uint64_t plan_bytes(const struct plan *, uint64_t);
/* What the plan would do: diffs and a list of paths. */
int	plan_describe(const struct plan *, struct sbuf *);
void	plan_free(struct plan *);

#endif /* PLAN_H */
