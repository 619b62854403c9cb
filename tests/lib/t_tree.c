/*
 * The host-directory primitives (dir_*()): containment in the guest and
 * atomic replacement; and the guest-tree interface over them
 * (tree_dir(), tree.h): every operation with its owners, modes and
 * messages, a read-only tree, the one walk, tree_has and tree_exists.
 *
 * Built twice: t_tree uses the host's one-call contained open (openat2
 * on Linux), t_tree_portable (-DSR_NO_OPENAT2, with the portability
 * layer built so too) the walk one component at a time that NetBSD uses.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "h_util.h"
#include "tree/dir.h"
#include "tree/tree.h"
#include "base/os.h"

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

ATF_TC_WITHOUT_HEAD(tree_symlinked_dir_refused);
ATF_TC_BODY(tree_symlinked_dir_refused, tc)
{
	const struct tree_wopts wo = { .mode = 0644, .keep_orig = false };
	struct sbuf b = { .s = NULL };
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
	struct sbuf b = { .s = NULL };
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
	struct sbuf b = { .s = NULL };
	int root = setup();

	ATF_CHECK_EQ(dir_readfile(root, "../host/secret", 1024, &b, NULL), -1);
	ATF_CHECK_STREQ(sr_errmsg(),
	    "../host/secret: not a plain path inside the guest");
	ATF_CHECK_EQ(dir_readfile(root, "etc/../../host/secret", 1024, &b,
	    NULL), -1);
	ATF_CHECK_STREQ(sr_errmsg(),
	    "etc/../../host/secret: not a plain path inside the guest");
	ATF_CHECK_EQ(dir_readfile(root, "/etc/passwd", 1024, &b, NULL), -1);
	ATF_CHECK_STREQ(sr_errmsg(),
	    "/etc/passwd: not a path inside the guest");
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
	struct sbuf b = { .s = NULL };
	int root = setup();

	ATF_REQUIRE(mkfifo("g/etc/rc", 0644) == 0);
	ATF_CHECK_EQ(dir_readfile(root, "etc/rc", 1024, &b, NULL), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "etc/rc: read: not a regular file");
}

ATF_TC_WITHOUT_HEAD(tree_write_atomic_keeps_orig_once);
ATF_TC_BODY(tree_write_atomic_keeps_orig_once, tc)
{
	const struct tree_wopts wo = { .mode = 0640, .keep_orig = true };
	struct sbuf b = { .s = NULL };
	struct stat st;
	int root = setup();

	h_put("g/etc/rc", "old\n");
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
	struct sbuf b = { .s = NULL };
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

	h_put("g/local", "x");
	ATF_CHECK_EQ(dir_mkdir(root, "local", 0755), -1);
	ATF_CHECK(strstr(sr_errmsg(), "not a directory") != NULL);
	umask(077);
	ATF_CHECK_EQ(dir_mkdir(root, "emul", 0755), 0);
	ATF_REQUIRE(stat("g/emul", &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0755);
	ATF_CHECK_EQ(dir_mkdir(root, "emul", 0755), 0);
}

/* The interface (tree.h) over a host directory ------------------------------ */

/* The guest "g" of setup() as a tree named "g.img" in messages. */
static struct tree *
guest_tree(int flags)
{
	struct tree *t;
	int fd = setup();

	ATF_REQUIRE_MSG((t = tree_dir(fd, "g.img", flags)) != NULL, "%s",
	    sr_errmsg());
	close(fd);
	return t;
}

/* The names in a directory of the tree, each followed by a space. */
static const char *
names(struct tree *t, const char *rel)
{
	static char buf[1024];
	char **v;
	size_t i;

	buf[0] = '\0';
	ATF_REQUIRE_MSG(tree_list(t, rel, &v) == 0, "%s", sr_errmsg());
	for (i = 0; v[i] != NULL; i++) {
		strlcat(buf, v[i], sizeof(buf));
		strlcat(buf, " ", sizeof(buf));
	}
	tree_freelist(v);
	return buf;
}

