/*
 * makedev_patch() on both shapes of dev/MAKEDEV, and on unknown ones.
 */
#include "plan/edit.h"
#include "h_util.h"

ATF_TC_WITHOUT_HEAD(makedev_4x_patched);
ATF_TC_BODY(makedev_4x_patched, tc)
{
	size_t len, nlen;
	char *old = h_fixture(tc, "nb4/MAKEDEV", &len), *new;
	int x;

	ATF_REQUIRE_EQ(makedev_patch(old, len, &new, &nlen), EDIT_CHANGED);
	x = h_line_no(new, "\tmakedev xbd0 xbd1 xbd2 xbd3 xbd4 xencons");
	ATF_REQUIRE(x > 0);
	ATF_CHECK_EQ(h_line_no(new, "\tmakedev sysmon clockctl"), x + 1);
	ATF_CHECK_EQ(h_line_no(new, "\tmakedev ipl pf crypto systrace"), x + 2);
	ATF_CHECK_EQ(h_line_no(new, "\tmakedev tun0 tun1 tun2 tun3"), x + 3);
	ATF_CHECK_EQ(h_line_no(new, "\tmakedev tap tap0 tap1 tap2 tap3"),
	    x + 4);
	ATF_CHECK_EQ(h_line_no(new, "\tmakedev kttcp"), x + 5);
	ATF_CHECK_EQ(h_count_line(new, "\tmakedev vnd0"), 1);
	ATF_CHECK_EQ(h_count_line(new,
	    "\tmakedev st0 st1 ch0 cd0 cd1 mcd0 vnd0"), 0);
	ATF_CHECK(strstr(new, "makedev iop0") == NULL);
	ATF_CHECK(strstr(new, "makedev ed0") == NULL);
	ATF_CHECK(strstr(new, "makedev ld0") == NULL);
	/* The rest of init) and the other cases stay. */
	ATF_CHECK_EQ(h_count_line(new, "\tmakedev wd0 wd1 wd2 wd3 sd0 sd1 sd2 "
	    "sd3"), 1);
	ATF_CHECK_EQ(h_count_line(new, "\tmakedev local"), 2);
	ATF_CHECK_EQ(h_count_line(new, "\tmakedev ccd0 ccd1 ccd2 ccd3 md0 md1"),
	    1);
	free(new);
	free(old);
}

ATF_TC_WITHOUT_HEAD(makedev_4x_already);
ATF_TC_BODY(makedev_4x_already, tc)
{
	size_t len, nlen, n2;
	char *old = h_fixture(tc, "nb4/MAKEDEV", &len), *new, *again;

	ATF_REQUIRE_EQ(makedev_patch(old, len, &new, &nlen), EDIT_CHANGED);
	ATF_CHECK_EQ(makedev_patch(new, nlen, &again, &n2), EDIT_ALREADY);
	ATF_CHECK(again == NULL);
	free(new);
	free(old);
}

ATF_TC_WITHOUT_HEAD(makedev_today_left_alone);
ATF_TC_BODY(makedev_today_left_alone, tc)
{
	size_t len, nlen;
	char *old = h_fixture(tc, "nb10/MAKEDEV", &len), *new;

	ATF_CHECK_EQ(makedev_patch(old, len, &new, &nlen), EDIT_NOTNEEDED);
	ATF_CHECK(new == NULL);
	free(old);
}

ATF_TC_WITHOUT_HEAD(makedev_today_without_xbd3_unknown);
ATF_TC_BODY(makedev_today_without_xbd3_unknown, tc)
{
	const char *t = "init)\n\tmakedev all opty\n\t;;\nall_md)\n"
	    "\tmakedev xbd0 xbd1 xen\n\t;;\n";
	char *new;
	size_t nlen;

	ATF_CHECK_EQ(makedev_patch(t, strlen(t), &new, &nlen), EDIT_CANNOT);
	ATF_CHECK(strstr(sr_errmsg(), "xbd0 to xbd3") != NULL);
}

