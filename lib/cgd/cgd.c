/*
 * cgd(4)'s sector transform in user space (see cgd.h).
 *
 * What NetBSD's cgd_cipher() does for each 512-byte sector blkno:
 * the block number, little-endian, fills the first 8 bytes of a zeroed
 * cipher block.  aes-xts takes that block as its tweak (IEEE 1619, the
 * data unit number).  The CBC ciphers take as IV the block encrypted
 * once (encblkno1), or eight times (encblkno8: an early bit/byte
 * mistake that encrypted it as the last of eight CBC blocks, kept for
 * old disks), and then run CBC over the sector.
 *
 * Here the sectors go a chunk at a time, in as few OpenSSL calls as
 * the mode allows, for in OpenSSL 3 starting a cipher afresh with a new
 * IV for each sector costs as much as the sector's AES: the IVs of a
 * chunk in one ECB call; XTS done here over one ECB call for the whole
 * chunk; CBC kept going from sector to sector with each sector's first
 * block set right by hand.  The tests hold this to the plain way, one
 * EVP_CipherInit per sector, byte for byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "cgd/cgd.h"
#include "base/sr.h"

/*
 * Sectors are taken CHUNK_SECS at a time, so that a chunk, its tweaks
 * and IVs stay in the first-level cache between the passes over it.
 */
#define CHUNK_SECS	32
#define MAXBLOCK	16

struct cgd {
	/*
	 * xts: the data key's ECB, decrypting and encrypting; the CBC
	 * ciphers: their CBC, decrypting and encrypting.
	 */
	EVP_CIPHER_CTX	*ctx[2];
	/* ECB, encrypting: xts with the tweak key, CBC for the IVs. */
	EVP_CIPHER_CTX	*ivctx;
	size_t		 blocksize;
	int		 xts;
	int		 ivrounds;	/* 1 for xts; 1 or 8 */
	/* A chunk's sector IVs (tweaks for xts), key material. */
	uint8_t		 iv[CHUNK_SECS * MAXBLOCK];
	/* xts: the tweak of each cipher block of a chunk, key material. */
	uint8_t		 tweak[CHUNK_SECS * CGD_SECSIZE];
	/* CBC decryption: the last ciphertext block of each sector. */
	uint8_t		 last[CHUNK_SECS * MAXBLOCK];
	/* CBC: the ciphertext block the CBC context chains from. */
	uint8_t		 chain[MAXBLOCK];
};

/* Blowfish lives in OpenSSL 3's legacy provider. */
static int
legacy_loaded(void)
{
	static OSSL_PROVIDER *legacy, *deflt;

	if (legacy == NULL) {
		if ((legacy = OSSL_PROVIDER_load(NULL, "legacy")) == NULL)
			return -1;
		deflt = OSSL_PROVIDER_load(NULL, "default");
	}
	return deflt != NULL ? 0 : -1;
}

/* The iv-method: encblkno8 (or its old name encblkno), or encblkno1. */
static int
choose_ivmethod(struct cgd *c, const char *ivmethod)
{
	c->ivrounds = 1;
	if (ivmethod != NULL && (strcmp(ivmethod, "encblkno8") == 0 ||
	    strcmp(ivmethod, "encblkno") == 0))
		c->ivrounds = 8;
	else if (ivmethod != NULL && strcmp(ivmethod, "encblkno1") != 0) {
		sr_seterr("iv-method %s: unknown (encblkno1, encblkno8)",
		    ivmethod);
		return -1;
	}
	return 0;
}

/*
 * The ciphers for alg with a key of keybits: *mode, the one the sectors
 * go through (for xts: ECB with half the key), and *ecb, the one for
 * the IVs (xts: the tweak key's); *mode NULL if keybits is wrong.
 */
static int
choose_cipher(struct cgd *c, const char *alg, size_t keybits,
    const EVP_CIPHER **mode, const EVP_CIPHER **ecb)
{
	*mode = *ecb = NULL;
	c->blocksize = 16;
	if (strcmp(alg, "aes-xts") == 0) {
		*mode = *ecb = keybits == 256 ? EVP_aes_128_ecb() :
		    keybits == 512 ? EVP_aes_256_ecb() : NULL;
		c->xts = 1;
		c->ivrounds = 1;
	} else if (strcmp(alg, "aes-cbc") == 0) {
		*mode = keybits == 128 ? EVP_aes_128_cbc() :
		    keybits == 192 ? EVP_aes_192_cbc() :
		    keybits == 256 ? EVP_aes_256_cbc() : NULL;
		*ecb = keybits == 128 ? EVP_aes_128_ecb() :
		    keybits == 192 ? EVP_aes_192_ecb() : EVP_aes_256_ecb();
	} else if (strcmp(alg, "3des-cbc") == 0) {
		*mode = keybits == 192 ? EVP_des_ede3_cbc() : NULL;
		*ecb = EVP_des_ede3_ecb();
		c->blocksize = 8;
	} else if (strcmp(alg, "blowfish-cbc") == 0) {
		if (legacy_loaded() == -1) {
			sr_seterr("blowfish-cbc: OpenSSL's legacy provider, "
			    "which has Blowfish, cannot be loaded");
			return -1;
		}
		*mode = keybits >= 40 && keybits <= 448 && keybits % 8 == 0 ?
		    EVP_bf_cbc() : NULL;
		*ecb = EVP_bf_ecb();
		c->blocksize = 8;
	} else if (strcmp(alg, "adiantum") == 0) {
		sr_seterr("adiantum: no library on this host implements it; "
		    "use a NetBSD host (cgdconfig) for this disk");
		return -1;
	} else {
		sr_seterr("algorithm %s: unknown (aes-xts, aes-cbc, "
		    "blowfish-cbc, 3des-cbc)", alg);
		return -1;
	}
	return 0;
}

