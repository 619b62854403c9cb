/*
 * A key file's disk on NetBSD: the kernel's cgd(4) configured on the
 * back end's device with cgdconfig(8), a block transform between it and
 * the file system (attach_impl.h).  Built everywhere, like the vnd back
 * end, so that its command lines are tested with stubs in PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image/attach.h"
#include "image/attach_impl.h"
#include "base/os.h"
#include "base/run.h"
#include "base/sr.h"

#define NCGD	64

/* "cgdconfig -l": "cgd0: /dev/vnd0a" in use, "cgd1: not in use" free. */
static int
cgd_attach(struct attach *a)
{
	char *largv[] = { "cgdconfig", "-l", NULL };
	char dev[32], *argv[6];
	struct sbuf out = { 0 };
	char *line, *save = NULL;
	int unit = -1;

	if (run_cmd(largv, &out) == -1) {
		sbuf_free(&out);
		return -1;
	}
	for (line = strtok_r(out.s ? out.s : (char *)"", "\n", &save);
	    line != NULL && unit == -1; line = strtok_r(NULL, "\n", &save)) {
		int nr;

		if (sscanf(line, "cgd%d:", &nr) == 1 && nr >= 0 && nr < NCGD &&
		    strstr(line, "not in use") != NULL)
			unit = nr;
	}
	sbuf_free(&out);
	if (unit == -1) {
		sr_seterr("attach: no free cgd device");
		return -1;
	}
	snprintf(a->xf.unit, sizeof(a->xf.unit), "cgd%d", unit);
	snprintf(dev, sizeof(dev), "/dev/%sa", a->disk);
	argv[0] = "cgdconfig";
	argv[1] = a->xf.unit;
	argv[2] = dev;
	argv[3] = (char *)a->keyfile;
	argv[4] = NULL;
	if (run_cmd(argv, NULL) == -1) {
		sr_prefixerr("attach cgd");
		return -1;
	}
	a->xf.attached = true;
	strlcpy(a->disk, a->xf.unit, sizeof(a->disk));
	return 0;
}

/*
 * A new cgd volume, before newfs: every sector written (as the
 * scrubbing example of cgdconfig(8) does), so that the image has no
 * holes to show which blocks the file system will use (zeros through
 * the cipher cannot be told from noise).  Through the raw partition,
 * to the end of the volume, where a write of a raw disk comes back
 * short, then empty.
 */
static int
cgd_fill(struct attach *a)
{
	static const char zero[64 * 1024];
	char dev[32];
	uintmax_t done = 0;
	int fd;

	snprintf(dev, sizeof(dev), "/dev/r%s%c", a->xf.unit,
	    os_raw_partition());
	if ((fd = open(dev, O_WRONLY | O_CLOEXEC)) == -1) {
		sr_seterrno("fill %s", dev);
		return -1;
	}
	for (;;) {
		ssize_t n = write(fd, zero, sizeof(zero));

		if (n > 0) {
			done += (uintmax_t)n;
			if (sr_checkpoint() == -1)
				goto fail;
			continue;
		}
		if (n == 0 || (done > 0 && errno == ENOSPC))
			break;
		if (errno != EINTR) {
			sr_seterrno("fill %s at byte %ju", dev, done);
			goto fail;
		}
	}
	if (fsync(fd) == -1) {
		sr_seterrno("fill %s", dev);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static int
cgd_detach(struct attach *a)
{
	char *argv[] = { "cgdconfig", "-u", a->xf.unit, NULL };

	if (run_cmd(argv, NULL) == -1) {
		sr_prefixerr("detach %s", a->xf.unit);
		return -1;
	}
	a->xf.attached = false;
	return 0;
}

const struct attach_xform cgd_xform = {
	.name = "cgd",
	.attach = cgd_attach,
	.fill = cgd_fill,
	.detach = cgd_detach,
};
