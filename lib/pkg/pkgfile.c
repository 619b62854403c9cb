/*
 * A pkgsrc binary package read with libarchive (pkgfile.h).
 *
 * pkg_add (add/perform.c, read_meta_data and extract_files) takes the
 * archive's leading entries whose names are +-files, in one fixed order,
 * each at most once; the first other entry starts the payload, whose
 * entries must be exactly the packing list's files (those not after an
 * @ignore) in the packing list's order.  The mode an entry is given is
 * the archive's, with the packing list's @mode over it and then, for a
 * file, the +INSTALL PERMS lines (the +PERMS script pkgsrc runs after
 * installing, which changes files only); its owner and group are @owner and @group, else the
 * archive's names, else root and wheel.
 */
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sr.h"
#include "pkg/pkgfile.h"

const char *const pkgmeta_name[PKGM_N] = {
	"+CONTENTS", "+COMMENT", "+DESC", "+INSTALL", "+DEINSTALL",
	"+DISPLAY", "+MTREE_DIRS", "+BUILD_VERSION", "+BUILD_INFO",
	"+SIZE_PKG", "+SIZE_ALL", "+PRESERVE", "+REQUIRED_BY",
	"+INSTALLED_INFO",
};

/* A whole entry's data, at most SR_TEXT_MAX bytes, NUL-ended. */
static int
read_all(struct pkgfile *pf, const char *what, char **out, size_t *len)
{
	struct sbuf b = { 0 };
	char chunk[16384];
	la_ssize_t n;

	while ((n = archive_read_data(pf->ar, chunk, sizeof(chunk))) > 0) {
		if (b.len + (size_t)n > SR_TEXT_MAX) {
			sbuf_free(&b);
			sr_seterr("%s: %s: larger than %s", pf->label, what,
			    sr_size(SR_TEXT_MAX));
			return -1;
		}
		if (sbuf_add(&b, chunk, (size_t)n) < 0) {
			sbuf_free(&b);
			return -1;
		}
	}
	if (n < 0 || sbuf_add(&b, "", 1) < 0) {
		if (n < 0)
			sr_seterr("%s: %s: %s", pf->label, what,
			    archive_error_string(pf->ar));
		sbuf_free(&b);
		return -1;
	}
	*out = b.s;
	*len = b.len - 1;
	return 0;
}

