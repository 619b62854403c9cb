/*
 * The loop back end where there are no loop devices (SHAREDROOT_ATTACH
 * =loop on a host other than Linux): every step says so.
 */
#include "attach.h"
#include "sr.h"

static int
noloop(void)
{
	sr_seterr("attach: loop devices exist only on Linux");
	return -1;
}

int loop_check_unused(struct attach *a) { (void)a; return noloop(); }
int loop_attach(struct attach *a) { (void)a; return noloop(); }
int loop_mount(struct attach *a) { (void)a; return noloop(); }
int loop_remount_rw(struct attach *a) { (void)a; return noloop(); }
int loop_unmount(struct attach *a) { (void)a; return noloop(); }
int loop_detach(struct attach *a) { (void)a; return noloop(); }
