/*
 * The userspace cgd against NetBSD's own known answers: the self-test
 * vectors of sys/dev/cgd.c (IEEE 1619 vectors 5 and 11 for aes-xts,
 * and cgd's own for aes-cbc with encblkno1 and encblkno8, 3des-cbc and
 * blowfish-cbc), byte for byte; then round trips at odd sectors.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "h_util.h"
#include "cgd/cgd.h"
#include "cgd/cgdimage.h"

/* IEEE 1619/D16 vector 5, the first 64 bytes: cgd's shared plaintext. */
static const uint8_t vec5_ptxt[64] = {
	0x27, 0xa7, 0x47, 0x9b, 0xef, 0xa1, 0xd4, 0x76,
	0x48, 0x9f, 0x30, 0x8c, 0xd4, 0xcf, 0xa6, 0xe2,
	0xa9, 0x6e, 0x4b, 0xbe, 0x32, 0x08, 0xff, 0x25,
	0x28, 0x7d, 0xd3, 0x81, 0x96, 0x16, 0xe8, 0x9c,
	0xc7, 0x8c, 0xf7, 0xf5, 0xe5, 0x43, 0x44, 0x5f,
	0x83, 0x33, 0xd8, 0xfa, 0x7f, 0x56, 0x00, 0x00,
	0x05, 0x27, 0x9f, 0xa5, 0xd8, 0xb5, 0xe4, 0xad,
	0x40, 0xe7, 0x36, 0xdd, 0xb4, 0xd3, 0x54, 0x12,
};

/* 0x00, 0x01, ... 0x3f */
static uint8_t count64[64];

static const uint8_t xts256_key[32] = {
	0x27, 0x18, 0x28, 0x18, 0x28, 0x45, 0x90, 0x45,
	0x23, 0x53, 0x60, 0x28, 0x74, 0x71, 0x35, 0x26,
	0x31, 0x41, 0x59, 0x26, 0x53, 0x58, 0x97, 0x93,
	0x23, 0x84, 0x62, 0x64, 0x33, 0x83, 0x27, 0x95,
};
static const uint8_t xts256_ctxt[64] = {	/* blkno 1 */
	0x26, 0x4d, 0x3c, 0xa8, 0x51, 0x21, 0x94, 0xfe,
	0xc3, 0x12, 0xc8, 0xc9, 0x89, 0x1f, 0x27, 0x9f,
	0xef, 0xdd, 0x60, 0x8d, 0x0c, 0x02, 0x7b, 0x60,
	0x48, 0x3a, 0x3f, 0xa8, 0x11, 0xd6, 0x5e, 0xe5,
	0x9d, 0x52, 0xd9, 0xe4, 0x0e, 0xc5, 0x67, 0x2d,
	0x81, 0x53, 0x2b, 0x38, 0xb6, 0xb0, 0x89, 0xce,
	0x95, 0x1f, 0x0f, 0x9c, 0x35, 0x59, 0x0b, 0x8b,
	0x97, 0x8d, 0x17, 0x52, 0x13, 0xf3, 0x29, 0xbb,
};
static const uint8_t xts512_key[64] = {
	0x27, 0x18, 0x28, 0x18, 0x28, 0x45, 0x90, 0x45,
	0x23, 0x53, 0x60, 0x28, 0x74, 0x71, 0x35, 0x26,
	0x62, 0x49, 0x77, 0x57, 0x24, 0x70, 0x93, 0x69,
	0x99, 0x59, 0x57, 0x49, 0x66, 0x96, 0x76, 0x27,
	0x31, 0x41, 0x59, 0x26, 0x53, 0x58, 0x97, 0x93,
	0x23, 0x84, 0x62, 0x64, 0x33, 0x83, 0x27, 0x95,
	0x02, 0x88, 0x41, 0x97, 0x16, 0x93, 0x99, 0x37,
	0x51, 0x05, 0x82, 0x09, 0x74, 0x94, 0x45, 0x92,
};
static const uint8_t xts512_ctxt[64] = {	/* blkno 0xffff */
	0x77, 0xa3, 0x12, 0x51, 0x61, 0x8a, 0x15, 0xe6,
	0xb9, 0x2d, 0x1d, 0x66, 0xdf, 0xfe, 0x7b, 0x50,
	0xb5, 0x0b, 0xad, 0x55, 0x23, 0x05, 0xba, 0x02,
	0x17, 0xa6, 0x10, 0x68, 0x8e, 0xff, 0x7e, 0x11,
	0xe1, 0xd0, 0x22, 0x54, 0x38, 0xe0, 0x93, 0x24,
	0x2d, 0x6d, 0xb2, 0x74, 0xfd, 0xe8, 0x01, 0xd4,
	0xca, 0xe0, 0x6f, 0x20, 0x92, 0xc7, 0x28, 0xb2,
	0x47, 0x85, 0x59, 0xdf, 0x58, 0xe8, 0x37, 0xc2,
};
static const uint8_t cbc_key[32] = {
	0x27, 0x18, 0x28, 0x18, 0x28, 0x45, 0x90, 0x45,
	0x23, 0x53, 0x60, 0x28, 0x74, 0x71, 0x35, 0x26,
	0x62, 0x49, 0x77, 0x57, 0x24, 0x70, 0x93, 0x69,
	0x99, 0x59, 0x57, 0x49, 0x66, 0x96, 0x76, 0x27,
};
static const uint8_t cbc128_ctxt[64] = {	/* blkno 1 */
	0x93, 0x94, 0x56, 0x36, 0x83, 0xbc, 0xff, 0xa4,
	0xe0, 0x24, 0x34, 0x12, 0xbe, 0xfa, 0xb0, 0x7d,
	0x88, 0x1e, 0xc5, 0x57, 0x55, 0x23, 0x05, 0x0c,
	0x69, 0xa5, 0xc1, 0xda, 0x64, 0xee, 0x74, 0x10,
	0xc2, 0xc5, 0xe6, 0x66, 0xd6, 0xa7, 0x49, 0x1c,
	0x9d, 0x40, 0xb5, 0x0c, 0x9b, 0x6e, 0x1c, 0xe6,
	0xb1, 0x7a, 0x1c, 0xe7, 0x5a, 0xfe, 0xf9, 0x2a,
	0x78, 0xfa, 0xb7, 0x7b, 0x08, 0xdf, 0x8e, 0x51,
};
static const uint8_t cbc256_ctxt[64] = {	/* blkno 0xffff */
	0x6c, 0xa3, 0x15, 0x17, 0x51, 0x90, 0xe9, 0x69,
	0x08, 0x36, 0x7b, 0xa6, 0xbb, 0xd1, 0x0b, 0x9e,
	0xcd, 0x6b, 0x1e, 0xaf, 0xb6, 0x2e, 0x62, 0x7d,
	0x8e, 0xde, 0xf0, 0xed, 0x0d, 0x44, 0xe7, 0x31,
	0x26, 0xcf, 0xd5, 0x0b, 0x3e, 0x95, 0x59, 0x89,
	0xdf, 0x5d, 0xd6, 0x9a, 0x00, 0x66, 0xcc, 0x7f,
	0x45, 0xd3, 0x06, 0x58, 0xed, 0xef, 0x49, 0x47,
	0x87, 0x89, 0x17, 0x7d, 0x08, 0x56, 0x50, 0xe1,
};
static const uint8_t des3_ctxt[64] = {	/* key 0x00..0x17, blkno 1 */
	0xa2, 0xfe, 0x81, 0xaa, 0x10, 0x6c, 0xea, 0xb9,
	0x11, 0x58, 0x1f, 0x29, 0xb5, 0x86, 0x71, 0x56,
	0xe9, 0x25, 0x1d, 0x07, 0xb1, 0x69, 0x59, 0x6c,
	0x96, 0x80, 0xf7, 0x54, 0x38, 0xaa, 0xa7, 0xe4,
	0xe8, 0x81, 0xf5, 0x00, 0xbb, 0x1c, 0x00, 0x3c,
	0xba, 0x38, 0x45, 0x97, 0x4c, 0xcf, 0x84, 0x14,
	0x46, 0x86, 0xd9, 0xf4, 0xc5, 0xe2, 0xf0, 0x54,
	0xde, 0x41, 0xf6, 0xa1, 0xef, 0x1b, 0x0a, 0xea,
};
static const uint8_t bf_ctxt[64] = {	/* key 0x00..0x37, blkno 1 */
	0xec, 0xa2, 0xc0, 0x0e, 0xa9, 0x7f, 0x04, 0x1e,
	0x2e, 0x4f, 0x64, 0x07, 0x67, 0x3e, 0xf4, 0x58,
	0x61, 0x5f, 0xd3, 0x50, 0x5e, 0xd3, 0x4d, 0x34,
	0xa0, 0x53, 0xbe, 0x47, 0x75, 0x69, 0x3b, 0x1f,
	0x86, 0xf2, 0xae, 0x8b, 0xb7, 0x91, 0xda, 0xd4,
	0x2b, 0xa5, 0x47, 0x9b, 0x7d, 0x13, 0x30, 0xdd,
	0x7b, 0xad, 0x86, 0x57, 0x51, 0x11, 0x74, 0x42,
	0xb8, 0xbf, 0x69, 0x17, 0x20, 0x0a, 0xf7, 0xda,
};
static const uint8_t encblkno8_ctxt[64] = {	/* zero key, text; blkno 0 */
	0xa2, 0x06, 0x26, 0x26, 0xac, 0xdc, 0xe7, 0xcf,
	0x47, 0x68, 0x24, 0x0e, 0xfa, 0x40, 0x44, 0x83,
	0x07, 0xe1, 0xf4, 0x5d, 0x53, 0x47, 0xa0, 0xfe,
	0xc0, 0x6e, 0x4e, 0xf8, 0x9d, 0x98, 0x63, 0xb8,
	0x2c, 0x27, 0xfa, 0x3a, 0xd5, 0x40, 0xda, 0xdb,
	0xe6, 0xc3, 0xe4, 0xfb, 0x85, 0x53, 0xfb, 0x78,
	0x5d, 0xbd, 0x8f, 0x4c, 0x1a, 0x04, 0x9c, 0x88,
	0x85, 0xec, 0x3c, 0x56, 0x46, 0x1a, 0x6e, 0xf5,
};
static const uint8_t zero64[64];

