/*
 * The merges of an upgrade (merge.h): lines with libgit2, password and
 * group files by record, etc/motd's first line.
 */
#include "h_util.h"
#include "guest/merge.h"
#include "plan/udiff.h"

static struct text
T(const char *s)
{
	struct text t = { s, s != NULL ? strlen(s) : 0 };

	return t;
}

/* merge_keyed(): the merge (NUL-ended), or NULL where not applicable. */
static char *
keyed(const char *b, const char *m, const char *t, bool *clean)
{
	struct text tb = T(b), tm = T(m), tt = T(t);
	struct sbuf out = { 0 };
	bool applicable;

	ATF_REQUIRE(merge_keyed(&tb, &tm, &tt, &out, clean, &applicable) == 0);
	if (!applicable) {
		ATF_CHECK_EQ_MSG(out.len, 0, "not applicable, yet written");
		sbuf_free(&out);
		return NULL;
	}
	ATF_REQUIRE(sbuf_add(&out, "", 0) == 0);
	return out.s;
}

/* merge_file() of path. */
static char *
file(const char *path, const char *b, const char *m, const char *t,
    bool *clean)
{
	struct text tb = T(b), tm = T(m), tt = T(t);
	struct sbuf out = { 0 };

	ATF_REQUIRE(sr_git_init() == 0);
	ATF_REQUIRE_MSG(merge_file(path, &tb, &tm, &tt, &out, clean) == 0,
	    "%s", sr_errmsg());
	ATF_REQUIRE(sbuf_add(&out, "", 0) == 0);
	return out.s;
}

#define ROOT	"root:*:0:0::0:0:Charlie &:/root:/bin/sh\n"
#define DAEMON	"daemon:*:1:1::0:0:The devil:/:/sbin/nologin\n"
#define NPF	"_npf:*:45:45::0:0:npf:/var/chroot/npf:/sbin/nologin\n"
#define ALICE	"alice:*:1000:100::0:0:Alice:/home/alice:/bin/sh\n"

/* Lines --------------------------------------------------------------------- */

ATF_TC_WITHOUT_HEAD(lines_clean);
ATF_TC_BODY(lines_clean, tc)
{
	bool clean = false;
	char *r;

	r = file("etc/rc.conf", "a=1\nb=2\nc=3\nd=4\ne=5\n",
	    "a=guest\nb=2\nc=3\nd=4\ne=5\n", "a=1\nb=2\nc=3\nd=4\ne=release\n",
	    &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, "a=guest\nb=2\nc=3\nd=4\ne=release\n");
	free(r);
	/* The same change on both sides is no conflict. */
	r = file("etc/rc.conf", "x\n", "y\n", "y\n", &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, "y\n");
	free(r);
}

ATF_TC_WITHOUT_HEAD(lines_conflict_marked);
ATF_TC_BODY(lines_conflict_marked, tc)
{
	bool clean = true;
	char *r;

	r = file("etc/shells", "/bin/sh\n/bin/csh\n", "/bin/sh\n/usr/pkg/bin/"
	    "bash\n", "/bin/sh\n/bin/ksh\n", &clean);
	ATF_CHECK(!clean);
	ATF_CHECK_STREQ(r, "/bin/sh\n"
	    "<<<<<<< guest\n/usr/pkg/bin/bash\n"
	    "||||||| old root\n/bin/csh\n"
	    "=======\n/bin/ksh\n"
	    ">>>>>>> new root\n");
	free(r);
}

ATF_TC_WITHOUT_HEAD(lines_without_base);
ATF_TC_BODY(lines_without_base, tc)
{
	bool clean = true;
	char *r;

	/* Added on both sides, differently: a conflict from nothing. */
	r = file("etc/hosts", NULL, "10.0.0.1 gw\n", "127.0.0.1 localhost\n",
	    &clean);
	ATF_CHECK(!clean);
	ATF_CHECK(h_count_line(r, "<<<<<<< guest") == 1);
	ATF_CHECK(h_count_line(r, "10.0.0.1 gw") == 1);
	ATF_CHECK(h_count_line(r, "127.0.0.1 localhost") == 1);
	ATF_CHECK(h_count_line(r, ">>>>>>> new root") == 1);
	free(r);
}

/* Records --------------------------------------------------------------------- */

ATF_TC_WITHOUT_HEAD(keyed_both_add);
ATF_TC_BODY(keyed_both_add, tc)
{
	bool clean = false;
	char *r;

	/* The release's record after the one it follows there. */
	r = keyed(ROOT DAEMON, ROOT DAEMON ALICE, ROOT DAEMON NPF, &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, ROOT DAEMON NPF ALICE);
	free(r);
	/* Before all the guest has, where it comes first there. */
	r = keyed(ROOT DAEMON, ROOT DAEMON ALICE, NPF ROOT DAEMON, &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, NPF ROOT DAEMON ALICE);
	free(r);
	/* Added by both, the same: once. */
	r = keyed(ROOT, ROOT NPF, ROOT NPF, &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, ROOT NPF);
	free(r);
}

