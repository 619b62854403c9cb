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
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include "cgd/cgd.h"
#include "base/sr.h"

struct cgd {
	const EVP_CIPHER *mode;		/* xts or cbc */
	const EVP_CIPHER *ecb;		/* cbc: the block cipher, for IVs */
	EVP_CIPHER_CTX	*ctx[2];	/* decrypt, encrypt */
	EVP_CIPHER_CTX	*ivctx;
	size_t		 blocksize;
	int		 ivrounds;	/* 0 for xts; 1 or 8 */
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

/* The cipher for alg with a key of keybits; c->mode NULL if it is wrong. */
static int
choose_cipher(struct cgd *c, const char *alg, size_t keybits)
{
	if (strcmp(alg, "aes-xts") == 0) {
		c->mode = keybits == 256 ? EVP_aes_128_xts() :
		    keybits == 512 ? EVP_aes_256_xts() : NULL;
		c->blocksize = 16;
		c->ivrounds = 0;
	} else if (strcmp(alg, "aes-cbc") == 0) {
		c->mode = keybits == 128 ? EVP_aes_128_cbc() :
		    keybits == 192 ? EVP_aes_192_cbc() :
		    keybits == 256 ? EVP_aes_256_cbc() : NULL;
		c->ecb = keybits == 128 ? EVP_aes_128_ecb() :
		    keybits == 192 ? EVP_aes_192_ecb() : EVP_aes_256_ecb();
		c->blocksize = 16;
	} else if (strcmp(alg, "3des-cbc") == 0) {
		c->mode = keybits == 192 ? EVP_des_ede3_cbc() : NULL;
		c->ecb = EVP_des_ede3_ecb();
		c->blocksize = 8;
	} else if (strcmp(alg, "blowfish-cbc") == 0) {
		if (legacy_loaded() == -1) {
			sr_seterr("blowfish-cbc: OpenSSL's legacy provider, "
			    "which has Blowfish, cannot be loaded");
			return -1;
		}
		c->mode = keybits >= 40 && keybits <= 448 && keybits % 8 == 0 ?
		    EVP_bf_cbc() : NULL;
		c->ecb = EVP_bf_ecb();
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

int
cgd_open(const char *alg, const char *ivmethod, const uint8_t *key,
    size_t keybits, struct cgd **out)
{
	struct cgd *c;
	size_t keylen = keybits / 8;
	int i;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		sr_seterrno("cgd");
		return -1;
	}
	if (choose_ivmethod(c, ivmethod) == -1 ||
	    choose_cipher(c, alg, keybits) == -1)
		goto fail;
	if (c->mode == NULL) {
		sr_seterr("%s: a %zu-bit key is not one it takes", alg,
		    keybits);
		goto fail;
	}
	for (i = 0; i < 2; i++)
		if ((c->ctx[i] = new_ctx(c->mode, key, keylen, i)) == NULL)
			goto crypto;
	if (c->ecb != NULL &&
	    (c->ivctx = new_ctx(c->ecb, key, keylen, 1)) == NULL)
		goto crypto;
	*out = c;
	return 0;
crypto:
	sr_seterr("%s: the cipher will not take this key", alg);
fail:
	cgd_close(c);
	return -1;
}

/* The IV (or XTS tweak) of a sector. */
static int
sector_iv(struct cgd *c, uint64_t blkno, uint8_t *iv)
{
	uint8_t tmp[16];
	int i, n;

	memset(iv, 0, c->blocksize);
	for (i = 0; i < 8; i++)
		iv[i] = (uint8_t)(blkno >> (8 * i));
	for (i = 0; i < c->ivrounds; i++) {
		if (EVP_CipherUpdate(c->ivctx, tmp, &n, iv,
		    (int)c->blocksize) != 1 || n != (int)c->blocksize)
			return -1;
		memcpy(iv, tmp, c->blocksize);
	}
	return 0;
}

int
cgd_crypt(struct cgd *c, uint8_t *buf, size_t len, uint64_t blkno, int enc)
{
	uint8_t iv[16];
	int n;

	if (len % CGD_SECSIZE != 0) {
		sr_seterr("cgd: %zu bytes is not a whole number of sectors",
		    len);
		return -1;
	}
	for (; len > 0; len -= CGD_SECSIZE, buf += CGD_SECSIZE, blkno++) {
		if (sector_iv(c, blkno, iv) == -1 ||
		    EVP_CipherInit_ex(c->ctx[enc != 0], NULL, NULL, NULL, iv,
		    -1) != 1 || EVP_CipherUpdate(c->ctx[enc != 0], buf, &n, buf,
		    CGD_SECSIZE) != 1 ||
		    n != CGD_SECSIZE) {
			sr_seterr("cgd: sector %ju: the cipher failed",
			    (uintmax_t)blkno);
			return -1;
		}
	}
	return 0;
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
	free(c);
}
