/*
 * FFS images read with libtsk (see ffsread.h).  Names in the image are
 * untrusted: one with a '/' or that is "." or ".." is refused, and all
 * writes go through directory fds with O_NOFOLLOW and O_EXCL into a
 * stage nobody else writes.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tsk/libtsk.h>

#include "image/build.h"
#include "image/ffsread.h"
#include "tree/dir.h"


/*
 * Inodes met, by number: each directory is walked once, and a file's
 * content is copied once whatever its link count claims.  Open
 * addressing; a key is the inode number plus one (0: empty).
 */
struct inoset {
	uint64_t *key;
	char	**path;		/* the first name it was met by */
	size_t	 n, cap;
};

static char **
inoset_slot(struct inoset *s, TSK_INUM_T inum, bool *found)
{
	size_t i;

	*found = false;
	if (s->cap == 0)
		return NULL;
	for (i = (size_t)(inum * 0x9e3779b97f4a7c15ULL) & (s->cap - 1);;
	    i = (i + 1) & (s->cap - 1)) {
		if (s->key[i] == 0)
			return &s->path[i];
		if (s->key[i] == (uint64_t)inum + 1) {
			*found = true;
			return &s->path[i];
		}
	}
}

/* The first path inum was met by, or NULL. */
static const char *
inoset_get(struct inoset *s, TSK_INUM_T inum)
{
	bool found;
	char **p = inoset_slot(s, inum, &found);

	return found ? *p : NULL;
}

static int
inoset_add(struct inoset *s, TSK_INUM_T inum, const char *rel)
{
	char **p;
	bool found;

	if (2 * (s->n + 1) > s->cap) {
		struct inoset bigger = { 0 };
		size_t i;

		bigger.cap = s->cap ? 2 * s->cap : 256;
		if ((bigger.key = calloc(bigger.cap, sizeof(*bigger.key))) ==
		    NULL || (bigger.path = calloc(bigger.cap,
		    sizeof(*bigger.path))) == NULL) {
			free(bigger.key);
			return -1;
		}
		for (i = 0; i < s->cap; i++)
			if (s->key[i] != 0) {
				p = inoset_slot(&bigger, s->key[i] - 1, &found);
				bigger.key[p - bigger.path] = s->key[i];
				*p = s->path[i];
			}
		bigger.n = s->n;
		free(s->key);
		free(s->path);
		*s = bigger;
	}
	p = inoset_slot(s, inum, &found);
	if (found)
		return 0;
	if ((*p = strdup(rel)) == NULL)
		return -1;
	s->key[p - s->path] = (uint64_t)inum + 1;
	s->n++;
	return 0;
}

static void
inoset_free(struct inoset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->path[i]);
	free(s->key);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

struct walk {
	TSK_FS_INFO *fs;
	int	 stagefd;
	const char *const *exclude;
	struct spec *spec;
	struct copy_stats *cs;
	struct inoset dirs;	/* directories walked */
	struct inoset files;	/* regular files copied */
	/*
	 * What the stage may take: a file system holds no more directory
	 * and file bytes than its size, unless its blocks are shared (a
	 * hostile image).  Zeros are not written, so not counted.
	 */
	uint64_t budget;
	TSK_OFF_T maxsize;	/* the largest file libtsk reads */
};

/*
 * The largest file libtsk can read: its unix_make_data_run() walks a
 * triple indirect block entry by entry, a hole's included, and never
 * ends (2^36 bytes of hole on 8 KiB blocks).  So: 12 direct blocks, a
 * single and a double indirect one.
 */
int64_t
ffs_maxsize(const struct ffsimg *fi)
{
	int64_t n = fi->bsize / (fi->version == 1 ? 4 : 8);

	return (12 + n + n * n) * (int64_t)fi->bsize;
}

/*
 * Writing rel into the stage failed: a full file system said as such,
 * with at least what rel still needs (more).
 */
