/*
 * ffs_extract(): FFS images written by makefs(8), read back through
 * libtsk and compared with the tree and spec they were made from; and
 * ffsimg_probe(), which finds and measures the file system.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "h_util.h"
#include "image/ffsread.h"
#include "tree/tree.h"

/* A 32-bit field of the superblock read into sb. */
#define SB32(o) ((int)(sb[o] | sb[o + 1] << 8 | sb[o + 2] << 16 | \
	    (unsigned)sb[o + 3] << 24))

/* The running test case, for its srcdir (where h_ffspatch is). */
static const atf_tc_t *tc_now;

static void
quiet(void *ctx, enum sr_level l, const char *fmt, ...)
{
	int *warnings = ctx;

	if (l == SR_WARN)
		(*warnings)++;
	(void)fmt;
}

/* An image from a tree and a spec that says what the tree cannot. */
static void
make_image(void)
{
	h_require_prog("makefs");
	ATF_REQUIRE(mkdir("src", 0755) == 0);
	ATF_REQUIRE(mkdir("src/etc", 0755) == 0);
	ATF_REQUIRE(mkdir("src/var", 0755) == 0);
	h_put("src/etc/passwd", "root:*:0:0::/root:/bin/sh\n");
	ATF_REQUIRE(link("src/etc/passwd", "src/etc/pw2") == 0);
	h_put("src/etc/secret", "do not copy\n");
	ATF_REQUIRE(symlink("/usr/share/zoneinfo/UTC", "src/etc/localtime") ==
	    0);
	h_put("src/var/suid", "x");
	h_put("spec", "#mtree\n"
	    ". type=dir uid=0 gid=0 mode=0755\n"
	    "./etc type=dir uid=0 gid=0 mode=0755 time=1700000000.5\n"
	    "./etc/passwd type=file uid=0 gid=0 mode=0644 time=1700000001.0\n"
	    "./etc/pw2 type=file uid=0 gid=0 mode=0644 time=1700000001.0\n"
	    "./etc/secret type=file uid=0 gid=0 mode=0600 time=1700000001.0\n"
	    "./etc/localtime type=link uid=0 gid=0 mode=0755 "
	    "link=/usr/share/zoneinfo/UTC time=1700000002.0\n"
	    "./var type=dir uid=0 gid=5 mode=0775 time=1700000003.0\n"
	    "./var/suid type=file uid=12345 gid=66 mode=04555 "
	    "time=1700000004.0\n"
	    "./var/null type=char uid=0 gid=0 mode=0666 device=netbsd,12,345 "
	    "time=1700000005.0\n"
	    "./var/wd0a type=block uid=0 gid=5 mode=0640 device=netbsd,0,0 "
	    "time=1700000005.0\n"
	    "./var/fifo type=fifo uid=7 gid=7 mode=0600 time=1700000006.0\n");
	ATF_REQUIRE(system("makefs -t ffs -M 1m -F spec ffs.img src >/dev/null") ==
	    0);
}

