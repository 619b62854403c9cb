/*
 * setup-local's upgrades and rollbacks over a fleet of guests
 * (localfleet.h).  Each guest runs in a worker process of this run's
 * own: its attachments, stages and plaintext are its own, and a failure
 * ends it alone.  A worker ends with _exit(); the caller's process is
 * never ended here.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/os.h"
#include "guest/identity.h"
#include "guest/localfleet.h"
#include "guest/localrun.h"
#include "guest/localwrite.h"
#include "image/ffsread.h"
#include "tree/lock.h"
#include "tree/scratch.h"

/* The guest's own trees, as they are: etc, tmp, var and the record. */
static int
open_mine(struct lp_job *j, int *fd, struct spec **spec)
{
	static const char *const tops[] = { "etc", "tmp", "var", ID_DIR,
	    NULL };
	const char *have[5];
	size_t i, n = 0;

	if (j->mode == LP_REBUILD) {
		struct tree *t = tree_ffs(&j->lfi);

		for (i = 0; t != NULL && tops[i] != NULL; i++) {
			int e = tree_exists(t, tops[i]);

			if (e == -1)
				break;
			if (e == 0)
				have[n++] = tops[i];
		}
		have[n] = NULL;
		tree_close(t);
		if (t == NULL || tops[i] != NULL)
			return -1;
		/*
		 * The upgrade is planned from the guest's own trees, read
		 * into a stage: an encrypted guest's (its plaintext) on a
		 * memory file system only, never a disk.
		 */
		if (j->crypt && (scratch_memory(0, "the guest's trees",
		    j->membase, sizeof(j->membase)) == -1 ||
		    (stage_memory(j->membase), 0)))
			return -1;
		if (stage_open(&j->stage) == -1 || ffs_extract(&j->lfi, have,
		    NULL, j->stage.fd, &j->stage.copied, lp_log, &j->lout,
		    &j->cs) == -1)
			return -1;
		*fd = j->stage.fd;
		*spec = &j->stage.copied;
		return 0;
	}
	j->la.ro_first = true;
	if (attach_open(&j->la) == -1)
		return -1;
	*fd = j->la.rootfd;
	*spec = NULL;
	return 0;
}

/* Apply the plan to the guest's local, as its kind allows. */
static int
apply_mine(struct lp_job *j, const struct plan *u)
{
	char buf[PATH_MAX];
	const char *path;

	if (j->mode == LP_REBUILD) {
		/* The old image whole, the plan applied as it is written. */
		if (lp_write_local(j, NULL, u) == -1)
			return lp_fail(j, j->lout.image);
		return 0;
	}
	if (!j->la.isdir)
		path = j->la.mntdir;
	else if ((path = realpath(j->la.path, buf)) == NULL)
		sr_seterrno("realpath");
	if (path == NULL || attach_remount_rw(&j->la) == -1 ||
	    localprep_apply_copy(path, j->la.rootfd, &j->lp, u, &j->cs) == -1)
		return lp_fail(j, j->lout.image);
	return 0;
}

/* A warning for each line of text. */
static void
warn_lines(struct lp_job *j, const char *prefix, const char *text)
{
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');

		lp_log(&j->lout, SR_WARN, "%s%.*s", prefix,
		    (int)(nl ? nl - p : (long)strlen(p)), p);
		p = nl ? nl + 1 : "";
	}
}

/* The guest's plan: its upgrade to the new root, or its rollback. */
static int
guest_plan(struct lp_job *j, struct plan *u, struct upgrade_report *rep)
{
	struct spec *minespec;
	struct tree *mine;
	int minefd;

	attach_init(&j->la, j->local, j->dryrun);
	j->la.keyfile = j->keyfile;
	j->la.sparse = j->sparse;
	if (lp_check_local(j) == -1 || lp_open_crypt(j) == -1)
		return -1;
	if (open_mine(j, &minefd, &minespec) == -1)
		return lp_fail(j, j->lout.image);
	if (j->op == LP_ROLLBACK) {
		if (rollback_plan(minefd, minespec, u, rep) == -1)
			return lp_fail(j, j->lout.image);
	} else {
		const struct upgrade up = { j->ra.rootfd, &j->newroot, minefd,
		    minespec, &j->lp, j->bfd, j->bspec };

		if (upgrade_plan(&up, u, rep) == -1)
			return lp_fail(j, j->lout.image);
	}
	/* A swapped pkg.img would leave a database in var stale. */
	if ((mine = tree_dir(minefd, j->lout.image, TREE_RDONLY)) == NULL)
		return lp_fail(j, j->lout.image);
	if (!rep->current && pkgdb_in_var(mine))
		lp_log(&j->lout, SR_WARN, "var/db/pkg: the guest keeps a "
		    "package database in var: a shared pkg.img needs it on "
		    "pkg.img (PKG_DBDIR=/usr/pkg/pkgdb)");
	tree_close(mine);
	return 0;
}

