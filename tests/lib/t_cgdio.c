/*
 * Encrypted FFS images written and read through the cgd a piece at a
 * time (cgd/cgdio.h): tree_ffsw's layout encrypted as it is written,
 * checked by NetBSD's own cgd and FFS (../shared/tools/netbsd-ffs
 * ffs-check -k, beside the source tree; skipped, saying so, without
 * it), read back decrypted on demand with tree_ffs and compared with
 * the tree that wrote it; no file made anywhere meanwhile (watched
 * with inotify), no plaintext in the image, its length and holes as
 * asked; a wrong key said in one line.
 */
#include <sys/stat.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "h_util.h"
#include "cgd/cgdimage.h"
#include "cgd/cgdio.h"
#include "image/ffsimg.h"
#include "image/ffsread.h"
#include "image/ffswrite.h"
#include "tree/tree.h"

#define SIZE	(32 << 20)
#define BIG	(3 << 20)
#define NEEDLE	"sharedroot-plaintext-needle"

/* A cgdconfig parameters file with a stored random key of bits. */
static void
keyfile(const char *path, const char *alg, int bits, const char *verify)
{
	unsigned char raw[4 + 64], b64[128];
	FILE *f;

	raw[0] = raw[1] = 0;
	raw[2] = (unsigned char)(bits >> 8);
	raw[3] = (unsigned char)bits;
	ATF_REQUIRE(RAND_bytes(raw + 4, bits / 8) == 1);
	EVP_EncodeBlock(b64, raw, 4 + bits / 8);
	ATF_REQUIRE((f = fopen(path, "w")) != NULL);
	/* iv-method for aes-xts too: cgdconfig -g writes it, nbffs wants it. */
	fprintf(f, "algorithm %s;\niv-method encblkno1;\nkeylength %d;\n"
	    "verify_method %s;\nkeygen storedkey key %s;\n", alg, bits,
	    verify, b64);
	ATF_REQUIRE(fclose(f) == 0);
	ATF_REQUIRE(chmod(path, 0600) == 0);
}

static void
open_key(struct cgdimg *g, const char *path)
{
	cgdimg_init(g);
	ATF_REQUIRE_MSG(cgdimg_open(g, path, NULL, false) == 0, "%s",
	    sr_errmsg());
}

/* The byte at off of the big file. */
static char
big_byte(size_t off)
{
	return (char)('a' + (off * 7 + off / 4093) % 26);
}

static void
fill(struct tree *t)
{
	struct tree_wopts d = { .mode = 0755 }, s = { .mode = 0700,
	    .uid = 1000, .gid = 100 }, f = { .mode = 0640, .uid = 0,
	    .gid = 5 }, x = { .mode = 04755, .uid = 0, .gid = 0 };
	char *big;
	size_t i;

	ATF_REQUIRE((big = malloc(BIG)) != NULL);
	for (i = 0; i < BIG; i++)
		big[i] = big_byte(i);
	memcpy(big + (1 << 20) - 3, NEEDLE, strlen(NEEDLE));
	ATF_REQUIRE(tree_mkdir(t, "etc", &d) == 0);
	ATF_REQUIRE(tree_mkdir(t, "home", &d) == 0);
	ATF_REQUIRE(tree_mkdir(t, "home/user", &s) == 0);
	ATF_REQUIRE(tree_write(t, "etc/secret", NEEDLE "\n",
	    strlen(NEEDLE) + 1, &f) == 0);
	ATF_REQUIRE(tree_write(t, "etc/empty", "", 0, &f) == 0);
	ATF_REQUIRE(tree_write(t, "home/user/big", big, BIG, &s) == 0);
	ATF_REQUIRE(tree_write(t, "suid", "#!/bin/sh\n", 10, &x) == 0);
	ATF_REQUIRE(tree_symlink(t, "etc/link", "secret", &f) == 0);
	for (i = 0; i < 40; i++) {
		char p[64];

		snprintf(p, sizeof(p), "etc/f%02zu", i);
		ATF_REQUIRE(tree_write(t, p, p, strlen(p), &f) == 0);
	}
	free(big);
}

/*
 * Watched: dirs only this test writes in, and shared ones.  Linux
 * tells each name made (inotify), even one removed again; elsewhere
 * the dirs are listed before and after, which sees what is left.
 */
