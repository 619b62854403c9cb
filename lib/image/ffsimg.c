/*
 * FFS images without mounting (see ffsimg.h).  The superblock fields
 * read here are those of struct fs in NetBSD's sys/ufs/ffs/fs.h, at
 * the same offsets for FFSv1 and FFSv2; everything read is checked
 * against the image's size before it is believed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tsk/libtsk.h>

#include "image/attach.h"
#include "base/compat.h"
#include "image/ffsimg.h"
#include "image/ffsread.h"
#include "base/os.h"

#define BBSIZE		8192	/* boot blocks and label: not the file system's */
#define SBSIZE		1380
#define FS_UFS1_MAGIC	0x011954
#define FS_UFS2_MAGIC	0x19540119
#define MAXPARTS	16
#define DISKMAGIC	0x82564557	/* sys/sys/disklabel.h */
#define MAXMAXPARTITIONS 22

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint32_t
swap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) |
	    (v << 24);
}

static bool
pow2(int64_t v, int64_t lo, int64_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

static int
log2i(int64_t v)
{
	int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

/*
 * Where libtsk looks for a superblock, in its order (tsk/fs/ffs.c,
 * ffs_open()): the first of these with the magic number, in either byte
 * order, is the one it reads.
 */
static const struct {
	off_t	 loc;
	uint32_t magic;
} tsk_try[] = {
	{ 65536, FS_UFS2_MAGIC }, { 262144, FS_UFS2_MAGIC },
	{ 8192, FS_UFS1_MAGIC }
};

/*
 * Offsets in struct fs (NetBSD's sys/ufs/ffs/fs.h), the same in FFSv1
 * and FFSv2 but for the size (fs_old_size in v1).
 */
enum {
	FS_SBLKNO = 8, FS_CBLKNO = 12, FS_IBLKNO = 16, FS_DBLKNO = 20,
	FS_OLD_CGOFFSET = 24, FS_OLD_CGMASK = 28, FS_OLD_SIZE = 36,
	FS_NCG = 44, FS_BSIZE = 48, FS_FSIZE = 52, FS_FRAG = 56,
	FS_BMASK = 72, FS_FMASK = 76, FS_BSHIFT = 80, FS_FSHIFT = 84,
	FS_MAXBPG = 92, FS_FRAGSHIFT = 96, FS_SBSIZE = 104, FS_INOPB = 120,
	FS_CSSIZE = 156, FS_CGSIZE = 160, FS_IPG = 184, FS_FPG = 188,
	FS_OLD_FLAGS = 211, FS_SBLOCKLOC = 1000, FS_SIZE = 1080,
	FS_MAGIC = 1372
};
#define FS_FLAGS_UPDATED	0x80	/* v1: the v2 fields are kept */
#define SBLOCKSIZE		8192	/* the most a superblock takes */
/* struct cg: its magic, number and the offsets of its maps. */
enum { CG_MAGIC_OFF = 4, CG_CGX = 12, CG_IUSEDOFF = 92, CG_FREEOFF = 96 };
#define CG_MAGIC	0x090255
#define CG_HDRSIZE	168		/* offsetof(struct cg, cg_space) */

/*
 * len bytes of src at off, all of them: 0, or -1 (beyond its end, or
 * unreadable: the source's message).
 */
static int
src_read(const struct ffs_source *src, void *buf, size_t len, off_t off)
{
	if (off < 0 || (uint64_t)off > src->size ||
	    len > src->size - (uint64_t)off)
		return -1;
	return src->pread(src->ctx, (uint64_t)off, buf, len);
}

/* What the checks below have established, for the maps' checks. */
struct sbv {
	int64_t	 size;
	int32_t	 bsize, fsize, frag, ncg, ipg, fpg, inopb;
	int32_t	 cblkno, cgoffset, cgmask;
};

static int32_t
sb32(const unsigned char *sb, int off)
{
	return (int32_t)le32(sb + off);
}

/* A field out of bounds: say which, and refuse the superblock. */
#define BAD(field, fmt, ...) do { sr_seterr("corrupt FFS superblock at " \
	"offset %jd: " field " " fmt " (refused)", (intmax_t)at, \
	__VA_ARGS__); return -1; } while (0)