/* The leading +-files; the first other entry is kept as pending. */
static int
read_meta(struct pkgfile *pf)
{
	struct archive_entry *e;
	int r, last = -1, i;

	while ((r = archive_read_next_header(pf->ar, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		for (i = 0; i < PKGM_N; i++)
			if (name != NULL && strcmp(name, pkgmeta_name[i]) == 0)
				break;
		if (i == PKGM_N) {
			pf->pending = e;
			break;
		}
		if (pf->meta[i] != NULL || i < last) {
			sr_seterr("%s: %s %s", pf->label, name,
			    pf->meta[i] != NULL ? "twice" : "out of order (the "
			    "+-files come in pkg_create's order)");
			return -1;
		}
		last = i;
		if (archive_entry_filetype(e) != AE_IFREG) {
			sr_seterr("%s: %s: not a file", pf->label, name);
			return -1;
		}
		if (read_all(pf, name, &pf->meta[i], &pf->metalen[i]) < 0)
			return -1;
	}
	if (r != ARCHIVE_OK && r != ARCHIVE_EOF) {
		sr_seterr("%s: %s", pf->label, archive_error_string(pf->ar));
		return -1;
	}
	for (i = PKGM_CONTENTS; i <= PKGM_DESC; i++)
		if (pf->meta[i] == NULL) {
			sr_seterr("%s: no %s at the start of the archive",
			    pf->label, pkgmeta_name[i]);
			return -1;
		}
	return 0;
}

/* +BUILD_INFO's KEY=value lines that installing needs. */
static int
read_buildinfo(struct pkgfile *pf)
{
	static const struct { const char *key; size_t off; } keys[] = {
#define K(k, f) { k, offsetof(struct pkg_buildinfo, f) }
		K("OPSYS", opsys), K("OS_VERSION", os_version),
		K("MACHINE_ARCH", machine_arch),
		K("PKGTOOLS_VERSION", pkgtools_version),
		K("LOCALBASE", localbase), K("PKG_SYSCONFBASE", pkg_sysconfbase),
		K("PKG_SYSCONFDIR", pkg_sysconfdir), K("VARBASE", varbase),
		K("PKGMANDIR", pkgmandir),
#undef K
	};
	char *p, *nl, *eq, *next;
	size_t i;

	if (pf->meta[PKGM_BUILD_INFO] == NULL) {
		sr_seterr("%s: no +BUILD_INFO", pf->label);
		return -1;
	}
	if (memchr(pf->meta[PKGM_BUILD_INFO], '\0',
	    pf->metalen[PKGM_BUILD_INFO]) != NULL) {
		sr_seterr("%s: +BUILD_INFO: a NUL byte", pf->label);
		return -1;
	}
	if ((pf->bibuf = strdup(pf->meta[PKGM_BUILD_INFO])) == NULL)
		return sr_oom();
	for (p = pf->bibuf; p != NULL && *p != '\0'; p = next) {
		if ((nl = strchr(p, '\n')) != NULL) {
			*nl = '\0';
			next = nl + 1;
		} else
			next = NULL;
		if ((eq = strchr(p, '=')) == NULL)
			continue;
		*eq = '\0';
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(p, keys[i].key) == 0)
				*(const char **)((char *)&pf->bi +
				    keys[i].off) = eq + 1;
	}
	if ((pf->bi.localbase != NULL && !pkg_abspath_ok(pf->bi.localbase)) ||
	    (pf->bi.pkg_sysconfdir != NULL &&
	    !pkg_abspath_ok(pf->bi.pkg_sysconfdir)) ||
	    (pf->bi.pkg_sysconfbase != NULL &&
	    !pkg_abspath_ok(pf->bi.pkg_sysconfbase))) {
		sr_seterr("%s: +BUILD_INFO: LOCALBASE or PKG_SYSCONFDIR not a "
		    "plain absolute path", pf->label);
		return -1;
	}
	/* pkg_add refuses a package without these (read_buildinfo). */
	if (pf->bi.opsys == NULL || pf->bi.os_version == NULL ||
	    pf->bi.machine_arch == NULL) {
		sr_seterr("%s: +BUILD_INFO: no OPSYS, OS_VERSION or "
		    "MACHINE_ARCH", pf->label);
		return -1;
	}
	return 0;
}

int
pkgfile_open(struct pkgfile *pf, const char *path, const char *label)
{
	const char *inst;
	int which;

	memset(pf, 0, sizeof(*pf));
	if ((pf->label = strdup(label)) == NULL)
		return sr_oom();
	if ((pf->ar = archive_read_new()) == NULL)
		return sr_oom();
	if (archive_read_support_filter_all(pf->ar) != ARCHIVE_OK ||
	    archive_read_support_format_tar(pf->ar) != ARCHIVE_OK ||
	    archive_read_open_filename(pf->ar, path, 1 << 16) != ARCHIVE_OK) {
		sr_seterr("%s: %s", label, archive_error_string(pf->ar));
		return -1;
	}
	if (read_meta(pf) < 0 ||
	    plist_parse(label, pf->meta[PKGM_CONTENTS],
	    pf->metalen[PKGM_CONTENTS], &pf->plist) < 0 ||
	    read_buildinfo(pf) < 0)
		return -1;
	/* pkgsrc writes the same data lines in +INSTALL and +DEINSTALL. */
	which = pf->meta[PKGM_INSTALL] != NULL ? PKGM_INSTALL : PKGM_DEINSTALL;
	inst = pf->meta[which] != NULL ? pf->meta[which] : "";
	return pkginstall_parse(label, pkgmeta_name[which], inst,
	    pf->meta[which] != NULL ? pf->metalen[which] : 0, &pf->inst);
}

/* The next listed file the payload is to hold (not after @ignore). */
static const struct plist_file *
next_listed(struct pkgfile *pf)
{
	while (pf->nextf < pf->plist.nfile &&
	    pf->plist.file[pf->nextf].ignored)
		pf->nextf++;
	return pf->nextf < pf->plist.nfile ? &pf->plist.file[pf->nextf] :
	    NULL;
}

/* "prefix/name" into buf (no double slash under "/"). */
static void
join(char *buf, size_t sz, const char *prefix, const char *name)
{
	snprintf(buf, sz, "%s/%s", strcmp(prefix, "/") == 0 ? "" : prefix,
	    name);
}

/* The PERMS lines (relative ones to the package's prefix) over e. */
static void
apply_perms(struct pkgfile *pf, struct pkgentry *e)
{
	char full[2 * PLIST_LINE_MAX + 2], want[2 * PLIST_LINE_MAX + 2];
	size_t i;

	join(full, sizeof(full), e->prefix, e->name);
	for (i = 0; i < pf->inst.nperms; i++) {
		const struct pkg_perms *p = &pf->inst.perms[i];

		if (p->path[0] == '/')
			snprintf(want, sizeof(want), "%s", p->path);
		else
			join(want, sizeof(want), pf->plist.prefix, p->path);
		if (strcmp(want, full) != 0)
			continue;
		if (p->attr.has_mode)
			e->mode = p->attr.mode;
		if (p->attr.owner != NULL)
			e->owner = p->attr.owner;
		if (p->attr.group != NULL)
			e->group = p->attr.group;
	}
}

/* An earlier listed (and so extracted) file named by a hard link. */
static bool
earlier(struct pkgfile *pf, const char *name)
{
	size_t i;

	for (i = 0; i < pf->nextf; i++)
		if (!pf->plist.file[i].ignored &&
		    strcmp(pf->plist.file[i].name, name) == 0)
			return true;
	return false;
}

/* The entry's type and link, checked against what is listed. */
static int
entry_type(struct pkgfile *pf, struct archive_entry *ae,
    const struct plist_file *f, struct pkgentry *e)
{
	const char *hl = archive_entry_hardlink(ae);
	const char *sl = archive_entry_symlink(ae);

	if (hl != NULL) {
		if (!earlier(pf, hl)) {
			sr_seterr("%s: %s: a hard link to \"%s\", not a file "
			    "listed before it", pf->label, f->name,
			    sr_shortpath(hl));
			return -1;
		}
		e->type = S_IFREG;
		e->hardlink = hl;
		return 0;
	}
	/* What +CONTENTS annotates as one type must be of that type. */
	if ((archive_entry_filetype(ae) == AE_IFLNK && f->md5 != NULL) ||
	    (archive_entry_filetype(ae) == AE_IFREG && f->symlink != NULL)) {
		sr_seterr("%s: %s: a %s where +CONTENTS line %u lists a %s",
		    pf->label, f->name, f->md5 != NULL ? "symbolic link" :
		    "file", f->line, f->md5 != NULL ? "file with an MD5 digest"
		    : "symbolic link");
		return -1;
	}
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		e->type = S_IFREG;
		return 0;
	case AE_IFLNK:
		if (sl == NULL || *sl == '\0' || strlen(sl) > PLIST_LINE_MAX ||
		    (f->symlink != NULL && strcmp(sl, f->symlink) != 0)) {
			sr_seterr("%s: %s: a symbolic link to \"%s\", where "
			    "+CONTENTS line %u has \"%s\"", pf->label, f->name,
			    sl != NULL ? sr_shortpath(sl) : "",
			    f->line, f->symlink != NULL ? f->symlink : "");
			return -1;
		}
		e->type = S_IFLNK;
		e->symlink = sl;
		return 0;
	default:
		sr_seterr("%s: %s: neither a file nor a symbolic link",
		    pf->label, f->name);
		return -1;
	}
}

