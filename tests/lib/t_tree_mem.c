/*
 * tree_mem(): an entset read and written as a guest tree, and plans
 * carried out on it as upgrade.c's apply_virtual() carried them out.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "h_util.h"
#include "guest/identity.h"
#include "plan/plan.h"
#include "tree/tree.h"
#include "guest/upgrade.h"

/* An entry: data for a file, the target for a link. */
static void
add(struct entset *s, const char *path, mode_t mode, uid_t uid, gid_t gid,
    const char *text)
{
	struct ent e = { .path = (char *)path, .mode = mode, .uid = uid,
	    .gid = gid };

	if (S_ISLNK(mode))
		e.link = (char *)text;
	else if (text != NULL) {
		e.data = (char *)text;
		e.len = strlen(text);
	}
	ATF_REQUIRE(entset_add(s, &e) == 0);
}

/*
 * A small etc: files, a link, a directory with a subdirectory and a
 * name that sorts between it and what is in it (etc/a-b), a removed one.
 */
static void
fixture(struct entset *s)
{
	memset(s, 0, sizeof(*s));
	add(s, "etc/rc.d/sshd", S_IFREG | 0555, 0, 0, "#!/bin/sh\n# sshd\n");
	add(s, "etc", S_IFDIR | 0755, 0, 0, NULL);
	add(s, "etc/rc", S_IFREG | 0644, 0, 0, "rc text\n");
	add(s, "etc/rc.conf", S_IFREG | 0640, 0, 5, "rc_configured=NO\n");
	add(s, "etc/rc.d", S_IFDIR | 0755, 0, 0, NULL);
	add(s, "etc/rc.d/npf", S_IFREG | 0555, 0, 0, "#!/bin/sh\n# npf\n");
	add(s, "etc/a", S_IFDIR | 0700, 0, 0, NULL);
	add(s, "etc/a/x", S_IFREG | 0600, 0, 0, "x\n");
	add(s, "etc/a/sub", S_IFDIR | 0750, 0, 0, NULL);
	add(s, "etc/a/sub/y", S_IFREG | 0600, 0, 0, "y\n");
	add(s, "etc/a-b", S_IFREG | 0644, 0, 0, "kept\n");
	add(s, "etc/localtime", S_IFLNK | 0777, 0, 0, "/usr/share/zoneinfo/UTC");
	add(s, "etc/old", S_IFREG | 0644, 0, 0, "removed\n");
	entset_get(s, "etc/old")->gone = true;
}

/* What the set holds, as text: path, type and mode, owner, content. */
static char *
dump(struct entset *s)
{
	struct sbuf b = { 0 };
	size_t i;

	(void)entset_get(s, "");
	for (i = 0; i < s->n; i++) {
		const struct ent *e = &s->v[i];

		if (e->gone)
			continue;
		ATF_REQUIRE(sbuf_printf(&b, "%s %06o %u:%u", e->path,
		    (unsigned)e->mode, (unsigned)e->uid, (unsigned)e->gid) == 0);
		if (S_ISLNK(e->mode))
			ATF_REQUIRE(sbuf_printf(&b, " -> %s", e->link) == 0);
		else if (S_ISREG(e->mode))
			ATF_REQUIRE(sbuf_printf(&b, " [%.*s]", (int)e->len,
			    e->data ? e->data : "") == 0);
		ATF_REQUIRE(sbuf_adds(&b, "\n") == 0);
	}
	ATF_REQUIRE(sbuf_add(&b, "", 0) == 0);
	return b.s;
}

/* The names tree_list() gives, joined with spaces. */
static char *
names(struct tree *t, const char *dir)
{
	struct sbuf b = { 0 };
	char **v;
	size_t i;

	ATF_REQUIRE_MSG(tree_list(t, dir, &v) == 0, "%s", sr_errmsg());
	for (i = 0; v[i] != NULL; i++)
		ATF_REQUIRE(sbuf_printf(&b, "%s%s", i ? " " : "", v[i]) == 0);
	ATF_REQUIRE(sbuf_add(&b, "", 0) == 0);
	tree_freelist(v);
	return b.s;
}

static void
check_stat(struct tree *t, const char *path, mode_t mode, uid_t uid,
    gid_t gid)
{
	struct stat st;

	ATF_REQUIRE_MSG(tree_lstat(t, path, &st) == 0, "%s: %s", path,
	    sr_errmsg());
	ATF_CHECK_EQ_MSG(st.st_mode, mode, "%s: mode %06o, not %06o", path,
	    (unsigned)st.st_mode, (unsigned)mode);
	ATF_CHECK_EQ_MSG(st.st_uid, uid, "%s: uid %u", path,
	    (unsigned)st.st_uid);
	ATF_CHECK_EQ_MSG(st.st_gid, gid, "%s: gid %u", path,
	    (unsigned)st.st_gid);
}

static void
check_text(struct tree *t, const char *path, const char *want)
{
	struct sbuf b = { 0 };

	ATF_REQUIRE_MSG(tree_read(t, path, 1 << 20, &b) == 0, "%s: %s", path,
	    sr_errmsg());
	ATF_CHECK_EQ_MSG(b.len, strlen(want), "%s: %zu bytes", path, b.len);
	ATF_CHECK_STREQ(b.s, want);
	sbuf_free(&b);
}

