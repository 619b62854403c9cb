/*
 * The data lines of a package's +INSTALL and +DEINSTALL scripts, as
 * pkgsrc's mk/pkginstall writes them ("# USER: ", "# GROUP: ",
 * "# FILE: ", "# DIR: ", "# PERMS: ", "# SHELL: "): what the scripts
 * would do, read instead of run.  rc.d scripts (RCD_SCRIPTS) are FILE
 * lines with the 'r' flag whose example is under share/examples/rc.d.
 */
#ifndef PKG_PKGINSTALL_H
#define PKG_PKGINSTALL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

/* The longest field taken (a path, a comment). */
#define PKGINST_FIELD_MAX	1024

struct pkg_user {			/* user:group[:uid[:gecos[:home[:shell]]]] */
	char		*name, *group;
	long		 uid;		/* -1 if not given */
	char		*gecos;		/* "" if not given */
	char		*home, *shell;	/* "" if not given: the defaults */
	unsigned	 line;
};

struct pkg_group {			/* group[:gid] */
	char		*name;
	long		 gid;		/* -1 if not given */
	unsigned	 line;
};

/* Attributes a FILE, DIR or PERMS line may give, each optional. */
struct pkg_attr {
	mode_t		 mode;
	bool		 has_mode;
	char		*owner;		/* NULL if not given */
	char		*group;
};

#define PKGF_COPY	0x1		/* c: copied into place */
#define PKGF_FORCE	0x2		/* f: whatever PKG_CONFIG says */
#define PKGF_RCD	0x4		/* r: an rc.d script */
#define PKGF_MAKE	0x8		/* DIR m: made when added */
#define PKGF_OWNED	0x10		/* DIR o: owned by the package */

struct pkg_cfile {			/* file flags [example [mode [user [group]]]] */
	char		*path;		/* relative: to the prefix */
	unsigned	 flags;
	char		*example;	/* NULL if none */
	struct pkg_attr	 attr;
	unsigned	 line;
};

struct pkg_dir {			/* dir flags [mode [user [group]]] */
	char		*path;
	unsigned	 flags;
	struct pkg_attr	 attr;
	unsigned	 line;
};

struct pkg_perms {			/* file mode [user [group]] */
	char		*path;
	struct pkg_attr	 attr;
	unsigned	 line;
};

struct pkg_shell {
	char		*path;
	unsigned	 line;
};

struct pkginstall {
	struct pkg_user	 *user;		size_t nuser;
	struct pkg_group *group;	size_t ngroup;
	struct pkg_cfile *file;		size_t nfile;
	struct pkg_dir	 *dir;		size_t ndir;
	struct pkg_perms *perms;	size_t nperms;
	struct pkg_shell *shell;	size_t nshell;
};

/*
 * Read the data lines of script (its name, "+INSTALL", for messages)
 * of package label into pi (zeroed first; pkginstall_free() frees it).
 * pkgsrc writes the same data lines into +INSTALL and +DEINSTALL: read
 * one.  Every other line is ignored.  A data line out of form (a field
 * too many, a path with "..", a mode not octal, a name not a user's)
 * fails with "label: +INSTALL line N: ...".
 */
int	pkginstall_parse(const char *label, const char *script,
	    const char *text, size_t len, struct pkginstall *pi);
void	pkginstall_free(struct pkginstall *);

#endif /* PKG_PKGINSTALL_H */
