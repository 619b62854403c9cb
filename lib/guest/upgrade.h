/*
 * A guest's local moved to a new root (setup-local -u), or back to the
 * one before (setup-local -R).  Each decides a plan of changes to a copy
 * of the guest's own trees; nothing is read but the trees given, and
 * nothing written.
 *
 * For every path of etc, with base the pristine etc of the root the
 * local was seeded from (as setup-local would have provisioned it, with
 * the same settings), theirs the new root's (likewise) and mine the
 * guest's: a path the guest left alone takes the new root's; one the
 * release left alone keeps the guest's; one both changed is merged
 * (three-way, libgit2), or on a conflict keeps the guest's and leaves
 * the merge with its markers under .sharedroot/conflicts.  etc/rc is the
 * new root's.  In var, what the new root has and the guest lacks is
 * added; nothing of the guest's is replaced.
 */
#ifndef UPGRADE_H
#define UPGRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "guest/identity.h"
#include "guest/localprep.h"
#include "tree/spec.h"

/* What every guest's upgrade reads of the new root: read once. */
struct upgrade_root {
	char	 id[65];
	int	 shape;			/* nb_shape() */
	struct entset etc;		/* as provisioning makes it */
	struct entset var;		/* without contents */
	const struct plan *plan;	/* localprep_plan() on it */
};

struct upgrade {
	int	 newfd;			/* the new root's tree */
	struct upgrade_root *root;	/* what was read of it */
	struct tree *mine;		/* the guest's local, read */
	struct spec *minespec;		/* its owners, if staged; or NULL */
	const struct localprep *lp;	/* the settings the guest was given */
	int	 oldfd;			/* -b: the root a local without a */
	struct spec *oldspec;		/* record was seeded from, or -1 */
};

struct upgrade_report {
	size_t	 taken, kept, merged, conflicts, added;
	struct sbuf list;		/* "take etc/x" lines, and notes */
	struct sbuf conflicted;		/* the paths, one a line */
	struct sbuf rebuild;		/* databases the guest must remake */
	bool	 current;		/* already seeded from this root */
	bool	 forward;		/* a rollback to a newer root */
	char	 oldid[65], newid[65];
};

/* The new root at fd (its spec, if staged), provisioned as by plan. */
int	upgrade_root_load(int, struct spec *, const struct plan *,
	    struct upgrade_root *);
void	upgrade_root_free(struct upgrade_root *);
int	upgrade_plan(const struct upgrade *, struct plan *,
	    struct upgrade_report *);
/* The guest's local read from the tree (its owners from spec, or NULL). */
int	rollback_plan(struct tree *, struct spec *, struct plan *,
	    struct upgrade_report *);
void	upgrade_report_free(struct upgrade_report *);
/*
 * What provisioning makes of a root's etc held in set: the plan's
 * changes to etc carried out on it in memory (plan_apply() on
 * tree_mem()); the plan's other changes (var's, the record) left out.
 */
int	upgrade_etc_provision(struct entset *, const struct plan *);

#endif /* UPGRADE_H */