/*
 * cgd's self-test encrypts 64 bytes as the start of a sector; the rest
 * of the sector does not change those (CBC and XTS go forward).
 */
static void
kat(const char *alg, const char *iv, const uint8_t *key, size_t keybits,
    uint64_t blkno, const uint8_t *ptxt, const uint8_t *ctxt)
{
	uint8_t sec[CGD_SECSIZE];
	struct cgd *c;

	memset(sec, 0, sizeof(sec));
	memcpy(sec, ptxt, 64);
	ATF_REQUIRE_MSG(cgd_open(alg, iv, key, keybits, &c) == 0, "%s: %s",
	    alg, sr_errmsg());
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), blkno, 1) == 0);
	ATF_CHECK_MSG(memcmp(sec, ctxt, 64) == 0, "%s-%zu %s: wrong "
	    "ciphertext", alg, keybits, iv ? iv : "");
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), blkno, 0) == 0);
	ATF_CHECK_MSG(memcmp(sec, ptxt, 64) == 0, "%s-%zu: wrong plaintext "
	    "back", alg, keybits);
	cgd_close(c);
}

ATF_TC_WITHOUT_HEAD(cgd_known_answers);
ATF_TC_BODY(cgd_known_answers, tc)
{
	uint8_t k56[56];
	size_t i;

	for (i = 0; i < sizeof(count64); i++)
		count64[i] = (uint8_t)i;
	for (i = 0; i < sizeof(k56); i++)
		k56[i] = (uint8_t)i;
	kat("aes-xts", NULL, xts256_key, 256, 1, vec5_ptxt, xts256_ctxt);
	kat("aes-xts", "encblkno1", xts512_key, 512, 0xffff, count64,
	    xts512_ctxt);
	kat("aes-cbc", "encblkno1", cbc_key, 128, 1, vec5_ptxt, cbc128_ctxt);
	kat("aes-cbc", "encblkno1", cbc_key, 256, 0xffff, count64,
	    cbc256_ctxt);
	kat("3des-cbc", "encblkno1", count64, 192, 1, vec5_ptxt, des3_ctxt);
	kat("blowfish-cbc", "encblkno1", k56, 448, 1, vec5_ptxt, bf_ctxt);
	kat("aes-cbc", "encblkno8", zero64, 128, 0, zero64, encblkno8_ctxt);
	/* The 4.x name of encblkno8. */
	kat("aes-cbc", "encblkno", zero64, 128, 0, zero64, encblkno8_ctxt);
}

/*
 * NetBSD's tests/dev/cgd/t_cgd_aes.c: IEEE 1619/D16 vectors as whole
 * 512-byte sectors.  Vector 4: blkno 0, plaintext 0x00..0xff twice.
 */
