/*
 * FFS images written directly (ffsbuild.h): a source tree copied into
 * an FFS writer, its files' contents read from the source only when the
 * image is laid out, and the new image put in the target's place.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/xattr.h>
#endif

#include "image/attach.h"
#include "image/ffsbuild.h"
#include "tree/dir.h"

#define RA_SIZE	(256 * 1024)	/* read ahead of an image's file */

/* A regular file whose content a reader takes from its source. */
struct ffsb_copy;
struct ffsb_file {
	struct ffsb_copy *c;
	struct tree *src;
	dev_t	 dev;
	ino_t	 ino;
	uint64_t size;
	char	 path[];		/* in src */
};

/* A file with more than one link, met once: where it went in dst. */
struct ffsb_link {
	struct tree *src;
	dev_t	 dev;
	ino_t	 ino;
	char	*dst;
};

struct ffsb_copy {
	struct ffsb_file **files;
	size_t	 nfiles, capfiles;
	struct ffsb_link *links;	/* open addressing; capacity a power of 2 */
	size_t	 nlinks, caplinks;
	/* The one host file kept open between reads (a tree_dir source). */
	const struct ffsb_file *cur;
	int	 curfd;
	/*
	 * What was read ahead of another tree's file (an image's, each
	 * read a lookup of its path): the writer asks a block at a time.
	 */
	const struct ffsb_file *rafile;
	uint64_t raoff;
	size_t	 ralen;
	char	*ra;
	bool	 warn;			/* say what is not kept (sr_log) */
};

struct ffsb_copy *
ffsb_copy_new(void)
{
	struct ffsb_copy *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		sr_seterrno("copy");
		return NULL;
	}
	c->curfd = -1;
	return c;
}

void
ffsb_copy_warn(struct ffsb_copy *c, bool warn)
{
	c->warn = warn;
}

void
ffsb_copy_free(struct ffsb_copy *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->curfd != -1)
		close(c->curfd);
	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	for (i = 0; i < c->caplinks; i++)
		free(c->links[i].dst);
	free(c->files);
	free(c->links);
	/* An encrypted image's plaintext may be in it. */
	if (c->ra != NULL)
		explicit_bzero(c->ra, RA_SIZE);
	free(c->ra);
	free(c);
}

static size_t
link_hash(const struct tree *src, dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)(uintptr_t)src * 0x9e3779b97f4a7c15ULL;

	h ^= (uint64_t)dev * 0xff51afd7ed558ccdULL;
	h ^= (uint64_t)ino * 0xc4ceb9fe1a85ec53ULL;
	return (size_t)(h ^ (h >> 29));
}

/* The slot of (src, dev, ino): its own, or the empty one it would take. */
static struct ffsb_link *
link_slot(struct ffsb_copy *c, const struct tree *src, dev_t dev, ino_t ino)
{
	size_t i = link_hash(src, dev, ino) & (c->caplinks - 1);

	for (;; i = (i + 1) & (c->caplinks - 1)) {
		struct ffsb_link *l = &c->links[i];

		if (l->dst == NULL || (l->src == src && l->dev == dev &&
		    l->ino == ino))
			return l;
	}
}

static int
link_grow(struct ffsb_copy *c)
{
	struct ffsb_link *old = c->links;
	size_t i, oldcap = c->caplinks;

	c->caplinks = oldcap == 0 ? 64 : oldcap * 2;
	if ((c->links = calloc(c->caplinks, sizeof(*c->links))) == NULL) {
		c->links = old;
		c->caplinks = oldcap;
		sr_seterrno("copy: hard links");
		return -1;
	}
	for (i = 0; i < oldcap; i++)
		if (old[i].dst != NULL)
			*link_slot(c, old[i].src, old[i].dev, old[i].ino) =
			    old[i];
	free(old);
	return 0;
}

/*
 * Where the file (src, st) went before, or NULL after noting that it
 * goes to dst now: a file of one link is never looked up.
 */
