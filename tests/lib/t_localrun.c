/*
 * setup-local's run as a library call (guest/job.h, guest/localrun.h):
 * the mode decided from a job, the job's teardown safe twice, a
 * provision of a directory local through lp_run(), and a failing run
 * leaving nothing behind.  Directories only: no root needed.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <unistd.h>

#include "h_util.h"
#include "guest/localrun.h"

#ifndef SR_SHARE
#define SR_SHARE "/usr/local/share/sharedroot"
#endif

/* What a run said through its sink. */
static struct sbuf said, shown;
static int failures;

static void
sink_msg(void *arg, const char *image, enum sr_level level, enum sr_hint h,
    const char *msg)
{
	ATF_REQUIRE(sbuf_printf(&said, "%s: %s%s\n", image, level == SR_WARN ?
	    "warning: " : "", msg) == 0);
}

static void
sink_error(void *arg, const char *image, const char *undo)
{
	failures++;
}

static void
sink_text(void *arg, const char *text, size_t len)
{
	ATF_REQUIRE(sbuf_add(&shown, text, len) == 0);
}

/*
 * A job as setup-local's main fills it, over root and local in the
 * work directory; temporaries in a TMPDIR of the test's own, to see
 * that nothing is left there.
 */
static void
job(struct lp_job *j, const char *root, const char *local)
{
	char tmp[PATH_MAX];

	sbuf_free(&said);
	sbuf_free(&shown);
	failures = 0;
	ATF_REQUIRE(getcwd(tmp, sizeof(tmp) - 4) != NULL);
	strcat(tmp, "/tmp");
	(void)mkdir(tmp, 0700);
	ATF_REQUIRE(setenv("TMPDIR", tmp, 1) == 0);
	lp_job_init(j);
	j->lp.tmpldir = SR_SHARE "/templates";
	j->lp.pkgdev = "/dev/xbd3a";
	j->root = root;
	j->local = local;
	j->sink = (struct lp_sink){ sink_msg, sink_error, sink_text, NULL,
	    NULL, NULL };
	j->rout.image = root;
	j->lout.image = local;
}

/* A sample root of today's shape, as mk/sample-root.sh makes it. */
static void
make_root(const atf_tc_t *tc, const char *dir)
{
	char cmd[PATH_MAX * 2];

	snprintf(cmd, sizeof(cmd), "sh %s/sample-root.sh nb10 %s",
	    atf_tc_get_config_var(tc, "srcdir"), dir);
	ATF_REQUIRE_EQ(system(cmd), 0);
}

/* The names in a directory, sorted, one a line. */
static char *
names(const char *dir)
{
	struct dirent **ents;
	struct sbuf b = { 0 };
	int i, n;

	ATF_REQUIRE((n = scandir(dir, &ents, NULL, alphasort)) >= 0);
	for (i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") != 0 &&
		    strcmp(ents[i]->d_name, "..") != 0)
			ATF_REQUIRE(sbuf_printf(&b, "%s\n",
			    ents[i]->d_name) == 0);
		free(ents[i]);
	}
	free(ents);
	if (b.s == NULL)
		ATF_REQUIRE(sbuf_adds(&b, "") == 0);
	return b.s;
}

static char *
slurp(const char *path)
{
	struct sbuf b = { 0 };
	char buf[4096];
	ssize_t n;
	int fd;

	ATF_REQUIRE_MSG((fd = open(path, O_RDONLY)) >= 0, "open %s", path);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		ATF_REQUIRE(sbuf_add(&b, buf, (size_t)n) == 0);
	close(fd);
	if (b.s == NULL)
		ATF_REQUIRE(sbuf_adds(&b, "") == 0);
	return b.s;
}

