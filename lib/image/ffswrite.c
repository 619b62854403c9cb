/*
 * The FFS writer's tree (ffswrite.h): a guest tree held in memory until
 * it is synced, when ffslayout.c writes it out as an FFS image.
 *
 * It behaves as tree_mem() does wherever a plan can tell: a path's
 * parents must be there and be directories (ENOENT, ENOTDIR; a symbolic
 * link on the way: ELOOP); a write, a symbolic link or a hard link
 * replaces what is there unless it is a directory (EISDIR); mkdir is
 * fine where a directory is (and leaves it as it is); removing a path
 * removes all below it, and a path that is not there is removed
 * already.  Unlike tree_mem(), a hard link is the same inode (setattr
 * on one name is seen through the other), as it will be in the image.
 *
 * Every name and size comes from the caller, and may come from a guest:
 * names are checked (not "." or "..", no '/', at most 255 bytes), sizes
 * and counts are checked for overflow.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/ffsw_impl.h"

#define T(t)	((struct ffsw_tree *)(void *)(t))

static int
fail(const char *rel, const char *step, int e)
{
	errno = e;
	sr_seterrno("%s: %s", *rel != '\0' ? rel : "the top", step);
	errno = e;
	return -1;
}

/* The next component of *pp into name (at most 255 bytes): 0, or -1. */
static int
component(const char **pp, char *name, const char *rel, const char *step)
{
	const char *p = *pp;
	size_t n = strcspn(p, "/");

	if (n == 0 || (n == 1 && p[0] == '.') ||
	    (n == 2 && p[0] == '.' && p[1] == '.')) {
		sr_seterr("%s: %s: not a plain relative path", rel, step);
		errno = EINVAL;
		return -1;
	}
	if (n > FFSW_MAXNAMLEN)
		return fail(rel, step, ENAMETOOLONG);
	memcpy(name, p, n);
	name[n] = '\0';
	p += n;
	if (*p == '/' && *++p == '\0') {
		sr_seterr("%s: %s: not a plain relative path", rel, step);
		errno = EINVAL;
		return -1;
	}
	*pp = p;
	return 0;
}

