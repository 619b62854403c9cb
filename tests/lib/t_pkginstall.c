/*
 * The data lines of +INSTALL (pkg/pkginstall.h), as pkgsrc's
 * mk/pkginstall writes them, and refusals of hostile ones.
 */
#include "h_util.h"
#include "pkg/pkginstall.h"

#define SCRIPT \
	"#!/bin/sh\n" \
	"#\n" \
	"# FILE: etc/foo.conf c share/examples/foo/foo.conf 0640 foo foo\n" \
	"# FILE: /etc/rc.d/food cr share/examples/rc.d/food 0755\n" \
	"# FILE: etc/plain f\n" \
	"# DIR: /var/foo mo 0700 foo foo\n" \
	"# DIR: share/foo-plugins fm\n" \
	"# PERMS: bin/foo-suid 4511 root foo\n" \
	"# PERMS: etc/pwd.db 0600\n" \
	"# USER: foo:foo:1234:The Foo daemon:/var/foo:/sbin/nologin\n" \
	"# USER: bar:foo\n" \
	"# USER: baz:foo::::\n" \
	"# GROUP: foo:1234\n" \
	"# GROUP: bar\n" \
	"# SHELL: bin/foosh\n" \
	"#   USER: not:a:data:line\n" \
	"echo '# USER: inside:a:command'\n" \
	"exit 0\n"

static int
parse(const char *text, struct pkginstall *pi)
{
	return pkginstall_parse("foo-1.0", "+INSTALL", text, strlen(text), pi);
}

