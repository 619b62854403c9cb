/*
 * A local's record (record.h): made from a root, read back and checked,
 * the step back's direction, the plans that write it, a manifest's
 * paths.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "h_util.h"
#include "guest/record.h"

static void
put(const char *path, const char *text)
{
	FILE *f;

	ATF_REQUIRE_MSG((f = fopen(path, "w")) != NULL, "%s", path);
	ATF_REQUIRE(fputs(text, f) >= 0);
	ATF_REQUIRE(fclose(f) == 0);
}

static void
put_sbuf(const char *path, const struct sbuf *b)
{
	FILE *f;

	ATF_REQUIRE_MSG((f = fopen(path, "w")) != NULL, "%s", path);
	ATF_REQUIRE(fwrite(b->s, 1, b->len, f) == b->len);
	ATF_REQUIRE(fclose(f) == 0);
}

static int
opendir_fd(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	ATF_REQUIRE_MSG(fd >= 0, "%s", path);
	return fd;
}

/* A small root, and a local holding the record a seed from it makes. */
static void
root_and_local(struct record *r)
{
	int fd;

	ATF_REQUIRE(mkdir("root", 0755) == 0 && mkdir("root/etc", 0755) == 0 &&
	    mkdir("root/var", 0755) == 0 && mkdir("root/tmp", 0755) == 0 &&
	    mkdir("root/etc/rc.d", 0755) == 0);
	put("root/etc/rc", "rc\n");
	put("root/etc/rc.d/sshd", "#!/bin/sh\n");
	ATF_REQUIRE(symlink("/usr/share/zoneinfo/UTC", "root/etc/localtime") ==
	    0);
	fd = opendir_fd("root");
	memset(r, 0, sizeof(*r));
	ATF_REQUIRE_MSG(record_make(fd, NULL, r) == 0, "%s", sr_errmsg());
	close(fd);
	ATF_REQUIRE(mkdir("local", 0755) == 0 &&
	    mkdir("local/.sharedroot", 0755) == 0);
	put_sbuf("local/.sharedroot/root-id", &r->idline);
	put_sbuf("local/.sharedroot/base-manifest", &r->man);
	put_sbuf("local/.sharedroot/base-etc.tgz", &r->base);
}

