/*
 * Contained access to a guest tree (see tree.h).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tree/dir.h"
#include "base/os.h"
#include "base/tmpname.h"


int
dir_check_rel(const char *rel)
{
	const char *p = rel;

	if (*rel == '/') {
		sr_seterr("%s: not a path inside the guest", rel);
		errno = EINVAL;
		return -1;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			sr_seterr("%s: not a plain path inside the guest", rel);
			errno = EINVAL;
			return -1;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

/*
 * Whether some component of rel is a symbolic link: opening a link with
 * O_DIRECTORY | O_NOFOLLOW says ENOTDIR, which alone would mislead.
 */
static bool
has_symlink(int rootfd, const char *rel)
{
	char buf[PATH_MAX];
	struct stat st;
	char *p;

	if (strlcpy(buf, rel, sizeof(buf)) >= sizeof(buf))
		return false;
	for (p = buf;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char c = *p;
			bool link;

			*p = '\0';
			/* Components before this one are not links, so
			 * fstatat() below cannot leave the tree. */
			link = fstatat(rootfd, buf, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
			*p = c;
			if (link)
				return true;
			if (c == '\0' || fstatat(rootfd, buf, &st,
			    AT_SYMLINK_NOFOLLOW) == -1)
				return false;
		}
	}
}

static void
set_open_error(int rootfd, const char *rel, const char *step)
{
	if (errno == ENOTDIR && has_symlink(rootfd, rel))
		errno = ELOOP;
	if (errno == ELOOP)
		sr_seterr("%s: %s: a symbolic link in the path (refused)",
		    rel, step);
	else if (errno == EXDEV)
		sr_seterr("%s: %s: path leaves the guest (refused)", rel, step);
	else
		sr_seterrno("%s: %s", rel, step);
}

/* The portable walk: one component at a time, never following links. */
static int
walk_open(int rootfd, const char *rel, int flags)
{
	char comp[NAME_MAX + 1];
	const char *p = rel;
	int fd, nfd;

	if ((fd = dup(rootfd)) == -1)
		return -1;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");
		bool last = p[n] == '\0';

		if (n > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		nfd = openat(fd, comp, (last ? flags : O_RDONLY | O_DIRECTORY) |
		    O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd == -1)
			return -1;
		fd = nfd;
		p += n + (last ? 0 : 1);
	}
	return fd;
}

/* In one call where the host can (os_open_beneath), else the walk. */
static int
contained_open(int rootfd, const char *rel, int flags)
{
	int fd = os_open_beneath(rootfd, rel, flags);

	if (fd != -1 || (errno != ENOSYS && errno != EPERM))
		return fd;
	return walk_open(rootfd, rel, flags);
}

