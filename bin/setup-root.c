/*
 * setup-root: prepare a shared, read-only NetBSD root for Xen guests.
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tree/dir.h"
#include "image/attach.h"
#include "base/compat.h"
#include "image/build.h"
#include "tree/copytree.h"
#include "image/ffsread.h"
#include "guest/identity.h"
#include "tree/lock.h"
#include "guest/rootprep.h"
#include "tree/scratch.h"
#include "tool.h"

#ifndef SHAREDIR
#define SHAREDIR "/usr/local/share/sharedroot"
#endif

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s [-fnqv] [-k kernel] [-l local-device] "
	    "[-p partition] target\n"
	    "       %s [-fnqv] [-k kernel] [-l local-device] [-p partition] "
	    "[-s size]\n"
	    "                  -o image source ...\n", getprogname(),
	    getprogname());
	exit(1);
}

static struct stage stage = { .fd = -1 };

/*
 * Lock a target for the whole run (lock.h): the root to change it (to
 * read it, -n), a source to read it.  Refused, the run stops before
 * anything, naming the target and the run that holds it.
 */
static void
lock_target(const char *path, bool excl, struct toolout *out)
{
	struct toolout o = *out;
	int l;

	o.image = path;
	if ((l = sr_lock(path, excl)) == -1)
		tool_fail(path, NULL, 0);
	if (l == 1)
		tool_log(&o, SR_VERBOSE, "read unlocked: no lock file can be "
		    "made beside it");
}

static void __attribute__((noreturn))
build_fail(const char *image)
{
	char msg[1024];

	tool_errmsg(msg, sizeof(msg));
	(void)stage_close(&stage);
	sr_seterr("%s", msg);
	tool_fail(image, NULL, 0);
}

/* Print the plan's diffs (-n), unless -q. */
static void
show(const struct plan *plan, const char *image, const struct toolout *out)
{
	struct sbuf desc = { 0 };

	if (out->verbose < 0)
		return;
	if (plan_describe(plan, &desc) == -1)
		build_fail(image);
	tool_putlines(stdout, desc.s, desc.len);
	sbuf_free(&desc);
}

/*
 * Record the root's identity (lib/identity.c) in .sharedroot, unless it
 * is there already: a digest of what its guests copy, by which a guest's
 * local disk knows its root.  The root is read at rootfd and written
 * through t (unless dryrun).  With spec, the root is a stage (and spec
 * says what its files will be).  1: recorded (or would be), 0: it was,
 * -1: an error.
 */
static int
record_identity(int rootfd, struct tree *t, struct spec *spec,
    struct toolout *out, bool dryrun)
{
	const struct tree_wopts dwo = { .mode = 0755 },
	    wo = { .mode = 0644, .nosync = spec != NULL };
	struct sbuf man = { 0 }, old = { 0 };
	struct tree *own = NULL;
	char id[ID_HEXLEN + 1];
	int rv = -1;

	/* A dry run on a stage reads it through a tree of its own. */
	if (t == NULL && (t = own = tree_dir(rootfd, out->image,
	    TREE_RDONLY)) == NULL)
		return -1;
	if (identity_manifest(t, spec, &man, id) == -1)
		goto done;
	if (dir_readfile(rootfd, ID_ROOT, 256, &old, NULL) == 0 &&
	    old.len == ID_HEXLEN + 1 && memcmp(old.s, id, ID_HEXLEN) == 0) {
		rv = 0;
		goto done;
	}
	tool_log(out, SR_VERBOSE, "%s: %s the root's identity %.12s (what "
	    "guests copy: %zu bytes of manifest)", ID_ROOT, dryrun ?
	    "would record" : "recording", id, man.len);
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

/* The plan for the root, a directory at fd (named name), read-only. */
static int
plan_root(int fd, const char *name, const struct rootprep *rp,
    struct plan *plan)
{
	struct tree *t = tree_dir(fd, name, TREE_RDONLY);
	int rv = t == NULL ? -1 : rootprep_plan(t, rp, plan);

