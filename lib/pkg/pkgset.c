/*
 * A set of packages checked together (pkgset.h): what pkg_add checks
 * of each package against those installed before it (check_other_
 * installed, check_explicit_conflict, check_implicit_conflict,
 * check_dependencies) done for the
 * whole set at once, then the order and the +REQUIRED_BY files that
 * installing them one by one would leave (pkg_register_depends appends
 * a dependent's name as it is installed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sr.h"
#include "pkg/pkgmatch.h"
#include "pkg/pkgset.h"

struct ctx {
	const struct pkgset_in	*in;
	size_t			 n;
	struct pkgset		*set;
	unsigned char		*state;	/* 0 new, 1 on the path, 2 placed */
	size_t			 placed;
};

static const struct pkgset_in *sort_in;

/* By base name, then whole name. */
static int
cmp_base(const void *a, const void *b)
{
	const char *na = sort_in[*(const size_t *)a].pl->name;
	const char *nb = sort_in[*(const size_t *)b].pl->name;
	size_t la = (size_t)(strrchr(na, '-') - na);
	size_t lb = (size_t)(strrchr(nb, '-') - nb);
	int c = strncmp(na, nb, la < lb ? la : lb);

	if (c != 0)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(na, nb);
}

/* No package twice, no two versions of one package. */
static int
check_names(struct ctx *c)
{
	size_t *v, i;
	int rv = 0;

	if (c->n < 2)
		return 0;
	if ((v = calloc(c->n, sizeof(*v))) == NULL)
		return sr_oom();
	for (i = 0; i < c->n; i++)
		v[i] = i;
	sort_in = c->in;
	qsort(v, c->n, sizeof(*v), cmp_base);
	for (i = 1; i < c->n && rv == 0; i++) {
		const struct pkgset_in *a = &c->in[v[i - 1]], *b = &c->in[v[i]];
		const char *na = a->pl->name, *nb = b->pl->name;
		size_t la = (size_t)(strrchr(na, '-') - na);

		if (strcmp(na, nb) == 0) {
			sr_seterr("%s and %s: both are %s", a->label, b->label,
			    na);
			rv = -1;
		} else if (strncmp(na, nb, la) == 0 && nb[la] == '-' &&
		    strrchr(nb, '-') == nb + la) {
			sr_seterr("%s (%s) and %s (%s): two versions of %.*s",
			    a->label, na, b->label, nb, (int)la, na);
			rv = -1;
		}
	}
	free(v);
	return rv;
}

/* The best package of the set for pattern (not i itself), or n. */
static int
best(struct ctx *c, size_t i, const char *pattern, size_t *out)
{
	size_t j;
	int m;

	*out = c->n;
	for (j = 0; j < c->n; j++) {
		if (j == i)
			continue;
		if ((m = pkg_match(pattern, c->in[j].pl->name)) < 0)
			return -1;
		if (m == 1 && (*out == c->n || pkg_order(pattern,
		    c->in[*out].pl->name, c->in[j].pl->name) == 2))
			*out = j;
	}
	return 0;
}

/* Package i's dependencies: each met, each counted once. */
static int
deps_of(struct ctx *c, size_t i)
{
	const struct plist *pl = c->in[i].pl;
	size_t k, d, x;

	if (pl->pkgdep.n > 0 &&
	    (c->set->dep[i] = calloc(pl->pkgdep.n, sizeof(size_t))) == NULL)
		return sr_oom();
	for (k = 0; k < pl->pkgdep.n; k++) {
		if (best(c, i, pl->pkgdep.v[k], &d) < 0) {
			sr_prefixerr("%s (%s): +CONTENTS line %u", pl->name,
			    c->in[i].label, pl->pkgdep.line[k]);
			return -1;
		}
		if (d == c->n) {
			sr_seterr("%s (%s) needs %s (+CONTENTS line %u), which "
			    "no package given provides", pl->name,
			    c->in[i].label, pl->pkgdep.v[k],
			    pl->pkgdep.line[k]);
			return -1;
		}
		for (x = 0; x < c->set->ndep[i]; x++)
			if (c->set->dep[i][x] == d)
				break;
		if (x == c->set->ndep[i])
			c->set->dep[i][c->set->ndep[i]++] = d;
	}
	return 0;
}

/* Package i's @pkgcfl against every other package. */
static int
conflicts_of(struct ctx *c, size_t i)
{
	const struct plist *pl = c->in[i].pl;
	size_t k, j;
	int m;

	for (k = 0; k < pl->pkgcfl.n; k++)
		for (j = 0; j < c->n; j++) {
			if (j == i)
				continue;
			if ((m = pkg_match(pl->pkgcfl.v[k],
			    c->in[j].pl->name)) < 0) {
				sr_prefixerr("%s (%s): +CONTENTS line %u",
				    pl->name, c->in[i].label,
				    pl->pkgcfl.line[k]);
				return -1;
			}
			if (m == 1) {
				sr_seterr("%s (%s) conflicts with %s (%s): "
				    "@pkgcfl %s", pl->name, c->in[i].label,
				    c->in[j].pl->name, c->in[j].label,
				    pl->pkgcfl.v[k]);
				return -1;
			}
		}
	return 0;
}

