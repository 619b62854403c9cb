/*
 * Unified diffs for the dry run (-n): what an edit would change, in the
 * form every administrator reads.  The edits touch a few lines of files
 * of at most some thousands, so the common head and tail are trimmed and
 * only the middle goes through a plain LCS table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "sr.h"

#define CONTEXT		3
#define MAXCELLS	(16u * 1024 * 1024)

struct op {
	char	 kind;		/* ' ', '-' or '+' */
	size_t	 a, b;		/* line numbers (0-based) in old and new */
};

static bool
same(const struct lines *x, size_t i, const struct lines *y, size_t j)
{
	bool xnl = i + 1 < x->n || x->lastnl, ynl = j + 1 < y->n || y->lastnl;

	return x->v[i].len == y->v[j].len && xnl == ynl &&
	    memcmp(x->v[i].s, y->v[j].s, x->v[i].len) == 0;
}

static int
push(struct op **ops, size_t *n, size_t *cap, char kind, size_t a, size_t b)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 128;
		struct op *no = reallocarray(*ops, nc, sizeof(**ops));

		if (no == NULL) {
			sr_seterrno("out of memory");
			return -1;
		}
		*ops = no;
		*cap = nc;
	}
	(*ops)[*n].kind = kind;
	(*ops)[*n].a = a;
	(*ops)[*n].b = b;
	(*n)++;
	return 0;
}

/* The edit script of the differing middle, by LCS where it fits. */
static int
script(const struct lines *x, const struct lines *y, size_t p, size_t ea,
    size_t eb, struct op **ops, size_t *n, size_t *cap)
{
	size_t ma = ea - p, mb = eb - p, i, j;
	uint32_t *t;

	if (ma == 0 || mb == 0 || (ma + 1) > MAXCELLS / (mb + 1)) {
		for (i = p; i < ea; i++)
			if (push(ops, n, cap, '-', i, p) == -1)
				return -1;
		for (j = p; j < eb; j++)
			if (push(ops, n, cap, '+', ea, j) == -1)
				return -1;
		return 0;
	}
	if ((t = calloc((ma + 1) * (mb + 1), sizeof(*t))) == NULL) {
		sr_seterrno("out of memory");
		return -1;
	}
#define T(i, j) t[(i) * (mb + 1) + (j)]
	for (i = ma; i-- > 0;)
		for (j = mb; j-- > 0;)
			T(i, j) = same(x, p + i, y, p + j) ? T(i + 1, j + 1) + 1 :
			    (T(i + 1, j) >= T(i, j + 1) ? T(i + 1, j) : T(i, j + 1));
	i = j = 0;
	while (i < ma || j < mb) {
		int rv;

		if (i < ma && j < mb && same(x, p + i, y, p + j)) {
			rv = push(ops, n, cap, ' ', p + i, p + j);
			i++, j++;
		} else if (i < ma && (j == mb || T(i + 1, j) >= T(i, j + 1))) {
			rv = push(ops, n, cap, '-', p + i, p + j);
			i++;
		} else {
			rv = push(ops, n, cap, '+', p + i, p + j);
			j++;
		}
		if (rv == -1) {
			free(t);
			return -1;
		}
	}
#undef T
	free(t);
	return 0;
}

static int
emit_line(struct sbuf *out, char kind, const struct lines *l, size_t i)
{
	if (sbuf_add(out, &kind, 1) == -1 ||
	    sbuf_add(out, l->v[i].s, l->v[i].len) == -1 ||
	    sbuf_add(out, "\n", 1) == -1)
		return -1;
	if (i + 1 == l->n && !l->lastnl &&
	    sbuf_adds(out, "\\ No newline at end of file\n") == -1)
		return -1;
	return 0;
}

static int
emit_hunks(struct sbuf *out, const struct op *ops, size_t n,
    const struct lines *x, const struct lines *y)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e, k, la = 0, lb = 0, last;

		while (i < n && ops[i].kind == ' ')
			i++;
		if (i == n)
			break;
		s = i > CONTEXT ? i - CONTEXT : 0;
		/* Extend while changes lie within 2*CONTEXT of each other. */
		last = i;
		for (e = i; e < n; e++) {
			if (ops[e].kind != ' ')
				last = e;
			else if (e - last > 2 * CONTEXT)
				break;
		}
		e = last + CONTEXT + 1 < n ? last + CONTEXT + 1 : n;
		for (k = s; k < e; k++) {
			la += ops[k].kind != '+';
			lb += ops[k].kind != '-';
		}
		if (sbuf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n",
		    ops[s].a + (la ? 1 : 0), la, ops[s].b + (lb ? 1 : 0),
		    lb) == -1)
			return -1;
		for (k = s; k < e; k++) {
			int rv = ops[k].kind == '+' ?
			    emit_line(out, '+', y, ops[k].b) :
			    emit_line(out, ops[k].kind, x, ops[k].a);

			if (rv == -1)
				return -1;
		}
		i = e;
	}
	return 0;
}

int
udiff(struct sbuf *out, const char *path, const char *old, size_t oldlen,
    const char *new, size_t newlen)
{
	struct lines x, y;
	struct op *ops = NULL;
	size_t n = 0, cap = 0, p = 0, ea, eb, i;
	int rv = -1;

	if (lines_split(&x, old ? old : "", old ? oldlen : 0) == -1)
		return -1;
	if (lines_split(&y, new, newlen) == -1) {
		lines_free(&x);
		return -1;
	}
	if (old == NULL)
		x.n = 0;
	ea = x.n;
	eb = y.n;
	while (p < ea && p < eb && same(&x, p, &y, p))
		p++;
	while (ea > p && eb > p && same(&x, ea - 1, &y, eb - 1))
		ea--, eb--;
	for (i = 0; i < p; i++)
		if (push(&ops, &n, &cap, ' ', i, i) == -1)
			goto done;
	if (script(&x, &y, p, ea, eb, &ops, &n, &cap) == -1)
		goto done;
	for (i = 0; ea + i < x.n; i++)
		if (push(&ops, &n, &cap, ' ', ea + i, eb + i) == -1)
			goto done;
	if (sbuf_printf(out, "--- %s%s\n+++ b/%s\n", old ? "a/" : "/dev/null",
	    old ? path : "", path) == -1)
		goto done;
	rv = emit_hunks(out, ops, n, &x, &y);
done:
	free(ops);
	lines_free(&x);
	lines_free(&y);
	return rv;
}
