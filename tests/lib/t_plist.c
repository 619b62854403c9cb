/*
 * +CONTENTS parsed (pkg/plist.h): what is in force at each file, the
 * annotations, the lists of commands, and refusals of hostile input.
 */
#include "h_util.h"
#include "pkg/plist.h"

#define GOOD \
	"@name foo-1.2nb3\n" \
	"@comment PKG_FORMAT_REVISION:1.1\n" \
	"@pkgdep bar>=1.0\n" \
	"@blddep bar-1.5\n" \
	"@pkgcfl foo-nox11-[0-9]*\n" \
	"@display +DISPLAY\n" \
	"@option preserve\n" \
	"@cwd /usr/pkg\n" \
	"@src /somewhere\n" \
	"bin/foo\n" \
	"@comment MD5:0123456789abcdef0123456789abcdef\n" \
	"@mode 4555\n" \
	"@owner root\n" \
	"@group operator\n" \
	"sbin/foo-suid   \n" \
	"@mode\n" \
	"@owner\n" \
	"@group\n" \
	"lib/libfoo.so\n" \
	"@comment Symlink:libfoo.so.1\n" \
	"@exec echo %F > /tmp/x\n" \
	"@unexec rm -f %D/%F\n" \
	"\n" \
	"@cwd /usr/pkg/share\n" \
	"doc/foo/README\n" \
	"@ignore\n" \
	"+BUILD_INFO\n" \
	"@dirrm share/doc/foo\n" \
	"@pkgdir var/foo\n"

static int
parse(const char *text, struct plist *pl)
{
	return plist_parse("foo.tgz", text, strlen(text), pl);
}

ATF_TC_WITHOUT_HEAD(files_and_attributes);
ATF_TC_BODY(files_and_attributes, tc)
{
	struct plist pl;

	ATF_REQUIRE_MSG(parse(GOOD, &pl) == 0, "%s", sr_errmsg());
	ATF_CHECK_STREQ(pl.name, "foo-1.2nb3");
	ATF_CHECK_STREQ(pl.prefix, "/usr/pkg");
	ATF_CHECK_STREQ(pl.display, "+DISPLAY");
	ATF_REQUIRE_EQ(pl.nfile, 5);
	ATF_CHECK_STREQ(pl.file[0].name, "bin/foo");
	ATF_CHECK_STREQ(pl.file[0].md5, "0123456789abcdef0123456789abcdef");
	ATF_CHECK(!pl.file[0].has_mode && pl.file[0].owner == NULL);
	ATF_CHECK_EQ(pl.file[0].line, 10);
	ATF_CHECK_STREQ(pl.file[1].name, "sbin/foo-suid");
	ATF_CHECK(pl.file[1].has_mode && pl.file[1].mode == 04555);
	ATF_CHECK_STREQ(pl.file[1].owner, "root");
	ATF_CHECK_STREQ(pl.file[1].group, "operator");
	ATF_CHECK(pl.file[1].md5 == NULL);
	/* An empty @mode, @owner, @group goes back to the default. */
	ATF_CHECK(!pl.file[2].has_mode && pl.file[2].owner == NULL &&
	    pl.file[2].group == NULL);
	ATF_CHECK_STREQ(pl.file[2].symlink, "libfoo.so.1");
	ATF_CHECK_STREQ(pl.file[3].name, "doc/foo/README");
	ATF_CHECK_STREQ(pl.file[3].prefix, "/usr/pkg/share");
	ATF_CHECK(!pl.file[3].ignored);
	ATF_CHECK_STREQ(pl.file[4].name, "+BUILD_INFO");
	ATF_CHECK(pl.file[4].ignored);
	plist_free(&pl);
}

