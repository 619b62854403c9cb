/*
 * FFS images without mounting (see ffsimg.h).  The superblock fields
 * read here are those of struct fs in NetBSD's sys/ufs/ffs/fs.h, at
 * the same offsets for FFSv1 and FFSv2; everything read is checked
 * against the image's size before it is believed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tsk/libtsk.h>

#include "attach.h"
#include "ffsimg.h"

#define BBSIZE		8192	/* boot blocks and label: not the file system's */
#define SBSIZE		1380
#define FS_UFS1_MAGIC	0x011954
#define FS_UFS2_MAGIC	0x19540119
#define MAXPARTS	16
#define DISKMAGIC	0x82564557	/* sys/sys/disklabel.h */
#define MAXMAXPARTITIONS 22

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint32_t
swap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) |
	    (v << 24);
}

static bool
pow2(int64_t v, int64_t lo, int64_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

/*
 * The superblock of a file system starting at off, if any.
 * 0: found; 1: none there; -1: one we will not use (message set).
 */
static int
read_super(int fd, off_t off, off_t filesize, struct ffsimg *fi)
{
	static const off_t where[] = { 8192, 65536 };
	unsigned char sb[SBSIZE];
	size_t i;

	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		uint32_t magic;
		int64_t size, ncg, ipg;

		if (off + where[i] + SBSIZE > filesize ||
		    pread(fd, sb, sizeof(sb), off + where[i]) !=
		    (ssize_t)sizeof(sb))
			continue;
		magic = le32(sb + 1372);
		if (swap32(magic) == FS_UFS1_MAGIC ||
		    swap32(magic) == FS_UFS2_MAGIC) {
			sr_seterr("a big-endian FFS file system, which this "
			    "host cannot read (refused)");
			return -1;
		}
		if (magic != FS_UFS1_MAGIC && magic != FS_UFS2_MAGIC)
			continue;
		/* An FFSv1 superblock at 64 KiB is not where v1 keeps it. */
		if (magic == FS_UFS1_MAGIC && where[i] != 8192)
			continue;
		fi->version = magic == FS_UFS1_MAGIC ? 1 : 2;
		fi->bsize = (int)le32(sb + 48);
		fi->fsize = (int)le32(sb + 52);
		ncg = (int32_t)le32(sb + 44);
		ipg = (int32_t)le32(sb + 184);
		size = fi->version == 1 ? (int32_t)le32(sb + 36) :
		    (int64_t)le64(sb + 0x438);
		if (!pow2(fi->bsize, 4096, 65536) ||
		    !pow2(fi->fsize, 512, fi->bsize) ||
		    fi->bsize / fi->fsize > 8 || ncg <= 0 || ipg <= 0 ||
		    size <= 0 || size > (INT64_MAX / 65536)) {
			sr_seterr("corrupt FFS superblock at offset %jd",
			    (intmax_t)(off + where[i]));
			return -1;
		}
		fi->off = off;
		fi->sboff = where[i];
		fi->len = (off_t)(size * fi->fsize);
		fi->inodes = (uint64_t)ncg * (uint64_t)ipg;
		if (off + fi->len > filesize) {
			sr_seterr("truncated: its FFS file system is %jd bytes "
			    "from offset %jd, the image only %jd",
			    (intmax_t)fi->len, (intmax_t)off,
			    (intmax_t)filesize);
			return -1;
		}
		return 0;
	}
	return 1;
}

/*
 * A NetBSD disklabel in the image's second sector says how many
 * partitions follow it.  libtsk 4.11 believes any number and reads
 * them past the sector it holds (a hostile label crashed it; later
 * libtsk stops at 16).  NetBSD takes none of more than 22
 * (MAXMAXPARTITIONS, any port), which all fit in the sector: nor do we.
 * 0: none, or one libtsk may read; -1: refused.
 */
static int
check_disklabel(int fd)
{
	unsigned char s[512];
	unsigned np;

	if (pread(fd, s, sizeof(s), 512) != (ssize_t)sizeof(s))
		return 0;
	if (le32(s) == DISKMAGIC && le32(s + 132) == DISKMAGIC)
		np = (unsigned)s[138] | (unsigned)s[139] << 8;
	else if (swap32(le32(s)) == DISKMAGIC &&
	    swap32(le32(s + 132)) == DISKMAGIC)
		np = (unsigned)s[138] << 8 | (unsigned)s[139];
	else
		return 0;
	if (np > MAXMAXPARTITIONS) {
		sr_seterr("corrupt NetBSD disklabel: %u partitions, more than "
		    "%d (refused)", np, MAXMAXPARTITIONS);
		return -1;
	}
	return 0;
}

