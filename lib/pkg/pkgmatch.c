/*
 * Package patterns as pkg_install matches them (pkgmatch.h).  Written
 * from lib/opattern.c and lib/dewey.c's behaviour: a version is cut into
 * components (numbers; "alpha" -3, "beta" -2, "pre" and "rc" -1, "pl",
 * '.' and '_' 0; a letter x as 0 then x's place in the alphabet; "nbN"
 * the revision compared last); two versions compare component by
 * component, a missing one counting as 0.  Numbers saturate rather than
 * overflow; alternatives are bounded, where pkg_install would expand
 * without end.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/sr.h"
#include "pkg/pkgmatch.h"

enum { V_ALPHA = -3, V_BETA = -2, V_RC = -1, V_DOT = 0 };

/* How many patterns one match may try through its alternatives. */
#define ALT_BUDGET	4096

static const struct {
	const char	*s;
	int		 v;
} modifiers[] = {
	{ "alpha", V_ALPHA }, { "beta", V_BETA }, { "pre", V_RC },
	{ "rc", V_RC }, { "pl", V_DOT }, { "_", V_DOT }, { ".", V_DOT },
};

/* A version read a component at a time. */
struct vit {
	const char	*p;
	int		 pending;	/* a letter's second component */
	bool		 has_pending;
	int		 nb;		/* the last "nb" revision seen */
};

static int
number(const char **pp)
{
	const char *p = *pp;
	int n = 0;

	for (; isdigit((unsigned char)*p); p++)
		n = n > (INT_MAX - 9) / 10 ? INT_MAX : n * 10 + (*p - '0');
	*pp = p;
	return n;
}

/* The next component into *v: true, or false at the end. */
static bool
vnext(struct vit *it, int *v)
{
	size_t i;

	for (;;) {
		const char *p = it->p;

		if (it->has_pending) {
			it->has_pending = false;
			*v = it->pending;
			return true;
		}
		if (*p == '\0')
			return false;
		if (isdigit((unsigned char)*p)) {
			*v = number(&it->p);
			return true;
		}
		for (i = 0; i < sizeof(modifiers) / sizeof(modifiers[0]); i++)
			if (strncasecmp(p, modifiers[i].s,
			    strlen(modifiers[i].s)) == 0) {
				it->p += strlen(modifiers[i].s);
				*v = modifiers[i].v;
				return true;
			}
		if (strncasecmp(p, "nb", 2) == 0) {
			it->p += 2;
			it->nb = number(&it->p);
			continue;
		}
		it->p++;
		if (isalpha((unsigned char)*p)) {
			it->pending = tolower((unsigned char)*p) - 'a' + 1;
			it->has_pending = true;
			*v = V_DOT;
			return true;
		}
		/* Anything else is skipped, as dewey.c does. */
	}
}

/* The "nb" revision of a version (the last one, as dewey.c keeps). */
static int
revision(const char *s)
{
	struct vit it = { s, 0, false, 0 };
	int v;

	while (vnext(&it, &v))
		;
	return it.nb;
}

int
pkg_version_cmp(const char *a, const char *b)
{
	struct vit ia = { a, 0, false, 0 }, ib = { b, 0, false, 0 };
	int va, vb, na, nb;
	bool ea, eb;

	for (;;) {
		ea = !vnext(&ia, &va);
		eb = !vnext(&ib, &vb);
		if (ea && eb)
			break;
		if (ea)
			va = 0;
		if (eb)
			vb = 0;
		if (va != vb)
			return va < vb ? -1 : 1;
	}
	na = revision(a);
	nb = revision(b);
	return na < nb ? -1 : na > nb;
}

enum { OP_LE, OP_LT, OP_GE, OP_GT, OP_EQ, OP_NE };

/* The operator at s, its length into *len; -1 if none. */
static int
mktest(const char *s, size_t *len)
{
	static const struct { const char *s; int op; } tests[] = {
		{ "<=", OP_LE }, { "<", OP_LT }, { ">=", OP_GE },
		{ ">", OP_GT }, { "==", OP_EQ }, { "!=", OP_NE },
	};
	size_t i;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (strncmp(s, tests[i].s, strlen(tests[i].s)) == 0) {
			*len = strlen(tests[i].s);
			return tests[i].op;
		}
	return -1;
}

static bool
test(const char *version, int op, const char *against)
{
	int c = pkg_version_cmp(version, against);

	switch (op) {
	case OP_LE:	return c <= 0;
	case OP_LT:	return c < 0;
	case OP_GE:	return c >= 0;
	case OP_GT:	return c > 0;
	case OP_EQ:	return c == 0;
	default:	return c != 0;
	}
}

