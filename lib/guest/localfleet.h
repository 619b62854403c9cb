/*
 * Upgrades and rollbacks over one or many guests, and several guests
 * provisioned (localfleet.c): the root read once, each guest in a
 * worker process of its own (one failure stops no other), a row a guest
 * for the front end's table.
 */
#ifndef LOCALFLEET_H
#define LOCALFLEET_H

#include "guest/job.h"

/*
 * The job's op over j->locals (a provision: each guest's host name its
 * image's name, -h and -c not taken): 0 every guest done (or current, or
 * planned); 1 one failed, was not run, or kept conflicts without
 * lp.force; -1 the run failed before or between guests.  j->rows (one a
 * guest) is filled unless -1.
 */
int	lp_fleet(struct lp_job *);
/*
 * A worker's plan, of several guests provisioned: the one its parent
 * made once, given the guest's host name (j->lp.hostname), or (none
 * made, or its disk not FFS) planned here.
 */
int	lp_fleet_plan(struct lp_job *);

#endif /* LOCALFLEET_H */
