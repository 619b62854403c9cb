/*
 * setup-root's work on a guest tree: kernel, /dev for a memory file
 * system, mount points, and the rc pre-hook.
 */
#ifndef ROOTPREP_H
#define ROOTPREP_H

#include <limits.h>
#include <stdbool.h>

#include "plan/plan.h"
#include "tree/spec.h"

struct rootprep {
	const char *kernel;	/* host path, or NULL to leave netbsd */
	char	 kname[NAME_MAX + 1];	/* its name in the root (no .gz) */
	int	 kernelfd;	/* opened by kernel_open(), or -1 */
	char	 localdev[64];	/* the local disk's block device */
	char	 localrdev[64];	/* and its raw device */
	const char *sharedir;	/* where rc/ and templates/ are */
	bool	 force;		/* an unknown MAKEDEV is left as it is */
	struct spec *rootspec;	/* a staged root's spec, or NULL */
};

/* Check -l: a raw disk device, /dev/rNAME; fill both device names. */
int	localdev_parse(struct rootprep *, const char *);
/* Open the kernel file named with -k; a gzipped one is uncompressed. */
int	kernel_open(struct rootprep *, const char *);
/*
 * Decide every change the root needs, checking all input first; the
 * root is a tree of any kind, only read.
 */
int	rootprep_plan(struct tree *, const struct rootprep *, struct plan *);

#endif /* ROOTPREP_H */