/* A dry run's plan shown; whether it would be done, as its row says. */
static int
guest_dry(struct lp_job *j, const struct plan *u,
    const struct upgrade_report *rep, struct lp_row *row)
{
	struct sbuf desc = { 0 };
	int fits = 0;

	if (plan_describe(u, &desc) == -1)
		return lp_fail(j, j->lout.image);
	if (j->verbose >= 0) {
		lp_text(j, rep->list.s, rep->list.len);
		lp_text(j, desc.s, desc.len);
	}
	sbuf_free(&desc);
	/* A rebuilt image must hold the new tree, as makefs counts. */
	if (j->mode == LP_REBUILD &&
	    (fits = localprep_fits(&j->stage, &j->lfi, u)) == -1)
		return lp_fail(j, j->lout.image);
	if (fits == 1)
		lp_log(&j->lout, SR_WARN, "%s", sr_errmsg());
	/* Conflicts fail a dry run as they would the run. */
	row->result = fits == 1 ? LP_ROW_FAILED : rep->conflicts ?
	    LP_ROW_CONFLICTS : LP_ROW_PLANNED;
	return 0;
}

/* One guest, in a worker: its row, or -1 (the row says failed). */
static int
guest_run(struct lp_job *j, struct lp_row *row)
{
	struct upgrade_report rep;
	struct plan u = { 0 };
	int rv = -1;

	memset(&rep, 0, sizeof(rep));
	if (guest_plan(j, &u, &rep) == -1)
		goto out;
	row->taken = rep.taken;
	row->kept = rep.kept;
	row->merged = rep.merged;
	row->conflicts = rep.conflicts;
	row->added = rep.added;
	row->forward = rep.forward;
	if (rep.current) {
		lp_log(&j->lout, SR_INFO, "already seeded from root %.12s: "
		    "nothing to do", rep.newid);
		row->result = LP_ROW_CURRENT;
	} else if (j->dryrun) {
		if (guest_dry(j, &u, &rep, row) == -1)
			goto out;
	} else {
		if (j->verbose > 0)
			lp_text(j, rep.list.s, rep.list.len);
		if (apply_mine(j, &u) == -1)
			goto out;
		row->result = rep.conflicts ? LP_ROW_CONFLICTS : LP_ROW_DONE;
	}
	if (lp_job_teardown(j, false) == -1) {
		row->result = LP_ROW_FAILED;
		lp_fail(j, j->lout.image);
		goto out;
	}
	if (!rep.current)
		lp_log(&j->lout, SR_INFO, "%s from root %.12s to %.12s: %zu "
		    "taken, %zu kept, %zu merged, %zu conflicts, %zu added "
		    "in var", j->dryrun ? "would go" : j->op == LP_UPGRADE ?
		    "upgraded" : rep.forward ? "rolled forward" :
		    "rolled back", rep.oldid, rep.newid,
		    rep.taken, rep.kept, rep.merged, rep.conflicts, rep.added);
	warn_lines(j, "", rep.rebuild.s);
	warn_lines(j, "conflict: ", rep.conflicted.s);
	rv = 0;
out:
	plan_free(&u);
	upgrade_report_free(&rep);
	return rv;
}

/*
 * A worker's whole life: guest i of the fleet, its row written to rowfd.
 * Its exit status: 0 done, 1 failed or left with conflicts (unless
 * forced).
 */
static void __attribute__((noreturn))
worker(struct lp_job *j, int i, int rowfd)
{
	struct lp_row row = { .result = LP_ROW_FAILED };
	int status = 1;

	if (j->sink.worker != NULL)
		j->sink.worker(j->sink.arg);
	/* The roots and locks are the parent's. */
	j->roots_lent = true;
	sr_lock_forget();
	j->local = j->locals[i];
	j->lout.image = j->locals[i];
	if (guest_run(j, &row) == -1) {
		(void)lp_job_teardown(j, true);
		if (j->sink.error != NULL)
			j->sink.error(j->sink.arg, j->errimage ? j->errimage :
			    j->lout.image, j->teardown_err);
	} else if (write(rowfd, &row, sizeof(row)) == (ssize_t)sizeof(row))
		status = row.result == LP_ROW_CONFLICTS && !j->lp.force ?
		    1 : 0;
	if (j->sink.flush != NULL)
		j->sink.flush(j->sink.arg);
	_exit(status);
}

/*
 * -b: the root a local without a record was seeded from, read as the
 * root is (a tree, an image to mount, or FFS through libtsk).
 */
