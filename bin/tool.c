/*
 * Reporting and ending a run, shared by setup-root and setup-local.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

void
tool_log(void *ctx, enum sr_level level, const char *fmt, ...)
{
	const struct toolout *o = ctx;
	va_list ap;

	if ((level == SR_VERBOSE && o->verbose < 1) ||
	    (level == SR_INFO && o->verbose < 0))
		return;
	fprintf(level == SR_WARN ? stderr : stdout, "%s: %s: %s",
	    getprogname(), o->image, level == SR_WARN ? "warning: " : "");
	va_start(ap, fmt);
	vfprintf(level == SR_WARN ? stderr : stdout, fmt, ap);
	va_end(ap);
	fputc('\n', level == SR_WARN ? stderr : stdout);
	fflush(stdout);
}

static int
teardown_all(struct attach **a, int n, char *msg, size_t msgsz)
{
	int rv = 0;

	while (n-- > 0) {
		if (a[n] == NULL)
			continue;
		if (attach_teardown(a[n]) == -1 && rv == 0) {
			snprintf(msg, msgsz, "%s: %s", a[n]->path,
			    sr_errmsg());
			rv = -1;
		}
	}
	return rv;
}

void
tool_fail(const char *image, struct attach **a, int n)
{
	char msg[1024], tmsg[1024];

	strlcpy(msg, sr_errmsg(), sizeof(msg));
	if (teardown_all(a, n, tmsg, sizeof(tmsg)) == -1)
		fprintf(stderr, "%s: %s\n", getprogname(), tmsg);
	fprintf(stderr, "%s: %s: %s\n", getprogname(), image, msg);
	exit(1);
}

int
tool_finish(struct attach **a, int n)
{
	char tmsg[1024];

	if (teardown_all(a, n, tmsg, sizeof(tmsg)) == -1) {
		sr_seterr("%s", tmsg);
		return -1;
	}
	return 0;
}
