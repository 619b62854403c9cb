/*
 * mtree specifications for makefs (see spec.h).  Entries are full (type,
 * uid, gid, mode, time and link or device), so makefs needs no passwd
 * database and creates what the staged tree cannot hold: device nodes.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "tree/spec.h"
#include "tree/dir.h"

static int
cmp_ent(const void *a, const void *b)
{
	const struct spec_ent *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct spec_ent *)a)->path,
	    ((const struct spec_ent *)b)->path);
}

/* Sort by path; of a path added twice (sources overlaid), keep the last. */
static void
sort(struct spec *s)
{
	size_t i, j;

	if (s->sorted)
		return;
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_ent);
	for (i = j = 0; i < s->n; i++) {
		if (i + 1 < s->n && strcmp(s->v[i].path, s->v[i + 1].path) == 0) {
			free(s->v[i].path);
			free(s->v[i].link);
			continue;
		}
		s->v[j++] = s->v[i];
	}
	s->n = j;
	s->sorted = true;
}

const struct spec_ent *
spec_get(struct spec *s, const char *path)
{
	struct spec_ent key = { .path = (char *)path };

	sort(s);
	return s->n ? bsearch(&key, s->v, s->n, sizeof(s->v[0]), cmp_path) :
	    NULL;
}

/* The first entry of the sorted spec whose path is not before key. */
static size_t
lower_bound(const struct spec *s, const char *key)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->v[mid].path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
spec_below(struct spec *s, const char *dir, size_t *first, size_t *end)
{
	char key[PATH_MAX];
	size_t n = strlen(dir);

	sort(s);
	*first = 0;
	*end = s->n;
	if (n == 0)
		return;
	if (n + 2 > sizeof(key)) {
		*end = 0;		/* no path is that long */
		return;
	}
	/* "dir/..." sorts from "dir/" up to "dir0", '/' + 1. */
	memcpy(key, dir, n);
	memcpy(key + n, "/", 2);
	*first = lower_bound(s, key);
	key[n] = '/' + 1;
	*end = lower_bound(s, key);
}

bool
spec_only(const struct spec_ent *e)
{
	return S_ISCHR(e->mode) || S_ISBLK(e->mode);
}

bool
spec_stat(struct spec *s, const char *path, struct stat *st)
{
	const struct spec_ent *e = spec_get(s, path);

	if (e == NULL || (e->mode & S_IFMT) != (st->st_mode & S_IFMT))
		return false;
	st->st_mode = e->mode;
	st->st_uid = e->uid;
	st->st_gid = e->gid;
	return true;
}

/* Remove v[from, to) of a sorted spec, which stays sorted. */
static void
cut(struct spec *s, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++) {
		free(s->v[i].path);
		free(s->v[i].link);
	}
	memmove(s->v + from, s->v + to, (s->n - to) * sizeof(s->v[0]));
	s->n -= to - from;
}

size_t
spec_drop(struct spec *s, const char *path)
{
	const struct spec_ent *e;
	size_t first, end, n;

	spec_below(s, path, &first, &end);
	n = end - first;
	/* The later range first: the path itself sorts before it. */
	cut(s, first, end);
	if ((e = spec_get(s, path)) != NULL) {
		cut(s, (size_t)(e - s->v), (size_t)(e - s->v) + 1);
		n++;
	}
	return n;
}

void
spec_keep(struct spec *s, const bool *keep)
{
	size_t i, j;

	for (i = j = 0; i < s->n; i++) {
		if (keep[i]) {
			s->v[j++] = s->v[i];
			continue;
		}
		free(s->v[i].path);
		free(s->v[i].link);
	}
	s->n = j;
}

int
spec_add(struct spec *s, const struct spec_ent *e)
{
	struct spec_ent n = *e;

	n.seq = s->nextseq++;
	n.path = strdup(e->path);
	n.link = e->link ? strdup(e->link) : NULL;
	if (n.path == NULL || (e->link && n.link == NULL))
		goto nomem;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct spec_ent *nv = reallocarray(s->v, cap, sizeof(*nv));

		if (nv == NULL)
			goto nomem;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = n;
	s->sorted = false;
	return 0;
nomem:
	free(n.path);
	free(n.link);
	return sr_oom();
}

