/*
 * setup-local: make a Xen guest's local disk (its etc, tmp and var) from
 * the shared NetBSD root.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "cgdimage.h"
#include "compat.h"
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
/* The stage a build fills, and one an FFS root is read into otherwise. */
static struct stage stage = { .fd = -1 }, rstage = { .fd = -1 };
/* -c where cgd is done here: the key, and the private plaintext. */
static struct cgdimg cg;

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
	/* A stage's fd may stand in for the root's: drop it first. */
	if (ra.rootfd == stage.fd || ra.rootfd == rstage.fd)
		ra.rootfd = -1;
	(void)stage_close(&stage);
	(void)stage_close(&rstage);
	cgdimg_abandon(&cg);
	sr_seterr("%s", msg);
	tool_fail(image, ats, 2);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s [-fnqv] [-c keyfile] [-h hostname] "
	    "[-K passfile] [-P pkg-device|none]\n"
	    "       [-p partition] [-S cipher|none] [-s size] "
	    "[-T templates-dir] root local\n", getprogname());
	exit(1);
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

/*
 * How the local is made, decided once:
 *   UPDATE   a directory, or an image this host mounts, filled in place;
 *   CREATE   a new image made and mounted (vnd and newfs on NetBSD);
 *   BUILD    a new FFS image written with makefs, nothing mounted;
 *   REBUILD  an existing FFS image this host cannot mount (Linux), or
 *            that an ordinary user may write: read with libtsk and
 *            rebuilt like itself with makefs, renamed over the old.
 */
enum lp_mode { LP_UPDATE, LP_CREATE, LP_BUILD, LP_REBUILD };

/* One run: what was asked, and what was found. */
struct run {
	struct localprep lp;
	struct toolout rout, lout;
	struct plan plan;
	struct copy_stats cs;
	struct ffsimg rfi, lfi;
	const char *root, *local, *rpath;
	char	 rbuf[PATH_MAX], tmpl[PATH_MAX];
	uint64_t size;
	int	 part;		/* -p: the root's partition, or -1 */
	enum lp_mode mode;
	const char *keyfile, *passfile;	/* -c, -K */
	struct stat lst;	/* an existing local image */
	bool	 crypt;		/* -c: cgd done here, on the plaintext */
	bool	 dryrun;
	bool	 rffs;		/* the root is read with libtsk */
};

/* Whether this run may mount an FFS image (NetBSD's vnd, as root). */
static bool
mounts_ffs(void)
{
	return geteuid() == 0 && attach_backend() == BACKEND_VND;
}

/*
 * -c asks for an encrypted disk.  Where vnd and cgdconfig cannot do it,
 * it is done here (an FFS image built or rebuilt, encrypted as cgd
 * would); every other way of making one would write plaintext, and is
 * refused: a directory, an image mounted through a loop device.
 */
static void
check_keyfile(struct run *r, bool isdir)
{
	if (r->keyfile == NULL)
		return;
	if (isdir)
		sr_seterr("-c %s: a directory cannot be encrypted; name an "
		    "image", r->keyfile);
	else if (!r->crypt && la.backend != BACKEND_VND)
		sr_seterr("-c %s: this image would be filled in place through "
		    "a loop device, in plaintext (refused, nothing written)",
		    r->keyfile);
	else
		return;
	tool_fail(r->lout.image, ats, 0);
}

/* An FFS image read without mounting: probe it, or fail naming it. */
static bool
probe_ffs(const char *image, int part, struct ffsimg *fi)
{
	int p = ffsimg_probe(image, part, fi);

	if (p == -1)
		tool_fail(image, ats, 0);
	if (p == 1 && part >= 0) {
		sr_seterr("-p %d: holds no FFS file system", part);
		tool_fail(image, ats, 0);
	}
	return p == 0;
}

