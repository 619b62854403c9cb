/*
 * A root's identity and a local's base (see identity.h).  Times are
 * left out (a copy need not keep them exactly), and so are device
 * numbers (NetBSD's and the host's encodings differ): what a guest
 * would see differ is in.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "tree/copytree.h"
#include "guest/identity.h"
#include "guest/localprep.h"
#include "tree/dir.h"

struct walk {
	struct spec *spec;
	struct sbuf *out;		/* manifest lines */
	struct archive *ar;		/* or: tar entries */
	struct entset *set;		/* or: entries in memory */
	bool	 data;			/* with the files' contents */
	struct dir_seen dirs;		/* walked, by device and inode */
};

static int read_all(int, const char *, struct sbuf *);

static char
type_char(mode_t m)
{
	return S_ISDIR(m) ? 'd' : S_ISREG(m) ? 'f' : S_ISLNK(m) ? 'l' :
	    S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p' : '?';
}

/* A file's content, hashed, or added to the archive. */
static int
content(struct walk *w, int fd, const char *rel, EVP_MD_CTX *md)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (md != NULL && EVP_DigestUpdate(md, buf, (size_t)n) != 1)
			return -1;
		if (w->ar != NULL && archive_write_data(w->ar, buf,
		    (size_t)n) != n) {
			sr_seterr("%s: archive: %s", rel,
			    archive_error_string(w->ar));
			return -1;
		}
	}
	if (n == -1) {
		sr_seterrno("%s: read", rel);
		return -1;
	}
	return 0;
}

/*
 * A manifest line: path, type, mode, owner, group, and the content's
 * digest (hex, or "-") or a link's target, names vis-encoded.
 */
static int
manifest_line(struct sbuf *out, const char *rel, mode_t mode, uid_t uid,
    gid_t gid, const char *hex, const char *link)
{
	char *vrel = NULL, *vl = NULL;
	int rv = -1;

	if (stravis(&vrel, rel, VIS_WHITE | VIS_OCTAL) == -1)
		return -1;
	if (S_ISLNK(mode)) {
		if (stravis(&vl, link, VIS_WHITE | VIS_OCTAL) == -1)
			goto done;
		/* A link's mode means nothing, and hosts differ on it. */
		rv = sbuf_printf(out, "%s l - %u %u %s\n", vrel,
		    (unsigned)uid, (unsigned)gid, vl);
	} else
		rv = sbuf_printf(out, "%s %c %04o %u %u %s\n", vrel,
		    type_char(mode), (unsigned)(mode & 07777),
		    (unsigned)uid, (unsigned)gid, hex);
done:
	free(vrel);
	free(vl);
	return rv;
}

/*
 * Open the regular file name in dirfd, which must be the one listed
 * (st): a tree changed while it is read is refused, and a file swapped
 * for a fifo does not block the walk.
 */
static int
open_listed(int dirfd, const char *name, const char *rel,
    const struct stat *st)
{
	struct stat fst;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd != -1 && fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) &&
	    fst.st_dev == st->st_dev && fst.st_ino == st->st_ino)
		return fd;
	if (fd == -1 && errno != ELOOP && errno != ENOENT)
		sr_seterrno("%s: open", sr_shortpath(rel));
	else
		sr_seterr("%s: changed while it was read (refused)",
		    sr_shortpath(rel));
	if (fd != -1)
		close(fd);
	return -1;
}

/* An entry into the set in memory, its data too if asked. */
static int
entry_to_set(struct walk *w, int dirfd, const char *name, const char *rel,
    const struct stat *st, char *link)
{
	struct ent e = { .path = (char *)rel, .mode = st->st_mode,
	    .uid = st->st_uid, .gid = st->st_gid,
	    .link = S_ISLNK(st->st_mode) ? link : NULL };
	struct sbuf b = { 0 };
	int fd, rv;

	if (S_ISREG(st->st_mode) && w->data) {
		if ((fd = open_listed(dirfd, name, rel, st)) == -1)
			return -1;
		rv = read_all(fd, rel, &b);
		close(fd);
		if (rv == -1)
			return -1;
		e.data = b.s;
		e.len = b.len;
	}
	rv = entset_add(w->set, &e);
	sbuf_free(&b);
	return rv;
}

