/*
 * A tree's entries held in memory (entset.h): the recorded etc of a
 * local, a root's etc as provisioning makes it.
 */
#include <stdlib.h>
#include <string.h>

#include "tree/entset.h"
#include "base/sr.h"

int
entset_add(struct entset *s, const struct ent *e)
{
	struct ent *n;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct ent *nv = reallocarray(s->v, cap, sizeof(*nv));

		if (nv == NULL) {
			sr_oom();
			return -1;
		}
		s->v = nv;
		s->cap = cap;
	}
	n = &s->v[s->n];
	*n = *e;
	/* Numbered once, as an inode is: a walk knows it met it (tree.h). */
	n->ino = ++s->lastino;
	n->path = strdup(e->path);
	n->link = e->link ? strdup(e->link) : NULL;
	n->data = NULL;
	if (e->data != NULL && (n->data = malloc(e->len + 1)) != NULL) {
		memcpy(n->data, e->data, e->len);
		n->data[e->len] = '\0';
	}
	if (n->path == NULL || (e->link && n->link == NULL) ||
	    (e->data && n->data == NULL)) {
		free(n->path);
		free(n->link);
		free(n->data);
		sr_oom();
		return -1;
	}
	s->n++;
	s->sorted = false;
	return 0;
}

static int
cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->path,
	    ((const struct ent *)b)->path);
}

struct ent *
entset_get(struct entset *s, const char *path)
{
	struct ent key = { .path = (char *)path };

	if (!s->sorted) {
		if (s->n > 0)
			qsort(s->v, s->n, sizeof(*s->v), cmp_ent);
		s->sorted = true;
	}
	return s->n ? bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_ent) :
	    NULL;
}

void
entset_free(struct entset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].link);
		free(s->v[i].data);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

