/*
 * make compat-check: what NetBSD's libc declares and glibc does not, so
 * that the NetBSD code paths compile on a Linux host.  Declarations
 * only: nothing built this way is linked or run.
 */
#include <stddef.h>
#include <stdint.h>

int		 dehumanize_number(const char *, int64_t *);
void		 setprogname(const char *);
const char	*getprogname(void);
long long	 strtonum(const char *, long long, long long, const char **);
size_t		 strlcpy(char *, const char *, size_t);
size_t		 strlcat(char *, const char *, size_t);
int		 sysctlbyname(const char *, void *, size_t *, const void *,
		    size_t);

/*
 * NetBSD's struct statvfs names its file system's type (f_fstypename);
 * glibc's has spare ints there.  Compared with memcmp, either compiles.
 */
#include <sys/statvfs.h>
#define f_fstypename	__f_spare
