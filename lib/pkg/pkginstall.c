/*
 * The data lines of +INSTALL and +DEINSTALL (pkginstall.h), in the
 * forms pkgsrc's mk/pkginstall scripts read with sed and the shell's
 * read: "# USER: user:group[:uid[:gecos[:home[:shell]]]]", "# GROUP:
 * group[:gid]", "# FILE: file flags [example [mode [user [group]]]]",
 * "# DIR: dir flags [mode [user [group]]]", "# PERMS: file mode [user
 * [group]]", "# SHELL: path".  Where the shell would fold extra fields
 * into the last one we refuse the line: a colon in a gecos or a space
 * in a group name would be written into a guest's password files.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/sr.h"
#include "pkg/plist.h"
#include "pkg/pkginstall.h"

#define MAXF	8

struct line {
	const char	*label, *script;
	unsigned	 n;
	char		*f[MAXF];	/* fields, into a copy of the line */
	size_t		 nf;
};

static int
bad(const struct line *l, const char *what, const char *val)
{
	sr_seterr("%s: %s line %u: %s%s%.60s%s", l->label, l->script, l->n,
	    what, val != NULL ? " \"" : "", val != NULL ? val : "",
	    val != NULL ? "\"" : "");
	return -1;
}

/* Split s in place at any of seps; empty fields kept unless ws. */
static int
split(struct line *l, char *s, const char *seps, bool ws)
{
	l->nf = 0;
	for (;;) {
		if (ws)
			s += strspn(s, seps);
		if (ws && *s == '\0')
			return 0;
		if (l->nf == MAXF)
			return bad(l, "too many fields", NULL);
		l->f[l->nf++] = s;
		s += strcspn(s, seps);
		if (*s == '\0')
			return 0;
		*s++ = '\0';
	}
}

/* A number of at most 2^31 - 1, or -1 for an empty field. */
static int
id(const struct line *l, const char *s, long *v)
{
	char *end;

	*v = -1;
	if (*s == '\0')
		return 0;
	errno = 0;
	if (!isdigit((unsigned char)*s) || (*v = strtol(s, &end, 10), errno)
	    || *end != '\0' || *v > 0x7fffffffL)
		return bad(l, "not an id", s);
	return 0;
}

/* A path: absolute or relative to the prefix, plain, bounded. */
static int
path(const struct line *l, const char *s, bool empty_ok, char **out)
{
	*out = NULL;
	if (*s == '\0' && empty_ok)
		return (*out = strdup("")) != NULL ? 0 : sr_oom();
	if (strlen(s) > PKGINST_FIELD_MAX ||
	    !(pkg_relpath_ok(s) || pkg_abspath_ok(s)))
		return bad(l, "not a plain path:", s);
	return (*out = strdup(s)) != NULL ? 0 : sr_oom();
}

static int
idname(const struct line *l, const char *s, char **out)
{
	if (!pkg_idname_ok(s))
		return bad(l, "not a user or group name:", s);
	return (*out = strdup(s)) != NULL ? 0 : sr_oom();
}

/* Fields from i on: [mode [user [group]]]. */
static int
attrs(const struct line *l, size_t i, struct pkg_attr *a)
{
	if (l->nf > i + 3)
		return bad(l, "too many fields", NULL);
	if (l->nf > i && !(a->has_mode = pkg_mode_parse(l->f[i], &a->mode)))
		return bad(l, "not an octal mode:", l->f[i]);
	if (l->nf > i + 1 && idname(l, l->f[i + 1], &a->owner) < 0)
		return -1;
	if (l->nf > i + 2 && idname(l, l->f[i + 2], &a->group) < 0)
		return -1;
	return 0;
}

static int
flags(const struct line *l, const char *s, const char *ok, unsigned *fl)
{
	*fl = 0;
	if (strspn(s, ok) != strlen(s))
		return bad(l, "unknown flags", s);
	for (; *s != '\0'; s++)
		*fl |= *s == 'c' ? PKGF_COPY : *s == 'f' ? PKGF_FORCE :
		    *s == 'r' ? PKGF_RCD : *s == 'm' ? PKGF_MAKE : PKGF_OWNED;
	return 0;
}

