/*
 * The guest-tree interface (tree.h): the checked calls every
 * implementation shares, the one walk, and the host directory.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tree/dir.h"
#include "tree/tree.h"

/* An operation this tree does not have (a write to a read-only one). */
static int
no_op(struct tree *t, const char *rel, const char *what)
{
	sr_seterr("%s: cannot %s in %s (%s, read-only)", rel, what,
	    t->name != NULL ? t->name : "the tree", t->ops->kind);
	errno = EROFS;
	return -1;
}

#define CALL(t, op, rel, what, ...)					\
	((t)->ops->op == NULL ? no_op((t), (rel), (what)) :		\
	    (t)->ops->op((t), __VA_ARGS__))

int
tree_lstat(struct tree *t, const char *rel, struct stat *st)
{
	return t->ops->lstat(t, rel, st);
}

int
tree_read(struct tree *t, const char *rel, size_t max, struct sbuf *out)
{
	return t->ops->read(t, rel, max, out);
}

ssize_t
tree_pread(struct tree *t, const char *rel, uint64_t off, void *buf,
    size_t len)
{
	return t->ops->pread(t, rel, off, buf, len);
}

int
tree_list(struct tree *t, const char *rel, char ***out)
{
	return t->ops->list(t, rel, out);
}

void
tree_freelist(char **v)
{
	dir_freelist(v);
}

int
tree_readlink(struct tree *t, const char *rel, struct sbuf *out)
{
	return t->ops->readlink(t, rel, out);
}

int
tree_write(struct tree *t, const char *rel, const void *data, size_t len,
    const struct tree_wopts *wo)
{
	return CALL(t, write, rel, "write", rel, data, len, wo);
}

int
tree_write_fd(struct tree *t, const char *rel, int fd,
    const struct tree_wopts *wo)
{
	return CALL(t, write_fd, rel, "write", rel, fd, wo);
}

int
tree_keep_orig(struct tree *t, const char *rel)
{
	return CALL(t, keep_orig, rel, "keep the original", rel);
}

int
tree_mkdir(struct tree *t, const char *rel, const struct tree_wopts *wo)
{
	return CALL(t, mkdir, rel, "make a directory", rel, wo);
}

int
tree_symlink(struct tree *t, const char *rel, const char *target,
    const struct tree_wopts *wo)
{
	return CALL(t, symlink, rel, "make a symbolic link", rel, target, wo);
}

int
tree_link(struct tree *t, const char *from, const char *to)
{
	return CALL(t, link, to, "make a link", from, to);
}

int
tree_mknod(struct tree *t, const char *rel, dev_t dev,
    const struct tree_wopts *wo)
{
	return CALL(t, mknod, rel, "make a node", rel, dev, wo);
}

int
tree_remove(struct tree *t, const char *rel)
{
	return CALL(t, remove, rel, "remove", rel);
}

int
tree_setattr(struct tree *t, const char *rel, const struct tree_wopts *wo)
{
	return CALL(t, setattr, rel, "set owner and mode", rel, wo);
}

int
tree_sync(struct tree *t)
{
	return t->ops->sync == NULL ? 0 : t->ops->sync(t);
}

