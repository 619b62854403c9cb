/*
 * What an upgrade reads of a guest's and merges (merge.h, record.h):
 * password and group files merged by record, a base-manifest's var
 * lines, etc/motd's first line, and, with the flag's low bit, the
 * merge of lines (libgit2) and merge_file().  The input: a flag byte,
 * then the old root's text (its length in 16 bits, then its bytes), the
 * guest's (likewise) and the new root's (the rest); the whole input is
 * a manifest too.  The flag's next two bits make one side another's:
 * 1 the guest's the old root's, 2 the new root's the old root's, 3 the
 * new root's the guest's, so that the promises below are tried.
 *
 * Besides not crashing: records merged end each with a newline; where
 * nothing is applicable nothing is written; a side left as the base
 * gives the other's records (the guest's in its order, the release's
 * as a set), cleanly; a path of a manifest is a plain one below var;
 * motd's first line is a line that starts "NetBSD".
 */
#include "guest/merge.h"
#include "plan/udiff.h"
#include "guest/record.h"
#include "fuzz.h"

/* A part of the input: n bytes at *p, as many as there are. */
static struct text
part(const uint8_t **p, const uint8_t *end, size_t n)
{
	struct text t;

	if (n > (size_t)(end - *p))
		n = (size_t)(end - *p);
	t.s = (const char *)*p;
	t.len = n;
	*p += n;
	return t;
}

static int
cmp_rec(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A text's records (lines), each with its newline as merge_keyed()
 * writes them; sorted, for a comparison as sets.
 */
static char **
records(const char *s, size_t len, bool sorted, size_t *np)
{
	const char *p = s, *end = s != NULL ? s + len : NULL;
	char **v = calloc(len + 1, sizeof(*v));
	size_t n = 0;

	if (v == NULL)
		abort();
	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		/* (A NUL inside a record cuts it: compared up to there.) */
		if ((v[n] = malloc(l + 2)) == NULL)
			abort();
		memcpy(v[n], p, l);
		v[n][l] = '\n';
		v[n][l + 1] = '\0';
		n++;
		p += l + (nl != NULL);
	}
	if (sorted && n > 0)
		qsort(v, n, sizeof(*v), cmp_rec);
	*np = n;
	return v;
}

static void
free_records(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* out has the records of want, in its order or as a set. */
static void
same_records(const struct sbuf *out, const struct text *want, bool sorted)
{
	size_t na, nb, i;
	char **a = records(out->s, out->len, sorted, &na);
	char **b = records(want->s, want->len, sorted, &nb);

	FUZZ_ASSERT(na == nb);
	for (i = 0; i < na; i++)
		FUZZ_ASSERT(strcmp(a[i], b[i]) == 0);
	free_records(a, na);
	free_records(b, nb);
}

static void
check_keyed(const struct text *b, const struct text *m, const struct text *t,
    int same)
{
	struct sbuf out = { 0 };
	bool clean, applicable;

	if (merge_keyed(b, m, t, &out, &clean, &applicable) == -1)
		abort();
	if (!applicable) {
		FUZZ_ASSERT(out.len == 0);
		return;
	}
	FUZZ_ASSERT(out.len == 0 || out.s[out.len - 1] == '\n');
	switch (same) {
	case 1:		/* the guest's is the base: the release's records */
		FUZZ_ASSERT(clean);
		same_records(&out, t, true);
		break;
	case 2:		/* the release's is the base: the guest's, in order */
		FUZZ_ASSERT(clean);
		same_records(&out, m, false);
		break;
	case 3:		/* both the same */
		FUZZ_ASSERT(clean);
		same_records(&out, m, false);
		break;
	}
	sbuf_free(&out);
}

static bool
is_text(const struct text *t)
{
	return t->len == 0 || memchr(t->s, '\0', t->len) == NULL;
}

static void
check_lines(const struct text *b, const struct text *m, const struct text *t,
    int same)
{
	struct sbuf out = { 0 };
	bool clean;

	if (sr_git_init() == -1 ||
	    merge_lines("etc/x", b, m, t, &out, &clean) == -1)
		abort();
	/*
	 * Both the same: that, cleanly.  (Texts only, as an upgrade merges:
	 * with a NUL on any side, libgit2 merges no lines.)
	 */
	if (same == 3 && is_text(b) && is_text(m))
		FUZZ_ASSERT(clean && out.len == m->len && (m->len == 0 ||
		    memcmp(out.s, m->s, m->len) == 0));
	sbuf_free(&out);
	if (merge_file("etc/group", b, m, t, &out, &clean) == -1)
		abort();
	sbuf_free(&out);
}

static void
check_motd(const struct text *t)
{
	size_t head = merge_motd_head(t);

	if (head == 0)
		return;
	FUZZ_ASSERT(head >= 7 && head <= t->len);
	FUZZ_ASSERT(memcmp(t->s, "NetBSD", 6) == 0 && t->s[head - 1] == '\n');
	FUZZ_ASSERT(memchr(t->s, '\n', head - 1) == NULL);
}

/* Each path of a manifest: plain, below var. */
static int
var_path(void *arg, const char *path)
{
	const char *p;

	(void)arg;
	FUZZ_ASSERT(strncmp(path, "var/", 4) == 0 && strlen(path) < PATH_MAX);
	for (p = path; *p != '\0'; p += strcspn(p, "/"), p += *p == '/') {
		size_t n = strcspn(p, "/");

		FUZZ_ASSERT(n > 0 && !(n == 1 && p[0] == '.') &&
		    !(n == 2 && p[0] == '.' && p[1] == '.'));
		FUZZ_ASSERT(p[n] != '/' || p[n + 1] != '\0');
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1, *end = data + size;
	struct sbuf man = { 0 };
	struct text b, m, t;
	size_t n;
	int same;

	if (size < 5)
		return 0;
	same = (data[0] >> 1) & 3;
	n = (size_t)fuzz_le(p, 2);
	p += 2;
	b = part(&p, end, n);
	n = 0;
	if (end - p >= 2) {
		n = (size_t)fuzz_le(p, 2);
		p += 2;
	}
	m = part(&p, end, n);
	t = part(&p, end, (size_t)(end - p));
	if (same == 1)
		m = b;
	else if (same == 2)
		t = b;
	else if (same == 3)
		t = m;
	check_keyed(&b, &m, &t, same);
	/* libgit2's merge is slow on large texts: small ones only. */
	if ((data[0] & 1) && size <= 8192)
		check_lines(&b, &m, &t, same);
	check_motd(&m);
	if (sbuf_add(&man, data, size) == -1 ||
	    record_man_paths(&man, "var", var_path, NULL) == -1)
		abort();
	sbuf_free(&man);
	return 0;
}
