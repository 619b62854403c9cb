/*
 * rc_insert_hook() and rc_remove_hook() on both shapes of etc/rc.
 */
#include "plan/edit.h"
#include "h_util.h"

#define COMMENT "# sharedroot: mount this guest's local disk over /etc " \
	"and /var, then re-run rc."

ATF_TC_WITHOUT_HEAD(hook_4x_before_rcsubr);
ATF_TC_BODY(hook_4x_before_rcsubr, tc)
{
	size_t len, nlen;
	char *old = h_fixture(tc, "nb4/rc", &len), *new;

	ATF_REQUIRE_EQ(rc_insert_hook(old, len, &new, &nlen), EDIT_CHANGED);
	ATF_CHECK_EQ(h_count_line(new, RC_HOOK_LINE), 1);
	ATF_CHECK_EQ(h_line_no(new, RC_HOOK_LINE) + 2,
	    h_line_no(new, ". /etc/rc.subr"));
	ATF_CHECK_EQ(h_line_no(new, COMMENT) + 1, h_line_no(new,
	    RC_HOOK_LINE));
	ATF_CHECK(h_line_no(new, RC_HOOK_LINE) < h_line_no(new,
	    ". /etc/rc.conf"));
	/* Exactly three lines more, and nothing else changed. */
	ATF_CHECK_EQ(nlen, len + strlen(COMMENT) + strlen(RC_HOOK_LINE) + 3);
	ATF_CHECK_EQ(h_count_line(new, "export PATH=/sbin:/bin:/usr/sbin:/usr/bin"),
	    1);
	free(new);
	free(old);
}

ATF_TC_WITHOUT_HEAD(hook_today_before_if);
ATF_TC_BODY(hook_today_before_if, tc)
{
	size_t len, nlen;
	char *old = h_fixture(tc, "nb10/rc", &len), *new;

	ATF_REQUIRE_EQ(rc_insert_hook(old, len, &new, &nlen), EDIT_CHANGED);
	ATF_CHECK_EQ(h_count_line(new, RC_HOOK_LINE), 1);
	/* Before the whole if/else block, so both branches follow it. */
	ATF_CHECK_EQ(h_line_no(new, RC_HOOK_LINE) + 2,
	    h_line_no(new, "if [ -e ./rc.subr ] ; then"));
	ATF_CHECK(h_line_no(new, RC_HOOK_LINE) < h_line_no(new,
	    "\t. /etc/rc.subr"));
	ATF_CHECK(h_line_no(new, RC_HOOK_LINE) < h_line_no(new,
	    ". /etc/rc.conf"));
	ATF_CHECK_EQ(nlen, len + strlen(COMMENT) + strlen(RC_HOOK_LINE) + 3);
	free(new);
	free(old);
}

ATF_TC_WITHOUT_HEAD(hook_already_there);
ATF_TC_BODY(hook_already_there, tc)
{
	const char *shapes[] = { "nb4/rc", "nb10/rc" };
	size_t len, nlen, n2, i;
	char *old, *new, *again;

	for (i = 0; i < 2; i++) {
		old = h_fixture(tc, shapes[i], &len);
		ATF_REQUIRE_EQ(rc_insert_hook(old, len, &new, &nlen),
		    EDIT_CHANGED);
		ATF_CHECK_EQ(rc_insert_hook(new, nlen, &again, &n2),
		    EDIT_ALREADY);
		ATF_CHECK(again == NULL);
		free(new);
		free(old);
	}
}

ATF_TC_WITHOUT_HEAD(hook_cannot_place_without_rcsubr);
ATF_TC_BODY(hook_cannot_place_without_rcsubr, tc)
{
	const char *rc = "#!/bin/sh\n. /etc/rc.conf\necho hi\n";
	char *new;
	size_t nlen;

	ATF_CHECK_EQ(rc_insert_hook(rc, strlen(rc), &new, &nlen),
	    EDIT_CANNOT);
	ATF_CHECK(new == NULL);
	ATF_CHECK_STREQ(sr_errmsg(), "cannot find where rc.subr is loaded");
}

