/*
 * setup-root's run: a shared root prepared where it is (a directory, an
 * image mounted, or an FFS image read with libtsk and rebuilt), or built
 * from sources into a new FFS image.  The tool fills a job from its
 * arguments and makes one call; what is printed goes through the job's
 * log and show functions.
 */
#ifndef ROOTRUN_H
#define ROOTRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/rootprep.h"
#include "image/attach.h"
#include "image/build.h"
#include "image/ffsbuild.h"
#include "image/source.h"

/* How the root is made ready, decided once (rootrun_run()). */
enum rootrun_mode {
	ROOTRUN_UNDECIDED,
	ROOTRUN_DIR,		/* a directory: the plan applied in place */
	ROOTRUN_MOUNT,		/* an image mounted: the same, through it */
	ROOTRUN_REBUILD,	/* an FFS image read, rebuilt like itself */
	ROOTRUN_BUILD,		/* a new FFS image from the sources */
};

/* Shows a text (a dry run's diffs) to the user. */
typedef void rootrun_showfn(void *, const char *, size_t);

struct rootrun {
	/* What to do: set by the caller after rootrun_init(). */
	const char *target;	/* the root, or the image to build */
	char *const *srcs;	/* building: directories, sets, FFS images */
	int	 nsrc;		/* building: how many (at least one) */
	bool	 build;		/* build target from srcs */
	bool	 dryrun;	/* decide and show; write nothing */
	uint64_t size;		/* of the image built; 0: what it holds */
	int	 version;	/* of the image built: FFSv1 or FFSv2 */
	int	 part;		/* the FFS partition of an image, or -1 */
	const char *kernel;	/* the kernel to install, or NULL */
	const char *localdev;	/* the local disk's raw device */
	struct rootprep rp;	/* force, sharedir */
	rootrun_showfn *show;	/* a dry run's diffs, or NULL */
	void	*showctx;
	/* Decided by rootrun_run(). */
	enum rootrun_mode mode;
	struct source src;	/* what target is, unless building */
	/* Held while running, undone by rootrun_end(). */
	struct tree *out;	/* the image being written (tree_ffsw) */
	struct ffsb_out outf;	/* its file, beside its final name */
	struct ffsb_copy *copy;	/* what its contents are read with */
	struct tree **srctrees;	/* and from, until it is written */
	int	 nsrcs;
	struct stage *stages;	/* a set's, extracted before it is copied */
	int	 nstages;
	struct attach at;
	/* What was done (or would be, dry run). */
	size_t	 changes;	/* edits, and the identity recorded */
	uintmax_t entries;	/* staged (building or rebuilding) */
};

/* A job with nothing decided or held: every handle at its sentinel. */
void	rootrun_init(struct rootrun *);
/*
 * Check the job's input, decide its mode, and run it.  0: done (every
 * image it attached is detached again); -1: the message says why, and
 * what it held is still for rootrun_end() (an attach, for the tool to
 * undo and report as it does its own).
 */
int	rootrun_run(struct rootrun *);
/* Undo all the job holds (safe twice); -1 if that failed (message). */
int	rootrun_end(struct rootrun *);

#endif /* ROOTRUN_H */
