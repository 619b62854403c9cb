/*
 * The loop back end where there are no loop devices (SHAREDROOT_ATTACH
 * =loop on a host other than Linux): every step says so.
 */
#include <stddef.h>

#include "image/attach.h"
#include "image/attach_impl.h"
#include "base/sr.h"

static int
noloop(struct attach *a)
{
	(void)a;
	sr_seterr("attach: loop devices exist only on Linux");
	return -1;
}

static int
noloop_file(const char *path)
{
	(void)path;
	return noloop(NULL);
}

const struct attach_ops loop_ops = {
	.name = "loop",
	.check_unused = noloop,
	.attach = noloop,
	.format = NULL,
	.mount = noloop,
	.remount_rw = noloop,
	.unmount = noloop,
	.detach = noloop,
	.format_file = noloop_file,
	.transforms = false,
	.check_mount = true,
};
