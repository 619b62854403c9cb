/*
 * The FFS writer's layout (ffswrite.h): the geometry newfs would choose,
 * and the image written in one pass to the sink.
 *
 * Geometry follows NetBSD's newfs/makefs (sbin/newfs/mkfs.c): the
 * cylinder group is made as large as its map allows in one block, an
 * inode per `density' bytes, the last group made viable; FFSv1 keeps its
 * superblock at 8192 with the old rotational fields as newfs writes
 * them today (one "cylinder" a group, one rotational position), FFSv2
 * at 65536.
 *
 * Placement: inode 2 is the root; directories go round the cylinder
 * groups in turn (as FFS spreads them), a file goes in its directory's
 * group (or the next with room).  Data is allocated from the start of
 * the file system on, in the order the tree is walked: a file's
 * indirect block before the blocks it points to, its tail in fragments
 * (packed into a block shared with other tails) when it has no more
 * than the direct blocks, all-zero blocks left as holes but the last
 * (FFS always holds a file's last block).  Then the cylinder groups,
 * their inodes, the summary area and the superblocks.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/ffsimg.h"
#include "image/ffsw_impl.h"

#define HOWMANY(a, b)	(((a) + (b) - 1) / (b))
#define ROUNDUP(a, b)	(HOWMANY(a, b) * (b))
#define CG_BASESIZE	176	/* sizeof(struct cg) with its cg_space[1] */
#define CG_START	168	/* where its maps start (cg_space) */

