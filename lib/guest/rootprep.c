/*
 * setup-root's steps, each deciding what it would change and saying so
 * when there is nothing to do.  Nothing here writes: rootprep_plan()
 * only reads the guest, and the plan is applied (or shown) by the caller.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "tree/dir.h"
#include "plan/edit.h"
#include "plan/template.h"
#include "guest/rootprep.h"


static const char *const keep_in_dev[] = {
	"MAKEDEV", "MAKEDEV.local", "MAKEDEV.orig", NULL
};
static const char *const mountpoints[] = { "emul", "local", "usr/pkg", NULL };

static bool
devname_ok(const char *s)
{
	if (*s == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		    *s == '-'))
			return false;
	return true;
}

int
localdev_parse(struct rootprep *rp, const char *raw)
{
	const char *base;

	/* The device is written into a shell script: allow no surprises. */
	if (strncmp(raw, "/dev/r", 6) != 0 || !devname_ok(raw + 6) ||
	    strlen(raw) >= sizeof(rp->localrdev)) {
		sr_seterr("%s: give the local disk's raw device, "
		    "/dev/rNAME (letters, digits, '.', '_', '-')", raw);
		sr_sethint(SR_HINT_LOCALDEV);
		return -1;
	}
	base = raw + 6;
	strlcpy(rp->localrdev, raw, sizeof(rp->localrdev));
	snprintf(rp->localdev, sizeof(rp->localdev), "/dev/%s", base);
	return 0;
}

/*
 * A gzipped kernel (the release's binary/kernel/netbsd-XEN3_DOMU.gz)
 * uncompressed into an anonymous temporary file; fd is replaced by it.
 */
static int
gunzip_kernel(struct rootprep *rp, const char *path)
{
	static char buf[1 << 16];
	struct archive *a;
	struct archive_entry *e;
	FILE *tmp;
	ssize_t n;
	int rv = -1;

	if ((a = archive_read_new()) == NULL ||
	    archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, rp->kernelfd, sizeof(buf)) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		sr_seterr("kernel %s: uncompress: %s", path, a ?
		    archive_error_string(a) : "out of memory");
		goto done;
	}
	/* The raw reader takes anything: it must have gone through gzip. */
	if (archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
		sr_seterr("kernel %s: uncompress: not gzip data", path);
		goto done;
	}
	if ((tmp = tmpfile()) == NULL) {
		sr_seterrno("kernel %s: uncompress", path);
		goto done;
	}
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, tmp) != (size_t)n)
			break;
	if (n != 0 || fflush(tmp) != 0 || ftell(tmp) <= 0) {
		if (n >= 0 && sr_noroom(errno))
			sr_seterr_noroom(fileno(tmp), "the uncompressed kernel",
			    0, false);
		else
			sr_seterr("kernel %s: uncompress: %s", path, n < 0 ?
			    archive_error_string(a) : "empty or unwritable");
		fclose(tmp);
		goto done;
	}
	close(rp->kernelfd);
	rp->kernelfd = dup(fileno(tmp));
	fclose(tmp);
	rv = rp->kernelfd == -1 ? -1 : 0;
done:
	if (a != NULL)
		archive_read_free(a);
	return rv;
}

