/*
 * udiff(): the unified diffs the dry run prints.
 */
#include "h_util.h"
#include "plan/udiff.h"

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

/* Hunks that lie 6 lines apart or closer are one; 7 apart, two. */
ATF_TC_WITHOUT_HEAD(udiff_hunks_join_within_context);
ATF_TC_BODY(udiff_hunks_join_within_context, tc)
{
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
	const char *b6 = "X\n2\n3\n4\n5\n6\n7\nY\n9\n";
	const char *b7 = "X\n2\n3\n4\n5\n6\n7\n8\nY\n";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "f", a, strlen(a), b6, strlen(b6)), 0);
	ATF_CHECK_STREQ(out.s, "--- a/f\n+++ b/f\n"
	    "@@ -1,9 +1,9 @@\n-1\n+X\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+Y\n 9\n");
	sbuf_free(&out);
	ATF_REQUIRE_EQ(udiff(&out, "f", a, strlen(a), b7, strlen(b7)), 0);
	ATF_CHECK_STREQ(out.s, "--- a/f\n+++ b/f\n"
	    "@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n"
	    "@@ -6,4 +6,4 @@\n 6\n 7\n 8\n-9\n+Y\n");
	sbuf_free(&out);
}

static size_t
hunks(const struct sbuf *d)
{
	size_t i, n = 0;

	for (i = 0; i + 3 <= d->len; i++)
		if ((i == 0 || d->s[i - 1] == '\n') &&
		    memcmp(d->s + i, "@@ ", 3) == 0)
			n++;
	return n;
}

/*
 * A long file with a few scattered changes gives a hunk for each, not
 * the whole file out and back in (436 KB here with the LCS it replaced).
 */
ATF_TC_WITHOUT_HEAD(udiff_long_file_scattered_changes);
ATF_TC_BODY(udiff_long_file_scattered_changes, tc)
{
	struct sbuf a = { 0 }, b = { 0 }, out = { 0 };
	const char *first = "@@ -497,7 +497,7 @@\n line 497\n line 498\n"
	    " line 499\n-line 500\n+changed 500\n line 501\n line 502\n"
	    " line 503\n";
	const char *last = "@@ -19497,7 +19497,7 @@\n line 19497\n"
	    " line 19498\n line 19499\n-line 19500\n+changed 19500\n"
	    " line 19501\n line 19502\n line 19503\n";
	size_t hdr = strlen("--- a/etc/big\n+++ b/etc/big\n");
	int i;

	for (i = 1; i <= 20000; i++) {
		ATF_REQUIRE_EQ(sbuf_printf(&a, "line %d\n", i), 0);
		ATF_REQUIRE_EQ(sbuf_printf(&b, i % 1000 == 500 ?
		    "changed %d\n" : "line %d\n", i), 0);
	}
	ATF_REQUIRE_EQ(udiff(&out, "etc/big", a.s, a.len, b.s, b.len), 0);
	ATF_CHECK_EQ(hunks(&out), 20);
	ATF_CHECK_MSG(out.len < 4096, "diff of %zu bytes", out.len);
	ATF_REQUIRE(out.len > hdr + strlen(first) + strlen(last));
	ATF_CHECK(strncmp(out.s + hdr, first, strlen(first)) == 0);
	ATF_CHECK_STREQ(out.s + out.len - strlen(last), last);
	sbuf_free(&a);
	sbuf_free(&b);
	sbuf_free(&out);
}

/*
 * Past 200,000 differing lines (a hostile image; xdiff's time grows
 * faster than that), the middle is replaced in one hunk, with the common
 * head and tail as context.
 */
ATF_TC_WITHOUT_HEAD(udiff_huge_middle_one_hunk);
ATF_TC_BODY(udiff_huge_middle_one_hunk, tc)
{
	struct sbuf a = { 0 }, b = { 0 }, out = { 0 };
	const char *head = "--- a/f\n+++ b/f\n@@ -3,100007 +3,100007 @@\n"
	    " k3\n k4\n k5\n-a0\n-a1\n";
	const char *mid = "\n-a100000\n+b0\n+b1\n";
	const char *tail = "\n+b100000\n t1\n t2\n t3\n";
	int i;

	for (i = 1; i <= 5; i++) {
		ATF_REQUIRE_EQ(sbuf_printf(&a, "k%d\n", i), 0);
		ATF_REQUIRE_EQ(sbuf_printf(&b, "k%d\n", i), 0);
	}
	for (i = 0; i <= 100000; i++) {
		ATF_REQUIRE_EQ(sbuf_printf(&a, "a%d\n", i), 0);
		ATF_REQUIRE_EQ(sbuf_printf(&b, "b%d\n", i), 0);
	}
	for (i = 1; i <= 5; i++) {
		ATF_REQUIRE_EQ(sbuf_printf(&a, "t%d\n", i), 0);
		ATF_REQUIRE_EQ(sbuf_printf(&b, "t%d\n", i), 0);
	}
	ATF_REQUIRE_EQ(udiff(&out, "f", a.s, a.len, b.s, b.len), 0);
	ATF_CHECK_EQ(hunks(&out), 1);
	ATF_REQUIRE(out.len > strlen(head) + strlen(tail));
	ATF_CHECK(strncmp(out.s, head, strlen(head)) == 0);
	ATF_CHECK(strstr(out.s, mid) != NULL);
	ATF_CHECK_STREQ(out.s + out.len - strlen(tail), tail);
	/* Every line of both middles, once: the header, 6 of context. */
	ATF_CHECK_EQ(out.len, strlen("--- a/f\n+++ b/f\n@@ -3,100007 "
	    "+3,100007 @@\n") + 6 * 4 + (a.len - 30) + (b.len - 30) + 200002);
	sbuf_free(&a);
	sbuf_free(&b);
	sbuf_free(&out);
}

