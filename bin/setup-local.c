/*
 * setup-local: make a Xen guest's local disk (its etc, tmp and var) from
 * the shared NetBSD root.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "image/attach.h"
#include "cgd/cgdimage.h"
#include "base/compat.h"
#include "image/ffsread.h"
#include "guest/identity.h"
#include "guest/localprep.h"
#include "tree/lock.h"
#include "tree/scratch.h"
#include "tool.h"
#include "tree/dir.h"
#include "guest/upgrade.h"

#ifndef SHAREDIR
#define SHAREDIR "/usr/local/share/sharedroot"
#endif

#define MINSIZE	(4ULL << 20)
#define MAXSIZE	(16ULL << 40)

/* The root, the local, and with -b the root a local was seeded from. */
static struct attach ra, la, ba;
static struct attach *ats[3] = { &ra, &la, &ba };
#define NATS	3
static char newimg[PATH_MAX];
static int newimgfd = -1;	/* holds newimg as ours (scratch_file()) */
/* The stage a build fills, and one an FFS root is read into otherwise. */
static struct stage stage = { .fd = -1 }, rstage = { .fd = -1 };
/* -b: an FFS root read into a stage of its own. */
static struct stage bstage = { .fd = -1 };
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

	tool_errmsg(msg, sizeof(msg));
	if (newimg[0] != '\0') {
		(void)attach_teardown(&la);
		unlink(newimg);
	}
	if (newimgfd != -1)
		close(newimgfd);
	/* A stage's fd may stand in for the root's: drop it first. */
	if (ra.rootfd == stage.fd || ra.rootfd == rstage.fd)
		ra.rootfd = -1;
	if (ba.rootfd == bstage.fd)
		ba.rootfd = -1;
	(void)stage_close(&stage);
	(void)stage_close(&rstage);
	(void)stage_close(&bstage);
	cgdimg_abandon(&cg);
	sr_seterr("%s", msg);
	tool_fail(image, ats, NATS);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s [-fnqvz] [-c keyfile] [-h hostname] "
	    "[-K passfile] [-P pkg-device|none]\n"
	    "       [-p partition] [-S cipher|none] [-s size] "
	    "[-T templates-dir] root local\n"
	    "       %s -u [-fnqvz] [-b old-root] [-c keyfile] [-h hostname] "
	    "[-K passfile]\n"
	    "       [-P pkg-device|none] "
	    "[-p partition] [-S cipher|none] [-T templates-dir]\n"
	    "       root local ...\n"
	    "       %s -R [-nqvz] [-c keyfile] [-K passfile] local ...\n",
	    getprogname(), getprogname(), getprogname());
	exit(1);
}

/*
 * Lock a target for the whole run (lock.h): the local to change it (or
 * to read it, -n), a root to read it.  Refused, the run stops before
 * anything, naming the target and the run that holds it.
 */
static int
lock_target(const char *path, bool excl, struct toolout *out, bool mayfail)
{
	int l = sr_lock(path, excl);

	if (l == -1 && !mayfail)
		tool_fail(out->image, ats, 0);
	if (l == 1)
		tool_log(out, SR_VERBOSE, "read unlocked: no lock file can be "
		    "made beside it");
	return l == -1 ? -1 : 0;
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
	const char *baseroot;		/* -b */
	int	 bfd;			/* its tree */
	struct spec *bspec;		/* its owners, if staged */
	struct upgrade_root newroot;	/* -u: what was read of the root */
	struct stat lst;	/* an existing local image */
	struct stat rst;	/* the root, if it exists */
	bool	 crypt;		/* -c: cgd done here, on the plaintext */
	bool	 dryrun;
	bool	 rffs;		/* the root is read with libtsk */
	bool	 upgrade, rollback;	/* -u, -R */
	bool	 sparse;	/* -z: free sectors of an encrypted image holes */
	char	 membase[PATH_MAX];	/* -c: where plaintext may go */
};

static void check_local(struct run *);

/*
 * Each mode takes the options its usage() line shows: one it would
 * ignore is refused, so that nothing asked for is silently not done.
 */
static void
check_mode_opts(const struct run *r, const char *seen)
{
	static const char all[] = "bcfhKnPpqSsTvz";
	const char *takes = r->rollback ? "cKnqvz" : r->upgrade ?
	    "bcfhKnPpqSTvz" : "cfhKnPpqSsTvz";
	const char *p;

	for (p = all; *p != '\0'; p++) {
		if (!seen[(unsigned char)*p] || strchr(takes, *p) != NULL)
			continue;
		if (r->rollback || r->upgrade)
			errx(1, "-%c: not used with -%c", *p,
			    r->rollback ? 'R' : 'u');
		errx(1, "-%c: only with -u", *p);
	}
}

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

