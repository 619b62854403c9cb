/*
 * setup-local's steps.  The edits are computed from the root's texts
 * before anything is written; the copy goes to a staging directory in
 * the local file system and each tree is swapped into place only when
 * it is complete, so an interrupted run leaves old or new trees, never
 * a half-copied one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <time.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tree/dir.h"
#include "base/os.h"

#include "image/attach.h"
#include "plan/edit.h"
#include "image/ffsread.h"
#include "guest/identity.h"
#include "plan/template.h"
#include "guest/localprep.h"

#define STAGE		".sharedroot.stage"

const char *const local_trees[] = { "var", "tmp", "etc", NULL };
/* What is swapped into a local in place: etc last, as it marks one. */
static const char *const swapped[] = { ID_DIR, "var", "tmp", "etc", NULL };
const char *const local_copy[] = { "etc", "tmp", "var", NULL };
const char *const local_secrets[] = {
	"etc/ssh/ssh_host_*key*", "var/db/entropy-file", NULL
};

struct cipher {
	const char *name;
	const char *keylen;
	bool	 obsolete;
	bool	 modern;	/* needs a newer NetBSD than 4.x */
};

static const struct cipher ciphers[] = {
	{ "aes-xts", "256", false, true },
	{ "adiantum", "256", false, true },
	{ "aes-cbc", "256", false, false },
	{ "blowfish-cbc", "128", true, false },
	{ "3des-cbc", "192", true, false },
	{ NULL, NULL, false, false }
};