ATF_TC_WITHOUT_HEAD(commands_listed);
ATF_TC_BODY(commands_listed, tc)
{
	struct plist pl;

	ATF_REQUIRE_MSG(parse(GOOD, &pl) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_EQ(pl.pkgdep.n, 1);
	ATF_CHECK_STREQ(pl.pkgdep.v[0], "bar>=1.0");
	ATF_CHECK_EQ(pl.pkgdep.line[0], 3);
	ATF_REQUIRE_EQ(pl.blddep.n, 1);
	ATF_CHECK_STREQ(pl.blddep.v[0], "bar-1.5");
	ATF_REQUIRE_EQ(pl.pkgcfl.n, 1);
	ATF_CHECK_STREQ(pl.pkgcfl.v[0], "foo-nox11-[0-9]*");
	ATF_REQUIRE_EQ(pl.exec.n, 1);
	ATF_CHECK_STREQ(pl.exec.v[0], "echo %F > /tmp/x");
	ATF_REQUIRE_EQ(pl.unexec.n, 1);
	ATF_CHECK_STREQ(pl.unexec.v[0], "rm -f %D/%F");
	ATF_REQUIRE_EQ(pl.option.n, 1);
	ATF_CHECK_STREQ(pl.option.v[0], "preserve");
	ATF_REQUIRE_EQ(pl.dirrm.n, 1);
	ATF_CHECK_STREQ(pl.dirrm.v[0], "share/doc/foo");
	ATF_REQUIRE_EQ(pl.pkgdir.n, 1);
	ATF_CHECK_STREQ(pl.pkgdir.v[0], "var/foo");
	ATF_REQUIRE_EQ(pl.src.n, 1);
	ATF_CHECK_STREQ(pl.src.v[0], "/somewhere");
	plist_free(&pl);
}

/* Each hostile input: refused, with a message naming line and package. */
static const struct {
	const char	*text;
	const char	*msg;
} hostile[] = {
	{ "@name a-1\n@cwd /usr/pkg\n../etc/passwd\n", "line 3" },
	{ "@name a-1\n@cwd /usr/pkg\nbin/../../x\n", "line 3" },
	{ "@name a-1\n@cwd /usr/pkg\n/etc/passwd\n", "line 3" },
	{ "@name a-1\n@cwd /usr/pkg\nbin//x\n", "line 3" },
	{ "@name a-1\n@cwd /usr/pkg\n./x\n", "line 3" },
	{ "@name a-1\n@cwd /usr/pkg/../../etc\nx\n", "line 2" },
	{ "@name a-1\n@cwd usr/pkg\nx\n", "line 2" },
	{ "@name a-1\nx\n@cwd /usr/pkg\n", "before any @cwd" },
	{ "@name a-1\n@cwd /usr/pkg\n@frobnicate x\n", "unknown command" },
	{ "@name a-1\n@cwd /usr/pkg\n@cwdx /tmp\n", "unknown command" },
	{ "@name a-1\n@cwd /usr/pkg\n@mode u+s\nx\n", "line 3" },
	{ "@name a-1\n@cwd /usr/pkg\n@mode 77777\nx\n", "line 3" },
	{ "@name a-1\n@cwd /usr/pkg\n@owner ro:ot\nx\n", "line 3" },
	{ "@name a-1\n@cwd /usr/pkg\n@owner -x\nx\n", "line 3" },
	{ "@name a-1\n@cwd /usr/pkg\nx\n@comment MD5:xyz\n", "line 4" },
	{ "@name a-1\n@cwd /usr/pkg\nx\nx\n", "listed twice" },
	{ "@name a-1\n@name b-1\n@cwd /\n", "second @name" },
	{ "@name a\n@cwd /\n", "line 1" },
	{ "@name a/b-1\n@cwd /\n", "line 1" },
	{ "@cwd /usr/pkg\nx\n", "no @name" },
	{ "@name a-1\n", "no @cwd" },
	{ "@name a-1\n@cwd /usr/pkg\n@pkgdep\n", "without an argument" },
	{ "@name a-1\n@cwd /usr/pkg\n@ignore\n@pkgdep b-1\n", "@ignore" },
	{ "@name a-1\n@cwd /usr/pkg\n@dirrm ../x\n", "line 3" },
	{ "@name a-1\n@cwd /usr/pkg\nbin/a\x01" "b\n", "line 3" },
};

ATF_TC_WITHOUT_HEAD(hostile_refused);
ATF_TC_BODY(hostile_refused, tc)
{
	struct plist pl;
	size_t i;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		memset(&pl, 0x5a, sizeof(pl));
		ATF_CHECK_EQ_MSG(parse(hostile[i].text, &pl), -1, "case %zu "
		    "accepted", i);
		ATF_CHECK_MSG(strstr(sr_errmsg(), hostile[i].msg) != NULL &&
		    strncmp(sr_errmsg(), "foo.tgz: ", 9) == 0,
		    "case %zu: \"%s\"", i, sr_errmsg());
		ATF_CHECK_MSG(strchr(sr_errmsg(), '\n') == NULL,
		    "case %zu: more than one line", i);
		ATF_CHECK(pl.ent == NULL && pl.file == NULL);
	}
}

