/*
 * cgdconfig(8) parameters files: parsed, verified against a volume
 * head, and where the work is small, turned into a key (the file is
 * untrusted: a key file beside a guest's image).
 */
#include "cgd/cgdparams.h"
#include "fuzz.h"

/* Work small enough to derive on every input: microseconds. */
static bool
small_work(const struct cgd_params *p)
{
	size_t i;

	for (i = 0; i < p->nkg; i++) {
		const struct cgd_keygen *kg = &p->kg[i];

		if (strcmp(kg->method, "pkcs5_pbkdf2/sha1") == 0 &&
		    kg->iterations > 64)
			return false;
		if (strcmp(kg->method, "argon2id") == 0 &&
		    (kg->iterations > 2 || kg->memory > 256 ||
		    kg->parallelism > 2))
			return false;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t head[72 * 1024];
	static char pass[PATH_MAX];
	struct cgd_params p;
	uint8_t key[CGD_MAXKEY];

	if (pass[0] == '\0')
		fuzz_file("pass", "a passphrase\n", 13, pass, sizeof(pass));
	if (cgdparams_parse((const char *)data, size, "fuzz", &p) == -1)
		return 0;
	FUZZ_ASSERT(p.keylen > 0 && p.keylen <= CGD_MAXKEY * 8);
	FUZZ_ASSERT(p.nkg > 0 && p.nkg <= CGD_MAXKEYGENS);
	(void)cgdparams_verify(&p, head, sizeof(head));
	if (small_work(&p))
		(void)cgdparams_key(&p, pass, key);
	cgdparams_free(&p);
	return 0;
}
