/*
 * setup-local -u and -R (see upgrade.h): the decisions.  For every path
 * of etc, what it becomes from the old root's, the new root's and the
 * guest's, and the plan that makes it so; what var gains.  The merges
 * are merge.c's and the local's record record.c's.  Everything read
 * from the local is a guest's, and may be anything.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/build.h"
#include "tree/dir.h"
#include "plan/edit.h"
#include "guest/merge.h"
#include "guest/record.h"
#include "plan/udiff.h"
#include "guest/upgrade.h"

/* Entries ----------------------------------------------------------------- */

static struct ent *
get(struct entset *s, const char *path)
{
	struct ent *e = entset_get(s, path);

	return e != NULL && !e->gone ? e : NULL;
}

static bool
under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/');
}

static bool
is_etc(const char *path)
{
	return under(path, "etc");
}

/*
 * What provisioning makes of a root's etc: the plan's changes to etc,
 * carried out on the entries in memory.  The rest of the plan (var's,
 * the record) is not the etc's: left out, as a view sharing the
 * plan's changes (freed without plan_free()).
 */
int
upgrade_etc_provision(struct entset *s, const struct plan *p)
{
	struct plan etc = { 0 };
	struct tree *t;
	sr_logfn *fn;
	void *ctx;
	size_t i;
	int rv;

	if ((etc.v = calloc(p->n + 1, sizeof(*etc.v))) == NULL)
		return sr_oom();
	for (i = 0; i < p->n; i++)
		if (is_etc(p->v[i].path))
			etc.v[etc.n++] = p->v[i];
	if ((t = tree_mem(s)) == NULL) {
		free(etc.v);
		return -1;
	}
	sr_getlog(&fn, &ctx);
	sr_setlog(NULL, NULL);		/* in memory: nothing to say */
	rv = plan_apply(&etc, t);
	sr_setlog(fn, ctx);
	tree_close(t);
	free(etc.v);
	return rv;
}

/* The tree of a directory at fd, read-only, for identity.c's walks. */
static struct tree *
fd_tree(int fd)
{
	return tree_dir(fd, "the tree", TREE_RDONLY);
}

/* What a run's decisions know besides the three trees. */
struct decide_ctx {
	/*
	 * Whether owners count: not where an ordinary user changes a
	 * directory in place, since it can give nothing it writes an
	 * owner (a stage's owners are in its spec, and count).
	 */
	bool	 owners;
};

/*
 * Whether the guest's owners are true ones: root's, a stage's (its
 * spec), or an image's read as it is (any tree but a host directory).
 */
static bool
owners_count(const struct tree *mine, const struct spec *minespec)
{
	return geteuid() == 0 || minespec != NULL || tree_dir_fd(mine) == -1;
}

static bool
same(const struct decide_ctx *ctx, const struct ent *a, const struct ent *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if ((a->mode & S_IFMT) != (b->mode & S_IFMT) || (ctx->owners &&
	    (a->uid != b->uid || a->gid != b->gid)))
		return false;
	if (S_ISLNK(a->mode))
		return strcmp(a->link, b->link) == 0;
	if ((a->mode & 07777) != (b->mode & 07777))
		return false;
	if (S_ISREG(a->mode))
		return a->len == b->len && (a->len == 0 ||
		    memcmp(a->data, b->data, a->len) == 0);
	return true;
}

static bool
same_content(const struct ent *a, const struct ent *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->data, b->data, a->len) == 0);
}

static bool
is_text(const struct ent *e)
{
	return e == NULL || (S_ISREG(e->mode) &&
	    (e->len == 0 || memchr(e->data, '\0', e->len) == NULL));
}

/* A file's content as a text to merge (none: no file). */
static struct text
text_of(const struct ent *e)
{
	struct text x = { e != NULL ? e->data : NULL, e != NULL ? e->len : 0 };

	return x;
}

/* Decisions --------------------------------------------------------------- */

enum how { SAME, TAKE, KEEP, MERGE, CONFLICT };
static const char *const hows[] = { "same", "take", "keep", "merge",
    "conflict" };

struct dec {
	const char *path;
	struct ent *b, *t, *m;
	enum how how;
	struct ent merged;	/* MERGE: the result */
	struct sbuf mtext;	/* CONFLICT: the merge with markers */
	const char *why;	/* a conflict without a merge */
	bool	 own;		/* TAKE: the result is merged, not t */
};

