/*
 * A guest's local FFS image written directly (localwrite.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guest/identity.h"
#include "guest/localwrite.h"
#include "image/ffsbuild.h"
#include "image/ffsread.h"

/* What a re-seed replaces; the rest of the old image stays. */
static const char *const replaced[] = { "etc", "tmp", "var", ID_DIR,
    ".sharedroot.stage", NULL };

/* Bytes and entries below the tops of t (a new local's size). */
struct measure {
	const char *const *exclude;
	uint64_t bytes, entries;
};

static int
measure_one(void *ctx, const char *path, const struct stat *st)
{
	struct measure *m = ctx;

	if (path_excluded(m->exclude, path))
		return 1;
	m->entries++;
	if (S_ISREG(st->st_mode) || S_ISLNK(st->st_mode) ||
	    S_ISDIR(st->st_mode))
		m->bytes += ((uint64_t)st->st_size + 4095) & ~(uint64_t)4095;
	return 0;
}

/*
 * A new local's size without -s: room to grow, as makefs was asked for
 * (half its blocks and inodes free), and 64 MiB at least.
 */
static int
new_size(struct lp_job *j, struct tree *root, const struct plan *p,
    uint64_t *size)
{
	struct measure m = { local_secrets, 0, 0 };
	size_t i;

	if (j->size != 0) {
		*size = j->size;
		return 0;
	}
	for (i = 0; root != NULL && local_copy[i] != NULL; i++)
		if (tree_walk(root, local_copy[i], true, measure_one,
		    &m) == -1)
			return -1;
	m.bytes += plan_bytes(p, 4096) + m.entries * 512;
	*size = m.bytes * 2 < (64 << 20) ? 64 << 20 :
	    (m.bytes * 2 + (1 << 20) - 1) & ~(uint64_t)((1 << 20) - 1);
	return 0;
}

/* The new file system's parameters: the old one's, or newfs's. */
static int
new_params(struct lp_job *j, struct tree *root, const struct plan *p,
    struct ffsw_params *fp)
{
	uint64_t size;

	if (j->mode == LP_REBUILD) {
		if (ffsw_params_like(&j->lfi, fp) == -1)
			return -1;
		/* An encrypted volume is the whole file: its size. */
		return 0;
	}
	if (new_size(j, root, p, &size) == -1)
		return -1;
	return ffsw_params_for(size, j->ffsversion ? j->ffsversion : 1, fp);
}

/* The contents: the old image's others, the root's trees, the plan. */
static int
fill(struct lp_job *j, struct tree *root, struct tree *old,
    const struct plan *p, struct ffsb_copy *c, struct tree *t)
{
	size_t i;

	if (old != NULL) {
		struct copy_stats ks = { 0 };

		if (ffsb_copy(c, old, "", root != NULL ? replaced : NULL, t,
		    &ks) == -1) {
			sr_prefixerr("read the old image");
			return -1;
		}
		if (root != NULL)
			sr_log(SR_VERBOSE, "%ju other entries "
			    "of the old image kept", ks.entries);
	}
	for (i = 0; root != NULL && local_copy[i] != NULL; i++)
		if (ffsb_copy(c, root, local_copy[i], local_secrets, t,
		    &j->cs) == -1)
			return -1;
	if (root != NULL)
		sr_log(SR_VERBOSE, "%ju entries and %ju bytes "
		    "copied, %ju secrets left out", j->cs.entries, j->cs.bytes,
		    j->cs.excluded);
	if (sr_checkpoint() == -1 || plan_apply(p, t) == -1 || sr_checkpoint() == -1)
		return -1;
	return 0;
}

/* An encrypted image keeps the old one's mode and (for root) owner. */
static int
keep_mode(struct lp_job *j, int fd)
{
	if (!j->crypt || j->mode != LP_REBUILD)
		return 0;
	if (fchmod(fd, j->lst.st_mode & 07777) == -1 || (geteuid() == 0 &&
	    fchown(fd, j->lst.st_uid, j->lst.st_gid) == -1)) {
		sr_seterrno("mode and owner");
		return -1;
	}
	return 0;
}

int
lp_write_local(struct lp_job *j, struct tree *root, const struct plan *p)
{
	struct ffsw_params fp;
	struct ffsw_sink sink;
	struct ffsb_out o;
	struct ffsb_copy *c = NULL;
	struct cgdio io;
	struct tree *old = NULL, *t = NULL;
	bool inplace = j->mode == LP_REBUILD && !j->crypt;
	uint64_t size;
	int rv = -1;

	cgdio_init(&io, NULL, -1, 0, 0, j->local);
	o.tmp[0] = '\0';
	o.fd = -1;
	if (new_params(j, root, p, &fp) == -1)
		goto done;
	size = j->crypt && j->mode == LP_REBUILD ?
	    (uint64_t)j->lst.st_size : fp.size;
	if (ffsb_out_open(&o, j->local, inplace ? &j->lfi : NULL, size) == -1)
		goto done;
	sink = o.sink;
	if (j->crypt) {
		cgdio_init(&io, j->cg.c, o.fd, 0, size & ~(uint64_t)511,
		    j->local);
		if (cgdio_sink(&io, j->sparse, &sink) == -1)
			goto done;
	}
	if ((c = ffsb_copy_new()) != NULL)
		ffsb_copy_warn(c, true);
	if (c == NULL ||
	    (j->mode == LP_REBUILD && (old = tree_ffs(&j->lfi)) == NULL) ||
	    (t = tree_ffsw(&fp, &sink, "the new image")) == NULL ||
	    fill(j, root, old, p, c, t) == -1 || tree_sync(t) == -1 ||
	    keep_mode(j, o.fd) == -1 || ffsb_out_commit(&o) == -1)
		goto done;
	rv = 0;
done:
	ffsb_out_abort(&o);
	tree_close(t);
	ffsb_copy_free(c);
	tree_close(old);
	cgdio_free(&io);
	return rv;
}

int
lp_open_crypt_old(struct lp_job *j)
{
	/* A cgd volume is whole sectors: anything else was not written so. */
	if (j->lst.st_size % 512 != 0 || j->lst.st_size == 0) {
		sr_seterr("not a cgd image: %jd bytes is not a whole number of "
		    "sectors (truncated?)", (intmax_t)j->lst.st_size);
		return -1;
	}
	if ((j->lfd = open(j->local, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		sr_seterrno("open");
		return -1;
	}
	cgdio_init(&j->lio, j->cg.c, j->lfd, 0, (uint64_t)j->lst.st_size &
	    ~(uint64_t)511, j->local);
	return cgdio_probe(&j->lio, &j->cg.params, &j->lsrc, -1, &j->lfi);
}
