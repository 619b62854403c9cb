/*
 * A local's record of the root it was seeded from (identity.h): in
 * .sharedroot its id, the root's manifest and its pristine etc, and in
 * .sharedroot/prev the same for the root before, with the local's etc
 * of then: one step back.  Read and checked (every byte is the
 * guest's), made from a root, and planned to be written by an upgrade
 * or a rollback (upgrade.c).
 */
#ifndef RECORD_H
#define RECORD_H

#include <stdbool.h>

#include "guest/identity.h"
#include "plan/plan.h"
#include "tree/spec.h"

struct record {
	char	 id[ID_HEXLEN + 1];
	struct sbuf idline, man, base;
	struct entset etc;
};

void	record_free(struct record *);
/*
 * Read and check the record in dir (ID_DIR or ID_PREV) of the local at
 * tree t: the id is the digest of the manifest, and the archived etc
 * the etc the manifest describes.  A record with a part missing is
 * corrupt.
 */
int	record_read(struct tree *, const char *, struct record *);
/* The record a local seeded from the root at fd (its spec, if staged) has. */
int	record_make(int, struct spec *, struct record *);
/*
 * Which way the step back goes: whether the root recorded in prev is
 * newer than the local's own (a rollback left it) or older (an upgrade
 * did; a record made before this was kept says nothing, and is taken
 * to be older).
 */
int	record_prev_newer(struct tree *, bool *);
/*
 * Plan the step back: rec (the record of the root the local leaves)
 * and the local's etc as it is now, newer or older than the root it
 * goes to, into prev, replacing what was there.  The local's tree (its
 * owners from spec, if staged; or NULL).
 */
int	record_plan_prev(struct plan *, struct tree *, struct spec *,
	    const struct record *, bool);
/* Plan the record the new root's provisioning plan writes. */
int	record_plan_new(struct plan *, const struct plan *);
/* Plan rec as the local's record again (a rollback's). */
int	record_plan_back(struct plan *, const struct record *);
/*
 * The paths of a record's manifest below top ("var"), in its order, as
 * they are named (unescaped, strvis(3)), each passed to fn with arg;
 * a line whose path is not a plain one below top is passed over.  fn
 * returns 0 to go on, -1 to stop with that.
 */
int	record_man_paths(const struct sbuf *, const char *,
	    int (*)(void *, const char *), void *);

#endif /* RECORD_H */
