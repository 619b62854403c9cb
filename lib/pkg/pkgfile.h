/*
 * A pkgsrc binary package (the archive pkg_create makes), read with
 * libarchive as pkg_add reads it (add/perform.c): the +-files first, in
 * pkg_install's order, then the payload, each entry checked against the
 * packing list in order and given with the mode, owner and group it is
 * to have.  Nothing of the package is run or written anywhere.
 */
#ifndef PKG_PKGFILE_H
#define PKG_PKGFILE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include "pkg/plist.h"
#include "pkg/pkginstall.h"

/* The +-files, in the order pkg_create writes them and pkg_add wants. */
enum pkgmeta {
	PKGM_CONTENTS, PKGM_COMMENT, PKGM_DESC, PKGM_INSTALL, PKGM_DEINSTALL,
	PKGM_DISPLAY, PKGM_MTREE_DIRS, PKGM_BUILD_VERSION, PKGM_BUILD_INFO,
	PKGM_SIZE_PKG, PKGM_SIZE_ALL, PKGM_PRESERVE, PKGM_REQUIRED_BY,
	PKGM_INSTALLED_INFO, PKGM_N
};
extern const char *const pkgmeta_name[PKGM_N];

/* What +BUILD_INFO says that installing needs (NULL where it is silent). */
struct pkg_buildinfo {
	const char	*opsys, *os_version, *machine_arch, *pkgtools_version;
	const char	*localbase, *pkg_sysconfbase, *pkg_sysconfdir;
	const char	*varbase, *pkgmandir;
};

/* One entry of the payload. */
struct pkgentry {
	const char	*name;		/* as listed: relative to prefix */
	const char	*prefix;	/* the @cwd in force */
	const struct plist_file *pf;
	mode_t		 type;		/* S_IFREG or S_IFLNK */
	mode_t		 mode;		/* permission bits, 07777 */
	const char	*owner;		/* a user name */
	const char	*group;
	const char	*symlink;	/* a symbolic link's target */
	const char	*hardlink;	/* an earlier file it is a link to */
	int64_t		 size;
};

struct pkgfile {
	char		*label;
	struct archive	*ar;
	struct archive_entry *pending;	/* the payload's first header */
	bool		 at_end;
	char		*meta[PKGM_N];	/* NUL-ended; NULL if absent */
	size_t		 metalen[PKGM_N];
	struct plist	 plist;
	struct pkginstall inst;
	struct pkg_buildinfo bi;
	char		*bibuf;		/* bi's strings */
	size_t		 nextf;		/* the plist file to come next */
	const struct plist_file *cur;	/* the entry being read */
	bool		 reading;
	void		*md5;		/* the running digest of cur */
};

/*
 * Open the package at path (label names it in messages) and read its
 * +-files: misordered, duplicated, over-long (SR_TEXT_MAX) or missing
 * required ones (+CONTENTS, +COMMENT, +DESC) fail, as do a packing list,
 * +INSTALL data lines or +BUILD_INFO out of form.  pkgfile_close() in
 * every case.
 */
int	pkgfile_open(struct pkgfile *, const char *path, const char *label);
/*
 * The next payload entry into *e (valid until the next call): 1, or 0
 * at the end once every listed file was found, or -1 (an entry not in
 * the packing list or out of its order, a listed file missing, a type
 * other than a file or a symbolic link, a link not as listed).
 */
int	pkgfile_next(struct pkgfile *, struct pkgentry *e);
/*
 * Read the current entry's contents: bytes read, 0 at its end (where
 * its "MD5:" annotation is checked), -1 on error.
 */
ssize_t	pkgfile_read(struct pkgfile *, void *, size_t);
void	pkgfile_close(struct pkgfile *);

#endif /* PKG_PKGFILE_H */