/* "base>=1.0<2" and the like against "base-version". */
static int
dewey_match(const char *pattern, const char *pkg)
{
	const char *version = strrchr(pkg, '-'), *sep, *sep2 = NULL;
	char lower[PKGMATCH_PATTERN_MAX + 1];
	size_t n, n2;
	int op, op2;

	if (version == NULL)
		return 0;
	sep = strpbrk(pattern, "<>");
	if ((size_t)(sep - pattern) != (size_t)(version - pkg) ||
	    strncmp(pkg, pattern, (size_t)(version - pkg)) != 0)
		return 0;
	version++;
	if ((op = mktest(sep, &n)) < 0)
		return 0;
	sep += n;
	if ((op == OP_GT || op == OP_GE) && (sep2 = strchr(sep, '<')) != NULL) {
		if ((op2 = mktest(sep2, &n2)) < 0)
			return 0;
		if (!test(version, op2, sep2 + n2))
			return 0;
		snprintf(lower, sizeof(lower), "%.*s", (int)(sep2 - sep), sep);
		return test(version, op, lower);
	}
	return test(version, op, sep);
}

static int match(const char *, const char *, int *);

/* "{a,b}" alternatives: each expanded in turn, the rest kept. */
static int
alternate_match(const char *pattern, const char *pkg, int *budget)
{
	const char *open = strchr(pattern, '{'), *last = NULL, *cp, *sep;
	char buf[PKGMATCH_PATTERN_MAX + 1];
	int depth = 0, r;

	for (cp = open; *cp != '\0' && last == NULL; cp++) {
		if (*cp == '{')
			depth++;
		else if (*cp == '}' && --depth == 0)
			last = cp + 1;
	}
	if (depth != 0 || last == NULL) {
		sr_seterr("\"%.60s\": unbalanced braces", pattern);
		return -1;
	}
	for (cp = open + 1;; cp = sep + 1) {
		for (depth = 0, sep = cp; depth > 0 ||
		    (*sep != '}' && *sep != ','); sep++) {
			if (*sep == '{')
				depth++;
			else if (*sep == '}')
				depth--;
		}
		snprintf(buf, sizeof(buf), "%.*s%.*s%s", (int)(open - pattern),
		    pattern, (int)(sep - cp), cp, last);
		if ((r = match(buf, pkg, budget)) != 0)
			return r;
		if (*sep == '}')
			return 0;
	}
}

/* pkg_install's quick test: two literal first characters must agree. */
static bool
quick_match(const char *pattern, const char *pkg)
{
#define SIMPLE(x) (isalnum((unsigned char)(x)) || (x) == '-')
	if (!SIMPLE(pattern[0]))
		return true;
	if (pattern[0] != pkg[0])
		return false;
	if (!SIMPLE(pattern[1]))
		return true;
	return pattern[1] == pkg[1];
#undef SIMPLE
}

static int
match(const char *pattern, const char *pkg, int *budget)
{
	char buf[PKGMATCH_PATTERN_MAX + 16];

	if (strlen(pattern) > PKGMATCH_PATTERN_MAX) {
		sr_seterr("\"%.60s...\": a pattern longer than %d bytes",
		    pattern, PKGMATCH_PATTERN_MAX);
		return -1;
	}
	if (--*budget < 0) {
		sr_seterr("\"%.60s\": too many alternatives", pattern);
		return -1;
	}
	if (!quick_match(pattern, pkg))
		return 0;
	if (strchr(pattern, '{') != NULL)
		return alternate_match(pattern, pkg, budget);
	if (strpbrk(pattern, "<>") != NULL)
		return dewey_match(pattern, pkg);
	if (strpbrk(pattern, "*?[]") != NULL &&
	    fnmatch(pattern, pkg, FNM_PERIOD) == 0)
		return 1;
	if (strcmp(pattern, pkg) == 0)
		return 1;
	/* A glob or a name may leave the version out. */
	snprintf(buf, sizeof(buf), "%s-[0-9]*", pattern);
	return fnmatch(buf, pkg, FNM_PERIOD) == 0;
}

int
pkg_match(const char *pattern, const char *pkg)
{
	int budget = ALT_BUDGET;
	int r = match(pattern, pkg, &budget);

	if (r < 0)
		sr_prefixerr("pattern");
	return r;
}

int
pkg_order(const char *pattern, const char *a, const char *b)
{
	const char *va, *vb;
	int ma = a != NULL ? pkg_match(pattern, a) == 1 : 0;
	int mb = b != NULL ? pkg_match(pattern, b) == 1 : 0;

	if (!ma)
		return mb ? 2 : 0;
	if (!mb)
		return 1;
	va = strrchr(a, '-');
	vb = strrchr(b, '-');
	if (va == NULL)
		return 2;
	if (vb == NULL)
		return 1;
	return pkg_version_cmp(va + 1, vb + 1) > 0 ? 1 : 2;
}