static void
stage_failed(const struct walk *w, const char *rel, uint64_t more)
{
	if (sr_noroom(errno))
		sr_seterr_noroom(w->stagefd, sr_shortpath(rel), more, true);
	else
		sr_seterrno("%s: stage", sr_shortpath(rel));
}

/* Take n bytes from the budget; fail when there are no more. */
static int
spend(struct walk *w, const char *rel, uint64_t n)
{
	if (n > w->budget) {
		sr_seterr("more data than the file system holds: blocks "
		    "shared between files (corrupt; refused): %s",
		    sr_shortpath(rel));
		return -1;
	}
	w->budget -= n;
	return 0;
}

/*
 * A device's numbers: FFS keeps them in the first block pointer, which
 * libtsk hands over as the content.  NetBSD's encoding: minor in bits
 * 0-7 and 20-31, major in bits 8-19.
 */
bool
ffs_rdev(const TSK_FS_FILE *f, unsigned long *maj, unsigned long *min)
{
	const TSK_FS_META *m = f->meta;
	uint64_t v;

	if (m == NULL || m->content_ptr == NULL || m->content_len < sizeof(TSK_DADDR_T))
		return false;
	v = (uint64_t)((const TSK_DADDR_T *)m->content_ptr)[0] & 0xffffffffu;
	*maj = (unsigned long)((v & 0x000fff00) >> 8);
	*min = (unsigned long)(((v & 0xfff00000) >> 12) | (v & 0x000000ff));
	return true;
}

/*
 * Copy [off, end) of the file's content into fd, zeros left as holes.
 * read is the attribute (or, with NULL, the file) it is read through.
 */
static int
copy_range(TSK_FS_FILE *f, const TSK_FS_ATTR *a, TSK_OFF_T off,
    TSK_OFF_T end, int fd, const char *rel, struct walk *w)
{
	static char buf[1 << 16];
	ssize_t nw;

	while (off < end) {
		size_t want = end - off < (TSK_OFF_T)sizeof(buf) ?
		    (size_t)(end - off) : sizeof(buf);
		ssize_t n = a != NULL ? tsk_fs_attr_read(a, off, buf, want,
		    TSK_FS_FILE_READ_FLAG_NONE) : tsk_fs_file_read(f, off, buf,
		    want, TSK_FS_FILE_READ_FLAG_NONE);

		if (n <= 0) {
			sr_seterr("%s: read from the image: %s",
			    sr_shortpath(rel), tsk_error_get() ?
			    tsk_error_get() : "short read");
			return -1;
		}
		/* Runs of zeros stay holes: sparse files stay sparse. */
		if (!sr_zeros(buf, (size_t)n) &&
		    (nw = pwrite(fd, buf, (size_t)n, off)) != n) {
			/* A short write to a file: the file system is full. */
			if (nw >= 0)
				errno = ENOSPC;
			stage_failed(w, rel, (uint64_t)(end - off));
			return -1;
		}
		off += n;
		w->cs->bytes += (uintmax_t)n;
		if (sr_checkpoint() == -1)
			return -1;
	}
	return 0;
}

/*
 * A regular file's content: only its allocated runs are read (a hole of
 * any size costs nothing), and they count against the budget.
 */
