/*
 * spec_write(): the mtree(8) specification makefs -F reads, exactly:
 * every entry in full, sorted by path, names vis(3)-encoded (white
 * space, glob characters, '\' and bytes that do not print, in octal).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "h_util.h"
#include "tree/spec.h"

/* Add an entry: path, type and mode, owner, time; a link or device. */
static void
add(struct spec *s, const char *path, mode_t mode, uid_t uid, gid_t gid,
    const char *link, unsigned long rmajor, unsigned long rminor)
{
	const struct spec_ent e = {
		.path = (char *)path, .mode = mode, .uid = uid, .gid = gid,
		.mtime = { .tv_sec = 1700000000, .tv_nsec = 5 },
		.link = (char *)link, .rmajor = rmajor, .rminor = rminor,
	};

	ATF_REQUIRE_EQ_MSG(spec_add(s, &e), 0, "%s", sr_errmsg());
}

/* spec_write() to a file, and what it holds. */
static char *
written(struct spec *s, int *rv)
{
	static char buf[8192];
	ssize_t n;
	int fd;

	ATF_REQUIRE((fd = open("spec", O_CREAT | O_RDWR | O_TRUNC, 0600)) >=
	    0);
	*rv = spec_write(s, fd);
	ATF_REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
	ATF_REQUIRE((n = read(fd, buf, sizeof(buf) - 1)) >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

ATF_TC_WITHOUT_HEAD(spec_write_each_type);
ATF_TC_BODY(spec_write_each_type, tc)
{
	struct spec s = { .v = NULL };
	int rv;

	/* Added out of order: written sorted, the root first. */
	add(&s, "etc/passwd", S_IFREG | 0644, 0, 0, NULL, 0, 0);
	add(&s, "dev/xbd0a", S_IFBLK | 0640, 0, 5, NULL, 142, 0);
	add(&s, "etc", S_IFDIR | 0755, 0, 0, NULL, 0, 0);
	add(&s, "dev/console", S_IFCHR | 0600, 0, 0, NULL, 0, 0);
	add(&s, ".", S_IFDIR | 0755, 0, 0, NULL, 0, 0);
	add(&s, "etc/localtime", S_IFLNK | 0755, 0, 0,
	    "/usr/share/zoneinfo/UTC", 0, 0);
	add(&s, "var/run/fifo", S_IFIFO | 0600, 1, 2, NULL, 0, 0);
	add(&s, "dev", S_IFDIR | 0755, 0, 0, NULL, 0, 0);
	add(&s, "var/spool/lock", S_IFDIR | 01775, 0, 8, NULL, 0, 0);
	ATF_CHECK_STREQ(written(&s, &rv), "#mtree\n"
	    ". type=dir uid=0 gid=0 mode=0755 time=1700000000.000000005\n"
	    "./dev type=dir uid=0 gid=0 mode=0755 time=1700000000.000000005\n"
	    "./dev/console type=char uid=0 gid=0 mode=0600 "
	    "time=1700000000.000000005 device=netbsd,0,0\n"
	    "./dev/xbd0a type=block uid=0 gid=5 mode=0640 "
	    "time=1700000000.000000005 device=netbsd,142,0\n"
	    "./etc type=dir uid=0 gid=0 mode=0755 time=1700000000.000000005\n"
	    "./etc/localtime type=link uid=0 gid=0 mode=0755 "
	    "time=1700000000.000000005 link=/usr/share/zoneinfo/UTC\n"
	    "./etc/passwd type=file uid=0 gid=0 mode=0644 "
	    "time=1700000000.000000005\n"
	    "./var/run/fifo type=fifo uid=1 gid=2 mode=0600 "
	    "time=1700000000.000000005\n"
	    "./var/spool/lock type=dir uid=0 gid=8 mode=1775 "
	    "time=1700000000.000000005\n");
	ATF_CHECK_EQ(rv, 0);
	spec_free(&s);
	ATF_CHECK(s.v == NULL && s.n == 0);
}

/*
 * Names as mtree reads them back: a space, a tab, a newline, the glob
 * characters *, ?, [ and #, a backslash and a byte that does not print,
 * each in octal; the link's target likewise.  And back again.
 */
/* Each name in the spec written, decoded by strunvis(3), is the name. */
static void
unvis_back(struct spec *s)
{
	char buf[8192], *line, *save = NULL, name[256];
	size_t i = 0;
	int rv;

	strlcpy(buf, written(s, &rv), sizeof(buf));
	ATF_REQUIRE_EQ(rv, 0);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (*line == '#')
			continue;
		line[strcspn(line, " ")] = '\0';
		ATF_REQUIRE(i < s->n);
		ATF_REQUIRE(strunvis(name, line + 2) >= 0);
		ATF_CHECK_STREQ(name, s->v[i].path);
		i++;
	}
	ATF_CHECK_EQ(i, s->n);
}

ATF_TC_WITHOUT_HEAD(spec_write_names_encoded);
ATF_TC_BODY(spec_write_names_encoded, tc)
{
	struct spec s = { .v = NULL };
	int rv;

	add(&s, "etc/a b", S_IFREG | 0644, 0, 0, NULL, 0, 0);
	add(&s, "etc/tab\there", S_IFREG | 0644, 0, 0, NULL, 0, 0);
	add(&s, "etc/new\nline", S_IFREG | 0644, 0, 0, NULL, 0, 0);
	add(&s, "etc/star*q?[x]#", S_IFREG | 0644, 0, 0, NULL, 0, 0);
	add(&s, "etc/back\\slash", S_IFREG | 0644, 0, 0, NULL, 0, 0);
	add(&s, "etc/caf\xe9", S_IFREG | 0644, 0, 0, NULL, 0, 0);
	add(&s, "etc/link", S_IFLNK | 0777, 0, 0, "my target\t*", 0, 0);
	add(&s, "etc/plain-name_1.2,3=4", S_IFREG | 0644, 0, 0, NULL, 0, 0);
	ATF_CHECK_STREQ(written(&s, &rv), "#mtree\n"
	    "./etc/a\\040b type=file uid=0 gid=0 mode=0644 "
	    "time=1700000000.000000005\n"
	    "./etc/back\\134slash type=file uid=0 gid=0 mode=0644 "
	    "time=1700000000.000000005\n"
	    "./etc/caf\\351 type=file uid=0 gid=0 mode=0644 "
	    "time=1700000000.000000005\n"
	    "./etc/link type=link uid=0 gid=0 mode=0777 "
	    "time=1700000000.000000005 link=my\\040target\\011\\052\n"
	    "./etc/new\\012line type=file uid=0 gid=0 mode=0644 "
	    "time=1700000000.000000005\n"
	    "./etc/plain-name_1.2,3=4 type=file uid=0 gid=0 mode=0644 "
	    "time=1700000000.000000005\n"
	    "./etc/star\\052q\\077\\133x]\\043 type=file uid=0 gid=0 "
	    "mode=0644 time=1700000000.000000005\n"
	    "./etc/tab\\011here type=file uid=0 gid=0 mode=0644 "
	    "time=1700000000.000000005\n");
	ATF_CHECK_EQ(rv, 0);
	unvis_back(&s);
	spec_free(&s);
}

/* A path added again (sources overlaid): the later entry, once. */
ATF_TC_WITHOUT_HEAD(spec_write_later_entry_wins);
ATF_TC_BODY(spec_write_later_entry_wins, tc)
{
	struct spec s = { .v = NULL };
	const struct spec_ent *e;
	int rv;

	add(&s, "etc/motd", S_IFREG | 0644, 0, 0, NULL, 0, 0);
	add(&s, "etc/rc", S_IFREG | 0755, 0, 0, NULL, 0, 0);
	add(&s, "etc/motd", S_IFLNK | 0777, 3, 4, "motd.local", 0, 0);
	ATF_CHECK_STREQ(written(&s, &rv), "#mtree\n"
	    "./etc/motd type=link uid=3 gid=4 mode=0777 "
	    "time=1700000000.000000005 link=motd.local\n"
	    "./etc/rc type=file uid=0 gid=0 mode=0755 "
	    "time=1700000000.000000005\n");
	ATF_CHECK_EQ(rv, 0);
	ATF_REQUIRE((e = spec_get(&s, "etc/motd")) != NULL);
	ATF_CHECK(S_ISLNK(e->mode) && e->uid == 3);
	ATF_CHECK(spec_get(&s, "etc/none") == NULL);
	spec_free(&s);
}

/* What cannot be described, or written, fails saying so: nothing half. */
ATF_TC_WITHOUT_HEAD(spec_write_refusals);
ATF_TC_BODY(spec_write_refusals, tc)
{
	struct spec s = { .v = NULL };
	int rv, fd;

	add(&s, "etc/rc", S_IFREG | 0755, 0, 0, NULL, 0, 0);
	add(&s, "etc/odd", 0644, 0, 0, NULL, 0, 0);
	ATF_CHECK_STREQ(written(&s, &rv), "");
	ATF_CHECK_EQ(rv, -1);
	ATF_CHECK_STREQ(sr_errmsg(), "etc/odd: spec: cannot describe this "
	    "entry");
	spec_free(&s);
	add(&s, "etc/rc", S_IFREG | 0755, 0, 0, NULL, 0, 0);
	ATF_REQUIRE((fd = open("spec", O_RDONLY)) >= 0);
	ATF_CHECK_EQ(spec_write(&s, fd), -1);
	ATF_CHECK_STREQ(sr_errmsg(), "spec: write: Bad file descriptor");
	close(fd);
	spec_free(&s);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, spec_write_each_type);
	ATF_TP_ADD_TC(tp, spec_write_names_encoded);
	ATF_TP_ADD_TC(tp, spec_write_later_entry_wins);
	ATF_TP_ADD_TC(tp, spec_write_refusals);
	return atf_no_error();
}