static const char vec4_ctxt_hex[] =
	"27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89c"
	"c78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad40e736ddb4d35412"
	"328063fd2aab53e5ea1e0a9f332500a5df9487d07a5c92cc512c8866c7e860ce"
	"93fdf166a24912b422976146ae20ce846bb7dc9ba94a767aaef20c0d61ad0265"
	"5ea92dc4c4e41a8952c651d33174be51a10c421110e6d81588ede82103a252d8"
	"a750e8768defffed9122810aaeb99f9172af82b604dc4b8e51bcb08235a6f434"
	"1332e4ca60482a4ba1a03b3e65008fc5da76b70bf1690db4eae29c5f1badd03c"
	"5ccf2a55d705ddcd86d449511ceb7ec30bf12b1fa35b913f9f747a8afd1b130e"
	"94bff94effd01a91735ca1726acd0b197c4e5b03393697e126826fb6bbde8ecc"
	"1e08298516e2c9ed03ff3c1b7860f6de76d4cecd94c8119855ef5297ca67e9f3"
	"e7ff72b1e99785ca0a7e7720c5b36dc6d72cac9574c8cbbc2f801e23e56fd344"
	"b07f22154beba0f08ce8891e643ed995c94d9a69c9f1b5f499027a78572aeebd"
	"74d20cc39881c213ee770b1010e4bea718846977ae119f7a023ab58cca0ad752"
	"afe656bb3c17256a9f6e9bf19fdd5a38fc82bbe872c5539edb609ef4f79c203e"
	"bb140f2e583cb2ad15b4aa5b655016a8449277dbd477ef2c8d6c017db738b18d"
	"eb4a427d1923ce3ff262735779a418f20a282df920147beabe421ee5319d0568";

/* Vector 9: blkno 0xff, the 256-bit key. */
static const char vec9_ptxt_hex[] =
	"72efc1ebfe1ee25975a6eb3aa8589dda2b261f1c85bdab442a9e5b2dd1d7c395"
	"7a16fc08e526d4b1223f1b1232a11af274c3d70dac57f83e0983c498f1a6f1ae"
	"cb021c3e70085a1e527f1ce41ee5911a82020161529cd82773762daf5459de94"
	"a0a82adae7e1703c808543c29ed6fb32d9e004327c1355180c995a07741493a0"
	"9c21ba01a387882da4f62534b87bb15d60d197201c0fd3bf30c1500a3ecfecdd"
	"66d8721f90bcc4c17ee925c61b0a03727a9c0d5f5ca462fbfa0af1c2513a9d9d"
	"4b5345bd27a5f6e653f751693e6b6a2b8ead57d511e00e58c45b7b8d005af792"
	"88f5c7c22fd4f1bf7a898b03a5634c6a1ae3f9fae5de4f296a2896b23e7ed43e"
	"d14fa5a2803f4d28f0d3ffcf24757677aebdb47bb388378708948a8d4126ed18"
	"39e0da29a537a8c198b3c66ab00712dd261674bf45a73d67f76914f830ca014b"
	"65596f27e4cf62de66125a5566df9975155628b400fbfb3a29040ed50faffdbb"
	"18aece7c5c44693260aab386c0a37b11b114f1c415aebb653be468179428d43a"
	"4d8bc3ec38813eca30a13cf1bb18d524f1992d44d8b1a42ea30b22e6c95b199d"
	"8d182f8840b09d059585c31ad691fa0619ff038aca2c39a943421157361717c4"
	"9d322028a74648113bd8c9d7ec77cf3c89c1ec8718ceff8516d96b34c3c614f1"
	"0699c9abc4ed0411506223bea16af35c883accdbe1104eef0cfdb54e12fb230a";
static const char vec9_ctxt_hex[] =
	"3260ae8dad1f4a32c5cafe3ab0eb95549d461a67ceb9e5aa2d3afb62dece0553"
	"193ba50c75be251e08d1d08f1088576c7efdfaaf3f459559571e12511753b07a"
	"f073f35da06af0ce0bbf6b8f5ccc5cea500ec1b211bd51f63b606bf6528796ca"
	"12173ba39b8935ee44ccce646f90a45bf9ccc567f0ace13dc2d53ebeedc81f58"
	"b2e41179dddf0d5a5c42f5d8506c1a5d2f8f59f3ea873cbcd0eec19acbf32542"
	"3bd3dcb8c2b1bf1d1eaed0eba7f0698e4314fbeb2f1566d1b9253008cbccf45a"
	"2b0d9c5c9c21474f4076e02be26050b99dee4fd68a4cf890e496e4fcae7b70f9"
	"4ea5a9062da0daeba1993d2ccd1dd3c244b8428801495a58b216547e7e847c46"
	"d1d756377b6242d2e5fb83bf752b54e0df71e889f3a2bb0f4c10805bf3c59037"
	"6e3c24e22ff57f7fa965577375325cea5d920db94b9c336b455f6e894c01866f"
	"e9fbb8c8d3f70a2957285f6dfb5dcd8cbf54782f8fe7766d4723819913ac7734"
	"21e3a31095866bad22c86a6036b2518b2059b4229d18c8c2ccbdf906c6cc6e82"
	"464ee57bddb0bebcb1dc645325bfb3e665ef7251082c88ebb1cf203bd779fdd3"
	"8675713c8daadd17e1cabee432b09787b6ddf3304e38b731b45df5df51b78fcf"
	"b3d32466028d0ba36555e7e11ab0ee0666061d1645d962444bc47a38188930a8"
	"4b4d561395c73c087021927ca638b7afc8a8679ccb84c26555440ec7f10445cd";

/*
 * Vector 7 (blkno 0xfd, the 256-bit key); its ciphertext is vector 8's
 * plaintext, and vector 8's ciphertext is vector 9's plaintext.
 */
static const char vec7_ptxt_hex[] =
	"8e41b78c390b5af9d758bb214a67e9f6bf7727b09ac6124084c37611398fa45d"
	"aad94868600ed391fb1acd4857a95b466e62ef9f4b377244d1c152e7b30d731a"
	"ad30c716d214b707aed99eb5b5e580b3e887cf7497465651d4b60e6042051da3"
	"693c3b78c14489543be8b6ad0ba629565bba202313ba7b0d0c94a3252b676f46"
	"cc02ce0f8a7d34c0ed229129673c1f61aed579d08a9203a25aac3a77e9db6026"
	"7996db38df637356d9dcd1632e369939f2a29d89345c66e05066f1a3677aef18"
	"dea4113faeb629e46721a66d0a7e785d3e29af2594eb67dfa982affe0aac058f"
	"6e15864269b135418261fc3afb089472cf68c45dd7f231c6249ba0255e1e0338"
	"33fc4d00a3fe02132d7bc3873614b8aee34273581ea0325c81f0270affa13641"
	"d052d36f0757d484014354d02d6883ca15c24d8c3956b1bd027bcf41f151fd80"
	"23c5340e5606f37e90fdb87c86fb4fa634b3718a30bace06a66eaf8f63c4aa3b"
	"637826a87fe8cfa44282e92cb1615af3a28e53bc74c7cba1a0977be9065d0c1a"
	"5dec6c54ae38d37f37aa35283e048e5530a85c4e7a29d7b92ec0c3169cdf2a80"
	"5c7604bce60049b9fb7b8eaac10f51ae23794ceba68bb58112e293b9b692ca72"
	"1b37c662f8574ed4dba6f88e170881c82cddc1034a0ca7e284bf0962b6b26292"
	"d836fa9f73c1ac770eef0f2d3a1eaf61d3e03555fd424eedd67e18a18094f888";
