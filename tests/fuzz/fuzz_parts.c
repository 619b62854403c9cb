/*
 * Partition tables (MBR, GPT, NetBSD disklabel, through libtsk's
 * volume layer) and the FFS superblocks found in them: where setup-root
 * and setup-local look for a guest's file system.  The input is an
 * image, or its sparse form (fuzz.h).
 */
#include "image/ffsimg.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char img[PATH_MAX];
	struct ffsimg fi;
	int part;

	fuzz_image("disk.img", data, size, img, sizeof(img));
	for (part = -1; part <= 4; part++) {
		if (part == 0 || ffsimg_probe(img, part, &fi) != 0)
			continue;
		/* What was found lies in the image, where it was asked. */
		FUZZ_ASSERT(fi.off >= 0 && fi.len > 0 &&
		    fi.off + fi.len <= fi.filesize);
		FUZZ_ASSERT(part < 0 || fi.part == part);
		FUZZ_ASSERT(fi.version == 1 || fi.version == 2);
	}
	return 0;
}