/* What the path becomes: NULL for nothing there. */
static const struct ent *
result(const struct dec *d)
{
	switch (d->how) {
	case TAKE:
		return d->own ? &d->merged : d->t;
	case MERGE:
		return &d->merged;
	default:
		return d->m;
	}
}

/* Both changed a path: merge, or say why not. */
static int
decide_both(const struct decide_ctx *ctx, struct dec *d)
{
	const struct ent *b = d->b, *m = d->m, *t = d->t;
	const struct ent *meta;
	bool clean;

	if (m == NULL || t == NULL) {
		d->how = CONFLICT;
		d->why = m == NULL ? "removed by the guest, changed by the "
		    "release (the guest's removal kept)" : "changed by the "
		    "guest, removed by the release (the guest's kept)";
		return 0;
	}
	if (!S_ISREG(m->mode) || !S_ISREG(t->mode) ||
	    (b != NULL && !S_ISREG(b->mode))) {
		/* Directories: owners and modes only. */
		if (S_ISDIR(m->mode) && S_ISDIR(t->mode)) {
			d->how = KEEP;
			return 0;
		}
		d->how = CONFLICT;
		d->why = "not files on both sides (the guest's kept)";
		return 0;
	}
	/* The owner and mode of the side that changed them. */
	meta = b != NULL && ((m->uid == b->uid && m->gid == b->gid) ||
	    !ctx->owners) && (m->mode & 07777) == (b->mode & 07777) ? t : m;
	if (same_content(m, t) || (b != NULL && same_content(b, t)) ||
	    (b != NULL && same_content(b, m))) {
		const struct ent *c = b != NULL && same_content(b, m) ? t : m;

		d->merged = *meta;
		d->merged.data = c->data;
		d->merged.len = c->len;
		d->how = MERGE;
		return 0;
	}
	if (!is_text(b) || !is_text(m) || !is_text(t)) {
		d->how = CONFLICT;
		d->why = "not text (the guest's kept)";
		return 0;
	}
	{
		const struct text tb = text_of(b), tm = text_of(m),
		    tt = text_of(t);

		if (merge_file(d->path, &tb, &tm, &tt, &d->mtext,
		    &clean) == -1)
			return -1;
	}
	if (!clean) {
		d->how = CONFLICT;
		return 0;
	}
	d->merged = *meta;
	d->merged.data = d->mtext.s ? d->mtext.s : (char *)"";
	d->merged.len = d->mtext.len;
	d->how = MERGE;
	return 0;
}

static int
decide(const struct decide_ctx *ctx, struct dec *d)
{
	if (same(ctx, d->m, d->t)) {
		d->how = SAME;
		return 0;
	}
	/* The guest's rc is the new root's, without the hook. */
	if (strcmp(d->path, "etc/rc") == 0 || same(ctx, d->m, d->b)) {
		d->how = TAKE;
		return 0;
	}
	if (same(ctx, d->t, d->b)) {
		d->how = KEEP;
		return 0;
	}
	return decide_both(ctx, d);
}

/*
 * etc/motd: rc.d/motd puts the running kernel's version in its first
 * line at every boot (update_motd), where a line starting "NetBSD" is.
 * So that line is the guest's, and no change of anyone's: the rest is
 * decided as a file, and the guest's first line kept before it.
 */
static const struct ent *
motd_rest(const struct ent *e, struct ent *rest)
{
	struct text x = text_of(e);
	size_t head;

	if (e == NULL || !S_ISREG(e->mode) || e->data == NULL)
		return NULL;
	head = merge_motd_head(&x);
	*rest = *e;
	rest->data = e->data + head;
	rest->len = e->len - head;
	return rest;
}