ATF_TC_WITHOUT_HEAD(keyed_one_side_changed);
ATF_TC_BODY(keyed_one_side_changed, tc)
{
	const char *root_ksh = "root:*:0:0::0:0:Charlie &:/root:/bin/ksh\n";
	bool clean = false;
	char *r;

	/* The release's change, the guest's order. */
	r = keyed(ROOT DAEMON, DAEMON ROOT, "root:*:0:0::0:0:Charlie &:/root:"
	    "/bin/ksh\n" DAEMON, &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, DAEMON "root:*:0:0::0:0:Charlie &:/root:/bin/ksh\n");
	free(r);
	/* The guest's change. */
	r = keyed(ROOT DAEMON, ROOT "daemon:*:1:1::0:0:d:/:/bin/sh\n",
	    ROOT DAEMON, &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, ROOT "daemon:*:1:1::0:0:d:/:/bin/sh\n");
	free(r);
	/* Both the same change. */
	r = keyed(ROOT, root_ksh, root_ksh, &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, root_ksh);
	free(r);
}

ATF_TC_WITHOUT_HEAD(keyed_removed);
ATF_TC_BODY(keyed_removed, tc)
{
	bool clean = false;
	char *r;

	/* By the release, the guest's record as it was: gone. */
	r = keyed(ROOT DAEMON NPF, ROOT DAEMON NPF ALICE, ROOT NPF, &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, ROOT NPF ALICE);
	free(r);
	/* By the guest, the release's as it was: stays gone. */
	r = keyed(ROOT DAEMON, ROOT, ROOT DAEMON, &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, ROOT);
	free(r);
	/* By the release, changed by the guest: a conflict, the guest's. */
	r = keyed(ROOT DAEMON, ROOT "daemon:*:1:1::0:0:mine:/:/bin/sh\n",
	    ROOT, &clean);
	ATF_CHECK(!clean);
	ATF_CHECK_STREQ(r, ROOT "<<<<<<< guest\n"
	    "daemon:*:1:1::0:0:mine:/:/bin/sh\n=======\n>>>>>>> new root\n");
	free(r);
	/* By the guest, changed by the release: a conflict, the release's. */
	r = keyed(ROOT DAEMON, ROOT, ROOT "daemon:*:1:1::0:0:new:/:/bin/sh\n",
	    &clean);
	ATF_CHECK(!clean);
	ATF_CHECK_STREQ(r, ROOT "<<<<<<< guest\n=======\n"
	    "daemon:*:1:1::0:0:new:/:/bin/sh\n>>>>>>> new root\n");
	free(r);
}

ATF_TC_WITHOUT_HEAD(keyed_conflict);
ATF_TC_BODY(keyed_conflict, tc)
{
	bool clean = true;
	char *r;

	r = keyed(ROOT DAEMON, "root:*:0:0::0:0:Charlie &:/root:/bin/ksh\n"
	    DAEMON ALICE, "root:*:0:0::0:0:Charlie &:/root:/bin/csh\n" DAEMON
	    NPF, &clean);
	ATF_CHECK(!clean);
	/* The rest merged all the same. */
	ATF_CHECK_STREQ(r, "<<<<<<< guest\n"
	    "root:*:0:0::0:0:Charlie &:/root:/bin/ksh\n=======\n"
	    "root:*:0:0::0:0:Charlie &:/root:/bin/csh\n>>>>>>> new root\n"
	    DAEMON NPF ALICE);
	free(r);
	/* The same key added by both, differently. */
	r = keyed(ROOT, ROOT "npf:guest\n", ROOT "npf:release\n", &clean);
	ATF_CHECK(!clean);
	ATF_CHECK_STREQ(r, ROOT "<<<<<<< guest\nnpf:guest\n=======\n"
	    "npf:release\n>>>>>>> new root\n");
	free(r);
}

ATF_TC_WITHOUT_HEAD(keyed_duplicates_not_applicable);
ATF_TC_BODY(keyed_duplicates_not_applicable, tc)
{
	bool clean;
	char *r;

	/* A key twice, on any side: records cannot be told apart. */
	ATF_CHECK(keyed(ROOT ROOT, ROOT, ROOT, &clean) == NULL);
	ATF_CHECK(keyed(ROOT, ROOT "root:x\n", ROOT, &clean) == NULL);
	ATF_CHECK(keyed(ROOT, ROOT, "daemon\ndaemon\n", &clean) == NULL);
	/* A line without a colon is keyed by all of it. */
	ATF_CHECK((r = keyed("x\n", "x\ny\n", "x\nx:1\n", &clean)) != NULL);
	free(r);
	/* merge_file() merges lines then: two additions at the end conflict. */
	r = file("etc/group", "wheel:*:0:root\nwheel:*:0:root\n",
	    "wheel:*:0:root\nwheel:*:0:root\nusers:*:100:\n",
	    "wheel:*:0:root\nwheel:*:0:root\nnpf:*:45:\n", &clean);
	ATF_CHECK(!clean);
	ATF_CHECK(h_count_line(r, "<<<<<<< guest") == 1);
	free(r);
}

