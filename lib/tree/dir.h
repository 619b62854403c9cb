/*
 * A host directory holding a guest tree, reached through its root
 * directory fd only: the primitives of tree_dir() (tree.h), and of the
 * copiers and stages that work on host directories.
 *
 * Paths are relative to the guest's root ("etc/rc"), never absolute and
 * never with "." or ".." components.  No symbolic link is ever followed:
 * on Linux openat2(2) resolves every path with RESOLVE_IN_ROOT and
 * RESOLVE_NO_SYMLINKS; elsewhere each component is opened in turn with
 * O_NOFOLLOW.  A hostile image therefore cannot make us touch the host.
 * Messages name the path inside the guest and the step.
 */
#ifndef DIR_H
#define DIR_H

#include <sys/stat.h>

#include <stdbool.h>

#include "base/sr.h"
#include "tree/tree.h"

/*
 * Refuse a path that could step outside (absolute, or with an empty,
 * "." or ".." component: EINVAL); every tree checks its paths so.
 */
int	dir_check_rel(const char *);
/* Open a directory inside the guest; "" or "." is the root itself. */
int	dir_opendir(int, const char *);
/* Open the parent of a path; *name points at its last component. */
int	dir_openparent(int, const char *, const char **);
/* lstat a path; -1 with errno ENOENT if it does not exist. */
int	dir_lstat(int, const char *, struct stat *);
/* Read a regular file of at most max bytes. */
int	dir_readfile(int, const char *, size_t, struct sbuf *, struct stat *);
/* Replace a file atomically with data (temporary, fsync, rename). */
int	dir_writefile(int, const char *, const void *, size_t,
	    const struct tree_wopts *);
/* The same with the content read from a host file descriptor. */
int	dir_writefile_fd(int, const char *, int, const struct tree_wopts *);
/* Link a regular file to NAME.orig unless that exists. */
int	dir_keep_orig(int, const char *);
/* Open a regular file for reading; links and others are refused. */
int	dir_openfile(int, const char *);
/* Make a hard link to from at to, atomically replacing to. */
int	dir_link(int, const char *, const char *);
/* A symbolic link, atomically replacing what is there (not a directory). */
int	dir_symlink(int, const char *, const char *, uid_t, gid_t);
/* Owner (as root) and mode of a path; for a link, the owner only. */
int	dir_setattr(int, const char *, uid_t, gid_t, mode_t);
/* Make a directory (owned by root when we are root); fine if present. */
int	dir_mkdir(int, const char *, mode_t);
/*
 * Remove a path and, for a directory, all below it; one not there is
 * removed already (tree.h), the root ("") is refused.
 */
int	dir_remove(int, const char *);
/* The same, for cleaning up: a signal caught does not stop it. */
int	dir_purge(int, const char *);
/* dir_purge() of a host path of our own making (a private temp dir). */
int	dir_purge_path(const char *);
/* Sorted names in a directory, NULL-terminated; free with dir_freelist. */
int	dir_list(int, const char *, char ***);
void	dir_freelist(char **);
/* Flush the file system holding fd (all of them, where it cannot tell). */
int	dir_syncfs(int);

/*
 * Directories a walk has met, by device and inode: a host tree can hold
 * one twice (a bind mount), and a walk must not go round it.
 */
struct dir_seen {
	struct {
		dev_t	 dev;
		ino_t	 ino;
		bool	 used;
	}	*v;
	size_t	 n, cap;
};
/* Add a directory: 0 new, 1 met before, -1 out of memory. */
int	dir_seen_add(struct dir_seen *, const struct stat *);
void	dir_seen_free(struct dir_seen *);

#endif /* DIR_H */
