/*
 * A recording tree (tree.h, tree_recording()): another tree, a stage
 * its user fills, with an mtree spec of what each path truly is.
 *
 * An ordinary user cannot give what it writes an owner, nor make a
 * device node; makefs(8) can, from the spec.  So every change goes to
 * the inner tree as far as its user can make it, and what the path must
 * be in the image (type, owner, group, mode, time, link target, device
 * numbers) goes to the spec as it is made: the spec describes the tree
 * exactly, and makefs needs no guess.  Reading answers from both: the
 * inner tree's contents and times, the spec's owners and modes, and the
 * device nodes the spec alone holds, as if they were there.
 *
 * A hard link, and NAME.orig kept by an edit (a second name for the
 * original), are noted as what their first name was when they were
 * made: owner, mode and time; an edit then notes the new file alone.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tree/spec.h"
#include "tree/tree.h"

struct rectree {
	struct tree t;
	struct tree *in;
	struct spec *spec;
};

#define RT(t)	((struct rectree *)(void *)(t))

/* The entry of a device node the spec alone holds at rel, or NULL. */
static const struct spec_ent *
spec_node(struct rectree *r, const char *rel)
{
	const struct spec_ent *e = spec_get(r->spec, rel);

	return e != NULL && spec_only(e) ? e : NULL;
}

static int
rt_lstat(struct tree *t, const char *rel, struct stat *st)
{
	struct rectree *r = RT(t);
	const struct spec_ent *e;

	if (tree_lstat(r->in, rel, st) == 0) {
		/* The top is the image's root: "." in a spec (spec_write()). */
		(void)spec_stat(r->spec, *rel != '\0' ? rel : ".", st);
		return 0;
	}
	if (errno != ENOENT || (e = spec_node(r, rel)) == NULL)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_mode = e->mode;
	st->st_uid = e->uid;
	st->st_gid = e->gid;
	st->st_nlink = 1;
	st->st_rdev = makedev(e->rmajor, e->rminor);
	st->st_mtim = e->mtime;
	st->st_ctim = e->mtime;
	st->st_atim = e->mtime;
	return 0;
}

static int
rt_read(struct tree *t, const char *rel, size_t max, struct sbuf *out)
{
	return tree_read(RT(t)->in, rel, max, out);
}

static ssize_t
rt_pread(struct tree *t, const char *rel, uint64_t off, void *buf, size_t len)
{
	return tree_pread(RT(t)->in, rel, off, buf, len);
}

static int
rt_readlink(struct tree *t, const char *rel, struct sbuf *out)
{
	return tree_readlink(RT(t)->in, rel, out);
}

static int
cmpname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The inner tree's names, and the device nodes only the spec holds. */
static int
rt_list(struct tree *t, const char *rel, char ***out)
{
	struct rectree *r = RT(t);
	char **v, **nv;
	size_t first, end, i, n, listed, skip = *rel ? strlen(rel) + 1 : 0;
	struct stat st;

	if (tree_list(r->in, rel, &v) == -1)
		return -1;
	for (listed = 0; v[listed] != NULL; listed++)
		;
	n = listed;
	spec_below(r->spec, rel, &first, &end);
	for (i = first; i < end; i++) {
		const struct spec_ent *e = &r->spec->v[i];
		const char *name = e->path + skip;

		if (!spec_only(e) || strchr(name, '/') != NULL ||
		    bsearch(&name, v, listed, sizeof(*v), cmpname) != NULL)
			continue;
		if (tree_lstat(r->in, e->path, &st) == 0)
			continue;	/* made for real: listed already */
		if ((nv = reallocarray(v, n + 2, sizeof(*v))) == NULL)
			goto nomem;
		v = nv;
		if ((v[n] = strdup(name)) == NULL)
			goto nomem;
		v[++n] = NULL;
	}
	qsort(v, n, sizeof(*v), cmpname);
	*out = v;
	return 0;
nomem:
	tree_freelist(v);
	return sr_oom();
}

/*
 * What rel is now, as a spec entry: the spec's if it has one (a copied
 * file's own time included), else the inner tree's.  The strings point
 * into the spec or into link.
 */
static int
entry_of(struct rectree *r, const char *rel, struct spec_ent *e,
    struct sbuf *link)
{
	const struct spec_ent *se;
	struct stat st;