static const struct cipher *
cipher_find(const char *name)
{
	const struct cipher *c;

	for (c = ciphers; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	sr_seterr("%s: unknown cipher (aes-xts, adiantum, aes-cbc, "
	    "blowfish-cbc, 3des-cbc, or none)", name);
	sr_sethint(SR_HINT_CIPHER);
	return NULL;
}

int
cipher_ok(const char *name)
{
	return strcmp(name, "none") == 0 || cipher_find(name) != NULL ? 0 : -1;
}

int
hostname_ok(const char *h)
{
	size_t n = strlen(h), i, label = 0;

	if (n > 0 && h[0] == '-') {
		sr_seterr("%s: not a host name (is the host name missing "
		    "before the arguments?)", h);
		sr_sethint(SR_HINT_HOSTNAME);
		return -1;
	}
	if (n == 0 || n > 253 || h[0] == '.' || h[n - 1] == '.') {
		sr_seterr("%s: not a host name", h);
		sr_sethint(SR_HINT_HOSTNAME);
		return -1;
	}
	/* RFC 1123: labels of 1 to 63 letters, digits and inner hyphens. */
	for (i = 0; i <= n; i++) {
		if (i == n || h[i] == '.') {
			if (label == 0 || label > 63 || h[i - 1] == '-') {
				sr_seterr("%s: not a host name (each label "
				    "1 to 63 characters, not ending in '-')",
				    h);
				sr_sethint(SR_HINT_HOSTNAME);
				return -1;
			}
			label = 0;
			continue;
		}
		if (!((h[i] >= 'a' && h[i] <= 'z') ||
		    (h[i] >= 'A' && h[i] <= 'Z') ||
		    (h[i] >= '0' && h[i] <= '9') ||
		    (h[i] == '-' && label > 0))) {
			sr_seterr("%s: not a host name (letters, digits, "
			    "'-' and '.')", h);
			sr_sethint(SR_HINT_HOSTNAME);
			return -1;
		}
		label++;
	}
	return 0;
}

int
pkgdev_ok(const char *d)
{
	const char *s;

	if (strncmp(d, "/dev/", 5) != 0 || d[5] == '\0' || strlen(d) > 63)
		goto bad;
	for (s = d + 5; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			goto bad;
	return 0;
bad:
	sr_seterr("%s: give a device, /dev/NAME, or none", d);
	sr_sethint(SR_HINT_PKGDEV);
	return -1;
}

const char *
netbsd_fstype(const char *t)
{
	if (t == NULL || strcmp(t, "ufs") == 0)
		return "ffs";
	if (strcmp(t, "ext2") == 0 || strcmp(t, "ext3") == 0 ||
	    strcmp(t, "ext4") == 0)
		return "ext2fs";
	if (strcmp(t, "vfat") == 0)
		return "msdos";
	return t;
}

int
localprep_provisioned(bool has_etc, const struct localprep *lp)
{
	if (!has_etc)
		return 0;
	if (lp->force) {
		sr_log(SR_INFO, "etc: the guest's configuration "
		    "is replaced (forced)");
		return 0;
	}
	sr_seterr("etc: already provisioned; its /etc is the guest's own");
	sr_sethint(SR_HINT_FORCE);
	return -1;
}

int
localprep_check(int localfd, const struct localprep *lp)
{
	struct stat st;

	if (dir_lstat(localfd, "etc", &st) == 0)
		return localprep_provisioned(true, lp);
	return errno == ENOENT ? 0 : -1;
}

int
nb_shape(struct tree *root)
{
	struct sbuf rc = { 0 };
	int shape;

	if (tree_read(root, "etc/rc", SR_TEXT_MAX, &rc) == -1)
		return -1;
	shape = rc_shape(rc.s, rc.len);
	sbuf_free(&rc);
	return shape;
}

/* Chain an edit: on EDIT_CHANGED the new text replaces cur. */
static int
chain(enum edit_result r, const char *rel, char *new, size_t newlen,
    struct sbuf *cur)
{
	switch (r) {
	case EDIT_CHANGED:
		sbuf_free(cur);
		cur->s = new;
		cur->len = newlen;
		cur->cap = newlen + 1;
		return 1;
	case EDIT_ALREADY:
	case EDIT_NOTNEEDED:
		return 0;
	case EDIT_CANNOT:
		sr_prefixerr("%s", rel);
		return -1;
	case EDIT_ERROR:
	default:
		return -1;
	}
}

/* A file from a template, replacing the root's if any. */
static int
lp_template(struct tree *root, const struct localprep *lp, struct plan *p,
    const char *tmpl, const char *rel, const struct tmpl_var *vars,
    mode_t mode)
{
	struct sbuf old = { 0 }, new = { 0 };
	bool found;
	int rv = -1;

	if (tmpl_load(lp->tmpldir, tmpl, vars, &new) == -1)
		return -1;
	if (plan_read(root, rel, true, &old, NULL, &found) == -1)
		goto done;
	rv = plan_text(p, rel, found ? &old : NULL, &new, NULL, mode, NULL);
	sr_log(SR_VERBOSE, "%s: from template %s", rel, tmpl);
done:
	sbuf_free(&old);
	sbuf_free(&new);
	return rv;
}

static int
lp_dir(struct tree *root, struct plan *p, const char *rel)
{
	struct stat st;

	if (tree_lstat(root, rel, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		sr_seterr("%s: exists and is not a directory", rel);
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return plan_mkdir(p, rel, 0755);
}

/*
 * The text etc/rc should be (want): the vanilla rc, from rc.orig where
 * that is one, else the root's without the shared root's hook.
 */
static int
lp_rc_vanilla(struct tree *root, const struct localprep *lp,
    const struct sbuf *rc, struct sbuf *want)
{
	struct sbuf orig = { 0 };
	char *new;
	size_t newlen;
	bool haveorig;
	enum edit_result r;
	int rv = -1;

	if (plan_read(root, "etc/rc.orig", true, &orig, NULL, &haveorig) == -1)
		return -1;
	if (haveorig && rc_insert_hook(orig.s, orig.len, &new,
	    &newlen) == EDIT_CHANGED) {
		free(new);
		if (sbuf_add(want, orig.s, orig.len) == -1)
			goto done;
		sr_log(SR_VERBOSE, "etc/rc: the vanilla rc, "
		    "from rc.orig");
		rv = 0;
		goto done;
	}
	r = rc_remove_hook(rc->s, rc->len, &new, &newlen);
	if (sbuf_add(want, rc->s, rc->len) == -1 ||
	    chain(r, "etc/rc", new, newlen, want) == -1)
		goto done;
	if (r == EDIT_ALREADY)
		sr_log(SR_WARN, "etc/rc: the root does not call "
		    "rc.pre-hooks, so its guests will not mount their local "
		    "disks: run setup-root on it");
	else
		sr_log(SR_VERBOSE, "etc/rc: the root's rc without "
		    "the pre-hook");
	rv = 0;
done:
	sbuf_free(&orig);
	return rv;
}

/* etc/rc: the vanilla rc, without the shared root's hook. */
static int
lp_rc(struct tree *root, const struct localprep *lp, struct plan *p,
    bool *old4x)
{
	struct sbuf rc = { 0 }, want = { 0 };
	struct stat st;
	bool found;
	int rv = -1;

	if (plan_read(root, "etc/rc", false, &rc, &st, &found) == -1 ||
	    lp_rc_vanilla(root, lp, &rc, &want) == -1)
		goto done;
	/* The 4.x shape loads rc.subr at column 0: an old guest. */
	*old4x = rc_shape(want.s, want.len) == 4;
	if (plan_text(p, "etc/rc", &rc, &want, &st, 0, NULL) == -1)
		goto done;
	if (tree_lstat(root, "etc/rc.pre-hooks", &st) == 0) {
		if (plan_remove(p, "etc/rc.pre-hooks") == -1)
			goto done;
	} else if (errno != ENOENT)
		goto done;
	rv = 0;
done:
	sbuf_free(&rc);
	sbuf_free(&want);
	return rv;
}

/*
 * What a guest's rc.conf says, and which rc.d script reads each
 * variable: a variable is written only where the root has that script,
 * so that no setting silently does nothing (sendmail=NO, for one, is
 * read by no script in any era; postfix is the mailer).  rc itself reads
 * rc_configured (sets ship it NO; sysinst would set it YES), and
 * rc.subr's mount_critical_filesystems the file-system list.
 *
 * rc.d/random_seed (NetBSD 6 on) loads and saves its seed only where
 * df -G says the directory is on ffs, lfs, ext2fs, msdos, v7fs or zfs:
 * a guest's /var is a null mount, so the seed is named where /local
 * (ffs) holds it, the same file as /var/db/entropy-file.
 */
#define GUEST_SEED	"/local/var/db/entropy-file"

static const struct rcvar {
	const char *name;
	const char *script;	/* NULL: read by rc or rc.subr */
} rcvars[] = {
	{ "rc_configured", NULL },
	{ "critical_filesystems_local", NULL },
	{ "random_file", "random_seed" },
	{ "powerd", "powerd" },
	{ "savecore", "savecore" },
	{ "postfix", "postfix" },
	{ "sendmail", "sendmail" },
	{ "wscons", "wscons" },
	{ "cgd", "cgd" },
	{ "hostname", "network" },
};
#define NRCVARS	(sizeof(rcvars) / sizeof(rcvars[0]))

struct rcconf_ctx {
	const struct localprep *lp;
	bool	 swap;
	bool	 known[NRCVARS];
};

/* The value the guest gets for rcvars[i], or NULL to leave it alone. */
static const char *
rcvar_value(const struct rcconf_ctx *ctx, size_t i)
{
	static const char *const fixed[] = {
		"YES", "\"/local /etc /tmp /var\"", GUEST_SEED, "YES", "NO",
		"NO", "NO", "NO"
	};

	if (i < sizeof(fixed) / sizeof(fixed[0]))
		return fixed[i];
	if (strcmp(rcvars[i].name, "cgd") == 0)
		return ctx->swap ? "YES" : NULL;
	return ctx->lp->hostname;
}

/* Whether the root has the rc.d script that reads each variable. */
static void
rcvars_known(struct tree *root, const struct localprep *lp,
    struct rcconf_ctx *ctx)
{
	struct stat st;
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < NRCVARS; i++) {
		const struct rcvar *v = &rcvars[i];

		ctx->known[i] = v->script == NULL;
		if (ctx->known[i])
			continue;
		snprintf(path, sizeof(path), "etc/rc.d/%s", v->script);
		ctx->known[i] = tree_lstat(root, path, &st) == 0;
		if (!ctx->known[i] && rcvar_value(ctx, i) != NULL)
			sr_log(SR_VERBOSE, "etc/rc.conf: %s not "
			    "set: the root has no rc.d/%s to read it",
			    v->name, v->script);
		/* An upgrade's base made before random_file was set. */
		if (lp->before_random_file &&
		    strcmp(v->name, "random_file") == 0)
			ctx->known[i] = false;
	}
}

/* rc.conf: every setting the guest needs, each replaced or appended. */
static enum edit_result
rcconf_edit(const void *vctx, const char *text, size_t len, char **out,
    size_t *outlen)
{
	const struct rcconf_ctx *ctx = vctx;
	struct sbuf cur = { 0 };
	size_t i, newlen;
	char *new;
	int changed = 0;

	*out = NULL;
	if (sbuf_add(&cur, text, len) == -1)
		return EDIT_ERROR;
	for (i = 0; i < NRCVARS; i++) {
		const char *value = rcvar_value(ctx, i);
		enum edit_result r;
		int c;

		if (value == NULL || !ctx->known[i])
			continue;
		r = rcconf_set(cur.s, cur.len, rcvars[i].name, value, &new,
		    &newlen);
		if ((c = chain(r, "etc/rc.conf", new, newlen, &cur)) == -1) {
			sbuf_free(&cur);
			return EDIT_ERROR;
		}
		changed |= c;
	}
	if (!changed) {
		sbuf_free(&cur);
		return EDIT_ALREADY;
	}
	*out = cur.s;
	*outlen = cur.len;
	return EDIT_CHANGED;
}

static enum edit_result
ttys_edit(const void *ctx, const char *t, size_t l, char **o, size_t *ol)
{
	(void)ctx;
	return ttys_console_only(t, l, o, ol);
}

static enum edit_result
crontab_edit(const void *ctx, const char *t, size_t l, char **o, size_t *ol)
{
	(void)ctx;
	return crontab_quiet(t, l, o, ol);
}

/* An edit of a file the root has, or a note that it has none. */
static int
lp_edit(struct tree *root, const struct localprep *lp, struct plan *p,
    const char *rel, plan_editfn *edit, const void *ctx,
    struct plan_edit o)
{
	return plan_edit_file(p, root, rel, edit, ctx, &o);
}

/* etc/rc.conf: every setting the guest needs (rcvars). */
static int
lp_rcconf(struct tree *root, const struct localprep *lp, struct plan *p,
    bool swap)
{
	struct rcconf_ctx rc = { .lp = lp, .swap = swap };

	rcvars_known(root, lp, &rc);
	return lp_edit(root, lp, p, "etc/rc.conf", rcconf_edit, &rc,
	    (struct plan_edit){ .what = "rc_configured, local file systems, "
	    "the random seed on /local, powerd, savecore, no mailer, wscons, "
	    "cgd with swap, the host name if given" });
}

static int
lp_swap(struct tree *root, const struct localprep *lp, struct plan *p,
    bool old4x, bool *swap)
{
	const struct cipher *c;
	const char *name = lp->cipher;

	*swap = !(name != NULL && strcmp(name, "none") == 0);
	if (!*swap) {
		sr_log(SR_VERBOSE, "swap: none, as asked");
		return 0;
	}
	/* aes-xts and adiantum need NetBSD 8 and 10; 4.x has aes-cbc. */
	if (name == NULL)
		name = old4x ? "aes-cbc" : "aes-xts";
	if ((c = cipher_find(name)) == NULL)
		return -1;
	if (c->modern && old4x) {
		sr_seterr("%s: the root is NetBSD 4.x-shaped, whose cgd "
		    "lacks %s; use aes-cbc", name, name);
		sr_sethint(SR_HINT_CIPHER);
		return -1;
	}
	if (c->obsolete)
		sr_log(SR_WARN, "%s: obsolete cipher, kept "
		    "only for old disks", name);
	{
		const struct tmpl_var vars[] = {
			{ "CIPHER", c->name },
			{ "KEY_LENGTH", c->keylen },
			/* 4.x knows only encblkno; later, encblkno1. */
			{ "IV_METHOD", old4x ? "encblkno" : "encblkno1" },
			{ NULL, NULL }
		};

		sr_log(SR_VERBOSE, "swap: cgd0 on /dev/xbd1a, "
		    "%s with a %s-bit key, new at every boot", c->name,
		    c->keylen);
		if (lp_dir(root, p, "etc/cgd") == -1 ||
		    lp_template(root, lp, p, "cgd.conf",
		    "etc/cgd/cgd.conf", vars, 0644) == -1 ||
		    lp_template(root, lp, p, "cgd-params",
		    "etc/cgd/xbd1a", vars, 0600) == -1 ||
		    lp_template(root, lp, p, "rc.conf.d-cgd",
		    "etc/rc.conf.d/cgd", vars, 0644) == -1)
			return -1;
	}
	return 0;
}

/* etc/rc.conf.d/root: the guest's file systems, remounted at boot. */
static int
lp_rcconf_d_root(struct tree *root, const struct localprep *lp,
    struct plan *p)
{
	const struct tmpl_var vars[] = {
		{ "ROOT_FSTYPE", lp->root_fstype },
		{ "LOCAL_FSTYPE", lp->local_fstype },
		{ NULL, NULL }
	};

	return lp_template(root, lp, p, "rc.conf.d-root",
	    "etc/rc.conf.d/root", vars, 0644);
}

/* etc/fstab: the shared root, the local disk, swap and /usr/pkg. */
static int
lp_fstab(struct tree *root, const struct localprep *lp, struct plan *p,
    bool swap)
{
	char pkgline[128], swapline[64];
	const struct tmpl_var vars[] = {
		{ "ROOT_FSTYPE", lp->root_fstype },
		{ "LOCAL_FSTYPE", lp->local_fstype },
		{ "SWAP_LINE", swapline },
		{ "PKG_LINE", pkgline },
		{ NULL, NULL }
	};

	if (lp->pkgdev != NULL)
		snprintf(pkgline, sizeof(pkgline), "%s\t/usr/pkg\tffs\tro\t\t"
		    "0 0", lp->pkgdev);
	else
		snprintf(pkgline, sizeof(pkgline), "# no /usr/pkg disk "
		    "(setup-local -P none)");
	if (swap)
		snprintf(swapline, sizeof(swapline), "/dev/cgd0b\tnone\t\tswap"
		    "\tsw\t\t0 0");
	else
		snprintf(swapline, sizeof(swapline), "# no swap (setup-local "
		    "-S none)");
	return lp_template(root, lp, p, "fstab", "etc/fstab", vars, 0644);
}

/* etc/myname, where a host name is given. */
static int
lp_myname(struct tree *root, const struct localprep *lp, struct plan *p)
{
	struct sbuf old = { 0 }, new = { 0 };
	struct stat st;
	bool found;
	int rv = -1;

	if (lp->hostname == NULL)
		return 0;
	if (plan_read(root, "etc/myname", true, &old, &st, &found) == 0 &&
	    sbuf_printf(&new, "%s\n", lp->hostname) == 0)
		rv = plan_text(p, "etc/myname", found ? &old : NULL, &new,
		    found ? &st : NULL, 0644, NULL);
	sbuf_free(&old);
	sbuf_free(&new);
	return rv;
}

/*
 * Which root the local is seeded from, and that root's pristine etc:
 * the base of a later upgrade (setup-local -u).  Nothing the guest reads.
 */
static int
lp_identity(struct tree *root, const struct localprep *lp, struct plan *p)
{
	const struct tree_wopts wo = { .mode = 0644 };
	struct sbuf man = { 0 }, base = { 0 }, line = { 0 };
	char id[ID_HEXLEN + 1];
	int rv = -1;

	if (identity_manifest(root, lp->rootspec, &man, id) == -1 ||
	    identity_base(root, lp->rootspec, &base) == -1 ||
	    sbuf_printf(&line, "%s\n", id) == -1) {
		sr_prefixerr("identity");
		goto done;
	}
	sr_log(SR_VERBOSE, "%s: seeded from root %.12s; its etc "
	    "kept as %s (%zu bytes)", ID_LOCAL, id, ID_BASE, base.len);
	if (plan_mkdir(p, ID_DIR, 0755) == -1 ||
	    plan_write(p, ID_LOCAL, NULL, line.s, line.len, &wo) == -1) {
		line.s = NULL;
		goto done;
	}
	line.s = NULL;
	if (plan_write_data(p, ID_BASE, base.s, base.len, &wo) == -1) {
		base.s = NULL;
		goto done;
	}
	base.s = NULL;
	/* What the guest copied, to tell later what a release removed. */
	if (plan_write_data(p, ID_MANBASE, man.s, man.len, &wo) == -1) {
		man.s = NULL;
		goto done;
	}
	man.s = NULL;
	rv = 0;
done:
	sbuf_free(&man);
	sbuf_free(&base);
	sbuf_free(&line);
	return rv;
}

bool
pkgdb_in_var(struct tree *t)
{
	char **names = NULL;
	bool has;

	has = tree_list(t, "var/db/pkg", &names) == 0 && names[0] != NULL;
	tree_freelist(names);
	return has;
}

const char *
localprep_root_id(const struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].kind == CH_WRITE && strcmp(p->v[i].path,
		    ID_LOCAL) == 0 && p->v[i].newlen == ID_HEXLEN + 1)
			return p->v[i].new;
	return NULL;
}

int
localprep_plan(struct tree *root, const struct localprep *lp, struct plan *p)
{
	const char *const *t;
	struct stat st;
	bool old4x = false, swap = false;

	/* The trees must be real directories: a link could point anywhere. */
	for (t = local_trees; *t != NULL; t++) {
		if (tree_lstat(root, *t, &st) == -1)
			return -1;
		if (!S_ISDIR(st.st_mode)) {
			sr_seterr("%s: not a directory in the root (refused)",
			    *t);
			return -1;
		}
	}
	if (lp_rc(root, lp, p, &old4x) == -1 ||
	    lp_dir(root, p, "etc/rc.conf.d") == -1 ||
	    lp_swap(root, lp, p, old4x, &swap) == -1 ||
	    lp_rcconf_d_root(root, lp, p) == -1 ||
	    lp_fstab(root, lp, p, swap) == -1 ||
	    lp_rcconf(root, lp, p, swap) == -1 ||
	    lp_myname(root, lp, p) == -1 ||
	    lp_identity(root, lp, p) == -1)
		return -1;
	/*
	 * pkg.img is swapped for every guest at once only if pkgsrc's
	 * database lives on it (PKG_DBDIR under /usr/pkg): one in var is
	 * each guest's own, and goes stale at the first swap.
	 */
	if (pkgdb_in_var(root))
		sr_log(SR_WARN, "var/db/pkg: the root keeps a "
		    "package database in var, which each guest would copy: "
		    "with a shared pkg.img, keep it on pkg.img "
		    "(PKG_DBDIR=/usr/pkg/pkgdb)");
	/*
	 * cron takes every file in var/cron/tabs for a user's crontab: the
	 * original goes beside the directory, where nothing reads it.
	 */
	return lp_edit(root, lp, p, "etc/ttys", ttys_edit, NULL,
	    (struct plan_edit){ .what = "every terminal but the console "
	    "off" }) == -1 ||
	    lp_edit(root, lp, p, "var/cron/tabs/root", crontab_edit, NULL,
	    (struct plan_edit){ .what = "daily and weekly runs commented "
	    "out", .mode = 0600, .optional = true,
	    .origpath = "var/cron/root.orig" }) == -1 ? -1 : 0;
}

/* Swap two names atomically where the system can; else rename. */
static int
swap_into_place(int stagefd, int localfd, const char *name)
{
	struct stat st;

	if (fstatat(localfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT) {
			sr_seterrno("%s: swap into place", name);
			return -1;
		}
		if (renameat(stagefd, name, localfd, name) == -1) {
			sr_seterrno("%s: move into place", name);
			return -1;
		}
		return 0;
	}
	if (os_exchange(stagefd, name, localfd, name) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS) {
		sr_seterrno("%s: swap into place", name);
		return -1;
	}
	{
		char old[NAME_MAX + 1];

		/* Two steps: the old tree goes aside first, then the new in. */
		snprintf(old, sizeof(old), "%s.old", name);
		if (renameat(localfd, name, stagefd, old) == -1 ||
		    renameat(stagefd, name, localfd, name) == -1) {
			sr_seterrno("%s: swap into place", name);
			return -1;
		}
	}
	return 0;
}

/*
 * Copy tops of srcpath (less exclude) into the stage, without syncing
 * file by file: the caller makes the stage durable.  With spec, staging
 * for makefs (see copy_opts).
 */
static int
stage_copy(const char *srcpath, const char *const *tops,
    const char *const *exclude, int stagefd, const struct localprep *lp,
    const struct plan *p, struct spec *spec, struct copy_stats *cs)
{
	struct copy_opts co;

	memset(&co, 0, sizeof(co));
	co.srcpath = srcpath;
	co.dstfd = stagefd;
	co.tops = tops;
	co.exclude = exclude;
	co.spec = spec;
	/* The room checked before copying is for the plan's writes too. */
	co.extra = plan_bytes(p, 4096);
	if (copy_trees(&co, cs) == -1 || sr_checkpoint() == -1)
		return -1;
	sr_log(SR_VERBOSE, "%ju entries and %ju bytes copied, "
	    "%ju secrets left out", cs->entries, cs->bytes, cs->excluded);
	return 0;
}

/*
 * Fill a stage in the local from srcpath (tops of it, less exclude),
 * apply the plan there, make it durable, and swap each tree of order
 * into place.
 */
static int
stage_swap(const char *srcpath, int localfd, const char *const *tops,
    const char *const *exclude, const char *const *order,
    const struct localprep *lp, const struct plan *p, struct copy_stats *cs)
{
	const char *const *t;
	int stagefd = -1, rv = -1;

	/* A stage left by a killed run holds nothing of value. */
	if (dir_remove(localfd, STAGE) == -1 ||
	    dir_mkdir(localfd, STAGE, 0700) == -1 ||
	    (stagefd = dir_opendir(localfd, STAGE)) == -1)
		goto done;
	if (stage_copy(srcpath, tops, exclude, stagefd, lp, p, NULL,
	    cs) == -1 || plan_apply_dir(p, stagefd,
	    TREE_NOSYNC) == -1 || sr_checkpoint() == -1)
		goto done;
	/*
	 * Nothing in the stage is live until it is swapped in: one sync of
	 * the file system makes all of it durable before that.
	 */
	if (dir_syncfs(stagefd) == -1) {
		sr_seterrno("%s: sync", STAGE);
		goto done;
	}
	for (t = order; *t != NULL; t++) {
		struct stat st;

		/* What was not staged stays as it is. */
		if (fstatat(stagefd, *t, &st, AT_SYMLINK_NOFOLLOW) == -1 &&
		    errno == ENOENT)
			continue;
		if (swap_into_place(stagefd, localfd, *t) == -1)
			goto done;
	}
	(void)fsync(localfd);
	rv = 0;
done:
	if (stagefd != -1)
		close(stagefd);
	/* The stage now holds only what was replaced, or a failed copy. */
	if (dir_purge(localfd, STAGE) == -1 && rv == 0)
		rv = -1;
	return rv;
}

int
localprep_apply(const char *rootpath, int localfd, const struct localprep *lp,
    const struct plan *p, struct copy_stats *cs)
{
	/* etc last: its presence is what marks a provisioned guest. */
	return stage_swap(rootpath, localfd, local_copy, local_secrets,
	    swapped, lp, p, cs);
}

int
localprep_apply_copy(const char *localpath, int localfd,
    const struct localprep *lp, const struct plan *p, struct copy_stats *cs)
{
	static const char *const all[] = { "etc", "var", ID_DIR, NULL };
	/*
	 * The record last: a run cut short before it leaves the local
	 * recorded as seeded from the old root, and the boot stopped.
	 */
	static const char *const order[] = { "var", "etc", ID_DIR, NULL };
	const char *tops[4];
	struct stat st;
	size_t i, n = 0;

	/*
	 * A local made before records has none to copy: the plan makes it.
	 * var (a guest's logs and data: maybe large) only if it changes.
	 */
	for (i = 0; all[i] != NULL; i++) {
		bool changed = strcmp(all[i], "var") != 0;
		size_t j;

		for (j = 0; j < p->n && !changed; j++)
			changed = strncmp(p->v[j].path, "var/", 4) == 0;
		if (!changed)
			continue;
		if (dir_lstat(localfd, all[i], &st) == 0)
			tops[n++] = all[i];
		else if (errno != ENOENT)
			return -1;
	}
	tops[n] = NULL;
	return stage_swap(localpath, localfd, tops, NULL, order, lp, p, cs);
}

/*
 * The guest's etc, tmp, var and record as they will be: their entries
 * (without contents: sizes alone count) in memory, the plan applied to
 * them there.  Names that are more names of one inode are noted (links,
 * sorted), so that they count once, as in the image.
 */
struct fits {
	struct tree *mine;
	struct entset set;
	struct { char *path; ino_t ino; } *links;
	size_t	 nlinks, caplinks;
	ino_t	*seen;			/* linked inodes counted */
	size_t	 nseen;
	struct mfsize m;
};

static int
fits_load(void *arg, const char *path, const struct stat *st)
{
	struct fits *f = arg;
	struct sbuf link = { 0 };
	struct ent e = { .path = (char *)path, .mode = st->st_mode,
	    .uid = st->st_uid, .gid = st->st_gid, .rdev = st->st_rdev };
	int rv = -1;

	if (S_ISREG(st->st_mode))
		e.len = (size_t)st->st_size;
	if (S_ISLNK(st->st_mode)) {
		if (tree_readlink(f->mine, path, &link) == -1)
			return -1;
		e.link = link.s != NULL ? link.s : (char *)"";
	}
	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
		if (f->nlinks == f->caplinks) {
			size_t cap = f->caplinks ? f->caplinks * 2 : 16;
			void *nv = reallocarray(f->links, cap,
			    sizeof(*f->links));

			if (nv == NULL)
				goto done;
			f->links = nv;
			f->caplinks = cap;
		}
		if ((f->links[f->nlinks].path = strdup(path)) == NULL)
			goto done;
		f->links[f->nlinks++].ino = st->st_ino;
	}
	rv = entset_add(&f->set, &e);
done:
	if (rv == -1 && errno == ENOMEM)
		sr_oom();
	sbuf_free(&link);
	return rv;
}