static int
ilog2(uint64_t v)
{
	int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static bool
pow2(int64_t v)
{
	return v > 0 && (v & (v - 1)) == 0;
}

/* Parameters newfs would choose for size bytes (newfs.c's defaults). */
int
ffsw_params_for(uint64_t size, int version, struct ffsw_params *p)
{
	uint64_t sectors = size / 512;

	memset(p, 0, sizeof(*p));
	p->size = size;
	p->version = version;
	if (sectors < 20 * 1024 * 2)
		p->fsize = 512;
	else if (sectors < 1000 * 1024 * 2)
		p->fsize = 1024;
	else
		p->fsize = 2048;
	p->bsize = 8 * p->fsize;
	p->maxcontig = 65536 / p->bsize > 1 ? 65536 / p->bsize : 1;
	p->density = 4 * p->fsize;
	p->minfree = 5;
	p->optim = 0;
	p->avgfilesize = 16384;
	p->avgfpdir = 64;
	if (clock_gettime(CLOCK_REALTIME, &p->time) == -1)
		p->time.tv_sec = time(NULL);
	if (version != 1 && version != 2) {
		sr_seterr("FFS version %d: not 1 or 2", version);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * Parameters like those of the file system fi holds: the density is
 * the sparsest (fragments an inode, from 64 down) that gives at least
 * its inodes, as the inodes a group follow the group's size, not the
 * file system's.
 */
int
ffsw_params_like(const struct ffsimg *fi, struct ffsw_params *p)
{
	struct ffsw_geom g;
	int fpi;

	if (fi->len <= 0 || ffsw_params_for((uint64_t)fi->len, fi->version,
	    p) == -1)
		return -1;
	p->bsize = fi->bsize;
	p->fsize = fi->fsize;
	for (fpi = 64; fpi >= 1; fpi--) {
		p->density = fpi * fi->fsize;
		if (ffsw_geometry(p, &g) == 0 && g.inodes >= fi->inodes)
			return 0;
	}
	return ffsw_geometry(p, &g);
}

/* CGSIZE(): a cylinder group's header and maps, in bytes. */
static uint64_t
cgsize(const struct ffsw_fs *fs, uint64_t ipg, uint64_t fpg)
{
	uint64_t n = CG_BASESIZE + sizeof(int32_t) +
	    (uint64_t)fs->old_cpg * (sizeof(int32_t) + sizeof(uint16_t)) +
	    HOWMANY(ipg, 8) + HOWMANY(fpg, 8);

	if (fs->contigsumsize > 0)
		n += (uint64_t)fs->contigsumsize * sizeof(int32_t) +
		    HOWMANY(fpg >> fs->fragshift, 8);
	return n;
}

static int
bad(const char *what)
{
	sr_seterr("FFS parameters: %s", what);
	errno = EINVAL;
	return -1;
}

/* The fields that follow from the block and fragment sizes alone. */
static int
sb_sizes(const struct ffsw_params *p, struct ffsw_fs *fs)
{
	uint64_t sizepb, maxfile;
	int i;

	if (p->version != 1 && p->version != 2)
		return bad("the version is not 1 or 2");
	if (!pow2(p->bsize) || !pow2(p->fsize) || p->bsize < 4096 ||
	    p->bsize > 65536 || p->fsize < 512 || p->fsize > p->bsize ||
	    p->bsize / p->fsize > FFSW_MAXFRAG)
		return bad("block and fragment sizes out of range");
	if (p->density < 1 || p->minfree < 0 || p->minfree > 99 ||
	    (p->optim != 0 && p->optim != 1) || p->maxcontig < 1 ||
	    p->avgfilesize < 1 || p->avgfpdir < 1)
		return bad("density, minfree, optimisation or clustering out "
		    "of range");
	memset(fs, 0, sizeof(*fs));
	fs->bsize = p->bsize;
	fs->fsize = p->fsize;
	fs->bmask = ~(p->bsize - 1);
	fs->fmask = ~(p->fsize - 1);
	fs->qbmask = ~(int64_t)fs->bmask;
	fs->qfmask = ~(int64_t)fs->fmask;
	fs->bshift = ilog2((uint64_t)p->bsize);
	fs->fshift = ilog2((uint64_t)p->fsize);
	fs->frag = p->bsize / p->fsize;
	fs->fragshift = ilog2((uint64_t)fs->frag);
	fs->fsbtodb = ilog2((uint64_t)p->fsize / FFSW_DEV_BSIZE);
	fs->maxbsize = p->bsize;
	fs->maxcontig = p->maxcontig;
	if (fs->maxcontig > 1)
		fs->contigsumsize = fs->maxcontig < FFSW_MAXCONTIG ?
		    fs->maxcontig : FFSW_MAXCONTIG;
	fs->old_inodefmt = FFSW_44INODEFMT;
	fs->old_flags = FFSW_FLAGS_UPDATED;
	if (p->version == 1) {
		fs->magic = FFSW_UFS1_MAGIC;
		fs->sblockloc = FFSW_SBLOCK_UFS1;
		fs->nindir = p->bsize / 4;
		fs->inopb = p->bsize / 128;
		fs->maxsymlinklen = (FFSW_NDADDR + FFSW_NIADDR) * 4;
		fs->old_cgoffset = 0;
		fs->old_cgmask = (int32_t)0xffffffff;
		fs->old_rps = 60;
		fs->old_nspf = p->fsize / FFSW_DEV_BSIZE;
		fs->old_cpg = 1;
		fs->old_interleave = 1;
		fs->old_postblformat = 1;
		fs->old_nrpos = 1;
		fs->maxbpg = p->bsize / 4;
	} else {
		fs->magic = FFSW_UFS2_MAGIC;
		fs->sblockloc = FFSW_SBLOCK_UFS2;
		fs->nindir = p->bsize / 8;
		fs->inopb = p->bsize / 256;
		fs->maxsymlinklen = (FFSW_NDADDR + FFSW_NIADDR) * 8;
		fs->maxbpg = p->bsize / 8;
	}
	fs->sblkno = (int32_t)ROUNDUP(HOWMANY((uint64_t)fs->sblockloc +
	    FFSW_SBSIZE, (uint64_t)fs->fsize), (uint64_t)fs->frag);
	fs->cblkno = fs->sblkno + (int32_t)ROUNDUP(HOWMANY(FFSW_SBSIZE,
	    fs->fsize), fs->frag);
	fs->iblkno = fs->cblkno + fs->frag;
	maxfile = (uint64_t)p->bsize * FFSW_NDADDR - 1;
	for (sizepb = (uint64_t)p->bsize, i = 0; i < FFSW_NIADDR; i++) {
		sizepb *= (uint64_t)fs->nindir;
		maxfile += sizepb;
	}
	fs->maxfilesize = maxfile;
	return 0;
}

/* The smallest group that meets the density, and the density it needs. */
static int
cg_min(struct ffsw_fs *fs, int density, int *fpi)
{
	int inopf = fs->inopb >> fs->fragshift;
	uint64_t minfpg, fpg, ipg;

	for (;;) {
		*fpi = (density >> fs->fshift) > 1 ? density >> fs->fshift : 1;
		minfpg = (uint64_t)*fpi * (uint64_t)fs->inopb;
		if (minfpg > (uint64_t)fs->size)
			minfpg = (uint64_t)fs->size;
		ipg = (uint64_t)fs->inopb;
		fpg = ROUNDUP(fs->iblkno + ipg / inopf, (uint64_t)fs->frag);
		if (fpg < minfpg)
			fpg = minfpg;
		ipg = ROUNDUP(HOWMANY(fpg, (uint64_t)*fpi), (uint64_t)fs->inopb);
		fpg = ROUNDUP(fs->iblkno + ipg / inopf, (uint64_t)fs->frag);
		if (fpg < minfpg)
			fpg = minfpg;
		ipg = ROUNDUP(HOWMANY(fpg, (uint64_t)*fpi), (uint64_t)fs->inopb);
		if (cgsize(fs, ipg, fpg) < (uint64_t)fs->bsize)
			break;
		density -= fs->fsize;
		if (density < fs->fsize)
			return bad("no inode density fits a cylinder group");
	}
	fs->fpg = (int32_t)fpg;
	fs->ipg = (int32_t)ipg;
	return 0;
}

/* Grow the group while its map fits a block; keep the last one viable. */
static int
cg_grow(struct ffsw_fs *fs, int fpi)
{
	int inopf = fs->inopb >> fs->fragshift;
	int64_t fpg = fs->fpg, ipg = fs->ipg, lastmin;

	for (; fpg < fs->size - 1; fpg += fs->frag) {
		ipg = ROUNDUP(HOWMANY(fpg, fpi), fs->inopb);
		if (fs->size / fpg < 1)
			break;
		if (cgsize(fs, (uint64_t)ipg, (uint64_t)fpg) <
		    (uint64_t)fs->bsize)
			continue;
		if (cgsize(fs, (uint64_t)ipg, (uint64_t)fpg) ==
		    (uint64_t)fs->bsize)
			break;
		fpg -= fs->frag;
		ipg = ROUNDUP(HOWMANY(fpg, fpi), fs->inopb);
		break;
	}
	for (;;) {
		lastmin = ROUNDUP(fs->iblkno + ipg / inopf, fs->frag);
		if (fs->size < lastmin || fpg <= lastmin)
			return bad("the file system is too small");
		if (fs->size % fpg >= lastmin || fs->size % fpg == 0)
			break;
		fpg -= fs->frag;
		ipg = ROUNDUP(HOWMANY(fpg, fpi), fs->inopb);
	}
	fs->fpg = (int32_t)fpg;
	fs->ipg = (int32_t)ipg;
	fs->ncg = (int32_t)HOWMANY(fs->size, fpg);
	return 0;
}

/* The superblock for params, as far as it goes before the tree. */
static int
sb_init(const struct ffsw_params *p, struct ffsw_fs *fs)
{
	int fpi, inopf;
	uint64_t csfrags;

	if (sb_sizes(p, fs) == -1)
		return -1;
	if (p->size / (uint64_t)p->fsize > (p->version == 1 ? INT32_MAX :
	    INT64_MAX / 2))
		return bad("the file system is too large for its version");
	fs->size = (int64_t)(p->size / (uint64_t)p->fsize);
	if (fs->size < 2 * (int64_t)fs->iblkno)
		return bad("the file system is too small");
	if (cg_min(fs, p->density, &fpi) == -1 || cg_grow(fs, fpi) == -1)
		return -1;
	if ((uint64_t)fs->ncg * (uint64_t)fs->ipg > UINT32_MAX)
		return bad("too many inodes");
	inopf = fs->inopb >> fs->fragshift;
	fs->cgsize = (int32_t)ROUNDUP(cgsize(fs, (uint64_t)fs->ipg,
	    (uint64_t)fs->fpg), (uint64_t)fs->fsize);
	fs->dblkno = fs->iblkno + fs->ipg / inopf;
	fs->csaddr = fs->dblkno;
	fs->cssize = (int32_t)ROUNDUP((uint64_t)fs->ncg *
	    sizeof(struct ffsw_csum), (uint64_t)fs->fsize);
	csfrags = HOWMANY((uint64_t)fs->cssize, (uint64_t)fs->fsize);
	if ((uint64_t)fs->dblkno + csfrags + (uint64_t)fs->frag >
	    (uint64_t)(fs->fpg < fs->size ? fs->fpg : fs->size))
		return bad("the file system is too small for its summary");
	fs->sbsize = (int32_t)ROUNDUP(sizeof(struct ffsw_fs),
	    (uint64_t)fs->fsize);
	if (fs->sbsize > FFSW_SBSIZE)
		fs->sbsize = FFSW_SBSIZE;
	fs->minfree = p->minfree;
	fs->optim = p->optim;
	fs->avgfilesize = p->avgfilesize;
	fs->avgfpdir = p->avgfpdir;
	fs->clean = 1;
	fs->dsize = fs->size - fs->sblkno - (int64_t)fs->ncg *
	    (fs->dblkno - fs->sblkno) - (int64_t)csfrags;
	fs->time = p->time.tv_sec;
	fs->id[0] = (int32_t)p->time.tv_sec;
	fs->id[1] = (int32_t)(p->time.tv_nsec ^ (long)fs->size);
	memcpy(fs->volname, p->volname, sizeof(fs->volname) - 1);
	if (p->version == 1) {
		fs->old_size = (int32_t)fs->size;
		fs->old_dsize = (int32_t)fs->dsize;
		fs->old_csaddr = (int32_t)fs->csaddr;
		fs->old_time = (int32_t)fs->time;
		fs->old_spc = fs->fpg * fs->old_nspf;
		fs->old_nsect = fs->old_spc;
		fs->old_npsect = fs->old_spc;
		fs->old_ncyl = fs->ncg;
	}
	return 0;
}

/* The geometry params give (for messages, tests and callers' checks). */
int
ffsw_geometry(const struct ffsw_params *p, struct ffsw_geom *g)
{
	struct ffsw_fs fs;

	if (sb_init(p, &fs) == -1)
		return -1;
	g->ncg = fs.ncg;
	g->ipg = fs.ipg;
	g->fpg = fs.fpg;
	g->inodes = (uint64_t)fs.ncg * (uint64_t)fs.ipg;
	g->frags = (uint64_t)fs.size;
	return 0;
}

/* The layout ----------------------------------------------------------- */

struct ind {
	bool	 live;
	int	 level;		/* 0 single, 1 double, 2 triple */
	uint64_t id;		/* which block of that depth */
	int64_t	 addr;		/* 0: not allocated yet */
	char	*buf;
};

struct lay {
	struct ffsw_tree *ft;
	struct ffsw_fs fs;
	bool	 v2;
	uint8_t	*used;		/* a bit a fragment: not free */
	int64_t	 cursor;	/* the next block to try */
	int64_t	 fcur;		/* the block tails are packed into ... */
	int	 fleft;		/* ... and how many fragments it has left */
	uint32_t *icount;	/* inodes used, by group */
	uint32_t *ndirs;
	struct ffsw_node **ihead, **itail;
	int	 dircg;		/* the group the next directory goes to */
	char	 path[PATH_MAX];
	char	*buf;		/* a block */
	struct ind ind[3];	/* the indirect blocks being filled */
};

static bool
isused(const struct lay *l, int64_t f)
{
	return f >= l->fs.size || (l->used[f >> 3] & (1 << (f & 7))) != 0;
}

static void
setused(struct lay *l, int64_t f, int64_t n)
{
	for (; n > 0; f++, n--)
		l->used[f >> 3] |= (uint8_t)(1 << (f & 7));
}

static int64_t
cgbase(const struct ffsw_fs *fs, int c)
{
	return (int64_t)fs->fpg * c;
}

static int
sink_write(struct lay *l, int64_t frag, const void *buf, size_t len)
{
	const struct ffsw_sink *s = &l->ft->sink;
	uint64_t off = (uint64_t)frag * (uint64_t)l->fs.fsize;

	if (off > s->size || len > s->size - off) {
		sr_seterr("writing beyond the image's %s", sr_size(s->size));
		errno = EIO;
		return -1;
	}
	return s->pwrite(s->ctx, off, buf, len);
}

static int
noroom(struct lay *l, const char *what)
{
	sr_seterr("%s: no room left in the file system (%s) for %s",
	    *l->path != '\0' ? l->path : "the top", sr_size(l->ft->p.size),
	    what);
	errno = ENOSPC;
	return -1;
}

/* A free block, at or after the cursor. */
static int
alloc_block(struct lay *l, int64_t *out)
{
	int64_t f, i;

	for (f = l->cursor; f + l->fs.frag <= l->fs.size; f += l->fs.frag) {
		for (i = 0; i < l->fs.frag && !isused(l, f + i); i++)
			continue;
		if (i == l->fs.frag) {
			setused(l, f, l->fs.frag);
			l->cursor = f + l->fs.frag;
			*out = f;
			return 0;
		}
	}
	l->cursor = l->fs.size;
	return noroom(l, "its data");
}

/* n fragments in one block: a file's tail. */
static int
alloc_frags(struct lay *l, int n, int64_t *out)
{
	if (l->fleft < n) {
		if (alloc_block(l, &l->fcur) == -1)
			return -1;
		/* Free again what the tail does not take. */
		for (int64_t f = l->fcur; f < l->fcur + l->fs.frag; f++)
			l->used[f >> 3] &= (uint8_t)~(1 << (f & 7));
		l->fleft = l->fs.frag;
	}
	*out = l->fcur + (l->fs.frag - l->fleft);
	setused(l, *out, n);
	l->fleft -= n;
	return 0;
}

/* Mark what every group holds before its data, and the summary. */
static void
mark_meta(struct lay *l)
{
	const struct ffsw_fs *fs = &l->fs;
	int c;

	for (c = 0; c < fs->ncg; c++) {
		int64_t from = cgbase(fs, c) + (c == 0 ? 0 : fs->sblkno);

		setused(l, from, cgbase(fs, c) + fs->dblkno - from);
	}
	setused(l, fs->csaddr, HOWMANY(fs->cssize, fs->fsize));
}

/* Path bookkeeping for messages: name appended, and taken off again. */
static size_t
path_push(struct lay *l, const char *name)
{
	size_t len = strlen(l->path);

	if (len > 0)
		snprintf(l->path + len, sizeof(l->path) - len, "/%s", name);
	else
		snprintf(l->path, sizeof(l->path), "%s", name);
	return len;
}

/* Number n: in group c or the next with a free inode. */
static int
ialloc(struct lay *l, struct ffsw_node *n, int c)
{
	const struct ffsw_fs *fs = &l->fs;
	int i;

	for (i = 0; i < fs->ncg; i++, c = (c + 1) % fs->ncg)
		if (l->icount[c] < (uint32_t)fs->ipg)
			break;
	if (i == fs->ncg) {
		sr_seterr("%s: no inode left in the file system (%llu "
		    "inodes)", l->path, (unsigned long long)fs->ncg *
		    (unsigned long long)fs->ipg - FFSW_ROOTINO);
		errno = ENOSPC;
		return -1;
	}
	n->ino = (uint64_t)c * (uint64_t)fs->ipg + l->icount[c]++;
	n->next = NULL;
	if (l->itail[c] != NULL)
		l->itail[c]->next = n;
	else
		l->ihead[c] = n;
	l->itail[c] = n;
	if (S_ISDIR(n->mode))
		l->ndirs[c]++;
	return 0;
}

/* Give every node below d an inode (d has its own), depth first. */
static int
number(struct lay *l, struct ffsw_node *d, int depth)
{
	int c = (int)(d->ino / (uint64_t)l->fs.ipg);
	size_t i;

	if (depth > PATH_MAX / 2) {
		sr_seterr("%s: too deep", l->path);
		errno = ELOOP;
		return -1;
	}
	for (i = 0; i < d->nents; i++) {
		struct ffsw_node *n = d->ents[i].node;
		size_t len = path_push(l, d->ents[i].name);
		int rv = 0;

		if (n->ino == 0 && S_ISDIR(n->mode)) {
			l->dircg = (l->dircg + 1) % l->fs.ncg;
			rv = ialloc(l, n, l->dircg);
			if (rv == 0)
				rv = number(l, n, depth + 1);
		} else if (n->ino == 0)
			rv = ialloc(l, n, c);
		l->path[len] = '\0';
		if (rv == -1)
			return -1;
	}
	return 0;
}

static uint8_t
dtype(mode_t m)
{
	if (S_ISDIR(m))
		return FFSW_DT_DIR;
	if (S_ISLNK(m))
		return FFSW_DT_LNK;
	if (S_ISCHR(m))
		return FFSW_DT_CHR;
	if (S_ISBLK(m))
		return FFSW_DT_BLK;
	if (S_ISFIFO(m))
		return FFSW_DT_FIFO;
	return FFSW_DT_REG;
}

/*
 * One entry into a directory's chunk at *at (its last entry at *last),
 * starting a new DIRBLKSIZ chunk when it does not fit; buf NULL counts.
 */
static void
dir_put(char *buf, size_t *at, size_t *last, uint32_t ino, mode_t mode,
    const char *name)
{
	size_t nl = strlen(name), sz = FFSW_DIRSIZ(nl);
	size_t chunk = *at / FFSW_DIRBLKSIZ * FFSW_DIRBLKSIZ;

	if (*at + sz > chunk + FFSW_DIRBLKSIZ)
		*at = chunk + FFSW_DIRBLKSIZ;
	if (buf != NULL) {
		uint16_t reclen;

		/* The entry before reaches to here, or to its chunk's end. */
		if (*at % FFSW_DIRBLKSIZ != 0) {
			reclen = (uint16_t)(*at - *last);
			memcpy(buf + *last + 4, &reclen, 2);
		}
		memcpy(buf + *at, &ino, 4);
		reclen = (uint16_t)(FFSW_DIRBLKSIZ - *at % FFSW_DIRBLKSIZ);
		memcpy(buf + *at + 4, &reclen, 2);
		buf[*at + 6] = (char)dtype(mode);
		buf[*at + 7] = (char)nl;
		memcpy(buf + *at + 8, name, nl);
	}
	*last = *at;
	*at += sz;
}

/* A directory's entries (buf NULL: only its size, in whole chunks). */
static size_t
dir_fill(const struct ffsw_node *d, char *buf)
{
	size_t at = 0, last = 0, i;
	const struct ffsw_node *up = d->parent != NULL ? d->parent : d;

	dir_put(buf, &at, &last, (uint32_t)d->ino, S_IFDIR, ".");
	dir_put(buf, &at, &last, (uint32_t)up->ino, S_IFDIR, "..");
	for (i = 0; i < d->nents; i++)
		dir_put(buf, &at, &last, (uint32_t)d->ents[i].node->ino,
		    d->ents[i].node->mode, d->ents[i].name);
	return ROUNDUP(at, FFSW_DIRBLKSIZ);
}

/* Put addr at index i of an indirect block, or of the inode. */
static void
ptr_put(struct lay *l, char *buf, uint64_t i, int64_t addr)
{
	if (l->v2)
		memcpy(buf + i * 8, &addr, 8);
	else {
		int32_t a = (int32_t)addr;

		memcpy(buf + i * 4, &a, 4);
	}
}

/* Write the indirect blocks from depth d down, and forget them. */
static int
ind_flush(struct lay *l, int d)
{
	int i;

	for (i = 2; i >= d; i--) {
		struct ind *b = &l->ind[i];

		if (b->live && b->addr != 0 &&
		    sink_write(l, b->addr, b->buf, (size_t)l->fs.bsize) == -1)
			return -1;
		b->live = false;
		b->addr = 0;
	}
	return 0;
}

/*
 * The indirect blocks above block lbn (>= NDADDR) of n, allocated
 * where they are not yet (before the data they point to); *slot the
 * block and *idx the index where lbn's address goes.
 */
static int
ind_path(struct lay *l, struct ffsw_node *n, uint64_t lbn, char **slot,
    uint64_t *idx)
{
	uint64_t nin = (uint64_t)l->fs.nindir, r = lbn - FFSW_NDADDR;
	uint64_t span = nin;
	int level = 0, d;

	while (r >= span) {
		r -= span;
		span *= nin;
		level++;
	}
	for (d = 0; d <= level; d++) {
		struct ind *b = &l->ind[d];
		uint64_t id = r / span, e;

		span /= nin;
		e = (r / span) % nin;
		if (!b->live || b->level != level || b->id != id) {
			if (ind_flush(l, d) == -1)
				return -1;
			b->live = true;
			b->level = level;
			b->id = id;
			memset(b->buf, 0, (size_t)l->fs.bsize);
		}
		if (b->addr == 0) {
			if (alloc_block(l, &b->addr) == -1)
				return -1;
			n->blocks += (uint64_t)l->fs.bsize / FFSW_DEV_BSIZE;
			if (d == 0)
				n->ib[level] = b->addr;
			else
				ptr_put(l, l->ind[d - 1].buf, *idx, b->addr);
		}
		*slot = b->buf;
		*idx = e;
	}
	return 0;
}

/* Where the next data of n is at or after off (a host file's holes). */
static uint64_t
next_data(const struct ffsw_node *n, uint64_t off)
{
#ifdef SEEK_DATA
	off_t d;

	if (n->src != FFSW_FD)
		return off;
	d = lseek(n->fd, (off_t)off, SEEK_DATA);
	if (d == -1)
		return errno == ENXIO ? n->size : off;
	return (uint64_t)d > off ? (uint64_t)d : off;
#else
	return off;		/* every block read, and zeros left out */
#endif
}

/* Block lbn of n, len bytes of it, into alloc bytes allocated. */
static int
put_block(struct lay *l, struct ffsw_node *n, uint64_t lbn, size_t alloc)
{
	int64_t addr;
	char *slot = NULL;
	uint64_t idx = 0;

	if (lbn >= FFSW_NDADDR && ind_path(l, n, lbn, &slot, &idx) == -1)
		return -1;
	if (alloc == (size_t)l->fs.bsize ? alloc_block(l, &addr) :
	    alloc_frags(l, (int)(alloc / (size_t)l->fs.fsize), &addr))
		return -1;
	if (slot != NULL)
		ptr_put(l, slot, idx, addr);
	else
		n->db[lbn] = addr;
	n->blocks += alloc / FFSW_DEV_BSIZE;
	return sink_write(l, addr, l->buf, alloc);
}

/* The data of n (from mem, or its content), its blocks allocated. */
static int
put_data(struct lay *l, struct ffsw_node *n, const char *mem, uint64_t size)
{
	uint64_t bs = (uint64_t)l->fs.bsize, nblk = HOWMANY(size, bs), lbn;

	for (lbn = 0; lbn < nblk; lbn++) {
		uint64_t off = lbn * bs;
		size_t len = (size_t)(size - off < bs ? size - off : bs);
		size_t alloc = (size_t)bs;
		bool last = lbn == nblk - 1;

		if (!last && mem == NULL && next_data(n, off) >= off + bs) {
			lbn = next_data(n, off) / bs;
			lbn = lbn >= nblk ? nblk - 2 : lbn - 1;
			continue;
		}
		if (last && lbn < FFSW_NDADDR)
			alloc = ROUNDUP(len, (size_t)l->fs.fsize);
		memset(l->buf, 0, (size_t)bs);
		if (mem != NULL)
			memcpy(l->buf, mem + off, len);
		else if (ffsw_content(l->ft, n, off, l->buf, len) == -1) {
			sr_prefixerr("%s: reading its content", l->path);
			return -1;
		}
		if (!last && sr_zeros(l->buf, len))
			continue;
		if (put_block(l, n, lbn, alloc) == -1)
			return -1;
	}
	return ind_flush(l, 0);
}

/* The content of node n (a directory, a file, a link) into the image. */
static int
put_node(struct lay *l, struct ffsw_node *n)
{
	char *dir;
	size_t len;
	int rv;

	if (S_ISDIR(n->mode)) {
		len = dir_fill(n, NULL);
		if ((dir = calloc(1, len)) == NULL)
			return sr_oom();
		(void)dir_fill(n, dir);
		n->size = len;
		rv = put_data(l, n, dir, len);
		explicit_bzero(dir, len);
		free(dir);
		return rv;
	}
	if (S_ISLNK(n->mode))
		return n->size < (uint64_t)l->fs.maxsymlinklen ? 0 :
		    put_data(l, n, n->data, n->size);
	if (S_ISREG(n->mode)) {
		if (n->size > (uint64_t)l->fs.maxfilesize) {
			sr_seterr("%s: %s: too large for the file system",
			    l->path, sr_size(n->size));
			errno = EFBIG;
			return -1;
		}
		return put_data(l, n, NULL, n->size);
	}
	return 0;
}

/* Write every node's content, depth first (the names for messages). */
static int
put_tree(struct lay *l, struct ffsw_node *d)
{
	size_t i;

	if (put_node(l, d) == -1)
		return -1;
	d->written = true;
	for (i = 0; i < d->nents; i++) {
		struct ffsw_node *n = d->ents[i].node;
		size_t len = path_push(l, d->ents[i].name);
		int rv = 0;

		if (S_ISDIR(n->mode))
			rv = put_tree(l, n);
		else if (!n->written) {
			rv = put_node(l, n);
			n->written = true;
		}
		l->path[len] = '\0';
		if (rv == -1)
			return -1;
	}
	return 0;
}

/* An FFSv1 inode (its times are 32-bit: those past 2038 wrap). */
static void
dinode1(const struct lay *l, const struct ffsw_node *n, char *at)
{
	struct ffsw_dinode1 di;
	int i;

	memset(&di, 0, sizeof(di));
	di.mode = (uint16_t)n->mode;
	di.nlink = (int16_t)(S_ISDIR(n->mode) ? 2 + n->nsubdirs : n->refs);
	di.size = S_ISREG(n->mode) || S_ISDIR(n->mode) || S_ISLNK(n->mode) ?
	    n->size : 0;
	di.atime = (int32_t)n->atime.tv_sec;
	di.atimensec = (int32_t)n->atime.tv_nsec;
	di.mtime = (int32_t)n->mtime.tv_sec;
	di.mtimensec = (int32_t)n->mtime.tv_nsec;
	di.ctime = (int32_t)n->ctime.tv_sec;
	di.ctimensec = (int32_t)n->ctime.tv_nsec;
	for (i = 0; i < FFSW_NDADDR; i++)
		di.db[i] = (int32_t)n->db[i];
	for (i = 0; i < FFSW_NIADDR; i++)
		di.ib[i] = (int32_t)n->ib[i];
	if (S_ISCHR(n->mode) || S_ISBLK(n->mode))
		di.db[0] = (int32_t)n->rdev;
	if (S_ISLNK(n->mode) && n->size < (uint64_t)l->fs.maxsymlinklen)
		memcpy(di.db, n->data, (size_t)n->size);
	di.flags = n->flags;
	di.blocks = (uint32_t)n->blocks;
	di.uid = n->uid;
	di.gid = n->gid;
	memcpy(at, &di, sizeof(di));
}

/* An FFSv2 inode: 64-bit times, and the birth time. */
static void
dinode2(const struct lay *l, const struct ffsw_node *n, char *at)
{
	struct ffsw_dinode2 di;
	int i;

	memset(&di, 0, sizeof(di));
	di.mode = (uint16_t)n->mode;
	di.nlink = (int16_t)(S_ISDIR(n->mode) ? 2 + n->nsubdirs : n->refs);
	di.uid = n->uid;
	di.gid = n->gid;
	di.size = S_ISREG(n->mode) || S_ISDIR(n->mode) || S_ISLNK(n->mode) ?
	    n->size : 0;
	di.blocks = n->blocks;
	di.atime = n->atime.tv_sec;
	di.atimensec = (int32_t)n->atime.tv_nsec;
	di.mtime = n->mtime.tv_sec;
	di.mtimensec = (int32_t)n->mtime.tv_nsec;
	di.ctime = n->ctime.tv_sec;
	di.ctimensec = (int32_t)n->ctime.tv_nsec;
	di.birthtime = n->btime.tv_sec;
	di.birthnsec = (int32_t)n->btime.tv_nsec;
	di.flags = n->flags;
	for (i = 0; i < FFSW_NDADDR; i++)
		di.db[i] = n->db[i];
	for (i = 0; i < FFSW_NIADDR; i++)
		di.ib[i] = n->ib[i];
	if (S_ISCHR(n->mode) || S_ISBLK(n->mode))
		di.db[0] = (int64_t)n->rdev;
	if (S_ISLNK(n->mode) && n->size < (uint64_t)l->fs.maxsymlinklen)
		memcpy(di.db, n->data, (size_t)n->size);
	memcpy(at, &di, sizeof(di));
}

/* Group c's inode blocks: its nodes, in the order they were numbered. */
static int
put_inodes(struct lay *l, int c)
{
	const struct ffsw_fs *fs = &l->fs;
	size_t isz = l->v2 ? 256 : 128;
	int64_t at = cgbase(fs, c) + fs->iblkno;
	uint32_t i, nblk = (uint32_t)HOWMANY(l->icount[c], fs->inopb);
	const struct ffsw_node *n = l->ihead[c];
	uint32_t ino = c == 0 ? FFSW_ROOTINO : 0;

	for (i = 0; i < nblk; i++) {
		memset(l->buf, 0, (size_t)fs->bsize);
		for (; n != NULL && ino < (i + 1) * (uint32_t)fs->inopb;
		    n = n->next, ino++) {
			char *p = l->buf + (ino % (uint32_t)fs->inopb) * isz;

			if (l->v2)
				dinode2(l, n, p);
			else
				dinode1(l, n, p);
		}
		if (sink_write(l, at + (int64_t)i * fs->frag, l->buf,
		    (size_t)fs->bsize) == -1)
			return -1;
	}
	return 0;
}

static void
setbit8(uint8_t *map, uint64_t i)
{
	map[i >> 3] |= (uint8_t)(1 << (i & 7));
}

/* Group c's free maps and counts, from what is used; into cg/maps. */
static void
cg_maps(struct lay *l, int c, struct ffsw_cg *cg, uint8_t *base)
{
	const struct ffsw_fs *fs = &l->fs;
	int64_t b0 = cgbase(fs, c), i, j;
	uint8_t *free = base + cg->freeoff;
	int32_t run = 0, *sum = (int32_t *)(void *)(base + cg->clustersumoff);
	int32_t s;

	for (i = 0; i < cg->ndblk; i += fs->frag) {
		int nfree = 0, r = 0;

		for (j = 0; j < fs->frag; j++) {
			if (i + j < cg->ndblk && !isused(l, b0 + i + j)) {
				setbit8(free, (uint64_t)(i + j));
				nfree++;
				r++;
				continue;
			}
			if (r > 0 && r < fs->frag)
				cg->frsum[r]++;
			r = 0;
		}
		if (nfree == fs->frag) {
			cg->cs.nbfree++;
			if (fs->contigsumsize > 0)
				setbit8(base + cg->clusteroff,
				    (uint64_t)(i >> fs->fragshift));
		} else {
			if (r > 0)
				cg->frsum[r]++;
			cg->cs.nffree += nfree;
		}
		if (fs->contigsumsize <= 0 || (i >> fs->fragshift) >=
		    cg->nclusterblks)
			continue;
		if (nfree == fs->frag)
			run++;
		else if (run > 0) {
			memcpy(&s, sum + (run < fs->contigsumsize ? run :
			    fs->contigsumsize), 4);
			s++;
			memcpy(sum + (run < fs->contigsumsize ? run :
			    fs->contigsumsize), &s, 4);
			run = 0;
		}
	}
	if (run > 0) {
		int k = run < fs->contigsumsize ? run : fs->contigsumsize;

		memcpy(&s, sum + k, 4);
		s++;
		memcpy(sum + k, &s, 4);
	}
}

/* Group c's header: where its maps are, and its inodes. */
static void
cg_head(struct lay *l, int c, struct ffsw_cg *cg, uint8_t *base)
{
	const struct ffsw_fs *fs = &l->fs;
	int64_t dmax = cgbase(fs, c) + fs->fpg;
	uint32_t i;

	if (dmax > fs->size)
		dmax = fs->size;
	cg->magic = FFSW_CG_MAGIC;
	cg->cgx = c;
	cg->ndblk = (int32_t)(dmax - cgbase(fs, c));
	if (fs->contigsumsize > 0)
		cg->nclusterblks = cg->ndblk >> fs->fragshift;
	if (l->v2) {
		cg->iusedoff = CG_START;
		cg->niblk = fs->ipg;
		cg->initediblk = (int32_t)ROUNDUP(l->icount[c],
		    (uint32_t)fs->inopb);
		if (cg->initediblk < 2 * fs->inopb)
			cg->initediblk = 2 * fs->inopb;
		if (cg->initediblk > fs->ipg)
			cg->initediblk = fs->ipg;
		cg->time = fs->time;
	} else {
		cg->old_ncyl = 1;	/* fs_old_cpg: a cylinder a group */
		cg->old_niblk = (int16_t)fs->ipg;
		cg->old_time = (int32_t)fs->time;
		cg->old_btotoff = CG_START;
		cg->old_boff = cg->old_btotoff + (int32_t)sizeof(int32_t);
		cg->iusedoff = cg->old_boff + (int32_t)sizeof(uint16_t);
	}
	cg->freeoff = cg->iusedoff + (int32_t)HOWMANY(fs->ipg, 8);
	cg->nextfreeoff = cg->freeoff + (int32_t)HOWMANY(fs->fpg, 8);
	if (fs->contigsumsize > 0) {
		cg->clustersumoff = (int32_t)ROUNDUP(cg->nextfreeoff -
		    (int32_t)sizeof(int32_t), 4);
		cg->clusteroff = cg->clustersumoff +
		    (fs->contigsumsize + 1) * (int32_t)sizeof(int32_t);
		cg->nextfreeoff = cg->clusteroff +
		    (int32_t)HOWMANY(fs->fpg >> fs->fragshift, 8);
	}
	cg->cs.nifree = fs->ipg - (int32_t)l->icount[c];
	cg->cs.ndir = (int32_t)l->ndirs[c];
	for (i = 0; i < l->icount[c]; i++)
		setbit8(base + cg->iusedoff, i);
}

/*
 * Group c: its header and maps, its superblock copy, its inodes; with
 * sb NULL only its summary into cs[c].
 */
static int
put_cg(struct lay *l, int c, struct ffsw_csum *cs, const char *sb)
{
	const struct ffsw_fs *fs = &l->fs;
	uint8_t *base = (uint8_t *)l->buf;
	struct ffsw_cg cg;

	memset(&cg, 0, sizeof(cg));
	memset(base, 0, (size_t)fs->bsize);
	cg_head(l, c, &cg, base);
	cg_maps(l, c, &cg, base);
	memcpy(base, &cg, sizeof(cg));
	cs[c] = cg.cs;
	if (sb == NULL)
		return 0;
	if (sink_write(l, cgbase(fs, c) + fs->cblkno, base,
	    (size_t)fs->cgsize) == -1 ||
	    sink_write(l, cgbase(fs, c) + fs->sblkno, sb, FFSW_SBSIZE) == -1)
		return -1;
	return put_inodes(l, c);
}

/* The summaries, the superblock and its copies, the groups. */
static int
put_meta(struct lay *l)
{
	struct ffsw_fs *fs = &l->fs;
	struct ffsw_csum *cs;
	char *sb;
	size_t cslen = (size_t)fs->cssize;
	int c, rv = -1;

	if ((cs = calloc(1, cslen)) == NULL || (sb = calloc(1,
	    FFSW_SBSIZE)) == NULL) {
		free(cs);
		return sr_oom();
	}
	memset(&fs->cstotal, 0, sizeof(fs->cstotal));
	for (c = 0; c < fs->ncg; c++) {
		(void)put_cg(l, c, cs, NULL);
		fs->cstotal.ndir += cs[c].ndir;
		fs->cstotal.nbfree += cs[c].nbfree;
		fs->cstotal.nifree += cs[c].nifree;
		fs->cstotal.nffree += cs[c].nffree;
	}
	if (!l->v2) {
		fs->old_cstotal.ndir = (int32_t)fs->cstotal.ndir;
		fs->old_cstotal.nbfree = (int32_t)fs->cstotal.nbfree;
		fs->old_cstotal.nifree = (int32_t)fs->cstotal.nifree;
		fs->old_cstotal.nffree = (int32_t)fs->cstotal.nffree;
	}
	memcpy(sb, fs, sizeof(*fs));
	for (c = 0; c < fs->ncg; c++)
		if (put_cg(l, c, cs, sb) == -1)
			goto out;
	if (sink_write(l, fs->csaddr, cs, cslen) == -1 ||
	    l->ft->sink.pwrite(l->ft->sink.ctx, (uint64_t)fs->sblockloc, sb,
	    FFSW_SBSIZE) == -1)
		goto out;
	rv = 0;
out:
	free(cs);
	free(sb);
	return rv;
}

/* Forget a previous layout's numbers (a tree may be synced again). */
static void
reset(struct ffsw_node *d)
{
	size_t i;

	d->ino = 0;
	d->blocks = 0;
	d->written = false;
	memset(d->db, 0, sizeof(d->db));
	memset(d->ib, 0, sizeof(d->ib));
	for (i = 0; i < d->nents; i++)
		reset(d->ents[i].node);
}

static void
lay_free(struct lay *l)
{
	int i;

	free(l->used);
	free(l->icount);
	free(l->ndirs);
	free(l->ihead);
	free(l->itail);
	/* They held file contents and names: an encrypted guest's too. */
	if (l->buf != NULL)
		explicit_bzero(l->buf, (size_t)l->fs.bsize);
	free(l->buf);
	for (i = 0; i < 3; i++) {
		if (l->ind[i].buf != NULL)
			explicit_bzero(l->ind[i].buf, (size_t)l->fs.bsize);
		free(l->ind[i].buf);
	}
	free(l);
}

static struct lay *
lay_new(struct ffsw_tree *ft)
{
	struct lay *l = calloc(1, sizeof(*l));
	size_t ncg;
	int i;

	if (l == NULL)
		return NULL;
	if (sb_init(&ft->p, &l->fs) == -1) {
		free(l);
		return NULL;
	}
	l->ft = ft;
	l->v2 = ft->p.version == 2;
	ncg = (size_t)l->fs.ncg;
	l->used = calloc(1, (size_t)HOWMANY(l->fs.size, 8));
	l->icount = calloc(ncg, sizeof(*l->icount));
	l->ndirs = calloc(ncg, sizeof(*l->ndirs));
	l->ihead = calloc(ncg, sizeof(*l->ihead));
	l->itail = calloc(ncg, sizeof(*l->itail));
	l->buf = malloc((size_t)l->fs.bsize);
	for (i = 0; i < 3; i++)
		l->ind[i].buf = malloc((size_t)l->fs.bsize);
	if (l->used == NULL || l->icount == NULL || l->ndirs == NULL ||
	    l->ihead == NULL || l->itail == NULL || l->buf == NULL ||
	    l->ind[0].buf == NULL || l->ind[1].buf == NULL ||
	    l->ind[2].buf == NULL) {
		lay_free(l);
		sr_oom();
		return NULL;
	}
	return l;
}

/* Lay the tree out to its sink: the whole image, in one pass. */
int
ffsw_layout(struct ffsw_tree *ft)
{
	struct lay *l;
	int rv = -1;

	if ((l = lay_new(ft)) == NULL)
		return -1;
	reset(ft->root);
	if (ft->sink.start != NULL && ft->sink.start(ft->sink.ctx) == -1)
		goto out;
	mark_meta(l);
	l->cursor = l->fs.dblkno;
	l->icount[0] = FFSW_ROOTINO;
	l->dircg = 0;
	if (ialloc(l, ft->root, 0) == -1 || number(l, ft->root, 0) == -1)
		goto out;
	*l->path = '\0';
	if (put_tree(l, ft->root) == -1 || put_meta(l) == -1)
		goto out;
	if (ft->sink.finish != NULL &&
	    ft->sink.finish(ft->sink.ctx, ft->sink.size) == -1)
		goto out;
	rv = 0;
out:
	lay_free(l);
	return rv;
}

/* The host file sink ---------------------------------------------------- */

/* Runs of 4 KiB pieces that are not all zeros, each in one write. */
static int
fd_pwrite(void *ctx, uint64_t off, const void *buf, size_t len)
{
	const char *p = buf;
	int fd = (int)(intptr_t)ctx;
	size_t at = 0;

	while (at < len) {
		size_t end = at, n;
		ssize_t w;

		while (end < len && !sr_zeros(p + end, len - end < 4096 ?
		    len - end : 4096))
			end += len - end < 4096 ? len - end : 4096;
		if (end == at) {
			at += len - at < 4096 ? len - at : 4096;
			continue;
		}
		for (n = at; n < end; n += (size_t)w) {
			w = pwrite(fd, p + n, end - n, (off_t)(off + n));
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				sr_seterrno("writing the image");
				return -1;
			}
		}
		at = end;
	}
	return 0;
}

static int
fd_start(void *ctx)
{
	if (ftruncate((int)(intptr_t)ctx, 0) == -1) {
		sr_seterrno("emptying the image");
		return -1;
	}
	return 0;
}

static int
fd_finish(void *ctx, uint64_t size)
{
	if (ftruncate((int)(intptr_t)ctx, (off_t)size) == -1) {
		sr_seterrno("setting the image's size");
		return -1;
	}
	return 0;
}

/* A sink writing sparse to the host file fd, emptied first. */
void
ffsw_sink_fd(struct ffsw_sink *s, int fd, uint64_t size, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->ctx = (void *)(intptr_t)fd;
	s->start = fd_start;
	s->pwrite = fd_pwrite;
	s->finish = fd_finish;
	s->size = size;
	s->name = name;
}
