/*
 * One guest's setup-local run: the arguments checked and the mode
 * decided, the root opened and read, every edit planned, and the local
 * filled in place, made, or written directly as FFS (localrun.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/identity.h"
#include "guest/localfleet.h"
#include "guest/localrun.h"
#include "guest/localwrite.h"
#include "image/ffsread.h"
#include "image/source.h"
#include "tree/lock.h"
#include "tree/scratch.h"

int
lp_lock(struct lp_job *j, const char *path, bool excl, struct lp_out *out)
{
	int l = sr_lock(path, excl);

	if (l == -1)
		return lp_fail(j, out->image);
	if (l == 1)
		lp_log(out, SR_VERBOSE, "read unlocked: no lock file can be "
		    "made beside it");
	return 0;
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

bool
lp_mounts_ffs(void)
{
	return geteuid() == 0 && attach_backend() == BACKEND_VND;
}

/*
 * An encrypted disk is asked for.  Where vnd and cgdconfig cannot do
 * it, it is done here (an FFS image built or rebuilt, encrypted as cgd
 * would); every other way of making one would write plaintext, and is
 * refused: a directory, an image mounted through a loop device.
 */
static int
check_keyfile(struct lp_job *j, bool isdir)
{
	if (j->keyfile == NULL)
		return 0;
	if (isdir)
		sr_seterr("%s: a directory cannot be encrypted; name an "
		    "image", j->keyfile);
	else if (!j->crypt && j->la.backend != BACKEND_VND)
		sr_seterr("%s: this image would be filled in place through "
		    "a loop device, in plaintext (refused, nothing written)",
		    j->keyfile);
	else
		return 0;
	sr_sethint(SR_HINT_KEYFILE);
	return lp_fail(j, j->lout.image);
}

/* An FFS image read without mounting: probe it; 1 FFS, 0 not, -1. */
static int
probe_ffs(struct lp_job *j, const char *image, int part, struct ffsimg *fi)
{
	int p = ffsimg_probe(image, part, fi);

	if (p == -1)
		return lp_fail(j, image);
	if (p == 1 && part >= 0) {
		sr_seterr("%d: holds no FFS file system", part);
		sr_sethint(SR_HINT_PARTITION);
		return lp_fail(j, image);
	}
	return p == 0;
}

int
lp_check_opts(struct lp_job *j)
{
	const struct localprep *lp = &j->lp;

	if ((lp->hostname != NULL && hostname_ok(lp->hostname) == -1) ||
	    (lp->pkgdev != NULL && pkgdev_ok(lp->pkgdev) == -1) ||
	    (lp->cipher != NULL && cipher_ok(lp->cipher) == -1) ||
	    (j->keyfile != NULL && access(j->keyfile, F_OK) == 0 &&
	    keyfile_check(j->keyfile) == -1))
		return lp_fail(j, j->lout.image);
	return 0;
}

int
lp_check_root(struct lp_job *j)
{
	struct source s;

	memset(&j->rst, 0, sizeof(j->rst));
	errno = 0;
	if (source_kind(j->root, j->part, SOURCE_PART_STRICT, &s) == -1) {
		/* A missing root: said where it is opened. */
		if (errno == ENOENT && s.st.st_mode == 0)
			return 0;
		return lp_fail(j, j->rout.image);
	}
	if (s.kind == SOURCE_SET) {
		sr_seterr("a set archive, not a root image: make a root");
		sr_sethint(SR_HINT_MAKEROOT);
		return lp_fail(j, j->rout.image);
	}
	j->rst = s.st;
	if (s.kind == SOURCE_FFS)
		j->rfi = s.fi;
	j->rffs = s.kind == SOURCE_FFS && !lp_mounts_ffs();
	return 0;
}

/*
 * An existing local: filled in place, or rebuilt where this host reads
 * FFS without mounting it (an encrypted one always: its file system is
 * known once decrypted).
 */