static int
open_base(struct lp_job *j)
{
	struct ffsimg bfi;
	struct stat st;
	int p = 1;

	j->bfd = -1;
	if (j->baseroot == NULL)
		return 0;
	if (stat(j->baseroot, &st) == 0 && S_ISREG(st.st_mode) &&
	    !lp_mounts_ffs())
		p = ffsimg_probe(j->baseroot, -1, &bfi);
	if (p == 0) {
		struct copy_stats cs = { 0 };

		if (lp_stage_ffs_root(&bfi, &j->bstage, &j->rout, &cs) == -1)
			goto fail;
		j->bfd = j->bstage.fd;
		j->bspec = &j->bstage.copied;
		return 0;
	}
	if (p == -1)
		goto fail;
	attach_init(&j->ba, j->baseroot, true);
	if (attach_open(&j->ba) == -1)
		goto fail;
	j->bfd = j->ba.rootfd;
	j->bspec = NULL;
	return 0;
fail:
	sr_sethint(SR_HINT_BASEROOT);
	return lp_fail(j, j->baseroot);
}

/* A guest named twice would be changed by two runs at once. */
static int
check_distinct(struct lp_job *j)
{
	struct stat *st;
	int i, k, n = j->nlocals;

	if ((st = calloc((size_t)n, sizeof(*st))) == NULL) {
		sr_oom();
		return lp_fail(j, j->rout.image);
	}
	for (i = 0; i < n; i++) {
		if (stat(j->locals[i], &st[i]) == -1)
			continue;
		for (k = 0; k < i; k++)
			if (st[k].st_ino != 0 && st[k].st_ino == st[i].st_ino &&
			    st[k].st_dev == st[i].st_dev) {
				sr_seterr("named twice (as %s)", j->locals[k]);
				j->lout.image = j->locals[i];
				free(st);
				return lp_fail(j, j->locals[i]);
			}
	}
	free(st);
	return 0;
}

/*
 * The roots read and every guest's local are locked here, for the
 * whole run (its workers die with it): a guest another run holds is
 * refused, alone (refused[i]).
 */
static int
fleet_lock(struct lp_job *j, bool *refused)
{
	int i;

	if (j->op == LP_UPGRADE && lp_lock(j, j->root, false, &j->rout) == -1)
		return -1;
	if (j->baseroot != NULL) {
		struct lp_out bout = { j, j->baseroot, false };

		if (lp_lock(j, j->baseroot, false, &bout) == -1)
			return -1;
	}
	for (i = 0; i < j->nlocals; i++) {
		struct lp_out gout = { j, j->locals[i], false };

		if (lp_lock(j, j->locals[i], !j->dryrun, &gout) == -1) {
			if (j->sink.error != NULL)
				j->sink.error(j->sink.arg, j->locals[i], "");
			refused[i] = true;
		}
	}
	return 0;
}

/* The new root, read once for every guest. */
static int
fleet_root(struct lp_job *j)
{
	if (j->op != LP_UPGRADE)
		return 0;
	attach_init(&j->ra, j->root, true);
	if (lp_check_root(j) == -1 || lp_open_root(j) == -1 ||
	    lp_check_not_local(j) == -1)
		return -1;
	/* A guest's local disk is FFS (a directory is taken as it). */
	j->lp.local_fstype = "ffs";
	if (lp_plan_local(j) == -1 || lp_check_root_id(j) == -1)
		return -1;
	if (upgrade_root_load(j->ra.rootfd, j->lp.rootspec, &j->plan,
	    &j->newroot) == -1)
		return lp_fail(j, j->rout.image);
	return open_base(j);
}

/* The workers: one a guest, as many at once as jobs allows. */
struct fleet {
	pid_t	*pids;
	int	*rfds, *wfds;	/* each worker's row; its parent's life */
	bool	*refused;
	int	 running, jobs;
	pid_t	 self;
};

/* Start guest i's worker. */
static int
start(struct lp_job *j, struct fleet *f, int i)
{
	int fds[2], wfd[2], k;
	pid_t pid;

	j->rows[i].result = LP_ROW_FAILED;
	if (pipe(fds) == -1 || pipe2(wfd, O_CLOEXEC) == -1 ||
	    (pid = fork()) == -1) {
		sr_seterrno("start a guest's run");
		return lp_fail(j, j->rout.image);
	}
	if (pid == 0) {
		close(fds[0]);
		/* Only the parent's end keeps it open. */
		close(wfd[1]);
		for (k = 0; k < i; k++)
			if (f->wfds[k] != -1)
				close(f->wfds[k]);
		/* No worker outlives a killed run. */
		if (sr_die_with_parent(f->self, wfd[0]) == -1)
			_exit(1);
		worker(j, i, fds[1]);
	}
	close(fds[1]);
	close(wfd[0]);
	f->wfds[i] = wfd[1];
	f->pids[i] = pid;
	f->rfds[i] = fds[0];
	f->running++;
	return 0;
}

