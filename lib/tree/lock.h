/*
 * Locks on what a run reads or changes: an image, or a directory.
 *
 * An image is replaced by renaming a new file over it, so a lock on the
 * image itself would go with the old inode.  The lock is on a file
 * beside the target, .NAME.lock, which no rename of the target touches:
 * a POSIX record lock, which the kernel drops when its holder dies (even
 * killed outright) and which names its holder (F_GETLK).  A lock file
 * left by a dead run holds no lock and blocks nothing; whoever locks it
 * makes sure, once locked, that it is still the file of that name.
 */
#ifndef LOCK_H
#define LOCK_H

#include <stdbool.h>

/*
 * Lock target (existing or about to be made; a symbolic link is locked
 * as what it names) for the rest of the run: excl to change it, else to
 * read it.  -1 with "in use: PROGRAM (pid N) is changing it" (or
 * "reading it") when another run holds it; 1 when a reader may not
 * make the lock file (a directory it cannot write) and reads unlocked.
 * Taking it to change it also removes what dead runs left beside it.
 */
int	sr_lock(const char *, bool);
/*
 * The end of a run: remove the lock files no other run holds, and drop
 * every lock.  Process exit drops them too; this only tidies.
 */
void	sr_unlock_all(void);
/* In a child after fork(): the parent's locks are not the child's. */
void	sr_lock_forget(void);

#endif /* LOCK_H */