/* The block, fragment and inode sizes, and what is derived from them. */
static int
check_sizes(const unsigned char *sb, int version, off_t at, struct sbv *v)
{
	int32_t sbsize = sb32(sb, FS_SBSIZE), x;
	int64_t want;

	if (sbsize < FS_MAGIC + 4 || sbsize > SBLOCKSIZE)
		BAD("fs_sbsize", "is %d, not %d to %d", sbsize, FS_MAGIC + 4,
		    SBLOCKSIZE);
	v->bsize = sb32(sb, FS_BSIZE);
	if (!pow2(v->bsize, 4096, 65536))
		BAD("fs_bsize", "is %d, not a power of 2 from 4096 to 65536",
		    v->bsize);
	v->fsize = sb32(sb, FS_FSIZE);
	if (!pow2(v->fsize, 512, v->bsize) || v->bsize / v->fsize > 8)
		BAD("fs_fsize", "is %d, not a power of 2 from %d to %d",
		    v->fsize, v->bsize / 8 > 512 ? v->bsize / 8 : 512,
		    v->bsize);
	if ((v->frag = sb32(sb, FS_FRAG)) != v->bsize / v->fsize)
		BAD("fs_frag", "is %d, not %d (fs_bsize / fs_fsize)",
		    v->frag, v->bsize / v->fsize);
	if ((x = sb32(sb, FS_BSHIFT)) != log2i(v->bsize))
		BAD("fs_bshift", "is %d, not %d", x, log2i(v->bsize));
	if ((x = sb32(sb, FS_FSHIFT)) != log2i(v->fsize))
		BAD("fs_fshift", "is %d, not %d", x, log2i(v->fsize));
	if ((x = sb32(sb, FS_FRAGSHIFT)) != log2i(v->frag))
		BAD("fs_fragshift", "is %d, not %d", x, log2i(v->frag));
	if ((x = sb32(sb, FS_BMASK)) != ~(v->bsize - 1))
		BAD("fs_bmask", "is %#x, not %#x", (unsigned)x,
		    (unsigned)~(v->bsize - 1));
	if ((x = sb32(sb, FS_FMASK)) != ~(v->fsize - 1))
		BAD("fs_fmask", "is %#x, not %#x", (unsigned)x,
		    (unsigned)~(v->fsize - 1));
	want = v->bsize / (version == 1 ? 128 : 256);
	if ((v->inopb = sb32(sb, FS_INOPB)) != want)
		BAD("fs_inopb", "is %d, not %jd (fs_bsize / the inode size)",
		    v->inopb, (intmax_t)want);
	return 0;
}

/* The size, and the groups that cover it: counts libtsk can address. */
static int
check_counts(const unsigned char *sb, int version, off_t at,
    struct sbv *v)
{
	int32_t x;
	int64_t ino;

	v->size = version == 1 ? sb32(sb, FS_OLD_SIZE) :
	    (int64_t)le64(sb + FS_SIZE);
	if (v->size <= 0 || v->size > INT64_MAX / 65536)
		BAD("fs_size", "is %jd fragments", (intmax_t)v->size);
	if ((v->ncg = sb32(sb, FS_NCG)) <= 0)
		BAD("fs_ncg", "is %d", v->ncg);
	if ((v->fpg = sb32(sb, FS_FPG)) <= 0 || v->fpg % v->frag != 0)
		BAD("fs_fpg", "is %d, not a positive multiple of fs_frag",
		    v->fpg);
	/* The groups cover the file system, the last one at least partly. */
	if ((int64_t)(v->ncg - 1) * v->fpg >= v->size ||
	    (int64_t)v->ncg * v->fpg < v->size)
		BAD("fs_ncg", "is %d: %d groups of %d fragments do not make "
		    "%jd", v->ncg, v->ncg, v->fpg, (intmax_t)v->size);
	if ((v->ipg = sb32(sb, FS_IPG)) <= 0 || v->ipg % v->inopb != 0)
		BAD("fs_ipg", "is %d, not a positive multiple of fs_inopb",
		    v->ipg);
	/* Inode numbers are 32 bits in directories. */
	if ((ino = (int64_t)v->ncg * v->ipg) > UINT32_MAX - 1)
		BAD("fs_ipg", "is %d: %jd inodes in all", v->ipg,
		    (intmax_t)ino);
	/* libtsk finds a group's blocks with 32-bit arithmetic. */
	if ((int64_t)v->ncg * v->fpg > UINT32_MAX)
		BAD("fs_fpg", "is %d: %d groups of it are more fragments than "
		    "libtsk can address", v->fpg, v->ncg);
	if ((x = sb32(sb, FS_CSSIZE)) <= 0)
		BAD("fs_cssize", "is %d", x);
	if ((x = sb32(sb, FS_MAXBPG)) <= 0)
		BAD("fs_maxbpg", "is %d", x);
	if ((x = sb32(sb, FS_CGSIZE)) < CG_HDRSIZE || x > v->bsize)
		BAD("fs_cgsize", "is %d, not %d to fs_bsize", x, CG_HDRSIZE);
	return 0;
}