/* Where name is (or would go) among a directory's sorted entries. */
static size_t
find(const struct ffsw_node *d, const char *name, bool *found)
{
	size_t lo = 0, hi = d->nents;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(d->ents[mid].name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Walk rel: *dirp gets its parent directory, name its last component,
 * *np the node there (NULL: none).  rel "" is the top (dirp NULL),
 * refused unless top.
 */
static int
lookup(struct ffsw_tree *ft, const char *rel, const char *step, bool top,
    struct ffsw_node **dirp, char *name, struct ffsw_node **np)
{
	struct ffsw_node *d = ft->root;
	const char *p = rel;
	bool found;
	size_t i;

	*np = NULL;
	*dirp = NULL;
	if (strlen(rel) >= PATH_MAX)
		return fail(rel, step, ENAMETOOLONG);
	if (*rel == '\0') {
		if (!top)
			return fail(rel, step, EINVAL);
		*np = ft->root;
		return 0;
	}
	/* The whole path is plain before any of it is looked for. */
	while (*p != '\0')
		if (component(&p, name, rel, step) == -1)
			return -1;
	p = rel;
	for (;;) {
		if (component(&p, name, rel, step) == -1)
			return -1;
		i = find(d, name, &found);
		if (*p == '\0')
			break;
		if (!found)
			return fail(rel, step, ENOENT);
		d = d->ents[i].node;
		if (tree_pass(rel, step, d->mode) == -1)
			return -1;
	}
	*dirp = d;
	*np = found ? d->ents[i].node : NULL;
	return 0;
}

static int
lookup_there(struct ffsw_tree *ft, const char *rel, const char *step,
    struct ffsw_node **np)
{
	struct ffsw_node *d;
	char name[FFSW_MAXNAMLEN + 1];

	if (lookup(ft, rel, step, true, &d, name, np) == -1)
		return -1;
	return *np == NULL ? fail(rel, step, ENOENT) : 0;
}

static void
node_free(struct ffsw_node *n)
{
	size_t i;

	if (n == NULL || --n->refs > 0)
		return;
	for (i = 0; i < n->nents; i++) {
		free(n->ents[i].name);
		node_free(n->ents[i].node);
	}
	free(n->ents);
	/* An encrypted guest's plaintext: never left in freed memory. */
	if (n->data != NULL)
		explicit_bzero(n->data, n->datalen);
	free(n->data);
	if (n->fd != -1)
		close(n->fd);
	free(n);
}

static struct ffsw_node *
node_new(struct ffsw_tree *ft, mode_t mode, const struct tree_wopts *wo)
{
	struct ffsw_node *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->mode = mode;
	if (wo != NULL) {
		n->mode |= wo->mode & 07777;
		n->uid = wo->uid;
		n->gid = wo->gid;
	}
	n->atime = n->mtime = n->ctime = n->btime = ft->p.time;
	n->fd = -1;
	n->id = ++ft->nextid;
	return n;
}

/* Put n at name in d (replacing what is there, not a directory). */
static int
attach(struct ffsw_node *d, const char *name, struct ffsw_node *n,
    const char *rel, const char *step)
{
	bool found;
	size_t i = find(d, name, &found);

	if (S_ISDIR(n->mode) && d->nsubdirs >= 32765)
		return fail(rel, step, EMLINK);
	if (found) {
		struct ffsw_node *old = d->ents[i].node;

		if (S_ISDIR(old->mode))
			return fail(rel, step, EISDIR);
		d->ents[i].node = n;
		n->refs++;
		node_free(old);
		return 0;
	}
	if (d->nents == d->cap) {
		size_t cap = d->cap == 0 ? 8 : d->cap * 2;
		struct ffsw_dent *v;

		if (cap > SIZE_MAX / sizeof(*v) ||
		    (v = realloc(d->ents, cap * sizeof(*v))) == NULL)
			return sr_oom();
		d->ents = v;
		d->cap = cap;
	}
	memmove(d->ents + i + 1, d->ents + i,
	    (d->nents - i) * sizeof(*d->ents));
	if ((d->ents[i].name = strdup(name)) == NULL) {
		memmove(d->ents + i, d->ents + i + 1,
		    (d->nents - i) * sizeof(*d->ents));
		return sr_oom();
	}
	d->ents[i].node = n;
	d->nents++;
	n->refs++;
	if (S_ISDIR(n->mode)) {
		n->parent = d;
		d->nsubdirs++;
	}
	return 0;
}

static int fw_keep_orig(struct tree *, const char *);

/* A new node of mode at rel, replacing what is there (no directory). */
static int
put(struct ffsw_tree *ft, const char *rel, const char *step, mode_t mode,
    const struct tree_wopts *wo, struct ffsw_node **np)
{
	struct ffsw_node *d, *old, *n;
	char name[FFSW_MAXNAMLEN + 1];

	if (lookup(ft, rel, step, false, &d, name, &old) == -1)
		return -1;
	if (old != NULL && S_ISDIR(old->mode))
		return fail(rel, step, EISDIR);
	/* As a host tree's write: the old file kept as NAME.orig, once. */
	if (old != NULL && S_ISREG(old->mode) && S_ISREG(mode) &&
	    wo != NULL && wo->keep_orig && fw_keep_orig(&ft->t, rel) == -1)
		return -1;
	if ((n = node_new(ft, mode, wo)) == NULL)
		return sr_oom();
	if (attach(d, name, n, rel, step) == -1) {
		n->refs = 1;
		node_free(n);
		return -1;
	}
	*np = n;
	return 0;
}

static int
fw_lstat(struct tree *t, const char *rel, struct stat *st)
{
	struct ffsw_node *n;

	if (lookup_there(T(t), rel, "lstat", &n) == -1)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_mode = n->mode;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_ino = n->id;
	st->st_nlink = S_ISDIR(n->mode) ? 2 + n->nsubdirs : n->refs;
	st->st_size = S_ISDIR(n->mode) ? 0 : (off_t)n->size;
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
	if (S_ISCHR(n->mode) || S_ISBLK(n->mode))
		st->st_rdev = makedev((n->rdev >> 8) & 0xfff,
		    (n->rdev & 0xff) | ((n->rdev >> 12) & 0xfff00));
	return 0;
}

/* A node's content (len bytes from off), wherever it is held. */
int
ffsw_content(struct ffsw_tree *ft, struct ffsw_node *n, uint64_t off,
    void *buf, size_t len)
{
	size_t done = 0;

	if (off > n->size || len > n->size - off) {
		sr_seterr("reading past the end of a file");
		errno = EINVAL;
		return -1;
	}
	switch (n->src) {
	case FFSW_MEM:
		memcpy(buf, (char *)n->data + off, len);
		return 0;
	case FFSW_CB:
		return n->read(n->ctx, off, buf, len);
	case FFSW_FD:
		while (done < len) {
			ssize_t r = pread(n->fd, (char *)buf + done,
			    len - done, (off_t)(off + done));

			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1) {
				sr_seterrno("reading the file to copy");
				return -1;
			}
			if (r == 0) {
				sr_seterr("the file to copy became shorter "
				    "than %s", sr_size(n->size));
				errno = EIO;
				return -1;
			}
			done += (size_t)r;
		}
		return 0;
	default:
		memset(buf, 0, len);
		return 0;
	}
}

static int
file_there(struct tree *t, const char *rel, const char *step,
    struct ffsw_node **np)
{
	if (lookup_there(T(t), rel, step, np) == -1)
		return -1;
	if (S_ISDIR((*np)->mode))
		return fail(rel, step, EISDIR);
	if (!S_ISREG((*np)->mode))
		return fail(rel, step, EINVAL);
	return 0;
}

static int
fw_read(struct tree *t, const char *rel, size_t max, struct sbuf *out)
{
	struct ffsw_node *n;
	char *buf;
	int rv;

	if (file_there(t, rel, "read", &n) == -1)
		return -1;
	if (n->size > max || n->size > SIZE_MAX - 1)
		return fail(rel, "read", EFBIG);
	if ((buf = malloc((size_t)n->size + 1)) == NULL)
		return sr_oom();
	if (ffsw_content(T(t), n, 0, buf, (size_t)n->size) == -1) {
		sr_prefixerr("%s: read", rel);
		explicit_bzero(buf, (size_t)n->size);
		free(buf);
		return -1;
	}
	rv = sbuf_add(out, buf, (size_t)n->size);
	explicit_bzero(buf, (size_t)n->size);
	free(buf);
	return rv;
}

static ssize_t
fw_pread(struct tree *t, const char *rel, uint64_t off, void *buf,
    size_t len)
{
	struct ffsw_node *n;

	if (file_there(t, rel, "read", &n) == -1)
		return -1;
	if (off >= n->size)
		return 0;
	if (len > n->size - off)
		len = (size_t)(n->size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (ffsw_content(T(t), n, off, buf, len) == -1) {
		sr_prefixerr("%s: read", rel);
		return -1;
	}
	return (ssize_t)len;
}

static int
fw_list(struct tree *t, const char *rel, char ***out)
{
	struct ffsw_node *n;
	char **v;
	size_t i;

	*out = NULL;
	if (lookup_there(T(t), rel, "list", &n) == -1)
		return -1;
	if (!S_ISDIR(n->mode))
		return fail(rel, "list", ENOTDIR);
	if ((v = calloc(n->nents + 1, sizeof(*v))) == NULL)
		return sr_oom();
	for (i = 0; i < n->nents; i++)
		if ((v[i] = strdup(n->ents[i].name)) == NULL) {
			tree_freelist(v);
			return sr_oom();
		}
	*out = v;
	return 0;
}

static int
fw_readlink(struct tree *t, const char *rel, struct sbuf *out)
{
	struct ffsw_node *n;

	if (lookup_there(T(t), rel, "read link", &n) == -1)
		return -1;
	if (!S_ISLNK(n->mode))
		return fail(rel, "read link", EINVAL);
	return sbuf_add(out, n->data, (size_t)n->size);
}

static int
fw_write(struct tree *t, const char *rel, const void *data, size_t len,
    const struct tree_wopts *wo)
{
	struct ffsw_node *n;
	void *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL)
		return sr_oom();
	memcpy(copy, data, len);
	if (put(T(t), rel, "write", S_IFREG, wo, &n) == -1) {
		free(copy);
		return -1;
	}
	n->src = FFSW_MEM;
	n->data = copy;
	n->datalen = len > 0 ? len : 1;
	n->size = len;
	return 0;
}

static int
fw_write_fd(struct tree *t, const char *rel, int fd,
    const struct tree_wopts *wo)
{
	struct ffsw_node *n;
	struct stat st;
	int dfd;

	if (fstat(fd, &st) == -1)
		return fail(rel, "write: the file to copy", errno);
	if (!S_ISREG(st.st_mode))
		return fail(rel, "write: the file to copy is not a regular "
		    "file", EINVAL);
	if ((dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return fail(rel, "write: duplicating its descriptor", errno);
	if (put(T(t), rel, "write", S_IFREG, wo, &n) == -1) {
		close(dfd);
		return -1;
	}
	n->src = FFSW_FD;
	n->fd = dfd;
	n->size = (uint64_t)st.st_size;
	return 0;
}

/* A file whose content a callback gives when the image is laid out. */
int
ffsw_add_file(struct tree *t, const char *rel, uint64_t size,
    ffsw_readfn *fn, void *ctx, const struct tree_wopts *wo)
{
	struct ffsw_node *n;

	if (fn == NULL || (int64_t)size < 0)
		return fail(rel, "write", EINVAL);
	if (put(T(t), rel, "write", S_IFREG, wo, &n) == -1)
		return -1;
	n->src = FFSW_CB;
	n->read = fn;
	n->ctx = ctx;
	n->size = size;
	return 0;
}

static int
fw_link(struct tree *t, const char *from, const char *to)
{
	struct ffsw_node *n, *d, *old;
	char name[FFSW_MAXNAMLEN + 1];

	if (lookup_there(T(t), from, "link", &n) == -1)
		return -1;
	if (S_ISDIR(n->mode))
		return fail(from, "link", EPERM);
	if (lookup(T(t), to, "link", false, &d, name, &old) == -1)
		return -1;
	if (old == n)
		return 0;
	if (n->refs >= 32767)
		return fail(from, "link", EMLINK);
	return attach(d, name, n, to, "link");
}

static int
fw_keep_orig(struct tree *t, const char *rel)
{
	char orig[PATH_MAX];
	struct ffsw_node *n;
	struct stat st;

	if (file_there(t, rel, "keep the original", &n) == -1)
		return -1;
	if ((size_t)snprintf(orig, sizeof(orig), "%s.orig", rel) >=
	    sizeof(orig))
		return fail(rel, "keep the original", ENAMETOOLONG);
	if (fw_lstat(t, orig, &st) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return fw_link(t, rel, orig);
}

static int
fw_mkdir(struct tree *t, const char *rel, const struct tree_wopts *wo)
{
	struct ffsw_node *d, *old, *n;
	char name[FFSW_MAXNAMLEN + 1];

	if (lookup(T(t), rel, "mkdir", true, &d, name, &old) == -1)
		return -1;
	if (old != NULL)
		return S_ISDIR(old->mode) ? 0 : fail(rel, "mkdir", EEXIST);
	if ((n = node_new(T(t), S_IFDIR, wo)) == NULL)
		return sr_oom();
	if (attach(d, name, n, rel, "mkdir") == -1) {
		n->refs = 1;
		node_free(n);
		return -1;
	}
	return 0;
}

static int
fw_symlink(struct tree *t, const char *rel, const char *target,
    const struct tree_wopts *wo)
{
	struct ffsw_node *n;
	size_t len = strlen(target);
	char *copy;

	if (len == 0 || len > FFSW_MAXSYMLINK)
		return fail(rel, "symbolic link", len == 0 ? EINVAL :
		    ENAMETOOLONG);
	if ((copy = strdup(target)) == NULL)
		return sr_oom();
	if (put(T(t), rel, "symbolic link", S_IFLNK, wo, &n) == -1) {
		free(copy);
		return -1;
	}
	n->mode = S_IFLNK | (wo != NULL ? wo->mode & 07777 : 0755);
	n->src = FFSW_MEM;
	n->data = copy;
	n->datalen = len + 1;
	n->size = len;
	return 0;
}

/* dev in NetBSD's encoding: minor in bits 0-7 and 20-31, major 8-19. */
static int
netbsd_dev(dev_t dev, uint64_t *out)
{
	uint64_t maj = major(dev), min = minor(dev);

	if (maj > 0xfff || min > 0xfffff)
		return -1;
	*out = ((maj << 8) & 0x000fff00) | ((min << 12) & 0xfff00000) |
	    (min & 0xff);
	return 0;
}

static int
fw_mknod(struct tree *t, const char *rel, dev_t dev,
    const struct tree_wopts *wo)
{
	struct ffsw_node *n;
	uint64_t rdev = 0;
	mode_t type = wo->mode & S_IFMT;

	if (type != S_IFCHR && type != S_IFBLK && type != S_IFIFO)
		return fail(rel, "make node", EINVAL);
	if (type != S_IFIFO && netbsd_dev(dev, &rdev) == -1) {
		sr_seterr("%s: make node: device %lu,%lu: not a NetBSD "
		    "device number", rel, (unsigned long)major(dev),
		    (unsigned long)minor(dev));
		errno = EINVAL;
		return -1;
	}
	if (put(T(t), rel, "make node", type, wo, &n) == -1)
		return -1;
	n->rdev = rdev;
	return 0;
}

static int
fw_remove(struct tree *t, const char *rel)
{
	struct ffsw_node *d, *n;
	char name[FFSW_MAXNAMLEN + 1];
	bool found;
	size_t i;

	if (lookup(T(t), rel, "remove", false, &d, name, &n) == -1)
		return -1;
	if (n == NULL)
		return 0;
	i = find(d, name, &found);
	free(d->ents[i].name);
	memmove(d->ents + i, d->ents + i + 1,
	    (d->nents - i - 1) * sizeof(*d->ents));
	d->nents--;
	if (S_ISDIR(n->mode))
		d->nsubdirs--;
	node_free(n);
	return 0;
}

static int
fw_setattr(struct tree *t, const char *rel, const struct tree_wopts *wo)
{
	struct ffsw_node *n;

	if (lookup_there(T(t), rel, "set owner and mode", &n) == -1)
		return -1;
	n->uid = wo->uid;
	n->gid = wo->gid;
	if (!S_ISLNK(n->mode))
		n->mode = (n->mode & S_IFMT) | (wo->mode & 07777);
	return 0;
}

/* Flags and times, which the tree interface has no words for. */
int
ffsw_setmeta(struct tree *t, const char *rel, const struct ffsw_meta *m)
{
	struct ffsw_node *n;

	const struct timespec *ts[] = { &m->atime, &m->mtime, &m->ctime,
	    &m->birthtime };
	size_t i;

	for (i = 0; i < 4; i++)
		if (ts[i]->tv_nsec < 0 || ts[i]->tv_nsec >= 1000000000L)
			return fail(rel, "set flags and times: nanoseconds "
			    "out of range", EINVAL);
	if (lookup_there(T(t), rel, "set flags and times", &n) == -1)
		return -1;
	n->flags = m->flags;
	n->atime = m->atime;
	n->mtime = m->mtime;
	n->ctime = m->ctime;
	n->btime = m->birthtime;
	return 0;
}

static int
fw_sync(struct tree *t)
{
	if (ffsw_layout(T(t)) == -1) {
		sr_prefixerr("%s", T(t)->name);
		return -1;
	}
	return 0;
}

static void
fw_close(struct tree *t)
{
	if (t == NULL)
		return;
	node_free(T(t)->root);
	free(T(t)->name);
	free(t);
}

static const struct tree_ops ffsw_ops = {
	.kind = "FFS image being written",
	.lstat = fw_lstat, .read = fw_read, .pread = fw_pread,
	.list = fw_list, .readlink = fw_readlink,
	.write = fw_write, .write_fd = fw_write_fd, .keep_orig = fw_keep_orig,
	.mkdir = fw_mkdir, .symlink = fw_symlink, .link = fw_link,
	.mknod = fw_mknod, .remove = fw_remove, .setattr = fw_setattr,
	.sync = fw_sync, .close = fw_close,
};

/* The writer's tree: parameters checked now, nothing written yet. */
struct tree *
tree_ffsw(const struct ffsw_params *p, const struct ffsw_sink *sink,
    const char *name)
{
	struct ffsw_tree *ft;
	struct ffsw_geom g;
	const struct tree_wopts top = { .mode = 0755 };

	if (ffsw_geometry(p, &g) == -1) {
		sr_prefixerr("%s", name);
		return NULL;
	}
	if (sink == NULL || sink->pwrite == NULL || sink->size < p->size) {
		sr_seterr("%s: the image is smaller than its file system",
		    name);
		errno = EINVAL;
		return NULL;
	}
	if ((ft = calloc(1, sizeof(*ft))) == NULL ||
	    (ft->name = strdup(name)) == NULL) {
		free(ft);
		sr_oom();
		return NULL;
	}
	ft->p = *p;
	ft->sink = *sink;
	ft->t.ops = &ffsw_ops;
	ft->t.name = ft->name;
	if ((ft->root = node_new(ft, S_IFDIR, &top)) == NULL) {
		fw_close(&ft->t);
		sr_oom();
		return NULL;
	}
	ft->root->refs = 1;
	return &ft->t;
}
