/*
 * The tree copier: archive_read_disk into archive_write_disk.
 *
 * Owners are copied as numbers and never looked up by name: the guest's
 * uid 12 is not whatever the host calls its user 12, and a name lookup
 * on either side would quietly turn guest owners into host ones.
 * Symbolic links are read physically (never followed) and written as
 * links; the writer refuses to write through a link or a "..".
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "copytree.h"

#define EXTRACT_FLAGS (ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | \
	ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS | \
	ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SPARSE | \
	ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT | \
	ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS)
/* Staging as an ordinary user: owners, ACLs, flags and xattrs go in the spec. */
#define STAGE_FLAGS (EXTRACT_FLAGS & ~(ARCHIVE_EXTRACT_OWNER | \
	ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_XATTR))

bool
is_set_name(const char *path)
{
	static const char *const ext[] = { ".tgz", ".tar.gz", ".tar", ".txz",
	    ".tar.xz", ".tbz", ".tar.bz2", NULL };
	size_t n = strlen(path), i;

	for (i = 0; ext[i] != NULL; i++)
		if (n > strlen(ext[i]) && strcmp(path + n - strlen(ext[i]),
		    ext[i]) == 0)
			return true;
	return false;
}

bool
path_excluded(const char *const *patterns, const char *rel)
{
	const char *const *p;

	for (p = patterns; p != NULL && *p != NULL; p++)
		if (fnmatch(*p, rel, FNM_PATHNAME | FNM_PERIOD) == 0)
			return true;
	return false;
}

/*
 * Staging: note what the entry must be in the image, and make what
 * goes on disk something its user can write, read and make.  Returns 1
 * for an entry that lives in the spec alone (a device node), else 0.
 */
static int
record(const struct copy_opts *o, struct archive_entry *e)
{
	struct spec_ent se;
	mode_t mode = archive_entry_mode(e);
	const struct timespec mt = { archive_entry_mtime(e),
	    archive_entry_mtime_nsec(e) };

	memset(&se, 0, sizeof(se));
	se.path = (char *)archive_entry_pathname(e);
	se.mode = mode;
	se.uid = (uid_t)archive_entry_uid(e);
	se.gid = (gid_t)archive_entry_gid(e);
	se.mtime = mt;
	se.link = (char *)archive_entry_symlink(e);
	se.rmajor = archive_entry_rdevmajor(e);
	se.rminor = archive_entry_rdevminor(e);
	if (spec_add(o->spec, &se) == -1)
		return -1;
	if (archive_entry_xattr_count(e) > 0)
		o->log(o->logctx, SR_WARN, "%s: extended attributes not kept "
		    "(the image holds none)", se.path);
	if (S_ISCHR(mode) || S_ISBLK(mode) || S_ISSOCK(mode))
		return 1;
	archive_entry_xattr_clear(e);
	archive_entry_acl_clear(e);
	archive_entry_set_fflags(e, 0, 0);
	/* Owner, set-id and sticky bits live in the spec. */
	archive_entry_set_perm(e, (mode & 0777) | (S_ISDIR(mode) ? 0700 :
	    0600));
	return 0;
}

static int
copy_data(struct archive *in, struct archive *out, const char *rel,
    struct copy_stats *st)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	for (;;) {
		r = archive_read_data_block(in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN) {
			sr_seterr("%s: copy: read: %s", rel,
			    archive_error_string(in));
			return -1;
		}
		if (archive_write_data_block(out, buf, size, off) <
		    ARCHIVE_WARN) {
			sr_seterr("%s: copy: write: %s", rel,
			    archive_error_string(out));
			return -1;
		}
		st->bytes += size;
		if (sr_checkpoint() == -1)
			return -1;
	}
}

/* Write one entry, its data read from in; warnings named per file. */
static int
write_entry(const struct copy_opts *o, struct archive *in,
    struct archive *out, struct archive_entry *e, struct copy_stats *st)
{
	int r = archive_write_header(out, e);