/* Check the arguments and decide how the local is made, before anything. */
static void
check_args(struct run *r)
{
	struct stat st, rst;

	memset(&rst, 0, sizeof(rst));
	if ((r->lp.hostname != NULL && hostname_ok(r->lp.hostname) == -1) ||
	    (r->lp.pkgdev != NULL && pkgdev_ok(r->lp.pkgdev) == -1) ||
	    (r->lp.cipher != NULL && cipher_ok(r->lp.cipher) == -1) ||
	    (r->keyfile != NULL && access(r->keyfile, F_OK) == 0 &&
	    keyfile_check(r->keyfile) == -1))
		tool_fail(r->lout.image, ats, 0);
	if (stat(r->root, &rst) == -1)
		memset(&rst, 0, sizeof(rst));
	else if (S_ISREG(rst.st_mode)) {
		bool ffs = probe_ffs(r->root, r->part, &r->rfi);

		if (!ffs && is_set_name(r->root)) {
			sr_seterr("a set archive, not a root image: make a "
			    "root with setup-root -o root.img SETS first");
			tool_fail(r->rout.image, ats, 0);
		}
		r->rffs = ffs && !mounts_ffs();
	}
	else if (r->part >= 0) {
		sr_seterr("-p %d: not an image", r->part);
		tool_fail(r->rout.image, ats, 0);
	}
	if (stat(r->local, &st) == 0) {
		if (rst.st_ino != 0 && rst.st_dev == st.st_dev &&
		    rst.st_ino == st.st_ino) {
			sr_seterr("root and local are the same");
			tool_fail(r->lout.image, ats, 0);
		}
		r->lst = st;
		r->mode = LP_UPDATE;
		/* An encrypted image: its file system is known once decrypted. */
		if (r->keyfile != NULL && S_ISREG(st.st_mode) && !mounts_ffs()) {
			struct ffsimg img = { .path = r->local };

			r->crypt = true;
			r->mode = LP_REBUILD;
			if (!r->dryrun && ffsimg_writable(&img) == -1)
				tool_fail(r->lout.image, ats, 0);
			return;
		}
		if (S_ISREG(st.st_mode) && probe_ffs(r->local, -1, &r->lfi) &&
		    !mounts_ffs())
			r->mode = LP_REBUILD;
		/* Never rebuild a guest's disk behind its owner's back. */
		if (r->mode == LP_UPDATE && S_ISREG(st.st_mode) &&
		    geteuid() != 0) {
			sr_seterr("updating an image that is not FFS needs "
			    "root to mount it");
			tool_fail(r->lout.image, ats, 0);
		}
		if (r->mode == LP_REBUILD && (ffsimg_rebuildable(&r->lfi) ==
		    -1 || (!r->dryrun && ffsimg_writable(&r->lfi) == -1)))
			tool_fail(r->lout.image, ats, 0);
		check_keyfile(r, S_ISDIR(st.st_mode));
		return;
	}
	if (errno != ENOENT) {
		sr_seterrno("stat");
		tool_fail(r->lout.image, ats, 0);
	}
	/* A guest's local disk is FFS: makefs writes it, unless vnd can. */
	r->mode = mounts_ffs() ? LP_CREATE : LP_BUILD;
	r->crypt = r->keyfile != NULL && r->mode == LP_BUILD;
	check_keyfile(r, false);
	/* A new image that is made and mounted needs a size. */
	if (r->size == 0 && r->mode == LP_CREATE) {
		sr_seterr("does not exist; -s size creates it");
		tool_fail(r->lout.image, ats, 0);
	}
}

/*
 * -c done here: the key (the key file made first if missing), a private
 * directory for the plaintext, and an existing image decrypted into it
 * and checked: a wrong key stops here, nothing written.
 */