ATF_TC_WITHOUT_HEAD(users_groups);
ATF_TC_BODY(users_groups, tc)
{
	struct pkginstall pi;

	ATF_REQUIRE_MSG(parse(SCRIPT, &pi) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_EQ(pi.nuser, 3);
	ATF_CHECK_STREQ(pi.user[0].name, "foo");
	ATF_CHECK_STREQ(pi.user[0].group, "foo");
	ATF_CHECK_EQ(pi.user[0].uid, 1234);
	ATF_CHECK_STREQ(pi.user[0].gecos, "The Foo daemon");
	ATF_CHECK_STREQ(pi.user[0].home, "/var/foo");
	ATF_CHECK_STREQ(pi.user[0].shell, "/sbin/nologin");
	ATF_CHECK_EQ(pi.user[0].line, 10);
	ATF_CHECK_STREQ(pi.user[1].name, "bar");
	ATF_CHECK_EQ(pi.user[1].uid, -1);
	ATF_CHECK_STREQ(pi.user[1].gecos, "");
	ATF_CHECK_STREQ(pi.user[1].home, "");
	ATF_CHECK_STREQ(pi.user[2].shell, "");
	ATF_REQUIRE_EQ(pi.ngroup, 2);
	ATF_CHECK_STREQ(pi.group[0].name, "foo");
	ATF_CHECK_EQ(pi.group[0].gid, 1234);
	ATF_CHECK_EQ(pi.group[1].gid, -1);
	ATF_REQUIRE_EQ(pi.nshell, 1);
	ATF_CHECK_STREQ(pi.shell[0].path, "bin/foosh");
	pkginstall_free(&pi);
}

ATF_TC_WITHOUT_HEAD(files_dirs_perms);
ATF_TC_BODY(files_dirs_perms, tc)
{
	struct pkginstall pi;

	ATF_REQUIRE_MSG(parse(SCRIPT, &pi) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_EQ(pi.nfile, 3);
	ATF_CHECK_STREQ(pi.file[0].path, "etc/foo.conf");
	ATF_CHECK_EQ(pi.file[0].flags, PKGF_COPY);
	ATF_CHECK_STREQ(pi.file[0].example, "share/examples/foo/foo.conf");
	ATF_CHECK(pi.file[0].attr.has_mode && pi.file[0].attr.mode == 0640);
	ATF_CHECK_STREQ(pi.file[0].attr.owner, "foo");
	ATF_CHECK_STREQ(pi.file[0].attr.group, "foo");
	/* An rc.d script: a FILE line with 'r', its example in rc.d. */
	ATF_CHECK_STREQ(pi.file[1].path, "/etc/rc.d/food");
	ATF_CHECK_EQ(pi.file[1].flags, PKGF_COPY | PKGF_RCD);
	ATF_CHECK_STREQ(pi.file[1].example, "share/examples/rc.d/food");
	ATF_CHECK(pi.file[1].attr.mode == 0755 && pi.file[1].attr.owner == NULL);
	ATF_CHECK(pi.file[2].example == NULL && !pi.file[2].attr.has_mode);
	ATF_CHECK_EQ(pi.file[2].flags, PKGF_FORCE);
	ATF_REQUIRE_EQ(pi.ndir, 2);
	ATF_CHECK_STREQ(pi.dir[0].path, "/var/foo");
	ATF_CHECK_EQ(pi.dir[0].flags, PKGF_MAKE | PKGF_OWNED);
	ATF_CHECK(pi.dir[0].attr.mode == 0700);
	ATF_CHECK_EQ(pi.dir[1].flags, PKGF_FORCE | PKGF_MAKE);
	ATF_REQUIRE_EQ(pi.nperms, 2);
	ATF_CHECK_STREQ(pi.perms[0].path, "bin/foo-suid");
	ATF_CHECK(pi.perms[0].attr.mode == 04511);
	ATF_CHECK_STREQ(pi.perms[0].attr.owner, "root");
	ATF_CHECK_STREQ(pi.perms[0].attr.group, "foo");
	ATF_CHECK(pi.perms[1].attr.mode == 0600 && pi.perms[1].attr.owner ==
	    NULL);
	pkginstall_free(&pi);
}

static const struct {
	const char	*line;
	const char	*msg;
} hostile[] = {
	{ "# USER: a:b:c:d:e:f:g:h:i:j\n", "too many fields" },
	{ "# USER: foo:foo:1:x:/home/foo:/bin/sh:extra\n", "not user:group" },
	{ "# USER: foo:foo:1:a:b:c:/bin/sh\n", "not user:group" },
	{ "# USER: foo\n", "not user:group" },
	{ "# USER: fo o:foo\n", "not a user" },
	{ "# USER: foo:foo:-1\n", "not an id" },
	{ "# USER: foo:foo:99999999999\n", "not an id" },
	{ "# USER: foo:foo:1:x:../etc\n", "not a plain path" },
	{ "# USER: foo:foo:1:x:home/foo\n", "not absolute" },
	{ "# USER: foo:foo:1:a\x01" "b\n", "control" },
	{ "# GROUP: foo:1:2\n", "not group[:gid]" },
	{ "# GROUP: :1\n", "not a user or group" },
	{ "# FILE: ../../etc/passwd c x\n", "not a plain path" },
	{ "# FILE: etc/x c ../../../etc/shadow\n", "not a plain path" },
	{ "# FILE: etc/x cz y\n", "unknown flags" },
	{ "# FILE: etc/x c y 0644 root wheel extra\n", "too many fields" },
	{ "# FILE: etc/x\n", "not file flags" },
	{ "# FILE: etc/x c y u+rw\n", "not an octal mode" },
	{ "# DIR: /var/x mx\n", "unknown flags" },
	{ "# DIR: /var/../x m\n", "not a plain path" },
	{ "# PERMS: bin/x\n", "not file mode" },
	{ "# PERMS: bin/x 4755 ro;ot\n", "not a user" },
	{ "# SHELL: bin/a bin/b\n", "not one path" },
	{ "# SHELL: a\0b\n", "a NUL byte" },
};

ATF_TC_WITHOUT_HEAD(hostile_refused);
ATF_TC_BODY(hostile_refused, tc)
{
	struct pkginstall pi;
	char text[512];
	size_t i, n;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		n = snprintf(text, sizeof(text), "#!/bin/sh\n%s", hostile[i].line);
		if (strstr(hostile[i].line, "a\0b") == hostile[i].line)
			n = 0;
		/* (The NUL case is written out by hand.) */
		if (strncmp(hostile[i].line, "# SHELL: a", 10) == 0 &&
		    hostile[i].line[10] == '\0') {
			memcpy(text, "#!/bin/sh\n# SHELL: a\0b\n", 23);
			n = 23;
		}
		ATF_CHECK_EQ_MSG(pkginstall_parse("foo-1.0", "+INSTALL", text,
		    n, &pi), -1, "case %zu accepted", i);
		ATF_CHECK_MSG(strstr(sr_errmsg(), hostile[i].msg) != NULL &&
		    strstr(sr_errmsg(), "foo-1.0: +INSTALL line 2: ") ==
		    sr_errmsg(), "case %zu: \"%s\"", i, sr_errmsg());
		ATF_CHECK(pi.user == NULL && pi.file == NULL);
	}
}

ATF_TC_WITHOUT_HEAD(too_large);
ATF_TC_BODY(too_large, tc)
{
	struct pkginstall pi;

	ATF_CHECK(pkginstall_parse("p", "+INSTALL", "", SR_TEXT_MAX + 1,
	    &pi) == -1);
	ATF_CHECK(strstr(sr_errmsg(), "larger than") != NULL);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, users_groups);
	ATF_TP_ADD_TC(tp, files_dirs_perms);
	ATF_TP_ADD_TC(tp, hostile_refused);
	ATF_TP_ADD_TC(tp, too_large);
	return atf_no_error();
}