	if (r < ARCHIVE_WARN) {
		sr_seterr("%s: copy: %s", archive_entry_pathname(e),
		    archive_error_string(out));
		return -1;
	}
	if (r == ARCHIVE_WARN) {
		/* An attribute this host cannot set: say which. */
		o->log(o->logctx, SR_WARN, "%s: %s", archive_entry_pathname(e),
		    archive_error_string(out));
		st->warnings++;
	}
	if (archive_entry_hardlink(e) == NULL && archive_entry_size(e) > 0 &&
	    copy_data(in, out, archive_entry_pathname(e), st) == -1)
		return -1;
	if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
		sr_seterr("%s: copy: %s", archive_entry_pathname(e),
		    archive_error_string(out));
		return -1;
	}
	return 0;
}

static int
copy_one(const struct copy_opts *o, const char *top, struct archive *out,
    struct archive_entry_linkresolver *lr, struct copy_stats *st)
{
	struct archive *in;
	struct archive_entry *e = NULL, *spare = NULL;
	char path[PATH_MAX];
	size_t plen;
	int r, rv = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", o->srcpath, top) >=
	    sizeof(path)) {
		sr_seterr("%s: copy: path too long", top);
		return -1;
	}
	plen = strlen(o->srcpath) + 1;
	if ((in = archive_read_disk_new()) == NULL) {
		sr_seterr("%s: copy: out of memory", top);
		return -1;
	}
	archive_read_disk_set_symlink_physical(in);
	if (archive_read_disk_open(in, path) != ARCHIVE_OK) {
		sr_seterr("%s: copy: %s", top, archive_error_string(in));
		goto done;
	}
	for (;;) {
		const char *name, *rel;

		if ((e = archive_entry_new()) == NULL) {
			sr_seterr("%s: copy: out of memory", top);
			goto done;
		}
		r = archive_read_next_header2(in, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			sr_seterr("%s: copy: %s", top, archive_error_string(in));
			goto done;
		}
		name = archive_entry_pathname(e);
		if (name == NULL || strncmp(name, o->srcpath, plen - 1) != 0 ||
		    name[plen - 1] != '/') {
			sr_seterr("%s: copy: unexpected path from the reader",
			    top);
			goto done;
		}
		rel = name + plen;
		if (path_excluded(o->exclude, rel)) {
			o->log(o->logctx, SR_VERBOSE, "%s: not copied "
			    "(each guest makes its own)", rel);
			st->excluded++;
			archive_entry_free(e);
			e = NULL;
			continue;
		}
		archive_read_disk_descend(in);
		{
			char *copy = strdup(rel);

			if (copy == NULL) {
				sr_seterr("%s: copy: out of memory", top);
				goto done;
			}
			archive_entry_set_pathname(e, copy);
			free(copy);
		}
		st->entries++;
		if (o->spec != NULL) {
			r = record(o, e);
			if (r == -1)
				goto done;
			if (r == 1) {
				archive_entry_free(e);
				e = NULL;
				continue;
			}
		}
		if (o->dryrun) {
			archive_entry_free(e);
			e = NULL;
			continue;
		}
		archive_entry_linkify(lr, &e, &spare);
		if (write_entry(o, in, out, e, st) == -1)
			goto done;
		archive_entry_free(e);
		e = NULL;
		if (sr_checkpoint() == -1)
			goto done;
	}
	rv = 0;
done:
	archive_entry_free(e);
	archive_entry_free(spare);
	archive_read_close(in);
	archive_read_free(in);
	return rv;
}