/* Partitions holding FFS, through libtsk's volume-system layer. */
static int
probe_parts(struct ffsimg *fi, int fd, int want)
{
	struct ffsimg found[MAXPARTS];
	TSK_IMG_INFO *img;
	TSK_VS_INFO *vs;
	TSK_PNUM_T i;
	size_t n = 0;
	int rv = -1, num;

	if (check_disklabel(fd) == -1)
		return -1;
	tsk_error_reset();
	if ((img = tsk_img_open_sing(fi->path, TSK_IMG_TYPE_RAW, 0)) == NULL) {
		sr_seterr("read image: %s", tsk_error_get());
		return -1;
	}
	if ((vs = tsk_vs_open(img, 0, TSK_VS_TYPE_DETECT)) == NULL) {
		tsk_img_close(img);
		if (want >= 0) {
			sr_seterr("-p %d: the image has no partition table",
			    want);
			return -1;
		}
		return 1;
	}
	/* Partitions are numbered from 1 in disk order, as mmls lists them. */
	for (i = 0, num = 0; i < vs->part_count; i++) {
		const TSK_VS_PART_INFO *p = tsk_vs_part_get(vs, i);
		struct ffsimg t = *fi;
		int r;

		if (p == NULL || (p->flags & TSK_VS_PART_FLAG_ALLOC) == 0 ||
		    (p->flags & TSK_VS_PART_FLAG_META) != 0)
			continue;
		if (++num != want && want >= 0)
			continue;
		r = read_super(fd, (off_t)(p->start * vs->block_size),
		    fi->filesize, &t);
		if (r == -1) {
			sr_prefixerr("partition %d", num);
			goto done;
		}
		if (r == 1 || p->start == 0)
			continue;
		t.part = num;
		/* The file system must lie inside its partition. */
		if (t.len > (off_t)(p->len * vs->block_size)) {
			sr_seterr("partition %d: its FFS file system is larger "
			    "than the partition (refused)", t.part);
			goto done;
		}
		if (n < MAXPARTS)
			found[n++] = t;
	}
	if (n == 1) {
		*fi = found[0];
		rv = 0;
	} else if (n == 0 && want >= 0)
		sr_seterr("-p %d: no such partition holds FFS", want);
	else if (n == 0)
		sr_seterr("a %s partition table with no FFS partition",
		    tsk_vs_type_toname(vs->vstype));
	else {
		char list[512] = "";
		size_t k, len = 0;

		for (k = 0; k < n && len < sizeof(list); k++)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
			    "%s%d (offset %jd, %jd MiB)", k ? ", " : "",
			    found[k].part, (intmax_t)found[k].off,
			    (intmax_t)(found[k].len >> 20));
		sr_seterr("%zu partitions hold FFS: %s; pick one with -p", n,
		    list);
	}
done:
	tsk_vs_close(vs);
	tsk_img_close(img);
	return rv;
}

int
ffsimg_probe(const char *path, int part, struct ffsimg *fi)
{
	struct stat st;
	int fd, r;

	memset(fi, 0, sizeof(*fi));
	fi->path = path;
	fi->part = -1;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		sr_seterrno("open");
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 1;
	}
	fi->filesize = st.st_size;
	r = part >= 0 ? 1 : read_super(fd, 0, fi->filesize, fi);
	if (r == 1)
		r = probe_parts(fi, fd, part);
	close(fd);
	if (r == 0 && part >= 0 && fi->part < 0) {
		sr_seterr("-p %d: the image has no partition table", part);
		return -1;
	}
	return r;
}

int
ffsimg_makefs_args(const struct ffsimg *fi, char **argv, char *buf,
    size_t bufsz)
{
	uint64_t density = (uint64_t)fi->len / (fi->inodes ? fi->inodes : 1);
	int n;

	if (density < 512)
		density = 512;
	n = snprintf(buf, bufsz, "%jd%cversion=%d,bsize=%d,fsize=%d,"
	    "density=%ju", (intmax_t)fi->len, '\0', fi->version, fi->bsize,
	    fi->fsize, (uintmax_t)density);
	if (n < 0 || (size_t)n >= bufsz) {
		sr_seterr("makefs options too long");
		return -1;
	}
	argv[0] = "-s";
	argv[1] = buf;
	argv[2] = "-o";
	argv[3] = buf + strlen(buf) + 1;
	argv[4] = "-B";
	argv[5] = "le";
	return 0;
}

int
ffsimg_rebuildable(const struct ffsimg *fi)
{
	/*
	 * makefs writes an FFSv2 superblock at 8 KiB, where NetBSD's newfs
	 * puts it at 64 KiB and where libtsk (our own reader) and Linux do
	 * not look: a rebuilt v2 could not be read back.  Say so rather
	 * than hand back another version.
	 */
	if (fi->version != 1) {
		sr_seterr("FFSv2: makefs cannot rebuild it as NetBSD's newfs "
		    "lays it out (refused, nothing written); prepare it on a "
		    "NetBSD host, or build a new one from its sets with "
		    "setup-root -o");
		return -1;
	}
	return 0;
}