/* Make room for one more element of an array of size sz. */
static void *
grow(void *vp, size_t *n, size_t sz)
{
	char **v = vp, *nv;

	if ((nv = reallocarray(*v, *n + 1, sz)) == NULL)
		return sr_oom(), NULL;
	*v = nv;
	memset(nv + *n * sz, 0, sz);
	return nv + (*n)++ * sz;
}

/* A free text field (a gecos): bounded, no control character. */
static bool
text_ok(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (iscntrl((unsigned char)*s) || n >= PKGINST_FIELD_MAX)
			return false;
	return true;
}

static int
user(struct line *l, char *rest, struct pkginstall *pi)
{
	struct pkg_user *u;

	if (split(l, rest, ":", false) < 0)
		return -1;
	if (l->nf < 2 || l->nf > 6)
		return bad(l, "not user:group[:uid[:gecos[:home[:shell]]]]",
		    NULL);
	if ((u = grow(&pi->user, &pi->nuser, sizeof(*u))) == NULL)
		return -1;
	u->line = l->n;
	if (idname(l, l->f[0], &u->name) < 0 ||
	    idname(l, l->f[1], &u->group) < 0 ||
	    id(l, l->nf > 2 ? l->f[2] : "", &u->uid) < 0)
		return -1;
	if (l->nf > 3 && !text_ok(l->f[3]))
		return bad(l, "a gecos too long or with control characters",
		    NULL);
	if ((u->gecos = strdup(l->nf > 3 ? l->f[3] : "")) == NULL)
		return sr_oom();
	if (path(l, l->nf > 4 ? l->f[4] : "", true, &u->home) < 0 ||
	    path(l, l->nf > 5 ? l->f[5] : "", true, &u->shell) < 0)
		return -1;
	if ((u->home[0] != '\0' && u->home[0] != '/') ||
	    (u->shell[0] != '\0' && u->shell[0] != '/'))
		return bad(l, "a home or shell not absolute", NULL);
	return 0;
}

static int
group(struct line *l, char *rest, struct pkginstall *pi)
{
	struct pkg_group *g;

	if (split(l, rest, ":", false) < 0)
		return -1;
	if (l->nf > 2)
		return bad(l, "not group[:gid]", NULL);
	if ((g = grow(&pi->group, &pi->ngroup, sizeof(*g))) == NULL)
		return -1;
	g->line = l->n;
	if (idname(l, l->f[0], &g->name) < 0 ||
	    id(l, l->nf > 1 ? l->f[1] : "", &g->gid) < 0)
		return -1;
	return 0;
}

static int
file(struct line *l, char *rest, struct pkginstall *pi)
{
	struct pkg_cfile *f;

	if (split(l, rest, " \t", true) < 0)
		return -1;
	if (l->nf < 2)
		return bad(l, "not file flags [example [mode [user [group]]]]",
		    NULL);
	if ((f = grow(&pi->file, &pi->nfile, sizeof(*f))) == NULL)
		return -1;
	f->line = l->n;
	if (path(l, l->f[0], false, &f->path) < 0 ||
	    flags(l, l->f[1], "cfr", &f->flags) < 0)
		return -1;
	if (l->nf > 2 && path(l, l->f[2], false, &f->example) < 0)
		return -1;
	return attrs(l, 3, &f->attr);
}

static int
dir(struct line *l, char *rest, struct pkginstall *pi)
{
	struct pkg_dir *d;

	if (split(l, rest, " \t", true) < 0)
		return -1;
	if (l->nf < 2)
		return bad(l, "not dir flags [mode [user [group]]]", NULL);
	if ((d = grow(&pi->dir, &pi->ndir, sizeof(*d))) == NULL)
		return -1;
	d->line = l->n;
	if (path(l, l->f[0], false, &d->path) < 0 ||
	    flags(l, l->f[1], "fmo", &d->flags) < 0)
		return -1;
	return attrs(l, 2, &d->attr);
}

