/*
 * A guest tree in memory (tree.h): the entries of an entset
 * (identity.h), a local's recorded etc or a root's, read and changed as
 * a plan reads and changes a directory.  The tree does not own the set:
 * closing it frees the tree alone.
 *
 * It behaves as a host directory does wherever a plan can tell: a
 * path's parents must be there and be directories (ENOENT, ENOTDIR; a
 * symbolic link on the way is refused with ELOOP); a write, a symbolic
 * link or a hard link replaces what is there unless it is a directory
 * (EISDIR); mkdir is fine where a directory is; removing a path removes
 * all below it, and a path that is not there is removed already.  ""
 * is the top, a directory (0755, root's) whether the set has it or not.
 *
 * Where it differs, and why:
 *   - owners and modes are those the plan gives, whoever runs us: no
 *     file of the host holds them;
 *   - mkdir leaves a directory that is there as it is;
 *   - a hard link is a copy: setattr on one name leaves the other;
 *   - write_fd reads the descriptor from its start; nothing is synced;
 *   - the contents of a set loaded without them (identity_load() with
 *     data false) read as empty.
 * upgrade.c's apply_virtual(), which plan_apply() on this tree
 * replaces, checked no parent at all; no plan it was given could need
 * that, as localprep_plan() writes only beside what it read, and below
 * directories it made first.
 *
 * A removed entry stays in the set, marked gone: as if not there.
 * Every entry has its own inode number (entset_add()), so that the walk
 * (tree_walk()) tells directories apart.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tree/entset.h"
#include "tree/tree.h"

struct memtree {
	struct tree t;
	struct entset *s;
};

#define SET(t)	(((struct memtree *)(void *)(t))->s)

/* Fail with errno e and "rel: step: strerror(e)". */
static int
fail(const char *rel, const char *step, int e)
{
	errno = e;
	sr_seterrno("%s: %s", rel, step);
	errno = e;
	return -1;
}

/* A path inside the guest: plain, relative, shorter than PATH_MAX. */
static int
check_path(const char *rel, const char *step)
{
	const char *p = rel;

	if (strlen(rel) >= PATH_MAX)
		return fail(rel, step, ENAMETOOLONG);
	if (*rel == '/')
		goto bad;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			goto bad;
		p += n;
		if (*p == '/' && *++p == '\0')
			goto bad;
	}
	return 0;
bad:
	sr_seterr("%s: %s: not a plain path inside the guest", rel, step);
	errno = EINVAL;
	return -1;
}

/* The entry at path, unless it is not there (or removed). */
static struct ent *
get(struct entset *s, const char *path)
{
	struct ent *e = entset_get(s, path);

	return e != NULL && !e->gone ? e : NULL;
}

/*
 * The entry at rel into *ep (NULL if there is none), once its parents
 * are found to be directories.  The top ("") is refused unless top.
 */
static int
lookup(struct entset *s, const char *rel, const char *step, bool top,
    struct ent **ep)
{
	char buf[PATH_MAX];
	char *p;

	*ep = NULL;
	if (check_path(rel, step) == -1)
		return -1;
	if (*rel == '\0') {
		if (top)
			return 0;
		sr_seterr("the top of the tree: %s: not done in memory", step);
		errno = EINVAL;
		return -1;
	}
	strlcpy(buf, rel, sizeof(buf));
	for (p = strchr(buf, '/'); p != NULL; p = strchr(p + 1, '/')) {
		const struct ent *d;

		*p = '\0';
		d = get(s, buf);
		*p = '/';
		if (d == NULL)
			return fail(rel, step, ENOENT);
		if (tree_pass(rel, step, d->mode) == -1)
			return -1;
	}
	*ep = get(s, rel);
	return 0;
}

/* The same, for a path that must be there. */
static int
lookup_there(struct entset *s, const char *rel, const char *step,
    struct ent **ep)
{
	if (lookup(s, rel, step, false, ep) == -1)
		return -1;
	return *ep == NULL ? fail(rel, step, ENOENT) : 0;
}

/*
 * The entry at path, made (or revived, if removed) with this type,
 * mode and owner; what it held is the caller's to replace.  Pointers
 * into the set are stale after it.
 */
static struct ent *
put(struct entset *s, const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct ent *e = entset_get(s, path);

	if (e == NULL) {
		struct ent n = { .path = (char *)path };

		if (entset_add(s, &n) == -1 ||
		    (e = entset_get(s, path)) == NULL)
			return NULL;
	}
	if (e->gone) {
		free(e->data);
		free(e->link);
		e->data = e->link = NULL;
		e->len = 0;
		e->rdev = 0;
		e->gone = false;
	}
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	return e;
}