static int
check_old_local(struct lp_job *j, const struct stat *st)
{
	int ffs;

	j->lst = *st;
	j->mode = LP_UPDATE;
	if (j->keyfile != NULL && S_ISREG(st->st_mode) && !lp_mounts_ffs()) {
		struct ffsimg img = { .path = j->local };

		j->crypt = true;
		j->mode = LP_REBUILD;
		if (!j->dryrun && (ffsimg_writable(&img) == -1 ||
		    attach_in_use(j->local) == -1))
			return lp_fail(j, j->lout.image);
		return 0;
	}
	if (S_ISREG(st->st_mode)) {
		if ((ffs = probe_ffs(j, j->local, -1, &j->lfi)) == -1)
			return -1;
		if (ffs && !lp_mounts_ffs())
			j->mode = LP_REBUILD;
	}
	/* Never rebuild a guest's disk behind its owner's back. */
	if (j->mode == LP_UPDATE && S_ISREG(st->st_mode) && geteuid() != 0) {
		sr_seterr("updating an image that is not FFS needs root to "
		    "mount it");
		return lp_fail(j, j->lout.image);
	}
	/* A rebuild replaces the file: not under a running guest. */
	if (j->mode == LP_REBUILD && !j->dryrun &&
	    (ffsimg_writable(&j->lfi) == -1 || attach_in_use(j->local) == -1))
		return lp_fail(j, j->lout.image);
	return check_keyfile(j, S_ISDIR(st->st_mode));
}

int
lp_check_local(struct lp_job *j)
{
	struct stat st;

	if (stat(j->local, &st) == 0) {
		if (j->rst.st_ino != 0 && j->rst.st_dev == st.st_dev &&
		    j->rst.st_ino == st.st_ino) {
			sr_seterr("root and local are the same");
			return lp_fail(j, j->lout.image);
		}
		return check_old_local(j, &st);
	}
	if (errno != ENOENT || j->op != LP_PROVISION) {
		sr_seterrno("stat");
		return lp_fail(j, j->lout.image);
	}
	/* A guest's local disk is FFS: written here, unless vnd can. */
	j->mode = lp_mounts_ffs() ? LP_CREATE : LP_BUILD;
	j->crypt = j->keyfile != NULL && j->mode == LP_BUILD;
	if (check_keyfile(j, false) == -1)
		return -1;
	/* A new image that is made and mounted needs a size. */
	if (j->size == 0 && j->mode == LP_CREATE) {
		sr_seterr("does not exist;");
		sr_sethint(SR_HINT_MAKESIZE);
		return lp_fail(j, j->lout.image);
	}
	return 0;
}

/* An old encrypted image read through its key, and checked. */
static int
open_old_crypt(struct lp_job *j)
{
	if (lp_open_crypt_old(j) == -1)
		return lp_fail(j, j->lout.image);
	lp_log(&j->lout, SR_VERBOSE, "read through its key (%s, %zu-bit "
	    "key), decrypted as it is read", j->cg.params.algorithm,
	    j->cg.params.keylen);
	return 0;
}

/*
 * The key (the key file made first if missing), and an existing image
 * opened to be read through it and checked: a wrong key stops here,
 * nothing written.  No plaintext is ever written anywhere: an image is
 * decrypted as it is read, encrypted as it is written.
 */
int
lp_open_crypt(struct lp_job *j)
{
	if (!j->crypt)
		return 0;
	if (j->dryrun && access(j->keyfile, F_OK) == -1 && errno == ENOENT &&
	    j->mode == LP_BUILD) {
		lp_log(&j->lout, SR_INFO, "%s: would be made: aes-xts, a new "
		    "512-bit stored key", j->keyfile);
		j->crypt = false;
		return 0;
	}
	/* A key is made only for a new disk: an old one has its own. */
	if (cgdimg_open(&j->cg, j->keyfile, j->passfile, !j->dryrun &&
	    j->mode == LP_BUILD) == -1)
		return lp_fail(j, j->lout.image);
	/* The old ciphers are kept for old disks, not used for new ones. */
	if (j->mode == LP_BUILD &&
	    (strcmp(j->cg.params.algorithm, "3des-cbc") == 0 ||
	    strcmp(j->cg.params.algorithm, "blowfish-cbc") == 0)) {
		sr_seterr("%s: algorithm %s is obsolete: kept to read and "
		    "re-seed old disks, not for new ones (use aes-xts)",
		    j->keyfile, j->cg.params.algorithm);
		return lp_fail(j, j->lout.image);
	}
	return j->mode == LP_REBUILD ? open_old_crypt(j) : 0;
}

