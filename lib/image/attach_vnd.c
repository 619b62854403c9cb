/*
 * The NetBSD back end: the system's own vndconfig(8), newfs(8), mount(8)
 * and umount(8), run as commands.  It is built everywhere so that its
 * exact command lines can be tested on any host with stubs in PATH.  A
 * key file's cgd goes between the vnd and the mount (attach_cgd.c).
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/attach.h"
#include "image/attach_impl.h"
#include "base/run.h"
#include "base/sr.h"

#define NVND	64

/*
 * Whether a `vndconfig -l` line for a unit in use names the file
 * system that holds a's image.  vnconfig's show() prints that file
 * system, never the file's path: "MNTON (/dev/MNTFROM) ", a bare
 * "DEVNAME ", or "dev MAJOR,MINOR ", then "inode N".  A device this
 * host cannot resolve counts as a match: refusing an image whose inode
 * a unit holds is safer than attaching it twice.
 */
static bool
vnd_same_fs(const struct attach *a, const char *line)
{
	char name[PATH_MAX];
	const char *p = strchr(line, ':'), *open, *close;
	unsigned long long maj, mnr;
	struct stat st;

	if (p == NULL)
		return true;
	for (p++; *p == ' '; p++)
		;
	if (sscanf(p, "dev %llu,%llu ", &maj, &mnr) == 2)
		return makedev(maj, mnr) == a->dev;
	if ((open = strstr(p, " (/dev/")) != NULL &&
	    (close = strchr(open, ')')) != NULL && close - open - 2 <
	    (ptrdiff_t)sizeof(name))
		snprintf(name, sizeof(name), "%.*s", (int)(close - open - 2),
		    open + 2);
	else if ((close = strchr(p, ' ')) != NULL && close - p + 5 <
	    (ptrdiff_t)sizeof(name))
		snprintf(name, sizeof(name), "/dev/%.*s", (int)(close - p), p);
	else
		return true;
	if (stat(name, &st) == -1 || !S_ISBLK(st.st_mode))
		return true;
	return st.st_rdev == a->dev;
}

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
	char *line, *save = NULL;
	int rv = -1;

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
		    vnd_same_fs(a, line)) {
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

/* Only root may ask vndconfig: for anyone else, nothing to refuse. */
static int
vnd_check_unused(struct attach *a)
{
	int unit;

	if (geteuid() != 0)
		return 0;
	return vnd_scan(a, &unit);
}

static int
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
	snprintf(a->be.vnd.unit, sizeof(a->be.vnd.unit), "vnd%d", unit);
	argv[i++] = "vndconfig";
	if (a->rdonly)
		argv[i++] = "-r";
	argv[i++] = a->be.vnd.unit;
	argv[i++] = (char *)a->path;
	argv[i] = NULL;
	if (run_cmd(argv, NULL) == -1) {
		sr_prefixerr("attach");
		return -1;
	}
	a->attached = true;
	strlcpy(a->disk, a->be.vnd.unit, sizeof(a->disk));
	return 0;
}

/* A new image's file system, made through the disk (the cgd's, if any). */
static int
vnd_format(struct attach *a)
{
	char rdev[32];
	char *argv[] = { "newfs", rdev, NULL };

	snprintf(rdev, sizeof(rdev), "/dev/r%sa", a->disk);
	if (run_cmd(argv, NULL) == -1) {
		sr_prefixerr("create");
		return -1;
	}
	return 0;
}

static int
vnd_mount(struct attach *a)
{
	char dev[32], *argv[8];
	int i = 0;

	snprintf(dev, sizeof(dev), "/dev/%sa", a->disk);
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

static int
vnd_remount_rw(struct attach *a)
{
	char *argv[] = { "mount", "-u", "-w", a->mntdir, NULL };

	if (run_cmd(argv, NULL) == -1) {
		sr_prefixerr("mount read-write");
		return -1;
	}
	return 0;
}

static int
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

static int
vnd_detach(struct attach *a)
{
	char *argv[] = { "vndconfig", "-u", a->be.vnd.unit, NULL };

	if (run_cmd(argv, NULL) == -1) {
		sr_prefixerr("detach %s", a->be.vnd.unit);
		return -1;
	}
	a->attached = false;
	return 0;
}

const struct attach_ops vnd_ops = {
	.name = "vnd",
	.check_unused = vnd_check_unused,
	.attach = vnd_attach,
	.format = vnd_format,
	.mount = vnd_mount,
	.remount_rw = vnd_remount_rw,
	.unmount = vnd_unmount,
	.detach = vnd_detach,
	.format_file = NULL,
	.transforms = true,
	.check_mount = false,
};
