/*
 * A new FFS image sized by what it holds (ffssize.h): counted as
 * makefs's ffs_size_dir() and ffs_validate() count a tree, over the
 * tree_ffsw itself.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/build.h"
#include "image/ffssize.h"
#include "image/ffsw_impl.h"

int
ffssize_set(struct tree *t, const struct ffsw_params *p)
{
	struct ffsw_tree *ft = (struct ffsw_tree *)t;
	struct ffsw_geom g;

	if (ffsw_geometry(p, &g) == -1)
		return -1;
	ft->p = *p;
	ft->sink.size = p->size;
	return 0;
}

/* What makefs would count for t (build.c's size_walk(), over a tree). */
struct sizectx {
	struct tree *t;
	struct mfsize *m;
};

static void
dirent_add(uint64_t *cur, size_t namelen)
{
	uint64_t this = FFSW_DIRSIZ(namelen);

	if (this + *cur > (*cur + 511) / 512 * 512)
		*cur = (*cur + 511) / 512 * 512;
	*cur += this;
}

static uint64_t
frags(uint64_t n, uint64_t fsize)
{
	return (n + fsize - 1) / fsize * fsize;
}

static int
size_one(void *arg, const char *rel, const struct stat *st)
{
	struct sizectx *x = arg;
	struct mfsize *m = x->m;
	char **names = NULL;
	uint64_t cur = 0;
	size_t i;

	m->inodes++;
	if (S_ISREG(st->st_mode))
		m->data += frags((uint64_t)st->st_size, m->fsize);
	else if (S_ISLNK(st->st_mode) && (uint64_t)st->st_size >
	    m->maxsymlink)
		m->data += frags((uint64_t)st->st_size, m->fsize);
	if (!S_ISDIR(st->st_mode))
		return 0;
	if (tree_list(x->t, rel, &names) == -1)
		return -1;
	dirent_add(&cur, 1);
	dirent_add(&cur, 2);
	for (i = 0; names[i] != NULL; i++)
		dirent_add(&cur, strlen(names[i]));
	tree_freelist(names);
	m->data += frags(cur, m->fsize);
	return 0;
}

int
ffssize_need(struct tree *t, int version, int room, struct ffsw_params *p)
{
	struct mfsize m = { 0 };
	struct sizectx x = { t, &m };
	struct ffsw_geom g;
	uint64_t size, want;
	int fpi;

	/* The fragment size follows the size: count with the larger. */
	m.version = version;
	m.fsize = 1024;
	m.bsize = 8192;
	m.maxsymlink = version == 1 ? 60 : 120;
	if (tree_walk(t, "", false, size_one, &x) == -1)
		return -1;
	want = m.inodes + m.inodes * (uint64_t)room / 100 + 16;
	m.inodes = want;
	size = mfsize_need(&m);
	size += size * (uint64_t)room / 100;
	/* Whole 64 KiB (any block size's multiple), 1 MiB at least. */
	size = (size + 65535) / 65536 * 65536;
	if (size < (1 << 20))
		size = 1 << 20;
	if (ffsw_params_for(size, version, p) == -1)
		return -1;
	/* As few inodes as it wants: their tables are space not counted. */
	for (fpi = 64; fpi >= 1; fpi--) {
		p->density = fpi * p->fsize;
		if (ffsw_geometry(p, &g) == 0 && g.inodes >= want)
			return 0;
	}
	return ffsw_geometry(p, &g);
}

int
ffssize_sync(struct tree *t, int room)
{
	struct ffsw_params p = ((struct ffsw_tree *)t)->p;
	int tries;

	for (tries = 0; ; tries++) {
		if (tree_sync(t) == 0)
			return 0;
		if (room < 0 || errno != ENOSPC || tries == 4)
			return -1;
		room += 15;
		if (ffssize_need(t, p.version, room, &p) == -1 ||
		    ffssize_set(t, &p) == -1)
			return -1;
	}
}
