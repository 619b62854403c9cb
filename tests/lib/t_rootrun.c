/*
 * rootrun_run(): setup-root's run through the library, as the tool makes
 * it: a directory root prepared in place, a dry run, a root built from
 * sources and rebuilt in place, and failures that leave nothing behind.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <unistd.h>

#include "h_util.h"
#include "guest/identity.h"
#include "guest/rootrun.h"

/* What the run logged and showed. */
struct seen {
	char	 log[8192];
	char	 shown[65536];
};

static void
logfn(void *ctx, enum sr_level level, const char *fmt, ...)
{
	struct seen *s = ctx;
	size_t n = strlen(s->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->log + n, sizeof(s->log) - n, fmt, ap);
	va_end(ap);
	strlcat(s->log, "\n", sizeof(s->log));
}

static void
showfn(void *ctx, const char *text, size_t len)
{
	struct seen *s = ctx;
	size_t n = strlen(s->shown);

	if (len > sizeof(s->shown) - n - 1)
		len = sizeof(s->shown) - n - 1;
	memcpy(s->shown + n, text, len);
	s->shown[n + len] = '\0';
}

/*
 * A job as setup-root makes it, its temporaries in ./tmp (TMPDIR): what
 * a run leaves there is seen.
 */
static void
job(struct rootrun *j, struct seen *s, const char *target)
{
	char tmp[PATH_MAX];

	memset(s, 0, sizeof(*s));
	(void)mkdir("tmp", 0700);
	ATF_REQUIRE(realpath("tmp", tmp) != NULL);
	setenv("TMPDIR", tmp, 1);
	rootrun_init(j);
	j->target = target;
	j->localdev = "/dev/rxbd2a";
	j->rp.sharedir = SR_SHARE;
	sr_setlog(logfn, s);
	j->show = showfn;
	j->showctx = s;
}

/* A sample root of shape (nb4, nb10) at dir, as the tools' tests make. */
static void
sample_root(const atf_tc_t *tc, const char *shape, const char *dir)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "sh %s/sample-root.sh %s %s",
	    atf_tc_get_config_var(tc, "srcdir"), shape, dir);
	ATF_REQUIRE(system(cmd) == 0);
}

/* Whether dir is empty (the run's temporaries all gone). */
static bool
empty_dir(const char *dir)
{
	struct dirent *d;
	DIR *dp;
	int n = 0;

	ATF_REQUIRE((dp = opendir(dir)) != NULL);
	while ((d = readdir(dp)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dp);
	return n == 0;
}

/* What "find DIR | sort" with each file's content hash says. */
static char *
digest(const char *dir)
{
	char cmd[512], *out;
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "cd %s && find . -print0 | sort -z | "
	    "xargs -0 stat -c '%%n %%F %%a %%u %%s' && find . -type f "
	    "-print0 | sort -z | xargs -0 md5sum", dir);
	ATF_REQUIRE((p = popen(cmd, "r")) != NULL);
	ATF_REQUIRE((out = calloc(1, 1 << 20)) != NULL);
	n = fread(out, 1, (1 << 20) - 1, p);
	out[n] = '\0';
	ATF_REQUIRE(pclose(p) == 0);
	return out;
}

