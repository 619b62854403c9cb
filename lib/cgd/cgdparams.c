/*
 * cgdconfig(8) parameters files (see cgdparams.h).  The tokens are
 * cgdlex.l's: keywords, integers, words, "quoted strings", { }, and
 * ';' or a newline ending a statement; '#' starts a comment and a
 * backslash-newline is ignored.  The statements are cgdparse.y's,
 * the deprecated keygen_* ones included.  A key, salt or stored key is
 * base64 of a 32-bit big-endian bit count and the bits.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cgd/cgdparams.h"
#include "base/os.h"

enum tok { T_EOF, T_EOL, T_LBRACE, T_RBRACE, T_INT, T_WORD, T_KW, T_ERR };

static const char *const keywords[] = {
	"algorithm", "keylength", "iv-method", "verify_method", "keygen",
	"salt", "iterations", "memory", "parallelism", "version", "key", "cmd",
	"keygen_method", "keygen_salt", "keygen_iterations", "xor_key", NULL
};

struct lex {
	const char *p, *end, *name;
	int	 line;
	enum tok tok;
	char	 text[4096];
};

static int
lex_err(struct lex *l, const char *what)
{
	sr_seterr("%s:%d: %s", l->name, l->line, what);
	l->tok = T_ERR;
	return -1;
}

/* The next token into l->tok and l->text. */
static int
next(struct lex *l)
{
	size_t n = 0;

	for (;;) {
		if (l->p >= l->end) {
			l->tok = T_EOF;
			return 0;
		}
		if (*l->p == ' ' || *l->p == '\t' || *l->p == '\r')
			l->p++;
		else if (*l->p == '\\' && l->p + 1 < l->end &&
		    l->p[1] == '\n') {
			l->p += 2;
			l->line++;
		} else if (*l->p == '#') {
			while (l->p < l->end && *l->p != ';' && *l->p != '\n')
				l->p++;
		} else
			break;
	}
	if (*l->p == ';' || *l->p == '\n') {
		if (*l->p == '\n')
			l->line++;
		l->p++;
		l->tok = T_EOL;
		return 0;
	}
	if (*l->p == '{' || *l->p == '}') {
		l->tok = *l->p++ == '{' ? T_LBRACE : T_RBRACE;
		return 0;
	}
	if (*l->p == '"') {
		for (l->p++; l->p < l->end && *l->p != '"'; l->p++) {
			if (*l->p == '\n')
				l->line++;
			if (n + 1 >= sizeof(l->text))
				return lex_err(l, "string too long");
			l->text[n++] = *l->p;
		}
		if (l->p >= l->end)
			return lex_err(l, "unterminated string");
		l->p++;
		l->text[n] = '\0';
		l->tok = T_WORD;
		return 0;
	}
	while (l->p < l->end && strchr(" }{\t\n;\"\r", *l->p) == NULL) {
		if (n + 1 >= sizeof(l->text))
			return lex_err(l, "word too long");
		l->text[n++] = *l->p++;
	}
	if (n == 0)
		return lex_err(l, "unexpected character");
	l->text[n] = '\0';
	l->tok = T_WORD;
	for (n = 0; l->text[n] != '\0' && isdigit((unsigned char)l->text[n]);
	    n++)
		;
	if (l->text[n] == '\0')
		l->tok = T_INT;
	for (n = 0; keywords[n] != NULL && l->tok == T_WORD; n++)
		if (strcmp(l->text, keywords[n]) == 0)
			l->tok = T_KW;
	return 0;
}

static bool
is_kw(const struct lex *l, const char *kw)
{
	return l->tok == T_KW && strcmp(l->text, kw) == 0;
}

/* stringlit: a word, a keyword or an integer, as text. */
static int
stringlit(struct lex *l, char *out, size_t outsz)
{
	if (next(l) == -1)
		return -1;
	if (l->tok != T_WORD && l->tok != T_KW && l->tok != T_INT)
		return lex_err(l, "a value is missing");
	if (strlcpy(out, l->text, outsz) >= outsz)
		return lex_err(l, "value too long");
	return 0;
}