static int
decide_motd(const struct decide_ctx *ctx, struct dec *d)
{
	struct ent rb, rm, rt;
	struct dec n = { .path = d->path };
	const struct ent *r;
	size_t head;

	if (motd_rest(d->b, &rb) != NULL)
		n.b = &rb;
	if (motd_rest(d->m, &rm) == NULL || motd_rest(d->t, &rt) == NULL)
		return decide(ctx, d);
	n.m = &rm;
	n.t = &rt;
	head = rm.data - d->m->data;
	if (decide(ctx, &n) == -1)
		return -1;
	d->how = n.how;
	d->why = n.why;
	if (n.how == TAKE || n.how == MERGE || (n.how == CONFLICT &&
	    n.mtext.s != NULL)) {
		r = n.how == CONFLICT ? NULL : result(&n);
		if (sbuf_add(&d->mtext, d->m->data, head) == -1 ||
		    sbuf_add(&d->mtext, r ? r->data : n.mtext.s,
		    r ? r->len : n.mtext.len) == -1) {
			sbuf_free(&n.mtext);
			return -1;
		}
		if (r != NULL) {
			d->merged = *r;
			d->merged.data = d->mtext.s;
			d->merged.len = d->mtext.len;
			d->own = n.how == TAKE;
		}
	}
	sbuf_free(&n.mtext);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every path of the three sets, sorted, once each. */
static int
union_paths(struct entset *const sets[], size_t nsets, char ***out,
    size_t *np)
{
	size_t i, j, n = 0, k = 0;
	char **v;

	for (i = 0; i < nsets; i++)
		n += sets[i]->n;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		sr_oom();
		return -1;
	}
	for (i = 0; i < nsets; i++)
		for (j = 0; j < sets[i]->n; j++)
			if (!sets[i]->v[j].gone)
				v[k++] = sets[i]->v[j].path;
	if (k > 0)
		qsort(v, k, sizeof(*v), cmp_str);
	for (i = j = 0; i < k; i++)
		if (j == 0 || strcmp(v[j - 1], v[i]) != 0)
			v[j++] = v[i];
	*out = v;
	*np = j;
	return 0;
}

static const char *
parent_of(const char *path, char *buf, size_t len)
{
	char *slash;

	strlcpy(buf, path, len);
	if ((slash = strrchr(buf, '/')) == NULL)
		return NULL;
	*slash = '\0';
	return buf;
}

static struct dec *
find_dec(struct dec *v, size_t n, const char *path)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(v[mid].path, path);

		if (c == 0)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * A tree must stay a tree: what is kept below a directory the release
 * removed keeps the directory; what the release added below one the
 * guest removed is not added.  Walked backwards, children before their
 * parents: a directory kept for what is in it then keeps its own parent.
 */
static void
fix_parents(struct dec *v, size_t n, struct sbuf *list)
{
	size_t i;

	for (i = n; i-- > 0;) {
		char buf[PATH_MAX];
		const char *pp = parent_of(v[i].path, buf, sizeof(buf));
		struct dec *p;

		if (result(&v[i]) == NULL || pp == NULL ||
		    (p = find_dec(v, n, pp)) == NULL || result(p) != NULL)
			continue;
		if (v[i].m != NULL && p->m != NULL) {
			p->how = KEEP;
			(void)sbuf_printf(list, "keep %s: the guest keeps "
			    "files in it\n", p->path);
		} else {
			v[i].how = KEEP;
			v[i].m = NULL;
		}
	}
}

/*
 * Databases made from a text by a program the guest has and this host
 * has not: where the upgrade changes the text, the guest's database is
 * kept (a binary conflict is none) and the guest must make it again.
 */
#define PWD_MKDB	"pwd_mkdb -p /etc/master.passwd"
static const struct derived {
	const char *db, *src, *cmd;
} derived[] = {
	{ "etc/pwd.db", "etc/master.passwd", PWD_MKDB },
	{ "etc/spwd.db", "etc/master.passwd", PWD_MKDB },
	{ "etc/mail/aliases.db", "etc/mail/aliases", "newaliases" },
	{ "etc/login.conf.db", "etc/login.conf", "cap_mkdb /etc/login.conf" },
	{ NULL, NULL, NULL }
};

static int
check_derived(const struct decide_ctx *ctx, struct dec *v, size_t n,
    struct sbuf *rebuild)
{
	const struct derived *d;
	const char *said = NULL;

	for (d = derived; d->db != NULL; d++) {
		struct dec *dd = find_dec(v, n, d->db);
		struct dec *sd = find_dec(v, n, d->src);

		if (dd == NULL || dd->m == NULL || sd == NULL)
			continue;
		/* Never a conflict: it follows its text. */
		if (dd->how == CONFLICT) {
			dd->how = KEEP;
			dd->why = NULL;
		}
		if ((sd->how != TAKE && sd->how != MERGE) ||
		    same(ctx, sd->m, result(sd)))
			continue;
		/* Both from the new root: they agree. */
		if (dd->how == TAKE && sd->how == TAKE)
			continue;
		if (said != NULL && strcmp(said, d->cmd) == 0)
			continue;
		said = d->cmd;
		if (sbuf_printf(rebuild, "%s: made from %s, which the upgrade "
		    "changed: run '%s' in the guest\n", d->db, d->src,
		    d->cmd) == -1)
			return -1;
	}
	return 0;
}