ATF_TC(prepares_directory);
ATF_TC_HEAD(prepares_directory, tc)
{
	atf_tc_set_md_var(tc, "descr", "A directory root gets its kernel, "
	    "/dev, mount points, rc hook and identity; a rerun changes "
	    "nothing");
}
ATF_TC_BODY(prepares_directory, tc)
{
	struct rootrun j;
	struct seen s;
	struct stat a, b;
	const char *t;
	char *before;

	sample_root(tc, "nb4", "root");
	h_put("netbsd-XEN3_DOMU", "XEN3_DOMU kernel\n");
	job(&j, &s, "root");
	j.kernel = "netbsd-XEN3_DOMU";
	ATF_REQUIRE_MSG(rootrun_run(&j) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	ATF_CHECK_EQ(j.mode, ROOTRUN_DIR);
	ATF_CHECK(j.changes > 1);
	ATF_CHECK_STREQ(s.shown, "");
	ATF_CHECK_STREQ(h_text("root/netbsd-XEN3_DOMU"), "XEN3_DOMU kernel\n");
	ATF_REQUIRE(stat("root/netbsd-XEN3_DOMU", &a) == 0);
	ATF_REQUIRE(stat("root/netbsd", &b) == 0);
	ATF_CHECK_EQ(a.st_ino, b.st_ino);
	ATF_CHECK_STREQ(h_text("root/netbsd.orig"), "netbsd kernel\n");
	t = h_text("root/dev/MAKEDEV");
	ATF_CHECK(h_count_line(t, "\tmakedev xbd0 xbd1 xbd2 xbd3 xbd4 "
	    "xencons") == 1);
	ATF_REQUIRE(stat("root/dev/MAKEDEV", &a) == 0);
	ATF_CHECK_EQ(a.st_mode & 07777, 0555);
	ATF_REQUIRE(stat("root/usr/pkg", &a) == 0);
	ATF_CHECK(S_ISDIR(a.st_mode) && (a.st_mode & 07777) == 0755);
	ATF_REQUIRE(stat("root/emul", &a) == 0 && S_ISDIR(a.st_mode));
	ATF_REQUIRE(stat("root/local", &a) == 0 && S_ISDIR(a.st_mode));
	t = h_text("root/etc/rc.pre-hooks");
	ATF_CHECK(h_count_line(t, "_sr_rdev=/dev/rxbd2a") == 1);
	ATF_CHECK(h_count_line(h_text("root/etc/rc"), ". /etc/rc.pre-hooks") ==
	    1);
	t = h_text("root/" ID_ROOT);
	ATF_CHECK_EQ(strlen(t), ID_HEXLEN + 1);
	ATF_CHECK(strspn(t, "0123456789abcdef") == ID_HEXLEN);
	ATF_CHECK(access("root/" ID_MANIFEST, F_OK) == 0);
	ATF_CHECK(empty_dir("tmp"));

	before = digest("root");
	job(&j, &s, "root");
	j.kernel = "netbsd-XEN3_DOMU";
	ATF_REQUIRE_MSG(rootrun_run(&j) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	ATF_CHECK_EQ(j.changes, 0);
	ATF_CHECK_STREQ(digest("root"), before);
}

ATF_TC_WITHOUT_HEAD(dry_run_shows_and_writes_nothing);
ATF_TC_BODY(dry_run_shows_and_writes_nothing, tc)
{
	struct rootrun j;
	struct seen s;
	char *before;

	sample_root(tc, "nb10", "root");
	before = digest("root");
	job(&j, &s, "root");
	j.dryrun = true;
	ATF_REQUIRE_MSG(rootrun_run(&j) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	ATF_CHECK_EQ(j.mode, ROOTRUN_DIR);
	ATF_CHECK(j.changes > 0);
	/* The rc hook's diff, as the user reads it. */
	ATF_CHECK_MSG(strstr(s.shown, "+++ b/etc/rc\n") != NULL, "%s", s.shown);
	ATF_CHECK(strstr(s.shown, "+. /etc/rc.pre-hooks\n") != NULL);
	ATF_CHECK_STREQ(digest("root"), before);
	ATF_CHECK(empty_dir("tmp"));
}

ATF_TC_WITHOUT_HEAD(builds_and_rebuilds_ffs);
ATF_TC_BODY(builds_and_rebuilds_ffs, tc)
{
	struct rootrun j;
	struct seen s;
	struct ffsimg fi;
	char *const srcs[] = { "root", NULL };

	h_require_prog("makefs");
	sample_root(tc, "nb10", "root");
	job(&j, &s, "root.img");
	j.build = true;
	j.srcs = srcs;
	j.nsrc = 1;
	ATF_REQUIRE_MSG(rootrun_run(&j) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	ATF_CHECK_EQ(j.mode, ROOTRUN_BUILD);
	ATF_CHECK(j.entries > 10);
	ATF_CHECK(j.changes > 0);
	ATF_REQUIRE_MSG(ffsimg_probe("root.img", -1, &fi) == 0, "%s",
	    sr_errmsg());
	ATF_CHECK_EQ(fi.version, 1);
	ATF_CHECK(empty_dir("tmp"));

	/* Read with libtsk where this run cannot mount it: prepared. */
	if (geteuid() == 0 && attach_backend() == BACKEND_VND)
		return;
	job(&j, &s, "root.img");
	ATF_REQUIRE_MSG(rootrun_run(&j) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	ATF_CHECK_EQ(j.mode, ROOTRUN_REBUILD);
	ATF_CHECK_EQ(j.changes, 0);
	ATF_CHECK(empty_dir("tmp"));
}

/* Files in the work directory besides the fixtures named. */
static int
others(const char *const *keep)
{
	const char *const *k;
	struct dirent *d;
	DIR *dp;
	int n = 0;

	ATF_REQUIRE((dp = opendir(".")) != NULL);
	while ((d = readdir(dp)) != NULL) {
		for (k = keep; *k != NULL && strcmp(*k, d->d_name) != 0; k++)
			;
		if (*k == NULL) {
			fprintf(stderr, "left: %s\n", d->d_name);
			n++;
		}
	}
	closedir(dp);
	return n;
}

/*
 * An FFSv2 image of dir as NetBSD's newfs lays it out (superblock at
 * 64 KiB: Debian's makefs puts it where libtsk does not look), written
 * by the library's own writer.
 */
static void
ffsv2_image(const char *dir, const char *image, uint64_t size)
{
	struct ffsb_copy *c = ffsb_copy_new();
	struct ffsw_params p;
	struct ffsw_sink sink;
	struct tree *t, *src;
	int fd, dfd;

	ATF_REQUIRE(ffsw_params_for(size, 2, &p) == 0);
	ATF_REQUIRE((fd = open(image, O_RDWR | O_CREAT | O_TRUNC, 0644)) !=
	    -1);
	ffsw_sink_fd(&sink, fd, size, image);
	ATF_REQUIRE((t = tree_ffsw(&p, &sink, image)) != NULL);
	ATF_REQUIRE((dfd = open(dir, O_RDONLY | O_DIRECTORY)) != -1);
	ATF_REQUIRE((src = tree_dir(dfd, dir, TREE_RDONLY)) != NULL);
	close(dfd);
	ATF_REQUIRE_MSG(ffsb_copy(c, src, "", NULL, t, NULL) == 0, "%s",
	    sr_errmsg());
	ATF_REQUIRE_MSG(tree_sync(t) == 0, "%s", sr_errmsg());
	tree_close(t);
	ffsb_copy_free(c);
	tree_close(src);
	close(fd);
}

ATF_TC_WITHOUT_HEAD(rebuilds_ffs_in_place);
ATF_TC_BODY(rebuilds_ffs_in_place, tc)
{
	const char *const keep[] = { ".", "..", "root", "root.img", "v2.img",
	    "tmp", NULL };
	struct rootrun j;
	struct seen s;
	struct stat a, b;

	h_require_prog("makefs");
	if (geteuid() == 0 && attach_backend() == BACKEND_VND)
		atf_tc_skip("this host mounts FFS: no rebuild");
	sample_root(tc, "nb4", "root");
	ATF_REQUIRE(system("makefs -t ffs -s 16m root.img root >/dev/null") ==
	    0);
	ffsv2_image("root", "v2.img", 16 << 20);
	ATF_REQUIRE(stat("root.img", &a) == 0);
	job(&j, &s, "root.img");
	ATF_REQUIRE_MSG(rootrun_run(&j) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	ATF_CHECK_EQ(j.mode, ROOTRUN_REBUILD);
	ATF_CHECK(j.changes > 1);
	ATF_CHECK(j.entries > 10);
	ATF_CHECK(strstr(s.log, "rebuilt like itself and replaced") != NULL);
	/* A new file in the old one's place; nothing else left. */
	ATF_REQUIRE(stat("root.img", &b) == 0);
	ATF_CHECK(a.st_ino != b.st_ino);
	ATF_CHECK_EQ(others(keep), 0);
	ATF_CHECK(empty_dir("tmp"));
	/* Prepared: a rerun changes nothing and writes nothing. */
	job(&j, &s, "root.img");
	ATF_REQUIRE_MSG(rootrun_run(&j) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	ATF_CHECK_EQ(j.changes, 0);
	ATF_REQUIRE(stat("root.img", &a) == 0);
	ATF_CHECK_EQ(a.st_ino, b.st_ino);
	/* FFSv2 is rebuilt like itself too (no makefs), then left alone. */
	ATF_REQUIRE(stat("v2.img", &a) == 0);
	job(&j, &s, "v2.img");
	ATF_REQUIRE_MSG(rootrun_run(&j) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	ATF_CHECK(j.changes > 1);
	ATF_CHECK_EQ(j.src.fi.version, 2);
	ATF_REQUIRE(stat("v2.img", &b) == 0);
	ATF_CHECK(a.st_ino != b.st_ino);
	ATF_CHECK_EQ(others(keep), 0);
	ATF_CHECK(empty_dir("tmp"));
	job(&j, &s, "v2.img");
	ATF_REQUIRE_MSG(rootrun_run(&j) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	ATF_CHECK_EQ(j.changes, 0);
	ATF_CHECK_EQ(j.src.fi.version, 2);
	ATF_REQUIRE(stat("v2.img", &a) == 0);
	ATF_CHECK_EQ(a.st_ino, b.st_ino);
}

ATF_TC_WITHOUT_HEAD(failed_build_leaves_nothing);
ATF_TC_BODY(failed_build_leaves_nothing, tc)
{
	struct rootrun j;
	struct seen s;
	char *const srcs[] = { "root", "junk.img", NULL };

	sample_root(tc, "nb10", "root");
	h_put("junk.img", "not an image\n");
	job(&j, &s, "root.img");
	j.build = true;
	j.srcs = srcs;
	j.nsrc = 2;
	ATF_CHECK_EQ(rootrun_run(&j), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "junk.img: neither a directory, a set "
	    "(.tgz, .tar.xz, ...) nor an FFS image");
	/* The image being written, its file and stages are gone. */
	ATF_CHECK(j.out == NULL && j.outf.fd == -1 && j.copy == NULL &&
	    j.nstages == 0 && j.nsrcs == 0);
	ATF_CHECK(empty_dir("tmp"));
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	ATF_CHECK(access("root.img", F_OK) == -1);
	ATF_CHECK(strstr(s.log, "root: ") != NULL);
}

ATF_TC_WITHOUT_HEAD(refusals);
ATF_TC_BODY(refusals, tc)
{
	struct rootrun j;
	struct seen s;
	char *const srcs[] = { "root", NULL };

	ATF_REQUIRE(mkdir("root", 0755) == 0);
	h_put("root.img", "the old root\n");
	/* A root guests boot from is not replaced by surprise. */
	job(&j, &s, "root.img");
	j.build = true;
	j.srcs = srcs;
	j.nsrc = 1;
	ATF_CHECK_EQ(rootrun_run(&j), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "exists");
	ATF_CHECK_EQ(sr_errhint(), SR_HINT_REPLACE);
	ATF_CHECK_STREQ(h_text("root.img"), "the old root\n");
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	/* A partition of a directory. */
	job(&j, &s, "root");
	j.part = 1;
	ATF_CHECK_EQ(rootrun_run(&j), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "1: not an image");
	ATF_CHECK_EQ(sr_errhint(), SR_HINT_PARTITION);
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	/* What only root could mount. */
	if (geteuid() == 0)
		return;
	job(&j, &s, "root.img");
	ATF_CHECK_EQ(rootrun_run(&j), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "not an FFS image; mounting it needs "
	    "root");
	ATF_CHECK_EQ(sr_errhint(), SR_HINT_BUILDROOT);
	ATF_CHECK_EQ(rootrun_end(&j), 0);
	ATF_CHECK(empty_dir("tmp"));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, prepares_directory);
	ATF_TP_ADD_TC(tp, dry_run_shows_and_writes_nothing);
	ATF_TP_ADD_TC(tp, builds_and_rebuilds_ffs);
	ATF_TP_ADD_TC(tp, rebuilds_ffs_in_place);
	ATF_TP_ADD_TC(tp, failed_build_leaves_nothing);
	ATF_TP_ADD_TC(tp, refusals);
	return atf_no_error();
}
