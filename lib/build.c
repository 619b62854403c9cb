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
#include "tree.h"

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
    const struct plan *p, struct tree_seen *seen, int depth)
{
	char **names = NULL, path[PATH_MAX];
	size_t i;
	int rv = -1;

	if (depth > TREE_MAXDEPTH) {
		sr_seterr("spec: nested more than %d deep (refused): %s",
		    TREE_MAXDEPTH, sr_shortpath(rel));
		return -1;
	}
	if (tree_list(dirfd, "", &names) == -1)
		return -1;
	for (i = 0; names[i] != NULL; i++) {
		struct stat st;
		char link[PATH_MAX];
		ssize_t n = 0;

		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel,
		    *rel ? "/" : "", names[i]) >= sizeof(path)) {
			sr_seterr("spec: a path longer than %d bytes (refused): "
			    "%s/%s", PATH_MAX - 1, sr_shortpath(rel), names[i]);
			goto done;
		}
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == -1) {
			sr_seterrno("%s: spec", sr_shortpath(path));
			goto done;
		}
		if (S_ISDIR(st.st_mode) && tree_seen_add(seen, &st) != 0) {
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
			int fd = tree_opendir(dirfd, names[i]);

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
	tree_freelist(names);
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
	struct tree_seen seen = { 0 };
	size_t i;
	int r;

	memset(&root, 0, sizeof(root));
	root.path = ".";
	root.mode = S_IFDIR | 0755;
	clock_gettime(CLOCK_REALTIME, &root.mtime);
	if (spec_add(out, &root) == -1)
		return -1;
	r = spec_walk(stagefd, "", copied, out, p, &seen, 0);
	tree_seen_free(&seen);
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

/* Whether a block is all zeros. */
static bool
zeros(const char *b, size_t n)
{
	return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

/*
 * Make the zero runs of a finished image holes again (makefs writes
 * every byte): runs of whole 64 KiB blocks, each run punched at once.
 */
static int
make_sparse(const char *path)
{
#include "compat.h"
#if SR_LINUX && defined(FALLOC_FL_PUNCH_HOLE)
	enum { BLK = 1 << 16, BUF = 1 << 20 };
	static char buf[BUF];
	off_t off = 0, run = -1;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		ssize_t i;

		for (i = 0; i < n; i += BLK) {
			size_t len = (size_t)(n - i) < BLK ? (size_t)(n - i) :
			    BLK;
			bool z = len == BLK && zeros(buf + i, len);

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
	if (n == -1 || fsync(fd) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
#else
	(void)path;
#endif
	return 0;
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

int
stage_open(struct stage *st)
{
	const char *tmp = getenv("TMPDIR");

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	if ((size_t)snprintf(st->work, sizeof(st->work), "%s/sharedroot.XXXXXX",
	    tmp) >= sizeof(st->work) || mkdtemp(st->work) == NULL) {
		sr_seterrno("stage: make a directory in %s", tmp);
		st->work[0] = '\0';
		return -1;
	}
	if ((size_t)snprintf(st->tree, sizeof(st->tree), "%s/tree",
	    st->work) >= sizeof(st->tree)) {
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
	if (st->work[0] == '\0')
		return 0;
	/* tree_purge never follows a link: safe on what we staged. */
	if (tree_purge_path(st->work) == -1) {
		sr_prefixerr("stage");
		rv = -1;
	}
	st->work[0] = '\0';
	return rv;
}

int
build_image(struct stage *st, const struct plan *p, const char *image,
    const struct build_opts *bo, sr_logfn *log, void *ctx)
{
	struct spec final = { 0 };
	char specf[PATH_MAX], out[PATH_MAX], sizearg[32], likebuf[128],
	    *argv[24];
	int specfd = -1, rv = -1, i = 0, r;
	bool imgmade = false;

	if (spec_final(st->fd, &st->copied, p, &final) == -1)
		goto done;
	if ((size_t)snprintf(specf, sizeof(specf), "%s/spec", st->work) >=
	    sizeof(specf) || (specfd = open(specf, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0600)) == -1) {
		sr_seterrno("stage: %s", specf);
		goto done;
	}
	if (spec_write(&final, specfd) == -1)
		goto done;
	/* The image is made beside its final name, renamed when whole. */
	{
		int ifd = image_temp(image, out, sizeof(out));

		if (ifd == -1)
			goto done;
		close(ifd);
	}
	imgmade = true;
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
		/* makefs reports its progress on stdout: keep it quiet. */
		struct sbuf chatter = { 0 };
		int cr = run_cmd(argv, &chatter);

		sbuf_free(&chatter);
		if (cr == -1) {
			sr_prefixerr("makefs");
			goto done;
		}
	}
	if (sr_checkpoint() == -1)
		goto done;
	if (make_sparse(out) == -1) {
		sr_seterrno("make sparse");
		goto done;
	}
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
	if (specfd != -1)
		close(specfd);
	spec_free(&final);
	return rv;
}