static const char *
type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR:	return "dir";
	case S_IFREG:	return "file";
	case S_IFLNK:	return "link";
	case S_IFCHR:	return "char";
	case S_IFBLK:	return "block";
	case S_IFIFO:	return "fifo";
	case S_IFSOCK:	return "socket";
	default:	return NULL;
	}
}

/* mtree encodes names with vis(3): white space, globs and '\'. */
static char *
encode(const char *s)
{
	char *v;

	if (stravis(&v, s, VIS_WHITE | VIS_OCTAL | VIS_GLOB) == -1)
		return NULL;
	return v;
}

int
spec_write(struct spec *s, int fd)
{
	struct sbuf b = { 0 };
	size_t i;
	int rv = -1;

	sort(s);
	if (sbuf_adds(&b, "#mtree\n") == -1)
		return -1;
	for (i = 0; i < s->n; i++) {
		const struct spec_ent *e = &s->v[i];
		const char *type = type_name(e->mode);
		char *path = encode(e->path), *link = NULL;

		if (type == NULL || path == NULL ||
		    (e->link && (link = encode(e->link)) == NULL)) {
			sr_seterr("%s: spec: cannot describe this entry",
			    e->path);
			free(path);
			goto done;
		}
		if (sbuf_printf(&b, "%s%s type=%s uid=%u gid=%u mode=%04o "
		    "time=%jd.%09ld", strcmp(e->path, ".") == 0 ? "" : "./",
		    path, type, (unsigned)e->uid, (unsigned)e->gid,
		    (unsigned)(e->mode & 07777), (intmax_t)e->mtime.tv_sec,
		    e->mtime.tv_nsec) == -1 ||
		    (link && sbuf_printf(&b, " link=%s", link) == -1) ||
		    ((S_ISCHR(e->mode) || S_ISBLK(e->mode)) &&
		    sbuf_printf(&b, " device=netbsd,%lu,%lu", e->rmajor,
		    e->rminor) == -1) || sbuf_add(&b, "\n", 1) == -1) {
			free(path);
			free(link);
			goto done;
		}
		free(path);
		free(link);
	}
	{
		size_t off = 0;

		while (off < b.len) {
			ssize_t n = write(fd, b.s + off, b.len - off);

			if (n == -1) {
				if (errno == EINTR)
					continue;
				if (sr_noroom(errno))
					sr_seterr_noroom(fd, "the spec makefs "
					    "reads", b.len - off, false);
				else
					sr_seterrno("spec: write");
				goto done;
			}
			off += (size_t)n;
		}
	}
	rv = 0;
done:
	sbuf_free(&b);
	return rv;
}

void
spec_free(struct spec *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].link);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

size_t
spec_drop_devices(struct spec *s, const char *dir)
{
	size_t i, j, n = strlen(dir), dropped = 0;

	for (i = j = 0; i < s->n; i++) {
		struct spec_ent *e = &s->v[i];

		if ((S_ISCHR(e->mode) || S_ISBLK(e->mode)) &&
		    strncmp(e->path, dir, n) == 0 && e->path[n] == '/') {
			free(e->path);
			free(e->link);
			dropped++;
			continue;
		}
		s->v[j++] = *e;
	}
	s->n = j;
	return dropped;
}

/*
 * Give a staged tree, as root, what its spec says: owners, modes, times
 * and the device nodes it could not hold.  Deepest paths first, so that
 * a directory's time is set after its contents are.
 */
int
spec_apply(struct spec *s, int dirfd)
{
	size_t i;

	sort(s);
	for (i = s->n; i-- > 0;) {
		const struct spec_ent *e = &s->v[i];
		struct timespec ts[2] = { e->mtime, e->mtime };
		const char *name;
		int pfd, r = 0;

		if ((pfd = dir_openparent(dirfd, e->path, &name)) == -1)
			return -1;
		if (S_ISCHR(e->mode) || S_ISBLK(e->mode))
			r = mknodat(pfd, name, e->mode,
			    makedev(e->rmajor, e->rminor));
		if (r == 0)
			r = fchownat(pfd, name, e->uid, e->gid,
			    AT_SYMLINK_NOFOLLOW);
		if (r == 0 && !S_ISLNK(e->mode))
			r = fchmodat(pfd, name, e->mode & 07777, 0);
		if (r == 0)
			r = utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
		if (r == -1) {
			sr_seterrno("%s: stage: owner and mode", e->path);
			close(pfd);
			return -1;
		}
		close(pfd);
	}
	return 0;
}
