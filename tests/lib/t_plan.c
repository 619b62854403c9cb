/*
 * Plans: plan_describe() (what -n prints), exactly, for every kind of
 * change; plan_apply() carrying the same plan out on a host directory,
 * saying what it does; plan_bytes().
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "h_util.h"
#include "plan/plan.h"

/* A malloc'd copy: plan_write takes its new text. */
static char *
own(const char *s)
{
	char *p;

	ATF_REQUIRE((p = strdup(s)) != NULL);
	return p;
}

/*
 * One change of each kind.  src is a host file's descriptor for the
 * install (-1: none needed).
 */
static void
every_kind(struct plan *p, int src)
{
	const struct sbuf old = { .s = (char *)"a\nb\nc\n", .len = 6 };
	const struct tree_wopts f = { .mode = 0644, .keep_orig = true };
	const struct tree_wopts x = { .mode = 0755 };
	const struct tree_wopts l = { .mode = 0777 };
	const struct tree_wopts a = { .mode = 0640, .uid = 0, .gid = 5 };

	ATF_REQUIRE(plan_mkdir(p, "var/db", 0755) == 0);
	ATF_REQUIRE(plan_write(p, "etc/rc.conf", &old, own("a\nB\nc\n"), 6,
	    &f) == 0);
	ATF_REQUIRE(plan_write(p, "etc/motd", NULL, own("NetBSD\ng1\n"), 10,
	    &f) == 0);
	ATF_REQUIRE(plan_write_data(p, "var/db/entropy-file", own("0123456"),
	    7, &f) == 0);
	ATF_REQUIRE(plan_write_fd(p, "etc/rc.pre-hooks", src,
	    "/usr/local/share/sharedroot/rc/rc.pre-hooks", &x) == 0);
	ATF_REQUIRE(plan_link(p, "etc/rc.conf.hard", "etc/rc.conf", false) ==
	    0);
	ATF_REQUIRE(plan_symlink(p, "etc/localtime",
	    "/usr/share/zoneinfo/UTC", &l) == 0);
	ATF_REQUIRE(plan_attr(p, "etc/rc.conf", &a) == 0);
	ATF_REQUIRE(plan_remove(p, "etc/old") == 0);
	ATF_CHECK_EQ(p->n, 9);
}

ATF_TC_WITHOUT_HEAD(plan_describe_every_kind);
ATF_TC_BODY(plan_describe_every_kind, tc)
{
	struct plan p = { .v = NULL };
	struct sbuf out = { .s = NULL };

	every_kind(&p, -1);
	ATF_REQUIRE_EQ_MSG(plan_describe(&p, &out), 0, "%s", sr_errmsg());
	ATF_CHECK_STREQ(out.s,
	    "create var/db/\n"
	    "--- a/etc/rc.conf\n+++ b/etc/rc.conf\n"
	    "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
	    "--- /dev/null\n+++ b/etc/motd\n@@ -0,0 +1,2 @@\n+NetBSD\n+g1\n"
	    "write var/db/entropy-file (7 bytes)\n"
	    "install etc/rc.pre-hooks from "
	    "/usr/local/share/sharedroot/rc/rc.pre-hooks\n"
	    "link etc/rc.conf.hard to etc/rc.conf\n"
	    "symlink etc/localtime -> /usr/share/zoneinfo/UTC\n"
	    "owner 0:5 mode 0640 etc/rc.conf\n"
	    "remove etc/old\n");
	sbuf_free(&out);
	/* An empty plan says nothing. */
	plan_free(&p);
	ATF_CHECK(p.v == NULL && p.n == 0);
	ATF_REQUIRE_EQ(plan_describe(&p, &out), 0);
	ATF_CHECK_EQ(out.len, 0);
}

/* The log of a run, one line each. */
static void
logline(void *arg, enum sr_level lv, const char *fmt, ...)
{
	struct sbuf *b = arg;
	va_list ap;
	char line[512];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ATF_REQUIRE(sbuf_printf(b, "%d %s\n", (int)lv, line) == 0);
}

