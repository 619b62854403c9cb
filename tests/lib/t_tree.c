/*
 * tree_*(): containment in the guest and atomic replacement.
 *
 * Built twice: t_tree uses the host's one-call contained open (openat2
 * on Linux), t_tree_portable (-DSR_NO_OPENAT2, with the portability
 * layer built so too) the walk one component at a time that NetBSD uses.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "h_util.h"
#include "dir.h"
#include "os.h"

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
 * Which contained open this build uses: the portable one refuses the
 * one-call open, the other follows no link in one call (openat2).
 */
ATF_TC_WITHOUT_HEAD(tree_open_beneath);
ATF_TC_BODY(tree_open_beneath, tc)
{
	int root = setup(), fd;

	write_text("g/etc/rc", "rc\n");
	ATF_REQUIRE(symlink("../../host/secret", "g/etc/link") == 0);
	errno = 0;
	fd = os_open_beneath(root, "etc/rc", O_RDONLY);
#ifdef SR_NO_OPENAT2
	ATF_CHECK_EQ(fd, -1);
	ATF_CHECK_EQ(errno, ENOSYS);
#else
	if (fd == -1 && (errno == ENOSYS || errno == EPERM))
		atf_tc_skip("no openat2 on this host: t_tree_portable is all");
	ATF_CHECK(fd != -1);
	errno = 0;
	ATF_CHECK_EQ(os_open_beneath(root, "etc/link", O_RDONLY), -1);
	ATF_CHECK_EQ(errno, ELOOP);
#endif
	if (fd != -1)
		close(fd);
	/* Either way, the link is not followed. */
	ATF_CHECK_EQ(dir_openfile(root, "etc/link"), -1);
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
	ATF_TP_ADD_TC(tp, tree_open_beneath);
	return atf_no_error();
}
