/*
 * tree_*(): containment in the guest and atomic replacement.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "h_util.h"
#include "dir.h"

/* A guest "g" and, beside it, a host directory "host" with a secret. */
static int
setup(void)
{
	int fd;

	ATF_REQUIRE(mkdir("g", 0755) == 0);
	ATF_REQUIRE(mkdir("g/etc", 0755) == 0);
	ATF_REQUIRE(mkdir("host", 0755) == 0);
	ATF_REQUIRE((fd = open("host/secret", O_CREAT | O_WRONLY, 0600)) >= 0);
	ATF_REQUIRE(write(fd, "s3cret\n", 7) == 7);
	close(fd);
	ATF_REQUIRE((fd = open("g", O_RDONLY | O_DIRECTORY)) >= 0);
	return fd;
}

static void
write_text(const char *path, const char *text)
{
	int fd;

	ATF_REQUIRE((fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644)) >= 0);
	ATF_REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

ATF_TC_WITHOUT_HEAD(tree_symlinked_dir_refused);
ATF_TC_BODY(tree_symlinked_dir_refused, tc)
{
	const struct tree_wopts wo = { .mode = 0644, .keep_orig = false };
	struct sbuf b = { 0 };
	struct stat st;
	int root = setup();
	char cwd[1024], target[1100];

	ATF_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(target, sizeof(target), "%s/host", cwd);
	ATF_REQUIRE(symlink(target, "g/var") == 0);
	ATF_CHECK_EQ(dir_readfile(root, "var/secret", 1024, &b, NULL), -1);
	ATF_CHECK(strstr(sr_errmsg(), "symbolic link") != NULL);
	ATF_CHECK_EQ(dir_writefile(root, "var/new", "x", 1, &wo), -1);
	ATF_CHECK(stat("host/new", &st) == -1 && errno == ENOENT);
	ATF_CHECK_EQ(dir_remove(root, "var/secret"), -1);
	ATF_CHECK(stat("host/secret", &st) == 0);
	/* Relative links climbing out are refused the same way. */
	ATF_REQUIRE(symlink("../../host", "g/etc/up") == 0);
	ATF_CHECK_EQ(dir_readfile(root, "etc/up/secret", 1024, &b, NULL), -1);
	sbuf_free(&b);
}

ATF_TC_WITHOUT_HEAD(tree_symlinked_file_refused);
ATF_TC_BODY(tree_symlinked_file_refused, tc)
{
	struct sbuf b = { 0 };
	int root = setup();

	ATF_REQUIRE(symlink("../../host/secret", "g/etc/rc") == 0);
	ATF_CHECK_EQ(dir_readfile(root, "etc/rc", 1024, &b, NULL), -1);
	ATF_CHECK_STREQ(sr_errmsg(),
	    "etc/rc: read: is a symbolic link (refused)");
	ATF_CHECK(b.len == 0);
	ATF_CHECK_EQ(dir_openfile(root, "etc/rc"), -1);
}

ATF_TC_WITHOUT_HEAD(tree_dotdot_and_absolute_refused);
ATF_TC_BODY(tree_dotdot_and_absolute_refused, tc)
{
	struct sbuf b = { 0 };
	int root = setup();

	ATF_CHECK_EQ(dir_readfile(root, "../host/secret", 1024, &b, NULL), -1);
	ATF_CHECK_EQ(dir_readfile(root, "etc/../../host/secret", 1024, &b,
	    NULL), -1);
	ATF_CHECK_EQ(dir_readfile(root, "/etc/passwd", 1024, &b, NULL), -1);
	ATF_CHECK(b.len == 0);
}

ATF_TC_WITHOUT_HEAD(tree_remove_does_not_follow);
ATF_TC_BODY(tree_remove_does_not_follow, tc)
{
	struct stat st;
	int root = setup();
	char cwd[1024], target[1100];

	ATF_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(target, sizeof(target), "%s/host", cwd);
	ATF_REQUIRE(mkdir("g/dev", 0755) == 0);
	ATF_REQUIRE(mkdir("g/dev/sub", 0755) == 0);
	ATF_REQUIRE(symlink(target, "g/dev/sub/link") == 0);
	ATF_REQUIRE(symlink(target, "g/dev/link") == 0);
	ATF_REQUIRE_EQ(dir_remove(root, "dev"), 0);
	ATF_CHECK(lstat("g/dev", &st) == -1 && errno == ENOENT);
	ATF_CHECK(stat("host/secret", &st) == 0);
}

/*
 * A tree far deeper than any walk allows (a stage a hostile image
 * filled to the limit, below the stage's own directories), wide at
 * places, with links to the host: purged whole, iteratively, and
 * nothing outside touched.
 */
