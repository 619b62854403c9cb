/*
 * make bench: the userspace cgd's throughput, in memory: aes-xts with a
 * 512-bit key over 256 MiB, encrypted then decrypted, in MB/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgd/cgd.h"
#include "base/sr.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(void)
{
	enum { CHUNK = 1 << 20, TOTAL = 256 };
	static uint8_t buf[CHUNK], key[64];
	struct cgd *c;
	double t0, t1, t2;
	int i;

	for (i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 13 + 7);
	if (cgd_open("aes-xts", NULL, key, 512, &c) == -1) {
		fprintf(stderr, "cgdspeed: %s\n", sr_errmsg());
		return 1;
	}
	t0 = now();
	for (i = 0; i < TOTAL; i++)
		cgd_crypt(c, buf, CHUNK, (uint64_t)i * (CHUNK / 512), 1);
	t1 = now();
	for (i = 0; i < TOTAL; i++)
		cgd_crypt(c, buf, CHUNK, (uint64_t)i * (CHUNK / 512), 0);
	t2 = now();
	printf("bench: userspace cgd, aes-xts 512: encrypt %.0f MB/s, "
	    "decrypt %.0f MB/s\n", TOTAL * 1.048576 / (t1 - t0),
	    TOTAL * 1.048576 / (t2 - t1));
	cgd_close(c);
	return 0;
}
