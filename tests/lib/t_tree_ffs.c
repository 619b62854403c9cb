/*
 * tree_ffs(): an FFS image written by makefs(8) from a tree and a spec,
 * read back through the tree interface and compared with what it was
 * made from: owners, modes, types and device numbers from the inodes,
 * contents whole and in pieces, names in order, links; and refusals:
 * writes, paths that leave the tree or go through a link.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "h_util.h"
#include "image/ffsimg.h"
#include "image/ffsread.h"
#include "guest/localprep.h"
#include "guest/rootprep.h"
#include "tree/tree.h"

#define BIG	(2500 * 1024)		/* more than tree_has's 1 MiB piece */
#define NEEDLE	"sharedroot-needle"
#define NEEDLE_AT	((1 << 20) - 5)	/* across the first piece's end */

/* The byte at off of the big file: a pattern no two pieces share. */
static char
big_byte(size_t off)
{
	return (char)('a' + (off * 7 + off / 4096) % 26);
}

static void
put_big(const char *path)
{
	char *b;
	size_t i;
	int fd;

	ATF_REQUIRE((b = malloc(BIG)) != NULL);
	for (i = 0; i < BIG; i++)
		b[i] = big_byte(i);
	memcpy(b + NEEDLE_AT, NEEDLE, strlen(NEEDLE));
	ATF_REQUIRE((fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644)) >= 0);
	ATF_REQUIRE(write(fd, b, BIG) == BIG);
	close(fd);
	free(b);
}

/*
 * A root image: a tree made as an ordinary user, and a spec that says
 * what it cannot (owners, set-id bits, devices, fifos).
 */
static struct tree *
make_tree(struct ffsimg *fi)
{
	struct tree *t;

	h_require_prog("makefs");
	ATF_REQUIRE(system("mkdir -p src/etc/rc.d src/var/empty src/dev") ==
	    0);
	h_put("src/etc/passwd", "root:*:0:0::/root:/bin/sh\n");
	ATF_REQUIRE(link("src/etc/passwd", "src/etc/pw2") == 0);
	h_put("src/etc/b", "");
	h_put("src/etc/a", "a\n");
	h_put("src/etc/C", "C\n");
	h_put("src/etc/a.b", "a.b\n");
	ATF_REQUIRE(symlink("/usr/share/zoneinfo/UTC", "src/etc/localtime") ==
	    0);
	ATF_REQUIRE(symlink("etc", "src/link") == 0);
	put_big("src/netbsd");
	h_put("spec", "#mtree\n"
	    ". type=dir uid=0 gid=0 mode=0755\n"
	    "./dev type=dir uid=0 gid=0 mode=0755\n"
	    "./dev/null type=char uid=0 gid=0 mode=0666 device=netbsd,2,2 "
	    "time=1700000005.0\n"
	    "./dev/wd0a type=block uid=0 gid=5 mode=0640 "
	    "device=netbsd,12,345 time=1700000005.0\n"
	    "./dev/fifo type=fifo uid=7 gid=8 mode=0600 time=1700000006.0\n"
	    "./etc type=dir uid=0 gid=0 mode=0755 time=1700000000.5\n"
	    "./etc/passwd type=file uid=0 gid=0 mode=0644 time=1700000001.0\n"
	    "./etc/pw2 type=file uid=0 gid=0 mode=0644 time=1700000001.0\n"
	    "./etc/a type=file uid=0 gid=0 mode=0644\n"
	    "./etc/b type=file uid=0 gid=0 mode=0644\n"
	    "./etc/C type=file uid=0 gid=0 mode=0644\n"
	    "./etc/a.b type=file uid=0 gid=0 mode=0644\n"
	    "./etc/rc.d type=dir uid=0 gid=0 mode=0755\n"
	    "./etc/localtime type=link uid=0 gid=0 mode=0755 "
	    "link=/usr/share/zoneinfo/UTC\n"
	    "./link type=link uid=0 gid=0 mode=0755 link=etc\n"
	    "./netbsd type=file uid=0 gid=0 mode=0444\n"
	    "./var type=dir uid=0 gid=5 mode=0775 time=1700000003.0\n"
	    "./var/empty type=dir uid=1234 gid=66 mode=04711 "
	    "time=1700000004.0\n");
	ATF_REQUIRE(system("makefs -t ffs -M 4m -F spec ffs.img src "
	    ">/dev/null") == 0);
	ATF_REQUIRE_MSG(ffsimg_probe("ffs.img", -1, fi) == 0, "%s",
	    sr_errmsg());
	t = tree_ffs(fi);
	ATF_REQUIRE_MSG(t != NULL, "%s", sr_errmsg());
	return t;
}