struct owned {
	char	*path;
	size_t	 pkg;
};

static int
cmp_owned(const void *a, const void *b)
{
	const struct owned *oa = a, *ob = b;
	int c = strcmp(oa->path, ob->path);

	return c != 0 ? c : (oa->pkg > ob->pkg) - (oa->pkg < ob->pkg);
}

/*
 * Two packages installing one file: pkg_add refuses the second
 * (check_implicit_conflict, "Conflicting PLIST").  Paths are compared
 * whole, prefix and name.
 */
static int
check_files(struct ctx *c)
{
	struct owned *v = NULL, *nv;
	size_t i, k, n = 0;
	int rv = 0;

	for (i = 0; i < c->n && rv == 0; i++)
		for (k = 0; k < c->in[i].pl->nfile && rv == 0; k++) {
			const struct plist_file *f = &c->in[i].pl->file[k];

			if (f->ignored)
				continue;
			if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL) {
				rv = sr_oom();
				break;
			}
			v = nv;
			v[n].pkg = i;
			if (asprintf(&v[n].path, "%s/%s", strcmp(f->prefix,
			    "/") == 0 ? "" : f->prefix, f->name) < 0) {
				rv = sr_oom();
				break;
			}
			n++;
		}
	if (rv == 0 && n > 1)
		qsort(v, n, sizeof(*v), cmp_owned);
	for (i = 1; i < n && rv == 0; i++)
		if (strcmp(v[i - 1].path, v[i].path) == 0) {
			sr_seterr("%s (%s) and %s (%s) both install %s",
			    c->in[v[i - 1].pkg].pl->name,
			    c->in[v[i - 1].pkg].label, c->in[v[i].pkg].pl->name,
			    c->in[v[i].pkg].label, sr_shortpath(v[i].path));
			rv = -1;
		}
	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
	return rv;
}

/* Place i after its dependencies (depth first, in the order given). */
static int
place(struct ctx *c, size_t i)
{
	size_t k, d;

	if (c->state[i] == 2)
		return 0;
	c->state[i] = 1;
	for (k = 0; k < c->set->ndep[i]; k++) {
		d = c->set->dep[i][k];
		if (c->state[d] == 1) {
			sr_seterr("%s (%s) and %s (%s) depend on each other",
			    c->in[i].pl->name, c->in[i].label,
			    c->in[d].pl->name, c->in[d].label);
			return -1;
		}
		if (place(c, d) < 0)
			return -1;
	}
	c->state[i] = 2;
	c->set->order[c->placed++] = i;
	return 0;
}

/* +REQUIRED_BY: each dependent's name, as installed, one a line. */
static int
required_by(struct ctx *c)
{
	struct sbuf *rb;
	size_t k, x, i, d;
	int rv = 0;

	if ((rb = calloc(c->n, sizeof(*rb))) == NULL)
		return sr_oom();
	for (k = 0; k < c->n && rv == 0; k++) {
		i = c->set->order[k];
		for (x = 0; x < c->set->ndep[i] && rv == 0; x++) {
			d = c->set->dep[i][x];
			if (sbuf_printf(&rb[d], "%s\n", c->in[i].pl->name) < 0)
				rv = -1;
		}
	}
	for (i = 0; i < c->n; i++)
		if (rv == 0 && rb[i].len > 0)
			c->set->required_by[i] = rb[i].s;
		else
			sbuf_free(&rb[i]);
	free(rb);
	return rv;
}

int
pkgset_resolve(const struct pkgset_in *in, size_t n, struct pkgset *set)
{
	struct ctx c = { in, n, set, NULL, 0 };
	size_t i;

	memset(set, 0, sizeof(*set));
	set->n = n;
	if ((set->order = calloc(n + 1, sizeof(*set->order))) == NULL ||
	    (set->dep = calloc(n + 1, sizeof(*set->dep))) == NULL ||
	    (set->ndep = calloc(n + 1, sizeof(*set->ndep))) == NULL ||
	    (set->required_by = calloc(n + 1, sizeof(char *))) == NULL ||
	    (c.state = calloc(n + 1, 1)) == NULL) {
		sr_oom();
		goto fail;
	}
	if (check_names(&c) < 0 || check_files(&c) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (conflicts_of(&c, i) < 0 || deps_of(&c, i) < 0)
			goto fail;
	for (i = 0; i < n; i++)
		if (place(&c, i) < 0)
			goto fail;
	if (required_by(&c) < 0)
		goto fail;
	free(c.state);
	return 0;
fail:
	free(c.state);
	pkgset_free(set);
	return -1;
}

void
pkgset_free(struct pkgset *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (set->dep != NULL)
			free(set->dep[i]);
		if (set->required_by != NULL)
			free(set->required_by[i]);
	}
	free(set->order);
	free(set->dep);
	free(set->ndep);
	free(set->required_by);
	memset(set, 0, sizeof(*set));
}
