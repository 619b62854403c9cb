/*
 * Copy whole trees with every attribute, through libarchive: the way
 * cpio -p does, in one process.
 */
#ifndef COPYTREE_H
#define COPYTREE_H

#include <stdbool.h>
#include <stdint.h>

#include "tree/spec.h"
#include "base/sr.h"

struct copy_opts {
	const char *srcpath;		/* host path of the source root */
	int	 dstfd;			/* directory to copy into */
	const char *const *tops;	/* "etc", ... relative to srcpath */
	const char *const *exclude;	/* fnmatch(3) patterns, relative */
	bool	 dryrun;		/* only count and list exclusions */
	/*
	 * Staging for makefs: record every entry here, and write the tree
	 * as its user can (no owners, no device nodes, the user's own
	 * access kept); the spec holds what the image must have.
	 */
	struct spec *spec;
	uint64_t extra;		/* what the caller writes after it */
};

struct copy_stats {
	uintmax_t entries;
	uintmax_t bytes;
	uintmax_t excluded;
	uintmax_t warnings;
	uintmax_t need;		/* what the copy takes, if known */
};

/* Whether a file is named as a NetBSD set (.tgz, .tar.xz, ...). */
bool	is_set_name(const char *);
/* Whether rel matches one of the fnmatch(3) patterns (NULL: none). */
bool	path_excluded(const char *const *, const char *);
/* Copy each top from srcpath to the same place under dstfd. */
int	copy_trees(const struct copy_opts *, struct copy_stats *);

/*
 * A member name of a set as a path inside the root, into out (outsz
 * bytes): "./bin/sh", "bin//sh" and "bin/./sh/" are all "bin/sh".
 * 1: a path; 0: the root itself; -1: outside the root (absolute, or
 * a ".." component); -2: too long.
 */
int	set_member_name(const char *, char *, size_t);
/*
 * Read a NetBSD set (a tar archive, maybe compressed) into o->dstfd as
 * its user, every entry recorded in o->spec (required): a later set
 * overlays an earlier one.  Names outside the root are refused.
 */
int	sets_extract(const struct copy_opts *, const char *,
	    struct copy_stats *);

#endif /* COPYTREE_H */
