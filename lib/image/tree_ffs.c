/*
 * A guest tree in an FFS image, read with libtsk (tree.h): for a root
 * this host cannot or may not mount.  Read-only: the write operations
 * are left out, so tree.c refuses them (EROFS).
 *
 * Every path is checked as a directory tree's are (dir_check_rel()) and
 * looked up a component at a time, no link followed (ffs_lookup());
 * "" is the root inode, as tree.h wants.  lstat answers from the inode:
 * the true owner, group, mode, times and device numbers, whoever reads
 * it; st_dev is 0 and st_ino the inode number; st_blocks is not known
 * (0).  The image is the guest's: every size and name in it is checked
 * before libtsk acts on it.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include <tsk/libtsk.h>
#include <tsk/fs/tsk_ffs.h>

#include "tree/dir.h"
#include "image/ffsread.h"
#include "tree/tree.h"

struct ffstree {
	struct tree t;
	struct ffsimg fi;
	char	*path;		/* fi.path, our own copy */
	TSK_IMG_INFO *img;
	TSK_FS_INFO *fs;
	/*
	 * The file last read with pread, kept open: libtsk loads a file's
	 * block map when it is opened and first read, so a file read a
	 * block at a time (a copy into a new image) would cost its whole
	 * map for every block.
	 */
	TSK_FS_FILE *cur;
	char	*currel;
};

#define FT(t)	((struct ffstree *)(void *)(t))

/* The file at rel, for step (named in messages); NULL: see ffs_lookup(). */
static TSK_FS_FILE *
ft_open(struct tree *t, const char *rel, const char *step)
{
	if (dir_check_rel(rel) == -1)
		return NULL;
	return ffs_lookup(FT(t)->fs, &FT(t)->fi, rel, step);
}

/* Fail step on rel with err; f (if any) is closed. */
static int
ft_fail(TSK_FS_FILE *f, const char *rel, const char *step, int err,
    const char *why)
{
	if (f != NULL)
		tsk_fs_file_close(f);
	sr_seterr("%s: %s: %s", sr_shortpath(rel), step, why);
	errno = err;
	return -1;
}

/*
 * The regular file at rel, of a size libtsk can read, for step; NULL
 * with a message as dir.c words it for a host tree.
 */
static TSK_FS_FILE *
ft_open_file(struct tree *t, const char *rel, const char *step)
{
	TSK_FS_FILE *f;
	char why[128];

	if ((f = ft_open(t, rel, step)) == NULL)
		return NULL;
	if (f->meta->type == TSK_FS_META_TYPE_LNK)
		ft_fail(f, rel, step, ELOOP, "is a symbolic link (refused)");
	else if (f->meta->type != TSK_FS_META_TYPE_REG)
		ft_fail(f, rel, step, EINVAL, "not a regular file");
	else if (f->meta->size < 0 ||
	    f->meta->size > ffs_maxsize(&FT(t)->fi)) {
		snprintf(why, sizeof(why), "a file of %s, more than libtsk can "
		    "read (%s at most; refused)", f->meta->size < 0 ?
		    "a negative size" : sr_size((uint64_t)f->meta->size),
		    sr_size((uint64_t)ffs_maxsize(&FT(t)->fi)));
		ft_fail(f, rel, step, EFBIG, why);
	} else
		return f;
	return NULL;
}

