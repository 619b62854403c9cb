/*
 * +CONTENTS, the packing list of a pkgsrc binary package (plist.h).
 *
 * The format is pkg_install's (lib/plist.c, lib/lib.h): one entry a
 * line, trailing white space dropped, empty lines skipped; a line that
 * starts with '@' is a command and its argument, any other line a file
 * relative to the @cwd in force.  pkg_install matches a command by
 * prefix and only warns about one it does not know; we take a command
 * word only when it is whole and refuse an unknown one, since a
 * packing list that says something we do not understand could install
 * something other than what we think.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/sr.h"
#include "pkg/plist.h"

#define MD5_HDR		"MD5:"
#define SYMLINK_HDR	"Symlink:"

static const struct {
	const char	*word;
	enum plist_type	 type;
	bool		 needarg;
} cmds[] = {
	{ "cwd", PLIST_CWD, true },	{ "src", PLIST_SRC, false },
	{ "exec", PLIST_EXEC, true },	{ "unexec", PLIST_UNEXEC, true },
	{ "mode", PLIST_MODE, false },	{ "owner", PLIST_OWNER, false },
	{ "group", PLIST_GROUP, false }, { "comment", PLIST_COMMENT, false },
	{ "ignore", PLIST_IGNORE, false }, { "name", PLIST_NAME, true },
	{ "display", PLIST_DISPLAY, true }, { "pkgdep", PLIST_PKGDEP, true },
	{ "pkgcfl", PLIST_PKGCFL, true }, { "pkgdir", PLIST_PKGDIR, true },
	{ "dirrm", PLIST_DIRRM, true },	{ "option", PLIST_OPTION, true },
	{ "blddep", PLIST_BLDDEP, true },
};

bool
pkg_relpath_ok(const char *s)
{
	const char *p = s, *c;

	if (*s == '\0' || *s == '/')
		return false;
	for (c = s; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
}

bool
pkg_abspath_ok(const char *s)
{
	if (s[0] != '/')
		return false;
	return s[1] == '\0' || pkg_relpath_ok(s + 1);
}

bool
pkg_mode_parse(const char *s, mode_t *mode)
{
	size_t n = strlen(s);
	mode_t m = 0;

	if (n == 0 || n > 5 || (n == 5 && s[0] != '0'))
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '7')
			return false;
		m = m * 8 + (mode_t)(*s - '0');
	}
	*mode = m & 07777;
	return true;
}

bool
pkg_idname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PKG_IDNAME_MAX || s[0] == '-')
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

bool
pkg_pkgname_ok(const char *s)
{
	const char *dash = strrchr(s, '-');

	if (dash == NULL || dash == s || dash[1] == '\0' ||
	    strlen(s) > 255)
		return false;
	for (; *s != '\0'; s++)
		if (!isgraph((unsigned char)*s) || *s == '/')
			return false;
	return true;
}

/* Append a pointer to an argument list. */
static int
args_add(struct plist_args *a, const char *s, unsigned line)
{
	const char **nv;
	unsigned *nl;

	if ((nv = reallocarray(a->v, a->n + 1, sizeof(*nv))) == NULL)
		return sr_oom();
	a->v = nv;
	if ((nl = reallocarray(a->line, a->n + 1, sizeof(*nl))) == NULL)
		return sr_oom();
	a->line = nl;
	a->v[a->n] = s;
	a->line[a->n++] = line;
	return 0;
}

/* Split one line into an entry: the command (whole word) and argument. */
static int
split_line(const char *label, unsigned ln, char *line, struct plist_ent *e)
{
	char *arg;
	size_t i, wl;

	e->line = ln;
	if (line[0] != '@') {
		e->type = PLIST_FILE;
		e->arg = line;
		return 0;
	}
	wl = strcspn(line + 1, " \t");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strlen(cmds[i].word) == wl &&
		    strncmp(line + 1, cmds[i].word, wl) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		sr_seterr("%s: +CONTENTS line %u: unknown command \"@%.*s\"",
		    label, ln, (int)(wl > 40 ? 40 : wl), line + 1);
		return -1;
	}
	arg = line + 1 + wl;
	arg += strspn(arg, " \t");
	if (cmds[i].needarg && *arg == '\0') {
		sr_seterr("%s: +CONTENTS line %u: @%s without an argument",
		    label, ln, cmds[i].word);
		return -1;
	}
	e->type = cmds[i].type;
	e->arg = arg;
	return 0;
}

