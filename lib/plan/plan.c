/*
 * Plans: the changes a run will make, decided up front (see plan.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan/edit.h"
#include "plan/plan.h"
#include "plan/udiff.h"

static struct change *
plan_add(struct plan *p, enum change_kind kind, const char *path)
{
	struct change *c;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct change *nv = reallocarray(p->v, cap, sizeof(*nv));

		if (nv == NULL) {
			sr_oom();
			return NULL;
		}
		p->v = nv;
		p->cap = cap;
	}
	c = &p->v[p->n];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->srcfd = -1;
	if ((c->path = strdup(path)) == NULL) {
		sr_oom();
		return NULL;
	}
	p->n++;
	return c;
}

int
plan_write(struct plan *p, const char *path, const struct sbuf *old,
    char *new, size_t newlen, const struct tree_wopts *wo)
{
	struct change *c;

	if ((c = plan_add(p, CH_WRITE, path)) == NULL) {
		free(new);
		return -1;
	}
	c->new = new;
	c->newlen = newlen;
	c->wo = *wo;
	if (old != NULL) {
		if ((c->old = malloc(old->len + 1)) == NULL) {
			sr_oom();
			return -1;
		}
		memcpy(c->old, old->s ? old->s : "", old->len);
		c->old[old->len] = '\0';
		c->oldlen = old->len;
	}
	return 0;
}

int
plan_write_data(struct plan *p, const char *path, char *data, size_t len,
    const struct tree_wopts *wo)
{
	if (plan_write(p, path, NULL, data, len, wo) == -1)
		return -1;
	p->v[p->n - 1].binary = true;
	return 0;
}

int
plan_write_fd(struct plan *p, const char *path, int fd, const char *src,
    const struct tree_wopts *wo)
{
	struct change *c;

	if ((c = plan_add(p, CH_WRITE_FD, path)) == NULL)
		return -1;
	c->srcfd = fd;
	c->wo = *wo;
	if ((c->target = strdup(src)) == NULL) {
		sr_oom();
		return -1;
	}
	return 0;
}

int
plan_link(struct plan *p, const char *path, const char *target,
    bool keep_orig)
{
	struct change *c;

	if ((c = plan_add(p, CH_LINK, path)) == NULL)
		return -1;
	c->wo.keep_orig = keep_orig;
	if ((c->target = strdup(target)) == NULL) {
		sr_oom();
		return -1;
	}
	return 0;
}

/* A change carrying only an owner and a mode. */
static int
plan_add_wo(struct plan *p, enum change_kind kind, const char *path,
    const struct tree_wopts *wo)
{
	struct change *c;

	if ((c = plan_add(p, kind, path)) == NULL)
		return -1;
	c->wo = *wo;
	return 0;
}

int
plan_mkdir(struct plan *p, const char *path, mode_t mode)
{
	const struct tree_wopts wo = { .mode = mode };

	return plan_add_wo(p, CH_MKDIR, path, &wo);
}

int
plan_remove(struct plan *p, const char *path)
{
	return plan_add(p, CH_REMOVE, path) == NULL ? -1 : 0;
}

int
plan_mkdir_as(struct plan *p, const char *path, const struct tree_wopts *wo)
{
	return plan_add_wo(p, CH_MKDIR, path, wo);
}

int
plan_symlink(struct plan *p, const char *path, const char *target,
    const struct tree_wopts *wo)
{
	struct change *c;

	if ((c = plan_add(p, CH_SYMLINK, path)) == NULL)
		return -1;
	c->wo = *wo;
	if ((c->target = strdup(target)) == NULL) {
		sr_oom();
		return -1;
	}
	return 0;
}

int
plan_attr(struct plan *p, const char *path, const struct tree_wopts *wo)
{
	return plan_add_wo(p, CH_ATTR, path, wo);
}

/* Deciding from a tree ----------------------------------------------------- */

int
plan_read(struct tree *t, const char *rel, bool optional, struct sbuf *b,
    struct stat *st, bool *found)
{
	*found = false;
	/* Read first: a file that is not there is named as a read fails. */
	if (tree_read(t, rel, SR_TEXT_MAX, b) == -1)
		return optional && errno == ENOENT ? 0 : -1;
	if (st != NULL && tree_lstat(t, rel, st) == -1)
		return -1;
	*found = true;
	return 0;
}