int
dir_opendir(int rootfd, const char *rel)
{
	int fd;

	/* A new open directory, not a dup: its own read offset. */
	if (*rel == '\0' || strcmp(rel, ".") == 0) {
		if ((fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			sr_seterrno("/: open");
		return fd;
	}
	if (dir_check_rel(rel) == -1)
		return -1;
	if ((fd = contained_open(rootfd, rel, O_RDONLY | O_DIRECTORY)) == -1)
		set_open_error(rootfd, rel, "open directory");
	return fd;
}

int
dir_openparent(int rootfd, const char *rel, const char **name)
{
	const char *slash;
	char dir[PATH_MAX];
	int fd;

	if (dir_check_rel(rel) == -1)
		return -1;
	if ((slash = strrchr(rel, '/')) == NULL) {
		*name = rel;
		return dir_opendir(rootfd, "");
	}
	if ((size_t)(slash - rel) >= sizeof(dir)) {
		sr_seterr("%s: path too long", rel);
		return -1;
	}
	memcpy(dir, rel, (size_t)(slash - rel));
	dir[slash - rel] = '\0';
	*name = slash + 1;
	if ((fd = contained_open(rootfd, dir, O_RDONLY | O_DIRECTORY)) == -1)
		set_open_error(rootfd, rel, "open parent directory");
	return fd;
}

/*
 * The directory to call on rel's last component (*name) in: rootfd
 * itself for a name in the root (*owned false: not to be closed), which
 * saves a walk's opening of "." for each name in a directory it holds;
 * else dir_openparent()'s.
 */
static int
parent_at(int rootfd, const char *rel, const char **name, bool *owned)
{
	*owned = *rel == '\0' || strchr(rel, '/') != NULL;
	if (*owned)
		return dir_openparent(rootfd, rel, name);
	if (dir_check_rel(rel) == -1)
		return -1;
	*name = rel;
	return rootfd;
}

int
dir_lstat(int rootfd, const char *rel, struct stat *st)
{
	const char *name;
	bool owned;
	int pfd, rv, saved;

	if ((pfd = parent_at(rootfd, rel, &name, &owned)) == -1)
		return -1;
	rv = fstatat(pfd, name, st, AT_SYMLINK_NOFOLLOW);
	saved = errno;
	if (rv == -1)
		sr_seterrno("%s: stat", rel);
	if (owned)
		close(pfd);
	errno = saved;
	return rv;
}

int
dir_readfile(int rootfd, const char *rel, size_t max, struct sbuf *out,
    struct stat *stp)
{
	struct stat st;
	char buf[65536];
	ssize_t n;
	int fd, rv = -1;

	if ((fd = dir_openfile(rootfd, rel)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		sr_seterrno("%s: read", rel);
		goto done;
	}
	if ((uintmax_t)st.st_size > max) {
		sr_seterr("%s: read: larger than %zu bytes", rel, max);
		errno = EFBIG;
		goto done;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (out->len + (size_t)n > max ||
		    sbuf_add(out, buf, (size_t)n) == -1) {
			sr_seterr("%s: read: file grew or out of memory", rel);
			goto done;
		}
	if (n == -1) {
		sr_seterrno("%s: read", rel);
		goto done;
	}
	if (out->s == NULL && sbuf_add(out, "", 0) == -1)
		goto done;
	if (stp != NULL)
		*stp = st;
	rv = 0;
done:
	close(fd);
	return rv;
}

static int
write_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t n = write(fd, c, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * A step that found no room says where and how much is free; any other
 * error is named as it is.  Returns -1.
 */
static int
made_fail(int pfd, const char *rel, const char *step)
{
	if (sr_noroom(errno))
		sr_seterr_noroom(pfd, rel, 0, false);
	else
		sr_seterrno("%s: %s", rel, step);
	return -1;
}

/*
 * What replace_by_temp() calls to make the new object under the name
 * tmp in pfd, and ready it: 0 done, 1 tmp is taken (EEXIST, nothing
 * made: another name is tried), -1 an error with its message.
 */
typedef int tmpmakefn(int pfd, const char *tmp, void *arg);

/*
 * Replace name in pfd (rel in messages, step the operation) atomically:
 * make(arg) makes the new object under a fresh hidden name beside it,
 * .NAME.sr.PID.XXXXXX (tmpname.h: a later run knows whose it was), and
 * it is renamed over name.  On an error the temporary is removed; a
 * make() that failed before making it leaves nothing to remove, and
 * that name is ours alone.
 */
static int
replace_by_temp(int pfd, const char *name, const char *rel, const char *step,
    tmpmakefn *make, void *arg)
{
	char tmp[NAME_MAX + 1];
	int i, r = 1, saved;

	for (i = 0; i < 100 && r == 1; i++) {
		if (tmpname(tmp, sizeof(tmp), ".%.200s.sr", name) == -1) {
			sr_seterr("%s: %s: name too long", rel, step);
			return -1;
		}
		r = make(pfd, tmp, arg);
	}
	if (r == 1) {
		sr_seterr("%s: %s: no temporary name", rel, step);
		errno = EEXIST;
		return -1;
	}
	if (r == 0 && renameat(pfd, tmp, pfd, name) == 0)
		return 0;
	if (r == 0)
		sr_seterrno("%s: %s: rename into place", rel, step);
	saved = errno;
	(void)unlinkat(pfd, tmp, 0);
	errno = saved;
	return -1;
}

typedef int fillfn(int, const void *, size_t, int);

static int
fill_buf(int fd, const void *data, size_t len, int srcfd)
{
	(void)srcfd;
	return write_all(fd, data, len);
}

static int
fill_fd(int fd, const void *data, size_t len, int srcfd)
{
	char buf[1 << 16];
	ssize_t n;

	(void)data;
	(void)len;
	if (lseek(srcfd, 0, SEEK_SET) == -1)
		return -1;
	while ((n = read(srcfd, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (write_all(fd, buf, (size_t)n) == -1)
			return -1;
		if (sr_interrupted()) {
			errno = EINTR;
			return -1;
		}
	}
	return 0;
}

/*
 * Keep the first version of an edited file as NAME.orig: a hard link,
 * so it costs nothing and keeps owner, mode and times.  Only a regular
 * file is kept, and an existing NAME.orig is never replaced.
 */
static int
keep_orig_at(int pfd, const char *name, const char *rel)
{
	char orig[NAME_MAX + 1];
	struct stat st;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		sr_seterrno("%s: keep original: stat", rel);
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	if ((size_t)snprintf(orig, sizeof(orig), "%s.orig", name) >=
	    sizeof(orig)) {
		sr_seterr("%s: keep original: name too long", rel);
		return -1;
	}
	if (linkat(pfd, name, pfd, orig, 0) == -1 && errno != EEXIST) {
		sr_seterrno("%s.orig: keep original", rel);
		return -1;
	}
	return 0;
}

int
dir_keep_orig(int rootfd, const char *rel)
{
	const char *name;
	int pfd, rv;

	if ((pfd = dir_openparent(rootfd, rel, &name)) == -1)
		return -1;
	rv = keep_orig_at(pfd, name, rel);
	close(pfd);
	return rv;
}

/* Open a regular file inside the guest for reading, never a link. */
int
dir_openfile(int rootfd, const char *rel)
{
	struct stat st;
	const char *name;
	bool owned;
	int pfd, fd, saved;

	if ((pfd = parent_at(rootfd, rel, &name, &owned)) == -1)
		return -1;
	fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	saved = errno;
	if (owned)
		close(pfd);
	if (fd == -1) {
		errno = saved;
		if (errno == ELOOP)
			sr_seterr("%s: read: is a symbolic link (refused)", rel);
		else
			sr_seterrno("%s: read", rel);
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		sr_seterr("%s: read: not a regular file", rel);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* A new file for write_atomic(): its content, owner, mode and more. */
struct newfile {
	fillfn	*fill;
	const void *data;
	size_t	 len;
	int	 srcfd;
	const struct tree_wopts *o;
	const char *rel, *name;
	mode_t	 oldmode;	/* of what is there, or 0 */
	int	 fd;		/* the temporary, open for the caller */
};

/* Make the temporary of a write, filled, owned and synced (tmpmakefn). */
static int
make_file(int pfd, const char *tmp, void *arg)
{
	struct newfile *nf = arg;
	const char *rel = nf->rel;

	if ((nf->fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return errno == EEXIST ? 1 :
		    made_fail(pfd, rel, "write: create temporary");
	if (nf->fill(nf->fd, nf->data, nf->len, nf->srcfd) == -1)
		/* A signal caught has said so already. */
		return sr_checkpoint() == 0 ? made_fail(pfd, rel, "write") : -1;
	if ((geteuid() == 0 && fchown(nf->fd, nf->o->uid, nf->o->gid) == -1) ||
	    fchmod(nf->fd, nf->o->mode) == -1) {
		sr_seterrno("%s: write: set owner and mode", rel);
		return -1;
	}
	/* A new inode: it gets the old one's extended attributes (ACLs). */
	if (S_ISREG(nf->oldmode)) {
		int ofd = openat(pfd, nf->name, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC);

		if (ofd == -1 || os_copy_xattrs(ofd, nf->fd) == -1) {
			sr_seterrno("%s: write: keep extended attributes", rel);
			if (ofd != -1)
				close(ofd);
			return -1;
		}
		close(ofd);
	}
	if (!nf->o->nosync && fsync(nf->fd) == -1)
		return made_fail(pfd, rel, "write: fsync");
	return 0;
}

static int
write_atomic(int rootfd, const char *rel, fillfn *fill, const void *data,
    size_t len, int srcfd, const struct tree_wopts *o)
{
	struct newfile nf = { fill, data, len, srcfd, o, rel, NULL, 0, -1 };
	struct stat st;
	int pfd, rv = -1;

	if ((pfd = dir_openparent(rootfd, rel, &nf.name)) == -1)
		return -1;
	if (fstatat(pfd, nf.name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode)) {
			sr_seterr("%s: write: is a directory", rel);
			goto done;
		}
		if (o->keep_orig && keep_orig_at(pfd, nf.name, rel) == -1)
			goto done;
		nf.oldmode = st.st_mode;
	} else if (errno != ENOENT) {
		sr_seterrno("%s: write: stat", rel);
		goto done;
	}
	if (replace_by_temp(pfd, nf.name, rel, "write", make_file, &nf) == -1)
		goto done;
	if (!o->nosync)
		(void)fsync(pfd);
	rv = 0;
done:
	if (nf.fd != -1)
		close(nf.fd);
	close(pfd);
	return rv;
}

int
dir_writefile(int rootfd, const char *rel, const void *data, size_t len,
    const struct tree_wopts *o)
{
	return write_atomic(rootfd, rel, fill_buf, data, len, -1, o);
}

int
dir_writefile_fd(int rootfd, const char *rel, int srcfd,
    const struct tree_wopts *o)
{
	return write_atomic(rootfd, rel, fill_fd, NULL, 0, srcfd, o);
}

/* A symbolic link for dir_symlink(), owned as told (tmpmakefn). */
struct newlink {
	const char *target, *rel;
	uid_t	 uid;
	gid_t	 gid;
};

static int
make_symlink(int pfd, const char *tmp, void *arg)
{
	const struct newlink *nl = arg;

	if (symlinkat(nl->target, pfd, tmp) == -1)
		return errno == EEXIST ? 1 : made_fail(pfd, nl->rel, "symlink");
	if (geteuid() == 0 && fchownat(pfd, tmp, nl->uid, nl->gid,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		sr_seterrno("%s: symlink: set owner", nl->rel);
		return -1;
	}
	return 0;
}

/*
 * Make a symbolic link at rel pointing at target (never followed),
 * atomically replacing a link or file there, owned as told (as root).
 */
int
dir_symlink(int rootfd, const char *rel, const char *target, uid_t uid,
    gid_t gid)
{
	struct newlink nl = { target, rel, uid, gid };
	const char *name;
	int pfd, rv;

	if ((pfd = dir_openparent(rootfd, rel, &name)) == -1)
		return -1;
	rv = replace_by_temp(pfd, name, rel, "symlink", make_symlink, &nl);
	close(pfd);
	return rv;
}

/*
 * Give a path (not a link) its owner, as root, and its mode; an
 * ordinary user keeps access to a directory it stages.
 */
int
dir_setattr(int rootfd, const char *rel, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;
	const char *name;
	int pfd, rv = -1;

	if ((pfd = dir_openparent(rootfd, rel, &name)) == -1)
		return -1;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		sr_seterrno("%s: set owner and mode", rel);
		goto done;
	}
	if (geteuid() != 0 && S_ISDIR(st.st_mode))
		mode |= S_IRWXU;
	if ((geteuid() == 0 && fchownat(pfd, name, uid, gid,
	    AT_SYMLINK_NOFOLLOW) == -1) || (!S_ISLNK(st.st_mode) &&
	    fchmodat(pfd, name, mode & 07777, 0) == -1)) {
		sr_seterrno("%s: set owner and mode", rel);
		goto done;
	}
	rv = 0;
done:
	close(pfd);
	return rv;
}

/* A second name for an existing file, for dir_link() (tmpmakefn). */
struct newname {
	int	 ffd;
	const char *fname, *to, *step;
};

static int
make_hardlink(int tfd, const char *tmp, void *arg)
{
	const struct newname *nn = arg;

	if (linkat(nn->ffd, nn->fname, tfd, tmp, 0) == -1)
		return errno == EEXIST ? 1 : made_fail(tfd, nn->to, nn->step);
	return 0;
}

int
dir_link(int rootfd, const char *from, const char *to)
{
	char step[PATH_MAX + 16];
	struct newname nn = { -1, NULL, to, step };
	const char *tname;
	int tfd, rv = -1;

	snprintf(step, sizeof(step), "link to %s", from);
	if ((nn.ffd = dir_openparent(rootfd, from, &nn.fname)) == -1)
		return -1;
	if ((tfd = dir_openparent(rootfd, to, &tname)) == -1) {
		close(nn.ffd);
		return -1;
	}
	if (replace_by_temp(tfd, tname, to, step, make_hardlink, &nn) == 0) {
		(void)fsync(tfd);
		rv = 0;
	}
	close(nn.ffd);
	close(tfd);
	return rv;
}

int
dir_mkdir(int rootfd, const char *rel, mode_t mode)
{
	struct stat st;
	const char *name;
	int pfd, rv = -1;

	if ((pfd = dir_openparent(rootfd, rel, &name)) == -1)
		return -1;
	if (mkdirat(pfd, name, mode) == 0) {
		if (geteuid() == 0 &&
		    fchownat(pfd, name, 0, 0, AT_SYMLINK_NOFOLLOW) == -1) {
			sr_seterrno("%s: mkdir: set owner", rel);
			goto done;
		}
		/* mkdir is subject to the umask; the mode is what we say. */
		if (fchmodat(pfd, name, mode, 0) == -1) {
			sr_seterrno("%s: mkdir: set mode", rel);
			goto done;
		}
		rv = 0;
	} else if (errno == EEXIST &&
	    fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode)) {
		rv = 0;
	} else if (errno == EEXIST) {
		sr_seterr("%s: mkdir: exists and is not a directory", rel);
	} else if (sr_noroom(errno)) {
		sr_seterr_noroom(pfd, rel, 0, false);
	} else {
		sr_seterrno("%s: mkdir", rel);
	}
done:
	close(pfd);
	return rv;
}

static int
cmpname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in the directory fd (consumed). */
static int
list_fd(int fd, const char *rel, char ***out)
{
	char **v = NULL, **nv;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		sr_seterrno("%s: list", rel);
		if (fd != -1)
			close(fd);
		return -1;
	}
	/* A dup shares its offset: read from the start, whoever read before. */
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL)
				goto fail;
			v = nv;
		}
		if ((v[n] = strdup(de->d_name)) == NULL)
			goto fail;
		v[++n] = NULL;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	if (v == NULL && (v = calloc(1, sizeof(*v))) == NULL) {
		sr_seterrno("%s: list", rel);
		return -1;
	}
	qsort(v, n, sizeof(*v), cmpname);
	*out = v;
	return 0;
fail:
	sr_seterrno("%s: list", rel);
	closedir(d);
	if (v != NULL) {
		v[n] = NULL;
		dir_freelist(v);
	}
	return -1;
}

/*
 * Removing a tree of any depth, iteratively: a stack of the directories
 * being emptied, of which only the deepest OPENLEVELS stay open (the
 * others are found again through "..", checked by device and inode).
 * No link is followed and no mount point is crossed.
 */
#define OPENLEVELS	32

struct rmlevel {
	DIR	*d;		/* NULL: closed, to be found again */
	dev_t	 dev;
	ino_t	 ino;
	char	*name;		/* in the parent */
	int	 passes;	/* listings that left it not empty */
};

/* The path of the directory at the top of the stack, for messages. */
static const char *
rm_path(const char *rel, const struct rmlevel *lv, size_t n, const char *leaf)
{
	static char buf[PATH_MAX];
	size_t i, len;

	len = strlcpy(buf, rel, sizeof(buf));
	for (i = 1; i < n && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "/%s",
		    lv[i].name);
	if (leaf != NULL && len < sizeof(buf))
		snprintf(buf + len, sizeof(buf) - len, "/%s", leaf);
	return sr_shortpath(buf);
}

/* Open the directory name in pfd: it must be what st says. */
static DIR *
rm_open(int pfd, const char *name, const struct stat *st)
{
	struct stat fst;
	DIR *d;
	int fd;

	if ((fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &fst) == -1 || fst.st_dev != st->st_dev ||
	    fst.st_ino != st->st_ino) {
		close(fd);
		errno = ESTALE;
		return NULL;
	}
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

/* The stack of remove_at(): lv[0] is name in pfd, rel in messages. */
struct rmstack {
	struct rmlevel *lv;
	size_t	 n, cap;
	int	 pfd;
	const char *name, *rel;
};

/* Down into the directory name of dfd (the top's, or pfd), as st says. */
static int
rm_enter(struct rmstack *s, int dfd, const char *name, const struct stat *st)
{
	struct rmlevel *lv;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		if ((lv = reallocarray(s->lv, cap, sizeof(*lv))) == NULL) {
			sr_seterrno("%s: remove", sr_shortpath(s->rel));
			return -1;
		}
		memset(lv + s->cap, 0, (cap - s->cap) * sizeof(*lv));
		s->lv = lv;
		s->cap = cap;
	}
	lv = &s->lv[s->n];
	if ((s->n > 0 && (lv->name = strdup(name)) == NULL) ||
	    (lv->d = rm_open(dfd, name, st)) == NULL) {
		sr_seterrno("%s: remove: open", rm_path(s->rel, s->lv, s->n,
		    s->n > 0 ? name : NULL));
		free(lv->name);
		lv->name = NULL;
		return -1;
	}
	lv->dev = st->st_dev;
	lv->ino = st->st_ino;
	s->n++;
	/* Deep trees: only the deepest levels keep a descriptor. */
	if (s->n > OPENLEVELS && s->lv[s->n - 1 - OPENLEVELS].d != NULL) {
		closedir(s->lv[s->n - 1 - OPENLEVELS].d);
		s->lv[s->n - 1 - OPENLEVELS].d = NULL;
	}
	return 0;
}

/*
 * The top directory, listed to the end: remove it from its parent, found
 * again if closed, and go back up; or, if something was made in it
 * while it was listed, list it again (twice at most).
 */
static int
rm_leave(struct rmstack *s)
{
	struct rmlevel *cur = &s->lv[s->n - 1], *up;
	int pdfd = s->pfd;

	if (s->n > 1) {
		up = cur - 1;
		if (up->d == NULL && (up->d = rm_open(dirfd(cur->d), "..",
		    &(struct stat){ .st_dev = up->dev, .st_ino = up->ino })) ==
		    NULL) {
			sr_seterrno("%s: remove: back up", rm_path(s->rel,
			    s->lv, s->n, NULL));
			return -1;
		}
		pdfd = dirfd(up->d);
	}
	if (unlinkat(pdfd, s->n == 1 ? s->name : cur->name, AT_REMOVEDIR) ==
	    -1) {
		if ((errno == ENOTEMPTY || errno == EEXIST) &&
		    ++cur->passes < 3) {
			rewinddir(cur->d);
			return 0;
		}
		sr_seterrno("%s: remove directory", rm_path(s->rel, s->lv,
		    s->n, NULL));
		return -1;
	}
	closedir(cur->d);
	free(cur->name);
	memset(cur, 0, sizeof(*cur));
	s->n--;
	return 0;
}

/* One entry of the top directory: a file goes, a directory is entered. */
static int
rm_entry(struct rmstack *s, const char *name)
{
	int dfd = dirfd(s->lv[s->n - 1].d);
	struct stat st;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		sr_seterrno("%s: remove: stat", rm_path(s->rel, s->lv, s->n,
		    name));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dfd, name, 0) == -1 && errno != ENOENT) {
			sr_seterrno("%s: remove", rm_path(s->rel, s->lv, s->n,
			    name));
			return -1;
		}
		return 0;
	}
	if (st.st_dev != s->lv[0].dev) {
		sr_seterr("%s: remove: a file system is mounted there (not "
		    "removed)", rm_path(s->rel, s->lv, s->n, name));
		return -1;
	}
	return rm_enter(s, dfd, name, &st);
}

static int
remove_at(int pfd, const char *name, const char *rel, bool purge)
{
	struct rmstack s = { .pfd = pfd, .name = name, .rel = rel };
	struct dirent *de;
	struct stat st;
	size_t i;
	int rv = -1;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		sr_seterrno("%s: remove: stat", sr_shortpath(rel));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(pfd, name, 0) == -1 && errno != ENOENT) {
			sr_seterrno("%s: remove", sr_shortpath(rel));
			return -1;
		}
		return 0;
	}
	if (rm_enter(&s, pfd, name, &st) == -1)
		goto done;
	while (s.n > 0) {
		if (!purge && sr_checkpoint() == -1)
			goto done;
		errno = 0;
		if ((de = readdir(s.lv[s.n - 1].d)) != NULL) {
			if (rm_entry(&s, de->d_name) == -1)
				goto done;
		} else if (errno != 0) {
			sr_seterrno("%s: remove: list", rm_path(rel, s.lv, s.n,
			    NULL));
			goto done;
		} else if (rm_leave(&s) == -1)
			goto done;
	}
	rv = 0;
done:
	for (i = 0; i < s.cap; i++) {
		if (s.lv[i].d != NULL)
			closedir(s.lv[i].d);
		free(s.lv[i].name);
	}
	free(s.lv);
	return rv;
}

static int
remove_path(int rootfd, const char *rel, bool purge)
{
	const char *name;
	int pfd, rv;

	/* Its parent's "" would be "not there": removed already, wrongly. */
	if (*rel == '\0') {
		sr_seterr("the top of the tree: remove: refused");
		errno = EINVAL;
		return -1;
	}
	if ((pfd = dir_openparent(rootfd, rel, &name)) == -1)
		return -1;
	rv = remove_at(pfd, name, rel, purge);
	close(pfd);
	return rv;
}

int
dir_remove(int rootfd, const char *rel)
{
	return remove_path(rootfd, rel, false);
}

int
dir_purge(int rootfd, const char *rel)
{
	return remove_path(rootfd, rel, true);
}

int
dir_purge_path(const char *abs)
{
	char parent[PATH_MAX], *slash;
	int pfd, rv;

	if (strlcpy(parent, abs, sizeof(parent)) >= sizeof(parent) ||
	    (slash = strrchr(parent, '/')) == NULL || slash[1] == '\0') {
		sr_seterr("%s: not a path to remove", abs);
		return -1;
	}
	*slash = '\0';
	if ((pfd = open(*parent ? parent : "/", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		sr_seterrno("remove %s", abs);
		return -1;
	}
	rv = dir_purge(pfd, slash + 1);
	close(pfd);
	return rv;
}

int
dir_list(int rootfd, const char *rel, char ***out)
{
	int fd;

	if ((fd = dir_opendir(rootfd, rel)) == -1)
		return -1;
	return list_fd(fd, rel, out);
}

void
dir_freelist(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int
dir_syncfs(int fd)
{
	return os_syncfs(fd);
}

/* Directories met, by device and inode (open addressing). */
static size_t
seen_hash(const struct dir_seen *s, dev_t dev, ino_t ino)
{
	return (size_t)(((uint64_t)ino * 0x9e3779b97f4a7c15ULL) ^
	    (uint64_t)dev) & (s->cap - 1);
}

int
dir_seen_add(struct dir_seen *s, const struct stat *st)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct dir_seen b = { NULL, 0, s->cap ? 2 * s->cap : 256 };

		if ((b.v = calloc(b.cap, sizeof(*b.v))) == NULL)
			return -1;
		for (i = 0; i < s->cap; i++)
			if (s->v[i].used) {
				size_t j = seen_hash(&b, s->v[i].dev,
				    s->v[i].ino);

				while (b.v[j].used)
					j = (j + 1) & (b.cap - 1);
				b.v[j] = s->v[i];
			}
		b.n = s->n;
		free(s->v);
		*s = b;
	}
	for (i = seen_hash(s, st->st_dev, st->st_ino); s->v[i].used;
	    i = (i + 1) & (s->cap - 1))
		if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino)
			return 1;
	s->v[i].dev = st->st_dev;
	s->v[i].ino = st->st_ino;
	s->v[i].used = true;
	s->n++;
	return 0;
}

void
dir_seen_free(struct dir_seen *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}
