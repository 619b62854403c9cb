/*
 * Encrypted local images (see cgdimage.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgd/cgdimage.h"
#include "image/ffsimg.h"
#include "image/ffsread.h"
#include "tree/scratch.h"

#define CHUNK	(1 << 20)	/* a whole number of sectors */
#define HEAD	(72 * 1024)	/* what verify_method looks at */

/*
 * Write all len bytes at off.  A short write is not an error with an
 * errno; the rest is written again, and a real failure says why.
 */
static int
pwrite_all(int fd, const uint8_t *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (off_t)n;
	}
	return 0;
}

int
keyfile_check(const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		sr_seterrno("key file %s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		sr_seterr("key file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	close(fd);
	if (st.st_mode & 0044) {
		sr_seterr("key file %s: readable by group or others (mode "
		    "%04o); chmod go-rwx it", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

void
cgdimg_init(struct cgdimg *g)
{
	memset(g, 0, sizeof(*g));
	g->priv.lockfd = -1;
}

/*
 * A new key file, written atomically, mode 0600 from the start; 1 if
 * another run made one meanwhile (linked, not renamed: a key file is
 * never replaced, or a disk made with the first key would be lost).
 */
static int
make_keyfile(const char *path)
{
	struct sbuf b = { 0 };
	char tmp[PATH_MAX];
	int fd, rv = -1;

	if (cgdparams_generate(&b) == -1)
		return -1;
	if ((fd = scratch_file(path, tmp, sizeof(tmp))) == -1)
		goto done;
	if (pwrite_all(fd, (const uint8_t *)b.s, b.len, 0) == -1 ||
	    fsync(fd) == -1)
		sr_seterrno("key file %s: write", path);
	else if (link(tmp, path) == 0)
		rv = 0;
	else if (errno == EEXIST)
		rv = 1;
	else
		sr_seterrno("key file %s: write", path);
	(void)unlink(tmp);
	close(fd);
done:
	explicit_bzero(b.s, b.len);
	sbuf_free(&b);
	return rv;
}

int
cgdimg_open(struct cgdimg *g, const char *keyfile, const char *passfile,
    bool make)
{
	uint8_t key[CGD_MAXKEY];
	struct sbuf text = { 0 };
	struct stat st;
	int fd, r;

	g->keyfile = keyfile;
	if (make && lstat(keyfile, &st) == -1 && errno == ENOENT) {
		if ((r = make_keyfile(keyfile)) == -1)
			return -1;
		g->created = r == 0;
	}
	if (keyfile_check(keyfile) == -1)
		return -1;
	if ((fd = open(keyfile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		sr_seterrno("key file %s", keyfile);
		return -1;
	}
	for (;;) {
		char buf[4096];
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0 || text.len > 65536 || sbuf_add(&text, buf,
		    (size_t)n) == -1) {
			r = n < 0 || text.len > 65536 ? -1 : 0;
			explicit_bzero(buf, sizeof(buf));
			break;
		}
		explicit_bzero(buf, sizeof(buf));
	}
	close(fd);
	if (r == -1) {
		sr_seterr("key file %s: unreadable or too large", keyfile);
		goto fail;
	}
	if (cgdparams_parse(text.s ? text.s : "", text.len, keyfile,
	    &g->params) == -1)
		goto fail;
	if (cgdparams_key(&g->params, passfile, key) == -1 ||
	    cgd_open(g->params.algorithm, g->params.ivmethod, key,
	    g->params.keylen, &g->c) == -1) {
		sr_prefixerr("key file %s", keyfile);
		goto fail;
	}
	explicit_bzero(key, sizeof(key));
	explicit_bzero(text.s, text.len);
	sbuf_free(&text);
	return 0;
fail:
	explicit_bzero(key, sizeof(key));
	if (text.s != NULL)
		explicit_bzero(text.s, text.len);
	sbuf_free(&text);
	cgdparams_free(&g->params);
	return -1;
}

int
cgdimg_private(struct cgdimg *g, const char *base)
{
	if (scratch_make(&g->priv, base, SCRATCH_PLAIN) == -1)
		return -1;
	return scratch_path(&g->priv, "plain.img", g->plain, sizeof(g->plain));
}

/* Which sectors a transform may leave as holes. */
struct holes {
	const uint8_t *map;	/* free fragments, or NULL */
	size_t	 n, fsize;
};

/* Whether the zero sector at off lies in a free fragment. */
static bool
may_skip(const struct holes *h, off_t off)
{
	size_t frag;

	if (h == NULL || h->map == NULL || h->fsize == 0)
		return false;
	frag = (size_t)off / h->fsize;
	return frag < h->n && (h->map[frag / 8] & (1u << (frag % 8)));
}

/* Encrypt (enc) or decrypt len bytes of buf and write them at off. */
static int
put_sectors(struct cgdimg *g, int out, uint8_t *buf, size_t len, off_t off,
    int enc)
{
	if (cgd_crypt(g->c, buf, len, (uint64_t)off / CGD_SECSIZE, enc) == -1)
		return -1;
	if (pwrite_all(out, buf, len, off) == -1) {
		sr_seterrno("write at %jd", (intmax_t)off);
		return -1;
	}
	return 0;
}

/* Whether the sector at p, at off, may stay a hole. */
static bool
skippable(const uint8_t *p, const struct holes *h, off_t off)
{
	static const uint8_t zero[CGD_SECSIZE];

	return memcmp(p, zero, CGD_SECSIZE) == 0 && may_skip(h, off);
}

/*
 * Encrypt len bytes of buf, at off, into out: runs of sectors written,
 * zero sectors of free fragments left holes.
 */
static int
encrypt_chunk(struct cgdimg *g, int out, uint8_t *buf, size_t len, off_t off,
    const struct holes *h)
{
	size_t s, a;

	for (s = 0; s < len;) {
		for (a = s; s < len && !skippable(buf + s, h, off + (off_t)s);)
			s += CGD_SECSIZE;
		if (s > a && put_sectors(g, out, buf + a, s - a,
		    off + (off_t)a, 1) == -1)
			return -1;
		while (s < len && skippable(buf + s, h, off + (off_t)s))
			s += CGD_SECSIZE;
	}
	return 0;
}

/*
 * Where in is data at or after off, and where that data ends: the
 * ciphertext's holes stay holes.  The whole file where the host cannot
 * tell.
 */
static void
data_extent(int in, off_t off, off_t len, off_t *data, off_t *hole)
{
	*data = off;
	*hole = len;
#ifdef SEEK_DATA
	if ((*data = lseek(in, off, SEEK_DATA)) == -1)
		*data = len;
	if ((*hole = lseek(in, *data, SEEK_HOLE)) == -1)
		*hole = len;
#endif
}

/*
 * Run len bytes from in through the cipher into out, from sector 0.
 * Decrypting, holes of the ciphertext stay holes (never written, never
 * read); encrypting, what h allows.
 */
static int
transform(struct cgdimg *g, int in, int out, off_t len, int enc,
    const struct holes *h)
{
	static uint8_t buf[CHUNK];
	off_t off = 0, data = 0, hole = 0;
	int rv = -1;

	while (off < len) {
		size_t want = len - off < CHUNK ? (size_t)(len - off) : CHUNK;
		ssize_t n;

		if (!enc && off >= hole)
			data_extent(in, off, len, &data, &hole);
		/* Whole sectors of a hole skipped: never an endless loop. */
		if (!enc && off + CGD_SECSIZE <= data) {
			off = data - data % CGD_SECSIZE;
			continue;
		}
		if (!enc && (off_t)want > hole - off)
			want = (size_t)(hole - off + CGD_SECSIZE - 1) /
			    CGD_SECSIZE * CGD_SECSIZE;
		if ((n = pread(in, buf, want, off)) != (ssize_t)want) {
			if (n == -1)
				sr_seterrno("read at %jd", (intmax_t)off);
			else
				sr_seterr("read at %jd: the file ended early",
				    (intmax_t)off);
			goto done;
		}
		if ((enc ? encrypt_chunk(g, out, buf, want, off, h) :
		    put_sectors(g, out, buf, want, off, 0)) == -1 ||
		    sr_checkpoint() == -1)
			goto done;
		off += (off_t)want;
	}
	if (ftruncate(out, len) == -1 || fsync(out) == -1) {
		sr_seterrno("write");
		goto done;
	}
	rv = 0;
done:
	explicit_bzero(buf, sizeof(buf));
	return rv;
}

int
cgdimg_decrypt(struct cgdimg *g, const char *image)
{
	uint8_t head[HEAD];
	struct stat st;
	int in, out = -1, rv = -1;
	ssize_t n;

	if ((in = open(image, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(in, &st) == -1) {
		sr_seterrno("open");
		goto done;
	}
	if (st.st_size == 0 || st.st_size % CGD_SECSIZE != 0) {
		sr_seterr("not a cgd image: %jd bytes is not a whole number of "
		    "sectors (truncated?)", (intmax_t)st.st_size);
		goto done;
	}
	/* Check the key on the first sectors before anything is written. */
	n = pread(in, head, sizeof(head), 0);
	if (n < CGD_SECSIZE) {
		sr_seterrno("read");
		goto done;
	}
	n -= n % CGD_SECSIZE;
	if (cgd_crypt(g->c, head, (size_t)n, 0, 0) == -1 ||
	    cgdparams_verify(&g->params, head, (size_t)n) == -1)
		goto done;
	if ((out = open(g->plain, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		sr_seterrno("%s", g->plain);
		goto done;
	}
	if (transform(g, in, out, st.st_size, 0, NULL) == -1) {
		sr_prefixerr("decrypt");
		goto done;
	}
	rv = 0;
done:
	explicit_bzero(head, sizeof(head));
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	return rv;
}

int
cgdimg_encrypt(struct cgdimg *g, const char *image, const struct stat *like)
{
	struct holes h = { NULL, 0, 0 };
	struct ffsimg fi;
	uint8_t *map = NULL;
	char tmp[PATH_MAX];
	struct stat st;
	int in, out = -1, rv = -1;

	tmp[0] = '\0';
	if ((in = open(g->plain, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(in, &st) == -1) {
		sr_seterrno("%s", g->plain);
		goto done;
	}
	if (st.st_size % CGD_SECSIZE != 0) {
		sr_seterr("the file system is not a whole number of sectors");
		goto done;
	}
	if ((out = scratch_file(image, tmp, sizeof(tmp))) == -1)
		goto done;
	/*
	 * Sparse: the plaintext's free fragments may stay holes (its file
	 * system starts at 0).  Otherwise none: every sector is written.
	 */
	fi.path = g->plain;
	if (g->sparse && ffsimg_probe(g->plain, -1, &fi) == 0 &&
	    fi.off == 0 && ffs_free_map(&fi, &map, &h.n, &h.fsize) == 0)
		h.map = map;
	if (transform(g, in, out, st.st_size, 1, &h) == -1) {
		sr_prefixerr("encrypt");
		goto done;
	}
	if (like != NULL && (fchmod(out, like->st_mode & 07777) == -1 ||
	    (geteuid() == 0 && fchown(out, like->st_uid, like->st_gid) ==
	    -1))) {
		sr_seterrno("mode and owner");
		goto done;
	}
	if (sr_checkpoint() == -1)
		goto done;
	if (rename(tmp, image) == -1) {
		sr_seterrno("rename into place");
		goto done;
	}
	tmp[0] = '\0';
	rv = 0;
done:
	free(map);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	return rv;
}

int
cgdimg_close(struct cgdimg *g)
{
	int rv;

	cgd_close(g->c);
	g->c = NULL;
	cgdparams_free(&g->params);
	rv = scratch_remove(&g->priv);
	return rv;
}

void
cgdimg_abandon(struct cgdimg *g)
{
	(void)cgdimg_close(g);
	/* A key for a disk that was not made: nothing to keep it for. */
	if (g->created && g->keyfile != NULL)
		(void)unlink(g->keyfile);
	g->created = false;
}