ATF_TC_WITHOUT_HEAD(mode_from_local);
ATF_TC_BODY(mode_from_local, tc)
{
	struct lp_job j;

	ATF_REQUIRE(mkdir("dirlocal", 0755) == 0);
	ATF_REQUIRE(mkdir("root", 0755) == 0);
	/* A directory is filled in place. */
	job(&j, "root", "dirlocal");
	ATF_REQUIRE_EQ(lp_check_root(&j), 0);
	ATF_REQUIRE_EQ(lp_check_local(&j), 0);
	ATF_REQUIRE_EQ(j.mode, LP_UPDATE);
	ATF_REQUIRE(!j.crypt);
	/* A new local is an FFS image: made and mounted, or built. */
	job(&j, "root", "new.img");
	ATF_REQUIRE_EQ(lp_check_root(&j), 0);
	ATF_REQUIRE_EQ(lp_check_local(&j), 0);
	ATF_REQUIRE_EQ(j.mode, lp_mounts_ffs() ? LP_CREATE : LP_BUILD);
	/* An upgrade needs the guest to exist: the failure names it. */
	job(&j, "root", "new.img");
	j.op = LP_UPGRADE;
	ATF_REQUIRE_EQ(lp_check_local(&j), -1);
	ATF_REQUIRE_STREQ(j.errimage, "new.img");
	ATF_REQUIRE(strstr(sr_errmsg(), "stat") != NULL);
	/* A directory cannot be encrypted: said with the key file's hint. */
	job(&j, "root", "dirlocal");
	j.keyfile = "key";
	ATF_REQUIRE_EQ(lp_check_local(&j), -1);
	ATF_REQUIRE_STREQ(sr_errmsg(),
	    "key: a directory cannot be encrypted; name an image");
	ATF_REQUIRE_EQ(sr_errhint(), SR_HINT_KEYFILE);
	/* Root and local the same. */
	job(&j, "root", "root");
	ATF_REQUIRE_EQ(lp_check_root(&j), 0);
	ATF_REQUIRE_EQ(lp_check_local(&j), -1);
	ATF_REQUIRE_STREQ(sr_errmsg(), "root and local are the same");
	ATF_REQUIRE_EQ(lp_job_teardown(&j, true), 0);
}

ATF_TC_WITHOUT_HEAD(teardown_twice);
ATF_TC_BODY(teardown_twice, tc)
{
	struct lp_job j;
	char *stagedir;
	struct stat st;
	int fd;

	job(&j, "root", "local");
	/* Nothing held: nothing to undo, twice. */
	ATF_REQUIRE_EQ(lp_job_teardown(&j, false), 0);
	ATF_REQUIRE_EQ(lp_job_teardown(&j, true), 0);
	/* A stage and a new image held: a failure's undo removes both. */
	ATF_REQUIRE_EQ(stage_open(&j.stage), 0);
	ATF_REQUIRE((stagedir = strdup(j.stage.work.dir)) != NULL);
	ATF_REQUIRE(stat(stagedir, &st) == 0);
	ATF_REQUIRE((fd = open("new.img.tmp", O_CREAT | O_WRONLY, 0600)) >= 0);
	j.newimgfd = fd;
	strcpy(j.newimg, "new.img.tmp");
	/* The root's fd lent by the stage is not closed twice. */
	j.ra.rootfd = j.stage.fd;
	sr_seterr("the step that failed");
	sr_sethint(SR_HINT_FORCE);
	ATF_REQUIRE_EQ(lp_job_teardown(&j, true), 0);
	ATF_REQUIRE_STREQ(sr_errmsg(), "the step that failed");
	ATF_REQUIRE_EQ(sr_errhint(), SR_HINT_FORCE);
	ATF_REQUIRE(stat(stagedir, &st) == -1 && errno == ENOENT);
	ATF_REQUIRE(access("new.img.tmp", F_OK) == -1 && errno == ENOENT);
	ATF_REQUIRE_EQ(j.newimgfd, -1);
	ATF_REQUIRE_EQ(j.stage.fd, -1);
	ATF_REQUIRE_EQ(j.ra.rootfd, -1);
	ATF_REQUIRE_STREQ(j.teardown_err, "");
	/* Again, and closing after: nothing left, nothing fails. */
	ATF_REQUIRE_EQ(lp_job_teardown(&j, true), 0);
	ATF_REQUIRE_EQ(lp_job_teardown(&j, false), 0);
	ATF_REQUIRE_STREQ(names("tmp"), "");
	free(stagedir);
}