static const char vec7_ctxt_hex[] =
	"d55f684f81f4426e9fde92a5ff02df2ac896af63962888a97910c1379e20b0a3"
	"b1db613fb7fe2e07004329ea5c22bfd33e3dbe4cf58cc608c2c26c19a2e2fe22"
	"f98732c2b5cb844cc6c0702d91e1d50fc4382a7eba5635cd602432a2306ac4ce"
	"82f8d70c8d9bc15f918fe71e74c622d5cf71178bf6e0b9cc9f2b41dd8dbe441c"
	"41cd0c73a6dc47a348f6702f9d0e9b1b1431e948e299b9ec2272ab2c5f0c7be8"
	"6affa5dec87a0bee81d3d50007edaa2bcfccb35605155ff36ed8edd4a40dcd4b"
	"243acd11b2b987bdbfaf91a7cac27e9c5aea525ee53de7b2d3332c8644402b82"
	"3e94a7db26276d2d23aa07180f76b4fd29b9c0823099c9d62c519880aee7e969"
	"7617c1497d47bf3e571950311421b6b734d38b0db91eb85331b91ea9f61530f5"
	"4512a5a52a4bad589eb69781d537f23297bb459bdad2948a29e1550bf4787e0b"
	"e95bb173cf5fab17dab7a13a052a63453d97ccec1a321954886b7a1299faaeec"
	"ae35c6eaaca753b041b5e5f093bf83397fd21dd6b3012066fcc058cc32c3b09d"
	"7562dee29509b5839392c9ff05f51f3166aaac4ac5f238038a3045e6f72e48ef"
	"0fe8bc675e82c318a268e43970271bf119b81bf6a982746554f84e72b9f00280"
	"a320a08142923c23c883423ff949827f29bbacdc1ccdb04938ce6098c95ba6b3"
	"2528f4ef78eed778b2e122ddfd1cbdd11d1c0a6783e011fc536d63d053260637";

/* Vectors 10 (blkno 0xff) and 11 (blkno 0xffff): the 512-bit key. */
static const char vec10_ctxt_hex[] =
	"1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
	"5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd"
	"5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0"
	"c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca"
	"2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0"
	"b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f"
	"93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"
	"583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a"
	"84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1"
	"505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae"
	"9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29"
	"a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac"
	"6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f"
	"645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"
	"1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa"
	"773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151";
static const char vec11_ctxt_hex[] =
	"77a31251618a15e6b92d1d66dffe7b50b50bad552305ba0217a610688eff7e11"
	"e1d0225438e093242d6db274fde801d4cae06f2092c728b2478559df58e837c2"
	"469ee4a4fa794e4bbc7f39bc026e3cb72c33b0888f25b4acf56a2a9804f1ce6d"
	"3d6e1dc6ca181d4b546179d55544aa7760c40d06741539c7e3cd9d2f6650b201"
	"3fd0eeb8c2b8e3d8d240ccae2d4c98320a7442e1c8d75a42d6e6cfa4c2eca179"
	"8d158c7aecdf82490f24bb9b38e108bcda12c3faf9a21141c3613b58367f922a"
	"aa26cd22f23d708dae699ad7cb40a8ad0b6e2784973dcb605684c08b8d6998c6"
	"9aac049921871ebb65301a4619ca80ecb485a31d744223ce8ddc2394828d6a80"
	"470c092f5ba413c3378fa6054255c6f9df4495862bbb3287681f931b687c888a"
	"bf844dfc8fc28331e579928cd12bd2390ae123cf03818d14dedde5c0c24c8ab0"
	"18bfca75ca096f2d531f3d1619e785f1ada437cab92e980558b3dce1474afb75"
	"bfedbf8ff54cb2618e0244c9ac0d3c66fb51598cd2db11f9be39791abe447c63"
	"094f7c453b7ff87cb5bb36b7c79efb0872d17058b83b15ab0866ad8a58656c5a"
	"7e20dbdf308b2461d97c0ec0024a2715055249cf3b478ddd4740de654f75ca68"
	"6e0d7345c69ed50cdc2a8b332b1f8824108ac937eb050585608ee734097fc090"
	"54fbff89eeaeea791f4a7ab1f9868294a4f9e27b42af8100cb9d59cef9645803";

/*
 * NetBSD's tests/dev/cgd/t_cgd_3des.c: key "ABCDEFGHIJKLMNOPQRSTUVWX",
 * encblkno1, blkno 0 and 3, sixteen "                abcdefghijklmnop".
 */
static const char des3_vec0_hex[] =
	"1992c8cedfa314efff889f01fa6ffaa6dd2b4367face3795734d18330c29b6bb"
	"37773174f66203d2781355f65849af2a154cc24a559982b9fb8b4f92e3bc9b09"
	"427b5f54edf0cb5d93ba094b20f3e644305e9efc7a3c7d1163ea4094aad0a9f6"
	"c71e8fc8a62cf7eb5126dcf873f9b4a8804ae56fb633136b1b7d00de447e26a2"
	"82a7801634deb9824c428e0d487e38bd1d7d98bb118a72144eaad0ef4d7fa3a6"
	"fc859d74639de45cf7a8d0d795b42864412d5dd9ba79a7b39c16fab8105d1dd4"
	"cead6727918ab3bc372095acf70de01e59a7e581826a7107854343dbbf56b00a"
	"4cf1cdcda39a108e0ce26df216d04cacf9fcc9561f31891cfab749ea6991fe45"
	"965e45c32cb140d91f823fc1457c39726f52e4af15a4e2d4a1a4b2b54a0bade4"
	"1e5c266281783ed36a98942a00a7e4049d9afccfad2bba9b401e713ab692c4c5"
	"5658922a69be0fb091aeaa3f07e8f9712006ede080ecc9e754aaaaf44cb234f7"
	"8a76c24aae717a07d7ec752f8a995913d08d18690dd939732bd0a3bc9e294d88"
	"ff9802b4cfa1f92aa6ef7c72264ed7dfec3abc8ee6b32b43cd678b72006fe585"
	"e22a4c8d02446b7a897a183bc89c8d60ec79581598714b1a346996d00f01272e"
	"1902f0178c89bf05f0fec3e6909da2b140067ecd207e5f5431fb798447387169"
	"e1d54e84a32b4a86c2215b15c363bbc55cc1fb313a4db19ee1d8674b0842c4e8";
