/*
 * FFS images written directly from a tree (image/ffsbuild.h): a host
 * directory with every kind of entry copied into the FFS writer, its
 * files read only when the image is laid out, the image put in place
 * beside its target; then that image copied again, through tree_ffs,
 * into a second one.  Each is read back with libtsk and compared entry
 * by entry with its source (type, owner, mode, size, times, contents,
 * links), and checked by NetBSD's kernel and fsck where
 * ../shared/tools/netbsd-ffs is (skipped, saying so, where not).  The
 * proof cases copy whole images of 1 to 10,000 entries and of 500
 * directories, FFSv1 and FFSv2 either way, into images of 1 MiB to 16 GiB.
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

/*
 * The proof through ffsb_copy: trees of 1, 100 and 10,000 entries of
 * every type and one of 500 directories, written as FFS images, then
 * each image copied whole (tree_ffs as the source) into a new one of
 * either version and of sizes from 1 MiB to 16 GiB (sparse): read back
 * entry by entry equal to its source, and passed by NetBSD (ffs-check -w).
 */
static void
wput(struct tree *t, const char *path, mode_t mode, dev_t dev, int i)
{
	struct tree_wopts w = { .mode = mode & 07777, .uid = (uid_t)(i % 70),
	    .gid = (gid_t)(i % 9) };
	char data[2000], target[300];
	size_t k, len = (size_t)((i * 37 + 11) % 2000);
	int r;

	for (k = 0; k < len; k++)
		data[k] = (char)('A' + (k * 7 + (size_t)i) % 53);
	for (k = 0; k < (size_t)(i % 250 + 1); k++)
		target[k] = (char)('a' + (k + (size_t)i) % 26);
	target[k] = '\0';
	w.mode = mode;
	if (S_ISDIR(mode))
		r = tree_mkdir(t, path, &w);
	else if (S_ISREG(mode))
		r = tree_write(t, path, data, len, &w);
	else if (S_ISLNK(mode))
		r = tree_symlink(t, path, target, &w);
	else
		r = tree_mknod(t, path, dev, &w);
	ATF_REQUIRE_MSG(r == 0, "%s: %s", path, sr_errmsg());
}

/* n entries below the root (a directory each 100), or ndirs of them. */
static void
gen(struct tree *t, int n, int ndirs)
{
	static const mode_t kinds[] = { S_IFREG | 0644, S_IFLNK | 0755, 0,
	    S_IFIFO | 0600, S_IFCHR | 0620, S_IFBLK | 0640, S_IFDIR | 0700,
	    S_IFREG | 04755 };
	char p[64], first[64] = "", par[16] = "";
	int i, made = 0;

	for (i = 0; i < ndirs; i++) {
		snprintf(p, sizeof(p), "d%03d", i);
		wput(t, p, S_IFDIR | 0755, 0, i);
		snprintf(p, sizeof(p), "d%03d/f", i);
		wput(t, p, S_IFREG | 0644, 0, i);
	}
	for (i = 0; made < n; i++, made++) {
		if (n >= 100 && i % 100 == 0) {
			snprintf(par, sizeof(par), "e%03d/", i / 100);
			snprintf(p, sizeof(p), "e%03d", i / 100);
			wput(t, p, S_IFDIR | 0755, 0, i);
			first[0] = '\0';
			if (++made == n)
				break;
		}
		snprintf(p, sizeof(p), "%sx%05d", par, i);
		if (first[0] == '\0') {
			wput(t, p, S_IFREG | 0644, 0, i);
			snprintf(first, sizeof(first), "%s", p);
		} else if (kinds[i % 8] == 0)
			ATF_REQUIRE_MSG(tree_link(t, first, p) == 0, "%s: %s",
			    p, sr_errmsg());
		else
			wput(t, p, kinds[i % 8], makedev((unsigned)i % 300,
			    (unsigned)i), i);
	}
}

/* A new image img of size bytes and version v, from gen(). */
static void
gen_image(const char *img, uint64_t size, int v, int n, int ndirs)
{
	struct ffsw_params p;
	struct ffsb_out o;
	struct tree *t;

	ATF_REQUIRE(ffsw_params_for(size, v, &p) == 0);
	ATF_REQUIRE(ffsb_out_open(&o, img, NULL, p.size) == 0);
	ATF_REQUIRE((t = tree_ffsw(&p, &o.sink, img)) != NULL);
	gen(t, n, ndirs);
	ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_MSG(ffsb_out_commit(&o) == 0, "%s", sr_errmsg());
	tree_close(t);
}