/* An entry's tar header (its data follows, from content()). */
static int
entry_header(struct walk *w, const char *rel, const struct stat *st,
    const char *link)
{
	struct archive_entry *e = archive_entry_new();

	if (e == NULL)
		return -1;
	archive_entry_set_pathname(e, rel);
	archive_entry_set_mode(e, st->st_mode);
	archive_entry_set_uid(e, st->st_uid);
	archive_entry_set_gid(e, st->st_gid);
	archive_entry_set_mtime(e, st->st_mtime, 0);
	archive_entry_set_size(e, S_ISREG(st->st_mode) ? st->st_size : 0);
	if (S_ISLNK(st->st_mode))
		archive_entry_set_symlink(e, link);
	if (archive_write_header(w->ar, e) != ARCHIVE_OK) {
		sr_seterr("%s: archive: %s", rel, archive_error_string(w->ar));
		archive_entry_free(e);
		return -1;
	}
	archive_entry_free(e);
	return 0;
}

/*
 * A regular file's content, into the archive and, for a manifest,
 * hashed: its digest in hex (hexsz bytes).
 */
static int
entry_content(struct walk *w, int dirfd, const char *name, const char *rel,
    const struct stat *st, char *hex, size_t hexsz)
{
	EVP_MD_CTX *md = w->out ? EVP_MD_CTX_new() : NULL;
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0, i;
	int fd = -1, rv = -1;

	if (w->out != NULL && md == NULL) {
		sr_oom();
		return -1;
	}
	if ((fd = open_listed(dirfd, name, rel, st)) == -1)
		goto done;
	if ((md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) ||
	    content(w, fd, rel, md) == -1 ||
	    (md != NULL && EVP_DigestFinal_ex(md, dig, &dlen) != 1))
		goto done;
	for (i = 0; i < dlen && 2 * i + 2 < hexsz; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	rv = 0;
done:
	if (fd != -1)
		close(fd);
	EVP_MD_CTX_free(md);
	return rv;
}

/* One entry, as it truly is: from the spec in a stage. */
static int
entry(struct walk *w, int dirfd, const char *name, const char *rel,
    struct stat *st)
{
	const struct spec_ent *se = w->spec ? spec_get(w->spec, rel) : NULL;
	char link[PATH_MAX], hex[EVP_MAX_MD_SIZE * 2 + 1] = "-";
	ssize_t n;

	if (se != NULL) {
		st->st_mode = se->mode;
		st->st_uid = se->uid;
		st->st_gid = se->gid;
	}
	link[0] = '\0';
	if (S_ISLNK(st->st_mode)) {
		if ((n = readlinkat(dirfd, name, link, sizeof(link) - 1)) ==
		    -1) {
			if (errno == EINVAL || errno == ENOENT)
				sr_seterr("%s: changed while it was read "
				    "(refused)", sr_shortpath(rel));
			else
				sr_seterrno("%s: readlink", rel);
			return -1;
		}
		link[n] = '\0';
	}
	if (w->set != NULL)
		return entry_to_set(w, dirfd, name, rel, st, link);
	if ((w->ar != NULL && entry_header(w, rel, st, link) == -1) ||
	    (S_ISREG(st->st_mode) && entry_content(w, dirfd, name, rel, st,
	    hex, sizeof(hex)) == -1))
		return -1;
	if (w->out == NULL)
		return 0;
	return manifest_line(w->out, rel, st->st_mode, st->st_uid, st->st_gid,
	    hex, link);
}

/* A whole file, of at most ENT_MAX bytes. */
static int
read_all(int fd, const char *rel, struct sbuf *b)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (b->len + (size_t)n > ENT_MAX) {
			sr_seterr("%s: larger than %d MiB", rel, ENT_MAX >> 20);
			return -1;
		}
		if (sbuf_add(b, buf, (size_t)n) == -1)
			return -1;
	}
	if (n == -1) {
		sr_seterrno("%s: read", rel);
		return -1;
	}
	return sbuf_add(b, "", 0);
}

/* Device nodes a stage holds in its spec alone, below dir. */
static int
spec_devices(struct walk *w, int dirfd, const char *dir)
{
	size_t i, n = strlen(dir);
	struct stat st;

	for (i = 0; w->spec != NULL && i < w->spec->n; i++) {
		const struct spec_ent *e = &w->spec->v[i];
		char *slash;

		if ((!S_ISCHR(e->mode) && !S_ISBLK(e->mode)) ||
		    strncmp(e->path, dir, n) != 0 || e->path[n] != '/')
			continue;
		/* Only the directory's own, not deeper ones. */
		slash = strchr(e->path + n + 1, '/');
		if (slash != NULL || path_excluded(local_secrets, e->path))
			continue;
		/* Made for real (as root): the walk met it already. */
		if (fstatat(dirfd, e->path + n + 1, &st, AT_SYMLINK_NOFOLLOW) ==
		    0)
			continue;
		if (w->set != NULL) {
			struct ent d = { .path = e->path, .mode = e->mode,
			    .uid = e->uid, .gid = e->gid };

			if (entset_add(w->set, &d) == -1)
				return -1;
			continue;
		}
		if (w->out != NULL && manifest_line(w->out, e->path, e->mode,
		    e->uid, e->gid, "-", NULL) == -1)
			return -1;
	}
	return 0;
}