int
lp_stage_ffs_root(const struct ffsimg *fi, struct stage *st,
    struct lp_out *out, struct copy_stats *cs)
{
	sr_logfn *fn;
	void *ctx;
	int rv;

	/* Its messages name the image read. */
	sr_getlog(&fn, &ctx);
	sr_setlog(lp_log, out);
	rv = stage_open(st) == -1 || ffs_extract(fi, local_copy,
	    local_secrets, st->fd, &st->copied, cs) == -1 ? -1 : 0;
	sr_setlog(fn, ctx);
	return rv;
}

/*
 * The root: read-only, and all edits decided from it.  An FFS root this
 * run cannot mount is read with libtsk: as it is for an image written
 * here (LP_BUILD, LP_REBUILD); into a stage of its own, given the root's
 * owners, to fill a tree in place, and for an upgrade, once.
 */
int
lp_open_root(struct lp_job *j)
{
	bool build = j->op == LP_PROVISION && (j->mode == LP_BUILD ||
	    j->mode == LP_REBUILD);

	if (j->rffs && build) {
		j->lp.root_fstype = "ffs";
		j->rpath = NULL;
		return 0;
	}
	if (j->rffs) {
		struct stage *st = &j->rstage;

		if (lp_stage_ffs_root(&j->rfi, st, &j->lout, &j->cs) == -1 ||
		    (j->op == LP_PROVISION && geteuid() == 0 &&
		    spec_apply(&st->copied, st->fd) == -1))
			return lp_fail(j, j->rout.image);
		j->planfd = st->fd;
		j->lp.rootspec = &st->copied;
		j->lp.root_fstype = "ffs";
		j->rpath = st->tree;
		return 0;
	}
	/* A worker's root was attached once, by its parent. */
	if (!j->roots_lent && attach_open(&j->ra) == -1)
		return lp_fail(j, j->rout.image);
	j->planfd = j->ra.rootfd;
	j->lp.root_fstype = netbsd_fstype(j->ra.isdir ? NULL : j->ra.fstype);
	if ((j->rpath = root_path(&j->ra, j->rbuf)) == NULL)
		return lp_fail(j, j->rout.image);
	return 0;
}

/*
 * The root as a tree to read, for the checks on it: the image itself
 * where it is read with libtsk (a stage holds only etc, tmp and var).
 */
static struct tree *
root_tree(const struct lp_job *j)
{
	return j->rffs ? tree_ffs(&j->rfi) : tree_dir(j->planfd,
	    j->rout.image, TREE_RDONLY);
}

/*
 * A stage's owners and modes are its spec's (lp.rootspec): read through
 * the tree that answers with them (only read: the plan is applied
 * later).  An FFS root read as it is answers with its own.
 */
int
lp_plan_local(struct lp_job *j)
{
	struct tree *t;

	if (j->rffs && j->ra.rootfd == -1)
		t = tree_ffs(&j->rfi);
	else if (j->lp.rootspec != NULL)
		t = tree_recording(tree_dir(j->planfd, j->rout.image, 0),
		    j->lp.rootspec);
	else
		t = tree_dir(j->planfd, j->rout.image, TREE_RDONLY);
	if (t == NULL || localprep_plan(t, &j->lp, &j->plan) == -1) {
		tree_close(t);
		return lp_fail(j, j->rout.image);
	}
	tree_close(t);
	return 0;
}

/*
 * Arguments the wrong way round: a guest's local disk given as the root.
 * It has the marks setup-local leaves (etc/rc.conf.d/root remounting
 * /local) and no system: no kernel, no bin.
 */
