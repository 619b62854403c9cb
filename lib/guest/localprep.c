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
		lp->log(lp->logctx, SR_INFO, "etc: the guest's configuration "
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
nb_shape(int rootfd)
{
	struct sbuf rc = { 0 };
	int shape;

	if (dir_readfile(rootfd, "etc/rc", SR_TEXT_MAX, &rc, NULL) == -1)
		return -1;
	/* 4.x loads rc.subr at column 0; today, tab-indented in an if. */
	shape = memmem(rc.s, rc.len, "\n. /etc/rc.subr\n", 16) != NULL ? 4 :
	    10;
	sbuf_free(&rc);
	return shape;
}

int
kernel_has(int rootfd, const char *rel, const void *needle, size_t nlen,
    int *found)
{
	static char buf[1 << 16];
	off_t off = 0;
	ssize_t n;
	int fd;

	*found = 1;
	if (nlen == 0 || nlen > 256 || (fd = dir_openfile(rootfd, rel)) == -1)
		return -1;
	/* Windows overlap by nlen - 1 bytes, so no match is cut in two. */
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (memmem(buf, (size_t)n, needle, nlen) != NULL) {
			*found = 0;
			break;
		}
		if ((size_t)n < nlen || n < (ssize_t)sizeof(buf))
			break;
		off += n - (off_t)(nlen - 1);
	}
	close(fd);
	return n == -1 ? -1 : 0;
}

/*
 * Read a text file from the root; missing is an error unless optional.
 * Its owner and mode are what the root truly has: a staged root's spec
 * says them.
 */
