/*
 * Building an image without mounting it: a private stage its user
 * fills, an mtree spec of what each path must be, and makefs(8).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/attach.h"
#include "image/build.h"
#include "base/compat.h"
#include "tree/dir.h"
#include "base/os.h"
#include "base/run.h"
#include "tree/tree.h"

struct tree *
stage_tree(struct stage *st)
{
	return tree_recording(tree_dir(st->fd, "the stage", TREE_NOSYNC),
	    &st->copied);
}

int
stage_apply(struct stage *st, const struct plan *p)
{
	struct tree *t;
	int rv;

	if ((t = stage_tree(st)) == NULL)
		return -1;
	rv = plan_apply(p, t);
	tree_close(t);
	return rv;
}

/* Which entries of the (sorted) spec the stage holds. */
struct staged {
	struct spec *spec;
	bool	*held;
};

static int
check_staged(void *arg, const char *rel, const struct stat *st)
{
	struct staged *c = arg;
	const struct spec_ent *e = spec_get(c->spec, rel);

	if (e == NULL || (e->mode & S_IFMT) != (st->st_mode & S_IFMT)) {
		/* makefs would give it its stager's owner: never. */
		sr_seterr("%s: staged, but not as its spec says (refused)",
		    sr_shortpath(rel));
		errno = EINVAL;
		return -1;
	}
	c->held[e - c->spec->v] = true;
	return 0;
}

/* Walk the stage, noting in c which entries of the spec it holds. */
static int
stage_held(struct stage *st, struct staged *c)
{
	struct tree *t;
	char **names = NULL;
	size_t i;
	int rv = -1;

	if ((t = tree_dir(st->fd, "the stage", TREE_RDONLY)) == NULL)
		return -1;
	/* Each top (a walk's top is a path: the stage itself is none). */
	if (tree_list(t, "", &names) == 0)
		for (i = 0, rv = 0; names[i] != NULL && rv == 0; i++)
			rv = tree_walk(t, names[i], false, check_staged, c);
	tree_freelist(names);
	tree_close(t);
	return rv;
}

/*
 * The spec makefs reads is the one recorded as the stage was filled
 * (stage_tree()), checked against the stage and the image's root
 * added.  Device nodes live in it alone, where their directory is; a
 * socket copy_trees() noted goes (no image holds one), as does a node
 * whose directory a source left out.
 */
static int
spec_finish(struct stage *st)
{
	struct spec *s = &st->copied;
	struct staged c = { s, NULL };
	size_t first, end, i;
	bool *keep = NULL;
	int rv = -1;

	spec_below(s, "", &first, &end);
	if ((c.held = calloc(s->n + 1, sizeof(bool))) == NULL ||
	    (keep = calloc(s->n + 1, sizeof(bool))) == NULL) {
		sr_oom();
		goto done;
	}
	if (stage_held(st, &c) == -1)
		goto done;
	for (i = 0; i < s->n; i++) {
		const struct spec_ent *e = &s->v[i], *pe;
		const char *slash = strrchr(e->path, '/');
		char parent[PATH_MAX];

		keep[i] = c.held[i] || strcmp(e->path, ".") == 0;
		if (keep[i] || !spec_only(e))
			continue;
		snprintf(parent, sizeof(parent), "%.*s", slash ?
		    (int)(slash - e->path) : 0, e->path);
		keep[i] = slash == NULL || ((pe = spec_get(s, parent)) !=
		    NULL && c.held[pe - s->v]);
	}
	spec_keep(s, keep);
	rv = 0;
	if (spec_get(s, ".") == NULL) {
		struct spec_ent root = { .path = ".", .mode = S_IFDIR | 0755 };

		clock_gettime(CLOCK_REALTIME, &root.mtime);
		rv = spec_add(s, &root);
	}
done:
	free(c.held);
	free(keep);
	return rv;
}

/*
 * What makefs(8) counts for a directory's entries (ffs_size_dir()): each
 * entry 8 bytes and its name, padded to 4, none across a 512-byte
 * directory block.
 */
