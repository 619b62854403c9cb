/*
 * Which root a guest's local disk was seeded from.  A root's identity is
 * a digest of what its guests copy from it: the paths of etc, tmp and var
 * (less each guest's own secrets), their types, modes, owners, contents
 * and link targets.  setup-root records it in the root; setup-local
 * records it in the local with the root's pristine etc, the base of a
 * later three-way upgrade; the boot hook compares the two.
 */
#ifndef IDENTITY_H
#define IDENTITY_H

#include "spec.h"
#include "sr.h"

#define ID_DIR		".sharedroot"
#define ID_ROOT		".sharedroot/id"		/* in a root */
#define ID_MANIFEST	".sharedroot/manifest"		/* in a root */
#define ID_LOCAL	".sharedroot/root-id"		/* in a local */
#define ID_BASE		".sharedroot/base-etc.tgz"	/* in a local */
#define ID_HEXLEN	64

/*
 * The manifest of the tree at rootfd and its digest (hex, NUL-ended).
 * With spec, the tree is a stage: owners, modes and device nodes come
 * from the spec; else from the tree itself.
 */
int	identity_manifest(int, struct spec *, struct sbuf *,
	    char [ID_HEXLEN + 1]);
/* The tree's etc as a gzipped tar, owners and modes as above. */
int	identity_base(int, struct spec *, struct sbuf *);

#endif /* IDENTITY_H */