static int
walk_dir(struct walk *w, int dirfd, const char *rel, int depth)
{
	char **names = NULL, path[PATH_MAX];
	size_t i;
	int rv = -1;

	if (depth > SR_MAXDEPTH) {
		sr_seterr("read directory: nested more than %d deep (refused): "
		    "%s", SR_MAXDEPTH, sr_shortpath(rel));
		return -1;
	}
	if (dir_list(dirfd, "", &names) == -1)
		return -1;
	for (i = 0; names[i] != NULL; i++) {
		struct stat st;
		int r;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", rel,
		    names[i]) >= sizeof(path)) {
			sr_seterr("read directory: a path longer than %d bytes "
			    "(refused): %s/%s", PATH_MAX - 1,
			    sr_shortpath(rel), names[i]);
			goto done;
		}
		if (path_excluded(local_secrets, path))
			continue;
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == -1) {
			sr_seterrno("%s: stat", path);
			goto done;
		}
		/* A directory met twice (a bind mount) is not walked twice. */
		if (S_ISDIR(st.st_mode) && (r = dir_seen_add(&w->dirs,
		    &st)) != 0) {
			if (r == -1)
				sr_seterrno("%s", sr_shortpath(path));
			else
				sr_seterr("read directory: a directory met "
				    "twice (moved while it was read, or "
				    "mounted twice; refused): %s",
				    sr_shortpath(path));
			goto done;
		}
		if (entry(w, dirfd, names[i], path, &st) == -1)
			goto done;
		if (S_ISDIR(st.st_mode)) {
			int fd = dir_opendir(dirfd, names[i]);

			if (fd == -1 || walk_dir(w, fd, path, depth + 1) ==
			    -1) {
				if (fd != -1)
					close(fd);
				goto done;
			}
			close(fd);
		}
	}
	rv = spec_devices(w, dirfd, rel);
done:
	dir_freelist(names);
	return rv;
}

