/*
 * The FFS writer (image/ffswrite.h): images of FFSv1 and FFSv2 built
 * from trees with every kind of entry, then checked three ways: by
 * NetBSD's own kernel FFS and fsck_ffs (../shared/tools/netbsd-ffs,
 * beside the source tree; those checks skip, saying so, without it),
 * whose listing must be what was written; read back with the project's
 * libtsk reader (tree_ffs) and compared with the tree that wrote it;
 * and refusals: a tree too large, names and paths that are not plain.
 * The proof cases: trees of 1, 100 and 10,000 entries, 500 directories,
 * images of 1 MiB to 16 GiB (sparse, a few MiB on disk), v1 and v2.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "h_util.h"
#include "image/ffsimg.h"
#include "image/ffsread.h"
#include "image/ffswrite.h"
#include "tree/tree.h"

#define BS	4096		/* the block size the big trees use */

/*
 * NetBSD's checker (prog beside ffs-check, where the Makefile's FFSCHECK
 * says, as the atf-sh tests have it; SR_FFSCHECK_DIR over it), or NULL.
 */
static const char *
ffscheck(const atf_tc_t *tc, const char *prog, char *buf, size_t len)
{
	const char *env = getenv("SR_FFSCHECK_DIR");
	const char *slash = strrchr(SR_FFSCHECK, '/');
	int n;

	if (env != NULL)
		n = snprintf(buf, len, "%s/%s", env, prog);
	else
		n = snprintf(buf, len, "%.*s/%s",
		    slash == NULL ? 1 : (int)(slash - SR_FFSCHECK),
		    slash == NULL ? "." : SR_FFSCHECK, prog);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return access(buf, X_OK) == 0 ? buf : NULL;
}

/* The output of a command line (at most 4 MiB), and its exit status. */
static char *
run_out(const char *cmd, int *status)
{
	struct sbuf b = { 0 };
	char chunk[65536];
	size_t n;
	FILE *f;

	ATF_REQUIRE((f = popen(cmd, "r")) != NULL);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ATF_REQUIRE(sbuf_add(&b, chunk, n) == 0);
	*status = pclose(f);
	ATF_REQUIRE(sbuf_add(&b, "", 0) == 0);
	return b.s;
}

/* Read len bytes of pattern p from off: a byte no two offsets share. */
static char
pat(uint64_t off, int p)
{
	return (char)('A' + (off * 7 + off / 4093 + (uint64_t)p) % 53);
}

static int
cb_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		((char *)buf)[i] = pat(off + i, *(int *)ctx);
	return 0;
}

static struct tree_wopts
wo(mode_t mode, uid_t uid, gid_t gid)
{
	struct tree_wopts w = { .mode = mode, .uid = uid, .gid = gid };

	return w;
}

static void
put(struct tree *t, const char *path, const void *data, size_t len,
    mode_t mode, uid_t uid, gid_t gid)
{
	struct tree_wopts w = wo(mode, uid, gid);

	ATF_REQUIRE_MSG(tree_write(t, path, data, len, &w) == 0, "%s: %s",
	    path, sr_errmsg());
}

static void
dir(struct tree *t, const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct tree_wopts w = wo(mode, uid, gid);

	ATF_REQUIRE_MSG(tree_mkdir(t, path, &w) == 0, "%s: %s", path,
	    sr_errmsg());
}

static void
lnk(struct tree *t, const char *path, size_t len, uid_t uid)
{
	struct tree_wopts w = wo(0755, uid, 0);
	char target[1100];
	size_t i;

	for (i = 0; i < len; i++)
		target[i] = (char)('a' + i % 26);
	target[len] = '\0';
	ATF_REQUIRE_MSG(tree_symlink(t, path, target, &w) == 0, "%s: %s",
	    path, sr_errmsg());
}

static void
node(struct tree *t, const char *path, mode_t mode, dev_t dev, uid_t uid,
    gid_t gid)
{
	struct tree_wopts w = wo(mode, uid, gid);

	ATF_REQUIRE_MSG(tree_mknod(t, path, dev, &w) == 0, "%s: %s", path,
	    sr_errmsg());
}

static void
flags(struct tree *t, const char *path, uint32_t fl, time_t when)
{
	struct ffsw_meta m = { .flags = fl };

	m.atime.tv_sec = when;
	m.mtime.tv_sec = when + 1;
	m.mtime.tv_nsec = 5000;
	m.ctime.tv_sec = when + 2;
	m.birthtime.tv_sec = when - 100;
	ATF_REQUIRE_MSG(ffsw_setmeta(t, path, &m) == 0, "%s", sr_errmsg());
}

/* A sparse host file: bytes at a few offsets, holes between, size len. */
static int
sparse_file(const char *path, uint64_t len, const uint64_t *at, size_t n)
{
	int fd;
	size_t i;

	ATF_REQUIRE((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644)) >= 0);
	for (i = 0; i < n; i++)
		ATF_REQUIRE(pwrite(fd, "sparse!", 7, (off_t)at[i]) == 7);
	ATF_REQUIRE(ftruncate(fd, (off_t)len) == 0);
	return fd;
}

/* Flags given with ffsw_setmeta(), for the listing expected. */
static struct {
	const char *path;
	uint32_t flags;
} fltab[8];
static size_t nfl;

static void
setflags(struct tree *t, const char *path, uint32_t fl)
{
	ATF_REQUIRE(nfl < 8);
	fltab[nfl].path = path;
	fltab[nfl++].flags = fl;
	flags(t, path, fl, 1600000000);
}

static uint32_t
flags_of(const char *path)
{
	size_t i;

	for (i = 0; i < nfl; i++)
		if (strcmp(fltab[i].path, path) == 0)
			return fltab[i].flags;
	return 0;
}

static int cbpat = 3;

/*
 * Every kind of entry: nested and many directories, files of 0, 1,
 * tail and exactly a block of bytes, holes (in memory, in a sparse host
 * file, from a reader) reaching the double indirect blocks, short and
 * long links (either side of the inline limit of both versions),
 * devices, a fifo, hard links, flags, odd owners and modes, long names.
 */
