/*
 * The tree copier: our own walk into archive_write_disk.
 *
 * The source is walked by descriptor: each directory is opened with
 * O_NOFOLLOW | O_DIRECTORY relative to its parent's descriptor, each
 * file the same way, and what is opened must be what was listed (device
 * and inode), so a directory swapped for a link while we copy cannot
 * lead the copy out of the tree.  archive_read_disk reads only the
 * attributes (flags, ACLs, extended attributes), through those
 * descriptors.
 *
 * Owners are copied as numbers and never looked up by name: the guest's
 * uid 12 is not whatever the host calls its user 12, and a name lookup
 * on either side would quietly turn guest owners into host ones.
 * Symbolic links are copied as links, never followed; the writer
 * refuses to write through a link or a "..".
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
#include <sys/statvfs.h>

#include "base/os.h"
#include "tree/copytree.h"
#include "tree/dir.h"

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

	/*
	 * A set's hard link has no type of its own (tar stores none): it is
	 * a second name of a regular file, its header the file's.
	 */
	if (archive_entry_hardlink(e) != NULL && (mode & AE_IFMT) == 0)
		mode |= AE_IFREG;
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
		sr_log(SR_WARN, "%s: extended attributes not kept "
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

/*
 * The writer failed at rel: a full file system said as such, with
 * where and how much more the copy needs; else the writer's message.
 */
static void
write_failed(const struct copy_opts *o, struct archive *out, const char *rel,
    const struct copy_stats *st)
{
	if (sr_noroom(archive_errno(out)))
		sr_seterr_noroom(o->dstfd, sr_shortpath(rel), st->need >
		    st->bytes ? st->need - st->bytes : 0, false);
	else
		sr_seterr("%s: copy: %s", sr_shortpath(rel),
		    archive_error_string(out));
}

static int
copy_data(const struct copy_opts *o, struct archive *in, struct archive *out,
    const char *rel, struct copy_stats *st)
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
		/* A failed write is only ARCHIVE_WARN to libarchive. */
		if (archive_write_data_block(out, buf, size, off) !=
		    ARCHIVE_OK) {
			write_failed(o, out, rel, st);
			return -1;
		}
		st->bytes += size;
		if (sr_checkpoint() == -1)
			return -1;
	}
}

/* A file's data from its descriptor, holes skipped where they are known. */
static int
copy_fd(const struct copy_opts *o, int fd, off_t size, struct archive *out,
    const char *rel, struct copy_stats *st)
{
	static char buf[1 << 16];
	off_t data = 0, end;

	while (data < size) {
#ifdef SEEK_DATA
		if ((data = lseek(fd, data, SEEK_DATA)) == -1) {
			if (errno == ENXIO)
				return 0;
			data = 0;
			end = size;
		} else if ((end = lseek(fd, data, SEEK_HOLE)) == -1)
			end = size;
#else
		end = size;
#endif
		if (end > size)
			end = size;
		while (data < end) {
			ssize_t n = pread(fd, buf, end - data <
			    (off_t)sizeof(buf) ? (size_t)(end - data) :
			    sizeof(buf), data);

			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n == 0)
					/* Shorter than it was: 0s. */
					return 0;
				sr_seterrno("%s: copy: read", rel);
				return -1;
			}
			if (archive_write_data_block(out, buf, (size_t)n,
			    data) != ARCHIVE_OK) {
				write_failed(o, out, rel, st);
				return -1;
			}
			data += n;
			st->bytes += (uintmax_t)n;
			if (sr_checkpoint() == -1)
				return -1;
		}
	}
	return 0;
}

/*
 * Write one entry, its data read from fd (-1: from in); warnings named
 * per file.
 */
static int
write_entry(const struct copy_opts *o, struct archive *in, int fd,
    struct archive *out, struct archive_entry *e, struct copy_stats *st)
{
	int r = archive_write_header(out, e);

	if (r < ARCHIVE_WARN) {
		write_failed(o, out, archive_entry_pathname(e), st);
		return -1;
	}
	if (r == ARCHIVE_WARN) {
		/* An attribute this host cannot set: say which. */
		sr_log(SR_WARN, "%s: %s", archive_entry_pathname(e),
		    archive_error_string(out));
		st->warnings++;
	}
	if (archive_entry_hardlink(e) == NULL && archive_entry_size(e) > 0 &&
	    (fd != -1 ? copy_fd(o, fd, archive_entry_size(e), out,
	    archive_entry_pathname(e), st) : copy_data(o, in, out,
	    archive_entry_pathname(e), st)) == -1)
		return -1;
	if ((r = archive_write_finish_entry(out)) < ARCHIVE_WARN ||
	    (r == ARCHIVE_WARN && sr_noroom(archive_errno(out)))) {
		write_failed(o, out, archive_entry_pathname(e), st);
		return -1;
	}
	return 0;
}

