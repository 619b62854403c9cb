/*
 * A fuzz target without libFuzzer: run it on each file named, and on
 * each file in each directory named (not below), in name order.  Used
 * by make check to replay the corpus and every past crash with gcc
 * alone.  A crash is the test's failure; a file listed in a -x file
 * (one path a line, relative to the repository's tests/fuzz) is left
 * out: a known crash not fixed yet.  Prints how many inputs ran.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZ_REPLAY_MAIN	/* the target's file has what it defines */
#include "fuzz.h"

static char **skip;
static size_t nskip;

static void
load_skip(const char *file)
{
	char line[PATH_MAX];
	FILE *f;

	if ((f = fopen(file, "r")) == NULL) {
		perror(file);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if ((skip = realloc(skip, (nskip + 1) * sizeof(*skip))) ==
		    NULL || (skip[nskip++] = strdup(line)) == NULL) {
			perror("replay");
			exit(2);
		}
	}
	fclose(f);
}

/* Whether path ends with one of the paths to skip. */
static int
skipped(const char *path)
{
	size_t i, n = strlen(path);

	for (i = 0; i < nskip; i++) {
		size_t k = strlen(skip[i]);

		if (n >= k && strcmp(path + n - k, skip[i]) == 0 &&
		    (n == k || path[n - k - 1] == '/'))
			return 1;
	}
	return 0;
}

static int
run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	FILE *f;

	if (skipped(path))
		return 0;
	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) == -1) {
		perror(path);
		exit(2);
	}
	/* A copy of exactly its size: a read past it is caught. */
	if ((buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)) == NULL ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		perror(path);
		exit(2);
	}
	fclose(f);
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(buf, (size_t)st.st_size);
	free(buf);
	return 1;
}

int
main(int argc, char *argv[])
{
	char path[PATH_MAX];
	size_t n = 0;
	int i;

	if (argc > 2 && strcmp(argv[1], "-x") == 0) {
		load_skip(argv[2]);
		argc -= 2;
		argv += 2;
	}
	for (i = 1; i < argc; i++) {
		struct dirent **names;
		struct stat st;
		int k, m;

		if (stat(argv[i], &st) == -1) {
			perror(argv[i]);
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			n += (size_t)run_file(argv[i]);
			continue;
		}
		if ((m = scandir(argv[i], &names, NULL, alphasort)) == -1) {
			perror(argv[i]);
			return 2;
		}
		for (k = 0; k < m; k++) {
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    names[k]->d_name);
			if (names[k]->d_name[0] != '.' &&
			    stat(path, &st) == 0 && S_ISREG(st.st_mode))
				n += (size_t)run_file(path);
			free(names[k]);
		}
		free(names);
	}
	printf("%zu inputs ran\n", n);
	return 0;
}