static uint64_t
fits_frags(uint64_t n, uint64_t fsize)
{
	return (n + fsize - 1) / fsize * fsize;
}

/* makefs's directory entry count (build.c's dirent_add()). */
static void
fits_dirent(uint64_t *cur, size_t namelen)
{
	uint64_t this = (8 + namelen + 1 + 3) & ~(uint64_t)3;

	if (this + *cur > (*cur + 511) / 512 * 512)
		*cur = (*cur + 511) / 512 * 512;
	*cur += this;
}

/* Whether path is a further name of an inode already counted. */
static int
fits_linked(struct fits *f, const char *path, bool *again)
{
	size_t i, k;

	*again = false;
	for (i = 0; i < f->nlinks && strcmp(f->links[i].path, path) != 0; i++)
		;
	if (i == f->nlinks)
		return 0;
	for (k = 0; k < f->nseen; k++)
		if (f->seen[k] == f->links[i].ino) {
			*again = true;
			return 0;
		}
	if (f->seen == NULL && (f->seen = calloc(f->nlinks + 1,
	    sizeof(*f->seen))) == NULL)
		return sr_oom();
	f->seen[f->nseen++] = f->links[i].ino;
	return 0;
}

/* Count a path as build.c's size_walk() counts a stage's. */
static int
fits_count(void *arg, const char *path, const struct stat *st)
{
	struct fits *f = arg;
	struct tree *t = (struct tree *)f->mine;
	char **names = NULL;
	uint64_t cur = 0;
	bool again;
	size_t i;

	if (*path != '\0') {
		if (fits_linked(f, path, &again) == -1)
			return -1;
		if (again)
			return 0;
		f->m.inodes++;
		if (S_ISREG(st->st_mode))
			f->m.data += fits_frags((uint64_t)st->st_size,
			    (uint64_t)f->m.fsize);
		else if (S_ISLNK(st->st_mode) && (uint64_t)st->st_size + 1 >=
		    f->m.maxsymlink)
			f->m.data += fits_frags((uint64_t)st->st_size + 1,
			    (uint64_t)f->m.fsize);
	}
	if (!S_ISDIR(st->st_mode))
		return 0;
	if (tree_list(t, path, &names) == -1)
		return -1;
	fits_dirent(&cur, 1);
	fits_dirent(&cur, 2);
	for (i = 0; names[i] != NULL; i++)
		fits_dirent(&cur, strlen(names[i]));
	tree_freelist(names);
	f->m.data += fits_frags(cur, (uint64_t)f->m.fsize);
	return 0;
}

