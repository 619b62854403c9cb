/*
 * A guest tree: what a plan reads and writes, whatever holds it.
 *
 * Paths are relative to the guest's root ("etc/rc"), never absolute and
 * never with "." or ".." components; no implementation ever follows a
 * symbolic link of the guest's.  "" is the root itself: every tree's
 * lstat and list answer for it as for a directory (a host directory's
 * own; tree_mem's 0755 and root's; tree_recording's inner root with the
 * owner and mode its spec gives "."; an FFS image's root inode), so
 * that a walk of "" is the whole tree.  Every byte a tree returns is the
 * guest's: untrusted.  Functions return 0 (or a count) on success and
 * -1 on failure with a message naming the path inside the guest
 * (sr_errmsg()) and errno set; a path that is not there fails with
 * ENOENT (but see remove).  An operation a tree does not have fails
 * with EROFS.
 *
 * Implementations:
 *   tree_dir()        a host directory (dir.h: contained *at() calls)
 *   tree_mem()        a tree in memory (an entset: a local's recorded etc)
 *   tree_ffs()        an FFS image read with libtsk, read-only (an image
 *                     layer's: image/ffsread.h)
 *   tree_recording()  another tree, noting each written path's owner,
 *                     mode and device numbers in an mtree spec, and
 *                     answering lstat from it (a stage built by a user)
 */
#ifndef TREE_H
#define TREE_H

#include <sys/stat.h>

#include <stdbool.h>
#include <stdint.h>

#include "base/sr.h"

/* How a path is written: owner, mode (permission bits) and more. */
struct tree_wopts {
	mode_t	 mode;
	uid_t	 uid;
	gid_t	 gid;
	bool	 keep_orig;	/* link the old file to NAME.orig, once */
	bool	 nosync;	/* the caller syncs the whole tree later */
};

/* The room left on what holds a tree (tree_room()). */
struct tree_room {
	uint64_t avail;		/* bytes free, for us */
	bool	 noinodes;	/* and no inode left for a new file */
	char	 where[512];	/* where it is mounted, for messages */
};

struct tree;

struct tree_ops {
	const char *kind;	/* "directory", "memory", "FFS image", ... */
	/* Reading: every tree has these. */
	int	(*lstat)(struct tree *, const char *, struct stat *);
	/* A regular file of at most max bytes (more: EFBIG). */
	int	(*read)(struct tree *, const char *, size_t, struct sbuf *);
	/* Up to len bytes of a regular file from off; returns the count. */
	ssize_t	(*pread)(struct tree *, const char *, uint64_t, void *,
		    size_t);
	/* Sorted names in a directory, NULL-ended (tree_freelist()). */
	int	(*list)(struct tree *, const char *, char ***);
	int	(*readlink)(struct tree *, const char *, struct sbuf *);
	/* Writing: NULL in a read-only tree. */
	int	(*write)(struct tree *, const char *, const void *, size_t,
		    const struct tree_wopts *);
	/* The same, the content read from a host file descriptor. */
	int	(*write_fd)(struct tree *, const char *, int,
		    const struct tree_wopts *);
	/* Link an existing regular file to NAME.orig, unless that exists. */
	int	(*keep_orig)(struct tree *, const char *);
	/* A directory, with wo's owner and mode; fine if one is there. */
	int	(*mkdir)(struct tree *, const char *, const struct tree_wopts *);
	/* A symbolic link to target, replacing what is there (no dir). */
	int	(*symlink)(struct tree *, const char *, const char *,
		    const struct tree_wopts *);
	/* A hard link at the second path to the first, replacing it. */
	int	(*link)(struct tree *, const char *, const char *);
	/* A device node or fifo (wo->mode holds the type). */
	int	(*mknod)(struct tree *, const char *, dev_t,
		    const struct tree_wopts *);
	/*
	 * A path and, for a directory, all below it.  A path that is not
	 * there is removed already (0), so that a plan's remove holds
	 * whatever ran before it; its parents must be there, as for any
	 * write (ENOENT, ENOTDIR: a plan made for another tree), and the
	 * top ("") is refused (EINVAL).
	 */
	int	(*remove)(struct tree *, const char *);
	/* Owner and permissions of what is there (a link: owner only). */
	int	(*setattr)(struct tree *, const char *,
		    const struct tree_wopts *);
	/* Make what was written durable (or nothing to do). */
	int	(*sync)(struct tree *);
	/* The room left on what holds it (NULL: a tree not on a disk). */
	int	(*room)(struct tree *, struct tree_room *);
	void	(*close)(struct tree *);
	/*
	 * A path's file flags (chflags(2): NetBSD's UF_*, SF_*), which stat
	 * does not carry; NULL where a tree keeps none (tree_getflags()).
	 */
	int	(*getflags)(struct tree *, const char *, uint32_t *);
};

struct tree {
	const struct tree_ops *ops;
	const char *name;	/* for messages: the image or directory */
};

