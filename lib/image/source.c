/*
 * Telling apart what a tool is given: setup-root's target and its
 * sources (-o), setup-local's root.  One rule: a directory is a tree; a
 * name a set archive has (.tgz, .tar.xz, ...) is a set, whatever else
 * it holds (libarchive reads it, and an archive is never probed as a
 * disk); a regular file holding FFS is read without mounting; anything
 * else is an image or device for attach.c to mount.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "image/source.h"
#include "tree/copytree.h"

/* The partition asked for cannot be used with what path is. */
static int
part_refused(struct source *s, int part, const char *why)
{
	s->kind = SOURCE_NONE;
	sr_seterr("%d: %s", part, why);
	sr_sethint(SR_HINT_PARTITION);
	return -1;
}

/* A regular file: FFS where it is asked for, else an image to mount. */
static int
probe_file(struct source *s, int part, int flags)
{
	int r = ffsimg_probe(s->path, part, &s->fi);

	if (r == -1) {
		s->kind = SOURCE_NONE;
		return -1;
	}
	if (r == 1 && part >= 0 && (flags & SOURCE_PART_STRICT))
		return part_refused(s, part, "holds no FFS file system");
	s->kind = r == 0 ? SOURCE_FFS : SOURCE_IMAGE;
	return (int)s->kind;
}

int
source_kind(const char *path, int part, int flags, struct source *s)
{
	bool strict = part >= 0 && (flags & SOURCE_PART_STRICT);
	int fd;

	memset(s, 0, sizeof(*s));
	s->path = path;
	s->kind = SOURCE_NONE;
	s->fi.part = -1;
	/*
	 * Opened, not only stat'ed, so that the step failing is the one
	 * every reader takes; a fifo or a tape is not waited on.
	 */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		sr_seterrno("open");
		return -1;
	}
	if (fstat(fd, &s->st) == -1) {
		sr_seterrno("stat");
		close(fd);
		return -1;
	}
	close(fd);
	if (S_ISDIR(s->st.st_mode)) {
		if (strict)
			return part_refused(s, part, "not an image");
		s->kind = SOURCE_DIR;
	} else if (is_set_name(path)) {
		if (strict)
			return part_refused(s, part, "a set archive, not an "
			    "image");
		s->kind = SOURCE_SET;
	} else if (S_ISREG(s->st.st_mode))
		return probe_file(s, part, flags);
	else if (strict)
		return part_refused(s, part, "not an image");
	else
		s->kind = SOURCE_IMAGE;
	return (int)s->kind;
}

const char *
source_kindname(enum source_kind k)
{
	switch (k) {
	case SOURCE_DIR:
		return "a directory";
	case SOURCE_SET:
		return "a set archive";
	case SOURCE_FFS:
		return "an FFS image";
	case SOURCE_IMAGE:
		return "an image";
	default:
		return "nothing usable";
	}
}
