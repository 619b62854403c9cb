/*
 * setup-local: make a Xen guest's local disk (its etc, tmp and var) from
 * the shared NetBSD root.  The run is the library's (guest/localrun.h):
 * here are the options, what is printed, and the exit status.
 */
#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "base/compat.h"
#include "guest/localrun.h"
#include "tool.h"

#ifndef SHAREDIR
#define SHAREDIR "/usr/local/share/sharedroot"
#endif

#define MINSIZE	(4ULL << 20)
#define MAXSIZE	(16ULL << 40)

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s [-fnqvz] [-c keyfile] [-h hostname] "
	    "[-K passfile] [-O 1|2] [-P pkg-device|none]\n"
	    "       [-p partition] [-S cipher|none] [-s size] "
	    "[-T templates-dir] root local\n"
	    "       %s [-fnqv] [-P pkg-device|none] [-p partition] "
	    "[-S cipher|none] [-s size]\n"
	    "       [-T templates-dir] root local local ...\n"
	    "       %s -u [-fnqvz] [-b old-root] [-c keyfile] [-h hostname] "
	    "[-K passfile]\n"
	    "       [-P pkg-device|none] "
	    "[-p partition] [-S cipher|none] [-T templates-dir]\n"
	    "       root local ...\n"
	    "       %s -R [-nqvz] [-c keyfile] [-K passfile] local ...\n",
	    getprogname(), getprogname(), getprogname(), getprogname());
	exit(1);
}

/* The sink's message: as tool_log says it, with a hint's words. */
static void
say(void *arg, const char *image, enum sr_level level, enum sr_hint hint,
    const char *msg)
{
	struct toolout o = { image, 1 };
	const char *before, *after;

	tool_hintwords(hint, &before, &after);
	tool_log(&o, level, "%s%s%s", before, msg, after);
}

/* The failure recorded, about image (and an undo's that failed too). */
static void
say_failed(void *arg, const char *image, const char *undo)
{
	char msg[1024];

	tool_errmsg(msg, sizeof(msg));
	if (undo != NULL && undo[0] != '\0') {
		fprintf(stderr, "%s: ", getprogname());
		tool_putsafe(stderr, undo);
		fputc('\n', stderr);
	}
	fprintf(stderr, "%s: ", getprogname());
	tool_putsafe(stderr, image != NULL ? image : "(none)");
	fputs(": ", stderr);
	tool_putsafe(stderr, msg);
	fputc('\n', stderr);
}

static void
show(void *arg, const char *text, size_t len)
{
	tool_putlines(stdout, text, len);
}

static void
flush(void *arg)
{
	fflush(stdout);
}

/*
 * A guest's worker: its failure is one line, written at once, however
 * many guests fail together (what else it says, lib holds and its
 * parent shows whole).
 */
static void
worker(void *arg)
{
	setvbuf(stderr, NULL, _IOLBF, 0);
}

/*
 * Each mode takes the options its usage() line shows: one it would
 * ignore is refused, so that nothing asked for is silently not done.
 */
static void
check_mode_opts(const struct lp_job *j, const char *seen)
{
	static const char all[] = "bcfhKnOPpqSsTvz";
	const char *takes = j->op == LP_ROLLBACK ? "cKnqvz" :
	    j->op == LP_UPGRADE ? "bcfhKnPpqSTvz" : "cfhKnOPpqSsTvz";
	const char *p;

	for (p = all; *p != '\0'; p++) {
		if (!seen[(unsigned char)*p] || strchr(takes, *p) != NULL)
			continue;
		if (j->op != LP_PROVISION)
			errx(1, "-%c: not used with -%c", *p,
			    j->op == LP_ROLLBACK ? 'R' : 'u');
		errx(1, "-%c: only with -u", *p);
	}
	/* Holes reveal which blocks are used: only asked for, with -c. */
	if (j->sparse && j->keyfile == NULL)
		errx(1, "-z: only with -c (it keeps an encrypted image "
		    "sparse)");
}

/*
 * Several guests provisioned: each is named by its image's name, and an
 * encrypted guest's key is its own (made a run each, as with -u).
 */
static void
check_several(const char *seen)
{
	const char *p;

	if (seen['h'])
		errx(1, "-h: one guest's host name: with several locals, "
		    "each guest's is its image's name (web1.img: web1)");
	for (p = "cKz"; *p != '\0'; p++)
		if (seen[(unsigned char)*p])
			errx(1, "-%c: one guest's key: encrypted guests are "
			    "provisioned a run each", *p);
}

/* A number option's value, or the run refused naming it. */
static void
numopt(struct lp_job *j, int ch, const char *arg)
{
	const char *errstr;

	if (ch == 'p' && ((j->part = (int)strtonum(arg, 0, 127, &errstr)),
	    errstr != NULL))
		errx(1, "-p %s: give a partition number, 0 to 127", arg);
	if (ch == 'O' && ((j->ffsversion = (int)strtonum(arg, 1, 2, &errstr)),
	    errstr != NULL))
		errx(1, "-O %s: give an FFS version, 1 or 2", arg);
	if (ch == 's' && (sr_parse_size(arg, &j->size) == -1 ||
	    j->size < MINSIZE || j->size > MAXSIZE))
		errx(1, "-s %s: give a size from 4m to 16t", arg);
}