ATF_TC_WITHOUT_HEAD(nul_and_long_lines);
ATF_TC_BODY(nul_and_long_lines, tc)
{
	static const char nul[] = "@name a-1\n@cwd /usr/pkg\nbin/a\0b\n";
	struct plist pl;
	char *big;
	size_t n = PLIST_LINE_MAX + 100;

	ATF_CHECK(plist_parse("p", nul, sizeof(nul) - 1, &pl) == -1);
	ATF_CHECK(strstr(sr_errmsg(), "line 3: a NUL byte") != NULL);
	ATF_REQUIRE((big = malloc(n + 40)) != NULL);
	strcpy(big, "@name a-1\n@cwd /usr/pkg\n");
	memset(big + strlen(big), 'a', n);
	big[24 + n] = '\0';
	ATF_CHECK(plist_parse("p", big, strlen(big), &pl) == -1);
	ATF_CHECK(strstr(sr_errmsg(), "line 3: longer than") != NULL);
	ATF_CHECK(plist_parse("p", big, SR_TEXT_MAX + 1, &pl) == -1);
	ATF_CHECK(strstr(sr_errmsg(), "larger than") != NULL);
	free(big);
}

/* A last line without a newline, CRLF ends, and empty lines. */
ATF_TC_WITHOUT_HEAD(line_ends);
ATF_TC_BODY(line_ends, tc)
{
	static const char t[] = "@name a-1\r\n\r\n@cwd /usr/pkg\r\nbin/a\r\nbin/b";
	struct plist pl;

	ATF_REQUIRE_MSG(parse(t, &pl) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_EQ(pl.nfile, 2);
	ATF_CHECK_STREQ(pl.file[0].name, "bin/a");
	ATF_CHECK_STREQ(pl.file[1].name, "bin/b");
	ATF_CHECK_EQ(pl.file[1].line, 5);
	plist_free(&pl);
}

ATF_TC_WITHOUT_HEAD(path_checks);
ATF_TC_BODY(path_checks, tc)
{
	mode_t m;

	ATF_CHECK(pkg_relpath_ok("a/b.c/..d"));
	ATF_CHECK(!pkg_relpath_ok("a/"));
	ATF_CHECK(!pkg_relpath_ok(""));
	ATF_CHECK(!pkg_relpath_ok("a/./b"));
	ATF_CHECK(pkg_abspath_ok("/"));
	ATF_CHECK(pkg_abspath_ok("/usr/pkg"));
	ATF_CHECK(!pkg_abspath_ok("/usr/pkg/"));
	ATF_CHECK(!pkg_abspath_ok("//usr"));
	ATF_CHECK(pkg_mode_parse("0755", &m) && m == 0755);
	ATF_CHECK(pkg_mode_parse("04711", &m) && m == 04711);
	ATF_CHECK(pkg_mode_parse("644", &m) && m == 0644);
	ATF_CHECK(!pkg_mode_parse("0800", &m));
	ATF_CHECK(!pkg_mode_parse("", &m));
	ATF_CHECK(!pkg_mode_parse("17777", &m));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, files_and_attributes);
	ATF_TP_ADD_TC(tp, commands_listed);
	ATF_TP_ADD_TC(tp, hostile_refused);
	ATF_TP_ADD_TC(tp, nul_and_long_lines);
	ATF_TP_ADD_TC(tp, line_ends);
	ATF_TP_ADD_TC(tp, path_checks);
	return atf_no_error();
}
