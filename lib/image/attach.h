/*
 * Attaching a target (an image or a directory) and handing back its root
 * directory fd.  One state struct per target; every handle has a
 * sentinel, and attach_teardown() undoes, in reverse, exactly what was
 * done, however far the run got.  It is safe to call twice.
 */
#ifndef ATTACH_H
#define ATTACH_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>

#include "tree/scratch.h"

/* The back ends (attach_impl.h); SHAREDROOT_ATTACH names one. */
enum attach_backend { BACKEND_LOOP, BACKEND_VND };

struct attach_ops;

struct attach {
	const char *path;		/* as the user named it */
	bool	 rdonly;
	bool	 isdir;
	enum attach_backend backend;
	const struct attach_ops *ops;	/* the back end's steps */
	int	 fd;			/* the image or directory */
	dev_t	 dev;
	ino_t	 ino;
	char	 fstype[32];
	/* the back end's device, and its state */
	bool	 attached;
	union {
		struct {
			int	 fd;
			int	 nr;		/* /dev/loopNR */
		}	 loop;
		struct {
			char	 unit[16];	/* "vnd0" */
		}	 vnd;
	}	 be;
	/*
	 * A block transform between that device and the file system: a
	 * kernel cgd on the vnd for a key file (-c), attach_cgd.c.
	 */
	const char *keyfile;
	struct {
		char	 unit[16];	/* "cgd0" */
		bool	 attached;
	}	 xf;
	/* The disk the file system is on: the back end's, or the cgd. */
	char	 disk[16];
	/* a new cgd volume's sectors left unwritten: not filled first */
	bool	 sparse;
	/* make a new file system on it first (a new image) */
	bool	 format;
	/* mount read-only until attach_remount_rw(), though attached rw */
	bool	 ro_first;
	/* mount */
	struct scratch mnt;		/* a private directory for mntdir */
	char	 mntdir[PATH_MAX];	/* mnt.dir/mnt */
	bool	 mntdir_made;
	bool	 mounted;
	int	 rootfd;		/* the guest's root */
};

/* Fill a with sentinels; no resources yet. */
void	attach_init(struct attach *, const char *, bool);
/*
 * Open the target (locked by the front end: see lock.h), check it, and
 * for an image attach and mount it.  On success a->rootfd is the guest's
 * root.
 */
int	attach_open(struct attach *);
/* Make a mount that was made read-only first (ro_first) writable. */
int	attach_remount_rw(struct attach *);
/* Flush, unmount, detach, remove the mount point, close. */
int	attach_teardown(struct attach *);
/*
 * Refuse an image a loop or vnd device holds (a running guest's disk, on
 * a dom0), which a rebuild would replace under it.
 */
int	attach_in_use(const char *);
/* The back end in use: $SHAREDROOT_ATTACH or the host's own. */
enum attach_backend attach_backend(void);

/*
 * Make an empty file (mode 0600) under a temporary name beside path,
 * stored in tmp; returns its descriptor, which holds it as this run's
 * (scratch_file()): keep it open until the file is renamed or removed.
 */
int	image_temp(const char *, char *, size_t);
/*
 * Make a sparse image file of the given size under a temporary name
 * beside path (stored in tmp); a back end that formats the file itself
 * (loop: mke2fs) formats it, the others do when attached (format).
 * Returns its descriptor, as image_temp().
 */
int	image_create(const char *, off_t, enum attach_backend, char *, size_t);

#endif /* ATTACH_H */