/*
 * A group's layout (superblock copy, header, inodes, then data), and
 * where the superblock says it is.
 */
static int
check_layout(const unsigned char *sb, int version, off_t loc, off_t at,
    struct sbv *v)
{
	int32_t x;

	v->cblkno = sb32(sb, FS_CBLKNO);
	if ((x = sb32(sb, FS_SBLKNO)) < 0 || x >= v->cblkno)
		BAD("fs_sblkno", "is %d, not from 0 to fs_cblkno", x);
	if (v->cblkno >= sb32(sb, FS_IBLKNO) || (int64_t)(sb32(sb,
	    FS_IBLKNO) - v->cblkno) * v->fsize < sb32(sb, FS_CGSIZE))
		BAD("fs_cblkno", "is %d: no room for the group's header "
		    "before fs_iblkno", v->cblkno);
	if ((int64_t)sb32(sb, FS_IBLKNO) + (int64_t)v->ipg / v->inopb *
	    v->frag > sb32(sb, FS_DBLKNO))
		BAD("fs_iblkno", "is %d: the inodes overlap fs_dblkno",
		    sb32(sb, FS_IBLKNO));
	if ((x = sb32(sb, FS_DBLKNO)) > v->fpg)
		BAD("fs_dblkno", "is %d, beyond its group of %d fragments", x,
		    v->fpg);
	v->cgoffset = version == 1 ? sb32(sb, FS_OLD_CGOFFSET) : 0;
	v->cgmask = version == 1 ? sb32(sb, FS_OLD_CGMASK) : -1;
	/* v1's staggered groups: in 32 bits too, and inside the file system. */
	if (v->cgoffset < 0 || (int64_t)v->cgoffset * (uint32_t)((v->ncg -
	    1) & ~v->cgmask) > UINT32_MAX)
		BAD("fs_old_cgoffset", "is %d", v->cgoffset);
	/* As ffs_mountfs(): the superblock says where it is, or v1 cannot. */
	if ((version == 2 || (sb[FS_OLD_FLAGS] & FS_FLAGS_UPDATED)) &&
	    (int64_t)le64(sb + FS_SBLOCKLOC) != loc)
		BAD("fs_sblockloc", "is %jd, not where it is (%jd): an "
		    "alternate", (intmax_t)le64(sb + FS_SBLOCKLOC),
		    (intmax_t)loc);
	return 0;
}
#undef BAD

/*
 * Check every field of the superblock at loc (version 1 or 2; at, from
 * the image's start, for messages) that libtsk or we divide by, shift
 * by or index with, as NetBSD's kernel does before it mounts
 * (ffs_superblock_validate() in ffs_vfsops.c), and the cylinder-group
 * layout newfs and makefs always write (fsck_ffs's setup.c relies on
 * it).  A zero fs_inopb, for one, is a division by zero inside libtsk.
 * Each check relies on the ones before it.
 */
static int
check_super(const unsigned char *sb, int version, off_t loc, off_t at,
    struct sbv *v)
{
	if (check_sizes(sb, version, at, v) == -1 ||
	    check_counts(sb, version, at, v) == -1 ||
	    check_layout(sb, version, loc, at, v) == -1)
		return -1;
	return 0;
}

/*
 * Each cylinder group's header, as libtsk indexes it: the inode and
 * fragment maps at the offsets it gives must lie in the block libtsk
 * reads (it checks only that they start there).  off: the file
 * system's start.
 */
