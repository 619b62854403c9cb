/*
 * The size of a new FFS image chosen from what it holds: a tree_ffsw
 * filled first (with parameters for any size), then sized as makefs
 * would size it, with room to grow, and laid out; made larger and laid
 * out again should the count fall short.
 */
#ifndef FFSSIZE_H
#define FFSSIZE_H

#include "image/ffswrite.h"
#include "tree/tree.h"

/*
 * Parameters (ffsw_params_for() of version) for a file system holding
 * what t holds as makefs would count it (build.h's mfsize), with room
 * percent more blocks and inodes, and a density giving those inodes.
 */
int	ffssize_need(struct tree *, int, int, struct ffsw_params *);
/*
 * Give the tree_ffsw t new parameters, and its sink that size, before
 * it is synced.
 */
int	ffssize_set(struct tree *, const struct ffsw_params *);
/*
 * tree_sync(t); with room (0 or more: t was sized by ffssize_need()), a
 * file system too small for its tree (ENOSPC) is made larger and laid
 * out again, up to four times.
 */
int	ffssize_sync(struct tree *, int);

#endif /* FFSSIZE_H */
