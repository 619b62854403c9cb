/*
 * A guest tree copied into an FFS image being written, and the image
 * put in place (ffscopy.h).  The copy holds no content: each file is
 * a reference (its source tree and path) read by the layout, so a root
 * read with libtsk goes from its blocks to the new image's with no
 * copy on disk.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/attach.h"
#include "image/build.h"
#include "image/ffscopy.h"
#include "image/ffsw_impl.h"

struct ffscopy_ref {
	struct tree *src;
	char	*rel;
};

/* A hard link's first name in this source, by its inode. */
struct seen {
	ino_t	 ino;
	char	*rel;
};

struct copyctx {
	struct ffscopy *c;
	struct tree *dst, *src;
	const char *nodevs;
	struct seen *seen;
	size_t	 nseen, capseen;
};

/* A file's content from its source, when the layout asks for it. */
static int
ref_read(void *arg, uint64_t off, void *buf, size_t len)
{
	struct ffscopy_ref *r = arg;
	char *p = buf;

	while (len > 0) {
		ssize_t n = tree_pread(r->src, r->rel, off, p, len);

		if (n == -1)
			return -1;
		if (n == 0) {
			sr_seterr("%s: %s: shorter than when it was copied",
			    r->src->name, r->rel);
			errno = EIO;
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static struct ffscopy_ref *
ref_new(struct ffscopy *c, struct tree *src, const char *rel)
{
	struct ffscopy_ref *r;

	if (c->nref == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct ffscopy_ref **n = reallocarray(c->refs, cap,
		    sizeof(*n));

		if (n == NULL)
			return NULL;
		c->refs = n;
		c->cap = cap;
	}
	if ((r = malloc(sizeof(*r))) == NULL)
		return NULL;
	if ((r->rel = strdup(rel)) == NULL) {
		free(r);
		return NULL;
	}
	r->src = src;
	c->refs[c->nref++] = r;
	return r;
}

static const char *
seen_find(const struct copyctx *x, ino_t ino)
{
	size_t i;

	for (i = 0; i < x->nseen; i++)
		if (x->seen[i].ino == ino)
			return x->seen[i].rel;
	return NULL;
}

static int
seen_add(struct copyctx *x, ino_t ino, const char *rel)
{
	if (x->nseen == x->capseen) {
		size_t cap = x->capseen ? x->capseen * 2 : 64;
		struct seen *n = reallocarray(x->seen, cap, sizeof(*n));

		if (n == NULL)
			return sr_oom();
		x->seen = n;
		x->capseen = cap;
	}
	if ((x->seen[x->nseen].rel = strdup(rel)) == NULL)
		return sr_oom();
	x->seen[x->nseen++].ino = ino;
	return 0;
}

/* What dst has at rel goes when the new entry cannot replace it. */
static int
clear_for(struct copyctx *x, const char *rel, mode_t mode)
{
	struct stat old;

	if (*rel == '\0' || tree_lstat(x->dst, rel, &old) == -1)
		return 0;	/* nothing there (or the write will say) */
	if (S_ISDIR(old.st_mode) == S_ISDIR(mode))
		return 0;
	return tree_remove(x->dst, rel);
}

/* One entry of a non-directory kind. */
static int
copy_other(struct copyctx *x, const char *rel, const struct stat *st,
    const struct tree_wopts *wo)
{
	struct ffscopy_ref *r;
	struct sbuf target = { 0 };
	const char *first;
	int rv;

	if (S_ISREG(st->st_mode)) {
		if (st->st_nlink > 1 && (first = seen_find(x, st->st_ino)) !=
		    NULL)
			return tree_link(x->dst, first, rel) == -1 ? -1 : 1;
		if (st->st_nlink > 1 && seen_add(x, st->st_ino, rel) == -1)
			return -1;
		if ((r = ref_new(x->c, x->src, rel)) == NULL)
			return sr_oom();
		return ffsw_add_file(x->dst, rel, (uint64_t)st->st_size,
		    ref_read, r, wo);
	}
	if (S_ISLNK(st->st_mode)) {
		if (tree_readlink(x->src, rel, &target) == -1)
			return -1;
		rv = tree_symlink(x->dst, rel, target.s, wo);
		sbuf_free(&target);
		return rv;
	}
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ||
	    S_ISFIFO(st->st_mode))
		return tree_mknod(x->dst, rel, st->st_rdev, wo);
	return 1;	/* a socket: nothing an image keeps */
}

static bool
below(const char *rel, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(rel, dir, n) == 0 && rel[n] == '/';
}

static int
copy_one(void *arg, const char *rel, const struct stat *st)
{
	struct copyctx *x = arg;
	struct tree_wopts wo = { .mode = st->st_mode & 07777,
	    .uid = st->st_uid, .gid = st->st_gid, .nosync = true };
	struct ffsw_meta m = { .atime = st->st_atim, .mtime = st->st_mtim,
	    .ctime = st->st_ctim, .birthtime = st->st_mtim };
	int r;

	if (x->nodevs != NULL && (S_ISCHR(st->st_mode) ||
	    S_ISBLK(st->st_mode)) && below(rel, x->nodevs)) {
		x->c->nodevs++;
		return 0;
	}
	if (clear_for(x, rel, st->st_mode) == -1)
		return -1;
	if (S_ISDIR(st->st_mode))
		r = (*rel == '\0' ? 0 : tree_mkdir(x->dst, rel, &wo)) == -1 ||
		    tree_setattr(x->dst, rel, &wo) == -1 ? -1 : 0;
	else {
		wo.mode = st->st_mode & (S_IFMT | 07777);
		if (!S_ISCHR(st->st_mode) && !S_ISBLK(st->st_mode) &&
		    !S_ISFIFO(st->st_mode))
			wo.mode &= 07777;
		r = copy_other(x, rel, st, &wo);
	}
	if (r == -1)
		return -1;
	x->c->entries++;
	if (r == 1)	/* a hard link: its inode's times are set */
		return 0;
	return ffsw_setmeta(x->dst, rel, &m);
}

int
ffscopy_tree(struct ffscopy *c, struct tree *dst, struct tree *src,
    const char *nodevs)
{
	struct copyctx x = { c, dst, src, nodevs, NULL, 0, 0 };
	struct tree **n;
	size_t i;
	int rv;

	if (src == NULL)
		return -1;
	if ((n = reallocarray(c->srcs, c->nsrc + 1, sizeof(*n))) == NULL) {
		tree_close(src);
		return sr_oom();
	}
	c->srcs = n;
	c->srcs[c->nsrc++] = src;
	rv = tree_walk(src, "", false, copy_one, &x);
	for (i = 0; i < x.nseen; i++)
		free(x.seen[i].rel);
	free(x.seen);
	return rv;
}

void
ffscopy_free(struct ffscopy *c)
{
	size_t i;

	for (i = 0; i < c->nref; i++) {
		free(c->refs[i]->rel);
		free(c->refs[i]);
	}
	for (i = 0; i < c->nsrc; i++)
		tree_close(c->srcs[i]);
	free(c->refs);
	free(c->srcs);
	memset(c, 0, sizeof(*c));
}

int
ffsout_open(const char *image, char *out, size_t outsz, int *fd)
{
	if ((*fd = image_temp(image, out, outsz)) == -1) {
		if (sr_noroom(errno))
			sr_seterr_noroom(-1, "the new image", 0, false);
		return -1;
	}
	return 0;
}

int
ffsout_resize(struct tree *t, const struct ffsw_params *p)
{
	struct ffsw_tree *ft = (struct ffsw_tree *)t;
	struct ffsw_geom g;

	if (ffsw_geometry(p, &g) == -1)
		return -1;
	ft->p = *p;
	ft->sink.size = p->size;
	return 0;
}

/* What makefs would count for t (build.c's size_walk(), over a tree). */
struct sizectx {
	struct tree *t;
	struct mfsize *m;
};

static void
dirent_add(uint64_t *cur, size_t namelen)
{
	uint64_t this = FFSW_DIRSIZ(namelen);

	if (this + *cur > (*cur + 511) / 512 * 512)
		*cur = (*cur + 511) / 512 * 512;
	*cur += this;
}

static uint64_t
frags(uint64_t n, uint64_t fsize)
{
	return (n + fsize - 1) / fsize * fsize;
}

static int
size_one(void *arg, const char *rel, const struct stat *st)
{
	struct sizectx *x = arg;
	struct mfsize *m = x->m;
	char **names = NULL;
	uint64_t cur = 0;
	size_t i;

	m->inodes++;
	if (S_ISREG(st->st_mode))
		m->data += frags((uint64_t)st->st_size, m->fsize);
	else if (S_ISLNK(st->st_mode) && (uint64_t)st->st_size >
	    m->maxsymlink)
		m->data += frags((uint64_t)st->st_size, m->fsize);
	if (!S_ISDIR(st->st_mode))
		return 0;
	if (tree_list(x->t, rel, &names) == -1)
		return -1;
	dirent_add(&cur, 1);
	dirent_add(&cur, 2);
	for (i = 0; names[i] != NULL; i++)
		dirent_add(&cur, strlen(names[i]));
	tree_freelist(names);
	m->data += frags(cur, m->fsize);
	return 0;
}

int
ffsout_size(struct tree *t, int version, int room, struct ffsw_params *p)
{
	struct mfsize m = { 0 };
	struct sizectx x = { t, &m };
	struct ffsw_geom g;
	uint64_t size, want;
	int fpi;

	/* The fragment size follows the size: count with the larger. */
	m.version = version;
	m.fsize = 1024;
	m.bsize = 8192;
	m.maxsymlink = version == 1 ? 60 : 120;
	if (tree_walk(t, "", false, size_one, &x) == -1)
		return -1;
	want = m.inodes + m.inodes * (uint64_t)room / 100 + 16;
	m.inodes = want;
	size = mfsize_need(&m);
	size += size * (uint64_t)room / 100;
	if (size < (1 << 20))
		size = 1 << 20;
	if (ffsw_params_for(size, version, p) == -1)
		return -1;
	/* As few inodes as it wants: their tables are space not counted. */
	for (fpi = 64; fpi >= 1; fpi--) {
		p->density = fpi * p->fsize;
		if (ffsw_geometry(p, &g) == 0 && g.inodes >= want)
			return 0;
	}
	return ffsw_geometry(p, &g);
}

/* Grow a sized image that did not hold its tree, a few times. */
static int
sync_growing(struct tree *t, int room)
{
	struct ffsw_params p = ((struct ffsw_tree *)t)->p;
	int tries;

	for (tries = 0; ; tries++) {
		if (tree_sync(t) == 0)
			return 0;
		if (room < 0 || errno != ENOSPC || tries == 4)
			return -1;
		room += 15;
		if (ffsout_size(t, p.version, room, &p) == -1 ||
		    ffsout_resize(t, &p) == -1)
			return -1;
	}
}

int
ffsout_finish(struct tree *t, int fd, const char *out, const char *image,
    const struct ffsimg *like, int room)
{
	bool made = true;
	int rv = -1;

	if (sync_growing(t, room) == -1 || sr_checkpoint() == -1)
		goto done;
	if (fsync(fd) == -1) {
		sr_seterrno("sync the new image");
		goto done;
	}
	if (like != NULL) {
		made = false;	/* ffsimg_install() consumes it */
		if (ffsimg_install(like, out) == -1)
			goto done;
	} else if (rename(out, image) == -1) {
		sr_seterrno("rename into place");
		goto done;
	}
	made = false;
	rv = 0;
done:
	if (made)
		(void)unlink(out);
	close(fd);
	return rv;
}