/* Plan the change from m (what the copy holds) to r. */
static int
emit(const struct decide_ctx *ctx, struct plan *u, const char *path,
    const struct ent *m, const struct ent *r, struct sbuf *list)
{
	struct tree_wopts wo = { 0 };

	if (same(ctx, m, r))
		return 0;
	if (r == NULL)
		return plan_remove(u, path);
	if (m != NULL && (m->mode & S_IFMT) != (r->mode & S_IFMT)) {
		if (plan_remove(u, path) == -1)
			return -1;
		m = NULL;
	}
	wo.mode = r->mode & 07777;
	wo.uid = r->uid;
	wo.gid = r->gid;
	if (S_ISDIR(r->mode))
		return m != NULL ? plan_attr(u, path, &wo) :
		    plan_mkdir_as(u, path, &wo);
	if (S_ISLNK(r->mode)) {
		wo.mode = 0755;
		return plan_symlink(u, path, r->link, &wo);
	}
	if (S_ISREG(r->mode)) {
		struct sbuf old = { m ? m->data : NULL, m ? m->len : 0, 0 };
		char *d;

		if (m != NULL && same_content(m, r))
			return plan_attr(u, path, &wo);
		if ((d = malloc(r->len + 1)) == NULL) {
			sr_oom();
			return -1;
		}
		memcpy(d, r->data ? r->data : "", r->len);
		d[r->len] = '\0';
		if (!is_text(r) || !is_text(m))
			return plan_write_data(u, path, d, r->len, &wo);
		return plan_write(u, path, m ? &old : NULL, d, r->len, &wo);
	}
	return sbuf_printf(list, "skip %s: not a file, directory or link\n",
	    path);
}

/* Plan r for every path, skipping what is below a path removed. */
static int
emit_all(const struct decide_ctx *ctx, struct plan *u, struct dec *v,
    size_t n, struct sbuf *list)
{
	const char **gone;
	size_t i, j, ngone = 0;
	int rv = -1;

	if ((gone = calloc(n + 1, sizeof(*gone))) == NULL) {
		sr_oom();
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct ent *r = result(&v[i]);
		bool below = false;

		/* Not only the next paths: "etc/a-b" sorts before "etc/a/b". */
		for (j = 0; j < ngone && !below; j++)
			below = under(v[i].path, gone[j]);
		if (below)
			continue;
		if (v[i].m != NULL && S_ISDIR(v[i].m->mode) && (r == NULL ||
		    !S_ISDIR(r->mode)))
			gone[ngone++] = v[i].path;
		if (emit(ctx, u, v[i].path, v[i].m, r, list) == -1)
			goto done;
	}
	rv = 0;
done:
	free(gone);
	return rv;
}

/* Conflicts of an earlier run go; this run's are written under it. */
static int
plan_conflicts(struct plan *u, struct tree *mine, struct dec *v, size_t n)
{
	char last[PATH_MAX] = "";
	struct stat st;
	size_t i;

	if (tree_lstat(mine, ID_CONFLICTS, &st) == 0) {
		if (plan_remove(u, ID_CONFLICTS) == -1)
			return -1;
	} else if (errno != ENOENT)
		return -1;
	for (i = 0; i < n; i++) {
		const struct tree_wopts wo = { .mode = 0600 };
		char path[PATH_MAX], dir[PATH_MAX], *s, *d;

		if (v[i].how != CONFLICT || v[i].mtext.s == NULL)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s",
		    ID_CONFLICTS, v[i].path) >= sizeof(path)) {
			sr_seterr("%s: path too long", v[i].path);
			return -1;
		}
		/* Each directory above it, once. */
		strlcpy(dir, path, sizeof(dir));
		for (s = strchr(dir + strlen(ID_DIR) + 1, '/'); s != NULL;
		    s = strchr(s + 1, '/')) {
			*s = '\0';
			if (strlen(dir) > strlen(last) ||
			    strncmp(last, dir, strlen(dir)) != 0) {
				if (plan_mkdir(u, dir, 0700) == -1)
					return -1;
				strlcpy(last, dir, sizeof(last));
			}
			*s = '/';
		}
		if ((d = strdup(v[i].mtext.s)) == NULL) {
			sr_oom();
			return -1;
		}
		if (plan_write(u, path, NULL, d, v[i].mtext.len, &wo) == -1)
			return -1;
	}
	return 0;
}

/* var ---------------------------------------------------------------------- */

/*
 * A path of the new root's var the guest lacks, added with its owner
 * and mode: 0 added, 1 not (a device or fifo: said), -1 error.
 */