static int
read_root(int rootfd, const struct localprep *lp, const char *rel,
    struct sbuf *b, struct stat *st, bool optional, bool *found)
{
	*found = false;
	if (dir_readfile(rootfd, rel, SR_TEXT_MAX, b, st) == 0) {
		if (lp->rootspec != NULL)
			(void)spec_stat(lp->rootspec, rel, st);
		*found = true;
		return 0;
	}
	return optional && errno == ENOENT ? 0 : -1;
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

/*
 * Plan a write of text over the root's version (old may be NULL).  The
 * original is kept as NAME.orig beside it, or, where something reads
 * every file in that directory (cron's tabs), at origpath.
 */
static int
plan_text_orig(struct plan *p, const char *rel, const struct sbuf *old,
    struct sbuf *new, const struct stat *st, mode_t mode,
    const char *origpath)
{
	struct tree_wopts wo = { .mode = mode, .keep_orig = origpath == NULL };

	if (st != NULL) {
		wo.uid = st->st_uid;
		wo.gid = st->st_gid;
		if (mode == 0)
			wo.mode = st->st_mode & 07777;
	}
	if (old != NULL && old->len == new->len &&
	    memcmp(old->s, new->s, new->len) == 0)
		return 0;
	/* The original's inode, every attribute kept, under another name. */
	if (origpath != NULL && old != NULL &&
	    plan_link(p, origpath, rel, false) == -1)
		return -1;
	if (plan_write(p, rel, old, new->s, new->len, &wo) == -1) {
		new->s = NULL;
		return -1;
	}
	new->s = NULL;
	new->len = new->cap = 0;
	return 0;
}

static int
plan_text(struct plan *p, const char *rel, const struct sbuf *old,
    struct sbuf *new, const struct stat *st, mode_t mode)
{
	return plan_text_orig(p, rel, old, new, st, mode, NULL);
}

/* Plan a file from a template, replacing the root's if any. */
static int
plan_template(int rootfd, const struct localprep *lp, struct plan *p,
    const char *tmpl, const char *rel, const struct tmpl_var *vars,
    mode_t mode)
{
	struct sbuf old = { 0 }, new = { 0 };
	struct stat st;
	bool found;
	int rv = -1;

	if (tmpl_load(lp->tmpldir, tmpl, vars, &new) == -1)
		return -1;
	if (read_root(rootfd, lp, rel, &old, &st, true, &found) == -1)
		goto done;
	rv = plan_text(p, rel, found ? &old : NULL, &new, NULL, mode);
	lp->log(lp->logctx, SR_VERBOSE, "%s: from template %s", rel, tmpl);
done:
	sbuf_free(&old);
	sbuf_free(&new);
	return rv;
}

static int
plan_dir(int rootfd, struct plan *p, const char *rel)
{
	struct stat st;

	if (dir_lstat(rootfd, rel, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		sr_seterr("%s: exists and is not a directory", rel);
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return plan_mkdir(p, rel, 0755);
}

/* etc/rc: the vanilla rc, without the shared root's hook. */
static int
plan_rc(int rootfd, const struct localprep *lp, struct plan *p, bool *old4x)
{
	struct sbuf rc = { 0 }, orig = { 0 }, want = { 0 };
	struct stat st, ost;
	char *new;
	size_t newlen;
	bool found, haveorig;
	int rv = -1;

	if (read_root(rootfd, lp, "etc/rc", &rc, &st, false, &found) == -1 ||
	    read_root(rootfd, lp, "etc/rc.orig", &orig, &ost, true,
	    &haveorig) == -1)
		goto done;
	if (haveorig && rc_insert_hook(orig.s, orig.len, &new,
	    &newlen) == EDIT_CHANGED) {
		free(new);
		if (sbuf_add(&want, orig.s, orig.len) == -1)
			goto done;
		lp->log(lp->logctx, SR_VERBOSE, "etc/rc: the vanilla rc, "
		    "from rc.orig");
	} else {
		enum edit_result r = rc_remove_hook(rc.s, rc.len, &new,
		    &newlen);

		if (sbuf_add(&want, rc.s, rc.len) == -1 ||
		    chain(r, "etc/rc", new, newlen, &want) == -1)
			goto done;
		if (r == EDIT_ALREADY)
			lp->log(lp->logctx, SR_WARN, "etc/rc: the root does not "
			    "call rc.pre-hooks, so its guests will not mount "
			    "their local disks: run setup-root on it");
		else
			lp->log(lp->logctx, SR_VERBOSE, "etc/rc: the root's rc "
			    "without the pre-hook");
	}
	/* The 4.x shape loads rc.subr at column 0: an old guest. */
	*old4x = memmem(want.s, want.len, "\n. /etc/rc.subr\n", 16) != NULL;
	if (plan_text(p, "etc/rc", &rc, &want, &st, 0) == -1)
		goto done;
	if (dir_lstat(rootfd, "etc/rc.pre-hooks", &st) == 0) {
		if (plan_remove(p, "etc/rc.pre-hooks") == -1)
			goto done;
	} else if (errno != ENOENT)
		goto done;
	rv = 0;
done:
	sbuf_free(&rc);
	sbuf_free(&orig);
	sbuf_free(&want);
	return rv;
}

/* An edit with what it needs to know. */
typedef enum edit_result editfn(const void *, const char *, size_t, char **,
    size_t *);

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
rcvars_known(int rootfd, const struct localprep *lp, struct rcconf_ctx *ctx)
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
		ctx->known[i] = dir_lstat(rootfd, path, &st) == 0;
		if (!ctx->known[i] && rcvar_value(ctx, i) != NULL)
			lp->log(lp->logctx, SR_VERBOSE, "etc/rc.conf: %s not "
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
plan_edit(int rootfd, const struct localprep *lp, struct plan *p,
    const char *rel, editfn *edit, const void *ctx, mode_t mode,
    bool optional, const char *what, const char *origpath)
{
	struct sbuf old = { 0 }, cur = { 0 };
	struct stat st;
	size_t newlen;
	char *new;
	bool found;
	int rv = -1, r;

	if (read_root(rootfd, lp, rel, &old, &st, optional, &found) == -1)
		goto done;
	if (!found) {
		lp->log(lp->logctx, SR_WARN, "%s: not in the root; no %s", rel,
		    what);
		rv = 0;
		goto done;
	}
	if (sbuf_add(&cur, old.s, old.len) == -1)
		goto done;
	r = edit(ctx, old.s, old.len, &new, &newlen);
	if ((r = chain(r, rel, new, newlen, &cur)) == -1)
		goto done;
	lp->log(lp->logctx, SR_VERBOSE, "%s: %s%s", rel, what,
	    r ? "" : " (already)");
	rv = plan_text_orig(p, rel, &old, &cur, &st, mode, origpath);
done:
	sbuf_free(&old);
	sbuf_free(&cur);
	return rv;
}

static int
plan_swap(int rootfd, const struct localprep *lp, struct plan *p,
    bool old4x, bool *swap)
{
	const struct cipher *c;
	const char *name = lp->cipher;

	*swap = !(name != NULL && strcmp(name, "none") == 0);
	if (!*swap) {
		lp->log(lp->logctx, SR_VERBOSE, "swap: none, as asked");
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
		lp->log(lp->logctx, SR_WARN, "%s: obsolete cipher, kept "
		    "only for old disks", name);
	{
		const struct tmpl_var vars[] = {
			{ "CIPHER", c->name },
			{ "KEY_LENGTH", c->keylen },
			/* 4.x knows only encblkno; later, encblkno1. */
			{ "IV_METHOD", old4x ? "encblkno" : "encblkno1" },
			{ NULL, NULL }
		};

		lp->log(lp->logctx, SR_VERBOSE, "swap: cgd0 on /dev/xbd1a, "
		    "%s with a %s-bit key, new at every boot", c->name,
		    c->keylen);
		if (plan_dir(rootfd, p, "etc/cgd") == -1 ||
		    plan_template(rootfd, lp, p, "cgd.conf",
		    "etc/cgd/cgd.conf", vars, 0644) == -1 ||
		    plan_template(rootfd, lp, p, "cgd-params",
		    "etc/cgd/xbd1a", vars, 0600) == -1 ||
		    plan_template(rootfd, lp, p, "rc.conf.d-cgd",
		    "etc/rc.conf.d/cgd", vars, 0644) == -1)
			return -1;
	}
	return 0;
}

/*
 * Which root the local is seeded from, and that root's pristine etc:
 * the base of a later upgrade (setup-local -u).  Nothing the guest reads.
 */
static int
plan_identity(int rootfd, const struct localprep *lp, struct plan *p)
{
	const struct tree_wopts wo = { .mode = 0644 };
	struct sbuf man = { 0 }, base = { 0 }, line = { 0 };
	char id[ID_HEXLEN + 1];
	int rv = -1;

	if (identity_manifest(rootfd, lp->rootspec, &man, id) == -1 ||
	    identity_base(rootfd, lp->rootspec, &base) == -1 ||
	    sbuf_printf(&line, "%s\n", id) == -1) {
		sr_prefixerr("identity");
		goto done;
	}
	lp->log(lp->logctx, SR_VERBOSE, "%s: seeded from root %.12s; its etc "
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
pkgdb_in_var(int fd)
{
	char **names = NULL;
	bool has;

	has = dir_list(fd, "var/db/pkg", &names) == 0 && names[0] != NULL;
	dir_freelist(names);
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
localprep_plan(int rootfd, const struct localprep *lp, struct plan *p)
{
	const char *const *t;
	struct stat st;
	bool old4x = false, swap = false;

	/* The trees must be real directories: a link could point anywhere. */
	for (t = local_trees; *t != NULL; t++) {
		if (dir_lstat(rootfd, *t, &st) == -1)
			return -1;
		if (!S_ISDIR(st.st_mode)) {
			sr_seterr("%s: not a directory in the root (refused)",
			    *t);
			return -1;
		}
	}
	if (plan_rc(rootfd, lp, p, &old4x) == -1 ||
	    plan_dir(rootfd, p, "etc/rc.conf.d") == -1 ||
	    plan_swap(rootfd, lp, p, old4x, &swap) == -1)
		return -1;
	{
		const struct tmpl_var vars[] = {
			{ "ROOT_FSTYPE", lp->root_fstype },
			{ "LOCAL_FSTYPE", lp->local_fstype },
			{ NULL, NULL }
		};

		if (plan_template(rootfd, lp, p, "rc.conf.d-root",
		    "etc/rc.conf.d/root", vars, 0644) == -1)
			return -1;
	}
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
			snprintf(pkgline, sizeof(pkgline), "%s\t/usr/pkg\tffs\t"
			    "ro\t\t0 0", lp->pkgdev);
		else
			snprintf(pkgline, sizeof(pkgline), "# no /usr/pkg "
			    "disk (setup-local -P none)");
		if (swap)
			snprintf(swapline, sizeof(swapline), "/dev/cgd0b\tnone"
			    "\t\tswap\tsw\t\t0 0");
		else
			snprintf(swapline, sizeof(swapline), "# no swap "
			    "(setup-local -S none)");
		if (plan_template(rootfd, lp, p, "fstab", "etc/fstab", vars,
		    0644) == -1)
			return -1;
	}
	{
		struct rcconf_ctx rc = { .lp = lp, .swap = swap };

		rcvars_known(rootfd, lp, &rc);
		if (plan_edit(rootfd, lp, p, "etc/rc.conf", rcconf_edit, &rc, 0,
		    false, "rc_configured, local file systems, the random "
		    "seed on /local, powerd, savecore, no mailer, wscons, "
		    "cgd with swap, the host name if given", NULL) == -1)
			return -1;
	}
	if (lp->hostname != NULL) {
		struct sbuf old = { 0 }, new = { 0 };
		struct stat mst;
		bool found;
		int rv;

		if (read_root(rootfd, lp, "etc/myname", &old, &mst, true,
		    &found) == -1 || sbuf_printf(&new, "%s\n",
		    lp->hostname) == -1) {
			sbuf_free(&old);
			return -1;
		}
		rv = plan_text(p, "etc/myname", found ? &old : NULL, &new,
		    found ? &mst : NULL, 0644);
		sbuf_free(&old);
		sbuf_free(&new);
		if (rv == -1)
			return -1;
	}
	if (plan_identity(rootfd, lp, p) == -1)
		return -1;
	/*
	 * pkg.img is swapped for every guest at once only if pkgsrc's
	 * database lives on it (PKG_DBDIR under /usr/pkg): one in var is
	 * each guest's own, and goes stale at the first swap.
	 */
	if (pkgdb_in_var(rootfd))
		lp->log(lp->logctx, SR_WARN, "var/db/pkg: the root keeps a "
		    "package database in var, which each guest would copy: "
		    "with a shared pkg.img, keep it on pkg.img "
		    "(PKG_DBDIR=/usr/pkg/pkgdb)");
	/*
	 * cron takes every file in var/cron/tabs for a user's crontab: the
	 * original goes beside the directory, where nothing reads it.
	 */
	if (plan_edit(rootfd, lp, p, "etc/ttys", ttys_edit, NULL, 0, false,
	    "every terminal but the console off", NULL) == -1 ||
	    plan_edit(rootfd, lp, p, "var/cron/tabs/root", crontab_edit, NULL,
	    0600, true, "daily and weekly runs commented out",
	    "var/cron/root.orig") == -1)
		return -1;
	return 0;
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
	co.log = lp->log;
	co.logctx = lp->logctx;
	/* The room checked before copying is for the plan's writes too. */
	co.extra = plan_bytes(p, 4096);
	if (copy_trees(&co, cs) == -1 || sr_checkpoint() == -1)
		return -1;
	lp->log(lp->logctx, SR_VERBOSE, "%ju entries and %ju bytes copied, "
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
	    cs) == -1 || plan_apply_dir(p, stagefd, TREE_NOSYNC, lp->log,
	    lp->logctx) == -1 || sr_checkpoint() == -1)
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

static void
no_log(void *ctx, enum sr_level level, const char *fmt, ...)
{
	(void)ctx;
	(void)level;
	(void)fmt;
}

int
localprep_fits(struct stage *st, const struct ffsimg *like,
    const struct plan *p)
{
	static const char *const replaced[] = { "etc", "tmp", "var", ID_DIR,
	    STAGE, NULL };
	struct mfsize m;
	uint64_t need;

	memset(&m, 0, sizeof(m));
	m.version = like->version;
	m.bsize = like->bsize;
	m.fsize = like->fsize;
	m.maxsymlink = like->version == 1 ? 60 : 120;
	/* The stage is this run's private copy: it may take the plan. */
	if (stage_apply(st, p, no_log, NULL) == -1 ||
	    stage_size(st->fd, &st->copied, &m) == -1 ||
	    ffs_size(like, replaced, &m) == -1)
		return -1;
	need = mfsize_need(&m);
	if (need <= (uint64_t)like->len)
		return 0;
	sr_seterr("no room in its file system of %s for the new tree: makefs "
	    "would need about %s; about %s more needed",
	    sr_size((uint64_t)like->len), sr_size(need),
	    sr_size(need - (uint64_t)like->len));
	return 1;
}

int
localprep_build(const char *rootpath, struct stage *st, const char *image,
    uint64_t size, const struct ffsimg *like, const struct localprep *lp,
    const struct plan *p, struct copy_stats *cs)
{
	/* A guest's disk: room to grow, half its blocks and inodes free. */
	static const char *const room[] = { "-M", "64m", "-b", "50%", "-f",
	    "50%", NULL };
	/* What a re-seed replaces; the rest of the old disk stays. */
	static const char *const replaced[] = { "etc", "tmp", "var", ID_DIR,
	    STAGE, NULL };
	const struct build_opts bo = { size, room, like };

	/* Without rootpath, the root was staged already (a staged root). */
	if ((rootpath != NULL && stage_copy(rootpath, local_copy,
	    local_secrets, st->fd, lp, p, &st->copied, cs) == -1) ||
	    stage_apply(st, p, lp->log, lp->logctx) == -1 ||
	    sr_checkpoint() == -1)
		return -1;
	if (like != NULL) {
		struct copy_stats ks;

		if (ffs_extract(like, NULL, replaced, st->fd, &st->copied,
		    lp->log, lp->logctx, &ks) == -1) {
			sr_prefixerr("read the old image");
			return -1;
		}
		lp->log(lp->logctx, SR_VERBOSE, "%ju other entries of the old "
		    "image kept", ks.entries);
	}
	return build_image(st, image, &bo, lp->log, lp->logctx);
}
