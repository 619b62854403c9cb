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

#include "attach.h"
#include "build.h"
#include "compat.h"
#include "dir.h"

/* The change the plan makes at path, if any. */
static const struct change *
planned(const struct plan *p, const char *path)
{
	size_t i;

	for (i = p->n; i-- > 0;)
		if (strcmp(p->v[i].path, path) == 0)
			return &p->v[i];
	return NULL;
}

/*
 * What the image must hold at rel, staged as st: the plan's owner and
 * mode for what it wrote, the root's for what was copied, the
 * original's for a NAME.orig kept, else root's and the staged mode.
 */
static int
spec_entry(struct spec *copied, struct spec *out, const struct plan *p,
    const char *rel, const struct stat *st, const char *link)
{
	const struct change *c = planned(p, rel);
	const struct spec_ent *ce = spec_get(copied, rel);
	struct spec_ent e;
	size_t len = strlen(rel);

	memset(&e, 0, sizeof(e));
	e.path = (char *)rel;
	e.mode = st->st_mode;
	e.mtime = st->st_mtim;
	e.link = (char *)link;
	/* A link the plan made is what its target is. */
	if (c != NULL && c->kind == CH_LINK) {
		const struct change *tc = planned(p, c->target);

		/* What the target truly had, as copied, counts for both. */
		ce = spec_get(copied, c->target);
		if (tc != NULL)
			c = tc;
		else if (ce != NULL)
			c = NULL;
	}
	if (c != NULL && c->kind != CH_REMOVE && c->kind != CH_LINK) {
		e.mode = (st->st_mode & S_IFMT) | (c->wo.mode & 07777);
		e.uid = c->wo.uid;
		e.gid = c->wo.gid;
		/* An edit keeps what the original truly had, not the stage's. */
		if (ce != NULL && c->wo.same_owner) {
			e.uid = ce->uid;
			e.gid = ce->gid;
		}
		if (ce != NULL && c->wo.same_mode)
			e.mode = (st->st_mode & S_IFMT) | (ce->mode & 07777);
	} else if (ce != NULL && (ce->mode & S_IFMT) == (st->st_mode &
	    S_IFMT)) {
		e = *ce;
		e.path = (char *)rel;
	} else if (len > 5 && strcmp(rel + len - 5, ".orig") == 0) {
		char base[PATH_MAX];

		snprintf(base, sizeof(base), "%.*s", (int)(len - 5), rel);
		if ((ce = spec_get(copied, base)) != NULL) {
			e = *ce;
			e.path = (char *)rel;
		}
	}
	return spec_add(out, &e);
}

/* Walk the stage, describing every path in it. */
static int
spec_walk(int dirfd, const char *rel, struct spec *copied, struct spec *out,
    const struct plan *p, struct dir_seen *seen, int depth)
{
	char **names = NULL, path[PATH_MAX];
	size_t i;
	int rv = -1;

	if (depth > SR_MAXDEPTH) {
		sr_seterr("spec: nested more than %d deep (refused): %s",
		    SR_MAXDEPTH, sr_shortpath(rel));
		return -1;
	}
	if (dir_list(dirfd, "", &names) == -1)
		return -1;
	for (i = 0; names[i] != NULL; i++) {
		struct stat st;
		char link[PATH_MAX];
		ssize_t n = 0;

		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel,
		    *rel ? "/" : "", names[i]) >= sizeof(path)) {
			sr_seterr("spec: a path longer than %d bytes "
			    "(refused): %s/%s", PATH_MAX - 1,
			    sr_shortpath(rel), names[i]);
			goto done;
		}
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == -1) {
			sr_seterrno("%s: spec", sr_shortpath(path));
			goto done;
		}
		if (S_ISDIR(st.st_mode) && dir_seen_add(seen, &st) != 0) {
			sr_seterr("spec: a directory met twice (moved while "
			    "it was read, or mounted twice; refused): %s",
			    sr_shortpath(path));
			goto done;
		}
		if (S_ISLNK(st.st_mode) && (n = readlinkat(dirfd, names[i],
		    link, sizeof(link) - 1)) == -1) {
			sr_seterrno("%s: spec", path);
			goto done;
		}
		link[n] = '\0';
		if (spec_entry(copied, out, p, path, &st,
		    S_ISLNK(st.st_mode) ? link : NULL) == -1)
			goto done;
		if (S_ISDIR(st.st_mode)) {
			int fd = dir_opendir(dirfd, names[i]);

			if (fd == -1 || spec_walk(fd, path, copied, out, p,
			    seen, depth + 1) == -1) {
				if (fd != -1)
					close(fd);
				goto done;
			}
			close(fd);
		}
	}
	rv = 0;