ATF_TC_WITHOUT_HEAD(made_and_read_back);
ATF_TC_BODY(made_and_read_back, tc)
{
	struct record r, back = { 0 };
	const struct ent *e;
	struct tree *t;
	int fd;

	root_and_local(&r);
	ATF_CHECK_EQ(strlen(r.id), ID_HEXLEN);
	ATF_CHECK(r.idline.len == ID_HEXLEN + 1 &&
	    memcmp(r.idline.s, r.id, ID_HEXLEN) == 0);
	/* Its etc: etc's entries alone, with their contents. */
	ATF_REQUIRE((e = entset_get(&r.etc, "etc/rc.d/sshd")) != NULL);
	ATF_CHECK(S_ISREG(e->mode) && e->len == 10 &&
	    memcmp(e->data, "#!/bin/sh\n", 10) == 0);
	ATF_REQUIRE((e = entset_get(&r.etc, "etc/localtime")) != NULL);
	ATF_CHECK(S_ISLNK(e->mode) && strcmp(e->link,
	    "/usr/share/zoneinfo/UTC") == 0);
	ATF_CHECK(entset_get(&r.etc, "var") == NULL);
	fd = opendir_fd("local");
	ATF_REQUIRE((t = tree_dir(fd, "local", TREE_RDONLY)) != NULL);
	ATF_REQUIRE_MSG(record_read(t, ID_DIR, &back) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_STREQ(back.id, r.id);
	ATF_CHECK_EQ(back.etc.n, r.etc.n);
	record_free(&back);
	/* A part missing: corrupt. */
	ATF_REQUIRE(unlink("local/.sharedroot/base-etc.tgz") == 0);
	memset(&back, 0, sizeof(back));
	ATF_CHECK(record_read(t, ID_DIR, &back) == -1);
	ATF_CHECK_MSG(strstr(sr_errmsg(), "corrupt record") != NULL, "%s",
	    sr_errmsg());
	record_free(&back);
	/* An id that is not the manifest's digest: corrupt. */
	put_sbuf("local/.sharedroot/base-etc.tgz", &r.base);
	put("local/.sharedroot/root-id", "000000000000000000000000000000000"
	    "0000000000000000000000000000000\n");
	memset(&back, 0, sizeof(back));
	ATF_CHECK(record_read(t, ID_DIR, &back) == -1);
	ATF_CHECK_MSG(strstr(sr_errmsg(), "does not match") != NULL, "%s",
	    sr_errmsg());
	record_free(&back);
	tree_close(t);
	close(fd);
	record_free(&r);
}

ATF_TC_WITHOUT_HEAD(prev_newer_or_older);
ATF_TC_BODY(prev_newer_or_older, tc)
{
	bool newer = true;
	struct tree *t;
	int fd;

	ATF_REQUIRE(mkdir(".sharedroot", 0755) == 0 &&
	    mkdir(".sharedroot/prev", 0755) == 0);
	fd = opendir_fd(".");
	ATF_REQUIRE((t = tree_dir(fd, ".", TREE_RDONLY)) != NULL);
	/* None: left by an upgrade (an older record). */
	ATF_CHECK(record_prev_newer(t, &newer) == 0 && !newer);
	put(".sharedroot/prev/root-age", "newer\n");
	ATF_CHECK(record_prev_newer(t, &newer) == 0 && newer);
	put(".sharedroot/prev/root-age", "older\n");
	ATF_CHECK(record_prev_newer(t, &newer) == 0 && !newer);
	put(".sharedroot/prev/root-age", "newer");
	ATF_CHECK(record_prev_newer(t, &newer) == -1);
	ATF_CHECK(strstr(sr_errmsg(), "corrupt record") != NULL);
	tree_close(t);
	close(fd);
}

ATF_TC_WITHOUT_HEAD(plans_that_write_it);
ATF_TC_BODY(plans_that_write_it, tc)
{
	const struct tree_wopts wo = { .mode = 0644 };
	struct record r;
	struct plan p = { 0 }, np = { 0 };
	struct tree *t;
	int fd;

	root_and_local(&r);
	/* Back: the three parts as the local's own. */
	ATF_REQUIRE(record_plan_back(&p, &r) == 0);
	ATF_REQUIRE_EQ(p.n, 3);
	ATF_CHECK(strcmp(p.v[0].path, ID_LOCAL) == 0 && !p.v[0].binary &&
	    p.v[0].newlen == r.idline.len);
	ATF_CHECK(strcmp(p.v[1].path, ID_MANBASE) == 0 && p.v[1].binary &&
	    memcmp(p.v[1].new, r.man.s, r.man.len) == 0);
	ATF_CHECK(strcmp(p.v[2].path, ID_BASE) == 0 && p.v[2].binary &&
	    p.v[2].newlen == r.base.len);
	plan_free(&p);
	/* The step back: prev replaced, the local's etc of now in it. */
	ATF_REQUIRE(mkdir("local/.sharedroot/prev", 0755) == 0 &&
	    mkdir("local/etc", 0755) == 0);
	put("local/etc/rc.conf", "sshd=YES\n");
	fd = opendir_fd("local");
	t = tree_dir(fd, "local", TREE_RDONLY);
	ATF_REQUIRE_MSG(t != NULL && record_plan_prev(&p, t, NULL, &r,
	    true) == 0, "%s", sr_errmsg());
	tree_close(t);
	close(fd);
	ATF_REQUIRE_EQ(p.n, 7);
	ATF_CHECK(p.v[0].kind == CH_REMOVE && strcmp(p.v[0].path,
	    ID_PREV) == 0);
	ATF_CHECK(p.v[1].kind == CH_MKDIR && strcmp(p.v[1].path,
	    ID_PREV) == 0);
	ATF_CHECK(strcmp(p.v[2].path, ID_PREV "/root-id") == 0 &&
	    memcmp(p.v[2].new, r.idline.s, r.idline.len) == 0);
	ATF_CHECK(strcmp(p.v[5].path, ID_PREV "/etc.tgz") == 0 &&
	    p.v[5].binary && p.v[5].newlen > 0);
	ATF_CHECK(strcmp(p.v[6].path, ID_PREV "/root-age") == 0 &&
	    strcmp(p.v[6].new, "newer\n") == 0);
	plan_free(&p);
	/* The new root's record: what its plan writes in .sharedroot. */
	ATF_REQUIRE(plan_mkdir(&np, ID_DIR, 0755) == 0);
	ATF_REQUIRE(plan_write(&np, "etc/rc", NULL, strdup("x\n"), 2,
	    &wo) == 0);
	ATF_REQUIRE(plan_write(&np, ID_LOCAL, NULL, strdup("id\n"), 3,
	    &wo) == 0);
	ATF_REQUIRE(plan_write_data(&np, ID_BASE, strdup("tgz"), 3,
	    &wo) == 0);
	ATF_REQUIRE(plan_remove(&np, ID_DIR "/old") == 0);
	ATF_REQUIRE(record_plan_new(&p, &np) == 0);
	ATF_REQUIRE_EQ(p.n, 3);
	ATF_CHECK(p.v[0].kind == CH_MKDIR && strcmp(p.v[0].path,
	    ID_DIR) == 0);
	ATF_CHECK(strcmp(p.v[1].path, ID_LOCAL) == 0 && !p.v[1].binary &&
	    strcmp(p.v[1].new, "id\n") == 0);
	ATF_CHECK(strcmp(p.v[2].path, ID_BASE) == 0 && p.v[2].binary);
	plan_free(&p);
	plan_free(&np);
	record_free(&r);
}

static int
note(void *arg, const char *path)
{
	return sbuf_printf(arg, "%s|", path);
}

static int
stop_at_b(void *arg, const char *path)
{
	if (strcmp(path, "var/b") == 0)
		return -1;
	return sbuf_printf(arg, "%s|", path);
}

ATF_TC_WITHOUT_HEAD(manifest_paths);
ATF_TC_BODY(manifest_paths, tc)
{
	const char *m = "etc d 0755 0 0 -\n"
	    "var d 0755 0 0 -\n"
	    "var/db d 0755 0 0 -\n"
	    "var/db/a\\040b f 0644 0 0 abc\n"
	    "var/run l - 0 0 /tmp\n"
	    "varnish f 0644 0 0 -\n"
	    "var/./x f 0644 0 0 -\n"
	    "var/../etc/x f 0644 0 0 -\n"
	    "var//y f 0644 0 0 -\n"
	    "var/ f 0644 0 0 -\n"
	    "\\166ar/escaped f 0644 0 0 -\n"
	    "var/no-space-on-this-line\n"
	    " var/leading f 0644 0 0 -\n"
	    "var/last f 0644 0 0 -";
	struct sbuf man = { (char *)m, strlen(m), 0 }, out = { 0 };
	struct sbuf none = { 0 };

	ATF_REQUIRE(record_man_paths(&man, "var", note, &out) == 0);
	ATF_REQUIRE(sbuf_add(&out, "", 0) == 0);
	/* Plain paths below var, unescaped; nothing else. */
	ATF_CHECK_STREQ(out.s, "var/db|var/db/a b|var/run|var/last|");
	sbuf_free(&out);
	ATF_REQUIRE(record_man_paths(&man, "etc", note, &out) == 0);
	ATF_CHECK(out.len == 0);
	sbuf_free(&out);
	/* fn stops it. */
	m = "var/a d\nvar/b d\nvar/c d\n";
	man.s = (char *)m;
	man.len = strlen(m);
	ATF_CHECK(record_man_paths(&man, "var", stop_at_b, &out) == -1);
	ATF_REQUIRE(sbuf_add(&out, "", 0) == 0);
	ATF_CHECK_STREQ(out.s, "var/a|");
	sbuf_free(&out);
	/* An empty manifest. */
	ATF_CHECK(record_man_paths(&none, "var", note, &out) == 0 &&
	    out.len == 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, made_and_read_back);
	ATF_TP_ADD_TC(tp, prev_newer_or_older);
	ATF_TP_ADD_TC(tp, plans_that_write_it);
	ATF_TP_ADD_TC(tp, manifest_paths);
	return atf_no_error();
}