/* The operations, checked for being there (EROFS where they are not). */
int	tree_lstat(struct tree *, const char *, struct stat *);
int	tree_read(struct tree *, const char *, size_t, struct sbuf *);
ssize_t	tree_pread(struct tree *, const char *, uint64_t, void *, size_t);
int	tree_list(struct tree *, const char *, char ***);
void	tree_freelist(char **);
int	tree_readlink(struct tree *, const char *, struct sbuf *);
int	tree_write(struct tree *, const char *, const void *, size_t,
	    const struct tree_wopts *);
int	tree_write_fd(struct tree *, const char *, int,
	    const struct tree_wopts *);
int	tree_keep_orig(struct tree *, const char *);
int	tree_mkdir(struct tree *, const char *, const struct tree_wopts *);
int	tree_symlink(struct tree *, const char *, const char *,
	    const struct tree_wopts *);
int	tree_link(struct tree *, const char *, const char *);
int	tree_mknod(struct tree *, const char *, dev_t,
	    const struct tree_wopts *);
int	tree_remove(struct tree *, const char *);
int	tree_setattr(struct tree *, const char *, const struct tree_wopts *);
int	tree_sync(struct tree *);
/*
 * The room left on what holds the tree, for a message about a full one
 * (a plan's: what the rest of it needs); -1 where it cannot tell (a tree
 * in memory, an image read with libtsk: ENOTSUP), errno set and no
 * message recorded, so that the failure being told keeps its own.
 */
int	tree_room(struct tree *, struct tree_room *);
/*
 * A path's file flags into *flags; a tree that keeps none (no getflags
 * op) answers 0 with none, without a look (a copy asks of every path).
 */
int	tree_getflags(struct tree *, const char *, uint32_t *);
/* Close the tree and free it; NULL is fine. */
void	tree_close(struct tree *);
/* Whether the tree can be written. */
bool	tree_writable(const struct tree *);

/*
 * Whether a regular file holds the bytes needle (read in pieces, so a
 * kernel is never held whole): 0 yes, 1 no, -1 error (ENOENT: no file).
 */
int	tree_has(struct tree *, const char *, const void *, size_t);
/* Whether a path exists: 0 yes, 1 no, -1 error. */
int	tree_exists(struct tree *, const char *);
/*
 * Whether a lookup of rel may go on through a component of type mode
 * (the containment rule every tree's own lookup keeps): a directory, 0;
 * a symbolic link (ELOOP) or anything else (ENOTDIR), -1 with one
 * message naming rel and step.
 */
int	tree_pass(const char *, const char *, mode_t);

/*
 * The directory rel of t as a tree of its own, for reading (NULL on an
 * error): its paths are below rel.  A host directory's is opened once,
 * so that a walk below it is not led elsewhere when a name above it
 * changes (a directory swapped for a link, say); another tree's prefixes
 * rel to each path.  Closed with tree_close(), before t.
 */
struct tree *tree_sub(struct tree *, const char *);

/*
 * One walk, for every implementation: top and all below it, parents
 * before children, names sorted; never deeper than SR_MAXDEPTH
 * components (an error naming the path), never through a symbolic link,
 * never into a directory met before (by device and inode: a host tree
 * may hold one twice).  fn returns 0 to go on, 1 not to go into this
 * directory, -1 to stop with an error.  A top that is not there is an
 * empty walk when missing_ok.  A top of "" is the root: fn meets ""
 * first, then every path of the tree.
 */
typedef int tree_walkfn(void *, const char *, const struct stat *);
int	tree_walk(struct tree *, const char *, bool, tree_walkfn *, void *);

/*
 * A host directory at fd (the tree keeps a duplicate of its own), named
 * name in messages; its room is its file system's (fstatvfs).
 * TREE_NOSYNC: files are not synced one by one (the caller calls
 * tree_sync() when done); TREE_RDONLY: no write operation.
 */
#define TREE_NOSYNC	0x1
#define TREE_RDONLY	0x2
struct tree *tree_dir(int, const char *, int);
/* The descriptor of a tree_dir() tree (or -1 for any other kind). */
int	tree_dir_fd(const struct tree *);

/*
 * The entries of set (identity.h) as a tree, read and written in
 * memory (tree_mem.c says how it is like a directory, and where not).
 * The set stays the caller's: closing the tree frees the tree alone.
 */
struct entset;
struct tree *tree_mem(struct entset *);

/*
 * A recording tree over inner, which it takes (closed with it; NULL
 * gives NULL): each change goes to inner as far as its user can make
 * it, and what the path truly is (type, owner, group, mode, time, link
 * target, device numbers) to spec as it is made.  Read, it answers with
 * inner's contents and spec's owners and modes, and shows the device
 * nodes spec alone holds; its room is inner's.  See tree_rec.c.
 */
struct spec;
struct tree *tree_recording(struct tree *, struct spec *);

#endif /* TREE_H */