static void
check_lstat_fails(struct tree *t, const char *path, int err)
{
	struct stat st;

	errno = 0;
	ATF_CHECK_MSG(tree_lstat(t, path, &st) == -1 && errno == err,
	    "%s: errno %d, not %d", path, errno, err);
}

/* Reading --------------------------------------------------------------- */

ATF_TC_WITHOUT_HEAD(lstat_modes_owners_sizes);
ATF_TC_BODY(lstat_modes_owners_sizes, tc)
{
	struct entset s;
	struct tree *t;
	struct stat st, st2;

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	ATF_CHECK_STREQ(t->ops->kind, "memory");
	check_stat(t, "", S_IFDIR | 0755, 0, 0);
	check_stat(t, "etc", S_IFDIR | 0755, 0, 0);
	check_stat(t, "etc/rc.conf", S_IFREG | 0640, 0, 5);
	check_stat(t, "etc/rc.d/npf", S_IFREG | 0555, 0, 0);
	check_stat(t, "etc/a/sub", S_IFDIR | 0750, 0, 0);
	check_stat(t, "etc/localtime", S_IFLNK | 0777, 0, 0);
	ATF_REQUIRE(tree_lstat(t, "etc/rc.conf", &st) == 0);
	ATF_CHECK_EQ(st.st_size, 17);
	ATF_REQUIRE(tree_lstat(t, "etc/localtime", &st) == 0);
	ATF_CHECK_EQ(st.st_size, (off_t)strlen("/usr/share/zoneinfo/UTC"));
	/* Each its own inode number: a walk tells them apart. */
	ATF_REQUIRE(tree_lstat(t, "etc/a", &st) == 0);
	ATF_REQUIRE(tree_lstat(t, "etc/a/sub", &st2) == 0);
	ATF_CHECK(st.st_ino != st2.st_ino && st.st_dev == st2.st_dev);
	ATF_CHECK_EQ(tree_exists(t, "etc/rc"), 0);
	ATF_CHECK_EQ(tree_exists(t, "etc/old"), 1);
	tree_close(t);
	entset_free(&s);
}

ATF_TC_WITHOUT_HEAD(lstat_errors_as_a_directory);
ATF_TC_BODY(lstat_errors_as_a_directory, tc)
{
	struct entset s;
	struct tree *t;

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	check_lstat_fails(t, "etc/nothere", ENOENT);
	/* Removed: as if not there. */
	check_lstat_fails(t, "etc/old", ENOENT);
	check_lstat_fails(t, "etc/nothere/x", ENOENT);
	check_lstat_fails(t, "etc/rc/x", ENOTDIR);
	/* Never through a link. */
	check_lstat_fails(t, "etc/localtime/x", ELOOP);
	ATF_CHECK(strstr(sr_errmsg(), "symbolic link") != NULL);
	/* Only plain paths inside the guest. */
	check_lstat_fails(t, "/etc", EINVAL);
	check_lstat_fails(t, "etc/../etc/rc", EINVAL);
	check_lstat_fails(t, "./etc", EINVAL);
	check_lstat_fails(t, "etc//rc", EINVAL);
	check_lstat_fails(t, "etc/", EINVAL);
	tree_close(t);
	entset_free(&s);
}

ATF_TC_WITHOUT_HEAD(read_pread_readlink);
ATF_TC_BODY(read_pread_readlink, tc)
{
	struct entset s;
	struct tree *t;
	struct sbuf b = { 0 };
	char buf[8];

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	check_text(t, "etc/rc.d/sshd", "#!/bin/sh\n# sshd\n");
	/* Larger than asked for. */
	errno = 0;
	ATF_CHECK(tree_read(t, "etc/rc.conf", 16, &b) == -1 && errno == EFBIG);
	ATF_CHECK(tree_read(t, "etc/rc.conf", 17, &b) == 0 && b.len == 17);
	sbuf_free(&b);
	/* Not files. */
	errno = 0;
	ATF_CHECK(tree_read(t, "etc/localtime", 100, &b) == -1 &&
	    errno == ELOOP);
	errno = 0;
	ATF_CHECK(tree_read(t, "etc/a", 100, &b) == -1 && errno == EINVAL);
	errno = 0;
	ATF_CHECK(tree_read(t, "etc/old", 100, &b) == -1 && errno == ENOENT);
	/* In pieces, and past the end. */
	ATF_CHECK_EQ(tree_pread(t, "etc/rc.conf", 3, buf, 5), 5);
	ATF_CHECK(memcmp(buf, "confi", 5) == 0);
	ATF_CHECK_EQ(tree_pread(t, "etc/rc.conf", 14, buf, 8), 3);
	ATF_CHECK(memcmp(buf, "NO\n", 3) == 0);
	ATF_CHECK_EQ(tree_pread(t, "etc/rc.conf", 17, buf, 8), 0);
	ATF_CHECK_EQ(tree_has(t, "etc/rc.d/npf", "# npf", 5), 0);
	ATF_CHECK_EQ(tree_has(t, "etc/rc.d/npf", "# sshd", 6), 1);
	ATF_REQUIRE(tree_readlink(t, "etc/localtime", &b) == 0);
	ATF_CHECK(b.len == 23 && memcmp(b.s, "/usr/share/zoneinfo/UTC",
	    23) == 0);
	sbuf_free(&b);
	errno = 0;
	ATF_CHECK(tree_readlink(t, "etc/rc", &b) == -1 && errno == EINVAL);
	tree_close(t);
	entset_free(&s);
}

