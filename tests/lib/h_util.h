/*
 * Helpers for the atf-c tests: fixtures, and text assertions.
 */
#ifndef H_UTIL_H
#define H_UTIL_H

#include <atf-c.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/sr.h"

/*
 * Skip unless prog is installed, looking where Debian puts it too: an
 * ordinary user's PATH lacks /usr/sbin, where makefs is.  The sbin
 * directories are added to PATH for the programs the test runs.
 */
static inline void
h_require_prog(const char *prog)
{
	const char *path = getenv("PATH");
	char cmd[256], npath[4096];

	if (path != NULL && strstr(path, "/usr/sbin") == NULL) {
		snprintf(npath, sizeof(npath), "%s:/usr/local/sbin:/usr/sbin:"
		    "/sbin", path);
		setenv("PATH", npath, 1);
	}
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null", prog);
	if (system(cmd) != 0)
		atf_tc_skip("%s is not installed", prog);
}

/* A file holding text, made or replaced. */
static inline void
h_put(const char *path, const char *text)
{
	int fd;

	ATF_REQUIRE((fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644)) >= 0);
	ATF_REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/* Write a 32-bit little-endian value into a file at off. */
static inline void
h_put32(const char *path, off_t off, uint32_t v)
{
	unsigned char b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff,
	    v >> 24 };
	int fd;

	ATF_REQUIRE((fd = open(path, O_WRONLY)) >= 0);
	ATF_REQUIRE(pwrite(fd, b, 4, off) == 4);
	close(fd);
}

/*
 * Read tests/data/<rel> into a NUL-terminated malloc'd string: the copy
 * installed beside the test program (its srcdir, which atf-c gives the
 * test case).
 */
static inline char *
h_fixture(const atf_tc_t *tc, const char *rel, size_t *len)
{
	char path[1024];
	FILE *f;
	char *s;
	long n;

	ATF_REQUIRE((size_t)snprintf(path, sizeof(path), "%s/data/%s",
	    atf_tc_get_config_var(tc, "srcdir"), rel) < sizeof(path));
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

/* The text of a host file (at most 4 KiB, in a buffer of its own). */
static inline const char *
h_text(const char *path)
{
	static char buf[4096];
	size_t n;
	FILE *f;

	ATF_REQUIRE_MSG((f = fopen(path, "r")) != NULL, "open %s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	ATF_REQUIRE(!ferror(f));
	buf[n] = '\0';
	fclose(f);
	return buf;
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