ATF_TC_WITHOUT_HEAD(udiff_missing_newline_context);
ATF_TC_BODY(udiff_missing_newline_context, tc)
{
	const char *a = "a\nb";
	const char *b = "x\nb";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "f", a, strlen(a), b, strlen(b)), 0);
	ATF_CHECK_STREQ(out.s, "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n"
	    "-a\n+x\n b\n\\ No newline at end of file\n");
	sbuf_free(&out);
}

ATF_TC_WITHOUT_HEAD(udiff_missing_newline_added);
ATF_TC_BODY(udiff_missing_newline_added, tc)
{
	const char *a = "a\nb\n";
	const char *b = "a\nb";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "f", a, strlen(a), b, strlen(b)), 0);
	ATF_CHECK_STREQ(out.s, "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n"
	    " a\n-b\n+b\n\\ No newline at end of file\n");
	sbuf_free(&out);
}

ATF_TC_WITHOUT_HEAD(udiff_missing_newline_both_sides);
ATF_TC_BODY(udiff_missing_newline_both_sides, tc)
{
	const char *a = "a";
	const char *b = "b";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "f", a, strlen(a), b, strlen(b)), 0);
	ATF_CHECK_STREQ(out.s, "--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n"
	    "-a\n\\ No newline at end of file\n"
	    "+b\n\\ No newline at end of file\n");
	sbuf_free(&out);
}

/* An empty file is there (a/), unlike a new one (/dev/null). */
ATF_TC_WITHOUT_HEAD(udiff_empty_old);
ATF_TC_BODY(udiff_empty_old, tc)
{
	const char *b = "x\n";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "f", "", 0, b, strlen(b)), 0);
	ATF_CHECK_STREQ(out.s, "--- a/f\n+++ b/f\n@@ -0,0 +1,1 @@\n+x\n");
	sbuf_free(&out);
}

ATF_TC_WITHOUT_HEAD(udiff_empty_new);
ATF_TC_BODY(udiff_empty_new, tc)
{
	const char *a = "x\ny\n";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "f", a, strlen(a), "", 0), 0);
	ATF_CHECK_STREQ(out.s, "--- a/f\n+++ b/f\n@@ -1,2 +0,0 @@\n-x\n-y\n");
	sbuf_free(&out);
}

ATF_TC_WITHOUT_HEAD(udiff_new_empty_file);
ATF_TC_BODY(udiff_new_empty_file, tc)
{
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "etc/new", NULL, 0, "", 0), 0);
	ATF_CHECK_STREQ(out.s, "--- /dev/null\n+++ b/etc/new\n");
	sbuf_free(&out);
}

/* The headers alone; appended after what out held. */
ATF_TC_WITHOUT_HEAD(udiff_identical);
ATF_TC_BODY(udiff_identical, tc)
{
	const char *a = "a\nb\nc\n";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(sbuf_adds(&out, "before\n"), 0);
	ATF_REQUIRE_EQ(udiff(&out, "f", a, strlen(a), a, strlen(a)), 0);
	ATF_CHECK_STREQ(out.s, "before\n--- a/f\n+++ b/f\n");
	sbuf_free(&out);
}

/* A NUL does not make a text binary here: its lines are diffed. */
ATF_TC_WITHOUT_HEAD(udiff_nul_diffed_as_text);
ATF_TC_BODY(udiff_nul_diffed_as_text, tc)
{
	const char a[] = "a\n\0b\nc\n";
	const char b[] = "a\n\0B\nc\n";
	const char want[] = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n"
	    " a\n-\0b\n+\0B\n c\n";
	struct sbuf out = { 0 };

	ATF_REQUIRE_EQ(udiff(&out, "f", a, sizeof(a) - 1, b, sizeof(b) - 1),
	    0);
	ATF_CHECK_EQ(out.len, sizeof(want) - 1);
	ATF_CHECK(out.len == sizeof(want) - 1 &&
	    memcmp(out.s, want, out.len) == 0);
	sbuf_free(&out);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, udiff_one_insert);
	ATF_TP_ADD_TC(tp, udiff_replace_and_delete);
	ATF_TP_ADD_TC(tp, udiff_new_file);
	ATF_TP_ADD_TC(tp, udiff_two_hunks);
	ATF_TP_ADD_TC(tp, udiff_missing_newline_marked);
	ATF_TP_ADD_TC(tp, udiff_hunks_join_within_context);
	ATF_TP_ADD_TC(tp, udiff_long_file_scattered_changes);
	ATF_TP_ADD_TC(tp, udiff_huge_middle_one_hunk);
	ATF_TP_ADD_TC(tp, udiff_missing_newline_context);
	ATF_TP_ADD_TC(tp, udiff_missing_newline_added);
	ATF_TP_ADD_TC(tp, udiff_missing_newline_both_sides);
	ATF_TP_ADD_TC(tp, udiff_empty_old);
	ATF_TP_ADD_TC(tp, udiff_empty_new);
	ATF_TP_ADD_TC(tp, udiff_new_empty_file);
	ATF_TP_ADD_TC(tp, udiff_identical);
	ATF_TP_ADD_TC(tp, udiff_nul_diffed_as_text);
	return atf_no_error();
}