static int
write_content(TSK_FS_FILE *f, int fd, const char *rel, struct walk *w)
{
	TSK_OFF_T size = f->meta->size, bs = w->fs->block_size;
	const TSK_FS_ATTR *a = size > 0 ? tsk_fs_file_attr_get(f) : NULL;

	if (a != NULL && (a->flags & TSK_FS_ATTR_NONRES)) {
		const TSK_FS_ATTR_RUN *r;

		for (r = a->nrd.run; r != NULL; r = r->next) {
			TSK_OFF_T start, end;

			/* Holes, and runs past the end (a hostile inode's). */
			if ((r->flags & (TSK_FS_ATTR_RUN_FLAG_SPARSE |
			    TSK_FS_ATTR_RUN_FLAG_FILLER)) ||
			    r->offset >= (TSK_DADDR_T)((size + bs - 1) / bs))
				continue;
			start = (TSK_OFF_T)r->offset * bs;
			end = r->len >= (TSK_DADDR_T)((size - start + bs - 1) /
			    bs) ? size : start + (TSK_OFF_T)r->len * bs;
			if (spend(w, rel, (uint64_t)(end - start)) == -1 ||
			    copy_range(f, a, start, end, fd, rel, w) == -1)
				return -1;
		}
	} else if (size > 0) {
		/* Data kept in the inode (none in FFS): read it whole. */
		if (spend(w, rel, (uint64_t)size) == -1 ||
		    copy_range(f, NULL, 0, size, fd, rel, w) == -1)
			return -1;
	}
	if (ftruncate(fd, size) == -1) {
		stage_failed(w, rel, 0);
		return -1;
	}
	return 0;
}

mode_t
ffs_mode(const TSK_FS_FILE *f)
{
	static const struct {
		TSK_FS_META_TYPE_ENUM tsk;
		mode_t	 type;
	} types[] = {
		{ TSK_FS_META_TYPE_DIR, S_IFDIR },
		{ TSK_FS_META_TYPE_REG, S_IFREG },
		{ TSK_FS_META_TYPE_LNK, S_IFLNK },
		{ TSK_FS_META_TYPE_FIFO, S_IFIFO },
		{ TSK_FS_META_TYPE_CHR, S_IFCHR },
		{ TSK_FS_META_TYPE_BLK, S_IFBLK },
		{ TSK_FS_META_TYPE_SOCK, S_IFSOCK },
	};
	size_t i;

	for (i = 0; f->meta != NULL && i < sizeof(types) / sizeof(types[0]);
	    i++)
		if (f->meta->type == types[i].tsk)
			return types[i].type | ((mode_t)f->meta->mode & 07777);
	return 0;
}

static int walk_dir(struct walk *, TSK_INUM_T, const char *, int, int);

/*
 * A directory met: one libtsk can read, met by no other name (a second
 * name: a loop, or 2^n paths), its bytes counted against the budget.
 */
static int
dir_once(struct walk *w, const TSK_FS_META *m, const char *rel)
{
	const char *first = inoset_get(&w->dirs, m->addr);

	if (m->size > w->maxsize) {
		sr_seterr("read directory: a directory of %s, more than libtsk "
		    "can read (corrupt; refused): %s",
		    sr_size((uint64_t)m->size), sr_shortpath(rel));
		return -1;
	}
	if (first != NULL) {
		sr_seterr("read directory: a directory with two parents "
		    "(corrupt; refused): %s, also %s", sr_shortpath(rel),
		    sr_shortpath(first));
		return -1;
	}
	if (inoset_add(&w->dirs, m->addr, rel) == -1) {
		sr_seterrno("%s: out of memory", sr_shortpath(rel));
		return -1;
	}
	return spend(w, rel, (uint64_t)(m->size > 0 ? m->size : 0));
}

