/*
 * setup-root: prepare a shared, read-only NetBSD root for Xen guests.
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <libutil.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "build.h"
#include "copytree.h"
#include "ffsread.h"
#include "rootprep.h"
#include "tool.h"

#ifndef SHAREDIR
#define SHAREDIR "/usr/local/share/sharedroot"
#endif

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s [-fnqv] [-k kernel] [-l local-device] "
	    "target\n"
	    "       %s [-fnqv] [-k kernel] [-l local-device] [-s size] "
	    "-o image source ...\n", getprogname(), getprogname());
	exit(1);
}

static struct stage stage = { .fd = -1 };

static void __attribute__((noreturn))
build_fail(const char *image)
{
	char msg[1024];

	strlcpy(msg, sr_errmsg(), sizeof(msg));
	(void)stage_close(&stage);
	sr_seterr("%s", msg);
	tool_fail(image, NULL, 0);
}

static bool
is_set(const char *path)
{
	static const char *const ext[] = { ".tgz", ".tar.gz", ".tar", ".txz",
	    ".tar.xz", ".tbz", ".tar.bz2", NULL };
	size_t n = strlen(path), i;

	for (i = 0; ext[i] != NULL; i++)
		if (n > strlen(ext[i]) && strcmp(path + n - strlen(ext[i]),
		    ext[i]) == 0)
			return true;
	return false;
}

/*
 * setup-root -o: stage the sources in order (a directory, an FFS image,
 * or NetBSD sets), prepare the staged root, and write a new FFS image
 * with makefs.  Nothing is mounted, and no privileges are needed.
 */
static int
build_root(const char *image, int nsrc, char *src[], uint64_t size,
    struct rootprep *rp, struct toolout *out, const char *kernel,
    const char *ldev, bool dryrun)
{
	/* A shared root is read-only: little room is needed. */
	static const char *const room[] = { "-b", "10%", "-f", "10%", NULL };
	struct plan plan = { 0 };
	struct copy_stats cs, total = { 0 };
	struct sbuf desc = { 0 };
	int i;

	out->image = image;
	if (nsrc < 1)
		usage();
	sr_signals_catch();
	if (localdev_parse(rp, ldev) == -1 ||
	    (kernel != NULL && kernel_open(rp, kernel) == -1) ||
	    stage_open(&stage) == -1)
		build_fail(image);
	for (i = 0; i < nsrc; i++) {
		struct copy_opts co = { .dstfd = stage.fd, .spec = &stage.copied,
		    .log = tool_log, .logctx = out };
		char **names = NULL, real[PATH_MAX];
		struct stat st;
		int r;

		if (stat(src[i], &st) == -1) {
			sr_seterrno("%s", src[i]);
			build_fail(image);
		}
		if (S_ISDIR(st.st_mode)) {
			int fd = open(src[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (fd == -1 || realpath(src[i], real) == NULL ||
			    tree_list(fd, "", &names) == -1) {
				if (fd != -1)
					close(fd);
				sr_prefixerr("%s", src[i]);
				build_fail(image);
			}
			close(fd);
			co.srcpath = real;
			co.tops = (const char *const *)names;
			r = copy_trees(&co, &cs);
			tree_freelist(names);
		} else if (is_set(src[i]))
			r = sets_extract(&co, src[i], &cs);
		else
			r = ffs_extract(src[i], NULL, NULL, stage.fd,
			    &stage.copied, tool_log, out, &cs);
		if (r == -1) {
			sr_prefixerr("%s", src[i]);
			build_fail(image);
		}
		total.entries += cs.entries;
		tool_log(out, SR_VERBOSE, "%s: %ju entries staged", src[i],
		    cs.entries);
	}
	/* init makes /dev in memory: the sources' device nodes go. */
	if (spec_drop_devices(&stage.copied, "dev") > 0)
		tool_log(out, SR_VERBOSE, "dev: device nodes left out");
	if (rootprep_plan(stage.fd, rp, &plan) == -1)
		build_fail(image);
	if (dryrun) {
		if (plan_describe(&plan, &desc) == -1)
			build_fail(image);
		tool_putlines(stdout, desc.s ? desc.s : "");
		sbuf_free(&desc);
	} else if (plan_apply(&plan, stage.fd, true, tool_log, out) == -1 ||
	    build_image(&stage, &plan, image, size, room, tool_log, out) == -1)
		build_fail(image);
	if (stage_close(&stage) == -1)
		build_fail(image);
	if (dryrun)
		tool_log(out, SR_INFO, "dry run: %zu changes; nothing written",
		    plan.n);
	else
		tool_log(out, SR_INFO, "built from %d source%s: %ju entries, "
		    "%zu changes", nsrc, nsrc > 1 ? "s" : "", total.entries,
		    plan.n);
	plan_free(&plan);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct rootprep rp;
	struct toolout out = { NULL, 0 };
	struct attach at, *ats[1] = { &at };
	struct plan plan = { 0 };
	struct sbuf desc = { 0 };
	const char *kernel = NULL, *ldev = "/dev/rxbd2a", *output = NULL;
	uint64_t size = 0;
	bool dryrun = false;
	int ch;

	setprogname(argv[0]);
	memset(&rp, 0, sizeof(rp));
	rp.kernelfd = -1;
	rp.sharedir = SHAREDIR;
	rp.log = tool_log;
	rp.logctx = &out;
	while ((ch = getopt(argc, argv, "fk:l:no:qs:v")) != -1) {
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
		case 'o':
			output = optarg;
			break;
		case 's':
			if (expand_number(optarg, &size) == -1 ||
			    size < (1ULL << 20) || size > (16ULL << 40))
				errx(1, "-s %s: give a size from 1m to 16t",
				    optarg);
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
	if (output != NULL)
		return build_root(output, argc, argv, size, &rp, &out, kernel,
		    ldev, dryrun);
	if (argc != 1 || size != 0)
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
