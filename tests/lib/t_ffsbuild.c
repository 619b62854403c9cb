/*
 * FFS images written directly from a tree (image/ffsbuild.h): a host
 * directory with every kind of entry copied into the FFS writer, its
 * files read only when the image is laid out, the image put in place
 * beside its target; then that image copied again, through tree_ffs,
 * into a second one.  Each is read back with libtsk and compared entry
 * by entry with its source (type, owner, mode, size, times, contents,
 * links), and checked by NetBSD's kernel and fsck where
 * ../shared/tools/netbsd-ffs is (skipped, saying so, where not).
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h_util.h"
#include "image/ffsbuild.h"
#include "image/ffsimg.h"
#include "image/ffsread.h"
#include "image/ffswrite.h"
#include "tree/tree.h"

/* NetBSD's checker beside the source tree, or NULL (as t_ffswrite). */
static const char *
ffscheck(char *buf, size_t len)
{
	const char *env = getenv("SR_FFSCHECK_DIR");
	const char *slash = strrchr(SR_FFSCHECK, '/');
	int n;

	if (env != NULL)
		n = snprintf(buf, len, "%s/ffs-check", env);
	else
		n = snprintf(buf, len, "%.*s/ffs-check",
		    slash == NULL ? 1 : (int)(slash - SR_FFSCHECK),
		    slash == NULL ? "." : SR_FFSCHECK);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return access(buf, X_OK) == 0 ? buf : NULL;
}

