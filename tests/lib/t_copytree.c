/*
 * set_member_name(): the names of a NetBSD set's members as paths in
 * the root, one name for each path, nothing outside it.
 */
#include <limits.h>

#include "h_util.h"
#include "tree/copytree.h"

ATF_TC_WITHOUT_HEAD(set_member_names);
ATF_TC_BODY(set_member_names, tc)
{
	static const struct {
		const char *name;
		int r;
		const char *path;
	} t[] = {
		{ "./bin/sh", 1, "bin/sh" },
		{ "bin/sh", 1, "bin/sh" },
		{ "./etc/", 1, "etc" },
		{ "./etc//rc.d/./root", 1, "etc/rc.d/root" },
		{ ".//etc/passwd", 1, "etc/passwd" },	/* once "/etc/passwd" */
		{ "./...", 1, "..." },
		{ "./..x", 1, "..x" },
		{ ".", 0, "" },
		{ "./", 0, "" },
		{ "././/.", 0, "" },
		{ "/etc/passwd", -1, NULL },
		{ "./etc/../../x", -1, NULL },
		{ "..", -1, NULL },
		{ "etc/..", -1, NULL },
	};
	char out[PATH_MAX], longname[PATH_MAX + 16];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = set_member_name(t[i].name, out, sizeof(out));

		ATF_CHECK_EQ_MSG(r, t[i].r, "%s", t[i].name);
		if (r == t[i].r && r >= 0)
			ATF_CHECK_STREQ_MSG(out, t[i].path, "%s", t[i].name);
	}
	ATF_CHECK_EQ(set_member_name(NULL, out, sizeof(out)), -1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ATF_CHECK_EQ(set_member_name(longname, out, sizeof(out)), -2);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, set_member_names);
	return atf_no_error();
}