/* The trees tops of rootfd, each walked from its top directory. */
static int
walk_tops(struct walk *w, int rootfd, const char *const *tops)
{
	const char *const *t;
	int rv = -1;

	for (t = tops; *t != NULL; t++) {
		struct stat st;
		int fd;

		if (dir_lstat(rootfd, *t, &st) == -1) {
			if (errno == ENOENT)
				continue;
			goto done;
		}
		if (!S_ISDIR(st.st_mode)) {
			sr_seterr("%s: not a directory", *t);
			goto done;
		}
		if (dir_seen_add(&w->dirs, &st) != 0) {
			sr_seterr("read directory: a directory met twice "
			    "(moved while it was read, or mounted twice; "
			    "refused): %s", *t);
			goto done;
		}
		if ((fd = dir_opendir(rootfd, *t)) == -1)
			goto done;
		if (entry(w, rootfd, *t, *t, &st) == -1 ||
		    walk_dir(w, fd, *t, 1) == -1) {
			close(fd);
			goto done;
		}
		close(fd);
	}
	rv = 0;
done:
	dir_seen_free(&w->dirs);
	return rv;
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines in path order, however the walk met them (a stage's devices). */
static int
sort_lines(struct sbuf *b)
{
	struct sbuf sorted = { 0 };
	char **v = NULL, *p;
	size_t n = 0, i;
	int rv = -1;

	for (p = b->s; p != NULL && p < b->s + b->len; p = strchr(p, '\n') + 1)
		n++;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	for (i = 0, p = b->s; i < n; i++) {
		v[i] = p;
		p = strchr(p, '\n');
		*p++ = '\0';
	}
	qsort(v, n, sizeof(*v), cmp_line);
	for (i = 0; i < n; i++)
		if (sbuf_printf(&sorted, "%s\n", v[i]) == -1)
			goto done;
	sbuf_free(b);
	*b = sorted;
	sorted.s = NULL;
	rv = 0;
done:
	sbuf_free(&sorted);
	free(v);
	return rv;
}

int
identity_manifest(int rootfd, struct spec *spec, struct sbuf *out,
    char id[ID_HEXLEN + 1])
{
	struct walk w = { .spec = spec, .out = out };

	if (walk_tops(&w, rootfd, local_copy) == -1 || sort_lines(out) == -1)
		return -1;
	return identity_digest(out, id);
}

static la_ssize_t
to_sbuf(struct archive *a, void *ctx, const void *buf, size_t len)
{
	(void)a;
	return sbuf_add(ctx, buf, len) == -1 ? -1 : (la_ssize_t)len;
}

int
identity_base(int rootfd, struct spec *spec, struct sbuf *out)
{
	static const char *const etc[] = { "etc", NULL };
	struct walk w = { .spec = spec };
	int rv = -1;

	if ((w.ar = archive_write_new()) == NULL ||
	    archive_write_set_format_pax_restricted(w.ar) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(w.ar) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w.ar, 1) != ARCHIVE_OK ||
	    archive_write_open(w.ar, out, NULL, to_sbuf, NULL) !=
	    ARCHIVE_OK) {
		sr_seterr("base: %s", w.ar ? archive_error_string(w.ar) :
		    "out of memory");
		goto done;
	}
	if (walk_tops(&w, rootfd, etc) == -1)
		goto done;
	if (archive_write_close(w.ar) != ARCHIVE_OK) {
		sr_seterr("base: %s", archive_error_string(w.ar));
		goto done;
	}
	rv = 0;
done:
	if (w.ar != NULL)
		archive_write_free(w.ar);
	return rv;
}

int
identity_load(int rootfd, struct spec *spec, const char *top, bool data,
    struct entset *set)
{
	const char *const tops[] = { top, NULL };
	struct walk w = { .spec = spec, .set = set, .data = data };

	return walk_tops(&w, rootfd, tops);
}

/*
 * A gzipped tar of a tree's etc (identity_base) back in memory.  Every
 * name must be etc or below it, plain and relative: the archive is read
 * from a guest's image, and may be anything.
 */
/*
 * An archive member's name, which must be etc or below it, plainly
 * (no "." or ".." component, no empty one); a directory's trailing
 * slash is dropped into dir.  NULL if it is not.
 */
static const char *
untar_name(const char *p, mode_t m, char *dir, size_t dirsz)
{
	size_t n;

	/* tar writes a directory's name with a slash. */
	if (p != NULL && S_ISDIR(m) && strlen(p) > 1 &&
	    p[strlen(p) - 1] == '/' && strlen(p) < dirsz) {
		strlcpy(dir, p, dirsz);
		dir[strlen(dir) - 1] = '\0';
		p = dir;
	}
	if (p == NULL || (strcmp(p, "etc") != 0 && strncmp(p, "etc/", 4) !=
	    0) || strstr(p, "/../") || strstr(p, "/./") || strstr(p, "//"))
		return NULL;
	n = strlen(p);
	if ((n >= 3 && strcmp(p + n - 3, "/..") == 0) ||
	    (n >= 2 && strcmp(p + n - 2, "/.") == 0) || p[n - 1] == '/')
		return NULL;
	return p;
}

/* A regular file's data from the archive, of at most ENT_MAX bytes. */
static int
untar_data(struct archive *a, struct archive_entry *ae, const char *p,
    struct sbuf *b)
{
	int64_t size = archive_entry_size(ae);
	char chunk[65536];
	la_ssize_t n;

	if (size < 0 || size > ENT_MAX) {
		sr_seterr("%s: larger than %d MiB", p, ENT_MAX >> 20);
		return -1;
	}
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
		if (b->len + (size_t)n > ENT_MAX ||
		    sbuf_add(b, chunk, (size_t)n) == -1) {
			sbuf_free(b);
			sr_seterr("%s: too large", p);
			return -1;
		}
	if (n < 0 || sbuf_add(b, "", 0) == -1) {
		sr_seterr("%s: %s", p, archive_error_string(a));
		sbuf_free(b);
		return -1;
	}
	return 0;
}

int
identity_untar(const void *buf, size_t len, struct entset *set)
{
	struct archive *a;
	struct archive_entry *ae;
	int r, rv = -1;

	if ((a = archive_read_new()) == NULL ||
	    archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		sr_seterr("not a gzipped tar archive%s%s", a ? ": " : "",
		    a ? archive_error_string(a) : "");
		goto done;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		mode_t m = archive_entry_mode(ae);
		struct ent e = { .mode = m, .uid = (uid_t)archive_entry_uid(ae),
		    .gid = (gid_t)archive_entry_gid(ae) };
		struct sbuf b = { 0 };
		char dir[PATH_MAX];
		const char *p;

		if ((p = untar_name(archive_entry_pathname(ae), m, dir,
		    sizeof(dir))) == NULL) {
			sr_seterr("a name outside etc in the archive");
			goto done;
		}
		if (!S_ISREG(m) && !S_ISDIR(m) && !S_ISLNK(m)) {
			sr_seterr("%s: not a file, directory or link", p);
			goto done;
		}
		e.path = (char *)p;
		if (S_ISLNK(m) &&
		    (e.link = (char *)archive_entry_symlink(ae)) == NULL) {
			sr_seterr("%s: a link without a target", p);
			goto done;
		}
		if (S_ISREG(m)) {
			if (untar_data(a, ae, p, &b) == -1)
				goto done;
			e.data = b.s;
			e.len = b.len;
		}
		r = entset_add(set, &e);
		sbuf_free(&b);
		if (r == -1)
			goto done;
	}
	if (r != ARCHIVE_EOF) {
		sr_seterr("%s", archive_error_string(a));
		goto done;
	}
	rv = 0;
done:
	if (a != NULL)
		archive_read_free(a);
	return rv;
}

/* The manifest lines of a set's entries, as identity_manifest writes. */
int
identity_lines(struct entset *set, struct sbuf *out)
{
	size_t i;

	(void)entset_get(set, "");
	for (i = 0; i < set->n; i++) {
		const struct ent *e = &set->v[i];
		char hex[EVP_MAX_MD_SIZE * 2 + 1] = "-";
		unsigned char dig[EVP_MAX_MD_SIZE];
		unsigned int dlen = 0, j;

		if (S_ISREG(e->mode)) {
			if (EVP_Digest(e->data ? e->data : "", e->len, dig,
			    &dlen, EVP_sha256(), NULL) != 1)
				return -1;
			for (j = 0; j < dlen; j++)
				snprintf(hex + 2 * j, 3, "%02x", dig[j]);
		}
		if (manifest_line(out, e->path, e->mode, e->uid, e->gid, hex,
		    e->link) == -1)
			return -1;
	}
	return sort_lines(out);
}

int
identity_digest(const struct sbuf *man, char id[ID_HEXLEN + 1])
{
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen, i;

	if (EVP_Digest(man->s ? man->s : "", man->len, dig, &dlen,
	    EVP_sha256(), NULL) != 1 || dlen * 2 != ID_HEXLEN) {
		sr_seterr("identity: no digest");
		return -1;
	}
	for (i = 0; i < dlen; i++)
		snprintf(id + 2 * i, 3, "%02x", dig[i]);
	return 0;
}

/* The etc lines of a manifest. */
static int
etc_lines(const struct sbuf *man, struct sbuf *out)
{
	const char *p = man->s, *end = man->s + man->len;

	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (n >= 4 && (memcmp(p, "etc ", 4) == 0 ||
		    memcmp(p, "etc/", 4) == 0) && sbuf_add(out, p, n) == -1)
			return -1;
		p += n;
	}
	return 0;
}

