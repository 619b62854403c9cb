/*
 * One setup-local run as a library call: what is asked (a job), what
 * it holds on the host while it runs (attachments, a new image, stages,
 * an encrypted guest's plaintext), and the one teardown that undoes it.
 *
 * The front end fills the asked-for fields (lp_job_init() first), calls
 * lp_run() (localrun.h) and says what happened: the library prints
 * nothing and exits nothing; what a run reports goes to the job's sink.
 */
#ifndef JOB_H
#define JOB_H

#include <sys/stat.h>

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgd/cgdimage.h"
#include "cgd/cgdio.h"
#include "guest/localprep.h"
#include "guest/upgrade.h"
#include "image/attach.h"
#include "image/build.h"
#include "image/ffsimg.h"

/* What is asked: set by the front end from its arguments, once. */
enum lp_op {
	LP_PROVISION,		/* seed one local from a root */
	LP_UPGRADE,		/* move locals to a new root */
	LP_ROLLBACK		/* move locals back to the root before */
};

/*
 * How a local is made or changed, decided once per guest by
 * lp_check_local() from what it finds; everything after switches on it:
 *   UPDATE   a directory, or an image this host mounts, filled in place;
 *   CREATE   a new image made and mounted (vnd and newfs on NetBSD);
 *   BUILD    a new FFS image written directly, nothing mounted;
 *   REBUILD  an existing FFS image this host cannot mount (Linux), or
 *            that an ordinary user may write: read with libtsk and
 *            written again like itself, renamed over the old.
 */
enum lp_mode { LP_UPDATE, LP_CREATE, LP_BUILD, LP_REBUILD };

/*
 * Where a run's reports go; the front end prints them.  Every text is
 * untrusted (names and contents of images): the front end encodes it.
 */
struct lp_sink {
	/*
	 * A progress message or warning about image, already filtered;
	 * the hint names what would help, in the tool's words, after it.
	 */
	void	(*msg)(void *, const char *, enum sr_level, enum sr_hint,
		    const char *);
	/*
	 * The failure recorded (sr_errmsg(), sr_errhint()) about image; an
	 * undo that failed too, or "".  In a fleet, it stops one guest.
	 */
	void	(*error)(void *, const char *, const char *);
	/* Lines to show as they are (a plan as a diff, a list of changes). */
	void	(*text)(void *, const char *, size_t);
	/* Before a worker process starts, and first thing in one. */
	void	(*flush)(void *);
	void	(*worker)(void *);
	void	*arg;
};

/* A job's log context: the image messages name. */
struct lp_out {
	struct lp_job *job;
	const char *image;
	bool	 secrets;	/* show what is left out (a dry run's list) */
};

/* What a guest's run (of several) tells the fleet's table. */
enum lp_result { LP_ROW_FAILED, LP_ROW_DONE, LP_ROW_CURRENT,
    LP_ROW_CONFLICTS, LP_ROW_PLANNED, LP_ROW_NOTRUN };
struct lp_row {
	size_t	 taken, kept, merged, conflicts, added;
	uintmax_t entries;		/* provision: copied from the root */
	size_t	 changes;		/* provision: the plan's edits */
	int	 result;		/* enum lp_result */
	bool	 forward;		/* a rollback to the newer root */
};

struct lp_job {
	/* Asked (the front end's). */
	enum lp_op op;
	struct localprep lp;		/* the guest's settings */
	const char *root;		/* NULL for a rollback */
	const char *local;		/* provision: the local */
	char	*const *locals;		/* the guests (provision: more than */
					/* one, each named by its image) */
	int	 nlocals;
	const char *baseroot;		/* the root a local without a record */
					/* was seeded from, or NULL */
	const char *keyfile, *passfile;	/* cgd, or NULL */
	uint64_t size;			/* a new local's, or 0 */
	int	 part;			/* the root's partition, or -1 */
	int	 verbose;		/* -1 quiet, 0, 1 verbose */
	bool	 dryrun;
	bool	 sparse;		/* an encrypted image's free sectors */
					/* left as holes */
	int	 ffsversion;		/* a new local's FFS: 1, 2 (0: 1) */
	struct lp_sink sink;

	/* Found and decided. */
	enum lp_mode mode;
	struct lp_out rout, lout;	/* messages about the root, the local */
	struct plan plan;
	struct copy_stats cs;
	struct ffsimg rfi, lfi;
	const char *rpath;		/* the root's trees as a host path */
	char	 rbuf[PATH_MAX];
	int	 planfd;		/* the root's tree the plan reads: */
					/* ra's, or a stage's (not owned), -1 */
	int	 bfd;			/* the base root's tree, or -1 */
	struct spec *bspec;		/* its owners, if staged */
	struct upgrade_root newroot;	/* what was read of the new root */
	struct stat lst;		/* an existing local image */
	struct stat rst;		/* the root, if it exists */
	bool	 crypt;			/* cgd done here, on the plaintext */
	bool	 rffs;			/* the root is read with libtsk */

	/* Held on the host: each with its sentinel (lp_job_teardown). */
	struct attach ra, la, ba;	/* the root, the local, the base */
	char	 newimg[PATH_MAX];	/* a new image, until renamed */
	int	 newimgfd;		/* holds it as ours */
	struct stage stage;		/* what a build fills */
	struct stage rstage;		/* an FFS root read to fill in place */
	struct stage bstage;		/* an FFS base root */
	struct cgdimg cg;		/* the key */
	int	 lfd;			/* an encrypted old local, read */
	struct cgdio lio;		/* through its key, */
	struct ffs_source lsrc;		/* as lfi's source */
	bool	 roots_lent;		/* a worker: the roots are its parent's */
	bool	 in_fleet;		/* a worker: the locks and the root's */
					/* checks are its parent's */

	/* Told back. */
	const char *errimage;		/* what a failure's message is about */
	char	 teardown_err[1024];	/* an undo that failed too, or "" */
	struct lp_row *rows;		/* upgrade, rollback: a row a guest */
};

/* A job with its defaults and every sentinel set; nothing held yet. */
void	lp_job_init(struct lp_job *);
/*
 * Undo what the job holds, in reverse: with undo (a failure, a signal)
 * a new image and a key file made by this run are removed too, and the
 * message recorded is kept (an undo that fails is put in teardown_err).
 * Without, what is held is closed and -1 says what could not be.  Safe
 * to call twice, and on a job that holds nothing.
 */
int	lp_job_teardown(struct lp_job *, bool);
/* Free what the job's results hold (rows, plan, the new root). */
void	lp_job_free(struct lp_job *);
/* Record that the step failed about image; -1, for "return lp_fail()". */
int	lp_fail(struct lp_job *, const char *);
/*
 * The sr_logfn a job's lp_out reports through (to its sink, filtered by
 * the job's verbosity): lp_run() registers it (sr_setlog()) for the run,
 * naming the local, so that lib's sr_log()s go to the sink.
 */
void	lp_log(void *, enum sr_level, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* A warning about out's image ending where hint's words go. */
void	lp_warn_hint(struct lp_out *, enum sr_hint, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Show text through the sink. */
void	lp_text(struct lp_job *, const char *, size_t);

#endif /* JOB_H */
