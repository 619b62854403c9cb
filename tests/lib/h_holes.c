/*
 * h_holes file: the bytes of file that lie in holes (lseek SEEK_HOLE
 * and SEEK_DATA), then its size, for the shell tests to tell a sparse
 * image from one written whole.
 */
#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct stat st;
	off_t off = 0, hole, data;
	intmax_t holes = 0;
	int fd;

	if (argc != 2)
		errx(2, "usage: h_holes file");
	if ((fd = open(argv[1], O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		err(1, "%s", argv[1]);
	while (off < st.st_size) {
		if ((hole = lseek(fd, off, SEEK_HOLE)) == -1)
			err(1, "SEEK_HOLE");
		if (hole >= st.st_size)
			break;
		data = lseek(fd, hole, SEEK_DATA);
		if (data == -1)
			data = st.st_size;	/* ENXIO: a hole to the end */
		holes += data - hole;
		off = data;
	}
	printf("%jd %jd\n", holes, (intmax_t)st.st_size);
	return 0;
}
