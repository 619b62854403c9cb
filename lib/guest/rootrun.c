/*
 * setup-root's run (rootrun.h): the root probed once (source.c), its
 * mode decided, then prepared in place, rebuilt from a stage, or built
 * from sources.  Nothing here prints: the logger registered (sr_log) and show
 * do, and a failure is a message for the tool.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/identity.h"
#include "guest/rootrun.h"
#include "image/ffssize.h"
#include "image/ffsread.h"
#include "tree/copytree.h"
#include "tree/dir.h"

#define sr_log(lvl, ...)	sr_log(lvl, __VA_ARGS__)

void
rootrun_init(struct rootrun *j)
{
	memset(j, 0, sizeof(*j));
	j->part = -1;
	j->rp.kernelfd = -1;
	j->version = 1;
	j->outf.fd = -1;
	j->src.fi.part = -1;
	attach_init(&j->at, NULL, true);
}

/*
 * The image being written and what it reads from go: a file left
 * unfinished is removed.  -1 if a stage could not be removed (message).
 */
static int
out_close(struct rootrun *j)
{
	int i, rv = 0;

	tree_close(j->out);
	j->out = NULL;
	ffsb_out_abort(&j->outf);
	/* The readers read the sources, and the sources the stages. */
	ffsb_copy_free(j->copy);
	j->copy = NULL;
	for (i = 0; i < j->nsrcs; i++)
		tree_close(j->srctrees[i]);
	free(j->srctrees);
	j->srctrees = NULL;
	j->nsrcs = 0;
	for (i = 0; i < j->nstages; i++)
		if (stage_close(&j->stages[i]) == -1)
			rv = -1;
	free(j->stages);
	j->stages = NULL;
	j->nstages = 0;
	return rv;
}

int
rootrun_end(struct rootrun *j)
{
	int rv = 0;

	if (out_close(j) == -1)
		rv = -1;
	if (attach_teardown(&j->at) == -1 && rv == 0) {
		sr_prefixerr("%s", j->at.path);
		rv = -1;
	}
	if (j->rp.kernelfd != -1) {
		close(j->rp.kernelfd);
		j->rp.kernelfd = -1;
	}
	return rv;
}

/*
 * A failure: the image being written and its stages go (nothing half
 * made is left), its message
 * and hint kept; an attach stays for the tool to undo and report.
 */
static int
failed(struct rootrun *j)
{
	enum sr_hint h = sr_errhint();
	char msg[1024];

	strlcpy(msg, sr_errmsg(), sizeof(msg));
	(void)out_close(j);
	sr_seterr("%s", msg);
	sr_sethint(h);
	return -1;
}

/* Show the plan's diffs (a dry run), where the tool shows them. */
static int
show(const struct rootrun *j, const struct plan *plan)
{
	struct sbuf desc = { 0 };

	if (j->show == NULL)
		return 0;
	if (plan_describe(plan, &desc) == -1)
		return -1;
	j->show(j->showctx, desc.s, desc.len);
	sbuf_free(&desc);
	return 0;
}

/*
 * Record the root's identity (identity.c) in .sharedroot, unless it is
 * there already: a digest of what its guests copy, by which a guest's
 * local disk knows its root.  The root is read and written through t
 * (only read on a dry run).  1: recorded (or would be), 0: it was,
 * -1: an error.
 */
static int
record_identity(const struct rootrun *j, struct tree *t, bool dryrun)
{
	const struct tree_wopts dwo = { .mode = 0755 },
	    wo = { .mode = 0644, .nosync = true };
	struct sbuf man = { 0 }, old = { 0 };
	char id[ID_HEXLEN + 1];
	int rv = -1;

	if (identity_manifest(t, NULL, &man, id) == -1)
		goto done;
	if (tree_read(t, ID_ROOT, 256, &old) == 0 &&
	    old.len == ID_HEXLEN + 1 && memcmp(old.s, id, ID_HEXLEN) == 0) {
		rv = 0;
		goto done;
	}
	sr_log(SR_VERBOSE, "%s: %s the root's identity %.12s (what guests "
	    "copy: %zu bytes of manifest)", ID_ROOT, dryrun ? "would record" :
	    "recording", id, man.len);
	if (!dryrun) {
		char line[ID_HEXLEN + 2];

		snprintf(line, sizeof(line), "%s\n", id);
		if (tree_mkdir(t, ID_DIR, &dwo) == -1 ||
		    tree_write(t, ID_MANIFEST, man.s, man.len, &wo) == -1 ||
		    tree_write(t, ID_ROOT, line, strlen(line), &wo) == -1)
			goto done;
	}
	rv = 1;
done:
	sbuf_free(&man);
	sbuf_free(&old);
	return rv;
}

