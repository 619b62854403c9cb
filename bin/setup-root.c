/*
 * setup-root: prepare a shared, read-only NetBSD root for Xen guests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "rootprep.h"
#include "tool.h"

#ifndef SHAREDIR
#define SHAREDIR "/usr/local/share/sharedroot"
#endif

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s [-fnqv] [-k kernel] [-l local-device] "
	    "target\n", getprogname());
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct rootprep rp;
	struct toolout out = { NULL, 0 };
	struct attach at, *ats[1] = { &at };
	struct plan plan = { 0 };
	struct sbuf desc = { 0 };
	const char *kernel = NULL, *ldev = "/dev/rxbd2a";
	bool dryrun = false;
	int ch;

	setprogname(argv[0]);
	memset(&rp, 0, sizeof(rp));
	rp.kernelfd = -1;
	rp.sharedir = SHAREDIR;
	rp.log = tool_log;
	rp.logctx = &out;
	while ((ch = getopt(argc, argv, "fk:l:nqv")) != -1) {
		switch (ch) {
		case 'f':
			rp.force = true;
			break;
		case 'k':
			kernel = optarg;
			break;
		case 'l':
			ldev = optarg;
			break;
		case 'n':
			dryrun = true;
			break;
		case 'q':
			out.verbose = -1;
			break;
		case 'v':
			out.verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	out.image = argv[0];

	sr_signals_catch();
	attach_init(&at, argv[0], dryrun);
	if (localdev_parse(&rp, ldev) == -1 ||
	    (kernel != NULL && kernel_open(&rp, kernel) == -1))
		tool_fail(out.image, ats, 0);
	if (attach_open(&at) == -1 ||
	    rootprep_plan(at.rootfd, &rp, &plan) == -1)
		tool_fail(out.image, ats, 1);
	if (dryrun) {
		if (plan_describe(&plan, &desc) == -1)
			tool_fail(out.image, ats, 1);
		tool_putlines(stdout, desc.s ? desc.s : "");
	} else if (plan_apply(&plan, at.rootfd, false, tool_log, &out) == -1)
		tool_fail(out.image, ats, 1);
	if (tool_finish(ats, 1) == -1)
		tool_fail(out.image, ats, 1);

	if (kernel == NULL && out.verbose == 0)
		tool_log(&out, SR_INFO, "netbsd: no kernel given (-k); "
		    "left as it is");
	if (plan.n == 0)
		tool_log(&out, SR_INFO, "already prepared; nothing changed");
	else if (dryrun)
		tool_log(&out, SR_INFO, "dry run: %zu changes; nothing written",
		    plan.n);
	else
		tool_log(&out, SR_INFO, "prepared (%zu changes)", plan.n);
	sbuf_free(&desc);
	plan_free(&plan);
	return 0;
}