static const char des3_vec3_hex[] =
	"b1ef7cd0a06be4885cd7f1bf5fceda198132bb967eb96ea143de53669c279485"
	"cb094e16d8607a3827214d08aae21e6ea3cb9a7fd1bf18365a4d7a7fcf3fbaa5"
	"775bb479dcbf2a2816270f8bd795c3cba16a4953a80c70de902e3674405d8174"
	"0311bdba408d03862b175520d88130d22abdeaff5c699be6e3219a103eb0f47a"
	"fc6e66ec440b958d13d4f63ea1a1acb1d83d86af5eef146a32f313753b649af4"
	"d0f500369edbfdcbda1fed9d6d52d7b548ce535edcc8e4960432a5cf0cbaa0d0"
	"44b3e872c6ff8fd44d0a22897450aa6515ab99c8f9a410e6a64b0cc8b9a76041"
	"e75731fa8655df2949ac557b21f93b1e1fb41c0b77cb88bfa679bf9a51c48e59"
	"9cb39d9d6bb215410d6cf75ee2f9b3808f0367686e4b4d52bc9ba2d8291e5cd7"
	"596794409e08150d7ec91453a867b3b8aa210f79694852ea56037b55b7f3feb1"
	"8a227d755531ad206ac2a4d11eabdd29b5f8dd9b1ab8e7deaea1abbbf60087c4"
	"29ee2ba1a91a46055a123f3281252071b6fa1f272a3349fc9500726b03539457"
	"2f473d2d7cb4dea7968112ff2cec5c032a8c76c4ed09e60028db9b44b0b47b57"
	"3bb64f0bfff2f50256cfd5bf71e666f3088e8b15570741a391c1e4649289ed22"
	"888f1791deea0ca6868e4cd963c9e5dcd6d37b2b65fa364720a4e70b52faa6eb"
	"1d20d04bfd888cbb529c2fb7ba8bdd102d7d777940a7edf9bd2a551f871e3cfc";

/*
 * NetBSD's tests/dev/cgd/t_cgd_blowfish.c: the 128-bit key
 * "0123456789ABCDEF", encblkno1, blkno 0 and 3, the same plaintext.
 */
static const char bf_vec0_hex[] =
	"7853432a08e7843fb7619c1781be38b9655168a229d745c9ee0e9de169c68181"
	"f393a662c9052c1b0e05cabe122537d89866a2d3d08a895744911ee907035ca6"
	"b830f1c78c6605b02dc3c3d760ef62d3349ca9d20c1a9cfe7492cb9080fa715c"
	"aa2939dd3b62a1fca535cda329411a03f7e136b2dc1ab39f46a3f7c3d12983cf"
	"0d880bd1b7c78721b71fe7a28e5fac6b499c936b6b058e4cbd31135f4ad0350c"
	"678fd07ac9e352504f8509f127b9b11ee46a40f65a4f5fbeabe8b9fec7596b0c"
	"cd464e9099def743ee6eb6aec25e08bbe9302db291ccb9c758ea35aea2d800f7"
	"c001c4342b3443aeeb27bc5c915f5fc16142456831bcceb45cd307df4e65659d"
	"2e2628facd53776a77ad960b1fea03c1ddcae8fee836016172bbedfd8da3c215"
	"254fa61a73bdcd45db08747ba823f5743a186d90e0eeaefec8ac0057a0e1fe10"
	"d4f3a800213e2df963b8e9a42ef46bd75cfd326c9805380d29b55a5bbbadfd46"
	"9b6a974c24cc7d1325e82cb91354b28a28a08a3a4d7ef429fffb4fd63df7ca89"
	"2a589e42008461587c94f650482f3488ec97ef8b2f84ca23e1b76399dd4a76dd"
	"20c1c25645be759a4072c8fb7e406f38fd76a478f5de5fb74aa9afada18b258f"
	"eab3eb54395a91fe8618ea8cd666d585022b005d7e13a01f73466d5ecde08202"
	"2888bf17fd9b832ca2f7de51983fe280661417ce8e302de224684be5d109fb6e";
static const char bf_vec3_hex[] =
	"dd8ece5bb82ac80ed2becfa72a5b0c1ab2685be753afce56fdbd733c44029657"
	"aa478df12859b6ceba1ec97876dd433abc434c17d2bab1daa8bf3225aac0f7b6"
	"7265e267dbf0a860da9b70ad8f1d34241afd772e1cb6c06ba04b4aa0d58bbbd4"
	"cc7b4e4c719a501236d4fd1ff1fc1931ec5424b49fa9ead287110329bb202037"
	"a0eb93a1605f839f0009e49c79cbfc4f9ed2769f563b881d298f3607f77ef1a1"
	"a425fba0bec6a276d3592a7fb79bb875c7c1c0e99b831600c89c252a8bd18d16"
	"9fd6d3035bc740acb6f3bb22a33e5655df0676e07bd0525438b0aaab6231d179"
	"19ec82365831f901f95eaf24b3c9b2303dbcf1be17eba03143edd750ccc2e2aa"
	"68c8f0d389bdf56956e388923256856f25302837d5e2a6f76ea971da4a25940b"
	"847f1f6b892af830cb607521bde234f78f30d5d51f170d006c50de5615331b83"
	"687b24e3a0dad57a3e936de00279625d71e37ba90b7acdb3b26f96198ff88b26"
	"7a40c8aefe0d6f67ce5ea0047e931d171c3282f454b980dd82aef5c51e15abc2"
	"5c60d208c2a11f890b593607dc57d3a03242aca6900bc0e491458527b9482a88"
	"0abff62def4d1b64492347302925b2c9afcdae564328cf8195a73e515b3bf787"
	"13c6ee502f78ddcf63ef15b94f21275e9478adcd9b3df2dbedf2a239caa3a82e"
	"68d5c3cf71ec92dccee77d2bf7bce92b2eaeaf0b9272ac6e49e1b31fe5432fa7";

static void
unhex(const char *h, uint8_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned v;

		ATF_REQUIRE(sscanf(h + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
}

ATF_TC_WITHOUT_HEAD(cgd_whole_sector_vector);
ATF_TC_BODY(cgd_whole_sector_vector, tc)
{
	uint8_t sec[CGD_SECSIZE], want[CGD_SECSIZE], next[CGD_SECSIZE];
	struct cgd *c;
	size_t i;

	for (i = 0; i < sizeof(sec); i++)
		sec[i] = (uint8_t)i;
	unhex(vec4_ctxt_hex, want, sizeof(want));
	ATF_REQUIRE(cgd_open("aes-xts", "encblkno1", xts256_key, 256, &c) ==
	    0);
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), 0, 1) == 0);
	ATF_CHECK(memcmp(sec, want, sizeof(sec)) == 0);
	/* Vector 5 is vector 4's ciphertext at blkno 1. */
	memcpy(next, sec, sizeof(next));
	ATF_REQUIRE(cgd_crypt(c, next, sizeof(next), 1, 1) == 0);
	ATF_CHECK(memcmp(next, xts256_ctxt, 64) == 0);
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), 0, 0) == 0);
	for (i = 0; i < sizeof(sec); i++)
		ATF_REQUIRE(sec[i] == (uint8_t)i);
	/* Vector 9 (t_cgd_aes.c's last for this key), blkno 0xff. */
	unhex(vec9_ptxt_hex, sec, sizeof(sec));
	unhex(vec9_ctxt_hex, want, sizeof(want));
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), 0xff, 1) == 0);
	ATF_CHECK_MSG(memcmp(sec, want, sizeof(sec)) == 0, "vector 9");
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), 0xff, 0) == 0);
	unhex(vec9_ptxt_hex, want, sizeof(want));
	ATF_CHECK_MSG(memcmp(sec, want, sizeof(sec)) == 0, "vector 9 back");
	cgd_close(c);

	/* The 512-bit key: vectors 10 and 11, plaintext 0x00..0xff twice. */
	ATF_REQUIRE(cgd_open("aes-xts", NULL, xts512_key, 512, &c) == 0);
	for (i = 0; i < sizeof(sec); i++)
		sec[i] = (uint8_t)i;
	unhex(vec10_ctxt_hex, want, sizeof(want));
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), 0xff, 1) == 0);
	ATF_CHECK_MSG(memcmp(sec, want, sizeof(sec)) == 0, "vector 10");
	for (i = 0; i < sizeof(sec); i++)
		sec[i] = (uint8_t)i;
	unhex(vec11_ctxt_hex, want, sizeof(want));
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), 0xffff, 1) == 0);
	ATF_CHECK_MSG(memcmp(sec, want, sizeof(sec)) == 0, "vector 11");
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), 0xffff, 0) == 0);
	for (i = 0; i < sizeof(sec); i++)
		ATF_REQUIRE(sec[i] == (uint8_t)i);
	cgd_close(c);
}