	if (rt_lstat(&r->t, rel, &st) == -1)
		return -1;
	if ((se = spec_get(r->spec, rel)) != NULL && (se->mode & S_IFMT) == (st.st_mode & S_IFMT)) {
		*e = *se;
		return 0;
	}
	memset(e, 0, sizeof(*e));
	e->mode = st.st_mode;
	e->uid = st.st_uid;
	e->gid = st.st_gid;
	e->mtime = st.st_mtim;
	if (S_ISLNK(st.st_mode)) {
		if (tree_readlink(r->in, rel, link) == -1 ||
		    sbuf_add(link, "", 0) == -1)
			return -1;
		e->link = link->s;
	}
	return 0;
}

/* Note what rel now is: its type, wo's owner and mode, its time. */
static int
note(struct rectree *r, const char *rel, mode_t type,
    const struct tree_wopts *wo, const char *link, dev_t dev)
{
	struct spec_ent e;
	struct stat st;

	memset(&e, 0, sizeof(e));
	e.path = (char *)rel;
	e.mode = type | (wo->mode & 07777);
	e.uid = wo->uid;
	e.gid = wo->gid;
	e.link = (char *)link;
	e.rmajor = major(dev);
	e.rminor = minor(dev);
	if (tree_lstat(r->in, rel, &st) == 0)
		e.mtime = st.st_mtim;
	else
		clock_gettime(CLOCK_REALTIME, &e.mtime);
	return spec_add(r->spec, &e);
}

/*
 * Keeping the original (NAME.orig, a second name for it): before the
 * inner tree does, what it will be, if it is made.  0: nothing to note,
 * 1: *o to note once it is done, -1: an error.
 */
static int
orig_before(struct rectree *r, const char *rel, char *orig, size_t size,
    struct spec_ent *o, struct sbuf *link)
{
	struct stat st;

