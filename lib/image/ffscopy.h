/*
 * A guest tree of any kind copied into an FFS image being written
 * (tree_ffsw, ffswrite.h) with every attribute the tree interface
 * tells (type, owner, group, mode, times, device numbers, hard links),
 * each file's content read from its source only when the image is laid
 * out; and the image written under a temporary name beside its final
 * one, renamed (or installed in the old one's partition) when whole.
 */
#ifndef FFSCOPY_H
#define FFSCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "image/ffsimg.h"
#include "image/ffswrite.h"
#include "tree/tree.h"

/* What the copied contents are read from until the image is written. */
struct ffscopy_ref;
struct ffscopy {
	struct tree **srcs;		/* taken by ffscopy_tree() */
	size_t	 nsrc;
	struct ffscopy_ref **refs;	/* a file's source and path */
	size_t	 nref, cap;
	uintmax_t entries;		/* copied, all sources */
	uintmax_t nodevs;		/* device nodes left out */
};

/*
 * Copy all of src (which it takes: closed by ffscopy_free(), after the
 * image is written) over what dst holds (a later source overlays an
 * earlier one).  With nodevs ("dev"), the device nodes below that
 * directory are left out.  Messages name the path and the step.
 */
int	ffscopy_tree(struct ffscopy *, struct tree *, struct tree *,
	    const char *);
/* Close the sources and free the references (safe twice). */
void	ffscopy_free(struct ffscopy *);

/*
 * A new image file beside image (image_temp()), its descriptor in *fd
 * and its name in out, for a tree_ffsw's sink.
 */
int	ffsout_open(const char *, char *, size_t, int *);
/*
 * Give the tree_ffsw t new parameters and its sink a new size, before
 * it is synced (a size known only once the tree is whole).
 */
int	ffsout_resize(struct tree *, const struct ffsw_params *);
/*
 * Lay t out into the file out (fd, from ffsout_open()) and put it in
 * place: renamed to image, or with like, installed where like's file
 * system was (ffsimg_install(): the rest of the disk kept).  With room
 * (0 or more: t was sized by ffsout_size()), a file system too small
 * for its tree is made larger and laid out again, a few times.  out is
 * removed on a failure; fd is closed either way.
 */
int	ffsout_finish(struct tree *, int, const char *, const char *,
	    const struct ffsimg *, int);
/*
 * The size of a file system holding what t holds as makefs would
 * count it (build.h's mfsize), with room percent more blocks and
 * inodes; and a density giving those inodes.
 */
int	ffsout_size(struct tree *, int, int, struct ffsw_params *);

#endif /* FFSCOPY_H */
