/*
 * cgdconfig(8) parameters files (see cgdparams.h).  The tokens are
 * cgdlex.l's: keywords, integers, words, "quoted strings", { }, and
 * ';' or a newline ending a statement; '#' starts a comment and a
 * backslash-newline is ignored.  The statements are cgdparse.y's,
 * the deprecated keygen_* ones included.  A key, salt or stored key is
 * base64 of a 32-bit big-endian bit count and the bits.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cgdparams.h"

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
	int k = 0, v;

	for (;;) {
		if (next(l) == -1)
			return -1;
		if (l->tok == T_EOL)
			break;
		if (l->tok != T_WORD && l->tok != T_INT && l->tok != T_KW)
			return lex_err(l, "base64 expected");
		if (n + strlen(l->text) >= sizeof(b64))
			return lex_err(l, "base64 too long");
		memcpy(b64 + n, l->text, strlen(l->text));
		n += strlen(l->text);
	}
	for (i = 0; i < n && b64[i] != '='; i++) {
		if ((v = b64val((unsigned char)b64[i])) < 0)
			return lex_err(l, "not base64");
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
	} else if (k == 1)
		return lex_err(l, "truncated base64");
	if (r < 4)
		return lex_err(l, "bits too short");
	count = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
	    (uint32_t)raw[2] << 8 | raw[3];
	if (count == 0 || count > (r - 4) * 8)
		return lex_err(l, "bit count larger than the bits given");
	if ((*out = malloc((count + 7) / 8)) == NULL)
		return lex_err(l, "out of memory");
	memcpy(*out, raw + 4, (count + 7) / 8);
	*nbits = count;
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(b64, sizeof(b64));
	return 0;
}

/* One keygen setting, starting at the token just read. */
static int
kgvar(struct lex *l, struct cgd_keygen *kg)
{
	if (l->tok == T_EOL)
		return 0;
	if (is_kw(l, "salt")) {
		free(kg->salt);
		return bits(l, &kg->salt, &kg->saltbits);
	}
	if (is_kw(l, "key")) {
		free(kg->key);
		return bits(l, &kg->key, &kg->keybits);
	}
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
		return bits(l, &(*dep)->salt, &(*dep)->saltbits);
	if (is_kw(l, "keygen_iterations"))
		return integer(l, &(*dep)->iterations) == -1 ? -1 : eol(l);
	if (is_kw(l, "xor_key"))
		return bits(l, &(*dep)->key, &(*dep)->keybits);
	return lex_err(l, "syntax error");
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
		if (tty)
			sr_seterr("a passphrase is needed and there is no "
			    "terminal: give it in a file with -K");
		else
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
	if (strcmp(kg->method, "argon2id") == 0)
		r = argon2_hash((uint32_t)kg->iterations, (uint32_t)kg->memory,
		    (uint32_t)kg->parallelism, pass, strlen(pass), kg->salt,
		    kg->saltbits / 8, out, keylen / 8, NULL, 0, Argon2_id,
		    kg->version ? (uint32_t)kg->version :
		    ARGON2_VERSION_NUMBER) == ARGON2_OK ? 1 : 0;
	else
		r = PKCS5_PBKDF2_HMAC_SHA1(pass, (int)strlen(pass), kg->salt,
		    (int)(kg->saltbits / 8), (int)kg->iterations,
		    (int)(keylen / 8), out);
	explicit_bzero(pass, sizeof(pass));
	if (r != 1) {
		sr_seterr("keygen %s: the key derivation failed", kg->method);
		return -1;
	}
	return 0;
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
		sr_seterr("out of memory");
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
