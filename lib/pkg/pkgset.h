/*
 * A set of packages to install together, checked as pkg_add would
 * check them one by one (add/perform.c): no package twice, no two
 * versions of one, no file installed by two, every @pkgdep met by a
 * package of the set, no @pkgcfl met; then the order to install them in (dependencies first)
 * and what each one's +REQUIRED_BY says once all are in.
 */
#ifndef PKG_PKGSET_H
#define PKG_PKGSET_H

#include <stddef.h>

#include "pkg/plist.h"

struct pkgset_in {
	const char		*label;		/* the archive's name */
	const struct plist	*pl;
};

struct pkgset {
	size_t	  n;
	size_t	 *order;	/* indices into the input, dependencies first */
	size_t	**dep;		/* per package: the packages it depends on */
	size_t	 *ndep;
	char	**required_by;	/* per package: +REQUIRED_BY's text, or NULL */
};

/*
 * Check n packages (their parsed +CONTENTS) and fill set (pkgset_free()
 * frees it).  Each @pkgdep is met by the best package of the set that
 * matches it, as pkg_add takes the best installed one; @blddep is not
 * needed at install time.  A refusal is one line naming both packages.
 */
int	pkgset_resolve(const struct pkgset_in *, size_t n, struct pkgset *set);
void	pkgset_free(struct pkgset *);

#endif /* PKG_PKGSET_H */