/* A CBC cipher's sectors at blkno 0 and 3 against two vectors. */
static void
cbc_sectors(const char *alg, const uint8_t *key, size_t keybits,
    const char *hex0, const char *hex3)
{
	uint8_t ptxt[CGD_SECSIZE], sec[CGD_SECSIZE], want[CGD_SECSIZE];
	struct cgd *c;
	size_t i;

	for (i = 0; i < sizeof(ptxt); i += 32)
		memcpy(ptxt + i, "                abcdefghijklmnop", 32);
	ATF_REQUIRE_MSG(cgd_open(alg, "encblkno1", key, keybits, &c) == 0,
	    "%s", sr_errmsg());
	memcpy(sec, ptxt, sizeof(sec));
	unhex(hex0, want, sizeof(want));
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), 0, 1) == 0);
	ATF_CHECK_MSG(memcmp(sec, want, sizeof(sec)) == 0, "%s blkno 0", alg);
	memcpy(sec, ptxt, sizeof(sec));
	unhex(hex3, want, sizeof(want));
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), 3, 1) == 0);
	ATF_CHECK_MSG(memcmp(sec, want, sizeof(sec)) == 0, "%s blkno 3", alg);
	ATF_REQUIRE(cgd_crypt(c, sec, sizeof(sec), 3, 0) == 0);
	ATF_CHECK(memcmp(sec, ptxt, sizeof(sec)) == 0);
	cgd_close(c);
}

ATF_TC_WITHOUT_HEAD(cgd_cbc_whole_sectors);
ATF_TC_BODY(cgd_cbc_whole_sectors, tc)
{
	static const uint8_t des3_key[24] = "ABCDEFGHIJKLMNOPQRSTUVWX";
	static const uint8_t bf_key[16] = "0123456789ABCDEF";

	cbc_sectors("3des-cbc", des3_key, 192, des3_vec0_hex, des3_vec3_hex);
	cbc_sectors("blowfish-cbc", bf_key, 128, bf_vec0_hex, bf_vec3_hex);
}

ATF_TC_WITHOUT_HEAD(cgd_round_trips);
ATF_TC_BODY(cgd_round_trips, tc)
{
	static const struct {
		const char *alg;
		size_t bits;
	} ciphers[] = {
		{ "aes-xts", 256 }, { "aes-xts", 512 }, { "aes-cbc", 128 },
		{ "aes-cbc", 192 }, { "aes-cbc", 256 }, { "3des-cbc", 192 },
		{ "blowfish-cbc", 128 },
	};
	static const uint64_t at[] = { 0, 1, 7, 12345, (1ULL << 32) + 3,
	    (1ULL << 41) - 1 };
	uint8_t key[64], buf[3 * CGD_SECSIZE], orig[sizeof(buf)];
	struct cgd *c;
	size_t i, j;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof(orig); i++)
		orig[i] = (uint8_t)(i * 31);
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		ATF_REQUIRE(cgd_open(ciphers[i].alg, "encblkno1", key,
		    ciphers[i].bits, &c) == 0);
		for (j = 0; j < sizeof(at) / sizeof(at[0]); j++) {
			memcpy(buf, orig, sizeof(buf));
			ATF_REQUIRE(cgd_crypt(c, buf, sizeof(buf), at[j],
			    1) == 0);
			ATF_CHECK(memcmp(buf, orig, sizeof(buf)) != 0);
			/* Each sector on its own: the same as all at once. */
			ATF_REQUIRE(cgd_crypt(c, buf + CGD_SECSIZE,
			    CGD_SECSIZE, at[j] + 1, 0) == 0);
			ATF_CHECK(memcmp(buf + CGD_SECSIZE, orig +
			    CGD_SECSIZE, CGD_SECSIZE) == 0);
			ATF_REQUIRE(cgd_crypt(c, buf + CGD_SECSIZE,
			    CGD_SECSIZE, at[j] + 1, 1) == 0);
			ATF_REQUIRE(cgd_crypt(c, buf, sizeof(buf), at[j],
			    0) == 0);
			ATF_CHECK_MSG(memcmp(buf, orig, sizeof(buf)) == 0,
			    "%s-%zu at sector %ju", ciphers[i].alg,
			    ciphers[i].bits, (uintmax_t)at[j]);
		}
		/* Not a whole sector: refused. */
		ATF_CHECK_EQ(cgd_crypt(c, buf, 100, 0, 1), -1);
		cgd_close(c);
	}
}

/*
 * The reference: cgd's transform the plain way, as lib/cgd did it
 * before it went a chunk at a time: OpenSSL's own XTS or CBC, started
 * afresh for each sector with that sector's IV (for CBC the block
 * number encrypted ivrounds times with ECB).
 */