	tree_close(t);
	return rv;
}

/*
 * The plan for the staged root, read through the tree that records what
 * each path truly is (its spec's owners and modes, and the device nodes
 * only the spec holds).
 */
static int
plan_staged(const struct rootprep *rp, struct plan *plan)
{
	struct tree *t = stage_tree(&stage);
	int rv = t == NULL ? -1 : rootprep_plan(t, rp, plan);

	tree_close(t);
	return rv;
}

/*
 * Apply the plan to the staged root, then record its identity there,
 * both through a tree that notes what each path must be in the image.
 * Returns as record_identity().
 */
static int
apply_staged(const struct plan *plan, struct toolout *out)
{
	struct tree *t;
	int r = -1;

	if ((t = stage_tree(&stage)) == NULL)
		return -1;
	if (plan_apply(plan, t, tool_log, out) == 0)
		r = record_identity(stage.fd, t, &stage.copied, out, false);
	tree_close(t);
	return r;
}

/* Stage one source of -o: a directory, a set, or an FFS image. */
static void
stage_source(const char *image, const char *src, int part,
    struct toolout *out, struct copy_stats *cs)
{
	struct copy_opts co = { .dstfd = stage.fd, .spec = &stage.copied,
	    .log = tool_log, .logctx = out };
	char **names = NULL, real[PATH_MAX];
	struct ffsimg fi;
	struct stat st;
	int r;

	memset(cs, 0, sizeof(*cs));
	if (stat(src, &st) == -1) {
		sr_seterrno("%s", src);
		build_fail(image);
	}
	if (S_ISDIR(st.st_mode)) {
		int fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd == -1 || realpath(src, real) == NULL ||
		    dir_list(fd, "", &names) == -1) {
			if (fd != -1)
				close(fd);
			sr_prefixerr("%s", src);
			build_fail(image);
		}
		close(fd);
		co.srcpath = real;
		co.tops = (const char *const *)names;
		r = copy_trees(&co, cs);
		dir_freelist(names);
	} else if (is_set_name(src))
		r = sets_extract(&co, src, cs);
	else if ((r = ffsimg_probe(src, part, &fi)) == 0)
		r = ffs_extract(&fi, NULL, NULL, stage.fd, &stage.copied,
		    tool_log, out, cs);
	else if (r == 1) {
		sr_seterr("neither a directory, a set (.tgz, .tar.xz, ...) nor "
		    "an FFS image");
		r = -1;
	}
	if (r == -1) {
		sr_prefixerr("%s", src);
		build_fail(image);
	}
}

/*
 * setup-root -o: stage the sources in order (a directory, an FFS image,
 * or NetBSD sets), prepare the staged root, and write a new FFS image
 * with makefs.  Nothing is mounted, and no privileges are needed.
 */
static int
build_root(const char *image, int nsrc, char *src[], uint64_t size, int part,
    struct rootprep *rp, struct toolout *out, bool dryrun)
{
	/* A shared root is read-only: little room is needed. */
	static const char *const room[] = { "-b", "10%", "-f", "10%", NULL };
	const struct build_opts bo = { size, room, NULL };
	struct plan plan = { 0 };
	struct copy_stats cs, total = { 0 };
	struct stat st;
	int i;

	out->image = image;
	if (nsrc < 1)
		usage();
	/* Replacing a root every guest boots from is not done by surprise. */
	if (!rp->force && lstat(image, &st) == 0) {
		sr_seterr("exists; -f replaces it (guests running from it keep "
		    "the old one until they reboot)");
		build_fail(image);
	}
	if (stage_open(&stage) == -1)
		build_fail(image);
	for (i = 0; i < nsrc; i++) {
		stage_source(image, src[i], part, out, &cs);
		total.entries += cs.entries;
		tool_log(out, SR_VERBOSE, "%s: %ju entries staged", src[i],
		    cs.entries);
	}
	/* init makes /dev in memory: the sources' device nodes go. */
	if (spec_drop_devices(&stage.copied, "dev") > 0)
		tool_log(out, SR_VERBOSE, "dev: device nodes left out");
	if (plan_staged(rp, &plan) == -1)
		build_fail(image);
	if (dryrun)
		show(&plan, image, out);
	else if (apply_staged(&plan, out) == -1 ||
	    build_image(&stage, image, &bo, tool_log, out) == -1)
		build_fail(image);
	if (stage_close(&stage) == -1)
		build_fail(image);
	if (dryrun)
		tool_log(out, SR_INFO, "dry run: %zu changes; nothing written",
		    plan.n);
	else
		tool_log(out, SR_INFO, "built from %d source%s: %ju entries, "
		    "%zu changes", nsrc, nsrc > 1 ? "s" : "", total.entries,
		    plan.n);
	plan_free(&plan);
	return 0;
}