static int
var_add(const struct upgrade *up, const struct ent *t, struct plan *u,
    struct upgrade_report *rep)
{
	struct tree_wopts wo = { .mode = t->mode & 07777, .uid = t->uid,
	    .gid = t->gid };

	if (S_ISDIR(t->mode)) {
		if (plan_mkdir_as(u, t->path, &wo) == -1)
			return -1;
	} else if (S_ISLNK(t->mode)) {
		wo.mode = 0755;
		if (plan_symlink(u, t->path, t->link, &wo) == -1)
			return -1;
	} else if (S_ISREG(t->mode)) {
		struct sbuf b = { 0 };

		if (dir_readfile(up->newfd, t->path, ENT_MAX, &b, NULL) == -1)
			return -1;
		/* An empty file: a buffer all the same (owned). */
		if (b.s == NULL && sbuf_add(&b, "", 0) == -1)
			return -1;
		if (plan_write_data(u, t->path, b.s, b.len, &wo) == -1)
			return -1;
	} else
		return sbuf_printf(&rep->list, "skip %s: a device or fifo of "
		    "the new root, not added\n", t->path) == -1 ? -1 : 1;
	rep->added++;
	return sbuf_printf(&rep->list, "add %s%s\n", t->path,
	    S_ISDIR(t->mode) ? "/" : "");
}

/*
 * What the new root's var has and the guest's lacks is added, below
 * directories the guest has or that are added; the guest's data is
 * never replaced.
 */
static int
plan_var_added(const struct upgrade *up, struct plan *u,
    struct upgrade_report *rep)
{
	struct entset *tv = &up->root->var;
	const char *skip = NULL;
	const char **added;
	size_t i, nadded = 0;
	int rv = -1;

	if ((added = calloc(tv->n + 1, sizeof(*added))) == NULL)
		return sr_oom();
	for (i = 0; i < tv->n; i++) {
		const struct ent *t = &tv->v[i];
		char buf[PATH_MAX];
		const char *pp = parent_of(t->path, buf, sizeof(buf));
		struct stat st;
		bool padded = false;
		size_t j;
		int r;

		if (skip != NULL && under(t->path, skip))
			continue;
		skip = NULL;
		if (tree_lstat(up->mine, t->path, &st) == 0)
			continue;
		if (errno != ENOENT)
			goto done;
		for (j = 0; pp != NULL && j < nadded; j++)
			padded |= strcmp(added[j], pp) == 0;
		if (pp != NULL && !padded && (tree_lstat(up->mine, pp,
		    &st) == -1 || !S_ISDIR(st.st_mode))) {
			/* The guest removed what it was in: not added. */
			skip = t->path;
			continue;
		}
		if ((r = var_add(up, t, u, rep)) == -1)
			goto done;
		if (r == 0 && S_ISDIR(t->mode))
			added[nadded++] = t->path;
	}
	rv = 0;
done:
	free(added);
	return rv;
}

/* What var_removed() keeps between paths. */
struct var_gone {
	const struct upgrade *up;
	struct upgrade_report *rep;
	char	 dir[PATH_MAX];	/* a directory said: all below it too */
};

/* A path of the old root's var: said if the release removed it. */
static int
var_removed(void *arg, const char *path)
{
	struct var_gone *g = arg;
	struct stat st;

	if (g->dir[0] != '\0' && under(path, g->dir))
		return 0;
	if (get(&g->up->root->var, path) != NULL ||
	    tree_lstat(g->up->mine, path, &st) == -1)
		return 0;
	g->dir[0] = '\0';
	if (sbuf_printf(&g->rep->list, "removed by the release, kept: %s\n",
	    path) == -1)
		return -1;
	if (S_ISDIR(st.st_mode))
		strlcpy(g->dir, path, sizeof(g->dir));
	return 0;
}

/*
 * var: what the new root adds (plan_var_added()); what the release
 * removed (in the old manifest, not in the new root) is said, and kept.
 */
static int
plan_var(const struct upgrade *up, const struct record *rec, struct plan *u,
    struct upgrade_report *rep)
{
	struct var_gone g = { .up = up, .rep = rep };

	if (plan_var_added(up, u, rep) == -1)
		return -1;
	return record_man_paths(&rec->man, "var", var_removed, &g);
}

/* The base ----------------------------------------------------------------- */

/*
 * Whether the guest's etc (m) is as setup-local made it before it set
 * random_file: its rc.conf has no assignment of it.  Such a local's base
 * was provisioned without it, and the new root's side brings it (a
 * guest that wants the default sets random_file itself, and keeps it).
 */