static void
open_crypt(struct run *r)
{
	int p;

	if (!r->crypt)
		return;
	if (r->dryrun && access(r->keyfile, F_OK) == -1 && errno == ENOENT &&
	    r->mode == LP_BUILD) {
		tool_log(&r->lout, SR_INFO, "%s: would be made: aes-xts, a new "
		    "512-bit stored key", r->keyfile);
		r->crypt = false;
		return;
	}
	/* A key is made only for a new disk: an old one has its own. */
	if (cgdimg_open(&cg, r->keyfile, r->passfile, !r->dryrun &&
	    r->mode == LP_BUILD) == -1 || cgdimg_private(&cg) == -1)
		fail(r->lout.image);
	/* The old ciphers are kept for old disks, not used for new ones. */
	if (r->mode == LP_BUILD &&
	    (strcmp(cg.params.algorithm, "3des-cbc") == 0 ||
	    strcmp(cg.params.algorithm, "blowfish-cbc") == 0)) {
		sr_seterr("%s: algorithm %s is obsolete: kept to read and "
		    "re-seed old disks, not for new ones (use aes-xts)",
		    r->keyfile, cg.params.algorithm);
		fail(r->lout.image);
	}
	if (r->mode != LP_REBUILD)
		return;
	if (cgdimg_decrypt(&cg, r->local) == -1)
		fail(r->lout.image);
	if ((p = ffsimg_probe(cg.plain, -1, &r->lfi)) != 0) {
		if (p == 1)
			sr_seterr("no FFS file system after decryption: a "
			    "wrong key, or not an image made with this key");
		fail(r->lout.image);
	}
	if (ffsimg_rebuildable(&r->lfi) == -1)
		fail(r->lout.image);
	tool_log(&r->lout, SR_VERBOSE, "decrypted (%s, %zu-bit key) into a "
	    "private directory", cg.params.algorithm, cg.params.keylen);
}

/*
 * The root: read-only, and all edits decided from it.  An FFS root this
 * run cannot mount is read with libtsk into a stage: the build's own, or
 * (to fill a tree in place) one of its own, given the root's owners.
 */
static void
open_root(struct run *r)
{
	bool build = r->mode == LP_BUILD || r->mode == LP_REBUILD;

	if (r->rffs) {
		struct stage *st = build ? &stage : &rstage;

		if (stage_open(st) == -1 ||
		    ffs_extract(&r->rfi, local_copy, local_secrets, st->fd,
		    &st->copied, tool_log, &r->lout, &r->cs) == -1 ||
		    (!build && geteuid() == 0 &&
		    spec_apply(&st->copied, st->fd) == -1))
			fail(r->rout.image);
		ra.rootfd = st->fd;
		r->lp.rootspec = &st->copied;
		r->lp.root_fstype = "ffs";
		r->rpath = build ? NULL : st->tree;
		return;
	}
	if (attach_open(&ra) == -1)
		tool_fail(r->rout.image, ats, 1);
	r->lp.root_fstype = netbsd_fstype(ra.isdir ? NULL : ra.fstype);
	if ((r->rpath = root_path(&ra, r->rbuf)) == NULL)
		tool_fail(r->rout.image, ats, 1);
	if (build && stage_open(&stage) == -1)
		fail(r->lout.image);
}

/*
 * Arguments the wrong way round: a guest's local disk given as the root.
 * It has the marks setup-local leaves (etc/rc.conf.d/root remounting
 * /local) and no system: no kernel, no bin.
 */
static void
check_not_local(struct run *r)
{
	struct sbuf b = { 0 };
	struct stat st;
	bool marked, system;

	marked = tree_readfile(ra.rootfd, "etc/rc.conf.d/root", 65536, &b,
	    NULL) == 0 && b.s != NULL && strstr(b.s, "sharedroot_local_rw");
	sbuf_free(&b);
	if (!marked)
		return;
	if (r->rffs)
		system = ffs_exists(&r->rfi, "netbsd") == 0 ||
		    ffs_exists(&r->rfi, "bin") == 0;
	else
		system = tree_lstat(ra.rootfd, "netbsd", &st) == 0 ||
		    tree_lstat(ra.rootfd, "bin", &st) == 0;
	if (system)
		return;
	sr_seterr("a guest's local disk (setup-local made it), not a shared "
	    "root: the root comes first, then the local (setup-local root "
	    "local)");
	fail(r->rout.image);
}