/*
 * An FFS root this host cannot mount: read it with libtsk, prepare the
 * stage, and when anything changes rebuild it like itself with makefs
 * and put it in the old one's place (a new file renamed over it).
 */
static size_t
rebuild_root(const struct ffsimg *fi, struct rootprep *rp,
    struct toolout *out, bool dryrun)
{
	const struct build_opts bo = { 0, NULL, fi };
	struct plan plan = { 0 };
	struct copy_stats cs;
	size_t n;
	int id = 0;

	if (ffsimg_rebuildable(fi) == -1 ||
	    (!dryrun && ffsimg_writable(fi) == -1) || stage_open(&stage) == -1)
		build_fail(out->image);
	if (ffs_extract(fi, NULL, NULL, stage.fd, &stage.copied, tool_log,
	    out, &cs) == -1) {
		sr_prefixerr("read");
		build_fail(out->image);
	}
	/* The device nodes its spec alone holds go with the rest of dev. */
	if (plan_staged(rp, &plan) == -1)
		build_fail(out->image);
	if (dryrun) {
		show(&plan, out->image, out);
		if (plan.n == 0 && (id = record_identity(stage.fd, NULL,
		    &stage.copied, out, true)) == -1)
			build_fail(out->image);
	} else if ((id = apply_staged(&plan, out)) == -1 ||
	    ((plan.n > 0 || id > 0) && build_image(&stage, fi->path, &bo,
	    tool_log, out) == -1))
		build_fail(out->image);
	if (stage_close(&stage) == -1)
		build_fail(out->image);
	n = plan.n + (size_t)(id > 0);
	tool_log(out, SR_VERBOSE, "read with libtsk: %ju entries%s", cs.entries,
	    n && !dryrun ? "; rebuilt with makefs and replaced" : "");
	plan_free(&plan);
	return n;
}

/* The identity of a root mounted (or a directory), written in place. */
static int
record_identity_in_place(int rootfd, struct toolout *out, bool dryrun)
{
	struct tree *t;
	int r;

	if ((t = tree_dir(rootfd, out->image, dryrun ? TREE_RDONLY : 0)) ==
	    NULL)
		return -1;
	r = record_identity(rootfd, t, NULL, out, dryrun);
	tree_close(t);
	return r;
}

/* A root mounted (or a directory): the plan applied in place. */
static size_t
update_root(const char *target, struct rootprep *rp, struct toolout *out,
    bool dryrun)
{
	struct attach at, *ats[1] = { &at };
	struct plan plan = { 0 };
	size_t n;
	int id = 0;

	attach_init(&at, target, dryrun);
	if (attach_open(&at) == -1 ||
	    plan_root(at.rootfd, out->image, rp, &plan) == -1)
		tool_fail(out->image, ats, 1);
	if (dryrun)
		show(&plan, out->image, out);
	else if (plan_apply_dir(&plan, at.rootfd, 0, tool_log, out) == -1)
		tool_fail(out->image, ats, 1);
	/* With changes planned, -n cannot know the identity they make. */
	if ((!dryrun || plan.n == 0) &&
	    (id = record_identity_in_place(at.rootfd, out, dryrun)) == -1)
		tool_fail(out->image, ats, 1);
	if (tool_finish(ats, 1) == -1)
		tool_fail(out->image, ats, 1);
	n = plan.n + (size_t)(id > 0);
	plan_free(&plan);
	return n;
}