static int
link_seen(struct ffsb_copy *c, struct tree *src, const struct stat *st,
    const char *dst, const char **was)
{
	struct ffsb_link *l;

	*was = NULL;
	if (st->st_nlink < 2)
		return 0;
	if ((c->nlinks + 1) * 2 > c->caplinks && link_grow(c) == -1)
		return -1;
	l = link_slot(c, src, st->st_dev, st->st_ino);
	if (l->dst != NULL) {
		*was = l->dst;
		return 0;
	}
	if ((l->dst = strdup(dst)) == NULL) {
		sr_seterrno("copy: hard links");
		return -1;
	}
	l->src = src;
	l->dev = st->st_dev;
	l->ino = st->st_ino;
	c->nlinks++;
	return 0;
}

/*
 * A host file opened once for all its reads, and checked to be the file
 * the walk met (a name swapped since is refused, not read).
 */
static int
host_fd(struct ffsb_copy *c, const struct ffsb_file *f)
{
	struct stat st;
	int dirfd = tree_dir_fd(f->src);

	if (c->cur == f)
		return c->curfd;
	if (c->curfd != -1)
		close(c->curfd);
	c->cur = NULL;
	if ((c->curfd = dir_openfile(dirfd, f->path)) == -1)
		return -1;
	if (fstat(c->curfd, &st) == -1 || st.st_dev != f->dev ||
	    st.st_ino != f->ino) {
		sr_seterr("%s: read: replaced since it was listed (refused)",
		    f->path);
		errno = EIO;
		close(c->curfd);
		return c->curfd = -1;
	}
	c->cur = f;
	return c->curfd;
}

/* Up to len bytes of another tree's file from off, read ahead. */
static ssize_t
tree_read_ahead(struct ffsb_copy *c, const struct ffsb_file *f, uint64_t off,
    void *buf, size_t len)
{
	size_t want, got = 0;
	ssize_t n;

	if (c->rafile != f || off < c->raoff || off >= c->raoff + c->ralen) {
		if (c->ra == NULL && (c->ra = malloc(RA_SIZE)) == NULL)
			return sr_oom();
		c->rafile = NULL;
		want = off >= f->size ? 0 : f->size - off > RA_SIZE ?
		    RA_SIZE : (size_t)(f->size - off);
		while (got < want) {
			if ((n = tree_pread(f->src, f->path, off + got,
			    c->ra + got, want - got)) == -1)
				return -1;
			if (n == 0)
				break;
			got += (size_t)n;
		}
		if (got == 0)
			return 0;
		c->rafile = f;
		c->raoff = off;
		c->ralen = got;
	}
	if (len > c->raoff + c->ralen - off)
		len = (size_t)(c->raoff + c->ralen - off);
	memcpy(buf, c->ra + (off - c->raoff), len);
	return (ssize_t)len;
}

