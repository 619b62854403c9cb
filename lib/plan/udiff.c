/*
 * Unified diffs for the dry run (-n): what an edit would change, in the
 * form every administrator reads.  libgit2 (xdiff, as git diff) finds the
 * hunks; the text is written here, so that the headers and the "\ No
 * newline at end of file" marks stay ours, and so that nothing of
 * libgit2's own formatting (binary notices, function names after @@)
 * decides what the dry run shows.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "plan/lines.h"
#include "base/sr.h"
#include "plan/udiff.h"

#define CONTEXT		3
/*
 * The texts come from images, and xdiff's time grows faster than their
 * length where most lines differ and each repeats often (random lines of
 * a few values: 1 s at 200,000 lines here, a minute at 4 MiB of them).
 * Past this many differing lines, old and new together, far beyond any
 * real file of etc, the differing middle is shown as one hunk that
 * replaces it, as the dry run always showed such texts.
 */
#define XDIFF_MAXLINES	200000

int
sr_git_init(void)
{
	/* The tools are single-threaded; a forked child inherits the state. */
	static bool done;

	if (done)
		return 0;
	if (git_libgit2_init() < 0) {
		const git_error *e = git_error_last();

		sr_seterr("libgit2: %s", e ? e->message : "cannot start");
		return -1;
	}
	done = true;
	return 0;
}

/* The error libgit2 left, as ours. */
static void
git_seterr(const char *path)
{
	const git_error *e = git_error_last();

	sr_seterr("%s: diff: %s", path, e ? e->message : "failed");
}

/* One line of a hunk; the line that ends a text without a newline is marked. */
static int
put_line(struct sbuf *out, char kind, const char *s, size_t len, bool nl)
{
	if (sbuf_add(out, &kind, 1) == -1 || sbuf_add(out, s, len) == -1 ||
	    sbuf_add(out, "\n", 1) == -1)
		return -1;
	if (!nl && sbuf_adds(out, "\\ No newline at end of file\n") == -1)
		return -1;
	return 0;
}

/*
 * The hunks libgit2 found.  Its EOFNL lines, which say the same as our
 * mark after a line without its newline, are left out.
 */
static int
git_hunks(struct sbuf *out, const char *path, const char *old, size_t oldlen,
    const char *new, size_t newlen)
{
	git_diff_options o;
	git_patch *patch = NULL;
	const git_diff_hunk *hk;
	const git_diff_line *l;
	size_t h, i, n, len;
	int rv = -1;

	if (sr_git_init() == -1)
		return -1;
	if (git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION) < 0) {
		git_seterr(path);
		return -1;
	}
	o.context_lines = CONTEXT;
	o.interhunk_lines = 0;
	/* Text with a NUL in it is diffed as text, whatever its size. */
	o.flags |= GIT_DIFF_FORCE_TEXT;
	o.max_size = -1;
	if (git_patch_from_buffers(&patch, old, oldlen, path, new, newlen,
	    path, &o) < 0) {
		git_seterr(path);
		return -1;
	}
	for (h = 0; patch != NULL && h < git_patch_num_hunks(patch); h++) {
		if (git_patch_get_hunk(&hk, &n, patch, h) < 0)
			goto giterr;
		/* Counts always given, as before: "-1,1", never "-1". */
		if (sbuf_printf(out, "@@ -%d,%d +%d,%d @@\n", hk->old_start,
		    hk->old_lines, hk->new_start, hk->new_lines) == -1)
			goto done;
		for (i = 0; i < n; i++) {
			if (git_patch_get_line_in_hunk(&l, patch, h, i) < 0)
				goto giterr;
			if (l->origin != GIT_DIFF_LINE_CONTEXT &&
			    l->origin != GIT_DIFF_LINE_ADDITION &&
			    l->origin != GIT_DIFF_LINE_DELETION)
				continue;
			len = l->content_len;
			if (len > 0 && l->content[len - 1] == '\n') {
				if (put_line(out, l->origin, l->content,
				    len - 1, true) == -1)
					goto done;
			} else if (put_line(out, l->origin, l->content, len,
			    false) == -1)
				goto done;
		}
	}
	rv = 0;
	goto done;
giterr:
	git_seterr(path);
done:
	git_patch_free(patch);
	return rv;
}

static int
put_lines(struct sbuf *out, char kind, const struct lines *l, size_t from,
    size_t to)
{
	for (; from < to; from++)
		if (put_line(out, kind, l->v[from].s, l->v[from].len,
		    from + 1 < l->n || l->lastnl) == -1)
			return -1;
	return 0;
}

static bool
same(const struct lines *x, size_t i, const struct lines *y, size_t j)
{
	bool xnl = i + 1 < x->n || x->lastnl, ynl = j + 1 < y->n || y->lastnl;

	return x->v[i].len == y->v[j].len && xnl == ynl &&
	    memcmp(x->v[i].s, y->v[j].s, x->v[i].len) == 0;
}

/*
 * Texts too long to go through xdiff where they differ: the common head
 * and tail kept, one hunk replacing the middle.
 */
static int
replace_hunk(struct sbuf *out, const struct lines *x, const struct lines *y,
    size_t p, size_t ea, size_t eb)
{
	size_t s = p > CONTEXT ? p - CONTEXT : 0;
	size_t t = x->n - ea > CONTEXT ? CONTEXT : x->n - ea;
	size_t la = ea + t - s, lb = eb + t - s;

	if (sbuf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", s + (la ? 1 : 0),
	    la, s + (lb ? 1 : 0), lb) == -1 ||
	    put_lines(out, ' ', x, s, p) == -1 ||
	    put_lines(out, '-', x, p, ea) == -1 ||
	    put_lines(out, '+', y, p, eb) == -1 ||
	    put_lines(out, ' ', x, ea, ea + t) == -1)
		return -1;
	return 0;
}

int
udiff(struct sbuf *out, const char *path, const char *old, size_t oldlen,
    const char *new, size_t newlen)
{
	struct lines x, y;
	size_t p = 0, ea, eb;
	int rv = -1;

	if (old == NULL)
		oldlen = 0;
	if (new == NULL)
		newlen = 0;
	if (sbuf_printf(out, "--- %s%s\n+++ b/%s\n", old ? "a/" : "/dev/null",
	    old ? path : "", path) == -1)
		return -1;
	if (lines_split(&x, old ? old : "", oldlen) == -1) {
		lines_free(&x);
		return -1;
	}
	if (lines_split(&y, new ? new : "", newlen) == -1)
		goto done;
	ea = x.n;
	eb = y.n;
	while (p < ea && p < eb && same(&x, p, &y, p))
		p++;
	while (ea > p && eb > p && same(&x, ea - 1, &y, eb - 1))
		ea--, eb--;
	if ((ea - p) + (eb - p) > XDIFF_MAXLINES)
		rv = replace_hunk(out, &x, &y, p, ea, eb);
	else
		rv = git_hunks(out, path, old ? old : "", oldlen,
		    new ? new : "", newlen);
done:
	lines_free(&x);
	lines_free(&y);
	return rv;
}
