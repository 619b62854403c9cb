/*
 * Encrypted images read and written through the cgd as they go: the
 * plaintext exists only in this process's memory, a piece at a time
 * (and in libtsk's read cache, cleared when it is closed); no
 * decrypted copy of the image is ever written anywhere.
 *
 *   struct cgdio io;                        (a cgdimg_open()'s cgd)
 *   cgdio_init(&io, g.c, fd, 0, size, "local.img");
 *   cgdio_sink(&io, sparse, &sink);         t = tree_ffsw(&p, &sink, ..)
 *   ...                                     tree_sync(t): encrypted
 *   cgdio_probe(&io, &g.params, &src, -1, &fi);  t = tree_ffs(&fi)
 *   ...                                     tree_close(t) before
 *   cgdio_free(&io);
 *
 * One struct cgdio serves a sink or a source (or one after the other).
 */
#ifndef CGDIO_H
#define CGDIO_H

#include <stdbool.h>
#include <stdint.h>

#include "cgd/cgd.h"
#include "cgd/cgdparams.h"
#include "image/ffsimg.h"
#include "image/ffswrite.h"

struct cgdio {
	struct cgd *c;		/* the caller's key */
	int	 fd;		/* the image file: the caller's */
	uint64_t off;		/* where the cgd volume starts in it */
	uint64_t size;		/* the volume's bytes: whole sectors */
	const char *name;	/* for messages */
	bool	 sparse;	/* writing: free fragments left holes */
	uint8_t	*buf;		/* a piece of plaintext, cleared after use */
	uint8_t	*written;	/* writing: a bit a sector */
	uint64_t nfill;		/* sectors finish wrote as encrypted zeros */
	uint64_t nhole;		/* sectors finish left holes (sparse) */
};

/*
 * The cgd volume of size bytes (a whole number of sectors) at off in
 * the image file fd, encrypted with c; all three stay the caller's.
 * Sentinels: cgdio_free() is safe at once.
 */
void	cgdio_init(struct cgdio *, struct cgd *, int, uint64_t, uint64_t,
	    const char *);
/*
 * A sink (ffswrite.h) that encrypts each piece as tree_ffsw() lays it
 * out and writes the ciphertext at its place in the volume.  Pieces
 * must be whole sectors.  With off 0 the file is the volume: emptied
 * when the layout starts, its length set when it ends.  What the
 * writer never wrote must read as zeros, which a cgd cannot leave as
 * holes (a hole decrypts to noise): when the layout ends, every such
 * sector is written as encrypted zeros, so that the file has no holes
 * to show which blocks the guest uses (as cgdimg_encrypt()); with
 * sparse, those of free fragments (read back through the volume) are
 * left holes instead, as on a cgd over a sparse vnd.
 */
int	cgdio_sink(struct cgdio *, bool, struct ffsw_sink *);
/*
 * A source (ffsimg.h) that reads the volume and decrypts what is
 * asked, on demand.  A sector whose ciphertext is all zeros (a hole:
 * never written) reads as zeros, as cgdimg_decrypt() leaves it: a real
 * sector's ciphertext is never all zeros.
 */
int	cgdio_source(struct cgdio *, struct ffs_source *);
/*
 * Check the key on the volume's first sectors with params's
 * verify_method: a wrong key is said in one line.
 */
int	cgdio_verify(struct cgdio *, const struct cgd_params *);
/*
 * The FFS file system in the volume (partition part, or -1), read
 * through src (made here: the caller's, kept as long as fi is used),
 * the key checked first when params is not NULL; no FFS after a key
 * that verify_method none let through is a wrong key too.
 */
int	cgdio_probe(struct cgdio *, const struct cgd_params *,
	    struct ffs_source *, int, struct ffsimg *);
/* Clear and free the buffers (the cgd and fd are the caller's). */
void	cgdio_free(struct cgdio *);

#endif /* CGDIO_H */
