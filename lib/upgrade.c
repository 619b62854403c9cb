/*
 * setup-local -u and -R (see upgrade.h).  Everything read from the
 * local (its record, its etc) is a guest's, and may be anything: the
 * record is checked against its own digest before it is trusted, and
 * the archived etc may hold nothing but etc.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include <git2.h>

#include "build.h"
#include "identity.h"
#include "dir.h"
#include "upgrade.h"


/* A local's record of a root: its id, manifest and pristine etc. */
struct record {
	char	 id[ID_HEXLEN + 1];
	struct sbuf idline, man, base;
	struct entset etc;
};

static void
record_free(struct record *r)
{
	sbuf_free(&r->idline);
	sbuf_free(&r->man);
	sbuf_free(&r->base);
	entset_free(&r->etc);
}

/*
 * Read and check the record in dir (.sharedroot or its prev): the id is
 * the digest of the manifest, and the archived etc is the manifest's.
 */
static int
record_read(int fd, const char *dir, struct record *r)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/root-id", dir);
	if (dir_readfile(fd, path, 4096, &r->idline, NULL) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/base-manifest", dir);
	if (dir_readfile(fd, path, ENT_MAX, &r->man, NULL) == -1)
		goto corrupt;
	snprintf(path, sizeof(path), "%s/base-etc.tgz", dir);
	if (dir_readfile(fd, path, ENT_MAX, &r->base, NULL) == -1)
		goto corrupt;
	return identity_record_check(dir, &r->idline, &r->man, &r->base,
	    r->id, &r->etc);
corrupt:
	if (errno == ENOENT)
		sr_prefixerr("corrupt record");
	return -1;
}

/* The tree of a directory at fd, read-only, for identity.c's walks. */
static struct tree *
fd_tree(int fd)
{
	return tree_dir(fd, "the tree", TREE_RDONLY);
}

/* The record a local seeded from the root at fd would have. */
static int
record_make(int fd, struct spec *spec, struct record *r)
{
	struct tree *t = fd_tree(fd);
	int rv = -1;

	if (t != NULL && identity_manifest(t, spec, &r->man, r->id) == 0 &&
	    sbuf_printf(&r->idline, "%s\n", r->id) == 0 &&
	    identity_base(t, spec, &r->base) == 0 &&
	    identity_untar(r->base.s, r->base.len, &r->etc) == 0)
		rv = 0;
	tree_close(t);
	return rv;
}

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

/* Replace e's content (a regular file) with data. */
static int
set_data(struct ent *e, const char *data, size_t len)
{
	char *d = malloc(len + 1);

	if (d == NULL) {
		sr_oom();
		return -1;
	}
	memcpy(d, data, len);
	d[len] = '\0';
	free(e->data);
	e->data = d;
	e->len = len;
	return 0;
}

/* The entry at path, made (or revived, if removed) as told. */
static struct ent *
put(struct entset *s, const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct ent *e = entset_get(s, path);

	if (e == NULL) {
		struct ent n = { .path = (char *)path };

		if (entset_add(s, &n) == -1 ||
		    (e = entset_get(s, path)) == NULL)
			return NULL;
	}
	if (e->gone) {
		free(e->data);
		free(e->link);
		e->data = e->link = NULL;
		e->len = 0;
		e->gone = false;
	}
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	return e;
}

/*
 * What provisioning makes of a root's etc: the plan's writes, removals,
 * directories and NAME.orig copies, done to the entries in memory.
 */