int
kernel_open(struct rootprep *rp, const char *path)
{
	const char *base = strrchr(path, '/');
	unsigned char magic[2];
	struct stat st;
	size_t len;

	base = base ? base + 1 : path;
	strlcpy(rp->kname, base, sizeof(rp->kname));
	len = strlen(rp->kname);
	if (len > 3 && strcmp(rp->kname + len - 3, ".gz") == 0)
		rp->kname[len - 3] = '\0';
	if (!devname_ok(rp->kname) || strlen(base) > NAME_MAX) {
		sr_seterr("kernel %s: unusable file name", path);
		return -1;
	}
	if ((rp->kernelfd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) ==
	    -1) {
		sr_seterrno("kernel %s", path);
		return -1;
	}
	if (fstat(rp->kernelfd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size == 0) {
		sr_seterr("kernel %s: not a non-empty regular file", path);
		close(rp->kernelfd);
		rp->kernelfd = -1;
		return -1;
	}
	if (pread(rp->kernelfd, magic, 2, 0) == 2 && magic[0] == 0x1f &&
	    magic[1] == 0x8b && gunzip_kernel(rp, path) == -1) {
		close(rp->kernelfd);
		rp->kernelfd = -1;
		return -1;
	}
	rp->kernel = path;
	return 0;
}

static const char *
kernel_base(const struct rootprep *rp)
{
	return rp->kname;
}

/* Whether the tree's regular file rel holds what the host file kfd does. */
static int
same_content(struct tree *root, const char *rel, const struct stat *st,
    int kfd, bool *same)
{
	char a[1 << 16], b[1 << 16];
	struct stat kst;
	uint64_t off = 0;
	ssize_t na, nb;

	*same = false;
	if (fstat(kfd, &kst) == -1) {
		sr_seterrno("compare: stat");
		return -1;
	}
	if (st->st_size != kst.st_size)
		return 0;
	do {
		if ((na = tree_pread(root, rel, off, a, sizeof(a))) == -1)
			return -1;
		if ((nb = pread(kfd, b, sizeof(b), (off_t)off)) == -1) {
			sr_seterrno("compare: read");
			return -1;
		}
		if (na != nb || memcmp(a, b, (size_t)na) != 0)
			return 0;
		off += (uint64_t)na;
	} while (na > 0);
	*same = true;
	return 0;
}

/* Whether the guest file rel holds exactly the host kernel. */
static int
kernel_installed(struct tree *root, const char *rel, int kfd, bool *same,
    struct stat *st)
{
	*same = false;
	if (tree_lstat(root, rel, st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(st->st_mode))
		return 0;
	return same_content(root, rel, st, kfd, same);
}

static int
rp_kernel(struct tree *root, const struct rootprep *rp, struct plan *p)
{
	const struct tree_wopts wo = { .mode = 0755, .keep_orig = true };
	const char *base;
	struct stat kst, nst;
	bool same;

	if (rp->kernel == NULL) {
		sr_log(SR_VERBOSE,
		    "netbsd: no kernel given; left as it is");
		return 0;
	}
	base = kernel_base(rp);
	if (kernel_installed(root, base, rp->kernelfd, &same, &kst) == -1)
		return -1;
	if (!same && plan_write_fd(p, base, rp->kernelfd, rp->kernel,
	    &wo) == -1)
		return -1;
	if (strcmp(base, "netbsd") == 0)
		goto report;
	if (same && tree_lstat(root, "netbsd", &nst) == 0 &&
	    nst.st_dev == kst.st_dev && nst.st_ino == kst.st_ino)
		goto report;
	if (plan_link(p, "netbsd", base, true) == -1)
		return -1;
report:
	sr_log(SR_VERBOSE, "netbsd: kernel %s %s", base,
	    p->n ? "to be installed" : "already installed");
	return 0;
}

static bool
keep_dev(const char *name)
{
	size_t i;

	for (i = 0; keep_in_dev[i] != NULL; i++)
		if (strcmp(name, keep_in_dev[i]) == 0)
			return true;
	return false;
}

static enum edit_result
makedev_edit(const void *ctx, const char *t, size_t l, char **o, size_t *ol)
{
	(void)ctx;
	return makedev_patch(t, l, o, ol);
}

/* dev/MAKEDEV: its init) case made to make what a domU needs. */
static int
rp_makedev(struct tree *root, const struct rootprep *rp, struct plan *p)
{
	const struct plan_edit o = {
		.what = "init) to make xbd2 to xbd4 and the pseudo-devices a "
		    "domU needs",
		.already = "already patched",
		.notneeded = "init) makes all devices, xbd0 to xbd3 included; "
		    "left as it is",
		.cannot_ok = true
	};
	char msg[512];
	int r;

	if ((r = plan_edit_file(p, root, "dev/MAKEDEV", makedev_edit, NULL,
	    &o)) != 1)
		return r;
	strlcpy(msg, sr_errmsg(), sizeof(msg));
	if (!rp->force) {
		sr_seterr("dev/MAKEDEV: %s", msg);
		sr_sethint(SR_HINT_FORCE);
		return -1;
	}
	sr_log(SR_WARN, "dev/MAKEDEV: %s; left as it is (forced)",
	    msg);
	return 0;
}

static int
rp_dev(struct tree *root, const struct rootprep *rp, struct plan *p)
{
	char **names = NULL, path[PATH_MAX];
	size_t i, nrm = 0;
	int rv = -1;

	if (rp_makedev(root, rp, p) == -1 ||
	    tree_list(root, "dev", &names) == -1)
		goto done;
	for (i = 0; names[i] != NULL; i++) {
		if (keep_dev(names[i]))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "dev/%s", names[i]) >=
		    sizeof(path)) {
			sr_seterr("dev/%s: name too long", names[i]);
			goto done;
		}
		if (plan_remove(p, path) == -1)
			goto done;
		nrm++;
	}
	if (nrm > 0)
		sr_log(SR_VERBOSE, "dev: %zu entries to remove; "
		    "init makes /dev in memory at boot", nrm);
	else
		sr_log(SR_VERBOSE, "dev: already holds only "
		    "MAKEDEV");
	rv = 0;
done:
	tree_freelist(names);
	return rv;
}

