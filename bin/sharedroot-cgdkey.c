/*
 * sharedroot-cgdkey: the key of a cgdconfig(8) parameters file, read
 * with the tools' own parser (lib/cgdparams.c), for xen/block-cgd to
 * hand to cryptsetup on a Linux dom0.  Only what dm-crypt serves as
 * cgd(4) does is accepted: aes-xts (iv-method encblkno1) with a 256-
 * or 512-bit key from a single storedkey keygen.  The raw key goes to
 * standard output only when that is a pipe, never to a terminal or a
 * file; -c checks the file and prints the key length in bits instead.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgd/cgdparams.h"
#include "tool.h"

#define PARAMS_MAX	(64 * 1024)	/* cgdconfig's files are < 1 KiB */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s [-c] paramsfile\n", getprogname());
	exit(1);
}

/* "sharedroot-cgdkey: path: why", one line, and exit 1. */
static void __attribute__((noreturn, format(printf, 2, 3)))
refuse(const char *path, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	fprintf(stderr, "%s: ", getprogname());
	tool_putsafe(stderr, path);
	fputs(": ", stderr);
	tool_putsafe(stderr, msg != NULL ? msg : "out of memory");
	fputc('\n', stderr);
	exit(1);
}

/*
 * The file's text, from one descriptor: a regular file (not followed
 * through a symbolic link, as setup-local -c does not) that no group
 * or other may read or write, owned by whoever runs this.
 */
static size_t
load(const char *path, char *buf, size_t bufsz)
{
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1)
		refuse(path, "%s", errno == ELOOP ? "a symbolic link; name "
		    "the file itself" : strerror(errno));
	if (fstat(fd, &st) == -1)
		refuse(path, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		refuse(path, "not a regular file");
	if (st.st_mode & 0077)
		refuse(path, "%s by group or others (mode %04o); chmod go-rwx "
		    "it", st.st_mode & 0044 ? "readable" : "writable",
		    (unsigned)(st.st_mode & 07777));
	if (st.st_uid != geteuid())
		refuse(path, "owned by uid %lu, not by uid %lu that reads it",
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
	for (;;) {
		if (len == bufsz) {
			explicit_bzero(buf, bufsz);
			refuse(path, "larger than %zu KiB: not a parameters "
			    "file", bufsz / 1024);
		}
		if ((n = read(fd, buf + len, bufsz - len)) == -1) {
			if (errno == EINTR)
				continue;
			explicit_bzero(buf, bufsz);
			refuse(path, "read: %s", strerror(errno));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return len;
}

/* Refuse what block-cgd cannot serve as cgd would, saying why. */
static void
servable(const char *path, const struct cgd_params *p)
{
	if (strcmp(p->algorithm, "aes-xts") != 0)
		refuse(path, "algorithm %s: only aes-xts is served on Linux "
		    "(dm-crypt has no IVs like cgd's CBC ones)", p->algorithm);
	if (strcmp(p->ivmethod, "encblkno1") != 0)
		refuse(path, "iv-method %s: only encblkno1, which cgdconfig "
		    "writes for aes-xts, is served", p->ivmethod);
	if (p->keylen != 256 && p->keylen != 512)
		refuse(path, "keylength %zu: aes-xts takes 256 or 512",
		    p->keylen);
	if (p->nkg != 1)
		refuse(path, "%zu keygens: only one, storedkey, can be served "
		    "(no passphrase can be asked for when a guest starts)",
		    p->nkg);
	if (strcmp(p->kg[0].method, "storedkey") != 0)
		refuse(path, "keygen %s: only storedkey can be served (no "
		    "passphrase can be asked for when a guest starts)",
		    p->kg[0].method);
}

int
main(int argc, char *argv[])
{
	static char text[PARAMS_MAX];
	struct cgd_params p;
	uint8_t key[CGD_MAXKEY];
	struct stat st;
	const char *path;
	size_t len, off, bytes;
	ssize_t n;
	int ch, check = 0;

	setprogname(argv[0]);
	while ((ch = getopt(argc, argv, "c")) != -1) {
		switch (ch) {
		case 'c':
			check = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	path = argv[0];
	/* Before the key is even read: it goes nowhere but into a pipe. */
	if (!check && (fstat(STDOUT_FILENO, &st) == -1 ||
	    !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))))
		refuse(path, "standard output is not a pipe: the key is "
		    "written only to a pipe (-c checks the file)");
	len = load(path, text, sizeof(text));
	if (cgdparams_parse(text, len, path, &p) == -1) {
		explicit_bzero(text, sizeof(text));
		fprintf(stderr, "%s: ", getprogname());
		tool_putsafe(stderr, sr_errmsg());
		fputc('\n', stderr);
		return 1;
	}
	explicit_bzero(text, sizeof(text));
	servable(path, &p);
	if (cgdparams_key(&p, NULL, key) == -1) {
		cgdparams_free(&p);
		refuse(path, "%s", sr_errmsg());
	}
	bytes = p.keylen / 8;
	cgdparams_free(&p);
	if (check) {
		explicit_bzero(key, sizeof(key));
		printf("%zu\n", bytes * 8);
		return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
	}
	/* A reader gone is an error said here, not a silent SIGPIPE. */
	(void)signal(SIGPIPE, SIG_IGN);
	for (off = 0; off < bytes; off += (size_t)n) {
		n = write(STDOUT_FILENO, key + off, bytes - off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			explicit_bzero(key, sizeof(key));
			refuse(path, "writing the key: %s", n == 0 ?
			    "nothing written" : strerror(errno));
		}
	}
	explicit_bzero(key, sizeof(key));
	return 0;
}