static void
dirent_add(uint64_t *cur, size_t namelen)
{
	uint64_t this = (8 + namelen + 1 + 3) & ~(uint64_t)3;

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
size_walk(int dirfd, const char *rel, struct spec *spec, struct mfsize *m,
    struct dir_seen *files, int depth)
{
	char **names = NULL, path[PATH_MAX];
	uint64_t cur = 0;
	size_t i, first, end, n = strlen(rel);
	int rv = -1;

	if (depth > SR_MAXDEPTH) {
		sr_seterr("size: nested more than %d deep (refused): %s",
		    SR_MAXDEPTH, sr_shortpath(rel));
		return -1;
	}
	if (dir_list(dirfd, "", &names) == -1)
		return -1;
	dirent_add(&cur, 1);
	dirent_add(&cur, 2);
	for (i = 0; names[i] != NULL; i++) {
		struct stat st;

		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel,
		    *rel ? "/" : "", names[i]) >= sizeof(path)) {
			sr_seterr("size: a path longer than %d bytes "
			    "(refused): %s/%s", PATH_MAX - 1,
			    sr_shortpath(rel), names[i]);
			goto done;
		}
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == -1) {
			sr_seterrno("%s: size", sr_shortpath(path));
			goto done;
		}
		dirent_add(&cur, strlen(names[i]));
		/* One inode and one content for all the names of a file. */
		if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 &&
		    dir_seen_add(files, &st) != 0)
			continue;
		m->inodes++;
		if (S_ISREG(st.st_mode))
			m->data += frags((uint64_t)st.st_size, m->fsize);
		else if (S_ISLNK(st.st_mode) && (uint64_t)st.st_size + 1 >=
		    m->maxsymlink)
			m->data += frags((uint64_t)st.st_size + 1, m->fsize);
		else if (S_ISDIR(st.st_mode)) {
			int fd = dir_opendir(dirfd, names[i]);

			if (fd == -1 || size_walk(fd, path, spec, m, files,
			    depth + 1) == -1) {
				if (fd != -1)
					close(fd);
				goto done;
			}
			close(fd);
		}
	}
	/* Device nodes staged in the spec alone, in this directory. */
	first = end = 0;
	if (spec != NULL)
		spec_below(spec, rel, &first, &end);
	for (i = first; i < end; i++) {
		const struct spec_ent *e = &spec->v[i];
		const char *name = e->path + (n ? n + 1 : 0);

		if (spec_only(e) && strchr(name, '/') == NULL &&
		    fstatat(dirfd, name, &(struct stat){ 0 },
		    AT_SYMLINK_NOFOLLOW) == -1) {
			dirent_add(&cur, strlen(name));
			m->inodes++;
		}
	}
	m->data += frags(cur, m->fsize);
	rv = 0;
done:
	dir_freelist(names);
	return rv;
}

int
stage_size(int stagefd, struct spec *spec, struct mfsize *m)
{
	struct dir_seen files = { 0 };
	int rv;

	rv = size_walk(stagefd, "", spec, m, &files, 0);
	dir_seen_free(&files);
	return rv;
}

uint64_t
mfsize_need(const struct mfsize *m)
{
	uint64_t isize = m->version == 1 ? 128 : 256, per = m->bsize / isize;
	/* makefs's ffs_validate(): the inodes with the first two. */
	uint64_t ino = m->inodes + 2, size;

	size = m->data + 8192 + 8192 + isize * ((ino + per - 1) / per * per);
	size = size * (100 + 5) / 100;		/* its MINFREE, 5% */
	return (size + m->bsize - 1) / m->bsize * m->bsize;
}

/*
 * Make the zero runs of a finished image holes again (makefs writes
 * every byte): runs of whole 64 KiB blocks, each run punched at once.
 */
static int
make_sparse(const char *path)
{
	enum { BLK = 1 << 16, BUF = 1 << 20 };
	static char buf[BUF];
	off_t off = 0, run = -1;
	ssize_t n;
	int fd, rv = 0;

	if (!os_can_punch())
		return 0;
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		sr_seterrno("make sparse");
		return -1;
	}
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		ssize_t i;

		for (i = 0; i < n; i += BLK) {
			bool z = n - i >= BLK && sr_zeros(buf + i, BLK);

			if (z && run == -1)
				run = off + i;
			else if (!z && run != -1) {
				(void)os_punch_hole(fd, run, off + i - run);
				run = -1;
			}
		}
		off += n;
	}
	if (run != -1)
		(void)os_punch_hole(fd, run, off - run);
	/* Said before close(), which may change errno. */
	if (n == -1 || fsync(fd) == -1) {
		sr_seterrno("make sparse");
		rv = -1;
	}
	close(fd);
	return rv;
}

int
stage_plan_nodevs(struct stage *st, const char *dir, struct plan *p)
{
	size_t i, n = strlen(dir);

	for (i = 0; i < st->copied.n; i++) {
		const struct spec_ent *e = &st->copied.v[i];

		if ((S_ISCHR(e->mode) || S_ISBLK(e->mode)) &&
		    strncmp(e->path, dir, n) == 0 && e->path[n] == '/' &&
		    plan_remove(p, e->path) == -1)
			return -1;
	}
	return 0;
}

