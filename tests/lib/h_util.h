/*
 * Helpers for the atf-c tests: fixtures, and text assertions.
 */
#ifndef H_UTIL_H
#define H_UTIL_H

#include <atf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sr.h"

/* Read tests/data/<rel> into a NUL-terminated malloc'd string. */
static inline char *
h_fixture(const char *rel, size_t *len)
{
	char path[1024];
	FILE *f;
	char *s;
	long n;

	snprintf(path, sizeof(path), "%s/%s", SR_DATA, rel);
	ATF_REQUIRE_MSG((f = fopen(path, "r")) != NULL, "open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	ATF_REQUIRE((s = malloc((size_t)n + 1)) != NULL);
	ATF_REQUIRE(fread(s, 1, (size_t)n, f) == (size_t)n);
	s[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return s;
}

/* Number of lines exactly equal to line. */
static inline int
h_count_line(const char *text, const char *line)
{
	size_t ll = strlen(line);
	const char *p = text;
	int n = 0;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len == ll && memcmp(p, line, ll) == 0)
			n++;
		p += len + (nl ? 1 : 0);
	}
	return n;
}

/* Line number (1-based) of the first line equal to line, or 0. */
static inline int
h_line_no(const char *text, const char *line)
{
	size_t ll = strlen(line);
	const char *p = text;
	int n = 1;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len == ll && memcmp(p, line, ll) == 0)
			return n;
		p += len + (nl ? 1 : 0);
		n++;
	}
	return 0;
}

#endif
