/*
 * cgdconfig(8) parameters files: read (the grammar of NetBSD's
 * sbin/cgdconfig/cgdparse.y and cgdlex.l), turned into a key, checked
 * against a decrypted volume, and made anew as cgdconfig -g would.
 */
#ifndef CGDPARAMS_H
#define CGDPARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "base/sr.h"

#define CGD_MAXKEYGENS	8
#define CGD_MAXKEY	64	/* bytes: 512 bits */

struct cgd_keygen {
	char	 method[32];
	uint8_t	*salt;
	size_t	 saltbits;
	uint8_t	*key;
	size_t	 keybits;
	long	 iterations, memory, parallelism, version;
	int	 has_cmd;
	int	 line;		/* where it starts in the file */
};

struct cgd_params {
	char	 algorithm[32];
	char	 ivmethod[32];
	char	 verify[32];
	size_t	 keylen;		/* bits */
	struct cgd_keygen kg[CGD_MAXKEYGENS];
	size_t	 nkg;
};

/*
 * Parse a parameters file's text; name is used in messages
 * ("name:LINE: ...").  Unset values get cgdconfig's defaults.  A key
 * derivation asking for more work or memory than cgdconfig's own
 * calibration would ever choose is refused here (see cgdparams.c).
 */
int	cgdparams_parse(const char *, size_t, const char *,
	    struct cgd_params *);
/*
 * The volume key (p->keylen bits into key): each keygen's key XORed.
 * storedkey, pkcs5_pbkdf2/sha1 and argon2id are done here; a
 * passphrase comes from passfile (its first line), or with NULL from
 * the terminal.  randomkey and urandomkey (a new key each time: right
 * for swap, never for a disk that keeps data) and shell_cmd are refused.
 * A signal caught by sr_signals_catch() stops a derivation within a
 * fraction of a second ("interrupted by signal N").
 */
int	cgdparams_key(const struct cgd_params *, const char *, uint8_t *);
/*
 * Whether a decrypted volume's first sectors pass the verify_method
 * (none, ffs, disklabel, mbr, gpt); head holds at least 72 KiB or the
 * whole volume.  0 yes, -1 no (the message says so).
 */
int	cgdparams_verify(const struct cgd_params *, const uint8_t *, size_t);
/*
 * A new parameters file as "cgdconfig -g -k storedkey -V ffs aes-xts
 * 512" writes it: a new random key.
 */
int	cgdparams_generate(struct sbuf *);
void	cgdparams_free(struct cgd_params *);

#endif /* CGDPARAMS_H */