ATF_TC_WITHOUT_HEAD(makedev_without_init_unknown);
ATF_TC_BODY(makedev_without_init_unknown, tc)
{
	const char *t = "#!/bin/sh\nall)\n\tmakedev xbd0 xbd1\n\t;;\n";
	char *new;
	size_t nlen;

	ATF_CHECK_EQ(makedev_patch(t, strlen(t), &new, &nlen), EDIT_CANNOT);
	ATF_CHECK(strstr(sr_errmsg(), "no init) case") != NULL);
}

ATF_TC_WITHOUT_HEAD(makedev_init_without_xbd_unknown);
ATF_TC_BODY(makedev_init_without_xbd_unknown, tc)
{
	const char *t = "init)\n\tmakedev std wd0\n\t;;\n";
	char *new;
	size_t nlen;

	ATF_CHECK_EQ(makedev_patch(t, strlen(t), &new, &nlen), EDIT_CANNOT);
}

ATF_TC_WITHOUT_HEAD(makedev_partial_patch_completed);
ATF_TC_BODY(makedev_partial_patch_completed, tc)
{
	/* Someone added xbd2 and sysmon by hand: only the rest is added. */
	const char *t = "init)\n    makedev xbd0 xbd1 xbd2 xencons\n"
	    "    makedev sysmon\n    ;;\n";
	char *new;
	size_t nlen;

	ATF_REQUIRE_EQ(makedev_patch(t, strlen(t), &new, &nlen),
	    EDIT_CHANGED);
	ATF_CHECK_EQ(h_count_line(new,
	    "    makedev xbd0 xbd1 xbd2 xbd3 xbd4 xencons"), 1);
	ATF_CHECK_EQ(h_count_line(new, "    makedev clockctl"), 1);
	ATF_CHECK_EQ(h_count_line(new, "    makedev sysmon"), 1);
	free(new);
}

ATF_TC_WITHOUT_HEAD(makedev_words_not_lines);
ATF_TC_BODY(makedev_words_not_lines, tc)
{
	/*
	 * Tapes, CD drives, RAID and network cards on the disks' line: only
	 * they go (the whole line once went, xbd0 and xbd1 with it, and
	 * the guest had no node for its root disk).
	 */
	const char *t = "init)\n\tmakedev st0 cd0 xbd0 xbd1 ld0 ed1 xencons\n"
	    "\tmakedev mlx0\n\t;;\n";
	char *new, *again;
	size_t nlen, n2;
	int i;

	ATF_REQUIRE_EQ(makedev_patch(t, strlen(t), &new, &nlen),
	    EDIT_CHANGED);
	ATF_CHECK_EQ(h_count_line(new,
	    "\tmakedev xbd0 xbd1 xbd2 xbd3 xbd4 xencons vnd0"), 1);
	ATF_CHECK(strstr(new, "mlx0") == NULL && strstr(new, "ld0") == NULL);
	ATF_CHECK_EQ(makedev_patch(new, nlen, &again, &n2), EDIT_ALREADY);
	free(new);
	/* A line longer than the edit can rewrite whole is not cut short. */
	{
		char longl[1024] = "init)\n\tmakedev xbd0 xbd1";

		for (i = 0; i < 70; i++)
			snprintf(longl + strlen(longl), sizeof(longl) -
			    strlen(longl), " pty%d", i);
		strlcat(longl, "\n\t;;\n", sizeof(longl));
		ATF_CHECK_EQ(makedev_patch(longl, strlen(longl), &new, &nlen),
		    EDIT_CANNOT);
		ATF_CHECK(strstr(sr_errmsg(), "more than 64 devices") != NULL);
	}
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, makedev_4x_patched);
	ATF_TP_ADD_TC(tp, makedev_4x_already);
	ATF_TP_ADD_TC(tp, makedev_today_left_alone);
	ATF_TP_ADD_TC(tp, makedev_today_without_xbd3_unknown);
	ATF_TP_ADD_TC(tp, makedev_without_init_unknown);
	ATF_TP_ADD_TC(tp, makedev_init_without_xbd_unknown);
	ATF_TP_ADD_TC(tp, makedev_partial_patch_completed);
	ATF_TP_ADD_TC(tp, makedev_words_not_lines);
	return atf_no_error();
}