/* Owner and group: the packing list's, else the archive's, else root's. */
static int
entry_owner(struct pkgfile *pf, struct archive_entry *ae,
    const struct plist_file *f, struct pkgentry *e)
{
	const char *u = archive_entry_uname(ae), *g = archive_entry_gname(ae);

	if ((u != NULL && *u != '\0' && !pkg_idname_ok(u)) ||
	    (g != NULL && *g != '\0' && !pkg_idname_ok(g))) {
		sr_seterr("%s: %s: the archive's owner or group is not a "
		    "user or group name", pf->label, f->name);
		return -1;
	}
	e->owner = f->owner != NULL ? f->owner :
	    u != NULL && *u != '\0' ? u : "root";
	e->group = f->group != NULL ? f->group :
	    g != NULL && *g != '\0' ? g : "wheel";
	return 0;
}

/* Leave the entry being read: its data skipped, its digest dropped. */
static void
finish_current(struct pkgfile *pf)
{
	if (pf->reading)
		(void)archive_read_data_skip(pf->ar);
	pf->reading = false;
	pf->cur = NULL;
	EVP_MD_CTX_free(pf->md5);
	pf->md5 = NULL;
}

/* The next archive header, or NULL at the end (*r says which). */
static struct archive_entry *
next_header(struct pkgfile *pf, int *r)
{
	struct archive_entry *ae = NULL;

	*r = ARCHIVE_EOF;
	if (pf->pending != NULL) {
		ae = pf->pending;
		pf->pending = NULL;
		*r = ARCHIVE_OK;
	} else if (!pf->at_end &&
	    (*r = archive_read_next_header(pf->ar, &ae)) != ARCHIVE_OK)
		ae = NULL;
	if (*r == ARCHIVE_EOF)
		pf->at_end = true;
	else if (*r != ARCHIVE_OK)
		sr_seterr("%s: %s", pf->label, archive_error_string(pf->ar));
	return ae;
}

