/*
 * The portability layer on Linux (see os.h).
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/xattr.h>

#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <libutil.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/os.h"
#include "base/sr.h"

int
os_open_beneath(int dirfd, const char *rel, int flags)
{
#if defined(SYS_openat2) && !defined(SR_NO_OPENAT2)
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
#else
	(void)dirfd;
	(void)rel;
	(void)flags;
	errno = ENOSYS;
	return -1;
#endif
}

int
os_exchange(int fromfd, const char *from, int tofd, const char *to)
{
#ifdef SYS_renameat2
	return (int)syscall(SYS_renameat2, fromfd, from, tofd, to,
	    RENAME_EXCHANGE);
#else
	(void)fromfd;
	(void)from;
	(void)tofd;
	(void)to;
	errno = ENOSYS;
	return -1;
#endif
}

int
os_syncfs(int fd)
{
	return syncfs(fd);
}

bool
os_can_punch(void)
{
#ifdef FALLOC_FL_PUNCH_HOLE
	return true;
#else
	return false;
#endif
}

int
os_punch_hole(int fd, off_t off, off_t len)
{
#ifdef FALLOC_FL_PUNCH_HOLE
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
	    len);
#else
	(void)fd;
	(void)off;
	(void)len;
	errno = EOPNOTSUPP;
	return -1;
#endif
}

int
os_copy_xattrs(int from, int to)
{
	char names[65536], *name;
	ssize_t len;
	char *val = NULL;

	if ((len = flistxattr(from, names, sizeof(names))) == -1)
		return errno == ENOTSUP ? 0 : -1;
	for (name = names; name < names + len; name += strlen(name) + 1) {
		ssize_t vlen = fgetxattr(from, name, NULL, 0);
		char *nv;

		if (vlen == -1 || (nv = realloc(val, (size_t)vlen + 1)) ==
		    NULL)
			goto fail;
		val = nv;
		if ((vlen = fgetxattr(from, name, val, (size_t)vlen)) == -1 ||
		    fsetxattr(to, name, val, (size_t)vlen, 0) == -1)
			goto fail;
	}
	free(val);
	return 0;
fail:
	free(val);
	return -1;
}

int
os_in_memory(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) == -1)
		return -1;
	return sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;
}

void
os_fd_path(int fd, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "/proc/self/fd/%d", fd);
}

int
os_anon_file(void)
{
	return memfd_create("sharedroot", MFD_CLOEXEC);
}

const char *
os_attach_default(void)
{
	return "loop";
}

int
os_fstype(int fd, char *buf, size_t bufsz)
{
	blkid_probe pr;
	const char *type = NULL;
	int rv = -1;

	if ((pr = blkid_new_probe()) == NULL) {
		sr_seterr("probe: cannot start libblkid");
		return -1;
	}
	if (blkid_probe_set_device(pr, fd, 0, 0) != 0) {
		sr_seterr("probe: cannot read the image");
		goto done;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	if (blkid_do_safeprobe(pr) != 0 ||
	    blkid_probe_lookup_value(pr, "TYPE", &type, NULL) != 0 ||
	    type == NULL) {
		sr_seterr("probe: holds no file system this host recognizes");
		goto done;
	}
	if (strcmp(type, "swap") == 0 || strlen(type) >= bufsz) {
		sr_seterr("probe: holds %s, not a file system", type);
		goto done;
	}
	strlcpy(buf, type, bufsz);
	rv = 0;
done:
	blkid_free_probe(pr);
	return rv;
}

char
os_raw_partition(void)
{
	return 'd';
}

bool
os_pid_zombie(long pid)
{
	char path[64], buf[256], *rp;
	FILE *f;
	bool z = false;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (rp = strrchr(buf, ')')) != NULL)
			z = rp[1] == ' ' && rp[2] == 'Z';
		fclose(f);
	}
	return z;
}

void
os_pid_name(pid_t pid, char *buf, size_t bufsz)
{
	char path[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((f = fopen(path, "re")) != NULL) {
		if (fgets(buf, (int)bufsz, f) == NULL)
			buf[0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

int
sr_die_with_parent(pid_t parent, int watchfd)
{
	(void)watchfd;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		return -1;
	/* Gone before that was set: nobody would tell us. */
	if (getppid() != parent)
		(void)kill(getpid(), SIGKILL);
	return 0;
}

int
sr_no_core(void)
{
	const struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) == -1)
		return -1;
	if (prctl(PR_SET_DUMPABLE, 0) == -1)
		return -1;
	return 0;
}

int
sr_parse_size(const char *s, uint64_t *v)
{
	return expand_number(s, v);
}