done:
	dir_freelist(names);
	return rv;
}

/* Whether the plan removes path, or a directory above it. */
static bool
removed(const struct plan *p, const char *path)
{
	size_t i, n;

	for (i = 0; i < p->n; i++) {
		if (p->v[i].kind != CH_REMOVE)
			continue;
		n = strlen(p->v[i].path);
		if (strncmp(p->v[i].path, path, n) == 0 &&
		    (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

/* The final spec: the stage as it is, and the devices it cannot hold. */
int
spec_final(int stagefd, struct spec *copied, const struct plan *p,
    struct spec *out)
{
	struct spec_ent root;
	struct dir_seen seen = { 0 };
	size_t i;
	int r;

	memset(&root, 0, sizeof(root));
	root.path = ".";
	root.mode = S_IFDIR | 0755;
	clock_gettime(CLOCK_REALTIME, &root.mtime);
	if (spec_add(out, &root) == -1)
		return -1;
	r = spec_walk(stagefd, "", copied, out, p, &seen, 0);
	dir_seen_free(&seen);
	if (r == -1)
		return -1;
	/* Device nodes live in the spec alone: unless the plan removed them. */
	for (i = 0; i < copied->n; i++) {
		const struct spec_ent *e = &copied->v[i];
		char parent[PATH_MAX], *slash;

		if ((!S_ISCHR(e->mode) && !S_ISBLK(e->mode)) || removed(p, e->path))
			continue;
		strlcpy(parent, e->path, sizeof(parent));
		slash = strrchr(parent, '/');
		if (slash != NULL)
			*slash = '\0';
		if (slash != NULL && spec_get(out, parent) == NULL)
			continue;
		if (spec_add(out, e) == -1)
			return -1;
	}
	return 0;
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
	size_t i, n = strlen(rel);
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
	for (i = 0; spec != NULL && i < spec->n; i++) {
		const struct spec_ent *e = &spec->v[i];
		const char *name = e->path + (n ? n + 1 : 0);

		if ((S_ISCHR(e->mode) || S_ISBLK(e->mode)) &&
		    (n == 0 || (strncmp(e->path, rel, n) == 0 &&
		    e->path[n] == '/')) && strchr(name, '/') == NULL &&
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
#if SR_LINUX && defined(FALLOC_FL_PUNCH_HOLE)
	enum { BLK = 1 << 16, BUF = 1 << 20 };
	static char buf[BUF];
	off_t off = 0, run = -1;
	ssize_t n;
	int fd, rv = 0;

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
				(void)fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				    FALLOC_FL_KEEP_SIZE, run, off + i - run);
				run = -1;
			}
		}
		off += n;
	}
	if (run != -1)
		(void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		    run, off - run);
	/* Said before close(), which may change errno. */
	if (n == -1 || fsync(fd) == -1) {
		sr_seterrno("make sparse");
		rv = -1;
	}
	close(fd);
	return rv;
#else
	(void)path;
	return 0;
#endif
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
	if ((size_t)snprintf(st->tree, sizeof(st->tree), "%s/tree",
	    st->work.dir) >= sizeof(st->tree)) {
		sr_seterr("stage: TMPDIR too long");
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

int
build_image(struct stage *st, const struct plan *p, const char *image,
    const struct build_opts *bo, sr_logfn *log, void *ctx)
{
	struct spec final = { 0 };
	char specf[PATH_MAX], out[PATH_MAX], sizearg[32], likebuf[128],
	    *argv[24];
	int specfd = -1, outfd = -1, rv = -1, i = 0, r;
	bool imgmade = false;

	if (spec_final(st->fd, &st->copied, p, &final) == -1)
		goto done;
	if ((size_t)snprintf(specf, sizeof(specf), "%s/spec", st->work.dir) >=
	    sizeof(specf)) {
		sr_seterr("stage: %s/spec: path too long", st->work.dir);
		goto done;
	}
	if ((specfd = open(specf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		sr_seterrno("stage: %s", specf);
		goto done;
	}
	if (spec_write(&final, specfd) == -1)
		goto done;
	/*
	 * The image is made beside its final name, renamed when whole; its
	 * descriptor holds it as ours until then (scratch_file()).
	 */
	if ((outfd = image_temp(image, out, sizeof(out))) == -1) {
		if (sr_noroom(errno))
			sr_seterr_noroom(-1, "the new image", 0, false);
		goto done;
	}
	imgmade = true;
	{
		uint64_t want = bo->like != NULL ? (uint64_t)bo->like->len :
		    bo->size, avail;
		char where[512];

		/* makefs writes every byte of it before it is made sparse. */
		if (want > 0 && sr_fsroom(outfd, where, sizeof(where),
		    &avail) == 0 && avail < want) {
			char what[64];

			snprintf(what, sizeof(what), "the new image of %s",
			    sr_size(want));
			sr_seterr_noroom(outfd, what, want - avail, false);
			goto done;
		}
	}
	argv[i++] = "makefs";
	argv[i++] = "-t";
	argv[i++] = "ffs";
	argv[i++] = "-F";
	argv[i++] = specf;
	if (bo->like != NULL) {
		if (ffsimg_makefs_args(bo->like, argv + i, likebuf,
		    sizeof(likebuf)) == -1)
			goto done;
		i += 6;
	} else if (bo->size != 0) {
		/* A disk to live on: an inode for every 8 KiB, as newfs. */
		snprintf(sizearg, sizeof(sizearg), "%ju", (uintmax_t)bo->size);
		argv[i++] = "-s";
		argv[i++] = sizearg;
		argv[i++] = "-o";
		argv[i++] = "density=8192";
	} else
		for (r = 0; bo->room[r] != NULL && i < 20; r++)
			argv[i++] = (char *)bo->room[r];
	argv[i++] = out;
	argv[i++] = st->tree;
	argv[i] = NULL;
	log(ctx, SR_VERBOSE, "makefs: %ju entries described",
	    (uintmax_t)final.n);
	{
		/*
		 * makefs reports its progress on stdout: keep it quiet.  What
		 * it says on failure is said again in one line of our own.
		 */
		struct sbuf chatter = { 0 }, why = { 0 };
		int cr = run_cmd_err(argv, &chatter, &why);

		if (cr == -1) {
			/*
			 * What it wrote is no one's, and room to be counted:
			 * unlinked and closed (an open file keeps its blocks).
			 */
			(void)unlink(out);
			imgmade = false;
			close(outfd);
			outfd = -1;
			makefs_failed(why.s, out, st->tree, image);
		}
		sbuf_free(&chatter);
		sbuf_free(&why);
		if (cr == -1)
			goto done;
	}
	if (sr_checkpoint() == -1)
		goto done;
	if (make_sparse(out) == -1)
		goto done;
	if (bo->like != NULL) {
		imgmade = false;	/* ffsimg_install() consumes it */
		if (ffsimg_install(bo->like, out) == -1)
			goto done;
	} else if (rename(out, image) == -1) {
		sr_seterrno("rename into place");
		goto done;
	}
	imgmade = false;
	rv = 0;
done:
	if (imgmade)
		(void)unlink(out);
	if (outfd != -1)
		close(outfd);
	if (specfd != -1)
		close(specfd);
	spec_free(&final);
	return rv;
}