static int
apply_virtual(struct entset *s, const struct plan *p)
{
	size_t i, j;

	for (i = 0; i < p->n; i++) {
		const struct change *c = &p->v[i];
		struct ent *e;
		char orig[PATH_MAX];

		if (!is_etc(c->path))
			continue;
		switch (c->kind) {
		case CH_WRITE:
		case CH_WRITE_FD:
			if (c->kind == CH_WRITE_FD) {
				sr_seterr("%s: not a text the plan holds",
				    c->path);
				return -1;
			}
			e = get(s, c->path);
			snprintf(orig, sizeof(orig), "%s.orig", c->path);
			if (e != NULL && c->wo.keep_orig &&
			    S_ISREG(e->mode) && get(s, orig) == NULL) {
				struct ent o = *e;
				struct ent *oe;

				if ((o.data = malloc(e->len + 1)) == NULL) {
					sr_oom();
					return -1;
				}
				memcpy(o.data, e->data ? e->data : "", e->len);
				o.data[e->len] = '\0';
				oe = put(s, orig, o.mode, o.uid, o.gid);
				if (oe == NULL) {
					free(o.data);
					return -1;
				}
				oe->data = o.data;
				oe->len = o.len;
				e = get(s, c->path);
			}
			if (e == NULL && (e = put(s, c->path, S_IFREG |
			    (c->wo.mode & 07777), c->wo.uid,
			    c->wo.gid)) == NULL)
				return -1;
			if (!c->wo.same_mode)
				e->mode = S_IFREG | (c->wo.mode & 07777);
			if (!c->wo.same_owner) {
				e->uid = c->wo.uid;
				e->gid = c->wo.gid;
			}
			e->mode = S_IFREG | (e->mode & 07777);
			free(e->link);
			e->link = NULL;
			if (set_data(e, c->new ? c->new : "", c->newlen) == -1)
				return -1;
			break;
		case CH_MKDIR:
			if (get(s, c->path) == NULL && put(s, c->path,
			    S_IFDIR | (c->wo.mode & 07777), c->wo.uid,
			    c->wo.gid) == NULL)
				return -1;
			break;
		case CH_REMOVE:
			for (j = 0; j < s->n; j++)
				if (under(s->v[j].path, c->path))
					s->v[j].gone = true;
			break;
		default:
			break;
		}
	}
	return 0;
}

/*
 * Whether owners count: not where an ordinary user changes a directory
 * in place, since it can give nothing it writes an owner (a stage's
 * owners are in its spec, and count).
 */
static bool owners = true;

static bool
same(const struct ent *a, const struct ent *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if ((a->mode & S_IFMT) != (b->mode & S_IFMT) || (owners &&
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

/* Merging ----------------------------------------------------------------- */

/*
 * Three-way merge of text files with libgit2 (as git merge-file): *clean
 * tells whether it merged without conflicts; out holds the merge, with
 * diff3-style markers where it did not.
 */
static int
merge3(const char *path, const struct ent *b, const struct ent *m,
    const struct ent *t, struct sbuf *out, bool *clean)
{
	git_merge_file_input anc, ours, theirs;
	git_merge_file_options o;
	git_merge_file_result res;
	int rv = -1;

	memset(&res, 0, sizeof(res));
	if (git_merge_file_input_init(&anc, GIT_MERGE_FILE_INPUT_VERSION) ||
	    git_merge_file_input_init(&ours, GIT_MERGE_FILE_INPUT_VERSION) ||
	    git_merge_file_input_init(&theirs, GIT_MERGE_FILE_INPUT_VERSION) ||
	    git_merge_file_options_init(&o, GIT_MERGE_FILE_OPTIONS_VERSION)) {
		sr_seterr("%s: merge: libgit2 too old", path);
		return -1;
	}
	anc.ptr = b ? b->data : "";
	anc.size = b ? b->len : 0;
	ours.ptr = m->data;
	ours.size = m->len;
	theirs.ptr = t->data;
	theirs.size = t->len;
	anc.path = ours.path = theirs.path = path;
	anc.mode = ours.mode = theirs.mode = 0100644;
	o.ancestor_label = "old root";
	o.our_label = "guest";
	o.their_label = "new root";
	o.flags = GIT_MERGE_FILE_STYLE_DIFF3;
	if (git_merge_file(&res, &anc, &ours, &theirs, &o) < 0) {
		const git_error *e = git_error_last();

		sr_seterr("%s: merge: %s", path, e ? e->message : "failed");
		return -1;
	}
	*clean = res.automergeable != 0;
	if (sbuf_add(out, res.ptr ? res.ptr : "", res.len) == -1)
		goto done;
	rv = 0;
done:
	git_merge_file_result_free(&res);
	return rv;
}

/*
 * Files of records, a line each, keyed by what comes before the first
 * colon: the password and group files.  A guest adds users, and so does
 * a release (a new daemon's); in a text merge two additions at the end
 * conflict.  Merged record by record instead, each by the rules for
 * whole files; new records of the release go after the record they
 * follow in it.
 */
static const char *const keyed[] = { "etc/master.passwd", "etc/passwd",
    "etc/group", NULL };

struct rec {
	const char *line;	/* with its newline, if any */
	size_t	 len;
	size_t	 klen;		/* the key: up to the colon */
};

struct recs {
	struct rec *v;
	size_t	 n;
};

static int
split_recs(const struct ent *e, struct recs *r)
{
	const char *p = e ? e->data : NULL, *end = p ? p + e->len : NULL;
	size_t cap = 0;

	r->v = NULL;
	r->n = 0;
	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *colon;
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (r->n == cap) {
			struct rec *nv = reallocarray(r->v, cap ? cap * 2 : 64,
			    sizeof(*nv));

			if (nv == NULL) {
				sr_oom();
				return -1;
			}
			r->v = nv;
			cap = cap ? cap * 2 : 64;
		}
		colon = memchr(p, ':', len);
		r->v[r->n].line = p;
		r->v[r->n].len = len;
		r->v[r->n].klen = colon ? (size_t)(colon - p) : len;
		r->n++;
		p += len;
	}
	return 0;
}

static const struct rec *
find_rec(const struct recs *r, const struct rec *key)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->v[i].klen == key->klen &&
		    memcmp(r->v[i].line, key->line, key->klen) == 0)
			return &r->v[i];
	return NULL;
}

