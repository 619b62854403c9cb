/*
 * A local's record of its root (.sharedroot/root-id, base-manifest,
 * base-etc.tgz), every byte the guest's.  The input holds the three:
 * a flag byte, the id line's length (16 bits) and bytes, the
 * manifest's length (32 bits) and bytes, then the gzipped tar.  With
 * the flag's low bit the id line is made the manifest's digest, so
 * that the archive is read and compared too (a guest can write a
 * matching id; it only guards against accidents).
 */
#include "guest/identity.h"
#include "fuzz.h"

/* A part of the input: n bytes at *p, as many as there are. */
static void
part(const uint8_t **p, const uint8_t *end, size_t n, struct sbuf *b)
{
	if (n > (size_t)(end - *p))
		n = (size_t)(end - *p);
	if (sbuf_add(b, *p, n) == -1)
		abort();
	*p += n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1, *end = data + size;
	struct sbuf idline = { 0 }, man = { 0 }, base = { 0 };
	struct entset etc = { 0 };
	char id[ID_HEXLEN + 1];
	size_t n;

	if (size < 7)
		return 0;
	n = (size_t)fuzz_le(p, 2);
	p += 2;
	part(&p, end, n, &idline);
	if (end - p >= 4) {
		n = (size_t)fuzz_le(p, 4);
		p += 4;
		part(&p, end, n, &man);
	}
	part(&p, end, (size_t)(end - p), &base);
	if (data[0] & 1) {
		sbuf_free(&idline);
		if (identity_digest(&man, id) == -1 ||
		    sbuf_printf(&idline, "%s\n", id) == -1)
			abort();
	}
	if (identity_record_check("fuzz", &idline, &man, &base, id,
	    &etc) == 0) {
		size_t i;

		/* Nothing outside etc came in, and nothing but these. */
		for (i = 0; i < etc.n; i++) {
			const char *e = etc.v[i].path;

			FUZZ_ASSERT(strcmp(e, "etc") == 0 ||
			    strncmp(e, "etc/", 4) == 0);
			FUZZ_ASSERT(strstr(e, "/../") == NULL &&
			    strcmp(e + strlen(e) - 3, "/..") != 0);
			FUZZ_ASSERT(S_ISREG(etc.v[i].mode) ||
			    S_ISDIR(etc.v[i].mode) || S_ISLNK(etc.v[i].mode));
		}
	}
	entset_free(&etc);
	sbuf_free(&idline);
	sbuf_free(&man);
	sbuf_free(&base);
	return 0;
}