int
lp_check_not_local(struct lp_job *j)
{
	struct sbuf b = { 0 };
	struct tree *t;
	bool marked, system;

	if ((t = root_tree(j)) == NULL)
		return lp_fail(j, j->rout.image);
	marked = tree_read(t, "etc/rc.conf.d/root", 65536, &b) == 0 &&
	    b.s != NULL && strstr(b.s, "sharedroot_local_rw");
	sbuf_free(&b);
	system = !marked || tree_exists(t, "netbsd") == 0 ||
	    tree_exists(t, "bin") == 0;
	tree_close(t);
	if (system)
		return 0;
	sr_seterr("a guest's local disk (setup-local made it), not a shared "
	    "root: the root comes first, then the local");
	sr_sethint(SR_HINT_ARGORDER);
	return lp_fail(j, j->rout.image);
}

/* The local, unless it is built or only imagined (dry, a new one). */
static int
open_local(struct lp_job *j)
{
	struct attach *la = &j->la;

	if (j->mode == LP_REBUILD) {
		struct tree *t = tree_ffs(&j->lfi);
		int e = t == NULL ? -1 : tree_exists(t, "etc");

		tree_close(t);
		if (e == -1 || localprep_provisioned(e == 0, &j->lp) == -1)
			return lp_fail(j, j->lout.image);
	}
	if (j->mode == LP_CREATE && !j->dryrun) {
		if ((j->newimgfd = image_create(j->local, (off_t)j->size,
		    la->backend, j->newimg, sizeof(j->newimg))) == -1)
			return lp_fail(j, j->lout.image);
		la->path = j->newimg;
		la->format = true;
	}
	if (j->mode == LP_UPDATE || (j->mode == LP_CREATE && !j->dryrun)) {
		/* Read-only until we know it is ours to fill. */
		la->ro_first = true;
		if (attach_open(la) == -1 ||
		    localprep_check(la->rootfd, &j->lp) == -1)
			return lp_fail(j, j->lout.image);
		if (!la->isdir && la->fstype[0] != '\0' &&
		    strcmp(netbsd_fstype(la->fstype), "ffs") != 0)
			lp_log(&j->lout, SR_WARN, "holds %s: a guest's "
			    "rc.pre-hooks mounts its local disk as ffs, so it "
			    "cannot boot from this one; make a new image",
			    la->fstype);
	}
	/* makefs writes FFS; a directory is taken to be FFS too. */
	j->lp.local_fstype = netbsd_fstype(la->rootfd == -1 || la->isdir ?
	    NULL : la->fstype);
	return 0;
}

/*
 * NetBSD 4.x's stock XEN3_DOMU kernel has no cgd(4): its guests would
 * get no swap.  Say so where the root's kernel plainly lacks the driver
 * (an uncompressed ELF kernel without the name); else say nothing.
 */
static void
check_kernel_cgd(struct lp_job *j)
{
	static const char elf[] = "\177ELF", cgd[] = "cgd";
	struct tree *t;
	int has_elf = -1, has_cgd = -1;

	if (j->lp.cipher != NULL && strcmp(j->lp.cipher, "none") == 0)
		return;
	if ((t = root_tree(j)) != NULL &&
	    (has_elf = tree_has(t, "netbsd", elf, 4)) == 0 && nb_shape(t) == 4)
		has_cgd = tree_has(t, "netbsd", cgd, sizeof(cgd));
	tree_close(t);
	if (has_elf == 0 && has_cgd == 1)
		lp_warn_hint(&j->lout, SR_HINT_NOCIPHER, "%s: netbsd: the "
		    "root's kernel has no cgd driver (as the stock 4.x "
		    "XEN3_DOMU): the guest gets no swap; build a kernel with "
		    "cgd, or", j->rout.image);
}

/*
 * The identity setup-root recorded in the root must be the root's as it
 * is: a root changed since would stop every guest seeded from it at
 * boot, as seeded from another root.  A root without one: a new guest
 * is only warned (see plan_rc); guests moved to it are refused.
 */