/* A worker ended: its row read.  Interrupted, each is told to stop. */
static int
reap(struct lp_job *j, struct fleet *f)
{
	struct lp_row *row;
	int status, k;
	pid_t pid;

	if ((pid = waitpid(-1, &status, 0)) == -1) {
		if (errno != EINTR) {
			sr_seterrno("wait for a guest's run");
			return lp_fail(j, j->rout.image);
		}
		/* Each guest's run stops as it would alone. */
		for (k = 0; k < j->nlocals; k++)
			if (f->pids[k] > 0)
				(void)kill(f->pids[k], sr_interrupted());
		return 0;
	}
	for (k = 0; k < j->nlocals && f->pids[k] != pid; k++)
		;
	if (k == j->nlocals)
		return 0;
	row = &j->rows[k];
	f->running--;
	f->pids[k] = 0;
	if (read(f->rfds[k], row, sizeof(*row)) != (ssize_t)sizeof(*row))
		row->result = LP_ROW_FAILED;
	close(f->rfds[k]);
	f->rfds[k] = -1;
	if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 &&
	    row->result != LP_ROW_CONFLICTS))
		row->result = LP_ROW_FAILED;
	return 0;
}

/* Every guest run (or, interrupted, not started). */
static int
run_all(struct lp_job *j, struct fleet *f)
{
	int i = 0, n = j->nlocals;

	/* The workers write what they say; nothing is left buffered. */
	if (j->sink.flush != NULL)
		j->sink.flush(j->sink.arg);
	while (i < n || f->running > 0) {
		/* Another run's guest is not touched. */
		if (i < n && f->refused[i])
			j->rows[i++].result = LP_ROW_FAILED;
		else if (i < n && f->running < f->jobs && !sr_interrupted()) {
			if (start(j, f, i++) == -1)
				return -1;
		} else if (i < n && f->running == 0)
			/* Interrupted: what has not started does not. */
			j->rows[i++].result = LP_ROW_NOTRUN;
		else if (reap(j, f) == -1)
			return -1;
	}
	return 0;
}

/* What the fleet holds, closed: a worker still running dies with it. */
static void
fleet_free(struct lp_job *j, struct fleet *f)
{
	int i;

	for (i = 0; i < j->nlocals; i++) {
		if (f->wfds != NULL && f->wfds[i] != -1)
			close(f->wfds[i]);
		if (f->rfds != NULL && f->rfds[i] != -1)
			close(f->rfds[i]);
	}
	free(f->pids);
	free(f->rfds);
	free(f->wfds);
	free(f->refused);
}

int
lp_fleet(struct lp_job *j)
{
	struct fleet f = { .self = getpid() };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int i, n = j->nlocals, failed = 0, rv = -1;

	j->rout.image = j->root;
	j->lout.image = n > 0 ? j->locals[0] : NULL;
	/* As many guests at once as there are processors, up to 4. */
	f.jobs = cpus < 1 ? 1 : cpus > 4 ? 4 : (int)cpus;
	if ((j->rows = calloc((size_t)n, sizeof(*j->rows))) == NULL ||
	    (f.pids = calloc((size_t)n, sizeof(*f.pids))) == NULL ||
	    (f.rfds = calloc((size_t)n, sizeof(*f.rfds))) == NULL ||
	    (f.wfds = calloc((size_t)n, sizeof(*f.wfds))) == NULL ||
	    (f.refused = calloc((size_t)n, sizeof(*f.refused))) == NULL) {
		sr_oom();
		lp_fail(j, j->lout.image);
		goto out;
	}
	for (i = 0; i < n; i++)
		f.rfds[i] = f.wfds[i] = -1;
	j->cg.sparse = j->sparse;
	if (lp_check_opts(j) == -1 || fleet_lock(j, f.refused) == -1 || fleet_root(j) == -1 ||
	    check_distinct(j) == -1 || run_all(j, &f) == -1)
		goto out;
	for (i = 0; i < n; i++)
		if (j->rows[i].result == LP_ROW_FAILED || j->rows[i].result ==
		    LP_ROW_NOTRUN || (j->rows[i].result == LP_ROW_CONFLICTS &&
		    !j->lp.force))
			failed++;
	if (lp_job_teardown(j, false) == -1) {
		lp_fail(j, j->rout.image);
		goto out;
	}
	rv = failed ? 1 : 0;
out:
	fleet_free(j, &f);
	return rv;
}
