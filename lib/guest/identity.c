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
	char	*buf;			/* content(): PIECE bytes */
};

/* What content() reads at once: most files at one opening. */
#define PIECE	(1 << 20)

/*
 * Where an entry is: name in the directory d (a tree of its own, held
 * while the walk is in it: tree_sub()), at path in the tree walked.
 */
struct at {
	struct tree *d;
	const char *name;
	const char *path;
};

/*
 * Reading at failed.  What a tree changed under the walk does (a name
 * gone, a link or another kind of file in its place) is refused as
 * such; any other failure is named by its path in the tree walked.
 */
static int
failed(const struct at *at)
{
	char msg[512];

	if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR ||
	    errno == EINVAL)
		sr_seterr("%s: changed while it was read (refused)",
		    sr_shortpath(at->path));
	else if (strncmp(sr_errmsg(), at->path, strlen(at->path)) != 0 &&
	    at->path != at->name) {
		strlcpy(msg, sr_errmsg(), sizeof(msg));
		sr_seterr("%.*s%s", (int)(strlen(at->path) -
		    strlen(at->name)), at->path, msg);
	}
	return -1;
}

static char
type_char(mode_t m)
{
	return S_ISDIR(m) ? 'd' : S_ISREG(m) ? 'f' : S_ISLNK(m) ? 'l' :
	    S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p' : '?';
}

/*
 * A regular file's content: hashed, added to the archive, or (into b,
 * at most ENT_MAX bytes) kept.  Read through the tree, which never
 * follows a link nor waits on a fifo put in the file's place, in pieces
 * large enough that most files are read at one opening: a short piece
 * is the last.
 */
