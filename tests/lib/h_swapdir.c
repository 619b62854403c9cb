/*
 * h_swapdir DIR A B SECONDS [PAUSE]: swap the names A and B in DIR (a
 * directory and a symbolic link, say) atomically, over and over, PAUSE
 * microseconds apart (default 0), for SECONDS or
 * until SIGTERM: someone changing a tree while a tool copies it.  The
 * names are left as they were.  Linux only (renameat2 RENAME_EXCHANGE).
 * Prints the number of swaps.
 */
#include <err.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/syscall.h>

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char *argv[])
{
	struct timespec now, end;
	unsigned long n = 0;
	int dfd;

	if (argc != 5 && argc != 6)
		errx(2, "usage: h_swapdir dir a b seconds [pause]");
	if ((dfd = open(argv[1], O_RDONLY | O_DIRECTORY)) == -1)
		err(1, "%s", argv[1]);
	signal(SIGTERM, on_term);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += atoi(argv[4]);
	do {
		if (syscall(SYS_renameat2, dfd, argv[2], dfd, argv[3],
		    RENAME_EXCHANGE) == -1)
			err(1, "renameat2");
		n++;
		if (argc == 6)
			usleep((useconds_t)atoi(argv[5]));
		if (argc == 6 || (n & 1023) == 0)
			clock_gettime(CLOCK_MONOTONIC, &now);
		else
			now.tv_sec = 0;
	} while (now.tv_sec < end.tv_sec && !stop);
	/* Leave the names as they were. */
	if ((n & 1) != 0 && syscall(SYS_renameat2, dfd, argv[2], dfd,
	    argv[3], RENAME_EXCHANGE) == -1)
		err(1, "renameat2");
	printf("%lu\n", n);
	return 0;
}