/* A context for the cipher with the key: encrypting (enc) or not. */
static EVP_CIPHER_CTX *
new_ctx(const EVP_CIPHER *cipher, const uint8_t *key, size_t keylen, int enc)
{
	EVP_CIPHER_CTX *ctx;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_set_key_length(ctx, (int)keylen) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * The contexts for the key.  An xts key is the data key then the tweak
 * key; halves that are the same are refused, as OpenSSL's XTS (which
 * this took before) refuses them.
 */
static int
new_ctxs(struct cgd *c, const EVP_CIPHER *mode, const EVP_CIPHER *ecb,
    const uint8_t *key, size_t keylen)
{
	const uint8_t *ivkey = key;
	int i;

	if (c->xts) {
		keylen /= 2;
		ivkey = key + keylen;
		if (CRYPTO_memcmp(key, ivkey, keylen) == 0)
			return -1;
	}
	for (i = 0; i < 2; i++)
		if ((c->ctx[i] = new_ctx(mode, key, keylen, i)) == NULL)
			return -1;
	if ((c->ivctx = new_ctx(ecb, ivkey, keylen, 1)) == NULL)
		return -1;
	return 0;
}

int
cgd_open(const char *alg, const char *ivmethod, const uint8_t *key,
    size_t keybits, struct cgd **out)
{
	const EVP_CIPHER *mode, *ecb;
	struct cgd *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		sr_seterrno("cgd");
		return -1;
	}
	if (choose_ivmethod(c, ivmethod) == -1 ||
	    choose_cipher(c, alg, keybits, &mode, &ecb) == -1)
		goto fail;
	if (mode == NULL) {
		sr_seterr("%s: a %zu-bit key is not one it takes", alg,
		    keybits);
		goto fail;
	}
	if (new_ctxs(c, mode, ecb, key, keybits / 8) == -1) {
		sr_seterr("%s: the cipher will not take this key", alg);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	cgd_close(c);
	return -1;
}

/* ECB (or CBC, going on from where it is) over n bytes in place. */
static int
run(EVP_CIPHER_CTX *ctx, uint8_t *p, size_t n)
{
	int out;

	return EVP_CipherUpdate(ctx, p, &out, p, (int)n) == 1 &&
	    out == (int)n ? 0 : -1;
}

/* a ^= b over n bytes, a multiple of 8, a word at a time. */
static void
xor_into(uint8_t *restrict a, const uint8_t *restrict b, size_t n)
{
	uint64_t x, y;
	size_t i;

	for (i = 0; i < n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		x ^= y;
		memcpy(a + i, &x, 8);
	}
}

/*
 * The IVs (xts: tweaks) of n sectors from blkno, all at once: each
 * the block number, little-endian, in a zeroed cipher block, encrypted
 * ivrounds times.
 */
static int
sector_ivs(struct cgd *c, uint64_t blkno, size_t n)
{
	size_t bs = c->blocksize, i;
	uint8_t *iv;
	int j, r;

	memset(c->iv, 0, n * bs);
	for (i = 0, iv = c->iv; i < n; i++, iv += bs)
		for (j = 0; j < 8; j++)
			iv[j] = (uint8_t)((blkno + i) >> (8 * j));
	for (r = 0; r < c->ivrounds; r++)
		if (run(c->ivctx, c->iv, n * bs) == -1)
			return -1;
	return 0;
}

/*
 * Sixteen bytes as one value, for XOR a block at a time (SSE2, NEON);
 * GCC's and Clang's vector extension.
 */
typedef uint64_t u64x2 __attribute__((vector_size(16)));

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LE64(x)	__builtin_bswap64(x)
#else
#define LE64(x)	(x)
#endif

static u64x2
load16(const uint8_t *p)
{
	u64x2 v;

	memcpy(&v, p, 16);
	return v;
}

static void
store16(uint8_t *p, u64x2 v)
{
	memcpy(p, &v, 16);
}

/*
 * XTS over n sectors whose tweaks are in c->iv: each block's tweak is
 * the one before it times x in GF(2^128) (IEEE 1619: little-endian,
 * x^128 = x^7 + x^2 + x + 1); the blocks, tweaked, go through ECB in
 * one call, where AES-NI works on several at once, and are tweaked
 * again with the tweaks kept in c->tweak.
 */
