/*
 * Edit of dev/MAKEDEV for a /dev that init builds in memory at each boot.
 *
 * 4.x lists the devices of "MAKEDEV init" explicitly and knows only
 * xbd0 and xbd1, so a guest with local and pkg disks would have no nodes
 * for them: add xbd2 to xbd4 and the pseudo-devices a domU wants, make
 * vnd0 instead of tapes and CD drives, and drop the hardware RAID and
 * network-card units (whole lines in the stock file, but only those
 * words wherever they are).  Today's MAKEDEV makes "all", whose machine-
 * dependent part already covers xbd0 to xbd3: it needs nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "plan/edit.h"
#include "plan/lines.h"
#include "base/sr.h"

#define MAXWORDS 64

/* Each group is added as one "makedev" line, holding what is missing. */
static const char *const add_groups[][6] = {
	{ "sysmon", "clockctl", NULL },
	{ "ipl", "pf", "crypto", "systrace", NULL },
	{ "tun0", "tun1", "tun2", "tun3", NULL },
	{ "tap", "tap0", "tap1", "tap2", "tap3", NULL },
	{ "kttcp", NULL },
};
static const char *const xbd_add[] = { "xbd2", "xbd3", "xbd4", NULL };
/* Units (a name and a number) a domU has none of. */
static const char *const tapes_cds[] = { "st", "ch", "cd", "mcd", NULL };
static const char *const raid_nics[] = { "iop", "mlx", "mly", "dpti", "dpt",
    "twe", "icp", "ed", "ld", NULL };

struct mkline {
	const char *w[MAXWORDS];
	size_t	 wl[MAXWORDS];
	size_t	 n;		/* words after "makedev" */
};

/* Parse a "makedev a b c" line; false if the line is something else. */
static bool
parse_makedev(const struct line *ln, struct mkline *m)
{
	const char *w[MAXWORDS + 1];
	size_t wl[MAXWORDS + 1], n, i;

	n = line_words(ln, w, wl, MAXWORDS + 1);
	if (n < 2 || wl[0] != 7 || memcmp(w[0], "makedev", 7) != 0)
		return false;
	for (i = 1; i < n; i++) {
		m->w[i - 1] = w[i];
		m->wl[i - 1] = wl[i];
	}
	m->n = n - 1;
	return true;
}

static bool
word_is(const char *w, size_t wl, const char *s)
{
	return wl == strlen(s) && memcmp(w, s, wl) == 0;
}

/* Whether a word is a unit of one of the names: the name, digits. */
static bool
unit_of(const char *w, size_t wl, const char *const *names)
{
	size_t n, i;

	for (; *names != NULL; names++) {
		if ((n = strlen(*names)) >= wl || memcmp(w, *names, n) != 0)
			continue;
		for (i = n; i < wl && w[i] >= '0' && w[i] <= '9'; i++)
			;
		if (i == wl)
			return true;
	}
	return false;
}

static bool
mk_has(const struct mkline *m, const char *dev)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (word_is(m->w[i], m->wl[i], dev))
			return true;
	return false;
}

/* Find "name)" and its ";;": the lines strictly between are the body. */
static bool
find_case(const struct lines *l, const char *label, size_t *b, size_t *e)
{
	size_t i, j;

	for (i = 0; i < l->n; i++) {
		if (!line_code_is(&l->v[i], label))
			continue;
		for (j = i + 1; j < l->n; j++)
			if (line_code_is(&l->v[j], ";;")) {
				*b = i + 1;
				*e = j;
				return true;
			}
		return false;
	}
	return false;
}

static bool
block_has(const struct lines *l, size_t b, size_t e, const char *dev)
{
	struct mkline m;
	size_t i;

	for (i = b; i < e; i++)
		if (parse_makedev(&l->v[i], &m) && mk_has(&m, dev))
			return true;
	return false;
}

static enum edit_result
check_today(const struct lines *l)
{
	size_t b, e;

	if (!find_case(l, "all_md)", &b, &e)) {
		sr_seterr("init makes \"all\" but there is no all_md) case; "
		    "unknown MAKEDEV shape");
		return EDIT_CANNOT;
	}
	if (!block_has(l, b, e, "xbd0") || !block_has(l, b, e, "xbd1") ||
	    !block_has(l, b, e, "xbd2") || !block_has(l, b, e, "xbd3")) {
		sr_seterr("all_md) does not make xbd0 to xbd3; "
		    "unknown MAKEDEV shape");
		return EDIT_CANNOT;
	}
	return EDIT_NOTNEEDED;
}