/* A directory: made in the stage, described, and walked. */
static int
entry_dir(struct walk *w, const TSK_FS_META *m, const struct spec_ent *e,
    const char *name, int dirfd, int depth)
{
	int sub, rv;

	if (dir_once(w, m, e->path) == -1)
		return -1;
	if (mkdirat(dirfd, name, 0700) == -1 ||
	    (sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		stage_failed(w, e->path, 0);
		return -1;
	}
	rv = spec_add(w->spec, e) == -1 ||
	    walk_dir(w, m->addr, e->path, sub, depth + 1) == -1 ? -1 : 0;
	close(sub);
	return rv;
}

/*
 * A regular file: one copy of its content, hard links to it, by inode
 * whatever its link count says (a hostile image may say 1).
 */
static int
entry_file(struct walk *w, TSK_FS_FILE *f, const struct spec_ent *e,
    const char *name, int dirfd)
{
	const TSK_FS_META *m = f->meta;
	const char *rel = e->path, *first = inoset_get(&w->files, m->addr);
	int fd, rv;

	if (m->size > w->maxsize) {
		sr_seterr("%s: a file of %s, more than libtsk can read (%s at "
		    "most; refused)", sr_shortpath(rel),
		    sr_size((uint64_t)m->size), sr_size((uint64_t)w->maxsize));
		return -1;
	}
	if (first != NULL) {
		if (linkat(w->stagefd, first, dirfd, name, 0) == -1) {
			sr_seterrno("%s: stage: link to %s", sr_shortpath(rel),
			    sr_shortpath(first));
			return -1;
		}
		return spec_add(w->spec, e);
	}
	if (inoset_add(&w->files, m->addr, rel) == -1) {
		sr_seterrno("%s: out of memory", sr_shortpath(rel));
		return -1;
	}
	if ((fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		stage_failed(w, rel, 0);
		return -1;
	}
	rv = write_content(f, fd, rel, w);
	close(fd);
	return rv == -1 ? -1 : spec_add(w->spec, e);
}

/*
 * A device (in the spec alone), a symbolic link or a fifo.  What cannot
 * be read of it is said, and it is left out.
 */
static int
entry_special(struct walk *w, TSK_FS_FILE *f, struct spec_ent *e,
    const char *name, int dirfd)
{
	const TSK_FS_META *m = f->meta;
	const char *rel = e->path;

	if (S_ISCHR(e->mode) || S_ISBLK(e->mode)) {
		if (!ffs_rdev(f, &e->rmajor, &e->rminor)) {
			sr_log(SR_WARN, "%s: device numbers unreadable;"
			    " left out", rel);
			return 0;
		}
		return spec_add(w->spec, e);
	}
	if (S_ISLNK(e->mode) && m->link == NULL) {
		sr_log(SR_WARN, "%s: link target unreadable; left out",
		    rel);
		return 0;
	}
	if (S_ISLNK(e->mode))
		e->link = m->link;
	if (S_ISLNK(e->mode) ? symlinkat(m->link, dirfd, name) == -1 :
	    mkfifoat(dirfd, name, 0600) == -1) {
		stage_failed(w, rel, 0);
		return -1;
	}
	return spec_add(w->spec, e);
}

/* One entry of a directory: stage it and describe it. */
static int
entry(struct walk *w, TSK_FS_FILE *f, const char *rel, const char *name,
    int dirfd, int depth)
{
	const TSK_FS_META *m = f->meta;
	struct spec_ent e;

	memset(&e, 0, sizeof(e));
	e.path = (char *)rel;
	e.uid = (uid_t)m->uid;
	e.gid = (gid_t)m->gid;
	e.mtime.tv_sec = m->mtime;
	e.mtime.tv_nsec = (long)m->mtime_nano;
	e.mode = ffs_mode(f);
	if (e.mode == 0 || S_ISSOCK(e.mode)) {
		sr_log(SR_WARN, "%s: a kind of file the image copy "
		    "cannot hold; left out", rel);
		return 0;
	}
	w->cs->entries++;
	if (S_ISDIR(e.mode))
		return entry_dir(w, m, &e, name, dirfd, depth);
	if (S_ISREG(e.mode))
		return entry_file(w, f, &e, name, dirfd);
	return entry_special(w, f, &e, name, dirfd);
}

int
ffs_dirent_ok(const TSK_FS_FILE *f, const char *rel)
{
	const char *name = f->name ? f->name->name : NULL;

	if (name == NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 ||
	    (f->name->flags & TSK_FS_NAME_FLAG_UNALLOC) ||
	    (f->name->type == TSK_FS_NAME_TYPE_VIRT_DIR ||
	    f->name->type == TSK_FS_NAME_TYPE_VIRT))
		return 0;
	if (*name == '\0' || strchr(name, '/') != NULL) {
		sr_seterr("%s: a name in this directory is not a file name "
		    "(refused)", sr_shortpath(*rel ? rel : "/"));
		errno = EIO;
		return -1;
	}
	return 1;
}

/*
 * Open directory inum (at rel, depth levels down) for a walk, refusing
 * one nested deeper than any tree we make.
 */
static TSK_FS_DIR *
open_dir(struct walk *w, TSK_INUM_T inum, const char *rel, int depth)
{
	TSK_FS_DIR *d;

	if (depth > SR_MAXDEPTH) {
		sr_seterr("read directory: nested more than %d deep (refused): "
		    "%s", SR_MAXDEPTH, sr_shortpath(rel));
		return NULL;
	}
	if ((d = tsk_fs_dir_open_meta(w->fs, inum)) == NULL)
		sr_seterr("%s: read directory: %s", sr_shortpath(*rel ? rel :
		    "/"), tsk_error_get());
	return d;
}

static int
walk_dir(struct walk *w, TSK_INUM_T inum, const char *rel, int dirfd,
    int depth)
{
	TSK_FS_DIR *d;
	size_t i, n;
	int rv = -1;

	if ((d = open_dir(w, inum, rel, depth)) == NULL)
		return -1;
	n = tsk_fs_dir_getsize(d);
	for (i = 0; i < n; i++) {
		TSK_FS_FILE *f = tsk_fs_dir_get(d, i);
		char path[PATH_MAX];
		const char *name;
		int r;

		if (f == NULL)
			continue;
		if ((r = ffs_dirent_ok(f, rel)) != 1) {
			tsk_fs_file_close(f);
			if (r == -1)
				goto done;
			continue;
		}
		name = f->name->name;
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel,
		    *rel ? "/" : "", name) >= sizeof(path)) {
			sr_seterr("read directory: a path longer than %d bytes "
			    "(refused): %s/%s", PATH_MAX - 1,
			    sr_shortpath(rel), name);
			tsk_fs_file_close(f);
			goto done;
		}
		if (path_excluded(w->exclude, path)) {
			sr_log(SR_VERBOSE, "%s: left out", path);
			w->cs->excluded++;
			tsk_fs_file_close(f);
			continue;
		}
		if (f->meta == NULL) {
			sr_log(SR_WARN, "%s: no inode readable; left "
			    "out", path);
			tsk_fs_file_close(f);
			continue;
		}
		r = entry(w, f, path, name, dirfd, depth);
		tsk_fs_file_close(f);
		if (r == -1 || sr_checkpoint() == -1)
			goto done;
	}
	rv = 0;
done:
	tsk_fs_dir_close(d);
	return rv;
}

