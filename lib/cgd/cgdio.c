/*
 * Encrypted images through the cgd, a piece at a time (see cgdio.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/os.h"
#include "cgd/cgdio.h"
#include "image/ffsread.h"

#define CHUNK	(256 * 1024)	/* plaintext at a time: whole sectors */
#define HEAD	(72 * 1024)	/* what verify_method looks at */
#define SEC	CGD_SECSIZE

void
cgdio_init(struct cgdio *io, struct cgd *c, int fd, uint64_t off,
    uint64_t size, const char *name)
{
	memset(io, 0, sizeof(*io));
	io->c = c;
	io->fd = fd;
	io->off = off;
	io->size = size;
	io->name = name;
}

void
cgdio_free(struct cgdio *io)
{
	if (io->buf != NULL) {
		explicit_bzero(io->buf, CHUNK);
		free(io->buf);
	}
	free(io->written);
	io->buf = NULL;
	io->written = NULL;
}

static int
need_buf(struct cgdio *io)
{
	if (io->buf == NULL && (io->buf = malloc(CHUNK)) == NULL)
		return sr_oom();
	return 0;
}

/* All len bytes at off of the volume, written. */
static int
put(struct cgdio *io, const uint8_t *p, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(io->fd, p, len, (off_t)(io->off + off));

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			sr_seterrno("encrypt: write at %ju", (uintmax_t)off);
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* All len bytes at off of the volume, read: a short file is an error. */
static int
get(struct cgdio *io, uint8_t *p, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pread(io->fd, p, len, (off_t)(io->off + off));

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				sr_seterr("decrypt: read at %ju: the image ends "
				    "early (truncated?)", (uintmax_t)off);
			else
				sr_seterrno("decrypt: read at %ju",
				    (uintmax_t)off);
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static void
mark(uint8_t *map, uint64_t sec, uint64_t n)
{
	for (; n > 0; sec++, n--)
		map[sec / 8] |= (uint8_t)(1u << (sec % 8));
}

static bool
marked(const uint8_t *map, uint64_t sec)
{
	return (map[sec / 8] >> (sec % 8)) & 1;
}

/* The sink ------------------------------------------------------------ */

/* Encrypt a piece of whole sectors a chunk at a time, and write it. */
static int
sink_pwrite(void *ctx, uint64_t off, const void *buf, size_t len)
{
	struct cgdio *io = ctx;
	const uint8_t *p = buf;
	size_t used = 0;
	int rv = -1;

	if (off % SEC != 0 || len % SEC != 0 || off > io->size ||
	    len > io->size - off) {
		sr_seterr("encrypt: a piece of %zu bytes at %ju is not whole "
		    "sectors of the volume (refused)", len, (uintmax_t)off);
		errno = EINVAL;
		return -1;
	}
	while (len > 0) {
		size_t n = len < CHUNK ? len : CHUNK;

		memcpy(io->buf, p, n);
		used = n > used ? n : used;
		if (cgd_crypt(io->c, io->buf, n, off / SEC, 1) == -1 ||
		    put(io, io->buf, n, off) == -1)
			goto done;
		mark(io->written, off / SEC, n / SEC);
		p += n;
		off += n;
		len -= n;
	}
	rv = 0;
done:
	explicit_bzero(io->buf, used);
	return rv;
}

static int
sink_start(void *ctx)
{
	struct cgdio *io = ctx;

	memset(io->written, 0, (size_t)((io->size / SEC + 7) / 8));
	io->nfill = io->nhole = 0;
	/* The file is the volume: nothing of a first sync is left. */
	if (io->off == 0 && ftruncate(io->fd, 0) == -1) {
		sr_seterrno("encrypt: emptying the image");
		return -1;
	}
	return 0;
}

/* Sectors [sec, sec + n) as encrypted zeros. */
static int
fill(struct cgdio *io, uint64_t sec, uint64_t n)
{
	io->nfill += n;
	while (n > 0) {
		size_t k = n < CHUNK / SEC ? (size_t)n : CHUNK / SEC;

		memset(io->buf, 0, k * SEC);
		if (cgd_crypt(io->c, io->buf, k * SEC, sec, 1) == -1 ||
		    put(io, io->buf, k * SEC, sec * SEC) == -1)
			return -1;
		sec += k;
		n -= k;
	}
	return 0;
}

/*
 * Sectors [sec, sec + n) left holes: already, in a file emptied at the
 * start; else punched, or written as encrypted zeros where the host
 * cannot (old ciphertext there would decrypt to an old image's data).
 */
static int
hole(struct cgdio *io, uint64_t sec, uint64_t n)
{
	if (io->off == 0 || os_punch_hole(io->fd, (off_t)(io->off + sec *
	    SEC), (off_t)(n * SEC)) == 0) {
		io->nhole += n;
		return 0;
	}
	return fill(io, sec, n);
}

/* The free fragments of the volume's FFS, read back through it. */
static int
free_map(struct cgdio *io, uint8_t **map, size_t *n, size_t *fsize)
{
	struct ffs_source src;
	struct ffsimg fi;
	int r;

	if (cgdio_source(io, &src) == -1)
		return -1;
	if ((r = ffsimg_probe_source(&src, -1, &fi)) != 0 || fi.off != 0) {
		if (r != -1)
			sr_seterr("no FFS file system at the volume's start");
		return -1;
	}
	return ffs_free_map(&fi, map, n, fsize);
}

/* Whether sector sec lies in a free fragment. */
static bool
is_free(const uint8_t *map, size_t n, size_t fsize, uint64_t sec)
{
	uint64_t frag = sec * SEC / fsize;

	return map != NULL && frag < n && marked(map, frag);
}

/*
 * Every sector the writer did not write, as encrypted zeros, or (with
 * sparse) a hole in a free fragment; then the file's length.
 */
static int
sink_finish(void *ctx, uint64_t size)
{
	struct cgdio *io = ctx;
	uint64_t nsec = io->size / SEC, s = 0, a;
	uint8_t *map = NULL;
	size_t nfrag = 0, fsize = SEC;
	struct stat st;
	int rv = -1;

	(void)size;
	if (io->sparse && free_map(io, &map, &nfrag, &fsize) == -1) {
		sr_prefixerr("encrypt: the free fragments");
		return -1;
	}
	while (s < nsec) {
		bool f;

		if (marked(io->written, s)) {
			s++;
			continue;
		}
		f = is_free(map, nfrag, fsize, s);
		for (a = s; s < nsec && !marked(io->written, s) &&
		    is_free(map, nfrag, fsize, s) == f; s++)
			;
		if ((f ? hole(io, a, s - a) : fill(io, a, s - a)) == -1 ||
		    sr_checkpoint() == -1)
			goto done;
	}
	if (fstat(io->fd, &st) == -1 || ((io->off == 0 ||
	    (uint64_t)st.st_size < io->off + io->size) &&
	    ftruncate(io->fd, (off_t)(io->off + io->size)) == -1)) {
		sr_seterrno("encrypt: setting the image's size");
		goto done;
	}
	rv = 0;
done:
	free(map);
	explicit_bzero(io->buf, CHUNK);
	return rv;
}

int
cgdio_sink(struct cgdio *io, bool sparse, struct ffsw_sink *s)
{
	if (io->size % SEC != 0 || io->off % SEC != 0) {
		sr_seterr("encrypt: a volume of %ju bytes at %ju is not whole "
		    "sectors", (uintmax_t)io->size, (uintmax_t)io->off);
		return -1;
	}
	if (need_buf(io) == -1)
		return -1;
	free(io->written);
	if ((io->written = calloc(1, (size_t)((io->size / SEC + 7) / 8))) ==
	    NULL)
		return sr_oom();
	io->sparse = sparse;
	memset(s, 0, sizeof(*s));
	s->ctx = io;
	s->start = sink_start;
	s->pwrite = sink_pwrite;
	s->finish = sink_finish;
	s->size = io->size;
	s->name = io->name;
	return 0;
}

/* The source ---------------------------------------------------------- */

/*
 * Decrypt n whole sectors at p, the first being sec: runs of sectors
 * that are not all zeros (a zero sector is a hole: it reads as zeros).
 */
static int
decrypt(struct cgdio *io, uint8_t *p, size_t n, uint64_t sec)
{
	size_t i = 0, a;

	while (i < n) {
		for (; i < n && sr_zeros(p + i * SEC, SEC); i++)
			;
		for (a = i; i < n && !sr_zeros(p + i * SEC, SEC); i++)
			;
		if (i > a && cgd_crypt(io->c, p + a * SEC, (i - a) * SEC,
		    sec + a, 0) == -1)
			return -1;
	}
	return 0;
}

/* Part of one sector: read whole into the buffer, decrypted, copied. */
static int
src_part(struct cgdio *io, uint64_t off, uint8_t *out, size_t len)
{
	uint64_t sec = off / SEC;
	int rv = -1;

	if (get(io, io->buf, SEC, sec * SEC) == 0 &&
	    decrypt(io, io->buf, 1, sec) == 0) {
		memcpy(out, io->buf + off % SEC, len);
		rv = 0;
	}
	explicit_bzero(io->buf, SEC);
	return rv;
}

static int
src_pread(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct cgdio *io = ctx;
	uint8_t *p = buf;

	if (off > io->size || len > io->size - off) {
		sr_seterr("decrypt: %zu bytes at %ju: beyond the volume's %ju",
		    len, (uintmax_t)off, (uintmax_t)io->size);
		errno = EIO;
		return -1;
	}
	/* A partial first sector, whole ones in place, a partial last. */
	if (off % SEC != 0 && len > 0) {
		size_t k = SEC - off % SEC < len ? SEC - off % SEC : len;

		if (src_part(io, off, p, k) == -1)
			return -1;
		p += k;
		off += k;
		len -= k;
	}
	if (len >= SEC) {
		size_t k = len - len % SEC;

		if (get(io, p, k, off) == -1 ||
		    decrypt(io, p, k / SEC, off / SEC) == -1) {
			explicit_bzero(p, k);
			return -1;
		}
		p += k;
		off += k;
		len -= k;
	}
	return len > 0 ? src_part(io, off, p, len) : 0;
}

int
cgdio_source(struct cgdio *io, struct ffs_source *src)
{
	if (io->size % SEC != 0 || io->off % SEC != 0 || io->size == 0) {
		sr_seterr("decrypt: a volume of %ju bytes at %ju is not whole "
		    "sectors (truncated?)", (uintmax_t)io->size,
		    (uintmax_t)io->off);
		return -1;
	}
	if (need_buf(io) == -1)
		return -1;
	memset(src, 0, sizeof(*src));
	src->ctx = io;
	src->pread = src_pread;
	src->size = io->size;
	src->name = io->name;
	return 0;
}

int
cgdio_verify(struct cgdio *io, const struct cgd_params *params)
{
	struct ffs_source src;
	size_t n = io->size < HEAD ? (size_t)io->size : HEAD;
	uint8_t *head;
	int rv = -1;

	if (cgdio_source(io, &src) == -1)
		return -1;
	if ((head = malloc(HEAD)) == NULL)
		return sr_oom();
	if (src_pread(io, 0, head, n) == 0 &&
	    cgdparams_verify(params, head, n) == 0)
		rv = 0;
	explicit_bzero(head, HEAD);
	free(head);
	return rv;
}

int
cgdio_probe(struct cgdio *io, const struct cgd_params *params,
    struct ffs_source *src, int part, struct ffsimg *fi)
{
	int r;

	if ((params != NULL && cgdio_verify(io, params) == -1) ||
	    cgdio_source(io, src) == -1)
		return -1;
	if ((r = ffsimg_probe_source(src, part, fi)) == 1) {
		sr_seterr("no FFS file system after decryption: a wrong key, "
		    "or not this volume");
		return -1;
	}
	return r;
}