static const char *stage_base;

void
stage_memory(const char *base)
{
	stage_base = base;
}

int
stage_open(struct stage *st)
{
	const char *base = stage_base ? stage_base : scratch_base();

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	st->work.lockfd = -1;
	if (scratch_make(&st->work, base, SCRATCH_STAGE) == -1) {
		sr_prefixerr("stage");
		return -1;
	}
	if (scratch_path(&st->work, "tree", st->tree, sizeof(st->tree)) ==
	    -1) {
		sr_prefixerr("stage");
		return -1;
	}
	if (mkdir(st->tree, 0700) == -1 || (st->fd = open(st->tree, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		sr_seterrno("stage: %s", st->tree);
		return -1;
	}
	return 0;
}

int
stage_close(struct stage *st)
{
	int rv = 0;

	if (st->fd != -1) {
		close(st->fd);
		st->fd = -1;
	}
	spec_free(&st->copied);
	/* dir_purge never follows a link: safe on what we staged. */
	if (scratch_remove(&st->work) == -1) {
		sr_prefixerr("stage");
		rv = -1;
	}
	return rv;
}

/*
 * makefs failed, saying why on its standard error: say it in one line,
 * the full file systems as such ('no room'), our private paths (the new
 * image beside image, the stage tree) by what they are.
 */
static void
makefs_failed(const char *why, const char *out, const char *tree,
    const char *image)
{
	char line[1024], dir[PATH_MAX], *p, *slash;
	long long need, max, have, want;
	size_t n;
	int dfd;

	if (why == NULL || *why == '\0')
		return;		/* run_cmd()'s exit status stays */
	/* The first line that says something, without "makefs: ". */
	n = strcspn(why, "\n");
	snprintf(line, sizeof(line), "%.*s", (int)n, why);
	p = strncmp(line, "makefs: ", 8) == 0 ? line + 8 : line;
	if ((slash = strstr(p, "' size of ")) != NULL &&
	    sscanf(slash, "' size of %lld is larger than the maxsize of %lld",
	    &need, &max) == 2 && need > max) {
		sr_seterr("no room in its file system of %s for the new tree: "
		    "makefs needs %s; about %s more needed (refused, nothing "
		    "written)", sr_size((uint64_t)max), sr_size((uint64_t)need),
		    sr_size((uint64_t)(need - max)));
		return;
	}
	if ((slash = strstr(p, "' has ")) != NULL &&
	    sscanf(slash, "' has %lld free inodes; %lld are required",
	    &have, &want) == 2) {
		sr_seterr("no room in its file system for the new tree: %lld "
		    "files and directories, inodes for %lld (refused, nothing "
		    "written)", want, have);
		return;
	}
	if (strstr(why, strerror(ENOSPC)) != NULL ||
	    strstr(why, strerror(EDQUOT)) != NULL) {
		/* The new image, beside the old one, did not fit there. */
		strlcpy(dir, image, sizeof(dir));
		if ((slash = strrchr(dir, '/')) != NULL)
			*(slash == dir ? slash + 1 : slash) = '\0';
		else
			strlcpy(dir, ".", sizeof(dir));
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* "zeroing image, N bytes to go: ..." */
		if ((slash = strstr(why, "zeroing image, ")) == NULL ||
		    sscanf(slash, "zeroing image, %lld bytes to go", &need) !=
		    1 || need < 0)
			need = 0;
		errno = ENOSPC;
		sr_seterr_noroom(dfd, "the new image", (uint64_t)need, false);
		if (dfd != -1)
			close(dfd);
		return;
	}
	/* Anything else: makefs's words, our temporaries named. */
	{
		struct sbuf b = { 0 };
		const char *q = p;

		while (*q != '\0') {
			size_t lo = strlen(out), lt = strlen(tree);

			if (lo > 0 && strncmp(q, out, lo) == 0) {
				sbuf_adds(&b, "the new image");
				q += lo;
			} else if (lt > 0 && strncmp(q, tree, lt) == 0) {
				sbuf_adds(&b, "the stage");
				q += lt;
			} else
				sbuf_add(&b, q++, 1);
		}
		sr_seterr("makefs: %s", b.s ? b.s : p);
		sbuf_free(&b);
	}
}

/* The finished spec, written where makefs reads it (work/spec). */
static int
write_spec(struct stage *st, char *specf, size_t size)
{
	int fd, rv;

	if (spec_finish(st) == -1)
		return -1;
	if ((size_t)snprintf(specf, size, "%s/spec", st->work.dir) >= size) {
		sr_seterr("stage: %s/spec: path too long", st->work.dir);
		return -1;
	}
	if ((fd = open(specf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		sr_seterrno("stage: %s", specf);
		return -1;
	}
	rv = spec_write(&st->copied, fd);
	if (close(fd) == -1 && rv == 0) {
		sr_seterrno("stage: %s", specf);
		rv = -1;
	}
	return rv;
}

/* Room for the new image, which makefs writes whole (at outfd). */
static int
check_room(int outfd, const struct build_opts *bo)
{
	uint64_t want = bo->like != NULL ? (uint64_t)bo->like->len : bo->size,
	    avail;
	char where[512], what[64];

	if (want == 0 || sr_fsroom(outfd, where, sizeof(where), &avail) != 0 ||
	    avail >= want)
		return 0;
	snprintf(what, sizeof(what), "the new image of %s", sr_size(want));
	sr_seterr_noroom(outfd, what, want - avail, false);
	return -1;
}

/* makefs's command line, and the strings it points into. */
struct makefs_cmd {
	char	*argv[24];
	char	 size[32];
	char	 like[128];
};

static int
makefs_cmd(struct makefs_cmd *c, const char *specf, const char *out,
    const char *tree, const struct build_opts *bo)
{
	int i = 0, r;

	c->argv[i++] = "makefs";
	c->argv[i++] = "-t";
	c->argv[i++] = "ffs";
	c->argv[i++] = "-F";
	c->argv[i++] = (char *)specf;
	if (bo->like != NULL) {
		if (ffsimg_makefs_args(bo->like, c->argv + i, c->like,
		    sizeof(c->like)) == -1)
			return -1;
		i += 6;
	} else if (bo->size != 0) {
		/* A disk to live on: an inode for every 8 KiB, as newfs. */
		snprintf(c->size, sizeof(c->size), "%ju", (uintmax_t)bo->size);
		c->argv[i++] = "-s";
		c->argv[i++] = c->size;
		c->argv[i++] = "-o";
		c->argv[i++] = "density=8192";
	} else
		for (r = 0; bo->room[r] != NULL && i < 20; r++)
			c->argv[i++] = (char *)bo->room[r];
	c->argv[i++] = (char *)out;
	c->argv[i++] = (char *)tree;
	c->argv[i] = NULL;
	return 0;
}

/*
 * Run makefs, which reports its progress on stdout: kept quiet.  Failed,
 * what it wrote is no one's, and room to be counted: unlinked and closed
 * (an open file keeps its blocks) before what it said is said again in
 * one line of our own.
 */
static int
run_makefs(struct makefs_cmd *c, const char *out, int *outfd,
    const char *tree, const char *image)
{
	struct sbuf chatter = { 0 }, why = { 0 };
	int rv;

	if ((rv = run_cmd_err(c->argv, &chatter, &why)) == -1) {
		(void)unlink(out);
		close(*outfd);
		*outfd = -1;
		makefs_failed(why.s, out, tree, image);
	}
	sbuf_free(&chatter);
	sbuf_free(&why);
	return rv;
}

int
build_image(struct stage *st, const char *image, const struct build_opts *bo)
{
	struct makefs_cmd cmd;
	char specf[PATH_MAX], out[PATH_MAX];
	int outfd, rv = -1;
	bool made = true;

	if (write_spec(st, specf, sizeof(specf)) == -1)
		return -1;
	/*
	 * The image is made beside its final name, renamed when whole; its
	 * descriptor holds it as ours until then (scratch_file()).
	 */
	if ((outfd = image_temp(image, out, sizeof(out))) == -1) {
		if (sr_noroom(errno))
			sr_seterr_noroom(-1, "the new image", 0, false);
		return -1;
	}
	if (check_room(outfd, bo) == -1 ||
	    makefs_cmd(&cmd, specf, out, st->tree, bo) == -1)
		goto done;
	sr_log(SR_VERBOSE, "makefs: %ju entries described",
	    (uintmax_t)st->copied.n);
	if (run_makefs(&cmd, out, &outfd, st->tree, image) == -1) {
		made = false;
		goto done;
	}
	if (sr_checkpoint() == -1 || make_sparse(out) == -1)
		goto done;
	if (bo->like != NULL) {
		made = false;	/* ffsimg_install() consumes it */
		if (ffsimg_install(bo->like, out) == -1)
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
	if (outfd != -1)
		close(outfd);
	return rv;
}