	/* The inner tree refuses a name too long, saying so. */
	if ((size_t)snprintf(orig, size, "%s.orig", rel) >= size)
		return 0;
	if (rt_lstat(&r->t, rel, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(st.st_mode))
		return 0;
	/* There already: it is kept as it is. */
	if (tree_lstat(r->in, orig, &st) == 0)
		return 0;
	if (errno != ENOENT || entry_of(r, rel, o, link) == -1)
		return -1;
	o->path = orig;
	return 1;
}

/* Keep the original as the inner tree does, noting what it did. */
static int
keep_orig_noted(struct rectree *r, const char *rel, int (*op)(struct tree *,
    const char *, const void *), const void *arg)
{
	char orig[PATH_MAX];
	struct spec_ent o;
	struct sbuf link = { 0 };
	int k, rv = -1;

	if ((k = orig_before(r, rel, orig, sizeof(orig), &o, &link)) != -1 &&
	    op(r->in, rel, arg) == 0)
		rv = k == 1 ? spec_add(r->spec, &o) : 0;
	sbuf_free(&link);
	return rv;
}

struct wrarg {
	const void *data;
	size_t	 len;
	int	 fd;		/* or, with data NULL, from this file */
	const struct tree_wopts *wo;
};

static int
do_write(struct tree *in, const char *rel, const void *varg)
{
	const struct wrarg *a = varg;

	return a->data != NULL ? tree_write(in, rel, a->data, a->len, a->wo) :
	    tree_write_fd(in, rel, a->fd, a->wo);
}

static int
do_keep_orig(struct tree *in, const char *rel, const void *arg)
{
	(void)arg;
	return tree_keep_orig(in, rel);
}

/* A write, NAME.orig first if asked (the inner tree keeps it). */
static int
write_noted(struct rectree *r, const char *rel, const struct wrarg *a)
{
	int rv;

	if (a->wo->keep_orig)
		rv = keep_orig_noted(r, rel, do_write, a);
	else
		rv = do_write(r->in, rel, a);
	return rv == -1 ? -1 : note(r, rel, S_IFREG, a->wo, NULL, 0);
}

static int
rt_write(struct tree *t, const char *rel, const void *data, size_t len,
    const struct tree_wopts *wo)
{
	const struct wrarg a = { data != NULL ? data : "", len, -1, wo };

	return write_noted(RT(t), rel, &a);
}

static int
rt_write_fd(struct tree *t, const char *rel, int fd,
    const struct tree_wopts *wo)
{
	const struct wrarg a = { NULL, 0, fd, wo };

	return write_noted(RT(t), rel, &a);
}

static int
rt_keep_orig(struct tree *t, const char *rel)
{
	return keep_orig_noted(RT(t), rel, do_keep_orig, NULL);
}

static int
rt_mkdir(struct tree *t, const char *rel, const struct tree_wopts *wo)
{
	if (tree_mkdir(RT(t)->in, rel, wo) == -1)
		return -1;
	return note(RT(t), rel, S_IFDIR, wo, NULL, 0);
}

static int
rt_symlink(struct tree *t, const char *rel, const char *target,
    const struct tree_wopts *wo)
{
	if (tree_symlink(RT(t)->in, rel, target, wo) == -1)
		return -1;
	return note(RT(t), rel, S_IFLNK, wo, target, 0);
}

/* A second name: what the first one is, owner, mode and time. */
static int
rt_link(struct tree *t, const char *from, const char *to)
{
	struct rectree *r = RT(t);
	struct spec_ent e;
	struct sbuf link = { 0 };
	int rv = -1;

	if (entry_of(r, from, &e, &link) == 0 &&
	    tree_link(r->in, from, to) == 0) {
		e.path = (char *)to;
		rv = spec_add(r->spec, &e);
	}
	sbuf_free(&link);
	return rv;
}

/*
 * A device node lives in the spec alone, where its parent is (as
 * copy_trees() and ffs_extract() stage them); a fifo the user can make.
 */
static int
rt_mknod(struct tree *t, const char *rel, dev_t dev,
    const struct tree_wopts *wo)
{
	struct rectree *r = RT(t);
	char parent[PATH_MAX], *slash;
	struct stat st;

	if (!S_ISCHR(wo->mode) && !S_ISBLK(wo->mode)) {
		if (tree_mknod(r->in, rel, dev, wo) == -1)
			return -1;
		return note(r, rel, wo->mode & S_IFMT, wo, NULL, dev);
	}
	strlcpy(parent, rel, sizeof(parent));
	slash = strrchr(parent, '/');
	if (slash != NULL)
		*slash = '\0';
	if (slash != NULL && tree_lstat(r->in, parent, &st) == -1)
		return -1;
	if (slash != NULL && !S_ISDIR(st.st_mode)) {
		sr_seterr("%s: make node: not a directory", parent);
		errno = ENOTDIR;
		return -1;
	}
	if (rt_lstat(t, rel, &st) == 0) {
		sr_seterr("%s: make node: exists", rel);
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return note(r, rel, wo->mode & S_IFMT, wo, NULL, dev);
}

static int
rt_remove(struct tree *t, const char *rel)
{
	struct rectree *r = RT(t);

	/*
	 * Not there is removed already (tree.h): the inner tree says so.
	 * A node the spec alone holds: nothing to remove in the tree.
	 */
	if (tree_remove(r->in, rel) == -1 && spec_node(r, rel) == NULL)
		return -1;
	(void)spec_drop(r->spec, rel);
	return 0;
}

static int
rt_setattr(struct tree *t, const char *rel, const struct tree_wopts *wo)
{
	struct rectree *r = RT(t);
	struct spec_ent e;
	struct sbuf link = { 0 };
	int rv = -1;

	if (spec_node(r, rel) == NULL && tree_setattr(r->in, rel, wo) == -1)
		return -1;
	if (entry_of(r, rel, &e, &link) == 0) {
		e.path = (char *)rel;
		e.uid = wo->uid;
		e.gid = wo->gid;
		/* A symbolic link's mode is not its own to change. */
		if (!S_ISLNK(e.mode))
			e.mode = (e.mode & S_IFMT) | (wo->mode & 07777);
		rv = spec_add(r->spec, &e);
	}
	sbuf_free(&link);
	return rv;
}

static int
rt_sync(struct tree *t)
{
	return tree_sync(RT(t)->in);
}

static int
rt_room(struct tree *t, struct tree_room *r)
{
	return tree_room(RT(t)->in, r);
}

static void
rt_close(struct tree *t)
{
	tree_close(RT(t)->in);
	free(t);
}

static const struct tree_ops rec_ops = {
	.kind = "recording",
	.lstat = rt_lstat, .read = rt_read, .pread = rt_pread,
	.list = rt_list, .readlink = rt_readlink,
	.write = rt_write, .write_fd = rt_write_fd, .keep_orig = rt_keep_orig,
	.mkdir = rt_mkdir, .symlink = rt_symlink, .link = rt_link,
	.mknod = rt_mknod, .remove = rt_remove, .setattr = rt_setattr,
	.sync = rt_sync, .room = rt_room, .close = rt_close,
};

struct tree *
tree_recording(struct tree *in, struct spec *spec)
{
	struct rectree *r;

	if (in == NULL)
		return NULL;
	if (!tree_writable(in)) {
		sr_seterr("%s: cannot record changes to a read-only tree",
		    in->name);
		errno = EROFS;
		tree_close(in);
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		tree_close(in);
		sr_oom();
		return NULL;
	}
	r->t.ops = &rec_ops;
	r->t.name = in->name;
	r->in = in;
	r->spec = spec;
	return &r->t;
}
