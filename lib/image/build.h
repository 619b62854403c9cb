/*
 * Images built without mounting anything (see build.c).
 */
#ifndef BUILD_H
#define BUILD_H

#include <limits.h>
#include <stdint.h>

#include "image/ffsimg.h"
#include "plan/plan.h"
#include "tree/scratch.h"
#include "tree/spec.h"
#include "tree/tree.h"

/*
 * A private temporary directory (under TMPDIR, see stage_memory()) in
 * which a local tree is staged by its user, and what each staged path
 * must be in the image.
 */
struct stage {
	struct scratch work;		/* the directory, locked as ours */
	char	 tree[PATH_MAX];	/* work/tree */
	int	 fd;			/* the tree */
	struct spec copied;
};

int	stage_open(struct stage *);
/*
 * From now on, this process stages in base (a private directory on a
 * memory file system: the stages of an encrypted guest hold its
 * plaintext), not in TMPDIR.
 */
void	stage_memory(const char *);
/*
 * The stage as a tree that records what each path written to it must be
 * in the image (tree_recording() over it, into st->copied); tree_close()
 * it when done.
 */
struct tree *stage_tree(struct stage *);
/* Apply the plan to the stage through stage_tree(). */
int	stage_apply(struct stage *, const struct plan *);
/* Plan the removal of the device nodes below dir that the spec holds. */
int	stage_plan_nodevs(struct stage *, const char *, struct plan *);
/*
 * What makefs(8) counts when it sizes a file system for a tree (its
 * ffs_size_dir() and ffs_validate()): file and long link contents and
 * directories in whole fragments, and inodes.
 */
struct mfsize {
	int	 version, bsize, fsize;	/* the file system to make */
	uint64_t maxsymlink;		/* longer links take blocks */
	uint64_t data;			/* bytes, counted */
	uint64_t inodes;
};
/* Add the stage (and the device nodes only spec holds) to m. */
int	stage_size(int, struct spec *, struct mfsize *);
/* The size makefs needs for what m counts (it refuses a smaller -s). */
uint64_t mfsize_need(const struct mfsize *);
/* Remove the stage and all in it; safe to call twice. */
int	stage_close(struct stage *);
#endif /* BUILD_H */
