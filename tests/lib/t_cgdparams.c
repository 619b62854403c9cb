/*
 * cgdconfig(8) parameters files: the grammar (both keygen forms, the
 * deprecated statements, comments, quoting), keys from every keygen
 * XORed, PBKDF2 against RFC 6070, refusals with their line numbers,
 * bounded and interruptible key derivations.
 */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/evp.h>

#include "h_util.h"
#include "cgd/cgdparams.h"

static int
parse(const char *text, struct cgd_params *p)
{
	return cgdparams_parse(text, strlen(text), "params", p);
}

ATF_TC_WITHOUT_HEAD(params_storedkey);
ATF_TC_BODY(params_storedkey, tc)
{
	/* 64 bits: 0x0102030405060708, as "cgdconfig -g" would write it. */
	const char *text = "algorithm aes-cbc;\n"
	    "iv-method encblkno8;\n"
	    "keylength 64;	# a comment, to the end of the line\n"
	    "verify_method \"disklabel\";\n"
	    "keygen storedkey key AAAAQAECAwQF \\\n"
	    "    BgcI;\n";
	struct cgd_params p;
	uint8_t key[8];

	ATF_REQUIRE_MSG(parse(text, &p) == 0, "%s", sr_errmsg());
	ATF_CHECK_STREQ(p.algorithm, "aes-cbc");
	ATF_CHECK_STREQ(p.ivmethod, "encblkno8");
	ATF_CHECK_STREQ(p.verify, "disklabel");
	ATF_CHECK_EQ(p.keylen, 64);
	ATF_REQUIRE_EQ(p.nkg, 1);
	ATF_CHECK_STREQ(p.kg[0].method, "storedkey");
	ATF_REQUIRE(cgdparams_key(&p, NULL, key) == 0);
	ATF_CHECK(memcmp(key, "\1\2\3\4\5\6\7\10", 8) == 0);
	cgdparams_free(&p);
}