/* Check the options that end up in the guest's files. */
static void
check_opts(struct run *r)
{
	if ((r->lp.hostname != NULL && hostname_ok(r->lp.hostname) == -1) ||
	    (r->lp.pkgdev != NULL && pkgdev_ok(r->lp.pkgdev) == -1) ||
	    (r->lp.cipher != NULL && cipher_ok(r->lp.cipher) == -1) ||
	    (r->keyfile != NULL && access(r->keyfile, F_OK) == 0 &&
	    keyfile_check(r->keyfile) == -1))
		tool_fail(r->lout.image, ats, 0);
}

/* The root: a tree, an image to mount, or FFS to read with libtsk. */
static void
check_root(struct run *r)
{
	memset(&r->rst, 0, sizeof(r->rst));
	if (stat(r->root, &r->rst) == -1)
		memset(&r->rst, 0, sizeof(r->rst));
	else if (S_ISREG(r->rst.st_mode)) {
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
}

/* Check the arguments and decide how the local is made, before anything. */
static void
check_args(struct run *r)
{
	check_opts(r);
	check_root(r);
	check_local(r);
}

/* How the local is made or changed. */
static void
check_local(struct run *r)
{
	struct stat st, rst = r->rst;

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
			if (!r->dryrun && (ffsimg_writable(&img) == -1 ||
			    attach_in_use(r->local) == -1))
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
		/* A rebuild replaces the file: not under a running guest. */
		if (r->mode == LP_REBUILD && (ffsimg_rebuildable(&r->lfi) ==
		    -1 || (!r->dryrun && (ffsimg_writable(&r->lfi) == -1 ||
		    attach_in_use(r->local) == -1))))
			tool_fail(r->lout.image, ats, 0);
		check_keyfile(r, S_ISDIR(st.st_mode));
		return;
	}
	if (errno != ENOENT || r->upgrade || r->rollback) {
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
 * What the guest's local trees staged from a directory root take; an
 * image root is not measured before it is read.
 */
static uint64_t
root_trees(const struct run *r)
{
	uint64_t n = 0;
	int fd;

	if (r->upgrade || r->rollback || r->rst.st_ino == 0 ||
	    !S_ISDIR(r->rst.st_mode) || (fd = open(r->root, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;
	(void)scratch_du(fd, local_copy, &n);
	close(fd);
	return n;
}

/*
 * Nothing of an encrypted guest's plaintext may reach a disk: its
 * decrypted image, the stages and what makefs writes all go to a
 * private directory on a memory file system with room for them
 * (scratch_memory()), or the run is refused before anything is read.
 * Before decrypting: the plaintext image (its allocated size: holes of
 * the ciphertext stay holes), the image makefs writes (every byte of it)
 * and the root's trees; once decrypted, what its file system holds.
 */
static void
crypt_room(struct run *r, bool decrypted)
{
	static uint64_t out, tree;
	uint64_t need;

	if (!decrypted) {
		uint64_t plain = 0;

		tree = root_trees(r);
		if (r->mode == LP_REBUILD) {
			plain = (uint64_t)r->lst.st_blocks * 512;
			if (plain > (uint64_t)r->lst.st_size)
				plain = (uint64_t)r->lst.st_size;
			out = r->dryrun ? 0 : (uint64_t)r->lst.st_size;
		} else
			out = r->size ? r->size : tree * 2 > (64 << 20) ?
			    tree * 2 : 64 << 20;
		if (scratch_memory(plain + out + tree, "the guest's plaintext",
		    r->membase, sizeof(r->membase)) == -1)
			fail(r->lout.image);
		/* Every stage of this process holds plaintext now. */
		stage_memory(r->membase);
		tool_log(&r->lout, SR_VERBOSE, "plaintext kept in memory, in "
		    "%s", r->membase);
		return;
	}
	{
		uint8_t *map;
		size_t n, fsize, i, nfree = 0;

		if (ffs_free_map(&r->lfi, &map, &n, &fsize) == -1)
			fail(r->lout.image);
		for (i = 0; i < n; i++)
			nfree += (map[i / 8] >> (i % 8)) & 1;
		free(map);
		need = (uint64_t)(n - nfree) * fsize + out + tree;
	}
	if (scratch_room(r->membase, need, "the guest's trees") == -1)
		fail(r->lout.image);
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
	crypt_room(r, false);
	/* A key is made only for a new disk: an old one has its own. */
	if (cgdimg_open(&cg, r->keyfile, r->passfile, !r->dryrun &&
	    r->mode == LP_BUILD) == -1 || cgdimg_private(&cg,
	    r->membase) == -1)
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
	crypt_room(r, true);
	tool_log(&r->lout, SR_VERBOSE, "decrypted (%s, %zu-bit key) into a "
	    "private directory", cg.params.algorithm, cg.params.keylen);
}

/* A root's etc, tmp and var read with libtsk into a stage of its own. */
static int
stage_ffs_root(const struct ffsimg *fi, struct stage *st, struct toolout *out,
    struct copy_stats *cs)
{
	return stage_open(st) == -1 || ffs_extract(fi, local_copy,
	    local_secrets, st->fd, &st->copied, tool_log, out, cs) == -1 ?
	    -1 : 0;
}

/*
 * The root: read-only, and all edits decided from it.  An FFS root this
 * run cannot mount is read with libtsk into a stage: the build's own, or
 * (to fill a tree in place) one of its own, given the root's owners.
 */
static void
open_root(struct run *r)
{
	/* An upgrade reads the root from a stage of its own, once. */
	bool build = !r->upgrade && (r->mode == LP_BUILD ||
	    r->mode == LP_REBUILD);

	if (r->rffs) {
		struct stage *st = build ? &stage : &rstage;

		if (stage_ffs_root(&r->rfi, st, &r->lout, &r->cs) == -1 ||
		    (!build && !r->upgrade && geteuid() == 0 &&
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
 * The root as a tree to read, for the checks on it: the image itself
 * where it is read with libtsk (a stage holds only etc, tmp and var).
 */
static struct tree *
root_tree(const struct run *r)
{
	return r->rffs ? tree_ffs(&r->rfi) : tree_dir(ra.rootfd,
	    r->rout.image, TREE_RDONLY);
}

/*
 * Every edit, decided from the root's texts as this run holds them (a
 * stage where libtsk read the image: lp.rootspec has its owners).
 */
static void
plan_local(struct run *r)
{
	struct tree *t;

	/*
	 * A stage's owners and modes are its spec's: read through the tree
	 * that answers with them (only read: the plan is applied later).
	 */
	if (r->lp.rootspec != NULL)
		t = tree_recording(tree_dir(ra.rootfd, r->rout.image, 0),
		    r->lp.rootspec);
	else
		t = tree_dir(ra.rootfd, r->rout.image, TREE_RDONLY);
	if (t == NULL || localprep_plan(t, &r->lp, &r->plan) == -1)
		fail(r->rout.image);
	tree_close(t);
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
	struct tree *t;
	bool marked, system;

	if ((t = root_tree(r)) == NULL)
		fail(r->rout.image);
	marked = tree_read(t, "etc/rc.conf.d/root", 65536, &b) == 0 &&
	    b.s != NULL && strstr(b.s, "sharedroot_local_rw");
	sbuf_free(&b);
	system = !marked || tree_exists(t, "netbsd") == 0 ||
	    tree_exists(t, "bin") == 0;
	tree_close(t);
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
		struct tree *t = tree_ffs(&r->lfi);
		int e = t == NULL ? -1 : tree_exists(t, "etc");

		tree_close(t);
		if (e == -1 || localprep_provisioned(e == 0, &r->lp) == -1)
			fail(r->lout.image);
	}
	if (r->mode == LP_CREATE && !r->dryrun) {
		if ((newimgfd = image_create(r->local, (off_t)r->size,
		    la.backend, newimg, sizeof(newimg))) == -1)
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
	struct tree *t;
	int has_elf = -1, has_cgd = -1;

	if (r->lp.cipher != NULL && strcmp(r->lp.cipher, "none") == 0)
		return;
	if ((t = root_tree(r)) != NULL &&
	    (has_elf = tree_has(t, "netbsd", elf, 4)) == 0 && nb_shape(t) == 4)
		has_cgd = tree_has(t, "netbsd", cgd, sizeof(cgd));
	tree_close(t);
	if (has_elf == 0 && has_cgd == 1)
		tool_log(&r->lout, SR_WARN, "%s: netbsd: the root's kernel has "
		    "no cgd driver (as the stock 4.x XEN3_DOMU): the guest "
		    "gets no swap; build a kernel with cgd, or -S none",
		    r->rout.image);
}

/*
 * The identity setup-root recorded in the root must be the root's as it
 * is: a root changed since would stop every guest seeded from it at
 * boot, as seeded from another root.
 */
static void
check_root_id(struct run *r, const struct plan *p)
{
	const char *id = localprep_root_id(p);
	struct sbuf rec = { 0 };
	struct tree *t;
	int has, err;

	if (id == NULL)
		return;
	if ((t = root_tree(r)) == NULL)
		fail(r->rout.image);
	has = tree_read(t, ID_ROOT, 4096, &rec);
	err = errno;
	tree_close(t);
	if (has == -1) {
		if (err == ENOENT)
			goto unprepared;
		fail(r->rout.image);
	}
	has = rec.len == ID_HEXLEN + 1 && memcmp(rec.s, id, ID_HEXLEN) == 0 ?
	    0 : 1;
	sbuf_free(&rec);
	if (has == 0)
		return;
	sr_seterr("%s: the root changed after setup-root recorded it (now "
	    "%.12s): guests seeded from it would not boot; run setup-root on "
	    "it again", ID_ROOT, id);
	fail(r->rout.image);
unprepared:
	/* A new guest is only warned (see plan_rc); guests moved are not. */
	if (!r->upgrade)
		return;
	sr_seterr("%s: not prepared by setup-root (no identity): run "
	    "setup-root on it before moving guests to it", ID_ROOT);
	fail(r->rout.image);
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
		    "%s", (uintmax_t)r->size, r->keyfile != NULL &&
		    !r->sparse ? "every sector written through cgd" :
		    "sparse");
	/* List the secrets left out, unless told to be quiet. */
	if (r->lout.verbose == 0)
		r->lout.verbose = 1;
	if ((r->rpath != NULL && copy_trees(&co, &r->cs) == -1) ||
	    plan_describe(&r->plan, &desc) == -1)
		fail(r->lout.image);
	/* -q: the exit status says whether the run would succeed. */
	if (r->lout.verbose >= 0) {
		printf("copy etc, tmp, var: %ju entries from %s\n",
		    r->cs.entries, r->rout.image);
		tool_putlines(stdout, desc.s, desc.len);
	}
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

/* Upgrades and rollbacks ------------------------------------------------- */

/* What a guest's run tells the fleet's table, through a pipe. */
struct row {
	size_t	 taken, kept, merged, conflicts, added;
	int	 result;		/* ROW_* */
	bool	 forward;		/* -R to the newer root */
};
enum { ROW_FAILED, ROW_DONE, ROW_CURRENT, ROW_CONFLICTS, ROW_PLANNED,
    ROW_NOTRUN };
static const char *const results[] = { "failed", "upgraded", "current",
    "conflicts", "planned", "not run" };

/* The guest's own trees, as they are: etc, tmp, var and the record. */
static int
open_mine(struct run *r, int *fd, struct spec **spec)
{
	static const char *const tops[] = { "etc", "tmp", "var", ID_DIR,
	    NULL };
	const char *have[5];
	size_t i, n = 0;

	if (r->mode == LP_REBUILD) {
		struct tree *t = tree_ffs(&r->lfi);

		for (i = 0; t != NULL && tops[i] != NULL; i++) {
			int e = tree_exists(t, tops[i]);

			if (e == -1)
				break;
			if (e == 0)
				have[n++] = tops[i];
		}
		have[n] = NULL;
		if (t == NULL || tops[i] != NULL) {
			tree_close(t);
			return -1;
		}
		tree_close(t);
		if (stage_open(&stage) == -1 || ffs_extract(&r->lfi, have,
		    NULL, stage.fd, &stage.copied, tool_log, &r->lout,
		    &r->cs) == -1)
			return -1;
		*fd = stage.fd;
		*spec = &stage.copied;
		return 0;
	}
	la.ro_first = true;
	if (attach_open(&la) == -1)
		return -1;
	*fd = la.rootfd;
	*spec = NULL;
	return 0;
}

/* Apply the plan to the guest's local, as its kind allows. */
static void
apply_mine(struct run *r, const struct plan *u)
{
	if (r->mode == LP_REBUILD) {
		if (localprep_build(NULL, &stage, r->crypt ? cg.plain :
		    r->local, 0, &r->lfi, &r->lp, u, &r->cs) == -1 ||
		    (r->crypt && cgdimg_encrypt(&cg, r->local, &r->lst) == -1))
			fail(r->lout.image);
		return;
	}
	{
		char buf[PATH_MAX];
		const char *path = root_path(&la, buf);

		if (path == NULL || attach_remount_rw(&la) == -1 ||
		    localprep_apply_copy(path, la.rootfd, &r->lp, u,
		    &r->cs) == -1)
			fail(r->lout.image);
	}
}

/* A warning for each line of text. */
static void
warn_lines(struct run *r, const char *prefix, const char *text)
{
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');

		tool_log(&r->lout, SR_WARN, "%s%.*s", prefix,
		    (int)(nl ? nl - p : (long)strlen(p)), p);
		p = nl ? nl + 1 : "";
	}
}

/* One guest, in a process of its own: its row goes to fd. */
static int
upgrade_guest(struct run *r, int rowfd)
{
	struct upgrade_report rep;
	struct plan u = { 0 };
	struct row row = { .result = ROW_FAILED };
	struct spec *minespec;
	struct tree *mine;
	int minefd;

	memset(&rep, 0, sizeof(rep));
	attach_init(&la, r->local, r->dryrun);
	la.keyfile = r->keyfile;
	la.sparse = r->sparse;
	check_local(r);
	open_crypt(r);
	if (open_mine(r, &minefd, &minespec) == -1)
		fail(r->lout.image);
	if (r->rollback) {
		if (rollback_plan(minefd, minespec, &u, &rep) == -1)
			fail(r->lout.image);
	} else {
		const struct upgrade up = { ra.rootfd, &r->newroot, minefd,
		    minespec, &r->lp, r->bfd, r->bspec };

		if (upgrade_plan(&up, &u, &rep) == -1)
			fail(r->lout.image);
	}
	/* A swapped pkg.img would leave a database in var stale. */
	if ((mine = tree_dir(minefd, r->lout.image, TREE_RDONLY)) == NULL)
		fail(r->lout.image);
	if (!rep.current && pkgdb_in_var(mine))
		tool_log(&r->lout, SR_WARN, "var/db/pkg: the guest keeps a "
		    "package database in var: a shared pkg.img needs it on "
		    "pkg.img (PKG_DBDIR=/usr/pkg/pkgdb)");
	tree_close(mine);
	row.taken = rep.taken;
	row.kept = rep.kept;
	row.merged = rep.merged;
	row.conflicts = rep.conflicts;
	row.added = rep.added;
	row.forward = rep.forward;
	if (rep.current) {
		tool_log(&r->lout, SR_INFO, "already seeded from root %.12s: "
		    "nothing to do", rep.newid);
		row.result = ROW_CURRENT;
	} else if (r->dryrun) {
		struct sbuf desc = { 0 };
		int fits = 0;

		if (plan_describe(&u, &desc) == -1)
			fail(r->lout.image);
		if (r->lout.verbose >= 0) {
			tool_putlines(stdout, rep.list.s, rep.list.len);
			tool_putlines(stdout, desc.s, desc.len);
		}
		sbuf_free(&desc);
		/* A rebuilt image must hold the new tree, as makefs counts. */
		if (r->mode == LP_REBUILD &&
		    (fits = localprep_fits(&stage, &r->lfi, &u)) == -1)
			fail(r->lout.image);
		if (fits == 1)
			tool_log(&r->lout, SR_WARN, "%s", sr_errmsg());
		/* Conflicts fail a dry run as they would the run. */
		row.result = fits == 1 ? ROW_FAILED : rep.conflicts ?
		    ROW_CONFLICTS : ROW_PLANNED;
	} else {
		if (r->lout.verbose > 0)
			tool_putlines(stdout, rep.list.s, rep.list.len);
		apply_mine(r, &u);
		row.result = rep.conflicts ? ROW_CONFLICTS : ROW_DONE;
	}
	if (stage_close(&stage) == -1 || cgdimg_close(&cg) == -1 ||
	    tool_finish(ats, NATS) == -1)
		fail(r->lout.image);
	if (!rep.current)
		tool_log(&r->lout, SR_INFO, "%s from root %.12s to %.12s: %zu "
		    "taken, %zu kept, %zu merged, %zu conflicts, %zu added "
		    "in var", r->dryrun ? "would go" : !r->rollback ?
		    "upgraded" : rep.forward ? "rolled forward" :
		    "rolled back", rep.oldid, rep.newid,
		    rep.taken, rep.kept, rep.merged, rep.conflicts, rep.added);
	warn_lines(r, "", rep.rebuild.s);
	warn_lines(r, "conflict: ", rep.conflicted.s);
	if (write(rowfd, &row, sizeof(row)) != (ssize_t)sizeof(row))
		return 1;
	plan_free(&u);
	upgrade_report_free(&rep);
	return row.result == ROW_CONFLICTS && !r->lp.force ? 1 : 0;
}

/*
 * -b: the root a local without a record was seeded from, read as the
 * root is (a tree, an image to mount, or FFS through libtsk).
 */
static void
open_base(struct run *r)
{
	struct ffsimg bfi;
	struct stat st;
	int p = 1;

	r->bfd = -1;
	if (r->baseroot == NULL)
		return;
	/* The root is open: failing here, undo it too (fail()). */
	if (stat(r->baseroot, &st) == 0 && S_ISREG(st.st_mode) &&
	    !mounts_ffs() && (p = ffsimg_probe(r->baseroot, -1, &bfi)) ==
	    -1) {
		sr_prefixerr("-b");
		fail(r->baseroot);
	}
	if (p == 0) {
		struct copy_stats cs = { 0 };

		if (stage_ffs_root(&bfi, &bstage, &r->rout, &cs) == -1) {
			sr_prefixerr("-b");
			fail(r->baseroot);
		}
		r->bfd = bstage.fd;
		r->bspec = &bstage.copied;
		return;
	}
	attach_init(&ba, r->baseroot, true);
	if (attach_open(&ba) == -1) {
		sr_prefixerr("-b");
		fail(r->baseroot);
	}
	r->bfd = ba.rootfd;
	r->bspec = NULL;
}

/* A guest named twice would be changed by two runs at once. */
static void
check_distinct(struct run *r, int n, char **locals)
{
	struct stat *st;
	int i, j;

	if ((st = calloc((size_t)n, sizeof(*st))) == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++) {
		if (stat(locals[i], &st[i]) == -1)
			continue;
		for (j = 0; j < i; j++)
			if (st[j].st_ino != 0 && st[j].st_ino == st[i].st_ino &&
			    st[j].st_dev == st[i].st_dev) {
				sr_seterr("named twice (as %s)", locals[j]);
				r->lout.image = locals[i];
				free(st);
				fail(locals[i]);
			}
	}
	free(st);
}

/* The fleet's table: a row a guest, names whole (and vis-encoded). */
static void
print_table(const struct run *r, int n, char **locals, const struct row *rows)
{
	char **names;
	int i, w = 24;

	if ((names = calloc((size_t)n, sizeof(*names))) == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++) {
		if (stravis(&names[i], locals[i], VIS_WHITE | VIS_OCTAL) == -1)
			err(1, "stravis");
		if ((int)strlen(names[i]) > w)
			w = (int)strlen(names[i]);
	}
	printf("%-*s %6s %6s %6s %9s %6s  %s\n", w, "guest", "taken", "kept",
	    "merged", "conflicts", "added", "result");
	for (i = 0; i < n; i++) {
		const char *res = rows[i].result != ROW_DONE ||
		    !r->rollback ? results[rows[i].result] :
		    rows[i].forward ? "rolled forward" : "rolled back";

		if (rows[i].result == ROW_FAILED ||
		    rows[i].result == ROW_NOTRUN)
			printf("%-*s %6s %6s %6s %9s %6s  %s\n", w, names[i],
			    "-", "-", "-", "-", "-", res);
		else
			printf("%-*s %6zu %6zu %6zu %9zu %6zu  %s\n", w,
			    names[i], rows[i].taken, rows[i].kept,
			    rows[i].merged, rows[i].conflicts, rows[i].added,
			    res);
		free(names[i]);
	}
	free(names);
}

/*
 * -u and -R over one or many guests: the root read once, each guest in
 * a process of its own (one failure stops no other), then a table.
 */
static int
fleet(struct run *r, int n, char **locals)
{
	struct row *rows;
	pid_t *pids, self = getpid();
	int *rfds, *wfds;
	int i, failed = 0, running, jobs;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool *refused;

	/* As many guests at once as there are processors, up to 4. */
	jobs = cpus < 1 ? 1 : cpus > 4 ? 4 : (int)cpus;
	if ((rows = calloc((size_t)n, sizeof(*rows))) == NULL ||
	    (pids = calloc((size_t)n, sizeof(*pids))) == NULL ||
	    (rfds = calloc((size_t)n, sizeof(*rfds))) == NULL ||
	    (wfds = calloc((size_t)n, sizeof(*wfds))) == NULL ||
	    (refused = calloc((size_t)n, sizeof(*refused))) == NULL)
		err(1, "calloc");
	/*
	 * The roots read and every guest's local are locked here, for the
	 * whole run (its workers die with it): a guest another run holds is
	 * refused, alone.
	 */
	if (r->upgrade)
		(void)lock_target(r->root, false, &r->rout, false);
	if (r->baseroot != NULL) {
		struct toolout bout = r->rout;

		bout.image = r->baseroot;
		(void)lock_target(r->baseroot, false, &bout, false);
	}
	for (i = 0; i < n; i++) {
		struct toolout gout = r->lout;

		gout.image = locals[i];
		wfds[i] = -1;
		if (lock_target(locals[i], !r->dryrun, &gout, true) == -1) {
			fprintf(stderr, "%s: ", getprogname());
			tool_putsafe(stderr, locals[i]);
			fputs(": ", stderr);
			tool_putsafe(stderr, sr_errmsg());
			fputc('\n', stderr);
			refused[i] = true;
		}
	}
	if (r->upgrade) {
		check_root(r);
		open_root(r);
		check_not_local(r);
		/* A guest's local disk is FFS (a directory is taken as it). */
		r->lp.local_fstype = "ffs";
		plan_local(r);
		check_root_id(r, &r->plan);
		if (upgrade_root_load(ra.rootfd, r->lp.rootspec, &r->plan,
		    &r->newroot) == -1)
			fail(r->rout.image);
		open_base(r);
	}
	check_distinct(r, n, locals);
	/* The children write what they say; nothing is left buffered. */
	fflush(stdout);
	running = 0;
	for (i = 0; i < n || running > 0;) {
		int status, k;
		pid_t pid;

		/* Another run's guest is not touched. */
		if (i < n && refused[i]) {
			rows[i++].result = ROW_FAILED;
			continue;
		}
		/* Start guests while there is a processor for each. */
		if (i < n && running < jobs && !sr_interrupted()) {
			int fds[2], wfd[2];

			rows[i].result = ROW_FAILED;
			if (pipe(fds) == -1 || pipe2(wfd, O_CLOEXEC) == -1 ||
			    (pid = fork()) == -1) {
				sr_seterrno("start a guest's run");
				fail(r->rout.image);
			}
			if (pid == 0) {
				close(fds[0]);
				/* Only the parent's end keeps it open. */
				close(wfd[1]);
				for (k = 0; k < i; k++)
					if (wfds[k] != -1)
						close(wfds[k]);
				/* No worker outlives a killed run. */
				if (sr_die_with_parent(self, wfd[0]) == -1)
					_exit(1);
				/* Whole lines, however many guests at once. */
				setvbuf(stderr, NULL, _IOLBF, 0);
				/* The roots and locks are the parent's. */
				ats[0] = ats[2] = NULL;
				rstage.work.dir[0] = bstage.work.dir[0] = '\0';
				sr_lock_forget();
				r->local = locals[i];
				r->lout.image = locals[i];
				_exit(upgrade_guest(r, fds[1]));
			}
			close(fds[1]);
			close(wfd[0]);
			wfds[i] = wfd[1];
			pids[i] = pid;
			rfds[i] = fds[0];
			running++;
			i++;
			continue;
		}
		/* Interrupted: what has not started does not. */
		if (i < n && running == 0) {
			rows[i++].result = ROW_NOTRUN;
			continue;
		}
		if ((pid = waitpid(-1, &status, 0)) == -1) {
			if (errno == EINTR) {
				/* Each guest's run stops as it would alone. */
				for (k = 0; k < n; k++)
					if (pids[k] > 0)
						(void)kill(pids[k],
						    sr_interrupted());
				continue;
			}
			sr_seterrno("wait for a guest's run");
			fail(r->rout.image);
		}
		for (k = 0; k < n && pids[k] != pid; k++)
			;
		if (k == n)
			continue;
		running--;
		pids[k] = 0;
		if (read(rfds[k], &rows[k], sizeof(rows[k])) !=
		    (ssize_t)sizeof(rows[k]))
			rows[k].result = ROW_FAILED;
		close(rfds[k]);
		if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 &&
		    rows[k].result != ROW_CONFLICTS))
			rows[k].result = ROW_FAILED;
	}
	for (i = 0; i < n; i++)
		if (rows[i].result == ROW_FAILED || rows[i].result ==
		    ROW_NOTRUN || (rows[i].result == ROW_CONFLICTS &&
		    !r->lp.force))
			failed++;
	if (ra.rootfd == stage.fd || ra.rootfd == rstage.fd)
		ra.rootfd = -1;
	if (ba.rootfd == bstage.fd)
		ba.rootfd = -1;
	if (stage_close(&rstage) == -1 || stage_close(&bstage) == -1 ||
	    tool_finish(ats, NATS) == -1)
		fail(r->rout.image);
	/* -q: nothing but errors and warnings; the exit status tells. */
	if ((n > 1 || sr_interrupted()) && r->lout.verbose >= 0)
		print_table(r, n, locals, rows);
	for (i = 0; i < n; i++)
		if (wfds[i] != -1)
			close(wfds[i]);
	free(rows);
	free(pids);
	free(rfds);
	free(wfds);
	free(refused);
	upgrade_root_free(&r->newroot);
	if (sr_interrupted()) {
		fprintf(stderr, "%s: interrupted\n", getprogname());
		return 1;
	}
	return failed ? 1 : 0;
}

int
main(int argc, char *argv[])
{
	static struct run r;
	const char *errstr;
	char seen[UCHAR_MAX + 1] = { 0 };	/* each option given */
	int ch;

	setprogname(argv[0]);
	snprintf(r.tmpl, sizeof(r.tmpl), "%s/templates",
	    tool_sharedir(SHAREDIR));
	r.lp.tmpldir = r.tmpl;
	r.lp.pkgdev = "/dev/xbd3a";
	r.lp.log = tool_log;
	r.lp.logctx = &r.lout;
	r.part = -1;
	attach_init(&ba, "", true);
	while ((ch = getopt(argc, argv, "b:c:fh:K:nP:p:qRS:s:T:uvz")) != -1) {
		seen[(unsigned char)ch] = 1;
		switch (ch) {
		case 'b':
			r.baseroot = optarg;
			break;
		case 'R':
			r.rollback = true;
			break;
		case 'u':
			r.upgrade = true;
			break;
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
		case 'z':
			r.sparse = true;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (r.upgrade && r.rollback)
		usage();
	check_mode_opts(&r, seen);
	/* Holes reveal which blocks are used: only asked for, with -c. */
	if (r.sparse && r.keyfile == NULL)
		errx(1, "-z: only with -c (it keeps an encrypted image "
		    "sparse)");
	/* A guest's key and plaintext: never in a core file on a disk. */
	if (r.keyfile != NULL && sr_no_core() == -1)
		err(1, "core dumps");
	if (r.upgrade || r.rollback) {
		if (argc < (r.upgrade ? 2 : 1))
			usage();
		r.rout.image = r.root = r.upgrade ? argv[0] : NULL;
		r.lout.image = argv[r.upgrade ? 1 : 0];
		sr_signals_catch();
		/* What killed runs left; the locks go with this run. */
		scratch_purge();
		atexit(sr_unlock_all);
		attach_init(&ra, r.upgrade ? r.root : "", true);
		/* Each guest's is its own, made in its own process. */
		attach_init(&la, "", true);
		cgdimg_init(&cg);
		cg.sparse = r.sparse;
		check_opts(&r);
		return fleet(&r, argc - (r.upgrade ? 1 : 0),
		    argv + (r.upgrade ? 1 : 0));
	}
	if (argc != 2)
		usage();
	r.rout.image = r.root = argv[0];
	r.lout.image = r.local = argv[1];
	sr_signals_catch();
	scratch_purge();
	atexit(sr_unlock_all);
	(void)lock_target(r.root, false, &r.rout, false);
	(void)lock_target(r.local, !r.dryrun, &r.lout, false);
	attach_init(&ra, r.root, true);
	attach_init(&la, r.local, r.dryrun);
	la.keyfile = r.keyfile;
	la.sparse = r.sparse;
	cgdimg_init(&cg);
	cg.sparse = r.sparse;

	check_args(&r);
	open_crypt(&r);
	open_root(&r);
	check_not_local(&r);
	open_local(&r);
	plan_local(&r);
	check_root_id(&r, &r.plan);
	check_kernel_cgd(&r);
	/* A staged root was only lent for planning. */
	if (ra.rootfd == stage.fd || ra.rootfd == rstage.fd)
		ra.rootfd = -1;
	if (r.dryrun)
		show_plan(&r);
	else
		make_local(&r);
	if (stage_close(&stage) == -1 || stage_close(&rstage) == -1 ||
	    cgdimg_close(&cg) == -1 || tool_finish(ats, NATS) == -1)
		fail(r.lout.image);
	if (r.mode == LP_CREATE && !r.dryrun && rename(newimg, r.local) == -1) {
		sr_seterrno("create: rename into place");
		fail(r.lout.image);
	}
	newimg[0] = '\0';
	if (newimgfd != -1) {
		close(newimgfd);
		newimgfd = -1;
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