ATF_TC_WITHOUT_HEAD(tree_dir_write_read);
ATF_TC_BODY(tree_dir_write_read, tc)
{
	const struct tree_wopts wo = { .mode = 0640 };
	const struct tree_wopts keep = { .mode = 0604, .keep_orig = true };
	struct tree *t = guest_tree(0);
	struct sbuf b = { .s = NULL };
	struct stat st, old;
	struct tree_room room;
	struct statvfs sv;
	char buf[8];
	int fd;

	ATF_CHECK_STREQ(t->name, "g.img");
	ATF_CHECK(tree_writable(t));
	ATF_REQUIRE_EQ_MSG(tree_write(t, "etc/rc.conf", "rc_configured=NO\n",
	    17, &wo), 0, "%s", sr_errmsg());
	ATF_REQUIRE(lstat("g/etc/rc.conf", &old) == 0);
	ATF_CHECK(S_ISREG(old.st_mode));
	ATF_CHECK_EQ(old.st_mode & 07777, 0640);
	ATF_CHECK_STREQ(h_text("g/etc/rc.conf"), "rc_configured=NO\n");
	/* Read back through the tree: whole, bounded, and from an offset. */
	ATF_REQUIRE_EQ(tree_lstat(t, "etc/rc.conf", &st), 0);
	ATF_CHECK(st.st_ino == old.st_ino && st.st_size == 17);
	ATF_REQUIRE_EQ(tree_read(t, "etc/rc.conf", 17, &b), 0);
	ATF_CHECK_STREQ(b.s, "rc_configured=NO\n");
	sbuf_free(&b);
	ATF_CHECK_EQ(tree_read(t, "etc/rc.conf", 16, &b), -1);
	ATF_CHECK_EQ(errno, EFBIG);
	ATF_CHECK_STREQ(sr_errmsg(),
	    "etc/rc.conf: read: larger than 16 bytes");
	ATF_CHECK_EQ(tree_pread(t, "etc/rc.conf", 14, buf, sizeof(buf)), 3);
	ATF_CHECK(memcmp(buf, "NO\n", 3) == 0);
	ATF_CHECK_EQ(tree_pread(t, "etc/rc.conf", 17, buf, sizeof(buf)), 0);
	/* Replaced, the old file kept as .orig (the same file). */
	ATF_REQUIRE_EQ(tree_write(t, "etc/rc.conf", "rc_configured=YES\n", 18,
	    &keep), 0);
	ATF_CHECK_STREQ(h_text("g/etc/rc.conf"), "rc_configured=YES\n");
	ATF_REQUIRE(lstat("g/etc/rc.conf", &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0604);
	ATF_CHECK(st.st_ino != old.st_ino);
	ATF_REQUIRE(lstat("g/etc/rc.conf.orig", &st) == 0);
	ATF_CHECK(st.st_ino == old.st_ino);
	ATF_CHECK_STREQ(h_text("g/etc/rc.conf.orig"), "rc_configured=NO\n");
	/* From a host file: its content, our mode. */
	h_put("host/motd", "NetBSD\n");
	ATF_REQUIRE((fd = open("host/motd", O_RDONLY)) >= 0);
	ATF_REQUIRE_EQ_MSG(tree_write_fd(t, "etc/motd", fd, &wo), 0, "%s",
	    sr_errmsg());
	close(fd);
	ATF_CHECK_STREQ(h_text("g/etc/motd"), "NetBSD\n");
	ATF_REQUIRE(lstat("g/etc/motd", &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0640);
	/* Sorted, and no temporary left beside them. */
	ATF_CHECK_STREQ(names(t, "etc"), "motd rc.conf rc.conf.orig ");
	ATF_CHECK_STREQ(names(t, ""), "etc ");
	/* A directory is not written over. */
	ATF_CHECK_EQ(tree_write(t, "etc", "x", 1, &wo), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "etc: write: is a directory");
	ATF_REQUIRE(lstat("g/etc", &st) == 0 && S_ISDIR(st.st_mode));
	ATF_CHECK(tree_dir_fd(t) >= 0);
	/* Its room: its file system's. */
	ATF_REQUIRE_MSG(tree_room(t, &room) == 0, "%s", strerror(errno));
	ATF_REQUIRE(statvfs("g", &sv) == 0);
	ATF_CHECK(room.where[0] != '\0');
	ATF_CHECK(room.noinodes == (sv.f_files > 0 && sv.f_favail == 0));
	ATF_CHECK(room.avail <= (uint64_t)sv.f_blocks * sv.f_frsize);
	ATF_CHECK_EQ(tree_sync(t), 0);
	tree_close(t);
	tree_close(NULL);
}

ATF_TC_WITHOUT_HEAD(tree_dir_mkdir_symlink_link_remove);
ATF_TC_BODY(tree_dir_mkdir_symlink_link_remove, tc)
{
	const struct tree_wopts wo = { .mode = 0750 };
	const struct tree_wopts fwo = { .mode = 0644 };
	struct tree *t = guest_tree(0);
	struct sbuf b = { .s = NULL };
	struct stat st, a;

	umask(077);
	/* A directory: the mode asked (not the umask's); there already: fine. */
	ATF_CHECK_EQ(tree_mkdir(t, "var/db", &wo), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_STREQ(sr_errmsg(), "var/db: open parent directory: "
	    "No such file or directory");
	ATF_REQUIRE_EQ_MSG(tree_mkdir(t, "var", &wo), 0, "%s", sr_errmsg());
	ATF_REQUIRE(lstat("g/var", &st) == 0 && S_ISDIR(st.st_mode));
	ATF_CHECK_EQ(st.st_mode & 07777, 0750);
	ATF_CHECK_EQ(tree_mkdir(t, "var", &wo), 0);
	ATF_REQUIRE_EQ(tree_mkdir(t, "var/db", &wo), 0);
	ATF_REQUIRE_EQ(tree_write(t, "etc/rc", "#!/bin/sh\n", 10, &fwo), 0);
	ATF_CHECK_EQ(tree_mkdir(t, "etc/rc", &wo), -1);
	ATF_CHECK_STREQ(sr_errmsg(),
	    "etc/rc: mkdir: exists and is not a directory");
	/* A symbolic link, never followed; replaced; not over a directory. */
	ATF_REQUIRE_EQ(tree_symlink(t, "etc/rc.link", "../../host/secret",
	    &fwo), 0);
	ATF_REQUIRE(lstat("g/etc/rc.link", &st) == 0 && S_ISLNK(st.st_mode));
	ATF_REQUIRE_EQ(tree_readlink(t, "etc/rc.link", &b), 0);
	ATF_CHECK_EQ(b.len, 17);
	ATF_CHECK(memcmp(b.s, "../../host/secret", 17) == 0);
	sbuf_free(&b);
	ATF_CHECK_EQ(tree_read(t, "etc/rc.link", 1024, &b), -1);
	ATF_CHECK_STREQ(sr_errmsg(),
	    "etc/rc.link: read: is a symbolic link (refused)");
	ATF_REQUIRE_EQ(tree_symlink(t, "etc/rc.link", "rc", &fwo), 0);
	ATF_REQUIRE_EQ(tree_readlink(t, "etc/rc.link", &b), 0);
	ATF_CHECK(b.len == 2 && memcmp(b.s, "rc", 2) == 0);
	sbuf_free(&b);
	ATF_CHECK_EQ(tree_symlink(t, "var", "etc", &fwo), -1);
	ATF_CHECK(strncmp(sr_errmsg(), "var: symlink: rename into place: ",
	    33) == 0);
	ATF_REQUIRE(lstat("g/var/db", &st) == 0 && S_ISDIR(st.st_mode));
	ATF_CHECK_STREQ(names(t, ""), "etc var ");
	ATF_CHECK_EQ(tree_readlink(t, "etc/rc", &b), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK(strncmp(sr_errmsg(), "etc/rc: read link: ", 19) == 0);
	/* A hard link: the same file, replacing what was there. */
	ATF_REQUIRE_EQ(tree_write(t, "etc/old", "old\n", 4, &fwo), 0);
	ATF_REQUIRE_EQ_MSG(tree_link(t, "etc/rc", "etc/old"), 0, "%s",
	    sr_errmsg());
	ATF_REQUIRE(lstat("g/etc/rc", &a) == 0 && lstat("g/etc/old", &st) == 0);
	ATF_CHECK(a.st_ino == st.st_ino);
	ATF_CHECK_EQ(st.st_nlink, 2);
	ATF_CHECK_STREQ(names(t, "etc"), "old rc rc.link ");
	/* Not over a directory: its temporary name goes with it. */
	ATF_CHECK_EQ(tree_link(t, "etc/rc", "var"), -1);
	ATF_CHECK(strncmp(sr_errmsg(), "var: link to etc/rc: rename into "
	    "place: ", 40) == 0);
	ATF_CHECK_STREQ(names(t, ""), "etc var ");
	ATF_CHECK_STREQ(names(t, "var"), "db ");
	ATF_REQUIRE(lstat("g/etc/rc", &a) == 0);
	ATF_CHECK_EQ(a.st_nlink, 2);
	ATF_CHECK_EQ(tree_link(t, "etc/none", "etc/new"), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK(lstat("g/etc/new", &st) == -1);
	/* Removed, whole; what a link there names is not touched. */
	ATF_REQUIRE(symlink("../../host", "g/var/db/host") == 0);
	h_put("g/var/db/f", "f");
	ATF_REQUIRE_EQ_MSG(tree_remove(t, "var"), 0, "%s", sr_errmsg());
	ATF_CHECK(lstat("g/var", &st) == -1 && errno == ENOENT);
	ATF_CHECK_STREQ(h_text("host/secret"), "s3cret\n");
	ATF_CHECK_EQ(tree_remove(t, "etc/rc.link"), 0);
	ATF_CHECK(lstat("g/etc/rc", &st) == 0);
	/* Removing what is not there is done already. */
	ATF_CHECK_EQ(tree_remove(t, "var"), 0);
	tree_close(t);
}

/*
 * Removing what is not there is done already (tree.h); its parents
 * must be there, and the top is never removed.
 */
ATF_TC_WITHOUT_HEAD(tree_dir_remove_not_there);
ATF_TC_BODY(tree_dir_remove_not_there, tc)
{
	struct tree *t = guest_tree(0);
	struct stat st;

	h_put("g/etc/rc", "x");
	ATF_CHECK_EQ_MSG(tree_remove(t, "etc/never"), 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(tree_remove(t, "never"), 0);
	ATF_CHECK_STREQ(names(t, ""), "etc ");
	ATF_CHECK_STREQ(names(t, "etc"), "rc ");
	/* Twice: the second finds it gone. */
	ATF_CHECK_EQ(tree_remove(t, "etc/rc"), 0);
	ATF_CHECK_EQ(tree_remove(t, "etc/rc"), 0);
	ATF_CHECK(lstat("g/etc/rc", &st) == -1 && errno == ENOENT);
	h_put("g/etc/rc", "x");
	ATF_CHECK_EQ(tree_remove(t, "usr/never"), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_STREQ(sr_errmsg(), "usr/never: open parent directory: "
	    "No such file or directory");
	ATF_CHECK_EQ(tree_remove(t, "etc/rc/never"), -1);
	ATF_CHECK_EQ(errno, ENOTDIR);
	ATF_REQUIRE(symlink("etc", "g/link") == 0);
	ATF_CHECK_EQ(tree_remove(t, "link/rc"), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_REQUIRE(unlink("g/link") == 0);
	ATF_CHECK_EQ(tree_remove(t, ""), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_STREQ(sr_errmsg(), "the top of the tree: remove: refused");
	ATF_CHECK_STREQ(names(t, ""), "etc ");
	ATF_CHECK_STREQ(h_text("g/etc/rc"), "x");
	tree_close(t);
}

/* Owners and modes as asked: root's to give. */
ATF_TC(tree_dir_owners);
ATF_TC_HEAD(tree_dir_owners, tc)
{
	atf_tc_set_md_var(tc, "descr", "Owners and modes through the tree, "
	    "as root gives them");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(tree_dir_owners, tc)
{
	const struct tree_wopts f = { .mode = 0600, .uid = 12, .gid = 34 };
	const struct tree_wopts d = { .mode = 0751, .uid = 5, .gid = 6 };
	const struct tree_wopts r = { .mode = 0700 };
	const struct tree_wopts l = { .mode = 0777, .uid = 7, .gid = 8 };
	const struct tree_wopts c = { .mode = S_IFCHR | 0620, .gid = 5 };
	const struct tree_wopts p = { .mode = S_IFIFO | 0600, .uid = 9 };
	const struct tree_wopts s = { .mode = 0755, .uid = 1, .gid = 2 };
	struct tree *t = guest_tree(0);
	struct stat st;

	umask(077);
	ATF_REQUIRE_EQ(tree_write(t, "etc/master.passwd", "root:*\n", 7, &f),
	    0);
	ATF_REQUIRE(lstat("g/etc/master.passwd", &st) == 0);
	ATF_CHECK(st.st_uid == 12 && st.st_gid == 34);
	ATF_CHECK_EQ(st.st_mode & 07777, 0600);
	ATF_REQUIRE_EQ(tree_mkdir(t, "home", &d), 0);
	ATF_REQUIRE(lstat("g/home", &st) == 0);
	ATF_CHECK(st.st_uid == 5 && st.st_gid == 6);
	ATF_CHECK_EQ(st.st_mode & 07777, 0751);
	/* Root's, even below a set-group-id directory of another's. */
	ATF_REQUIRE(chown("g/etc", 3, 3) == 0 && chmod("g/etc", 02755) == 0);
	ATF_REQUIRE_EQ(tree_mkdir(t, "etc/root", &r), 0);
	ATF_REQUIRE(lstat("g/etc/root", &st) == 0);
	ATF_CHECK(st.st_uid == 0 && st.st_gid == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0700);
	/* A link's owner is its own; the file it names keeps its own. */
	ATF_REQUIRE_EQ(tree_symlink(t, "etc/l", "../../host/secret", &l), 0);
	ATF_REQUIRE(lstat("g/etc/l", &st) == 0 && S_ISLNK(st.st_mode));
	ATF_CHECK(st.st_uid == 7 && st.st_gid == 8);
	ATF_REQUIRE_EQ(tree_setattr(t, "etc/l", &s), 0);
	ATF_REQUIRE(lstat("g/etc/l", &st) == 0);
	ATF_CHECK(st.st_uid == 1 && st.st_gid == 2);
	ATF_REQUIRE(lstat("host/secret", &st) == 0);
	ATF_CHECK(st.st_uid == 0 && st.st_gid == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0600);
	/* Nodes: type, numbers, owner, mode. */
	ATF_REQUIRE_EQ_MSG(tree_mknod(t, "etc/console", makedev(0, 1), &c), 0,
	    "%s", sr_errmsg());
	ATF_REQUIRE(lstat("g/etc/console", &st) == 0 && S_ISCHR(st.st_mode));
	ATF_CHECK(major(st.st_rdev) == 0 && minor(st.st_rdev) == 1);
	ATF_CHECK(st.st_uid == 0 && st.st_gid == 5);
	ATF_CHECK_EQ(st.st_mode & 07777, 0620);
	ATF_REQUIRE_EQ(tree_mknod(t, "etc/fifo", 0, &p), 0);
	ATF_REQUIRE(lstat("g/etc/fifo", &st) == 0 && S_ISFIFO(st.st_mode));
	ATF_CHECK(st.st_uid == 9 && st.st_gid == 0);
	/* Set apart from the content. */
	ATF_REQUIRE_EQ(tree_setattr(t, "etc/master.passwd", &s), 0);
	ATF_REQUIRE(lstat("g/etc/master.passwd", &st) == 0);
	ATF_CHECK(st.st_uid == 1 && st.st_gid == 2);
	ATF_CHECK_EQ(st.st_mode & 07777, 0755);
	ATF_CHECK_STREQ(h_text("g/etc/master.passwd"), "root:*\n");
	ATF_CHECK_EQ(tree_setattr(t, "etc/none", &s), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_STREQ(sr_errmsg(), "etc/none: set owner and mode: "
	    "No such file or directory");
	tree_close(t);
}

/* An ordinary user cannot give owners: the files are its own. */
ATF_TC(tree_dir_user_owns);
ATF_TC_HEAD(tree_dir_user_owns, tc)
{
	atf_tc_set_md_var(tc, "descr", "An ordinary user's tree: its own "
	    "files, and directories it can still enter");
	atf_tc_set_md_var(tc, "require.user", "unprivileged");
}
ATF_TC_BODY(tree_dir_user_owns, tc)
{
	const struct tree_wopts f = { .mode = 0400, .uid = 12, .gid = 34 };
	const struct tree_wopts d = { .mode = 0555, .uid = 5, .gid = 6 };
	struct tree *t = guest_tree(0);
	struct stat st;

	ATF_REQUIRE_EQ_MSG(tree_write(t, "etc/master.passwd", "root:*\n", 7,
	    &f), 0, "%s", sr_errmsg());
	ATF_REQUIRE(lstat("g/etc/master.passwd", &st) == 0);
	ATF_CHECK(st.st_uid == getuid());
	ATF_CHECK_EQ(st.st_mode & 07777, 0400);
	ATF_REQUIRE_EQ_MSG(tree_mkdir(t, "usr", &d), 0, "%s", sr_errmsg());
	ATF_REQUIRE(lstat("g/usr", &st) == 0);
	ATF_CHECK(st.st_uid == getuid());
	ATF_CHECK_EQ(st.st_mode & 07777, 0755);
	ATF_REQUIRE_EQ(tree_write(t, "usr/x", "x", 1, &f), 0);
	tree_close(t);
}

/* What a read-only tree says to each change: EROFS, naming the path. */
static void
check_erofs(int rv, const char *want)
{
	ATF_CHECK_EQ(rv, -1);
	ATF_CHECK_EQ(errno, EROFS);
	ATF_CHECK_STREQ(sr_errmsg(), want);
}

ATF_TC_WITHOUT_HEAD(tree_dir_read_only);
ATF_TC_BODY(tree_dir_read_only, tc)
{
	const struct tree_wopts wo = { .mode = 0644 };
	struct tree *t = guest_tree(TREE_RDONLY);
	struct sbuf b = { .s = NULL };

	h_put("g/etc/rc", "#!/bin/sh\n");
	ATF_CHECK(!tree_writable(t));
	check_erofs(tree_write(t, "etc/rc", "x", 1, &wo),
	    "etc/rc: cannot write in g.img (directory, read-only)");
	check_erofs(tree_write_fd(t, "etc/motd", 0, &wo),
	    "etc/motd: cannot write in g.img (directory, read-only)");
	check_erofs(tree_keep_orig(t, "etc/rc"),
	    "etc/rc: cannot keep the original in g.img (directory, "
	    "read-only)");
	check_erofs(tree_mkdir(t, "var", &wo),
	    "var: cannot make a directory in g.img (directory, read-only)");
	check_erofs(tree_symlink(t, "etc/l", "rc", &wo),
	    "etc/l: cannot make a symbolic link in g.img (directory, "
	    "read-only)");
	check_erofs(tree_link(t, "etc/rc", "etc/rc2"),
	    "etc/rc2: cannot make a link in g.img (directory, read-only)");
	check_erofs(tree_mknod(t, "etc/fifo", 0, &wo),
	    "etc/fifo: cannot make a node in g.img (directory, read-only)");
	check_erofs(tree_remove(t, "etc/rc"),
	    "etc/rc: cannot remove in g.img (directory, read-only)");
	check_erofs(tree_setattr(t, "etc/rc", &wo),
	    "etc/rc: cannot set owner and mode in g.img (directory, "
	    "read-only)");
	/* Nothing changed; reading goes on. */
	ATF_CHECK_STREQ(names(t, "etc"), "rc ");
	ATF_REQUIRE_EQ(tree_read(t, "etc/rc", 1024, &b), 0);
	ATF_CHECK_STREQ(b.s, "#!/bin/sh\n");
	sbuf_free(&b);
	ATF_CHECK_STREQ(h_text("g/etc/rc"), "#!/bin/sh\n");
	ATF_CHECK_EQ(tree_sync(t), 0);
	tree_close(t);
}

/* A walk's visits, one "path type" a line; stops or prunes as told. */
struct visits {
	struct sbuf out;
	const char *prune, *stop;
};

static int
visit(void *arg, const char *rel, const struct stat *st)
{
	struct visits *v = arg;

	ATF_REQUIRE(sbuf_printf(&v->out, "%s %c\n", *rel ? rel : "/",
	    S_ISDIR(st->st_mode) ? 'd' : S_ISLNK(st->st_mode) ? 'l' : 'f') ==
	    0);
	if (v->stop != NULL && strcmp(rel, v->stop) == 0) {
		sr_seterr("%s: stopped", rel);
		return -1;
	}
	return v->prune != NULL && strcmp(rel, v->prune) == 0;
}

ATF_TC_WITHOUT_HEAD(tree_walk_order);
ATF_TC_BODY(tree_walk_order, tc)
{
	struct tree *t = guest_tree(TREE_RDONLY);
	struct visits v = { .out = { .s = NULL } };
	struct stat st, host;

	/* "" is the directory itself (tree.h). */
	ATF_REQUIRE_MSG(tree_lstat(t, "", &st) == 0, "%s", sr_errmsg());
	ATF_REQUIRE(stat("g", &host) == 0);
	ATF_CHECK(st.st_dev == host.st_dev && st.st_ino == host.st_ino);
	ATF_CHECK_EQ(st.st_mode, host.st_mode);
	ATF_REQUIRE(mkdir("g/etc/rc.d", 0755) == 0);
	h_put("g/etc/rc.d/sshd", "x");
	h_put("g/etc/rc.conf", "x");
	h_put("g/etc/Z", "x");
	h_put("g/etc/rc", "x");
	ATF_REQUIRE(mkdir("g/var", 0755) == 0);
	h_put("g/var/f", "x");
	/* A link to a directory is met, never entered. */
	ATF_REQUIRE(symlink("etc", "g/link") == 0);
	ATF_REQUIRE(symlink("../host", "g/var/host") == 0);
	ATF_REQUIRE_EQ_MSG(tree_walk(t, "", false, visit, &v), 0, "%s",
	    sr_errmsg());
	/* Parents first, names sorted bytewise ("Z" before "r"). */
	ATF_CHECK_STREQ(v.out.s, "/ d\netc d\netc/Z f\netc/rc f\n"
	    "etc/rc.conf f\netc/rc.d d\netc/rc.d/sshd f\nlink l\nvar d\n"
	    "var/f f\nvar/host l\n");
	sbuf_free(&v.out);
	/* From below the top; a directory pruned; a stop is an error. */
	v.prune = "etc/rc.d";
	ATF_REQUIRE_EQ(tree_walk(t, "etc", false, visit, &v), 0);
	ATF_CHECK_STREQ(v.out.s, "etc d\netc/Z f\netc/rc f\netc/rc.conf f\n"
	    "etc/rc.d d\n");
	sbuf_free(&v.out);
	v.prune = NULL;
	v.stop = "etc/rc";
	ATF_CHECK_EQ(tree_walk(t, "", false, visit, &v), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "etc/rc: stopped");
	ATF_CHECK_STREQ(v.out.s, "/ d\netc d\netc/Z f\netc/rc f\n");
	sbuf_free(&v.out);
	/* A top that is not there: nothing, or an error. */
	v.stop = NULL;
	ATF_CHECK_EQ(tree_walk(t, "usr", true, visit, &v), 0);
	ATF_CHECK_EQ(v.out.len, 0);
	ATF_CHECK_EQ(tree_walk(t, "usr", false, visit, &v), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_EQ(v.out.len, 0);
	/* A top through a link is not walked: refused. */
	ATF_CHECK_EQ(tree_walk(t, "link/rc.d", true, visit, &v), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_EQ(v.out.len, 0);
	tree_close(t);
}

static int
count(void *arg, const char *rel, const struct stat *st)
{
	(*(size_t *)arg)++;
	return 0;
}

/* SR_MAXDEPTH directories below the top are walked; one more is not. */
ATF_TC_WITHOUT_HEAD(tree_walk_depth_limit);
ATF_TC_BODY(tree_walk_depth_limit, tc)
{
	struct tree *t = guest_tree(TREE_RDONLY);
	char path[2048] = "g", want[64];
	size_t n = 0, len;
	int i;

	for (i = 1; i <= SR_MAXDEPTH; i++) {
		len = strlen(path);
		snprintf(path + len, sizeof(path) - len, "/l%d", i);
		ATF_REQUIRE(mkdir(path, 0755) == 0);
	}
	ATF_REQUIRE_EQ_MSG(tree_walk(t, "", false, count, &n), 0, "%s",
	    sr_errmsg());
	/* The top, etc, and each level. */
	ATF_CHECK_EQ(n, 2 + SR_MAXDEPTH);
	len = strlen(path);
	snprintf(path + len, sizeof(path) - len, "/l%d", SR_MAXDEPTH + 1);
	ATF_REQUIRE(mkdir(path, 0755) == 0);
	n = 0;
	ATF_CHECK_EQ(tree_walk(t, "", false, count, &n), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_EQ(n, 2 + SR_MAXDEPTH);
	/* The message names the path: its first and its last components. */
	snprintf(want, sizeof(want), "deeper than %d directories: l1/",
	    SR_MAXDEPTH);
	ATF_CHECK_MSG(strncmp(sr_errmsg(), want, strlen(want)) == 0, "%s",
	    sr_errmsg());
	snprintf(want, sizeof(want), "/l%d/l%d", SR_MAXDEPTH,
	    SR_MAXDEPTH + 1);
	len = strlen(sr_errmsg());
	ATF_CHECK_MSG(len > strlen(want) && strcmp(sr_errmsg() + len -
	    strlen(want), want) == 0, "%s", sr_errmsg());
	tree_close(t);
}

/*
 * A directory bind-mounted into itself (as a host tree can hold): met
 * twice, entered once.  In a mount namespace of the test's own, so that
 * the mount goes with it.
 */
ATF_TC(tree_walk_seen_directory);
ATF_TC_HEAD(tree_walk_seen_directory, tc)
{
	atf_tc_set_md_var(tc, "descr", "A directory bind-mounted into "
	    "itself is walked once");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(tree_walk_seen_directory, tc)
{
	struct tree *t;
	struct visits v = { .out = { .s = NULL } };
	struct stat a, s;

	t = guest_tree(TREE_RDONLY);
	ATF_REQUIRE(mkdir("g/a", 0755) == 0);
	ATF_REQUIRE(mkdir("g/a/sub", 0755) == 0);
	h_put("g/a/f", "x");
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		atf_tc_skip("no mount namespace of our own: %s",
		    strerror(errno));
	if (mount("g/a", "g/a/sub", NULL, MS_BIND, NULL) == -1)
		atf_tc_skip("cannot bind-mount: %s", strerror(errno));
	ATF_REQUIRE(stat("g/a", &a) == 0 && stat("g/a/sub", &s) == 0);
	ATF_REQUIRE(a.st_dev == s.st_dev && a.st_ino == s.st_ino);
	ATF_REQUIRE_EQ_MSG(tree_walk(t, "", false, visit, &v), 0, "%s",
	    sr_errmsg());
	ATF_CHECK_STREQ(v.out.s, "/ d\na d\na/f f\na/sub d\netc d\n");
	sbuf_free(&v.out);
	tree_close(t);
}

/* A file of size bytes of '.'. */
static void
haystack(const char *path, off_t size)
{
	int fd;

	ATF_REQUIRE((fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644)) >=
	    0);
	ATF_REQUIRE(ftruncate(fd, 0) == 0);
	while (size > 0) {
		char buf[65536];
		size_t n = size < (off_t)sizeof(buf) ? (size_t)size :
		    sizeof(buf);

		memset(buf, '.', n);
		ATF_REQUIRE(write(fd, buf, n) == (ssize_t)n);
		size -= (off_t)n;
	}
	close(fd);
}

/* Write text over a file at an offset. */
static void
put(const char *path, off_t at, const char *text)
{
	int fd;

	ATF_REQUIRE((fd = open(path, O_WRONLY)) >= 0);
	ATF_REQUIRE(pwrite(fd, text, strlen(text), at) ==
	    (ssize_t)strlen(text));
	close(fd);
}

/* tree_has reads a file in pieces of 1 MiB: a needle across two. */
ATF_TC_WITHOUT_HEAD(tree_has_across_pieces);
ATF_TC_BODY(tree_has_across_pieces, tc)
{
	const off_t mib = 1 << 20;
	struct tree *t = guest_tree(TREE_RDONLY);

	/* Straddling the first piece's end (offset 1048576). */
	haystack("g/netbsd", 2 * mib + 10);
	put("g/netbsd", mib - 3, "XENCGD");
	ATF_CHECK_EQ(tree_has(t, "netbsd", "XENCGD", 6), 0);
	ATF_CHECK_EQ(tree_has(t, "netbsd", "XENCGE", 6), 1);
	/* Its halves at the seam with a byte between: no needle. */
	haystack("g/netbsd", 2 * mib + 10);
	put("g/netbsd", mib - 3, "XEN");
	put("g/netbsd", mib + 1, "CGD");
	ATF_CHECK_EQ(tree_has(t, "netbsd", "XENCGD", 6), 1);
	/* The second piece's first bytes; the file's last. */
	haystack("g/netbsd", 2 * mib + 10);
	put("g/netbsd", mib, "XENCGD");
	ATF_CHECK_EQ(tree_has(t, "netbsd", "XENCGD", 6), 0);
	haystack("g/netbsd", 2 * mib + 10);
	put("g/netbsd", 2 * mib + 4, "XENCGD");
	ATF_CHECK_EQ(tree_has(t, "netbsd", "XENCGD", 6), 0);
	ATF_CHECK_EQ(tree_has(t, "netbsd", "XENCGD.", 7), 1);
	/* A whole piece without it; shorter than the needle; one byte. */
	haystack("g/netbsd", mib);
	ATF_CHECK_EQ(tree_has(t, "netbsd", "XENCGD", 6), 1);
	h_put("g/short", "XEN");
	ATF_CHECK_EQ(tree_has(t, "short", "XENCGD", 6), 1);
	ATF_CHECK_EQ(tree_has(t, "short", "N", 1), 0);
	/* Errors: no file, a link, a search for nothing. */
	ATF_CHECK_EQ(tree_has(t, "none", "X", 1), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_REQUIRE(symlink("short", "g/link") == 0);
	ATF_CHECK_EQ(tree_has(t, "link", "X", 1), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "link: read: is a symbolic link "
	    "(refused)");
	ATF_CHECK_EQ(tree_has(t, "short", "", 0), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	tree_close(t);
}

ATF_TC_WITHOUT_HEAD(tree_exists_present_missing_link);
ATF_TC_BODY(tree_exists_present_missing_link, tc)
{
	struct tree *t = guest_tree(TREE_RDONLY);

	h_put("g/etc/rc", "x");
	ATF_CHECK_EQ(tree_exists(t, "etc/rc"), 0);
	ATF_CHECK_EQ(tree_exists(t, "etc"), 0);
	ATF_CHECK_EQ(tree_exists(t, ""), 0);
	ATF_CHECK_EQ(tree_exists(t, "etc/motd"), 1);
	ATF_CHECK_EQ(tree_exists(t, "var/db/x"), 1);
	ATF_CHECK_EQ(tree_exists(t, "etc/rc/x"), 1);
	/* A link is there, whatever it names (never followed)... */
	ATF_REQUIRE(symlink("../host/secret", "g/secret") == 0);
	ATF_REQUIRE(symlink("nowhere", "g/etc/dangling") == 0);
	ATF_CHECK_EQ(tree_exists(t, "secret"), 0);
	ATF_CHECK_EQ(tree_exists(t, "etc/dangling"), 0);
	/* ...but a path through one is refused, saying so. */
	ATF_REQUIRE(symlink("../host", "g/h") == 0);
	ATF_CHECK_EQ(tree_exists(t, "h/secret"), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_STREQ(sr_errmsg(), "h/secret: open parent directory: "
	    "a symbolic link in the path (refused)");
	ATF_REQUIRE(symlink("etc", "g/e") == 0);
	ATF_CHECK_EQ(tree_exists(t, "e/rc"), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_EQ(tree_exists(t, "../host/secret"), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	tree_close(t);
}

/*
 * Which contained open this build uses: the portable one refuses the
 * one-call open, the other follows no link in one call (openat2).
 */
ATF_TC_WITHOUT_HEAD(tree_open_beneath);
ATF_TC_BODY(tree_open_beneath, tc)
{
	int root = setup(), fd;

	h_put("g/etc/rc", "rc\n");
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
	h_put("g/etc/rc.d/npf", "npf\n");
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
	ATF_TP_ADD_TC(tp, tree_dir_write_read);
	ATF_TP_ADD_TC(tp, tree_dir_mkdir_symlink_link_remove);
	ATF_TP_ADD_TC(tp, tree_dir_owners);
	ATF_TP_ADD_TC(tp, tree_dir_user_owns);
	ATF_TP_ADD_TC(tp, tree_dir_read_only);
	ATF_TP_ADD_TC(tp, tree_dir_remove_not_there);
	ATF_TP_ADD_TC(tp, tree_walk_order);
	ATF_TP_ADD_TC(tp, tree_walk_depth_limit);
	ATF_TP_ADD_TC(tp, tree_walk_seen_directory);
	ATF_TP_ADD_TC(tp, tree_has_across_pieces);
	ATF_TP_ADD_TC(tp, tree_exists_present_missing_link);
	ATF_TP_ADD_TC(tp, tree_open_beneath);
	ATF_TP_ADD_TC(tp, tree_sub_holds_directory);
	return atf_no_error();
}
