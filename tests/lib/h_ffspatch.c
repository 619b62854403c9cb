/*
 * h_ffspatch: change bytes of an FFS image (little-endian, as makefs
 * writes on this host) the way a hostile guest would, with a hex
 * editor: no file system code of ours is used to find the bytes.
 *
 *   h_ffspatch ino IMAGE PATH         print PATH's inode number (libtsk)
 *   h_ffspatch dirent IMAGE NAME INO  point the one directory entry
 *                                     named NAME at inode INO
 *   h_ffspatch le32 IMAGE OFFSET VAL  write a 32-bit value at OFFSET
 *
 * dirent reads the image in 512-byte directory chunks (DIRBLKSIZ) and
 * takes the chunks whose entries chain exactly to the chunk's end, as
 * struct direct lays them out: d_ino (4), d_reclen (2), d_type (1),
 * d_namlen (1), the name.  Exactly one entry must have the name.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tsk/libtsk.h>

#define DIRBLKSIZ	512

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static unsigned long long
number(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno != 0 || *s == '\0' || *end != '\0')
		errx(2, "%s: not a number", s);
	return (unsigned long long)v;
}

static int
ino(const char *img, const char *path)
{
	TSK_IMG_INFO *ii;
	TSK_FS_INFO *fs;
	TSK_FS_FILE *f;
	char abs[4096];

	if ((ii = tsk_img_open_sing(img, TSK_IMG_TYPE_RAW, 0)) == NULL ||
	    (fs = tsk_fs_open_img(ii, 0, TSK_FS_TYPE_FFS_DETECT)) == NULL)
		errx(1, "%s: not FFS libtsk reads", img);
	snprintf(abs, sizeof(abs), "/%s", path);
	if ((f = tsk_fs_file_open(fs, NULL, abs)) == NULL || f->meta == NULL)
		errx(1, "%s: no such path in %s", path, img);
	printf("%" PRIuINUM "\n", f->meta->addr);
	tsk_fs_file_close(f);
	tsk_fs_close(fs);
	tsk_img_close(ii);
	return 0;
}

static int
dirent(const char *img, const char *name, uint32_t newino)
{
	unsigned char chunk[DIRBLKSIZ];
	size_t nlen = strlen(name);
	off_t off, found = -1;
	int fd, matches = 0;

	if ((fd = open(img, O_RDWR)) == -1)
		err(1, "%s", img);
	for (off = 0; pread(fd, chunk, sizeof(chunk), off) ==
	    (ssize_t)sizeof(chunk); off += DIRBLKSIZ) {
		size_t at = 0, hit = 0;
		int here = 0;

		while (at + 8 <= DIRBLKSIZ) {
			size_t reclen = (size_t)chunk[at + 4] |
			    (size_t)chunk[at + 5] << 8, namlen = chunk[at + 7];

			if (reclen < 8 || reclen % 4 != 0 ||
			    at + reclen > DIRBLKSIZ || 8 + namlen > reclen)
				break;
			if (le32(chunk + at) != 0 && namlen == nlen &&
			    memcmp(chunk + at + 8, name, nlen) == 0) {
				here++;
				hit = at;
			}
			at += reclen;
		}
		if (at != DIRBLKSIZ || here == 0)
			continue;
		matches += here;
		found = off + (off_t)hit;
	}
	if (matches != 1)
		errx(1, "%s: %d directory entries named %s", img, matches,
		    name);
	put32(chunk, newino);
	/* Only the entry's inode number changes. */
	if (pwrite(fd, chunk, 4, found) != 4 || close(fd) == -1)
		err(1, "%s: write", img);
	return 0;
}

static int
le32_write(const char *img, off_t off, uint32_t v)
{
	unsigned char b[4];
	int fd;

	put32(b, v);
	if ((fd = open(img, O_WRONLY)) == -1)
		err(1, "%s", img);
	if (pwrite(fd, b, 4, off) != 4 || close(fd) == -1)
		err(1, "%s: write", img);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 4 && strcmp(argv[1], "ino") == 0)
		return ino(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "dirent") == 0)
		return dirent(argv[2], argv[3], (uint32_t)number(argv[4]));
	if (argc == 5 && strcmp(argv[1], "le32") == 0)
		return le32_write(argv[2], (off_t)number(argv[3]),
		    (uint32_t)number(argv[4]));
	errx(2, "usage: h_ffspatch ino IMAGE PATH | dirent IMAGE NAME INO | "
	    "le32 IMAGE OFFSET VALUE");
}
