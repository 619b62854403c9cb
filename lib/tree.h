/*
 * Access to a guest tree through its root directory fd only.
 *
 * Paths are relative to the guest's root ("etc/rc"), never absolute and
 * never with "." or ".." components.  No symbolic link is ever followed:
 * on Linux openat2(2) resolves every path with RESOLVE_IN_ROOT and
 * RESOLVE_NO_SYMLINKS; elsewhere each component is opened in turn with
 * O_NOFOLLOW.  A hostile image therefore cannot make us touch the host.
 * Messages name the path inside the guest and the step.
 */
#ifndef TREE_H
#define TREE_H

#include <sys/stat.h>

#include <stdbool.h>

#include "sr.h"

struct tree_wopts {
	mode_t	 mode;
	uid_t	 uid;
	gid_t	 gid;
	bool	 keep_orig;	/* link the old file to NAME.orig, once */
	bool	 nosync;	/* the caller syncs the whole tree later */
	/*
	 * Owner and mode were taken from the file being replaced: where the
	 * tree is a stage whose true attributes are in a spec, the spec's
	 * count instead (see build.c).
	 */
	bool	 same_owner;
	bool	 same_mode;
};

/* Open a directory inside the guest; "" or "." is the root itself. */
int	tree_opendir(int, const char *);
/* Open the parent of a path; *name points at its last component. */
int	tree_openparent(int, const char *, const char **);
/* lstat a path; -1 with errno ENOENT if it does not exist. */
int	tree_lstat(int, const char *, struct stat *);
/* Read a regular file of at most max bytes. */
int	tree_readfile(int, const char *, size_t, struct sbuf *, struct stat *);
/* Replace a file atomically with data (temporary, fsync, rename). */
int	tree_writefile(int, const char *, const void *, size_t,
	    const struct tree_wopts *);
/* The same with the content read from a host file descriptor. */
int	tree_writefile_fd(int, const char *, int, const struct tree_wopts *);
/* Link a regular file to NAME.orig unless that exists. */
int	tree_keep_orig(int, const char *);
/* Open a regular file for reading; links and others are refused. */
int	tree_openfile(int, const char *);
/* Make a hard link to from at to, atomically replacing to. */
int	tree_link(int, const char *, const char *);
/* A symbolic link, atomically replacing what is there (not a directory). */
int	tree_symlink(int, const char *, const char *, uid_t, gid_t);
/* Owner (as root) and mode of a path; for a link, the owner only. */
int	tree_setattr(int, const char *, uid_t, gid_t, mode_t);
/* Make a directory (owned by root when we are root); fine if present. */
int	tree_mkdir(int, const char *, mode_t);
/* Remove a path and, for a directory, all below it. */
int	tree_remove(int, const char *);
/* The same, for cleaning up: a signal caught does not stop it. */
int	tree_purge(int, const char *);
/* tree_purge() of a host path of our own making (a private temp dir). */
int	tree_purge_path(const char *);
/* Sorted names in a directory, NULL-terminated; free with tree_freelist. */
int	tree_list(int, const char *, char ***);
void	tree_freelist(char **);
/* Flush the file system holding fd (all of them, where it cannot tell). */
int	tree_syncfs(int);
/* Whether two regular files in the guest, or guest and host, match. */
int	tree_same_content(int, int, bool *);

/*
 * Directories a walk has met, by device and inode: a host tree can hold
 * one twice (a bind mount), and a walk must not go round it.
 */
struct tree_seen {
	struct {
		dev_t	 dev;
		ino_t	 ino;
		bool	 used;
	}	*v;
	size_t	 n, cap;
};
/* Add a directory: 0 new, 1 met before, -1 out of memory. */
int	tree_seen_add(struct tree_seen *, const struct stat *);
void	tree_seen_free(struct tree_seen *);
/* How deep a walk of a guest tree goes (components of a directory). */
#define TREE_MAXDEPTH	128

#endif /* TREE_H */
