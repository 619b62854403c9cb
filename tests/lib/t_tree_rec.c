/*
 * tree_recording(): a stage filled as its user can, and an mtree spec
 * of what each path truly is; and the spec functions it stands on.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "h_util.h"
#include "plan/plan.h"
#include "tree/entset.h"
#include "tree/spec.h"
#include "tree/tree.h"

/* Owners no test user has: only a spec can hold them. */
#define UID	4321
#define GID	8765

static void
put(const char *path, const char *text, mode_t mode)
{
	int fd;

	ATF_REQUIRE((fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode)) >= 0);
	ATF_REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	ATF_REQUIRE(chmod(path, mode) == 0);
}

/* Note in s what a copy staged: path, type and mode, owner, time. */
static void
copied(struct spec *s, const char *path, mode_t mode, uid_t uid, gid_t gid,
    time_t mtime)
{
	struct spec_ent e = { .path = (char *)path, .mode = mode, .uid = uid,
	    .gid = gid, .mtime = { mtime, 0 } };

	ATF_REQUIRE(spec_add(s, &e) == 0);
}

/*
 * A stage "s" as copy_trees() leaves it for an ordinary user: files 0600
 * and directories 0700 on disk, their true owners and modes in the spec.
 */
static struct tree *
stage(struct spec *s)
{
	struct tree *t;
	int fd;

	ATF_REQUIRE(mkdir("s", 0700) == 0);
	ATF_REQUIRE(mkdir("s/etc", 0700) == 0);
	ATF_REQUIRE(mkdir("s/dev", 0700) == 0);
	put("s/etc/rc", "#!/bin/sh\n", 0600);
	put("s/dev/MAKEDEV", "#!/bin/sh\n", 0600);
	copied(s, "etc", S_IFDIR | 0755, 0, 0, 100);
	copied(s, "etc/rc", S_IFREG | 0644, UID, GID, 200);
	copied(s, "dev", S_IFDIR | 0755, 0, 0, 300);
	copied(s, "dev/MAKEDEV", S_IFREG | 0555, 0, 5, 400);
	ATF_REQUIRE((fd = open("s", O_RDONLY | O_DIRECTORY)) >= 0);
	t = tree_recording(tree_dir(fd, "s", TREE_NOSYNC), s);
	close(fd);
	ATF_REQUIRE_MSG(t != NULL, "%s", sr_errmsg());
	return t;
}

/* The spec's entry for path is of mode (type and bits), uid and gid. */
static const struct spec_ent *
check_ent(struct spec *s, const char *path, mode_t mode, uid_t uid,
    gid_t gid)
{
	const struct spec_ent *e = spec_get(s, path);

	ATF_REQUIRE_MSG(e != NULL, "%s: not in the spec", path);
	ATF_CHECK_EQ_MSG(e->mode, mode, "%s: mode %o, not %o", path,
	    (unsigned)e->mode, (unsigned)mode);
	ATF_CHECK_EQ_MSG(e->uid, uid, "%s: uid %u", path, (unsigned)e->uid);
	ATF_CHECK_EQ_MSG(e->gid, gid, "%s: gid %u", path, (unsigned)e->gid);
	return e;
}

/* lstat through the tree says mode, uid and gid. */
static void
check_stat(struct tree *t, const char *path, mode_t mode, uid_t uid,
    gid_t gid)
{
	struct stat st;

	ATF_REQUIRE_MSG(tree_lstat(t, path, &st) == 0, "%s: %s", path,
	    sr_errmsg());
	ATF_CHECK_EQ_MSG(st.st_mode, mode, "%s: lstat mode %o, not %o", path,
	    (unsigned)st.st_mode, (unsigned)mode);
	ATF_CHECK_EQ_MSG(st.st_uid, uid, "%s: lstat uid %u", path,
	    (unsigned)st.st_uid);
	ATF_CHECK_EQ_MSG(st.st_gid, gid, "%s: lstat gid %u", path,
	    (unsigned)st.st_gid);
}