int
lp_check_root_id(struct lp_job *j)
{
	const char *id = localprep_root_id(&j->plan);
	struct sbuf rec = { 0 };
	struct tree *t;
	int has, err;

	if (id == NULL)
		return 0;
	if ((t = root_tree(j)) == NULL)
		return lp_fail(j, j->rout.image);
	has = tree_read(t, ID_ROOT, 4096, &rec);
	err = errno;
	tree_close(t);
	if (has == -1 && err != ENOENT)
		return lp_fail(j, j->rout.image);
	if (has == -1) {
		if (j->op != LP_UPGRADE)
			return 0;
		sr_seterr("%s: not prepared by setup-root (no identity): run "
		    "setup-root on it before moving guests to it", ID_ROOT);
		return lp_fail(j, j->rout.image);
	}
	has = rec.len == ID_HEXLEN + 1 && memcmp(rec.s, id, ID_HEXLEN) == 0;
	sbuf_free(&rec);
	if (has)
		return 0;
	sr_seterr("%s: the root changed after setup-root recorded it (now "
	    "%.12s): guests seeded from it would not boot; run setup-root on "
	    "it again", ID_ROOT, id);
	return lp_fail(j, j->rout.image);
}

/* A dry run's copy, its list of secrets left out said through out. */
static int
copy_secrets(const struct copy_opts *co, struct lp_out *out,
    struct copy_stats *cs)
{
	sr_logfn *fn;
	void *ctx;
	int rv;

	sr_getlog(&fn, &ctx);
	sr_setlog(lp_log, out);
	rv = copy_trees(co, cs);
	sr_setlog(fn, ctx);
	return rv;
}

/* A dry run: what would be copied, left out and changed. */
static int
show_plan(struct lp_job *j)
{
	struct lp_out sout = { j, j->lout.image, true };
	struct copy_opts co = { .srcpath = j->rpath, .dstfd = -1,
	    .tops = local_copy, .exclude = local_secrets, .dryrun = true };
	struct sbuf desc = { 0 }, head = { 0 };

	if (j->mode == LP_BUILD)
		lp_log(&j->lout, SR_INFO, "would be built (FFSv%d, %s)",
		    j->ffsversion ? j->ffsversion : 1, j->size ?
		    "of the size given" : "sized to its content");
	else if (j->mode == LP_REBUILD)
		lp_log(&j->lout, SR_INFO, "would be rebuilt like itself "
		    "(FFSv%d, %jd bytes)%s and replace the image",
		    j->lfi.version, (intmax_t)j->lfi.len, j->crypt ?
		    ", encrypted again" : "");
	else if (j->mode == LP_CREATE)
		lp_log(&j->lout, SR_INFO, "would be created: %ju bytes, %s",
		    (uintmax_t)j->size, j->keyfile != NULL && !j->sparse ?
		    "every sector written through cgd" : "sparse");
	if ((j->rpath != NULL && copy_secrets(&co, &sout, &j->cs) == -1) ||
	    plan_describe(&j->plan, &desc) == -1 ||
	    sbuf_printf(&head, "copy etc, tmp, var: %ju entries from %s\n",
	    j->cs.entries, j->rout.image) == -1) {
		sbuf_free(&desc);
		sbuf_free(&head);
		return lp_fail(j, j->lout.image);
	}
	/* Quiet: the exit status says whether the run would succeed. */
	if (j->verbose >= 0) {
		lp_text(j, head.s, head.len);
		lp_text(j, desc.s, desc.len);
	}
	sbuf_free(&desc);
	sbuf_free(&head);
	return 0;
}

/* Make the local as decided. */
static int
make_local(struct lp_job *j)
{
	switch (j->mode) {
	case LP_BUILD:
	case LP_REBUILD: {
		/* Encrypted: through the key as it is laid out. */
		struct tree *root = root_tree(j);
		int rv = root == NULL ? -1 : lp_write_local(j, root, &j->plan);

		tree_close(root);
		return rv == -1 ? lp_fail(j, j->lout.image) : 0;
	}
	case LP_UPDATE:
	case LP_CREATE:
		if (attach_remount_rw(&j->la) == -1 ||
		    localprep_apply(j->rpath, j->la.rootfd, &j->lp, &j->plan,
		    &j->cs) == -1)
			return lp_fail(j, j->lout.image);
		return 0;
	}
	return 0;
}

