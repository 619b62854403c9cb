/*
 * cgd(4) in user space: sectors encrypted and decrypted exactly as
 * NetBSD's cgd does (sys/dev/cgd.c, cgd_crypto.c), with OpenSSL's
 * libcrypto, so that an encrypted disk is made and read on any host.
 */
#ifndef CGD_H
#define CGD_H

#include <stddef.h>
#include <stdint.h>

#define CGD_SECSIZE	512

struct cgd;

/*
 * A cipher with its key: algorithm ("aes-xts", "aes-cbc", "3des-cbc",
 * "blowfish-cbc"; "adiantum" is refused here), iv-method ("encblkno1",
 * "encblkno8", or the old name "encblkno", which is encblkno8; ignored
 * by aes-xts), key of keybits bits.
 */
int	cgd_open(const char *, const char *, const uint8_t *, size_t,
	    struct cgd **);
/*
 * Encrypt (enc 1) or decrypt (0) len bytes in place, a whole number of
 * 512-byte sectors, the first being sector blkno of the volume.
 */
int	cgd_crypt(struct cgd *, uint8_t *, size_t, uint64_t, int);
/* Forget the key. */
void	cgd_close(struct cgd *);

#endif /* CGD_H */