int
plan_text(struct plan *p, const char *rel, const struct sbuf *old,
    struct sbuf *new, const struct stat *st, mode_t mode,
    const char *origpath)
{
	struct tree_wopts wo = { .mode = mode, .keep_orig = origpath == NULL };
	int rv;

	if (st != NULL) {
		wo.uid = st->st_uid;
		wo.gid = st->st_gid;
		if (mode == 0)
			wo.mode = st->st_mode & 07777;
	}
	if (old != NULL && old->len == new->len &&
	    memcmp(old->s, new->s, new->len) == 0)
		return 0;
	/* The original's inode, every attribute kept, under another name. */
	if (origpath != NULL && old != NULL &&
	    plan_link(p, origpath, rel, false) == -1)
		return -1;
	rv = plan_write(p, rel, old, new->s, new->len, &wo);
	new->s = NULL;
	new->len = new->cap = 0;
	return rv;
}

/*
 * What an edit's result means: 1 a new text, 0 none, 2 none and the
 * caller says why (cannot_ok), -1 an error.
 */
static int
edit_outcome(enum edit_result r, const char *rel, const struct plan_edit *o,
    const char **said)
{
	switch (r) {
	case EDIT_CHANGED:
		*said = o->what;
		return 1;
	case EDIT_ALREADY:
	case EDIT_NOTNEEDED:
		*said = r == EDIT_NOTNEEDED && o->notneeded != NULL ?
		    o->notneeded : o->already;
		return 0;
	case EDIT_CANNOT:
		if (o->cannot_ok)
			return 2;
		sr_prefixerr("%s", rel);
		return -1;
	case EDIT_ERROR:
	default:
		return -1;
	}
}

int
plan_edit_file(struct plan *p, struct tree *t, const char *rel,
    plan_editfn *edit, const void *ctx, const struct plan_edit *o)
{
	struct sbuf old = { 0 }, cur = { 0 };
	struct stat st;
	const char *said = NULL;
	size_t newlen;
	char *new = NULL;
	bool found;
	int rv = -1, r;

	if (plan_read(t, rel, o->optional, &old, &st, &found) == -1)
		goto done;
	if (!found) {
		sr_log(SR_WARN, "%s: not in the root; no %s", rel,
		    o->what);
		rv = 0;
		goto done;
	}
	if ((r = edit_outcome(edit(ctx, old.s, old.len, &new, &newlen), rel,
	    o, &said)) == -1 || r == 2) {
		rv = r == 2 ? 1 : -1;
		goto done;
	}
	if (said != NULL)
		sr_log(SR_VERBOSE, "%s: %s", rel, said);
	else
		sr_log(SR_VERBOSE, "%s: %s (already)", rel,
		    o->what);
	if (r == 0 && sbuf_add(&cur, old.s, old.len) == -1)
		goto done;
	if (r == 1) {
		cur.s = new;
		cur.len = newlen;
		cur.cap = newlen + 1;
		new = NULL;
	}
	rv = plan_text(p, rel, &old, &cur, &st, o->mode, o->origpath);
done:
	free(new);
	sbuf_free(&old);
	sbuf_free(&cur);
	return rv;
}

static uint64_t plan_bytes_from(const struct plan *, size_t, uint64_t);

int
plan_apply_dir(const struct plan *p, int fd, int flags)
{
	struct tree *t;
	int rv;

	if ((t = tree_dir(fd, "the tree", flags)) == NULL)
		return -1;
	rv = plan_apply(p, t);
	tree_close(t);
	return rv;
}

/*
 * The i-th change found no room: and what the rest of the plan needs,
 * worded as sr_seterr_noroom() words it, where the tree can tell its
 * room (a host directory, a recording tree over one); else the tree's
 * own message stays.  errno is kept.
 */
static void
plan_noroom(const struct plan *p, size_t i, struct tree *t)
{
	uint64_t more = plan_bytes_from(p, i, 4096);
	struct tree_room r;
	char need[64] = "";
	int saved = errno;

	if (tree_room(t, &r) == 0) {
		if (more > 0)
			snprintf(need, sizeof(need), "; about %s more needed",
			    sr_size(more));
		if (r.noinodes)
			sr_seterr("no room left on %s (%s free, but no inodes) "
			    "to write %s", r.where, sr_size(r.avail),
			    p->v[i].path);
		else
			sr_seterr("no room left on %s (%s free) to write %s%s",
			    r.where, sr_size(r.avail), p->v[i].path, need);
	}
	errno = saved;
}