/*
 * The image being written (j->out), with p, to a file beside target
 * (like: the image it replaces); on a dry run, to none (never synced).
 */
static int
out_open(struct rootrun *j, const struct ffsw_params *p, const char *target,
    const struct ffsimg *like)
{
	struct ffsw_sink none;

	if ((j->copy = ffsb_copy_new()) == NULL)
		return -1;
	if (j->dryrun)
		ffsw_sink_fd(&none, -1, p->size, target);
	else if (ffsb_out_open(&j->outf, target, like, p->size) == -1)
		return -1;
	if ((j->out = tree_ffsw(p, j->dryrun ? &none : &j->outf.sink,
	    target)) == NULL)
		return -1;
	return 0;
}

/*
 * Lay the image out and put it in place (renamed, or installed where
 * its like's file system was); room >= 0: sized by what it holds.
 */
static int
out_finish(struct rootrun *j, int room)
{
	if (ffssize_sync(j->out, room) == -1)
		return -1;
	return ffsb_out_commit(&j->outf);
}

/* A source's tree, read until the image is written. */
static int
keep_src(struct rootrun *j, struct tree *t)
{
	struct tree **n;

	if ((n = reallocarray(j->srctrees, (size_t)j->nsrcs + 1,
	    sizeof(*n))) == NULL) {
		tree_close(t);
		return sr_oom();
	}
	j->srctrees = n;
	j->srctrees[j->nsrcs++] = t;
	return 0;
}

/*
 * The device nodes below dir go (init makes /dev in memory at boot):
 * 1 if there were any.
 */
static int
drop_devices(struct tree *t, const char *dir)
{
	char **names = NULL, path[PATH_MAX];
	struct stat st;
	int i, n = 0, sub = 0;

	if (tree_lstat(t, dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return 0;
	if (tree_list(t, dir, &names) == -1)
		return -1;
	for (i = 0; names[i] != NULL; i++, n |= sub) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (tree_lstat(t, path, &st) == -1 ||
		    (S_ISDIR(st.st_mode) &&
		    (sub = drop_devices(t, path)) == -1) ||
		    ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) &&
		    (sub = 1, tree_remove(t, path)) == -1)) {
			tree_freelist(names);
			return -1;
		}
	}
	tree_freelist(names);
	return n;
}

/* A set extracted into a stage of its own (read through its spec). */
static struct tree *
set_tree(struct rootrun *j, const char *src)
{
	struct stage *st = &j->stages[j->nstages];
	struct copy_opts co = { .spec = &st->copied };
	struct copy_stats cs;

	if (stage_open(st) == -1)
		return NULL;
	j->nstages++;
	co.dstfd = st->fd;
	if (sets_extract(&co, src, &cs) == -1)
		return NULL;
	return stage_tree(st);
}