/* Give e data (copied) in place of what it held, and no link target. */
static int
set_data(struct ent *e, const void *data, size_t len)
{
	char *d;

	if ((d = malloc(len + 1)) == NULL)
		return sr_oom();
	if (len > 0)
		memcpy(d, data, len);
	d[len] = '\0';
	free(e->data);
	free(e->link);
	e->data = d;
	e->len = len;
	e->link = NULL;
	return 0;
}

/* Reading ------------------------------------------------------------------ */

static int
tm_lstat(struct tree *t, const char *rel, struct stat *st)
{
	struct ent *e;

	if (lookup(SET(t), rel, "stat", true, &e) == -1)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_dev = 1;
	st->st_nlink = 1;
	st->st_blksize = 512;
	if (*rel == '\0') {
		st->st_mode = S_IFDIR | 0755;
		return 0;
	}
	if (e == NULL)
		return fail(rel, "stat", ENOENT);
	st->st_mode = e->mode;
	st->st_uid = e->uid;
	st->st_gid = e->gid;
	st->st_ino = e->ino;
	st->st_rdev = e->rdev;
	if (S_ISREG(e->mode))
		st->st_size = (off_t)e->len;
	else if (S_ISLNK(e->mode) && e->link != NULL)
		st->st_size = (off_t)strlen(e->link);
	st->st_blocks = (st->st_size + 511) / 512;
	return 0;
}