static int
before_random_file(struct entset *m, bool *before)
{
	const struct ent *e = get(m, "etc/rc.conf");
	int r;

	*before = false;
	if (e == NULL || !S_ISREG(e->mode))
		return 0;
	if ((r = rcconf_assigns(e->data ? e->data : "", e->len,
	    "random_file")) == -1) {
		sr_seterrno("etc/rc.conf");
		return -1;
	}
	*before = r == 0;
	return 0;
}

/*
 * The provisioning plan of the base's etc, and the shape of that root:
 * the etc in memory as a root's tree, with the var and tmp a root has
 * (empty; the set's for the while, gone after: no path of etc's).
 */
static int
base_plan(struct entset *etc, const struct localprep *lp, int *shape,
    struct plan *bp)
{
	static const char *const tops[] = { "tmp", "var", NULL };
	const char *const *d;
	struct tree *t;
	int rv = -1;

	for (d = tops; *d != NULL; d++) {
		const struct ent e = { .path = (char *)*d,
		    .mode = S_IFDIR | 0755 };

		if (entset_get(etc, *d) == NULL && entset_add(etc, &e) == -1)
			return -1;
		entset_get(etc, *d)->gone = false;
	}
	if ((t = tree_mem(etc)) != NULL && (*shape = nb_shape(t)) != -1 &&
	    localprep_plan(t, lp, bp) == 0)
		rv = 0;
	tree_close(t);
	for (d = tops; *d != NULL; d++)
		entset_get(etc, *d)->gone = true;
	return rv;
}

/*
 * The base, provisioned as the new root is: what the guest started from
 * (m, the guest's etc, tells what setup-local made then).
 */
static int
base_effective(const struct upgrade *up, struct record *rec,
    struct entset *m, int *shape)
{
	struct localprep blp = *up->lp;
	struct plan bp = { 0 };
	struct tree *t = NULL;
	sr_logfn *fn;
	void *ctx;
	int rv = -1;

	if (before_random_file(m, &blp.before_random_file) == -1)
		return -1;
	sr_getlog(&fn, &ctx);
	sr_setlog(NULL, NULL);		/* the old root's plan: not said */
	if (base_plan(&rec->etc, &blp, shape, &bp) == -1) {
		sr_prefixerr("the old root's etc, as recorded");
		goto done;
	}
	if (upgrade_etc_provision(&rec->etc, &bp) == -1)
		goto done;
	rv = 0;
done:
	sr_setlog(fn, ctx);
	tree_close(t);
	plan_free(&bp);
	return rv;
}

/* The upgrade ------------------------------------------------------------- */

static int
count(struct upgrade_report *rep, struct dec *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (v[i].how) {
		case SAME:
			continue;
		case TAKE:
			rep->taken++;
			break;
		case KEEP:
			rep->kept++;
			break;
		case MERGE:
			rep->merged++;
			break;
		case CONFLICT:
			rep->conflicts++;
			if ((v[i].why != NULL ? sbuf_printf(&rep->conflicted,
			    "%s: %s\n", v[i].path, v[i].why) :
			    sbuf_printf(&rep->conflicted, "%s (the guest's "
			    "kept; the merge is in %s/%s)\n", v[i].path,
			    ID_CONFLICTS, v[i].path)) == -1)
				return -1;
			break;
		}
		if (sbuf_printf(&rep->list, "%s %s\n", hows[v[i].how],
		    v[i].path) == -1)
			return -1;
	}
	return 0;
}

/*
 * A decision for every path of base (or none), theirs and mine, sorted,
 * with the entries of each side; the paths are the sets' own.
 */
static int
decs_make(struct entset *b, struct entset *t, struct entset *m,
    char ***paths, struct dec **vp, size_t *np)
{
	struct entset *sets[3] = { t, m, b };
	struct dec *v;
	size_t i, n;

	*vp = NULL;
	if (union_paths(sets, b != NULL ? 3 : 2, paths, &n) == -1)
		return -1;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		sr_oom();
		return -1;
	}
	for (i = 0; i < n; i++) {
		v[i].path = (*paths)[i];
		v[i].b = b != NULL ? get(b, v[i].path) : NULL;
		v[i].t = get(t, v[i].path);
		v[i].m = get(m, v[i].path);
	}
	*vp = v;
	*np = n;
	return 0;
}

