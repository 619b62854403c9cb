/*
 * setup-local: make a Xen guest's local disk (its etc, tmp and var) from
 * the shared NetBSD root.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <libutil.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "ffsread.h"
#include "localprep.h"
#include "tool.h"

#ifndef SHAREDIR
#define SHAREDIR "/usr/local/share/sharedroot"
#endif

#define MINSIZE	(4ULL << 20)
#define MAXSIZE	(16ULL << 40)

static struct attach ra, la;
static struct attach *ats[2] = { &ra, &la };
static char newimg[PATH_MAX];
static struct stage stage = { .fd = -1 };

/*
 * Fail, naming image: undo everything, and remove an image this run
 * created, whatever step failed.
 */
static void __attribute__((noreturn))
fail(const char *image)
{
	char msg[1024];

	strlcpy(msg, sr_errmsg(), sizeof(msg));
	if (newimg[0] != '\0') {
		(void)attach_teardown(&la);
		unlink(newimg);
	}
	/* The stage's fd may stand in for the root's: drop it first. */
	if (ra.rootfd == stage.fd)
		ra.rootfd = -1;
	(void)stage_close(&stage);
	sr_seterr("%s", msg);
	tool_fail(image, ats, 2);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s [-fnqv] [-c keyfile] [-h hostname] "
	    "[-P pkg-device|none] [-S cipher|none] [-s size] "
	    "[-T templates-dir] root local\n", getprogname());
	exit(1);
}

/* Whether the root is an FFS image this host reads without mounting. */
static bool
ffs_root(const char *root)
{
#ifdef __linux__
	struct stat st;
	char type[32];

	return stat(root, &st) == 0 && S_ISREG(st.st_mode) &&
	    image_fstype(root, type, sizeof(type)) == 0 &&
	    strcmp(type, "ufs") == 0;
#else
	(void)root;
	return false;
#endif
}

/* The root's tree as a host path the copier can read (absolute). */
static const char *
root_path(const struct attach *a, char *buf)
{
	if (!a->isdir)
		return a->mntdir;
	if (realpath(a->path, buf) == NULL) {
		sr_seterrno("realpath");
		return NULL;
	}
	return buf;
}

/* One run: what was asked, and what was found. */
struct run {
	struct localprep lp;
	struct toolout rout, lout;
	struct plan plan;
	struct copy_stats cs;
	const char *root, *local, *rpath;
	char	 rbuf[PATH_MAX], tmpl[PATH_MAX];
	uint64_t size;
	bool	 dryrun, create, build;
};

/* Check the arguments and how the local is to be made, before anything. */
/*
 * -c asks for an encrypted disk: refuse every way of making one that
 * would write plaintext instead (makefs, a loop device, a directory).
 */
static void
check_keyfile(struct run *r, const char *keyfile, bool isdir)
{
	if (keyfile == NULL)
		return;
	if (isdir)
		sr_seterr("-c %s: a directory cannot be encrypted; name an "
		    "image", keyfile);
	else if (r->build || la.backend != BACKEND_VND)
		sr_seterr("-c %s: cgd encryption needs root on a NetBSD host "
		    "(vnd and cgdconfig); this host would write plaintext "
		    "(refused, nothing written)", keyfile);
	else
		return;
	tool_fail(r->lout.image, ats, 0);
}

static void
check_args(struct run *r, const char *keyfile)
{
	struct stat st, rst;

	if ((r->lp.hostname != NULL && hostname_ok(r->lp.hostname) == -1) ||
	    (r->lp.pkgdev != NULL && pkgdev_ok(r->lp.pkgdev) == -1) ||
	    (r->lp.cipher != NULL && cipher_ok(r->lp.cipher) == -1) ||
	    (keyfile != NULL && keyfile_check(keyfile) == -1))
		tool_fail(r->lout.image, ats, 0);
	if (stat(r->local, &st) == 0) {
		if (stat(r->root, &rst) == 0 && rst.st_dev == st.st_dev &&
		    rst.st_ino == st.st_ino) {
			sr_seterr("root and local are the same");
			tool_fail(r->lout.image, ats, 0);
		}
		/* Never rebuild a guest's disk behind its owner's back. */
		if (S_ISREG(st.st_mode) && geteuid() != 0) {
			sr_seterr("updating an existing image needs root: run "
			    "as root, or name a new image to build one");
			tool_fail(r->lout.image, ats, 0);
		}
		check_keyfile(r, keyfile, S_ISDIR(st.st_mode));
		return;
	}
	if (errno != ENOENT) {
		sr_seterrno("stat");
		tool_fail(r->lout.image, ats, 0);
	}
	r->create = true;
	/*
	 * Built with makefs, without mounting: by an ordinary user, or from
	 * an FFS root, which Linux hosts cannot mount.
	 */
	r->build = geteuid() != 0 || ffs_root(r->root);
	check_keyfile(r, keyfile, false);
	/* A new image that is made and mounted needs a size. */
	if (r->size == 0 && !r->build) {
		sr_seterr("does not exist; -s size creates it");
		tool_fail(r->lout.image, ats, 0);
	}
}

/*
 * The root: read-only, and all edits decided from it.  A build reads a
 * root image with libtsk into the stage instead of mounting it.
 */
static void
open_root(struct run *r)
{
	struct stat st;

	if (r->build && stat(r->root, &st) == 0 && S_ISREG(st.st_mode)) {
		if (stage_open(&stage) == -1 ||
		    ffs_extract(r->root, local_copy, local_secrets, stage.fd,
		    &stage.copied, tool_log, &r->lout, &r->cs) == -1)
			fail(r->rout.image);
		ra.rootfd = stage.fd;
		r->lp.root_fstype = "ffs";
		r->rpath = NULL;
		return;
	}
	if (attach_open(&ra) == -1)
		tool_fail(r->rout.image, ats, 1);
	r->lp.root_fstype = netbsd_fstype(ra.isdir ? NULL : ra.fstype);
	if ((r->rpath = root_path(&ra, r->rbuf)) == NULL)
		tool_fail(r->rout.image, ats, 1);
	if (r->build && stage_open(&stage) == -1)
		fail(r->lout.image);
}