int
tree_room(struct tree *t, struct tree_room *r)
{
	memset(r, 0, sizeof(*r));
	if (t->ops->room == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	return t->ops->room(t, r);
}

int
tree_getflags(struct tree *t, const char *rel, uint32_t *flags)
{
	*flags = 0;
	if (t->ops->getflags != NULL)
		return t->ops->getflags(t, rel, flags);
	return 0;
}

void
tree_close(struct tree *t)
{
	if (t != NULL)
		t->ops->close(t);
}

bool
tree_writable(const struct tree *t)
{
	return t->ops->write != NULL;
}

int
tree_pass(const char *rel, const char *step, mode_t mode)
{
	if (S_ISDIR(mode))
		return 0;
	if (S_ISLNK(mode)) {
		sr_seterr("%s: %s: a symbolic link in the path (refused)", rel,
		    step);
		errno = ELOOP;
		return -1;
	}
	errno = ENOTDIR;
	sr_seterrno("%s: %s", rel, step);
	errno = ENOTDIR;
	return -1;
}

int
tree_exists(struct tree *t, const char *rel)
{
	struct stat st;

	if (tree_lstat(t, rel, &st) == 0)
		return 0;
	return errno == ENOENT || errno == ENOTDIR ? 1 : -1;
}

int
tree_has(struct tree *t, const char *rel, const void *needle, size_t nlen)
{
	enum { PIECE = 1 << 20 };
	char *buf;
	uint64_t off = 0;
	size_t keep = 0;
	ssize_t n;
	int rv = 1;

	if (nlen == 0 || nlen > PIECE) {
		sr_seterr("%s: a search for %zu bytes", rel, nlen);
		errno = EINVAL;
		return -1;
	}
	if ((buf = malloc(PIECE + nlen)) == NULL)
		return sr_oom();
	/* Each piece starts with the last nlen - 1 bytes of the one before. */
	while ((n = tree_pread(t, rel, off, buf + keep, PIECE)) > 0) {
		size_t have = keep + (size_t)n;

		off += (uint64_t)n;
		if (memmem(buf, have, needle, nlen) != NULL) {
			rv = 0;
			break;
		}
		keep = have < nlen - 1 ? have : nlen - 1;
		memmove(buf, buf + have - keep, keep);
	}
	if (n == -1)
		rv = -1;
	free(buf);
	return rv;
}

/* A tree below another ------------------------------------------------------ */

struct subtree {
	struct tree t;
	struct tree *up;
	char	*prefix;
	char	*path;		/* the last path made */
};

#define ST(t)	((struct subtree *)(void *)(t))

/* rel below the prefix, in a buffer of the subtree's own. */
static const char *
sub_path(struct tree *t, const char *rel)
{
	struct subtree *s = ST(t);

	free(s->path);
	if (asprintf(&s->path, "%s%s%s", s->prefix, *rel ? "/" : "",
	    rel) == -1) {
		s->path = NULL;
		sr_oom();
	}
	return s->path;
}

static int
sub_lstat(struct tree *t, const char *rel, struct stat *st)
{
	const char *p = sub_path(t, rel);

	return p == NULL ? -1 : tree_lstat(ST(t)->up, p, st);
}

static int
sub_read(struct tree *t, const char *rel, size_t max, struct sbuf *out)
{
	const char *p = sub_path(t, rel);

	return p == NULL ? -1 : tree_read(ST(t)->up, p, max, out);
}

static ssize_t
sub_pread(struct tree *t, const char *rel, uint64_t off, void *buf,
    size_t len)
{
	const char *p = sub_path(t, rel);

	return p == NULL ? -1 : tree_pread(ST(t)->up, p, off, buf, len);
}

static int
sub_list(struct tree *t, const char *rel, char ***out)
{
	const char *p = sub_path(t, rel);

	return p == NULL ? -1 : tree_list(ST(t)->up, p, out);
}

static int
sub_readlink(struct tree *t, const char *rel, struct sbuf *out)
{
	const char *p = sub_path(t, rel);

	return p == NULL ? -1 : tree_readlink(ST(t)->up, p, out);
}

static int
sub_getflags(struct tree *t, const char *rel, uint32_t *flags)
{
	const char *p = sub_path(t, rel);

	return p == NULL ? -1 : tree_getflags(ST(t)->up, p, flags);
}

static void
sub_close(struct tree *t)
{
	free(ST(t)->prefix);
	free(ST(t)->path);
	free(t);
}

static const struct tree_ops sub_ops = {
	.kind = "directory of a tree",
	.lstat = sub_lstat, .read = sub_read, .pread = sub_pread,
	.list = sub_list, .readlink = sub_readlink, .close = sub_close,
	.getflags = sub_getflags,
};

struct tree *
tree_sub(struct tree *t, const char *rel)
{
	struct subtree *s;
	struct tree *sub;
	int fd;

	/* A host directory: its own descriptor, held. */
	if (tree_dir_fd(t) != -1) {
		if ((fd = dir_opendir(tree_dir_fd(t), rel)) == -1)
			return NULL;
		sub = tree_dir(fd, t->name, TREE_RDONLY);
		close(fd);
		return sub;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->prefix = strdup(rel)) == NULL) {
		free(s);
		sr_oom();
		return NULL;
	}
	s->t.ops = &sub_ops;
	s->t.name = t->name;
	s->up = t;
	return &s->t;
}

/* The walk ------------------------------------------------------------------ */