static const char *
watched(int i)
{
	const char *tmp = getenv("TMPDIR");

	switch (i) {
	case 0:
		return ".";
	case 1:
		/* Under kyua the test's own; else "." again. */
		return tmp != NULL ? tmp : ".";
	case 2:
		return "/dev/shm";
	case 3:
		return "/tmp";
	}
	return NULL;
}

/* Whether name, made in watched dir i, counts against the run. */
static bool
offends(int i, const char *name, const char *step)
{
	char pid[32];

	snprintf(pid, sizeof(pid), ".%ld.", (long)getpid());
	if (i < 2 || strstr(name, pid) != NULL) {
		printf("%s: %s/%s made meanwhile\n", step, watched(i), name);
		return true;
	}
	printf("%s: %s/%s: another program's\n", step, watched(i), name);
	return false;
}

#ifdef __linux__
struct watch {
	int	 fd;
	int	 wd[4];
};

static void
watch_start(struct watch *w)
{
	int i;

	ATF_REQUIRE((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0);
	for (i = 0; i < 4; i++)
		w->wd[i] = inotify_add_watch(w->fd, watched(i), IN_CREATE |
		    IN_MOVED_TO);
	ATF_REQUIRE(w->wd[0] >= 0);
}

/* How many names made meanwhile count against the run (offends()). */
static int
watch_end(struct watch *w, const char *step)
{
	char buf[8192];
	ssize_t n;
	int seen = 0, i;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + n) {
			struct inotify_event *e = (void *)p;

			/* TMPDIR may be ".": the first watch it matches. */
			for (i = 0; i < 4 && w->wd[i] != e->wd; i++)
				;
			if (i < 4 && offends(i, e->len ? e->name : "?", step))
				seen++;
			p += sizeof(*e) + e->len;
		}
	}
	ATF_CHECK(n == -1 && errno == EAGAIN);
	close(w->fd);
	return seen;
}
#else
struct watch {
	struct sbuf before[4];
};

