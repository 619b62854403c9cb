/*
 * FFS images written directly (ffswrite.h), without a stage on disk:
 * what is copied into a new file system from any tree, and how the new
 * image takes its place.
 *
 *   struct ffsb_copy *c = ffsb_copy_new();
 *   struct ffsb_out o;
 *   ffsb_out_open(&o, "local.img", NULL);      a file beside the target
 *   t = tree_ffsw(&params, &o.sink, "local.img");
 *   ffsb_copy(c, src, "etc", exclude, t, &cs); plan_apply(..., t, ...)
 *   tree_sync(t); ffsb_out_commit(&o);         fsync, rename into place
 *   tree_close(t); ffsb_copy_free(c);          (ffsb_out_abort() on errors)
 */
#ifndef FFSBUILD_H
#define FFSBUILD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/sr.h"
#include "image/ffsimg.h"
#include "image/ffswrite.h"
#include "tree/copytree.h"
#include "tree/tree.h"

/*
 * What copies hand to a writer: the readers of files whose contents are
 * read from their source when the image is laid out.  Freed after the
 * writer is synced (or closed): it is what the readers read with.
 */
struct ffsb_copy;
struct ffsb_copy *ffsb_copy_new(void);
void	ffsb_copy_free(struct ffsb_copy *);
/* Whether what a copy cannot keep (extended attributes) is said, sr_log(). */
void	ffsb_copy_warn(struct ffsb_copy *, bool);

/*
 * Copy top of src ("" for all of it) to the same path of dst (a
 * tree_ffsw(); top's parent must be there), through tree_walk (no link
 * followed, no deeper than SR_MAXDEPTH): every type, owner, mode and
 * time, file flags where src keeps them (tree_getflags()), hard
 * links by inode as links, regular files as readers of src (ffsw_add_
 * file(): nothing read, nothing held open until the image is laid out).
 * Paths matching exclude (fnmatch(3), relative) are left out and
 * counted.  src must stay open until dst is synced.  A top that is not
 * in src is nothing to copy.
 */
int	ffsb_copy(struct ffsb_copy *, struct tree *, const char *,
	    const char *const *, struct tree *, struct copy_stats *);

/* Copy the file flags and times of src's path to dst (ffsw_setmeta()). */
int	ffsb_copy_times(struct tree *, const char *, struct tree *);

/*
 * Where a new image is written: a file beside target, the writer's sink
 * (sink, for tree_ffsw(); or any sink the caller puts over fd), renamed
 * over target when whole.  With like (the image being rebuilt) the new
 * file system goes where like's was (ffsimg_install(): a partition's
 * disk, boot blocks, mode and owner kept); its size is like's.
 */
struct ffsb_out {
	char	 tmp[PATH_MAX];		/* "": none (committed or removed) */
	int	 fd;
	const char *target;
	const struct ffsimg *like;
	uint64_t size;			/* of the file system */
	struct ffsw_sink sink;
};
/* Open the new file (size: the new file system's; with like, like's). */
int	ffsb_out_open(struct ffsb_out *, const char *, const struct ffsimg *,
	    uint64_t);
/* Sync the written file and put it in the target's place. */
int	ffsb_out_commit(struct ffsb_out *);
/* Remove the new file, if any: safe to call twice, and after commit. */
void	ffsb_out_abort(struct ffsb_out *);

#endif /* FFSBUILD_H */
