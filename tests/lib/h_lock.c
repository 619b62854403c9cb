/*
 * h_lock [-s] target ready: hold the lock a run of the tools takes on
 * target (lib/lock.c; -s: a reader's), make the file ready once it is
 * held, and keep it until killed: another run, for the tests.
 */
#include <err.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "tree/lock.h"
#include "base/sr.h"

int
main(int argc, char *argv[])
{
	bool excl = true;
	int fd;

	if (argc == 4 && strcmp(argv[1], "-s") == 0) {
		excl = false;
		argv++;
		argc--;
	}
	if (argc != 3)
		errx(2, "usage: h_lock [-s] target ready");
	if (sr_lock(argv[1], excl) != 0)
		errx(1, "%s: %s", argv[1], sr_errmsg());
	if ((fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		err(1, "%s", argv[2]);
	close(fd);
	for (;;)
		pause();
}
