/*
 * Binary packages read (pkg/pkgfile.h): archives made here with
 * libarchive as pkg_create makes them (+CONTENTS first, then the other
 * +-files in order, then the payload in the packing list's order), read
 * back with their modes, owners, links and contents; and archives that
 * differ from their packing list, refused with one line naming both.
 */
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "h_util.h"
#include "pkg/pkgfile.h"

#define HELLO_MD5	"b1946ac92492d2347c6235b4d2611184"

struct ment {
	const char	*name;
	const char	*data;		/* a file's; a link's target */
	char		 type;		/* f file, l symlink, h hard link, p fifo */
	mode_t		 mode;
	const char	*uname;
};

static void
mkpkg(const char *path, const struct ment *m, bool gz)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;

	ATF_REQUIRE(a != NULL);
	ATF_REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
	if (gz)
		ATF_REQUIRE(archive_write_add_filter_gzip(a) == ARCHIVE_OK);
	ATF_REQUIRE(archive_write_open_filename(a, path) == ARCHIVE_OK);
	for (; m->name != NULL; m++) {
		ATF_REQUIRE((e = archive_entry_new()) != NULL);
		archive_entry_set_pathname(e, m->name);
		archive_entry_set_perm(e, m->mode != 0 ? m->mode : 0644);
		archive_entry_set_uname(e, m->uname != NULL ? m->uname : "root");
		archive_entry_set_gname(e, "wheel");
		switch (m->type) {
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, m->data);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, m->data);
			break;
		case 'p':
			archive_entry_set_filetype(e, AE_IFIFO);
			break;
		default:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, strlen(m->data));
		}
		ATF_REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
		if (m->type == 'f')
			ATF_REQUIRE(archive_write_data(a, m->data,
			    strlen(m->data)) == (la_ssize_t)strlen(m->data));
		archive_entry_free(e);
	}
	ATF_REQUIRE(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
}

#define CONTENTS \
	"@name foo-1.0\n@pkgdep bar>=1\n@cwd /usr/pkg\n" \
	"bin/foo\n@comment MD5:" HELLO_MD5 "\n" \
	"@mode 0555\n@owner root\n@group operator\n" \
	"sbin/foo-suid\n@mode\n@owner\n@group\n" \
	"lib/libfoo.so\n@comment Symlink:libfoo.so.1\n" \
	"lib/libfoo.so.1\n" \
	"bin/foo-link\n" \
	"@cwd /usr/pkg/share\nfoo/README\n"

#define BUILD_INFO \
	"OPSYS=NetBSD\nOS_VERSION=10.0\nMACHINE_ARCH=x86_64\n" \
	"LOCALBASE=/usr/pkg\nPKG_SYSCONFBASE=/etc\nPKG_SYSCONFDIR=/etc\n" \
	"VARBASE=/var\nPKGTOOLS_VERSION=20211115"

#define INSTALL \
	"#!/bin/sh\n# PERMS: sbin/foo-suid 4511 root foo\n" \
	"# PERMS: /usr/pkg/lib/libfoo.so 0700 root foo\n" \
	"# PERMS: /usr/pkg/share/foo/README 0640 root foo\n" \
	"# USER: foo:foo::Foo:/var/foo:/sbin/nologin\n"

#define META(c) \
	{ "+CONTENTS", c, 'f', 0, NULL }, \
	{ "+COMMENT", "a foo\n", 'f', 0, NULL }, \
	{ "+DESC", "Foo does things.\n", 'f', 0, NULL }, \
	{ "+INSTALL", INSTALL, 'f', 0755, NULL }, \
	{ "+BUILD_VERSION", "pkgsrc/foo/Makefile 1.1\n", 'f', 0, NULL }, \
	{ "+BUILD_INFO", BUILD_INFO, 'f', 0, NULL }, \
	{ "+SIZE_PKG", "42\n", 'f', 0, NULL }, \
	{ "+SIZE_ALL", "42\n", 'f', 0, NULL }