static void
decs_free(struct dec *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		sbuf_free(&v[i].mtext);
	free(v);
}

int
upgrade_root_load(int fd, struct spec *spec, const struct plan *plan,
    struct upgrade_root *r)
{
	const char *id = localprep_root_id(plan);
	struct tree *t;

	r->plan = plan;
	/* Its identity: the digest provisioning made of it, not made again. */
	if (id == NULL) {
		sr_seterr("the new root: no identity in its plan");
		return -1;
	}
	memcpy(r->id, id, ID_HEXLEN);
	r->id[ID_HEXLEN] = '\0';
	if ((t = fd_tree(fd)) == NULL || (r->shape = nb_shape(t)) == -1 ||
	    identity_load(t, spec, "etc", true, &r->etc) == -1 ||
	    upgrade_etc_provision(&r->etc, plan) == -1 ||
	    identity_load(t, spec, "var", false, &r->var) == -1) {
		tree_close(t);
		sr_prefixerr("the new root");
		return -1;
	}
	tree_close(t);
	/* Sorted once, for every guest. */
	(void)entset_get(&r->etc, "");
	(void)entset_get(&r->var, "");
	return 0;
}

void
upgrade_root_free(struct upgrade_root *r)
{
	entset_free(&r->etc);
	entset_free(&r->var);
}

/*
 * The record of the root the local was seeded from: its own, or, for a
 * local an older setup-local made, the one the old root named gives.
 */
static int
find_record(const struct upgrade *up, struct record *rec)
{
	struct stat st;

	if (tree_lstat(up->mine, ID_LOCAL, &st) == 0) {
		if (up->oldfd != -1) {
			sr_seterr("the local has a record of the root it "
			    "was seeded from (%s): name one only for a local "
			    "without", ID_LOCAL);
			sr_sethint(SR_HINT_BASEROOT);
			return -1;
		}
		return record_read(up->mine, ID_DIR, rec);
	}
	if (errno != ENOENT)
		return -1;
	if (up->oldfd == -1) {
		sr_seterr("%s: no record of the root it was seeded from (made "
		    "by an older setup-local): name that root to upgrade it",
		    ID_LOCAL);
		sr_sethint(SR_HINT_NAMEBASE);
		return -1;
	}
	if (record_make(up->oldfd, up->oldspec, rec) == -1) {
		sr_sethint(SR_HINT_BASEROOT);
		return -1;
	}
	return 0;
}

/*
 * Back to the root an upgrade left: refused, a rollback does that.  The
 * root a rollback left is newer: an upgrade to it is like any other.
 */
static int
refuse_back(const struct upgrade *up, const char *oldid, const char *newid)
{
	struct record prev = { 0 };
	struct stat st;
	bool newer;
	int rv = -1;

	if (tree_lstat(up->mine, ID_PREV "/root-id", &st) == 0 &&
	    record_read(up->mine, ID_PREV, &prev) == 0 &&
	    strcmp(prev.id, newid) == 0) {
		if (record_prev_newer(up->mine, &newer) == -1)
			goto done;
		if (!newer) {
			sr_seterr("root %.12s is the one this local was "
			    "upgraded from (older than its root %.12s): to go "
			    "back, roll back", newid, oldid);
			sr_sethint(SR_HINT_ROLLBACK);
			goto done;
		}
	}
	rv = 0;
done:
	record_free(&prev);
	return rv;
}

/* Decide every path of etc, and plan what the decisions make. */
static int
plan_etc(const struct decide_ctx *ctx, const struct upgrade *up,
    struct record *rec, struct entset *m, struct plan *u,
    struct upgrade_report *rep)
{
	struct dec *v = NULL;
	char **paths = NULL;
	size_t n = 0, i;
	int rv = -1;

	if (decs_make(&rec->etc, &up->root->etc, m, &paths, &v, &n) == -1 ||
	    sr_git_init() == -1)
		goto done;
	for (i = 0; i < n; i++)
		if ((strcmp(paths[i], "etc/motd") == 0 ? decide_motd(ctx,
		    &v[i]) : decide(ctx, &v[i])) == -1)
			goto done;
	fix_parents(v, n, &rep->list);
	if (check_derived(ctx, v, n, &rep->rebuild) == -1 ||
	    count(rep, v, n) == -1 ||
	    emit_all(ctx, u, v, n, &rep->list) == -1 ||
	    plan_var(up, rec, u, rep) == -1 ||
	    plan_conflicts(u, up->mine, v, n) == -1 ||
	    record_plan_prev(u, up->mine, up->minespec, rec, false) == -1 ||
	    record_plan_new(u, up->root->plan) == -1)
		goto done;
	rv = 0;
done:
	decs_free(v, n);
	free(paths);
	return rv;
}