/*
 * Checked, opened and planned: everything before the local is made.  A
 * fleet's worker (several guests provisioned) has its locks, the root's
 * checks and (unless read with libtsk) the root from its parent.
 */
static int
prepare(struct lp_job *j)
{
	bool mine = !j->in_fleet;

	if (mine && (lp_lock(j, j->root, false, &j->rout) == -1 ||
	    lp_lock(j, j->local, !j->dryrun, &j->lout) == -1))
		return -1;
	if (mine)
		attach_init(&j->ra, j->root, true);
	attach_init(&j->la, j->local, j->dryrun);
	j->la.keyfile = j->keyfile;
	j->la.sparse = j->sparse;
	j->cg.sparse = j->sparse;
	if (lp_check_opts(j) == -1 || (mine && lp_check_root(j) == -1) ||
	    lp_check_local(j) == -1 || lp_open_crypt(j) == -1 ||
	    lp_open_root(j) == -1 || (mine && lp_check_not_local(j) == -1) ||
	    open_local(j) == -1 || (mine ? lp_plan_local(j) :
	    lp_fleet_plan(j)) == -1 || lp_check_root_id(j) == -1)
		return -1;
	check_kernel_cgd(j);
	return 0;
}

int
lp_provision(struct lp_job *j)
{
	static const char *const made[] = { "provisioned", "provisioned",
	    "built", "rebuilt" };

	j->rout.image = j->root;
	j->lout.image = j->local;
	if (prepare(j) == -1 || (j->dryrun ? show_plan(j) : make_local(j)) ==
	    -1)
		return -1;
	if (lp_job_teardown(j, false) == -1)
		return lp_fail(j, j->lout.image);
	if (j->mode == LP_CREATE && !j->dryrun &&
	    rename(j->newimg, j->local) == -1) {
		sr_seterrno("create: rename into place");
		return lp_fail(j, j->lout.image);
	}
	j->newimg[0] = '\0';
	if (j->newimgfd != -1) {
		close(j->newimgfd);
		j->newimgfd = -1;
	}
	if (j->cg.created)
		lp_log(&j->lout, SR_INFO, "%s: made: aes-xts, a new 512-bit "
		    "stored key, mode 0600; keep it, the disk cannot be read "
		    "without it", j->keyfile);
	if (j->dryrun)
		lp_log(&j->lout, SR_INFO, "dry run: nothing written");
	else
		lp_log(&j->lout, SR_INFO, "%s from %s%s: %ju entries, %zu "
		    "changes%s", made[j->mode], j->rout.image,
		    j->mode == LP_BUILD || j->mode == LP_REBUILD ? j->crypt ?
		    ", encrypted" : "" : "",
		    j->cs.entries, j->plan.n, j->cs.warnings ?
		    " (with warnings)" : "");
	return 0;
}

int
lp_run(struct lp_job *j)
{
	sr_logfn *fn;
	void *ctx;
	int rv;

	/* lib's messages during the run go to the sink (a fleet's workers
	 * inherit it), naming the local. */
	sr_getlog(&fn, &ctx);
	sr_setlog(lp_log, &j->lout);
	/* What killed runs left. */
	scratch_purge();
	switch (j->op) {
	case LP_PROVISION:
		rv = j->nlocals > 1 ? lp_fleet(j) : lp_provision(j);
		break;
	case LP_UPGRADE:
	case LP_ROLLBACK:
	default:
		rv = lp_fleet(j);
		break;
	}
	if (rv == -1)
		(void)lp_job_teardown(j, true);
	/* The locks are the run's. */
	sr_unlock_all();
	sr_setlog(fn, ctx);
	return rv;
}