static int
check_groups(const struct ffs_source *src, off_t off, const struct sbv *v)
{
	unsigned char *cg;
	int32_t c;
	int rv = -1;

	if ((cg = malloc((size_t)v->bsize)) == NULL) {
		sr_seterrno("superblock");
		return -1;
	}
	for (c = 0; c < v->ncg; c++) {
		/* cgtod(): v1's groups may be staggered (fs_old_cgoffset). */
		int64_t start = (int64_t)v->fpg * c + (int64_t)v->cgoffset *
		    (c & ~v->cgmask), frag = start + v->cblkno;
		int32_t iused, fre;

		if (frag < 0 || frag + v->frag > v->size ||
		    src_read(src, cg, (size_t)v->bsize, off + frag *
		    v->fsize) == -1) {
			sr_seterr("cylinder group %d: its header at fragment "
			    "%jd is outside the file system (corrupt; "
			    "refused)", c, (intmax_t)frag);
			goto done;
		}
		iused = (int32_t)le32(cg + CG_IUSEDOFF);
		fre = (int32_t)le32(cg + CG_FREEOFF);
		if (le32(cg + CG_MAGIC_OFF) != CG_MAGIC)
			sr_seterr("cylinder group %d: cg_magic is %#x, not "
			    "%#x (corrupt; refused)", c,
			    (unsigned)le32(cg + CG_MAGIC_OFF), CG_MAGIC);
		else if ((int32_t)le32(cg + CG_CGX) != c)
			sr_seterr("cylinder group %d: cg_cgx is %d (corrupt; "
			    "refused)", c, (int32_t)le32(cg + CG_CGX));
		else if (iused < CG_HDRSIZE ||
		    (int64_t)iused + (v->ipg + 7) / 8 > v->bsize)
			sr_seterr("cylinder group %d: cg_iusedoff is %d: its "
			    "map of %d inodes does not fit in the block "
			    "(corrupt; refused)", c, iused, v->ipg);
		else if (fre < CG_HDRSIZE ||
		    (int64_t)fre + (v->fpg + 7) / 8 > v->bsize)
			sr_seterr("cylinder group %d: cg_freeoff is %d: its "
			    "map of %d fragments does not fit in the block "
			    "(corrupt; refused)", c, fre, v->fpg);
		else
			continue;
		goto done;
	}
	rv = 0;
done:
	free(cg);
	return rv;
}

/*
 * Which superblock libtsk would read in the file system at off: its
 * offset from off, or 0 for none.
 */
static off_t
tsk_super(const struct ffs_source *src, off_t off)
{
	unsigned char m[4];
	size_t i;

	for (i = 0; i < sizeof(tsk_try) / sizeof(tsk_try[0]); i++) {
		if ((uint64_t)(off + tsk_try[i].loc + SBSIZE) > src->size ||
		    src_read(src, m, 4, off + tsk_try[i].loc + FS_MAGIC) == -1)
			continue;
		if (le32(m) == tsk_try[i].magic ||
		    swap32(le32(m)) == tsk_try[i].magic)
			return tsk_try[i].loc;
	}
	return 0;
}

/*
 * The superblock of a file system starting at off, if any.
 * 0: found; 1: none there; -1: one we will not use (message set).
 */
static int
read_super(const struct ffs_source *src, off_t off, struct ffsimg *fi)
{
	static const off_t where[] = { 8192, 65536 };
	unsigned char sb[SBSIZE];
	struct sbv v;
	off_t tsk;
	size_t i;

	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		uint32_t magic;

		if (src_read(src, sb, sizeof(sb), off + where[i]) == -1)
			continue;
		magic = le32(sb + FS_MAGIC);
		if (swap32(magic) == FS_UFS1_MAGIC ||
		    swap32(magic) == FS_UFS2_MAGIC) {
			sr_seterr("a big-endian FFS file system, which this "
			    "host cannot read (refused)");
			return -1;
		}
		if (magic != FS_UFS1_MAGIC && magic != FS_UFS2_MAGIC)
			continue;
		/* An FFSv1 superblock at 64 KiB is not where v1 keeps it. */
		if (magic == FS_UFS1_MAGIC && where[i] != 8192)
			continue;
		fi->version = magic == FS_UFS1_MAGIC ? 1 : 2;
		if (check_super(sb, fi->version, where[i], off + where[i],
		    &v) == -1)
			return -1;
		/* libtsk must read this superblock, not another one. */
		tsk = tsk_super(src, off);
		if (tsk != 0 && tsk != where[i]) {
			sr_seterr("a second FFS superblock at offset %jd, "
			    "which libtsk would read instead of the one at "
			    "%jd (refused)", (intmax_t)(off + tsk),
			    (intmax_t)(off + where[i]));
			return -1;
		}
		fi->bsize = v.bsize;
		fi->fsize = v.fsize;
		fi->off = off;
		fi->sboff = where[i];
		fi->len = (off_t)(v.size * fi->fsize);
		fi->inodes = (uint64_t)v.ncg * (uint64_t)v.ipg;
		if ((uint64_t)(off + fi->len) > src->size) {
			sr_seterr("truncated: its FFS file system is %jd bytes "
			    "from offset %jd, the image only %jd",
			    (intmax_t)fi->len, (intmax_t)off,
			    (intmax_t)src->size);
			return -1;
		}
		return check_groups(src, off, &v);
	}
	return 1;
}

