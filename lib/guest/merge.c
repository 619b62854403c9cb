/*
 * The merges of an upgrade (see merge.h): of lines with libgit2, of
 * records by their keys, and etc/motd's first line set apart.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "guest/merge.h"

int
merge_lines(const char *path, const struct text *b, const struct text *m,
    const struct text *t, struct sbuf *out, bool *clean)
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
	anc.ptr = b != NULL && b->s != NULL ? b->s : "";
	anc.size = b != NULL ? b->len : 0;
	ours.ptr = m->s != NULL ? m->s : "";
	ours.size = m->len;
	theirs.ptr = t->s != NULL ? t->s : "";
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

/* Records ------------------------------------------------------------------ */

/*
 * A guest adds users, and so does a release (a new daemon's); in a
 * merge of lines two additions at the end conflict.  So these merge
 * record by record, each by the rules for whole files.
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

bool
merge_is_keyed(const char *path)
{
	const char *const *k;

	for (k = keyed; *k != NULL; k++)
		if (strcmp(path, *k) == 0)
			return true;
	return false;
}

static int
split_recs(const struct text *e, struct recs *r)
{
	const char *p = e ? e->s : NULL, *end = p ? p + e->len : NULL;
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

			if (nv == NULL)
				return sr_oom();
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

/* The guest's records, each with the release's new ones after it. */
static int
merge_mine(const struct recs *b, const struct recs *m, const struct recs *t,
    struct sbuf *out, bool *clean)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct rec *mr = &m->v[i];
		const struct rec *br = find_rec(b, mr), *tr = find_rec(t, mr);

		if (same_rec(mr, br) && tr != NULL) {
			if (add_rec(out, tr) == -1)
				return -1;
		} else if (same_rec(mr, br)) {
			/* Removed by the release. */
		} else if (same_rec(tr, br) || same_rec(tr, mr) ||
		    (br == NULL && tr == NULL)) {
			if (add_rec(out, mr) == -1)
				return -1;
		} else {
			*clean = false;
			if (add_conflict(out, mr, tr) == -1)
				return -1;
		}
		if (tr != NULL && add_new_after(out, b, m, t,
		    (size_t)(tr - t->v) + 1) == -1)
			return -1;
	}
	return 0;
}

int
merge_keyed(const struct text *be, const struct text *me,
    const struct text *te, struct sbuf *out, bool *clean, bool *applicable)
{
	struct recs b, m, t;
	size_t i;
	int rv = -1;

	*clean = true;
	*applicable = false;
	m.v = t.v = NULL;
	if (split_recs(be, &b) == -1 || split_recs(me, &m) == -1 ||
	    split_recs(te, &t) == -1)
		goto done;
	if (dup_keys(&b) || dup_keys(&m) || dup_keys(&t)) {
		rv = 0;
		goto done;
	}
	*applicable = true;
	/* The release's new records before any the guest has. */
	if (add_new_after(out, &b, &m, &t, 0) == -1 ||
	    merge_mine(&b, &m, &t, out, clean) == -1)
		goto done;
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

int
merge_file(const char *path, const struct text *b, const struct text *m,
    const struct text *t, struct sbuf *out, bool *clean)
{
	bool applicable = false;

	if (merge_is_keyed(path) && merge_keyed(b, m, t, out, clean,
	    &applicable) == -1)
		return -1;
	return applicable ? 0 : merge_lines(path, b, m, t, out, clean);
}

/* etc/motd ----------------------------------------------------------------- */

size_t
merge_motd_head(const struct text *e)
{
	const char *nl;

	if (e->s == NULL || e->len < 6 || memcmp(e->s, "NetBSD", 6) != 0 ||
	    (nl = memchr(e->s, '\n', e->len)) == NULL)
		return 0;
	return (size_t)(nl + 1 - e->s);
}