static void
fill(struct tree *t, int ndirs)
{
	static char big[3 * BS + 100], n255[256], p[600];
	uint64_t at[] = { 0, 3 * BS + 1, 13 * BS, 700 * BS, 2000 * BS + 9,
	    3000 * BS - 7 };
	int fd, i;

	nfl = 0;
	memset(n255, 'N', 255);
	dir(t, "", 0755, 0, 0);
	dir(t, "etc", 0755, 0, 0);
	put(t, "etc/rc", "first\n", 6, 0644, 0, 0);
	put(t, "etc/rc", "#!/bin/sh\necho rc\n", 18, 0644, 0, 0);
	put(t, "empty", "", 0, 0644, 0, 0);
	put(t, "one", "x", 1, 0600, 1000, 1000);
	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = pat((uint64_t)i, 1);
	put(t, "tail", big, 5000, 0640, 65534, 65533);
	put(t, "block", big, BS, 0444, 4294967294u, 12345);
	memset(big + BS, 0, 2 * BS);
	put(t, "memholes", big, sizeof(big), 0644, 0, 0);
	put(t, "setuid", "#!/bin/sh\n", 10, 04755, 0, 0);
	put(t, "setgid", "x", 1, 02711, 0, 7);
	dir(t, "tmp", 01777, 0, 0);
	dir(t, "ab", 0700, 5, 6);
	dir(t, "ab/cd", 0750, 5, 6);
	dir(t, "ab/cd/ef", 0755, 0, 0);
	put(t, "ab/cd/ef/deep", "deep\n", 5, 0644, 0, 0);
	fd = sparse_file("sparse.src", 3000 * BS, at, 6);
	{
		struct tree_wopts w = wo(0644, 3, 4);

		ATF_REQUIRE(tree_write_fd(t, "sparse", fd, &w) == 0);
	}
	close(fd);		/* the tree holds its own */
	{
		struct tree_wopts w = wo(0600, 0, 0);

		ATF_REQUIRE(ffsw_add_file(t, "streamed", 100000 + 17, cb_read,
		    &cbpat, &w) == 0);
	}
	lnk(t, "short", 6, 0);
	lnk(t, "l59", 59, 0);
	lnk(t, "l60", 60, 0);
	lnk(t, "l119", 119, 0);
	lnk(t, "l120", 120, 2);
	lnk(t, "long", 1023, 0);
	dir(t, "dev", 0755, 0, 0);
	node(t, "dev/null", S_IFCHR | 0666, makedev(2, 2), 0, 0);
	node(t, "dev/wd0a", S_IFBLK | 0640, makedev(12, 345), 0, 5);
	node(t, "dev/big", S_IFCHR | 0600, makedev(300, 70000), 0, 0);
	node(t, "dev/fifo", S_IFIFO | 0600, 0, 7, 8);
	ATF_REQUIRE(tree_link(t, "etc/rc", "hard1") == 0);
	ATF_REQUIRE(tree_link(t, "etc/rc", "dev/hard2") == 0);
	ATF_REQUIRE(tree_keep_orig(t, "etc/rc") == 0);
	ATF_REQUIRE(tree_keep_orig(t, "etc/rc") == 0);
	dir(t, "gone", 0755, 0, 0);
	put(t, "gone/x", "x", 1, 0644, 0, 0);
	ATF_REQUIRE(tree_remove(t, "gone") == 0);
	dir(t, "names", 0755, 0, 0);
	snprintf(p, sizeof(p), "names/%s", n255);
	put(t, p, "255\n", 4, 0644, 0, 0);
	n255[254] = 'D';
	snprintf(p, sizeof(p), "names/%s", n255);
	dir(t, p, 0755, 0, 0);
	strlcat(p, "/f", sizeof(p));
	put(t, p, "in a long dir\n", 14, 0644, 0, 0);
	setflags(t, "one", 0x1 | 0x10000);	/* UF_NODUMP, SF_ARCHIVED */
	setflags(t, "ab", 0x1);
	dir(t, "many", 0755, 0, 0);
	for (i = 0; i < ndirs; i++) {
		snprintf(p, sizeof(p), "many/d%03d", i);
		dir(t, p, 0755, (uid_t)i, (gid_t)i);
		snprintf(p, sizeof(p), "many/d%03d/f%d", i, i);
		put(t, p, p, strlen(p), 0644, 0, 0);
	}
}