static int
rp_mountpoints(struct tree *root, const struct rootprep *rp, struct plan *p)
{
	struct stat st;
	size_t i, made = 0;

	for (i = 0; mountpoints[i] != NULL; i++) {
		const char *mp = mountpoints[i];

		if (tree_lstat(root, mp, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				sr_seterr("%s: mount point exists and is not "
				    "a directory", mp);
				return -1;
			}
			continue;
		}
		if (errno != ENOENT)
			return -1;
		/* usr/pkg on a root without usr: make usr first. */
		if (strchr(mp, '/') != NULL &&
		    tree_lstat(root, "usr", &st) == -1) {
			if (errno != ENOENT || plan_mkdir(p, "usr", 0755) == -1)
				return -1;
		}
		if (plan_mkdir(p, mp, 0755) == -1)
			return -1;
		made++;
	}
	sr_log(SR_VERBOSE, "emul, local, usr/pkg: %s",
	    made ? "mount points to be made" : "already present");
	return 0;
}

static enum edit_result
rc_hook_edit(const void *ctx, const char *t, size_t l, char **o, size_t *ol)
{
	(void)ctx;
	return rc_insert_hook(t, l, o, ol);
}

/* etc/rc.pre-hooks, from the template, and etc/rc made to source it. */
static int
rp_hook(struct tree *root, const struct rootprep *rp, struct plan *p)
{
	const struct tmpl_var vars[] = {
		{ "LOCAL_DEV", rp->localdev },
		{ "LOCAL_RDEV", rp->localrdev },
		{ NULL, NULL }
	};
	const struct plan_edit o = {
		.what = "to source rc.pre-hooks before rc.subr and rc.conf",
		.already = "already sources rc.pre-hooks"
	};
	struct sbuf hook = { 0 }, cur = { 0 };
	char dir[PATH_MAX];
	bool have;
	int rv = -1;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/rc", rp->sharedir) >=
	    sizeof(dir)) {
		sr_seterr("%s: path too long", rp->sharedir);
		return -1;
	}
	if (tmpl_load(dir, "rc.pre-hooks", vars, &hook) == -1)
		return -1;
	if (plan_read(root, "etc/rc.pre-hooks", true, &cur, NULL, &have) == -1)
		goto done;
	if (have && cur.len == hook.len && memcmp(cur.s, hook.s,
	    hook.len) == 0)
		sr_log(SR_VERBOSE, "etc/rc.pre-hooks: already "
		    "installed");
	else {
		sr_log(SR_VERBOSE, "etc/rc.pre-hooks: to be %s "
		    "(local disk %s)", have ? "updated" : "installed",
		    rp->localdev);
		if (plan_text(p, "etc/rc.pre-hooks", have ? &cur : NULL, &hook,
		    NULL, 0644, NULL) == -1)
			goto done;
	}
	rv = plan_edit_file(p, root, "etc/rc", rc_hook_edit, NULL, &o);
done:
	sbuf_free(&hook);
	sbuf_free(&cur);
	return rv;
}

/*
 * rc.d/root ends with "rm -f /fastboot": on the read-only shared root
 * that fails when the file is there, run_rc_command then skips the
 * guest's start_postcmd, and /local (so /etc and /var) stays read-only.
 */
static int
rp_fastboot(struct tree *root, const struct rootprep *rp, struct plan *p)
{
	struct stat st;

	if (tree_lstat(root, "fastboot", &st) == -1)
		return errno == ENOENT ? 0 : -1;
	sr_log(SR_INFO, "fastboot: to be removed: rc.d/root "
	    "cannot remove it from the read-only root, and would leave "
	    "/local read-only");
	return plan_remove(p, "fastboot");
}

int
rootprep_plan(struct tree *root, const struct rootprep *rp, struct plan *p)
{
	struct stat st;

	/* A tree without etc/rc is not a NetBSD root: say so first. */
	if (tree_lstat(root, "etc/rc", &st) == -1) {
		if (errno == ENOENT)
			sr_seterr("etc/rc: not found; not a NetBSD root");
		return -1;
	}
	if (rp_kernel(root, rp, p) == -1 || sr_checkpoint() == -1 ||
	    rp_dev(root, rp, p) == -1 || sr_checkpoint() == -1 ||
	    rp_mountpoints(root, rp, p) == -1 ||
	    rp_fastboot(root, rp, p) == -1 ||
	    rp_hook(root, rp, p) == -1)
		return -1;
	return 0;
}