/* Cut text into entries: each line checked, copied and split. */
static int
read_lines(const char *label, const char *text, size_t len, struct plist *pl)
{
	const char *p = text, *end = text + len;
	unsigned ln = 0;

	if (len > SR_TEXT_MAX) {
		sr_seterr("%s: +CONTENTS: larger than %s", label,
		    sr_size(SR_TEXT_MAX));
		return -1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		struct plist_ent *nv;
		char *line;

		ln++;
		if (memchr(p, '\0', n) != NULL) {
			sr_seterr("%s: +CONTENTS line %u: a NUL byte", label,
			    ln);
			return -1;
		}
		if (n > PLIST_LINE_MAX) {
			sr_seterr("%s: +CONTENTS line %u: longer than %d bytes",
			    label, ln, PLIST_LINE_MAX);
			return -1;
		}
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		if (n > 0) {
			if ((line = strndup(p, n)) == NULL)
				return sr_oom();
			nv = reallocarray(pl->ent, pl->nent + 1, sizeof(*nv));
			if (nv == NULL) {
				free(line);
				return sr_oom();
			}
			pl->ent = nv;
			memset(&nv[pl->nent], 0, sizeof(*nv));
			nv[pl->nent].buf = line;
			if (split_line(label, ln, line, &nv[pl->nent++]) < 0)
				return -1;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

/* A dependency or conflict pattern: printable, no space, bounded. */
static bool
pattern_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 1024)
		return false;
	for (; *s != '\0'; s++)
		if (!isgraph((unsigned char)*s))
			return false;
	return true;
}

/* What is in force while the entries are read in order. */
struct pstate {
	const char	*label;
	const char	*cwd;
	const char	*owner, *group;
	mode_t		 mode;
	bool		 has_mode;
	bool		 ignore_next;
	size_t		 last;		/* the file comments annotate, + 1 */
};

static int
add_file(struct pstate *st, struct plist *pl, struct plist_ent *e)
{
	struct plist_file *nv, *f;

	if (!pkg_relpath_ok(e->arg)) {
		sr_seterr("%s: +CONTENTS line %u: \"%s\": not a plain relative "
		    "path", st->label, e->line, sr_shortpath(e->arg));
		return -1;
	}
	if (st->cwd == NULL) {
		sr_seterr("%s: +CONTENTS line %u: \"%s\" before any @cwd",
		    st->label, e->line, sr_shortpath(e->arg));
		return -1;
	}
	if ((nv = reallocarray(pl->file, pl->nfile + 1, sizeof(*nv))) == NULL)
		return sr_oom();
	pl->file = nv;
	f = &nv[pl->nfile++];
	memset(f, 0, sizeof(*f));
	f->name = e->arg;
	f->prefix = st->cwd;
	f->mode = st->mode;
	f->has_mode = st->has_mode;
	f->owner = st->owner;
	f->group = st->group;
	f->ignored = e->ignored;
	f->line = e->line;
	return 0;
}

/* "@comment MD5:..." or "Symlink:..." right after a file annotates it. */
static int
annotate(struct pstate *st, struct plist *pl, struct plist_ent *e)
{
	struct plist_file *f;

	if (st->last == 0)
		return 0;
	f = &pl->file[st->last - 1];
	if (strncmp(e->arg, MD5_HDR, strlen(MD5_HDR)) == 0) {
		const char *h = e->arg + strlen(MD5_HDR);

		if (strlen(h) != 32 || strspn(h, "0123456789abcdef") != 32) {
			sr_seterr("%s: +CONTENTS line %u: not an MD5 digest",
			    st->label, e->line);
			return -1;
		}
		f->md5 = h;
	} else if (strncmp(e->arg, SYMLINK_HDR, strlen(SYMLINK_HDR)) == 0) {
		if (e->arg[strlen(SYMLINK_HDR)] == '\0') {
			sr_seterr("%s: +CONTENTS line %u: an empty Symlink: "
			    "target", st->label, e->line);
			return -1;
		}
		f->symlink = e->arg + strlen(SYMLINK_HDR);
	}
	return 0;
}

/* @mode, @owner, @group: an empty argument goes back to the default. */
static int
set_attr(struct pstate *st, struct plist_ent *e)
{
	if (e->type == PLIST_MODE) {
		st->has_mode = e->arg[0] != '\0';
		if (st->has_mode && !pkg_mode_parse(e->arg, &st->mode)) {
			sr_seterr("%s: +CONTENTS line %u: @mode \"%.20s\": not "
			    "an octal mode", st->label, e->line, e->arg);
			return -1;
		}
		return 0;
	}
	if (e->arg[0] != '\0' && !pkg_idname_ok(e->arg)) {
		sr_seterr("%s: +CONTENTS line %u: @%s \"%.40s\": not a user "
		    "or group name", st->label, e->line,
		    e->type == PLIST_OWNER ? "owner" : "group", e->arg);
		return -1;
	}
	if (e->type == PLIST_OWNER)
		st->owner = e->arg[0] != '\0' ? e->arg : NULL;
	else
		st->group = e->arg[0] != '\0' ? e->arg : NULL;
	return 0;
}

/* The list a command's argument goes to, or NULL. */
static struct plist_args *
list_of(struct plist *pl, enum plist_type t)
{
	switch (t) {
	case PLIST_PKGDEP:	return &pl->pkgdep;
	case PLIST_BLDDEP:	return &pl->blddep;
	case PLIST_PKGCFL:	return &pl->pkgcfl;
	case PLIST_DIRRM:	return &pl->dirrm;
	case PLIST_PKGDIR:	return &pl->pkgdir;
	case PLIST_EXEC:	return &pl->exec;
	case PLIST_UNEXEC:	return &pl->unexec;
	case PLIST_OPTION:	return &pl->option;
	case PLIST_SRC:		return &pl->src;
	default:		return NULL;
	}
}

/* Check a command's argument where it has a form. */
static int
check_arg(struct pstate *st, struct plist *pl, struct plist_ent *e)
{
	switch (e->type) {
	case PLIST_CWD:
		if (!pkg_abspath_ok(e->arg))
			goto bad;
		st->cwd = e->arg;
		if (pl->prefix == NULL)
			pl->prefix = e->arg;
		return 0;
	case PLIST_NAME:
		if (pl->name != NULL) {
			sr_seterr("%s: +CONTENTS line %u: a second @name",
			    st->label, e->line);
			return -1;
		}
		if (!pkg_pkgname_ok(e->arg))
			goto bad;
		pl->name = e->arg;
		return 0;
	case PLIST_PKGDEP: case PLIST_BLDDEP: case PLIST_PKGCFL:
		return pattern_ok(e->arg) ? 0 : (sr_seterr("%s: +CONTENTS "
		    "line %u: \"%.60s\": not a package pattern", st->label,
		    e->line, e->arg), -1);
	case PLIST_DIRRM: case PLIST_PKGDIR: case PLIST_DISPLAY:
		if (!pkg_relpath_ok(e->arg))
			goto bad;
		if (e->type == PLIST_DISPLAY)
			pl->display = e->arg;
		return 0;
	default:
		return 0;
	}
bad:
	sr_seterr("%s: +CONTENTS line %u: \"%s\": not a valid argument",
	    st->label, e->line, sr_shortpath(e->arg));
	return -1;
}

/* One entry, in order: files, annotations, attributes, arguments. */
static int
interpret(struct pstate *st, struct plist *pl, struct plist_ent *e)
{
	struct plist_args *a;

	e->ignored = st->ignore_next;
	st->ignore_next = false;
	if (e->ignored && e->type != PLIST_FILE) {
		sr_seterr("%s: +CONTENTS line %u: @ignore before a command, "
		    "not a file", st->label, e->line);
		return -1;
	}
	switch (e->type) {
	case PLIST_FILE:
		if (add_file(st, pl, e) < 0)
			return -1;
		st->last = pl->nfile;
		return 0;
	case PLIST_COMMENT:
		return annotate(st, pl, e);
	case PLIST_IGNORE:
		st->ignore_next = true;
		break;
	case PLIST_MODE: case PLIST_OWNER: case PLIST_GROUP:
		if (set_attr(st, e) < 0)
			return -1;
		break;
	default:
		if (check_arg(st, pl, e) < 0)
			return -1;
		if ((a = list_of(pl, e->type)) != NULL &&
		    args_add(a, e->arg, e->line) < 0)
			return -1;
		break;
	}
	st->last = 0;
	return 0;
}

static int
cmp_file(const void *a, const void *b)
{
	const struct plist_file *fa = *(const struct plist_file *const *)a;
	const struct plist_file *fb = *(const struct plist_file *const *)b;
	int c = strcmp(fa->prefix, fb->prefix);

	return c != 0 ? c : strcmp(fa->name, fb->name);
}

/* Two entries for one file would make the payload ambiguous. */
static int
check_unique(const char *label, struct plist *pl)
{
	struct plist_file **v;
	size_t i;
	int rv = 0;

	if (pl->nfile < 2)
		return 0;
	if ((v = calloc(pl->nfile, sizeof(*v))) == NULL)
		return sr_oom();
	for (i = 0; i < pl->nfile; i++)
		v[i] = &pl->file[i];
	qsort(v, pl->nfile, sizeof(*v), cmp_file);
	for (i = 1; i < pl->nfile && rv == 0; i++)
		if (cmp_file(&v[i - 1], &v[i]) == 0) {
			sr_seterr("%s: +CONTENTS lines %u and %u: \"%s\" "
			    "listed twice", label, v[i - 1]->line, v[i]->line,
			    sr_shortpath(v[i]->name));
			rv = -1;
		}
	free(v);
	return rv;
}

int
plist_parse(const char *label, const char *text, size_t len, struct plist *pl)
{
	struct pstate st;
	size_t i;

	memset(pl, 0, sizeof(*pl));
	memset(&st, 0, sizeof(st));
	st.label = label;
	if (read_lines(label, text, len, pl) < 0)
		goto fail;
	for (i = 0; i < pl->nent; i++)
		if (interpret(&st, pl, &pl->ent[i]) < 0)
			goto fail;
	if (pl->name == NULL) {
		sr_seterr("%s: +CONTENTS: no @name", label);
		goto fail;
	}
	if (pl->prefix == NULL) {
		sr_seterr("%s: +CONTENTS: no @cwd", label);
		goto fail;
	}
	if (check_unique(label, pl) < 0)
		goto fail;
	return 0;
fail:
	plist_free(pl);
	return -1;
}

static void
args_free(struct plist_args *a)
{
	free(a->v);
	free(a->line);
	memset(a, 0, sizeof(*a));
}

void
plist_free(struct plist *pl)
{
	size_t i;

	for (i = 0; i < pl->nent; i++)
		free(pl->ent[i].buf);
	free(pl->ent);
	free(pl->file);
	args_free(&pl->pkgdep);
	args_free(&pl->blddep);
	args_free(&pl->pkgcfl);
	args_free(&pl->dirrm);
	args_free(&pl->pkgdir);
	args_free(&pl->exec);
	args_free(&pl->unexec);
	args_free(&pl->option);
	args_free(&pl->src);
	memset(pl, 0, sizeof(*pl));
}