ATF_TC_WITHOUT_HEAD(rec_lstat_answers_from_spec);
ATF_TC_BODY(rec_lstat_answers_from_spec, tc)
{
	struct spec s = { 0 };
	struct tree *t = stage(&s);
	struct stat st;

	/* On disk: the stager's 0600; through the tree: the true 0644. */
	ATF_REQUIRE(lstat("s/etc/rc", &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0600);
	check_stat(t, "etc/rc", S_IFREG | 0644, UID, GID);
	check_stat(t, "etc", S_IFDIR | 0755, 0, 0);
	/* Not in the spec: the stage's own. */
	put("s/etc/new", "x", 0640);
	check_stat(t, "etc/new", S_IFREG | 0640, getuid(), getgid());
	/* The contents are the stage's. */
	{
		struct sbuf b = { 0 };

		ATF_REQUIRE(tree_read(t, "etc/rc", 1024, &b) == 0);
		ATF_CHECK(b.len == 10 && memcmp(b.s, "#!/bin/sh\n", 10) == 0);
		sbuf_free(&b);
	}
	ATF_CHECK(tree_lstat(t, "etc/none", &st) == -1 && errno == ENOENT);
	tree_close(t);
	spec_free(&s);
}

ATF_TC_WITHOUT_HEAD(rec_writes_noted);
ATF_TC_BODY(rec_writes_noted, tc)
{
	const struct tree_wopts dwo = { .mode = 0750, .uid = UID, .gid = GID },
	    fwo = { .mode = 04711, .uid = UID, .gid = GID },
	    lwo = { .mode = 0755, .uid = 0, .gid = 7 };
	struct spec s = { 0 };
	struct tree *t = stage(&s);
	const struct spec_ent *e;
	struct stat st;
	int fd;

	ATF_REQUIRE(tree_mkdir(t, "home", &dwo) == 0);
	ATF_REQUIRE(tree_write(t, "home/tool", "abc", 3, &fwo) == 0);
	ATF_REQUIRE(tree_symlink(t, "etc/localtime", "/usr/share/zoneinfo/UTC",
	    &lwo) == 0);
	ATF_REQUIRE((fd = open("s/etc/rc", O_RDONLY)) >= 0);
	ATF_REQUIRE(tree_write_fd(t, "etc/rc.copy", fd, &dwo) == 0);
	close(fd);
	check_ent(&s, "home", S_IFDIR | 0750, UID, GID);
	e = check_ent(&s, "home/tool", S_IFREG | 04711, UID, GID);
	/* The time is the file's, as written. */
	ATF_REQUIRE(lstat("s/home/tool", &st) == 0);
	ATF_CHECK(e->mtime.tv_sec == st.st_mtim.tv_sec &&
	    e->mtime.tv_nsec == st.st_mtim.tv_nsec);
	e = check_ent(&s, "etc/localtime", S_IFLNK | 0755, 0, 7);
	ATF_CHECK_STREQ(e->link, "/usr/share/zoneinfo/UTC");
	check_ent(&s, "etc/rc.copy", S_IFREG | 0750, UID, GID);
	/* The stage holds the contents, whoever runs the test. */
	ATF_REQUIRE(lstat("s/etc/rc.copy", &st) == 0 && st.st_size == 10);
	ATF_REQUIRE(lstat("s/home/tool", &st) == 0 && st.st_size == 3);
	check_stat(t, "home/tool", S_IFREG | 04711, UID, GID);
	check_stat(t, "etc/localtime", S_IFLNK | 0755, 0, 7);
	/* Written again: the later owner and mode. */
	ATF_REQUIRE(tree_write(t, "home/tool", "d", 1, &lwo) == 0);
	check_ent(&s, "home/tool", S_IFREG | 0755, 0, 7);
	tree_close(t);
	spec_free(&s);
}

ATF_TC_WITHOUT_HEAD(rec_device_nodes_in_spec_alone);
ATF_TC_BODY(rec_device_nodes_in_spec_alone, tc)
{
	const struct tree_wopts bwo = { .mode = S_IFBLK | 0640, .uid = 0,
	    .gid = 5 }, cwo = { .mode = S_IFCHR | 0666 },
	    pwo = { .mode = S_IFIFO | 0620, .uid = UID, .gid = GID },
	    awo = { .mode = 0600, .uid = UID, .gid = 0 };
	struct spec s = { 0 };
	struct tree *t = stage(&s);
	const struct spec_ent *e;
	struct stat st;
	char **names = NULL;

	ATF_REQUIRE(tree_mknod(t, "dev/wd0a", makedev(0, 0), &bwo) == 0);
	ATF_REQUIRE(tree_mknod(t, "dev/null", makedev(2, 2), &cwo) == 0);
	e = check_ent(&s, "dev/wd0a", S_IFBLK | 0640, 0, 5);
	ATF_CHECK(e->rmajor == 0 && e->rminor == 0);
	e = check_ent(&s, "dev/null", S_IFCHR | 0666, 0, 0);
	ATF_CHECK(e->rmajor == 2 && e->rminor == 2);
	/* Never on disk, as root or not; through the tree, as it will be. */
	ATF_CHECK(lstat("s/dev/null", &st) == -1 && errno == ENOENT);
	ATF_REQUIRE(tree_lstat(t, "dev/null", &st) == 0);
	ATF_CHECK(S_ISCHR(st.st_mode) && st.st_rdev == makedev(2, 2));
	ATF_CHECK_EQ(st.st_mode & 07777, 0666);
	ATF_CHECK_EQ(tree_exists(t, "dev/wd0a"), 0);
	ATF_REQUIRE(tree_list(t, "dev", &names) == 0);
	ATF_REQUIRE(names[0] && names[1] && names[2] && !names[3]);
	ATF_CHECK_STREQ(names[0], "MAKEDEV");
	ATF_CHECK_STREQ(names[1], "null");
	ATF_CHECK_STREQ(names[2], "wd0a");
	tree_freelist(names);
	/* One there already: refused. */
	ATF_CHECK_EQ(tree_mknod(t, "dev/null", makedev(2, 2), &cwo), -1);
	ATF_CHECK_EQ(errno, EEXIST);
	ATF_CHECK_EQ(tree_mknod(t, "dev/MAKEDEV", makedev(2, 2), &cwo), -1);
	ATF_CHECK_EQ(tree_mknod(t, "nodir/null", makedev(2, 2), &cwo), -1);
	ATF_CHECK(spec_get(&s, "nodir/null") == NULL);
	/* Its owner and mode changed in the spec alone. */
	ATF_REQUIRE(tree_setattr(t, "dev/wd0a", &awo) == 0);
	e = check_ent(&s, "dev/wd0a", S_IFBLK | 0600, UID, 0);
	ATF_CHECK(lstat("s/dev/wd0a", &st) == -1);
	/* A fifo its user can make: on disk too. */
	ATF_REQUIRE(tree_mknod(t, "dev/initctl", 0, &pwo) == 0);
	ATF_REQUIRE(lstat("s/dev/initctl", &st) == 0 && S_ISFIFO(st.st_mode));
	check_ent(&s, "dev/initctl", S_IFIFO | 0620, UID, GID);
	/* Removed: gone from the spec. */
	ATF_REQUIRE(tree_remove(t, "dev/wd0a") == 0);
	ATF_CHECK(spec_get(&s, "dev/wd0a") == NULL);
	ATF_CHECK(tree_lstat(t, "dev/wd0a", &st) == -1 && errno == ENOENT);
	ATF_CHECK(spec_get(&s, "dev/null") != NULL);
	tree_close(t);
	spec_free(&s);
}

ATF_TC_WITHOUT_HEAD(rec_remove_drops_subtree);
ATF_TC_BODY(rec_remove_drops_subtree, tc)
{
	const struct tree_wopts dwo = { .mode = 0755 }, fwo = { .mode = 0644 },
	    cwo = { .mode = S_IFCHR | 0600 };
	static const char *const gone[] = { "var/db", "var/db/pkg",
	    "var/db/pkg/x", "var/db/null", NULL };
	static const char *const kept[] = { "var", "var/db-old", "var/db.d",
	    "var/dbx", "var/db-old/f", NULL };
	struct spec s = { 0 };
	struct tree *t = stage(&s);
	struct stat st;
	size_t i;

	ATF_REQUIRE(tree_mkdir(t, "var", &dwo) == 0);
	ATF_REQUIRE(tree_mkdir(t, "var/db", &dwo) == 0);
	ATF_REQUIRE(tree_mkdir(t, "var/db/pkg", &dwo) == 0);
	ATF_REQUIRE(tree_write(t, "var/db/pkg/x", "x", 1, &fwo) == 0);
	ATF_REQUIRE(tree_mknod(t, "var/db/null", makedev(2, 2), &cwo) == 0);
	/* Names that sort among var/db's, and are not below it. */
	ATF_REQUIRE(tree_mkdir(t, "var/db-old", &dwo) == 0);
	ATF_REQUIRE(tree_write(t, "var/db-old/f", "f", 1, &fwo) == 0);
	ATF_REQUIRE(tree_write(t, "var/db.d", "d", 1, &fwo) == 0);
	ATF_REQUIRE(tree_write(t, "var/dbx", "x", 1, &fwo) == 0);
	ATF_REQUIRE(tree_remove(t, "var/db") == 0);
	for (i = 0; gone[i] != NULL; i++)
		ATF_CHECK_MSG(spec_get(&s, gone[i]) == NULL, "%s: still in "
		    "the spec", gone[i]);
	for (i = 0; kept[i] != NULL; i++)
		ATF_CHECK_MSG(spec_get(&s, kept[i]) != NULL, "%s: dropped",
		    kept[i]);
	ATF_CHECK(lstat("s/var/db", &st) == -1 && errno == ENOENT);
	ATF_CHECK(lstat("s/var/db-old/f", &st) == 0);
	/* A path neither holds: fine, as for any tree. */
	ATF_CHECK_EQ(tree_remove(t, "var/none"), 0);
	tree_close(t);
	spec_free(&s);
}

/* What remove answers through t: not there is done already (tree.h). */
static void
check_remove_not_there(struct tree *t, struct spec *s)
{
	size_t n = s->n;

	ATF_CHECK_EQ_MSG(tree_remove(t, "etc/never"), 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(tree_remove(t, "never"), 0);
	ATF_CHECK_EQ(tree_remove(t, "usr/never"), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_EQ(tree_remove(t, "etc/rc/never"), -1);
	ATF_CHECK_EQ(errno, ENOTDIR);
	ATF_CHECK_EQ(tree_remove(t, ""), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_EQ(s->n, n);
	ATF_CHECK(spec_get(s, "etc/rc") != NULL);
	/* Twice: the second finds it gone, in the tree and the spec. */
	ATF_CHECK_EQ(tree_remove(t, "etc/rc"), 0);
	ATF_CHECK_EQ(tree_remove(t, "etc/rc"), 0);
	ATF_CHECK(spec_get(s, "etc/rc") == NULL);
	ATF_CHECK(tree_exists(t, "etc/rc") == 1);
}

/* The same answer over a host directory and over a tree in memory. */
ATF_TC_WITHOUT_HEAD(rec_remove_not_there);
ATF_TC_BODY(rec_remove_not_there, tc)
{
	const struct tree_wopts cwo = { .mode = S_IFCHR | 0600 };
	const struct tree_wopts dwo = { .mode = 0755 }, fwo = { .mode = 0644 };
	struct spec s = { 0 }, ms = { 0 };
	struct entset set = { 0 };
	struct tree *t = stage(&s);
	struct stat st;

	check_remove_not_there(t, &s);
	ATF_CHECK(lstat("s/etc/rc", &st) == -1 && errno == ENOENT);
	ATF_CHECK(lstat("s/etc", &st) == 0);
	/* A device node the spec alone holds: then not there. */
	ATF_REQUIRE(tree_mknod(t, "dev/null", makedev(2, 2), &cwo) == 0);
	ATF_CHECK_EQ(tree_remove(t, "dev/null"), 0);
	ATF_CHECK(spec_get(&s, "dev/null") == NULL);
	ATF_CHECK_EQ(tree_remove(t, "dev/null"), 0);
	tree_close(t);
	spec_free(&s);

	ATF_REQUIRE((t = tree_recording(tree_mem(&set), &ms)) != NULL);
	ATF_REQUIRE(tree_mkdir(t, "etc", &dwo) == 0);
	ATF_REQUIRE(tree_write(t, "etc/rc", "rc\n", 3, &fwo) == 0);
	check_remove_not_there(t, &ms);
	ATF_CHECK(entset_get(&set, "etc/rc")->gone);
	tree_close(t);
	spec_free(&ms);
	entset_free(&set);
}

ATF_TC_WITHOUT_HEAD(rec_link_and_orig_take_the_original);
ATF_TC_BODY(rec_link_and_orig_take_the_original, tc)
{
	const struct tree_wopts wo = { .mode = 0700, .uid = 1, .gid = 2,
	    .keep_orig = true }, kwo = { .mode = 0555, .uid = 0, .gid = 0 };
	struct spec s = { 0 };
	struct tree *t = stage(&s);
	const struct spec_ent *e;
	struct stat a, b;

	/* A second name is what the first is: owner, mode and time. */
	ATF_REQUIRE(tree_write(t, "netbsd-XEN3", "kernel", 6, &kwo) == 0);
	ATF_REQUIRE(tree_link(t, "netbsd-XEN3", "netbsd") == 0);
	check_ent(&s, "netbsd", S_IFREG | 0555, 0, 0);
	ATF_REQUIRE(lstat("s/netbsd", &a) == 0 && lstat("s/netbsd-XEN3",
	    &b) == 0);
	ATF_CHECK(a.st_ino == b.st_ino);
	ATF_REQUIRE(tree_link(t, "etc/rc", "etc/rc.link") == 0);
	e = check_ent(&s, "etc/rc.link", S_IFREG | 0644, UID, GID);
	ATF_CHECK_EQ(e->mtime.tv_sec, 200);
	/* An edit keeping the original: NAME.orig is what etc/rc was. */
	ATF_REQUIRE(tree_write(t, "etc/rc", "new\n", 4, &wo) == 0);
	check_ent(&s, "etc/rc", S_IFREG | 0700, 1, 2);
	e = check_ent(&s, "etc/rc.orig", S_IFREG | 0644, UID, GID);
	ATF_CHECK_EQ(e->mtime.tv_sec, 200);
	ATF_REQUIRE(lstat("s/etc/rc.orig", &a) == 0 && a.st_size == 10);
	/* Once: a second edit leaves the first original as it was. */
	ATF_REQUIRE(tree_write(t, "etc/rc", "newer\n", 6, &wo) == 0);
	check_ent(&s, "etc/rc.orig", S_IFREG | 0644, UID, GID);
	/* keep_orig alone: the same. */
	ATF_REQUIRE(tree_keep_orig(t, "dev/MAKEDEV") == 0);
	e = check_ent(&s, "dev/MAKEDEV.orig", S_IFREG | 0555, 0, 5);
	ATF_CHECK_EQ(e->mtime.tv_sec, 400);
	/* A directory has no original kept. */
	ATF_REQUIRE(tree_keep_orig(t, "etc") == 0);
	ATF_CHECK(spec_get(&s, "etc.orig") == NULL);
	ATF_CHECK(lstat("s/etc.orig", &a) == -1);
	tree_close(t);
	spec_free(&s);
}

ATF_TC_WITHOUT_HEAD(rec_setattr_noted);
ATF_TC_BODY(rec_setattr_noted, tc)
{
	const struct tree_wopts wo = { .mode = 0711, .uid = UID, .gid = 3 },
	    lwo = { .mode = 0755 };
	struct spec s = { 0 };
	struct tree *t = stage(&s);
	const struct spec_ent *e;

	ATF_REQUIRE(tree_setattr(t, "etc/rc", &wo) == 0);
	e = check_ent(&s, "etc/rc", S_IFREG | 0711, UID, 3);
	/* The time stays the copied file's. */
	ATF_CHECK_EQ(e->mtime.tv_sec, 200);
	ATF_REQUIRE(tree_setattr(t, "etc", &wo) == 0);
	check_ent(&s, "etc", S_IFDIR | 0711, UID, 3);
	check_stat(t, "etc", S_IFDIR | 0711, UID, 3);
	/* A link's owner changes, its mode does not. */
	ATF_REQUIRE(tree_symlink(t, "etc/l", "rc", &lwo) == 0);
	ATF_REQUIRE(tree_setattr(t, "etc/l", &wo) == 0);
	e = check_ent(&s, "etc/l", S_IFLNK | 0755, UID, 3);
	ATF_CHECK_STREQ(e->link, "rc");
	ATF_CHECK_EQ(tree_setattr(t, "etc/none", &wo), -1);
	ATF_CHECK(spec_get(&s, "etc/none") == NULL);
	tree_close(t);
	spec_free(&s);
}

/* What a walk through the tree meets: "path mode uid" lines. */
static int
walked(void *arg, const char *rel, const struct stat *st)
{
	return sbuf_printf(arg, "%s %o %u\n", rel, (unsigned)st->st_mode,
	    (unsigned)st->st_uid) == -1 ? -1 : 0;
}

ATF_TC_WITHOUT_HEAD(rec_walk_sees_the_image);
ATF_TC_BODY(rec_walk_sees_the_image, tc)
{
	const struct tree_wopts cwo = { .mode = S_IFCHR | 0600 };
	struct spec s = { 0 };
	struct tree *t = stage(&s);
	struct sbuf b = { 0 };
	char want[512];

	ATF_REQUIRE(tree_mknod(t, "dev/console", makedev(0, 0), &cwo) == 0);
	ATF_REQUIRE(tree_walk(t, "dev", false, walked, &b) == 0);
	ATF_REQUIRE(tree_walk(t, "etc", false, walked, &b) == 0);
	snprintf(want, sizeof(want), "dev 40755 0\ndev/MAKEDEV 100555 0\n"
	    "dev/console 20600 0\netc 40755 0\netc/rc 100644 %u\n", UID);
	ATF_CHECK_STREQ(b.s, want);
	sbuf_free(&b);
	tree_close(t);
	spec_free(&s);
}

/*
 * "" is the root, as a host directory's: the stage's, with the owner
 * and mode the spec gives the image's root (".").
 */
ATF_TC_WITHOUT_HEAD(rec_walk_root);
ATF_TC_BODY(rec_walk_root, tc)
{
	const struct tree_wopts cwo = { .mode = S_IFBLK | 0640, .gid = 5 };
	struct spec s = { 0 };
	struct tree *t = stage(&s);
	struct sbuf b = { 0 };
	struct stat st, host;
	char want[512];

	/* Without "." in the spec: what the stage is. */
	ATF_REQUIRE(stat("s", &host) == 0);
	ATF_REQUIRE_MSG(tree_lstat(t, "", &st) == 0, "%s", sr_errmsg());
	ATF_CHECK_EQ(st.st_mode, host.st_mode);
	ATF_CHECK_EQ(st.st_uid, host.st_uid);
	ATF_CHECK_EQ(st.st_ino, host.st_ino);
	copied(&s, ".", S_IFDIR | 0755, 0, 0, 50);
	ATF_REQUIRE(tree_mknod(t, "wd0a", makedev(3, 0), &cwo) == 0);
	ATF_REQUIRE_MSG(tree_walk(t, "", false, walked, &b) == 0, "%s",
	    sr_errmsg());
	snprintf(want, sizeof(want), " 40755 0\ndev 40755 0\n"
	    "dev/MAKEDEV 100555 0\netc 40755 0\netc/rc 100644 %u\n"
	    "wd0a 60640 0\n", UID);
	ATF_CHECK_STREQ(b.s, want);
	sbuf_free(&b);
	tree_close(t);
	spec_free(&s);
}

ATF_TC_WITHOUT_HEAD(rec_plan_apply_records_the_plan);
ATF_TC_BODY(rec_plan_apply_records_the_plan, tc)
{
	const struct tree_wopts cgd = { .mode = 0700, .uid = 0, .gid = 0 },
	    key = { .mode = 0600 }, attr = { .mode = 0640, .uid = 0, .gid = 5 },
	    lnk = { .mode = 0755, .uid = UID, .gid = GID },
	    cwo = { .mode = S_IFCHR | 0600 };
	struct tree_wopts edit = { .keep_orig = true };
	struct spec s = { 0 };
	struct tree *t = stage(&s);
	struct plan p = { 0 };
	struct stat st;
	char *text;

	ATF_REQUIRE(tree_mknod(t, "dev/console", makedev(0, 0), &cwo) == 0);
	/* An edit takes the owner and mode of what it replaces, as read. */
	ATF_REQUIRE(tree_lstat(t, "etc/rc", &st) == 0);
	edit.mode = st.st_mode & 07777;
	edit.uid = st.st_uid;
	edit.gid = st.st_gid;
	ATF_REQUIRE((text = strdup("#!/bin/sh\n# edited\n")) != NULL);
	ATF_REQUIRE(plan_write(&p, "etc/rc", NULL, text, strlen(text),
	    &edit) == 0);
	ATF_REQUIRE(plan_mkdir_as(&p, "etc/cgd", &cgd) == 0);
	ATF_REQUIRE((text = strdup("key\n")) != NULL);
	ATF_REQUIRE(plan_write(&p, "etc/cgd/xbd1a", NULL, text, 4, &key) == 0);
	ATF_REQUIRE(plan_link(&p, "etc/rc.link", "etc/rc", false) == 0);
	ATF_REQUIRE(plan_symlink(&p, "etc/motd", "motd.local", &lnk) == 0);
	ATF_REQUIRE(plan_attr(&p, "dev/MAKEDEV", &attr) == 0);
	ATF_REQUIRE(plan_remove(&p, "dev/console") == 0);
	ATF_REQUIRE(plan_mkdir(&p, "usr", 0755) == 0);
	ATF_REQUIRE_MSG(plan_apply(&p, t) == 0, "%s",
	    sr_errmsg());
	check_ent(&s, "etc/rc", S_IFREG | 0644, UID, GID);
	check_ent(&s, "etc/rc.orig", S_IFREG | 0644, UID, GID);
	check_ent(&s, "etc/cgd", S_IFDIR | 0700, 0, 0);
	check_ent(&s, "etc/cgd/xbd1a", S_IFREG | 0600, 0, 0);
	check_ent(&s, "etc/rc.link", S_IFREG | 0644, UID, GID);
	check_ent(&s, "etc/motd", S_IFLNK | 0755, UID, GID);
	check_ent(&s, "dev/MAKEDEV", S_IFREG | 0640, 0, 5);
	check_ent(&s, "usr", S_IFDIR | 0755, 0, 0);
	ATF_CHECK(spec_get(&s, "dev/console") == NULL);
	/* Read back through the tree: what the image will hold. */
	check_stat(t, "etc/rc", S_IFREG | 0644, UID, GID);
	check_stat(t, "etc/cgd", S_IFDIR | 0700, 0, 0);
	plan_free(&p);
	tree_close(t);
	spec_free(&s);
}

#ifdef __NetBSD__
#define MOUNT_TMPFS	"mount_tmpfs -s 64k tmpfs full"
#else
#define MOUNT_TMPFS	"mount -t tmpfs -o size=64k tmpfs full"
#endif

/* A plan of 300 KiB to write: a directory, then two files. */
static void
big_plan(struct plan *p)
{
	const struct tree_wopts wo = { .mode = 0644 };
	char *a, *b;

	ATF_REQUIRE((a = calloc(1, 200 << 10)) != NULL &&
	    (b = calloc(1, 100 << 10)) != NULL);
	ATF_REQUIRE(plan_mkdir(p, "etc", 0755) == 0);
	ATF_REQUIRE(plan_write_data(p, "etc/big", a, 200 << 10, &wo) == 0);
	ATF_REQUIRE(plan_write_data(p, "etc/more", b, 100 << 10, &wo) == 0);
}

/*
 * A plan applied through a recording tree on a full file system says
 * where, what is free and what the rest of the plan needs, as one
 * applied to the directory itself says; nothing is left half-written.
 */
ATF_TC_WITH_CLEANUP(rec_plan_apply_no_room);
ATF_TC_HEAD(rec_plan_apply_no_room, tc)
{
	atf_tc_set_md_var(tc, "descr", "An apply through a recording tree "
	    "that finds no room: the estimate of what more is needed");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(rec_plan_apply_no_room, tc)
{
	struct plan p = { 0 };
	struct spec s = { 0 };
	struct entset set = { 0 };
	struct tree_room room;
	struct tree *t;
	char where[PATH_MAX], want[PATH_MAX + 64], *viarec;
	const char *tail = " free) to write etc/big; about 300.0 KiB more "
	    "needed";
	int fd;

	ATF_REQUIRE(mkdir("full", 0755) == 0);
	if (system(MOUNT_TMPFS " >/dev/null 2>&1") != 0)
		atf_tc_skip("cannot mount a tmpfs of 64 KiB here (%s)",
		    MOUNT_TMPFS);
	ATF_REQUIRE(realpath("full", where) != NULL);
	ATF_REQUIRE((fd = open("full", O_RDONLY | O_DIRECTORY)) >= 0);
	t = tree_recording(tree_dir(fd, "full", TREE_NOSYNC), &s);
	ATF_REQUIRE_MSG(t != NULL, "%s", sr_errmsg());
	/* Its room is the directory's file system's. */
	ATF_REQUIRE_MSG(tree_room(t, &room) == 0, "%s", strerror(errno));
	ATF_CHECK_STREQ(room.where, where);
	ATF_CHECK(room.avail > 0 && room.avail <= 64 << 10);
	ATF_CHECK(!room.noinodes);
	big_plan(&p);
	ATF_CHECK_EQ(plan_apply(&p, t), -1);
	ATF_CHECK_EQ(errno, ENOSPC);
	snprintf(want, sizeof(want), "no room left on %s (", where);
	ATF_REQUIRE((viarec = strdup(sr_errmsg())) != NULL);
	ATF_CHECK_MSG(strncmp(viarec, want, strlen(want)) == 0 &&
	    strlen(viarec) > strlen(tail) && strcmp(viarec + strlen(viarec) -
	    strlen(tail), tail) == 0, "%s", viarec);
	/* The directory made and noted; no file, whole or not. */
	ATF_CHECK(spec_get(&s, "etc") != NULL);
	ATF_CHECK(spec_get(&s, "etc/big") == NULL);
	ATF_CHECK_EQ(system("test -z \"$(ls -A full/etc)\""), 0);
	tree_close(t);
	/* The same message applied to the directory itself. */
	ATF_CHECK_EQ(plan_apply_dir(&p, fd, TREE_NOSYNC), -1);
	ATF_CHECK_STREQ(sr_errmsg(), viarec);
	ATF_CHECK_EQ(system("test -z \"$(ls -A full/etc)\""), 0);
	/* A tree in memory has no room to tell, nor says anything. */
	ATF_REQUIRE((t = tree_recording(tree_mem(&set), &s)) != NULL);
	ATF_CHECK_EQ(tree_room(t, &room), -1);
	ATF_CHECK_EQ(errno, ENOTSUP);
	ATF_CHECK_STREQ(sr_errmsg(), viarec);
	tree_close(t);
	free(viarec);
	close(fd);
	plan_free(&p);
	spec_free(&s);
	entset_free(&set);
}
ATF_TC_CLEANUP(rec_plan_apply_no_room, tc)
{
	(void)system("umount full >/dev/null 2>&1");
}

ATF_TC_WITHOUT_HEAD(rec_read_only_inner_refused);
ATF_TC_BODY(rec_read_only_inner_refused, tc)
{
	struct spec s = { 0 };
	int fd;

	ATF_REQUIRE(mkdir("s", 0700) == 0);
	ATF_REQUIRE((fd = open("s", O_RDONLY | O_DIRECTORY)) >= 0);
	ATF_CHECK(tree_recording(tree_dir(fd, "s", TREE_RDONLY), &s) == NULL);
	ATF_CHECK_EQ(errno, EROFS);
	ATF_CHECK(strstr(sr_errmsg(), "read-only") != NULL);
	ATF_CHECK(tree_recording(NULL, &s) == NULL);
	close(fd);
}

ATF_TC_WITHOUT_HEAD(spec_below_and_drop);
ATF_TC_BODY(spec_below_and_drop, tc)
{
	static const char *const paths[] = { "etc/rc", "etc", "etc-old",
	    "etc.d", "etc/rc.d/x", "etc0", "etc/", "e", "etcetera", NULL };
	struct spec s = { 0 };
	size_t i, first, end;

	for (i = 0; paths[i] != NULL; i++)
		copied(&s, paths[i], S_IFREG | 0644, 0, 0, 0);
	/* Added again: the later wins. */
	copied(&s, "etc", S_IFDIR | 0755, 0, 0, 0);
	spec_below(&s, "etc", &first, &end);
	ATF_REQUIRE_EQ(end - first, 3);
	ATF_CHECK_STREQ(s.v[first].path, "etc/");
	ATF_CHECK_STREQ(s.v[first + 1].path, "etc/rc");
	ATF_CHECK_STREQ(s.v[first + 2].path, "etc/rc.d/x");
	spec_below(&s, "", &first, &end);
	ATF_CHECK_EQ(end - first, 9);
	spec_below(&s, "none", &first, &end);
	ATF_CHECK_EQ(end, first);
	ATF_CHECK_EQ(spec_get(&s, "etc")->mode, S_IFDIR | 0755);
	ATF_CHECK_EQ(spec_drop(&s, "etc"), 4);
	ATF_CHECK_EQ(s.n, 5);
	ATF_CHECK(spec_get(&s, "etc/rc") == NULL);
	ATF_CHECK(spec_get(&s, "etc-old") != NULL);
	ATF_CHECK(spec_get(&s, "etc0") != NULL);
	ATF_CHECK_EQ(spec_drop(&s, "none"), 0);
	spec_free(&s);
}

ATF_TC_WITHOUT_HEAD(spec_stat_same_type_only);
ATF_TC_BODY(spec_stat_same_type_only, tc)
{
	struct spec s = { 0 };
	struct stat st = { .st_mode = S_IFREG | 0600, .st_uid = 1000 };

	copied(&s, "f", S_IFREG | 04755, 0, 5, 0);
	copied(&s, "d", S_IFDIR | 0755, 7, 7, 0);
	ATF_CHECK(spec_stat(&s, "f", &st));
	ATF_CHECK(st.st_mode == (S_IFREG | 04755) && st.st_uid == 0 &&
	    st.st_gid == 5);
	st.st_mode = S_IFREG | 0600;
	st.st_uid = 1000;
	ATF_CHECK(!spec_stat(&s, "d", &st));
	ATF_CHECK(!spec_stat(&s, "none", &st));
	ATF_CHECK(st.st_mode == (S_IFREG | 0600) && st.st_uid == 1000);
	spec_free(&s);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, rec_lstat_answers_from_spec);
	ATF_TP_ADD_TC(tp, rec_writes_noted);
	ATF_TP_ADD_TC(tp, rec_device_nodes_in_spec_alone);
	ATF_TP_ADD_TC(tp, rec_remove_drops_subtree);
	ATF_TP_ADD_TC(tp, rec_remove_not_there);
	ATF_TP_ADD_TC(tp, rec_link_and_orig_take_the_original);
	ATF_TP_ADD_TC(tp, rec_setattr_noted);
	ATF_TP_ADD_TC(tp, rec_walk_sees_the_image);
	ATF_TP_ADD_TC(tp, rec_walk_root);
	ATF_TP_ADD_TC(tp, rec_plan_apply_records_the_plan);
	ATF_TP_ADD_TC(tp, rec_plan_apply_no_room);
	ATF_TP_ADD_TC(tp, rec_read_only_inner_refused);
	ATF_TP_ADD_TC(tp, spec_below_and_drop);
	ATF_TP_ADD_TC(tp, spec_stat_same_type_only);
	return atf_no_error();
}
