/*
 * Where an FFS image is read from (ffsimg.h's struct ffs_source): a
 * plain file, or any source, given to libtsk as an external image.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tsk/libtsk.h>

#include "image/ffsimg.h"
#include "image/ffsread.h"

/* All len bytes at off of the file: a short file is an error. */
static int
fd_pread(void *ctx, uint64_t off, void *buf, size_t len)
{
	int fd = (int)(intptr_t)ctx;
	char *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			sr_seterrno("read at %ju", (uintmax_t)off);
			return -1;
		}
		if (n == 0) {
			sr_seterr("read at %ju: the file ended early",
			    (uintmax_t)off);
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

void
ffs_source_fd(struct ffs_source *s, int fd, uint64_t size, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->ctx = (void *)(intptr_t)fd;
	s->pread = fd_pread;
	s->size = size;
	s->name = name;
}

/*
 * libtsk 4.11's external image: a TSK_IMG_INFO first (libtsk fills it
 * in and keeps its read cache in it), then what reads go through.
 */
struct extimg {
	TSK_IMG_INFO img;
	const struct ffs_source *src;
};

static ssize_t
ext_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
	const struct ffs_source *src = ((struct extimg *)(void *)img)->src;

	if (off < 0 || (uint64_t)off >= src->size)
		return 0;
	if (len > src->size - (uint64_t)off)
		len = (size_t)(src->size - (uint64_t)off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (src->pread(src->ctx, (uint64_t)off, buf, len) == -1) {
		tsk_error_reset();
		tsk_error_set_errno(TSK_ERR_IMG_READ);
		tsk_error_set_errstr("%s", sr_errmsg());
		return -1;
	}
	return (ssize_t)len;
}

/* The cache may hold plaintext: cleared before it is freed. */
static void
ext_close(TSK_IMG_INFO *img)
{
	explicit_bzero(img, sizeof(struct extimg));
	free(img);
}

static void
ext_imgstat(TSK_IMG_INFO *img, FILE *f)
{
	(void)img;
	(void)f;
}

TSK_IMG_INFO *
ffs_tsk_open(const struct ffsimg *fi)
{
	struct extimg *e;
	TSK_IMG_INFO *img;

	tsk_error_reset();
	if (fi->src == NULL) {
		if ((img = tsk_img_open_sing(fi->path, TSK_IMG_TYPE_RAW,
		    0)) == NULL)
			sr_seterr("read image: %s", tsk_error_get());
		return img;
	}
	if (fi->src->size > (uint64_t)INT64_MAX) {
		sr_seterr("read image: %ju bytes (refused)",
		    (uintmax_t)fi->src->size);
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		sr_oom();
		return NULL;
	}
	e->src = fi->src;
	if ((img = tsk_img_open_external(e, (TSK_OFF_T)fi->src->size, 512,
	    ext_read, ext_close, ext_imgstat)) == NULL) {
		sr_seterr("read image: %s", tsk_error_get());
		free(e);
	}
	return img;
}