ATF_TC_WITHOUT_HEAD(ffs_read_back_matches_source);
ATF_TC_BODY(ffs_read_back_matches_source, tc)
{
	const char *const tops[] = { "etc", "var", NULL };
	const char *const excl[] = { "etc/secret", NULL };
	struct spec spec = { 0 };
	struct copy_stats cs;
	struct ffsimg fi;
	const struct spec_ent *e;
	struct stat a, b;
	char buf[256];
	int stage, warnings = 0, fd;
	ssize_t n;

	make_image();
	ATF_REQUIRE(mkdir("stage", 0700) == 0);
	ATF_REQUIRE((stage = open("stage", O_RDONLY | O_DIRECTORY)) >= 0);
	ATF_REQUIRE_MSG(ffsimg_probe("ffs.img", -1, &fi) == 0, "%s",
	    sr_errmsg());
	sr_setlog(quiet, &warnings);
	ATF_REQUIRE_MSG(ffs_extract(&fi, tops, excl, stage, &spec, &cs) == 0,
	    "%s", sr_errmsg());
	ATF_CHECK_EQ(warnings, 0);
	ATF_CHECK_EQ(cs.excluded, 1);
	ATF_CHECK(lstat("stage/etc/secret", &a) == -1);

	/* Content, hard links, links and fifos, on disk. */
	ATF_REQUIRE((fd = open("stage/etc/passwd", O_RDONLY)) >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ATF_REQUIRE(n > 0);
	buf[n] = '\0';
	ATF_CHECK_STREQ(buf, "root:*:0:0::/root:/bin/sh\n");
	ATF_REQUIRE(stat("stage/etc/passwd", &a) == 0);
	ATF_REQUIRE(stat("stage/etc/pw2", &b) == 0);
	ATF_CHECK_EQ(a.st_ino, b.st_ino);
	n = readlink("stage/etc/localtime", buf, sizeof(buf) - 1);
	ATF_REQUIRE(n > 0);
	buf[n] = '\0';
	ATF_CHECK_STREQ(buf, "/usr/share/zoneinfo/UTC");
	ATF_REQUIRE(lstat("stage/var/fifo", &a) == 0);
	ATF_CHECK(S_ISFIFO(a.st_mode));

	/* Owners, modes, times and devices, in the spec. */
	ATF_REQUIRE((e = spec_get(&spec, "var/suid")) != NULL);
	ATF_CHECK_EQ(e->uid, 12345);
	ATF_CHECK_EQ(e->gid, 66);
	ATF_CHECK_EQ(e->mode, S_IFREG | 04555);
	ATF_CHECK_EQ(e->mtime.tv_sec, 1700000004);
	ATF_REQUIRE((e = spec_get(&spec, "var")) != NULL);
	ATF_CHECK_EQ(e->gid, 5);
	ATF_CHECK_EQ(e->mode, S_IFDIR | 0775);
	ATF_REQUIRE((e = spec_get(&spec, "var/null")) != NULL);
	ATF_CHECK_EQ(e->mode, S_IFCHR | 0666);
	ATF_CHECK_EQ(e->rmajor, 12);
	ATF_CHECK_EQ(e->rminor, 345);
	ATF_REQUIRE((e = spec_get(&spec, "var/wd0a")) != NULL);
	ATF_CHECK_EQ(e->mode, S_IFBLK | 0640);
	ATF_CHECK_EQ(e->rmajor, 0);
	ATF_CHECK_EQ(e->rminor, 0);
	ATF_REQUIRE((e = spec_get(&spec, "var/fifo")) != NULL);
	ATF_CHECK_EQ(e->uid, 7);
	ATF_REQUIRE((e = spec_get(&spec, "etc/localtime")) != NULL);
	ATF_CHECK_STREQ(e->link, "/usr/share/zoneinfo/UTC");
	/* No device node is made in the stage: the spec carries them. */
	ATF_CHECK(lstat("stage/var/null", &a) == -1);
	spec_free(&spec);
}

ATF_TC_WITHOUT_HEAD(ffs_not_ffs_refused);
ATF_TC_BODY(ffs_not_ffs_refused, tc)
{
	struct ffsimg fi;

	h_put("zero.img", "not a file system at all, just some text\n");
	ATF_CHECK_EQ(ffsimg_probe("zero.img", -1, &fi), 1);
	ATF_CHECK_EQ(ffsimg_probe("zero.img", 1, &fi), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "1: the image has no partition table");
	ATF_CHECK_EQ(sr_errhint(), SR_HINT_PARTITION);
}

ATF_TC_WITHOUT_HEAD(ffs_probe_measures);
ATF_TC_BODY(ffs_probe_measures, tc)
{
	struct ffsimg fi;

	h_require_prog("makefs");
	ATF_REQUIRE(mkdir("src", 0755) == 0);
	ATF_REQUIRE(system("makefs -t ffs -s 16m -o version=2,bsize=16384,"
	    "fsize=2048,density=4096 v2.img src >/dev/null") == 0);
	ATF_REQUIRE_MSG(ffsimg_probe("v2.img", -1, &fi) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_EQ(fi.version, 2);
	ATF_CHECK_EQ(fi.bsize, 16384);
	ATF_CHECK_EQ(fi.fsize, 2048);
	ATF_CHECK_EQ(fi.len, 16 << 20);
	ATF_CHECK_EQ(fi.off, 0);
	ATF_CHECK_EQ(fi.part, -1);
	/* makefs rounds the inodes to whole cylinder groups: near 4096. */
	ATF_CHECK_MSG(fi.inodes >= 4096 && fi.inodes <= 8192, "%ju inodes",
	    (uintmax_t)fi.inodes);

	/* A truncated image: its superblock promises more than there is. */
	ATF_REQUIRE(truncate("v2.img", 8 << 20) == 0);
	ATF_CHECK_EQ(ffsimg_probe("v2.img", -1, &fi), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "truncated: its FFS file system is "
	    "16777216 bytes from offset 0, the image only 8388608");
	/* A corrupt one: a superblock with nonsense in it. */
	ATF_REQUIRE(system("makefs -t ffs -s 4m v1.img src >/dev/null") == 0);
	ATF_REQUIRE(system("printf '\\377\\377\\377\\377' | dd of=v1.img "
	    "bs=1 seek=8240 conv=notrunc 2>/dev/null") == 0);
	ATF_CHECK_EQ(ffsimg_probe("v1.img", -1, &fi), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "corrupt FFS superblock at offset 8192: "
	    "fs_bsize is -1, not a power of 2 from 4096 to 65536 (refused)");
}

static void
copy(const char *from, const char *to)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "cp %s %s", from, to);
	ATF_REQUIRE(system(cmd) == 0);
}