ATF_TC_WITHOUT_HEAD(list_sorted_children);
ATF_TC_BODY(list_sorted_children, tc)
{
	struct entset s;
	struct tree *t;
	char **v, *n;

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	/* Not what is below a child, nor what was removed. */
	ATF_CHECK_STREQ(n = names(t, "etc"), "a a-b localtime rc rc.conf "
	    "rc.d");
	free(n);
	ATF_CHECK_STREQ(n = names(t, ""), "etc");
	free(n);
	ATF_CHECK_STREQ(n = names(t, "etc/a"), "sub x");
	free(n);
	ATF_CHECK_STREQ(n = names(t, "etc/a/sub"), "y");
	free(n);
	errno = 0;
	ATF_CHECK(tree_list(t, "etc/rc", &v) == -1 && errno == ENOTDIR);
	errno = 0;
	ATF_CHECK(tree_list(t, "etc/nothere", &v) == -1 && errno == ENOENT);
	tree_close(t);
	entset_free(&s);
}

struct seen {
	struct sbuf b;
};

static int
note(void *arg, const char *path, const struct stat *st)
{
	struct seen *w = arg;

	return sbuf_printf(&w->b, "%s%s ", *path ? path : "/",
	    S_ISDIR(st->st_mode) ? "/" : "");
}

