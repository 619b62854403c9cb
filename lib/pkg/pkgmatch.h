/*
 * pkg_install's matching of package patterns (lib/opattern.c,
 * lib/dewey.c): csh-style {a,b} alternatives, dewey comparisons
 * ("foo>=1.0", "foo>=1.0<2"), globs ("foo-[0-9]*"), exact names, and a
 * bare base name, against "name-version".
 */
#ifndef PKG_PKGMATCH_H
#define PKG_PKGMATCH_H

/* The longest pattern taken (pkg_install's PKG_PATTERN_MAX). */
#define PKGMATCH_PATTERN_MAX	1024

/*
 * Compare two versions as dewey.c does: numbers, '.' and '_' and "pl"
 * as 0, alpha < beta < pre = rc < release, a letter as ".N", the "nb"
 * revision last.  Returns <0, 0 or >0.
 */
int	pkg_version_cmp(const char *, const char *);

/*
 * Whether pkg ("name-version") matches pattern: 1 if it does, 0 if not,
 * -1 with a message if the pattern is malformed (unbalanced braces, too
 * long, too many alternatives).
 */
int	pkg_match(const char *pattern, const char *pkg);

/*
 * Of two packages matching pattern, which is better (pkg_order()): 1 the
 * first, 2 the second, 0 neither matches.  Either may be NULL.
 */
int	pkg_order(const char *pattern, const char *, const char *);

#endif /* PKG_PKGMATCH_H */
