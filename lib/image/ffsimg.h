/*
 * FFS images a host cannot mount (a Linux dom0): where the file system
 * lies in the image (the whole of it, or one partition of an MBR, GPT
 * or BSD-labelled disk), what it is like, and how a rebuilt one takes
 * the old one's place.
 */
#ifndef FFSIMG_H
#define FFSIMG_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include "base/sr.h"

/*
 * Where an FFS image's bytes come from when it is not a plain file
 * (an encrypted image decrypted on demand: cgd/cgdio.h): pread fills
 * buf with len bytes from off (off + len <= size), returning 0, or -1
 * with a message; name is the image's, for messages.  It is the
 * caller's, and must outlive every ffsimg and tree made from it.
 */
struct ffs_source {
	void	*ctx;
	int	(*pread)(void *, uint64_t, void *, size_t);
	uint64_t size;
	const char *name;
};

/*
 * The plain file case: the host file fd (the caller's, kept open) of
 * size bytes.
 */
void	ffs_source_fd(struct ffs_source *, int, uint64_t, const char *);

struct ffsimg {
	const char *path;	/* the image (with src: src->name) */
	const struct ffs_source *src;	/* or NULL: read path */
	off_t	 off;		/* where the file system starts */
	off_t	 len;		/* its length, from its superblock */
	off_t	 filesize;	/* the image file's */
	off_t	 sboff;		/* its superblock, from off */
	int	 version;	/* FFSv1 or FFSv2 */
	int	 bsize, fsize;
	uint64_t inodes;	/* inodes in the file system */
	int	 part;		/* partition number, or -1: the whole image */
};

/*
 * Find the FFS file system in the image at path: at its start, or in
 * the partition numbered part (-1: the only partition holding FFS).
 * 0: found; 1: the image holds no FFS (nothing set); -1: an error, or
 * a choice to make (more than one FFS partition: they are listed).
 */
int	ffsimg_probe(const char *, int, struct ffsimg *);
/*
 * ffsimg_probe() of the image src gives: fi->src is src, and every
 * later read of fi (ffsimg_verify(), libtsk's through ffsread.h and
 * tree_ffs()) goes through it.  ffsimg_install() refuses it.
 */
int	ffsimg_probe_source(const struct ffs_source *, int, struct ffsimg *);
/*
 * Check again, before libtsk reads it, the superblock and cylinder
 * groups ffsimg_probe() found and checked: the image is the guest's,
 * and libtsk divides and indexes by what they say.
 */
int	ffsimg_verify(const struct ffsimg *);
/*
 * Put the file system in newfs (a file written beside the image)
 * where fi's was, in a new file that is renamed over the image when
 * whole: the rest of the image (boot blocks, label, partitions) and the
 * file's mode and owner are kept.  newfs is consumed (renamed or
 * removed).
 */
int	ffsimg_install(const struct ffsimg *, const char *);
/* Whether the image may be replaced: a writable file in a writable dir. */
int	ffsimg_writable(const struct ffsimg *);

#endif /* FFSIMG_H */
