/*
 * setup-local's work: a guest's local tree (etc, tmp, var) seeded from
 * the shared root and made the guest's own.
 */
#ifndef LOCALPREP_H
#define LOCALPREP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "image/build.h"
#include "tree/copytree.h"
#include "plan/plan.h"

struct localprep {
	const char *hostname;		/* -h, or NULL */
	const char *cipher;		/* -S: a cipher, "none", or NULL */
	const char *pkgdev;		/* -P: a device, or NULL for none */
	const char *tmpldir;		/* -T, or the installed templates */
	const char *root_fstype;	/* NetBSD names: ffs, ext2fs */
	struct spec *rootspec;		/* a staged root's spec, or NULL */
	const char *local_fstype;
	bool	 force;
	/*
	 * rc.conf as setup-local made it before it set random_file: the
	 * base of an upgrade of a local made then.
	 */
	bool	 before_random_file;
};

/* The trees a guest keeps, and what of them it must not share. */
extern const char *const local_trees[];
extern const char *const local_secrets[];
extern const char *const local_copy[];

/* Check -h and -P values, which end up in guest files. */
int	hostname_ok(const char *);
int	pkgdev_ok(const char *);
/* Check -S: a cipher cgd knows, or none. */
int	cipher_ok(const char *);
/* The NetBSD name of a file-system type from libblkid ("ext2" -> "ext2fs"). */
const char *netbsd_fstype(const char *);
/* Refuse a local that holds an etc/ already, unless forced. */
int	localprep_check(int, const struct localprep *);
/* The same, told whether the local has an etc. */
int	localprep_provisioned(bool, const struct localprep *);
/*
 * Which NetBSD a root is, by the shape of its etc/rc (rc_shape()): 4
 * (4.x), 10 (today), -1 (error).  The one place that is decided.
 */
int	nb_shape(struct tree *);
/*
 * Decide every edit from the root's own texts; read only the root, a
 * tree of any kind.  With lp->rootspec, the tree is a stage whose true
 * owners are in that spec.
 */
int	localprep_plan(struct tree *, const struct localprep *, struct plan *);
/* Whether a tree keeps pkgsrc's package database in var/db/pkg. */
bool	pkgdb_in_var(struct tree *);
/*
 * The identity of the root a plan seeds from (ID_HEXLEN hex digits, then
 * a newline), as plan_identity() computed it; NULL if it has none.
 */
const char *localprep_root_id(const struct plan *);
/*
 * Copy the trees from the root (at host path rootpath) into a staging
 * directory in the local, apply the plan there, then swap each tree
 * into place.
 */
int	localprep_apply(const char *, int, const struct localprep *,
	    const struct plan *, struct copy_stats *);

/*
 * Apply a plan to a copy of the local's own etc, var and record (an
 * upgrade, a rollback), swapping each into place when whole.
 */
int	localprep_apply_copy(const char *, int, const struct localprep *,
	    const struct plan *, struct copy_stats *);

/*
 * Whether the guest's local read as mine (its etc, tmp, var and record,
 * the plan applied to them in memory: nothing is written) and what the
 * old image like holds beside them fit in a file system like like, as
 * makefs counts: 0 yes, 1 no (the message says how much more is
 * needed), -1 error.
 */
int	localprep_fits(struct tree *, const struct ffsimg *,
	    const struct plan *);

#endif /* LOCALPREP_H */