static void
ref_crypt(const char *alg, int ivrounds, const uint8_t *key, size_t bits,
    uint8_t *buf, size_t len, uint64_t blkno, int enc)
{
	const EVP_CIPHER *mode, *ecb;
	EVP_CIPHER_CTX *ctx, *ivctx;
	uint8_t iv[16], tmp[16];
	size_t bs = 16;
	int i, n;

	if (strcmp(alg, "aes-xts") == 0) {
		mode = bits == 256 ? EVP_aes_128_xts() : EVP_aes_256_xts();
		ecb = NULL;
		ivrounds = 0;
	} else if (strcmp(alg, "aes-cbc") == 0) {
		mode = bits == 128 ? EVP_aes_128_cbc() : bits == 192 ?
		    EVP_aes_192_cbc() : EVP_aes_256_cbc();
		ecb = bits == 128 ? EVP_aes_128_ecb() : bits == 192 ?
		    EVP_aes_192_ecb() : EVP_aes_256_ecb();
	} else if (strcmp(alg, "3des-cbc") == 0) {
		mode = EVP_des_ede3_cbc();
		ecb = EVP_des_ede3_ecb();
		bs = 8;
	} else {
		mode = EVP_bf_cbc();
		ecb = EVP_bf_ecb();
		bs = 8;
	}
	ATF_REQUIRE((ctx = EVP_CIPHER_CTX_new()) != NULL);
	ATF_REQUIRE((ivctx = EVP_CIPHER_CTX_new()) != NULL);
	ATF_REQUIRE(EVP_CipherInit_ex(ctx, mode, NULL, NULL, NULL, enc) == 1);
	ATF_REQUIRE(EVP_CIPHER_CTX_set_key_length(ctx, (int)bits / 8) == 1);
	ATF_REQUIRE(EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, enc) == 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	if (ecb != NULL) {
		ATF_REQUIRE(EVP_CipherInit_ex(ivctx, ecb, NULL, NULL, NULL,
		    1) == 1);
		ATF_REQUIRE(EVP_CIPHER_CTX_set_key_length(ivctx,
		    (int)bits / 8) == 1);
		ATF_REQUIRE(EVP_CipherInit_ex(ivctx, NULL, NULL, key, NULL,
		    1) == 1);
		EVP_CIPHER_CTX_set_padding(ivctx, 0);
	}
	for (; len > 0; len -= CGD_SECSIZE, buf += CGD_SECSIZE, blkno++) {
		memset(iv, 0, sizeof(iv));
		for (i = 0; i < 8; i++)
			iv[i] = (uint8_t)(blkno >> (8 * i));
		for (i = 0; i < ivrounds; i++) {
			ATF_REQUIRE(EVP_CipherUpdate(ivctx, tmp, &n, iv,
			    (int)bs) == 1 && n == (int)bs);
			memcpy(iv, tmp, bs);
		}
		ATF_REQUIRE(EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv,
		    -1) == 1);
		ATF_REQUIRE(EVP_CipherUpdate(ctx, buf, &n, buf,
		    CGD_SECSIZE) == 1 && n == CGD_SECSIZE);
	}
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_CTX_free(ivctx);
}

/* A repeatable stream of bytes (xorshift64). */
static void
fill(uint8_t *p, size_t n, uint64_t *state)
{
	uint64_t x = *state;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
	*state = x;
}

/*
 * Every algorithm, key size and iv-method, over 1 to many sectors at
 * block numbers that start nowhere in particular (and ones near 2^64,
 * where the number wraps): the same bytes as the reference, both ways,
 * encrypting and decrypting in turn on one handle.
 */
ATF_TC_WITHOUT_HEAD(cgd_same_as_per_sector_evp);
ATF_TC_BODY(cgd_same_as_per_sector_evp, tc)
{
	static const struct {
		const char *alg;
		size_t bits;
	} ciphers[] = {
		{ "aes-xts", 256 }, { "aes-xts", 512 }, { "aes-cbc", 128 },
		{ "aes-cbc", 192 }, { "aes-cbc", 256 }, { "3des-cbc", 192 },
		{ "blowfish-cbc", 40 }, { "blowfish-cbc", 128 },
		{ "blowfish-cbc", 448 },
	};
	static const char *ivms[] = { "encblkno1", "encblkno8" };
	static const size_t nsec[] = { 1, 2, 3, 15, 16, 17, 31, 32, 33, 64,
	    100, 257 };
	static const uint64_t at[] = { 0, 1, 7, 0xff, 12345, 0xfffffffe,
	    (1ULL << 41) - 1, UINT64_MAX - 40 };
	static uint8_t orig[257 * CGD_SECSIZE], ours[sizeof(orig)],
	    ref[sizeof(orig)];
	uint64_t rnd = 0x9e3779b97f4a7c15ULL;
	uint8_t key[64];
	struct cgd *c;
	size_t i, v, k, j, len;
	int enc;

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
	for (v = 0; v < 2; v++) {
		fill(key, sizeof(key), &rnd);
		ATF_REQUIRE_MSG(cgd_open(ciphers[i].alg, ivms[v], key,
		    ciphers[i].bits, &c) == 0, "%s", sr_errmsg());
		for (k = 0; k < sizeof(nsec) / sizeof(nsec[0]); k++)
		for (j = 0; j < sizeof(at) / sizeof(at[0]); j++)
		for (enc = 1; enc >= 0; enc--) {
			len = nsec[k] * CGD_SECSIZE;
			fill(orig, len, &rnd);
			memcpy(ours, orig, len);
			memcpy(ref, orig, len);
			ATF_REQUIRE(cgd_crypt(c, ours, len, at[j], enc) == 0);
			ref_crypt(ciphers[i].alg, v == 0 ? 1 : 8, key,
			    ciphers[i].bits, ref, len, at[j], enc);
			ATF_REQUIRE_MSG(memcmp(ours, ref, len) == 0,
			    "%s-%zu %s, %zu sectors at %ju, %s: not the "
			    "reference's bytes", ciphers[i].alg,
			    ciphers[i].bits, ivms[v], nsec[k],
			    (uintmax_t)at[j], enc ? "encrypt" : "decrypt");
			ATF_REQUIRE(cgd_crypt(c, ours, len, at[j], !enc) ==
			    0);
			ATF_REQUIRE(memcmp(ours, orig, len) == 0);
		}
		cgd_close(c);
	}
}

/*
 * IEEE 1619 vectors met inside one long call, not sector by sector:
 * 256 sectors from blkno 0 hold the plaintexts of vectors 4 and 5 at 0
 * and 1 and of vectors 7, 8 and 9 at 0xfd to 0xff (each vector's
 * ciphertext the next one's plaintext); with the 512-bit key, 0xff01
 * sectors from blkno 0xff hold vectors 10 and 11 (both 0x00..0xff
 * twice) at their ends.  Whatever else is in between.
 */
