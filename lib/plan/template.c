/*
 * Templates: the texts the tools install (rc hook, fstab, cgd params...)
 * live as files in templates/ and rc/, with @NAME@ where a value goes.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base/sr.h"
#include "plan/template.h"


static const char *
lookup(const struct tmpl_var *vars, const char *name, size_t len)
{
	for (; vars->name != NULL; vars++)
		if (strlen(vars->name) == len &&
		    memcmp(vars->name, name, len) == 0)
			return vars->value;
	return NULL;
}

int
tmpl_render(const char *file, const char *text, size_t len,
    const struct tmpl_var *vars, struct sbuf *out)
{
	size_t i = 0, lineno = 1;

	while (i < len) {
		size_t j = i + 1;
		const char *val;

		if (text[i] != '@') {
			if (text[i] == '\n')
				lineno++;
			if (sbuf_add(out, text + i, 1) == -1)
				return -1;
			i++;
			continue;
		}
		while (j < len && (isupper((unsigned char)text[j]) ||
		    isdigit((unsigned char)text[j]) || text[j] == '_'))
			j++;
		if (j == i + 1 || j == len || text[j] != '@') {
			/* A lone '@' (an e-mail address, say) stays. */
			if (sbuf_add(out, "@", 1) == -1)
				return -1;
			i++;
			continue;
		}
		if ((val = lookup(vars, text + i + 1, j - i - 1)) == NULL) {
			sr_seterr("%s:%zu: unknown variable @%.*s@", file,
			    lineno, (int)(j - i - 1), text + i + 1);
			return -1;
		}
		if (sbuf_adds(out, val) == -1)
			return -1;
		i = j + 1;
	}
	if (out->s == NULL && sbuf_add(out, "", 0) == -1)
		return -1;
	return 0;
}

int
tmpl_load(const char *dir, const char *name, const struct tmpl_var *vars,
    struct sbuf *out)
{
	char path[PATH_MAX];
	struct sbuf raw = { 0 };
	struct stat st;
	char buf[8192];
	ssize_t n;
	int fd, rv = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		sr_seterr("%s/%s: path too long", dir, name);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		sr_seterrno("template %s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > SR_TEXT_MAX) {
		sr_seterr("template %s: not a regular file of at most 1 MiB",
		    path);
		goto done;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (sbuf_add(&raw, buf, (size_t)n) == -1)
			goto done;
	if (n == -1) {
		sr_seterrno("template %s", path);
		goto done;
	}
	rv = tmpl_render(path, raw.s ? raw.s : "", raw.len, vars, out);
done:
	sbuf_free(&raw);
	close(fd);
	return rv;
}
