/*
 * Error messages, growing buffers and the signal flag: the small pieces
 * every other module leans on.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sr.h"

static char errbuf[1024];
static volatile sig_atomic_t caught;

void
sr_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

void
sr_seterrno(const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(errbuf, sizeof(errbuf), "%s: %s", msg, strerror(saved));
	errno = saved;
}

void
sr_prefixerr(const char *fmt, ...)
{
	char prefix[512], old[sizeof(errbuf)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	strlcpy(old, errbuf, sizeof(old));
	/* A message longer than the buffer is cut; it stays one line. */
	if (snprintf(errbuf, sizeof(errbuf), "%s: %s", prefix, old) < 0)
		strlcpy(errbuf, prefix, sizeof(errbuf));
}

const char *
sr_shortpath(const char *path)
{
	/* Two at once, for a message naming two paths. */
	static char buf[2][SR_SHORTPATH + 1];
	static int which;
	size_t len = strlen(path), head, tail;
	const char *p;
	char *b = buf[which];

	which = !which;
	if (len <= SR_SHORTPATH)
		return path;
	/* The first components and the last ones, cut at slashes. */
	head = SR_SHORTPATH / 3;
	for (p = path + head; p > path && *p != '/'; p--)
		;
	if (p > path)
		head = (size_t)(p - path);
	tail = SR_SHORTPATH - head - 5;
	for (p = path + len - tail; *p != '\0' && *p != '/'; p++)
		;
	if (*p == '/')
		tail = strlen(p + 1);
	snprintf(b, SR_SHORTPATH + 1, "%.*s/.../%s", (int)head, path,
	    path + len - tail);
	return b;
}

const char *
sr_errmsg(void)
{
	return errbuf[0] != '\0' ? errbuf : "unknown error";
}

int
sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	size_t need;
	char *ns;

	if (n > SIZE_MAX - b->len - 1) {
		sr_seterr("buffer too large");
		return -1;
	}
	need = b->len + n + 1;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		if ((ns = realloc(b->s, cap)) == NULL) {
			sr_seterrno("out of memory");
			return -1;
		}
		b->s = ns;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int
sbuf_adds(struct sbuf *b, const char *s)
{
	return sbuf_add(b, s, strlen(s));
}

int
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n, rv;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sr_seterrno("out of memory");
		return -1;
	}
	rv = sbuf_add(b, s, (size_t)n);
	free(s);
	return rv;
}

void
sbuf_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

static void
on_signal(int sig)
{
	caught = sig;
}

void
sr_signals_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking wait should notice the signal. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int
sr_interrupted(void)
{
	return caught;
}

int
sr_checkpoint(void)
{
	if (caught) {
		sr_seterr("interrupted by signal %d", (int)caught);
		return -1;
	}
	return 0;
}
