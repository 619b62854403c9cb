/*
 * setup-root's run (rootrun.h): the root probed once (source.c), its
 * mode decided, then prepared in place, rebuilt from a stage, or built
 * from sources.  Nothing here prints: the logger registered (sr_log) and show
 * do, and a failure is a message for the tool.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/identity.h"
#include "guest/rootrun.h"
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
	j->stage.fd = -1;
	j->stage.work.lockfd = -1;
	j->src.fi.part = -1;
	attach_init(&j->at, NULL, true);
}

int
rootrun_end(struct rootrun *j)
{
	int rv = 0;

	if (stage_close(&j->stage) == -1)
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
 * A failure: the stage goes (nothing half made is left), its message
 * and hint kept; an attach stays for the tool to undo and report.
 */
static int
failed(struct rootrun *j)
{
	enum sr_hint h = sr_errhint();
	char msg[1024];

	strlcpy(msg, sr_errmsg(), sizeof(msg));
	(void)stage_close(&j->stage);
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
 * local disk knows its root.  The root is read at rootfd and written
 * through t (unless dryrun).  With spec, the root is a stage (and spec
 * says what its files will be).  1: recorded (or would be), 0: it was,
 * -1: an error.
 */
static int
record_identity(const struct rootrun *j, int rootfd, struct tree *t,
    struct spec *spec, bool dryrun)
{
	const struct tree_wopts dwo = { .mode = 0755 },
	    wo = { .mode = 0644, .nosync = spec != NULL };
	struct sbuf man = { 0 }, old = { 0 };
	struct tree *own = NULL;
	char id[ID_HEXLEN + 1];
	int rv = -1;

	/* A dry run on a stage reads it through a tree of its own. */
	if (t == NULL && (t = own = tree_dir(rootfd, j->target,
	    TREE_RDONLY)) == NULL)
		return -1;
	if (identity_manifest(t, spec, &man, id) == -1)
		goto done;
	if (dir_readfile(rootfd, ID_ROOT, 256, &old, NULL) == 0 &&
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
	tree_close(own);
	sbuf_free(&man);
	sbuf_free(&old);
	return rv;
}

/*
 * The plan for the staged root, read through the tree that records what
 * each path truly is (its spec's owners and modes, and the device nodes
 * only the spec holds).
 */
static int
plan_staged(struct rootrun *j, struct plan *plan)
{
	struct tree *t = stage_tree(&j->stage);
	int rv = t == NULL ? -1 : rootprep_plan(t, &j->rp, plan);

	tree_close(t);
	return rv;
}

/*
 * Apply the plan to the staged root, then record its identity there,
 * both through a tree that notes what each path must be in the image.
 * Returns as record_identity().
 */
static int
apply_staged(struct rootrun *j, const struct plan *plan)
{
	struct tree *t;
	int r = -1;

	if ((t = stage_tree(&j->stage)) == NULL)
		return -1;
	if (plan_apply(plan, t) == 0)
		r = record_identity(j, j->stage.fd, t, &j->stage.copied,
		    false);
	tree_close(t);
	return r;
}

/* A directory's entries copied into the stage, as they are. */
static int
stage_dir(const char *src, struct copy_opts *co, struct copy_stats *cs)
{
	char **names = NULL, real[PATH_MAX];
	int fd, r;

	if ((fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		sr_seterrno("open");
		return -1;
	}
	if (realpath(src, real) == NULL) {
		sr_seterrno("realpath");
		close(fd);
		return -1;
	}
	if (dir_list(fd, "", &names) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	co->srcpath = real;
	co->tops = (const char *const *)names;
	r = copy_trees(co, cs);
	dir_freelist(names);
	return r;
}

/* Stage one source: a directory, a set, or an FFS image. */
static int
stage_source(struct rootrun *j, const char *src, struct copy_stats *cs)
{
	struct copy_opts co = { .dstfd = j->stage.fd,
	    .spec = &j->stage.copied };
	struct source s;
	int r = -1;

	memset(cs, 0, sizeof(*cs));
	switch (source_kind(src, j->part, 0, &s)) {
	case SOURCE_DIR:
		r = stage_dir(src, &co, cs);
		break;
	case SOURCE_SET:
		r = sets_extract(&co, src, cs);
		break;
	case SOURCE_FFS:
		r = ffs_extract(&s.fi, NULL, NULL, j->stage.fd,
		    &j->stage.copied, cs);
		break;
	case SOURCE_IMAGE:
		sr_seterr("neither a directory, a set (.tgz, .tar.xz, ...) nor "
		    "an FFS image");
		break;
	default:
		break;
	}
	if (r == -1)
		sr_prefixerr("%s", src);
	return r;
}

/*
 * Build from sources: stage them in order (a directory, an FFS image,
 * or NetBSD sets), prepare the staged root, and write a new FFS image
 * with makefs.  Nothing is mounted, and no privileges are needed.
 */
static int
rootprep_build(struct rootrun *j)
{
	/* A shared root is read-only: little room is needed. */
	static const char *const room[] = { "-b", "10%", "-f", "10%", NULL };
	const struct build_opts bo = { j->size, room, NULL };
	struct plan plan = { 0 };
	struct copy_stats cs;
	int i, rv = -1;

	if (stage_open(&j->stage) == -1)
		return -1;
	for (i = 0; i < j->nsrc; i++) {
		if (stage_source(j, j->srcs[i], &cs) == -1)
			goto done;
		j->entries += cs.entries;
		sr_log(SR_VERBOSE, "%s: %ju entries staged", j->srcs[i],
		    cs.entries);
	}
	/* init makes /dev in memory: the sources' device nodes go. */
	if (spec_drop_devices(&j->stage.copied, "dev") > 0)
		sr_log(SR_VERBOSE, "dev: device nodes left out");
	if (plan_staged(j, &plan) == -1)
		goto done;
	if (j->dryrun) {
		if (show(j, &plan) == -1)
			goto done;
	} else if (apply_staged(j, &plan) == -1 ||
	    build_image(&j->stage, j->target, &bo) == -1)
		goto done;
	if (stage_close(&j->stage) == -1)
		goto done;
	j->changes = plan.n;
	rv = 0;
done:
	plan_free(&plan);
	return rv;
}

/*
 * An FFS root this host cannot mount: read it with libtsk, prepare the
 * stage, and when anything changes rebuild it like itself with makefs
 * and put it in the old one's place (a new file renamed over it).
 */
static int
rootprep_rebuild(struct rootrun *j)
{
	const struct ffsimg *fi = &j->src.fi;
	const struct build_opts bo = { 0, NULL, fi };
	struct plan plan = { 0 };
	struct copy_stats cs;
	int id = 0, rv = -1;

	if (ffsimg_rebuildable(fi) == -1 ||
	    (!j->dryrun && ffsimg_writable(fi) == -1) ||
	    stage_open(&j->stage) == -1)
		return -1;
	if (ffs_extract(fi, NULL, NULL, j->stage.fd, &j->stage.copied,
	    &cs) == -1) {
		sr_prefixerr("read");
		return -1;
	}
	/* The device nodes its spec alone holds go with the rest of dev. */
	if (plan_staged(j, &plan) == -1)
		goto done;
	if (j->dryrun) {
		if (show(j, &plan) == -1 || (plan.n == 0 &&
		    (id = record_identity(j, j->stage.fd, NULL,
		    &j->stage.copied, true)) == -1))
			goto done;
	} else if ((id = apply_staged(j, &plan)) == -1 ||
	    ((plan.n > 0 || id > 0) && build_image(&j->stage, fi->path, &bo)
	    == -1))
		goto done;
	if (stage_close(&j->stage) == -1)
		goto done;
	j->entries = cs.entries;
	j->changes = plan.n + (size_t)(id > 0);
	sr_log(SR_VERBOSE, "read with libtsk: %ju entries%s", cs.entries,
	    j->changes && !j->dryrun ? "; rebuilt with makefs and replaced" :
	    "");
	rv = 0;
done:
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
	r = record_identity(j, rootfd, t, NULL, j->dryrun);
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
