/*
 * source_kind(): what a path given to a tool is, and why it is not
 * usable (makefs, tar and sfdisk make the fixtures).
 */
#include <sys/stat.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "h_util.h"
#include "image/source.h"

/* A 1 MiB FFS image of a small tree, at path. */
static void
ffs_image(const char *path)
{
	char cmd[256];

	h_require_prog("makefs");
	snprintf(cmd, sizeof(cmd), "mkdir -p src/etc && echo x > src/etc/rc "
	    "&& makefs -t ffs -s 1m %s src >/dev/null", path);
	ATF_REQUIRE(system(cmd) == 0);
}

/* path is refused (-1, no kind) with exactly msg and hint. */
static void
refused(const char *path, int part, int flags, const char *msg,
    enum sr_hint hint)
{
	struct source s;

	ATF_CHECK_EQ(source_kind(path, part, flags, &s), -1);
	ATF_CHECK_EQ(s.kind, SOURCE_NONE);
	ATF_CHECK_STREQ(sr_errmsg(), msg);
	ATF_CHECK_EQ(sr_errhint(), hint);
}

ATF_TC_WITHOUT_HEAD(directory);
ATF_TC_BODY(directory, tc)
{
	struct source s;

	ATF_REQUIRE(mkdir("root", 0755) == 0);
	ATF_CHECK_EQ(source_kind("root", -1, 0, &s), SOURCE_DIR);
	ATF_CHECK_EQ(s.kind, SOURCE_DIR);
	ATF_CHECK(S_ISDIR(s.st.st_mode));
	ATF_CHECK_STREQ(s.path, "root");
	/* -o takes a partition for its FFS sources only: a tree is fine. */
	ATF_CHECK_EQ(source_kind("root", 2, 0, &s), SOURCE_DIR);
	refused("root", 2, SOURCE_PART_STRICT, "2: not an image",
	    SR_HINT_PARTITION);
}

ATF_TC_WITHOUT_HEAD(set_archives);
ATF_TC_BODY(set_archives, tc)
{
	struct source s;

	h_require_prog("tar");
	ATF_REQUIRE(system("mkdir -p src/etc && echo x > src/etc/rc && "
	    "tar czf base.tgz -C src . && tar cJf etc.tar.xz -C src .") == 0);
	ATF_CHECK_EQ(source_kind("base.tgz", -1, 0, &s), SOURCE_SET);
	ATF_CHECK(S_ISREG(s.st.st_mode));
	ATF_CHECK_EQ(source_kind("etc.tar.xz", -1, SOURCE_PART_STRICT, &s),
	    SOURCE_SET);
	/* A set is never probed as a disk, whatever partition is asked. */
	ATF_CHECK_EQ(source_kind("etc.tar.xz", 3, 0, &s), SOURCE_SET);
	refused("base.tgz", 3, SOURCE_PART_STRICT, "3: a set archive, not an "
	    "image", SR_HINT_PARTITION);
	/* The name decides: a .tgz holding FFS is still a set. */
	ffs_image("odd.tgz");
	ATF_CHECK_EQ(source_kind("odd.tgz", -1, 0, &s), SOURCE_SET);
}

ATF_TC_WITHOUT_HEAD(ffs_image);
ATF_TC_BODY(ffs_image, tc)
{
	struct source s;

	ffs_image("root.img");
	ATF_CHECK_EQ(source_kind("root.img", -1, SOURCE_PART_STRICT, &s),
	    SOURCE_FFS);
	ATF_CHECK_EQ(s.fi.off, 0);
	ATF_CHECK_EQ(s.fi.part, -1);
	ATF_CHECK_EQ(s.fi.version, 1);
	ATF_CHECK_EQ(s.fi.filesize, 1024 * 1024);
	ATF_CHECK_STREQ(s.fi.path, "root.img");
}

