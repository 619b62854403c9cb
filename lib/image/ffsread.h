/*
 * Reading a NetBSD FFS image without mounting it, through The Sleuth
 * Kit's libtsk: for hosts that cannot or may not mount FFS.
 */
#ifndef FFSREAD_H
#define FFSREAD_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include "tree/copytree.h"
#include "image/ffsimg.h"
#include "tree/tree.h"
#include "tree/spec.h"

/*
 * Copy the trees tops (NULL: all of it) of the FFS file system fi into dstfd
 * (a private stage), as its user: directories, files (sparse kept),
 * symbolic links, fifos, and hard links by inode.  Every entry's owner,
 * group, mode, time and device numbers go into spec.  Entries matching
 * exclude are left out; what cannot be read is named, file by file.
 */
int	ffs_extract(const struct ffsimg *, const char *const *,
	    const char *const *, int, struct spec *,
	    struct copy_stats *);
/*
 * Add to m what makefs would count for the file system fi, less the
 * paths exclude matches (see build.h), without reading any content.
 */
struct mfsize;
int	ffs_size(const struct ffsimg *, const char *const *,
	    struct mfsize *);

/*
 * The file system's free fragments: *map has a bit set for each of the
 * *n fragments of *fsize bytes that no file and no metadata uses (FFS
 * never reads those).  Free with free(3).
 */
int	ffs_free_map(const struct ffsimg *, uint8_t **, size_t *, size_t *);

/*
 * The pieces of the reader that tree_ffs() (tree_ffs.c) shares, on a
 * file system libtsk has open (<tsk/libtsk.h> for the rest).
 */
struct TSK_IMG_INFO;
struct TSK_FS_INFO;
struct TSK_FS_FILE;
/*
 * libtsk's image of fi: its file, or its source (fi->src) as an
 * external image whose reads go through it (libtsk's read cache is
 * cleared when it is closed: it may hold what a transform decrypted).
 * NULL with a message; tsk_img_close() frees.
 */
struct TSK_IMG_INFO *ffs_tsk_open(const struct ffsimg *);
/*
 * Open fi with libtsk: its superblock checked again first (ffsimg.h),
 * and its root directory one libtsk can read.  ffs_fs_close() frees.
 */
int	ffs_fs_open(const struct ffsimg *, struct TSK_IMG_INFO **,
	    struct TSK_FS_INFO **);
void	ffs_fs_close(struct TSK_IMG_INFO *, struct TSK_FS_INFO *);
/* The largest file or directory libtsk can read in fi, in bytes. */
int64_t	ffs_maxsize(const struct ffsimg *);
/*
 * Whether a file is a directory of a size libtsk can read: its own
 * lookup and its walks read a directory of any size, for ever.
 */
bool	ffs_dir_readable(const struct TSK_FS_FILE *, const struct ffsimg *);
/*
 * The file at path (relative to the root; "" is the root), looked up a
 * component at a time, each directory checked before libtsk reads it,
 * no link followed.  NULL with a message naming path and step, and
 * errno ENOENT (no such name), ENOTDIR, ELOOP (a symbolic link on the
 * way) or EIO (an unreadable inode, a directory of an impossible size).
 */
struct TSK_FS_FILE *ffs_lookup(struct TSK_FS_INFO *, const struct ffsimg *,
	    const char *, const char *);
/* The type and permissions of a file's inode; 0 for an unknown kind. */
mode_t	ffs_mode(const struct TSK_FS_FILE *);
/* A device's major and minor numbers, as NetBSD encodes them. */
bool	ffs_rdev(const struct TSK_FS_FILE *, unsigned long *, unsigned long *);
/*
 * Whether an entry of the directory at path is a file to take: 1 yes;
 * 0 no ("." and "..", freed and virtual entries); -1 a name no file can
 * have ("", or with a '/'): refused, with a message and errno EIO.
 */
int	ffs_dirent_ok(const struct TSK_FS_FILE *, const char *);

/*
 * The FFS file system fi (ffsimg_probe()) read with libtsk, read-only,
 * named by its image in messages; its superblock is checked again
 * first.  lstat tells the inodes' true owners, modes and device numbers.
 */
struct tree *tree_ffs(const struct ffsimg *);

#endif /* FFSREAD_H */