ATF_TC_WITHOUT_HEAD(tree_purge_any_depth);
ATF_TC_BODY(tree_purge_any_depth, tc)
{
	struct stat st;
	char cwd[1024], target[1100];
	int root = setup(), fd, d, i, j;

	ATF_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(target, sizeof(target), "%s/host", cwd);
	ATF_REQUIRE(mkdir("g/work", 0700) == 0);
	ATF_REQUIRE((d = open("g/work", O_RDONLY | O_DIRECTORY)) >= 0);
	for (i = 0; i < 400; i++) {
		/* Files, links and empty directories beside each level. */
		ATF_REQUIRE((fd = openat(d, "f", O_CREAT | O_WRONLY, 0600)) >=
		    0);
		close(fd);
		ATF_REQUIRE(symlinkat(target, d, "l") == 0);
		if (i % 50 == 0)
			for (j = 0; j < 40; j++) {
				char name[16];

				snprintf(name, sizeof(name), "e%d", j);
				ATF_REQUIRE(mkdirat(d, name, 0700) == 0);
			}
		/* The next level, with no way back by name from here on. */
		ATF_REQUIRE(mkdirat(d, "d", 0700) == 0);
		fd = openat(d, "d", O_RDONLY | O_DIRECTORY);
		ATF_REQUIRE(fd >= 0);
		close(d);
		d = fd;
	}
	close(d);
	ATF_REQUIRE_EQ_MSG(dir_purge(root, "work"), 0, "%s", sr_errmsg());
	ATF_CHECK(lstat("g/work", &st) == -1 && errno == ENOENT);
	ATF_CHECK(stat("host/secret", &st) == 0);
	ATF_CHECK(lstat("g/etc", &st) == 0);
	/* The same through a host path, as a stage is removed. */
	ATF_REQUIRE(mkdir("stage", 0700) == 0);
	ATF_REQUIRE((d = open("stage", O_RDONLY | O_DIRECTORY)) >= 0);
	for (i = 0; i < 300; i++) {
		ATF_REQUIRE(mkdirat(d, "tree", 0700) == 0);
		ATF_REQUIRE((fd = openat(d, "tree", O_RDONLY | O_DIRECTORY)) >=
		    0);
		close(d);
		d = fd;
	}
	close(d);
	snprintf(target, sizeof(target), "%s/stage", cwd);
	ATF_REQUIRE_EQ_MSG(dir_purge_path(target), 0, "%s", sr_errmsg());
	ATF_CHECK(lstat("stage", &st) == -1 && errno == ENOENT);
}

ATF_TC_WITHOUT_HEAD(tree_fifo_not_read);
ATF_TC_BODY(tree_fifo_not_read, tc)
{
	struct sbuf b = { 0 };
	int root = setup();

	ATF_REQUIRE(mkfifo("g/etc/rc", 0644) == 0);
	ATF_CHECK_EQ(dir_readfile(root, "etc/rc", 1024, &b, NULL), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "etc/rc: read: not a regular file");
}

ATF_TC_WITHOUT_HEAD(tree_write_atomic_keeps_orig_once);
ATF_TC_BODY(tree_write_atomic_keeps_orig_once, tc)
{
	const struct tree_wopts wo = { .mode = 0640, .keep_orig = true };
	struct sbuf b = { 0 };
	struct stat st;
	int root = setup();

	write_text("g/etc/rc", "old\n");
	ATF_REQUIRE_EQ(dir_writefile(root, "etc/rc", "new1\n", 5, &wo), 0);
	ATF_REQUIRE_EQ(dir_writefile(root, "etc/rc", "new2\n", 5, &wo), 0);
	ATF_REQUIRE_EQ(dir_readfile(root, "etc/rc", 1024, &b, &st), 0);
	ATF_CHECK_STREQ(b.s, "new2\n");
	ATF_CHECK_EQ(st.st_mode & 07777, 0640);
	sbuf_free(&b);
	ATF_REQUIRE_EQ(dir_readfile(root, "etc/rc.orig", 1024, &b, NULL), 0);
	ATF_CHECK_STREQ(b.s, "old\n");
	sbuf_free(&b);
	/* No temporaries left beside it. */
	{
		char **names;
		size_t n;

		ATF_REQUIRE_EQ(dir_list(root, "etc", &names), 0);
		for (n = 0; names[n] != NULL; n++)
			;
		ATF_CHECK_EQ(n, 2);
		dir_freelist(names);
	}
}