ATF_TC_WITHOUT_HEAD(partitioned_image);
ATF_TC_BODY(partitioned_image, tc)
{
	struct source s;

	ffs_image("fs.img");
	h_require_prog("sfdisk");
	ATF_REQUIRE(system("truncate -s 4m disk.img && printf 'start=2048,"
	    "size=2048,type=a9\\n' | sfdisk -q disk.img >/dev/null 2>&1 && "
	    "dd if=fs.img of=disk.img bs=512 seek=2048 conv=notrunc "
	    "2>/dev/null") == 0);
	ATF_CHECK_EQ(source_kind("disk.img", -1, 0, &s), SOURCE_FFS);
	ATF_CHECK_EQ(s.fi.off, 2048 * 512);
	ATF_CHECK_EQ(s.fi.part, 1);
	ATF_CHECK_EQ(source_kind("disk.img", 1, SOURCE_PART_STRICT, &s),
	    SOURCE_FFS);
	ATF_CHECK_EQ(s.fi.part, 1);
	refused("disk.img", 2, SOURCE_PART_STRICT, "2: no such partition "
	    "holds FFS", SR_HINT_PARTITION);
}

ATF_TC_WITHOUT_HEAD(junk);
ATF_TC_BODY(junk, tc)
{
	struct source s;

	h_put("junk.img", "not an image\n");
	/* Not FFS: an image for attach.c to mount, if it can. */
	ATF_CHECK_EQ(source_kind("junk.img", -1, 0, &s), SOURCE_IMAGE);
	ATF_CHECK(S_ISREG(s.st.st_mode));
	ATF_CHECK_STREQ(source_kindname(s.kind), "an image");
	refused("junk.img", 0, SOURCE_PART_STRICT, "0: the image has no "
	    "partition table", SR_HINT_PARTITION);
}

ATF_TC_WITHOUT_HEAD(missing);
ATF_TC_BODY(missing, tc)
{
	struct source s;
	char msg[128];
	int e;

	/* A caller that makes what is missing tells it by errno. */
	errno = 0;
	ATF_CHECK_EQ(source_kind("nothere", -1, 0, &s), -1);
	e = errno;
	ATF_CHECK_EQ(e, ENOENT);

	snprintf(msg, sizeof(msg), "open: %s", strerror(ENOENT));
	refused("nothere", -1, 0, msg, SR_HINT_NONE);
	refused("nothere.tgz", 1, SOURCE_PART_STRICT, msg, SR_HINT_NONE);
}

ATF_TC_WITHOUT_HEAD(symlinks);
ATF_TC_BODY(symlinks, tc)
{
	struct source s;
	char msg[128];

	ffs_image("root.img");
	ATF_REQUIRE(mkdir("tree", 0755) == 0);
	ATF_REQUIRE(symlink("tree", "tree.link") == 0);
	ATF_REQUIRE(symlink("root.img", "root.link") == 0);
	ATF_REQUIRE(symlink("nowhere", "dangling") == 0);
	/* A link the admin made to a tree is followed, as attach.c does. */
	ATF_CHECK_EQ(source_kind("tree.link", -1, 0, &s), SOURCE_DIR);
	/* An FFS image is read only where it is named (ffsimg_probe()). */
	snprintf(msg, sizeof(msg), "open: %s", strerror(ELOOP));
	refused("root.link", -1, 0, msg, SR_HINT_NONE);
	snprintf(msg, sizeof(msg), "open: %s", strerror(ENOENT));
	refused("dangling", -1, 0, msg, SR_HINT_NONE);
}

ATF_TC_WITHOUT_HEAD(fifo_not_waited_on);
ATF_TC_BODY(fifo_not_waited_on, tc)
{
	struct source s;

	ATF_REQUIRE(mkfifo("fifo", 0644) == 0);
	ATF_CHECK_EQ(source_kind("fifo", -1, 0, &s), SOURCE_IMAGE);
	ATF_CHECK(S_ISFIFO(s.st.st_mode));
	refused("fifo", 0, SOURCE_PART_STRICT, "0: not an image",
	    SR_HINT_PARTITION);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, directory);
	ATF_TP_ADD_TC(tp, set_archives);
	ATF_TP_ADD_TC(tp, ffs_image);
	ATF_TP_ADD_TC(tp, partitioned_image);
	ATF_TP_ADD_TC(tp, junk);
	ATF_TP_ADD_TC(tp, missing);
	ATF_TP_ADD_TC(tp, symlinks);
	ATF_TP_ADD_TC(tp, fifo_not_waited_on);
	return atf_no_error();
}