static bool
same_rec(const struct rec *a, const struct rec *b)
{
	size_t al, bl;

	if (a == NULL || b == NULL)
		return a == b;
	/* The last line may lack its newline on one side only. */
	al = a->len - (a->line[a->len - 1] == '\n');
	bl = b->len - (b->line[b->len - 1] == '\n');
	return al == bl && memcmp(a->line, b->line, al) == 0;
}

/* Whether a key is there twice: then records cannot be told apart. */
static bool
dup_keys(const struct recs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (find_rec(r, &r->v[i]) != &r->v[i])
			return true;
	return false;
}

static int
add_rec(struct sbuf *out, const struct rec *r)
{
	if (sbuf_add(out, r->line, r->len) == -1)
		return -1;
	return r->line[r->len - 1] == '\n' ? 0 : sbuf_add(out, "\n", 1);
}

static int
add_conflict(struct sbuf *out, const struct rec *m, const struct rec *t)
{
	if (sbuf_adds(out, "<<<<<<< guest\n") == -1 ||
	    (m != NULL && add_rec(out, m) == -1) ||
	    sbuf_adds(out, "=======\n") == -1 ||
	    (t != NULL && add_rec(out, t) == -1) ||
	    sbuf_adds(out, ">>>>>>> new root\n") == -1)
		return -1;
	return 0;
}

/* The release's new records that follow theirs' record i, in order. */
static int
add_new_after(struct sbuf *out, const struct recs *b, const struct recs *m,
    const struct recs *t, size_t i)
{
	for (; i < t->n; i++) {
		if (find_rec(m, &t->v[i]) != NULL)
			break;
		if (find_rec(b, &t->v[i]) == NULL && add_rec(out,
		    &t->v[i]) == -1)
			return -1;
	}
	return 0;
}

/*
 * Merge record by record; *applicable false where a file has a key twice
 * (the text merge does then).
 */