static int
content(struct walk *w, const struct at *at, EVP_MD_CTX *md, struct sbuf *b)
{
	uint64_t off = 0;
	ssize_t n;

	if (w->buf == NULL && (w->buf = malloc(PIECE)) == NULL)
		return sr_oom();
	do {
		if ((n = tree_pread(at->d, at->name, off, w->buf, PIECE)) == -1)
			return failed(at);
		off += (uint64_t)n;
		if (md != NULL && EVP_DigestUpdate(md, w->buf, (size_t)n) != 1)
			return -1;
		if (w->ar != NULL && archive_write_data(w->ar, w->buf,
		    (size_t)n) != n) {
			sr_seterr("%s: archive: %s", at->path,
			    archive_error_string(w->ar));
			return -1;
		}
		if (b != NULL && b->len + (size_t)n > ENT_MAX) {
			sr_seterr("%s: larger than %d MiB", at->path,
			    ENT_MAX >> 20);
			return -1;
		}
		if (b != NULL && sbuf_add(b, w->buf, (size_t)n) == -1)
			return -1;
	} while (n == PIECE);
	return b != NULL ? sbuf_add(b, "", 0) : 0;
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

/* The entry in memory, with its content if asked. */
static int
entry_set(struct walk *w, const struct at *at, const struct stat *st,
    const char *link)
{
	struct ent e = { .path = (char *)at->path, .mode = st->st_mode,
	    .uid = st->st_uid, .gid = st->st_gid,
	    .link = S_ISLNK(st->st_mode) ? (char *)link : NULL };
	struct sbuf b = { 0 };
	int rv;

	if (S_ISREG(st->st_mode) && w->data) {
		if (content(w, at, NULL, &b) == -1) {
			sbuf_free(&b);
			return -1;
		}
		e.data = b.s;
		e.len = b.len;
	}
	rv = entset_add(w->set, &e);
	sbuf_free(&b);
	return rv;
}

/* The entry's header in the archive. */
static int
entry_tar(struct walk *w, const char *rel, const struct stat *st,
    const char *link)
{
	struct archive_entry *e = archive_entry_new();

	if (e == NULL)
		return sr_oom();
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

/* A regular file's content, hashed (hex) where a manifest is made. */
static int
entry_content(struct walk *w, const struct at *at, char *hex)
{
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0, i;
	EVP_MD_CTX *md = w->out ? EVP_MD_CTX_new() : NULL;
	int rv = -1;

	/* No digest context: out of memory, never a "-" digest. */
	if (w->out != NULL && md == NULL)
		return sr_oom();
	if ((md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) &&
	    content(w, at, md, NULL) == 0 &&
	    (md == NULL || EVP_DigestFinal_ex(md, dig, &dlen) == 1))
		rv = 0;
	EVP_MD_CTX_free(md);
	for (i = 0; rv == 0 && i < dlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	return rv;
}

/* One entry, as it truly is: from the spec in a stage. */
static int
entry(struct walk *w, const struct at *at, struct stat *st)
{
	const struct spec_ent *se = w->spec ? spec_get(w->spec, at->path) :
	    NULL;
	char hex[EVP_MAX_MD_SIZE * 2 + 1] = "-";
	struct sbuf link = { 0 };
	int rv = -1;

	if (se != NULL) {
		st->st_mode = se->mode;
		st->st_uid = se->uid;
		st->st_gid = se->gid;
	}
	if (S_ISLNK(st->st_mode) && tree_readlink(at->d, at->name,
	    &link) == -1) {
		failed(at);
		goto done;
	}
	if (S_ISLNK(st->st_mode) && sbuf_add(&link, "", 0) == -1)
		goto done;
	if (w->set != NULL) {
		rv = entry_set(w, at, st, link.s);
		goto done;
	}
	if ((w->ar != NULL && entry_tar(w, at->path, st, link.s) == -1) ||
	    (S_ISREG(st->st_mode) && entry_content(w, at, hex) == -1))
		goto done;
	rv = w->out == NULL ? 0 : manifest_line(w->out, at->path,
	    st->st_mode, st->st_uid, st->st_gid, hex, link.s);
done:
	sbuf_free(&link);
	return rv;
}

/* Device nodes a stage holds in its spec alone, below dir (at d). */
static int
spec_devices(struct walk *w, struct tree *d, const char *dir)
{
	size_t i, n = strlen(dir);
	struct stat st;

	for (i = 0; w->spec != NULL && i < w->spec->n; i++) {
		const struct spec_ent *e = &w->spec->v[i];

		if ((!S_ISCHR(e->mode) && !S_ISBLK(e->mode)) ||
		    strncmp(e->path, dir, n) != 0 || e->path[n] != '/')
			continue;
		/* Only the directory's own, not deeper ones. */
		if (strchr(e->path + n + 1, '/') != NULL ||
		    path_excluded(local_secrets, e->path))
			continue;
		/* Made for real (as root): the walk met it already. */
		if (tree_lstat(d, e->path + n + 1, &st) == 0)
			continue;
		if (w->set != NULL) {
			struct ent dev = { .path = e->path, .mode = e->mode,
			    .uid = e->uid, .gid = e->gid };

			if (entset_add(w->set, &dev) == -1)
				return -1;
			continue;
		}
		if (w->out != NULL && manifest_line(w->out, e->path, e->mode,
		    e->uid, e->gid, "-", NULL) == -1)
			return -1;
	}
	return 0;
}

/* A directory met twice (a bind mount) is not walked twice. */
static int
seen(struct walk *w, const char *rel, const struct stat *st)
{
	int r = dir_seen_add(&w->dirs, st);

	if (r == -1)
		return sr_oom();
	if (r == 1) {
		sr_seterr("read directory: a directory met twice (moved while "
		    "it was read, or mounted twice; refused): %s",
		    sr_shortpath(rel));
		return -1;
	}
	return 0;
}

static int walk_dir(struct walk *, const struct at *, int);

/* The entry at, and below it if it is a directory. */
static int
walk_entry(struct walk *w, const struct at *at, int depth)
{
	struct stat st;

	if (tree_lstat(at->d, at->name, &st) == -1)
		return failed(at);
	if (S_ISDIR(st.st_mode) && seen(w, at->path, &st) == -1)
		return -1;
	if (entry(w, at, &st) == -1)
		return -1;
	return S_ISDIR(st.st_mode) ? walk_dir(w, at, depth + 1) : 0;
}

/* What the directory at holds, in a tree of its own. */
static int
walk_dir(struct walk *w, const struct at *at, int depth)
{
	char **names = NULL, path[PATH_MAX];
	struct tree *d;
	size_t i;
	int rv = -1;

	if (depth > SR_MAXDEPTH) {
		sr_seterr("read directory: nested more than %d deep (refused): "
		    "%s", SR_MAXDEPTH, sr_shortpath(at->path));
		return -1;
	}
	if ((d = tree_sub(at->d, at->name)) == NULL)
		return failed(at);
	if (tree_list(d, "", &names) == -1) {
		failed(at);
		goto done;
	}
	for (i = 0; names[i] != NULL; i++) {
		struct at sub = { d, names[i], path };

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", at->path,
		    names[i]) >= sizeof(path)) {
			sr_seterr("read directory: a path longer than %d bytes "
			    "(refused): %s/%s", PATH_MAX - 1,
			    sr_shortpath(at->path), names[i]);
			goto done;
		}
		if (!path_excluded(local_secrets, path) &&
		    walk_entry(w, &sub, depth) == -1)
			goto done;
	}
	rv = spec_devices(w, d, at->path);
done:
	tree_freelist(names);
	tree_close(d);
	return rv;
}

/* The trees tops of t, each walked from its top directory. */
static int
walk_tops(struct walk *w, struct tree *t, const char *const *tops)
{
	const char *const *top;
	int rv = -1;

	for (top = tops; *top != NULL; top++) {
		const struct at at = { t, *top, *top };
		struct stat st;

		if (tree_lstat(t, *top, &st) == -1) {
			if (errno == ENOENT)
				continue;
			goto done;
		}
		if (!S_ISDIR(st.st_mode)) {
			sr_seterr("%s: not a directory", *top);
			goto done;
		}
		if (seen(w, *top, &st) == -1 || entry(w, &at, &st) == -1 ||
		    walk_dir(w, &at, 1) == -1)
			goto done;
	}
	rv = 0;
done:
	dir_seen_free(&w->dirs);
	free(w->buf);
	w->buf = NULL;
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
identity_manifest(struct tree *t, struct spec *spec, struct sbuf *out,
    char id[ID_HEXLEN + 1])
{
	struct walk w = { .spec = spec, .out = out };

	if (walk_tops(&w, t, local_copy) == -1 || sort_lines(out) == -1)
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
identity_base(struct tree *t, struct spec *spec, struct sbuf *out)
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
	if (walk_tops(&w, t, etc) == -1)
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
identity_load(struct tree *t, struct spec *spec, const char *top, bool data,
    struct entset *set)
{
	const char *const tops[] = { top, NULL };
	struct walk w = { .spec = spec, .set = set, .data = data };

	return walk_tops(&w, t, tops);
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
