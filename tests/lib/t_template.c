/*
 * tmpl_render(): @NAME@ substitution and its errors.
 */
#include "h_util.h"
#include "plan/template.h"

static const struct tmpl_var vars[] = {
	{ "DEV", "/dev/xbd2a" },
	{ "FSTYPE", "ffs" },
	{ NULL, NULL }
};

ATF_TC_WITHOUT_HEAD(template_substitutes);
ATF_TC_BODY(template_substitutes, tc)
{
	const char *t = "@DEV@ /local @FSTYPE@ rw 1 2\nmail root@localhost\n";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(tmpl_render("fstab", t, strlen(t), vars, &out), 0);
	ATF_CHECK_STREQ(out.s,
	    "/dev/xbd2a /local ffs rw 1 2\nmail root@localhost\n");
	sbuf_free(&out);
}

ATF_TC_WITHOUT_HEAD(template_unknown_names_file_line);
ATF_TC_BODY(template_unknown_names_file_line, tc)
{
	const char *t = "ok\n@DEV@\nx @NOPE@ y\n";
	struct sbuf out = { 0 };

	ATF_CHECK_EQ(tmpl_render("templates/fstab", t, strlen(t), vars, &out),
	    -1);
	ATF_CHECK_STREQ(sr_errmsg(),
	    "templates/fstab:3: unknown variable @NOPE@");
	sbuf_free(&out);
}

ATF_TC_WITHOUT_HEAD(template_lone_at_kept);
ATF_TC_BODY(template_lone_at_kept, tc)
{
	const char *t = "a@b @ @@ @lower@ end@";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(tmpl_render("x", t, strlen(t), vars, &out), 0);
	ATF_CHECK_STREQ(out.s, t);
	sbuf_free(&out);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, template_substitutes);
	ATF_TP_ADD_TC(tp, template_unknown_names_file_line);
	ATF_TP_ADD_TC(tp, template_lone_at_kept);
	return atf_no_error();
}
