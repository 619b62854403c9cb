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

int
main(int argc, char *argv[])
{
	struct localprep lp;
	struct toolout rout = { NULL, 0 }, lout = { NULL, 0 };
	struct plan plan = { 0 };
	struct copy_stats cs;
	struct sbuf desc = { 0 };
	struct stat st;
	char tmpl[PATH_MAX], rbuf[PATH_MAX];
	const char *keyfile = NULL, *rpath;
	uint64_t size = 0;
	bool dryrun = false, create = false, build = false;
	int ch;

	setprogname(argv[0]);
	memset(&lp, 0, sizeof(lp));
	snprintf(tmpl, sizeof(tmpl), "%s/templates", SHAREDIR);
	lp.tmpldir = tmpl;
	lp.pkgdev = "/dev/xbd3a";
	lp.log = tool_log;
	lp.logctx = &lout;
	while ((ch = getopt(argc, argv, "c:fh:nP:qS:s:T:v")) != -1) {
		switch (ch) {
		case 'c':
			keyfile = optarg;
			break;
		case 'f':
			lp.force = true;
			break;
		case 'h':
			lp.hostname = optarg;
			break;
		case 'n':
			dryrun = true;
			break;
		case 'P':
			lp.pkgdev = strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case 'q':
			rout.verbose = lout.verbose = -1;
			break;
		case 'S':
			lp.cipher = optarg;
			break;
		case 's':
			if (expand_number(optarg, &size) == -1 ||
			    size < MINSIZE || size > MAXSIZE)
				errx(1, "-s %s: give a size from 4m to 16t",
				    optarg);
			break;
		case 'T':
			lp.tmpldir = optarg;
			break;
		case 'v':
			rout.verbose = lout.verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	rout.image = argv[0];
	lout.image = argv[1];
	sr_signals_catch();
	attach_init(&ra, argv[0], true);
	attach_init(&la, argv[1], dryrun);
	la.keyfile = keyfile;

	if ((lp.hostname != NULL && hostname_ok(lp.hostname) == -1) ||
	    (lp.pkgdev != NULL && pkgdev_ok(lp.pkgdev) == -1) ||
	    (lp.cipher != NULL && cipher_ok(lp.cipher) == -1) ||
	    (keyfile != NULL && keyfile_check(keyfile) == -1))
		tool_fail(lout.image, ats, 0);
	if (stat(argv[1], &st) == 0) {
		struct stat rst;

		if (stat(argv[0], &rst) == 0 && rst.st_dev == st.st_dev &&
		    rst.st_ino == st.st_ino) {
			sr_seterr("root and local are the same");
			tool_fail(lout.image, ats, 0);
		}
		/* Never rebuild a guest's disk behind its owner's back. */
		if (S_ISREG(st.st_mode) && geteuid() != 0) {
			sr_seterr("updating an existing image needs root: run "
			    "as root, or name a new image to build one");
			tool_fail(lout.image, ats, 0);
		}
	} else {
		if (errno != ENOENT) {
			sr_seterrno("stat");
			tool_fail(lout.image, ats, 0);
		}
		create = true;
		/*
		 * Built with makefs, without mounting: by an ordinary user,
		 * or from an FFS root, which Linux hosts cannot mount.
		 */
		build = geteuid() != 0 || ffs_root(argv[0]);
		/* A new image that is made and mounted needs a size. */
		if (size == 0 && !build) {
			sr_seterr("does not exist; -s size creates it");
			tool_fail(lout.image, ats, 0);
		}
	}

	/*
	 * The root first: read-only, and all edits decided from it.  An
	 * ordinary user building a new image reads a root image with
	 * libtsk into the stage instead of mounting it.
	 */
	if (build && stat(argv[0], &st) == 0 && S_ISREG(st.st_mode)) {
		if (stage_open(&stage) == -1 ||
		    ffs_extract(argv[0], local_copy, local_secrets, stage.fd,
		    &stage.copied, tool_log, &lout, &cs) == -1)
			fail(rout.image);
		ra.rootfd = stage.fd;
		lp.root_fstype = "ffs";
		rpath = NULL;
	} else {
		if (attach_open(&ra) == -1)
			tool_fail(rout.image, ats, 1);
		lp.root_fstype = netbsd_fstype(ra.isdir ? NULL : ra.fstype);
		if ((rpath = root_path(&ra, rbuf)) == NULL)
			tool_fail(rout.image, ats, 1);
		if (build && stage_open(&stage) == -1)
			fail(lout.image);
	}
	if (create && !dryrun && !build) {
		if (image_create(argv[1], (off_t)size, la.backend, newimg,
		    sizeof(newimg)) == -1)
			fail(lout.image);
		la.path = newimg;
		la.format = la.backend == BACKEND_VND;
	}
	if (!create || (!dryrun && !build)) {
		/* Read-only until we know it is ours to fill. */
		la.ro_first = true;
		if (attach_open(&la) == -1 ||
		    localprep_check(la.rootfd, &lp) == -1)
			fail(lout.image);
	}
	/* makefs writes FFS; a directory is taken to be FFS too. */
	lp.local_fstype = netbsd_fstype(la.rootfd == -1 || la.isdir ? NULL :
	    la.fstype);
	if (localprep_plan(ra.rootfd, &lp, &plan) == -1)
		fail(rout.image);
	/* A staged root was only lent for planning. */
	if (ra.rootfd == stage.fd)
		ra.rootfd = -1;

	if (dryrun) {
		struct copy_opts co = { .srcpath = rpath, .dstfd = -1,
		    .tops = local_copy,
		    .exclude = local_secrets, .dryrun = true, .log = tool_log,
		    .logctx = &lout };

		if (build)
			tool_log(&lout, SR_INFO, "would be built with makefs "
			    "(FFS, %s)", size ? "of the size given" :
			    "sized to its content");
		else if (create)
			tool_log(&lout, SR_INFO, "would be created: %ju bytes, "
			    "sparse", (uintmax_t)size);
		/* List the secrets left out, unless told to be quiet. */
		if (lout.verbose == 0)
			lout.verbose = 1;
		if ((rpath != NULL && copy_trees(&co, &cs) == -1) ||
		    plan_describe(&plan, &desc) == -1)
			fail(lout.image);
		printf("copy etc, tmp, var: %ju entries from %s\n",
		    cs.entries, rout.image);
		tool_putlines(stdout, desc.s ? desc.s : "");
		if (stage_close(&stage) == -1 || tool_finish(ats, 2) == -1)
			fail(lout.image);
		tool_log(&lout, SR_INFO, "dry run: nothing written");
		return 0;
	}
	if (build) {
		if (localprep_build(rpath, &stage, argv[1], size, &lp, &plan,
		    &cs) == -1 || stage_close(&stage) == -1 ||
		    tool_finish(ats, 2) == -1)
			fail(lout.image);
		tool_log(&lout, SR_INFO, "built from %s with makefs: %ju "
		    "entries, %ju changes", rout.image, cs.entries, plan.n);
		sbuf_free(&desc);
		plan_free(&plan);
		return 0;
	}
	if (attach_remount_rw(&la) == -1 ||
	    localprep_apply(rpath, la.rootfd, &lp, &plan, &cs) == -1 ||
	    tool_finish(ats, 2) == -1)
		fail(lout.image);
	if (create && rename(newimg, argv[1]) == -1) {
		sr_seterrno("create: rename into place");
		fail(lout.image);
	}
	tool_log(&lout, SR_INFO, "provisioned from %s: %ju entries, %ju "
	    "changes%s", rout.image, cs.entries, plan.n,
	    cs.warnings ? " (with warnings)" : "");
	sbuf_free(&desc);
	plan_free(&plan);
	return 0;
}