ATF_TC_WITHOUT_HEAD(tree_write_over_symlink_replaces_link);
ATF_TC_BODY(tree_write_over_symlink_replaces_link, tc)
{
	const struct tree_wopts wo = { .mode = 0644, .keep_orig = true };
	struct sbuf b = { 0 };
	struct stat st;
	int root = setup();

	ATF_REQUIRE(symlink("../../host/secret", "g/etc/motd") == 0);
	ATF_REQUIRE_EQ(dir_writefile(root, "etc/motd", "hi\n", 3, &wo), 0);
	ATF_REQUIRE(lstat("g/etc/motd", &st) == 0 && S_ISREG(st.st_mode));
	/* The host file is untouched, and no .orig of a link is made. */
	ATF_REQUIRE_EQ(dir_readfile(root, "etc/motd", 1024, &b, NULL), 0);
	ATF_CHECK_STREQ(b.s, "hi\n");
	ATF_CHECK(lstat("g/etc/motd.orig", &st) == -1);
	sbuf_free(&b);
	{
		int fd = open("host/secret", O_RDONLY);
		char buf[16] = { 0 };

		ATF_REQUIRE(fd >= 0);
		ATF_CHECK(read(fd, buf, sizeof(buf)) == 7);
		ATF_CHECK_STREQ(buf, "s3cret\n");
		close(fd);
	}
}

ATF_TC_WITHOUT_HEAD(tree_mkdir_existing_file_refused);
ATF_TC_BODY(tree_mkdir_existing_file_refused, tc)
{
	struct stat st;
	int root = setup();

	write_text("g/local", "x");
	ATF_CHECK_EQ(dir_mkdir(root, "local", 0755), -1);
	ATF_CHECK(strstr(sr_errmsg(), "not a directory") != NULL);
	umask(077);
	ATF_CHECK_EQ(dir_mkdir(root, "emul", 0755), 0);
	ATF_REQUIRE(stat("g/emul", &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0755);
	ATF_CHECK_EQ(dir_mkdir(root, "emul", 0755), 0);
}

/*
 * tree_sub() of a host directory holds the directory: a walk below it
 * stays there when its name is swapped for a link to the host.
 */
ATF_TC_WITHOUT_HEAD(tree_sub_holds_directory);
ATF_TC_BODY(tree_sub_holds_directory, tc)
{
	struct tree *t, *sub, *sub2;
	struct sbuf b = { 0 };
	struct stat st;
	char **names;
	int root = setup();

	ATF_REQUIRE(mkdir("g/etc/rc.d", 0755) == 0);
	write_text("g/etc/rc.d/npf", "npf\n");
	ATF_REQUIRE((t = tree_dir(root, "g", TREE_RDONLY)) != NULL);
	ATF_REQUIRE((sub = tree_sub(t, "etc")) != NULL);
	ATF_CHECK(!tree_writable(sub));
	ATF_REQUIRE((sub2 = tree_sub(sub, "rc.d")) != NULL);
	ATF_REQUIRE(rename("g/etc", "g/etc.moved") == 0);
	ATF_REQUIRE(symlink("../host", "g/etc") == 0);
	ATF_REQUIRE(tree_list(sub, "", &names) == 0);
	ATF_CHECK_STREQ(names[0], "rc.d");
	ATF_CHECK(names[1] == NULL);
	tree_freelist(names);
	ATF_REQUIRE(tree_read(sub2, "npf", 100, &b) == 0);
	ATF_CHECK_STREQ(b.s, "npf\n");
	sbuf_free(&b);
	ATF_CHECK_EQ(tree_lstat(sub, "secret", &st), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	/* From the top, the link is refused as ever. */
	ATF_CHECK_EQ(tree_read(t, "etc/secret", 100, &b), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK(tree_sub(t, "etc") == NULL);
	ATF_CHECK_EQ(errno, ELOOP);
	tree_close(sub2);
	tree_close(sub);
	tree_close(t);
	close(root);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, tree_symlinked_dir_refused);
	ATF_TP_ADD_TC(tp, tree_symlinked_file_refused);
	ATF_TP_ADD_TC(tp, tree_dotdot_and_absolute_refused);
	ATF_TP_ADD_TC(tp, tree_remove_does_not_follow);
	ATF_TP_ADD_TC(tp, tree_purge_any_depth);
	ATF_TP_ADD_TC(tp, tree_fifo_not_read);
	ATF_TP_ADD_TC(tp, tree_write_atomic_keeps_orig_once);
	ATF_TP_ADD_TC(tp, tree_write_over_symlink_replaces_link);
	ATF_TP_ADD_TC(tp, tree_mkdir_existing_file_refused);
	ATF_TP_ADD_TC(tp, tree_sub_holds_directory);
	return atf_no_error();
}