/* One run of copy_trees(). */
struct copier {
	const struct copy_opts *o;
	struct archive *attrs;		/* reads attributes, by fd */
	struct archive *out;
	struct archive_entry_linkresolver *lr;
	struct copy_stats *st;
	struct dir_seen dirs;
	/* Sizing: only what the copy will take, in blocks of bsize. */
	bool	 sizing;
	uint64_t bsize;
	struct dir_seen linked;	/* files with more names, sized */
};

static int copy_entry(struct copier *, int, const char *, const char *,
    int);

/* The entries of the directory fd (rel in the tree), depth deep. */
static int
copy_dir(struct copier *c, int fd, const char *rel, int depth)
{
	char **names, path[PATH_MAX];
	size_t i;
	int rv = -1;

	if (depth > SR_MAXDEPTH) {
		sr_seterr("copy: nested more than %d deep (refused): %s",
		    SR_MAXDEPTH, sr_shortpath(rel));
		return -1;
	}
	if (dir_list(fd, "", &names) == -1) {
		sr_seterrno("%s: copy: list", sr_shortpath(rel));
		return -1;
	}
	for (i = 0; names[i] != NULL; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", rel,
		    names[i]) >= sizeof(path)) {
			sr_seterr("copy: a path longer than %d bytes "
			    "(refused): %s/%s", PATH_MAX - 1,
			    sr_shortpath(rel), names[i]);
			goto done;
		}
		if (copy_entry(c, fd, names[i], path, depth) == -1 ||
		    sr_checkpoint() == -1)
			goto done;
	}
	rv = 0;
done:
	dir_freelist(names);
	return rv;
}

/* What a copy of the entry takes, counted while sizing. */
static void
size_entry(struct copier *c, const struct stat *st)
{
	/* Whole blocks, holes staying holes. */
	uint64_t take = S_ISDIR(st->st_mode) ? 1 : S_ISREG(st->st_mode) ?
	    (uint64_t)st->st_size : 0;

	if (S_ISREG(st->st_mode) && (uint64_t)st->st_blocks * 512 < take)
		take = (uint64_t)st->st_blocks * 512;
	/* A file with more names is copied once. */
	if (S_ISREG(st->st_mode) && st->st_nlink > 1 &&
	    dir_seen_add(&c->linked, st) != 0)
		take = 0;
	c->st->need += (take + c->bsize - 1) / c->bsize * c->bsize;
}

/*
 * Open a directory or a regular file with O_NOFOLLOW relative to dirfd,
 * and check it is what was listed (*st, then made what fstat says).
 */
static int
open_listed(int dirfd, const char *name, const char *rel, struct stat *st)
{
	struct stat fst;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    (S_ISDIR(st->st_mode) ? O_DIRECTORY : O_NONBLOCK));
	if (fd == -1 || fstat(fd, &fst) == -1 || fst.st_dev != st->st_dev ||
	    fst.st_ino != st->st_ino ||
	    (fst.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
		if (fd == -1 && errno != ELOOP && errno != ENOTDIR &&
		    errno != ENOENT)
			sr_seterrno("%s: copy: open", sr_shortpath(rel));
		else
			sr_seterr("%s: copy: changed while it was read "
			    "(refused)", sr_shortpath(rel));
		if (fd != -1)
			close(fd);
		return -1;
	}
	*st = fst;
	return fd;
}

/* Describe what fd holds: its attributes too, read through it. */
static int
describe_fd(struct copier *c, struct archive_entry *e, int fd,
    const struct stat *st, const char *rel)
{
	char path[64];
	int r;

	/*
	 * What reads attributes by path (a directory's default ACL on
	 * Linux) reads them through the descriptor.
	 */
	os_fd_path(fd, path, sizeof(path));
	archive_entry_copy_sourcepath(e, path);
	r = archive_read_disk_entry_from_file(c->attrs, e, fd, st);
	archive_entry_copy_sourcepath(e, NULL);
	if (r < ARCHIVE_WARN) {
		sr_seterr("%s: copy: %s", sr_shortpath(rel),
		    archive_error_string(c->attrs));
		return -1;
	}
	if (r == ARCHIVE_WARN) {
		sr_log(SR_WARN, "%s: %s", rel,
		    archive_error_string(c->attrs));
		c->st->warnings++;
	}
	return 0;
}