/*
 * What makefs would count for the directory inum (rel) and below, as
 * build.c's stage_size() does for a stage: each directory once, each
 * file once, names and entries as makefs lays them out.
 */
static int
size_dir(struct walk *w, TSK_INUM_T inum, const char *rel, int depth,
    struct mfsize *m)
{
	TSK_FS_DIR *d;
	uint64_t cur = 0;
	size_t i, n;
	int rv = -1;

	if ((d = open_dir(w, inum, rel, depth)) == NULL)
		return -1;
	cur = 12 + 12;			/* "." and ".." */
	n = tsk_fs_dir_getsize(d);
	for (i = 0; i < n; i++) {
		TSK_FS_FILE *f = tsk_fs_dir_get(d, i);
		const TSK_FS_META *mt;
		char path[PATH_MAX];
		const char *name;
		uint64_t this;

		if (f == NULL)
			continue;
		name = f->name ? f->name->name : NULL;
		mt = f->meta;
		if (name == NULL || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0 || mt == NULL ||
		    (f->name->flags & TSK_FS_NAME_FLAG_UNALLOC) ||
		    f->name->type == TSK_FS_NAME_TYPE_VIRT_DIR ||
		    f->name->type == TSK_FS_NAME_TYPE_VIRT ||
		    (size_t)snprintf(path, sizeof(path), "%s%s%s", rel,
		    *rel ? "/" : "", name) >= sizeof(path) ||
		    path_excluded(w->exclude, path)) {
			tsk_fs_file_close(f);
			continue;
		}
		this = (8 + strlen(name) + 1 + 3) & ~(uint64_t)3;
		if (this + cur > (cur + 511) / 512 * 512)
			cur = (cur + 511) / 512 * 512;
		cur += this;
		if (mt->type == TSK_FS_META_TYPE_DIR) {
			if (dir_once(w, mt, path) == -1 ||
			    size_dir(w, mt->addr, path, depth + 1, m) == -1) {
				tsk_fs_file_close(f);
				goto done;
			}
			m->inodes++;
		} else if (inoset_get(&w->files, mt->addr) == NULL) {
			if (inoset_add(&w->files, mt->addr, path) == -1) {
				tsk_fs_file_close(f);
				goto done;
			}
			m->inodes++;
			if (mt->type == TSK_FS_META_TYPE_REG && mt->size > 0)
				m->data += ((uint64_t)mt->size + m->fsize - 1) /
				    m->fsize * m->fsize;
			else if (mt->type == TSK_FS_META_TYPE_LNK &&
			    mt->size > 0 && (uint64_t)mt->size + 1 >=
			    m->maxsymlink)
				m->data += ((uint64_t)mt->size + 1 + m->fsize -
				    1) / m->fsize * m->fsize;
		}
		tsk_fs_file_close(f);
		if (sr_checkpoint() == -1)
			goto done;
	}
	m->data += (cur + m->fsize - 1) / m->fsize * m->fsize;
	rv = 0;
done:
	tsk_fs_dir_close(d);
	return rv;
}

