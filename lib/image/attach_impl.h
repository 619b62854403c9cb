/*
 * Inside attach: the back ends' table of operations, private to
 * lib/attach*.c.  attach.c does what every target needs (open, check,
 * the private mount point, the ordered teardown) and calls the back end
 * chosen once, at attach_init(), for the rest:
 *
 *	check_unused	refuse an image a device of its kind already holds
 *	attach		give the image a device (a->attached, a->disk)
 *	[transform]	a block transform on that device (a kernel cgd for a
 *			key file, attach_cgd.c): a->disk becomes its device
 *	format		make the file system through the device (a new image)
 *	mount		mount a->disk on a->mntdir (a->mounted)
 *	remount_rw	make a read-only-first mount writable
 *	unmount, detach	undo, in reverse; detach after the transform's
 *
 * A new back end is one file with one table, and a row in attach.c's
 * list.
 */
#ifndef ATTACH_IMPL_H
#define ATTACH_IMPL_H

#include <stdbool.h>

#include "image/attach.h"

struct attach_ops {
	const char *name;		/* as SHAREDROOT_ATTACH names it */
	int	(*check_unused)(struct attach *);
	int	(*attach)(struct attach *);
	/* NULL: the file system was made in the file (format_file). */
	int	(*format)(struct attach *);
	int	(*mount)(struct attach *);
	int	(*remount_rw)(struct attach *);
	int	(*unmount)(struct attach *);
	int	(*detach)(struct attach *);
	/* Make the file system in a new image file, before it is attached. */
	int	(*format_file)(const char *);
	/* Its disks take a block transform (the kernel's cgd). */
	bool	 transforms;
	/*
	 * The mount is made here (mount(2)), so that it can be checked to
	 * have happened; mount(8) run as a command may be a test's stub.
	 */
	bool	 check_mount;
};

/*
 * A block transform between the back end's device and the file system:
 * attach on a->disk (it becomes the transform's device), fill a new
 * volume's every sector, detach.
 */
struct attach_xform {
	const char *name;
	int	(*attach)(struct attach *);
	int	(*fill)(struct attach *);
	int	(*detach)(struct attach *);
};

extern const struct attach_ops loop_ops;	/* attach_loop.c */
extern const struct attach_ops vnd_ops;		/* attach_vnd.c */
extern const struct attach_xform cgd_xform;	/* attach_cgd.c */

#endif /* ATTACH_IMPL_H */
