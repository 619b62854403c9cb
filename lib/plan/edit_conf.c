/*
 * Edits of a guest's own configuration: rc.conf variables, ttys and
 * root's crontab.  Pure functions from old text to new text, like the
 * others (see sr.h).
 */
#include <stdlib.h>
#include <string.h>

#include "plan/edit.h"
#include "plan/lines.h"
#include "base/sr.h"

/* Whether a line is an active "name=..." assignment. */
static bool
assigns(const struct line *ln, const char *name)
{
	size_t i = line_indent(ln), n = strlen(name);

	return ln->len >= i + n + 1 && memcmp(ln->s + i, name, n) == 0 &&
	    ln->s[i + n] == '=';
}

int
rcconf_assigns(const char *text, size_t len, const char *name)
{
	struct lines l;
	size_t i;
	int found = 0;

	if (lines_split(&l, text, len) == -1)
		return -1;
	for (i = 0; i < l.n && !found; i++)
		found = assigns(&l.v[i], name);
	lines_free(&l);
	return found;
}

enum edit_result
rcconf_set(const char *text, size_t len, const char *name, const char *value,
    char **out, size_t *outlen)
{
	struct lines l;
	size_t i, want = strlen(name) + 1 + strlen(value);
	bool found = false, changed = false;

	*out = NULL;
	if (lines_split(&l, text, len) == -1)
		return EDIT_ERROR;
	/*
	 * Replace each active assignment: the shell takes the last, and a
	 * stale earlier one would only mislead whoever reads the file.
	 */
	for (i = 0; i < l.n; i++) {
		const char *code;
		size_t clen;

		if (!assigns(&l.v[i], name))
			continue;
		found = true;
		line_code(&l.v[i], &code, &clen);
		if (clen == want && line_indent(&l.v[i]) == 0 &&
		    memcmp(code + strlen(name) + 1, value, strlen(value)) == 0 &&
		    clen == l.v[i].len)
			continue;
		if (lines_replacef(&l, i, "%s=%s", name, value) == -1)
			goto fail;
		changed = true;
	}
	if (!found) {
		if (!l.lastnl && l.n > 0)
			l.lastnl = true;
		if (lines_insertf(&l, l.n, "%s=%s", name, value) == -1)
			goto fail;
		l.lastnl = true;
		changed = true;
	}
	return lines_result(&l, changed, out, outlen);
fail:
	lines_free(&l);
	return EDIT_ERROR;
}

/*
 * ttys(5): name, getty command (maybe quoted), type, on|off, flags.
 * Find the status field of a line: its offset and length, or false.
 */
static bool
ttys_status(const struct line *ln, size_t *off, size_t *flen,
    size_t *nameoff, size_t *namelen)
{
	size_t i = line_indent(ln), field = 0;

	if (i < ln->len && ln->s[i] == '#')
		return false;
	while (i < ln->len) {
		size_t b;

		while (i < ln->len && (ln->s[i] == ' ' || ln->s[i] == '\t'))
			i++;
		if (i == ln->len || ln->s[i] == '#')
			break;
		b = i;
		if (ln->s[i] == '"') {
			i++;
			while (i < ln->len && ln->s[i] != '"')
				i++;
			if (i < ln->len)
				i++;
		} else {
			while (i < ln->len && ln->s[i] != ' ' &&
			    ln->s[i] != '\t')
				i++;
		}
		if (field == 0) {
			*nameoff = b;
			*namelen = i - b;
		}
		if (field == 3) {
			*off = b;
			*flen = i - b;
			return true;
		}
		field++;
	}
	return false;
}

/*
 * A per-line rewrite: fn puts a line's new text in its sbuf and returns
 * 1, returns 0 to keep the line, or -1 on error.  Lines are bytes: a
 * NUL in one is kept like any other.
 */
typedef int rewrite_fn(const struct line *, struct sbuf *);

static enum edit_result
rewrite_lines(const char *text, size_t len, rewrite_fn *fn, char **out,
    size_t *outlen)
{
	struct lines l;
	bool changed = false;
	size_t i;

	*out = NULL;
	if (lines_split(&l, text, len) == -1)
		return EDIT_ERROR;
	for (i = 0; i < l.n; i++) {
		struct sbuf nb = { 0 };
		int r = fn(&l.v[i], &nb);

		if (r == -1 || (r == 1 && lines_replace(&l, i, nb.s,
		    nb.len) == -1)) {
			sbuf_free(&nb);
			lines_free(&l);
			return EDIT_ERROR;
		}
		sbuf_free(&nb);
		changed |= r == 1;
	}
	return lines_result(&l, changed, out, outlen);
}

/* A terminal other than the console that is on: turn it off. */
static int
tty_off(const struct line *ln, struct sbuf *nb)
{
	size_t off, flen, noff = 0, nlen = 0;

	if (!ttys_status(ln, &off, &flen, &noff, &nlen) ||
	    (nlen == 7 && memcmp(ln->s + noff, "console", 7) == 0) ||
	    flen != 2 || memcmp(ln->s + off, "on", 2) != 0)
		return 0;
	return sbuf_add(nb, ln->s, off) == -1 || sbuf_adds(nb, "off") == -1 ||
	    sbuf_add(nb, ln->s + off + 2, ln->len - off - 2) == -1 ? -1 : 1;
}

enum edit_result
ttys_console_only(const char *text, size_t len, char **out, size_t *outlen)
{
	return rewrite_lines(text, len, tty_off, out, outlen);
}

/* Whether an active crontab line runs the given script as a word. */
static bool
runs(const struct line *ln, const char *script)
{
	size_t n = strlen(script), i = line_indent(ln);

	/* A blank line, maybe the text's last: nothing past its end. */
	if (i == ln->len || ln->s[i] == '#')
		return false;
	for (i = 0; i + n <= ln->len; i++)
		if (memcmp(ln->s + i, script, n) == 0 &&
		    (i == 0 || ln->s[i - 1] == ' ' || ln->s[i - 1] == '\t') &&
		    (i + n == ln->len || ln->s[i + n] == ' ' ||
		    ln->s[i + n] == '\t' || ln->s[i + n] == ';'))
			return true;
	return false;
}

/* A line running the daily or weekly script: comment it out. */
static int
cron_quiet(const struct line *ln, struct sbuf *nb)
{
	if (!runs(ln, "/etc/daily") && !runs(ln, "/etc/weekly"))
		return 0;
	return sbuf_adds(nb, "#") == -1 || sbuf_add(nb, ln->s, ln->len) ==
	    -1 ? -1 : 1;
}

enum edit_result
crontab_quiet(const char *text, size_t len, char **out, size_t *outlen)
{
	return rewrite_lines(text, len, cron_quiet, out, outlen);
}