ATF_TC_WITHOUT_HEAD(keyed_last_newline);
ATF_TC_BODY(keyed_last_newline, tc)
{
	bool clean = false;
	char *r;

	/* A last line without its newline is the same record with it. */
	r = keyed("wheel:*:0:root\nusers:*:100:", "wheel:*:0:root\n"
	    "users:*:100:\n", "wheel:*:0:root\nusers:*:100:\nnpf:*:45:",
	    &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, "wheel:*:0:root\nusers:*:100:\nnpf:*:45:\n");
	free(r);
	/* Nothing on a side. */
	r = keyed(NULL, NULL, "npf:*:45:\n", &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, "npf:*:45:\n");
	free(r);
	r = keyed("", "", "", &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, "");
	free(r);
}

ATF_TC_WITHOUT_HEAD(file_by_record_or_lines);
ATF_TC_BODY(file_by_record_or_lines, tc)
{
	const char *b = "wheel:*:0:root\noperator:*:5:root\n";
	const char *m = "wheel:*:0:root,admin\noperator:*:5:root\n"
	    "users:*:100:alice\n";
	const char *t = "wheel:*:0:root\noperator:*:5:root\nnpf:*:45:\n";
	bool clean = false;
	char *r;

	ATF_CHECK(merge_is_keyed("etc/master.passwd"));
	ATF_CHECK(merge_is_keyed("etc/passwd"));
	ATF_CHECK(merge_is_keyed("etc/group"));
	ATF_CHECK(!merge_is_keyed("etc/groups"));
	ATF_CHECK(!merge_is_keyed("group"));
	/* Both added at the end: by record, clean. */
	r = file("etc/group", b, m, t, &clean);
	ATF_CHECK(clean);
	ATF_CHECK_STREQ(r, "wheel:*:0:root,admin\noperator:*:5:root\n"
	    "npf:*:45:\nusers:*:100:alice\n");
	free(r);
	/* The same texts in another file: by lines, a conflict. */
	r = file("etc/other", b, m, t, &clean);
	ATF_CHECK(!clean);
	ATF_CHECK(h_count_line(r, "wheel:*:0:root,admin") == 1);
	ATF_CHECK(h_count_line(r, "<<<<<<< guest") == 1);
	free(r);
}

/* etc/motd -------------------------------------------------------------------- */

ATF_TC_WITHOUT_HEAD(motd_head);
ATF_TC_BODY(motd_head, tc)
{
	struct text t;

	t = T("NetBSD 10.0 (XEN3_DOMU) #0\n\nWelcome to NetBSD!\n");
	ATF_CHECK_EQ(merge_motd_head(&t), strlen("NetBSD 10.0 (XEN3_DOMU) "
	    "#0\n"));
	t = T("NetBSD\n");
	ATF_CHECK_EQ(merge_motd_head(&t), 7);
	/* Not the kernel's line, or no end to it. */
	t = T("Welcome to NetBSD!\n");
	ATF_CHECK_EQ(merge_motd_head(&t), 0);
	t = T("NetBSD 10.0");
	ATF_CHECK_EQ(merge_motd_head(&t), 0);
	t = T("NetBS\n");
	ATF_CHECK_EQ(merge_motd_head(&t), 0);
	t = T(NULL);
	ATF_CHECK_EQ(merge_motd_head(&t), 0);
	/* Only as long as the text says, not up to a NUL. */
	t.s = "NetBSD 10\nrest";
	t.len = 6;
	ATF_CHECK_EQ(merge_motd_head(&t), 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, lines_clean);
	ATF_TP_ADD_TC(tp, lines_conflict_marked);
	ATF_TP_ADD_TC(tp, lines_without_base);
	ATF_TP_ADD_TC(tp, keyed_both_add);
	ATF_TP_ADD_TC(tp, keyed_one_side_changed);
	ATF_TP_ADD_TC(tp, keyed_removed);
	ATF_TP_ADD_TC(tp, keyed_conflict);
	ATF_TP_ADD_TC(tp, keyed_duplicates_not_applicable);
	ATF_TP_ADD_TC(tp, keyed_last_newline);
	ATF_TP_ADD_TC(tp, file_by_record_or_lines);
	ATF_TP_ADD_TC(tp, motd_head);
	return atf_no_error();
}