ATF_TC_WITHOUT_HEAD(walk_parents_first);
ATF_TC_BODY(walk_parents_first, tc)
{
	struct entset s;
	struct tree *t;
	struct seen w = { { 0 } };

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	ATF_REQUIRE_MSG(tree_walk(t, "", false, note, &w) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_STREQ(w.b.s, "// etc/ etc/a/ etc/a/sub/ etc/a/sub/y "
	    "etc/a/x etc/a-b etc/localtime etc/rc etc/rc.conf etc/rc.d/ "
	    "etc/rc.d/npf etc/rc.d/sshd ");
	sbuf_free(&w.b);
	tree_close(t);
	entset_free(&s);
}

/* Writing ---------------------------------------------------------------- */

ATF_TC_WITHOUT_HEAD(write_owner_mode_copied);
ATF_TC_BODY(write_owner_mode_copied, tc)
{
	struct entset s;
	struct tree *t;
	struct tree_wopts wo = { .mode = 0640, .uid = 12, .gid = 34 };
	char text[] = "new text\n";

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	ATF_REQUIRE(tree_write(t, "etc/new", text, strlen(text), &wo) == 0);
	/* The tree holds a copy. */
	text[0] = 'N';
	check_text(t, "etc/new", "new text\n");
	check_stat(t, "etc/new", S_IFREG | 0640, 12, 34);
	/* Only the permission bits of wo's mode. */
	wo.mode = S_IFDIR | 04755;
	ATF_REQUIRE(tree_write(t, "etc/new", "", 0, &wo) == 0);
	check_stat(t, "etc/new", S_IFREG | 04755, 12, 34);
	check_text(t, "etc/new", "");
	/* A removed path written again: nothing of what it held. */
	wo.mode = 0600;
	ATF_REQUIRE(tree_write(t, "etc/old", "back\n", 5, &wo) == 0);
	check_text(t, "etc/old", "back\n");
	check_stat(t, "etc/old", S_IFREG | 0600, 12, 34);
	/* A link replaced by a file. */
	ATF_REQUIRE(tree_write(t, "etc/localtime", "UTC\n", 4, &wo) == 0);
	check_stat(t, "etc/localtime", S_IFREG | 0600, 12, 34);
	ATF_CHECK(entset_get(&s, "etc/localtime")->link == NULL);
	tree_close(t);
	entset_free(&s);
}

ATF_TC_WITHOUT_HEAD(keep_orig_once);
ATF_TC_BODY(keep_orig_once, tc)
{
	struct entset s;
	struct tree *t;
	struct tree_wopts wo = { .mode = 0600, .uid = 7, .keep_orig = true };

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	ATF_REQUIRE(tree_write(t, "etc/rc", "first edit\n", 11, &wo) == 0);
	check_text(t, "etc/rc.orig", "rc text\n");
	check_stat(t, "etc/rc.orig", S_IFREG | 0644, 0, 0);
	check_stat(t, "etc/rc", S_IFREG | 0600, 7, 0);
	/* NAME.orig is never replaced. */
	ATF_REQUIRE(tree_write(t, "etc/rc", "second\n", 7, &wo) == 0);
	check_text(t, "etc/rc.orig", "rc text\n");
	check_text(t, "etc/rc", "second\n");
	/* Nothing to keep: no file there, or not a regular one. */
	ATF_REQUIRE(tree_write(t, "etc/none", "x", 1, &wo) == 0);
	ATF_CHECK_EQ(tree_exists(t, "etc/none.orig"), 1);
	ATF_REQUIRE(tree_keep_orig(t, "etc/localtime") == 0);
	ATF_CHECK_EQ(tree_exists(t, "etc/localtime.orig"), 1);
	ATF_REQUIRE(tree_keep_orig(t, "etc/rc.conf") == 0);
	check_text(t, "etc/rc.conf.orig", "rc_configured=NO\n");
	check_stat(t, "etc/rc.conf.orig", S_IFREG | 0640, 0, 5);
	tree_close(t);
	entset_free(&s);
}

ATF_TC_WITHOUT_HEAD(write_where_a_directory_would_not);
ATF_TC_BODY(write_where_a_directory_would_not, tc)
{
	struct entset s;
	struct tree *t;
	const struct tree_wopts wo = { .mode = 0644 };
	char *before, *after;

	fixture(&s);
	before = dump(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	errno = 0;
	ATF_CHECK(tree_write(t, "etc/nothere/x", "x", 1, &wo) == -1 &&
	    errno == ENOENT);
	ATF_CHECK(strstr(sr_errmsg(), "etc/nothere/x") != NULL);
	errno = 0;
	ATF_CHECK(tree_write(t, "etc/old/x", "x", 1, &wo) == -1 &&
	    errno == ENOENT);
	errno = 0;
	ATF_CHECK(tree_write(t, "etc/rc/x", "x", 1, &wo) == -1 &&
	    errno == ENOTDIR);
	errno = 0;
	ATF_CHECK(tree_write(t, "etc/localtime/x", "x", 1, &wo) == -1 &&
	    errno == ELOOP);
	errno = 0;
	ATF_CHECK(tree_write(t, "etc/rc.d", "x", 1, &wo) == -1 &&
	    errno == EISDIR);
	errno = 0;
	ATF_CHECK(tree_write(t, "", "x", 1, &wo) == -1 && errno == EINVAL);
	errno = 0;
	ATF_CHECK(tree_write(t, "etc/../x", "x", 1, &wo) == -1 &&
	    errno == EINVAL);
	errno = 0;
	ATF_CHECK(tree_symlink(t, "etc/a", "x", &wo) == -1 && errno == EISDIR);
	errno = 0;
	ATF_CHECK(tree_link(t, "etc/rc", "etc/a") == -1 && errno == EISDIR);
	errno = 0;
	ATF_CHECK(tree_setattr(t, "etc/nothere", &wo) == -1 &&
	    errno == ENOENT);
	errno = 0;
	ATF_CHECK(tree_remove(t, "") == -1 && errno == EINVAL);
	/* Nothing changed by any of them. */
	after = dump(&s);
	ATF_CHECK_STREQ(after, before);
	free(after);
	free(before);
	tree_close(t);
	entset_free(&s);
}

ATF_TC_WITHOUT_HEAD(write_fd_from_its_start);
ATF_TC_BODY(write_fd_from_its_start, tc)
{
	struct entset s;
	struct tree *t;
	const struct tree_wopts wo = { .mode = 0755, .uid = 1, .gid = 2 };
	int fd;

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	ATF_REQUIRE((fd = open("src", O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	ATF_REQUIRE(write(fd, "kernel bytes\0here", 17) == 17);
	/* The offset is at the end: read from the start all the same. */
	ATF_REQUIRE(tree_write_fd(t, "netbsd", fd, &wo) == 0);
	close(fd);
	check_stat(t, "netbsd", S_IFREG | 0755, 1, 2);
	ATF_CHECK_EQ(entset_get(&s, "netbsd")->len, 17);
	ATF_CHECK(memcmp(entset_get(&s, "netbsd")->data, "kernel bytes\0here",
	    17) == 0);
	tree_close(t);
	entset_free(&s);
}

ATF_TC_WITHOUT_HEAD(mkdir_symlink_link_mknod);
ATF_TC_BODY(mkdir_symlink_link_mknod, tc)
{
	struct entset s;
	struct tree *t;
	struct tree_wopts wo = { .mode = 0711, .uid = 3, .gid = 4 };
	struct stat st;
	struct sbuf b = { 0 };

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	ATF_REQUIRE(tree_mkdir(t, "etc/cgd", &wo) == 0);
	check_stat(t, "etc/cgd", S_IFDIR | 0711, 3, 4);
	ATF_REQUIRE(tree_write(t, "etc/cgd/xbd1a", "p", 1, &wo) == 0);
	/* A directory there is left as it is; anything else is in the way. */
	ATF_REQUIRE(tree_mkdir(t, "etc/a", &wo) == 0);
	check_stat(t, "etc/a", S_IFDIR | 0700, 0, 0);
	ATF_REQUIRE(tree_mkdir(t, "", &wo) == 0);
	errno = 0;
	ATF_CHECK(tree_mkdir(t, "etc/rc", &wo) == -1 && errno == EEXIST);
	errno = 0;
	ATF_CHECK(tree_mkdir(t, "etc/no/dir", &wo) == -1 && errno == ENOENT);
	/* A link replacing a file: its own type and mode, wo's owner. */
	ATF_REQUIRE(tree_symlink(t, "etc/rc.conf", "rc.conf.real", &wo) == 0);
	check_stat(t, "etc/rc.conf", S_IFLNK | 0777, 3, 4);
	ATF_REQUIRE(tree_readlink(t, "etc/rc.conf", &b) == 0);
	ATF_CHECK(b.len == 12 && memcmp(b.s, "rc.conf.real", 12) == 0);
	sbuf_free(&b);
	ATF_CHECK(entset_get(&s, "etc/rc.conf")->data == NULL);
	/* A hard link is a copy, attributes and all. */
	ATF_REQUIRE(tree_link(t, "etc/rc.d/npf", "etc/npf-link") == 0);
	check_stat(t, "etc/npf-link", S_IFREG | 0555, 0, 0);
	check_text(t, "etc/npf-link", "#!/bin/sh\n# npf\n");
	ATF_REQUIRE(tree_write(t, "etc/rc.d/npf", "changed\n", 8, &wo) == 0);
	ATF_REQUIRE(tree_setattr(t, "etc/rc.d/npf", &wo) == 0);
	check_text(t, "etc/npf-link", "#!/bin/sh\n# npf\n");
	check_stat(t, "etc/npf-link", S_IFREG | 0555, 0, 0);
	errno = 0;
	ATF_CHECK(tree_link(t, "etc/a", "etc/a2") == -1 && errno == EPERM);
	errno = 0;
	ATF_CHECK(tree_link(t, "etc/none", "etc/n2") == -1 && errno == ENOENT);
	/* A fifo and a device, with their numbers. */
	wo.mode = S_IFIFO | 0620;
	ATF_REQUIRE(tree_mknod(t, "etc/fifo", 0, &wo) == 0);
	check_stat(t, "etc/fifo", S_IFIFO | 0620, 3, 4);
	wo.mode = S_IFCHR | 0600;
	ATF_REQUIRE(tree_mknod(t, "etc/console", makedev(0, 1), &wo) == 0);
	ATF_REQUIRE(tree_lstat(t, "etc/console", &st) == 0);
	ATF_CHECK(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 1));
	errno = 0;
	ATF_CHECK(tree_mknod(t, "etc/console", 0, &wo) == -1 &&
	    errno == EEXIST);
	wo.mode = S_IFREG | 0600;
	errno = 0;
	ATF_CHECK(tree_mknod(t, "etc/reg", 0, &wo) == -1 && errno == EINVAL);
	tree_close(t);
	entset_free(&s);
}

ATF_TC_WITHOUT_HEAD(setattr_owner_mode);
ATF_TC_BODY(setattr_owner_mode, tc)
{
	struct entset s;
	struct tree *t;
	const struct tree_wopts wo = { .mode = 0510, .uid = 20, .gid = 21 };

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	ATF_REQUIRE(tree_setattr(t, "etc/rc", &wo) == 0);
	check_stat(t, "etc/rc", S_IFREG | 0510, 20, 21);
	check_text(t, "etc/rc", "rc text\n");
	ATF_REQUIRE(tree_setattr(t, "etc/a/sub", &wo) == 0);
	check_stat(t, "etc/a/sub", S_IFDIR | 0510, 20, 21);
	/* A link: its owner only. */
	ATF_REQUIRE(tree_setattr(t, "etc/localtime", &wo) == 0);
	check_stat(t, "etc/localtime", S_IFLNK | 0777, 20, 21);
	tree_close(t);
	entset_free(&s);
}

ATF_TC_WITHOUT_HEAD(remove_subtree);
ATF_TC_BODY(remove_subtree, tc)
{
	struct entset s;
	struct tree *t;
	const struct tree_wopts wo = { .mode = 0755 };
	char *n;

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	ATF_REQUIRE(tree_remove(t, "etc/a") == 0);
	/* It and all below it; the name sorting between them stays. */
	ATF_CHECK(entset_get(&s, "etc/a")->gone);
	ATF_CHECK(entset_get(&s, "etc/a/x")->gone);
	ATF_CHECK(entset_get(&s, "etc/a/sub")->gone);
	ATF_CHECK(entset_get(&s, "etc/a/sub/y")->gone);
	ATF_CHECK(!entset_get(&s, "etc/a-b")->gone);
	check_lstat_fails(t, "etc/a", ENOENT);
	check_lstat_fails(t, "etc/a/sub/y", ENOENT);
	check_text(t, "etc/a-b", "kept\n");
	ATF_CHECK_STREQ(n = names(t, "etc"), "a-b localtime rc rc.conf rc.d");
	free(n);
	/* Not there: removed already; a file: itself. */
	ATF_REQUIRE(tree_remove(t, "etc/a") == 0);
	ATF_REQUIRE(tree_remove(t, "etc/never") == 0);
	ATF_REQUIRE(tree_remove(t, "etc/rc.d/npf") == 0);
	ATF_CHECK_STREQ(n = names(t, "etc/rc.d"), "sshd");
	free(n);
	/* Made again, it is empty: what was in it stays removed. */
	ATF_REQUIRE(tree_mkdir(t, "etc/a", &wo) == 0);
	check_stat(t, "etc/a", S_IFDIR | 0755, 0, 0);
	ATF_CHECK_STREQ(n = names(t, "etc/a"), "");
	free(n);
	/* The whole etc. */
	ATF_REQUIRE(tree_remove(t, "etc") == 0);
	ATF_CHECK_STREQ(n = names(t, ""), "");
	free(n);
	ATF_CHECK_STREQ(n = dump(&s), "");
	free(n);
	tree_close(t);
	entset_free(&s);
}

/*
 * Removing what is not there is done already, as for every tree; its
 * parents must be there, and the top is never removed.
 */
ATF_TC_WITHOUT_HEAD(remove_not_there);
ATF_TC_BODY(remove_not_there, tc)
{
	struct entset s;
	struct tree *t;
	char *before, *after;

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	before = dump(&s);
	ATF_CHECK_EQ_MSG(tree_remove(t, "etc/never"), 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(tree_remove(t, "never"), 0);
	/* Removed before (in the set, marked gone): not there. */
	ATF_CHECK_EQ(tree_remove(t, "etc/old"), 0);
	ATF_CHECK_EQ(tree_remove(t, "usr/never"), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_STREQ(sr_errmsg(), "usr/never: remove: No such file or "
	    "directory");
	ATF_CHECK_EQ(tree_remove(t, "etc/rc/never"), -1);
	ATF_CHECK_EQ(errno, ENOTDIR);
	ATF_CHECK_EQ(tree_remove(t, "etc/localtime/never"), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_EQ(tree_remove(t, ""), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	after = dump(&s);
	ATF_CHECK_STREQ(after, before);
	free(after);
	/* Twice: the second finds it gone. */
	ATF_CHECK_EQ(tree_remove(t, "etc/rc"), 0);
	ATF_CHECK_EQ(tree_remove(t, "etc/rc"), 0);
	check_lstat_fails(t, "etc/rc", ENOENT);
	free(before);
	tree_close(t);
	entset_free(&s);
}

ATF_TC_WITHOUT_HEAD(writable_never_erofs);
ATF_TC_BODY(writable_never_erofs, tc)
{
	struct entset s;
	struct tree *t;
	struct tree_wopts wo = { .mode = 0644 };
	struct tree_room room;

	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	ATF_CHECK(tree_writable(t));
	ATF_CHECK(tree_dir_fd(t) == -1);
	/* Every operation is there, none the read-only refusal. */
	ATF_CHECK(t->ops->write && t->ops->write_fd && t->ops->keep_orig &&
	    t->ops->mkdir && t->ops->symlink && t->ops->link &&
	    t->ops->mknod && t->ops->remove && t->ops->setattr);
	errno = 0;
	ATF_CHECK(tree_write(t, "etc/w", "w", 1, &wo) == 0 &&
	    tree_keep_orig(t, "etc/w") == 0 &&
	    tree_mkdir(t, "etc/d", &wo) == 0 &&
	    tree_symlink(t, "etc/l", "w", &wo) == 0 &&
	    tree_link(t, "etc/w", "etc/h") == 0 &&
	    tree_setattr(t, "etc/h", &wo) == 0 &&
	    tree_remove(t, "etc/d") == 0 && tree_sync(t) == 0);
	ATF_CHECK(errno != EROFS);
	/* No disk holds it: no room to tell, and no message for it. */
	sr_seterr("kept");
	ATF_CHECK(tree_room(t, &room) == -1 && errno == ENOTSUP);
	ATF_CHECK_STREQ(sr_errmsg(), "kept");
	/* Closing the tree leaves the set, which is the caller's. */
	tree_close(t);
	ATF_CHECK(entset_get(&s, "etc/w") != NULL &&
	    !entset_get(&s, "etc/w")->gone);
	ATF_CHECK(entset_get(&s, "etc/w.orig") != NULL);
	entset_free(&s);
}

/* Plans ------------------------------------------------------------------- */

/*
 * lib/upgrade.c's apply_virtual() as it was before plan_apply() on
 * tree_mem() replaced it (commit d151798), kept as the reference: what
 * provisioning made of a root's etc in memory.
 */
static bool
ref_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/');
}

static struct ent *
ref_get(struct entset *s, const char *path)
{
	struct ent *e = entset_get(s, path);

	return e != NULL && !e->gone ? e : NULL;
}

static int
ref_set_data(struct ent *e, const char *data, size_t len)
{
	char *d = malloc(len + 1);

	if (d == NULL)
		return -1;
	memcpy(d, data, len);
	d[len] = '\0';
	free(e->data);
	e->data = d;
	e->len = len;
	return 0;
}

static struct ent *
ref_put(struct entset *s, const char *path, mode_t mode, uid_t uid,
    gid_t gid)
{
	struct ent *e = entset_get(s, path);

	if (e == NULL) {
		struct ent n = { .path = (char *)path };

		if (entset_add(s, &n) == -1 ||
		    (e = entset_get(s, path)) == NULL)
			return NULL;
	}
	if (e->gone) {
		free(e->data);
		free(e->link);
		e->data = e->link = NULL;
		e->len = 0;
		e->gone = false;
	}
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	return e;
}

static int
apply_virtual(struct entset *s, const struct plan *p)
{
	size_t i, j;

	for (i = 0; i < p->n; i++) {
		const struct change *c = &p->v[i];
		struct ent *e;
		char orig[PATH_MAX];

		if (!ref_under(c->path, "etc"))
			continue;
		switch (c->kind) {
		case CH_WRITE:
		case CH_WRITE_FD:
			if (c->kind == CH_WRITE_FD)
				return -1;
			e = ref_get(s, c->path);
			snprintf(orig, sizeof(orig), "%s.orig", c->path);
			if (e != NULL && c->wo.keep_orig &&
			    S_ISREG(e->mode) && ref_get(s, orig) == NULL) {
				struct ent o = *e;
				struct ent *oe;

				if ((o.data = malloc(e->len + 1)) == NULL)
					return -1;
				memcpy(o.data, e->data ? e->data : "", e->len);
				o.data[e->len] = '\0';
				oe = ref_put(s, orig, o.mode, o.uid, o.gid);
				if (oe == NULL) {
					free(o.data);
					return -1;
				}
				oe->data = o.data;
				oe->len = o.len;
				e = ref_get(s, c->path);
			}
			if (e == NULL && (e = ref_put(s, c->path, S_IFREG |
			    (c->wo.mode & 07777), c->wo.uid,
			    c->wo.gid)) == NULL)
				return -1;
			/* The plan's: an edit's are the original's, as read. */
			e->mode = S_IFREG | (c->wo.mode & 07777);
			e->uid = c->wo.uid;
			e->gid = c->wo.gid;
			free(e->link);
			e->link = NULL;
			if (ref_set_data(e, c->new ? c->new : "",
			    c->newlen) == -1)
				return -1;
			break;
		case CH_MKDIR:
			if (ref_get(s, c->path) == NULL && ref_put(s, c->path,
			    S_IFDIR | (c->wo.mode & 07777), c->wo.uid,
			    c->wo.gid) == NULL)
				return -1;
			break;
		case CH_REMOVE:
			for (j = 0; j < s->n; j++)
				if (ref_under(s->v[j].path, c->path))
					s->v[j].gone = true;
			break;
		default:
			break;
		}
	}
	return 0;
}

static void
pwrite_text(struct plan *p, const char *path, const char *text,
    const struct tree_wopts *wo)
{
	char *d = strdup(text);

	ATF_REQUIRE(d != NULL);
	ATF_REQUIRE(plan_write(p, path, NULL, d, strlen(text), wo) == 0);
}

/*
 * A provisioning plan with every kind of change: in etc the kinds
 * localprep_plan() makes there (writes over files and new ones, with
 * NAME.orig kept and the owner or mode of the file replaced, a
 * directory and what goes in it, a removal, a directory that is there
 * already; and a path made again after it was removed); outside etc
 * every kind, as the record's and var's changes are.
 */
static void
every_kind(struct plan *p, int fd)
{
	/* An edit: the original's owner and mode, as the planner read them. */
	const struct tree_wopts edit = { .mode = 0644, .uid = 0, .gid = 0,
	    .keep_orig = true };
	const struct tree_wopts own = { .mode = 0640, .uid = 0, .gid = 5,
	    .keep_orig = true };
	const struct tree_wopts tmpl = { .mode = 0644, .keep_orig = true };
	const struct tree_wopts d = { .mode = 0755, .uid = 2, .gid = 3 };

	memset(p, 0, sizeof(*p));
	pwrite_text(p, "etc/rc", "rc without the hook\n", &edit);
	pwrite_text(p, "etc/rc.conf", "rc_configured=YES\n", &own);
	ATF_REQUIRE(plan_mkdir(p, "etc/rc.conf.d", 0755) == 0);
	pwrite_text(p, "etc/rc.conf.d/root", "root\n", &tmpl);
	ATF_REQUIRE(plan_mkdir_as(p, "etc/a", &d) == 0);
	ATF_REQUIRE(plan_remove(p, "etc/a") == 0);
	ATF_REQUIRE(plan_mkdir_as(p, "etc/a", &d) == 0);
	pwrite_text(p, "etc/a/z", "z\n", &tmpl);
	pwrite_text(p, "etc/old", "written again\n", &tmpl);
	pwrite_text(p, "etc/fstab", "fstab\n", &tmpl);
	ATF_REQUIRE(plan_remove(p, "etc/rc.d/sshd") == 0);
	ATF_REQUIRE(plan_remove(p, "etc/nothere") == 0);
	/* Outside etc: the record, var, anything. */
	ATF_REQUIRE(plan_mkdir(p, ".sharedroot", 0755) == 0);
	pwrite_text(p, ".sharedroot/root-id", "0123\n", &tmpl);
	ATF_REQUIRE(plan_write_fd(p, "netbsd", fd, "/host/netbsd",
	    &tmpl) == 0);
	ATF_REQUIRE(plan_link(p, "var/cron/root.orig", "var/cron/tabs/root",
	    false) == 0);
	ATF_REQUIRE(plan_symlink(p, "var/link", "x", &d) == 0);
	ATF_REQUIRE(plan_attr(p, "var", &d) == 0);
	ATF_REQUIRE(plan_remove(p, "var/run") == 0);
}

ATF_TC_WITHOUT_HEAD(provision_etc_as_apply_virtual);
ATF_TC_BODY(provision_etc_as_apply_virtual, tc)
{
	struct entset a, b;
	struct plan p;
	char *da, *db;
	int fd;

	ATF_REQUIRE((fd = open("src", O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	every_kind(&p, fd);
	fixture(&a);
	fixture(&b);
	ATF_REQUIRE(apply_virtual(&a, &p) == 0);
	ATF_REQUIRE_MSG(upgrade_etc_provision(&b, &p) == 0, "%s",
	    sr_errmsg());
	da = dump(&a);
	db = dump(&b);
	ATF_CHECK_STREQ(da, db);
	/* And it did something: each change to etc is there. */
	ATF_CHECK(strstr(db, "etc/rc 100644 0:0 [rc without the hook\n]") !=
	    NULL);
	ATF_CHECK(strstr(db, "etc/rc.orig 100644 0:0 [rc text\n]") != NULL);
	ATF_CHECK(strstr(db, "etc/rc.conf 100640 0:5 [rc_configured=YES\n]") !=
	    NULL);
	ATF_CHECK(strstr(db, "etc/rc.conf.orig 100640 0:5") != NULL);
	ATF_CHECK(strstr(db, "etc/rc.conf.d 040755 0:0\n") != NULL);
	ATF_CHECK(strstr(db, "etc/rc.conf.d/root 100644 0:0 [root\n]") != NULL);
	ATF_CHECK(strstr(db, "etc/a 040755 2:3\n") != NULL);
	ATF_CHECK(strstr(db, "etc/a/z 100644 0:0 [z\n]") != NULL);
	ATF_CHECK(strstr(db, "etc/a/x") == NULL);
	ATF_CHECK(strstr(db, "etc/old 100644 0:0 [written again\n]") != NULL);
	ATF_CHECK(strstr(db, "etc/rc.d/sshd") == NULL);
	ATF_CHECK(strstr(db, "etc/rc.d/npf") != NULL);
	/* Nothing outside etc. */
	ATF_CHECK(strstr(db, ".sharedroot") == NULL);
	ATF_CHECK(strstr(db, "netbsd") == NULL && strstr(db, "var") == NULL);
	free(da);
	free(db);
	plan_free(&p);
	close(fd);
	entset_free(&a);
	entset_free(&b);
}

ATF_TC_WITHOUT_HEAD(plan_apply_every_kind);
ATF_TC_BODY(plan_apply_every_kind, tc)
{
	const struct tree_wopts d = { .mode = 0750, .uid = 2, .gid = 3 };
	struct entset s;
	struct plan p = { 0 };
	struct tree *t;
	struct sbuf b = { 0 };
	int fd;

	ATF_REQUIRE((fd = open("src", O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	ATF_REQUIRE(write(fd, "from a host file\n", 17) == 17);
	fixture(&s);
	ATF_REQUIRE((t = tree_mem(&s)) != NULL);
	/* What apply_virtual() left out, done in memory as on a disk. */
	ATF_REQUIRE(plan_write_fd(&p, "etc/installed", fd, "/host/file",
	    &d) == 0);
	ATF_REQUIRE(plan_link(&p, "etc/rc.d/npf.link", "etc/rc.d/npf",
	    true) == 0);
	ATF_REQUIRE(plan_symlink(&p, "etc/localtime", "/usr/share/zoneinfo/"
	    "Europe/Paris", &d) == 0);
	ATF_REQUIRE(plan_attr(&p, "etc/rc.conf", &d) == 0);
	ATF_REQUIRE(plan_mkdir_as(&p, "etc/ssh", &d) == 0);
	ATF_REQUIRE(plan_remove(&p, "etc/a/sub") == 0);
	ATF_REQUIRE_MSG(plan_apply(&p, t) == 0, "%s",
	    sr_errmsg());
	check_text(t, "etc/installed", "from a host file\n");
	check_stat(t, "etc/installed", S_IFREG | 0750, 2, 3);
	check_text(t, "etc/rc.d/npf.link", "#!/bin/sh\n# npf\n");
	check_stat(t, "etc/rc.d/npf.link", S_IFREG | 0555, 0, 0);
	check_stat(t, "etc/localtime", S_IFLNK | 0777, 2, 3);
	ATF_REQUIRE(tree_readlink(t, "etc/localtime", &b) == 0);
	ATF_CHECK(b.len == 32 && memcmp(b.s, "/usr/share/zoneinfo/Europe/Paris",
	    32) == 0);
	sbuf_free(&b);
	check_stat(t, "etc/rc.conf", S_IFREG | 0750, 2, 3);
	check_stat(t, "etc/ssh", S_IFDIR | 0750, 2, 3);
	check_lstat_fails(t, "etc/a/sub", ENOENT);
	check_lstat_fails(t, "etc/a/sub/y", ENOENT);
	check_text(t, "etc/a/x", "x\n");
	/* A change that cannot be made stops the plan there. */
	plan_free(&p);
	ATF_REQUIRE(plan_mkdir(&p, "etc/first", 0755) == 0);
	pwrite_text(&p, "etc/nothere/x", "x", &d);
	ATF_REQUIRE(plan_mkdir(&p, "etc/after", 0755) == 0);
	errno = 0;
	ATF_CHECK(plan_apply(&p, t) == -1 && errno == ENOENT);
	ATF_CHECK_EQ(tree_exists(t, "etc/first"), 0);
	ATF_CHECK_EQ(tree_exists(t, "etc/after"), 1);
	plan_free(&p);
	tree_close(t);
	close(fd);
	entset_free(&s);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, lstat_modes_owners_sizes);
	ATF_TP_ADD_TC(tp, lstat_errors_as_a_directory);
	ATF_TP_ADD_TC(tp, read_pread_readlink);
	ATF_TP_ADD_TC(tp, list_sorted_children);
	ATF_TP_ADD_TC(tp, walk_parents_first);
	ATF_TP_ADD_TC(tp, write_owner_mode_copied);
	ATF_TP_ADD_TC(tp, keep_orig_once);
	ATF_TP_ADD_TC(tp, write_where_a_directory_would_not);
	ATF_TP_ADD_TC(tp, write_fd_from_its_start);
	ATF_TP_ADD_TC(tp, mkdir_symlink_link_mknod);
	ATF_TP_ADD_TC(tp, setattr_owner_mode);
	ATF_TP_ADD_TC(tp, remove_subtree);
	ATF_TP_ADD_TC(tp, remove_not_there);
	ATF_TP_ADD_TC(tp, writable_never_erofs);
	ATF_TP_ADD_TC(tp, provision_etc_as_apply_virtual);
	ATF_TP_ADD_TC(tp, plan_apply_every_kind);
	return atf_no_error();
}