static int
integer(struct lex *l, long *v)
{
	char *e;

	if (next(l) == -1)
		return -1;
	if (l->tok != T_INT)
		return lex_err(l, "a number is missing");
	errno = 0;
	*v = strtol(l->text, &e, 10);
	if (errno != 0 || *v > 0x7fffffff)
		return lex_err(l, "number out of range");
	return 0;
}

static int
eol(struct lex *l)
{
	if (next(l) == -1)
		return -1;
	if (l->tok != T_EOL)
		return lex_err(l, "';' expected");
	return 0;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* bits: base64 words up to the end of the statement, decoded. */
static int
bits(struct lex *l, uint8_t **out, size_t *nbits)
{
	char b64[4096];
	uint8_t raw[3072];
	size_t n = 0, i, r = 0;
	uint32_t acc = 0, count;
	int k = 0, v, rv = -1;

	for (;;) {
		if (next(l) == -1)
			goto done;
		if (l->tok == T_EOL)
			break;
		if (l->tok != T_WORD && l->tok != T_INT && l->tok != T_KW) {
			lex_err(l, "base64 expected");
			goto done;
		}
		if (n + strlen(l->text) >= sizeof(b64)) {
			lex_err(l, "base64 too long");
			goto done;
		}
		memcpy(b64 + n, l->text, strlen(l->text));
		n += strlen(l->text);
	}
	for (i = 0; i < n && b64[i] != '='; i++) {
		if ((v = b64val((unsigned char)b64[i])) < 0) {
			lex_err(l, "not base64");
			goto done;
		}
		acc = acc << 6 | (uint32_t)v;
		if (++k == 4) {
			raw[r++] = (uint8_t)(acc >> 16);
			raw[r++] = (uint8_t)(acc >> 8);
			raw[r++] = (uint8_t)acc;
			acc = 0;
			k = 0;
		}
	}
	if (k == 2)
		raw[r++] = (uint8_t)(acc >> 4);
	else if (k == 3) {
		raw[r++] = (uint8_t)(acc >> 10);
		raw[r++] = (uint8_t)(acc >> 2);
	} else if (k == 1) {
		lex_err(l, "truncated base64");
		goto done;
	}
	if (r < 4) {
		lex_err(l, "bits too short");
		goto done;
	}
	count = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
	    (uint32_t)raw[2] << 8 | raw[3];
	if (count == 0 || count > (r - 4) * 8) {
		lex_err(l, "bit count larger than the bits given");
		goto done;
	}
	if ((*out = malloc((count + 7) / 8)) == NULL) {
		lex_err(l, "out of memory");
		goto done;
	}
	memcpy(*out, raw + 4, (count + 7) / 8);
	*nbits = count;
	rv = 0;
done:
	/* A stored key passes through here. */
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(b64, sizeof(b64));
	explicit_bzero(l->text, sizeof(l->text));
	return rv;
}

/*
 * A key or salt statement: as in cgdconfig (keygen_combine), a later
 * one replaces an earlier one, but only once it has been read whole:
 * a bad one leaves the earlier value as it was, owned by the keygen.
 */
static int
setbits(struct lex *l, uint8_t **val, size_t *nbits)
{
	uint8_t *nv = NULL;
	size_t nb = 0;

	if (bits(l, &nv, &nb) == -1)
		return -1;
	if (*val != NULL) {
		explicit_bzero(*val, (*nbits + 7) / 8);
		free(*val);
	}
	*val = nv;
	*nbits = nb;
	return 0;
}

/* One keygen setting, starting at the token just read. */
static int
kgvar(struct lex *l, struct cgd_keygen *kg)
{
	if (l->tok == T_EOL)
		return 0;
	if (is_kw(l, "salt"))
		return setbits(l, &kg->salt, &kg->saltbits);
	if (is_kw(l, "key"))
		return setbits(l, &kg->key, &kg->keybits);
	if (is_kw(l, "iterations"))
		return integer(l, &kg->iterations) == -1 ? -1 : eol(l);
	if (is_kw(l, "memory"))
		return integer(l, &kg->memory) == -1 ? -1 : eol(l);
	if (is_kw(l, "parallelism"))
		return integer(l, &kg->parallelism) == -1 ? -1 : eol(l);
	if (is_kw(l, "version"))
		return integer(l, &kg->version) == -1 ? -1 : eol(l);
	if (is_kw(l, "cmd")) {
		char cmd[4096];

		kg->has_cmd = 1;
		return stringlit(l, cmd, sizeof(cmd)) == -1 ? -1 : eol(l);
	}
	return lex_err(l, "not a keygen setting");
}

static struct cgd_keygen *
new_keygen(struct lex *l, struct cgd_params *p)
{
	if (p->nkg == CGD_MAXKEYGENS) {
		lex_err(l, "too many keygen statements");
		return NULL;
	}
	p->kg[p->nkg].line = l->line;
	return &p->kg[p->nkg++];
}

static int
rule(struct lex *l, struct cgd_params *p, struct cgd_keygen **dep)
{
	struct cgd_keygen *kg;
	long v;

	if (l->tok == T_EOL)
		return 0;
	if (is_kw(l, "algorithm"))
		return stringlit(l, p->algorithm, sizeof(p->algorithm)) == -1 ?
		    -1 : eol(l);
	if (is_kw(l, "iv-method"))
		return stringlit(l, p->ivmethod, sizeof(p->ivmethod)) == -1 ?
		    -1 : eol(l);
	if (is_kw(l, "verify_method"))
		return stringlit(l, p->verify, sizeof(p->verify)) == -1 ?
		    -1 : eol(l);
	if (is_kw(l, "keylength")) {
		if (integer(l, &v) == -1 || eol(l) == -1)
			return -1;
		if (v <= 0 || v > CGD_MAXKEY * 8 || v % 8 != 0)
			return lex_err(l, "keylength out of range");
		p->keylen = (size_t)v;
		return 0;
	}
	if (is_kw(l, "keygen")) {
		if ((kg = new_keygen(l, p)) == NULL ||
		    stringlit(l, kg->method, sizeof(kg->method)) == -1)
			return -1;
		if (next(l) == -1)
			return -1;
		if (l->tok == T_LBRACE) {
			for (;;) {
				if (next(l) == -1)
					return -1;
				if (l->tok == T_RBRACE)
					break;
				if (l->tok == T_EOF)
					return lex_err(l, "'}' missing");
				if (kgvar(l, kg) == -1)
					return -1;
			}
		} else if (kgvar(l, kg) == -1)
			return -1;
		/* The statement's own end; a file may end without one. */
		if (next(l) == -1)
			return -1;
		if (l->tok != T_EOL && l->tok != T_EOF)
			return lex_err(l, "';' expected after keygen");
		return 0;
	}
	/* Deprecated: keygen_method and friends make one keygen. */
	if (*dep == NULL && (is_kw(l, "keygen_method") ||
	    is_kw(l, "keygen_salt") || is_kw(l, "keygen_iterations") ||
	    is_kw(l, "xor_key")) && (*dep = new_keygen(l, p)) == NULL)
		return -1;
	if (is_kw(l, "keygen_method"))
		return stringlit(l, (*dep)->method, sizeof((*dep)->method)) ==
		    -1 ? -1 : eol(l);
	if (is_kw(l, "keygen_salt"))
		return setbits(l, &(*dep)->salt, &(*dep)->saltbits);
	if (is_kw(l, "keygen_iterations"))
		return integer(l, &(*dep)->iterations) == -1 ? -1 : eol(l);
	if (is_kw(l, "xor_key"))
		return setbits(l, &(*dep)->key, &(*dep)->keybits);
	return lex_err(l, "syntax error");
}

/*
 * Bounds on the work a parameters file may ask of us.  Whoever can
 * write the file could otherwise keep the tools busy for days or make
 * the host allocate terabytes; the bounds are what cgdconfig -g's own
 * calibration could choose, many times over.
 *
 * pkcs5_pbkdf2/sha1: cgdconfig calibrates the iterations so that the
 * whole key (every 160-bit block, each costing the iterations) takes
 * DEFAULT_ITERATION_TIME, 2 s of user time (params.c), in its own loop
 * (pkcs5_pbkdf2.c), which calls HMAC() whole for each iteration: a
 * current 3-5 GHz core does 1-5 million such HMACs a second, so
 * cgdconfig writes at most some 10 million HMACs.  2^26 (67 million)
 * leaves several times that for the fastest host that might have made
 * the file, and takes about a minute here.
 *
 * argon2id: argon2id_calibrate (argon2_utils.c) takes 1 KiB per
 * 100 KB of the host's user memory, halving it (at most four times)
 * while one pass takes a second or more, then doubles the passes
 * until they take a second: a few hundred MiB on an ordinary host, a
 * few GiB on the largest, and about a second of the making host's
 * CPUs in all; its parallelism is that host's CPU count.  4 GiB,
 * 2^20 passes, 2^26 KiB-passes (64 GiB of memory filled, minutes of
 * work on one CPU) and 256 lanes (each a thread) are far beyond it.
 */
#define PBKDF2_MAXWORK	(1L << 26)	/* HMACs: iterations x blocks */
#define ARGON2_MAXMEM	(4L << 20)	/* KiB */
#define ARGON2_MAXITER	(1L << 20)
#define ARGON2_MAXWORK	(1L << 26)	/* KiB x passes */
#define ARGON2_MAXPAR	256L

/* Whether each keygen's work is within the bounds above. */
static int
check_work(const char *name, const struct cgd_params *p)
{
	const struct cgd_keygen *kg;
	long blocks = (long)(p->keylen + 159) / 160;
	size_t i;

	for (i = 0; i < p->nkg; i++) {
		kg = &p->kg[i];
		if (strcmp(kg->method, "pkcs5_pbkdf2/sha1") == 0 &&
		    kg->iterations > PBKDF2_MAXWORK / blocks) {
			sr_seterr("%s:%d: keygen %s: %ld iterations for each "
			    "of the %ld blocks of a %zu-bit key: more than "
			    "cgdconfig -g would ever choose (at most %ld in "
			    "all; refused)", name, kg->line, kg->method,
			    kg->iterations, blocks, p->keylen, PBKDF2_MAXWORK);
			return -1;
		}
		if (strcmp(kg->method, "argon2id") != 0)
			continue;
		if (kg->memory > ARGON2_MAXMEM) {
			sr_seterr("%s:%d: keygen argon2id: memory %ld KiB: "
			    "more than cgdconfig -g would ever choose (at "
			    "most %ld KiB; refused)", name, kg->line,
			    kg->memory, ARGON2_MAXMEM);
			return -1;
		}
		if (kg->iterations > ARGON2_MAXITER ||
		    (long long)kg->iterations * kg->memory >
		    ARGON2_MAXWORK) {
			sr_seterr("%s:%d: keygen argon2id: %ld iterations over "
			    "%ld KiB: more than cgdconfig -g would ever choose "
			    "(at most %ld iterations and %ld KiB-iterations; "
			    "refused)", name, kg->line, kg->iterations,
			    kg->memory, ARGON2_MAXITER, ARGON2_MAXWORK);
			return -1;
		}
		if (kg->parallelism > ARGON2_MAXPAR) {
			sr_seterr("%s:%d: keygen argon2id: parallelism %ld: "
			    "more than cgdconfig -g would ever choose (at most "
			    "%ld; refused)", name, kg->line, kg->parallelism,
			    ARGON2_MAXPAR);
			return -1;
		}
	}
	return 0;
}

int
cgdparams_parse(const char *text, size_t len, const char *name,
    struct cgd_params *p)
{
	struct lex l = { text, text + len, name, 1, T_EOL, "" };
	struct cgd_keygen *dep = NULL;
	static const struct {
		const char *alg;
		size_t keylen;
	} defaults[] = {
		{ "aes-xts", 256 }, { "aes-cbc", 128 }, { "adiantum", 256 },
		{ "3des-cbc", 192 }, { "blowfish-cbc", 128 }, { NULL, 0 }
	};
	size_t i;

	memset(p, 0, sizeof(*p));
	for (;;) {
		if (next(&l) == -1)
			goto fail;
		if (l.tok == T_EOF)
			break;
		if (rule(&l, p, &dep) == -1)
			goto fail;
	}
	if (p->algorithm[0] == '\0') {
		sr_seterr("%s: no algorithm", name);
		goto fail;
	}
	if (p->nkg == 0) {
		sr_seterr("%s: no keygen", name);
		goto fail;
	}
	if (p->ivmethod[0] == '\0')
		strlcpy(p->ivmethod, "encblkno1", sizeof(p->ivmethod));
	if (p->verify[0] == '\0')
		strlcpy(p->verify, "none", sizeof(p->verify));
	for (i = 0; defaults[i].alg != NULL; i++)
		if (strcmp(defaults[i].alg, p->algorithm) == 0)
			break;
	if (defaults[i].alg == NULL) {
		sr_seterr("%s: algorithm %s: unknown (aes-xts, aes-cbc, "
		    "adiantum, blowfish-cbc, 3des-cbc)", name, p->algorithm);
		goto fail;
	}
	if (p->keylen == 0)
		p->keylen = defaults[i].keylen;
	/* As cgdconfig's params_fget: the old statements' default. */
	if (dep != NULL && dep->iterations == 0)
		dep->iterations = 128;
	if (check_work(name, p) == -1)
		goto fail;
	return 0;
fail:
	cgdparams_free(p);
	return -1;
}

/* A passphrase: the first line of a file, or typed at the terminal. */
static int
passphrase(const char *passfile, char *buf, size_t bufsz)
{
	struct termios t, saved;
	FILE *f;
	bool tty = passfile == NULL;

	if ((f = fopen(tty ? "/dev/tty" : passfile, tty ? "r+" : "r")) ==
	    NULL) {
		if (tty) {
			sr_seterr("a passphrase is needed and there is no "
			    "terminal: give it in a file");
			sr_sethint(SR_HINT_PASSFILE);
		} else
			sr_seterrno("passphrase file %s", passfile);
		return -1;
	}
	if (tty) {
		fputs("passphrase: ", f);
		fflush(f);
		if (tcgetattr(fileno(f), &t) == 0) {
			saved = t;
			t.c_lflag &= ~(tcflag_t)ECHO;
			(void)tcsetattr(fileno(f), TCSAFLUSH, &t);
		} else
			tty = false;
	}
	if (fgets(buf, (int)bufsz, f) == NULL)
		buf[0] = '\0';
	if (tty) {
		(void)tcsetattr(fileno(f), TCSAFLUSH, &saved);
		fputc('\n', f);
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	if (buf[0] == '\0') {
		sr_seterr("empty passphrase");
		return -1;
	}
	return 0;
}

/*
 * PBKDF2 with HMAC-SHA1 (RFC 8018), our own loop over the hash so that
 * a signal stops it between slices: a hostile file may ask for tens of
 * seconds.  HMAC's inner and outer states are computed once and copied
 * for each iteration (OpenSSL's own PBKDF2 does the same).
 */
static int
pbkdf2_sha1(const char *pass, size_t plen, const uint8_t *salt,
    size_t slen, long iterations, uint8_t *out, size_t outlen)
{
	EVP_MD_CTX *in = EVP_MD_CTX_new(), *outer = EVP_MD_CTX_new(),
	    *c = EVP_MD_CTX_new();
	uint8_t k[64], pad[64], u[20], t[20], idx[4];
	unsigned int ulen;
	uint32_t block;
	size_t i, done;
	long j;
	int rv = -1;

	memset(k, 0, sizeof(k));
	if (in == NULL || outer == NULL || c == NULL)
		goto done;
	if (plen > sizeof(k)) {
		if (EVP_Digest(pass, plen, k, &ulen, EVP_sha1(), NULL) != 1)
			goto done;
	} else
		memcpy(k, pass, plen);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	if (EVP_DigestInit_ex(in, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(in, pad, sizeof(pad)) != 1)
		goto done;
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	if (EVP_DigestInit_ex(outer, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(outer, pad, sizeof(pad)) != 1)
		goto done;
	for (block = 1, done = 0; done < outlen; block++) {
		idx[0] = (uint8_t)(block >> 24);
		idx[1] = (uint8_t)(block >> 16);
		idx[2] = (uint8_t)(block >> 8);
		idx[3] = (uint8_t)block;
		for (j = 0; j < iterations; j++) {
			if (EVP_MD_CTX_copy_ex(c, in) != 1 || (j == 0 ?
			    EVP_DigestUpdate(c, salt, slen) != 1 ||
			    EVP_DigestUpdate(c, idx, 4) != 1 :
			    EVP_DigestUpdate(c, u, sizeof(u)) != 1) ||
			    EVP_DigestFinal_ex(c, u, &ulen) != 1 ||
			    EVP_MD_CTX_copy_ex(c, outer) != 1 ||
			    EVP_DigestUpdate(c, u, sizeof(u)) != 1 ||
			    EVP_DigestFinal_ex(c, u, &ulen) != 1)
				goto done;
			if (j == 0)
				memcpy(t, u, sizeof(t));
			else
				for (i = 0; i < sizeof(t); i++)
					t[i] ^= u[i];
			if ((j & 0xffff) == 0xffff && sr_checkpoint() == -1)
				goto done;
		}
		i = outlen - done < sizeof(t) ? outlen - done : sizeof(t);
		memcpy(out + done, t, i);
		done += i;
	}
	rv = 0;
done:
	if (rv == -1 && sr_interrupted() == 0)
		sr_seterr("keygen pkcs5_pbkdf2/sha1: the key derivation "
		    "failed");
	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(u, sizeof(u));
	explicit_bzero(t, sizeof(t));
	EVP_MD_CTX_free(in);
	EVP_MD_CTX_free(outer);
	EVP_MD_CTX_free(c);
	return rv;
}

/* Half the host's memory at most: never the OOM killer. */
static int
argon2_fits(const struct cgd_keygen *kg)
{
	long phys = sysconf(_SC_PHYS_PAGES), pg = sysconf(_SC_PAGESIZE);

	if (phys > 0 && pg > 0 && kg->memory / 1024 >
	    (long)((uint64_t)phys * (uint64_t)pg / 2 >> 20)) {
		sr_seterr("keygen argon2id: memory %ld MiB: more than half "
		    "of this host's %ld MiB (refused)", kg->memory / 1024,
		    (long)((uint64_t)phys * (uint64_t)pg >> 20));
		return -1;
	}
	return 0;
}

/*
 * The child: hash, write the key to wfd, and exit 0; or exit with
 * Argon2's error (a small negative number, negated) or 0x80.
 */
static void __attribute__((noreturn))
argon2_run(const struct cgd_keygen *kg, const char *pass, uint8_t *out,
    size_t outlen, int wfd, pid_t ppid)
{
	size_t got = 0;
	ssize_t n;
	int r;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	(void)sr_die_with_parent(ppid, -1);
	if (getppid() != ppid)
		_exit(1);
	r = argon2_hash((uint32_t)kg->iterations, (uint32_t)kg->memory,
	    (uint32_t)kg->parallelism, pass, strlen(pass), kg->salt,
	    (kg->saltbits + 7) / 8, out, outlen, NULL, 0, Argon2_id,
	    kg->version ? (uint32_t)kg->version : ARGON2_VERSION_NUMBER);
	if (r == ARGON2_OK) {
		for (got = 0; got < outlen; got += (size_t)n)
			if ((n = write(wfd, out + got, outlen - got)) <= 0)
				break;
	}
	explicit_bzero(out, outlen);
	_exit(r != ARGON2_OK ? (-r & 0x7f) : got == outlen ? 0 : 0x80);
}

/* The key from the child's pipe, until a signal the tools catch. */
static size_t
argon2_read(int rfd, uint8_t *out, size_t outlen)
{
	struct pollfd pfd = { .fd = rfd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < outlen && sr_interrupted() == 0) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = read(rfd, out + got, outlen - got)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	return got;
}

/*
 * Argon2id in a child process: libargon2 cannot be stopped midway, so
 * a signal the tools catch kills the child instead, within a tenth of a
 * second.  The key comes back through a pipe.
 */
static int
argon2_child(const struct cgd_keygen *kg, const char *pass, uint8_t *out,
    size_t outlen)
{
	size_t got;
	pid_t pid, ppid = getpid();
	int fds[2], status;

	if (argon2_fits(kg) == -1)
		return -1;
	if (pipe(fds) == -1) {
		sr_seterrno("keygen argon2id: pipe");
		return -1;
	}
	if ((pid = fork()) == -1) {
		sr_seterrno("keygen argon2id: fork");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		argon2_run(kg, pass, out, outlen, fds[1], ppid);
	}
	close(fds[1]);
	got = argon2_read(fds[0], out, outlen);
	close(fds[0]);
	if (got < outlen)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (got == outlen && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	explicit_bzero(out, outlen);
	if (sr_checkpoint() == -1)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) > 0 &&
	    WEXITSTATUS(status) < 0x80)
		sr_seterr("keygen argon2id: %s", argon2_error_message(
		    -WEXITSTATUS(status)));
	else
		sr_seterr("keygen argon2id: the key derivation failed");
	return -1;
}

/* One keygen's key, keylen bits. */
static int
keygen_key(const struct cgd_keygen *kg, size_t keylen, const char *passfile,
    uint8_t *out)
{
	char pass[1024];
	int r;

	if (strcmp(kg->method, "storedkey") == 0) {
		if (kg->key == NULL || kg->keybits != keylen) {
			sr_seterr("keygen storedkey: its key is not %zu bits",
			    keylen);
			return -1;
		}
		memcpy(out, kg->key, keylen / 8);
		return 0;
	}
	if (strcmp(kg->method, "randomkey") == 0 ||
	    strcmp(kg->method, "urandomkey") == 0) {
		sr_seterr("keygen %s: a new key each time, for swap; a disk "
		    "that keeps data needs a key it keeps (storedkey, "
		    "pkcs5_pbkdf2/sha1, argon2id)", kg->method);
		return -1;
	}
	if (strcmp(kg->method, "shell_cmd") == 0) {
		sr_seterr("keygen shell_cmd: not run by sharedroot; use a "
		    "NetBSD host's cgdconfig for this key");
		return -1;
	}
	if (strcmp(kg->method, "pkcs5_pbkdf2/sha1") != 0 &&
	    strcmp(kg->method, "argon2id") != 0) {
		sr_seterr("keygen %s: not supported here (storedkey, "
		    "pkcs5_pbkdf2/sha1, argon2id)", kg->method);
		return -1;
	}
	if (kg->salt == NULL || kg->iterations <= 0) {
		sr_seterr("keygen %s: salt and iterations are needed",
		    kg->method);
		return -1;
	}
	if (passphrase(passfile, pass, sizeof(pass)) == -1)
		return -1;
	/* cgdconfig takes the salt's bytes rounded up (BITS2BYTES). */
	if (strcmp(kg->method, "argon2id") == 0)
		r = argon2_child(kg, pass, out, keylen / 8);
	else
		r = pbkdf2_sha1(pass, strlen(pass), kg->salt,
		    (kg->saltbits + 7) / 8, kg->iterations, out, keylen / 8);
	explicit_bzero(pass, sizeof(pass));
	return r;
}

int
cgdparams_key(const struct cgd_params *p, const char *passfile, uint8_t *key)
{
	uint8_t one[CGD_MAXKEY];
	size_t i, j;

	if (p->keylen == 0 || p->keylen > CGD_MAXKEY * 8) {
		sr_seterr("keylength %zu: out of range", p->keylen);
		return -1;
	}
	memset(key, 0, p->keylen / 8);
	for (i = 0; i < p->nkg; i++) {
		if (keygen_key(&p->kg[i], p->keylen, passfile, one) == -1) {
			explicit_bzero(one, sizeof(one));
			explicit_bzero(key, p->keylen / 8);
			return -1;
		}
		for (j = 0; j < p->keylen / 8; j++)
			key[j] ^= one[j];
	}
	explicit_bzero(one, sizeof(one));
	return 0;
}

static uint32_t
le32at(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

int
cgdparams_verify(const struct cgd_params *p, const uint8_t *head, size_t len)
{
	const char *what = NULL;
	bool ok = false;

	if (strcmp(p->verify, "none") == 0)
		return 0;
	if (strcmp(p->verify, "ffs") == 0) {
		static const size_t at[] = { 8192, 65536 };
		size_t i;

		what = "FFS superblock";
		for (i = 0; i < 2 && !ok; i++)
			ok = len >= at[i] + 1376 &&
			    (le32at(head + at[i] + 1372) == 0x011954 ||
			    le32at(head + at[i] + 1372) == 0x19540119);
	} else if (strcmp(p->verify, "disklabel") == 0) {
		what = "disklabel";
		ok = len >= 1024 && le32at(head + 512) == 0x82564557;
	} else if (strcmp(p->verify, "mbr") == 0) {
		what = "MBR";
		ok = len >= 512 && head[510] == 0x55 && head[511] == 0xaa;
	} else if (strcmp(p->verify, "gpt") == 0) {
		what = "GPT header";
		ok = len >= 520 && memcmp(head + 512, "EFI PART", 8) == 0;
	} else {
		sr_seterr("verify_method %s: unknown (none, ffs, disklabel, "
		    "mbr, gpt)", p->verify);
		return -1;
	}
	if (!ok) {
		sr_seterr("verify_method %s: no %s after decryption: a wrong "
		    "key, or not this volume", p->verify, what);
		return -1;
	}
	return 0;
}

int
cgdparams_generate(struct sbuf *out)
{
	uint8_t raw[4 + 64];
	char b64[128];
	int n;

	raw[0] = 0;
	raw[1] = 0;
	raw[2] = 512 >> 8;
	raw[3] = 512 & 0xff;
	if (RAND_bytes(raw + 4, 64) != 1) {
		sr_seterr("no random bytes for a new key");
		return -1;
	}
	n = EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw));
	explicit_bzero(raw, sizeof(raw));
	if (n <= 0 || sbuf_printf(out, "algorithm aes-xts;\n"
	    "iv-method encblkno1;\nkeylength 512;\nverify_method ffs;\n"
	    "keygen storedkey key %s;\n", b64) == -1) {
		explicit_bzero(b64, sizeof(b64));
		sr_oom();
		return -1;
	}
	explicit_bzero(b64, sizeof(b64));
	return 0;
}

void
cgdparams_free(struct cgd_params *p)
{
	size_t i;

	for (i = 0; i < p->nkg; i++) {
		if (p->kg[i].key != NULL)
			explicit_bzero(p->kg[i].key, (p->kg[i].keybits + 7) / 8);
		free(p->kg[i].key);
		free(p->kg[i].salt);
	}
	p->nkg = 0;
}
