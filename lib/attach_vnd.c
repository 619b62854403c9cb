/*
 * The NetBSD back end: the system's own vndconfig(8), mount(8) and
 * umount(8), run as commands.  It is built everywhere so that its exact
 * command lines can be tested on any host with stubs in PATH.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "os.h"
#include "run.h"
#include "sr.h"

#define NVND	64

static int cgd_attach(struct attach *);
static int cgd_fill(struct attach *);

/*
 * "vndconfig -l" prints a line a unit: "vnd0: /path (/dev/wd0a) inode
 * 1234" when attached, "vnd1: not in use" when free.  Find whether our
 * image is among them, and the first free unit.
 */
static int
vnd_scan(struct attach *a, int *freeunit)
{
	char *argv[] = { "vndconfig", "-l", NULL };
	struct sbuf out = { 0 };
	const char *base = strrchr(a->path, '/');
	char *line, *save = NULL;
	int rv = -1;

	/* The listing may name the image by another path: match the name. */
	base = base ? base + 1 : a->path;
	*freeunit = -1;
	if (run_cmd(argv, &out) == -1)
		goto done;
	for (line = strtok_r(out.s ? out.s : (char *)"", "\n", &save);
	    line != NULL; line = strtok_r(NULL, "\n", &save)) {
		const char *errstr = NULL;
		char unit[16], *ino;
		long long nr;

		if (sscanf(line, "vnd%15[0-9]:", unit) != 1)
			continue;
		nr = strtonum(unit, 0, NVND - 1, &errstr);
		if (errstr != NULL)
			continue;
		if (strstr(line, "not in use") != NULL) {
			if (*freeunit == -1)
				*freeunit = (int)nr;
			continue;
		}
		if ((ino = strstr(line, " inode ")) != NULL &&
		    strtoumax(ino + 7, NULL, 10) == (uintmax_t)a->ino &&
		    strstr(line, base) != NULL) {
			sr_seterr("attach: already attached to vnd%lld "
			    "(in use; detach it first)", nr);
			goto done;
		}
	}
	rv = 0;
done:
	sbuf_free(&out);
	return rv;
}

int
vnd_check_unused(struct attach *a)
{
	int unit;

	return vnd_scan(a, &unit);
}

int
vnd_attach(struct attach *a)
{
	char *argv[5];
	int unit, i = 0;

	if (vnd_scan(a, &unit) == -1)
		return -1;
	if (unit == -1) {
		sr_seterr("attach: no free vnd device");
		return -1;
	}
	snprintf(a->vnd, sizeof(a->vnd), "vnd%d", unit);
	argv[i++] = "vndconfig";
	if (a->rdonly)
		argv[i++] = "-r";
	argv[i++] = a->vnd;
	argv[i++] = (char *)a->path;
	argv[i] = NULL;
	if (run_cmd(argv, NULL) == -1) {
		sr_prefixerr("attach");
		return -1;
	}
	a->vnd_attached = true;
	if (a->keyfile != NULL && cgd_attach(a) == -1)
		return -1;
	if (a->format && a->keyfile != NULL && !a->sparse &&
	    cgd_fill(a) == -1)
		return -1;
	if (a->format) {
		char rdev[32];
		char *nargv[] = { "newfs", rdev, NULL };

		snprintf(rdev, sizeof(rdev), "/dev/r%sa",
		    a->keyfile ? a->cgd : a->vnd);
		if (run_cmd(nargv, NULL) == -1) {
			sr_prefixerr("create");
			return -1;
		}
	}
	return 0;
}

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

		if (sscanf(line, "cgd%d:", &nr) == 1 && nr >= 0 && nr < NVND &&
		    strstr(line, "not in use") != NULL)
			unit = nr;
	}
	sbuf_free(&out);
	if (unit == -1) {
		sr_seterr("attach: no free cgd device");
		return -1;
	}
	snprintf(a->cgd, sizeof(a->cgd), "cgd%d", unit);
	snprintf(dev, sizeof(dev), "/dev/%sa", a->vnd);
	argv[0] = "cgdconfig";
	argv[1] = a->cgd;
	argv[2] = dev;
	argv[3] = (char *)a->keyfile;
	argv[4] = NULL;
	if (run_cmd(argv, NULL) == -1) {
		sr_prefixerr("attach cgd");
		return -1;
	}
	a->cgd_attached = true;
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

	snprintf(dev, sizeof(dev), "/dev/r%s%c", a->cgd, os_raw_partition());
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

int
vnd_mount(struct attach *a)
{
	char dev[32], *argv[8];
	int i = 0;

	snprintf(dev, sizeof(dev), "/dev/%sa", a->keyfile ? a->cgd : a->vnd);
	argv[i++] = "mount";
	if (a->rdonly || a->ro_first)
		argv[i++] = "-r";
	argv[i++] = "-o";
	argv[i++] = "nodev,nosuid,noexec";
	argv[i++] = dev;
	argv[i++] = a->mntdir;
	argv[i] = NULL;
	if (run_cmd(argv, NULL) == -1) {
		char msg[512];

		strlcpy(msg, sr_errmsg(), sizeof(msg));
		sr_seterr("mount %s: %s (does it hold a file system?)", dev,
		    msg);
		return -1;
	}
	a->mounted = true;
	return 0;
}

int
vnd_remount_rw(struct attach *a)
{
	char *argv[] = { "mount", "-u", "-w", a->mntdir, NULL };

	if (run_cmd(argv, NULL) == -1) {
		sr_prefixerr("mount read-write");
		return -1;
	}
	return 0;
}

int
vnd_unmount(struct attach *a)
{
	char *argv[] = { "umount", a->mntdir, NULL };
	char *force[] = { "umount", "-f", a->mntdir, NULL };

	if (run_cmd(argv, NULL) == -1 && run_cmd(force, NULL) == -1) {
		sr_prefixerr("unmount %s", a->mntdir);
		return -1;
	}
	a->mounted = false;
	return 0;
}

int
vnd_detach(struct attach *a)
{
	char *argv[] = { "vndconfig", "-u", a->vnd, NULL };
	char *cargv[] = { "cgdconfig", "-u", a->cgd, NULL };

	if (a->cgd_attached) {
		if (run_cmd(cargv, NULL) == -1) {
			sr_prefixerr("detach %s", a->cgd);
			return -1;
		}
		a->cgd_attached = false;
	}

	if (run_cmd(argv, NULL) == -1) {
		sr_prefixerr("detach %s", a->vnd);
		return -1;
	}
	a->vnd_attached = false;
	return 0;
}