int
ffsimg_verify(const struct ffsimg *fi)
{
	struct ffs_source fsrc;
	struct ffsimg again;
	struct stat st;
	int fd = -1, r;

	memset(&again, 0, sizeof(again));
	if (fi->src != NULL)
		r = read_super(fi->src, fi->off, &again);
	else if ((fd = open(fi->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		sr_seterrno("open");
		return -1;
	} else if (fstat(fd, &st) == -1)
		r = -1;
	else {
		ffs_source_fd(&fsrc, fd, (uint64_t)st.st_size, fi->path);
		r = read_super(&fsrc, fi->off, &again);
	}
	if (fd != -1)
		close(fd);
	if (r == 1 || (r == 0 && (again.sboff != fi->sboff ||
	    again.version != fi->version || again.len != fi->len ||
	    again.bsize != fi->bsize || again.fsize != fi->fsize))) {
		sr_seterr("the FFS file system changed while it was read "
		    "(refused)");
		return -1;
	}
	return r;
}

/*
 * A NetBSD disklabel in the image's second sector says how many
 * partitions follow it.  libtsk 4.11 believes any number and reads
 * them past the sector it holds (a hostile label crashed it; later
 * libtsk stops at 16).  NetBSD takes none of more than 22
 * (MAXMAXPARTITIONS, any port), which all fit in the sector: nor do we.
 * 0: none, or one libtsk may read; -1: refused.
 */
static int
check_disklabel(const struct ffs_source *src)
{
	unsigned char s[512];
	unsigned np;

	if (src_read(src, s, sizeof(s), 512) == -1)
		return 0;
	if (le32(s) == DISKMAGIC && le32(s + 132) == DISKMAGIC)
		np = (unsigned)s[138] | (unsigned)s[139] << 8;
	else if (swap32(le32(s)) == DISKMAGIC &&
	    swap32(le32(s + 132)) == DISKMAGIC)
		np = (unsigned)s[138] << 8 | (unsigned)s[139];
	else
		return 0;
	if (np > MAXMAXPARTITIONS) {
		sr_seterr("corrupt NetBSD disklabel: %u partitions, more than "
		    "%d (refused)", np, MAXMAXPARTITIONS);
		return -1;
	}
	return 0;
}

/* More than one partition holds FFS: name them, for the user to pick. */
static void
many_parts(const struct ffsimg *found, size_t n)
{
	char list[512] = "";
	size_t k, len = 0;

	for (k = 0; k < n && len < sizeof(list); k++)
		len += (size_t)snprintf(list + len, sizeof(list) - len,
		    "%s%d (offset %jd, %jd MiB)", k ? ", " : "", found[k].part,
		    (intmax_t)found[k].off, (intmax_t)(found[k].len >> 20));
	sr_seterr("%zu partitions hold FFS: %s; pick one", n, list);
	sr_sethint(SR_HINT_PICKPART);
}

/* Partitions holding FFS, through libtsk's volume-system layer. */
static int
probe_parts(struct ffsimg *fi, const struct ffs_source *src, int want)
{
	struct ffsimg found[MAXPARTS];
	TSK_IMG_INFO *img;
	TSK_VS_INFO *vs;
	TSK_PNUM_T i;
	size_t n = 0;
	int rv = -1, num;

	if (check_disklabel(src) == -1)
		return -1;
	if ((img = ffs_tsk_open(fi)) == NULL)
		return -1;
	if ((vs = tsk_vs_open(img, 0, TSK_VS_TYPE_DETECT)) == NULL) {
		tsk_img_close(img);
		if (want >= 0) {
			sr_seterr("%d: the image has no partition table", want);
			sr_sethint(SR_HINT_PARTITION);
			return -1;
		}
		return 1;
	}
	/* Partitions are numbered from 1 in disk order, as mmls lists them. */
	for (i = 0, num = 0; i < vs->part_count; i++) {
		const TSK_VS_PART_INFO *p = tsk_vs_part_get(vs, i);
		struct ffsimg t = *fi;
		int r;

		if (p == NULL || (p->flags & TSK_VS_PART_FLAG_ALLOC) == 0 ||
		    (p->flags & TSK_VS_PART_FLAG_META) != 0)
			continue;
		if (++num != want && want >= 0)
			continue;
		r = read_super(src, (off_t)(p->start * vs->block_size), &t);
		if (r == -1) {
			sr_prefixerr("partition %d", num);
			goto done;
		}
		if (r == 1 || p->start == 0)
			continue;
		t.part = num;
		/* The file system must lie inside its partition. */
		if (t.len > (off_t)(p->len * vs->block_size)) {
			sr_seterr("partition %d: its FFS file system is larger "
			    "than the partition (refused)", t.part);
			goto done;
		}
		if (n < MAXPARTS)
			found[n++] = t;
	}
	if (n == 1) {
		*fi = found[0];
		rv = 0;
	} else if (n == 0 && want >= 0) {
		sr_seterr("%d: no such partition holds FFS", want);
		sr_sethint(SR_HINT_PARTITION);
	} else if (n == 0)
		sr_seterr("a %s partition table with no FFS partition",
		    tsk_vs_type_toname(vs->vstype));
	else
		many_parts(found, n);
done:
	tsk_vs_close(vs);
	tsk_img_close(img);
	return rv;
}

/* The probe of src (fi->path and fi->src set). */
static int
probe(const struct ffs_source *src, int part, struct ffsimg *fi)
{
	int r;

	fi->part = -1;
	fi->filesize = (off_t)src->size;
	r = part >= 0 ? 1 : read_super(src, 0, fi);
	if (r == 1)
		r = probe_parts(fi, src, part);
	if (r == 0 && part >= 0 && fi->part < 0) {
		sr_seterr("%d: the image has no partition table", part);
		sr_sethint(SR_HINT_PARTITION);
		return -1;
	}
	return r;
}

int
ffsimg_probe(const char *path, int part, struct ffsimg *fi)
{
	struct ffs_source src;
	struct stat st;
	int fd, r;

	memset(fi, 0, sizeof(*fi));
	fi->path = path;
	fi->part = -1;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		sr_seterrno("open");
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 1;
	}
	/* fi->src stays NULL: libtsk and ffsimg_verify() open path again. */
	ffs_source_fd(&src, fd, (uint64_t)st.st_size, path);
	r = probe(&src, part, fi);
	close(fd);
	return r;
}

int
ffsimg_probe_source(const struct ffs_source *src, int part,
    struct ffsimg *fi)
{
	memset(fi, 0, sizeof(*fi));
	fi->path = src->name != NULL ? src->name : "the image";
	fi->src = src;
	if (src->size > (uint64_t)INT64_MAX) {
		sr_seterr("an image of %ju bytes (refused)",
		    (uintmax_t)src->size);
		return -1;
	}
	return probe(src, part, fi);
}

int
ffsimg_writable(const struct ffsimg *fi)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	strlcpy(dir, fi->path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strlcpy(dir, ".", sizeof(dir));
	if (stat(fi->path, &st) == -1) {
		sr_seterrno("stat");
		return -1;
	}
	/* Root may write anything: a file nobody may write is meant so. */
	if ((st.st_mode & 0222) == 0) {
		sr_seterr("the image file is read-only (mode %04o); nothing "
		    "written", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (access(fi->path, W_OK) == -1) {
		sr_seterr("the image file is not yours to write (owner %ju, "
		    "mode %04o); nothing written", (uintmax_t)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (access(dir, W_OK) == -1) {
		sr_seterrno("%s: cannot make the new image beside it", dir);
		return -1;
	}
	return 0;
}

/* Copy len bytes from in at ioff to out at ooff, leaving zeros as holes. */
static int
copy_range(int in, off_t ioff, int out, off_t ooff, off_t len)
{
	static char buf[1 << 16];

	while (len > 0) {
		size_t want = len < (off_t)sizeof(buf) ? (size_t)len :
		    sizeof(buf);
		ssize_t n = pread(in, buf, want, ioff), w;

		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		if (!sr_zeros(buf, (size_t)n) &&
		    (w = pwrite(out, buf, (size_t)n, ooff)) != n) {
			/* A short write to a file: no room for the rest. */
			if (w >= 0)
				errno = ENOSPC;
			return -1;
		}
		ioff += n;
		ooff += n;
		len -= n;
		if (sr_interrupted())
			return (errno = EINTR), -1;
	}
	return 0;
}

/* Copy a whole file, its holes kept where the system tells them. */
static int
copy_sparse(int in, int out, off_t size)
{
	off_t data = 0, hole;

	if (ftruncate(out, size) == -1)
		return -1;
#ifdef SEEK_DATA
	while (data < size && (data = lseek(in, data, SEEK_DATA)) != -1) {
		if ((hole = lseek(in, data, SEEK_HOLE)) == -1)
			return -1;
		if (copy_range(in, data, out, data, hole - data) == -1)
			return -1;
		data = hole;
	}
	return data == -1 && errno != ENXIO ? -1 : 0;
#else
	(void)hole;
	return copy_range(in, 0, out, 0, size);
#endif
}

/* Zero a range, as holes where the system can. */
static int
zero_range(int fd, off_t off, off_t len)
{
	static const char zeros[1 << 16];

	if (os_punch_hole(fd, off, len) == 0)
		return 0;
	while (len > 0) {
		size_t n = len < (off_t)sizeof(zeros) ? (size_t)len :
		    sizeof(zeros);

		ssize_t w = pwrite(fd, zeros, n, off);

		if (w != (ssize_t)n) {
			if (w >= 0)
				errno = ENOSPC;
			return -1;
		}
		off += (off_t)n;
		len -= (off_t)n;
	}
	return 0;
}

/* A write for install failed: no room said as such. */
static void
install_failed(int fd, const char *step)
{
	if (sr_noroom(errno))
		sr_seterr_noroom(fd, "the new image", 0, false);
	else
		sr_seterrno("%s", step);
}

int
ffsimg_install(const struct ffsimg *fi, const char *newfs)
{
	char out[PATH_MAX];
	struct stat st;
	int in = -1, nfd = -1, ofd = -1, rv = -1;
	bool whole = fi->off == 0 && fi->len >= fi->filesize;

	out[0] = '\0';
	/* Its source is not the file: a plaintext would replace a cipher. */
	if (fi->src != NULL) {
		sr_seterr("install: an image read through a transform is not "
		    "rebuilt in place (refused)");
		(void)unlink(newfs);
		return -1;
	}
	if ((in = open(fi->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(in, &st) == -1) {
		sr_seterrno("install: open");
		goto done;
	}
	if ((nfd = open(newfs, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		sr_seterrno("install: open the new file system");
		goto done;
	}
	if (whole) {
		/* The new file system is the new image: keep the boot area. */
		if (copy_range(in, 0, nfd, 0, BBSIZE) == -1 ||
		    ftruncate(nfd, fi->filesize) == -1) {
			install_failed(nfd, "install: boot blocks");
			goto done;
		}
		ofd = nfd;
		nfd = -1;
		strlcpy(out, newfs, sizeof(out));
	} else {
		/* A copy of the disk with the partition's contents replaced. */
		if ((ofd = image_temp(fi->path, out, sizeof(out))) == -1)
			goto done;
		if (copy_sparse(in, ofd, fi->filesize) == -1 ||
		    zero_range(ofd, fi->off + BBSIZE, fi->len - BBSIZE) == -1 ||
		    copy_range(nfd, BBSIZE, ofd, fi->off + BBSIZE,
		    fi->len - BBSIZE) == -1) {
			install_failed(ofd, "install: the new disk");
			goto done;
		}
		(void)unlink(newfs);
	}
	/* A guest's disk keeps its mode, and for root its owner. */
	if (fchmod(ofd, st.st_mode & 07777) == -1 || (geteuid() == 0 &&
	    fchown(ofd, st.st_uid, st.st_gid) == -1)) {
		sr_seterrno("install: mode and owner");
		goto done;
	}
	if (sr_checkpoint() == -1)
		goto done;
	if (fsync(ofd) == -1) {
		install_failed(ofd, "install: sync");
		goto done;
	}
	if (rename(out, fi->path) == -1) {
		sr_seterrno("install: rename into place");
		goto done;
	}
	out[0] = '\0';
	rv = 0;
done:
	if (out[0] != '\0')
		(void)unlink(out);
	if (rv == -1)
		(void)unlink(newfs);
	if (in != -1)
		close(in);
	if (nfd != -1)
		close(nfd);
	if (ofd != -1)
		close(ofd);
	return rv;
}
