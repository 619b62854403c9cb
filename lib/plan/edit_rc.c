/*
 * Edits of etc/rc: place the sharedroot pre-hook before rc.subr and
 * rc.conf are read, and take it out again.
 *
 * Two shapes exist (NetBSD's src/etc/rc): 4.x loads rc.subr with a plain
 * ". /etc/rc.subr" at column 0; today's rc wraps it in an
 * "if [ -e ./rc.subr ] ; then ... else . /etc/rc.subr fi" block, where
 * the hook must go before the "if" so that both branches come after it.
 */
#include <stdlib.h>
#include <string.h>

#include "plan/edit.h"
#include "plan/lines.h"
#include "base/sr.h"

#define HOOK_COMMENT \
	"# sharedroot: mount this guest's local disk over /etc and /var," \
	" then re-run rc."

static bool
starts_with_code(const struct line *ln, const char *prefix)
{
	const char *s;
	size_t len, plen = strlen(prefix);

	line_code(ln, &s, &len);
	return len >= plen && memcmp(s, prefix, plen) == 0;
}

static bool
code_contains(const struct line *ln, const char *needle)
{
	const char *s;
	size_t len, nlen = strlen(needle), i;

	line_code(ln, &s, &len);
	for (i = 0; i + nlen <= len; i++)
		if (memcmp(s + i, needle, nlen) == 0)
			return true;
	return false;
}

static ssize_t
find_code(const struct lines *l, const char *code, bool col0)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (line_code_is(&l->v[i], code) &&
		    (!col0 || line_indent(&l->v[i]) == 0))
			return (ssize_t)i;
	return -1;
}

/*
 * Today's shape: a column-0 "if" naming rc.subr whose block, up to its
 * column-0 "fi", loads /etc/rc.subr.  Returns the index of the "if".
 */
static ssize_t
find_rcsubr_block(const struct lines *l)
{
	size_t i, j;

	for (i = 0; i < l->n; i++) {
		if (line_indent(&l->v[i]) != 0 ||
		    !starts_with_code(&l->v[i], "if ") ||
		    !code_contains(&l->v[i], "rc.subr"))
			continue;
		for (j = i + 1; j < l->n; j++) {
			if (line_indent(&l->v[j]) == 0 &&
			    line_code_is(&l->v[j], "fi"))
				break;
			if (line_code_is(&l->v[j], ". /etc/rc.subr"))
				return (ssize_t)i;
		}
	}
	return -1;
}

/* Where rc.subr is loaded: the line before which the hook goes. */
static ssize_t
find_hook_place(const struct lines *l)
{
	ssize_t at;

	if ((at = find_code(l, ". /etc/rc.subr", true)) != -1)
		return at;
	return find_rcsubr_block(l);
}

int
rc_shape(const char *text, size_t len)
{
	return memmem(text, len, "\n. /etc/rc.subr\n", 16) != NULL ? 4 : 10;
}

enum edit_result
rc_insert_hook(const char *text, size_t len, char **out, size_t *outlen)
{
	struct lines l;
	enum edit_result r = EDIT_ERROR;
	ssize_t at, conf;

	*out = NULL;
	if (lines_split(&l, text, len) == -1)
		return EDIT_ERROR;
	if (find_code(&l, RC_HOOK_LINE, false) != -1) {
		r = EDIT_ALREADY;
		goto done;
	}
	if ((at = find_hook_place(&l)) == -1) {
		sr_seterr("cannot find where rc.subr is loaded");
		r = EDIT_CANNOT;
		goto done;
	}
	conf = find_code(&l, ". /etc/rc.conf", false);
	if (conf != -1 && conf < at) {
		sr_seterr("rc.conf is loaded before rc.subr (line %zd); "
		    "cannot place the hook before both", conf + 1);
		r = EDIT_CANNOT;
		goto done;
	}
	if (lines_insert(&l, (size_t)at, "", 0) == -1 ||
	    lines_insert(&l, (size_t)at, RC_HOOK_LINE,
	    strlen(RC_HOOK_LINE)) == -1 ||
	    lines_insert(&l, (size_t)at, HOOK_COMMENT,
	    strlen(HOOK_COMMENT)) == -1)
		goto done;
	return lines_result(&l, true, out, outlen);
done:
	lines_free(&l);
	return r;
}

enum edit_result
rc_remove_hook(const char *text, size_t len, char **out, size_t *outlen)
{
	struct lines l;
	ssize_t at;

	*out = NULL;
	if (lines_split(&l, text, len) == -1)
		return EDIT_ERROR;
	if ((at = find_code(&l, RC_HOOK_LINE, false)) == -1)
		return lines_result(&l, false, out, outlen);
	/* Take out what rc_insert_hook() put in, and only that. */
	if ((size_t)at + 1 < l.n && l.v[at + 1].len == 0)
		lines_delete(&l, (size_t)at + 1);
	lines_delete(&l, (size_t)at);
	if (at > 0 && l.v[at - 1].len == strlen(HOOK_COMMENT) &&
	    memcmp(l.v[at - 1].s, HOOK_COMMENT, l.v[at - 1].len) == 0)
		lines_delete(&l, (size_t)at - 1);
	return lines_result(&l, true, out, outlen);
}
