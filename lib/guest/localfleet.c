/*
 * setup-local's runs over a fleet of guests (localfleet.h): upgrades,
 * rollbacks, and several guests provisioned from one root.  Each guest
 * runs in a worker process of this run's own: its attachments, stages
 * and plaintext are its own, and a failure ends it alone.  A worker
 * ends with _exit(); the caller's process is never ended here.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/os.h"
#include "guest/identity.h"
#include "guest/localfleet.h"
#include "guest/localrun.h"
#include "guest/localwrite.h"
#include "image/build.h"
#include "image/ffsread.h"
#include "image/source.h"
#include "tree/lock.h"

/*
 * The guest's own trees, as they are, read where they are: an FFS
 * local's through libtsk (an encrypted one's decrypted a block at a
 * time, in this process's memory alone), a mounted or directory local's
 * on the host.  tree_close() it.
 */
static struct tree *
open_mine(struct lp_job *j)
{
	if (j->mode == LP_REBUILD) {
		struct mfsize m = { .version = j->lfi.version,
		    .bsize = j->lfi.bsize, .fsize = j->lfi.fsize };

		/*
		 * Its directories checked first, as a whole read of it
		 * is (none nested deeper than we make, none with two
		 * parents): a corrupt local refused at once, before any
		 * of it is planned from.
		 */
		if (ffs_size(&j->lfi, NULL, &m) == -1)
			return NULL;
		return tree_ffs(&j->lfi);
	}
	j->la.ro_first = true;
	if (attach_open(&j->la) == -1)
		return NULL;
	return tree_dir(j->la.rootfd, j->lout.image, TREE_RDONLY);
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
	struct tree *mine;
	int rv = -1;

	attach_init(&j->la, j->local, j->dryrun);
	j->la.keyfile = j->keyfile;
	j->la.sparse = j->sparse;
	if (lp_check_local(j) == -1 || lp_open_crypt(j) == -1)
		return -1;
	if ((mine = open_mine(j)) == NULL)
		return lp_fail(j, j->lout.image);
	if (j->op == LP_ROLLBACK) {
		if (rollback_plan(mine, NULL, u, rep) == -1)
			goto done;
	} else {
		const struct upgrade up = { j->planfd, &j->newroot, mine,
		    NULL, &j->lp, j->bfd, j->bspec };

		if (upgrade_plan(&up, u, rep) == -1)
			goto done;
	}
	/* A swapped pkg.img would leave a database in var stale. */
	if (!rep->current && pkgdb_in_var(mine))
		lp_log(&j->lout, SR_WARN, "var/db/pkg: the guest keeps a "
		    "package database in var: a shared pkg.img needs it on "
		    "pkg.img (PKG_DBDIR=/usr/pkg/pkgdb)");
	rv = 0;
done:
	tree_close(mine);
	return rv == 0 ? 0 : lp_fail(j, j->lout.image);
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
	if (j->mode == LP_REBUILD) {
		struct tree *mine = tree_ffs(&j->lfi);

		fits = mine != NULL ? localprep_fits(mine, &j->lfi, u) : -1;
		tree_close(mine);
		if (fits == -1)
			return lp_fail(j, j->lout.image);
	}
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
 * A guest's host name when several are provisioned: its image's file
 * name without the extension (web1.img: web1), checked as -h is.
 */
static int
name_of(const char *local, char *buf, size_t len)
{
	const char *p = local, *base = p, *dot;
	size_t n;

	/* The last component, trailing slashes aside (a directory). */
	for (; *p != '\0'; p++)
		if (*p == '/' && p[1] != '\0' && p[1] != '/')
			base = p + 1;
	n = strcspn(base, "/");
	if ((dot = memchr(base, '.', n)) != NULL && dot != base) {
		while ((p = memchr(dot + 1, '.', n - (size_t)(dot + 1 - base)))
		    != NULL)
			dot = p;
		n = (size_t)(dot - base);
	}
	if (n == 0 || n >= len) {
		sr_seterr("no host name in the image's name (NAME.img)");
		return -1;
	}
	memcpy(buf, base, n);
	buf[n] = '\0';
	if (hostname_ok(buf) == -1) {
		/* Not -h's: the image's name is what to change. */
		sr_sethint(SR_HINT_NONE);
		sr_prefixerr("the host name from the image's name");
		return -1;
	}
	return 0;
}

#define HOSTLEN	256

/* The guest's host name, from its image's name, into the job. */
static int
guest_hostname(struct lp_job *j, char *buf)
{
	if (name_of(j->local, buf, HOSTLEN) == -1)
		return lp_fail(j, j->lout.image);
	j->lp.hostname = buf;
	return 0;
}

/*
 * Two guests of one run with one host name (web1/local.img and
 * web2/local.img) would be two hosts of one name: refused, nothing
 * made.  A name that is no host name fails its guest alone, later.
 */
static int
check_names(struct lp_job *j)
{
	char *names;
	int i, k, n = j->nlocals;

	if (j->op != LP_PROVISION)
		return 0;
	if ((names = calloc((size_t)n, HOSTLEN)) == NULL) {
		sr_oom();
		return lp_fail(j, j->rout.image);
	}
	for (i = 0; i < n; i++) {
		char *mine = names + (size_t)i * HOSTLEN;

		if (name_of(j->locals[i], mine, HOSTLEN) == -1) {
			mine[0] = '\0';
			continue;
		}
		for (k = 0; k < i; k++)
			if (strcmp(names + (size_t)k * HOSTLEN, mine) == 0) {
				sr_seterr("host name %s, as %s's: each guest "
				    "is named by its image's name", mine,
				    j->locals[k]);
				free(names);
				return lp_fail(j, j->locals[i]);
			}
	}
	free(names);
	return 0;
}

/* A guest's text (its plan), kept to be shown whole under its name. */
struct held_text {
	struct lp_sink sink;	/* the front end's */
	struct sbuf text;
	bool	 oom;
};

static void
held_msg(void *arg, const char *image, enum sr_level level,
    enum sr_hint hint, const char *msg)
{
	struct held_text *h = arg;

	if (h->sink.msg != NULL)
		h->sink.msg(h->sink.arg, image, level, hint, msg);
}

static void
held_text(void *arg, const char *text, size_t len)
{
	struct held_text *h = arg;

	if (sbuf_add(&h->text, text, len) == -1)
		h->oom = true;
}

/*
 * A dry run's plan under the guest's name, shown only if the guest's
 * plan was made whole.  The sink's other calls go where they went.
 */
static int
provision_shown(struct lp_job *j, const char *name)
{
	struct held_text h = { j->sink, { 0 }, false };
	int rv;

	if (sbuf_printf(&h.text, "guest %s (host name %s):\n", j->local,
	    name) == -1) {
		sbuf_free(&h.text);
		return lp_fail(j, j->lout.image);
	}
	/* Nothing else of the sink is called during a guest's run. */
	j->sink = (struct lp_sink){ held_msg, NULL, held_text, NULL, NULL,
	    &h };
	rv = lp_provision(j);
	j->sink = h.sink;
	if (rv == 0 && h.oom) {
		sr_oom();
		rv = lp_fail(j, j->lout.image);
	}
	if (rv == 0)
		lp_text(j, h.text.s, h.text.len);
	sbuf_free(&h.text);
	return rv;
}

/* One guest of several provisioned, in a worker: its row, or -1. */
static int
guest_provision(struct lp_job *j, struct lp_row *row)
{
	static char name[HOSTLEN];

	if (guest_hostname(j, name) == -1)
		return -1;
	if ((j->dryrun && j->verbose >= 0 ? provision_shown(j, name) :
	    lp_provision(j)) == -1)
		return -1;
	row->entries = j->cs.entries;
	row->changes = j->plan.n;
	row->result = j->dryrun ? LP_ROW_PLANNED : LP_ROW_DONE;
	return 0;
}

/*
 * What a worker says (messages and text) is held, in order, and written
 * at its end to a file its parent made; the parent shows it whole when
 * the worker is reaped, as make -O does: one guest's lines never cut
 * into another's, whatever stdout is (a file, a pipe, a terminal) and
 * however long a plan is.  A failure (the error sink) is one line, on
 * at once.
 */
struct held_out {
	struct lp_sink front;	/* the front end's */
	struct sbuf rec;	/* records: struct held_rec, image, text */
	bool	 oom;
};

struct held_rec {
	uint32_t kind;		/* 'm' a message, 't' text */
	int32_t	 level, hint;
	uint32_t ilen;		/* the image's name, then */
	uint64_t len;		/* the message or text */
};

static void
hold(struct held_out *h, uint32_t kind, const char *image,
    enum sr_level level, enum sr_hint hint, const char *text, size_t len)
{
	struct held_rec r = { kind, (int32_t)level, (int32_t)hint,
	    image != NULL ? (uint32_t)strlen(image) : UINT32_MAX, len };

	if (sbuf_add(&h->rec, &r, sizeof(r)) == -1 || (image != NULL &&
	    sbuf_add(&h->rec, image, r.ilen) == -1) ||
	    sbuf_add(&h->rec, text, len) == -1)
		h->oom = true;
}

static void
hold_msg(void *arg, const char *image, enum sr_level level,
    enum sr_hint hint, const char *msg)
{
	hold(arg, 'm', image, level, hint, msg, strlen(msg));
}

static void
hold_text(void *arg, const char *text, size_t len)
{
	hold(arg, 't', NULL, SR_INFO, SR_HINT_NONE, text, len);
}

static void
held_error(void *arg, const char *image, const char *undo)
{
	struct held_out *h = arg;

	if (h->front.error != NULL)
		h->front.error(h->front.arg, image, undo);
}

/* A worker's held output into outfd; -1 if not all of it is there. */
static int
held_write(struct held_out *h, int outfd)
{
	const char *p = h->rec.s;
	size_t left = h->rec.len;
	ssize_t n;

	if (h->oom)
		return -1;
	while (left > 0) {
		if ((n = write(outfd, p, left)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

/* A reaped worker's output, from outfd, shown through the front end. */
static void
held_show(struct lp_job *j, int outfd)
{
	struct held_rec r;
	struct stat st;
	char *buf, *p, *end, *image;
	size_t got = 0;
	ssize_t n;

	if (fstat(outfd, &st) == -1 || st.st_size <= 0 ||
	    (uint64_t)st.st_size > SIZE_MAX ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL)
		return;
	while (got < (size_t)st.st_size && (n = pread(outfd, buf + got,
	    (size_t)st.st_size - got, (off_t)got)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	for (p = buf, end = buf + got; (size_t)(end - p) >= sizeof(r);) {
		memcpy(&r, p, sizeof(r));
		p += sizeof(r);
		if ((r.ilen != UINT32_MAX && r.ilen > (size_t)(end - p)) ||
		    r.len > (size_t)(end - p) - (r.ilen != UINT32_MAX ?
		    r.ilen : 0))
			break;
		image = NULL;
		if (r.ilen != UINT32_MAX) {
			image = p;
			p += r.ilen;
		}
		if (r.kind == 't' && j->sink.text != NULL)
			j->sink.text(j->sink.arg, p, (size_t)r.len);
		else if (r.kind == 'm' && j->sink.msg != NULL) {
			/* Strings again: the image's name and the message. */
			char *msg = strndup(p, (size_t)r.len);
			char *name = image != NULL ? strndup(image, r.ilen) :
			    NULL;

			if (msg != NULL && (image == NULL || name != NULL))
				j->sink.msg(j->sink.arg, name,
				    (enum sr_level)r.level,
				    (enum sr_hint)r.hint, msg);
			free(msg);
			free(name);
		}
		p += r.len;
	}
	free(buf);
}

/*
 * A worker's whole life: guest i of the fleet, its row written to rowfd.
 * Its exit status: 0 done, 1 failed or left with conflicts (unless
 * forced).
 */
static void __attribute__((noreturn))
worker(struct lp_job *j, int i, int rowfd, int outfd)
{
	struct lp_row row = { .result = LP_ROW_FAILED };
	struct held_out h = { j->sink, { 0 }, false };
	int status = 1;

	if (j->sink.worker != NULL)
		j->sink.worker(j->sink.arg);
	j->sink = (struct lp_sink){ hold_msg, held_error, hold_text, NULL,
	    NULL, &h };
	/* The roots and locks are the parent's. */
	j->roots_lent = j->op != LP_PROVISION || !j->rffs;
	j->in_fleet = true;
	sr_lock_forget();
	j->local = j->locals[i];
	j->lout.image = j->locals[i];
	if ((j->op == LP_PROVISION ? guest_provision(j, &row) :
	    guest_run(j, &row)) == -1) {
		(void)lp_job_teardown(j, true);
		if (j->sink.error != NULL)
			j->sink.error(j->sink.arg, j->errimage ? j->errimage :
			    j->lout.image, j->teardown_err);
	} else if (held_write(&h, outfd) == -1) {
		/* What it said is part of its result (a dry run's plan). */
		sr_seterrno("hold what the guest's run said");
		if (h.front.error != NULL)
			h.front.error(h.front.arg, j->lout.image, "");
	} else if (write(rowfd, &row, sizeof(row)) == (ssize_t)sizeof(row))
		status = row.result == LP_ROW_CONFLICTS && !j->lp.force ?
		    1 : 0;
	if (h.front.flush != NULL)
		h.front.flush(h.front.arg);
	_exit(status);
}

/*
 * -b: the root a local without a record was seeded from, read as the
 * root is (a tree, an image to mount, or FFS through libtsk).
 */
static int
open_base(struct lp_job *j)
{
	struct source s;

	j->bfd = -1;
	if (j->baseroot == NULL)
		return 0;
	if (source_kind(j->baseroot, -1, 0, &s) == -1)
		goto fail;
	if (s.kind == SOURCE_FFS && !lp_mounts_ffs()) {
		struct copy_stats cs = { 0 };

		if (lp_stage_ffs_root(&s.fi, &j->bstage, &j->rout, &cs) == -1)
			goto fail;
		j->bfd = j->bstage.fd;
		j->bspec = &j->bstage.copied;
		return 0;
	}
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

/*
 * What names a local: the file itself, or (one to be made) the directory
 * it goes in with its name there, so that a new guest named twice is
 * seen too.  0, or -1 not found.
 */
static int
local_id(const char *local, struct stat *st, const char **name)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(local, '/');

	*name = NULL;
	if (stat(local, st) == 0)
		return 0;
	*name = slash == NULL ? local : slash + 1;
	if (slash == NULL)
		return stat(".", st);
	if (slash[1] == '\0' || (size_t)(slash - local) >= sizeof(dir))
		return -1;
	memcpy(dir, local, (size_t)(slash - local));
	dir[slash - local] = '\0';
	return stat(slash == local ? "/" : dir, st);
}

/* Whether locals k and i are the same (by local_id). */
static bool
same_local(const struct stat *st, const char *const *nm, int k, int i)
{
	const char *ni = nm[i], *nk = nm[k];

	if (st[k].st_ino == 0 || st[k].st_ino != st[i].st_ino ||
	    st[k].st_dev != st[i].st_dev)
		return false;
	if (ni == NULL && nk == NULL)
		return true;
	if (ni == NULL || nk == NULL)
		return false;
	return strcmp(ni, nk) == 0;
}

/* A guest named twice would be changed by two runs at once. */
static int
check_distinct(struct lp_job *j)
{
	struct stat *st;
	const char **nm;
	int i, k, n = j->nlocals;

	st = calloc((size_t)n, sizeof(*st));
	nm = calloc((size_t)n, sizeof(*nm));
	if (st == NULL || nm == NULL) {
		free(st);
		free(nm);
		sr_oom();
		return lp_fail(j, j->rout.image);
	}
	for (i = 0; i < n; i++) {
		/* Only a provision names guests still to be made. */
		if (j->op == LP_PROVISION) {
			if (local_id(j->locals[i], &st[i], &nm[i]) == -1) {
				memset(&st[i], 0, sizeof(st[i]));
				continue;
			}
		} else if (stat(j->locals[i], &st[i]) == -1)
			continue;
		for (k = 0; k < i; k++)
			if (same_local(st, nm, k, i)) {
				sr_seterr("named twice (as %s)", j->locals[k]);
				j->lout.image = j->locals[i];
				free(st);
				free(nm);
				return lp_fail(j, j->locals[i]);
			}
	}
	free(st);
	free(nm);
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

	if (j->op != LP_ROLLBACK && lp_lock(j, j->root, false, &j->rout) == -1)
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

/*
 * A host name for the plan made once: each guest's is swapped in for
 * it.  A valid one (it goes where -h's goes), that no root holds.
 */
#define PLACEHOLDER	"sharedroot-host-name-to-be-swapped-in-0f6b3c"

/* Whether text holds the placeholder. */
static bool
holds_placeholder(const char *text, size_t len)
{
	return text != NULL && memmem(text, len, PLACEHOLDER,
	    sizeof(PLACEHOLDER) - 1) != NULL;
}

/*
 * What is the same for every guest, planned once (the root's identity,
 * its pristine etc, every edit), with the placeholder as host name.  A
 * root whose texts hold the placeholder is planned by each guest.
 */
static int
provision_plan(struct lp_job *j)
{
	const char *image = j->lout.image;
	size_t i;
	int rv;

	j->lp.hostname = PLACEHOLDER;
	j->lp.root_fstype = netbsd_fstype(j->ra.isdir ? NULL :
	    j->ra.fstype);
	/* As a new local, or a directory (localrun.c: open_local). */
	j->lp.local_fstype = "ffs";
	j->lout.image = j->rout.image;
	rv = lp_plan_local(j) == -1 || lp_check_root_id(j) == -1 ? -1 : 0;
	j->lout.image = image;
	j->lp.hostname = NULL;
	for (i = 0; rv == 0 && i < j->plan.n; i++)
		if (holds_placeholder(j->plan.v[i].old, j->plan.v[i].oldlen)) {
			plan_free(&j->plan);
			break;
		}
	return rv;
}

/*
 * Provisioning several: the root checked once, and attached once to be
 * lent to every worker, with the plan; an FFS root read with libtsk is
 * read (and planned) by each guest's build into its own stage, which
 * makefs writes from.
 */
static int
provision_root(struct lp_job *j)
{
	if (lp_check_root(j) == -1)
		return -1;
	if (!j->rffs && attach_open(&j->ra) == -1)
		return lp_fail(j, j->rout.image);
	if (!j->rffs)
		j->planfd = j->ra.rootfd;	/* the tree the plan reads */
	if (lp_check_not_local(j) == -1)
		return -1;
	return j->rffs ? 0 : provision_plan(j);
}

/*
 * The parent's text with the guest's host name for the placeholder;
 * NULL, out of memory.
 */
static char *
swap_name(const char *text, size_t len, const char *name, size_t *newlen)
{
	struct sbuf b = { 0 };
	const char *p = text, *end = text + len, *at;
	size_t n = sizeof(PLACEHOLDER) - 1;

	while ((at = memmem(p, (size_t)(end - p), PLACEHOLDER, n)) != NULL) {
		if (sbuf_add(&b, p, (size_t)(at - p)) == -1 ||
		    sbuf_adds(&b, name) == -1)
			goto fail;
		p = at + n;
	}
	if (sbuf_add(&b, p, (size_t)(end - p)) == -1)
		goto fail;
	*newlen = b.len;
	return b.s;
fail:
	sbuf_free(&b);
	return NULL;
}

int
lp_fleet_plan(struct lp_job *j)
{
	size_t i;

	/* None made once, or made for another kind of disk. */
	if (j->plan.n == 0 || strcmp(j->lp.local_fstype, "ffs") != 0) {
		plan_free(&j->plan);
		return lp_plan_local(j);
	}
	for (i = 0; i < j->plan.n; i++) {
		struct change *c = &j->plan.v[i];
		size_t len;
		char *text;

		if (c->kind != CH_WRITE || c->binary ||
		    !holds_placeholder(c->new, c->newlen))
			continue;
		if ((text = swap_name(c->new, c->newlen, j->lp.hostname,
		    &len)) == NULL) {
			sr_oom();
			return lp_fail(j, j->lout.image);
		}
		free(c->new);
		c->new = text;
		c->newlen = len;
	}
	return 0;
}

/* The new root, read once for every guest. */
static int
fleet_root(struct lp_job *j)
{
	if (j->op == LP_ROLLBACK)
		return 0;
	attach_init(&j->ra, j->root, true);
	if (j->op == LP_PROVISION)
		return provision_root(j);
	if (lp_check_root(j) == -1 || lp_open_root(j) == -1 ||
	    lp_check_not_local(j) == -1)
		return -1;
	/* A guest's local disk is FFS (a directory is taken as it). */
	j->lp.local_fstype = "ffs";
	if (lp_plan_local(j) == -1 || lp_check_root_id(j) == -1)
		return -1;
	if (upgrade_root_load(j->planfd, j->lp.rootspec, &j->plan,
	    &j->newroot) == -1)
		return lp_fail(j, j->rout.image);
	return open_base(j);
}

/* The workers: one a guest, as many at once as jobs allows. */
struct fleet {
	pid_t	*pids;
	int	*rfds, *wfds;	/* each worker's row; its parent's life */
	int	*ofds;		/* each worker's held output */
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
	/* What others said is shown once: none of it left to a worker. */
	if (j->sink.flush != NULL)
		j->sink.flush(j->sink.arg);
	if ((f->ofds[i] = os_anon_file()) == -1 || pipe(fds) == -1 ||
	    pipe2(wfd, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		sr_seterrno("start a guest's run");
		return lp_fail(j, j->rout.image);
	}
	if (pid == 0) {
		close(fds[0]);
		/* Only the parent's end keeps it open. */
		close(wfd[1]);
		for (k = 0; k < i; k++) {
			if (f->wfds[k] != -1)
				close(f->wfds[k]);
			if (f->ofds[k] != -1)
				close(f->ofds[k]);
		}
		/* No worker outlives a killed run. */
		if (sr_die_with_parent(f->self, wfd[0]) == -1)
			_exit(1);
		worker(j, i, fds[1], f->ofds[i]);
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
	held_show(j, f->ofds[k]);
	close(f->ofds[k]);
	f->ofds[k] = -1;
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
		if (f->ofds != NULL && f->ofds[i] != -1)
			close(f->ofds[i]);
	}
	free(f->pids);
	free(f->rfds);
	free(f->wfds);
	free(f->ofds);
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
	    (f.ofds = calloc((size_t)n, sizeof(*f.ofds))) == NULL ||
	    (f.refused = calloc((size_t)n, sizeof(*f.refused))) == NULL) {
		sr_oom();
		lp_fail(j, j->lout.image);
		goto out;
	}
	for (i = 0; i < n; i++)
		f.rfds[i] = f.wfds[i] = f.ofds[i] = -1;
	j->cg.sparse = j->sparse;
	/* One host name, one key: a single guest's (bin says so first). */
	if (j->op == LP_PROVISION && (j->lp.hostname != NULL ||
	    j->keyfile != NULL)) {
		sr_seterr("a host name or key file names one guest, not %d", n);
		lp_fail(j, j->lout.image);
		goto out;
	}
	if (lp_check_opts(j) == -1 || fleet_lock(j, f.refused) == -1 ||
	    fleet_root(j) == -1 || check_distinct(j) == -1 ||
	    check_names(j) == -1 || run_all(j, &f) == -1)
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