/* The local, unless it is built or only imagined (-n on a new one). */
static void
open_local(struct run *r)
{
	if (r->mode == LP_REBUILD) {
		int e = ffs_exists(&r->lfi, "etc");

		if (e == -1 || localprep_provisioned(e == 0, &r->lp) == -1)
			fail(r->lout.image);
	}
	if (r->mode == LP_CREATE && !r->dryrun) {
		if (image_create(r->local, (off_t)r->size, la.backend, newimg,
		    sizeof(newimg)) == -1)
			fail(r->lout.image);
		la.path = newimg;
		la.format = true;
	}
	if (r->mode == LP_UPDATE || (r->mode == LP_CREATE && !r->dryrun)) {
		/* Read-only until we know it is ours to fill. */
		la.ro_first = true;
		if (attach_open(&la) == -1 ||
		    localprep_check(la.rootfd, &r->lp) == -1)
			fail(r->lout.image);
		if (!la.isdir && la.fstype[0] != '\0' &&
		    strcmp(netbsd_fstype(la.fstype), "ffs") != 0)
			tool_log(&r->lout, SR_WARN, "holds %s: a guest's "
			    "rc.pre-hooks mounts its local disk as ffs, so it "
			    "cannot boot from this one; make a new image",
			    la.fstype);
	}
	/* makefs writes FFS; a directory is taken to be FFS too. */
	r->lp.local_fstype = netbsd_fstype(la.rootfd == -1 || la.isdir ?
	    NULL : la.fstype);
}

/*
 * NetBSD 4.x's stock XEN3_DOMU kernel has no cgd(4): its guests would
 * get no swap.  Say so where the root's kernel plainly lacks the driver
 * (an uncompressed ELF kernel without the name); else say nothing.
 */
static void
check_kernel_cgd(struct run *r)
{
	static const char elf[] = "\177ELF", cgd[] = "cgd";
	int has_elf, has_cgd;

	if (r->lp.cipher != NULL && strcmp(r->lp.cipher, "none") == 0)
		return;
	if (r->rffs) {
		if (nb_shape(ra.rootfd) != 4)
			return;
		has_elf = ffs_file_has(&r->rfi, "netbsd", elf, 4);
		has_cgd = ffs_file_has(&r->rfi, "netbsd", cgd, sizeof(cgd));
	} else if (kernel_has(ra.rootfd, "netbsd", elf, 4, &has_elf) == -1 ||
	    nb_shape(ra.rootfd) != 4 ||
	    kernel_has(ra.rootfd, "netbsd", cgd, sizeof(cgd), &has_cgd) == -1)
		return;
	if (has_elf == 0 && has_cgd == 1)
		tool_log(&r->lout, SR_WARN, "%s: netbsd: the root's kernel has "
		    "no cgd driver (as the stock 4.x XEN3_DOMU): the guest "
		    "gets no swap; build a kernel with cgd, or -S none",
		    r->rout.image);
}

