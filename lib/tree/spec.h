/*
 * mtree(8) specifications: the owners, modes, times and device numbers
 * of a staged tree, which an ordinary user cannot give the files
 * themselves, for makefs(8) -F to write into the image.
 */
#ifndef SPEC_H
#define SPEC_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stdbool.h>
#include <time.h>

#include "base/sr.h"

struct spec_ent {
	char	*path;		/* relative: "etc/passwd" */
	mode_t	 mode;		/* type and permission bits */
	uid_t	 uid;
	gid_t	 gid;
	struct timespec mtime;
	char	*link;		/* symbolic links */
	unsigned long rmajor, rminor;	/* devices */
	size_t	 seq;		/* order added: a later entry wins */
};

struct spec {
	struct spec_ent *v;
	size_t	 n;
	size_t	 cap;
	bool	 sorted;
	size_t	 nextseq;
};

/* Record what a path should be; a path added again takes the later. */
int	spec_add(struct spec *, const struct spec_ent *);
/* What is recorded for a path, or NULL. */
const struct spec_ent *spec_get(struct spec *, const char *);
/*
 * The entries below dir ("": every one), sorted by path: v[*first] up
 * to v[*end - 1].  Valid until the next spec_add().
 */
void	spec_below(struct spec *, const char *, size_t *, size_t *);
/* Whether an entry lives in the spec alone (a device node: no stage
 * made by an ordinary user can hold one). */
bool	spec_only(const struct spec_ent *);
/*
 * Over st (what a stage holds at path): the owner, group and permissions
 * the spec records for path, if it has path as the same type of file.
 * Returns whether it has.
 */
bool	spec_stat(struct spec *, const char *, struct stat *);
/* Drop path and all below it; returns how many entries went. */
size_t	spec_drop(struct spec *, const char *);
/* Keep the entries keep[i] says, i in spec_below()'s order; drop the rest. */
void	spec_keep(struct spec *, const bool *);
/* Drop the device nodes below dir; returns how many. */
size_t	spec_drop_devices(struct spec *, const char *);
/* Write the specification, every entry in full, sorted by path. */
int	spec_write(struct spec *, int);
/* As root: give the staged tree at dirfd the owners, modes, times and
 * device nodes the spec records. */
int	spec_apply(struct spec *, int);
void	spec_free(struct spec *);

#endif /* SPEC_H */