/* The sha256 of a regular file of t, in hex, read in 1 MiB pieces. */
static void
sha_of(struct tree *t, const char *path, uint64_t size, char *hex)
{
	static unsigned char buf[1 << 20];
	unsigned char md[32];
	unsigned int mdlen;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint64_t off = 0;
	int i;

	ATF_REQUIRE(c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL));
	while (off < size) {
		ssize_t n = tree_pread(t, path, off, buf, sizeof(buf));

		ATF_REQUIRE_MSG(n > 0, "%s: %s", path, sr_errmsg());
		ATF_REQUIRE(EVP_DigestUpdate(c, buf, (size_t)n));
		off += (uint64_t)n;
	}
	ATF_REQUIRE(EVP_DigestFinal_ex(c, md, &mdlen) && mdlen == 32);
	EVP_MD_CTX_free(c);
	for (i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

struct listing {
	struct tree *t;
	struct sbuf out;
};

/* One line as nbffs prints it (a directory's size left out). */
static int
list_one(void *arg, const char *path, const struct stat *st)
{
	struct listing *ls = arg;
	char target[1100] = "-", hex[65] = "-", size[32], type = '?';
	struct sbuf b = { 0 };

	if (S_ISDIR(st->st_mode))
		type = 'd';
	else if (S_ISREG(st->st_mode)) {
		type = 'f';
		sha_of(ls->t, path, (uint64_t)st->st_size, hex);
	} else if (S_ISLNK(st->st_mode)) {
		type = 'l';
		ATF_REQUIRE(tree_readlink(ls->t, path, &b) == 0);
		snprintf(target, sizeof(target), "%s", b.s);
		sbuf_free(&b);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		type = S_ISCHR(st->st_mode) ? 'c' : 'b';
		snprintf(target, sizeof(target), "%u,%u", major(st->st_rdev),
		    minor(st->st_rdev));
	} else if (S_ISFIFO(st->st_mode))
		type = 'p';
	if (S_ISDIR(st->st_mode))
		snprintf(size, sizeof(size), "DIR");
	else
		snprintf(size, sizeof(size), "%lld", (long long)st->st_size);
	ATF_REQUIRE(sbuf_printf(&ls->out, "%s\t%c\t%04o\t%u\t%u\t%s\t%u\t0x%x"
	    "\t%s\t%s\t%lld.%09ld\n", *path != '\0' ? path : ".", type,
	    (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid,
	    (unsigned)st->st_gid, size, (unsigned)st->st_nlink,
	    flags_of(path), target, hex, (long long)st->st_mtim.tv_sec,
	    st->st_mtim.tv_nsec) == 0);
	return 0;
}

static int
cmpline(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The entry lines of text (tab-separated: not '#' lines, nor what the
 * rump kernel says on its console, e.g. an RNG self-test), sorted; text
 * is cut up.
 */
static char **
lines(char *text, size_t *n)
{
	char **v = NULL, *save = NULL, *l;
	size_t cap = 0;

	*n = 0;
	for (l = strtok_r(text, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		if (*l == '#' || strchr(l, '\t') == NULL)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			ATF_REQUIRE((v = realloc(v, cap * sizeof(*v))) != NULL);
		}
		v[(*n)++] = l;
	}
	qsort(v, *n, sizeof(*v), cmpline);
	return v;
}

/* nbffs's listing: a directory's size checked (whole chunks), left out. */
static void
mask_dirs(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *f[10], *p = v[i], *out;
		int k;

		for (k = 0; k < 10 && p != NULL; k++) {
			f[k] = p;
			p = strchr(p, '\t');
			if (p != NULL)
				p++;
		}
		if (k < 10 || strncmp(f[1], "d\t", 2) != 0)
			continue;
		ATF_CHECK_MSG(atoll(f[5]) > 0 && atoll(f[5]) % 512 == 0,
		    "%s: directory size not in 512-byte chunks", v[i]);
		ATF_REQUIRE((out = malloc(strlen(v[i]) + 4)) != NULL);
		snprintf(out, strlen(v[i]) + 4, "%.*sDIR%s", (int)(f[5] - v[i]),
		    v[i], strchr(f[5], '\t'));
		v[i] = out;	/* leaked: a test's */
	}
}

/* The tree t as nbffs would list it. */
static char *
expected(struct tree *t)
{
	struct listing ls = { .t = t };

	ATF_REQUIRE_MSG(tree_walk(t, "", false, list_one, &ls) == 0, "%s",
	    sr_errmsg());
	return ls.out.s;
}

/*
 * Check (a): NetBSD's kernel and fsck pass it (and with rw, the
 * read-write round), and the kernel's listing is want's.
 */
static void
netbsd_check(const atf_tc_t *tc, const char *img, const char *want, bool rw)
{
	char prog[PATH_MAX], nb[PATH_MAX], cmd[3 * PATH_MAX], *out, **a, **b;
	size_t na, nb_, i;
	int st;

	if (ffscheck(tc, "ffs-check", prog, sizeof(prog)) == NULL) {
		printf("skipped NetBSD's check: no %s (NetBSD's own FFS as a "
		    "checker, ../shared/tools/netbsd-ffs beside the source "
		    "tree)\n", prog);
		return;
	}
	snprintf(cmd, sizeof(cmd), "%s %s %s 2>&1", prog, rw ? "-w" : "", img);
	out = run_out(cmd, &st);
	printf("%s", out);
	ATF_CHECK_MSG(st == 0, "ffs-check %s failed: %s", img, out);
	ATF_CHECK(strstr(out, "reads everything: ok") != NULL);
	ATF_CHECK(strstr(out, "fsck_ffs -n -f: clean") != NULL);
	if (rw)
		ATF_CHECK(strstr(out, "writes, removes, unmounts: ok") != NULL);
	free(out);
	if (want == NULL)
		return;
	ATF_REQUIRE(ffscheck(tc, "bin/nbffs", nb, sizeof(nb)) != NULL);
	snprintf(cmd, sizeof(cmd), "%s -t %s 2>&1", nb, img);
	out = run_out(cmd, &st);
	ATF_CHECK_MSG(st == 0 && strstr(out, "# result OK") != NULL,
	    "nbffs: %s", out);
	a = lines(out, &na);
	mask_dirs(a, na);
	qsort(a, na, sizeof(*a), cmpline);
	{
		char *w = strdup(want);

		b = lines(w, &nb_);
	}
	ATF_REQUIRE(nb_ > 0);
	for (i = 0; i < na && i < nb_; i++)
		if (strcmp(a[i], b[i]) != 0)
			break;
	ATF_CHECK_MSG(na == nb_ && i == na, "NetBSD lists %zu entries, %zu "
	    "written; first difference:\n  NetBSD: %s\n  written: %s", na,
	    nb_, i < na ? a[i] : "(none)", i < nb_ ? b[i] : "(none)");
	free(a);
	free(b);
	free(out);
}

struct cmp {
	struct tree *w, *r;	/* written, read back */
	size_t n;
	uint64_t maxino;
	bool v2;
	size_t fsize;
};

/* One path: what libtsk reads is what was written. */
static int
cmp_one(void *arg, const char *path, const struct stat *ws)
{
	struct cmp *c = arg;
	struct stat rs;
	char wh[65], rh[65];

	c->n++;
	ATF_REQUIRE_MSG(tree_lstat(c->r, path, &rs) == 0, "%s: %s", path,
	    sr_errmsg());
	if ((uint64_t)rs.st_ino > c->maxino)
		c->maxino = (uint64_t)rs.st_ino;
	ATF_CHECK_MSG(rs.st_mode == ws->st_mode && rs.st_uid == ws->st_uid &&
	    rs.st_gid == ws->st_gid && rs.st_nlink == ws->st_nlink,
	    "%s: mode %o/%o uid %u/%u gid %u/%u nlink %u/%u", path,
	    rs.st_mode, ws->st_mode, rs.st_uid, ws->st_uid, rs.st_gid,
	    ws->st_gid, (unsigned)rs.st_nlink, (unsigned)ws->st_nlink);
	/* libtsk reads an FFSv1 inode's seconds only (nbffs checks all). */
	ATF_CHECK_MSG(rs.st_mtim.tv_sec == ws->st_mtim.tv_sec &&
	    (!c->v2 || rs.st_mtim.tv_nsec == ws->st_mtim.tv_nsec),
	    "%s: mtime", path);
	ATF_CHECK_MSG(rs.st_atim.tv_sec == ws->st_atim.tv_sec &&
	    (!c->v2 || rs.st_atim.tv_nsec == ws->st_atim.tv_nsec),
	    "%s: atime", path);
	ATF_CHECK_MSG(rs.st_ctim.tv_sec == ws->st_ctim.tv_sec &&
	    (!c->v2 || rs.st_ctim.tv_nsec == ws->st_ctim.tv_nsec),
	    "%s: ctime", path);
	if (S_ISDIR(ws->st_mode))
		return 0;
	ATF_CHECK_MSG(rs.st_size == ws->st_size, "%s: size %lld, written "
	    "%lld", path, (long long)rs.st_size, (long long)ws->st_size);
	if (S_ISCHR(ws->st_mode) || S_ISBLK(ws->st_mode))
		ATF_CHECK_MSG(rs.st_rdev == ws->st_rdev, "%s: rdev", path);
	if (S_ISLNK(ws->st_mode)) {
		struct sbuf a = { 0 }, b = { 0 };

		ATF_REQUIRE(tree_readlink(c->w, path, &a) == 0);
		ATF_REQUIRE_MSG(tree_readlink(c->r, path, &b) == 0, "%s: %s",
		    path, sr_errmsg());
		/*
		 * libtsk reads no more of a link's block than one fragment
		 * (of an image makefs made as well): the rest is NetBSD's
		 * listing to check.
		 */
		ATF_CHECK_MSG((a.len == b.len || (a.len > c->fsize &&
		    b.len == c->fsize)) && memcmp(a.s, b.s, b.len) == 0,
		    "%s: link target", path);
		sbuf_free(&a);
		sbuf_free(&b);
	}
	if (S_ISREG(ws->st_mode)) {
		sha_of(c->w, path, (uint64_t)ws->st_size, wh);
		sha_of(c->r, path, (uint64_t)ws->st_size, rh);
		ATF_CHECK_MSG(strcmp(wh, rh) == 0, "%s: content", path);
	}
	return 0;
}

static int
count_one(void *arg, const char *path, const struct stat *st)
{
	(*(size_t *)arg)++;
	return 0;
}

/* Check (b): libtsk (tree_ffs) reads back what was written. */
static uint64_t
tsk_check(const char *img, struct tree *w, int version)
{
	struct ffsimg fi;
	struct cmp c = { .w = w, .v2 = version == 2 };
	size_t n = 0;

	ATF_REQUIRE_MSG(ffsimg_probe(img, -1, &fi) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(fi.version, version);
	ATF_CHECK_EQ(fi.off, 0);
	c.fsize = (size_t)fi.fsize;
	ATF_REQUIRE_MSG((c.r = tree_ffs(&fi)) != NULL, "%s", sr_errmsg());
	ATF_REQUIRE_MSG(tree_walk(w, "", false, cmp_one, &c) == 0, "%s",
	    sr_errmsg());
	ATF_REQUIRE_MSG(tree_walk(c.r, "", false, count_one, &n) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_EQ(n, c.n);
	tree_close(c.r);
	return c.maxino;
}

/* A writer tree for an image file of size bytes (bsize 0: newfs's). */
static struct tree *
writer_bs(const char *img, uint64_t size, int version, int bsize, int fsize,
    int *fd)
{
	struct ffsw_params p;
	struct ffsw_sink s;
	struct tree *t;

	ATF_REQUIRE(ffsw_params_for(size, version, &p) == 0);
	if (bsize != 0) {
		p.bsize = bsize;
		p.fsize = fsize;
		p.density = 4 * p.fsize;
		p.maxcontig = 65536 / bsize > 1 ? 65536 / bsize : 1;
	}
	p.time.tv_sec = 1700000000;
	p.time.tv_nsec = 123456789;
	ATF_REQUIRE((*fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644)) >= 0);
	ffsw_sink_fd(&s, *fd, size, img);
	ATF_REQUIRE_MSG((t = tree_ffsw(&p, &s, img)) != NULL, "%s",
	    sr_errmsg());
	return t;
}

static struct tree *
writer(const char *img, uint64_t size, int version, bool small_blocks,
    int *fd)
{
	return writer_bs(img, size, version, small_blocks ? BS : 0,
	    BS / 8, fd);
}

/* Build the whole tree as version, and check it the three ways. */
static void
every_kind(const atf_tc_t *tc, int version, bool rw)
{
	const char *img = version == 1 ? "v1.img" : "v2.img";
	struct ffsw_params p;
	struct ffsw_geom g;
	struct stat st;
	struct tree *t;
	char *want;
	int fd;

	t = writer(img, 24 << 20, version, true, &fd);
	fill(t, 150);
	ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
	close(fd);
	ATF_REQUIRE(stat(img, &st) == 0);
	ATF_CHECK_EQ(st.st_size, 24 << 20);
	ATF_CHECK_MSG(st.st_blocks * 512 < 4 << 20, "not sparse: %lld "
	    "blocks", (long long)st.st_blocks);
	ATF_REQUIRE(ffsw_params_for(24 << 20, version, &p) == 0);
	p.bsize = BS;
	p.fsize = BS / 8;
	p.density = 4 * p.fsize;
	p.maxcontig = 16;
	ATF_REQUIRE(ffsw_geometry(&p, &g) == 0);
	ATF_CHECK_MSG(g.ncg >= 2, "%d cylinder groups", g.ncg);
	want = expected(t);
	/* What the tree says is what was asked for (NetBSD then agrees). */
	{
		static const char *const lines[] = {
		    "\n.\td\t0755\t0\t0\tDIR\t8\t0x0\t-\t-\t1700000000.123456789\n",
		    "\nhard1\tf\t0644\t0\t0\t18\t4\t0x0\t-\t",
		    "\netc/rc.orig\tf\t0644\t0\t0\t18\t4\t0x0\t-\t",
		    "\ndev/wd0a\tb\t0640\t0\t5\t0\t1\t0x0\t12,345\t-\t",
		    "\ndev/big\tc\t0600\t0\t0\t0\t1\t0x0\t300,70000\t-\t",
		    "\ndev/fifo\tp\t0600\t7\t8\t0\t1\t0x0\t-\t-\t",
		    "\none\tf\t0600\t1000\t1000\t1\t1\t0x10001\t-\t",
		    "\ntmp\td\t1777\t0\t0\tDIR\t2\t",
		    "\nsetuid\tf\t4755\t0\t0\t10\t1\t",
		    "\nsetgid\tf\t2711\t0\t7\t1\t1\t",
		    "\nblock\tf\t0444\t4294967294\t12345\t4096\t1\t",
		    "\nab\td\t0700\t5\t6\tDIR\t3\t0x1\t-\t-\t1600000001.000005000\n",
		    "\nmany\td\t0755\t0\t0\tDIR\t152\t",
		    "\nsparse\tf\t0644\t3\t4\t12288000\t1\t",
		    "\nstreamed\tf\t0600\t0\t0\t100017\t1\t",
		    "\nl120\tl\t0755\t2\t0\t120\t1\t0x0\tabcdefghij",
		};
		size_t k;
		char *nw;

		ATF_REQUIRE(asprintf(&nw, "\n%s", want) > 0);
		for (k = 0; k < sizeof(lines) / sizeof(*lines); k++)
			ATF_CHECK_MSG(strstr(nw, lines[k]) != NULL,
			    "not written as asked: %s", lines[k]);
		ATF_CHECK(strstr(nw, "\ngone") == NULL);
		free(nw);
	}
	ATF_CHECK_MSG(tsk_check(img, t, version) >= (uint64_t)g.ipg,
	    "no inode beyond the first cylinder group");
	netbsd_check(tc, img, want, false);
	if (rw)
		netbsd_check(tc, img, NULL, true);
	free(want);
	tree_close(t);
}

ATF_TC(v1_every_kind);
ATF_TC_HEAD(v1_every_kind, tc)
{
	atf_tc_set_md_var(tc, "descr", "FFSv1: every kind of entry, in "
	    "several cylinder groups: NetBSD's kernel and fsck pass it and "
	    "list what was written, libtsk reads it back, and the kernel "
	    "writes to it");
}
ATF_TC_BODY(v1_every_kind, tc)
{
	every_kind(tc, 1, true);
}

ATF_TC(v2_every_kind);
ATF_TC_HEAD(v2_every_kind, tc)
{
	atf_tc_set_md_var(tc, "descr", "FFSv2 (superblock at 65536): every "
	    "kind of entry, as for FFSv1");
}
ATF_TC_BODY(v2_every_kind, tc)
{
	every_kind(tc, 2, true);
}

/*
 * A file reaching the triple indirect blocks, sparse: bytes in the
 * direct, single, double and triple ranges and at the very end.  The
 * kernel (ffs-check) reads every byte of it and must find its size;
 * NetBSD's listing (with the whole file's sha256) is checked where the
 * file is small enough to hash twice in a test (FFSv2: 1 GiB; FFSv1's
 * triple range starts at 4 GiB).  libtsk (tree_ffs) reads no file over
 * 1 GiB: it is asked for the inode alone.
 */
static void
triple(const atf_tc_t *tc, int version)
{
	const char *img = version == 1 ? "t1.img" : "t2.img";
	uint64_t nin = version == 1 ? BS / 4 : BS / 8;
	uint64_t tri = (12 + nin + nin * nin) * BS;
	uint64_t at[] = { 5, 12 * BS + 1, (12 + nin + 3) * BS + 2, tri + 3,
	    tri + 5 * BS + 17, tri + 40 * BS };
	uint64_t size = at[5] + 7;
	struct tree *t, *r;
	struct ffsimg fi;
	char *want;
	int fd, sfd;
	struct tree_wopts w = wo(0640, 1, 2);
	char prog[PATH_MAX];

	if (ffscheck(tc, "ffs-check", prog, sizeof(prog)) == NULL)
		atf_tc_skip("no %s: NetBSD's kernel is what reads this file "
		    "whole (../shared/tools/netbsd-ffs beside the source tree)",
		    prog);
	t = writer(img, 16 << 20, version, true, &fd);
	sfd = sparse_file("triple.src", size, at, 6);
	ATF_REQUIRE(tree_write_fd(t, "huge", sfd, &w) == 0);
	close(sfd);
	ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
	close(fd);
	ATF_REQUIRE(ffsimg_probe(img, -1, &fi) == 0);
	ATF_REQUIRE_MSG((r = tree_ffs(&fi)) != NULL, "%s", sr_errmsg());
	{
		struct stat st;

		ATF_REQUIRE(tree_lstat(r, "huge", &st) == 0);
		ATF_CHECK_EQ((uint64_t)st.st_size, size);
		ATF_CHECK_EQ(st.st_mode, S_IFREG | 0640);
	}
	tree_close(r);
	want = version == 2 ? expected(t) : NULL;
	netbsd_check(tc, img, want, false);
	free(want);
	tree_close(t);
}

ATF_TC(v1_triple_indirect);
ATF_TC_HEAD(v1_triple_indirect, tc)
{
	atf_tc_set_md_var(tc, "descr", "FFSv1: a sparse file of 4 GiB "
	    "reaching the triple indirect blocks");
	atf_tc_set_md_var(tc, "timeout", "900");
}
ATF_TC_BODY(v1_triple_indirect, tc)
{
	triple(tc, 1);
}

ATF_TC(v2_triple_indirect);
ATF_TC_HEAD(v2_triple_indirect, tc)
{
	atf_tc_set_md_var(tc, "descr", "FFSv2: a sparse file of 1 GiB "
	    "reaching the triple indirect blocks");
	atf_tc_set_md_var(tc, "timeout", "600");
}
ATF_TC_BODY(v2_triple_indirect, tc)
{
	triple(tc, 2);
}

ATF_TC(block_sizes);
ATF_TC_HEAD(block_sizes, tc)
{
	atf_tc_set_md_var(tc, "descr", "The same tree with blocks of 8 to "
	    "64 KiB and fragments of an eighth to the whole block, FFSv1 "
	    "and FFSv2: NetBSD lists what was written, libtsk reads it");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(block_sizes, tc)
{
	static const int bf[][2] = { { 8192, 1024 }, { 16384, 16384 },
	    { 32768, 4096 }, { 65536, 8192 } };
	struct tree *t;
	char *want;
	size_t i;
	int fd, v;

	for (v = 1; v <= 2; v++)
		for (i = 0; i < sizeof(bf) / sizeof(*bf); i++) {
			printf("FFSv%d, blocks of %d, fragments of %d\n", v,
			    bf[i][0], bf[i][1]);
			t = writer_bs("bs.img", 96 << 20, v, bf[i][0],
			    bf[i][1], &fd);
			fill(t, 40);
			ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
			close(fd);
			want = expected(t);
			(void)tsk_check("bs.img", t, v);
			netbsd_check(tc, "bs.img", want, false);
			free(want);
			tree_close(t);
		}
}

/* A call that must fail with errno e and a message naming what. */
#define REFUSED(call, e, what) do {					\
	errno = 0;							\
	ATF_CHECK_MSG((call) == -1 && errno == (e), "%s: errno %d, not "	\
	    "%d", #call, errno, (e));					\
	ATF_CHECK_MSG(strstr(sr_errmsg(), (what)) != NULL, "%s: message "	\
	    "\"%s\" does not name %s", #call, sr_errmsg(), (what));	\
} while (0)

ATF_TC(too_small);
ATF_TC_HEAD(too_small, tc)
{
	atf_tc_set_md_var(tc, "descr", "A file system too small for its "
	    "parameters, a tree too large for its data or its inodes: "
	    "one-line ENOSPC messages naming the image and the path");
}
ATF_TC_BODY(too_small, tc)
{
	struct ffsw_params p;
	struct ffsw_sink s;
	struct tree *t;
	struct tree_wopts w = wo(0644, 0, 0);
	char *big, path[64];
	int fd, i;

	ATF_REQUIRE((fd = open("tiny.img", O_RDWR | O_CREAT, 0644)) >= 0);
	ATF_REQUIRE(ffsw_params_for(32 << 10, 1, &p) == 0);
	ffsw_sink_fd(&s, fd, 32 << 10, "tiny.img");
	ATF_CHECK(tree_ffsw(&p, &s, "tiny.img") == NULL);
	ATF_CHECK(strstr(sr_errmsg(), "tiny.img: ") == sr_errmsg());
	ATF_CHECK(strstr(sr_errmsg(), "too small") != NULL);
	ATF_REQUIRE(ffsw_params_for(4 << 20, 2, &p) == 0);
	p.bsize = 3000;
	ATF_CHECK(tree_ffsw(&p, &s, "tiny.img") == NULL);
	ATF_CHECK(strstr(sr_errmsg(), "block and fragment sizes") != NULL);
	ATF_REQUIRE(ffsw_params_for(4 << 20, 3, &p) == -1);
	ATF_REQUIRE(ffsw_params_for(4 << 20, 2, &p) == 0);
	ffsw_sink_fd(&s, fd, 2 << 20, "tiny.img");
	ATF_CHECK(tree_ffsw(&p, &s, "tiny.img") == NULL);
	ATF_CHECK(strstr(sr_errmsg(), "smaller than its file system") != NULL);
	close(fd);

	/* Data: 3 MiB into 2 MiB. */
	t = writer("small.img", 2 << 20, 1, false, &fd);
	ATF_REQUIRE((big = malloc(3 << 20)) != NULL);
	memset(big, 'b', 3 << 20);
	dir(t, "etc", 0755, 0, 0);
	ATF_REQUIRE(tree_write(t, "etc/big", big, 3 << 20, &w) == 0);
	REFUSED(tree_sync(t), ENOSPC, "small.img: etc/big: no room left");
	ATF_CHECK(strchr(sr_errmsg(), '\n') == NULL);
	/* Made to fit, it is written whole. */
	ATF_REQUIRE(tree_write(t, "etc/big", big, 1 << 20, &w) == 0);
	ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
	tree_close(t);
	close(fd);
	netbsd_check(tc, "small.img", NULL, false);
	free(big);

	/* Inodes: more files than a 2 MiB file system has inodes. */
	t = writer("few.img", 2 << 20, 2, false, &fd);
	dir(t, "d", 0755, 0, 0);
	for (i = 0; i < 2000; i++) {
		snprintf(path, sizeof(path), "d/f%04d", i);
		ATF_REQUIRE(tree_write(t, path, "", 0, &w) == 0);
	}
	REFUSED(tree_sync(t), ENOSPC, "few.img: d/f");
	ATF_CHECK(strstr(sr_errmsg(), "no inode left") != NULL);
	tree_close(t);
	close(fd);
}

ATF_TC(bad_names);
ATF_TC_HEAD(bad_names, tc)
{
	atf_tc_set_md_var(tc, "descr", "Names and paths that are not plain, "
	    "too long, or lead through a file or a link; writes over a "
	    "directory, links to one, bad nodes and link targets: refused, "
	    "naming the path, and nothing made");
}
ATF_TC_BODY(bad_names, tc)
{
	struct tree_wopts w = wo(0644, 0, 0), dw = wo(0755, 0, 0);
	struct tree_wopts chr = wo(S_IFCHR | 0600, 0, 0);
	struct tree_wopts reg = wo(S_IFREG | 0600, 0, 0);
	char n256[300], target[1100], **names;
	struct sbuf b = { 0 };
	struct stat st;
	struct tree *t;
	int fd, dfd;

	t = writer("names.img", 4 << 20, 2, false, &fd);
	dir(t, "d", 0755, 0, 0);
	put(t, "d/file", "x", 1, 0644, 0, 0);
	ATF_REQUIRE(tree_symlink(t, "d/link", "..", &w) == 0);
	REFUSED(tree_write(t, "a/../b", "x", 1, &w), EINVAL, "a/../b");
	REFUSED(tree_write(t, "..", "x", 1, &w), EINVAL, "..");
	REFUSED(tree_write(t, ".", "x", 1, &w), EINVAL, ".");
	REFUSED(tree_write(t, "d/./x", "x", 1, &w), EINVAL, "d/./x");
	REFUSED(tree_write(t, "/etc", "x", 1, &w), EINVAL, "/etc");
	REFUSED(tree_write(t, "d//x", "x", 1, &w), EINVAL, "d//x");
	REFUSED(tree_write(t, "d/x/", "x", 1, &w), EINVAL, "d/x/");
	ATF_CHECK(tree_mkdir(t, "", &dw) == 0);	/* the top is there */
	memset(n256, 'n', 256);
	n256[256] = '\0';
	REFUSED(tree_write(t, n256, "x", 1, &w), ENAMETOOLONG, "nnnn");
	REFUSED(tree_mkdir(t, n256, &dw), ENAMETOOLONG, "nnnn");
	n256[255] = '\0';
	put(t, n256, "255", 3, 0644, 0, 0);
	REFUSED(tree_write(t, "nodir/x", "x", 1, &w), ENOENT, "nodir/x");
	REFUSED(tree_write(t, "d/file/x", "x", 1, &w), ENOTDIR, "d/file/x");
	REFUSED(tree_write(t, "d/link/x", "x", 1, &w), ELOOP, "d/link/x");
	REFUSED(tree_write(t, "d", "x", 1, &w), EISDIR, "d");
	REFUSED(tree_symlink(t, "d", "x", &w), EISDIR, "d");
	REFUSED(tree_link(t, "d", "d2"), EPERM, "d");
	REFUSED(tree_mkdir(t, "d/file", &dw), EEXIST, "d/file");
	REFUSED(tree_symlink(t, "l0", "", &w), EINVAL, "l0");
	memset(target, 't', 1024);
	target[1024] = '\0';
	REFUSED(tree_symlink(t, "l1024", target, &w), ENAMETOOLONG, "l1024");
	REFUSED(tree_mknod(t, "n", 0, &reg), EINVAL, "n");
	REFUSED(tree_mknod(t, "n", makedev(5000, 1), &chr), EINVAL, "n");
	REFUSED(tree_setattr(t, "none", &w), ENOENT, "none");
	REFUSED(tree_readlink(t, "d/file", &b), EINVAL, "d/file");
	REFUSED(tree_read(t, "d", 100, &b), EISDIR, "d");
	REFUSED(tree_read(t, "d/file", 0, &b), EFBIG, "d/file");
	REFUSED(tree_list(t, "d/file", &names), ENOTDIR, "d/file");
	ATF_REQUIRE((dfd = open(".", O_RDONLY | O_DIRECTORY)) >= 0);
	REFUSED(tree_write_fd(t, "fromdir", dfd, &w), EINVAL, "fromdir");
	close(dfd);
	REFUSED(ffsw_add_file(t, "nofn", 5, NULL, NULL, &w), EINVAL, "nofn");
	{
		struct ffsw_meta m = { .flags = 1 };

		m.mtime.tv_nsec = 1000000000L;
		REFUSED(ffsw_setmeta(t, "d/file", &m), EINVAL, "d/file");
		REFUSED(ffsw_setmeta(t, "none", &m), EINVAL, "none");
		m.mtime.tv_nsec = 0;
		REFUSED(ffsw_setmeta(t, "none", &m), ENOENT, "none");
	}
	ATF_CHECK(tree_remove(t, "not/there") == 0 || errno == ENOENT);
	ATF_CHECK(tree_remove(t, "none") == 0);
	/* Nothing was made by the refusals. */
	ATF_REQUIRE(tree_list(t, "", &names) == 0);
	ATF_CHECK(names[0] != NULL && strcmp(names[0], "d") == 0);
	ATF_CHECK(names[1] != NULL && strcmp(names[1], n256) == 0);
	ATF_CHECK(names[2] == NULL);
	tree_freelist(names);
	ATF_REQUIRE(tree_list(t, "d", &names) == 0);
	ATF_CHECK(names[0] != NULL && strcmp(names[0], "file") == 0);
	ATF_CHECK(names[1] != NULL && strcmp(names[1], "link") == 0);
	ATF_CHECK(names[2] == NULL);
	tree_freelist(names);
	ATF_CHECK(tree_lstat(t, "d/link", &st) == 0 && S_ISLNK(st.st_mode));
	ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
	/* Synced again after a change: nothing of the first is left. */
	ATF_REQUIRE(tree_remove(t, "d") == 0);
	ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
	netbsd_check(tc, "names.img", expected(t), false);
	tree_close(t);
	close(fd);
	sbuf_free(&b);
}

/* A superblock's 32-bit field at byte off of the FFSv1 superblock. */
static int32_t
sb32(const char *img, off_t off)
{
	int32_t v;
	int fd;

	ATF_REQUIRE((fd = open(img, O_RDONLY)) >= 0);
	ATF_REQUIRE(pread(fd, &v, 4, 8192 + off) == 4);
	close(fd);
	return v;
}

ATF_TC(geometry_as_makefs);
ATF_TC_HEAD(geometry_as_makefs, tc)
{
	atf_tc_set_md_var(tc, "descr", "FFSv1 geometry as NetBSD's makefs "
	    "lays it out with the same sizes, density and free space: "
	    "cylinder groups, inodes and fragments a group, where each "
	    "area starts");
}
ATF_TC_BODY(geometry_as_makefs, tc)
{
	static const uint64_t sizes[] = { 8 << 20, 64 << 20, 300 << 20,
	    1100 << 20 };
	static const int offs[] = { 8, 12, 16, 20, 40, 44, 48, 52, 88, 156,
	    160, 184, 188, 1316, 1320 };
	struct ffsw_params p;
	char cmd[512];
	struct tree *t;
	size_t i, k;
	int fd;

	h_require_prog("makefs");
	ATF_REQUIRE(mkdir("empty", 0755) == 0);
	for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		ATF_REQUIRE(ffsw_params_for(sizes[i], 1, &p) == 0);
		ATF_CHECK_EQ(p.fsize, sizes[i] < (20 << 20) ? 512 :
		    sizes[i] < (1000ULL << 20) ? 1024 : 2048);
		ATF_CHECK_EQ(p.bsize, 8 * p.fsize);
		snprintf(cmd, sizeof(cmd), "makefs -t ffs -s %llu -o version=1,"
		    "bsize=%d,fsize=%d,density=%d,minfree=%d mk.img empty "
		    ">/dev/null", (unsigned long long)sizes[i], p.bsize,
		    p.fsize, p.density, p.minfree);
		ATF_REQUIRE_EQ(system(cmd), 0);
		t = writer("our.img", sizes[i], 1, false, &fd);
		ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
		tree_close(t);
		close(fd);
		for (k = 0; k < sizeof(offs) / sizeof(*offs); k++)
			ATF_CHECK_MSG(sb32("our.img", offs[k]) ==
			    sb32("mk.img", offs[k]), "%llu bytes: superblock "
			    "field at %d: ours %d, makefs's %d",
			    (unsigned long long)sizes[i], offs[k],
			    sb32("our.img", offs[k]), sb32("mk.img", offs[k]));
		unlink("mk.img");
		unlink("our.img");
	}
}

static int
cb_fail(void *ctx, uint64_t off, void *buf, size_t len)
{
	sr_seterr("the source went away at %llu", (unsigned long long)off);
	errno = EIO;
	return -1;
}

ATF_TC(content_errors);
ATF_TC_HEAD(content_errors, tc)
{
	atf_tc_set_md_var(tc, "descr", "A reader that fails and a host file "
	    "that shrank after it was given: the sync fails naming the "
	    "image and the path");
}
ATF_TC_BODY(content_errors, tc)
{
	struct tree_wopts w = wo(0644, 0, 0);
	struct tree *t;
	int fd, sfd;

	t = writer("c.img", 4 << 20, 1, false, &fd);
	dir(t, "a", 0755, 0, 0);
	ATF_REQUIRE(ffsw_add_file(t, "a/streamed", 10000, cb_fail, NULL,
	    &w) == 0);
	REFUSED(tree_sync(t), EIO, "c.img: a/streamed: reading its content: "
	    "the source went away at 0");
	ATF_REQUIRE(tree_remove(t, "a/streamed") == 0);
	ATF_REQUIRE((sfd = open("src", O_RDWR | O_CREAT | O_TRUNC, 0644)) >=
	    0);
	ATF_REQUIRE(write(sfd, "0123456789", 10) == 10);
	ATF_REQUIRE(tree_write_fd(t, "a/shrank", sfd, &w) == 0);
	ATF_REQUIRE(ftruncate(sfd, 4) == 0);
	close(sfd);
	REFUSED(tree_sync(t), EIO, "c.img: a/shrank: reading its content: "
	    "the file to copy became shorter");
	tree_close(t);
	close(fd);
}

ATF_TC(params_like_image);
ATF_TC_HEAD(params_like_image, tc)
{
	atf_tc_set_md_var(tc, "descr", "Parameters taken from an image "
	    "found by ffsimg_probe(): the same version, sizes, and at least "
	    "as many inodes");
}
ATF_TC_BODY(params_like_image, tc)
{
	struct ffsw_params p;
	struct ffsw_geom g;
	struct ffsimg fi;
	struct tree *t;
	int fd, v;

	for (v = 1; v <= 2; v++) {
		t = writer("old.img", 48 << 20, v, v == 2, &fd);
		ATF_REQUIRE(tree_sync(t) == 0);
		tree_close(t);
		close(fd);
		ATF_REQUIRE(ffsimg_probe("old.img", -1, &fi) == 0);
		ATF_REQUIRE(ffsw_params_like(&fi, &p) == 0);
		ATF_CHECK_EQ(p.version, v);
		ATF_CHECK_EQ(p.bsize, fi.bsize);
		ATF_CHECK_EQ(p.fsize, fi.fsize);
		ATF_CHECK_EQ(p.size, (uint64_t)fi.len);
		ATF_REQUIRE(ffsw_geometry(&p, &g) == 0);
		ATF_CHECK_MSG(g.inodes >= fi.inodes && g.inodes < fi.inodes *
		    11 / 10, "%llu inodes, %llu before",
		    (unsigned long long)g.inodes,
		    (unsigned long long)fi.inodes);
	}
}

/*
 * n entries below the root, of every type in turn (files of varied
 * lengths, links short and long, hard links, fifos, devices, empty
 * directories), a directory for each 100 of them.
 */
static void
entries(struct tree *t, int n)
{
	static char data[3000];
	char p[64], par[16] = "", first[64] = "";
	int i, made = 0;

	for (i = 0; i < (int)sizeof(data); i++)
		data[i] = pat((uint64_t)i, 5);
	for (i = 0; made < n; i++) {
		if (n >= 100 && i % 100 == 0) {
			snprintf(par, sizeof(par), "d%03d/", i / 100);
			snprintf(p, sizeof(p), "d%03d", i / 100);
			dir(t, p, 0755, (uid_t)i, 0);
			first[0] = '\0';
			if (++made == n)
				break;
		}
		snprintf(p, sizeof(p), "%se%05d", par, i);
		switch (first[0] == '\0' ? 0 : i % 8) {
		case 0:
		case 7:
			put(t, p, data + i % 100, (size_t)((i * 37 + 11) % 2900),
			    0644, (uid_t)(i % 70), (gid_t)(i % 11));
			if (first[0] == '\0')
				snprintf(first, sizeof(first), "%s", p);
			break;
		case 1:
			lnk(t, p, (size_t)(i % 200 + 1), (uid_t)i);
			break;
		case 2:
			ATF_REQUIRE_MSG(tree_link(t, first, p) == 0, "%s: %s",
			    p, sr_errmsg());
			break;
		case 3:
			node(t, p, S_IFIFO | 0600, 0, 1, 2);
			break;
		case 4:
			node(t, p, S_IFCHR | 0620, makedev((unsigned)i % 300,
			    (unsigned)i), 0, 4);
			break;
		case 5:
			node(t, p, S_IFBLK | 0640, makedev(19,
			    (unsigned)i * 3), 0, 5);
			break;
		case 6:
			dir(t, p, 0700, (uid_t)i, (gid_t)i);
			break;
		}
		made++;
	}
}

/* At most max bytes of the host file img are allocated (it is sparse). */
static void
small_on_disk(const char *img, uint64_t size, uint64_t max)
{
	struct stat st;

	ATF_REQUIRE(stat(img, &st) == 0);
	printf("%s: %llu bytes, %llu allocated\n", img,
	    (unsigned long long)size, (unsigned long long)st.st_blocks * 512);
	ATF_CHECK_EQ((uint64_t)st.st_size, size);
	ATF_CHECK_MSG((uint64_t)st.st_blocks * 512 <= max, "%s: %llu bytes "
	    "allocated, more than %llu", img,
	    (unsigned long long)st.st_blocks * 512, (unsigned long long)max);
}

/*
 * The writer's proof for one image: synced, it is small on disk, libtsk
 * reads back every entry as written, NetBSD's kernel lists the same and
 * its fsck finds it clean, and the kernel writes to it (ffs-check -w).
 */
static void
prove(const atf_tc_t *tc, struct tree *t, int fd, const char *img,
    uint64_t size, int version, uint64_t maxdisk)
{
	char *want;

	ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
	close(fd);
	small_on_disk(img, size, maxdisk);
	(void)tsk_check(img, t, version);
	want = expected(t);
	netbsd_check(tc, img, want, false);
	netbsd_check(tc, img, NULL, true);
	free(want);
	tree_close(t);
}

ATF_TC(entry_counts);
ATF_TC_HEAD(entry_counts, tc)
{
	atf_tc_set_md_var(tc, "descr", "Trees of 1, 100 and 10,000 entries "
	    "of every type, FFSv1 and FFSv2: libtsk reads each entry back, "
	    "NetBSD lists the same, passes fsck and writes to it");
	atf_tc_set_md_var(tc, "timeout", "900");
}
ATF_TC_BODY(entry_counts, tc)
{
	static const int counts[] = { 1, 100, 10000 };
	struct tree *t;
	size_t i;
	int fd, v;

	nfl = 0;
	for (v = 1; v <= 2; v++)
		for (i = 0; i < sizeof(counts) / sizeof(*counts); i++) {
			printf("FFSv%d, %d entries\n", v, counts[i]);
			t = writer("n.img", 128 << 20, v, false, &fd);
			entries(t, counts[i]);
			prove(tc, t, fd, "n.img", 128 << 20, v, 16 << 20);
		}
}

ATF_TC(five_hundred_dirs);
ATF_TC_HEAD(five_hundred_dirs, tc)
{
	atf_tc_set_md_var(tc, "descr", "500 directories (what breaks "
	    "Debian's makefs -o version=2) beside every kind of entry, in "
	    "many cylinder groups, FFSv1 and FFSv2");
	atf_tc_set_md_var(tc, "timeout", "600");
}
ATF_TC_BODY(five_hundred_dirs, tc)
{
	struct tree *t;
	int fd, v;

	for (v = 1; v <= 2; v++) {
		printf("FFSv%d\n", v);
		t = writer("d.img", 64 << 20, v, true, &fd);
		fill(t, 500);
		{
			struct stat st;

			ATF_REQUIRE(tree_lstat(t, "many", &st) == 0);
			ATF_CHECK_EQ(st.st_nlink, 502);
		}
		prove(tc, t, fd, "d.img", 64 << 20, v, 8 << 20);
	}
}

ATF_TC(image_sizes);
ATF_TC_HEAD(image_sizes, tc)
{
	atf_tc_set_md_var(tc, "descr", "Images of 1 MiB to 16 GiB, FFSv1 "
	    "and FFSv2, newfs's parameters for each size, every kind of "
	    "entry: sparse on disk, read back by libtsk and NetBSD");
	atf_tc_set_md_var(tc, "timeout", "1200");
}
ATF_TC_BODY(image_sizes, tc)
{
	static const uint64_t sizes[] = { 1 << 20, 19 << 20, 64 << 20,
	    1000ull << 20, 4ull << 30, 16ull << 30 };
	struct tree *t;
	size_t i;
	int fd, v;

	for (v = 1; v <= 2; v++)
		for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
			printf("FFSv%d, %llu bytes\n", v,
			    (unsigned long long)sizes[i]);
			t = writer("s.img", sizes[i], v, false, &fd);
			fill(t, 3);
			prove(tc, t, fd, "s.img", sizes[i], v, 4 << 20);
		}
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, v1_every_kind);
	ATF_TP_ADD_TC(tp, v2_every_kind);
	ATF_TP_ADD_TC(tp, v1_triple_indirect);
	ATF_TP_ADD_TC(tp, v2_triple_indirect);
	ATF_TP_ADD_TC(tp, block_sizes);
	ATF_TP_ADD_TC(tp, too_small);
	ATF_TP_ADD_TC(tp, bad_names);
	ATF_TP_ADD_TC(tp, geometry_as_makefs);
	ATF_TP_ADD_TC(tp, content_errors);
	ATF_TP_ADD_TC(tp, params_like_image);
	ATF_TP_ADD_TC(tp, entry_counts);
	ATF_TP_ADD_TC(tp, five_hundred_dirs);
	ATF_TP_ADD_TC(tp, image_sizes);
	return atf_no_error();
}
