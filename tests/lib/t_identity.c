/*
 * identity.c: a root's manifest and the pristine etc a local records,
 * read back as an upgrade reads them.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "h_util.h"
#include "guest/identity.h"

static void
write_text(const char *path, const char *text, mode_t mode)
{
	int fd;

	ATF_REQUIRE((fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode)) >= 0);
	ATF_REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	ATF_REQUIRE(fchmod(fd, mode) == 0);
	close(fd);
}

/* A small root: etc with a file, a script, a link, a secret; var; tmp. */
static int
tree(void)
{
	int fd;

	ATF_REQUIRE(mkdir("r", 0755) == 0);
	ATF_REQUIRE(mkdir("r/etc", 0755) == 0);
	ATF_REQUIRE(mkdir("r/etc/rc.d", 0755) == 0);
	ATF_REQUIRE(mkdir("r/etc/ssh", 0755) == 0);
	ATF_REQUIRE(mkdir("r/var", 0755) == 0);
	ATF_REQUIRE(mkdir("r/tmp", 01777) == 0);
	write_text("r/etc/rc.conf", "rc_configured=NO\n", 0644);
	write_text("r/etc/rc.d/npf", "#!/bin/sh\nname=npf\n", 0555);
	write_text("r/etc/ssh/ssh_host_ed25519_key", "PRIVATE\n", 0600);
	write_text("r/var/log", "log\n", 0644);
	ATF_REQUIRE(symlink("/usr/share/zoneinfo/UTC", "r/etc/localtime") == 0);
	ATF_REQUIRE((fd = open("r", O_RDONLY | O_DIRECTORY)) >= 0);
	return fd;
}

/* The etc lines of a manifest. */
static char *
etc_part(const struct sbuf *man)
{
	struct sbuf out = { 0 };
	const char *p = man->s;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');

		size_t n = (size_t)(nl - p) + 1;

		if (strncmp(p, "etc ", 4) == 0 || strncmp(p, "etc/", 4) == 0)
			ATF_REQUIRE(sbuf_add(&out, p, n) == 0);
		p = nl + 1;
	}
	ATF_REQUIRE(sbuf_add(&out, "", 0) == 0);
	return out.s;
}

ATF_TC_WITHOUT_HEAD(base_reads_back_as_manifest);
ATF_TC_BODY(base_reads_back_as_manifest, tc)
{
	struct sbuf man = { 0 }, tgz = { 0 }, lines = { 0 };
	struct entset set = { 0 };
	char id[ID_HEXLEN + 1], id2[ID_HEXLEN + 1];
	const struct ent *e;
	char *want;
	int fd = tree();
	struct tree *t = tree_dir(fd, "r", TREE_RDONLY);

	ATF_REQUIRE(t != NULL);
	ATF_REQUIRE(identity_manifest(t, NULL, &man, id) == 0);
	ATF_REQUIRE(identity_digest(&man, id2) == 0);
	ATF_CHECK_STREQ(id, id2);
	/* Secrets are each guest's own: not in the identity. */
	ATF_CHECK(strstr(man.s, "ssh_host") == NULL);
	ATF_CHECK(strstr(man.s, "var/log f 0644") != NULL);
	/* The archived etc holds exactly the manifest's etc. */
	ATF_REQUIRE(identity_base(t, NULL, &tgz) == 0);
	ATF_REQUIRE_MSG(identity_untar(tgz.s, tgz.len, &set) == 0, "%s",
	    sr_errmsg());
	ATF_REQUIRE(identity_lines(&set, &lines) == 0);
	want = etc_part(&man);
	ATF_CHECK_STREQ(want, lines.s);
	ATF_REQUIRE((e = entset_get(&set, "etc/rc.d/npf")) != NULL);
	ATF_CHECK_EQ(e->mode, S_IFREG | 0555);
	ATF_CHECK_EQ(e->len, strlen("#!/bin/sh\nname=npf\n"));
	ATF_CHECK(memcmp(e->data, "#!/bin/sh\nname=npf\n", e->len) == 0);
	ATF_REQUIRE((e = entset_get(&set, "etc/localtime")) != NULL);
	ATF_CHECK(S_ISLNK(e->mode));
	ATF_CHECK_STREQ(e->link, "/usr/share/zoneinfo/UTC");
	ATF_REQUIRE((e = entset_get(&set, "etc/rc.d")) != NULL);
	ATF_CHECK(S_ISDIR(e->mode));
	ATF_CHECK(entset_get(&set, "etc/ssh/ssh_host_ed25519_key") == NULL);
	/* A change anywhere is another identity. */
	write_text("r/var/log", "log!\n", 0644);
	sbuf_free(&man);
	ATF_REQUIRE(identity_manifest(t, NULL, &man, id2) == 0);
	ATF_CHECK(strcmp(id, id2) != 0);
	free(want);
	sbuf_free(&man);
	sbuf_free(&tgz);
	sbuf_free(&lines);
	entset_free(&set);
	tree_close(t);
	close(fd);
}

