/*
 * Partition tables as ffsimg_probe() reads them, hostile ones too
 * (makefs and sfdisk make the disks).
 */
#include <stdint.h>
#include <unistd.h>

#include "h_util.h"
#include "image/ffsimg.h"

/* A NetBSD disklabel at sector 1, no MBR: a with FFS at sector 64. */
static void
label_disk(const char *path, unsigned nparts, int big_endian)
{
	uint8_t l[512] = { 0 };
	uint32_t magic = 0x82564557;
	FILE *f;
	int i;

	ATF_REQUIRE(system("mkdir -p src/etc && echo x > src/etc/rc && "
	    "makefs -t ffs -s 1m fs.img src >/dev/null") == 0);
	ATF_REQUIRE(system("truncate -s 4m disk.img && dd if=fs.img "
	    "of=disk.img bs=512 seek=64 conv=notrunc 2>/dev/null") == 0);
	for (i = 0; i < 4; i++) {
		int sh = big_endian ? 24 - 8 * i : 8 * i;

		l[i] = l[132 + i] = (uint8_t)(magic >> sh);
		l[148 + i] = (uint8_t)((uint32_t)2048 >> sh);	/* size */
		l[152 + i] = (uint8_t)((uint32_t)64 >> sh);	/* offset */
	}
	l[148 + 12] = 7;					/* 4.2BSD */
	l[big_endian ? 139 : 138] = (uint8_t)nparts;
	l[big_endian ? 138 : 139] = (uint8_t)(nparts >> 8);
	ATF_REQUIRE((f = fopen(path, "r+")) != NULL);
	ATF_REQUIRE(fseek(f, 512, SEEK_SET) == 0);
	ATF_REQUIRE(fwrite(l, 1, sizeof(l), f) == sizeof(l));
	fclose(f);
}

ATF_TC_WITHOUT_HEAD(disklabel_read);
ATF_TC_BODY(disklabel_read, tc)
{
	struct ffsimg fi;

	h_require_prog("makefs");
	label_disk("disk.img", 3, 0);
	ATF_REQUIRE_MSG(ffsimg_probe("disk.img", -1, &fi) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_EQ(fi.off, 64 * 512);
	ATF_CHECK_EQ(fi.part, 1);
	ATF_CHECK_EQ(fi.version, 1);
}

ATF_TC_WITHOUT_HEAD(disklabel_too_many_partitions);
ATF_TC_BODY(disklabel_too_many_partitions, tc)
{
	/*
	 * A label saying it has thousands of partitions made libtsk 4.11
	 * read past its buffer (SEGV; found by the parts fuzz target).
	 */
	struct ffsimg fi;

	h_require_prog("makefs");
	label_disk("disk.img", 24832, 0);
	ATF_CHECK_EQ(ffsimg_probe("disk.img", -1, &fi), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "corrupt NetBSD disklabel: 24832 "
	    "partitions, more than 22 (refused)");
	label_disk("disk.img", 67, 1);
	ATF_CHECK_EQ(ffsimg_probe("disk.img", 1, &fi), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "corrupt NetBSD disklabel: 67 "
	    "partitions, more than 22 (refused)");
	/* 22 is what NetBSD allows at most: read. */
	label_disk("disk.img", 22, 0);
	ATF_CHECK_EQ(ffsimg_probe("disk.img", -1, &fi), 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, disklabel_read);
	ATF_TP_ADD_TC(tp, disklabel_too_many_partitions);
	return atf_no_error();
}