/* ffsw_readfn: len bytes of the file from off, all of them or an error. */
static int
file_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct ffsb_file *f = ctx;
	struct ffsb_copy *c = f->c;
	char *p = buf;

	while (len > 0) {
		ssize_t n;
		int fd;

		if (tree_dir_fd(f->src) != -1) {
			if ((fd = host_fd(c, f)) == -1)
				return -1;
			if ((n = pread(fd, p, len, (off_t)off)) == -1 &&
			    errno == EINTR)
				continue;
			if (n == -1)
				sr_seterrno("%s: read", f->path);
		} else
			n = tree_read_ahead(c, f, off, p, len);
		if (n == -1)
			return -1;
		if (n == 0) {
			sr_seterr("%s: read: shorter than when listed (%ju "
			    "bytes; changed while copied)", f->path,
			    (uintmax_t)f->size);
			errno = EIO;
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	if (off >= f->size && c->cur == f) {
		close(c->curfd);
		c->curfd = -1;
		c->cur = NULL;
	}
	return 0;
}

/* Note a reader of the file at path in src; *out is its context. */
static int
file_new(struct ffsb_copy *c, struct tree *src, const char *path,
    const struct stat *st, struct ffsb_file **out)
{
	size_t len = strlen(path) + 1;
	struct ffsb_file *f;

	if (c->nfiles == c->capfiles) {
		size_t cap = c->capfiles == 0 ? 256 : c->capfiles * 2;
		void *n = reallocarray(c->files, cap, sizeof(*c->files));

		if (n == NULL) {
			sr_seterrno("copy");
			return -1;
		}
		c->files = n;
		c->capfiles = cap;
	}
	if ((f = malloc(sizeof(*f) + len)) == NULL) {
		sr_seterrno("copy");
		return -1;
	}
	f->src = src;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->size = (uint64_t)st->st_size;
	f->c = c;
	memcpy(f->path, path, len);
	c->files[c->nfiles++] = f;
	*out = f;
	return 0;
}

/*
 * Times as the source has them (no birth time in a stat: the change),
 * and its file flags where it keeps any (an FFS image's).
 */
static int
copy_meta(struct tree *src, struct tree *dst, const char *path,
    const struct stat *st)
{
	struct ffsw_meta m;

	memset(&m, 0, sizeof(m));
	if (tree_getflags(src, path, &m.flags) == -1)
		return -1;
	m.atime = st->st_atim;
	m.mtime = st->st_mtim;
	m.ctime = st->st_ctim;
	m.birthtime = st->st_ctim;
	return ffsw_setmeta(dst, path, &m);
}

int
ffsb_copy_times(struct tree *src, const char *path, struct tree *dst)
{
	struct stat st;

	if (tree_lstat(src, path, &st) == -1)
		return -1;
	return copy_meta(src, dst, path, &st);
}

/* What a walk of ffsb_copy() carries. */
struct copy_walk {
	struct ffsb_copy *c;
	struct tree *src, *dst;
	const char *const *exclude;
	struct copy_stats *cs;
};

/*
 * A host file's extended attributes: an FFS image written here holds
 * none, which is said, file by file (as the copier did for makefs).
 */
static void
warn_xattrs(struct copy_walk *w, const char *path)
{
#ifdef __linux__
	int dirfd = tree_dir_fd(w->src), fd;
	ssize_t n;

	if (!w->c->warn || dirfd == -1 ||
	    (fd = dir_openfile(dirfd, path)) == -1)
		return;
	n = flistxattr(fd, NULL, 0);
	close(fd);
	if (n > 0) {
		w->cs->warnings++;
		sr_log(SR_WARN, "%s: extended attributes "
		    "not kept (the image holds none)", path);
	}
#else
	(void)w;
	(void)path;
#endif
}

/* One entry of the source, as itself in dst. */
static int
copy_one(struct copy_walk *w, const char *path, const struct stat *st)
{
	struct tree_wopts wo = { .mode = st->st_mode & 07777,
	    .uid = st->st_uid, .gid = st->st_gid, .nosync = true };
	struct ffsb_file *f;
	struct sbuf target = { NULL, 0, 0 };
	const char *was;
	int rv;

	if (S_ISDIR(st->st_mode)) {
		/* The walk would not go in again: a copy would lack it. */
		if (link_seen(w->c, w->src, st, path, &was) == -1)
			return -1;
		if (was != NULL) {
			sr_seterr("read directory: a directory with two "
			    "parents (corrupt; refused): %s, also %s", was,
			    path);
			errno = EIO;
			return -1;
		}
		rv = path[0] == '\0' ? tree_setattr(w->dst, path, &wo) :
		    tree_mkdir(w->dst, path, &wo);
	} else if (S_ISLNK(st->st_mode)) {
		if ((rv = tree_readlink(w->src, path, &target)) == 0)
			rv = tree_symlink(w->dst, path, target.s, &wo);
		sbuf_free(&target);
	} else if (S_ISREG(st->st_mode)) {
		if (link_seen(w->c, w->src, st, path, &was) == -1)
			return -1;
		if (was != NULL)
			return tree_link(w->dst, was, path);
		w->cs->bytes += (uintmax_t)st->st_size;
		warn_xattrs(w, path);
		if (file_new(w->c, w->src, path, st, &f) == -1)
			return -1;
		rv = ffsw_add_file(w->dst, path, f->size, file_read, f, &wo);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ||
	    S_ISFIFO(st->st_mode)) {
		wo.mode = st->st_mode & (S_IFMT | 07777);
		if (link_seen(w->c, w->src, st, path, &was) == -1)
			return -1;
		if (was != NULL)
			return tree_link(w->dst, was, path);
		rv = tree_mknod(w->dst, path, st->st_rdev, &wo);
	} else {
		/* A socket or a door: nothing a guest's image can hold. */
		w->cs->warnings++;
		return 0;
	}
	if (rv == -1)
		return -1;
	return copy_meta(w->src, w->dst, path, st);
}

static int
copy_walkfn(void *ctx, const char *path, const struct stat *st)
{
	struct copy_walk *w = ctx;

	if (sr_checkpoint() == -1)
		return -1;
	if (path[0] != '\0' && path_excluded(w->exclude, path)) {
		w->cs->excluded++;
		return 1;
	}
	w->cs->entries++;
	return copy_one(w, path, st) == -1 ? -1 : 0;
}

int
ffsb_copy(struct ffsb_copy *c, struct tree *src, const char *top,
    const char *const *exclude, struct tree *dst, struct copy_stats *cs)
{
	struct copy_walk w = { c, src, dst, exclude, cs };
	struct copy_stats none;

	if (cs == NULL) {
		memset(&none, 0, sizeof(none));
		w.cs = &none;
	}
	return tree_walk(src, top, true, copy_walkfn, &w);
}

/*
 * Room for the new image, its whole size, refused before anything is
 * written (as for makefs's): a guest's disk fills up as it is used.
 */
static int
check_room(const struct ffsb_out *o)
{
	uint64_t want = o->size, avail;
	char where[512], what[64];

	if (want == 0 || sr_fsroom(o->fd, where, sizeof(where), &avail) != 0 ||
	    avail >= want)
		return 0;
	snprintf(what, sizeof(what), "the new image of %s", sr_size(want));
	sr_seterr_noroom(o->fd, what, want - avail, false);
	return -1;
}

/* ffsw_sink over the new file, and the file itself. */
int
ffsb_out_open(struct ffsb_out *o, const char *target,
    const struct ffsimg *like, uint64_t size)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->target = target;
	o->like = like;
	o->size = like != NULL ? (uint64_t)like->len : size;
	if ((o->fd = image_temp(target, o->tmp, sizeof(o->tmp))) == -1) {
		o->tmp[0] = '\0';
		if (sr_noroom(errno))
			sr_seterr_noroom(-1, "the new image", 0, false);
		return -1;
	}
	if (check_room(o) == -1) {
		ffsb_out_abort(o);
		return -1;
	}
	ffsw_sink_fd(&o->sink, o->fd, o->size, target);
	return 0;
}

int
ffsb_out_commit(struct ffsb_out *o)
{
	if (sr_checkpoint() == -1)
		goto fail;
	if (o->like != NULL) {
		/*
		 * It copies into place, syncs, renames, or removes tmp; our
		 * descriptor holds tmp as this run's until then.
		 */
		int rv = ffsimg_install(o->like, o->tmp);

		o->tmp[0] = '\0';
		close(o->fd);
		o->fd = -1;
		return rv;
	}
	if (fsync(o->fd) == -1) {
		if (sr_noroom(errno))
			sr_seterr_noroom(o->fd, "the new image", 0, false);
		else
			sr_seterrno("sync the new image");
		goto fail;
	}
	if (rename(o->tmp, o->target) == -1) {
		sr_seterrno("rename into place");
		goto fail;
	}
	o->tmp[0] = '\0';
	close(o->fd);
	o->fd = -1;
	return 0;
fail:
	ffsb_out_abort(o);
	return -1;
}

void
ffsb_out_abort(struct ffsb_out *o)
{
	if (o->tmp[0] != '\0')
		(void)unlink(o->tmp);
	o->tmp[0] = '\0';
	if (o->fd != -1)
		close(o->fd);
	o->fd = -1;
}
