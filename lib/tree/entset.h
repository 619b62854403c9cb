/*
 * The entries of a tree held in memory: paths with their type, owner,
 * mode, contents and link target.  tree_mem() (tree.h) makes a set a
 * guest tree.
 */
#ifndef ENTSET_H
#define ENTSET_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#define ENT_MAX		(64 << 20)	/* the largest file read whole */

/* A path of a tree, held in memory (contents of regular files). */
struct ent {
	char	*path;
	mode_t	 mode;		/* type and permissions */
	uid_t	 uid;
	gid_t	 gid;
	char	*data;		/* NUL-ended beyond len */
	size_t	 len;
	char	*link;
	dev_t	 rdev;		/* a device node's numbers */
	ino_t	 ino;		/* the set's own number for it (entset_add) */
	bool	 gone;		/* removed: as if not there */
};

struct entset {
	struct ent *v;
	size_t	 n;
	size_t	 cap;
	bool	 sorted;
	ino_t	 lastino;
};

int	entset_add(struct entset *, const struct ent *);	/* copies */
struct ent *entset_get(struct entset *, const char *);
void	entset_free(struct entset *);

#endif /* ENTSET_H */