int
plan_apply(const struct plan *p, struct tree *t)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct change *c = &p->v[i];
		int rv = -1;

		if (sr_checkpoint() == -1)
			return -1;
		switch (c->kind) {
		case CH_WRITE:
			sr_log(SR_VERBOSE, "%s: %s", c->path,
			    c->old ? "edited" : "written");
			rv = tree_write(t, c->path, c->new, c->newlen, &c->wo);
			break;
		case CH_WRITE_FD:
			sr_log(SR_VERBOSE, "%s: installed from %s", c->path,
			    c->target);
			rv = tree_write_fd(t, c->path, c->srcfd, &c->wo);
			break;
		case CH_LINK:
			sr_log(SR_VERBOSE, "%s: linked to %s", c->path,
			    c->target);
			rv = 0;
			if (c->wo.keep_orig)
				rv = tree_keep_orig(t, c->path);
			if (rv == 0)
				rv = tree_link(t, c->target, c->path);
			break;
		case CH_MKDIR:
			sr_log(SR_VERBOSE, "%s: directory made", c->path);
			rv = tree_mkdir(t, c->path, &c->wo);
			break;
		case CH_SYMLINK:
			sr_log(SR_VERBOSE, "%s: link to %s", c->path,
			    c->target);
			rv = tree_symlink(t, c->path, c->target, &c->wo);
			break;
		case CH_ATTR:
			sr_log(SR_VERBOSE, "%s: owner %u:%u, mode %04o",
			    c->path, (unsigned)c->wo.uid, (unsigned)c->wo.gid,
			    (unsigned)(c->wo.mode & 07777));
			rv = tree_setattr(t, c->path, &c->wo);
			break;
		case CH_REMOVE:
			sr_log(SR_VERBOSE, "%s: removed", c->path);
			rv = tree_remove(t, c->path);
			break;
		}
		if (rv == -1) {
			if (sr_noroom(errno))
				plan_noroom(p, i, t);
			return -1;
		}
	}
	return 0;
}

/* What changes from the i-th on write, in blocks of bsize. */
static uint64_t
plan_bytes_from(const struct plan *p, size_t i, uint64_t bsize)
{
	uint64_t n = 0;
	struct stat st;

	for (; i < p->n; i++) {
		const struct change *c = &p->v[i];
		uint64_t len = 0;

		if (c->kind == CH_WRITE)
			len = c->newlen;
		else if (c->kind == CH_WRITE_FD && fstat(c->srcfd, &st) == 0)
			len = (uint64_t)st.st_size;
		else if (c->kind == CH_MKDIR)
			len = 1;
		n += (len + bsize - 1) / bsize * bsize;
	}
	return n;
}

uint64_t
plan_bytes(const struct plan *p, uint64_t bsize)
{
	return plan_bytes_from(p, 0, bsize);
}

int
plan_describe(const struct plan *p, struct sbuf *out)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct change *c = &p->v[i];
		int rv = 0;

		switch (c->kind) {
		case CH_WRITE:
			rv = c->binary ? sbuf_printf(out, "write %s (%zu "
			    "bytes)\n", c->path, c->newlen) : udiff(out,
			    c->path, c->old, c->oldlen, c->new, c->newlen);
			break;
		case CH_WRITE_FD:
			rv = sbuf_printf(out, "install %s from %s\n", c->path,
			    c->target);
			break;
		case CH_LINK:
			rv = sbuf_printf(out, "link %s to %s\n", c->path,
			    c->target);
			break;
		case CH_MKDIR:
			rv = sbuf_printf(out, "create %s/\n", c->path);
			break;
		case CH_REMOVE:
			rv = sbuf_printf(out, "remove %s\n", c->path);
			break;
		case CH_SYMLINK:
			rv = sbuf_printf(out, "symlink %s -> %s\n", c->path,
			    c->target);
			break;
		case CH_ATTR:
			rv = sbuf_printf(out, "owner %u:%u mode %04o %s\n",
			    (unsigned)c->wo.uid, (unsigned)c->wo.gid,
			    (unsigned)(c->wo.mode & 07777), c->path);
			break;
		}
		if (rv == -1)
			return -1;
	}
	return 0;
}

void
plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].path);
		free(p->v[i].target);
		free(p->v[i].old);
		free(p->v[i].new);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}