bool
ffs_dir_readable(const TSK_FS_FILE *f, const struct ffsimg *fi)
{
	const TSK_FS_META *m = f->meta;

	return m != NULL && m->type == TSK_FS_META_TYPE_DIR &&
	    m->size <= (TSK_OFF_T)fi->len && m->size <= ffs_maxsize(fi);
}

int
ffs_fs_open(const struct ffsimg *fi, TSK_IMG_INFO **img, TSK_FS_INFO **fs)
{
	TSK_FS_FILE *root;

	if (ffsimg_verify(fi) == -1)
		return -1;
	if ((*img = ffs_tsk_open(fi)) == NULL)
		return -1;
	if ((*fs = tsk_fs_open_img(*img, (TSK_OFF_T)fi->off,
	    TSK_FS_TYPE_FFS_DETECT)) == NULL) {
		sr_seterr("read image: holds no FFS file system libtsk can "
		    "read");
		tsk_img_close(*img);
		return -1;
	}
	/* Every path is looked up from the root directory: it must read. */
	if ((root = tsk_fs_file_open_meta(*fs, NULL, (*fs)->root_inum)) ==
	    NULL || !ffs_dir_readable(root, fi)) {
		sr_seterr("read image: its root directory is unreadable or of "
		    "an impossible size (corrupt; refused)");
		if (root != NULL)
			tsk_fs_file_close(root);
		ffs_fs_close(*img, *fs);
		return -1;
	}
	tsk_fs_file_close(root);
	return 0;
}

void
ffs_fs_close(TSK_IMG_INFO *img, TSK_FS_INFO *fs)
{
	if (fs != NULL)
		tsk_fs_close(fs);
	if (img != NULL)
		tsk_img_close(img);
}

