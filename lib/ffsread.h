/*
 * Reading a NetBSD FFS image without mounting it, through The Sleuth
 * Kit's libtsk: for hosts that cannot or may not mount FFS.
 */
#ifndef FFSREAD_H
#define FFSREAD_H

#include "copytree.h"
#include "spec.h"

/*
 * Copy the trees tops (NULL: all of it) of the FFS image at path into dstfd
 * (a private stage), as its user: directories, files (sparse kept),
 * symbolic links, fifos, and hard links by inode.  Every entry's owner,
 * group, mode, time and device numbers go into spec.  Entries matching
 * exclude are left out; what cannot be read is named, file by file.
 */
int	ffs_extract(const char *, const char *const *, const char *const *,
	    int, struct spec *, sr_logfn *, void *, struct copy_stats *);

#endif /* FFSREAD_H */
