/*
 * A run's temporaries, named so that a later run can tell that their
 * owner has gone, and the memory file systems where a guest's plaintext
 * may be put.
 *
 * A directory is base/PREFIX.PID.XXXXXX (mode 0700) holding a file
 * "lock" that its owner holds locked (flock) for its life; a file beside
 * an image is .NAME.PID.XXXXXX, itself locked.  A run killed outright
 * (SIGKILL) cannot remove them; the kernel drops its locks, and a later
 * run that can take such a lock knows the owner is dead (whoever has its
 * pid now) and removes what it left.
 */
#ifndef SCRATCH_H
#define SCRATCH_H

#include <limits.h>
#include <stdint.h>

#include "base/sr.h"

/* Names: stages and mount points; a guest's decrypted image. */
#define SCRATCH_STAGE	"sharedroot"
#define SCRATCH_PLAIN	"sharedroot-plain"

struct scratch {
	char	 dir[PATH_MAX];		/* "": none */
	int	 lockfd;		/* held while dir[0] != '\0' */
};

/* Where a run's own temporaries go: TMPDIR if absolute, else /tmp. */
const char *scratch_base(void);
/* Make base/prefix.PID.XXXXXX, mode 0700, and lock it as ours. */
int	scratch_make(struct scratch *, const char *, const char *);
/*
 * The path of name in the directory, in buf; "TMPDIR too long" if it
 * does not fit.
 */
int	scratch_path(const struct scratch *, const char *, char *, size_t);
/* Remove the directory and all in it; safe to call twice. */
int	scratch_remove(struct scratch *);
/*
 * Remove what dead runs of this user left in the places the tools use
 * (TMPDIR, /tmp, the memory file systems): never a live run's.
 */
void	scratch_purge(void);
/*
 * A file under a temporary name beside path (.NAME.PID.XXXXXX, mode
 * 0600), its name in tmp, locked as ours: the descriptor returned must
 * stay open until the file is renamed or removed.  Dead runs' files
 * beside path are removed first.
 */
int	scratch_file(const char *, char *, size_t);
/* Remove the files dead runs left beside path. */
void	scratch_purge_beside(const char *);

/*
 * A directory on a memory file system with need bytes free, for what
 * must not reach a disk: TMPDIR only if it is one (and then it must have
 * room), else the first of /dev/shm, /run/user/UID, /var/shm and /tmp
 * that is one and has room.  what names the contents in the refusal.
 */
int	scratch_memory(uint64_t, const char *, char *, size_t);
/* Whether base still has need bytes free (a later step's refusal). */
int	scratch_room(const char *, uint64_t, const char *);
/* Bytes the trees tops of a directory take (st_blocks), summed. */
int	scratch_du(int, const char *const *, uint64_t *);

#endif /* SCRATCH_H */