/* The same plan carried out: each change done, and said. */
ATF_TC_WITHOUT_HEAD(plan_apply_every_kind);
ATF_TC_BODY(plan_apply_every_kind, tc)
{
	struct plan p = { .v = NULL };
	struct sbuf log = { .s = NULL };
	struct stat st, h;
	char buf[64];
	ssize_t n;
	int src, fd;

	ATF_REQUIRE(mkdir("g", 0755) == 0 && mkdir("g/etc", 0755) == 0 &&
	    mkdir("g/var", 0755) == 0);
	h_put("g/etc/rc.conf", "a\nb\nc\n");
	h_put("g/etc/old", "old\n");
	h_put("hooks", "#!/bin/sh\n");
	ATF_REQUIRE((src = open("hooks", O_RDONLY)) >= 0);
	ATF_REQUIRE((fd = open("g", O_RDONLY | O_DIRECTORY)) >= 0);
	every_kind(&p, src);
	sr_setlog(logline, &log);
	ATF_REQUIRE_EQ_MSG(plan_apply_dir(&p, fd, 0), 0, "%s",
	    sr_errmsg());
	ATF_CHECK_STREQ(log.s,
	    "1 var/db: directory made\n"
	    "1 etc/rc.conf: edited\n"
	    "1 etc/motd: written\n"
	    "1 var/db/entropy-file: written\n"
	    "1 etc/rc.pre-hooks: installed from "
	    "/usr/local/share/sharedroot/rc/rc.pre-hooks\n"
	    "1 etc/rc.conf.hard: linked to etc/rc.conf\n"
	    "1 etc/localtime: link to /usr/share/zoneinfo/UTC\n"
	    "1 etc/rc.conf: owner 0:5, mode 0640\n"
	    "1 etc/old: removed\n");
	ATF_REQUIRE(stat("g/var/db", &st) == 0 && S_ISDIR(st.st_mode));
	ATF_CHECK_EQ(st.st_mode & 07777, 0755);
	ATF_CHECK_STREQ(h_text("g/etc/rc.conf"), "a\nB\nc\n");
	ATF_CHECK_STREQ(h_text("g/etc/rc.conf.orig"), "a\nb\nc\n");
	ATF_REQUIRE(stat("g/etc/rc.conf", &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0640);
	ATF_CHECK_EQ(st.st_nlink, 2);
	ATF_REQUIRE(stat("g/etc/rc.conf.hard", &h) == 0);
	ATF_CHECK(h.st_ino == st.st_ino);
	if (geteuid() == 0)
		ATF_CHECK(st.st_uid == 0 && st.st_gid == 5);
	ATF_CHECK_STREQ(h_text("g/etc/motd"), "NetBSD\ng1\n");
	ATF_CHECK_STREQ(h_text("g/var/db/entropy-file"), "0123456");
	ATF_CHECK_STREQ(h_text("g/etc/rc.pre-hooks"), "#!/bin/sh\n");
	ATF_REQUIRE(stat("g/etc/rc.pre-hooks", &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0755);
	ATF_REQUIRE((n = readlink("g/etc/localtime", buf, sizeof(buf))) > 0);
	ATF_CHECK(n == 23 && memcmp(buf, "/usr/share/zoneinfo/UTC", 23) == 0);
	ATF_CHECK(lstat("g/etc/old", &st) == -1 && errno == ENOENT);
	close(src);
	close(fd);
	plan_free(&p);
	sbuf_free(&log);
}

/* The first change that fails stops the run: the rest are not done. */
ATF_TC_WITHOUT_HEAD(plan_apply_stops_at_failure);
ATF_TC_BODY(plan_apply_stops_at_failure, tc)
{
	const struct tree_wopts f = { .mode = 0644 };
	struct plan p = { .v = NULL };
	struct sbuf log = { .s = NULL };
	struct stat st;
	int fd;

	ATF_REQUIRE(mkdir("g", 0755) == 0);
	ATF_REQUIRE((fd = open("g", O_RDONLY | O_DIRECTORY)) >= 0);
	ATF_REQUIRE(plan_write(&p, "etc/rc", NULL, own("x\n"), 2, &f) == 0);
	ATF_REQUIRE(plan_mkdir(&p, "etc", 0755) == 0);
	sr_setlog(logline, &log);
	ATF_CHECK_EQ(plan_apply_dir(&p, fd, 0), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "etc/rc: open parent directory: "
	    "No such file or directory");
	ATF_CHECK_STREQ(log.s, "1 etc/rc: written\n");
	ATF_CHECK(lstat("g/etc", &st) == -1 && errno == ENOENT);
	close(fd);
	plan_free(&p);
	sbuf_free(&log);
}

/* What a plan writes, in whole blocks: texts, installs, directories. */
ATF_TC_WITHOUT_HEAD(plan_bytes_whole_blocks);
ATF_TC_BODY(plan_bytes_whole_blocks, tc)
{
	struct plan p = { .v = NULL };
	int src;

	h_put("hooks", "#!/bin/sh\n");
	ATF_REQUIRE((src = open("hooks", O_RDONLY)) >= 0);
	every_kind(&p, src);
	/* 6, 10 and 7 bytes written, 10 installed, one directory. */
	ATF_CHECK_EQ(plan_bytes(&p, 4096), 5 * 4096);
	ATF_CHECK_EQ(plan_bytes(&p, 1), 6 + 10 + 7 + 10 + 1);
	ATF_CHECK_EQ(plan_bytes(&p, 8), 8 + 16 + 8 + 16 + 8);
	close(src);
	plan_free(&p);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, plan_describe_every_kind);
	ATF_TP_ADD_TC(tp, plan_apply_every_kind);
	ATF_TP_ADD_TC(tp, plan_apply_stops_at_failure);
	ATF_TP_ADD_TC(tp, plan_bytes_whole_blocks);
	return atf_no_error();
}
