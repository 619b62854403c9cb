/*
 * FFS images through the read path: the superblock (ffsimg_probe),
 * then libtsk's inodes and directories as setup-root and setup-local
 * read them: a whole tree extracted into a stage, walked and read as a
 * tree (tree_ffs), a file looked up and searched, the free-fragment
 * map; then the same through a source (ffsimg_probe_source(): libtsk's
 * external image, as an encrypted image is read).  The input is an
 * image, or its sparse form (fuzz.h).
 */
#include "image/ffsimg.h"
#include "image/ffsread.h"
#include "fuzz.h"
#include "tree/tree.h"

/* Each path the walk meets, read as a plan would read it. */
static int
visit(void *arg, const char *rel, const struct stat *st)
{
	struct tree *t = arg;
	struct sbuf b = { 0 };
	char buf[4096];

	if (S_ISREG(st->st_mode)) {
		(void)tree_pread(t, rel, 0, buf, sizeof(buf));
		(void)tree_read(t, rel, 65536, &b);
	} else if (S_ISLNK(st->st_mode))
		(void)tree_readlink(t, rel, &b);
	sbuf_free(&b);
	return 0;
}

/* The image read through a source over its file, as cgdio's are. */
static void
through_source(const char *img)
{
	struct ffs_source src;
	struct ffsimg fi;
	struct stat st;
	struct tree *t;
	uint8_t *map;
	size_t n, fsize;
	int fd;

	if ((fd = open(img, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		abort();
	ffs_source_fd(&src, fd, (uint64_t)st.st_size, img);
	if (ffsimg_probe_source(&src, -1, &fi) == 0) {
		FUZZ_ASSERT(fi.src == &src && fi.off + fi.len <= fi.filesize);
		if ((t = tree_ffs(&fi)) != NULL) {
			(void)tree_walk(t, "", false, visit, t);
			tree_close(t);
		}
		if (ffs_free_map(&fi, &map, &n, &fsize) == 0)
			free(map);
	}
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tops[] = { "etc", "var", NULL };
	static const char *const mine[] = { "ffs.img", "stage", NULL };
	char img[PATH_MAX], stage[PATH_MAX];
	struct spec spec = { 0 };
	struct copy_stats cs;
	struct ffsimg fi;
	struct tree *t;
	uint8_t *map;
	size_t n, fsize;
	int fd;

	fuzz_image("ffs.img", data, size, img, sizeof(img));
	through_source(img);
	if (ffsimg_probe(img, -1, &fi) != 0)
		return 0;
	FUZZ_ASSERT(fi.off >= 0 && fi.len > 0 && fi.off + fi.len <=
	    fi.filesize);
	if ((t = tree_ffs(&fi)) != NULL) {
		(void)tree_exists(t, "etc/rc");
		(void)tree_has(t, "etc/rc", "rc.subr", 7);
		(void)tree_walk(t, "", false, visit, t);
		tree_close(t);
	}
	if (ffs_free_map(&fi, &map, &n, &fsize) == 0)
		free(map);
	fuzz_path("stage", stage, sizeof(stage));
	if (mkdir(stage, 0700) == -1 ||
	    (fd = open(stage, O_RDONLY | O_DIRECTORY)) == -1)
		abort();
	(void)ffs_extract(&fi, NULL, NULL, fd, &spec, &cs);
	spec_free(&spec);
	close(fd);
	fuzz_scratch_only(mine);
	fuzz_rm(stage);
	if (mkdir(stage, 0700) == -1 ||
	    (fd = open(stage, O_RDONLY | O_DIRECTORY)) == -1)
		abort();
	memset(&spec, 0, sizeof(spec));
	(void)ffs_extract(&fi, tops, NULL, fd, &spec, &cs);
	spec_free(&spec);
	close(fd);
	fuzz_scratch_only(mine);
	fuzz_rm(stage);
	return 0;
}