/* -n: what would be copied, left out and changed. */
static void
show_plan(struct run *r)
{
	struct copy_opts co = { .srcpath = r->rpath, .dstfd = -1,
	    .tops = local_copy, .exclude = local_secrets, .dryrun = true,
	    .log = tool_log, .logctx = &r->lout };
	struct sbuf desc = { 0 };

	if (r->mode == LP_BUILD)
		tool_log(&r->lout, SR_INFO, "would be built with makefs (FFS, "
		    "%s)", r->size ? "of the size given" :
		    "sized to its content");
	else if (r->mode == LP_REBUILD)
		tool_log(&r->lout, SR_INFO, "would be rebuilt with makefs like "
		    "itself (FFSv%d, %jd bytes)%s and replace the image",
		    r->lfi.version, (intmax_t)r->lfi.len, r->crypt ?
		    ", encrypted again" : "");
	else if (r->mode == LP_CREATE)
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

/* Make the local as decided. */
static void
make_local(struct run *r)
{
	switch (r->mode) {
	case LP_BUILD:
	case LP_REBUILD:
		/* Encrypted: built in private, then encrypted into place. */
		if (localprep_build(r->rpath, &stage, r->crypt ? cg.plain :
		    r->local, r->size, r->mode == LP_REBUILD ? &r->lfi : NULL,
		    &r->lp, &r->plan, &r->cs) == -1 ||
		    (r->crypt && cgdimg_encrypt(&cg, r->local,
		    r->mode == LP_REBUILD ? &r->lst : NULL) == -1))
			fail(r->lout.image);
		break;
	case LP_UPDATE:
	case LP_CREATE:
		if (attach_remount_rw(&la) == -1 ||
		    localprep_apply(r->rpath, la.rootfd, &r->lp, &r->plan,
		    &r->cs) == -1)
			fail(r->lout.image);
		break;
	}
}

int
main(int argc, char *argv[])
{
	static struct run r;
	const char *errstr;
	int ch;

	setprogname(argv[0]);
	snprintf(r.tmpl, sizeof(r.tmpl), "%s/templates",
	    tool_sharedir(SHAREDIR));
	r.lp.tmpldir = r.tmpl;
	r.lp.pkgdev = "/dev/xbd3a";
	r.lp.log = tool_log;
	r.lp.logctx = &r.lout;
	r.part = -1;
	while ((ch = getopt(argc, argv, "c:fh:K:nP:p:qS:s:T:v")) != -1) {
		switch (ch) {
		case 'c':
			r.keyfile = optarg;
			break;
		case 'K':
			r.passfile = optarg;
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
		case 'p':
			if ((r.part = (int)strtonum(optarg, 0, 127, &errstr)),
			    errstr != NULL)
				errx(1, "-p %s: give a partition number, 0 to "
				    "127", optarg);
			break;
		case 'q':
			r.rout.verbose = r.lout.verbose = -1;
			break;
		case 'S':
			r.lp.cipher = optarg;
			break;
		case 's':
			if (sr_parse_size(optarg, &r.size) == -1 ||
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
	la.keyfile = r.keyfile;
	cgdimg_init(&cg);

	check_args(&r);
	open_crypt(&r);
	open_root(&r);
	check_not_local(&r);
	open_local(&r);
	if (localprep_plan(ra.rootfd, &r.lp, &r.plan) == -1)
		fail(r.rout.image);
	check_kernel_cgd(&r);
	/* A staged root was only lent for planning. */
	if (ra.rootfd == stage.fd || ra.rootfd == rstage.fd)
		ra.rootfd = -1;
	if (r.dryrun)
		show_plan(&r);
	else
		make_local(&r);
	if (stage_close(&stage) == -1 || stage_close(&rstage) == -1 ||
	    cgdimg_close(&cg) == -1 || tool_finish(ats, 2) == -1)
		fail(r.lout.image);
	if (r.mode == LP_CREATE && !r.dryrun && rename(newimg, r.local) == -1) {
		sr_seterrno("create: rename into place");
		fail(r.lout.image);
	}
	if (cg.created)
		tool_log(&r.lout, SR_INFO, "%s: made: aes-xts, a new 512-bit "
		    "stored key, mode 0600; keep it, the disk cannot be read "
		    "without it", r.keyfile);
	if (r.dryrun)
		tool_log(&r.lout, SR_INFO, "dry run: nothing written");
	else
		tool_log(&r.lout, SR_INFO, "%s from %s%s: %ju entries, %zu "
		    "changes%s", r.mode == LP_REBUILD ? "rebuilt" :
		    r.mode == LP_BUILD ? "built" : "provisioned", r.rout.image,
		    r.mode >= LP_BUILD ? r.crypt ? " with makefs, encrypted" :
		    " with makefs" : "", r.cs.entries, r.plan.n,
		    r.cs.warnings ? " (with warnings)" : "");
	plan_free(&r.plan);
	return 0;
}