static la_ssize_t
to_sbuf(struct archive *a, void *ctx, const void *buf, size_t len)
{
	(void)a;
	return sbuf_add(ctx, buf, len) == -1 ? -1 : (la_ssize_t)len;
}

/* A gzipped tar holding one entry named name (a file, or a device). */
static void
archive_one(struct sbuf *out, const char *name, mode_t mode)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	ATF_REQUIRE(a != NULL && e != NULL);
	ATF_REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
	ATF_REQUIRE(archive_write_add_filter_gzip(a) == ARCHIVE_OK);
	ATF_REQUIRE(archive_write_open(a, out, NULL, to_sbuf, NULL) ==
	    ARCHIVE_OK);
	archive_entry_set_pathname(e, name);
	archive_entry_set_mode(e, mode);
	archive_entry_set_size(e, S_ISREG(mode) ? 2 : 0);
	ATF_REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
	if (S_ISREG(mode))
		ATF_REQUIRE(archive_write_data(a, "x\n", 2) == 2);
	ATF_REQUIRE(archive_write_close(a) == ARCHIVE_OK);
	archive_entry_free(e);
	archive_write_free(a);
}

ATF_TC_WITHOUT_HEAD(untar_refuses_names_outside_etc);
ATF_TC_BODY(untar_refuses_names_outside_etc, tc)
{
	static const char *const bad[] = { "etc/../escape", "/etc/passwd",
	    "var/x", "etc/./x", "etc/x/..", "etc/.", "etcx", "../etc/x",
	    "etc//x", NULL };
	const char *const *b;

	for (b = bad; *b != NULL; b++) {
		struct sbuf t = { 0 };
		struct entset set = { 0 };

		archive_one(&t, *b, S_IFREG | 0644);
		ATF_CHECK_MSG(identity_untar(t.s, t.len, &set) == -1,
		    "%s accepted", *b);
		ATF_CHECK_MSG(strstr(sr_errmsg(), "outside etc") != NULL,
		    "%s: %s", *b, sr_errmsg());
		sbuf_free(&t);
		entset_free(&set);
	}
	{
		struct sbuf t = { 0 };
		struct entset set = { 0 };

		archive_one(&t, "etc/null", S_IFCHR | 0666);
		ATF_CHECK(identity_untar(t.s, t.len, &set) == -1);
		ATF_CHECK(strstr(sr_errmsg(),
		    "not a file, directory or link") != NULL);
		sbuf_free(&t);
		entset_free(&set);
	}
	{
		struct entset set = { 0 };

		ATF_CHECK(identity_untar("garbage", 7, &set) == -1);
		entset_free(&set);
	}
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, base_reads_back_as_manifest);
	ATF_TP_ADD_TC(tp, untar_refuses_names_outside_etc);
	return atf_no_error();
}