/*
 * Every superblock field libtsk or we divide by, shift by or index
 * with, each broken in a copy of a good image (a one-byte change is
 * enough for fs_inopb = 0, a division by zero inside libtsk): refused
 * by the probe, naming the field, before libtsk sees it.  Offsets are
 * struct fs's (NetBSD sys/ufs/ffs/fs.h); the image is FFSv1, bsize
 * 8192, fsize 1024, one cylinder group.
 */
ATF_TC_WITHOUT_HEAD(ffs_superblock_fields_checked);
ATF_TC_BODY(ffs_superblock_fields_checked, tc)
{
	static const struct {
		int	 off;
		uint32_t val;
		const char *field;
	} bad[] = {
		{ 104, 100, "fs_sbsize" }, { 48, 12288, "fs_bsize" },
		{ 48, 0, "fs_bsize" }, { 52, 0, "fs_fsize" },
		{ 52, 256, "fs_fsize" }, { 56, 4, "fs_frag" },
		{ 80, 12, "fs_bshift" }, { 84, 0, "fs_fshift" },
		{ 96, 31, "fs_fragshift" }, { 72, 0, "fs_bmask" },
		{ 76, 0, "fs_fmask" }, { 120, 0, "fs_inopb" },
		{ 120, 1024, "fs_inopb" }, { 36, 0, "fs_size" },
		{ 44, 0, "fs_ncg" }, { 44, 2, "fs_ncg" },
		{ 188, 0, "fs_fpg" }, { 188, 1024, "fs_ncg" },
		{ 184, 0, "fs_ipg" }, { 184, 65, "fs_ipg" },
		{ 156, 0, "fs_cssize" }, { 92, 0, "fs_maxbpg" },
		{ 160, 0, "fs_cgsize" }, { 160, 65536, "fs_cgsize" },
		{ 8, 0xffffffff, "fs_sblkno" }, { 12, 32, "fs_cblkno" },
		{ 16, 39, "fs_iblkno" }, { 20, 100000, "fs_dblkno" },
		{ 24, 0xffffffff, "fs_old_cgoffset" },
		{ 1000, 65536, "fs_sblockloc" },
	};
	struct ffsimg fi;
	char want[64];
	size_t i;

	h_require_prog("makefs");
	ATF_REQUIRE(mkdir("src", 0755) == 0);
	ATF_REQUIRE(system("makefs -t ffs -s 4m -o bsize=8192,fsize=1024 "
	    "good.img src >/dev/null") == 0);
	ATF_REQUIRE_MSG(ffsimg_probe("good.img", -1, &fi) == 0, "%s",
	    sr_errmsg());
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		copy("good.img", "bad.img");
		h_put32("bad.img", 8192 + bad[i].off, bad[i].val);
		snprintf(want, sizeof(want), "at offset 8192: %s ",
		    bad[i].field);
		ATF_CHECK_EQ_MSG(ffsimg_probe("bad.img", -1, &fi), -1,
		    "%s = %u accepted", bad[i].field, (unsigned)bad[i].val);
		ATF_CHECK_MSG(strncmp(sr_errmsg(), "corrupt FFS superblock ",
		    23) == 0 && strstr(sr_errmsg(), want) != NULL &&
		    strchr(sr_errmsg(), '\n') == NULL, "%s = %u: %s",
		    bad[i].field, (unsigned)bad[i].val, sr_errmsg());
	}
}