int
upgrade_plan(const struct upgrade *up, struct plan *u,
    struct upgrade_report *rep)
{
	const struct decide_ctx ctx = {
		.owners = owners_count(up->mine, up->minespec)
	};
	struct record rec = { 0 };
	struct entset m = { 0 };
	int bshape, rv = -1;

	if (find_record(up, &rec) == -1)
		goto done;
	strlcpy(rep->newid, up->root->id, sizeof(rep->newid));
	strlcpy(rep->oldid, rec.id, sizeof(rep->oldid));
	if (strcmp(rec.id, rep->newid) == 0) {
		rep->current = true;
		rv = 0;
		goto done;
	}
	if (refuse_back(up, rec.id, rep->newid) == -1)
		goto done;
	if (identity_load(up->mine, up->minespec, "etc", true, &m) == -1) {
		sr_prefixerr("the guest's etc");
		goto done;
	}
	if (base_effective(up, &rec, &m, &bshape) == -1)
		goto done;
	if (bshape != up->root->shape) {
		sr_seterr("the local was seeded from a NetBSD %s root, and "
		    "this root is %s: their etc (rc.subr, rc.d, defaults) "
		    "differ too much to merge; carry the guest's settings over "
		    "by hand to one provisioned afresh",
		    bshape == 4 ? "4.x-shaped" : "today's-shaped",
		    bshape == 4 ? "today's shape" : "4.x-shaped");
		sr_sethint(SR_HINT_REPROVISION);
		goto done;
	}
	rv = plan_etc(&ctx, up, &rec, &m, u, rep);
done:
	entset_free(&m);
	record_free(&rec);
	return rv;
}

int
rollback_plan(struct tree *mine, struct spec *minespec, struct plan *u,
    struct upgrade_report *rep)
{
	const struct decide_ctx ctx = {
		.owners = owners_count(mine, minespec)
	};
	struct record cur = { 0 }, prev = { 0 };
	struct entset p = { 0 }, m = { 0 };
	struct sbuf tgz = { 0 };
	struct dec *v = NULL;
	char **paths = NULL;
	struct stat st;
	size_t n = 0, i;
	int rv = -1;

	if (tree_lstat(mine, ID_PREV "/etc.tgz", &st) == -1) {
		if (errno == ENOENT) {
			sr_seterr("%s: no earlier etc to go back to: the local "
			    "was never upgraded", ID_PREV);
			sr_sethint(SR_HINT_UPGRADE);
		}
		return -1;
	}
	if (record_read(mine, ID_DIR, &cur) == -1 ||
	    record_read(mine, ID_PREV, &prev) == -1 ||
	    record_prev_newer(mine, &rep->forward) == -1)
		goto done;
	if (tree_read(mine, ID_PREV "/etc.tgz", ENT_MAX, &tgz) == -1 ||
	    identity_untar(tgz.s, tgz.len, &p) == -1) {
		sr_prefixerr("%s/etc.tgz", ID_PREV);
		goto done;
	}
	strlcpy(rep->oldid, cur.id, sizeof(rep->oldid));
	strlcpy(rep->newid, prev.id, sizeof(rep->newid));
	if (identity_load(mine, minespec, "etc", true, &m) == -1) {
		sr_prefixerr("the guest's etc");
		goto done;
	}
	if (decs_make(NULL, &p, &m, &paths, &v, &n) == -1)
		goto done;
	for (i = 0; i < n; i++)
		v[i].how = same(&ctx, v[i].m, v[i].t) ? SAME : TAKE;
	if (count(rep, v, n) == -1 ||
	    emit_all(&ctx, u, v, n, &rep->list) == -1 ||
	    plan_conflicts(u, mine, v, 0) == -1 ||
	    record_plan_prev(u, mine, minespec, &cur, !rep->forward) == -1 ||
	    record_plan_back(u, &prev) == -1)
		goto done;
	rv = 0;
done:
	decs_free(v, n);
	free(paths);
	entset_free(&p);
	entset_free(&m);
	sbuf_free(&tgz);
	record_free(&cur);
	record_free(&prev);
	return rv;
}

void
upgrade_report_free(struct upgrade_report *rep)
{
	sbuf_free(&rep->rebuild);
	sbuf_free(&rep->list);
	sbuf_free(&rep->conflicted);
}