int
pkgfile_next(struct pkgfile *pf, struct pkgentry *e)
{
	const struct plist_file *f;
	struct archive_entry *ae;
	const char *name;
	int r;

	finish_current(pf);
	f = next_listed(pf);
	if ((ae = next_header(pf, &r)) == NULL) {
		if (r != ARCHIVE_EOF)
			return -1;
		if (f == NULL)
			return 0;
		sr_seterr("%s: +CONTENTS line %u lists %s, not in the payload",
		    pf->label, f->line, sr_shortpath(f->name));
		return -1;
	}
	name = archive_entry_pathname(ae);
	if (name == NULL)
		name = "";
	if (f == NULL) {
		sr_seterr("%s: the payload has \"%s\", which +CONTENTS does "
		    "not list", pf->label, sr_shortpath(name));
		return -1;
	}
	if (strcmp(name, f->name) != 0) {
		sr_seterr("%s: the payload has \"%s\" where +CONTENTS line %u "
		    "lists %s", pf->label, sr_shortpath(name), f->line,
		    sr_shortpath(f->name));
		return -1;
	}
	memset(e, 0, sizeof(*e));
	e->name = f->name;
	e->prefix = f->prefix;
	e->pf = f;
	e->size = archive_entry_size(ae);
	e->mode = f->has_mode ? f->mode : archive_entry_perm(ae) & 07777;
	pf->nextf++;
	if (entry_type(pf, ae, f, e) < 0 || entry_owner(pf, ae, f, e) < 0)
		return -1;
	/* +PERMS skips what is not a file ("test -f"; chmod would follow). */
	if (e->type == S_IFREG && e->hardlink == NULL)
		apply_perms(pf, e);
	pf->cur = f;
	pf->reading = e->type == S_IFREG;
	if (pf->reading && e->hardlink == NULL && f->md5 != NULL) {
		if ((pf->md5 = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(pf->md5, EVP_md5(), NULL) != 1) {
			sr_seterr("%s: %s: cannot start an MD5 digest",
			    pf->label, f->name);
			return -1;
		}
	}
	return 1;
}

/* At the end of an entry: its digest against the packing list's. */
static int
check_md5(struct pkgfile *pf)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int n, i;

	if (EVP_DigestFinal_ex(pf->md5, d, &n) != 1) {
		sr_seterr("%s: %s: cannot end an MD5 digest", pf->label,
		    pf->cur->name);
		return -1;
	}
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	EVP_MD_CTX_free(pf->md5);
	pf->md5 = NULL;
	if (strcmp(hex, pf->cur->md5) != 0) {
		sr_seterr("%s: %s: its contents differ from the MD5 digest "
		    "+CONTENTS gives (the file at line %u)", pf->label,
		    sr_shortpath(pf->cur->name), pf->cur->line);
		return -1;
	}
	return 0;
}

ssize_t
pkgfile_read(struct pkgfile *pf, void *buf, size_t len)
{
	la_ssize_t n;

	if (!pf->reading)
		return 0;
	if ((n = archive_read_data(pf->ar, buf, len)) < 0) {
		sr_seterr("%s: %s: %s", pf->label, pf->cur->name,
		    archive_error_string(pf->ar));
		return -1;
	}
	if (n > 0 && pf->md5 != NULL &&
	    EVP_DigestUpdate(pf->md5, buf, (size_t)n) != 1) {
		sr_seterr("%s: %s: MD5 digest failed", pf->label,
		    pf->cur->name);
		return -1;
	}
	if (n == 0) {
		pf->reading = false;
		if (pf->md5 != NULL && check_md5(pf) < 0)
			return -1;
	}
	return (ssize_t)n;
}

void
pkgfile_close(struct pkgfile *pf)
{
	int i;

	EVP_MD_CTX_free(pf->md5);
	if (pf->ar != NULL)
		archive_read_free(pf->ar);
	for (i = 0; i < PKGM_N; i++)
		free(pf->meta[i]);
	plist_free(&pf->plist);
	pkginstall_free(&pf->inst);
	free(pf->bibuf);
	free(pf->label);
	memset(pf, 0, sizeof(*pf));
}