/* Up to len bytes of f's content from off: the count, or -1. */
static ssize_t
ft_content(TSK_FS_FILE *f, const char *rel, uint64_t off, char *buf,
    size_t len)
{
	uint64_t size = (uint64_t)f->meta->size;
	size_t done = 0;

	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	while (done < len) {
		ssize_t n = tsk_fs_file_read(f, (TSK_OFF_T)(off + done),
		    buf + done, len - done, TSK_FS_FILE_READ_FLAG_NONE);

		if (n <= 0) {
			sr_seterr("%s: read from the image: %s",
			    sr_shortpath(rel), tsk_error_get() ?
			    tsk_error_get() : "short read");
			errno = EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static void
ft_times(const TSK_FS_META *m, struct stat *st)
{
	st->st_mtim.tv_sec = m->mtime;
	st->st_mtim.tv_nsec = (long)m->mtime_nano;
	st->st_atim.tv_sec = m->atime;
	st->st_atim.tv_nsec = (long)m->atime_nano;
	st->st_ctim.tv_sec = m->ctime;
	st->st_ctim.tv_nsec = (long)m->ctime_nano;
}

static int
ft_lstat(struct tree *t, const char *rel, struct stat *st)
{
	TSK_FS_FILE *f;
	const TSK_FS_META *m;
	unsigned long maj, min;

	if ((f = ft_open(t, rel, "stat")) == NULL)
		return -1;
	m = f->meta;
	memset(st, 0, sizeof(*st));
	if ((st->st_mode = ffs_mode(f)) == 0 || m->size < 0)
		return ft_fail(f, rel, "stat", EIO, "an inode of no kind of "
		    "file, or of a negative size (corrupt; refused)");
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		if (!ffs_rdev(f, &maj, &min))
			return ft_fail(f, rel, "stat", EIO, "device numbers "
			    "unreadable (corrupt; refused)");
		st->st_rdev = makedev(maj, min);
	}
	st->st_ino = (ino_t)m->addr;
	st->st_nlink = (nlink_t)m->nlink;
	st->st_uid = (uid_t)m->uid;
	st->st_gid = (gid_t)m->gid;
	st->st_size = (off_t)m->size;
	st->st_blksize = (blksize_t)FT(t)->fs->block_size;
	ft_times(m, st);
	tsk_fs_file_close(f);
	return 0;
}

static int
ft_read(struct tree *t, const char *rel, size_t max, struct sbuf *out)
{
	char buf[65536];
	TSK_FS_FILE *f;
	uint64_t off = 0;
	ssize_t n;

	if ((f = ft_open_file(t, rel, "read")) == NULL)
		return -1;
	if ((uint64_t)f->meta->size > max) {
		sr_seterr("%s: read: larger than %zu bytes", rel, max);
		tsk_fs_file_close(f);
		errno = EFBIG;
		return -1;
	}
	while ((n = ft_content(f, rel, off, buf, sizeof(buf))) > 0) {
		if (sbuf_add(out, buf, (size_t)n) == -1) {
			tsk_fs_file_close(f);
			return -1;
		}
		off += (uint64_t)n;
	}
	tsk_fs_file_close(f);
	if (n == -1 || (out->s == NULL && sbuf_add(out, "", 0) == -1))
		return -1;
	return 0;
}

static void
ft_forget(struct ffstree *ft)
{
	if (ft->cur != NULL)
		tsk_fs_file_close(ft->cur);
	free(ft->currel);
	ft->cur = NULL;
	ft->currel = NULL;
}

static ssize_t
ft_pread(struct tree *t, const char *rel, uint64_t off, void *buf, size_t len)
{
	struct ffstree *ft = FT(t);
	TSK_FS_FILE *f;

	if (ft->cur == NULL || strcmp(ft->currel, rel) != 0) {
		ft_forget(ft);
		if ((f = ft_open_file(t, rel, "read")) == NULL)
			return -1;
		if ((ft->currel = strdup(rel)) == NULL) {
			tsk_fs_file_close(f);
			return sr_oom();
		}
		ft->cur = f;
	}
	return ft_content(ft->cur, rel, off, buf, len);
}

static int
cmpname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the directory d (at rel), sorted, each once. */
static int
ft_names(TSK_FS_DIR *d, const char *rel, char ***out)
{
	size_t i, n = 0, count = tsk_fs_dir_getsize(d);
	char **v;
	int r;

	if ((v = calloc(count + 1, sizeof(*v))) == NULL)
		return sr_oom();
	for (i = 0; i < count; i++) {
		TSK_FS_FILE *f = tsk_fs_dir_get(d, i);

		if (f == NULL)
			continue;
		r = ffs_dirent_ok(f, rel);
		if (r == 1 && (v[n++] = strdup(f->name->name)) == NULL)
			r = sr_oom();
		tsk_fs_file_close(f);
		if (r == -1)
			goto fail;
	}
	qsort(v, n, sizeof(*v), cmpname);
	/* FFS never holds a name twice: a walk would take it twice. */
	for (i = 1; i < n; i++)
		if (strcmp(v[i - 1], v[i]) == 0) {
			sr_seterr("%s: a name twice in this directory (corrupt; "
			    "refused): %s", sr_shortpath(*rel ? rel : "/"),
			    v[i]);
			errno = EIO;
			goto fail;
		}
	*out = v;
	return 0;
fail:
	tree_freelist(v);
	return -1;
}

static int
ft_list(struct tree *t, const char *rel, char ***out)
{
	TSK_FS_FILE *f;
	TSK_FS_DIR *d;
	TSK_INUM_T inum;
	int rv;

	if ((f = ft_open(t, rel, "list")) == NULL)
		return -1;
	if (f->meta->type == TSK_FS_META_TYPE_LNK)
		return ft_fail(f, rel, "list", ELOOP, "a symbolic link in the "
		    "path (refused)");
	if (f->meta->type != TSK_FS_META_TYPE_DIR)
		return ft_fail(f, rel, "list", ENOTDIR, strerror(ENOTDIR));
	if (!ffs_dir_readable(f, &FT(t)->fi))
		return ft_fail(f, rel, "list", EIO, "a directory of an "
		    "impossible size (corrupt; refused)");
	inum = f->meta->addr;
	tsk_fs_file_close(f);
	if ((d = tsk_fs_dir_open_meta(FT(t)->fs, inum)) == NULL)
		return ft_fail(NULL, rel, "list", EIO, tsk_error_get() ?
		    tsk_error_get() : "unreadable");
	rv = ft_names(d, rel, out);
	tsk_fs_dir_close(d);
	return rv;
}

static int
ft_readlink(struct tree *t, const char *rel, struct sbuf *out)
{
	TSK_FS_FILE *f;
	int rv;

	if ((f = ft_open(t, rel, "read link")) == NULL)
		return -1;
	if (f->meta->type != TSK_FS_META_TYPE_LNK)
		return ft_fail(f, rel, "read link", EINVAL, "not a symbolic "
		    "link");
	if (f->meta->link == NULL)
		return ft_fail(f, rel, "read link", EIO, "its target is "
		    "unreadable");
	if (strlen(f->meta->link) >= PATH_MAX)
		return ft_fail(f, rel, "read link", ENAMETOOLONG, "longer than "
		    "PATH_MAX bytes");
	rv = sbuf_adds(out, f->meta->link);
	tsk_fs_file_close(f);
	return rv;
}

static void
ft_close(struct tree *t)
{
	ft_forget(FT(t));
	ffs_fs_close(FT(t)->img, FT(t)->fs);
	free(FT(t)->path);
	free(t);
}

/* A 32-bit field of the image in its byte order (libtsk's are internal). */
static uint32_t
ft_u32(TSK_ENDIAN_ENUM e, const void *p)
{
	const uint8_t *b = p;

	if (e == TSK_BIG_ENDIAN)
		return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
	return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[1] << 8 | b[0];
}
/* What tsk_ffs.h's macros (itod_lcl, itoo_lcl) read fields with. */
#define tsk_getu32(e, p)	ft_u32((e), (p))
#define tsk_gets32(e, p)	((int32_t)ft_u32((e), (p)))

/*
 * An inode's file flags (di_flags): libtsk's TSK_FS_META does not carry
 * them, so the inode is read where FFS keeps it (itod/itoo, libtsk's
 * own macros over its superblock; a fragment is libtsk's block).
 */
static int
ft_getflags(struct tree *t, const char *rel, uint32_t *flags)
{
	TSK_FS_INFO *fs = FT(t)->fs;
	FFS_INFO *ffs = (FFS_INFO *)fs;
	TSK_FS_FILE *f;
	TSK_INUM_T ino;
	unsigned char buf[256];
	bool v1 = FT(t)->fi.version == 1;
	size_t isz = v1 ? 128 : 256, at = v1 ? 100 :
	    offsetof(ffs_inode2, di_flags);
	TSK_OFF_T off;
	unsigned perm;

	*flags = 0;
	if ((f = ft_open(t, rel, "flags")) == NULL)
		return -1;
	ino = f->meta->addr;
	perm = (unsigned)f->meta->mode & 07777;
	tsk_fs_file_close(f);
	if (tsk_gets32(fs->endian, ffs->fs.sb1->cg_inode_num) <= 0 ||
	    tsk_gets32(fs->endian, ffs->fs.sb1->fs_inopb) <= 0)
		return ft_fail(NULL, rel, "flags", EIO, "a superblock of no "
		    "inodes (corrupt; refused)");
	/* Unsigned, checked: the factors come from a hostile superblock. */
	{
		uint64_t blk = (uint64_t)itod_lcl(fs, ffs->fs.sb1, ino);
		uint64_t in = (uint64_t)itoo_lcl(fs, ffs->fs.sb1, ino) * isz;
		uint64_t bs = fs->block_size;

		if (bs == 0 || blk > (uint64_t)INT64_MAX / bs ||
		    blk * bs > (uint64_t)INT64_MAX - in)
			return ft_fail(NULL, rel, "flags", EIO, "its inode "
			    "out of range (corrupt; refused)");
		off = (TSK_OFF_T)(blk * bs + in);
	}
	if (tsk_fs_read(fs, off, (char *)buf, isz) != (ssize_t)isz)
		return ft_fail(NULL, rel, "flags", EIO, "its inode "
		    "unreadable");
	/* The inode libtsk read, or no flags of another's are copied. */
	if (((fs->endian == TSK_BIG_ENDIAN ? (unsigned)buf[0] << 8 | buf[1] :
	    (unsigned)buf[1] << 8 | buf[0]) & 07777) != perm)
		return ft_fail(NULL, rel, "flags", EIO, "its inode not where "
		    "the superblock puts it (corrupt; refused)");
	*flags = ft_u32(fs->endian, buf + at);
	return 0;
}

static const struct tree_ops ffs_ops = {
	.kind = "FFS image",
	.lstat = ft_lstat, .read = ft_read, .pread = ft_pread,
	.list = ft_list, .readlink = ft_readlink, .close = ft_close,
	.getflags = ft_getflags,
};

struct tree *
tree_ffs(const struct ffsimg *fi)
{
	struct ffstree *ft;

	if ((ft = calloc(1, sizeof(*ft))) == NULL ||
	    (ft->path = strdup(fi->path)) == NULL) {
		free(ft);
		sr_oom();
		return NULL;
	}
	ft->fi = *fi;
	ft->fi.path = ft->path;
	if (ffs_fs_open(&ft->fi, &ft->img, &ft->fs) == -1) {
		free(ft->path);
		free(ft);
		return NULL;
	}
	ft->t.ops = &ffs_ops;
	ft->t.name = ft->path;
	return &ft->t;
}