ATF_TC_WITHOUT_HEAD(params_keys_xored);
ATF_TC_BODY(params_keys_xored, tc)
{
	/* Two stored keys, one in a block, one in the old xor_key form. */
	const char *text = "algorithm aes-cbc\n"
	    "keylength 32\n"
	    "keygen storedkey {\n"
	    "	key AAAAIP8A/wA=;\n"
	    "};\n"
	    "keygen_method storedkey;\n"
	    "xor_key AAAAIA8PDw8=;\n";
	struct cgd_params p;
	uint8_t key[4];

	ATF_REQUIRE_MSG(parse(text, &p) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_EQ(p.nkg, 2);
	ATF_REQUIRE(cgdparams_key(&p, NULL, key) == 0);
	ATF_CHECK(memcmp(key, "\xf0\x0f\xf0\x0f", 4) == 0);
	cgdparams_free(&p);
}

ATF_TC_WITHOUT_HEAD(params_pbkdf2_rfc6070);
ATF_TC_BODY(params_pbkdf2_rfc6070, tc)
{
	/* RFC 6070: "password", "salt", 2 iterations, 20 bytes. */
	static const uint8_t want[20] = {
		0xea, 0x6c, 0x01, 0x4d, 0xc7, 0x2d, 0x6f, 0x8c, 0xcd, 0x1e,
		0xd9, 0x2a, 0xce, 0x1d, 0x41, 0xf0, 0xd8, 0xde, 0x89, 0x57
	};
	const char *text = "algorithm aes-cbc;\nkeylength 160;\n"
	    "keygen pkcs5_pbkdf2/sha1 {\n\titerations 2;\n"
	    "\tsalt AAAAIHNhbHQ=;\n};\n";
	struct cgd_params p;
	uint8_t key[20];
	FILE *f;

	ATF_REQUIRE((f = fopen("pass", "w")) != NULL);
	fputs("password\n", f);
	fclose(f);
	ATF_REQUIRE_MSG(parse(text, &p) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_MSG(cgdparams_key(&p, "pass", key) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK(memcmp(key, want, sizeof(want)) == 0);
	cgdparams_free(&p);
}

ATF_TC_WITHOUT_HEAD(params_argon2id);
ATF_TC_BODY(params_argon2id, tc)
{
	const char *text = "algorithm aes-xts;\nkeylength 256;\n"
	    "keygen argon2id {\n\titerations 2;\n\tmemory 256;\n"
	    "\tparallelism 2;\n\tversion 19;\n"
	    "\tsalt AAAAgAABAgMEBQYHCAkKCwwNDg8=;\n};\n";
	static const uint8_t salt[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	    11, 12, 13, 14, 15 };
	struct cgd_params p;
	uint8_t key[32], want[32];
	FILE *f;

	ATF_REQUIRE((f = fopen("pass", "w")) != NULL);
	fputs("correct horse\n", f);
	fclose(f);
	ATF_REQUIRE_MSG(parse(text, &p) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(p.kg[0].memory, 256);
	ATF_CHECK_EQ(p.kg[0].parallelism, 2);
	ATF_REQUIRE_MSG(cgdparams_key(&p, "pass", key) == 0, "%s",
	    sr_errmsg());
	ATF_REQUIRE(argon2id_hash_raw(2, 256, 2, "correct horse", 13, salt,
	    sizeof(salt), want, sizeof(want)) == ARGON2_OK);
	ATF_CHECK(memcmp(key, want, sizeof(want)) == 0);
	cgdparams_free(&p);
}

ATF_TC_WITHOUT_HEAD(params_refused);
ATF_TC_BODY(params_refused, tc)
{
	struct cgd_params p;
	uint8_t key[64];

	ATF_CHECK_EQ(parse("algorithm aes-xts;\nkeylength 256;\n"
	    "keygen storedkey key AAAA;\nbogus 1;\n", &p), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "params:3: bits too short");
	ATF_CHECK_EQ(parse("algorithm aes-xts;\nbogus 1;\n", &p), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "params:2: syntax error");
	ATF_CHECK_EQ(parse("keygen storedkey key AAAAQAECAwQFBgcI;\n", &p),
	    -1);
	ATF_CHECK_STREQ(sr_errmsg(), "params: no algorithm");
	ATF_CHECK_EQ(parse("algorithm aes-xts;\nkeygen storedkey {\n"
	    "key AAAAQAECAwQFBgcI;\n", &p), -1);
	ATF_CHECK(strstr(sr_errmsg(), "'}' missing") != NULL);
	/* 128 bits said, 64 given. */
	ATF_CHECK_EQ(parse("algorithm aes-cbc;\nkeygen storedkey key "
	    "AAAAgAECAwQFBgcI;\n", &p), -1);
	ATF_CHECK(strstr(sr_errmsg(), "bit count larger") != NULL);
	/* Random keys: for swap, never for data. */
	ATF_REQUIRE(parse("algorithm aes-xts;\nkeylength 256;\n"
	    "keygen urandomkey;\n", &p) == 0);
	ATF_CHECK_EQ(cgdparams_key(&p, NULL, key), -1);
	ATF_CHECK(strstr(sr_errmsg(), "keygen urandomkey: a new key each "
	    "time") != NULL);
	cgdparams_free(&p);
	ATF_REQUIRE(parse("algorithm aes-xts;\nkeylength 256;\n"
	    "keygen shell_cmd cmd \"echo key\";\n", &p) == 0);
	ATF_CHECK_EQ(cgdparams_key(&p, NULL, key), -1);
	cgdparams_free(&p);
	/* A stored key of the wrong length. */
	ATF_REQUIRE(parse("algorithm aes-xts;\nkeylength 256;\n"
	    "keygen storedkey key AAAAQAECAwQFBgcI;\n", &p) == 0);
	ATF_CHECK_EQ(cgdparams_key(&p, NULL, key), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "keygen storedkey: its key is not 256 "
	    "bits");
	cgdparams_free(&p);
}

ATF_TC_WITHOUT_HEAD(params_generated_and_verified);
ATF_TC_BODY(params_generated_and_verified, tc)
{
	struct sbuf b = { 0 };
	struct cgd_params p;
	static uint8_t head[72 * 1024];
	uint8_t key[64], key2[64];

	ATF_REQUIRE(cgdparams_generate(&b) == 0);
	ATF_REQUIRE_MSG(parse(b.s, &p) == 0, "%s", sr_errmsg());
	ATF_CHECK_STREQ(p.algorithm, "aes-xts");
	ATF_CHECK_EQ(p.keylen, 512);
	ATF_CHECK_STREQ(p.verify, "ffs");
	ATF_REQUIRE(cgdparams_key(&p, NULL, key) == 0);
	sbuf_free(&b);
	cgdparams_free(&p);
	/* A second one has another key. */
	ATF_REQUIRE(cgdparams_generate(&b) == 0);
	ATF_REQUIRE(parse(b.s, &p) == 0);
	ATF_REQUIRE(cgdparams_key(&p, NULL, key2) == 0);
	ATF_CHECK(memcmp(key, key2, 64) != 0);
	/* verify_method ffs: an FFSv1 magic at 8 KiB, or not. */
	ATF_CHECK_EQ(cgdparams_verify(&p, head, sizeof(head)), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "verify_method ffs: no FFS superblock "
	    "after decryption: a wrong key, or not this volume");
	head[8192 + 1372] = 0x54;
	head[8192 + 1373] = 0x19;
	head[8192 + 1374] = 0x01;
	ATF_CHECK_EQ(cgdparams_verify(&p, head, sizeof(head)), 0);
	strlcpy(p.verify, "mbr", sizeof(p.verify));
	ATF_CHECK_EQ(cgdparams_verify(&p, head, sizeof(head)), -1);
	head[510] = 0x55;
	head[511] = 0xaa;
	ATF_CHECK_EQ(cgdparams_verify(&p, head, sizeof(head)), 0);
	strlcpy(p.verify, "gpt", sizeof(p.verify));
	ATF_CHECK_EQ(cgdparams_verify(&p, head, sizeof(head)), -1);
	memcpy(head + 512, "EFI PART", 8);
	ATF_CHECK_EQ(cgdparams_verify(&p, head, sizeof(head)), 0);
	strlcpy(p.verify, "none", sizeof(p.verify));
	ATF_CHECK_EQ(cgdparams_verify(&p, head, 0), 0);
	sbuf_free(&b);
	cgdparams_free(&p);
}

ATF_TC_WITHOUT_HEAD(params_second_value_replaces);
ATF_TC_BODY(params_second_value_replaces, tc)
{
	/*
	 * A second key or salt replaces the first, as in cgdconfig; a bad
	 * second one is an error that leaves nothing freed twice (it once
	 * freed the first, kept the pointer, and freed it again).
	 */
	static const char *const bad[] = {
		"algorithm aes-cbc;\nkeylength 64;\nkeygen storedkey {\n"
		"key AAAAQAECAwQFBgcI;\nkey !!!!;\n};\n",
		"algorithm aes-cbc;\nkeylength 64;\nkeygen storedkey {\n"
		"key AAAAQAECAwQFBgcI;\nkey AAAA;\n};\n",
		"algorithm aes-cbc;\nkeylength 64;\n"
		"keygen pkcs5_pbkdf2/sha1 {\niterations 2;\n"
		"salt AAAAIHNhbHQ=;\nsalt AAAAIHNh*HQ=;\n};\n",
		"algorithm aes-cbc;\nkeylength 64;\n"
		"keygen_method pkcs5_pbkdf2/sha1;\n"
		"keygen_salt AAAAIHNhbHQ=;\nkeygen_salt %;\n",
		"algorithm aes-cbc;\nkeylength 64;\n"
		"xor_key AAAAQAECAwQFBgcI;\nxor_key AAAAQAECAwQFBgc;\n",
		NULL
	};
	const char *text = "algorithm aes-cbc;\nkeylength 64;\n"
	    "keygen storedkey {\nkey AAAAQAECAwQFBgcI;\n"
	    "key AAAAQAgHBgUEAwIB;\n};\nkeygen_method storedkey;\n"
	    "xor_key AAAAQP8AAAAAAAAA;\nxor_key AAAAQAAAAAAAAAAA;\n";
	struct cgd_params p;
	uint8_t key[8];
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		ATF_CHECK_EQ_MSG(parse(bad[i], &p), -1, "case %zu", i);
		ATF_CHECK_MSG(strncmp(sr_errmsg(), "params:", 7) == 0,
		    "case %zu: %s", i, sr_errmsg());
		/* Freed already; a second free must be harmless too. */
		cgdparams_free(&p);
	}
	ATF_REQUIRE_MSG(parse(text, &p) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_EQ(p.nkg, 2);
	ATF_REQUIRE(cgdparams_key(&p, NULL, key) == 0);
	ATF_CHECK(memcmp(key, "\10\7\6\5\4\3\2\1", 8) == 0);
	cgdparams_free(&p);
}

/* PBKDF2-HMAC-SHA1 of pass and salt (given as cgdconfig's base64). */
static void
pbkdf2_case(const char *pass, const char *b64salt, long iter, size_t keybits,
    const uint8_t *want)
{
	char text[512];
	struct cgd_params p;
	uint8_t key[64];
	FILE *f;

	ATF_REQUIRE((f = fopen("pass", "w")) != NULL);
	fprintf(f, "%s\n", pass);
	fclose(f);
	snprintf(text, sizeof(text), "algorithm aes-cbc;\nkeylength %zu;\n"
	    "keygen pkcs5_pbkdf2/sha1 {\n\titerations %ld;\n"
	    "\tsalt %s;\n};\n", keybits, iter, b64salt);
	ATF_REQUIRE_MSG(parse(text, &p) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_MSG(cgdparams_key(&p, "pass", key) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_MSG(memcmp(key, want, keybits / 8) == 0, "%s, %ld "
	    "iterations, %zu bits", pass, iter, keybits);
	cgdparams_free(&p);
}

ATF_TC_WITHOUT_HEAD(params_pbkdf2_vectors);
ATF_TC_BODY(params_pbkdf2_vectors, tc)
{
	/* RFC 6070: 4096 iterations; 25 bytes (two blocks), long inputs. */
	static const uint8_t w4096[20] = {
		0x4b, 0x00, 0x79, 0x01, 0xb7, 0x65, 0x48, 0x9a, 0xbe, 0xad,
		0x49, 0xd9, 0x26, 0xf7, 0x21, 0xd0, 0x65, 0xa4, 0x29, 0xc1
	};
	static const uint8_t wlong[25] = {
		0x3d, 0x2e, 0xec, 0x4f, 0xe4, 0x1c, 0x84, 0x9b, 0x80, 0xc8,
		0xd8, 0x36, 0x62, 0xc0, 0xe4, 0x4a, 0x8b, 0x29, 0x1a, 0x96,
		0x4c, 0xf2, 0xf0, 0x70, 0x38
	};
	static const char longpass[] = "a passphrase longer than SHA-1's "
	    "64-byte block, which HMAC hashes first";
	unsigned char salt[40], b64[64], want[64];

	pbkdf2_case("password", "AAAAIHNhbHQ=", 4096, 160, w4096);
	/* "saltSALTsaltSALTsaltSALTsaltSALTsalt": 288 bits. */
	memcpy(salt, "\0\0\1\40saltSALTsaltSALTsaltSALTsaltSALTsalt", 40);
	ATF_REQUIRE(EVP_EncodeBlock(b64, salt, 40) > 0);
	pbkdf2_case("passwordPASSWORDpassword", (char *)b64, 4096, 200, wlong);
	/* A 512-bit key (four blocks) from a long passphrase, as OpenSSL. */
	ATF_REQUIRE(PKCS5_PBKDF2_HMAC_SHA1(longpass, strlen(longpass),
	    salt + 4, 36, 1000, 64, want) == 1);
	pbkdf2_case(longpass, (char *)b64, 1000, 512, want);
}

ATF_TC_WITHOUT_HEAD(params_work_bounded);
ATF_TC_BODY(params_work_bounded, tc)
{
	struct cgd_params p;
	uint8_t key[64];
	FILE *f;

	/* 2^31 - 1 iterations: hours.  One line, the file and statement. */
	ATF_CHECK_EQ(parse("algorithm aes-cbc;\nkeylength 128;\n"
	    "keygen pkcs5_pbkdf2/sha1 {\n\titerations 2147483647;\n"
	    "\tsalt AAAAIHNhbHQ=;\n};\n", &p), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "params:3: keygen pkcs5_pbkdf2/sha1: "
	    "2147483647 iterations for each of the 1 blocks of a 128-bit key: "
	    "more than cgdconfig -g would ever choose (at most 67108864 in "
	    "all; refused)");
	/* The bound is on the whole key: four blocks of 512 bits. */
	ATF_CHECK_EQ(parse("algorithm aes-xts;\nkeylength 512;\n"
	    "keygen pkcs5_pbkdf2/sha1 {\n\titerations 16777217;\n"
	    "\tsalt AAAAIHNhbHQ=;\n};\n", &p), -1);
	ATF_CHECK(strstr(sr_errmsg(), "params:3: keygen pkcs5_pbkdf2/sha1: "
	    "16777217 iterations for each of the 4 blocks") != NULL);
	ATF_REQUIRE(parse("algorithm aes-xts;\nkeylength 512;\n"
	    "keygen pkcs5_pbkdf2/sha1 {\n\titerations 16777216;\n"
	    "\tsalt AAAAIHNhbHQ=;\n};\n", &p) == 0);
	cgdparams_free(&p);
	/* The deprecated statements too. */
	ATF_CHECK_EQ(parse("algorithm aes-cbc;\n"
	    "keygen_method pkcs5_pbkdf2/sha1;\nkeygen_salt AAAAIHNhbHQ=;\n"
	    "keygen_iterations 100000000;\n", &p), -1);
	ATF_CHECK(strstr(sr_errmsg(), "params:2: keygen pkcs5_pbkdf2/sha1: "
	    "100000000 iterations") != NULL);
	/* argon2id: terabytes of memory, endless passes, many threads. */
	ATF_CHECK_EQ(parse("algorithm aes-xts;\nkeygen argon2id {\n"
	    "\titerations 1;\n\tmemory 2147483647;\n\tparallelism 1;\n"
	    "\tversion 19;\n\tsalt AAAAIHNhbHQ=;\n};\n", &p), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "params:2: keygen argon2id: memory "
	    "2147483647 KiB: more than cgdconfig -g would ever choose (at most "
	    "4194304 KiB; refused)");
	ATF_CHECK_EQ(parse("algorithm aes-xts;\nkeygen argon2id {\n"
	    "\titerations 100000;\n\tmemory 1048576;\n\tparallelism 1;\n"
	    "\tversion 19;\n\tsalt AAAAIHNhbHQ=;\n};\n", &p), -1);
	ATF_CHECK(strstr(sr_errmsg(), "params:2: keygen argon2id: 100000 "
	    "iterations over 1048576 KiB") != NULL);
	ATF_CHECK_EQ(parse("algorithm aes-xts;\nkeygen argon2id {\n"
	    "\titerations 2097152;\n\tmemory 8;\n\tparallelism 1;\n"
	    "\tversion 19;\n\tsalt AAAAIHNhbHQ=;\n};\n", &p), -1);
	ATF_CHECK(strstr(sr_errmsg(), "2097152 iterations over 8 KiB") !=
	    NULL);
	ATF_CHECK_EQ(parse("algorithm aes-xts;\nkeygen argon2id {\n"
	    "\titerations 1;\n\tmemory 1048576;\n\tparallelism 65536;\n"
	    "\tversion 19;\n\tsalt AAAAIHNhbHQ=;\n};\n", &p), -1);
	ATF_CHECK(strstr(sr_errmsg(), "parallelism 65536") != NULL);
	/* Argon2's own refusals are named (a salt of 4 bytes). */
	ATF_REQUIRE(parse("algorithm aes-xts;\nkeygen argon2id {\n"
	    "\titerations 1;\n\tmemory 64;\n\tparallelism 1;\n"
	    "\tversion 19;\n\tsalt AAAAIHNhbHQ=;\n};\n", &p) == 0);
	ATF_REQUIRE((f = fopen("pass", "w")) != NULL);
	fputs("a passphrase\n", f);
	fclose(f);
	ATF_CHECK_EQ(cgdparams_key(&p, "pass", key), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "keygen argon2id: Salt is too short");
	cgdparams_free(&p);
	/* What a large host's calibration makes passes. */
	ATF_REQUIRE_MSG(parse("algorithm aes-xts;\nkeygen argon2id {\n"
	    "\titerations 16;\n\tmemory 2097152;\n\tparallelism 64;\n"
	    "\tversion 19;\n\tsalt AAAAIHNhbHQ=;\n};\n", &p) == 0, "%s",
	    sr_errmsg());
	cgdparams_free(&p);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Whether the child pid is deriving a key: it has started the process
 * that derives it (argon2id), or has spent a tenth of a second of CPU
 * time, which nothing before the derivation takes (PBKDF2, in process).
 */
static bool
deriving(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, stime;
	size_t n;
	FILE *f;
	int c;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)pid, (long)pid);
	if ((f = fopen(path, "r")) != NULL) {
		c = fgetc(f);
		fclose(f);
		if (c != EOF)
			return true;
	}
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	ATF_REQUIRE((f = fopen(path, "r")) != NULL);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After "(comm) ", fields 3 on: utime and stime are 14 and 15. */
	ATF_REQUIRE((p = strrchr(buf, ')')) != NULL);
	ATF_REQUIRE(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
	    "%*u %lu %lu", &ut, &stime) == 2);
	return ut + stime >= (unsigned long)sysconf(_SC_CLK_TCK) / 10;
}

/*
 * A long derivation (allowed: within the bounds) in a child that
 * catches signals as the tools do, stopped by SIGTERM once it is under
 * way: it must end at once, saying so, with no process left.
 */
static void
interrupted(const char *text)
{
	struct cgd_params p;
	uint8_t key[64];
	double t0, t;
	pid_t pid;
	int st, ready[2];
	char c;
	FILE *f;

	ATF_REQUIRE((f = fopen("pass", "w")) != NULL);
	fputs("a passphrase\n", f);
	fclose(f);
	ATF_REQUIRE_MSG(parse(text, &p) == 0, "%s", sr_errmsg());
	ATF_REQUIRE(pipe(ready) == 0);
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		close(ready[0]);
		sr_signals_catch();
		/* Catching signals from here on. */
		if (write(ready[1], "r", 1) != 1)
			_exit(5);
		close(ready[1]);
		if (cgdparams_key(&p, "pass", key) != -1)
			_exit(2);
		if (strstr(sr_errmsg(), "interrupted by signal 15") == NULL) {
			fprintf(stderr, "%s\n", sr_errmsg());
			_exit(3);
		}
		/* Whatever it started is gone, and reaped. */
		if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
			_exit(4);
		_exit(0);
	}
	close(ready[1]);
	ATF_REQUIRE_MSG(read(ready[0], &c, 1) == 1, "the child died early");
	close(ready[0]);
	t0 = now();
	while (!deriving(pid)) {
		ATF_REQUIRE_MSG(now() - t0 < 30, "no derivation under way "
		    "after 30 s");
		usleep(10000);
	}
	t0 = now();
	ATF_REQUIRE(kill(pid, SIGTERM) == 0);
	ATF_REQUIRE(waitpid(pid, &st, 0) == pid);
	t = now() - t0;
	ATF_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x",
	    st);
	ATF_CHECK_MSG(t < 1.5, "took %.2f s to stop", t);
	cgdparams_free(&p);
}

ATF_TC_WITHOUT_HEAD(params_pbkdf2_interrupted);
ATF_TC_BODY(params_pbkdf2_interrupted, tc)
{
	/* 2^26 iterations: the most allowed, a minute or so. */
	interrupted("algorithm aes-cbc;\nkeylength 128;\n"
	    "keygen pkcs5_pbkdf2/sha1 {\n\titerations 67108864;\n"
	    "\tsalt AAAAIHNhbHQ=;\n};\n");
}

ATF_TC_WITHOUT_HEAD(params_argon2id_interrupted);
ATF_TC_BODY(params_argon2id_interrupted, tc)
{
	/* 1000 passes over 64 MiB: a minute or so. */
	interrupted("algorithm aes-xts;\nkeygen argon2id {\n"
	    "\titerations 1000;\n\tmemory 65536;\n\tparallelism 1;\n"
	    "\tversion 19;\n\tsalt AAAAgAABAgMEBQYHCAkKCwwNDg8=;\n};\n");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, params_storedkey);
	ATF_TP_ADD_TC(tp, params_keys_xored);
	ATF_TP_ADD_TC(tp, params_pbkdf2_rfc6070);
	ATF_TP_ADD_TC(tp, params_argon2id);
	ATF_TP_ADD_TC(tp, params_refused);
	ATF_TP_ADD_TC(tp, params_generated_and_verified);
	ATF_TP_ADD_TC(tp, params_second_value_replaces);
	ATF_TP_ADD_TC(tp, params_pbkdf2_vectors);
	ATF_TP_ADD_TC(tp, params_work_bounded);
	ATF_TP_ADD_TC(tp, params_pbkdf2_interrupted);
	ATF_TP_ADD_TC(tp, params_argon2id_interrupted);
	return atf_no_error();
}
