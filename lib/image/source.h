/*
 * What a path given to a tool is, probed once: a directory, a set
 * archive, an FFS image (read without mounting), or another image or
 * device (to mount), and one rule for telling them apart.
 */
#ifndef SOURCE_H
#define SOURCE_H

#include <sys/stat.h>

#include "image/ffsimg.h"

enum source_kind {
	SOURCE_NONE,		/* nothing usable: the message says why */
	SOURCE_DIR,		/* a directory */
	SOURCE_SET,		/* a set archive (by its name: is_set_name()) */
	SOURCE_FFS,		/* an image holding FFS where asked: fi */
	SOURCE_IMAGE,		/* another file or a device: to mount */
};

struct source {
	const char *path;
	enum source_kind kind;
	struct stat st;		/* what path names (a symlink followed) */
	struct ffsimg fi;	/* SOURCE_FFS: where its file system is */
};

/*
 * part names a partition of an image: a directory, a set, or an image
 * with no FFS there is refused rather than used without it.
 */
#define SOURCE_PART_STRICT	0x1

/*
 * Probe path once: a directory; else a set by its name; else a regular
 * file is probed for FFS (ffsimg_probe(), in partition part, or -1 for
 * the only one); else an image to mount.  Returns the kind, or -1 with
 * s->kind SOURCE_NONE and the message naming the step (the caller names
 * the path, as the image it reports on or the source it read); where
 * opening it failed, errno says why (ENOENT: nothing there, for a
 * caller that makes it).
 */
int	source_kind(const char *, int, int, struct source *);
/* The kind as a word for messages ("a directory", "an FFS image"). */
const char *source_kindname(enum source_kind);

#endif /* SOURCE_H */