/*
 * The cylinder group's header: libtsk indexes its inode and fragment
 * maps at the offsets it gives, checking only that they start in the
 * block.  Offsets in struct cg; the group's header is at fs_cblkno (24
 * fragments of 1 KiB).
 */
ATF_TC_WITHOUT_HEAD(ffs_cylinder_groups_checked);
ATF_TC_BODY(ffs_cylinder_groups_checked, tc)
{
	static const struct {
		int	 off;
		uint32_t val;
		const char *want;
	} bad[] = {
		{ 4, 0, "cylinder group 0: cg_magic is 0" },
		{ 12, 7, "cylinder group 0: cg_cgx is 7" },
		{ 92, 8190, "cylinder group 0: cg_iusedoff is 8190" },
		{ 92, 0xfffffff0, "cylinder group 0: cg_iusedoff is -16" },
		{ 96, 8000, "cylinder group 0: cg_freeoff is 8000" },
	};
	struct ffsimg fi;
	size_t i;

	h_require_prog("makefs");
	ATF_REQUIRE(mkdir("src", 0755) == 0);
	ATF_REQUIRE(system("makefs -t ffs -s 4m -o bsize=8192,fsize=1024 "
	    "good.img src >/dev/null") == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		copy("good.img", "bad.img");
		h_put32("bad.img", 24 * 1024 + bad[i].off, bad[i].val);
		ATF_CHECK_EQ(ffsimg_probe("bad.img", -1, &fi), -1);
		ATF_CHECK_MSG(strncmp(sr_errmsg(), bad[i].want,
		    strlen(bad[i].want)) == 0, "%s", sr_errmsg());
	}
	/* A second superblock libtsk would prefer to the one we checked. */
	copy("good.img", "bad.img");
	h_put32("bad.img", 65536 + 1372, 0x19540119);
	ATF_CHECK_EQ(ffsimg_probe("bad.img", -1, &fi), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "a second FFS superblock at offset "
	    "65536, which libtsk would read instead of the one at 8192 "
	    "(refused)");
	/* Checked again when read: an image changed after its probe. */
	ATF_REQUIRE(ffsimg_probe("good.img", -1, &fi) == 0);
	h_put32("good.img", 8192 + 120, 0);
	ATF_CHECK(tree_ffs(&fi) == NULL);
	ATF_CHECK(strstr(sr_errmsg(), "fs_inopb is 0") != NULL);
}

ATF_TC_WITHOUT_HEAD(ffs_top_not_directory_refused);
ATF_TC_BODY(ffs_top_not_directory_refused, tc)
{
	const char *const tops[] = { "etc", "tmp", NULL };
	struct spec spec = { 0 };
	struct copy_stats cs;
	struct ffsimg fi;
	int stage, warnings = 0;

	make_image();
	ATF_REQUIRE(mkdir("stage", 0700) == 0);
	ATF_REQUIRE((stage = open("stage", O_RDONLY | O_DIRECTORY)) >= 0);
	ATF_REQUIRE(ffsimg_probe("ffs.img", -1, &fi) == 0);
	sr_setlog(quiet, &warnings);
	ATF_CHECK_EQ(ffs_extract(&fi, tops, NULL, stage, &spec, &cs), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "tmp: not a directory in the root (refused)");
}

/* The inode number of path in img, through libtsk (as fls says). */
static uint32_t
inode_of(const char *img, const char *path)
{
	char cmd[512];
	FILE *p;
	unsigned long n = 0;

	snprintf(cmd, sizeof(cmd), "%s/h_ffspatch ino %s %s",
	    atf_tc_get_config_var_wd(tc_now, "srcdir", "."), img, path);
	ATF_REQUIRE((p = popen(cmd, "r")) != NULL);
	ATF_REQUIRE(fscanf(p, "%lu", &n) == 1);
	pclose(p);
	return (uint32_t)n;
}