static void
list_dir(int i, struct sbuf *b)
{
	struct dirent *de;
	DIR *d;

	memset(b, 0, sizeof(*b));
	ATF_REQUIRE(sbuf_adds(b, "\n") == 0);
	/* "." twice would count each name twice. */
	if ((i == 1 && strcmp(watched(1), ".") == 0) ||
	    (d = opendir(watched(i))) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		ATF_REQUIRE(sbuf_printf(b, "%s\n", de->d_name) == 0);
	closedir(d);
}

static void
watch_start(struct watch *w)
{
	int i;

	for (i = 0; i < 4; i++)
		list_dir(i, &w->before[i]);
}

static int
watch_end(struct watch *w, const char *step)
{
	struct sbuf after;
	char line[NAME_MAX + 3], *p, *nl;
	int seen = 0, i;

	for (i = 0; i < 4; i++) {
		list_dir(i, &after);
		for (p = after.s + 1; (nl = strchr(p, '\n')) != NULL;
		    p = nl + 1) {
			/* "\nNAME\n": a whole line of the listing before. */
			snprintf(line, sizeof(line), "\n%.*s\n",
			    (int)(nl - p), p);
			if (strstr(w->before[i].s, line) == NULL) {
				line[strlen(line) - 1] = '\0';
				if (offends(i, line + 1, step))
					seen++;
			}
		}
		sbuf_free(&after);
		sbuf_free(&w->before[i]);
	}
	return seen;
}
#endif

struct cmp {
	struct tree *w, *r;
	size_t n;
};

/* One path of the writer's: the same in what is read back. */
static int
cmp_one(void *arg, const char *path, const struct stat *ws)
{
	struct cmp *c = arg;
	struct stat rs;

	c->n++;
	ATF_REQUIRE_MSG(tree_lstat(c->r, path, &rs) == 0, "%s: %s", path,
	    sr_errmsg());
	ATF_CHECK_MSG(rs.st_mode == ws->st_mode && rs.st_uid == ws->st_uid &&
	    rs.st_gid == ws->st_gid, "%s: mode %o/%o uid %u/%u gid %u/%u",
	    path, rs.st_mode, ws->st_mode, rs.st_uid, ws->st_uid, rs.st_gid,
	    ws->st_gid);
	if (S_ISDIR(ws->st_mode))
		return 0;
	ATF_CHECK_EQ_MSG(rs.st_size, ws->st_size, "%s: size", path);
	if (S_ISLNK(ws->st_mode)) {
		struct sbuf a = { 0 }, b = { 0 };

		ATF_REQUIRE(tree_readlink(c->w, path, &a) == 0);
		ATF_REQUIRE(tree_readlink(c->r, path, &b) == 0);
		ATF_CHECK(a.len == b.len && memcmp(a.s, b.s, a.len) == 0);
		sbuf_free(&a);
		sbuf_free(&b);
	}
	if (S_ISREG(ws->st_mode) && ws->st_size > 0) {
		size_t len = (size_t)ws->st_size;
		char *a = malloc(len), *b = malloc(len);

		ATF_REQUIRE(a != NULL && b != NULL);
		/* Odd offsets too: pieces that start inside a sector. */
		ATF_REQUIRE(tree_pread(c->w, path, 0, a, len) == (ssize_t)len);
		ATF_REQUIRE_MSG(tree_pread(c->r, path, 0, b, len) ==
		    (ssize_t)len, "%s: %s", path, sr_errmsg());
		ATF_CHECK_MSG(memcmp(a, b, len) == 0, "%s: content", path);
		if (len > 1000) {
			ATF_REQUIRE(tree_pread(c->r, path, 777, b, 1001) ==
			    1001);
			ATF_CHECK(memcmp(a + 777, b, 1001) == 0);
		}
		free(a);
		free(b);
	}
	return 0;
}

static int
count_one(void *arg, const char *path, const struct stat *st)
{
	(void)path;
	(void)st;
	(*(size_t *)arg)++;
	return 0;
}

/* Whether the file at path holds s anywhere. */
static bool
holds(const char *path, const char *s)
{
	size_t len = strlen(s), n;
	char *buf;
	bool found = false;
	FILE *f;

	ATF_REQUIRE((buf = malloc(SIZE + 4096)) != NULL);
	ATF_REQUIRE((f = fopen(path, "r")) != NULL);
	n = fread(buf, 1, SIZE + 4096, f);
	fclose(f);
	for (size_t i = 0; i + len <= n && !found; i++)
		found = memcmp(buf + i, s, len) == 0;
	free(buf);
	return found;
}

/*
 * NetBSD's cgd and FFS open it with the key file: skipped without, and
 * for aes-xts, which the checker's cgd does not have.
 */
static void
netbsd_check(const char *alg, const char *key, const char *img,
    uint64_t off)
{
	const char *prog = SR_FFSCHECK;
	char cmd[3 * PATH_MAX], buf[4096], *out = NULL;
	size_t len = 0;
	FILE *f;
	int st;

	if (strcmp(alg, "aes-cbc") != 0) {
		printf("skipped NetBSD's check: its cgd has no %s\n", alg);
		return;
	}
	if (access(prog, X_OK) != 0) {
		printf("skipped NetBSD's check: no %s (NetBSD's own cgd and "
		    "FFS as a checker, ../shared/tools/netbsd-ffs beside the "
		    "source tree)\n", prog);
		return;
	}
	if (off == 0)
		snprintf(cmd, sizeof(cmd), "%s -k %s %s 2>&1", prog, key, img);
	else
		snprintf(cmd, sizeof(cmd), "%s -k %s -o %ju -l %d %s 2>&1",
		    prog, key, (uintmax_t)off, SIZE, img);
	ATF_REQUIRE((f = popen(cmd, "r")) != NULL);
	while ((len = fread(buf, 1, sizeof(buf) - 1, f)) > 0) {
		buf[len] = '\0';
		printf("%s", buf);
		if (out == NULL)
			out = strdup("");
		ATF_REQUIRE((out = realloc(out, strlen(out) + len + 1)) !=
		    NULL);
		strcat(out, buf);
	}
	st = pclose(f);
	ATF_CHECK_MSG(st == 0, "ffs-check -k %s failed", img);
	ATF_CHECK(out != NULL && strstr(out, "reads everything: ok") != NULL);
	ATF_CHECK(out != NULL && strstr(out, "fsck_ffs -n -f: clean") != NULL);
	free(out);
}

/*
 * Write an FFS of version through a cgd of alg with the writer, check
 * the file, read it back through the decrypting source, compare.
 */
static void
round_trip(const char *alg, int bits, int version, bool sparse, uint64_t off)
{
	const char *img = "enc.img";
	struct ffsw_params p;
	struct ffsw_sink s;
	struct ffs_source src;
	struct ffsimg fi;
	struct cgdimg g;
	struct cgdio io;
	struct watch wa;
	struct cmp c = { 0 };
	struct stat st;
	struct tree *w;
	size_t n = 0;
	int fd;

	keyfile("key", alg, bits, "ffs");
	open_key(&g, "key");
	/* A volume inside the file is written over what it held. */
	ATF_REQUIRE((fd = open(img, O_RDWR | O_CREAT | (off > 0 ? 0 :
	    O_TRUNC), 0600)) >= 0);
	if (off > 0) {
		char head[512];

		memset(head, 'H', sizeof(head));
		ATF_REQUIRE(pwrite(fd, head, sizeof(head), 0) == 512);
	}
	ATF_REQUIRE(ffsw_params_for(SIZE, version, &p) == 0);
	cgdio_init(&io, g.c, fd, off, SIZE, img);
	ATF_REQUIRE_MSG(cgdio_sink(&io, sparse, &s) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_MSG((w = tree_ffsw(&p, &s, img)) != NULL, "%s",
	    sr_errmsg());
	fill(w);
	watch_start(&wa);
	ATF_REQUIRE_MSG(tree_sync(w) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(watch_end(&wa, "write"), 0);

	/* Its length, its holes, no plaintext in it. */
	ATF_REQUIRE(fstat(fd, &st) == 0);
	ATF_CHECK_EQ((uint64_t)st.st_size, off + SIZE);
	printf("%s v%d%s: %jd bytes, %jd allocated; %ju sectors filled, %ju "
	    "holes\n", alg, version, sparse ? " sparse" : "",
	    (intmax_t)st.st_size, (intmax_t)st.st_blocks * 512,
	    (uintmax_t)io.nfill, (uintmax_t)io.nhole);
	if (sparse) {
		ATF_CHECK(io.nhole > (SIZE / 2) / 512);
		ATF_CHECK((uint64_t)st.st_blocks * 512 < SIZE / 2);
	} else {
		ATF_CHECK_EQ(io.nhole, 0);
		ATF_CHECK(io.nfill > 0);
		ATF_CHECK((uint64_t)st.st_blocks * 512 >= SIZE);
		ATF_CHECK_EQ(lseek(fd, (off_t)off, SEEK_HOLE),
		    (off_t)(off + SIZE));
	}
	ATF_CHECK(!holds(img, NEEDLE));
	if (off > 0) {
		char head[512];

		ATF_REQUIRE(pread(fd, head, 512, 0) == 512);
		ATF_CHECK(head[0] == 'H' && head[511] == 'H');
	}

	/* Read back, decrypted on demand. */
	watch_start(&wa);
	ATF_REQUIRE_MSG(cgdio_probe(&io, &g.params, &src, -1, &fi) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_EQ(fi.version, version);
	ATF_CHECK(fi.src == &src);
	ATF_CHECK_MSG(ffsimg_verify(&fi) == 0, "%s", sr_errmsg());
	ATF_REQUIRE_MSG((c.r = tree_ffs(&fi)) != NULL, "%s", sr_errmsg());
	c.w = w;
	ATF_REQUIRE_MSG(tree_walk(w, "", false, cmp_one, &c) == 0, "%s",
	    sr_errmsg());
	ATF_REQUIRE_MSG(tree_walk(c.r, "", false, count_one, &n) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_EQ(n, c.n);
	ATF_CHECK(c.n > 40);
	tree_close(c.r);
	ATF_CHECK_EQ(watch_end(&wa, "read"), 0);
	/* Never rebuilt in place: a plaintext would replace the cipher. */
	h_put("newfs", "");
	ATF_CHECK(ffsimg_install(&fi, "newfs") == -1);
	ATF_CHECK(access("newfs", F_OK) == -1);
	tree_close(w);
	cgdio_free(&io);
	close(fd);
	(void)cgdimg_close(&g);
	netbsd_check(alg, "key", img, off);
}

ATF_TC(cbc_v2);
ATF_TC_HEAD(cbc_v2, tc)
{
	atf_tc_set_md_var(tc, "descr", "aes-cbc 256 encblkno1, FFSv2, every "
	    "sector written: NetBSD's cgd reads it, tree_ffs reads it back");
}
ATF_TC_BODY(cbc_v2, tc)
{
	round_trip("aes-cbc", 256, 2, false, 0);
}

ATF_TC(cbc_v1_sparse);
ATF_TC_HEAD(cbc_v1_sparse, tc)
{
	atf_tc_set_md_var(tc, "descr", "aes-cbc 256, FFSv1, sparse: free "
	    "fragments holes, unused inodes still zeros after decryption");
}
ATF_TC_BODY(cbc_v1_sparse, tc)
{
	round_trip("aes-cbc", 256, 1, true, 0);
}

ATF_TC(xts_v2);
ATF_TC_HEAD(xts_v2, tc)
{
	atf_tc_set_md_var(tc, "descr", "aes-xts 512, FFSv2, whole and sparse");
}
ATF_TC_BODY(xts_v2, tc)
{
	round_trip("aes-xts", 512, 2, false, 0);
	ATF_REQUIRE(unlink("enc.img") == 0);
	ATF_REQUIRE(unlink("key") == 0);
	round_trip("aes-xts", 512, 2, true, 0);
}

ATF_TC(cbc_at_offset);
ATF_TC_HEAD(cbc_at_offset, tc)
{
	atf_tc_set_md_var(tc, "descr", "a cgd volume 1 MiB into the image "
	    "file: what is before it kept; whole, then sparse over it");
}
ATF_TC_BODY(cbc_at_offset, tc)
{
	round_trip("aes-cbc", 256, 1, false, 1 << 20);
	ATF_REQUIRE(unlink("key") == 0);
	round_trip("aes-cbc", 256, 1, true, 1 << 20);
}

/* Write an image with key A into img (for the refusals). */
static void
write_image(const char *key, const char *img, bool sparse)
{
	struct ffsw_params p;
	struct ffsw_sink s;
	struct cgdimg g;
	struct cgdio io;
	struct tree *w;
	int fd;

	open_key(&g, key);
	ATF_REQUIRE((fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	ATF_REQUIRE(ffsw_params_for(SIZE, 2, &p) == 0);
	cgdio_init(&io, g.c, fd, 0, SIZE, img);
	ATF_REQUIRE(cgdio_sink(&io, sparse, &s) == 0);
	ATF_REQUIRE((w = tree_ffsw(&p, &s, img)) != NULL);
	fill(w);
	ATF_REQUIRE_MSG(tree_sync(w) == 0, "%s", sr_errmsg());
	tree_close(w);
	cgdio_free(&io);
	close(fd);
	(void)cgdimg_close(&g);
}

/* Reading img with key: refused in one line that says m. */
static void
refused(const char *key, const char *img, const char *m)
{
	struct ffs_source src;
	struct ffsimg fi;
	struct cgdimg g;
	struct cgdio io;
	struct stat st;
	int fd;

	open_key(&g, key);
	ATF_REQUIRE((fd = open(img, O_RDONLY)) >= 0);
	ATF_REQUIRE(fstat(fd, &st) == 0);
	cgdio_init(&io, g.c, fd, 0, (uint64_t)st.st_size, img);
	ATF_CHECK(cgdio_probe(&io, &g.params, &src, -1, &fi) == -1);
	printf("%s: %s\n", key, sr_errmsg());
	ATF_CHECK_MSG(strstr(sr_errmsg(), m) != NULL, "%s", sr_errmsg());
	ATF_CHECK(strchr(sr_errmsg(), '\n') == NULL);
	cgdio_free(&io);
	close(fd);
	(void)cgdimg_close(&g);
}

ATF_TC(wrong_key);
ATF_TC_HEAD(wrong_key, tc)
{
	atf_tc_set_md_var(tc, "descr", "another key: one line saying so, "
	    "with verify_method ffs and none; a truncated image too");
}
ATF_TC_BODY(wrong_key, tc)
{
	keyfile("a", "aes-xts", 512, "ffs");
	keyfile("b", "aes-xts", 512, "ffs");
	keyfile("c", "aes-xts", 512, "none");
	write_image("a", "enc.img", true);
	refused("b", "enc.img", "wrong key");
	refused("c", "enc.img", "wrong key");
	ATF_REQUIRE(truncate("enc.img", 100000) == 0);
	refused("a", "enc.img", "sectors");
	ATF_REQUIRE(truncate("enc.img", 1 << 20) == 0);
	refused("a", "enc.img", "truncated");
}

ATF_TC(read_error);
ATF_TC_HEAD(read_error, tc)
{
	atf_tc_set_md_var(tc, "descr", "the image cut short while it is "
	    "read: a read fails with a message, never returns noise");
}
ATF_TC_BODY(read_error, tc)
{
	struct ffs_source src;
	struct ffsimg fi;
	struct cgdimg g;
	struct cgdio io;
	struct tree *t;
	char buf[8192];
	int fd;

	keyfile("a", "aes-cbc", 256, "ffs");
	write_image("a", "enc.img", false);
	open_key(&g, "a");
	ATF_REQUIRE((fd = open("enc.img", O_RDWR)) >= 0);
	cgdio_init(&io, g.c, fd, 0, SIZE, "enc.img");
	ATF_REQUIRE(cgdio_probe(&io, &g.params, &src, -1, &fi) == 0);
	ATF_REQUIRE_MSG((t = tree_ffs(&fi)) != NULL, "%s", sr_errmsg());
	ATF_REQUIRE(tree_pread(t, "home/user/big", 0, buf, 100) == 100);
	ATF_CHECK(buf[0] == big_byte(0) && buf[99] == big_byte(99));
	ATF_REQUIRE(ftruncate(fd, 1 << 20) == 0);
	ATF_CHECK(tree_pread(t, "home/user/big", (2 << 20) + 4096, buf,
	    sizeof(buf)) == -1);
	printf("%s\n", sr_errmsg());
	ATF_CHECK(strchr(sr_errmsg(), '\n') == NULL);
	tree_close(t);
	cgdio_free(&io);
	close(fd);
	(void)cgdimg_close(&g);
}

ATF_TC(pieces);
ATF_TC_HEAD(pieces, tc)
{
	atf_tc_set_md_var(tc, "descr", "a piece that is not whole sectors, "
	    "or beyond the volume, is refused; nothing written (and the "
	    "watch of the round trips sees a file made)");
}
ATF_TC_BODY(pieces, tc)
{
	struct ffsw_sink s;
	struct cgdimg g;
	struct cgdio io;
	struct watch wa;
	struct stat st;
	char buf[1024] = "x";
	int fd;

	/* The watch the round trips rely on sees a file made. */
	watch_start(&wa);
	h_put("made", "x");
	ATF_CHECK_EQ(watch_end(&wa, "watch"), 1);
	keyfile("a", "aes-cbc", 256, "ffs");
	open_key(&g, "a");
	ATF_REQUIRE((fd = open("img", O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	cgdio_init(&io, g.c, fd, 0, 1 << 20, "img");
	ATF_REQUIRE(cgdio_sink(&io, false, &s) == 0);
	ATF_REQUIRE(s.start(s.ctx) == 0);
	ATF_CHECK(s.pwrite(s.ctx, 100, buf, 512) == -1);
	ATF_CHECK(strstr(sr_errmsg(), "not whole sectors") != NULL);
	ATF_CHECK(s.pwrite(s.ctx, 512, buf, 100) == -1);
	ATF_CHECK(s.pwrite(s.ctx, (1 << 20) - 512, buf, 1024) == -1);
	ATF_REQUIRE(fstat(fd, &st) == 0);
	ATF_CHECK_EQ(st.st_size, 0);
	ATF_CHECK(s.pwrite(s.ctx, 512, buf, 1024) == 0);
	ATF_REQUIRE(fstat(fd, &st) == 0);
	ATF_CHECK_EQ(st.st_size, 1536);
	cgdio_free(&io);
	close(fd);
	(void)cgdimg_close(&g);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, cbc_v2);
	ATF_TP_ADD_TC(tp, cbc_v1_sparse);
	ATF_TP_ADD_TC(tp, xts_v2);
	ATF_TP_ADD_TC(tp, cbc_at_offset);
	ATF_TP_ADD_TC(tp, wrong_key);
	ATF_TP_ADD_TC(tp, read_error);
	ATF_TP_ADD_TC(tp, pieces);
	return atf_no_error();
}
