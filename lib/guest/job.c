/*
 * A setup-local job's state and its one teardown (job.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/job.h"

void
lp_job_init(struct lp_job *j)
{
	memset(j, 0, sizeof(*j));
	j->op = LP_PROVISION;
	j->part = -1;
	j->planfd = -1;
	j->bfd = -1;
	j->newimgfd = -1;
	j->lfd = -1;
	cgdio_init(&j->lio, NULL, -1, 0, 0, "");
	j->stage.fd = j->rstage.fd = j->bstage.fd = -1;
	j->rout.job = j->lout.job = j;
	attach_init(&j->ra, "", true);
	attach_init(&j->la, "", true);
	attach_init(&j->ba, "", true);
	cgdimg_init(&j->cg);
}

int
lp_fail(struct lp_job *j, const char *image)
{
	/* A rollback has no root: its failures name the guest. */
	j->errimage = image != NULL ? image : j->lout.image;
	return -1;
}

/* Say msg (formatted from fmt and ap) about out's image, if not quiet. */
static void
say(const struct lp_out *o, enum sr_level level, enum sr_hint hint,
    const char *fmt, va_list ap)
{
	const struct lp_job *j = o->job;
	char *msg;

	/* A dry run's list of what is left out is its point: shown. */
	if (o->secrets && level == SR_VERBOSE)
		level = SR_INFO;
	if ((level == SR_VERBOSE && j->verbose < 1) ||
	    (level == SR_INFO && j->verbose < 0) || j->sink.msg == NULL)
		return;
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	j->sink.msg(j->sink.arg, o->image, level, hint, msg ? msg :
	    "(out of memory)");
	free(msg);
}

void
lp_log(void *ctx, enum sr_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(ctx, level, SR_HINT_NONE, fmt, ap);
	va_end(ap);
}

void
lp_warn_hint(struct lp_out *o, enum sr_hint hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(o, SR_WARN, hint, fmt, ap);
	va_end(ap);
}

void
lp_text(struct lp_job *j, const char *text, size_t len)
{
	if (j->sink.text != NULL && text != NULL)
		j->sink.text(j->sink.arg, text, len);
}

/*
 * The first failure of the undo: on a failure, an attachment's only (it
 * may leave something on the host, said beside the failure); else the
 * message of whatever failed, the run's own.
 */
static void
undo_failed(struct lp_job *j, bool undo, const char *path)
{
	if (j->teardown_err[0] != '\0' || (undo && path == NULL))
		return;
	if (path != NULL)
		snprintf(j->teardown_err, sizeof(j->teardown_err), "%s: %s",
		    path, sr_errmsg());
	else
		snprintf(j->teardown_err, sizeof(j->teardown_err), "%s",
		    sr_errmsg());
}

int
lp_job_teardown(struct lp_job *j, bool undo)
{
	struct attach *ats[3] = { &j->ra, &j->la, &j->ba };
	char msg[1024];
	enum sr_hint hint = sr_errhint();
	int n;

	/* What failed is said, whatever the undo says after it. */
	snprintf(msg, sizeof(msg), "%s", sr_errmsg());
	j->teardown_err[0] = '\0';
	if (undo && j->newimg[0] != '\0') {
		(void)attach_teardown(&j->la);
		unlink(j->newimg);
		j->newimg[0] = '\0';
	}
	if (undo && j->newimgfd != -1) {
		close(j->newimgfd);
		j->newimgfd = -1;
	}
	j->planfd = -1;		/* ra's or a stage's: closed with it */
	if (j->ba.rootfd != -1 && j->ba.rootfd == j->bstage.fd)
		j->ba.rootfd = -1;
	/* A worker's roots and their stages are its parent's to undo. */
	if (j->roots_lent) {
		ats[0] = ats[2] = NULL;
		j->rstage.work.dir[0] = j->bstage.work.dir[0] = '\0';
	}
	if (stage_close(&j->stage) == -1)
		undo_failed(j, undo, NULL);
	if (stage_close(&j->rstage) == -1)
		undo_failed(j, undo, NULL);
	if (stage_close(&j->bstage) == -1)
		undo_failed(j, undo, NULL);
	/* The old local's reader first: it reads with the key. */
	cgdio_free(&j->lio);
	if (j->lfd != -1) {
		close(j->lfd);
		j->lfd = -1;
	}
	if (undo)
		cgdimg_abandon(&j->cg);
	else if (cgdimg_close(&j->cg) == -1)
		undo_failed(j, undo, NULL);
	for (n = 3; n-- > 0;)
		if (ats[n] != NULL && attach_teardown(ats[n]) == -1)
			undo_failed(j, undo, ats[n]->path);
	if (undo) {
		sr_seterr("%s", msg);
		sr_sethint(hint);
		return j->teardown_err[0] != '\0' ? -1 : 0;
	}
	if (j->teardown_err[0] == '\0')
		return 0;
	sr_seterr("%s", j->teardown_err);
	j->teardown_err[0] = '\0';
	return -1;
}

void
lp_job_free(struct lp_job *j)
{
	plan_free(&j->plan);
	upgrade_root_free(&j->newroot);
	free(j->rows);
	j->rows = NULL;
}
