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

#include <stdbool.h>

#include "tree/entset.h"
#include "tree/spec.h"
#include "base/sr.h"
#include "tree/tree.h"

#define ID_DIR		".sharedroot"
#define ID_ROOT		".sharedroot/id"		/* in a root */
#define ID_MANIFEST	".sharedroot/manifest"		/* in a root */
#define ID_LOCAL	".sharedroot/root-id"		/* in a local */
#define ID_BASE		".sharedroot/base-etc.tgz"	/* in a local */
#define ID_MANBASE	".sharedroot/base-manifest"	/* in a local */
#define ID_PREV		".sharedroot/prev"		/* in a local */
#define ID_CONFLICTS	".sharedroot/conflicts"		/* in a local */
#define ID_HEXLEN	64

/*
 * The manifest of the tree and its digest (hex, NUL-ended).  With spec,
 * the tree is a stage: owners, modes and device nodes come from the
 * spec; else from the tree itself.
 */
int	identity_manifest(struct tree *, struct spec *, struct sbuf *,
	    char [ID_HEXLEN + 1]);
/* The tree's etc as a gzipped tar, owners and modes as above. */
int	identity_base(struct tree *, struct spec *, struct sbuf *);

/*
 * The tree top of the tree (less each guest's secrets), read into set;
 * with data, the contents of its files too.  Owners as above.
 */
int	identity_load(struct tree *, struct spec *, const char *, bool,
	    struct entset *);
/* An etc archived by identity_base(), read back; any other name refused. */
int	identity_untar(const void *, size_t, struct entset *);
/* The manifest lines of the entries of set, sorted. */
int	identity_lines(struct entset *, struct sbuf *);
/* The digest of a manifest: the identity. */
int	identity_digest(const struct sbuf *, char [ID_HEXLEN + 1]);
/*
 * Check a local's record as read from dir (named in messages): its
 * root-id line, base-manifest and base-etc.tgz.  The id must be the
 * manifest's digest and the archive the etc the manifest describes.
 * The id into id; the archive's entries added to etc.  Every byte is
 * the guest's.
 */
int	identity_record_check(const char *, const struct sbuf *,
	    const struct sbuf *, const struct sbuf *, char [ID_HEXLEN + 1],
	    struct entset *);

#endif /* IDENTITY_H */
