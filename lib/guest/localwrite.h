/*
 * A guest's local FFS image written directly (image/ffsbuild.h): no
 * stage on disk, no makefs; an encrypted one through the cgd as it is
 * laid out (cgd/cgdio.h), its plaintext only in this process's memory.
 */
#ifndef LOCALWRITE_H
#define LOCALWRITE_H

#include "guest/job.h"

/*
 * Write the job's local (j->mode LP_BUILD: a new image; LP_REBUILD: the
 * old one, j->lfi, rebuilt like itself, what it held beside etc, tmp,
 * var and the record kept): the trees etc, tmp and var of root (less
 * each guest's secrets; NULL: none copied, the old image kept whole),
 * then the plan p applied, written beside the local and renamed over
 * it when whole.  An encrypted local (j->crypt) is written through
 * j->cg's key, its old image read through j->lsrc.
 */
int	lp_write_local(struct lp_job *, struct tree *, const struct plan *);

/*
 * An encrypted old local read through its key (j->lio, j->lsrc): its
 * file system probed into j->lfi; a wrong key said, nothing written.
 */
int	lp_open_crypt_old(struct lp_job *);

#endif /* LOCALWRITE_H */
