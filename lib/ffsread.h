/*
 * Reading a NetBSD FFS image without mounting it, through The Sleuth
 * Kit's libtsk: for hosts that cannot or may not mount FFS.
 */
#ifndef FFSREAD_H
#define FFSREAD_H

#include "copytree.h"
#include "ffsimg.h"
#include "spec.h"

/*
 * Copy the trees tops (NULL: all of it) of the FFS file system fi into dstfd
 * (a private stage), as its user: directories, files (sparse kept),
 * symbolic links, fifos, and hard links by inode.  Every entry's owner,
 * group, mode, time and device numbers go into spec.  Entries matching
 * exclude are left out; what cannot be read is named, file by file.
 */
int	ffs_extract(const struct ffsimg *, const char *const *,
	    const char *const *, int, struct spec *, sr_logfn *, void *,
	    struct copy_stats *);
/*
 * Add to m what makefs would count for the file system fi, less the
 * paths exclude matches (see build.h), without reading any content.
 */
struct mfsize;
int	ffs_size(const struct ffsimg *, const char *const *,
	    struct mfsize *);
/* Whether path exists in the file system fi: 0 yes, 1 no, -1 error. */
int	ffs_exists(const struct ffsimg *, const char *);
/*
 * Whether the regular file at path in fi holds the bytes needle:
 * 0 yes, 1 no, -1 error (and errno ENOENT where there is no such file).
 */
int	ffs_file_has(const struct ffsimg *, const char *, const void *, size_t);

/*
 * The file system's free fragments: *map has a bit set for each of the
 * *n fragments of *fsize bytes that no file and no metadata uses (FFS
 * never reads those).  Free with free(3).
 */
int	ffs_free_map(const struct ffsimg *, uint8_t **, size_t *, size_t *);

#endif /* FFSREAD_H */