ATF_TC_WITHOUT_HEAD(provision_directory);
ATF_TC_BODY(provision_directory, tc)
{
	struct lp_job j;
	struct stat rst, lst;
	char *s;

	make_root(tc, "root");
	ATF_REQUIRE(mkdir("local", 0755) == 0);
	job(&j, "root", "local");
	j.lp.hostname = "web1";
	ATF_REQUIRE_EQ_MSG(lp_run(&j), 0, "%s", sr_errmsg());
	/* The trees, and the record of the root it was seeded from. */
	ATF_REQUIRE_STREQ(names("local"), ".sharedroot\netc\ntmp\nvar\n");
	ATF_REQUIRE_STREQ(slurp("local/etc/myname"), "web1\n");
	/* The root's texts edited, the originals kept once. */
	ATF_REQUIRE(strstr(slurp("local/etc/rc.conf"), "rc_configured=YES") !=
	    NULL);
	ATF_REQUIRE(strstr(slurp("local/etc/fstab"), "/local/etc\t/etc") !=
	    NULL);
	ATF_REQUIRE_STREQ(slurp("local/etc/fstab.orig"),
	    slurp("root/etc/fstab"));
	/* The template's keys and seed are not the guest's. */
	ATF_REQUIRE(access("local/etc/ssh/ssh_host_rsa_key", F_OK) == -1);
	ATF_REQUIRE(access("local/var/db/entropy-file", F_OK) == -1 ||
	    strcmp(slurp("local/var/db/entropy-file"),
	    "the template random seed\n") != 0);
	/* Owners and modes as the root's. */
	ATF_REQUIRE(stat("root/etc/master.passwd", &rst) == 0);
	ATF_REQUIRE(stat("local/etc/master.passwd", &lst) == 0);
	ATF_REQUIRE_EQ(lst.st_mode & 07777, 0600);
	ATF_REQUIRE_EQ(lst.st_uid, rst.st_uid);
	ATF_REQUIRE_EQ(lst.st_gid, rst.st_gid);
	ATF_REQUIRE(stat("local/tmp", &lst) == 0 && stat("root/tmp", &rst) == 0);
	ATF_REQUIRE_EQ(lst.st_mode & 07777, rst.st_mode & 07777);
	/* Said through the sink, about the local; no lock file left. */
	ATF_REQUIRE_MSG(said.s != NULL && (s = strstr(said.s,
	    "local: provisioned from root: ")) != NULL, "%s",
	    said.s ? said.s : "(nothing said)");
	ATF_REQUIRE_EQ(failures, 0);
	ATF_REQUIRE(access(".local.lock", F_OK) == -1);
	ATF_REQUIRE(access(".root.lock", F_OK) == -1);
	ATF_REQUIRE_STREQ(names("tmp"), "");
	lp_job_free(&j);
}

ATF_TC_WITHOUT_HEAD(dry_run_writes_nothing);
ATF_TC_BODY(dry_run_writes_nothing, tc)
{
	struct lp_job j;

	make_root(tc, "root");
	ATF_REQUIRE(mkdir("local", 0755) == 0);
	job(&j, "root", "local");
	j.dryrun = true;
	ATF_REQUIRE_EQ_MSG(lp_run(&j), 0, "%s", sr_errmsg());
	ATF_REQUIRE_STREQ(names("local"), "");
	/* The plan shown as text; the secrets left out listed. */
	ATF_REQUIRE(shown.s != NULL &&
	    strstr(shown.s, "copy etc, tmp, var: ") != NULL);
	ATF_REQUIRE(strstr(shown.s, "etc/rc.conf") != NULL);
	ATF_REQUIRE(said.s != NULL && strstr(said.s, "ssh_host_rsa_key"));
	ATF_REQUIRE(strstr(said.s, "dry run: nothing written") != NULL);
	/* Quiet: nothing shown, the result the same. */
	job(&j, "root", "local");
	j.dryrun = true;
	j.verbose = -1;
	ATF_REQUIRE_EQ(lp_run(&j), 0);
	ATF_REQUIRE(shown.s == NULL);
	ATF_REQUIRE(said.s == NULL || (strstr(said.s, "dry run") == NULL &&
	    strstr(said.s, "ssh_host_rsa_key") == NULL));
	lp_job_free(&j);
}