/* The local, unless it is built or only imagined (-n on a new one). */
static void
open_local(struct run *r)
{
	if (r->create && !r->dryrun && !r->build) {
		if (image_create(r->local, (off_t)r->size, la.backend, newimg,
		    sizeof(newimg)) == -1)
			fail(r->lout.image);
		la.path = newimg;
		la.format = la.backend == BACKEND_VND;
	}
	if (!r->create || (!r->dryrun && !r->build)) {
		/* Read-only until we know it is ours to fill. */
		la.ro_first = true;
		if (attach_open(&la) == -1 ||
		    localprep_check(la.rootfd, &r->lp) == -1)
			fail(r->lout.image);
	}
	/* makefs writes FFS; a directory is taken to be FFS too. */
	r->lp.local_fstype = netbsd_fstype(la.rootfd == -1 || la.isdir ?
	    NULL : la.fstype);
}

/* -n: what would be copied, left out and changed. */
static void
show_plan(struct run *r)
{
	struct copy_opts co = { .srcpath = r->rpath, .dstfd = -1,
	    .tops = local_copy, .exclude = local_secrets, .dryrun = true,
	    .log = tool_log, .logctx = &r->lout };
	struct sbuf desc = { 0 };

	if (r->build)
		tool_log(&r->lout, SR_INFO, "would be built with makefs (FFS, "
		    "%s)", r->size ? "of the size given" :
		    "sized to its content");
	else if (r->create)
		tool_log(&r->lout, SR_INFO, "would be created: %ju bytes, "
		    "sparse", (uintmax_t)r->size);
	/* List the secrets left out, unless told to be quiet. */
	if (r->lout.verbose == 0)
		r->lout.verbose = 1;
	if ((r->rpath != NULL && copy_trees(&co, &r->cs) == -1) ||
	    plan_describe(&r->plan, &desc) == -1)
		fail(r->lout.image);
	printf("copy etc, tmp, var: %ju entries from %s\n", r->cs.entries,
	    r->rout.image);
	tool_putlines(stdout, desc.s ? desc.s : "");
	sbuf_free(&desc);
}

int
main(int argc, char *argv[])
{
	static struct run r;
	const char *keyfile = NULL;
	int ch;

	setprogname(argv[0]);
	snprintf(r.tmpl, sizeof(r.tmpl), "%s/templates", SHAREDIR);
	r.lp.tmpldir = r.tmpl;
	r.lp.pkgdev = "/dev/xbd3a";
	r.lp.log = tool_log;
	r.lp.logctx = &r.lout;
	while ((ch = getopt(argc, argv, "c:fh:nP:qS:s:T:v")) != -1) {
		switch (ch) {
		case 'c':
			keyfile = optarg;
			break;
		case 'f':
			r.lp.force = true;
			break;
		case 'h':
			r.lp.hostname = optarg;
			break;
		case 'n':
			r.dryrun = true;
			break;
		case 'P':
			r.lp.pkgdev = strcmp(optarg, "none") == 0 ? NULL :
			    optarg;
			break;
		case 'q':
			r.rout.verbose = r.lout.verbose = -1;
			break;
		case 'S':
			r.lp.cipher = optarg;
			break;
		case 's':
			if (expand_number(optarg, &r.size) == -1 ||
			    r.size < MINSIZE || r.size > MAXSIZE)
				errx(1, "-s %s: give a size from 4m to 16t",
				    optarg);
			break;
		case 'T':
			r.lp.tmpldir = optarg;
			break;
		case 'v':
			r.rout.verbose = r.lout.verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	r.rout.image = r.root = argv[0];
	r.lout.image = r.local = argv[1];
	sr_signals_catch();
	attach_init(&ra, r.root, true);
	attach_init(&la, r.local, r.dryrun);
	la.keyfile = keyfile;

	check_args(&r, keyfile);
	open_root(&r);
	open_local(&r);
	if (localprep_plan(ra.rootfd, &r.lp, &r.plan) == -1)
		fail(r.rout.image);
	/* A staged root was only lent for planning. */
	if (ra.rootfd == stage.fd)
		ra.rootfd = -1;
	if (r.dryrun)
		show_plan(&r);
	else if (r.build) {
		if (localprep_build(r.rpath, &stage, r.local, r.size, &r.lp,
		    &r.plan, &r.cs) == -1)
			fail(r.lout.image);
	} else if (attach_remount_rw(&la) == -1 ||
	    localprep_apply(r.rpath, la.rootfd, &r.lp, &r.plan, &r.cs) == -1)
		fail(r.lout.image);
	if (stage_close(&stage) == -1 || tool_finish(ats, 2) == -1)
		fail(r.lout.image);
	if (r.create && !r.dryrun && !r.build && rename(newimg, r.local) == -1) {
		sr_seterrno("create: rename into place");
		fail(r.lout.image);
	}
	if (r.dryrun)
		tool_log(&r.lout, SR_INFO, "dry run: nothing written");
	else
		tool_log(&r.lout, SR_INFO, "%s from %s%s: %ju entries, %zu "
		    "changes%s", r.build ? "built" : "provisioned", r.rout.image,
		    r.build ? " with makefs" : "", r.cs.entries, r.plan.n,
		    r.cs.warnings ? " (with warnings)" : "");
	plan_free(&r.plan);
	return 0;
}
