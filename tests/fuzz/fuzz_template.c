/*
 * Template rendering (@NAME@ replaced; an unknown name is an error
 * naming its line) on any text.
 */
#include "fuzz.h"
#include "plan/template.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tmpl_var vars[] = {
		{ "HOSTNAME", "guest1" }, { "LOCALDEV", "xbd2a" },
		{ "SWAPDEV", "xbd1b" }, { "CIPHER", "aes-xts 256" },
		{ "EMPTY", "" }, { "AT", "@" }, { NULL, NULL }
	};
	struct sbuf out = { 0 }, again = { 0 };
	int r = tmpl_render("fuzz", (const char *)data, size, vars, &out);

	/* The same text renders the same. */
	FUZZ_ASSERT(tmpl_render("fuzz", (const char *)data, size, vars,
	    &again) == r);
	if (r == 0) {
		FUZZ_ASSERT(out.s != NULL && again.s != NULL);
		FUZZ_ASSERT(out.len == again.len &&
		    memcmp(out.s, again.s, out.len) == 0);
	}
	sbuf_free(&out);
	sbuf_free(&again);
	return 0;
}
