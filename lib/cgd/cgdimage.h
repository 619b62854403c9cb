/*
 * Encrypted local images on any host: the plaintext file system is
 * worked on in a private mode-0700 directory (never beside the image),
 * and the image is written encrypted, as cgd(4) would, under a
 * temporary name renamed over the old one when whole.
 */
#ifndef CGDIMAGE_H
#define CGDIMAGE_H

#include <sys/stat.h>

#include <limits.h>
#include <stdbool.h>

#include "cgd/cgd.h"
#include "cgd/cgdparams.h"
#include "tree/scratch.h"

struct cgdimg {
	struct cgd_params params;
	struct cgd *c;
	struct scratch priv;		/* private: mode 0700, in memory */
	char	 plain[PATH_MAX];	/* priv.dir/plain.img */
	const char *keyfile;
	bool	 created;		/* the key file was made now */
	bool	 sparse;		/* free sectors left as holes */
};

/* Check a cgd key file: a regular file no group or other can read. */
int	keyfile_check(const char *);
/* Sentinels: safe to close at once. */
void	cgdimg_init(struct cgdimg *);
/*
 * Read keyfile (refused if group or others may read it) and make the
 * key; passfile for a passphrase, or NULL for the terminal.  With make,
 * a missing keyfile is made first, as cgdconfig -g would (aes-xts, a
 * new 512-bit stored key, mode 0600, written atomically).
 */
int	cgdimg_open(struct cgdimg *, const char *, const char *, bool);
/*
 * Make the private directory for the plaintext in base (a memory file
 * system's directory: scratch_memory()).
 */
int	cgdimg_private(struct cgdimg *, const char *);
/*
 * Decrypt image into the private plaintext file and check it with the
 * key file's verify_method: a wrong key is said, nothing written.
 */
int	cgdimg_decrypt(struct cgdimg *, const char *);
/*
 * Encrypt the private plaintext into a new file beside image and
 * rename it over image; like (an old image's stat) gives its mode and,
 * for root, owner; NULL: mode 0600.  Every sector is written, so that
 * the file has no holes to show which blocks the guest uses; with
 * sparse, zero sectors of free FFS fragments are left as holes
 * instead, as on a cgd over a sparse vnd (the file system never reads
 * them; a hole reads back as noise).
 */
int	cgdimg_encrypt(struct cgdimg *, const char *, const struct stat *);
/* Remove the plaintext and its directory, forget the key. */
int	cgdimg_close(struct cgdimg *);
/* After a failure: remove the key file too if this run made it. */
void	cgdimg_abandon(struct cgdimg *);

#endif /* CGDIMAGE_H */