int
identity_record_check(const char *dir, const struct sbuf *idline,
    const struct sbuf *man, const struct sbuf *base, char id[ID_HEXLEN + 1],
    struct entset *etc)
{
	char want_id[ID_HEXLEN + 1];
	struct sbuf want = { 0 }, got = { 0 };
	size_t i;
	int rv = -1;

	if (idline->len != ID_HEXLEN + 1 || idline->s[ID_HEXLEN] != '\n') {
		sr_seterr("%s/root-id: not a root's identity (corrupt record)",
		    dir);
		return -1;
	}
	for (i = 0; i < ID_HEXLEN; i++)
		if (strchr("0123456789abcdef", idline->s[i]) == NULL ||
		    idline->s[i] == '\0') {
			sr_seterr("%s/root-id: not a root's identity (corrupt "
			    "record)", dir);
			return -1;
		}
	memcpy(id, idline->s, ID_HEXLEN);
	id[ID_HEXLEN] = '\0';
	if (identity_digest(man, want_id) == -1)
		return -1;
	if (strcmp(want_id, id) != 0) {
		sr_seterr("%s/base-manifest: does not match %s/root-id "
		    "(corrupt record)", dir, dir);
		return -1;
	}
	if (identity_untar(base->s, base->len, etc) == -1) {
		sr_prefixerr("%s/base-etc.tgz (corrupt record)", dir);
		return -1;
	}
	if (etc_lines(man, &want) == -1 || identity_lines(etc, &got) == -1)
		goto done;
	/* (Both may be empty, and then NULL: no memcmp on those.) */
	if (want.len != got.len ||
	    (got.len > 0 && memcmp(want.s, got.s, got.len) != 0)) {
		sr_seterr("%s/base-etc.tgz: is not the etc its manifest "
		    "describes (corrupt record)", dir);
		goto done;
	}
	rv = 0;
done:
	sbuf_free(&want);
	sbuf_free(&got);
	return rv;
}