static int
perms(struct line *l, char *rest, struct pkginstall *pi)
{
	struct pkg_perms *p;

	if (split(l, rest, " \t", true) < 0)
		return -1;
	if (l->nf < 2)
		return bad(l, "not file mode [user [group]]", NULL);
	if ((p = grow(&pi->perms, &pi->nperms, sizeof(*p))) == NULL)
		return -1;
	p->line = l->n;
	if (path(l, l->f[0], false, &p->path) < 0)
		return -1;
	return attrs(l, 1, &p->attr);
}

static int
shell(struct line *l, char *rest, struct pkginstall *pi)
{
	struct pkg_shell *s;

	if (split(l, rest, " \t", true) < 0)
		return -1;
	if (l->nf != 1)
		return bad(l, "not one path", NULL);
	if ((s = grow(&pi->shell, &pi->nshell, sizeof(*s))) == NULL)
		return -1;
	s->line = l->n;
	return path(l, l->f[0], false, &s->path);
}

static const struct {
	const char	*prefix;
	int		(*fn)(struct line *, char *, struct pkginstall *);
} kinds[] = {
	{ "# USER: ", user }, { "# GROUP: ", group }, { "# FILE: ", file },
	{ "# DIR: ", dir }, { "# PERMS: ", perms }, { "# SHELL: ", shell },
};

/* One line: a data line is copied, trimmed and handed to its reader. */
static int
one(struct line *l, const char *p, size_t n, struct pkginstall *pi)
{
	size_t i, pl;
	char *s;
	int rv;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		pl = strlen(kinds[i].prefix);
		if (n >= pl && memcmp(p, kinds[i].prefix, pl) == 0)
			break;
	}
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return 0;
	if (n > PKGINST_FIELD_MAX * 2)
		return bad(l, "a data line too long", NULL);
	if (memchr(p, '\0', n) != NULL)
		return bad(l, "a NUL byte", NULL);
	if ((s = strndup(p + pl, n - pl)) == NULL)
		return sr_oom();
	/* read(1) drops leading and trailing white space. */
	for (n = strlen(s); n > 0 && isspace((unsigned char)s[n - 1]); n--)
		s[n - 1] = '\0';
	rv = kinds[i].fn(l, s + strspn(s, " \t"), pi);
	free(s);
	return rv;
}

int
pkginstall_parse(const char *label, const char *script, const char *text,
    size_t len, struct pkginstall *pi)
{
	const char *p = text, *end = text + len, *nl;
	struct line l;

	memset(pi, 0, sizeof(*pi));
	memset(&l, 0, sizeof(l));
	l.label = label;
	l.script = script;
	if (len > SR_TEXT_MAX) {
		sr_seterr("%s: %s: larger than %s", label, script,
		    sr_size(SR_TEXT_MAX));
		return -1;
	}
	for (; p < end; p = nl != NULL ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		l.n++;
		if (one(&l, p, nl != NULL ? (size_t)(nl - p) :
		    (size_t)(end - p), pi) < 0) {
			pkginstall_free(pi);
			return -1;
		}
	}
	return 0;
}

static void
attr_free(struct pkg_attr *a)
{
	free(a->owner);
	free(a->group);
}

void
pkginstall_free(struct pkginstall *pi)
{
	size_t i;

	for (i = 0; i < pi->nuser; i++) {
		free(pi->user[i].name);
		free(pi->user[i].group);
		free(pi->user[i].gecos);
		free(pi->user[i].home);
		free(pi->user[i].shell);
	}
	for (i = 0; i < pi->ngroup; i++)
		free(pi->group[i].name);
	for (i = 0; i < pi->nfile; i++) {
		free(pi->file[i].path);
		free(pi->file[i].example);
		attr_free(&pi->file[i].attr);
	}
	for (i = 0; i < pi->ndir; i++) {
		free(pi->dir[i].path);
		attr_free(&pi->dir[i].attr);
	}
	for (i = 0; i < pi->nperms; i++) {
		free(pi->perms[i].path);
		attr_free(&pi->perms[i].attr);
	}
	for (i = 0; i < pi->nshell; i++)
		free(pi->shell[i].path);
	free(pi->user);
	free(pi->group);
	free(pi->file);
	free(pi->dir);
	free(pi->perms);
	free(pi->shell);
	memset(pi, 0, sizeof(*pi));
}
