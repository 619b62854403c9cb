/*
 * cgdconfig(8) parameters files: the grammar (both keygen forms, the
 * deprecated statements, comments, quoting), keys from every keygen
 * XORed, PBKDF2 against RFC 6070, refusals with their line numbers.
 */
#include <string.h>
#include <unistd.h>

#include <argon2.h>

#include "h_util.h"
#include "cgdparams.h"

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

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, params_storedkey);
	ATF_TP_ADD_TC(tp, params_keys_xored);
	ATF_TP_ADD_TC(tp, params_pbkdf2_rfc6070);
	ATF_TP_ADD_TC(tp, params_argon2id);
	ATF_TP_ADD_TC(tp, params_refused);
	ATF_TP_ADD_TC(tp, params_generated_and_verified);
	return atf_no_error();
}