int
main(int argc, char *argv[])
{
	struct rootprep rp;
	struct toolout out = { NULL, 0 };
	struct ffsimg fi;
	struct stat st;
	const char *kernel = NULL, *ldev = "/dev/rxbd2a", *output = NULL,
	    *errstr;
	uint64_t size = 0;
	bool dryrun = false, ffs = false;
	size_t n;
	int ch, part = -1;

	setprogname(argv[0]);
	memset(&rp, 0, sizeof(rp));
	rp.kernelfd = -1;
	rp.sharedir = tool_sharedir(SHAREDIR);
	rp.log = tool_log;
	rp.logctx = &out;
	while ((ch = getopt(argc, argv, "fk:l:no:p:qs:v")) != -1) {
		switch (ch) {
		case 'f':
			rp.force = true;
			break;
		case 'k':
			kernel = optarg;
			break;
		case 'l':
			ldev = optarg;
			break;
		case 'n':
			dryrun = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'p':
			part = (int)strtonum(optarg, 0, 127, &errstr);
			if (errstr != NULL)
				errx(1, "-p %s: give a partition number, 0 to "
				    "127", optarg);
			break;
		case 's':
			if (sr_parse_size(optarg, &size) == -1 ||
			    size < (1ULL << 20) || size > (16ULL << 40))
				errx(1, "-s %s: give a size from 1m to 16t",
				    optarg);
			break;
		case 'q':
			out.verbose = -1;
			break;
		case 'v':
			out.verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (output == NULL && (argc != 1 || size != 0))
		usage();
	out.image = output != NULL ? output : argv[0];
	sr_signals_catch();
	/* What killed runs left; the locks go with this run. */
	scratch_purge();
	atexit(sr_unlock_all);
	lock_target(out.image, !dryrun, &out);
	if (output != NULL)
		for (ch = 0; ch < argc; ch++)
			lock_target(argv[ch], false, &out);
	if (localdev_parse(&rp, ldev) == -1 ||
	    (kernel != NULL && kernel_open(&rp, kernel) == -1))
		tool_fail(out.image, NULL, 0);
	if (output != NULL)
		return build_root(output, argc, argv, size, part, &rp, &out,
		    dryrun);

	/* An FFS image is read, not mounted, unless vnd can mount it. */
	if (stat(argv[0], &st) == 0 && S_ISREG(st.st_mode)) {
		int r = ffsimg_probe(argv[0], part, &fi);

		if (r == -1 || (r == 1 && part >= 0)) {
			if (r == 1)
				sr_seterr("-p %d: holds no FFS file system",
				    part);
			tool_fail(out.image, NULL, 0);
		}
		ffs = r == 0 && !(geteuid() == 0 &&
		    attach_backend() == BACKEND_VND);
		if (!ffs && geteuid() != 0) {
			sr_seterr("%s; mounting it needs root (setup-root -o "
			    "builds a prepared root.img from sets without)",
			    is_set_name(argv[0]) ? "a set archive, not an image" :
			    "not an FFS image");
			tool_fail(out.image, NULL, 0);
		}
	} else if (part >= 0) {
		sr_seterr("-p %d: not an image", part);
		tool_fail(out.image, NULL, 0);
	}
	n = ffs ? rebuild_root(&fi, &rp, &out, dryrun) :
	    update_root(argv[0], &rp, &out, dryrun);

	if (kernel == NULL && out.verbose == 0)
		tool_log(&out, SR_INFO, "netbsd: no kernel given (-k); "
		    "left as it is");
	if (n == 0)
		tool_log(&out, SR_INFO, "already prepared; nothing changed");
	else if (dryrun)
		tool_log(&out, SR_INFO, "dry run: %zu changes; nothing written",
		    n);
	else
		tool_log(&out, SR_INFO, "prepared (%zu changes)%s", n,
		    ffs ? "; rebuilt with makefs" : "");
	return 0;
}