struct walk {
	struct tree *t;
	tree_walkfn *fn;
	void	*arg;
	struct dir_seen seen;
};

static int
walk_dir(struct walk *w, const char *rel, const struct stat *st,
    unsigned depth)
{
	char **names = NULL, *sub = NULL;
	size_t i;
	int rv;

	if (depth > SR_MAXDEPTH) {
		sr_seterr("deeper than %d directories: %s", SR_MAXDEPTH,
		    sr_shortpath(rel));
		errno = ELOOP;
		return -1;
	}
	if ((rv = w->fn(w->arg, rel, st)) != 0 || !S_ISDIR(st->st_mode))
		return rv == 1 ? 0 : rv;
	if ((rv = dir_seen_add(&w->seen, st)) != 0)
		return rv == 1 ? 0 : sr_oom();
	if (tree_list(w->t, rel, &names) == -1)
		return -1;
	for (i = 0, rv = 0; names[i] != NULL && rv == 0; i++) {
		struct stat sst;

		free(sub);
		if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "",
		    names[i]) == -1) {
			sub = NULL;
			rv = sr_oom();
		} else if ((rv = sr_checkpoint()) == 0 &&
		    (rv = tree_lstat(w->t, sub, &sst)) == 0)
			rv = walk_dir(w, sub, &sst, depth + 1);
	}
	free(sub);
	tree_freelist(names);
	return rv;
}

int
tree_walk(struct tree *t, const char *top, bool missing_ok,
    tree_walkfn *fn, void *arg)
{
	struct walk w = { .t = t, .fn = fn, .arg = arg };
	struct stat st;
	int rv;

	if (tree_lstat(t, top, &st) == -1)
		return missing_ok && errno == ENOENT ? 0 : -1;
	rv = walk_dir(&w, top, &st, 0);
	dir_seen_free(&w.seen);
	return rv;
}

/* A host directory ------------------------------------------------------------ */

struct dirtree {
	struct tree t;
	int	 fd;
	int	 flags;
};

#define DT(t)	((struct dirtree *)(void *)(t))

static int
dt_lstat(struct tree *t, const char *rel, struct stat *st)
{
	/* "" is the root itself, as for tree_list(): a walk of it all. */
	if (*rel == '\0') {
		if (fstat(DT(t)->fd, st) == -1) {
			sr_seterrno("/: stat");
			return -1;
		}
		return 0;
	}
	return dir_lstat(DT(t)->fd, rel, st);
}

static int
dt_read(struct tree *t, const char *rel, size_t max, struct sbuf *out)
{
	return dir_readfile(DT(t)->fd, rel, max, out, NULL);
}

static ssize_t
dt_pread(struct tree *t, const char *rel, uint64_t off, void *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = dir_openfile(DT(t)->fd, rel)) == -1)
		return -1;
	if ((n = pread(fd, buf, len, (off_t)off)) == -1)
		sr_seterrno("%s: read", rel);
	close(fd);
	return n;
}

static int
dt_list(struct tree *t, const char *rel, char ***out)
{
	return dir_list(DT(t)->fd, rel, out);
}

static int
dt_readlink(struct tree *t, const char *rel, struct sbuf *out)
{
	char buf[PATH_MAX];
	const char *name;
	ssize_t n;
	int pfd;

	if ((pfd = dir_openparent(DT(t)->fd, rel, &name)) == -1)
		return -1;
	n = readlinkat(pfd, name, buf, sizeof(buf));
	close(pfd);
	if (n == -1) {
		sr_seterrno("%s: read link", rel);
		return -1;
	}
	if ((size_t)n == sizeof(buf)) {
		sr_seterr("%s: read link: longer than %zu bytes", rel,
		    sizeof(buf) - 1);
		errno = ENAMETOOLONG;
		return -1;
	}
	return sbuf_add(out, buf, (size_t)n);
}

static int
dt_write(struct tree *t, const char *rel, const void *data, size_t len,
    const struct tree_wopts *wo)
{
	struct tree_wopts w = *wo;

	w.nosync = w.nosync || (DT(t)->flags & TREE_NOSYNC);
	return dir_writefile(DT(t)->fd, rel, data, len, &w);
}

