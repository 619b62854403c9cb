/*
 * NetBSD sets (setup-root -o): the member-name check on the input as
 * a name, and the input as a set, extracted into a fresh stage in a
 * scratch directory.  Nothing may appear beside the stage, and no
 * name outside the root may pass.
 */
#include "tree/copytree.h"
#include "tree/spec.h"
#include "fuzz.h"

/*
 * The name check: a path it lets in is relative, in canonical form (no
 * empty, "." or ".." component), and has the name's components in
 * order; one it refuses was absolute or had a ".." component.
 */
static void
check_name(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1), out[PATH_MAX], *p;
	int r;

	if (name == NULL)
		abort();
	memcpy(name, data, size);
	name[size] = '\0';
	r = set_member_name(name, out, sizeof(out));
	if (r == 1) {
		FUZZ_ASSERT(out[0] != '/' && out[0] != '\0' &&
		    out[strlen(out) - 1] != '/');
		FUZZ_ASSERT(strstr(out, "//") == NULL);
		for (p = out; p != NULL; p = strchr(p, '/'), p = p ? p + 1 : p)
			FUZZ_ASSERT(strncmp(p, "./", 2) != 0 &&
			    strcmp(p, ".") != 0 && strncmp(p, "../", 3) != 0 &&
			    strcmp(p, "..") != 0);
		FUZZ_ASSERT(strlen(out) <= strlen(name));
	}
	if (r == 0)
		FUZZ_ASSERT(strspn(name, "./") == strlen(name));
	free(name);
}

/* The scratch holds the set, the stage and the canary: no more. */
static void
check_scratch(void)
{
	static const char *const names[] = { "set.tar", "stage", "canary",
	    NULL };
	char path[PATH_MAX], buf[16];
	int fd;

	fuzz_scratch_only(names);
	fd = open(fuzz_path("canary", path, sizeof(path)), O_RDONLY);
	FUZZ_ASSERT(fd != -1 && read(fd, buf, sizeof(buf)) == 6 &&
	    memcmp(buf, "canary", 6) == 0);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char canary[PATH_MAX];
	char set[PATH_MAX], stage[PATH_MAX];
	struct spec spec = { 0 };
	struct copy_opts co = { .spec = &spec };
	struct copy_stats cs;

	check_name(data, size);
	if (canary[0] == '\0')
		fuzz_file("canary", "canary", 6, canary, sizeof(canary));
	fuzz_file("set.tar", data, size, set, sizeof(set));
	fuzz_path("stage", stage, sizeof(stage));
	if (mkdir(stage, 0700) == -1 ||
	    (co.dstfd = open(stage, O_RDONLY | O_DIRECTORY)) == -1)
		abort();
	(void)sets_extract(&co, set, &cs);
	close(co.dstfd);
	check_scratch();
	fuzz_rm(stage);
	spec_free(&spec);
	return 0;
}