/* Copy all of src (an image) into a new image dst of size and v. */
static void
copy_image(struct tree *src, const char *dst, uint64_t size, int v)
{
	struct ffsw_params p;
	struct ffsb_out o;
	struct ffsb_copy *c;
	struct copy_stats cs = { 0 };
	struct tree *t;
	struct stat st;

	ATF_REQUIRE(ffsw_params_for(size, v, &p) == 0);
	ATF_REQUIRE(ffsb_out_open(&o, dst, NULL, p.size) == 0);
	ATF_REQUIRE((t = tree_ffsw(&p, &o.sink, dst)) != NULL);
	ATF_REQUIRE((c = ffsb_copy_new()) != NULL);
	ATF_REQUIRE_MSG(ffsb_copy(c, src, "", NULL, t, &cs) == 0, "%s",
	    sr_errmsg());
	ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_MSG(ffsb_out_commit(&o) == 0, "%s", sr_errmsg());
	tree_close(t);
	ffsb_copy_free(c);
	ATF_REQUIRE(stat(dst, &st) == 0);
	printf("%s: %llu bytes, %llu allocated\n", dst,
	    (unsigned long long)st.st_size,
	    (unsigned long long)st.st_blocks * 512);
	ATF_CHECK_EQ((uint64_t)st.st_size, p.size);
	ATF_CHECK_MSG(st.st_blocks * 512 <= 32 << 20, "%s not sparse", dst);
}

/* The directory's links, too: an image's are its subdirectories'. */
static int
dirlinks_one(void *ctx, const char *path, const struct stat *sa)
{
	struct tree *b = ctx;
	struct stat sb;

	ATF_REQUIRE(tree_lstat(b, path, &sb) == 0);
	if (S_ISDIR(sa->st_mode))
		ATF_CHECK_EQ_MSG(sa->st_nlink, sb.st_nlink, "%s", path);
	return 0;
}

static void
proof(int n, int ndirs)
{
	static const struct { int from, to; uint64_t size; } runs[] = {
	    { 1, 1, 0 }, { 2, 2, 0 }, { 1, 2, 16ull << 30 },
	    { 2, 1, 1ull << 30 } };
	struct ffsimg fs, fd;
	struct tree *s, *d;
	size_t i;
	int count = 0;

	for (i = 0; i < sizeof(runs) / sizeof(*runs); i++) {
		uint64_t size = runs[i].size != 0 ? runs[i].size :
		    n + ndirs <= 1 ? 1 << 20 : 128 << 20;

		/* 10,000 entries once each way is enough (2 CPUs). */
		if (n >= 10000 && runs[i].from == runs[i].to)
			continue;
		printf("FFSv%d to FFSv%d of %llu bytes\n", runs[i].from,
		    runs[i].to, (unsigned long long)size);
		gen_image("src.img", 128 << 20, runs[i].from, n, ndirs);
		ATF_REQUIRE(ffsimg_probe("src.img", -1, &fs) == 0);
		ATF_REQUIRE((s = tree_ffs(&fs)) != NULL);
		copy_image(s, "dst.img", size, runs[i].to);
		netbsd_check("dst.img");
		ATF_REQUIRE(ffsimg_probe("dst.img", -1, &fd) == 0);
		ATF_CHECK_EQ(fd.version, runs[i].to);
		ATF_REQUIRE((d = tree_ffs(&fd)) != NULL);
		{
			struct cmp c = { s, d, 0 };

			ATF_REQUIRE(tree_walk(s, "", false, cmp_one, &c) == 0);
			count = c.n;
			c.n = 0;
			c.a = d;
			c.b = s;
			/* Nothing more in the copy than in the source. */
			ATF_REQUIRE(tree_walk(d, "", false, cmp_one, &c) == 0);
			ATF_CHECK_EQ(c.n, count);
		}
		ATF_REQUIRE(tree_walk(s, "", false, dirlinks_one, d) == 0);
		ATF_CHECK_EQ(count, 1 + n + 2 * ndirs);
		tree_close(d);
		tree_close(s);
	}
}

ATF_TC(proof_entries);
ATF_TC_HEAD(proof_entries, tc)
{
	atf_tc_set_md_var(tc, "descr", "Images of 1, 100 and 10,000 entries "
	    "of every type copied by ffsb_copy into new ones (FFSv1, FFSv2, "
	    "either to the other, 1 MiB to 16 GiB): equal entry by entry, "
	    "passed by NetBSD");
	atf_tc_set_md_var(tc, "timeout", "900");
}
ATF_TC_BODY(proof_entries, tc)
{
	proof(1, 0);
	proof(100, 0);
	proof(10000, 0);
}

ATF_TC(proof_500_dirs);
ATF_TC_HEAD(proof_500_dirs, tc)
{
	atf_tc_set_md_var(tc, "descr", "An image of 500 directories (what "
	    "breaks Debian's makefs -o version=2) copied by ffsb_copy");
	atf_tc_set_md_var(tc, "timeout", "600");
}
ATF_TC_BODY(proof_500_dirs, tc)
{
	proof(0, 500);
}