ATF_TC_WITHOUT_HEAD(cgd_vectors_in_one_call);
ATF_TC_BODY(cgd_vectors_in_one_call, tc)
{
	enum { N512 = 0xffff - 0xff + 1 };
	uint8_t count[CGD_SECSIZE], want[CGD_SECSIZE];
	uint64_t rnd = 42;
	uint8_t *buf;
	struct cgd *c;
	size_t i;

	for (i = 0; i < sizeof(count); i++)
		count[i] = (uint8_t)i;
	ATF_REQUIRE((buf = malloc((size_t)N512 * CGD_SECSIZE)) != NULL);
	fill(buf, 256 * CGD_SECSIZE, &rnd);
	memcpy(buf, count, CGD_SECSIZE);
	unhex(vec4_ctxt_hex, buf + CGD_SECSIZE, CGD_SECSIZE);
	unhex(vec7_ptxt_hex, buf + 0xfd * CGD_SECSIZE, CGD_SECSIZE);
	unhex(vec7_ctxt_hex, buf + 0xfe * CGD_SECSIZE, CGD_SECSIZE);
	unhex(vec9_ptxt_hex, buf + 0xff * CGD_SECSIZE, CGD_SECSIZE);
	ATF_REQUIRE(cgd_open("aes-xts", NULL, xts256_key, 256, &c) == 0);
	ATF_REQUIRE(cgd_crypt(c, buf, 256 * CGD_SECSIZE, 0, 1) == 0);
	unhex(vec4_ctxt_hex, want, sizeof(want));
	ATF_CHECK_MSG(memcmp(buf, want, CGD_SECSIZE) == 0, "vector 4");
	ATF_CHECK_MSG(memcmp(buf + CGD_SECSIZE, xts256_ctxt, 64) == 0,
	    "vector 5");
	unhex(vec7_ctxt_hex, want, sizeof(want));
	ATF_CHECK_MSG(memcmp(buf + 0xfd * CGD_SECSIZE, want,
	    CGD_SECSIZE) == 0, "vector 7");
	unhex(vec9_ptxt_hex, want, sizeof(want));
	ATF_CHECK_MSG(memcmp(buf + 0xfe * CGD_SECSIZE, want,
	    CGD_SECSIZE) == 0, "vector 8");
	unhex(vec9_ctxt_hex, want, sizeof(want));
	ATF_CHECK_MSG(memcmp(buf + 0xff * CGD_SECSIZE, want,
	    CGD_SECSIZE) == 0, "vector 9");
	ATF_REQUIRE(cgd_crypt(c, buf, 256 * CGD_SECSIZE, 0, 0) == 0);
	ATF_CHECK(memcmp(buf, count, CGD_SECSIZE) == 0);
	unhex(vec7_ptxt_hex, want, sizeof(want));
	ATF_CHECK(memcmp(buf + 0xfd * CGD_SECSIZE, want, CGD_SECSIZE) == 0);
	unhex(vec9_ptxt_hex, want, sizeof(want));
	ATF_CHECK(memcmp(buf + 0xff * CGD_SECSIZE, want, CGD_SECSIZE) == 0);
	cgd_close(c);

	fill(buf, (size_t)N512 * CGD_SECSIZE, &rnd);
	memcpy(buf, count, CGD_SECSIZE);
	memcpy(buf + (size_t)(N512 - 1) * CGD_SECSIZE, count, CGD_SECSIZE);
	ATF_REQUIRE(cgd_open("aes-xts", NULL, xts512_key, 512, &c) == 0);
	ATF_REQUIRE(cgd_crypt(c, buf, (size_t)N512 * CGD_SECSIZE, 0xff, 1) ==
	    0);
	unhex(vec10_ctxt_hex, want, sizeof(want));
	ATF_CHECK_MSG(memcmp(buf, want, CGD_SECSIZE) == 0, "vector 10");
	unhex(vec11_ctxt_hex, want, sizeof(want));
	ATF_CHECK_MSG(memcmp(buf + (size_t)(N512 - 1) * CGD_SECSIZE, want,
	    CGD_SECSIZE) == 0, "vector 11");
	ATF_REQUIRE(cgd_crypt(c, buf, (size_t)N512 * CGD_SECSIZE, 0xff, 0) ==
	    0);
	ATF_CHECK(memcmp(buf, count, CGD_SECSIZE) == 0);
	ATF_CHECK(memcmp(buf + (size_t)(N512 - 1) * CGD_SECSIZE, count,
	    CGD_SECSIZE) == 0);
	cgd_close(c);
	free(buf);
}

ATF_TC_WITHOUT_HEAD(cgd_refusals);
ATF_TC_BODY(cgd_refusals, tc)
{
	uint8_t key[64] = { 1 };
	struct cgd *c;

	ATF_CHECK_EQ(cgd_open("adiantum", NULL, key, 256, &c), -1);
	ATF_CHECK(strstr(sr_errmsg(), "adiantum: no library") != NULL);
	ATF_CHECK_EQ(cgd_open("rot13", NULL, key, 256, &c), -1);
	ATF_CHECK(strstr(sr_errmsg(), "algorithm rot13: unknown") != NULL);
	ATF_CHECK_EQ(cgd_open("aes-xts", NULL, key, 384, &c), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "aes-xts: a 384-bit key is not one it "
	    "takes");
	ATF_CHECK_EQ(cgd_open("aes-cbc", "encblkno9", key, 128, &c), -1);
	/* An xts key whose two halves are the same (OpenSSL's refusal). */
	memset(key, 7, sizeof(key));
	ATF_CHECK_EQ(cgd_open("aes-xts", NULL, key, 512, &c), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "aes-xts: the cipher will not take "
	    "this key");
	ATF_CHECK_EQ(cgd_open("aes-xts", NULL, key, 256, &c), -1);
}

/*
 * An image that cannot be written whole (here: past the file-size
 * limit, where write(2) first comes back short) says why, and leaves
 * nothing beside it.
 */
ATF_TC_WITHOUT_HEAD(cgdimg_short_write_says_why);
ATF_TC_BODY(cgdimg_short_write_says_why, tc)
{
	static uint8_t buf[64 * 1024];
	char cwd[PATH_MAX];
	struct cgdimg g;
	struct rlimit lim;
	struct dirent *de;
	DIR *d;
	int fd, n = 0;

	ATF_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	cgdimg_init(&g);
	ATF_REQUIRE(cgdimg_open(&g, "key", NULL, true) == 0);
	ATF_REQUIRE(cgdimg_private(&g, cwd) == 0);
	memset(buf, 0x5a, sizeof(buf));
	ATF_REQUIRE((fd = open(g.plain, O_CREAT | O_WRONLY, 0600)) != -1);
	ATF_REQUIRE(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	close(fd);
	signal(SIGXFSZ, SIG_IGN);
	ATF_REQUIRE(getrlimit(RLIMIT_FSIZE, &lim) == 0);
	lim.rlim_cur = 32 * 1024 + 100;
	ATF_REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	ATF_CHECK_EQ(cgdimg_encrypt(&g, "disk.img", NULL), -1);
	ATF_CHECK_MSG(strstr(sr_errmsg(), "encrypt: write at ") != NULL &&
	    strstr(sr_errmsg(), ": File too large") != NULL, "%s",
	    sr_errmsg());
	ATF_CHECK_EQ(cgdimg_close(&g), 0);
	ATF_REQUIRE((d = opendir(".")) != NULL);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, "disk.img") != NULL)
			n++;
	closedir(d);
	ATF_CHECK_EQ(n, 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, cgd_known_answers);
	ATF_TP_ADD_TC(tp, cgd_whole_sector_vector);
	ATF_TP_ADD_TC(tp, cgd_cbc_whole_sectors);
	ATF_TP_ADD_TC(tp, cgd_round_trips);
	ATF_TP_ADD_TC(tp, cgd_same_as_per_sector_evp);
	ATF_TP_ADD_TC(tp, cgd_vectors_in_one_call);
	ATF_TP_ADD_TC(tp, cgd_refusals);
	ATF_TP_ADD_TC(tp, cgdimg_short_write_says_why);
	return atf_no_error();
}