static int
merge_keyed(const struct ent *be, const struct ent *me,
    const struct ent *te, struct sbuf *out, bool *clean, bool *applicable)
{
	struct recs b, m, t;
	size_t i;
	int rv = -1;

	*clean = true;
	*applicable = false;
	if (split_recs(be, &b) == -1 || split_recs(me, &m) == -1 ||
	    split_recs(te, &t) == -1)
		goto done;
	if (dup_keys(&b) || dup_keys(&m) || dup_keys(&t)) {
		rv = 0;
		goto done;
	}
	*applicable = true;
	/* The release's new records before any the guest has. */
	if (add_new_after(out, &b, &m, &t, 0) == -1)
		goto done;
	for (i = 0; i < m.n; i++) {
		const struct rec *mr = &m.v[i];
		const struct rec *br = find_rec(&b, mr), *tr = find_rec(&t, mr);

		if (same_rec(mr, br) && tr != NULL) {
			if (add_rec(out, tr) == -1)
				goto done;
		} else if (same_rec(mr, br)) {
			/* Removed by the release. */
		} else if (same_rec(tr, br) || same_rec(tr, mr) ||
		    (br == NULL && tr == NULL)) {
			if (add_rec(out, mr) == -1)
				goto done;
		} else {
			*clean = false;
			if (add_conflict(out, mr, tr) == -1)
				goto done;
		}
		if (tr != NULL && add_new_after(out, &b, &m, &t,
		    (size_t)(tr - t.v) + 1) == -1)
			goto done;
	}
	/* Removed by the guest: so it stays, unless the release changed it. */
	for (i = 0; i < t.n; i++) {
		const struct rec *br = find_rec(&b, &t.v[i]);

		if (find_rec(&m, &t.v[i]) == NULL && br != NULL &&
		    !same_rec(br, &t.v[i])) {
			*clean = false;
			if (add_conflict(out, NULL, &t.v[i]) == -1)
				goto done;
		}
	}
	rv = 0;
done:
	free(b.v);
	free(m.v);
	free(t.v);
	return rv;
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
decide_both(struct dec *d)
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
	    !owners) && (m->mode & 07777) == (b->mode & 07777) ? t : m;
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
		const char *const *k;
		bool applicable = false;

		for (k = keyed; *k != NULL; k++)
			if (strcmp(d->path, *k) == 0 && merge_keyed(b, m, t,
			    &d->mtext, &clean, &applicable) == -1)
				return -1;
		if (!applicable && merge3(d->path, b, m, t, &d->mtext,
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
decide(struct dec *d)
{
	if (same(d->m, d->t)) {
		d->how = SAME;
		return 0;
	}
	/* The guest's rc is the new root's, without the hook. */
	if (strcmp(d->path, "etc/rc") == 0 || same(d->m, d->b)) {
		d->how = TAKE;
		return 0;
	}
	if (same(d->t, d->b)) {
		d->how = KEEP;
		return 0;
	}
	return decide_both(d);
}

/*
 * etc/motd: rc.d/motd puts the running kernel's version in its first
 * line at every boot (update_motd), where a line starting "NetBSD" is.
 * So that line is the guest's, and no change of anyone's: the rest is
 * decided as a file, and the guest's first line kept before it.
 */
static const char *
motd_rest(const struct ent *e, struct ent *rest)
{
	const char *nl;

	if (e == NULL || !S_ISREG(e->mode))
		return NULL;
	*rest = *e;
	if (e->len >= 6 && memcmp(e->data, "NetBSD", 6) == 0 &&
	    (nl = memchr(e->data, '\n', e->len)) != NULL) {
		rest->data = (char *)nl + 1;
		rest->len = e->len - (size_t)(nl + 1 - e->data);
		return e->data;
	}
	return e->data;
}

static int decide(struct dec *);

static int
decide_motd(struct dec *d)
{
	struct ent rb, rm, rt;
	struct dec n = { .path = d->path };
	const struct ent *r;
	size_t head;

	if (motd_rest(d->b, &rb) != NULL)
		n.b = &rb;
	if (motd_rest(d->m, &rm) == NULL || motd_rest(d->t, &rt) == NULL)
		return decide(d);
	n.m = &rm;
	n.t = &rt;
	head = rm.data - d->m->data;
	if (decide(&n) == -1)
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
check_derived(struct dec *v, size_t n, struct sbuf *rebuild)
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
		    same(sd->m, result(sd)))
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
emit(struct plan *u, const char *path, const struct ent *m,
    const struct ent *r, struct sbuf *list)
{
	struct tree_wopts wo = { 0 };

	if (same(m, r))
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
emit_all(struct plan *u, struct dec *v, size_t n, struct sbuf *list)
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
		if (emit(u, v[i].path, v[i].m, r, list) == -1)
			goto done;
	}
	rv = 0;
done:
	free(gone);
	return rv;
}

/* Records ----------------------------------------------------------------- */

static int
write_copy(struct plan *u, const char *path, const struct sbuf *b,
    bool binary)
{
	const struct tree_wopts wo = { .mode = 0644 };
	char *d = malloc(b->len + 1);

	if (d == NULL) {
		sr_oom();
		return -1;
	}
	memcpy(d, b->s ? b->s : "", b->len);
	d[b->len] = '\0';
	return binary ? plan_write_data(u, path, d, b->len, &wo) :
	    plan_write(u, path, NULL, d, b->len, &wo);
}

/*
 * Which way the step back goes: prev/root-age says whether the root
 * recorded in prev is older than the local's own (an upgrade left it)
 * or newer (a rollback left it).  Records made before it was kept have
 * none, and were left by an upgrade (or taken to be).
 */
#define PREV_AGE	ID_PREV "/root-age"

static int
prev_newer(int fd, bool *newer)
{
	struct sbuf b = { 0 };
	int rv = 0;

	*newer = false;
	if (dir_readfile(fd, PREV_AGE, 64, &b, NULL) == -1)
		return errno == ENOENT ? 0 : -1;
	if (b.len == 6 && memcmp(b.s, "newer\n", 6) == 0)
		*newer = true;
	else if (b.len != 6 || memcmp(b.s, "older\n", 6) != 0) {
		sr_seterr("%s: neither older nor newer (corrupt record)",
		    PREV_AGE);
		rv = -1;
	}
	sbuf_free(&b);
	return rv;
}

/*
 * The record of the root the local leaves (rec) and its etc as it is
 * now go to .sharedroot/prev, replacing what was there: one step back,
 * to a root newer or older than the one the local goes to.
 */
static int
plan_prev(struct plan *u, int minefd, struct spec *minespec,
    const struct record *rec, bool newer)
{
	struct sbuf etc = { 0 };
	struct sbuf age = { (char *)(newer ? "newer\n" : "older\n"), 6, 0 };
	struct stat st;
	struct tree *t;
	int rv = -1;

	/* A local made before records has no directory for them. */
	if (dir_lstat(minefd, ID_DIR, &st) == -1 &&
	    (errno != ENOENT || plan_mkdir(u, ID_DIR, 0755) == -1))
		return -1;
	if (dir_lstat(minefd, ID_PREV, &st) == 0) {
		if (plan_remove(u, ID_PREV) == -1)
			return -1;
	} else if (errno != ENOENT)
		return -1;
	if ((t = fd_tree(minefd)) == NULL ||
	    identity_base(t, minespec, &etc) == -1) {
		tree_close(t);
		sr_prefixerr("the guest's etc");
		return -1;
	}
	tree_close(t);
	if (plan_mkdir(u, ID_PREV, 0755) == -1 ||
	    write_copy(u, ID_PREV "/root-id", &rec->idline, false) == -1 ||
	    write_copy(u, ID_PREV "/base-manifest", &rec->man, true) == -1 ||
	    write_copy(u, ID_PREV "/base-etc.tgz", &rec->base, true) == -1 ||
	    write_copy(u, ID_PREV "/etc.tgz", &etc, true) == -1 ||
	    write_copy(u, PREV_AGE, &age, false) == -1)
		goto done;
	rv = 0;
done:
	sbuf_free(&etc);
	return rv;
}

/* Conflicts of an earlier run go; this run's are written under it. */
static int
plan_conflicts(struct plan *u, int minefd, struct dec *v, size_t n)
{
	char last[PATH_MAX] = "";
	struct stat st;
	size_t i;

	if (dir_lstat(minefd, ID_CONFLICTS, &st) == 0) {
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

/* The new root's record, as its provisioning plan writes it. */
static int
plan_record(struct plan *u, const struct plan *newplan)
{
	size_t i;

	for (i = 0; i < newplan->n; i++) {
		const struct change *c = &newplan->v[i];
		char *d;

		if (!under(c->path, ID_DIR))
			continue;
		if (c->kind == CH_MKDIR) {
			if (plan_mkdir(u, c->path, c->wo.mode) == -1)
				return -1;
			continue;
		}
		if (c->kind != CH_WRITE)
			continue;
		if ((d = malloc(c->newlen + 1)) == NULL) {
			sr_oom();
			return -1;
		}
		memcpy(d, c->new, c->newlen);
		d[c->newlen] = '\0';
		if ((c->binary ? plan_write_data(u, c->path, d, c->newlen,
		    &c->wo) : plan_write(u, c->path, NULL, d, c->newlen,
		    &c->wo)) == -1)
			return -1;
	}
	return 0;
}

/* var ---------------------------------------------------------------------- */

/*
 * What the new root's var has and the guest's lacks is added, below
 * directories the guest has or that are added; the guest's data is
 * never replaced.  What the release removed is said, and kept.
 */
static int
plan_var(const struct upgrade *up, const struct record *rec, struct plan *u,
    struct upgrade_report *rep)
{
	struct entset *tv = &up->root->var;
	const char *skip = NULL;
	char **added = NULL;
	size_t i, nadded = 0;
	int rv = -1;

	if ((added = calloc(tv->n + 1, sizeof(*added))) == NULL) {
		sr_oom();
		goto done;
	}
	for (i = 0; i < tv->n; i++) {
		const struct ent *t = &tv->v[i];
		struct tree_wopts wo = { .mode = t->mode & 07777,
		    .uid = t->uid, .gid = t->gid };
		char buf[PATH_MAX];
		const char *pp = parent_of(t->path, buf, sizeof(buf));
		struct stat st;
		bool padded = false;
		size_t j;

		if (skip != NULL && under(t->path, skip))
			continue;
		skip = NULL;
		if (dir_lstat(up->minefd, t->path, &st) == 0)
			continue;
		if (errno != ENOENT)
			goto done;
		for (j = 0; pp != NULL && j < nadded; j++)
			padded |= strcmp(added[j], pp) == 0;
		if (pp != NULL && !padded && (dir_lstat(up->minefd, pp,
		    &st) == -1 || !S_ISDIR(st.st_mode))) {
			/* The guest removed what it was in: not added. */
			skip = t->path;
			continue;
		}
		if (S_ISDIR(t->mode)) {
			if (plan_mkdir_as(u, t->path, &wo) == -1)
				goto done;
			added[nadded++] = t->path;
		} else if (S_ISLNK(t->mode)) {
			wo.mode = 0755;
			if (plan_symlink(u, t->path, t->link, &wo) == -1)
				goto done;
		} else if (S_ISREG(t->mode)) {
			struct sbuf b = { 0 };

			if (dir_readfile(up->newfd, t->path, ENT_MAX, &b,
			    NULL) == -1)
				goto done;
			/* An empty file: a buffer all the same (owned). */
			if (b.s == NULL && sbuf_add(&b, "", 0) == -1)
				goto done;
			if (plan_write_data(u, t->path, b.s, b.len, &wo) == -1)
				goto done;
		} else {
			if (sbuf_printf(&rep->list, "skip %s: a device or "
			    "fifo of the new root, not added\n", t->path) == -1)
				goto done;
			continue;
		}
		rep->added++;
		if (sbuf_printf(&rep->list, "add %s%s\n", t->path,
		    S_ISDIR(t->mode) ? "/" : "") == -1)
			goto done;
	}
	/* Removed by the release: in the old manifest, not in the new root. */
	{
		const char *p = rec->man.s, *end = rec->man.s + rec->man.len;
		const char *gone = NULL;
		char path[PATH_MAX], enc[PATH_MAX];

		while (p != NULL && p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *eol = nl ? nl : end;
			/* The path, up to the first space of its own line. */
			const char *sp = memchr(p, ' ', (size_t)(eol - p));
			size_t n = sp ? (size_t)(sp - p) : 0;
			struct stat st;

			p = nl ? nl + 1 : end;
			if (n == 0 || n >= sizeof(enc) ||
			    strncmp(sp - n, "var/", 4) != 0)
				continue;
			memcpy(enc, sp - n, n);
			enc[n] = '\0';
			if (strunvis(path, enc) == -1 || strstr(path, "/../") ||
			    (gone != NULL && under(path, gone)))
				continue;
			if (get(tv, path) != NULL ||
			    dir_lstat(up->minefd, path, &st) == -1)
				continue;
			gone = NULL;
			if (sbuf_printf(&rep->list, "removed by the release, "
			    "kept: %s\n", path) == -1)
				goto done;
			if (S_ISDIR(st.st_mode) && strlen(path) < PATH_MAX) {
				static char last[PATH_MAX];

				strlcpy(last, path, sizeof(last));
				gone = last;
			}
		}
	}
	rv = 0;
done:
	free(added);
	return rv;
}

/* The base ----------------------------------------------------------------- */

/*
 * What provisioning reads of a root's etc: the files at its top and in
 * rc.d, cgd and rc.conf.d (localprep_plan()).  Only those are staged.
 */
static bool
read_by_plan(const char *path)
{
	static const char *const dirs[] = { "etc/rc.d/", "etc/cgd/",
	    "etc/rc.conf.d/", NULL };
	const char *const *d;

	if (strchr(path + 4, '/') == NULL)
		return true;
	for (d = dirs; *d != NULL; d++)
		if (strncmp(path, *d, strlen(*d)) == 0 &&
		    strchr(path + strlen(*d), '/') == NULL)
			return true;
	return false;
}

/* Write the base's etc into a stage, so that it can be provisioned. */
static int
stage_base(struct entset *s, struct stage *st)
{
	size_t i;

	if (stage_open(st) == -1 || dir_mkdir(st->fd, "var", 0700) == -1 ||
	    dir_mkdir(st->fd, "tmp", 0700) == -1)
		return -1;
	(void)entset_get(s, "");
	for (i = 0; i < s->n; i++) {
		const struct ent *e = &s->v[i];
		const struct tree_wopts wo = { .mode = 0600, .nosync = true };
		int r;

		if (!S_ISDIR(e->mode) && !read_by_plan(e->path))
			continue;
		if (S_ISDIR(e->mode))
			r = dir_mkdir(st->fd, e->path, 0700);
		else if (S_ISLNK(e->mode))
			r = dir_symlink(st->fd, e->path, e->link, 0, 0);
		else
			r = dir_writefile(st->fd, e->path, e->data ? e->data :
			    "", e->len, &wo);
		if (r == -1)
			return -1;
	}
	return 0;
}

static void
quiet(void *ctx, enum sr_level l, const char *fmt, ...)
{
	(void)ctx;
	(void)l;
	(void)fmt;
}

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
 * The base, provisioned as the new root is: what the guest started from
 * (m, the guest's etc, tells what setup-local made then).
 */
static int
base_effective(const struct upgrade *up, struct record *rec,
    struct entset *m, int *shape)
{
	struct localprep blp = *up->lp;
	struct stage st = { .fd = -1 };
	struct plan bp = { 0 };
	struct tree *t = NULL;
	int rv = -1;

	blp.log = quiet;
	blp.rootspec = NULL;
	if (before_random_file(m, &blp.before_random_file) == -1)
		return -1;
	if (stage_base(&rec->etc, &st) == -1 ||
	    (t = fd_tree(st.fd)) == NULL || (*shape = nb_shape(t)) == -1 ||
	    localprep_plan(t, &blp, &bp) == -1) {
		sr_prefixerr("the old root's etc, as recorded");
		goto done;
	}
	if (apply_virtual(&rec->etc, &bp) == -1)
		goto done;
	rv = 0;
done:
	tree_close(t);
	plan_free(&bp);
	if (stage_close(&st) == -1)
		rv = -1;
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
	    apply_virtual(&r->etc, plan) == -1 ||
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

int
upgrade_plan(const struct upgrade *up, struct plan *u,
    struct upgrade_report *rep)
{
	struct record rec = { 0 }, prev = { 0 };
	struct entset m = { 0 };
	struct dec *v = NULL;
	struct tree *t;
	char **paths = NULL;
	struct stat st;
	size_t n = 0, i;
	int bshape, rv = -1;

	owners = geteuid() == 0 || up->minespec != NULL;
	if (dir_lstat(up->minefd, ID_LOCAL, &st) == 0) {
		if (up->oldfd != -1) {
			sr_seterr("-b: the local has a record of the root it "
			    "was seeded from (%s): -b is for one without",
			    ID_LOCAL);
			return -1;
		}
		if (record_read(up->minefd, ID_DIR, &rec) == -1)
			goto done;
	} else if (errno != ENOENT)
		return -1;
	else if (up->oldfd == -1) {
		sr_seterr("%s: no record of the root it was seeded from (made "
		    "by an older setup-local): name that root with -b old-root "
		    "to upgrade it", ID_LOCAL);
		return -1;
	} else if (record_make(up->oldfd, up->oldspec, &rec) == -1) {
		sr_prefixerr("-b");
		goto done;
	}
	strlcpy(rep->newid, up->root->id, sizeof(rep->newid));
	strlcpy(rep->oldid, rec.id, sizeof(rep->oldid));
	if (strcmp(rec.id, rep->newid) == 0) {
		rep->current = true;
		rv = 0;
		goto done;
	}
	/*
	 * Back to the root an upgrade left: -R does that.  The root a
	 * rollback left is newer: an upgrade to it is like any other.
	 */
	if (dir_lstat(up->minefd, ID_PREV "/root-id", &st) == 0 &&
	    record_read(up->minefd, ID_PREV, &prev) == 0 &&
	    strcmp(prev.id, rep->newid) == 0) {
		bool newer;

		if (prev_newer(up->minefd, &newer) == -1)
			goto done;
		if (!newer) {
			sr_seterr("root %.12s is the one this local was "
			    "upgraded from (older than its root %.12s): to go "
			    "back, setup-local -R", rep->newid, rec.id);
			goto done;
		}
	}
	if ((t = fd_tree(up->minefd)) == NULL ||
	    identity_load(t, up->minespec, "etc", true, &m) == -1) {
		tree_close(t);
		sr_prefixerr("the guest's etc");
		goto done;
	}
	tree_close(t);
	if (base_effective(up, &rec, &m, &bshape) == -1)
		goto done;
	if (bshape != up->root->shape) {
		sr_seterr("the local was seeded from a NetBSD %s root, and "
		    "this root is %s: their etc (rc.subr, rc.d, defaults) "
		    "differ too much to merge; provision the guest afresh "
		    "(setup-local -f) and carry its settings over by hand",
		    bshape == 4 ? "4.x-shaped" : "today's-shaped",
		    bshape == 4 ? "today's shape" : "4.x-shaped");
		goto done;
	}
	if (decs_make(&rec.etc, &up->root->etc, &m, &paths, &v, &n) == -1 ||
	    sr_git_init() == -1)
		goto done;
	for (i = 0; i < n; i++)
		if ((strcmp(paths[i], "etc/motd") == 0 ? decide_motd(&v[i]) :
		    decide(&v[i])) == -1)
			goto done;
	fix_parents(v, n, &rep->list);
	if (check_derived(v, n, &rep->rebuild) == -1 ||
	    count(rep, v, n) == -1 || emit_all(u, v, n, &rep->list) == -1 ||
	    plan_var(up, &rec, u, rep) == -1 ||
	    plan_conflicts(u, up->minefd, v, n) == -1 ||
	    plan_prev(u, up->minefd, up->minespec, &rec, false) == -1 ||
	    plan_record(u, up->root->plan) == -1)
		goto done;
	rv = 0;
done:
	decs_free(v, n);
	free(paths);
	entset_free(&m);
	record_free(&rec);
	record_free(&prev);
	return rv;
}

int
rollback_plan(int minefd, struct spec *minespec, struct plan *u,
    struct upgrade_report *rep)
{
	struct record cur = { 0 }, prev = { 0 };
	struct entset p = { 0 }, m = { 0 };
	struct sbuf tgz = { 0 };
	struct tree *t;
	struct dec *v = NULL;
	char **paths = NULL;
	struct stat st;
	size_t n = 0, i;
	int rv = -1;

	owners = geteuid() == 0 || minespec != NULL;
	if (dir_lstat(minefd, ID_PREV "/etc.tgz", &st) == -1) {
		if (errno == ENOENT)
			sr_seterr("%s: no earlier etc to go back to: the local "
			    "was never upgraded (setup-local -u)", ID_PREV);
		return -1;
	}
	if (record_read(minefd, ID_DIR, &cur) == -1 ||
	    record_read(minefd, ID_PREV, &prev) == -1 ||
	    prev_newer(minefd, &rep->forward) == -1)
		goto done;
	if (dir_readfile(minefd, ID_PREV "/etc.tgz", ENT_MAX, &tgz,
	    NULL) == -1 || identity_untar(tgz.s, tgz.len, &p) == -1) {
		sr_prefixerr("%s/etc.tgz", ID_PREV);
		goto done;
	}
	strlcpy(rep->oldid, cur.id, sizeof(rep->oldid));
	strlcpy(rep->newid, prev.id, sizeof(rep->newid));
	if ((t = fd_tree(minefd)) == NULL ||
	    identity_load(t, minespec, "etc", true, &m) == -1) {
		tree_close(t);
		sr_prefixerr("the guest's etc");
		goto done;
	}
	tree_close(t);
	if (decs_make(NULL, &p, &m, &paths, &v, &n) == -1)
		goto done;
	for (i = 0; i < n; i++)
		v[i].how = same(v[i].m, v[i].t) ? SAME : TAKE;
	if (count(rep, v, n) == -1 || emit_all(u, v, n, &rep->list) == -1 ||
	    plan_conflicts(u, minefd, v, 0) == -1 ||
	    plan_prev(u, minefd, minespec, &cur, !rep->forward) == -1 ||
	    write_copy(u, ID_LOCAL, &prev.idline, false) == -1 ||
	    write_copy(u, ID_MANBASE, &prev.man, true) == -1 ||
	    write_copy(u, ID_BASE, &prev.base, true) == -1)
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
