/*
 * One guest's setup-local run (localrun.c), its steps shared with the
 * fleet of upgrades and rollbacks (localfleet.c).  Each step returns 0,
 * or -1 with the message recorded and the job's errimage naming what it
 * is about; the caller tears the job down (lp_run() does).
 */
#ifndef LOCALRUN_H
#define LOCALRUN_H

#include <stdbool.h>

#include "guest/job.h"

/*
 * The whole run the job asks for: one local provisioned, several (in a
 * fleet: lp_fleet()), or every guest upgraded or rolled back.  0 done; 1 a fleet's guest failed or
 * was left with conflicts (its row says which); -1 the run failed, its
 * message recorded and everything it held undone.
 */
int	lp_run(struct lp_job *);
/* One local provisioned (or, dry, the plan shown): lp_run's LP_PROVISION. */
int	lp_provision(struct lp_job *);

/*
 * Lock a target for the whole run (lock.h): excl to change it, else to
 * read it.  Refused, -1 naming out's image.
 */
int	lp_lock(struct lp_job *, const char *, bool, struct lp_out *);
/* Whether this run may mount an FFS image (NetBSD's vnd, as root). */
bool	lp_mounts_ffs(void);
/* Check the settings that end up in the guest's files. */
int	lp_check_opts(struct lp_job *);
/* What the root is: a tree, an image to mount, or FFS to read. */
int	lp_check_root(struct lp_job *);
/* What the local is, and so how it is made: decides j->mode. */
int	lp_check_local(struct lp_job *);
/* cgd done here: the key, the private plaintext, an image decrypted. */
int	lp_open_crypt(struct lp_job *);
/* The root opened to read (attached, or read into a stage). */
int	lp_open_root(struct lp_job *);
/* Refuse a guest's local disk given as the root. */
int	lp_check_not_local(struct lp_job *);
/* Every edit decided from the root's texts, into j->plan. */
int	lp_plan_local(struct lp_job *);
/* Refuse a root changed since setup-root recorded its identity. */
int	lp_check_root_id(struct lp_job *);
/* An FFS root's etc, tmp and var read with libtsk into a stage. */
int	lp_stage_ffs_root(const struct ffsimg *, struct stage *,
	    struct lp_out *, struct copy_stats *);

#endif /* LOCALRUN_H */
