/*
 * Reporting and ending a run, shared by setup-root and setup-local.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define LIBBSD_OPENBSD_VIS	/* strnvis() in the OpenBSD order */
#include <vis.h>

#include "tool.h"

/*
 * Names and texts from an image are untrusted: encode control characters
 * (escape sequences, carriage returns, newlines) so that nothing printed
 * can drive the terminal, and a message stays one line.  Tabs and spaces
 * stay as they are.
 */
#define VIS_FLAGS	(VIS_OCTAL | VIS_CSTYLE | VIS_NL)

void
tool_putsafe(FILE *f, const char *s)
{
	char *v;

	if (stravis(&v, s, VIS_FLAGS) == -1) {
		fputs("(unprintable)", f);
		return;
	}
	fputs(v, f);
	free(v);
}

/*
 * Texts (diffs) are shown as they are but for control characters: a
 * backslash in a script stays one backslash.  A NUL is one more byte
 * to encode (an image's file may hold one), never the end of the text:
 * what follows it is shown too.
 */
static void
putline(FILE *f, const char *s, size_t len)
{
	char *v;

	if (len > (SIZE_MAX - 1) / 4 || (v = malloc(len * 4 + 1)) == NULL) {
		fputs("(out of memory)", f);
		return;
	}
	strvisx(v, s, len, VIS_FLAGS | VIS_NOSLASH);
	fputs(v, f);
	free(v);
}

void
tool_putlines(FILE *f, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		putline(f, p, n);
		fputc('\n', f);
		p += n + (nl ? 1 : 0);
	}
}

void
tool_log(void *ctx, enum sr_level level, const char *fmt, ...)
{
	const struct toolout *o = ctx;
	va_list ap;

	if ((level == SR_VERBOSE && o->verbose < 1) ||
	    (level == SR_INFO && o->verbose < 0))
		return;
	FILE *f = level == SR_WARN ? stderr : stdout;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	fprintf(f, "%s: ", getprogname());
	tool_putsafe(f, o->image);
	fprintf(f, ": %s", level == SR_WARN ? "warning: " : "");
	tool_putsafe(f, msg ? msg : "(out of memory)");
	fputc('\n', f);
	free(msg);
	fflush(stdout);
}

/*
 * What each tool calls the option a library hint (sr_sethint) names:
 * words put before the message (the option whose value it is about) or
 * after it (the option that would help).
 */
static const struct {
	const char *prog;
	enum sr_hint hint;
	const char *before, *after;
} hintwords[] = {
	{ "setup-local", SR_HINT_HOSTNAME, "-h ", "" },
	{ "setup-local", SR_HINT_PKGDEV, "-P ", "" },
	{ "setup-local", SR_HINT_CIPHER, "-S ", "" },
	{ "setup-local", SR_HINT_PARTITION, "-p ", "" },
	{ "setup-local", SR_HINT_BASEROOT, "-b: ", "" },
	{ "setup-local", SR_HINT_FORCE, "", " (-f replaces it)" },
	{ "setup-local", SR_HINT_PICKPART, "", " with -p" },
	{ "setup-local", SR_HINT_NAMEBASE, "", " (-b old-root)" },
	{ "setup-local", SR_HINT_CGD, "", " (-c)" },
	{ "setup-local", SR_HINT_PASSFILE, "", " with -K" },
	{ "setup-local", SR_HINT_REPROVISION, "", " (setup-local -f)" },
	{ "setup-local", SR_HINT_ROLLBACK, "", " (setup-local -R)" },
	{ "setup-local", SR_HINT_UPGRADE, "", " (setup-local -u)" },
	{ "setup-local", SR_HINT_SETS, "", " with setup-root -o" },
	{ "setup-local", SR_HINT_KEYFILE, "-c ", "" },
	{ "setup-local", SR_HINT_MAKESIZE, "", " -s size creates it" },
	{ "setup-local", SR_HINT_ARGORDER, "", " (setup-local root local)" },
	{ "setup-local", SR_HINT_MAKEROOT, "",
	    " with setup-root -o root.img SETS first" },
	{ "setup-local", SR_HINT_NOCIPHER, "", " -S none" },
	{ "setup-root", SR_HINT_LOCALDEV, "-l ", "" },
	{ "setup-root", SR_HINT_PARTITION, "-p ", "" },
	{ "setup-root", SR_HINT_FORCE, "", " (-f leaves it as it is)" },
	{ "setup-root", SR_HINT_PICKPART, "", " with -p" },
	{ "setup-root", SR_HINT_SETS, "", " with setup-root -o" },
	{ "setup-root", SR_HINT_REPLACE, "", "; -f replaces it (guests running "
	    "from it keep the old one until they reboot)" },
	{ "setup-root", SR_HINT_BUILDROOT, "", " (setup-root -o builds a "
	    "prepared root.img from sets without)" },
};

void
tool_hintwords(enum sr_hint h, const char **before, const char **after)
{
	size_t i;

	*before = *after = "";
	for (i = 0; h != SR_HINT_NONE &&
	    i < sizeof(hintwords) / sizeof(hintwords[0]); i++)
		if (hintwords[i].hint == h &&
		    strcmp(hintwords[i].prog, getprogname()) == 0) {
			*before = hintwords[i].before;
			*after = hintwords[i].after;
			break;
		}
}

void
tool_errmsg(char *buf, size_t bufsz)
{
	const char *before, *after;

	tool_hintwords(sr_errhint(), &before, &after);
	snprintf(buf, bufsz, "%s%s%s", before, sr_errmsg(), after);
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

	tool_errmsg(msg, sizeof(msg));
	if (teardown_all(a, n, tmsg, sizeof(tmsg)) == -1) {
		fprintf(stderr, "%s: ", getprogname());
		tool_putsafe(stderr, tmsg);
		fputc('\n', stderr);
	}
	fprintf(stderr, "%s: ", getprogname());
	tool_putsafe(stderr, image);
	fputs(": ", stderr);
	tool_putsafe(stderr, msg);
	fputc('\n', stderr);
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

const char *
tool_sharedir(const char *builtin)
{
	const char *env = getenv("SHAREDROOT_SHAREDIR");

	return env != NULL && *env == '/' ? env : builtin;
}
