/*
 * Temporaries' names (see tmpname.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/tmpname.h"

#define NRAND	6

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

int
tmpname(char *buf, size_t bufsz, const char *fmt, ...)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char sfx[NRAND + 1];
	va_list ap;
	size_t n;
	int k, r;

	va_start(ap, fmt);
	r = vsnprintf(buf, bufsz, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= bufsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (k = 0; k < NRAND; k++)
		sfx[k] = chars[arc4random_uniform(sizeof(chars) - 1)];
	sfx[NRAND] = '\0';
	n = (size_t)r;
	if ((size_t)snprintf(buf + n, bufsz - n, ".%ld.%s", (long)getpid(),
	    sfx) >= bufsz - n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

long
tmpname_pid(const char *name, const char *prefix)
{
	size_t n = strlen(prefix), i;
	const char *p, *dot;
	long pid = 0;

	if (strncmp(name, prefix, n) != 0 || name[n] != '.')
		return -1;
	p = name + n + 1;
	if ((dot = strchr(p, '.')) == NULL || dot == p || dot - p > 9)
		return -1;
	for (; p < dot; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		pid = pid * 10 + (*p - '0');
	}
	for (i = 1; i <= NRAND; i++)
		if (!is_alnum(dot[i]))
			return -1;
	return dot[NRAND + 1] == '\0' && pid > 0 ? pid : -1;
}