ATF_TC_WITHOUT_HEAD(failure_leaves_nothing);
ATF_TC_BODY(failure_leaves_nothing, tc)
{
	struct lp_job j;

	make_root(tc, "root");
	ATF_REQUIRE(mkdir("local", 0755) == 0);
	ATF_REQUIRE(mkdir("local/etc", 0755) == 0);
	h_put("local/etc/rc.conf", "the guest's own\n");
	job(&j, "root", "local");
	ATF_REQUIRE_EQ(lp_run(&j), -1);
	ATF_REQUIRE_STREQ(j.errimage, "local");
	ATF_REQUIRE(strstr(sr_errmsg(), "already provisioned") != NULL);
	ATF_REQUIRE_EQ(sr_errhint(), SR_HINT_FORCE);
	ATF_REQUIRE_STREQ(j.teardown_err, "");
	/* The local as it was; nothing staged, locked or attached left. */
	ATF_REQUIRE_STREQ(names("local"), "etc\n");
	ATF_REQUIRE_STREQ(names("local/etc"), "rc.conf\n");
	ATF_REQUIRE_STREQ(slurp("local/etc/rc.conf"), "the guest's own\n");
	ATF_REQUIRE_STREQ(names("tmp"), "");
	ATF_REQUIRE(access(".local.lock", F_OK) == -1);
	ATF_REQUIRE_EQ(j.la.rootfd, -1);
	ATF_REQUIRE_EQ(j.ra.rootfd, -1);
	ATF_REQUIRE(!j.la.mounted && !j.ra.mounted);
	/* A second teardown after the run's own changes nothing. */
	ATF_REQUIRE_EQ(lp_job_teardown(&j, true), 0);
	lp_job_free(&j);
}

ATF_TC_WITHOUT_HEAD(rollback_failure_names_guest);
ATF_TC_BODY(rollback_failure_names_guest, tc)
{
	struct lp_job j;
	char *guests[] = { "g1", "g2" };

	/* Two guests without a record: each refused alone, a row each. */
	ATF_REQUIRE(mkdir("g1", 0755) == 0);
	ATF_REQUIRE(mkdir("g2", 0755) == 0);
	job(&j, NULL, NULL);
	j.op = LP_ROLLBACK;
	j.locals = guests;
	j.nlocals = 2;
	ATF_REQUIRE_EQ(lp_run(&j), 1);
	ATF_REQUIRE(j.rows != NULL);
	ATF_REQUIRE_EQ(j.rows[0].result, LP_ROW_FAILED);
	ATF_REQUIRE_EQ(j.rows[1].result, LP_ROW_FAILED);
	ATF_REQUIRE_STREQ(names("g1"), "");
	ATF_REQUIRE_STREQ(names("tmp"), "");
	ATF_REQUIRE(access(".g1.lock", F_OK) == -1);
	lp_job_free(&j);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, mode_from_local);
	ATF_TP_ADD_TC(tp, teardown_twice);
	ATF_TP_ADD_TC(tp, provision_directory);
	ATF_TP_ADD_TC(tp, dry_run_writes_nothing);
	ATF_TP_ADD_TC(tp, failure_leaves_nothing);
	ATF_TP_ADD_TC(tp, rollback_failure_names_guest);
	return atf_no_error();
}