/* Describe links, fifos, devices and sockets: what lstat says. */
static int
describe_other(struct archive_entry *e, int dirfd, const char *name,
    const struct stat *st, const char *rel)
{
	char buf[PATH_MAX];
	ssize_t n;

	archive_entry_copy_stat(e, st);
	if (!S_ISLNK(st->st_mode))
		return 0;
	if ((n = readlinkat(dirfd, name, buf, sizeof(buf) - 1)) == -1) {
		sr_seterr("%s: copy: changed while it was read (refused)",
		    sr_shortpath(rel));
		return -1;
	}
	buf[n] = '\0';
	archive_entry_copy_symlink(e, buf);
	return 0;
}

/* Count the entry described, and record it or write it (data from fd). */
static int
put_entry(struct copier *c, struct archive_entry **e,
    struct archive_entry **spare, int fd, const struct stat *st,
    const char *rel)
{
	int r;

	if (S_ISDIR(st->st_mode) && (r = dir_seen_add(&c->dirs, st)) != 0) {
		if (r == -1)
			sr_seterrno("%s: copy", sr_shortpath(rel));
		else
			sr_seterr("copy: a directory met twice (moved while it "
			    "was read, or mounted twice; refused): %s",
			    sr_shortpath(rel));
		return -1;
	}
	c->st->entries++;
	if (c->o->spec != NULL && (r = record(c->o, *e)) != 0)
		/* 1: lives in the spec alone. */
		return r == -1 ? -1 : 0;
	if (c->o->dryrun)
		return 0;
	archive_entry_linkify(c->lr, e, spare);
	if (*e != NULL && write_entry(c->o, NULL, fd, c->out, *e, c->st) == -1)
		return -1;
	return 0;
}

/*
 * The entry name of the directory dirfd, rel in the tree: opened (a
 * directory or a regular file) with O_NOFOLLOW relative to dirfd and
 * checked to be what was listed, then described, written and, for a
 * directory, walked.
 */
static int
copy_entry(struct copier *c, int dirfd, const char *name, const char *rel,
    int depth)
{
	const struct copy_opts *o = c->o;
	struct archive_entry *e = NULL, *spare = NULL;
	struct stat st;
	int fd = -1, rv = -1;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		sr_seterrno("%s: copy: stat", sr_shortpath(rel));
		return -1;
	}
	if (path_excluded(o->exclude, rel)) {
		if (c->sizing)
			return 0;
		sr_log(SR_VERBOSE, "%s: not copied (each guest "
		    "makes its own)", rel);
		c->st->excluded++;
		return 0;
	}
	if (c->sizing) {
		size_entry(c, &st);
		if (!S_ISDIR(st.st_mode))
			return 0;
	}
	if ((S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) &&
	    (fd = open_listed(dirfd, name, rel, &st)) == -1)
		return -1;
	if (c->sizing) {
		rv = copy_dir(c, fd, rel, depth + 1);
		goto done;
	}
	if ((e = archive_entry_new()) == NULL) {
		sr_seterr("%s: copy: out of memory", sr_shortpath(rel));
		goto done;
	}
	archive_entry_set_pathname(e, rel);
	if ((fd != -1 ? describe_fd(c, e, fd, &st, rel) :
	    describe_other(e, dirfd, name, &st, rel)) == -1 ||
	    put_entry(c, &e, &spare, fd, &st, rel) == -1)
		goto done;
	if (S_ISDIR(st.st_mode) && copy_dir(c, fd, rel, depth + 1) == -1)
		goto done;
	rv = 0;
done:
	if (fd != -1)
		close(fd);
	archive_entry_free(e);
	archive_entry_free(spare);
	return rv;
}

/* The writer, the attribute reader and the link resolver of a run. */
static int
copier_start(struct copier *c)
{
	const char *const *t;

	if ((c->attrs = archive_read_disk_new()) == NULL ||
	    (c->out = archive_write_disk_new()) == NULL ||
	    (c->lr = archive_entry_linkresolver_new()) == NULL) {
		sr_seterr("copy: out of memory");
		return -1;
	}
	archive_write_disk_set_options(c->out, c->o->spec == NULL ?
	    EXTRACT_FLAGS : STAGE_FLAGS);
	archive_entry_linkresolver_set_strategy(c->lr,
	    ARCHIVE_FORMAT_TAR_USTAR);
	for (t = c->o->tops; *t != NULL; t++)
		if (strchr(*t, '/') != NULL || strcmp(*t, "..") == 0 ||
		    strcmp(*t, ".") == 0) {
			sr_seterr("%s: copy: not a name in the source", *t);
			return -1;
		}
	return 0;
}

