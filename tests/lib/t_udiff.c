/*
 * udiff(): the unified diffs the dry run prints.
 */
#include "h_util.h"

ATF_TC_WITHOUT_HEAD(udiff_one_insert);
ATF_TC_BODY(udiff_one_insert, tc)
{
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n";
	const char *b = "1\n2\n3\n4\nnew\n5\n6\n7\n8\n";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "etc/x", a, strlen(a), b, strlen(b)), 0);
	ATF_CHECK_STREQ(out.s, "--- a/etc/x\n+++ b/etc/x\n"
	    "@@ -2,6 +2,7 @@\n 2\n 3\n 4\n+new\n 5\n 6\n 7\n");
	sbuf_free(&out);
}

ATF_TC_WITHOUT_HEAD(udiff_replace_and_delete);
ATF_TC_BODY(udiff_replace_and_delete, tc)
{
	const char *a = "a\nb\nc\n";
	const char *b = "a\nB\n";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "f", a, strlen(a), b, strlen(b)), 0);
	ATF_CHECK_STREQ(out.s, "--- a/f\n+++ b/f\n"
	    "@@ -1,3 +1,2 @@\n a\n-b\n-c\n+B\n");
	sbuf_free(&out);
}

ATF_TC_WITHOUT_HEAD(udiff_new_file);
ATF_TC_BODY(udiff_new_file, tc)
{
	const char *b = "x\ny\n";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "etc/new", NULL, 0, b, strlen(b)), 0);
	ATF_CHECK_STREQ(out.s, "--- /dev/null\n+++ b/etc/new\n"
	    "@@ -0,0 +1,2 @@\n+x\n+y\n");
	sbuf_free(&out);
}

ATF_TC_WITHOUT_HEAD(udiff_two_hunks);
ATF_TC_BODY(udiff_two_hunks, tc)
{
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
	const char *b = "X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "f", a, strlen(a), b, strlen(b)), 0);
	ATF_CHECK_STREQ(out.s, "--- a/f\n+++ b/f\n"
	    "@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n"
	    "@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+Y\n");
	sbuf_free(&out);
}

ATF_TC_WITHOUT_HEAD(udiff_missing_newline_marked);
ATF_TC_BODY(udiff_missing_newline_marked, tc)
{
	const char *a = "a\nb";
	const char *b = "a\nb\n";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "f", a, strlen(a), b, strlen(b)), 0);
	ATF_CHECK_STREQ(out.s, "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n"
	    " a\n-b\n\\ No newline at end of file\n+b\n");
	sbuf_free(&out);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, udiff_one_insert);
	ATF_TP_ADD_TC(tp, udiff_replace_and_delete);
	ATF_TP_ADD_TC(tp, udiff_new_file);
	ATF_TP_ADD_TC(tp, udiff_two_hunks);
	ATF_TP_ADD_TC(tp, udiff_missing_newline_marked);
	return atf_no_error();
}
