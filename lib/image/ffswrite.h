/*
 * An FFS image written directly, without makefs(8) and without
 * mounting: a guest tree (tree.h) that holds what a plan writes in
 * memory (metadata; contents by reference where it can) and lays the
 * file system out, as NetBSD's newfs and makefs would, when synced.
 *
 *   struct ffsw_params p;
 *   struct ffsw_sink s;
 *   ffsw_params_for(size, 2, &p);          (or fields of an old image's)
 *   ffsw_sink_fd(&s, fd, size);            (or a cgd transform's)
 *   t = tree_ffsw(&p, &s, "local.img");
 *   tree_mkdir(t, "etc", &wo); tree_write(t, "etc/rc", ...); ...
 *   tree_sync(t);                          the image, written to the sink
 *   tree_close(t);
 *
 * Until tree_sync() nothing reaches the sink.  A failed sync leaves the
 * sink holding part of an image: the caller writes to a new file and
 * renames it only when the sync has succeeded.
 */
#ifndef FFSWRITE_H
#define FFSWRITE_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "base/sr.h"

struct tree;
struct tree_wopts;

/*
 * How the file system is made: what newfs would choose for its size
 * (ffsw_params_for()), or the fields of an image being rebuilt (struct
 * ffsimg: version, bsize, fsize, and density from its inodes).
 */
struct ffsw_params {
	uint64_t size;		/* bytes; rounded down to a fragment */
	int	 version;	/* 1: FFSv1 (UFS1), 2: FFSv2 (UFS2) */
	int	 bsize;		/* block size: 4096 .. 65536, a power of 2 */
	int	 fsize;		/* fragment size: bsize/8 .. bsize */
	int	 density;	/* bytes of data space per inode */
	int	 minfree;	/* percent kept for root: 0 .. 99 */
	int	 optim;		/* 0: time, 1: space (fs_optim) */
	int	 maxcontig;	/* blocks in a cluster */
	int	 avgfilesize;	/* expected file size (fs_avgfilesize) */
	int	 avgfpdir;	/* expected files a directory */
	struct timespec time;	/* of the file system, and of every inode
				   unless ffsw_setmeta() says otherwise */
	char	 volname[32];	/* fs_volname, NUL-ended */
};

/*
 * Parameters as NetBSD's newfs chooses them for a file system of size
 * bytes and version 1 or 2: fragments of 512 bytes under 20 MiB, of
 * 1 KiB under 1000 MiB, else 2 KiB; blocks of 8 fragments; an inode
 * per 4 fragments; 5% free; optimised for time.  time is now.
 */
int	ffsw_params_for(uint64_t, int, struct ffsw_params *);

/*
 * Parameters for a file system like fi's (an image being rebuilt): its
 * size, version, block and fragment sizes, and a density giving at
 * least as many inodes; the rest as ffsw_params_for().
 */
struct ffsimg;
int	ffsw_params_like(const struct ffsimg *, struct ffsw_params *);

/*
 * Where the image goes: pieces of whole 512-byte sectors (blocks,
 * fragments, superblocks) at offsets from the file system's start that
 * are multiples of 512, each written once; size is the image's, and
 * every byte not written must read as zero.  pwrite returns 0 or -1
 * with a message (sr_seterr*).  start, if set, begins an image (a host
 * file: emptied, so that a second sync leaves nothing of the first);
 * finish, if set, ends it (a host file: ftruncate to size).
 */
struct ffsw_sink {
	void	*ctx;
	int	(*start)(void *);
	int	(*pwrite)(void *, uint64_t, const void *, size_t);
	int	(*finish)(void *, uint64_t);
	uint64_t size;
	const char *name;	/* for messages */
};

/*
 * A sink over the host file fd (the caller's; kept open), from its
 * offset 0, written sparse: the file is emptied first, an all-zero
 * block is not written, and the file is extended to size at the end.
 * name is used in messages.
 */
void	ffsw_sink_fd(struct ffsw_sink *, int, uint64_t, const char *);

/*
 * The tree that writes an image to sink with params (both copied),
 * named name in messages; NULL with a message when they are not sane.
 * It holds: what write() is given (a copy), write_fd()'s descriptor (a
 * duplicate, read when synced: its size is taken now and must not
 * change), ffsw_add_file()'s reader.  ops->sync lays the image out.
 * Each write_fd() keeps a descriptor open until the tree is closed: a
 * caller with thousands of host files gives readers instead.
 */
struct tree *tree_ffsw(const struct ffsw_params *, const struct ffsw_sink *,
	    const char *);

/*
 * A file's content read from a callback when the image is synced (a
 * root's blocks streamed from another image by libtsk, say): read
 * fills buf with len bytes of the content from off, returning 0, or -1
 * with a message.  size is the content's length.
 */
typedef int ffsw_readfn(void *, uint64_t, void *, size_t);
int	ffsw_add_file(struct tree *, const char *, uint64_t, ffsw_readfn *,
	    void *, const struct tree_wopts *);

/* What the tree interface cannot say: file flags and the four times. */
struct ffsw_meta {
	uint32_t flags;		/* chflags(2): UF_*, SF_* (NetBSD's) */
	struct timespec atime, mtime, ctime, birthtime;
};
/* Set a path's flags and times (birthtime is kept on FFSv2 only). */
int	ffsw_setmeta(struct tree *, const char *, const struct ffsw_meta *);

/* The file system's geometry once chosen (for messages and tests). */
struct ffsw_geom {
	int	 ncg;		/* cylinder groups */
	int	 ipg;		/* inodes a group */
	int	 fpg;		/* fragments a group */
	uint64_t inodes;	/* ncg * ipg */
	uint64_t frags;		/* fs_size */
};
int	ffsw_geometry(const struct ffsw_params *, struct ffsw_geom *);

#endif /* FFSWRITE_H */