/* The inode of the name of n bytes at p in directory inum, in *inum. */
static int
find_name(TSK_FS_INFO *fs, TSK_INUM_T *inum, const char *p, size_t n)
{
	TSK_FS_DIR *dir;
	size_t i, count;
	int rv = 1;

	if ((dir = tsk_fs_dir_open_meta(fs, *inum)) == NULL)
		return -1;
	count = tsk_fs_dir_getsize(dir);
	for (i = 0; i < count && rv == 1; i++) {
		const TSK_FS_NAME *nm = tsk_fs_dir_get_name(dir, i);

		if (nm != NULL && nm->name != NULL &&
		    !(nm->flags & TSK_FS_NAME_FLAG_UNALLOC) &&
		    strlen(nm->name) == n && strncmp(nm->name, p, n) == 0 &&
		    strcmp(nm->name, ".") != 0 && strcmp(nm->name, "..") != 0) {
			*inum = nm->meta_addr;
			rv = 0;
		}
	}
	tsk_fs_dir_close(dir);
	return rv;
}

/* Why a lookup of rel stopped, in a message and errno. */
static TSK_FS_FILE *
lookup_failed(TSK_FS_FILE *f, const char *rel, const char *step, int err)
{
	if (f != NULL)
		tsk_fs_file_close(f);
	rel = sr_shortpath(*rel ? rel : "/");
	if (err == ELOOP)
		sr_seterr("%s: %s: a symbolic link in the path (refused)", rel,
		    step);
	else if (err == EIO)
		sr_seterr("%s: %s: a directory in the path is unreadable or of "
		    "an impossible size (corrupt; refused)", rel, step);
	else {
		errno = err;
		sr_seterrno("%s: %s", rel, step);
	}
	errno = err;
	return NULL;
}

TSK_FS_FILE *
ffs_lookup(TSK_FS_INFO *fs, const struct ffsimg *fi, const char *rel,
    const char *step)
{
	TSK_INUM_T inum = fs->root_inum;
	const char *p = rel;

	for (;;) {
		TSK_FS_FILE *f = tsk_fs_file_open_meta(fs, NULL, inum);
		size_t n = strcspn(p, "/");
		int r;

		if (f == NULL || f->meta == NULL)
			return lookup_failed(f, rel, step, EIO);
		if (*p == '\0')
			return f;
		/* Each directory on the way is checked before libtsk reads it. */
		if (f->meta->type == TSK_FS_META_TYPE_LNK)
			return lookup_failed(f, rel, step, ELOOP);
		if (f->meta->type != TSK_FS_META_TYPE_DIR)
			return lookup_failed(f, rel, step, ENOTDIR);
		if (!ffs_dir_readable(f, fi))
			return lookup_failed(f, rel, step, EIO);
		tsk_fs_file_close(f);
		if ((r = find_name(fs, &inum, p, n)) != 0)
			return lookup_failed(NULL, rel, step, r == -1 ? EIO :
			    ENOENT);
		p += n;
		while (*p == '/')
			p++;
	}
}

int
ffs_extract(const struct ffsimg *fi, const char *const *tops,
    const char *const *exclude, int dstfd, struct spec *spec,
    struct copy_stats *cs)
{
	struct walk w;
	TSK_IMG_INFO *img;
	const char *const *t;
	int rv = -1;