/* Point the one directory entry named name in img at inode ino. */
static void
repoint(const char *img, const char *name, uint32_t ino)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s/h_ffspatch dirent %s %s %u",
	    atf_tc_get_config_var_wd(tc_now, "srcdir", "."), img, name,
	    (unsigned)ino);
	ATF_REQUIRE(system(cmd) == 0);
}

/* Extract tops of img into a new directory dir: ffs_extract()'s result. */
static int
extract(const char *img, const char *dir, struct copy_stats *cs)
{
	const char *const tops[] = { "etc", "var", NULL };
	struct spec spec = { 0 };
	struct ffsimg fi;
	int fd, rv, warnings = 0;

	ATF_REQUIRE(mkdir(dir, 0700) == 0);
	ATF_REQUIRE((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0);
	ATF_REQUIRE_MSG(ffsimg_probe(img, -1, &fi) == 0, "%s", sr_errmsg());
	sr_setlog(quiet, &warnings);
	rv = ffs_extract(&fi, tops, NULL, fd, &spec, cs);
	close(fd);
	spec_free(&spec);
	return rv;
}

/*
 * A guest's image in which one directory has two names: each
 * directory is walked once, a loop is refused at once, and so is the
 * second name of a directory met before.
 */
ATF_TC(ffs_directory_two_parents_refused);
ATF_TC_HEAD(ffs_directory_two_parents_refused, tc)
{
	atf_tc_set_md_var(tc, "descr", "a directory reachable by two names "
	    "is walked once; the second name is refused");
}
ATF_TC_BODY(ffs_directory_two_parents_refused, tc)
{
	struct copy_stats cs;

	tc_now = tc;
	h_require_prog("makefs");
	ATF_REQUIRE(system("mkdir -p src/etc src/var/x/y/zloop src/var/a "
	    "src/var/b && echo hi > src/var/x/y/f && "
	    "makefs -t ffs -s 4m loop.img src >/dev/null && "
	    "cp loop.img twice.img") == 0);
	/* var/x/y/zloop is var/x: a loop. */
	repoint("loop.img", "zloop", inode_of("loop.img", "var/x"));
	ATF_CHECK_EQ(extract("loop.img", "s1", &cs), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "read directory: a directory with two "
	    "parents (corrupt; refused): var/x/y/zloop, also var/x");
	/* var/b is var/a. */
	repoint("twice.img", "b", inode_of("twice.img", "var/a"));
	ATF_CHECK_EQ(extract("twice.img", "s2", &cs), -1);
	ATF_CHECK(strstr(sr_errmsg(), "a directory with two parents") !=
	    NULL);
	/* var is etc: two tops, one directory. */
	ATF_REQUIRE(system("cp loop.img tops.img") == 0);
	repoint("tops.img", "var", inode_of("tops.img", "etc"));
	ATF_CHECK_EQ(extract("tops.img", "s3", &cs), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "read directory: a directory with two "
	    "parents (corrupt; refused): var, also etc");
}

/*
 * A file with two names whose link count says one: one copy and a
 * hard link, not two copies (a thousand names of one large file
 * would otherwise fill the stage a thousand times).
 */
ATF_TC(ffs_file_copied_once);
ATF_TC_HEAD(ffs_file_copied_once, tc)
{
	atf_tc_set_md_var(tc, "descr", "a file named twice with a link "
	    "count of 1 is copied once");
}
ATF_TC_BODY(ffs_file_copied_once, tc)
{
	struct copy_stats cs;
	struct stat a, b;

	tc_now = tc;
	h_require_prog("makefs");
	ATF_REQUIRE(system("mkdir -p src/etc src/var && "
	    "head -c 100000 /dev/urandom > src/var/big && "
	    "echo decoy > src/var/other && "
	    "makefs -t ffs -s 4m f.img src >/dev/null") == 0);
	repoint("f.img", "other", inode_of("f.img", "var/big"));
	ATF_REQUIRE_EQ_MSG(extract("f.img", "s", &cs), 0, "%s", sr_errmsg());
	ATF_REQUIRE(stat("s/var/big", &a) == 0 && stat("s/var/other", &b) ==
	    0);
	ATF_CHECK_EQ(a.st_ino, b.st_ino);
	ATF_CHECK_EQ(b.st_size, 100000);
	ATF_CHECK_EQ(cs.bytes, 100000);
}

/*
 * Files sharing their blocks (a guest's inode pointed at another's
 * blocks): more data than the file system holds is refused, not
 * written to the stage.  The image is FFSv1 with one cylinder group;
 * an inode's block pointers are at 40 in struct ufs1_dinode.
 */
ATF_TC(ffs_shared_blocks_bounded);
ATF_TC_HEAD(ffs_shared_blocks_bounded, tc)
{
	atf_tc_set_md_var(tc, "descr", "files sharing blocks cannot make "
	    "the stage larger than the file system");
}
ATF_TC_BODY(ffs_shared_blocks_bounded, tc)
{
	unsigned char sb[1376], ia[128], ib[128];
	struct copy_stats cs;
	uint32_t a, b;
	off_t oa, ob;
	int fd, fsize, ipg, inopb, iblkno, frag;

	tc_now = tc;
	h_require_prog("makefs");
	ATF_REQUIRE(system("mkdir -p src/etc src/var && "
	    "head -c 3000000 /dev/urandom > src/var/big && "
	    "echo decoy > src/var/small && "
	    "makefs -t ffs -s 4m -o bsize=8192,fsize=1024 s.img src "
	    ">/dev/null") == 0);
	a = inode_of("s.img", "var/big");
	b = inode_of("s.img", "var/small");
	ATF_REQUIRE((fd = open("s.img", O_RDWR)) >= 0);
	ATF_REQUIRE(pread(fd, sb, sizeof(sb), 8192) == (ssize_t)sizeof(sb));
	ATF_REQUIRE_EQ(SB32(44), 1);
	fsize = SB32(52);
	frag = SB32(56);
	ipg = SB32(184);
	inopb = SB32(120);
	iblkno = SB32(16);
	oa = ((off_t)iblkno + a % ipg / inopb * frag) * fsize + a % inopb * 128;
	ob = ((off_t)iblkno + b % ipg / inopb * frag) * fsize + b % inopb * 128;
	ATF_REQUIRE(pread(fd, ia, 128, oa) == 128);
	ATF_REQUIRE(pread(fd, ib, 128, ob) == 128);
	/* The size (8) and the block pointers (40, 15 of them). */
	memcpy(ib + 8, ia + 8, 8);
	memcpy(ib + 40, ia + 40, 15 * 4);
	ATF_REQUIRE(pwrite(fd, ib, 128, ob) == 128);
	close(fd);
	ATF_CHECK_EQ(extract("s.img", "s", &cs), -1);
	ATF_CHECK(strncmp(sr_errmsg(), "more data than the file system "
	    "holds: blocks shared between files (corrupt; refused): var/",
	    58) == 0);
}

/* Make path in img claim size bytes (di_size, at 8 in ufs1_dinode). */
static void
claim_size(const char *img, const char *path, uint64_t size)
{
	unsigned char sb[1376], in[128];
	uint32_t a = inode_of(img, path);
	off_t oa;
	int fd, i;

	ATF_REQUIRE((fd = open(img, O_RDWR)) >= 0);
	ATF_REQUIRE(pread(fd, sb, sizeof(sb), 8192) == (ssize_t)sizeof(sb));
	oa = ((off_t)SB32(16) + a % SB32(184) / SB32(120) * SB32(56)) *
	    SB32(52) + a % SB32(120) * 128;
	ATF_REQUIRE(pread(fd, in, 128, oa) == 128);
	for (i = 0; i < 8; i++)
		in[8 + i] = (unsigned char)(size >> (8 * i));
	ATF_REQUIRE(pwrite(fd, in, 128, oa) == 128);
	close(fd);
}

/*
 * A file whose inode claims a huge size with 100 KB of blocks: only its
 * blocks are read and the rest stays a hole (read 64 KiB at a time, 16
 * GiB took minutes); beyond what libtsk can map without walking a
 * triple indirect block entry by entry (for ever), it is refused.
 */
ATF_TC(ffs_huge_sparse_file);
ATF_TC_HEAD(ffs_huge_sparse_file, tc)
{
	atf_tc_set_md_var(tc, "descr", "a file that claims a huge size is "
	    "copied by its blocks, or refused beyond libtsk's reach");
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(ffs_huge_sparse_file, tc)
{
	const uint64_t big = (uint64_t)1 << 34;
	struct copy_stats cs;
	struct stat st;

	tc_now = tc;
	h_require_prog("makefs");
	ATF_REQUIRE(system("mkdir -p src/etc src/var && "
	    "head -c 100000 /dev/urandom > src/var/big && "
	    "makefs -t ffs -s 4m -o bsize=8192,fsize=1024 h.img src "
	    ">/dev/null && cp h.img huge.img") == 0);
	claim_size("h.img", "var/big", big);
	ATF_REQUIRE_EQ_MSG(extract("h.img", "s", &cs), 0, "%s", sr_errmsg());
	ATF_REQUIRE(stat("s/var/big", &st) == 0);
	ATF_CHECK_EQ((uint64_t)st.st_size, big);
	ATF_CHECK((uint64_t)st.st_blocks * 512 < 1 << 20);
	ATF_CHECK(cs.bytes < 1 << 20);
	ATF_REQUIRE(system("cmp -n 100000 s/var/big src/var/big") == 0);
	/* Into the triple indirect block: refused, at once. */
	claim_size("huge.img", "var/big", (uint64_t)1 << 40);
	ATF_CHECK_EQ(extract("huge.img", "s2", &cs), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "var/big: a file of 1.0 TiB, more than "
	    "libtsk can read (32.0 GiB at most; refused)");
}

/*
 * A directory claiming 1 TiB: libtsk would read it for ever, in a walk
 * or a lookup through it; both refuse it at once.
 */
ATF_TC(ffs_huge_directory_refused);
ATF_TC_HEAD(ffs_huge_directory_refused, tc)
{
	atf_tc_set_md_var(tc, "descr", "a directory that claims a huge size "
	    "is neither walked nor looked up through");
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(ffs_huge_directory_refused, tc)
{
	struct copy_stats cs;
	struct ffsimg fi;
	struct tree *t;
	char **names;

	tc_now = tc;
	h_require_prog("makefs");
	ATF_REQUIRE(system("mkdir -p src/etc src/var && echo x > src/var/big "
	    "&& echo y > src/etc/passwd && makefs -t ffs -s 4m -o "
	    "bsize=8192,fsize=1024 d.img src >/dev/null") == 0);
	ATF_REQUIRE(ffsimg_probe("d.img", -1, &fi) == 0);
	ATF_REQUIRE((t = tree_ffs(&fi)) != NULL);
	ATF_REQUIRE_EQ(tree_exists(t, "etc/passwd"), 0);
	tree_close(t);
	claim_size("d.img", "etc", (uint64_t)1 << 40);
	ATF_REQUIRE((t = tree_ffs(&fi)) != NULL);
	ATF_CHECK_EQ(tree_exists(t, "etc/passwd"), -1);
	ATF_CHECK_EQ(errno, EIO);
	ATF_CHECK_STREQ(sr_errmsg(), "etc/passwd: stat: a directory in the "
	    "path is unreadable or of an impossible size (corrupt; refused)");
	ATF_CHECK_EQ(tree_list(t, "etc", &names), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "etc: list: a directory of an "
	    "impossible size (corrupt; refused)");
	ATF_CHECK_EQ(tree_exists(t, "etc"), 0);
	ATF_CHECK_EQ(tree_exists(t, "var/big"), 0);
	tree_close(t);
	ATF_CHECK_EQ(extract("d.img", "s", &cs), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "read directory: a directory of 1.0 TiB, "
	    "more than libtsk can read (corrupt; refused): etc");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, ffs_read_back_matches_source);
	ATF_TP_ADD_TC(tp, ffs_not_ffs_refused);
	ATF_TP_ADD_TC(tp, ffs_probe_measures);
	ATF_TP_ADD_TC(tp, ffs_top_not_directory_refused);
	ATF_TP_ADD_TC(tp, ffs_superblock_fields_checked);
	ATF_TP_ADD_TC(tp, ffs_cylinder_groups_checked);
	ATF_TP_ADD_TC(tp, ffs_directory_two_parents_refused);
	ATF_TP_ADD_TC(tp, ffs_file_copied_once);
	ATF_TP_ADD_TC(tp, ffs_shared_blocks_bounded);
	ATF_TP_ADD_TC(tp, ffs_huge_sparse_file);
	ATF_TP_ADD_TC(tp, ffs_huge_directory_refused);
	return atf_no_error();
}