int
ffsimg_writable(const struct ffsimg *fi)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	strlcpy(dir, fi->path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strlcpy(dir, ".", sizeof(dir));
	if (stat(fi->path, &st) == -1) {
		sr_seterrno("stat");
		return -1;
	}
	/* Root may write anything: a file nobody may write is meant so. */
	if ((st.st_mode & 0222) == 0) {
		sr_seterr("the image file is read-only (mode %04o); nothing "
		    "written", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (access(fi->path, W_OK) == -1) {
		sr_seterr("the image file is not yours to write (owner %ju, "
		    "mode %04o); nothing written", (uintmax_t)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (access(dir, W_OK) == -1) {
		sr_seterrno("%s: cannot make the new image beside it", dir);
		return -1;
	}
	return 0;
}

/* Copy len bytes from in at ioff to out at ooff, leaving zeros as holes. */
static int
copy_range(int in, off_t ioff, int out, off_t ooff, off_t len)
{
	static char buf[1 << 16];

	while (len > 0) {
		size_t want = len < (off_t)sizeof(buf) ? (size_t)len :
		    sizeof(buf);
		ssize_t n = pread(in, buf, want, ioff), i;

		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		for (i = 0; i < n && buf[i] == 0; i++)
			;
		if (i < n && pwrite(out, buf, (size_t)n, ooff) != n)
			return -1;
		ioff += n;
		ooff += n;
		len -= n;
		if (sr_interrupted())
			return (errno = EINTR), -1;
	}
	return 0;
}

/* Copy a whole file, its holes kept where the system tells them. */
static int
copy_sparse(int in, int out, off_t size)
{
	off_t data = 0, hole;

	if (ftruncate(out, size) == -1)
		return -1;
#ifdef SEEK_DATA
	while (data < size && (data = lseek(in, data, SEEK_DATA)) != -1) {
		if ((hole = lseek(in, data, SEEK_HOLE)) == -1)
			return -1;
		if (copy_range(in, data, out, data, hole - data) == -1)
			return -1;
		data = hole;
	}
	return data == -1 && errno != ENXIO ? -1 : 0;
#else
	(void)hole;
	return copy_range(in, 0, out, 0, size);
#endif
}

/* Zero a range, as holes where the system can. */
static int
zero_range(int fd, off_t off, off_t len)
{
	static const char zeros[1 << 16];

#include "compat.h"
#if SR_LINUX && defined(FALLOC_FL_PUNCH_HOLE)
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
	    len) == 0)
		return 0;
#endif
	while (len > 0) {
		size_t n = len < (off_t)sizeof(zeros) ? (size_t)len :
		    sizeof(zeros);

		if (pwrite(fd, zeros, n, off) != (ssize_t)n)
			return -1;
		off += (off_t)n;
		len -= (off_t)n;
	}
	return 0;
}

int
ffsimg_install(const struct ffsimg *fi, const char *newfs)
{
	char out[PATH_MAX];
	struct stat st;
	int in = -1, nfd = -1, ofd = -1, rv = -1;
	bool whole = fi->off == 0 && fi->len >= fi->filesize;

	out[0] = '\0';
	if ((in = open(fi->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(in, &st) == -1) {
		sr_seterrno("install: open");
		goto done;
	}
	if ((nfd = open(newfs, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		sr_seterrno("install: open the new file system");
		goto done;
	}
	if (whole) {
		/* The new file system is the new image: keep the boot area. */
		if (copy_range(in, 0, nfd, 0, BBSIZE) == -1 ||
		    ftruncate(nfd, fi->filesize) == -1) {
			sr_seterrno("install: boot blocks");
			goto done;
		}
		ofd = nfd;
		nfd = -1;
		strlcpy(out, newfs, sizeof(out));
	} else {
		/* A copy of the disk with the partition's contents replaced. */
		if ((ofd = image_temp(fi->path, out, sizeof(out))) == -1)
			goto done;
		if (copy_sparse(in, ofd, fi->filesize) == -1 ||
		    zero_range(ofd, fi->off + BBSIZE, fi->len - BBSIZE) == -1 ||
		    copy_range(nfd, BBSIZE, ofd, fi->off + BBSIZE,
		    fi->len - BBSIZE) == -1) {
			sr_seterrno("install: partition %d", fi->part);
			goto done;
		}
		(void)unlink(newfs);
	}
	/* A guest's disk keeps its mode, and for root its owner. */
	if (fchmod(ofd, st.st_mode & 07777) == -1 || (geteuid() == 0 &&
	    fchown(ofd, st.st_uid, st.st_gid) == -1)) {
		sr_seterrno("install: mode and owner");
		goto done;
	}
	if (sr_checkpoint() == -1)
		goto done;
	if (fsync(ofd) == -1) {
		sr_seterrno("install: sync");
		goto done;
	}
	if (rename(out, fi->path) == -1) {
		sr_seterrno("install: rename into place");
		goto done;
	}
	out[0] = '\0';
	rv = 0;
done:
	if (out[0] != '\0')
		(void)unlink(out);
	if (rv == -1)
		(void)unlink(newfs);
	if (in != -1)
		close(in);
	if (nfd != -1)
		close(nfd);
	if (ofd != -1)
		close(ofd);
	return rv;
}