static int
xts_sectors(struct cgd *c, uint8_t *buf, size_t n, int enc)
{
	uint64_t lo, hi, carry;
	uint8_t *t = c->tweak, *p = buf;
	u64x2 tw;
	size_t i, b;

	for (i = 0; i < n; i++) {
		memcpy(&lo, c->iv + 16 * i, 8);
		memcpy(&hi, c->iv + 16 * i + 8, 8);
		lo = LE64(lo);
		hi = LE64(hi);
		for (b = 0; b < CGD_SECSIZE / 16; b++, t += 16, p += 16) {
			tw = (u64x2){ LE64(lo), LE64(hi) };
			store16(t, tw);
			store16(p, load16(p) ^ tw);
			carry = hi >> 63;
			hi = hi << 1 | lo >> 63;
			lo = lo << 1 ^ (0x87 & (0 - carry));
		}
	}
	if (run(c->ctx[enc], buf, n * CGD_SECSIZE) == -1)
		return -1;
	for (b = 0; b < n * CGD_SECSIZE; b += 16)
		store16(buf + b, load16(buf + b) ^ load16(c->tweak + b));
	return 0;
}

/*
 * CBC encryption is a chain, one sector after the other; the context
 * goes on from the last ciphertext block (c->chain), so a sector's
 * first block takes its IV and that block off, and no new IV is set.
 */
static int
cbc_encrypt(struct cgd *c, uint8_t *buf, size_t n)
{
	size_t bs = c->blocksize, i;

	for (i = 0; i < n; i++, buf += CGD_SECSIZE) {
		xor_into(buf, c->iv + bs * i, bs);
		xor_into(buf, c->chain, bs);
		if (run(c->ctx[1], buf, CGD_SECSIZE) == -1)
			return -1;
		memcpy(c->chain, buf + CGD_SECSIZE - bs, bs);
	}
	return 0;
}

/*
 * CBC decryption of the n sectors in one call (AES-NI decrypts several
 * blocks at once); then each sector's first block, which took the
 * ciphertext block before it, takes its IV instead.
 */
static int
cbc_decrypt(struct cgd *c, uint8_t *buf, size_t n)
{
	size_t bs = c->blocksize, i;

	for (i = 0; i < n; i++)
		memcpy(c->last + bs * i, buf + CGD_SECSIZE * (i + 1) - bs, bs);
	if (run(c->ctx[0], buf, n * CGD_SECSIZE) == -1)
		return -1;
	for (i = 0; i < n; i++, buf += CGD_SECSIZE) {
		xor_into(buf, c->iv + bs * i, bs);
		xor_into(buf, i == 0 ? c->chain : c->last + bs * (i - 1), bs);
	}
	memcpy(c->chain, c->last + bs * (n - 1), bs);
	return 0;
}

/* Clear the IVs and tweaks of the first n sectors of a chunk. */
static void
forget(struct cgd *c, size_t n)
{
	explicit_bzero(c->iv, n * c->blocksize);
	if (c->xts)
		explicit_bzero(c->tweak, n * CGD_SECSIZE);
}

int
cgd_crypt(struct cgd *c, uint8_t *buf, size_t len, uint64_t blkno, int enc)
{
	size_t n, most = 0;
	int rv = 0;

	enc = enc != 0;
	if (len % CGD_SECSIZE != 0) {
		sr_seterr("cgd: %zu bytes is not a whole number of sectors",
		    len);
		return -1;
	}
	/* CBC: the chain starts from zero, once per call. */
	memset(c->chain, 0, sizeof(c->chain));
	if (!c->xts && EVP_CipherInit_ex(c->ctx[enc], NULL, NULL, NULL,
	    c->chain, -1) != 1)
		rv = -1;
	while (rv == 0 && len > 0) {
		n = len / CGD_SECSIZE < CHUNK_SECS ? len / CGD_SECSIZE :
		    CHUNK_SECS;
		most = n > most ? n : most;
		rv = sector_ivs(c, blkno, n);
		if (rv == 0)
			rv = c->xts ? xts_sectors(c, buf, n, enc) :
			    enc ? cbc_encrypt(c, buf, n) :
			    cbc_decrypt(c, buf, n);
		if (rv == 0) {
			len -= n * CGD_SECSIZE;
			buf += n * CGD_SECSIZE;
			blkno += n;
		}
	}
	forget(c, most);
	if (rv == -1)
		sr_seterr("cgd: sector %ju: the cipher failed",
		    (uintmax_t)blkno);
	return rv;
}

void
cgd_close(struct cgd *c)
{
	if (c == NULL)
		return;
	/* EVP_CIPHER_CTX_free clears the key schedule. */
	EVP_CIPHER_CTX_free(c->ctx[0]);
	EVP_CIPHER_CTX_free(c->ctx[1]);
	EVP_CIPHER_CTX_free(c->ivctx);
	explicit_bzero(c, sizeof(*c));
	free(c);
}