int
copy_trees(const struct copy_opts *o, struct copy_stats *st)
{
	struct archive *out = NULL;
	struct archive_entry_linkresolver *lr = NULL;
	const char *const *t;
	int cwd, rv = -1;

	memset(st, 0, sizeof(*st));
	if (o->srcpath[0] != '/') {
		sr_seterr("copy: %s: the source must be an absolute path",
		    o->srcpath);
		return -1;
	}
	/*
	 * The writer works relative to the current directory, and the
	 * reader returns to the directory it was opened in after each
	 * call: both are the destination, entered through its fd.
	 */
	if ((cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		sr_seterrno("copy: open the current directory");
		return -1;
	}
	if (!o->dryrun && fchdir(o->dstfd) == -1) {
		sr_seterrno("copy: enter the destination");
		close(cwd);
		return -1;
	}
	if ((out = archive_write_disk_new()) == NULL ||
	    (lr = archive_entry_linkresolver_new()) == NULL) {
		sr_seterr("copy: out of memory");
		goto done;
	}
	archive_write_disk_set_options(out, o->spec == NULL ? EXTRACT_FLAGS :
	    STAGE_FLAGS);
	archive_entry_linkresolver_set_strategy(lr, ARCHIVE_FORMAT_TAR_USTAR);
	for (t = o->tops; *t != NULL; t++)
		if (copy_one(o, *t, out, lr, st) == -1)
			goto done;
	/* Directory times and modes are set last, on close. */
	if (archive_write_close(out) != ARCHIVE_OK) {
		sr_seterr("copy: %s", archive_error_string(out));
		goto done;
	}
	rv = 0;
done:
	if (lr != NULL)
		archive_entry_linkresolver_free(lr);
	if (out != NULL)
		archive_write_free(out);
	if (fchdir(cwd) == -1 && rv == 0) {
		sr_seterrno("copy: return to the working directory");
		rv = -1;
	}
	close(cwd);
	return rv;
}

int
set_member_name(const char *name, char *out, size_t outsz)
{
	const char *p;
	size_t n = 0, k;

	if (name == NULL || *name == '/' || outsz == 0)
		return -1;
	for (p = name; *p != '\0';) {
		k = strcspn(p, "/");
		if (k == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		/* "." and empty components ("./etc", "etc//rc") say nothing. */
		if (k > 0 && !(k == 1 && p[0] == '.')) {
			if (n + 1 + k >= outsz)
				return -2;
			if (n > 0)
				out[n++] = '/';
			memcpy(out + n, p, k);
			n += k;
		}
		p += k;
		while (*p == '/')
			p++;
	}
	out[n] = '\0';
	return n > 0 ? 1 : 0;
}

int
sets_extract(const struct copy_opts *o, const char *set, struct copy_stats *st)
{
	struct archive *in = NULL, *out = NULL;
	struct archive_entry *e;
	int cwd, r, rv = -1;

	if ((cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		sr_seterrno("open the current directory");
		return -1;
	}
	if ((in = archive_read_new()) == NULL ||
	    (out = archive_write_disk_new()) == NULL) {
		sr_seterr("out of memory");
		goto done;
	}
	/* Sets are tar archives, maybe gzip'd, xz'd or bzip2'd: no more. */
	archive_read_support_format_tar(in);
	archive_read_support_filter_gzip(in);
	archive_read_support_filter_xz(in);
	archive_read_support_filter_bzip2(in);
	archive_write_disk_set_options(out, STAGE_FLAGS);
	/* Open the set where the caller named it, then enter the stage. */
	if (archive_read_open_filename(in, set, 1 << 16) != ARCHIVE_OK) {
		sr_seterr("read: %s", archive_error_string(in));
		goto done;
	}
	if (fchdir(o->dstfd) == -1) {
		sr_seterrno("enter the stage");
		goto done;
	}
	while ((r = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
		const char *raw;
		char name[PATH_MAX], link[PATH_MAX];

		if (r < ARCHIVE_WARN) {
			sr_seterr("read: %s", archive_error_string(in));
			goto done;
		}
		raw = archive_entry_pathname(e);
		if ((r = set_member_name(raw, name, sizeof(name))) < 0) {
			sr_seterr("%s: %s (refused)", raw != NULL ? raw :
			    "(no name)", r == -1 ? "a name outside the root" :
			    "a name too long");
			goto done;
		}
		if (r == 0)
			continue;
		/* The spec and the stage know each path by one name. */
		archive_entry_set_pathname(e, name);
		if (archive_entry_hardlink(e) != NULL) {
			if (set_member_name(archive_entry_hardlink(e), link,
			    sizeof(link)) != 1) {
				sr_seterr("%s: a link outside the root "
				    "(refused)", name);
				goto done;
			}
			archive_entry_set_hardlink(e, link);
		}
		st->entries++;
		if ((r = record(o, e)) == -1)
			goto done;
		if (r == 1)
			continue;
		if (write_entry(o, in, out, e, st) == -1 ||
		    sr_checkpoint() == -1)
			goto done;
	}
	if (archive_write_close(out) != ARCHIVE_OK) {
		sr_seterr("write: %s", archive_error_string(out));
		goto done;
	}
	rv = 0;
done:
	if (in != NULL)
		archive_read_free(in);
	if (out != NULL)
		archive_write_free(out);
	if (fchdir(cwd) == -1 && rv == 0) {
		sr_seterrno("return to the working directory");
		rv = -1;
	}
	close(cwd);
	return rv;
}
