/*
 * setup-root: prepare a shared, read-only NetBSD root for Xen guests.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/compat.h"
#include "guest/rootrun.h"
#include "tree/lock.h"
#include "tree/scratch.h"
#include "tool.h"

#ifndef SHAREDIR
#define SHAREDIR "/usr/local/share/sharedroot"
#endif

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s [-fnqv] [-k kernel] [-l local-device] "
	    "[-p partition] target\n"
	    "       %s [-fnqv] [-k kernel] [-l local-device] [-p partition] "
	    "[-O 1|2]\n"
	    "                  [-s size] -o image source ...\n", getprogname(),
	    getprogname());
	exit(1);
}

/*
 * Lock a target for the whole run (lock.h): the root to change it (to
 * read it, -n), a source to read it.  Refused, the run stops before
 * anything, naming the target and the run that holds it.
 */
static void
lock_target(const char *path, bool excl, struct toolout *out)
{
	struct toolout o = *out;
	int l;

	o.image = path;
	if ((l = sr_lock(path, excl)) == -1)
		tool_fail(path, NULL, 0);
	if (l == 1)
		tool_log(&o, SR_VERBOSE, "read unlocked: no lock file can be "
		    "made beside it");
}

/* The root, or the image and its sources (-o), locked. */
static void
lock_all(const struct rootrun *j, struct toolout *out)
{
	int i;

	lock_target(j->target, !j->dryrun, out);
	for (i = 0; j->build && i < j->nsrc; i++)
		lock_target(j->srcs[i], false, out);
}

/* A dry run's diffs, unless -q. */
static void
show(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	tool_putlines(stdout, text, len);
}

/* Options into the job; what main() checks after. */
static void
getopts(int argc, char *argv[], struct rootrun *j, struct toolout *out)
{
	const char *errstr;
	bool vset = false;
	int ch;

	while ((ch = getopt(argc, argv, "fk:l:no:O:p:qs:v")) != -1) {
		switch (ch) {
		case 'f':
			j->rp.force = true;
			break;
		case 'k':
			j->kernel = optarg;
			break;
		case 'l':
			j->localdev = optarg;
			break;
		case 'n':
			j->dryrun = true;
			break;
		case 'o':
			j->target = optarg;
			j->build = true;
			break;
		case 'O':
			j->version = (int)strtonum(optarg, 1, 2, &errstr);
			if (errstr != NULL)
				errx(1, "-O %s: give the FFS version, 1 or 2",
				    optarg);
			vset = true;
			break;
		case 'p':
			j->part = (int)strtonum(optarg, 0, 127, &errstr);
			if (errstr != NULL)
				errx(1, "-p %s: give a partition number, 0 to "
				    "127", optarg);
			break;
		case 's':
			if (sr_parse_size(optarg, &j->size) == -1 ||
			    j->size < (1ULL << 20) || j->size > (16ULL << 40))
				errx(1, "-s %s: give a size from 1m to 16t",
				    optarg);
			break;
		case 'q':
			out->verbose = -1;
			break;
		case 'v':
			out->verbose = 1;
			break;
		default:
			usage();
		}
	}
	/* The version is the new image's: one prepared keeps its own. */
	if (vset && !j->build)
		usage();
}

/* What the run did, in a line (unless -q). */
static void
report(const struct rootrun *j, struct toolout *out)
{
	if (j->mode == ROOTRUN_BUILD && !j->dryrun)
		tool_log(out, SR_INFO, "built from %d source%s: %ju entries, "
		    "%zu changes", j->nsrc, j->nsrc > 1 ? "s" : "", j->entries,
		    j->changes);
	else if (j->mode == ROOTRUN_BUILD)
		tool_log(out, SR_INFO, "dry run: %zu changes; nothing written",
		    j->changes);
	else if (j->changes == 0)
		tool_log(out, SR_INFO, "already prepared; nothing changed");
	else if (j->dryrun)
		tool_log(out, SR_INFO, "dry run: %zu changes; nothing written",
		    j->changes);
	else
		tool_log(out, SR_INFO, "prepared (%zu changes)%s", j->changes,
		    j->mode == ROOTRUN_REBUILD ? "; rebuilt like itself" : "");
}

int
main(int argc, char *argv[])
{
	struct rootrun job;
	struct toolout out = { NULL, 0 };
	struct attach *ats[1] = { &job.at };

	setprogname(argv[0]);
	rootrun_init(&job);
	job.localdev = "/dev/rxbd2a";
	job.rp.sharedir = tool_sharedir(SHAREDIR);
	sr_setlog(tool_log, &out);
	getopts(argc, argv, &job, &out);
	argc -= optind;
	argv += optind;
	if (job.build ? argc < 1 : argc != 1 || job.size != 0)
		usage();
	if (job.build) {
		job.srcs = argv;
		job.nsrc = argc;
	} else
		job.target = argv[0];
	job.show = out.verbose < 0 ? NULL : show;
	out.image = job.target;
	sr_signals_catch();
	/* What killed runs left; the locks go with this run. */
	scratch_purge();
	atexit(sr_unlock_all);
	lock_all(&job, &out);
	if (rootrun_run(&job) == -1 || rootrun_end(&job) == -1)
		tool_fail(job.target, ats, 1);
	if (!job.build && job.kernel == NULL && out.verbose == 0)
		tool_log(&out, SR_INFO, "netbsd: no kernel given (-k); "
		    "left as it is");
	report(&job, &out);
	return 0;
}