ATF_TC_WITHOUT_HEAD(hook_cannot_place_indented_elsewhere);
ATF_TC_BODY(hook_cannot_place_indented_elsewhere, tc)
{
	/* Indented, but not in the if/else block we know: not ours to guess. */
	const char *rc = "#!/bin/sh\nwhile true; do\n\t. /etc/rc.subr\n"
	    "done\n. /etc/rc.conf\n";
	char *new;
	size_t nlen;

	ATF_CHECK_EQ(rc_insert_hook(rc, strlen(rc), &new, &nlen),
	    EDIT_CANNOT);
}

ATF_TC_WITHOUT_HEAD(hook_cannot_place_after_rcconf);
ATF_TC_BODY(hook_cannot_place_after_rcconf, tc)
{
	const char *rc = "#!/bin/sh\n. /etc/rc.conf\n. /etc/rc.subr\n";
	char *new;
	size_t nlen;

	ATF_CHECK_EQ(rc_insert_hook(rc, strlen(rc), &new, &nlen),
	    EDIT_CANNOT);
	ATF_CHECK(strstr(sr_errmsg(), "rc.conf is loaded before") != NULL);
}

ATF_TC_WITHOUT_HEAD(hook_commented_rcsubr_ignored);
ATF_TC_BODY(hook_commented_rcsubr_ignored, tc)
{
	const char *rc = "#!/bin/sh\n# . /etc/rc.subr\n. /etc/rc.subr\n"
	    ". /etc/rc.conf\n";
	char *new;
	size_t nlen;

	ATF_REQUIRE_EQ(rc_insert_hook(rc, strlen(rc), &new, &nlen),
	    EDIT_CHANGED);
	ATF_CHECK_EQ(h_line_no(new, RC_HOOK_LINE), 4);
	free(new);
}

ATF_TC_WITHOUT_HEAD(hook_no_final_newline_kept);
ATF_TC_BODY(hook_no_final_newline_kept, tc)
{
	const char *rc = ". /etc/rc.subr\n. /etc/rc.conf";
	char *new;
	size_t nlen;

	ATF_REQUIRE_EQ(rc_insert_hook(rc, strlen(rc), &new, &nlen),
	    EDIT_CHANGED);
	ATF_CHECK(new[nlen - 1] == 'f');
	free(new);
}

ATF_TC_WITHOUT_HEAD(hook_remove_restores_both_shapes);
ATF_TC_BODY(hook_remove_restores_both_shapes, tc)
{
	const char *shapes[] = { "nb4/rc", "nb10/rc" };
	size_t len, nlen, rlen, i;
	char *old, *new, *back;

	for (i = 0; i < 2; i++) {
		old = h_fixture(tc, shapes[i], &len);
		ATF_REQUIRE_EQ(rc_insert_hook(old, len, &new, &nlen),
		    EDIT_CHANGED);
		ATF_REQUIRE_EQ(rc_remove_hook(new, nlen, &back, &rlen),
		    EDIT_CHANGED);
		ATF_CHECK_EQ(rlen, len);
		ATF_CHECK(memcmp(back, old, len) == 0);
		ATF_CHECK_EQ(rc_remove_hook(old, len, &back, &rlen),
		    EDIT_ALREADY);
		free(new);
		free(old);
	}
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, hook_4x_before_rcsubr);
	ATF_TP_ADD_TC(tp, hook_today_before_if);
	ATF_TP_ADD_TC(tp, hook_already_there);
	ATF_TP_ADD_TC(tp, hook_cannot_place_without_rcsubr);
	ATF_TP_ADD_TC(tp, hook_cannot_place_indented_elsewhere);
	ATF_TP_ADD_TC(tp, hook_cannot_place_after_rcconf);
	ATF_TP_ADD_TC(tp, hook_commented_rcsubr_ignored);
	ATF_TP_ADD_TC(tp, hook_no_final_newline_kept);
	ATF_TP_ADD_TC(tp, hook_remove_restores_both_shapes);
	return atf_no_error();
}
