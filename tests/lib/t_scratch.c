/*
 * scratch_*() and sr_lock(): temporaries a later run can tell are dead,
 * memory file systems, and locks beside targets.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include "h_util.h"
#include "tree/lock.h"
#include "base/os.h"
#include "tree/scratch.h"
#include "base/tmpname.h"

/* The absolute path of a name in the test's directory. */
static const char *
here(const char *name)
{
	static char buf[4][PATH_MAX + NAME_MAX + 2];
	static int k;
	char cwd[PATH_MAX];

	ATF_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", cwd, name);
	return buf[k];
}

/* How many names in dir start with prefix. */
static int
count(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	ATF_REQUIRE((d = opendir(dir)) != NULL);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* Whether another open file description can flock path (0: yes). */
static int
lockable(const char *path)
{
	int fd = open(path, O_RDONLY), r;

	ATF_REQUIRE(fd != -1);
	r = flock(fd, LOCK_EX | LOCK_NB);
	close(fd);
	return r;
}

/* A pid no process has: a child, reaped. */
static pid_t
dead_pid(void)
{
	pid_t p = fork();

	ATF_REQUIRE(p != -1);
	if (p == 0)
		_exit(0);
	ATF_REQUIRE(waitpid(p, NULL, 0) == p);
	return p;
}

ATF_TC_WITHOUT_HEAD(scratch_dir_named_and_locked);
ATF_TC_BODY(scratch_dir_named_and_locked, tc)
{
	struct scratch sc;
	char want[64], lock[PATH_MAX + 8];
	struct stat st;
	const char *base;

	ATF_REQUIRE(mkdir("b", 0755) == 0);
	base = here("b");
	ATF_REQUIRE(scratch_make(&sc, base, SCRATCH_STAGE) == 0);
	snprintf(want, sizeof(want), "/sharedroot.%ld.", (long)getpid());
	ATF_CHECK(strstr(sc.dir, want) != NULL);
	ATF_REQUIRE(stat(sc.dir, &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0700);
	snprintf(lock, sizeof(lock), "%s/lock", sc.dir);
	ATF_REQUIRE(stat(lock, &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0600);
	/* Held: no other description can take it, and a purge keeps it. */
	ATF_CHECK_EQ(lockable(lock), -1);
	setenv("TMPDIR", base, 1);
	scratch_purge();
	ATF_CHECK(stat(sc.dir, &st) == 0);
	ATF_CHECK_EQ(scratch_remove(&sc), 0);
	ATF_CHECK_EQ(count(base, "sharedroot"), 0);
	ATF_CHECK_EQ(scratch_remove(&sc), 0);
}

ATF_TC_WITHOUT_HEAD(scratch_purge_dead_only);
ATF_TC_BODY(scratch_purge_dead_only, tc)
{
	char p[PATH_MAX];
	const char *base;
	pid_t dead = dead_pid();
	int fd;

	ATF_REQUIRE(mkdir("b", 0755) == 0);
	base = here("b");
	setenv("TMPDIR", base, 1);
	/* A dead run's: its lock file free. */
	snprintf(p, sizeof(p), "%s/sharedroot.%ld.aaaaaa", base,
	    (long)getpid());
	ATF_REQUIRE(mkdir(p, 0700) == 0);
	strlcat(p, "/lock", sizeof(p));
	ATF_REQUIRE((fd = open(p, O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	/* Not yet locked (no lock file, mode 0): its pid decides. */
	snprintf(p, sizeof(p), "%s/sharedroot.%ld.bbbbbb", base,
	    (long)getpid());
	ATF_REQUIRE(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/sharedroot-plain.%ld.cccccc", base,
	    (long)dead);
	ATF_REQUIRE(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/sharedroot.%ld.dddddd", base,
	    (long)getpid());
	ATF_REQUIRE(mkdir(p, 0700) == 0);
	strlcat(p, "/lock", sizeof(p));
	ATF_REQUIRE((fd = open(p, O_CREAT | O_WRONLY, 0)) != -1);
	close(fd);
	/* Not ours by name: other programs' and older versions'. */
	snprintf(p, sizeof(p), "%s/sharedroot.XyZ123", base);
	ATF_REQUIRE(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/sharedrootx.%ld.eeeeee", base, (long)dead);
	ATF_REQUIRE(mkdir(p, 0700) == 0);
	scratch_purge();
	snprintf(p, sizeof(p), "%s/sharedroot.%ld.aaaaaa", base,
	    (long)getpid());
	ATF_CHECK_MSG(access(p, F_OK) == -1, "a free lock: removed");
	snprintf(p, sizeof(p), "%s/sharedroot.%ld.bbbbbb", base,
	    (long)getpid());
	ATF_CHECK_MSG(access(p, F_OK) == 0, "no lock, pid alive: kept");
	snprintf(p, sizeof(p), "%s/sharedroot-plain.%ld.cccccc", base,
	    (long)dead);
	ATF_CHECK_MSG(access(p, F_OK) == -1, "no lock, pid gone: removed");
	snprintf(p, sizeof(p), "%s/sharedroot.%ld.dddddd", base,
	    (long)getpid());
	ATF_CHECK_MSG(access(p, F_OK) == 0, "lock mode 0, pid alive: kept");
	snprintf(p, sizeof(p), "%s/sharedroot.XyZ123", base);
	ATF_CHECK(access(p, F_OK) == 0);
	snprintf(p, sizeof(p), "%s/sharedrootx.%ld.eeeeee", base, (long)dead);
	ATF_CHECK(access(p, F_OK) == 0);
}

/*
 * A run killed between making its lock (mode 0) and locking it: an
 * ordinary user cannot open his own file of mode 0, so the purge must
 * tell it by its mode and pid (the t_killed flake as an ordinary user).
 */
ATF_TC_WITHOUT_HEAD(scratch_purge_mode0_unreadable);
ATF_TC_BODY(scratch_purge_mode0_unreadable, tc)
{
	char p[PATH_MAX], f[PATH_MAX];
	const char *base;
	pid_t dead = dead_pid();
	int fd;

	if (geteuid() == 0)
		atf_tc_skip("root opens a file of mode 0; needs an ordinary "
		    "user");
	ATF_REQUIRE(mkdir("b", 0755) == 0);
	base = here("b");
	setenv("TMPDIR", base, 1);
	snprintf(p, sizeof(p), "%s/sharedroot.%ld.zzzzzz", base, (long)dead);
	ATF_REQUIRE(mkdir(p, 0700) == 0);
	strlcat(p, "/lock", sizeof(p));
	ATF_REQUIRE((fd = open(p, O_CREAT | O_WRONLY, 0)) != -1);
	close(fd);
	ATF_REQUIRE(open(p, O_RDONLY) == -1 && errno == EACCES);
	snprintf(p, sizeof(p), "%s/sharedroot.%ld.yyyyyy", base,
	    (long)getpid());
	ATF_REQUIRE(mkdir(p, 0700) == 0);
	strlcat(p, "/lock", sizeof(p));
	ATF_REQUIRE((fd = open(p, O_CREAT | O_WRONLY, 0)) != -1);
	close(fd);
	/* A temporary beside an image, mode 0, of a dead run. */
	snprintf(f, sizeof(f), ".local.img.%ld.Zzz999", (long)dead);
	ATF_REQUIRE((fd = open(f, O_CREAT | O_WRONLY, 0)) != -1);
	close(fd);
	scratch_purge();
	scratch_purge_beside(here("local.img"));
	snprintf(p, sizeof(p), "%s/sharedroot.%ld.zzzzzz", base, (long)dead);
	ATF_CHECK_MSG(access(p, F_OK) == -1, "mode 0, pid gone: removed");
	snprintf(p, sizeof(p), "%s/sharedroot.%ld.yyyyyy", base,
	    (long)getpid());
	ATF_CHECK_MSG(access(p, F_OK) == 0, "mode 0, pid alive: kept");
	ATF_CHECK_MSG(access(f, F_OK) == -1, "beside, mode 0, pid gone: "
	    "removed");
}

ATF_TC_WITHOUT_HEAD(scratch_file_beside);
ATF_TC_BODY(scratch_file_beside, tc)
{
	char tmp[PATH_MAX], want[64], stale[PATH_MAX];
	struct stat st;
	pid_t dead = dead_pid();
	int fd, sfd;

	/* A dead run's half-made image, and another name's. */
	snprintf(stale, sizeof(stale), ".local.img.%ld.Abc123", (long)dead);
	ATF_REQUIRE((sfd = open(stale, O_CREAT | O_WRONLY, 0600)) != -1);
	close(sfd);
	ATF_REQUIRE((sfd = open(".other.img.1.Abc123", O_CREAT | O_WRONLY,
	    0600)) != -1);
	close(sfd);
	ATF_REQUIRE((fd = scratch_file("local.img", tmp, sizeof(tmp))) != -1);
	snprintf(want, sizeof(want), ".local.img.%ld.", (long)getpid());
	ATF_CHECK_EQ(strncmp(tmp, want, strlen(want)), 0);
	ATF_REQUIRE(fstat(fd, &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0600);
	ATF_CHECK_MSG(access(stale, F_OK) == -1, "the dead run's: removed");
	ATF_CHECK(access(".other.img.1.Abc123", F_OK) == 0);
	/* Ours, held: kept by a purge until closed. */
	ATF_CHECK_EQ(lockable(tmp), -1);
	scratch_purge_beside(here("local.img"));
	ATF_CHECK(access(tmp, F_OK) == 0);
	close(fd);
	scratch_purge_beside(here("local.img"));
	ATF_CHECK(access(tmp, F_OK) == -1);
	/* In another directory, named by a path. */
	ATF_REQUIRE(mkdir("d", 0755) == 0);
	ATF_REQUIRE((fd = scratch_file(here("d/x.img"), tmp, sizeof(tmp))) !=
	    -1);
	ATF_CHECK(strstr(tmp, "/d/.x.img.") != NULL);
	close(fd);
}

ATF_TC_WITHOUT_HEAD(tmpname_shape);
ATF_TC_BODY(tmpname_shape, tc)
{
	char a[64], b[64], want[64], tiny[16];
	const char *x;

	ATF_REQUIRE(tmpname(a, sizeof(a), "%s/.%s", "d", "root.img") == 0);
	ATF_REQUIRE(tmpname(b, sizeof(b), "%s/.%s", "d", "root.img") == 0);
	snprintf(want, sizeof(want), "d/.root.img.%ld.", (long)getpid());
	ATF_CHECK_EQ(strncmp(a, want, strlen(want)), 0);
	ATF_CHECK_EQ(strlen(a), strlen(want) + 6);
	ATF_CHECK_MSG(strcmp(a, b) != 0, "two names alike: %s", a);
	for (x = a + strlen(want); *x != '\0'; x++)
		ATF_CHECK_MSG(isalnum((unsigned char)*x), "%s", a);
	ATF_CHECK_EQ(tmpname_pid(a + 2, ".root.img"), (long)getpid());
	/* Not ours: another prefix, no pid, a short or long tail. */
	ATF_CHECK_EQ(tmpname_pid(a + 2, ".root"), -1);
	ATF_CHECK_EQ(tmpname_pid(".root.img.x1.abcdef", ".root.img"), -1);
	ATF_CHECK_EQ(tmpname_pid(".root.img.12.abcde", ".root.img"), -1);
	ATF_CHECK_EQ(tmpname_pid(".root.img.12.abcdefg", ".root.img"), -1);
	ATF_CHECK_EQ(tmpname_pid(".root.img.12.abc-ef", ".root.img"), -1);
	ATF_CHECK_EQ(tmpname_pid(".root.img.0.abcdef", ".root.img"), -1);
	ATF_CHECK_EQ(tmpname_pid(".root.img.12.abcdef", ".root.img"), 12);
	/* Too long: refused, not cut. */
	errno = 0;
	ATF_CHECK_EQ(tmpname(tiny, sizeof(tiny), "%s", "sharedroot"), -1);
	ATF_CHECK_EQ(errno, ENAMETOOLONG);
}

/*
 * A file being replaced in a guest tree (.NAME.sr.PID.XXXXXX) is never
 * taken for an image's temporary beside NAME, which a purge removes
 * when its lock is free: it is not locked.
 */
ATF_TC_WITHOUT_HEAD(scratch_purge_spares_tree_temps);
ATF_TC_BODY(scratch_purge_spares_tree_temps, tc)
{
	char tmp[PATH_MAX], img[PATH_MAX];
	int fd;

	ATF_REQUIRE(tmpname(tmp, sizeof(tmp), ".%s.sr", "local.img") == 0);
	ATF_REQUIRE((fd = open(tmp, O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	ATF_REQUIRE(tmpname(img, sizeof(img), ".%s", "local.img") == 0);
	ATF_REQUIRE((fd = open(img, O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	scratch_purge_beside(here("local.img"));
	ATF_CHECK_MSG(access(tmp, F_OK) == 0, "a tree's temporary: kept");
	ATF_CHECK_MSG(access(img, F_OK) == -1, "an image's, unlocked: "
	    "removed");
}

ATF_TC_WITHOUT_HEAD(scratch_memory_choice);
ATF_TC_BODY(scratch_memory_choice, tc)
{
	char base[PATH_MAX];

	if (os_in_memory("/dev/shm") != 1)
		atf_tc_skip("/dev/shm is not a memory file system here");
	ATF_CHECK_EQ(os_in_memory("."), 0);
	/* A TMPDIR on a disk is not used; /dev/shm is. */
	setenv("TMPDIR", here(""), 1);
	ATF_REQUIRE(scratch_memory(1 << 20, "it", base, sizeof(base)) == 0);
	ATF_CHECK_STREQ(base, "/dev/shm");
	/* A memory TMPDIR is the admin's choice, room or not. */
	setenv("TMPDIR", "/dev/shm", 1);
	ATF_CHECK_EQ(scratch_memory(UINT64_MAX / 2, "the plaintext", base,
	    sizeof(base)), -1);
	ATF_CHECK(strstr(sr_errmsg(), "TMPDIR /dev/shm: no room in memory "
	    "for the plaintext") != NULL);
	unsetenv("TMPDIR");
	ATF_CHECK_EQ(scratch_memory(UINT64_MAX / 2, "the plaintext", base,
	    sizeof(base)), -1);
	ATF_CHECK(strstr(sr_errmsg(), "no room in memory for the plaintext") !=
	    NULL);
	ATF_CHECK(strstr(sr_errmsg(), "refused, nothing written") != NULL);
	ATF_CHECK_EQ(scratch_room("/dev/shm", UINT64_MAX / 2, "x"), -1);
	ATF_CHECK_EQ(scratch_room("/dev/shm", 1, "x"), 0);
}

/* In a child: try to lock target; exit 0 if it could, else 1. */
static int
child_lock(const char *target, bool excl, char *msg, size_t msgsz)
{
	int pfd[2], status;
	ssize_t n;
	pid_t p;

	ATF_REQUIRE(pipe(pfd) == 0);
	ATF_REQUIRE((p = fork()) != -1);
	if (p == 0) {
		int r;

		close(pfd[0]);
		sr_lock_forget();
		r = sr_lock(target, excl);
		(void)write(pfd[1], sr_errmsg(), strlen(sr_errmsg()));
		_exit(r == 0 ? 0 : 1);
	}
	close(pfd[1]);
	n = read(pfd[0], msg, msgsz - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	ATF_REQUIRE(waitpid(p, &status, 0) == p);
	return WEXITSTATUS(status);
}

ATF_TC_WITHOUT_HEAD(lock_beside_target);
ATF_TC_BODY(lock_beside_target, tc)
{
	char msg[512], want[128];
	struct stat st;
	int fd;

	ATF_REQUIRE((fd = open("local.img", O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	ATF_REQUIRE(sr_lock(here("local.img"), true) == 0);
	ATF_REQUIRE(stat(".local.img.lock", &st) == 0);
	/* Named twice in one run: the same lock. */
	ATF_CHECK_EQ(sr_lock("local.img", false), 0);
	ATF_CHECK_EQ(sr_lock("./local.img", true), 0);
	/* Another process: refused, naming us. */
	snprintf(want, sizeof(want), "pid %ld) is changing it", (long)getpid());
	ATF_CHECK_EQ(child_lock("local.img", false, msg, sizeof(msg)), 1);
	ATF_CHECK_MSG(strstr(msg, want) != NULL, "%s", msg);
	ATF_CHECK(strncmp(msg, "in use: ", 8) == 0);
	/* A rename over the image keeps it locked. */
	ATF_REQUIRE((fd = open("new.img", O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	ATF_REQUIRE(rename("new.img", "local.img") == 0);
	ATF_CHECK_EQ(child_lock("local.img", true, msg, sizeof(msg)), 1);
	/* Through a symbolic link: the same target. */
	ATF_REQUIRE(symlink("local.img", "link.img") == 0);
	ATF_CHECK_EQ(child_lock("link.img", true, msg, sizeof(msg)), 1);
	/* The end: the lock file goes, and the target is free. */
	sr_unlock_all();
	ATF_CHECK(stat(".local.img.lock", &st) == -1 && errno == ENOENT);
	ATF_CHECK_EQ(child_lock("local.img", true, msg, sizeof(msg)), 0);
	/* A new image's lock: beside where it will be. */
	ATF_REQUIRE(mkdir("d", 0755) == 0);
	ATF_CHECK_EQ(sr_lock("d/new.img", true), 0);
	ATF_CHECK(stat("d/.new.img.lock", &st) == 0);
	sr_unlock_all();
}

ATF_TC_WITHOUT_HEAD(lock_readers_share);
ATF_TC_BODY(lock_readers_share, tc)
{
	char msg[512], want[128];
	struct stat st;

	ATF_REQUIRE(mkdir("root", 0755) == 0);
	ATF_REQUIRE(sr_lock("root", false) == 0);
	ATF_CHECK_EQ(child_lock("root", false, msg, sizeof(msg)), 0);
	snprintf(want, sizeof(want), "pid %ld) is reading it", (long)getpid());
	ATF_CHECK_EQ(child_lock("root", true, msg, sizeof(msg)), 1);
	ATF_CHECK_MSG(strstr(msg, want) != NULL, "%s", msg);
	sr_unlock_all();
	ATF_CHECK(stat(".root.lock", &st) == -1 && errno == ENOENT);
}

ATF_TC_WITHOUT_HEAD(lock_left_by_dead_run);
ATF_TC_BODY(lock_left_by_dead_run, tc)
{
	char msg[512];
	struct stat st;
	int status;
	pid_t p;

	ATF_REQUIRE(mkdir("local", 0755) == 0);
	/* A run killed outright while it held the lock. */
	ATF_REQUIRE((p = fork()) != -1);
	if (p == 0) {
		if (sr_lock("local", true) != 0)
			_exit(1);
		raise(SIGKILL);
	}
	ATF_REQUIRE(waitpid(p, &status, 0) == p);
	ATF_REQUIRE(WIFSIGNALED(status));
	ATF_REQUIRE(stat(".local.lock", &st) == 0);
	ATF_CHECK_EQ(child_lock("local", true, msg, sizeof(msg)), 0);
	ATF_CHECK_EQ(sr_lock("local", true), 0);
	sr_unlock_all();
	ATF_CHECK(stat(".local.lock", &st) == -1 && errno == ENOENT);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, scratch_dir_named_and_locked);
	ATF_TP_ADD_TC(tp, scratch_purge_dead_only);
	ATF_TP_ADD_TC(tp, scratch_purge_mode0_unreadable);
	ATF_TP_ADD_TC(tp, scratch_file_beside);
	ATF_TP_ADD_TC(tp, tmpname_shape);
	ATF_TP_ADD_TC(tp, scratch_purge_spares_tree_temps);
	ATF_TP_ADD_TC(tp, scratch_memory_choice);
	ATF_TP_ADD_TC(tp, lock_beside_target);
	ATF_TP_ADD_TC(tp, lock_readers_share);
	ATF_TP_ADD_TC(tp, lock_left_by_dead_run);
	return 0;
}
