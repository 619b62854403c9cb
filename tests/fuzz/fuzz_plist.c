/*
 * A package's +CONTENTS and +INSTALL data lines (pkg/plist.h,
 * pkg/pkginstall.h), and pkg_install's patterns and versions
 * (pkg/pkgmatch.h) on what they hold: the input is read as both.
 *
 * Besides not crashing: a packing list accepted has a package name,
 * an absolute prefix, and files each a plain relative path under an
 * absolute prefix; every path a data line gives is plain; a pattern
 * matches the same way twice and says 1, 0 or -1; versions compare
 * antisymmetrically.
 */
#include "fuzz.h"
#include "pkg/plist.h"
#include "pkg/pkginstall.h"
#include "pkg/pkgmatch.h"

static int
sign(int c)
{
	return c < 0 ? -1 : c > 0;
}

static void
check_plist(const struct plist *pl)
{
	const char *v;
	size_t i;
	int m;

	FUZZ_ASSERT(pl->name != NULL && pkg_pkgname_ok(pl->name));
	FUZZ_ASSERT(pl->prefix != NULL && pkg_abspath_ok(pl->prefix));
	for (i = 0; i < pl->nfile; i++) {
		FUZZ_ASSERT(pkg_relpath_ok(pl->file[i].name));
		FUZZ_ASSERT(pkg_abspath_ok(pl->file[i].prefix));
		FUZZ_ASSERT(!pl->file[i].has_mode ||
		    (pl->file[i].mode & ~07777) == 0);
	}
	for (i = 0; i < pl->dirrm.n; i++)
		FUZZ_ASSERT(pkg_relpath_ok(pl->dirrm.v[i]));
	v = strrchr(pl->name, '-') + 1;
	for (i = 0; i < pl->pkgdep.n && i < 8; i++) {
		m = pkg_match(pl->pkgdep.v[i], pl->name);
		FUZZ_ASSERT(m >= -1 && m <= 1);
		FUZZ_ASSERT(pkg_match(pl->pkgdep.v[i], pl->name) == m);
		FUZZ_ASSERT(sign(pkg_version_cmp(v, pl->pkgdep.v[i])) ==
		    -sign(pkg_version_cmp(pl->pkgdep.v[i], v)));
	}
}

static void
check_install(const struct pkginstall *pi)
{
	size_t i;

	for (i = 0; i < pi->nfile; i++) {
		FUZZ_ASSERT(pkg_relpath_ok(pi->file[i].path) ||
		    pkg_abspath_ok(pi->file[i].path));
		FUZZ_ASSERT(pi->file[i].example == NULL ||
		    pkg_relpath_ok(pi->file[i].example) ||
		    pkg_abspath_ok(pi->file[i].example));
	}
	for (i = 0; i < pi->nuser; i++) {
		FUZZ_ASSERT(pkg_idname_ok(pi->user[i].name));
		FUZZ_ASSERT(strchr(pi->user[i].gecos, ':') == NULL);
		FUZZ_ASSERT(pi->user[i].uid >= -1);
	}
	for (i = 0; i < pi->nperms; i++)
		FUZZ_ASSERT(pi->perms[i].attr.owner == NULL ||
		    pkg_idname_ok(pi->perms[i].attr.owner));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plist pl;
	struct pkginstall pi;

	if (plist_parse("fuzz", (const char *)data, size, &pl) == 0) {
		check_plist(&pl);
		plist_free(&pl);
	} else
		FUZZ_ASSERT(pl.ent == NULL && pl.file == NULL);
	if (pkginstall_parse("fuzz", "+INSTALL", (const char *)data, size,
	    &pi) == 0) {
		check_install(&pi);
		pkginstall_free(&pi);
	}
	return 0;
}