/* The options into the job; optind past them. */
static void
options(struct lp_job *j, int argc, char *argv[], char *seen)
{
	int ch;

	while ((ch = getopt(argc, argv, "b:c:fh:K:nO:P:p:qRS:s:T:uvz")) != -1) {
		seen[(unsigned char)ch] = 1;
		switch (ch) {
		case 'b':
			j->baseroot = optarg;
			break;
		case 'c':
			j->keyfile = optarg;
			break;
		case 'f':
			j->lp.force = true;
			break;
		case 'h':
			j->lp.hostname = optarg;
			break;
		case 'K':
			j->passfile = optarg;
			break;
		case 'n':
			j->dryrun = true;
			break;
		case 'P':
			j->lp.pkgdev = strcmp(optarg, "none") == 0 ? NULL :
			    optarg;
			break;
		case 'O':
		case 'p':
		case 's':
			numopt(j, ch, optarg);
			break;
		case 'q':
			j->verbose = -1;
			break;
		case 'R':
			j->op = LP_ROLLBACK;
			break;
		case 'S':
			j->lp.cipher = optarg;
			break;
		case 'T':
			j->lp.tmpldir = optarg;
			break;
		case 'u':
			j->op = LP_UPGRADE;
			break;
		case 'v':
			j->verbose = 1;
			break;
		case 'z':
			j->sparse = true;
			break;
		default:
			usage();
		}
	}
	if (seen['u'] && seen['R'])
		usage();
	check_mode_opts(j, seen);
}

/* Several guests provisioned: what each copied and changed. */
static void
print_head_made(int w)
{
	printf("%-*s %8s %7s  %s\n", w, "guest", "entries", "changes",
	    "result");
}

static void
print_row_made(int w, const char *name, const struct lp_row *r)
{
	static const char *const results[] = { "failed", "provisioned",
	    "current", "conflicts", "planned", "not run" };

	if (r->result == LP_ROW_DONE || r->result == LP_ROW_PLANNED)
		printf("%-*s %8ju %7zu  %s\n", w, name, r->entries,
		    r->changes, results[r->result]);
	else
		printf("%-*s %8s %7s  %s\n", w, name, "-", "-",
		    results[r->result]);
}

/* The fleet's table: a row a guest, names whole (and vis-encoded). */
static void
print_table(const struct lp_job *j)
{
	static const char *const results[] = { "failed", "upgraded",
	    "current", "conflicts", "planned", "not run" };
	const struct lp_row *rows = j->rows;
	char **names;
	int i, w = 24, n = j->nlocals;

	if ((names = calloc((size_t)n, sizeof(*names))) == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++) {
		if (stravis(&names[i], j->locals[i], VIS_WHITE | VIS_OCTAL) ==
		    -1)
			err(1, "stravis");
		if ((int)strlen(names[i]) > w)
			w = (int)strlen(names[i]);
	}
	if (j->op == LP_PROVISION)
		print_head_made(w);
	else
		printf("%-*s %6s %6s %6s %9s %6s  %s\n", w, "guest", "taken",
		    "kept", "merged", "conflicts", "added", "result");
	for (i = 0; i < n; i++) {
		if (j->op == LP_PROVISION) {
			print_row_made(w, names[i], &rows[i]);
			free(names[i]);
			continue;
		}
		const char *res = rows[i].result != LP_ROW_DONE ||
		    j->op != LP_ROLLBACK ? results[rows[i].result] :
		    rows[i].forward ? "rolled forward" : "rolled back";

		if (rows[i].result == LP_ROW_FAILED ||
		    rows[i].result == LP_ROW_NOTRUN)
			printf("%-*s %6s %6s %6s %9s %6s  %s\n", w, names[i],
			    "-", "-", "-", "-", "-", res);
		else
			printf("%-*s %6zu %6zu %6zu %9zu %6zu  %s\n", w,
			    names[i], rows[i].taken, rows[i].kept,
			    rows[i].merged, rows[i].conflicts, rows[i].added,
			    res);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char *argv[])
{
	static struct lp_job j;
	static char tmpl[PATH_MAX];
	char seen[UCHAR_MAX + 1] = { 0 };	/* each option given */
	int rv, nroots;

	setprogname(argv[0]);
	lp_job_init(&j);
	snprintf(tmpl, sizeof(tmpl), "%s/templates", tool_sharedir(SHAREDIR));
	j.lp.tmpldir = tmpl;
	j.lp.pkgdev = "/dev/xbd3a";
	j.sink = (struct lp_sink){ say, say_failed, show, flush, worker, NULL };
	options(&j, argc, argv, seen);
	argc -= optind;
	argv += optind;
	nroots = j.op == LP_ROLLBACK ? 0 : 1;
	if (argc < nroots + 1 || (j.op == LP_PROVISION && argc < 2))
		usage();
	if (j.op == LP_PROVISION && argc > 2)
		check_several(seen);
	/* A guest's key and plaintext: never in a core file on a disk. */
	if (j.keyfile != NULL && sr_no_core() == -1)
		err(1, "core dumps");
	j.root = nroots ? argv[0] : NULL;
	j.local = argv[nroots];
	j.locals = argv + nroots;
	j.nlocals = argc - nroots;
	sr_signals_catch();
	if ((rv = lp_run(&j)) == -1) {
		say_failed(NULL, j.errimage, j.teardown_err);
		return 1;
	}
	/* Quiet: nothing but errors and warnings; the exit status tells. */
	if ((j.op != LP_PROVISION || j.nlocals > 1) && (j.nlocals > 1 ||
	    sr_interrupted()) && j.verbose >= 0)
		print_table(&j);
	lp_job_free(&j);
	if ((j.op != LP_PROVISION || j.nlocals > 1) && sr_interrupted()) {
		fprintf(stderr, "%s: interrupted\n", getprogname());
		return 1;
	}
	return rv;
}