	memset(&w, 0, sizeof(w));
	memset(cs, 0, sizeof(*cs));
	if (ffs_fs_open(fi, &img, &w.fs) == -1)
		return -1;
	w.stagefd = dstfd;
	w.exclude = exclude;
	w.spec = spec;
	w.cs = cs;
	w.budget = (uint64_t)fi->len;
	w.maxsize = ffs_maxsize(fi);
	if (tops == NULL) {
		/* The whole file system, as the root's own directory. */
		TSK_FS_FILE *f = tsk_fs_file_open(w.fs, NULL, "/");

		if (f == NULL || f->meta == NULL) {
			sr_seterr("/: read directory: %s", tsk_error_get());
			if (f != NULL)
				tsk_fs_file_close(f);
			goto done;
		}
		if (inoset_add(&w.dirs, f->meta->addr, "/") == -1) {
			sr_oom();
			tsk_fs_file_close(f);
			goto done;
		}
		if (spend(&w, "/", (uint64_t)(f->meta->size > 0 ?
		    f->meta->size : 0)) == -1) {
			tsk_fs_file_close(f);
			goto done;
		}
		rv = walk_dir(&w, f->meta->addr, "", dstfd, 0);
		tsk_fs_file_close(f);
		goto done;
	}
	for (t = tops; *t != NULL; t++) {
		TSK_FS_FILE *f;
		int r;

		if ((f = ffs_lookup(w.fs, fi, *t, "read directory")) == NULL ||
		    f->meta == NULL || f->meta->type != TSK_FS_META_TYPE_DIR) {
			sr_seterr("%s: not a directory in the root (refused)",
			    *t);
			if (f != NULL)
				tsk_fs_file_close(f);
			goto done;
		}
		r = entry(&w, f, *t, *t, dstfd, 0);
		tsk_fs_file_close(f);
		if (r == -1)
			goto done;
	}
	rv = 0;
done:
	inoset_free(&w.dirs);
	inoset_free(&w.files);
	ffs_fs_close(img, w.fs);
	return rv;
}

int
ffs_size(const struct ffsimg *fi, const char *const *exclude,
    struct mfsize *m)
{
	struct walk w;
	TSK_IMG_INFO *img;
	TSK_FS_FILE *f;
	int rv = -1;

	memset(&w, 0, sizeof(w));
	if (ffs_fs_open(fi, &img, &w.fs) == -1)
		return -1;
	w.exclude = exclude;
	w.budget = (uint64_t)fi->len;
	w.maxsize = ffs_maxsize(fi);
	if ((f = tsk_fs_file_open(w.fs, NULL, "/")) == NULL ||
	    f->meta == NULL) {
		sr_seterr("/: read directory: %s", tsk_error_get());
		goto done;
	}
	if (inoset_add(&w.dirs, f->meta->addr, "/") == -1)
		sr_oom();
	else if (spend(&w, "/", (uint64_t)(f->meta->size > 0 ?
	    f->meta->size : 0)) == 0)
		rv = size_dir(&w, f->meta->addr, "", 0, m);
done:
	if (f != NULL)
		tsk_fs_file_close(f);
	inoset_free(&w.dirs);
	inoset_free(&w.files);
	ffs_fs_close(img, w.fs);
	return rv;
}

struct freemap {
	uint8_t	*map;
	size_t	 n;
};

static TSK_WALK_RET_ENUM
free_block(const TSK_FS_BLOCK *b, void *arg)
{
	struct freemap *fm = arg;

	if (b->addr < fm->n && (b->flags & TSK_FS_BLOCK_FLAG_UNALLOC) &&
	    !(b->flags & TSK_FS_BLOCK_FLAG_META))
		fm->map[b->addr / 8] |= (uint8_t)(1u << (b->addr % 8));
	return TSK_WALK_CONT;
}

int
ffs_free_map(const struct ffsimg *fi, uint8_t **map, size_t *n,
    size_t *fsize)
{
	TSK_IMG_INFO *img;
	TSK_FS_INFO *fs;
	struct freemap fm;
	int rv = -1;

	*map = NULL;
	if (ffs_fs_open(fi, &img, &fs) == -1)
		return -1;
	fm.n = (size_t)fs->block_count;
	if ((fm.map = calloc((fm.n + 7) / 8, 1)) == NULL) {
		sr_seterrno("free map");
		goto done;
	}
	if (tsk_fs_block_walk(fs, fs->first_block, fs->last_block,
	    TSK_FS_BLOCK_WALK_FLAG_UNALLOC | TSK_FS_BLOCK_WALK_FLAG_AONLY,
	    free_block, &fm) != 0) {
		sr_seterr("free map: %s", tsk_error_get());
		free(fm.map);
		goto done;
	}
	*map = fm.map;
	*n = fm.n;
	*fsize = fs->block_size;
	rv = 0;
done:
	ffs_fs_close(img, fs);
	return rv;
}
