/*
 * A pkgsrc binary package's packing list (+CONTENTS), as pkg_install's
 * lib/plist.c reads it, parsed from untrusted text into arrays: nothing
 * of it is run.  The checks on names (relative, no "." or "..", no
 * empty component) are shared with the other parsers of lib/pkg.
 */
#ifndef PKG_PLIST_H
#define PKG_PLIST_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

/* The longest line of +CONTENTS (pkg_install reads lines of MaxPathSize). */
#define PLIST_LINE_MAX	4096
/* The longest user or group name a package may name. */
#define PKG_IDNAME_MAX	32

enum plist_type {
	PLIST_FILE, PLIST_CWD, PLIST_SRC, PLIST_EXEC, PLIST_UNEXEC,
	PLIST_MODE, PLIST_OWNER, PLIST_GROUP, PLIST_COMMENT, PLIST_IGNORE,
	PLIST_NAME, PLIST_DISPLAY, PLIST_PKGDEP, PLIST_BLDDEP, PLIST_PKGCFL,
	PLIST_PKGDIR, PLIST_DIRRM, PLIST_OPTION
};

/* One line of +CONTENTS, in order; arg is "" for a command without one. */
struct plist_ent {
	enum plist_type	 type;
	const char	*arg;		/* into buf */
	char		*buf;		/* the line, owned */
	unsigned	 line;
	bool		 ignored;	/* the entry after an @ignore */
};

/* A file the package installs, with what is in force where it is listed. */
struct plist_file {
	const char	*name;		/* relative to prefix */
	const char	*prefix;	/* the @cwd in force (absolute) */
	mode_t		 mode;		/* @mode's bits, if has_mode */
	bool		 has_mode;
	const char	*owner;		/* @owner, or NULL */
	const char	*group;		/* @group, or NULL */
	const char	*md5;		/* "@comment MD5:" (32 hex digits), or NULL */
	const char	*symlink;	/* "@comment Symlink:" target, or NULL */
	bool		 ignored;	/* after @ignore: not in the payload */
	unsigned	 line;
};

/* A list of the arguments of one kind of command, with their lines. */
struct plist_args {
	const char	**v;
	unsigned	 *line;
	size_t		  n;
};

struct plist {
	const char	*name;		/* @name: "pkgbase-version" */
	const char	*prefix;	/* the first @cwd */
	const char	*display;	/* @display, or NULL */
	struct plist_ent *ent;		/* every line, in order */
	size_t		  nent;
	struct plist_file *file;
	size_t		  nfile;
	/* Each without the entries that follow an @ignore. */
	struct plist_args pkgdep, blddep, pkgcfl, dirrm, pkgdir, exec, unexec,
			  option, src;
};

/*
 * Parse +CONTENTS text (len bytes, at most SR_TEXT_MAX) into pl, which
 * plist_free() frees; label names the package in messages ("label:
 * +CONTENTS line N: ...").  Unknown commands, absolute or ".." file
 * names, NULs, over-long lines and a missing @name or @cwd fail.
 */
int	plist_parse(const char *label, const char *text, size_t len,
	    struct plist *pl);
void	plist_free(struct plist *);

/*
 * Whether s is a clean relative path: not empty, not absolute, no empty,
 * "." or ".." component, no control character.
 */
bool	pkg_relpath_ok(const char *s);
/* The same for an absolute path ("/" alone allowed). */
bool	pkg_abspath_ok(const char *s);
/* An octal mode of 1 to 4 digits (as chmod takes it), into *mode. */
bool	pkg_mode_parse(const char *s, mode_t *mode);
/* A user or group name: [A-Za-z0-9._-], not starting with '-'. */
bool	pkg_idname_ok(const char *s);
/* A package name "base-version": printable, no space or '/'. */
bool	pkg_pkgname_ok(const char *s);

#endif /* PKG_PLIST_H */
