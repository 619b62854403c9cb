/*
 * Line arrays for the pure text edits.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/lines.h"
#include "base/sr.h"

static int
lines_grow(struct lines *l)
{
	struct line *nv;
	size_t cap;

	if (l->n < l->cap)
		return 0;
	cap = l->cap ? l->cap * 2 : 64;
	if ((nv = reallocarray(l->v, cap, sizeof(*nv))) == NULL) {
		sr_oom();
		return -1;
	}
	l->v = nv;
	l->cap = cap;
	return 0;
}

int
lines_split(struct lines *l, const char *text, size_t len)
{
	size_t i = 0;

	memset(l, 0, sizeof(*l));
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (lines_grow(l) == -1)
			return -1;
		l->v[l->n].s = text + i;
		l->v[l->n].len = end - i;
		l->v[l->n].own = NULL;
		l->n++;
		i = end + 1;
		l->lastnl = nl != NULL;
	}
	if (len == 0)
		l->lastnl = true;
	return 0;
}

int
lines_insert(struct lines *l, size_t at, const char *s, size_t len)
{
	if (lines_grow(l) == -1)
		return -1;
	memmove(&l->v[at + 1], &l->v[at], (l->n - at) * sizeof(l->v[0]));
	l->v[at].s = s;
	l->v[at].len = len;
	l->v[at].own = NULL;
	l->n++;
	return 0;
}

static char *
vfmt(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0) {
		sr_oom();
		return NULL;
	}
	return s;
}

int
lines_insertf(struct lines *l, size_t at, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	if (s == NULL || lines_insert(l, at, s, strlen(s)) == -1) {
		free(s);
		return -1;
	}
	l->v[at].own = s;
	return 0;
}

int
lines_replacef(struct lines *l, size_t at, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	if (s == NULL)
		return -1;
	free(l->v[at].own);
	l->v[at].s = l->v[at].own = s;
	l->v[at].len = strlen(s);
	return 0;
}

/* A copy of len bytes, NUL bytes and all, NUL-ended. */
static char *
copy_bytes(const char *s, size_t len)
{
	char *c = malloc(len + 1);

	if (c == NULL) {
		sr_oom();
		return NULL;
	}
	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

int
lines_replace(struct lines *l, size_t at, const char *s, size_t len)
{
	char *c = copy_bytes(s, len);

	if (c == NULL)
		return -1;
	free(l->v[at].own);
	l->v[at].s = l->v[at].own = c;
	l->v[at].len = len;
	return 0;
}

int
lines_insert_copy(struct lines *l, size_t at, const char *s, size_t len)
{
	char *c = copy_bytes(s, len);

	if (c == NULL || lines_insert(l, at, c, len) == -1) {
		free(c);
		return -1;
	}
	l->v[at].own = c;
	return 0;
}

void
lines_delete(struct lines *l, size_t at)
{
	free(l->v[at].own);
	memmove(&l->v[at], &l->v[at + 1], (l->n - at - 1) * sizeof(l->v[0]));
	l->n--;
}

int
lines_join(const struct lines *l, char **out, size_t *outlen)
{
	struct sbuf b = { 0 };
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (sbuf_add(&b, l->v[i].s, l->v[i].len) == -1)
			goto fail;
		if ((i + 1 < l->n || l->lastnl) && sbuf_add(&b, "\n", 1) == -1)
			goto fail;
	}
	if (b.s == NULL && sbuf_add(&b, "", 0) == -1)
		goto fail;
	*out = b.s;
	*outlen = b.len;
	return 0;
fail:
	sbuf_free(&b);
	return -1;
}

enum edit_result
lines_result(struct lines *l, bool changed, char **out, size_t *outlen)
{
	enum edit_result r = EDIT_ALREADY;

	if (changed)
		r = lines_join(l, out, outlen) == -1 ? EDIT_ERROR :
		    EDIT_CHANGED;
	lines_free(l);
	return r;
}

void
lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].own);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

size_t
line_indent(const struct line *ln)
{
	size_t i = 0;

	while (i < ln->len && (ln->s[i] == ' ' || ln->s[i] == '\t'))
		i++;
	return i;
}

void
line_code(const struct line *ln, const char **sp, size_t *lenp)
{
	size_t b = line_indent(ln), e;
	const char *hash;

	hash = memchr(ln->s + b, '#', ln->len - b);
	e = hash ? (size_t)(hash - ln->s) : ln->len;
	while (e > b && (ln->s[e - 1] == ' ' || ln->s[e - 1] == '\t' ||
	    ln->s[e - 1] == '\r'))
		e--;
	*sp = ln->s + b;
	*lenp = e - b;
}

bool
line_code_is(const struct line *ln, const char *want)
{
	const char *s;
	size_t len;

	line_code(ln, &s, &len);
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

size_t
line_words(const struct line *ln, const char **w, size_t *wl, size_t max)
{
	const char *s;
	size_t len, i = 0, n = 0;

	line_code(ln, &s, &len);
	while (i < len && n < max) {
		size_t b;

		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		b = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		w[n] = s + b;
		wl[n] = i - b;
		n++;
	}
	return n;
}