/* A regular file to read, as dir_openfile() refuses others. */
static int
file_to_read(struct tree *t, const char *rel, struct ent **ep)
{
	if (lookup_there(SET(t), rel, "read", ep) == -1)
		return -1;
	if (S_ISLNK((*ep)->mode)) {
		sr_seterr("%s: read: is a symbolic link (refused)", rel);
		errno = ELOOP;
		return -1;
	}
	if (!S_ISREG((*ep)->mode)) {
		sr_seterr("%s: read: not a regular file", rel);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int
tm_read(struct tree *t, const char *rel, size_t max, struct sbuf *out)
{
	struct ent *e;

	if (file_to_read(t, rel, &e) == -1)
		return -1;
	if (e->len > max) {
		sr_seterr("%s: read: larger than %zu bytes", rel, max);
		errno = EFBIG;
		return -1;
	}
	/* An entry known by its size only (no contents held): none to read. */
	if (e->data == NULL && e->len > 0) {
		sr_seterr("%s: read: its contents are not held", rel);
		errno = EIO;
		return -1;
	}
	/* An empty file too is a buffer (as dir_readfile() makes it). */
	return sbuf_add(out, e->data != NULL ? e->data : "", e->len);
}

static ssize_t
tm_pread(struct tree *t, const char *rel, uint64_t off, void *buf,
    size_t len)
{
	struct ent *e;

	if (file_to_read(t, rel, &e) == -1)
		return -1;
	if (off >= e->len || e->data == NULL)
		return 0;
	if (len > e->len - off)
		len = e->len - (size_t)off;
	memcpy(buf, e->data + off, len);
	return (ssize_t)len;
}

/* The first entry whose path is not below key, in the sorted set. */
static size_t
lower_bound(struct entset *s, const char *key)
{
	size_t lo = 0, hi;

	(void)entset_get(s, "");	/* sorted */
	hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->v[mid].path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The names in a directory: the entries whose paths are its own and a
 * name, met in the order of their paths (which is the names' order).
 */
static int
tm_list(struct tree *t, const char *rel, char ***out)
{
	struct entset *s = SET(t);
	char prefix[PATH_MAX], **v;
	struct ent *e;
	size_t i, n = 0, plen;

	*out = NULL;
	if (lookup(s, rel, "list", true, &e) == -1)
		return -1;
	if (*rel != '\0' && e == NULL)
		return fail(rel, "list", ENOENT);
	if (e != NULL && !S_ISDIR(e->mode))
		return fail(rel, "list", ENOTDIR);
	if ((size_t)snprintf(prefix, sizeof(prefix), "%s%s", rel,
	    *rel != '\0' ? "/" : "") >= sizeof(prefix))
		return fail(rel, "list", ENAMETOOLONG);
	plen = strlen(prefix);
	i = lower_bound(s, prefix);
	if ((v = calloc(s->n - i + 1, sizeof(*v))) == NULL)
		return sr_oom();
	for (; i < s->n && strncmp(s->v[i].path, prefix, plen) == 0; i++) {
		const char *name = s->v[i].path + plen;

		if (s->v[i].gone || *name == '\0' || strchr(name, '/') != NULL ||
		    (n > 0 && strcmp(v[n - 1], name) == 0))
			continue;
		if ((v[n++] = strdup(name)) == NULL) {
			tree_freelist(v);
			return sr_oom();
		}
	}
	*out = v;
	return 0;
}

static int
tm_readlink(struct tree *t, const char *rel, struct sbuf *out)
{
	struct ent *e;

	if (lookup_there(SET(t), rel, "read link", &e) == -1)
		return -1;
	if (!S_ISLNK(e->mode) || e->link == NULL)
		return fail(rel, "read link", EINVAL);
	return sbuf_adds(out, e->link);
}

/* Writing ------------------------------------------------------------------ */

/* Where a file can go: parents there, and no directory in the way. */
static int
lookup_replace(struct entset *s, const char *rel, const char *step,
    struct ent **ep)
{
	if (lookup(s, rel, step, false, ep) == -1)
		return -1;
	return *ep != NULL && S_ISDIR((*ep)->mode) ? fail(rel, step, EISDIR) :
	    0;
}

/* A copy of the entry at from, at to (both checked by the caller). */
static int
copy_ent(struct entset *s, const char *from, const char *to)
{
	const struct ent *e = get(s, from);
	struct ent c = *e, *n;

	c.data = NULL;
	c.link = NULL;
	if ((e->data != NULL && (c.data = malloc(e->len + 1)) == NULL) ||
	    (e->link != NULL && (c.link = strdup(e->link)) == NULL)) {
		free(c.data);
		return sr_oom();
	}
	if (c.data != NULL) {
		memcpy(c.data, e->data, e->len);
		c.data[e->len] = '\0';
	}
	/* e is stale from here. */
	if ((n = put(s, to, c.mode, c.uid, c.gid)) == NULL) {
		free(c.data);
		free(c.link);
		return -1;
	}
	free(n->data);
	free(n->link);
	n->data = c.data;
	n->link = c.link;
	n->len = c.len;
	n->rdev = c.rdev;
	return 0;
}

/* As dir_keep_orig(): a regular file's copy as NAME.orig, once. */
static int
keep_orig(struct entset *s, const char *rel)
{
	char orig[PATH_MAX];
	const struct ent *e = get(s, rel);

	if (e == NULL || !S_ISREG(e->mode))
		return 0;
	if ((size_t)snprintf(orig, sizeof(orig), "%s.orig", rel) >=
	    sizeof(orig))
		return fail(rel, "keep original", ENAMETOOLONG);
	if (get(s, orig) != NULL)
		return 0;
	return copy_ent(s, rel, orig);
}

static int
tm_keep_orig(struct tree *t, const char *rel)
{
	struct ent *e;

	if (lookup(SET(t), rel, "keep original", false, &e) == -1)
		return -1;
	return keep_orig(SET(t), rel);
}

static int
tm_write(struct tree *t, const char *rel, const void *data, size_t len,
    const struct tree_wopts *wo)
{
	struct entset *s = SET(t);
	mode_t mode = wo->mode & 07777;
	uid_t uid = wo->uid;
	gid_t gid = wo->gid;
	struct ent *e;

	if (lookup_replace(s, rel, "write", &e) == -1)
		return -1;
	if (e != NULL && wo->keep_orig && keep_orig(s, rel) == -1)
		return -1;
	if ((e = put(s, rel, S_IFREG | mode, uid, gid)) == NULL)
		return -1;
	e->rdev = 0;
	return set_data(e, data, len);
}

static int
tm_write_fd(struct tree *t, const char *rel, int fd,
    const struct tree_wopts *wo)
{
	struct sbuf b = { 0 };
	char buf[65536];
	ssize_t n;
	int rv = -1;

	if (lseek(fd, 0, SEEK_SET) == -1)
		return fail(rel, "write: read the source", errno);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fail(rel, "write: read the source", errno);
			goto done;
		}
		if (b.len + (size_t)n > ENT_MAX) {
			sr_seterr("%s: write: larger than %d MiB", rel,
			    ENT_MAX >> 20);
			errno = EFBIG;
			goto done;
		}
		if (sbuf_add(&b, buf, (size_t)n) == -1)
			goto done;
	}
	rv = tm_write(t, rel, b.s, b.len, wo);
done:
	sbuf_free(&b);
	return rv;
}

static int
tm_mkdir(struct tree *t, const char *rel, const struct tree_wopts *wo)
{
	struct ent *e;

	if (lookup(SET(t), rel, "mkdir", true, &e) == -1)
		return -1;
	if (*rel == '\0' || (e != NULL && S_ISDIR(e->mode)))
		return 0;
	if (e != NULL) {
		sr_seterr("%s: mkdir: exists and is not a directory", rel);
		errno = EEXIST;
		return -1;
	}
	return put(SET(t), rel, S_IFDIR | (wo->mode & 07777), wo->uid,
	    wo->gid) == NULL ? -1 : 0;
}

static int
tm_symlink(struct tree *t, const char *rel, const char *target,
    const struct tree_wopts *wo)
{
	struct ent *e;
	char *l;

	if (lookup_replace(SET(t), rel, "symlink", &e) == -1)
		return -1;
	if ((l = strdup(target)) == NULL)
		return sr_oom();
	if ((e = put(SET(t), rel, S_IFLNK | 0777, wo->uid, wo->gid)) == NULL) {
		free(l);
		return -1;
	}
	free(e->data);
	free(e->link);
	e->data = NULL;
	e->len = 0;
	e->rdev = 0;
	e->link = l;
	return 0;
}

static int
tm_link(struct tree *t, const char *from, const char *to)
{
	struct ent *e;

	if (lookup_there(SET(t), from, "link", &e) == -1)
		return -1;
	if (S_ISDIR(e->mode))
		return fail(from, "link", EPERM);
	if (lookup_replace(SET(t), to, "link", &e) == -1)
		return -1;
	if (strcmp(from, to) == 0)
		return 0;
	return copy_ent(SET(t), from, to);
}

static int
tm_mknod(struct tree *t, const char *rel, dev_t dev,
    const struct tree_wopts *wo)
{
	struct ent *e;

	if (lookup(SET(t), rel, "make node", false, &e) == -1)
		return -1;
	if (!S_ISCHR(wo->mode) && !S_ISBLK(wo->mode) && !S_ISFIFO(wo->mode))
		return fail(rel, "make node", EINVAL);
	if (e != NULL)
		return fail(rel, "make node", EEXIST);
	if ((e = put(SET(t), rel, (wo->mode & S_IFMT) | (wo->mode & 07777),
	    wo->uid, wo->gid)) == NULL)
		return -1;
	e->rdev = dev;
	return 0;
}

static int
tm_remove(struct tree *t, const char *rel)
{
	struct entset *s = SET(t);
	char prefix[PATH_MAX];
	struct ent *e;
	size_t i, plen;

	if (lookup(s, rel, "remove", false, &e) == -1)
		return -1;
	if (e == NULL)
		return 0;
	e->gone = true;
	/* All below it: together, after "rel/" ("rel-b" sorts between). */
	if ((size_t)snprintf(prefix, sizeof(prefix), "%s/", rel) >=
	    sizeof(prefix))
		return 0;
	plen = strlen(prefix);
	for (i = lower_bound(s, prefix); i < s->n &&
	    strncmp(s->v[i].path, prefix, plen) == 0; i++)
		s->v[i].gone = true;
	return 0;
}

static int
tm_setattr(struct tree *t, const char *rel, const struct tree_wopts *wo)
{
	struct ent *e;

	if (lookup_there(SET(t), rel, "set owner and mode", &e) == -1)
		return -1;
	e->uid = wo->uid;
	e->gid = wo->gid;
	if (!S_ISLNK(e->mode))
		e->mode = (e->mode & S_IFMT) | (wo->mode & 07777);
	return 0;
}

static void
tm_close(struct tree *t)
{
	free(t);
}

static const struct tree_ops mem_ops = {
	.kind = "memory",
	.lstat = tm_lstat, .read = tm_read, .pread = tm_pread,
	.list = tm_list, .readlink = tm_readlink,
	.write = tm_write, .write_fd = tm_write_fd, .keep_orig = tm_keep_orig,
	.mkdir = tm_mkdir, .symlink = tm_symlink, .link = tm_link,
	.mknod = tm_mknod, .remove = tm_remove, .setattr = tm_setattr,
	.close = tm_close,
};

struct tree *
tree_mem(struct entset *s)
{
	struct memtree *m;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		sr_oom();
		return NULL;
	}
	m->t.ops = &mem_ops;
	m->t.name = "the tree in memory";
	m->s = s;
	return &m->t;
}
