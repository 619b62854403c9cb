/*
 * Images built without mounting anything (see build.c).
 */
#ifndef BUILD_H
#define BUILD_H

#include <limits.h>
#include <stdint.h>

#include "plan.h"
#include "spec.h"

/*
 * A private temporary directory (under TMPDIR) in which a local tree is
 * staged by its user, and what each staged path must be in the image.
 */
struct stage {
	char	 work[PATH_MAX];
	char	 tree[PATH_MAX];	/* work/tree */
	int	 fd;			/* the tree */
	struct spec copied;
};

int	stage_open(struct stage *);
/* Remove the stage and all in it; safe to call twice. */
int	stage_close(struct stage *);
/*
 * Apply nothing more: describe the filled stage (the plan says what it
 * wrote, st->copied what it copied) in an mtree spec and write an FFS
 * image with makefs(8) under a temporary name beside image, made sparse
 * and renamed when whole.  size 0: sized by makefs, with the options in
 * room.
 */
int	build_image(struct stage *, const struct plan *, const char *,
	    uint64_t, const char *const *, sr_logfn *, void *);

#endif /* BUILD_H */