/* The tops of mine in memory, the plan applied, counted into f->m. */
static int
fits_measure(struct fits *f, const char *const *tops, const struct plan *p)
{
	struct tree *mem = NULL;
	sr_logfn *logfn;
	void *logctx;
	size_t i;
	int rv = -1;

	for (i = 0; tops[i] != NULL; i++)
		if (tree_walk(f->mine, tops[i], true, fits_load, f) == -1)
			return -1;
	if ((mem = tree_mem(&f->set)) == NULL)
		return -1;
	sr_getlog(&logfn, &logctx);
	sr_setlog(NULL, NULL);		/* a trial: nothing said */
	rv = plan_apply(p, mem);
	sr_setlog(logfn, logctx);
	f->mine = mem;			/* what is counted now */
	if (rv == 0)
		rv = tree_walk(mem, "", false, fits_count, f);
	tree_close(mem);
	return rv;
}

int
localprep_fits(struct tree *mine, const struct ffsimg *like,
    const struct plan *p)
{
	static const char *const tops[] = { "etc", "tmp", "var", ID_DIR,
	    NULL };
	static const char *const replaced[] = { "etc", "tmp", "var", ID_DIR,
	    STAGE, NULL };
	struct fits f;
	uint64_t need;
	size_t i;
	int rv;

	memset(&f, 0, sizeof(f));
	f.mine = mine;
	f.m.version = like->version;
	f.m.bsize = like->bsize;
	f.m.fsize = like->fsize;
	f.m.maxsymlink = like->version == 1 ? 60 : 120;
	rv = fits_measure(&f, tops, p) == -1 ||
	    ffs_size(like, replaced, &f.m) == -1 ? -1 : 0;
	entset_free(&f.set);
	for (i = 0; i < f.nlinks; i++)
		free(f.links[i].path);
	free(f.links);
	free(f.seen);
	if (rv == -1)
		return -1;
	need = mfsize_need(&f.m);
	if (need <= (uint64_t)like->len)
		return 0;
	sr_seterr("no room in its file system of %s for the new tree: "
	    "would need about %s; about %s more needed",
	    sr_size((uint64_t)like->len), sr_size(need),
	    sr_size(need - (uint64_t)like->len));
	return 1;
}