/* NetBSD's listing of img's path (nbffs), its flags field, or NULL. */
static char *
nbffs_flags(const char *img, const char *path)
{
	static char line[4096];
	char prog[PATH_MAX], cmd[2 * PATH_MAX + 64], *f;
	FILE *p;
	int k;

	if (ffscheck(prog, sizeof(prog)) == NULL)
		return NULL;
	*strrchr(prog, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "%s/bin/nbffs %s", prog, img);
	ATF_REQUIRE((p = popen(cmd, "r")) != NULL);
	while (fgets(line, sizeof(line), p) != NULL)
		if (strncmp(line, path, strlen(path)) == 0 &&
		    line[strlen(path)] == '\t')
			break;
	pclose(p);
	if (strncmp(line, path, strlen(path)) != 0)
		return (char *)"(not listed)";
	for (f = line, k = 0; k < 7 && f != NULL; k++)
		if ((f = strchr(f, '\t')) != NULL)
			f++;
	ATF_REQUIRE(f != NULL);
	f[strcspn(f, "\t")] = '\0';
	return f;
}

/*
 * File flags through ffsb_copy: an image the writer made with flags
 * (ffsw_setmeta), copied into a new one of either version, keeps them,
 * as tree_ffs reads them and as NetBSD's kernel lists them.
 */
static void
flags_kept(int from, int to)
{
	static const struct { const char *path; uint32_t fl; } fl[] = {
	    { "etc", 0x1 },				/* nodump */
	    { "etc/immutable", 0x2 | 0x20000 },		/* uchg, schg */
	    { "etc/append", 0x4 | 0x40000 },		/* uappnd, sappnd */
	    { "etc/arch", 0x10000 | 0x1 },		/* arch, nodump */
	    { "etc/link", 0x1 },
	    { "etc/plain", 0 } };
	struct tree_wopts w = { .mode = 0644 };
	struct ffsw_params p;
	struct ffsb_out o;
	struct ffsimg fi;
	struct tree *t, *s, *d;
	size_t i;
	uint32_t got;

	ATF_REQUIRE(ffsw_params_for(8 << 20, from, &p) == 0);
	ATF_REQUIRE(ffsb_out_open(&o, "fsrc.img", NULL, p.size) == 0);
	ATF_REQUIRE((t = tree_ffsw(&p, &o.sink, "fsrc.img")) != NULL);
	w.mode = 0755;
	ATF_REQUIRE(tree_mkdir(t, "etc", &w) == 0);
	w.mode = 0644;
	for (i = 1; i < sizeof(fl) / sizeof(*fl); i++) {
		struct ffsw_meta m = { .flags = fl[i].fl };

		if (strcmp(fl[i].path, "etc/link") == 0)
			ATF_REQUIRE(tree_symlink(t, fl[i].path, "plain",
			    &w) == 0);
		else
			ATF_REQUIRE(tree_write(t, fl[i].path, "x\n", 2,
			    &w) == 0);
		m.mtime.tv_sec = 1500000000;
		ATF_REQUIRE(ffsw_setmeta(t, fl[i].path, &m) == 0);
	}
	{
		struct ffsw_meta m = { .flags = fl[0].fl };

		ATF_REQUIRE(ffsw_setmeta(t, "etc", &m) == 0);
	}
	ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
	ATF_REQUIRE(ffsb_out_commit(&o) == 0);
	tree_close(t);
	ATF_REQUIRE(ffsimg_probe("fsrc.img", -1, &fi) == 0);
	ATF_REQUIRE((s = tree_ffs(&fi)) != NULL);
	for (i = 0; i < sizeof(fl) / sizeof(*fl); i++) {
		ATF_REQUIRE_MSG(tree_getflags(s, fl[i].path, &got) == 0, "%s",
		    sr_errmsg());
		ATF_CHECK_EQ_MSG(got, fl[i].fl, "source %s", fl[i].path);
	}
	copy_image(s, "fdst.img", 8 << 20, to);
	tree_close(s);
	ATF_REQUIRE(ffsimg_probe("fdst.img", -1, &fi) == 0);
	ATF_REQUIRE((d = tree_ffs(&fi)) != NULL);
	for (i = 0; i < sizeof(fl) / sizeof(*fl); i++) {
		char want[16], *nb;

		ATF_REQUIRE(tree_getflags(d, fl[i].path, &got) == 0);
		ATF_CHECK_EQ_MSG(got, fl[i].fl, "copy %s", fl[i].path);
		snprintf(want, sizeof(want), "0x%x", fl[i].fl);
		if ((nb = nbffs_flags("fdst.img", fl[i].path)) != NULL)
			ATF_CHECK_STREQ_MSG(nb, want, "NetBSD lists %s",
			    fl[i].path);
	}
	ATF_CHECK(tree_getflags(d, "nothere", &got) == -1 && errno == ENOENT);
	tree_close(d);
	netbsd_check("fdst.img");
}

ATF_TC_WITHOUT_HEAD(flags_kept);
ATF_TC_BODY(flags_kept, tc)
{
	flags_kept(1, 1);
	flags_kept(2, 2);
	flags_kept(1, 2);
	flags_kept(2, 1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, v1_round_trip);
	ATF_TP_ADD_TC(tp, v2_round_trip);
	ATF_TP_ADD_TC(tp, failure_leaves_nothing);
	ATF_TP_ADD_TC(tp, proof_entries);
	ATF_TP_ADD_TC(tp, proof_500_dirs);
	ATF_TP_ADD_TC(tp, flags_kept);
	return atf_no_error();
}