ATF_TC_WITHOUT_HEAD(tree_ffs_lstat_from_inodes);
ATF_TC_BODY(tree_ffs_lstat_from_inodes, tc)
{
	struct ffsimg fi;
	struct tree *t = make_tree(&fi);
	struct stat st, st2;

	ATF_REQUIRE_MSG(tree_lstat(t, "", &st) == 0, "%s", sr_errmsg());
	ATF_CHECK(S_ISDIR(st.st_mode));
	ATF_REQUIRE(tree_lstat(t, "var", &st) == 0);
	ATF_CHECK_EQ(st.st_mode, S_IFDIR | 0775);
	ATF_CHECK_EQ(st.st_uid, 0);
	ATF_CHECK_EQ(st.st_gid, 5);
	ATF_CHECK_EQ(st.st_mtim.tv_sec, 1700000003);
	ATF_REQUIRE(tree_lstat(t, "var/empty", &st) == 0);
	ATF_CHECK_EQ(st.st_mode, S_IFDIR | 04711);
	ATF_CHECK_EQ(st.st_uid, 1234);
	ATF_CHECK_EQ(st.st_gid, 66);
	ATF_REQUIRE(tree_lstat(t, "etc/passwd", &st) == 0);
	ATF_CHECK_EQ(st.st_mode, S_IFREG | 0644);
	ATF_CHECK_EQ(st.st_size, 26);
	ATF_CHECK_EQ(st.st_nlink, 2);
	ATF_CHECK_EQ(st.st_mtim.tv_sec, 1700000001);
	ATF_REQUIRE(tree_lstat(t, "etc/pw2", &st2) == 0);
	ATF_CHECK_EQ(st.st_ino, st2.st_ino);
	ATF_CHECK_EQ(st.st_dev, st2.st_dev);
	ATF_REQUIRE(tree_lstat(t, "netbsd", &st) == 0);
	ATF_CHECK_EQ(st.st_mode, S_IFREG | 0444);
	ATF_CHECK_EQ(st.st_size, BIG);
	ATF_REQUIRE(tree_lstat(t, "etc/localtime", &st) == 0);
	ATF_CHECK(S_ISLNK(st.st_mode));
	ATF_CHECK_EQ(st.st_size, strlen("/usr/share/zoneinfo/UTC"));
	ATF_REQUIRE(tree_lstat(t, "link", &st) == 0);
	ATF_CHECK(S_ISLNK(st.st_mode));
	ATF_REQUIRE(tree_lstat(t, "dev/null", &st) == 0);
	ATF_CHECK_EQ(st.st_mode, S_IFCHR | 0666);
	ATF_CHECK_EQ(major(st.st_rdev), 2);
	ATF_CHECK_EQ(minor(st.st_rdev), 2);
	ATF_REQUIRE(tree_lstat(t, "dev/wd0a", &st) == 0);
	ATF_CHECK_EQ(st.st_mode, S_IFBLK | 0640);
	ATF_CHECK_EQ(st.st_gid, 5);
	ATF_CHECK_EQ(major(st.st_rdev), 12);
	ATF_CHECK_EQ(minor(st.st_rdev), 345);
	ATF_REQUIRE(tree_lstat(t, "dev/fifo", &st) == 0);
	ATF_CHECK_EQ(st.st_mode, S_IFIFO | 0600);
	ATF_CHECK_EQ(st.st_uid, 7);
	ATF_CHECK_EQ(st.st_gid, 8);
	ATF_CHECK(!tree_writable(t));
	ATF_CHECK_STREQ(t->ops->kind, "FFS image");
	tree_close(t);
}

