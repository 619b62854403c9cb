/*
 * The pure text edits of a guest's files (etc/rc, rc.conf, ttys,
 * root's crontab, dev/MAKEDEV) on any text, with what each promises:
 * no read outside the text, an edit made once is "already done" the
 * second time, and the hook taken out gives back the text it went in.
 */
#include "plan/edit.h"
#include "fuzz.h"

/* Apply an edit twice: the second time it has nothing to do. */
static void
twice(const char *t, size_t len, enum edit_result (*fn)(const char *,
    size_t, char **, size_t *), bool idempotent)
{
	char *out = NULL, *again = NULL;
	size_t olen = 0, alen = 0;
	enum edit_result r = fn(t, len, &out, &olen);

	if (r != EDIT_CHANGED) {
		FUZZ_ASSERT(out == NULL);
		return;
	}
	FUZZ_ASSERT(out != NULL && strlen(out) <= olen);
	r = fn(out, olen, &again, &alen);
	if (idempotent)
		FUZZ_ASSERT(r != EDIT_CHANGED);
	free(again);
	free(out);
}

static enum edit_result
set_wscons(const char *t, size_t len, char **out, size_t *olen)
{
	return rcconf_set(t, len, "wscons", "NO", out, olen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	char *in = NULL, *out = NULL;
	size_t ilen = 0, olen = 0;

	/* etc/rc: the hook in, then out again, gives back the text. */
	if (rc_insert_hook(t, size, &in, &ilen) == EDIT_CHANGED) {
		char *again = NULL;
		size_t alen;

		FUZZ_ASSERT(rc_insert_hook(in, ilen, &again, &alen) ==
		    EDIT_ALREADY);
		FUZZ_ASSERT(rc_remove_hook(in, ilen, &out, &olen) ==
		    EDIT_CHANGED);
		FUZZ_ASSERT(olen == size && memcmp(out, t, size) == 0);
		free(out);
		free(in);
	}
	out = NULL;
	if (rc_remove_hook(t, size, &out, &olen) == EDIT_CHANGED)
		free(out);
	twice(t, size, set_wscons, true);
	twice(t, size, ttys_console_only, true);
	twice(t, size, crontab_quiet, true);
	twice(t, size, makedev_patch, true);
	return 0;
}
