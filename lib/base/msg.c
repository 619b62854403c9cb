/*
 * Error messages, growing buffers and the signal flag: the small pieces
 * every other module leans on.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/compat.h"
#if SR_LINUX
#include <sys/sysmacros.h>
#endif
#include "base/sr.h"

static char errbuf[1024];
static enum sr_hint errhint;	/* belongs to errbuf's message */
static volatile sig_atomic_t caught;

void
sr_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	errhint = SR_HINT_NONE;
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
	errhint = SR_HINT_NONE;
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
sr_size(uint64_t n)
{
	static char buf[4][32];
	static int which;
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	char *b = buf[which];
	double v = (double)n;
	int u = -1;

	which = (which + 1) % 4;
	if (n < 1024) {
		snprintf(b, sizeof(buf[0]), "%ju bytes", (uintmax_t)n);
		return b;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(b, sizeof(buf[0]), "%.1f %s", v, unit[u]);
	return b;
}

bool
sr_noroom(int e)
{
	return e == ENOSPC || e == EDQUOT;
}

int
sr_fsroom(int fd, char *where, size_t wsz, uint64_t *avail)
{
	struct statvfs sv;
	struct stat st;

	if (fstatvfs(fd, &sv) == -1 || fstat(fd, &st) == -1)
		return -1;
	*avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	snprintf(where, wsz, "its file system");
#if SR_LINUX
	{
		/* mountinfo: id parent major:minor root mountpoint ... */
		FILE *f = fopen("/proc/self/mountinfo", "re");
		char line[4096], mp[4096];
		unsigned maj, min;

		while (f != NULL && fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &maj,
			    &min, mp) == 3 && makedev(maj, min) == st.st_dev) {
				/* Octal escapes stay: one line. */
				snprintf(where, wsz, "%s", mp);
				break;
			}
		if (f != NULL)
			fclose(f);
	}
#elif defined(__NetBSD__)
	/* Not in the compat-check stubs: glibc's statvfs lacks it. */
	snprintf(where, wsz, "%s", sv.f_mntonname);
#endif
	return 0;
}

void
sr_seterr_noroom(int fd, const char *what, uint64_t more, bool atleast)
{
	char where[512], need[64] = "";
	struct statvfs sv;
	uint64_t avail = 0;
	int saved = errno;

	if (more > 0)
		snprintf(need, sizeof(need), "; %s %s more needed",
		    atleast ? "at least" : "about", sr_size(more));
	if (fd == -1 || sr_fsroom(fd, where, sizeof(where), &avail) == -1)
		sr_seterr("no room left to write %s%s", what, need);
	else if (fstatvfs(fd, &sv) == 0 && sv.f_files > 0 &&
	    sv.f_favail == 0)
		sr_seterr("no room left on %s (%s free, but no inodes) to "
		    "write %s", where, sr_size(avail), what);
	else
		sr_seterr("no room left on %s (%s free) to write %s%s", where,
		    sr_size(avail), what, need);
	errno = saved;
}

int
sr_oom(void)
{
	sr_seterr("out of memory");
	errno = ENOMEM;
	return -1;
}

const char *
sr_errmsg(void)
{
	return errbuf[0] != '\0' ? errbuf : "unknown error";
}

void
sr_sethint(enum sr_hint h)
{
	errhint = h;
}

enum sr_hint
sr_errhint(void)
{
	return errhint;
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
			sr_oom();
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
		sr_oom();
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

bool
sr_zeros(const void *p, size_t n)
{
	const unsigned char *b = p;

	return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
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

/* Logging --------------------------------------------------------------- */

static sr_logfn *logfn;
static void *logctx;

void
sr_setlog(sr_logfn *fn, void *ctx)
{
	logfn = fn;
	logctx = ctx;
}

void
sr_getlog(sr_logfn **fn, void **ctx)
{
	*fn = logfn;
	*ctx = logctx;
}

void
sr_log(enum sr_level level, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int saved = errno;

	if (logfn == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	logfn(logctx, level, "%s", msg != NULL ? msg : "(out of memory)");
	free(msg);
	errno = saved;
}
