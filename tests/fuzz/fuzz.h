/*
 * What the fuzz targets share: a private scratch directory, inputs
 * turned into files there, and a compact form for disk images.
 *
 * A target is LLVMFuzzerTestOneInput() on bytes.  Built with clang's
 * -fsanitize=fuzzer it is a libFuzzer program (make fuzz); built with
 * replay.c it runs the committed corpus and past crashes as a test
 * (make check), with gcc alone.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/sr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char *__lsan_default_suppressions(void);

/*
 * Leaks in libtsk itself are not ours to fix (its own mmls leaks the
 * same on a GPT disk): LeakSanitizer is told so.  Ours are reported.
 */
#ifndef FUZZ_REPLAY_MAIN
const char *
__lsan_default_suppressions(void)
{
	return "leak:libtsk.so\n";
}
#endif

/* A bug the target found itself (an outcome that breaks a promise). */
#define FUZZ_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: fuzz check failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

static char fuzz_dir[PATH_MAX];

static inline int
fuzz_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == -1 &&
	    errno != ENOENT ? -1 : 0;
}

static inline int
fuzz_chmod_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D && (st->st_mode & 0700) != 0700)
		(void)chmod(path, 0700);
	return 0;
}

/* Remove a tree the target made, whatever modes it was given. */
static inline int
fuzz_rm_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return 0;
	(void)nftw(path, fuzz_chmod_one, 16, FTW_PHYS);
	return nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void
fuzz_rm(const char *path)
{
	if (fuzz_rm_tree(path) == -1) {
		fprintf(stderr, "fuzz: cannot remove %s\n", path);
		abort();
	}
}

static inline void
fuzz_cleanup(void)
{
	if (fuzz_dir[0] != '\0')
		fuzz_rm(fuzz_dir);
}

/* Scratch directories of processes that died (a crash skips atexit). */
static inline void
fuzz_purge_dead(const char *base)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir;
	long pid;

	if ((dir = opendir(base)) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		/* Alive, or not ours to know: left alone. */
		if (sscanf(d->d_name, "sr-fuzz.%ld.", &pid) != 1 || pid <= 0 ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", base,
		    d->d_name) < sizeof(path))
			(void)fuzz_rm_tree(path);
	}
	closedir(dir);
}

/*
 * The scratch directory, made once: in memory (/dev/shm) where there
 * is one, as the targets write a file or a tree for every input.
 * FUZZ_TMPDIR, then TMPDIR, name another place.  Files are bounded to
 * 64 MiB, so that a hostile input cannot fill a disk.  Named with the
 * pid, so that the next run removes those of runs that crashed.
 */
static inline const char *
fuzz_scratch(void)
{
	const char *base = getenv("FUZZ_TMPDIR");
	struct rlimit rl = { 64 << 20, 64 << 20 };

	if (fuzz_dir[0] != '\0')
		return fuzz_dir;
	if (base == NULL && access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	if (base == NULL && (base = getenv("TMPDIR")) == NULL)
		base = "/tmp";
	fuzz_purge_dead(base);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/sr-fuzz.%ld.XXXXXX", base,
	    (long)getpid());
	if (mkdtemp(fuzz_dir) == NULL) {
		fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fuzz_dir,
		    strerror(errno));
		abort();
	}
	atexit(fuzz_cleanup);
	signal(SIGXFSZ, SIG_IGN);
	(void)setrlimit(RLIMIT_FSIZE, &rl);
	return fuzz_dir;
}

/* A path in the scratch directory. */
static inline const char *
fuzz_path(const char *name, char *buf, size_t bufsz)
{
	if ((size_t)snprintf(buf, bufsz, "%s/%s", fuzz_scratch(), name) >=
	    bufsz)
		abort();
	return buf;
}

/* Write bytes as the file name in the scratch directory; its path. */
static inline const char *
fuzz_file(const char *name, const void *data, size_t len, char *buf,
    size_t bufsz)
{
	int fd;

	fuzz_path(name, buf, bufsz);
	(void)unlink(buf);
	if ((fd = open(buf, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
	    (len > 0 && write(fd, data, len) != (ssize_t)len)) {
		fprintf(stderr, "fuzz: write %s: %s\n", buf, strerror(errno));
		abort();
	}
	close(fd);
	return buf;
}

/*
 * Disk images in little space: "SRSPARSE", the image's size (64-bit
 * little-endian), then runs of (offset: 64 bits, length: 16 bits,
 * bytes) over an image of zeros.  A small FFS image is mostly zeros:
 * its seed is a few KiB, and mutations land on the bytes that mean
 * something.  Anything else is the image itself, byte for byte.
 * Images are at most 32 MiB.
 */
#define SPARSE_MAGIC	"SRSPARSE"
#define SPARSE_MAX	(32u << 20)

static inline uint64_t
fuzz_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* The image an input stands for, as the file name in the scratch. */
static inline const char *
fuzz_image(const char *name, const uint8_t *data, size_t size, char *buf,
    size_t bufsz)
{
	uint64_t isize, off;
	size_t i, len;
	int fd;

	if (size < 16 || memcmp(data, SPARSE_MAGIC, 8) != 0)
		return fuzz_file(name, data, size, buf, bufsz);
	isize = fuzz_le(data + 8, 8);
	if (isize > SPARSE_MAX)
		isize = SPARSE_MAX;
	fuzz_path(name, buf, bufsz);
	(void)unlink(buf);
	if ((fd = open(buf, O_RDWR | O_CREAT | O_EXCL, 0600)) == -1 ||
	    ftruncate(fd, (off_t)isize) == -1) {
		fprintf(stderr, "fuzz: %s: %s\n", buf, strerror(errno));
		abort();
	}
	for (i = 16; i + 10 <= size; i += 10 + len) {
		off = fuzz_le(data + i, 8);
		len = (size_t)fuzz_le(data + i + 8, 2);
		if (len > size - i - 10)
			len = size - i - 10;
		if (off >= isize)
			continue;
		if (len > isize - off)
			len = (size_t)(isize - off);
		if (pwrite(fd, data + i + 10, len, (off_t)off) !=
		    (ssize_t)len) {
			fprintf(stderr, "fuzz: %s: %s\n", buf,
			    strerror(errno));
			abort();
		}
	}
	close(fd);
	return buf;
}

/* The scratch directory holds these names (NULL-ended) and no more. */
static inline void
fuzz_scratch_only(const char *const *names)
{
	const char *const *n;
	struct dirent *d;
	DIR *dir;

	if ((dir = opendir(fuzz_scratch())) == NULL)
		abort();
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		for (n = names; *n != NULL && strcmp(*n, d->d_name) != 0; n++)
			;
		if (*n == NULL) {
			fprintf(stderr, "fuzz: %s/%s: written outside the "
			    "stage\n", fuzz_scratch(), d->d_name);
			abort();
		}
	}
	closedir(dir);
}

#endif /* FUZZ_H */