static void
copier_end(struct copier *c)
{
	if (c->lr != NULL)
		archive_entry_linkresolver_free(c->lr);
	if (c->out != NULL)
		archive_write_free(c->out);
	if (c->attrs != NULL)
		archive_read_free(c->attrs);
	dir_seen_free(&c->dirs);
	dir_seen_free(&c->linked);
}

/* Room for it all in the destination, or refuse before writing anything. */
static int
check_room(struct copier *c, int src)
{
	const struct copy_opts *o = c->o;
	const char *const *t;
	struct statvfs sv;
	char where[512], what[64];
	uint64_t avail;

	c->sizing = true;
	c->bsize = fstatvfs(o->dstfd, &sv) == 0 && sv.f_frsize > 0 ?
	    sv.f_frsize : 4096;
	for (t = o->tops; *t != NULL; t++)
		if (copy_entry(c, src, *t, *t, 0) == -1)
			return -1;
	c->sizing = false;
	dir_seen_free(&c->dirs);
	c->st->need += o->extra;
	if (sr_fsroom(o->dstfd, where, sizeof(where), &avail) == 0 &&
	    c->st->need > avail) {
		snprintf(what, sizeof(what), "a copy of %s",
		    sr_size(c->st->need));
		sr_seterr_noroom(o->dstfd, what, c->st->need - avail, false);
		return -1;
	}
	return 0;
}

int
copy_trees(const struct copy_opts *o, struct copy_stats *st)
{
	struct copier c;
	const char *const *t;
	int cwd = -1, src = -1, rv = -1;

	memset(st, 0, sizeof(*st));
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.st = st;
	if (o->srcpath[0] != '/') {
		sr_seterr("copy: %s: the source must be an absolute path",
		    o->srcpath);
		return -1;
	}
	/* The source's own path is the caller's; below it, descriptors. */
	if ((src = open(o->srcpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		sr_seterrno("copy: %s", o->srcpath);
		return -1;
	}
	/*
	 * The writer works relative to the current directory: the
	 * destination, entered through its fd.
	 */
	if ((cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		sr_seterrno("copy: open the current directory");
		goto done;
	}
	if (!o->dryrun && fchdir(o->dstfd) == -1) {
		sr_seterrno("copy: enter the destination");
		goto done;
	}
	if (copier_start(&c) == -1 || (!o->dryrun && check_room(&c, src) ==
	    -1))
		goto done;
	for (t = o->tops; *t != NULL; t++)
		if (copy_entry(&c, src, *t, *t, 0) == -1)
			goto done;
	/* Directory times and modes are set last, on close. */
	if (archive_write_close(c.out) != ARCHIVE_OK) {
		sr_seterr("copy: %s", archive_error_string(c.out));
		goto done;
	}
	rv = 0;
done:
	copier_end(&c);
	if (cwd != -1) {
		if (fchdir(cwd) == -1 && rv == 0) {
			sr_seterrno("copy: return to the working directory");
			rv = -1;
		}
		close(cwd);
	}
	close(src);
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

/*
 * Give a set's member its name in the root, and a hard link its
 * target's: the spec and the stage know each path by one name.
 * 0: a member naming the root itself, skipped.
 */
static int
member_names(struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e);
	char name[PATH_MAX], link[PATH_MAX];
	int r;

	if ((r = set_member_name(raw, name, sizeof(name))) < 0) {
		sr_seterr("%s: %s (refused)", raw != NULL ? raw : "(no name)",
		    r == -1 ? "a name outside the root" : "a name too long");
		return -1;
	}
	if (r == 0)
		return 0;
	archive_entry_set_pathname(e, name);
	if (archive_entry_hardlink(e) != NULL) {
		if (set_member_name(archive_entry_hardlink(e), link,
		    sizeof(link)) != 1) {
			sr_seterr("%s: a link outside the root (refused)",
			    name);
			return -1;
		}
		archive_entry_set_hardlink(e, link);
	}
	return 1;
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
		sr_oom();
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
		if (r < ARCHIVE_WARN) {
			sr_seterr("read: %s", archive_error_string(in));
			goto done;
		}
		if ((r = member_names(e)) == -1)
			goto done;
		if (r == 0)
			continue;
		st->entries++;
		if ((r = record(o, e)) == -1)
			goto done;
		if (r == 1)
			continue;
		if (write_entry(o, in, -1, out, e, st) == -1 ||
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
