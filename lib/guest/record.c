/*
 * A local's record (see record.h).  Everything read from a local is a
 * guest's: the record is checked against its own digest before it is
 * trusted, and the archived etc may hold nothing but etc.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "tree/dir.h"
#include "guest/record.h"

/* prev/root-age: "older\n" or "newer\n" (see record_prev_newer()). */
#define PREV_AGE	ID_PREV "/root-age"

void
record_free(struct record *r)
{
	sbuf_free(&r->idline);
	sbuf_free(&r->man);
	sbuf_free(&r->base);
	entset_free(&r->etc);
}

int
record_read(struct tree *t, const char *dir, struct record *r)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/root-id", dir);
	if (tree_read(t, path, 4096, &r->idline) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/base-manifest", dir);
	if (tree_read(t, path, ENT_MAX, &r->man) == -1)
		goto corrupt;
	snprintf(path, sizeof(path), "%s/base-etc.tgz", dir);
	if (tree_read(t, path, ENT_MAX, &r->base) == -1)
		goto corrupt;
	return identity_record_check(dir, &r->idline, &r->man, &r->base,
	    r->id, &r->etc);
corrupt:
	if (errno == ENOENT)
		sr_prefixerr("corrupt record");
	return -1;
}

int
record_make(int fd, struct spec *spec, struct record *r)
{
	struct tree *t = tree_dir(fd, "the tree", TREE_RDONLY);
	int rv = -1;

	if (t != NULL && identity_manifest(t, spec, &r->man, r->id) == 0 &&
	    sbuf_printf(&r->idline, "%s\n", r->id) == 0 &&
	    identity_base(t, spec, &r->base) == 0 &&
	    identity_untar(r->base.s, r->base.len, &r->etc) == 0)
		rv = 0;
	tree_close(t);
	return rv;
}

int
record_prev_newer(struct tree *t, bool *newer)
{
	struct sbuf b = { 0 };
	int rv = 0;

	*newer = false;
	if (tree_read(t, PREV_AGE, 64, &b) == -1)
		return errno == ENOENT ? 0 : -1;
	if (b.len == 6 && memcmp(b.s, "newer\n", 6) == 0)
		*newer = true;
	else if (b.len != 6 || memcmp(b.s, "older\n", 6) != 0) {
		sr_seterr("%s: neither older nor newer (corrupt record)",
		    PREV_AGE);
		rv = -1;
	}
	sbuf_free(&b);
	return rv;
}

/* Plan a copy of b written at path, as text or as data. */
static int
write_copy(struct plan *u, const char *path, const struct sbuf *b,
    bool binary)
{
	const struct tree_wopts wo = { .mode = 0644 };
	char *d = malloc(b->len + 1);

	if (d == NULL)
		return sr_oom();
	memcpy(d, b->s ? b->s : "", b->len);
	d[b->len] = '\0';
	return binary ? plan_write_data(u, path, d, b->len, &wo) :
	    plan_write(u, path, NULL, d, b->len, &wo);
}

int
record_plan_prev(struct plan *u, struct tree *mine, struct spec *minespec,
    const struct record *rec, bool newer)
{
	struct sbuf etc = { 0 };
	struct sbuf age = { (char *)(newer ? "newer\n" : "older\n"), 6, 0 };
	struct stat st;
	int rv = -1;

	/* A local made before records has no directory for them. */
	if (tree_lstat(mine, ID_DIR, &st) == -1 &&
	    (errno != ENOENT || plan_mkdir(u, ID_DIR, 0755) == -1))
		return -1;
	if (tree_lstat(mine, ID_PREV, &st) == 0) {
		if (plan_remove(u, ID_PREV) == -1)
			return -1;
	} else if (errno != ENOENT)
		return -1;
	if (identity_base(mine, minespec, &etc) == -1) {
		sr_prefixerr("the guest's etc");
		return -1;
	}
	if (plan_mkdir(u, ID_PREV, 0755) == -1 ||
	    write_copy(u, ID_PREV "/root-id", &rec->idline, false) == -1 ||
	    write_copy(u, ID_PREV "/base-manifest", &rec->man, true) == -1 ||
	    write_copy(u, ID_PREV "/base-etc.tgz", &rec->base, true) == -1 ||
	    write_copy(u, ID_PREV "/etc.tgz", &etc, true) == -1 ||
	    write_copy(u, PREV_AGE, &age, false) == -1)
		goto done;
	rv = 0;
done:
	sbuf_free(&etc);
	return rv;
}

/* Whether path is dir or below it. */
static bool
under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/');
}

int
record_plan_new(struct plan *u, const struct plan *newplan)
{
	size_t i;

	for (i = 0; i < newplan->n; i++) {
		const struct change *c = &newplan->v[i];
		char *d;

		if (!under(c->path, ID_DIR))
			continue;
		if (c->kind == CH_MKDIR) {
			if (plan_mkdir(u, c->path, c->wo.mode) == -1)
				return -1;
			continue;
		}
		if (c->kind != CH_WRITE)
			continue;
		if ((d = malloc(c->newlen + 1)) == NULL)
			return sr_oom();
		memcpy(d, c->new, c->newlen);
		d[c->newlen] = '\0';
		if ((c->binary ? plan_write_data(u, c->path, d, c->newlen,
		    &c->wo) : plan_write(u, c->path, NULL, d, c->newlen,
		    &c->wo)) == -1)
			return -1;
	}
	return 0;
}

int
record_plan_back(struct plan *u, const struct record *rec)
{
	if (write_copy(u, ID_LOCAL, &rec->idline, false) == -1 ||
	    write_copy(u, ID_MANBASE, &rec->man, true) == -1 ||
	    write_copy(u, ID_BASE, &rec->base, true) == -1)
		return -1;
	return 0;
}

/* A plain path below top: no empty, "." or ".." component. */
static bool
plain_below(const char *path, const char *top)
{
	size_t n = strlen(top);
	const char *p;

	if (strncmp(path, top, n) != 0 || path[n] != '/')
		return false;
	for (p = path + n + 1;; p += n + 1) {
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (p[n] == '\0')
			return true;
	}
}

int
record_man_paths(const struct sbuf *man, const char *top,
    int (*fn)(void *, const char *), void *arg)
{
	const char *p = man->s, *end = p != NULL ? p + man->len : NULL;
	char path[PATH_MAX], enc[PATH_MAX];
	size_t tlen = strlen(top);

	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		/* The path, up to the first space of its own line. */
		const char *sp = memchr(p, ' ', (size_t)(eol - p));
		size_t n = sp ? (size_t)(sp - p) : 0;
		const char *line = p;

		p = nl ? nl + 1 : end;
		/* top/ written as itself, not escaped: as strvis(3) does. */
		if (n <= tlen || n >= sizeof(enc) || strncmp(line, top,
		    tlen) != 0 || line[tlen] != '/')
			continue;
		memcpy(enc, line, n);
		enc[n] = '\0';
		if (strunvis(path, enc) == -1 || !plain_below(path, top))
			continue;
		if (fn(arg, path) == -1)
			return -1;
	}
	return 0;
}
