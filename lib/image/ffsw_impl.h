/*
 * The inside of the FFS writer (ffswrite.h): the on-disk structures as
 * NetBSD lays them out (sys/ufs/ffs/fs.h, sys/ufs/ufs/dinode.h and
 * dir.h; our own declarations, fixed-width, checked by size below), and
 * the tree in memory that ffswrite.c builds and ffslayout.c writes.
 * Everything is written in the host's byte order, as newfs does (NetBSD
 * reads either order).
 */
#ifndef FFSW_IMPL_H
#define FFSW_IMPL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "image/ffswrite.h"
#include "tree/tree.h"

#define FFSW_SBLOCK_UFS1	8192
#define FFSW_SBLOCK_UFS2	65536
#define FFSW_SBSIZE		8192	/* SBLOCKSIZE */
#define FFSW_UFS1_MAGIC		0x011954
#define FFSW_UFS2_MAGIC		0x19540119
#define FFSW_CG_MAGIC		0x090255
#define FFSW_NDADDR		12
#define FFSW_NIADDR		3
#define FFSW_ROOTINO		2
#define FFSW_DIRBLKSIZ		512
#define FFSW_MAXNAMLEN		255
#define FFSW_MAXFRAG		8
#define FFSW_MAXCONTIG		16	/* FS_MAXCONTIG */
#define FFSW_DEV_BSIZE		512
#define FFSW_MAXSYMLINK		1023	/* MAXPATHLEN - 1 */
#define FFSW_FLAGS_UPDATED	0x80
#define FFSW_44INODEFMT		2

struct ffsw_csum {
	int32_t	 ndir, nbfree, nifree, nffree;
};

struct ffsw_csum_total {
	int64_t	 ndir, nbfree, nifree, nffree, numclusters, spare[3];
};

/* struct fs: 1376 bytes. */
struct ffsw_fs {
	int32_t	 firstfield, unused_1;
	int32_t	 sblkno, cblkno, iblkno, dblkno;
	int32_t	 old_cgoffset, old_cgmask, old_time, old_size, old_dsize;
	int32_t	 ncg, bsize, fsize, frag;
	int32_t	 minfree, old_rotdelay, old_rps;
	int32_t	 bmask, fmask, bshift, fshift;
	int32_t	 maxcontig, maxbpg;
	int32_t	 fragshift, fsbtodb, sbsize, spare1[2];
	int32_t	 nindir, inopb, old_nspf, optim;
	int32_t	 old_npsect, old_interleave, old_trackskew;
	int32_t	 id[2];
	int32_t	 old_csaddr, cssize, cgsize;
	int32_t	 spare2, old_nsect, old_spc, old_ncyl, old_cpg, ipg, fpg;
	struct ffsw_csum old_cstotal;
	int8_t	 fmod;
	uint8_t	 clean;
	int8_t	 ronly;
	uint8_t	 old_flags;
	uint8_t	 fsmnt[468];
	uint8_t	 volname[32];
	uint64_t swuid;
	int32_t	 pad;
	int32_t	 cgrotor;
	uint8_t	 ptrs[128];	/* in-core pointers: zero on disk */
	int32_t	 old_cpc, maxbsize;
	int64_t	 unrefs;
	int64_t	 sparecon64[16];
	int64_t	 sblockloc;
	struct ffsw_csum_total cstotal;
	int64_t	 time, size, dsize, csaddr, pendingblocks;
	int32_t	 pendinginodes;
	int32_t	 snapinum[20];
	int32_t	 avgfilesize, avgfpdir, save_cgsize;
	int32_t	 sparecon32[26];
	uint32_t flags;
	int32_t	 contigsumsize, maxsymlinklen, old_inodefmt;
	uint64_t maxfilesize;
	int64_t	 qbmask, qfmask;
	int32_t	 state, old_postblformat, old_nrpos, spare5[2];
	int32_t	 magic;
};

/* struct cg, up to its maps (cg_space). */
struct ffsw_cg {
	int32_t	 firstfield, magic, old_time, cgx;
	int16_t	 old_ncyl, old_niblk;
	int32_t	 ndblk;
	struct ffsw_csum cs;
	int32_t	 rotor, frotor, irotor;
	int32_t	 frsum[FFSW_MAXFRAG];
	int32_t	 old_btotoff, old_boff, iusedoff, freeoff, nextfreeoff;
	int32_t	 clustersumoff, clusteroff, nclusterblks, niblk;
	int32_t	 initediblk;
	int32_t	 sparecon32[3];
	int64_t	 time;
	int64_t	 sparecon64[3];
};