ATF_TC_WITHOUT_HEAD(tree_ffs_read_whole_and_in_pieces);
ATF_TC_BODY(tree_ffs_read_whole_and_in_pieces, tc)
{
	struct ffsimg fi;
	struct tree *t = make_tree(&fi);
	struct sbuf b = { 0 };
	char buf[300];
	size_t i;
	ssize_t n;

	ATF_REQUIRE_MSG(tree_read(t, "etc/passwd", 4096, &b) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_EQ(b.len, 26);
	ATF_CHECK_STREQ(b.s, "root:*:0:0::/root:/bin/sh\n");
	sbuf_free(&b);
	/* An empty file reads as an empty text, not as NULL. */
	ATF_REQUIRE(tree_read(t, "etc/b", 4096, &b) == 0);
	ATF_CHECK(b.s != NULL && b.len == 0);
	sbuf_free(&b);
	/* The whole big file, every byte as written. */
	ATF_REQUIRE(tree_read(t, "netbsd", BIG, &b) == 0);
	ATF_REQUIRE_EQ(b.len, BIG);
	for (i = 0; i < BIG && (i < NEEDLE_AT || i >= NEEDLE_AT + 17); i++)
		if (b.s[i] != big_byte(i))
			break;
	ATF_CHECK_EQ(i, NEEDLE_AT);
	sbuf_free(&b);
	/* One byte too many for max: EFBIG, nothing read. */
	ATF_CHECK_EQ(tree_read(t, "netbsd", BIG - 1, &b), -1);
	ATF_CHECK_EQ(errno, EFBIG);
	ATF_CHECK_STREQ(sr_errmsg(), "netbsd: read: larger than 2559999 bytes");
	ATF_CHECK(b.s == NULL);

	/* Pieces: within a block, across blocks, at and past the end. */
	n = tree_pread(t, "netbsd", 100000, buf, sizeof(buf));
	ATF_REQUIRE_EQ(n, (ssize_t)sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		ATF_REQUIRE(buf[i] == big_byte(100000 + i));
	n = tree_pread(t, "netbsd", 65536 - 100, buf, 200);
	ATF_REQUIRE_EQ(n, 200);
	for (i = 0; i < 200; i++)
		ATF_REQUIRE(buf[i] == big_byte(65536 - 100 + i));
	n = tree_pread(t, "netbsd", NEEDLE_AT, buf, 17);
	ATF_REQUIRE_EQ(n, 17);
	ATF_CHECK(memcmp(buf, NEEDLE, 17) == 0);
	n = tree_pread(t, "netbsd", BIG - 10, buf, sizeof(buf));
	ATF_REQUIRE_EQ(n, 10);
	ATF_CHECK(buf[9] == big_byte(BIG - 1));
	ATF_CHECK_EQ(tree_pread(t, "netbsd", BIG, buf, sizeof(buf)), 0);
	ATF_CHECK_EQ(tree_pread(t, "netbsd", (uint64_t)1 << 40, buf, 1), 0);
	n = tree_pread(t, "etc/a.b", 2, buf, sizeof(buf));
	ATF_REQUIRE_EQ(n, 2);
	ATF_CHECK(memcmp(buf, "b\n", 2) == 0);

	/* Only regular files are read. */
	ATF_CHECK_EQ(tree_read(t, "etc", 4096, &b), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_STREQ(sr_errmsg(), "etc: read: not a regular file");
	ATF_CHECK_EQ(tree_read(t, "etc/localtime", 4096, &b), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_STREQ(sr_errmsg(), "etc/localtime: read: is a symbolic "
	    "link (refused)");
	ATF_CHECK_EQ(tree_pread(t, "dev/null", 0, buf, 1), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	tree_close(t);
}

ATF_TC_WITHOUT_HEAD(tree_ffs_list_and_readlink);
ATF_TC_BODY(tree_ffs_list_and_readlink, tc)
{
	static const char *const want[] = { "C", "a", "a.b", "b", "localtime",
	    "passwd", "pw2", "rc.d", NULL };
	struct ffsimg fi;
	struct tree *t = make_tree(&fi);
	struct sbuf b = { 0 };
	char **names;
	size_t i;

	ATF_REQUIRE_MSG(tree_list(t, "etc", &names) == 0, "%s", sr_errmsg());
	for (i = 0; want[i] != NULL && names[i] != NULL; i++)
		ATF_CHECK_STREQ(names[i], want[i]);
	ATF_CHECK(want[i] == NULL && names[i] == NULL);
	tree_freelist(names);
	/* The root: "." and ".." are not names in it. */
	ATF_REQUIRE(tree_list(t, "", &names) == 0);
	ATF_CHECK_STREQ(names[0], "dev");
	ATF_CHECK_STREQ(names[1], "etc");
	ATF_CHECK_STREQ(names[2], "link");
	ATF_CHECK_STREQ(names[3], "netbsd");
	ATF_CHECK_STREQ(names[4], "var");
	ATF_CHECK(names[5] == NULL);
	tree_freelist(names);
	ATF_REQUIRE(tree_list(t, "etc/rc.d", &names) == 0);
	ATF_CHECK(names[0] == NULL);
	tree_freelist(names);
	ATF_CHECK_EQ(tree_list(t, "etc/passwd", &names), -1);
	ATF_CHECK_EQ(errno, ENOTDIR);
	ATF_CHECK_EQ(tree_list(t, "link", &names), -1);
	ATF_CHECK_EQ(errno, ELOOP);

	ATF_REQUIRE(tree_readlink(t, "etc/localtime", &b) == 0);
	ATF_CHECK_EQ(b.len, strlen("/usr/share/zoneinfo/UTC"));
	ATF_CHECK(memcmp(b.s, "/usr/share/zoneinfo/UTC", b.len) == 0);
	sbuf_free(&b);
	ATF_CHECK_EQ(tree_readlink(t, "etc/passwd", &b), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	tree_close(t);
}

/* The walk over an image: every path once, parents first, sorted. */
static int
note(void *arg, const char *rel, const struct stat *st)
{
	struct sbuf *b = arg;

	return sbuf_printf(b, "%s %o\n", rel, (unsigned)st->st_mode);
}

ATF_TC_WITHOUT_HEAD(tree_ffs_walk);
ATF_TC_BODY(tree_ffs_walk, tc)
{
	struct ffsimg fi;
	struct tree *t = make_tree(&fi);
	struct sbuf b = { 0 };

	ATF_REQUIRE_MSG(tree_walk(t, "etc", false, note, &b) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_STREQ(b.s, "etc 40755\netc/C 100644\netc/a 100644\n"
	    "etc/a.b 100644\netc/b 100644\netc/localtime 120755\n"
	    "etc/passwd 100644\netc/pw2 100644\netc/rc.d 40755\n");
	sbuf_free(&b);
	ATF_REQUIRE(tree_walk(t, "nothing", true, note, &b) == 0);
	ATF_CHECK(b.len == 0);
	tree_close(t);
}

/* "" is the root, as a host directory's: a walk of it is the image. */
ATF_TC_WITHOUT_HEAD(tree_ffs_walk_root);
ATF_TC_BODY(tree_ffs_walk_root, tc)
{
	struct ffsimg fi;
	struct tree *t = make_tree(&fi);
	struct sbuf b = { 0 };
	struct stat st;

	ATF_REQUIRE_MSG(tree_lstat(t, "", &st) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(st.st_mode, S_IFDIR | 0755);
	ATF_CHECK_EQ(st.st_uid, 0);
	ATF_CHECK_EQ(st.st_gid, 0);
	ATF_CHECK_EQ(st.st_ino, 2);	/* FFS's root inode */
	ATF_REQUIRE_MSG(tree_walk(t, "", false, note, &b) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_STREQ(b.s, " 40755\ndev 40755\ndev/fifo 10600\n"
	    "dev/null 20666\ndev/wd0a 60640\netc 40755\netc/C 100644\n"
	    "etc/a 100644\netc/a.b 100644\netc/b 100644\n"
	    "etc/localtime 120755\netc/passwd 100644\netc/pw2 100644\n"
	    "etc/rc.d 40755\nlink 120755\nnetbsd 100444\nvar 40775\n"
	    "var/empty 44711\n");
	sbuf_free(&b);
	tree_close(t);
}

/* A directory of the image as a tree of its own: paths below it. */
ATF_TC_WITHOUT_HEAD(tree_ffs_sub);
ATF_TC_BODY(tree_ffs_sub, tc)
{
	struct ffsimg fi;
	struct tree *t = make_tree(&fi), *sub;
	struct sbuf b = { 0 };
	struct stat st;
	char **names;

	ATF_REQUIRE((sub = tree_sub(t, "etc")) != NULL);
	ATF_CHECK(!tree_writable(sub));
	ATF_REQUIRE(tree_list(sub, "", &names) == 0);
	ATF_CHECK_STREQ(names[0], "C");
	tree_freelist(names);
	ATF_REQUIRE(tree_lstat(sub, "passwd", &st) == 0);
	ATF_CHECK_EQ(st.st_nlink, 2);
	ATF_REQUIRE(tree_read(sub, "a.b", 100, &b) == 0);
	ATF_CHECK_STREQ(b.s, "a.b\n");
	sbuf_free(&b);
	ATF_REQUIRE(tree_readlink(sub, "localtime", &b) == 0);
	sbuf_free(&b);
	/* Messages name the path in the image. */
	ATF_CHECK_EQ(tree_lstat(sub, "nothing", &st), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "etc/nothing: stat: No such file or "
	    "directory");
	tree_close(sub);
	/* Below a link: refused, as every path through one. */
	ATF_REQUIRE((sub = tree_sub(t, "link")) != NULL);
	ATF_CHECK_EQ(tree_list(sub, "", &names), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_EQ(tree_lstat(sub, "passwd", &st), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	tree_close(sub);
	tree_close(t);
}

ATF_TC_WITHOUT_HEAD(tree_ffs_exists_has);
ATF_TC_BODY(tree_ffs_exists_has, tc)
{
	struct ffsimg fi;
	struct tree *t = make_tree(&fi);

	ATF_CHECK_EQ(tree_exists(t, "etc/passwd"), 0);
	ATF_CHECK_EQ(tree_exists(t, "dev/fifo"), 0);
	ATF_CHECK_EQ(tree_exists(t, "etc/nothing"), 1);
	ATF_CHECK_EQ(tree_exists(t, "nothing/passwd"), 1);
	ATF_CHECK_EQ(tree_exists(t, "etc/passwd/x"), 1);
	/* A match cut in two by tree_has's pieces is found. */
	ATF_CHECK_EQ(tree_has(t, "netbsd", NEEDLE, strlen(NEEDLE)), 0);
	ATF_CHECK_EQ(tree_has(t, "netbsd", "zzzz", 4), 1);
	ATF_CHECK_EQ(tree_has(t, "etc/passwd", "/bin/sh\n", 8), 0);
	ATF_CHECK_EQ(tree_has(t, "nothing", "x", 1), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_EQ(tree_has(t, "etc", "x", 1), -1);
	tree_close(t);
}

ATF_TC_WITHOUT_HEAD(tree_ffs_read_only);
ATF_TC_BODY(tree_ffs_read_only, tc)
{
	const struct tree_wopts wo = { .mode = 0644 };
	struct ffsimg fi;
	struct tree *t = make_tree(&fi);
	struct tree_room room;
	struct stat st;

	ATF_CHECK_EQ(tree_write(t, "etc/passwd", "x", 1, &wo), -1);
	ATF_CHECK_EQ(errno, EROFS);
	ATF_CHECK_MSG(strstr(sr_errmsg(), "etc/passwd: cannot write in ") ==
	    sr_errmsg() && strstr(sr_errmsg(), "(FFS image, read-only)"),
	    "%s", sr_errmsg());
	ATF_CHECK_EQ(tree_mkdir(t, "new", &wo), -1);
	ATF_CHECK_EQ(errno, EROFS);
	ATF_CHECK_EQ(tree_remove(t, "etc"), -1);
	ATF_CHECK_EQ(errno, EROFS);
	ATF_CHECK_EQ(tree_symlink(t, "l", "x", &wo), -1);
	ATF_CHECK_EQ(errno, EROFS);
	ATF_CHECK_EQ(tree_link(t, "etc/a", "etc/z"), -1);
	ATF_CHECK_EQ(errno, EROFS);
	ATF_CHECK_EQ(tree_setattr(t, "etc/a", &wo), -1);
	ATF_CHECK_EQ(errno, EROFS);
	ATF_CHECK_EQ(tree_keep_orig(t, "etc/a"), -1);
	ATF_CHECK_EQ(errno, EROFS);
	ATF_CHECK_EQ(tree_sync(t), 0);
	/* No room to tell: nothing is written to it. */
	sr_seterr("kept");
	ATF_CHECK_EQ(tree_room(t, &room), -1);
	ATF_CHECK_EQ(errno, ENOTSUP);
	ATF_CHECK_STREQ(sr_errmsg(), "kept");
	/* Nothing changed: the image is as makefs wrote it. */
	ATF_REQUIRE(tree_lstat(t, "etc/passwd", &st) == 0);
	ATF_CHECK_EQ(st.st_size, 26);
	ATF_CHECK_EQ(tree_lstat(t, "new", &st), -1);
	tree_close(t);
}

ATF_TC_WITHOUT_HEAD(tree_ffs_paths_contained);
ATF_TC_BODY(tree_ffs_paths_contained, tc)
{
	struct ffsimg fi;
	struct tree *t = make_tree(&fi);
	struct sbuf b = { 0 };
	struct stat st;

	ATF_CHECK_EQ(tree_lstat(t, "etc/nothing", &st), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_STREQ(sr_errmsg(), "etc/nothing: stat: No such file or "
	    "directory");
	ATF_CHECK_EQ(tree_read(t, "nothing/passwd", 4096, &b), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	/* Through a link to a directory: refused, not followed. */
	ATF_CHECK_EQ(tree_lstat(t, "link/passwd", &st), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_STREQ(sr_errmsg(), "link/passwd: stat: a symbolic link in "
	    "the path (refused)");
	ATF_CHECK_EQ(tree_read(t, "link/passwd", 4096, &b), -1);
	ATF_CHECK_EQ(errno, ELOOP);
	ATF_CHECK_EQ(tree_exists(t, "link/passwd"), -1);
	/* Through a file. */
	ATF_CHECK_EQ(tree_lstat(t, "etc/passwd/x", &st), -1);
	ATF_CHECK_EQ(errno, ENOTDIR);
	/* Out of the tree, or not plainly in it. */
	ATF_CHECK_EQ(tree_lstat(t, "etc/../etc/passwd", &st), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_STREQ(sr_errmsg(), "etc/../etc/passwd: not a plain path "
	    "inside the guest");
	ATF_CHECK_EQ(tree_lstat(t, "../x", &st), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_EQ(tree_lstat(t, "/etc/passwd", &st), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_EQ(tree_lstat(t, "./etc", &st), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK(b.s == NULL);
	tree_close(t);
}

ATF_TC_WITHOUT_HEAD(tree_ffs_superblock_checked);
ATF_TC_BODY(tree_ffs_superblock_checked, tc)
{
	struct ffsimg fi;
	struct tree *t = make_tree(&fi);

	tree_close(t);
	/* Checked again when opened: an image changed after its probe. */
	h_put32("ffs.img", 8192 + 120, 0);
	ATF_CHECK(tree_ffs(&fi) == NULL);
	ATF_CHECK_MSG(strstr(sr_errmsg(), "fs_inopb is 0") != NULL, "%s",
	    sr_errmsg());
}

/* What a plan does, owners and modes too: -n's text and each wo. */
static char *
plan_text_of(const struct plan *p)
{
	struct sbuf b = { 0 };
	size_t i;

	ATF_REQUIRE(plan_describe(p, &b) == 0);
	for (i = 0; i < p->n; i++)
		ATF_REQUIRE(sbuf_printf(&b, "%s %u:%u %o%s%s%s\n",
		    p->v[i].path, (unsigned)p->v[i].wo.uid,
		    (unsigned)p->v[i].wo.gid, (unsigned)p->v[i].wo.mode,
		    p->v[i].wo.keep_orig ? " orig" : "", "", "") == 0);
	return b.s;
}

/* Both planners, on a tree: what they decide, as text. */
static void
plans(struct tree *t, char **local, char **root)
{
	const struct localprep lp = { .hostname = "guest1",
	    .tmpldir = SR_SHARE "/templates", .root_fstype = "ffs",
	    .local_fstype = "ffs" };
	struct rootprep rp = { .kernelfd = -1, .sharedir = SR_SHARE,
	    .localdev = "/dev/xbd1a", .localrdev = "/dev/rxbd1a" };
	struct plan p = { 0 };

	ATF_REQUIRE_MSG(localprep_plan(t, &lp, &p) == 0, "%s", sr_errmsg());
	ATF_REQUIRE(localprep_root_id(&p) != NULL);
	*local = plan_text_of(&p);
	plan_free(&p);
	ATF_REQUIRE_MSG(rootprep_plan(t, &rp, &p) == 0, "%s", sr_errmsg());
	*root = plan_text_of(&p);
	plan_free(&p);
}

/*
 * A plan decided from an FFS image is the one decided from the tree it
 * was made from: the same edits, owners, modes and identity.
 */
ATF_TC(tree_ffs_plans_as_the_directory);
ATF_TC_HEAD(tree_ffs_plans_as_the_directory, tc)
{
	atf_tc_set_md_var(tc, "descr", "localprep_plan and rootprep_plan "
	    "decide the same from a directory and from an FFS image of it");
}
ATF_TC_BODY(tree_ffs_plans_as_the_directory, tc)
{
	const char *const shapes[] = { "nb10", "nb4", NULL };
	char *dl, *dr, *fl, *fr, cmd[512];
	struct ffsimg fi;
	struct tree *dt, *ft;
	size_t i;
	int fd;

	h_require_prog("makefs");
	for (i = 0; shapes[i] != NULL; i++) {
		snprintf(cmd, sizeof(cmd), "rm -rf r r.img && sh %s/"
		    "sample-root.sh %s r && makefs -t ffs r.img r >/dev/null",
		    atf_tc_get_config_var(tc, "srcdir"), shapes[i]);
		ATF_REQUIRE(system(cmd) == 0);
		ATF_REQUIRE((fd = open("r", O_RDONLY | O_DIRECTORY)) >= 0);
		ATF_REQUIRE((dt = tree_dir(fd, "r", TREE_RDONLY)) != NULL);
		close(fd);
		ATF_REQUIRE(ffsimg_probe("r.img", -1, &fi) == 0);
		ATF_REQUIRE_MSG((ft = tree_ffs(&fi)) != NULL, "%s",
		    sr_errmsg());
		ATF_CHECK_EQ(nb_shape(dt), i == 0 ? 10 : 4);
		ATF_CHECK_EQ(nb_shape(ft), i == 0 ? 10 : 4);
		ATF_CHECK_EQ(pkgdb_in_var(ft), false);
		plans(dt, &dl, &dr);
		plans(ft, &fl, &fr);
		ATF_CHECK_STREQ(fl, dl);
		ATF_CHECK_STREQ(fr, dr);
		/* Not empty: each decides something to compare. */
		ATF_CHECK(strstr(dl, "etc/rc.conf") != NULL);
		ATF_CHECK(strstr(dr, "etc/rc.pre-hooks") != NULL);
		free(dl);
		free(dr);
		free(fl);
		free(fr);
		tree_close(dt);
		tree_close(ft);
	}
}

/*
 * File flags, read from the inode (t_ffsbuild's flags_kept has images
 * with flags; Debian's makefs writes none): none here, on every kind of
 * entry, through a sub tree too; a path not there is ENOENT, named.
 */
ATF_TC_WITHOUT_HEAD(tree_ffs_getflags);
ATF_TC_BODY(tree_ffs_getflags, tc)
{
	static const char *const paths[] = { "", "etc", "etc/passwd",
	    "etc/localtime", "dev/null", "dev/fifo", "netbsd", "var/empty" };
	struct ffsimg fi;
	struct tree *t = make_tree(&fi), *sub;
	uint32_t fl;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		fl = 7;
		ATF_CHECK_MSG(tree_getflags(t, paths[i], &fl) == 0 && fl == 0,
		    "%s: %s", paths[i], sr_errmsg());
	}
	ATF_CHECK_EQ(tree_getflags(t, "etc/nothing", &fl), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_MSG(strstr(sr_errmsg(), "etc/nothing") != NULL, "%s",
	    sr_errmsg());
	ATF_REQUIRE((sub = tree_sub(t, "etc")) != NULL);
	ATF_CHECK(tree_getflags(sub, "passwd", &fl) == 0 && fl == 0);
	ATF_CHECK_EQ(tree_getflags(sub, "nothing", &fl), -1);
	tree_close(sub);
	tree_close(t);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, tree_ffs_getflags);
	ATF_TP_ADD_TC(tp, tree_ffs_lstat_from_inodes);
	ATF_TP_ADD_TC(tp, tree_ffs_read_whole_and_in_pieces);
	ATF_TP_ADD_TC(tp, tree_ffs_list_and_readlink);
	ATF_TP_ADD_TC(tp, tree_ffs_walk);
	ATF_TP_ADD_TC(tp, tree_ffs_walk_root);
	ATF_TP_ADD_TC(tp, tree_ffs_exists_has);
	ATF_TP_ADD_TC(tp, tree_ffs_sub);
	ATF_TP_ADD_TC(tp, tree_ffs_read_only);
	ATF_TP_ADD_TC(tp, tree_ffs_paths_contained);
	ATF_TP_ADD_TC(tp, tree_ffs_superblock_checked);
	ATF_TP_ADD_TC(tp, tree_ffs_plans_as_the_directory);
	return atf_no_error();
}