static void
netbsd_check(const char *img)
{
	char prog[PATH_MAX], cmd[2 * PATH_MAX + 32];

	if (ffscheck(prog, sizeof(prog)) == NULL) {
		printf("skipped NetBSD's check: no ffs-check (NetBSD's own FFS "
		    "as a checker, ../shared/tools/netbsd-ffs)\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "%s -w %s >ffs-check.out 2>&1", prog, img);
	if (system(cmd) != 0) {
		system("cat ffs-check.out");
		atf_tc_fail("ffs-check %s failed", img);
	}
}

/* A file of n bytes of a pattern, with a hole in its middle. */
static void
put_big(const char *path, size_t n)
{
	char buf[4096];
	int fd;
	size_t i, off;

	ATF_REQUIRE((fd = open(path, O_WRONLY | O_CREAT, 0644)) != -1);
	for (off = 0; off < n; off += sizeof(buf)) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (char)('a' + (off + i) % 23);
		if (off >= n / 3 && off < 2 * n / 3)
			continue;		/* a hole */
		ATF_REQUIRE(pwrite(fd, buf, sizeof(buf), (off_t)off) ==
		    (ssize_t)sizeof(buf));
	}
	ATF_REQUIRE(ftruncate(fd, (off_t)n) == 0);
	close(fd);
}

/* The source: every kind of entry the tree interface can say. */
static void
make_source(bool root)
{
	struct timespec ts[2] = { { 1000000000, 123456789 },
	    { 1100000000, 987654321 } };

	ATF_REQUIRE(mkdir("src", 0755) == 0);
	ATF_REQUIRE(mkdir("src/etc", 0750) == 0);
	ATF_REQUIRE(mkdir("src/etc/deep", 0700) == 0);
	h_put("src/etc/rc.conf", "hostname=guest\n");
	ATF_REQUIRE(chmod("src/etc/rc.conf", 0640) == 0);
	h_put("src/etc/empty", "");
	ATF_REQUIRE(link("src/etc/rc.conf", "src/etc/deep/hard") == 0);
	ATF_REQUIRE(symlink("../rc.conf", "src/etc/deep/soft") == 0);
	ATF_REQUIRE(symlink("/a/very/long/target/that/does/not/fit/in/the/"
	    "inode/itself/because/it/is/longer/than/sixty/bytes", "src/etc/"
	    "long") == 0);
	ATF_REQUIRE(mkfifo("src/etc/fifo", 0600) == 0);
	ATF_REQUIRE(mkdir("src/var", 01777) == 0);
	ATF_REQUIRE(chmod("src/var", 01777) == 0);
	put_big("src/var/big", 3 * 1024 * 1024 + 77);
	ATF_REQUIRE(utimensat(AT_FDCWD, "src/var/big", ts, 0) == 0);
	ATF_REQUIRE(utimensat(AT_FDCWD, "src/etc/deep", ts, 0) == 0);
	ATF_REQUIRE(mkdir("src/secret", 0700) == 0);
	h_put("src/secret/key", "never copied\n");
	if (root) {
		ATF_REQUIRE(mknod("src/etc/null", S_IFCHR | 0666,
		    makedev(2, 2)) == 0);
		ATF_REQUIRE(mknod("src/etc/wd0a", S_IFBLK | 0640,
		    makedev(0, 0)) == 0);
		ATF_REQUIRE(chown("src/etc/rc.conf", 12, 34) == 0);
		ATF_REQUIRE(lchown("src/etc/deep/soft", 5, 6) == 0);
	}
	ATF_REQUIRE(utimensat(AT_FDCWD, "src/etc", ts, 0) == 0);
}

struct cmp {
	struct tree *a, *b;
	int n;
};

/* Each entry of a is in b, the same (times to the second: libtsk's). */
static int
cmp_one(void *ctx, const char *path, const struct stat *sa)
{
	struct cmp *c = ctx;
	struct stat sb;
	struct sbuf ca = { 0 }, cb = { 0 };

	c->n++;
	ATF_REQUIRE_MSG(tree_lstat(c->b, path, &sb) == 0, "%s: %s", path,
	    sr_errmsg());
	ATF_CHECK_EQ_MSG(sa->st_mode, sb.st_mode, "%s", path);
	ATF_CHECK_EQ_MSG(sa->st_uid, sb.st_uid, "%s", path);
	ATF_CHECK_EQ_MSG(sa->st_gid, sb.st_gid, "%s", path);
	if (!S_ISDIR(sa->st_mode)) {
		ATF_CHECK_EQ_MSG(sa->st_nlink, sb.st_nlink, "%s", path);
		ATF_CHECK_EQ_MSG(sa->st_size, sb.st_size, "%s", path);
	}
	ATF_CHECK_EQ_MSG(sa->st_mtim.tv_sec, sb.st_mtim.tv_sec, "%s", path);
	if (S_ISCHR(sa->st_mode) || S_ISBLK(sa->st_mode))
		ATF_CHECK_EQ_MSG(sa->st_rdev, sb.st_rdev, "%s", path);
	if (S_ISREG(sa->st_mode)) {
		ATF_REQUIRE(tree_read(c->a, path, 8 << 20, &ca) == 0);
		ATF_REQUIRE(tree_read(c->b, path, 8 << 20, &cb) == 0);
		ATF_CHECK_MSG(ca.len == cb.len && memcmp(ca.s, cb.s, ca.len) ==
		    0, "%s: contents differ", path);
	} else if (S_ISLNK(sa->st_mode)) {
		ATF_REQUIRE(tree_readlink(c->a, path, &ca) == 0);
		ATF_REQUIRE(tree_readlink(c->b, path, &cb) == 0);
		ATF_CHECK_STREQ_MSG(ca.s, cb.s, "%s", path);
	}
	sbuf_free(&ca);
	sbuf_free(&cb);
	return 0;
}

static void
compare(struct tree *a, const char *top, struct tree *b, int want)
{
	struct cmp c = { a, b, 0 };

	ATF_REQUIRE(tree_walk(a, top, false, cmp_one, &c) == 0);
	ATF_CHECK_EQ(c.n, want);
}

/* Copy the tops of src into a new image at img, of version v. */
static void
build(struct tree *src, const char *img, int v, const struct ffsimg *like)
{
	static const char *const tops[] = { "etc", "var", NULL };
	static const char *const excl[] = { "secret", NULL };
	struct ffsw_params p;
	struct ffsb_out o;
	struct ffsb_copy *c;
	struct copy_stats cs = { 0 };
	struct tree *t;
	size_t i;

	if (like != NULL)
		ATF_REQUIRE(ffsw_params_like(like, &p) == 0);
	else
		ATF_REQUIRE(ffsw_params_for(32 << 20, v, &p) == 0);
	ATF_REQUIRE_MSG(ffsb_out_open(&o, img, like, p.size) == 0, "%s",
	    sr_errmsg());
	ATF_REQUIRE((t = tree_ffsw(&p, &o.sink, img)) != NULL);
	ATF_REQUIRE((c = ffsb_copy_new()) != NULL);
	for (i = 0; tops[i] != NULL; i++)
		ATF_REQUIRE_MSG(ffsb_copy(c, src, tops[i], excl, t, &cs) == 0,
		    "%s", sr_errmsg());
	ATF_REQUIRE_MSG(ffsb_copy(c, src, "secret", excl, t, &cs) == 0, "%s",
	    sr_errmsg());
	/* The image rebuilt holds no secret to leave out. */
	ATF_CHECK_EQ_MSG(cs.excluded, like == NULL ? 1 : 0, "%ju",
	    cs.excluded);
	ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_MSG(ffsb_out_commit(&o) == 0, "%s", sr_errmsg());
	tree_close(t);
	ffsb_copy_free(c);
}

/* No file beside img but img: nothing left of the new one. */
static void
nothing_beside(void)
{
	DIR *d;
	struct dirent *e;

	ATF_REQUIRE((d = opendir(".")) != NULL);
	while ((e = readdir(d)) != NULL)
		ATF_CHECK_MSG(strncmp(e->d_name, ".one", 4) != 0 &&
		    strncmp(e->d_name, ".two", 4) != 0, "left: %s", e->d_name);
	closedir(d);
}

static void
round_trip(int v)
{
	struct ffsimg fi1, fi2;
	struct tree *src, *t1, *t2;
	int dfd, want;
	bool root = geteuid() == 0;

	make_source(root);
	want = root ? 13 : 11;
	ATF_REQUIRE((dfd = open("src", O_RDONLY | O_DIRECTORY)) != -1);
	ATF_REQUIRE((src = tree_dir(dfd, "src", TREE_RDONLY)) != NULL);
	build(src, "one.img", v, NULL);
	nothing_beside();
	netbsd_check("one.img");
	ATF_REQUIRE_MSG(ffsimg_probe("one.img", -1, &fi1) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_EQ(fi1.version, v);
	ATF_REQUIRE((t1 = tree_ffs(&fi1)) != NULL);
	compare(src, "etc", t1, want - 3);
	compare(src, "var", t1, 2);
	ATF_CHECK(tree_exists(t1, "secret") == 1);

	/* The image as a source: rebuilt like itself, in place. */
	ATF_REQUIRE(system("cp --sparse=always one.img two.img") == 0);
	ATF_REQUIRE(ffsimg_probe("two.img", -1, &fi2) == 0);
	build(t1, "two.img", v, &fi2);
	nothing_beside();
	netbsd_check("two.img");
	ATF_REQUIRE(ffsimg_probe("two.img", -1, &fi2) == 0);
	ATF_CHECK_EQ(fi2.version, v);
	ATF_CHECK_EQ(fi2.len, fi1.len);
	ATF_REQUIRE((t2 = tree_ffs(&fi2)) != NULL);
	compare(t1, "etc", t2, want - 3);
	compare(t1, "var", t2, 2);
	tree_close(t2);
	tree_close(t1);
	tree_close(src);
	close(dfd);
}

ATF_TC_WITHOUT_HEAD(v1_round_trip);
ATF_TC_BODY(v1_round_trip, tc)
{
	round_trip(1);
}

ATF_TC_WITHOUT_HEAD(v2_round_trip);
ATF_TC_BODY(v2_round_trip, tc)
{
	round_trip(2);
}

/* A failed copy (a file gone when read) leaves nothing beside the target. */
ATF_TC_WITHOUT_HEAD(failure_leaves_nothing);
ATF_TC_BODY(failure_leaves_nothing, tc)
{
	struct ffsw_params p;
	struct ffsb_out o;
	struct ffsb_copy *c;
	struct tree *src, *t;
	int dfd;

	make_source(false);
	h_put("one.img", "old\n");
	ATF_REQUIRE((dfd = open("src", O_RDONLY | O_DIRECTORY)) != -1);
	ATF_REQUIRE((src = tree_dir(dfd, "src", TREE_RDONLY)) != NULL);
	ATF_REQUIRE(ffsw_params_for(8 << 20, 1, &p) == 0);
	ATF_REQUIRE(ffsb_out_open(&o, "one.img", NULL, p.size) == 0);
	ATF_REQUIRE((t = tree_ffsw(&p, &o.sink, "one.img")) != NULL);
	ATF_REQUIRE((c = ffsb_copy_new()) != NULL);
	ATF_REQUIRE(ffsb_copy(c, src, "var", NULL, t, NULL) == 0);
	/* Replaced since listed: refused, not read. */
	put_big("src/var/new", 3 * 1024 * 1024 + 77);
	ATF_REQUIRE(rename("src/var/new", "src/var/big") == 0);
	ATF_CHECK(tree_sync(t) == -1);
	ATF_CHECK_MSG(strstr(sr_errmsg(), "var/big: read: replaced") != NULL,
	    "%s",
	    sr_errmsg());
	ffsb_out_abort(&o);
	ffsb_out_abort(&o);
	tree_close(t);
	ffsb_copy_free(c);
	nothing_beside();
	ATF_CHECK_STREQ(h_text("one.img"), "old\n");
	tree_close(src);
	close(dfd);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, v1_round_trip);
	ATF_TP_ADD_TC(tp, v2_round_trip);
	ATF_TP_ADD_TC(tp, failure_leaves_nothing);
	return atf_no_error();
}