struct ffsw_dinode1 {
	uint16_t mode;
	int16_t	 nlink;
	uint16_t oldids[2];
	uint64_t size;
	int32_t	 atime, atimensec, mtime, mtimensec, ctime, ctimensec;
	int32_t	 db[FFSW_NDADDR];
	int32_t	 ib[FFSW_NIADDR];
	uint32_t flags, blocks;
	int32_t	 gen;
	uint32_t uid, gid;
	uint64_t modrev;
};

struct ffsw_dinode2 {
	uint16_t mode;
	int16_t	 nlink;
	uint32_t uid, gid, blksize;
	uint64_t size, blocks;
	int64_t	 atime, mtime, ctime, birthtime;
	int32_t	 mtimensec, atimensec, ctimensec, birthnsec;
	int32_t	 gen;
	uint32_t kernflags, flags;
	int32_t	 extsize;
	int64_t	 extb[2];
	int64_t	 db[FFSW_NDADDR];
	int64_t	 ib[FFSW_NIADDR];
	uint64_t modrev;
	uint32_t freelink;
	uint32_t spare[3];
};

_Static_assert(sizeof(struct ffsw_fs) == 1376, "struct fs");
_Static_assert(sizeof(struct ffsw_cg) == 168, "struct cg");
_Static_assert(sizeof(struct ffsw_dinode1) == 128, "ufs1_dinode");
_Static_assert(sizeof(struct ffsw_dinode2) == 256, "ufs2_dinode");

/* d_type */
#define FFSW_DT_FIFO	1
#define FFSW_DT_CHR	2
#define FFSW_DT_DIR	4
#define FFSW_DT_BLK	6
#define FFSW_DT_REG	8
#define FFSW_DT_LNK	10

/* A directory entry's size for a name of n bytes (DIRECTSIZ). */
#define FFSW_DIRSIZ(n)	(8 + (((size_t)(n) + 1 + 3) & ~(size_t)3))

/* The tree in memory --------------------------------------------------- */

enum ffsw_src { FFSW_NONE, FFSW_MEM, FFSW_FD, FFSW_CB };

struct ffsw_dent;

/* An inode: what one or more names (hard links) lead to. */
struct ffsw_node {
	mode_t	 mode;		/* type and permission bits */
	uid_t	 uid;
	gid_t	 gid;
	uint32_t flags;
	struct timespec atime, mtime, ctime, btime;
	uint64_t rdev;		/* NetBSD's encoding */
	uint64_t size;
	enum ffsw_src src;
	void	*data;		/* FFSW_MEM: the bytes; a link's target */
	size_t	 datalen;	/* data's allocated bytes (zeroed when freed) */
	int	 fd;		/* FFSW_FD: ours */
	ffsw_readfn *read;	/* FFSW_CB */
	void	*ctx;
	struct ffsw_dent *ents;	/* a directory's, sorted by name */
	size_t	 nents, cap;
	struct ffsw_node *parent; /* a directory's */
	unsigned refs;		/* names leading here */
	unsigned nsubdirs;	/* a directory's */
	uint64_t id;		/* st_ino before layout */
	/* Layout: */
	uint64_t ino;
	int64_t	 db[FFSW_NDADDR], ib[FFSW_NIADDR];
	uint64_t blocks;	/* in DEV_BSIZE units */
	bool	 written;	/* its content is in the image */
	struct ffsw_node *next;	/* in its cylinder group's list */
};

struct ffsw_dent {
	char	*name;
	struct ffsw_node *node;
};

struct ffsw_tree {
	struct tree t;
	struct ffsw_params p;
	struct ffsw_sink sink;
	char	*name;
	struct ffsw_node *root;
	uint64_t nextid;
};

/* ffslayout.c: lay the tree out to its sink. */
int	ffsw_layout(struct ffsw_tree *);
/* ffswrite.c: a node's content from off (len bytes), for the layout. */
int	ffsw_content(struct ffsw_tree *, struct ffsw_node *, uint64_t, void *,
	    size_t);

#endif /* FFSW_IMPL_H */