/* Format "<indent>makedev" followed by words. */
static int
format_mk(struct sbuf *sb, const struct line *like, const char *const *w,
    const size_t *wl, size_t n)
{
	size_t i;

	if (sbuf_add(sb, like->s, line_indent(like)) == -1 ||
	    sbuf_adds(sb, "makedev") == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (sbuf_add(sb, " ", 1) == -1 ||
		    sbuf_add(sb, w[i], wl[i] ? wl[i] : strlen(w[i])) == -1)
			return -1;
	return 0;
}

/* Make the line at "<its indent>makedev" followed by words. */
static int
replace_mk(struct lines *l, size_t at, const char *const *w, const size_t *wl,
    size_t n)
{
	struct sbuf sb = { 0 };
	int rv = -1;

	if (format_mk(&sb, &l->v[at], w, wl, n) == 0)
		rv = lines_replace(l, at, sb.s, sb.len);
	sbuf_free(&sb);
	return rv;
}

/*
 * Find init)'s body, lines b to e, and its line making xbd0: true if
 * init) lists its devices (the 4.x shape, to edit); false with *r the
 * outcome otherwise (today's "all", or a shape not known).
 */
static bool
find_init(const struct lines *l, size_t *b, size_t *e, size_t *xbd,
    enum edit_result *r)
{
	struct mkline m;
	size_t i;
	bool all = false;

	*r = EDIT_CANNOT;
	*xbd = (size_t)-1;
	if (!find_case(l, "init)", b, e)) {
		sr_seterr("no init) case; unknown MAKEDEV shape");
		return false;
	}
	for (i = *b; i < *e; i++) {
		const char *w[MAXWORDS + 2];
		size_t wl[MAXWORDS + 2];

		/* Rewritten, a longer line would lose its last words. */
		if (line_words(&l->v[i], w, wl, MAXWORDS + 2) > MAXWORDS + 1 &&
		    word_is(w[0], wl[0], "makedev")) {
			sr_seterr("init): a makedev line of more than %d "
			    "devices; unknown MAKEDEV shape", MAXWORDS);
			return false;
		}
		if (!parse_makedev(&l->v[i], &m))
			continue;
		if (word_is(m.w[0], m.wl[0], "all"))
			all = true;
		if (mk_has(&m, "xbd0") && *xbd == (size_t)-1)
			*xbd = i;
	}
	if (all) {
		*r = check_today(l);
		return false;
	}
	if (*xbd == (size_t)-1) {
		sr_seterr("init) neither lists xbd0 nor makes \"all\"; "
		    "unknown MAKEDEV shape");
		return false;
	}
	return true;
}

/* xbd2 to xbd4, right after the last xbd unit already there. */
static int
add_xbd(struct lines *l, size_t b, size_t e, size_t xbd, bool *changed)
{
	const char *nw[MAXWORDS + 3];
	size_t nwl[MAXWORDS + 3], n = 0, last = 0, k, x;
	struct mkline m;
	bool add = false;

	parse_makedev(&l->v[xbd], &m);
	for (k = 0; k < m.n; k++)
		if (m.wl[k] > 3 && memcmp(m.w[k], "xbd", 3) == 0)
			last = k;
	for (k = 0; xbd_add[k] != NULL; k++)
		if (!block_has(l, b, e, xbd_add[k]))
			add = true;
	if (!add)
		return 0;
	for (k = 0; k < m.n; k++) {
		nw[n] = m.w[k];
		nwl[n++] = m.wl[k];
		if (k != last)
			continue;
		for (x = 0; xbd_add[x] != NULL; x++)
			if (!block_has(l, b, e, xbd_add[x])) {
				nw[n] = xbd_add[x];
				nwl[n++] = 0;
			}
	}
	if (replace_mk(l, xbd, nw, nwl, n) == -1)
		return -1;
	*changed = true;
	return 0;
}

/* Pseudo-devices, each group as one line after the xbd line. */
static int
add_pseudo(struct lines *l, size_t b, size_t *e, size_t xbd, bool *changed)
{
	struct sbuf sb = { 0 };
	size_t g;

	for (g = sizeof(add_groups) / sizeof(add_groups[0]); g-- > 0;) {
		const char *nw[6];
		size_t nwl[6] = { 0 }, n = 0, k;

		for (k = 0; add_groups[g][k] != NULL; k++)
			if (!block_has(l, b, *e, add_groups[g][k]))
				nw[n++] = add_groups[g][k];
		if (n == 0)
			continue;
		if (format_mk(&sb, &l->v[xbd], nw, nwl, n) == -1 ||
		    lines_insert_copy(l, xbd + 1, sb.s, sb.len) == -1) {
			sbuf_free(&sb);
			return -1;
		}
		sbuf_free(&sb);
		(*e)++;
		*changed = true;
	}
	return 0;
}

/*
 * Tapes and CD drives give way to vnd0; RAID and network-card units go.
 * Only those words: a line may hold others (xbd0).
 */
static int
drop_units(struct lines *l, size_t b, size_t *e, bool *changed)
{
	struct mkline m;
	size_t i;

	for (i = b; i < *e; i++) {
		const char *nw[MAXWORDS + 1];
		size_t nwl[MAXWORDS + 1], n = 0, k;
		bool tape = false, drop = false;

		if (!parse_makedev(&l->v[i], &m))
			continue;
		for (k = 0; k < m.n; k++) {
			if (unit_of(m.w[k], m.wl[k], tapes_cds))
				tape = true;
			else if (unit_of(m.w[k], m.wl[k], raid_nics))
				drop = true;
			else {
				nw[n] = m.w[k];
				nwl[n++] = m.wl[k];
			}
		}
		if (!tape && !drop)
			continue;
		*changed = true;
		if (tape && !block_has(l, b, *e, "vnd0")) {
			nw[n] = "vnd0";
			nwl[n++] = 0;
		}
		if (n == 0) {
			lines_delete(l, i);
			i--;
			(*e)--;
			continue;
		}
		if (replace_mk(l, i, nw, nwl, n) == -1)
			return -1;
	}
	return 0;
}

enum edit_result
makedev_patch(const char *text, size_t len, char **out, size_t *outlen)
{
	struct lines l;
	enum edit_result r;
	size_t b, e, xbd;
	bool changed = false;

	*out = NULL;
	if (lines_split(&l, text, len) == -1)
		return EDIT_ERROR;
	if (!find_init(&l, &b, &e, &xbd, &r))
		goto done;
	r = EDIT_ERROR;
	if (add_xbd(&l, b, e, xbd, &changed) == -1 ||
	    add_pseudo(&l, b, &e, xbd, &changed) == -1 ||
	    drop_units(&l, b, &e, &changed) == -1)
		goto done;
	return lines_result(&l, changed, out, outlen);
done:
	lines_free(&l);
	return r;
}