#define PAYLOAD \
	{ "bin/foo", "hello\n", 'f', 0755, "builder" }, \
	{ "sbin/foo-suid", "suid\n", 'f', 0755, NULL }, \
	{ "lib/libfoo.so", "libfoo.so.1", 'l', 0777, NULL }, \
	{ "lib/libfoo.so.1", "lib\n", 'f', 0444, NULL }, \
	{ "bin/foo-link", "bin/foo", 'h', 0755, NULL }, \
	{ "foo/README", "readme\n", 'f', 0600, NULL }

static char *
slurp(struct pkgfile *pf)
{
	static char buf[256];
	size_t len = 0;
	ssize_t n;

	while ((n = pkgfile_read(pf, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	ATF_REQUIRE_MSG(n == 0, "%s", sr_errmsg());
	buf[len] = '\0';
	return buf;
}

static void
check_good(const char *path)
{
	struct pkgfile pf;
	struct pkgentry e;

	ATF_REQUIRE_MSG(pkgfile_open(&pf, path, "foo.tgz") == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_STREQ(pf.plist.name, "foo-1.0");
	ATF_CHECK_STREQ(pf.meta[PKGM_COMMENT], "a foo\n");
	ATF_CHECK(pf.meta[PKGM_DISPLAY] == NULL);
	ATF_CHECK_STREQ(pf.bi.localbase, "/usr/pkg");
	ATF_CHECK_STREQ(pf.bi.pkg_sysconfdir, "/etc");
	ATF_CHECK_STREQ(pf.bi.pkgtools_version, "20211115");
	ATF_CHECK_EQ(pf.inst.nuser, 1);

	ATF_REQUIRE_EQ_MSG(pkgfile_next(&pf, &e), 1, "%s", sr_errmsg());
	ATF_CHECK_STREQ(e.name, "bin/foo");
	ATF_CHECK(e.type == S_IFREG && e.mode == 0755);
	/* No @owner: the archive's name. */
	ATF_CHECK_STREQ(e.owner, "builder");
	ATF_CHECK_STREQ(e.group, "wheel");
	ATF_CHECK_STREQ(slurp(&pf), "hello\n");

	ATF_REQUIRE_EQ(pkgfile_next(&pf, &e), 1);
	ATF_CHECK_STREQ(e.name, "sbin/foo-suid");
	/* @mode 0555 @group operator, then PERMS over them. */
	ATF_CHECK_EQ(e.mode, 04511);
	ATF_CHECK_STREQ(e.owner, "root");
	ATF_CHECK_STREQ(e.group, "foo");

	ATF_REQUIRE_EQ(pkgfile_next(&pf, &e), 1);
	ATF_CHECK(e.type == S_IFLNK);
	ATF_CHECK_STREQ(e.symlink, "libfoo.so.1");
	/* PERMS change files only: +PERMS tests -f. */
	ATF_CHECK_STREQ(e.group, "wheel");
	ATF_CHECK_EQ(e.mode, 0777);
	ATF_REQUIRE_EQ(pkgfile_next(&pf, &e), 1);
	ATF_CHECK(e.mode == 0444);
	ATF_REQUIRE_EQ(pkgfile_next(&pf, &e), 1);
	ATF_CHECK_STREQ(e.name, "bin/foo-link");
	ATF_CHECK_STREQ(e.hardlink, "bin/foo");
	ATF_REQUIRE_EQ(pkgfile_next(&pf, &e), 1);
	ATF_CHECK_STREQ(e.name, "foo/README");
	ATF_CHECK_STREQ(e.prefix, "/usr/pkg/share");
	/* An absolute PERMS path: the file under its own @cwd. */
	ATF_CHECK_EQ(e.mode, 0640);
	ATF_CHECK_STREQ(e.group, "foo");
	ATF_CHECK_STREQ(slurp(&pf), "readme\n");
	ATF_CHECK_EQ(pkgfile_next(&pf, &e), 0);
	pkgfile_close(&pf);
}

ATF_TC_WITHOUT_HEAD(read_good);
ATF_TC_BODY(read_good, tc)
{
	static const struct ment m[] = { META(CONTENTS), PAYLOAD, { NULL } };

	mkpkg("foo.tar", m, false);
	check_good("foo.tar");
	mkpkg("foo.tgz", m, true);
	check_good("foo.tgz");
}

/* Entries not read are skipped; their digest is not checked then. */
ATF_TC_WITHOUT_HEAD(skip_unread);
ATF_TC_BODY(skip_unread, tc)
{
	static const struct ment m[] = { META(CONTENTS), PAYLOAD, { NULL } };
	struct pkgfile pf;
	struct pkgentry e;
	int n = 0, r;

	mkpkg("foo.tgz", m, true);
	ATF_REQUIRE(pkgfile_open(&pf, "foo.tgz", "foo.tgz") == 0);
	while ((r = pkgfile_next(&pf, &e)) == 1)
		n++;
	ATF_CHECK_EQ_MSG(r, 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(n, 6);
	pkgfile_close(&pf);
}

/* Open and walk path: the first failure's message. */
static const char *
failure(const struct ment *m)
{
	struct pkgfile pf;
	struct pkgentry e;
	int r;

	mkpkg("bad.tgz", m, true);
	if (pkgfile_open(&pf, "bad.tgz", "bad.tgz") == 0) {
		char buf[64];

		while ((r = pkgfile_next(&pf, &e)) == 1) {
			while (e.type == S_IFREG &&
			    (r = pkgfile_read(&pf, buf, sizeof(buf))) > 0)
				;
			if (r < 0)
				break;
		}
		ATF_CHECK_EQ_MSG(r, -1, "accepted");
	}
	pkgfile_close(&pf);
	return sr_errmsg();
}

#define CHECK_FAIL(m, want) do {					\
	const char *msg_ = failure(m);					\
	ATF_CHECK_MSG(strstr(msg_, want) != NULL &&			\
	    strncmp(msg_, "bad.tgz: ", 9) == 0 &&			\
	    strchr(msg_, '\n') == NULL, "\"%s\"", msg_);		\
} while (0)

ATF_TC_WITHOUT_HEAD(payload_not_listed);
ATF_TC_BODY(payload_not_listed, tc)
{
	static const struct ment m[] = { META(CONTENTS), PAYLOAD,
	    { "bin/extra", "x", 'f', 0755, NULL }, { NULL } };
	static const struct ment m2[] = { META(CONTENTS),
	    { "../../etc/passwd", "x", 'f', 0644, NULL }, { NULL } };

	CHECK_FAIL(m, "the payload has \"bin/extra\", which +CONTENTS does "
	    "not list");
	CHECK_FAIL(m2, "the payload has \"../../etc/passwd\" where "
	    "+CONTENTS line 4 lists bin/foo");
}

ATF_TC_WITHOUT_HEAD(listed_missing);
ATF_TC_BODY(listed_missing, tc)
{
	static const struct ment m[] = { META(CONTENTS),
	    { "bin/foo", "hello\n", 'f', 0755, NULL }, { NULL } };
	static const struct ment m2[] = { META(CONTENTS),
	    { "sbin/foo-suid", "x", 'f', 0755, NULL }, { NULL } };

	CHECK_FAIL(m, "+CONTENTS line 9 lists sbin/foo-suid, not in the "
	    "payload");
	CHECK_FAIL(m2, "the payload has \"sbin/foo-suid\" where +CONTENTS "
	    "line 4 lists bin/foo");
}

ATF_TC_WITHOUT_HEAD(meta_order);
ATF_TC_BODY(meta_order, tc)
{
	static const struct ment m[] = {
	    { "+CONTENTS", CONTENTS, 'f', 0, NULL },
	    { "+DESC", "d\n", 'f', 0, NULL },
	    { "+COMMENT", "c\n", 'f', 0, NULL }, { NULL } };
	static const struct ment m2[] = {
	    { "+CONTENTS", CONTENTS, 'f', 0, NULL },
	    { "+COMMENT", "c\n", 'f', 0, NULL },
	    { "+COMMENT", "c\n", 'f', 0, NULL }, { NULL } };
	static const struct ment m3[] = {
	    { "+CONTENTS", CONTENTS, 'f', 0, NULL },
	    { "+DESC", "d\n", 'f', 0, NULL }, PAYLOAD, { NULL } };
	static const struct ment m4[] = { PAYLOAD, META(CONTENTS), { NULL } };

	CHECK_FAIL(m, "+COMMENT out of order");
	CHECK_FAIL(m2, "+COMMENT twice");
	CHECK_FAIL(m3, "no +COMMENT at the start");
	CHECK_FAIL(m4, "no +CONTENTS at the start");
}

ATF_TC_WITHOUT_HEAD(md5_mismatch);
ATF_TC_BODY(md5_mismatch, tc)
{
	static const struct ment m[] = { META(CONTENTS),
	    { "bin/foo", "hellO\n", 'f', 0755, NULL }, { NULL } };

	CHECK_FAIL(m, "bin/foo: its contents differ from the MD5 digest");
}

ATF_TC_WITHOUT_HEAD(bad_types_and_links);
ATF_TC_BODY(bad_types_and_links, tc)
{
	static const struct ment m[] = { META(CONTENTS),
	    { "bin/foo", "/etc/passwd", 'l', 0777, NULL }, { NULL } };
	static const struct ment m2[] = { META(CONTENTS),
	    { "bin/foo", "hello\n", 'f', 0755, NULL },
	    { "sbin/foo-suid", "suid\n", 'f', 0755, NULL },
	    { "lib/libfoo.so", "/etc/shadow", 'l', 0777, NULL }, { NULL } };
	static const struct ment m3[] = { META(CONTENTS),
	    { "bin/foo", "", 'p', 0755, NULL }, { NULL } };
	static const struct ment m4[] = { META(CONTENTS),
	    { "bin/foo", "/etc/passwd", 'h', 0755, NULL }, { NULL } };
	static const struct ment m5[] = { META(CONTENTS),
	    { "bin/foo", "hello\n", 'f', 0755, "ro:ot" }, { NULL } };

	/* A link's target is checked where +CONTENTS gives one. */
	CHECK_FAIL(m, "bin/foo: a symbolic link where +CONTENTS line 4 lists "
	    "a file with an MD5 digest");
	CHECK_FAIL(m2, "lib/libfoo.so: a symbolic link to \"/etc/shadow\", "
	    "where +CONTENTS line 13 has \"libfoo.so.1\"");
	CHECK_FAIL(m3, "bin/foo: neither a file nor a symbolic link");
	CHECK_FAIL(m4, "bin/foo: a hard link to \"/etc/passwd\"");
	CHECK_FAIL(m5, "not a user or group name");
}

ATF_TC_WITHOUT_HEAD(hostile_meta);
ATF_TC_BODY(hostile_meta, tc)
{
	static const struct ment m[] = {
	    { "+CONTENTS", "@name x-1\n@cwd /usr/pkg\n../x\n", 'f', 0, NULL },
	    { "+COMMENT", "c\n", 'f', 0, NULL },
	    { "+DESC", "d\n", 'f', 0, NULL }, { NULL } };
	static const struct ment m2[] = {
	    { "+CONTENTS", "@name x-1\n@cwd /usr/pkg\n", 'f', 0, NULL },
	    { "+COMMENT", "c\n", 'f', 0, NULL },
	    { "+DESC", "d\n", 'f', 0, NULL },
	    { "+INSTALL", "# USER: a:b:c:d:e:f:g\n", 'f', 0, NULL },
	    { "+BUILD_INFO", BUILD_INFO, 'f', 0, NULL }, { NULL } };
	static const struct ment m3[] = {
	    { "+CONTENTS", "@name x-1\n@cwd /usr/pkg\n", 'f', 0, NULL },
	    { "+COMMENT", "c\n", 'f', 0, NULL },
	    { "+DESC", "d\n", 'f', 0, NULL },
	    { "+BUILD_INFO", "LOCALBASE=/usr/../etc\n", 'f', 0, NULL },
	    { NULL } };
	static const struct ment m4[] = {
	    { "+CONTENTS", "@name x-1\n@cwd /usr/pkg\n", 'f', 0, NULL },
	    { "+COMMENT", "", 'p', 0, NULL }, { NULL } };

	CHECK_FAIL(m, "+CONTENTS line 3");
	CHECK_FAIL(m2, "+INSTALL line 1");
	CHECK_FAIL(m3, "LOCALBASE");
	static const struct ment m5[] = {
	    { "+CONTENTS", "@name x-1\n@cwd /usr/pkg\n", 'f', 0, NULL },
	    { "+COMMENT", "c\n", 'f', 0, NULL },
	    { "+DESC", "d\n", 'f', 0, NULL },
	    { "+BUILD_INFO", "OPSYS=NetBSD\nMACHINE_ARCH=x86_64\n", 'f', 0,
	      NULL }, { NULL } };
	static const struct ment m6[] = {
	    { "+CONTENTS", "@name x-1\n@cwd /usr/pkg\n", 'f', 0, NULL },
	    { "+COMMENT", "c\n", 'f', 0, NULL },
	    { "+DESC", "d\n", 'f', 0, NULL }, { NULL } };

	CHECK_FAIL(m4, "+COMMENT: not a file");
	CHECK_FAIL(m5, "+BUILD_INFO: no OPSYS, OS_VERSION or MACHINE_ARCH");
	CHECK_FAIL(m6, "no +BUILD_INFO");
}

/*
 * The +-files listed after @ignore (as older pkg_create wrote them) are
 * the leading entries, not expected again in the payload.
 */
ATF_TC_WITHOUT_HEAD(ignored_meta_listed);
ATF_TC_BODY(ignored_meta_listed, tc)
{
	static const struct ment m[] = {
	    META(CONTENTS "@ignore\n+COMMENT\n@ignore\n+DESC\n"), PAYLOAD,
	    { NULL } };
	struct pkgfile pf;
	struct pkgentry e;
	int n = 0, r;

	mkpkg("old.tgz", m, true);
	ATF_REQUIRE_MSG(pkgfile_open(&pf, "old.tgz", "old.tgz") == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_EQ(pf.plist.nfile, 8);
	while ((r = pkgfile_next(&pf, &e)) == 1)
		n++;
	ATF_CHECK_EQ_MSG(r, 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(n, 6);
	pkgfile_close(&pf);
}

ATF_TC_WITHOUT_HEAD(not_an_archive);
ATF_TC_BODY(not_an_archive, tc)
{
	struct pkgfile pf;

	h_put("junk.tgz", "this is not a package\n");
	ATF_CHECK(pkgfile_open(&pf, "junk.tgz", "junk.tgz") == -1);
	ATF_CHECK(strncmp(sr_errmsg(), "junk.tgz: ", 10) == 0);
	pkgfile_close(&pf);
	ATF_CHECK(pkgfile_open(&pf, "missing.tgz", "missing.tgz") == -1);
	pkgfile_close(&pf);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, read_good);
	ATF_TP_ADD_TC(tp, skip_unread);
	ATF_TP_ADD_TC(tp, payload_not_listed);
	ATF_TP_ADD_TC(tp, listed_missing);
	ATF_TP_ADD_TC(tp, meta_order);
	ATF_TP_ADD_TC(tp, md5_mismatch);
	ATF_TP_ADD_TC(tp, bad_types_and_links);
	ATF_TP_ADD_TC(tp, hostile_meta);
	ATF_TP_ADD_TC(tp, not_an_archive);
	ATF_TP_ADD_TC(tp, ignored_meta_listed);
	return atf_no_error();
}