static int
dt_write_fd(struct tree *t, const char *rel, int fd,
    const struct tree_wopts *wo)
{
	struct tree_wopts w = *wo;

	w.nosync = w.nosync || (DT(t)->flags & TREE_NOSYNC);
	return dir_writefile_fd(DT(t)->fd, rel, fd, &w);
}

static int
dt_keep_orig(struct tree *t, const char *rel)
{
	return dir_keep_orig(DT(t)->fd, rel);
}

static int
dt_mkdir(struct tree *t, const char *rel, const struct tree_wopts *wo)
{
	if (dir_mkdir(DT(t)->fd, rel, wo->mode) == -1)
		return -1;
	/* Made root's, when we are root: another owner is set apart. */
	if (wo->uid != 0 || wo->gid != 0 || geteuid() != 0)
		return dir_setattr(DT(t)->fd, rel, wo->uid, wo->gid, wo->mode);
	return 0;
}

static int
dt_symlink(struct tree *t, const char *rel, const char *target,
    const struct tree_wopts *wo)
{
	return dir_symlink(DT(t)->fd, rel, target, wo->uid, wo->gid);
}

static int
dt_link(struct tree *t, const char *from, const char *to)
{
	return dir_link(DT(t)->fd, from, to);
}

static int
dt_mknod(struct tree *t, const char *rel, dev_t dev,
    const struct tree_wopts *wo)
{
	const char *name;
	int pfd, rv = 0;

	if ((pfd = dir_openparent(DT(t)->fd, rel, &name)) == -1)
		return -1;
	if (mknodat(pfd, name, wo->mode, dev) == -1) {
		sr_seterrno("%s: make node", rel);
		rv = -1;
	}
	close(pfd);
	if (rv == 0)
		rv = dir_setattr(DT(t)->fd, rel, wo->uid, wo->gid, wo->mode);
	return rv;
}

static int
dt_remove(struct tree *t, const char *rel)
{
	return dir_remove(DT(t)->fd, rel);
}

static int
dt_setattr(struct tree *t, const char *rel, const struct tree_wopts *wo)
{
	return dir_setattr(DT(t)->fd, rel, wo->uid, wo->gid, wo->mode);
}

static int
dt_sync(struct tree *t)
{
	if (dir_syncfs(DT(t)->fd) == -1) {
		sr_seterrno("%s: sync", t->name);
		return -1;
	}
	return 0;
}

/* Where its file system is mounted, what room and inodes it has left. */
static int
dt_room(struct tree *t, struct tree_room *r)
{
	struct statvfs sv;

	if (sr_fsroom(DT(t)->fd, r->where, sizeof(r->where), &r->avail) ==
	    -1 || fstatvfs(DT(t)->fd, &sv) == -1)
		return -1;
	r->noinodes = sv.f_files > 0 && sv.f_favail == 0;
	return 0;
}

static void
dt_close(struct tree *t)
{
	close(DT(t)->fd);
	free(t);
}

static const struct tree_ops dir_ops = {
	.kind = "directory",
	.lstat = dt_lstat, .read = dt_read, .pread = dt_pread,
	.list = dt_list, .readlink = dt_readlink,
	.write = dt_write, .write_fd = dt_write_fd, .keep_orig = dt_keep_orig,
	.mkdir = dt_mkdir, .symlink = dt_symlink, .link = dt_link,
	.mknod = dt_mknod, .remove = dt_remove, .setattr = dt_setattr,
	.sync = dt_sync, .room = dt_room, .close = dt_close,
};

static const struct tree_ops dir_ro_ops = {
	.kind = "directory",
	.lstat = dt_lstat, .read = dt_read, .pread = dt_pread,
	.list = dt_list, .readlink = dt_readlink, .room = dt_room,
	.close = dt_close,
};

struct tree *
tree_dir(int fd, const char *name, int flags)
{
	struct dirtree *d;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		sr_oom();
		return NULL;
	}
	if ((d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		sr_seterrno("%s: duplicate descriptor", name);
		free(d);
		return NULL;
	}
	d->t.ops = (flags & TREE_RDONLY) ? &dir_ro_ops : &dir_ops;
	d->t.name = name;
	d->flags = flags;
	return &d->t;
}

int
tree_dir_fd(const struct tree *t)
{
	return t->ops == &dir_ops || t->ops == &dir_ro_ops ?
	    DT((struct tree *)(uintptr_t)t)->fd : -1;
}
