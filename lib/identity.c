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

#include "copytree.h"
#include "identity.h"
#include "localprep.h"
#include "tree.h"

#define MAXDEPTH	128

struct walk {
	struct spec *spec;
	struct sbuf *out;		/* manifest lines */
	struct archive *ar;		/* or: tar entries */
};

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

/* One entry, as it truly is: from the spec in a stage. */
static int
entry(struct walk *w, int dirfd, const char *name, const char *rel,
    struct stat *st)
{
	const struct spec_ent *se = w->spec ? spec_get(w->spec, rel) : NULL;
	char link[PATH_MAX], hex[EVP_MAX_MD_SIZE * 2 + 1] = "-", *vrel = NULL;
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0, i;
	ssize_t n;
	int fd, rv = -1;

	if (se != NULL) {
		st->st_mode = se->mode;
		st->st_uid = se->uid;
		st->st_gid = se->gid;
	}
	link[0] = '\0';
	if (S_ISLNK(st->st_mode)) {
		if ((n = readlinkat(dirfd, name, link, sizeof(link) - 1)) ==
		    -1) {
			sr_seterrno("%s: readlink", rel);
			return -1;
		}
		link[n] = '\0';
	}
	if (w->ar != NULL) {
		struct archive_entry *e = archive_entry_new();

		if (e == NULL)
			return -1;
		archive_entry_set_pathname(e, rel);
		archive_entry_set_mode(e, st->st_mode);
		archive_entry_set_uid(e, st->st_uid);
		archive_entry_set_gid(e, st->st_gid);
		archive_entry_set_mtime(e, st->st_mtime, 0);
		archive_entry_set_size(e, S_ISREG(st->st_mode) ?
		    st->st_size : 0);
		if (S_ISLNK(st->st_mode))
			archive_entry_set_symlink(e, link);
		if (archive_write_header(w->ar, e) != ARCHIVE_OK) {
			sr_seterr("%s: archive: %s", rel,
			    archive_error_string(w->ar));
			archive_entry_free(e);
			return -1;
		}
		archive_entry_free(e);
	}
	if (S_ISREG(st->st_mode)) {
		EVP_MD_CTX *md = w->out ? EVP_MD_CTX_new() : NULL;

		if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1) {
			sr_seterrno("%s: open", rel);
			EVP_MD_CTX_free(md);
			return -1;
		}
		if ((md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) !=
		    1) || content(w, fd, rel, md) == -1 ||
		    (md != NULL && EVP_DigestFinal_ex(md, dig, &dlen) != 1)) {
			close(fd);
			EVP_MD_CTX_free(md);
			return -1;
		}
		close(fd);
		EVP_MD_CTX_free(md);
		for (i = 0; i < dlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	}
	if (w->out == NULL)
		return 0;
	if (stravis(&vrel, rel, VIS_WHITE | VIS_OCTAL) == -1)
		return -1;
	if (S_ISLNK(st->st_mode)) {
		char *vl = NULL;

		if (stravis(&vl, link, VIS_WHITE | VIS_OCTAL) == -1)
			goto done;
		/* A link's mode means nothing, and hosts differ on it. */
		rv = sbuf_printf(w->out, "%s l - %u %u %s\n", vrel,
		    (unsigned)st->st_uid, (unsigned)st->st_gid, vl);
		free(vl);
		goto done;
	}
	rv = sbuf_printf(w->out, "%s %c %04o %u %u %s\n", vrel,
	    type_char(st->st_mode), (unsigned)(st->st_mode & 07777),
	    (unsigned)st->st_uid, (unsigned)st->st_gid, hex);
done:
	free(vrel);
	return rv;
}

/* Device nodes a stage holds in its spec alone, below dir. */
static int
spec_devices(struct walk *w, const char *dir)
{
	size_t i, n = strlen(dir);

	for (i = 0; w->spec != NULL && i < w->spec->n; i++) {
		const struct spec_ent *e = &w->spec->v[i];
		char *slash;
		char *vrel = NULL;
		int r;

		if ((!S_ISCHR(e->mode) && !S_ISBLK(e->mode)) ||
		    strncmp(e->path, dir, n) != 0 || e->path[n] != '/')
			continue;
		/* Only the directory's own, not deeper ones. */
		slash = strchr(e->path + n + 1, '/');
		if (slash != NULL || path_excluded(local_secrets, e->path))
			continue;
		if (w->out == NULL)
			continue;
		if (stravis(&vrel, e->path, VIS_WHITE | VIS_OCTAL) == -1)
			return -1;
		r = sbuf_printf(w->out, "%s %c %04o %u %u -\n", vrel,
		    type_char(e->mode), (unsigned)(e->mode & 07777),
		    (unsigned)e->uid, (unsigned)e->gid);
		free(vrel);
		if (r == -1)
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

	if (depth > MAXDEPTH) {
		sr_seterr("%s: nested too deeply", rel);
		return -1;
	}
	if (tree_list(dirfd, "", &names) == -1)
		return -1;
	for (i = 0; names[i] != NULL; i++) {
		struct stat st;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", rel,
		    names[i]) >= sizeof(path)) {
			sr_seterr("%s/%s: path too long", rel, names[i]);
			goto done;
		}
		if (path_excluded(local_secrets, path))
			continue;
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == -1) {
			sr_seterrno("%s: stat", path);
			goto done;
		}
		if (entry(w, dirfd, names[i], path, &st) == -1)
			goto done;
		if (S_ISDIR(st.st_mode)) {
			int fd = tree_opendir(dirfd, names[i]);

			if (fd == -1 || walk_dir(w, fd, path, depth + 1) ==
			    -1) {
				if (fd != -1)
					close(fd);
				goto done;
			}
			close(fd);
		}
	}
	rv = spec_devices(w, rel);
done:
	tree_freelist(names);
	return rv;
}

/* The trees tops of rootfd, each walked from its top directory. */
static int
walk_tops(struct walk *w, int rootfd, const char *const *tops)
{
	const char *const *t;

	for (t = tops; *t != NULL; t++) {
		struct stat st;
		int fd;

		if (tree_lstat(rootfd, *t, &st) == -1) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			sr_seterr("%s: not a directory", *t);
			return -1;
		}
		if ((fd = tree_opendir(rootfd, *t)) == -1)
			return -1;
		if (entry(w, rootfd, *t, *t, &st) == -1 ||
		    walk_dir(w, fd, *t, 0) == -1) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
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
	struct walk w = { spec, out, NULL };
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen, i;

	if (walk_tops(&w, rootfd, local_copy) == -1 || sort_lines(out) == -1)
		return -1;
	if (EVP_Digest(out->s ? out->s : "", out->len, dig, &dlen,
	    EVP_sha256(), NULL) != 1 || dlen * 2 != ID_HEXLEN) {
		sr_seterr("identity: no digest");
		return -1;
	}
	for (i = 0; i < dlen; i++)
		snprintf(id + 2 * i, 3, "%02x", dig[i]);
	return 0;
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
	struct walk w = { spec, NULL, NULL };
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
