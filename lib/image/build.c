/*
 * Stages: private directories a run fills (a set extracted, a guest's
 * own trees to plan from), their mtree spec recorded as they are filled,
 * and the room what they hold needs in an FFS image (counted as
 * makefs(8) counts it, which FFS image sizing keeps as its rule).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/attach.h"
#include "image/build.h"
#include "base/compat.h"
#include "tree/dir.h"
#include "base/os.h"
#include "base/run.h"
#include "tree/tree.h"

struct tree *
stage_tree(struct stage *st)
{
	return tree_recording(tree_dir(st->fd, "the stage", TREE_NOSYNC),
	    &st->copied);
}

int
stage_apply(struct stage *st, const struct plan *p)
{
	struct tree *t;
	int rv;

	if ((t = stage_tree(st)) == NULL)
		return -1;
	rv = plan_apply(p, t);
	tree_close(t);
	return rv;
}

/*
 * What makefs(8) counts for a directory's entries (ffs_size_dir()): each
 * entry 8 bytes and its name, padded to 4, none across a 512-byte
 * directory block.
 */
static void
dirent_add(uint64_t *cur, size_t namelen)
{
	uint64_t this = (8 + namelen + 1 + 3) & ~(uint64_t)3;

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
size_walk(int dirfd, const char *rel, struct spec *spec, struct mfsize *m,
    struct dir_seen *files, int depth)
{
	char **names = NULL, path[PATH_MAX];
	uint64_t cur = 0;
	size_t i, first, end, n = strlen(rel);
	int rv = -1;

	if (depth > SR_MAXDEPTH) {
		sr_seterr("size: nested more than %d deep (refused): %s",
		    SR_MAXDEPTH, sr_shortpath(rel));
		return -1;
	}
	if (dir_list(dirfd, "", &names) == -1)
		return -1;
	dirent_add(&cur, 1);
	dirent_add(&cur, 2);
	for (i = 0; names[i] != NULL; i++) {
		struct stat st;

		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel,
		    *rel ? "/" : "", names[i]) >= sizeof(path)) {
			sr_seterr("size: a path longer than %d bytes "
			    "(refused): %s/%s", PATH_MAX - 1,
			    sr_shortpath(rel), names[i]);
			goto done;
		}
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == -1) {
			sr_seterrno("%s: size", sr_shortpath(path));
			goto done;
		}
		dirent_add(&cur, strlen(names[i]));
		/* One inode and one content for all the names of a file. */
		if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 &&
		    dir_seen_add(files, &st) != 0)
			continue;
		m->inodes++;
		if (S_ISREG(st.st_mode))
			m->data += frags((uint64_t)st.st_size, m->fsize);
		else if (S_ISLNK(st.st_mode) && (uint64_t)st.st_size + 1 >=
		    m->maxsymlink)
			m->data += frags((uint64_t)st.st_size + 1, m->fsize);
		else if (S_ISDIR(st.st_mode)) {
			int fd = dir_opendir(dirfd, names[i]);

			if (fd == -1 || size_walk(fd, path, spec, m, files,
			    depth + 1) == -1) {
				if (fd != -1)
					close(fd);
				goto done;
			}
			close(fd);
		}
	}
	/* Device nodes staged in the spec alone, in this directory. */
	first = end = 0;
	if (spec != NULL)
		spec_below(spec, rel, &first, &end);
	for (i = first; i < end; i++) {
		const struct spec_ent *e = &spec->v[i];
		const char *name = e->path + (n ? n + 1 : 0);

		if (spec_only(e) && strchr(name, '/') == NULL &&
		    fstatat(dirfd, name, &(struct stat){ 0 },
		    AT_SYMLINK_NOFOLLOW) == -1) {
			dirent_add(&cur, strlen(name));
			m->inodes++;
		}
	}
	m->data += frags(cur, m->fsize);
	rv = 0;
done:
	dir_freelist(names);
	return rv;
}

int
stage_size(int stagefd, struct spec *spec, struct mfsize *m)
{
	struct dir_seen files = { 0 };
	int rv;

	rv = size_walk(stagefd, "", spec, m, &files, 0);
	dir_seen_free(&files);
	return rv;
}

uint64_t
mfsize_need(const struct mfsize *m)
{
	uint64_t isize = m->version == 1 ? 128 : 256, per = m->bsize / isize;
	/* makefs's ffs_validate(): the inodes with the first two. */
	uint64_t ino = m->inodes + 2, size;

	size = m->data + 8192 + 8192 + isize * ((ino + per - 1) / per * per);
	size = size * (100 + 5) / 100;		/* its MINFREE, 5% */
	return (size + m->bsize - 1) / m->bsize * m->bsize;
}

int
stage_plan_nodevs(struct stage *st, const char *dir, struct plan *p)
{
	size_t i, n = strlen(dir);

	for (i = 0; i < st->copied.n; i++) {
		const struct spec_ent *e = &st->copied.v[i];

		if ((S_ISCHR(e->mode) || S_ISBLK(e->mode)) &&
		    strncmp(e->path, dir, n) == 0 && e->path[n] == '/' &&
		    plan_remove(p, e->path) == -1)
			return -1;
	}
	return 0;
}

static const char *stage_base;

void
stage_memory(const char *base)
{
	stage_base = base;
}

int
stage_open(struct stage *st)
{
	const char *base = stage_base ? stage_base : scratch_base();

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	st->work.lockfd = -1;
	if (scratch_make(&st->work, base, SCRATCH_STAGE) == -1) {
		sr_prefixerr("stage");
		return -1;
	}
	if (scratch_path(&st->work, "tree", st->tree, sizeof(st->tree)) ==
	    -1) {
		sr_prefixerr("stage");
		return -1;
	}
	if (mkdir(st->tree, 0700) == -1 || (st->fd = open(st->tree, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		sr_seterrno("stage: %s", st->tree);
		return -1;
	}
	return 0;
}

int
stage_close(struct stage *st)
{
	int rv = 0;

	if (st->fd != -1) {
		close(st->fd);
		st->fd = -1;
	}
	spec_free(&st->copied);
	/* dir_purge never follows a link: safe on what we staged. */
	if (scratch_remove(&st->work) == -1) {
		sr_prefixerr("stage");
		rv = -1;
	}
	return rv;
}