/* A directory given as a source, read where it is. */
static struct tree *
dir_tree(const char *src)
{
	struct tree *t;
	int fd;

	if ((fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		sr_seterrno("open");
		return NULL;
	}
	t = tree_dir(fd, src, TREE_RDONLY);
	close(fd);
	return t;
}

/*
 * Copy one source (a directory, a set, or an FFS image) over what the
 * image holds; the device nodes of its dev are left out (init makes
 * /dev in memory).
 */
static int
add_source(struct rootrun *j, const char *src)
{
	struct source s;
	struct copy_stats cs = { 0 };
	struct tree *t = NULL;
	int r = -1;

	switch (source_kind(src, j->part, 0, &s)) {
	case SOURCE_DIR:
		t = dir_tree(src);
		break;
	case SOURCE_SET:
		t = set_tree(j, src);
		break;
	case SOURCE_FFS:
		t = tree_ffs(&s.fi);
		break;
	case SOURCE_IMAGE:
		sr_seterr("neither a directory, a set (.tgz, .tar.xz, ...) nor "
		    "an FFS image");
		break;
	default:
		break;
	}
	if (t != NULL && keep_src(j, t) == 0)
		r = ffsb_copy(j->copy, t, "", NULL, j->out, &cs);
	if (r == -1) {
		sr_prefixerr("%s", src);
		return -1;
	}
	j->entries += cs.entries;
	sr_log(SR_VERBOSE, "%s: %ju entries", src, cs.entries);
	return 0;
}

/*
 * Whether the prepared tree fits in a file system of size bytes (the
 * old one's, or -s): refused now, with what it needs, rather than
 * halfway through laying it out.
 */
static int
check_fits(struct rootrun *j, uint64_t size, int version)
{
	struct ffsw_params need;

	if (ffssize_need(j->out, version, 0, &need) == -1)
		return -1;
	if (need.size <= size)
		return 0;
	sr_seterr("no room in its file system of %s for the new tree: it "
	    "needs about %s; about %s more needed (refused, nothing written)",
	    sr_size(size), sr_size(need.size), sr_size(need.size - size));
	errno = ENOSPC;
	return -1;
}

/*
 * Build from sources: copy them in order (a directory, an FFS image,
 * or NetBSD sets, each set extracted to a stage first) into an FFS image
 * held in memory (tree_ffsw), prepare it there, and write it.  Nothing
 * is mounted, no makefs is run, and no privileges are needed.
 */
static int
rootprep_build(struct rootrun *j)
{
	struct ffsw_params p;
	struct plan plan = { 0 };
	int i, rv = -1;

	if ((j->stages = calloc((size_t)j->nsrc, sizeof(*j->stages))) ==
	    NULL)
		return sr_oom();
	for (i = 0; i < j->nsrc; i++) {
		j->stages[i].fd = -1;
		j->stages[i].work.lockfd = -1;
	}
	/* Sized by what it holds (10% more) unless -s says. */
	if (ffsw_params_for(j->size ? j->size : 64 << 20, j->version, &p) ==
	    -1 || out_open(j, &p, j->target, NULL) == -1)
		return -1;
	for (i = 0; i < j->nsrc; i++)
		if (add_source(j, j->srcs[i]) == -1)
			goto done;
	/* init makes /dev in memory: the sources' device nodes go. */
	if ((i = drop_devices(j->out, "dev")) == -1)
		goto done;
	if (i > 0)
		sr_log(SR_VERBOSE, "dev: device nodes left out");
	if (rootprep_plan(j->out, &j->rp, &plan) == -1)
		goto done;
	if (j->dryrun) {
		if (show(j, &plan) == -1)
			goto done;
	} else if (plan_apply(&plan, j->out) == -1 ||
	    record_identity(j, j->out, false) == -1 ||
	    (j->size == 0 && (ffssize_need(j->out, j->version, 10, &p) == -1 ||
	    ffssize_set(j->out, &p) == -1)) ||
	    (j->size != 0 && check_fits(j, p.size, j->version) == -1) ||
	    out_finish(j, j->size ? -1 : 10) == -1)
		goto done;
	j->changes = plan.n;
	rv = 0;
done:
	plan_free(&plan);
	return rv;
}

/*
 * An FFS root this host cannot mount: read it with libtsk, plan, and
 * when anything changes copy it into an FFS image like itself held in
 * memory (same version, sizes and inodes), prepare that, and put it in
 * the old one's place (a new file renamed over it, or installed in its
 * partition).  No stage, no makefs.
 */
static int
rootprep_rebuild(struct rootrun *j)
{
	const struct ffsimg *fi = &j->src.fi;
	struct ffsw_params p;
	struct plan plan = { 0 };
	struct copy_stats cs = { 0 };
	struct tree *src;
	int id = 0, rv = -1;

	if ((!j->dryrun && ffsimg_writable(fi) == -1) ||
	    (src = tree_ffs(fi)) == NULL)
		return -1;
	if (rootprep_plan(src, &j->rp, &plan) == -1 || (plan.n == 0 &&
	    (id = record_identity(j, src, true)) == -1))
		goto done;
	if (j->dryrun) {
		if (show(j, &plan) == -1)
			goto done;
	} else if (plan.n > 0 || id > 0) {
		if (ffsw_params_like(fi, &p) == -1 ||
		    out_open(j, &p, fi->path, fi) == -1)
			goto done;
		id = keep_src(j, src);
		src = NULL;	/* kept: read when the image is written */
		if (id == -1 || ffsb_copy(j->copy, j->srctrees[0], "", NULL,
		    j->out, &cs) == -1 || plan_apply(&plan, j->out) == -1 ||
		    (id = record_identity(j, j->out, false)) == -1 ||
		    check_fits(j, (uint64_t)fi->len, fi->version) == -1 ||
		    out_finish(j, -1) == -1)
			goto done;
	}
	j->entries = cs.entries;
	j->changes = plan.n + (size_t)(id > 0);
	sr_log(SR_VERBOSE, "read with libtsk%s", j->changes && !j->dryrun ?
	    "; rebuilt like itself and replaced" : "");
	rv = 0;
done:
	tree_close(src);
	plan_free(&plan);
	return rv;
}

/* The identity of a root mounted (or a directory), written in place. */
static int
record_identity_in_place(const struct rootrun *j, int rootfd)
{
	struct tree *t;
	int r;

	if ((t = tree_dir(rootfd, j->target, j->dryrun ? TREE_RDONLY : 0)) ==
	    NULL)
		return -1;
	r = record_identity(j, t, j->dryrun);
	tree_close(t);
	return r;
}

/* A root mounted (or a directory): the plan applied in place. */
static int
rootprep_in_place(struct rootrun *j)
{
	struct plan plan = { 0 };
	struct tree *t;
	int id = 0, rv = -1;

	attach_init(&j->at, j->target, j->dryrun);
	if (attach_open(&j->at) == -1)
		return -1;
	t = tree_dir(j->at.rootfd, j->target, TREE_RDONLY);
	if (t == NULL || rootprep_plan(t, &j->rp, &plan) == -1) {
		tree_close(t);
		goto done;
	}
	tree_close(t);
	if (j->dryrun) {
		if (show(j, &plan) == -1)
			goto done;
	} else if (plan_apply_dir(&plan, j->at.rootfd, 0) == -1)
		goto done;
	/* With changes planned, a dry run cannot know the identity made. */
	if ((!j->dryrun || plan.n == 0) &&
	    (id = record_identity_in_place(j, j->at.rootfd)) == -1)
		goto done;
	if (attach_teardown(&j->at) == -1) {
		sr_prefixerr("%s", j->at.path);
		goto done;
	}
	j->changes = plan.n + (size_t)(id > 0);
	rv = 0;
done:
	plan_free(&plan);
	return rv;
}

/* Whether this run mounts an FFS image (NetBSD's vnd, as root). */
static bool
mounts_ffs(void)
{
	return geteuid() == 0 && attach_backend() == BACKEND_VND;
}

/*
 * How the job is done, from what its target is: built from sources;
 * or prepared in place (a directory, an image mounted), or from a stage
 * (an FFS image this run cannot mount, read with libtsk).
 */
static int
decide(struct rootrun *j)
{
	struct stat st;

	if (j->build) {
		if (j->nsrc < 1) {
			sr_seterr("no source to build from");
			return -1;
		}
		/* Replacing a root every guest boots from is not by surprise. */
		if (!j->rp.force && lstat(j->target, &st) == 0) {
			sr_seterr("exists");
			sr_sethint(SR_HINT_REPLACE);
			return -1;
		}
		j->mode = ROOTRUN_BUILD;
		return 0;
	}
	if (source_kind(j->target, j->part, SOURCE_PART_STRICT,
	    &j->src) == -1)
		return -1;
	if (j->src.kind == SOURCE_DIR)
		j->mode = ROOTRUN_DIR;
	else if (j->src.kind == SOURCE_FFS && !mounts_ffs())
		j->mode = ROOTRUN_REBUILD;
	else if (S_ISREG(j->src.st.st_mode) && j->src.kind != SOURCE_FFS &&
	    geteuid() != 0) {
		sr_seterr("%s; mounting it needs root",
		    j->src.kind == SOURCE_SET ? "a set archive, not an image" :
		    "not an FFS image");
		sr_sethint(SR_HINT_BUILDROOT);
		return -1;
	} else
		j->mode = ROOTRUN_MOUNT;
	return 0;
}

int
rootrun_run(struct rootrun *j)
{
	int r;

	if (localdev_parse(&j->rp, j->localdev) == -1 ||
	    (j->kernel != NULL && kernel_open(&j->rp, j->kernel) == -1) ||
	    decide(j) == -1)
		return -1;
	switch (j->mode) {
	case ROOTRUN_BUILD:
		r = rootprep_build(j);
		break;
	case ROOTRUN_REBUILD:
		r = rootprep_rebuild(j);
		break;
	default:
		r = rootprep_in_place(j);
		break;
	}
	return r == -1 ? failed(j) : 0;
}
