/*
 * make bench: the userspace cgd's throughput in memory, aes-xts with a
 * 512-bit key and aes-cbc with a 256-bit one, 1 MiB at a time, against
 * OpenSSL's own at 512-byte blocks (what `openssl speed -evp aes-256-xts
 * -bytes 512` does: one EVP call per block, the IV never changed), all
 * in MB/s of this process's CPU time, as openssl speed counts, so that
 * other work on the machine does not change the figures much.  Each is
 * the best of a few runs, the two taken in turn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "cgd/cgd.h"
#include "base/sr.h"

enum { CHUNK = 1 << 20, TOTAL = 64, RUNS = 5 };

static uint8_t buf[CHUNK], key[64];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* MB/s of the userspace cgd over TOTAL MiB. */
static double
cgd_rate(struct cgd *c, int enc)
{
	double t0 = now();
	int i;

	for (i = 0; i < TOTAL; i++)
		if (cgd_crypt(c, buf, CHUNK, (uint64_t)i * (CHUNK / 512),
		    enc) == -1) {
			fprintf(stderr, "cgdspeed: %s\n", sr_errmsg());
			exit(1);
		}
	return TOTAL * 1.048576 / (now() - t0);
}

/* MB/s of OpenSSL's cipher over TOTAL MiB, 512 bytes a call. */
static double
evp_rate(const EVP_CIPHER *cipher, int enc)
{
	static const uint8_t iv[16] = { 1 };
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	double t0;
	size_t i;
	int n;

	if (ctx == NULL || EVP_CipherInit_ex(ctx, cipher, NULL, key, iv,
	    enc) != 1) {
		fprintf(stderr, "cgdspeed: OpenSSL's cipher failed\n");
		exit(1);
	}
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	t0 = now();
	for (i = 0; i < (size_t)TOTAL * CHUNK; i += 512)
		EVP_CipherUpdate(ctx, buf + i % CHUNK, &n, buf + i % CHUNK,
		    512);
	t0 = now() - t0;
	EVP_CIPHER_CTX_free(ctx);
	return TOTAL * 1.048576 / t0;
}

/* One line for the cgd, one for OpenSSL, and the ratio. */
static void
compare(const char *alg, const char *ivm, size_t bits, const char *evpname,
    const EVP_CIPHER *cipher)
{
	double r[4] = { 0, 0, 0, 0 }, x;
	struct cgd *c;
	int i, d;

	if (cgd_open(alg, ivm, key, bits, &c) == -1) {
		fprintf(stderr, "cgdspeed: %s\n", sr_errmsg());
		exit(1);
	}
	for (i = 0; i < RUNS; i++)
		for (d = 0; d < 2; d++) {
			if ((x = cgd_rate(c, !d)) > r[d])
				r[d] = x;
			if ((x = evp_rate(cipher, !d)) > r[2 + d])
				r[2 + d] = x;
		}
	cgd_close(c);
	printf("bench: userspace cgd, %s %zu: encrypt %.0f MB/s, "
	    "decrypt %.0f MB/s\n", alg, bits, r[0], r[1]);
	printf("bench: openssl %s, 512-byte blocks: encrypt %.0f MB/s, "
	    "decrypt %.0f MB/s (cgd: %.0f%%, %.0f%%; target: at least 50%%)\n",
	    evpname, r[2], r[3],
	    100 * r[0] / r[2], 100 * r[1] / r[3]);
}

int
main(void)
{
	int i;

	for (i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 13 + 7);
	compare("aes-xts", NULL, 512, "aes-256-xts", EVP_aes_256_xts());
	compare("aes-cbc", "encblkno1", 256, "aes-256-cbc",
	    EVP_aes_256_cbc());
	return 0;
}
