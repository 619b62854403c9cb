/*
 * The names of a run's temporaries: PREFIX.PID.XXXXXX, the pid of the
 * run that made one and six random letters or digits, so that a later
 * run can tell whose a leftover was (scratch.h removes dead runs').
 * Stages and mount points are TMPDIR/sharedroot.PID.XXXXXX, a file
 * beside an image .NAME.PID.XXXXXX, a file being replaced in a guest
 * tree .NAME.sr.PID.XXXXXX (never taken for an image's: see dir.c).
 */
#ifndef TMPNAME_H
#define TMPNAME_H

#include <stddef.h>

/*
 * A fresh name in buf: the prefix made from fmt, then .PID.XXXXXX; -1
 * with errno ENAMETOOLONG if it does not fit.
 */
int	tmpname(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* The pid in name if it is prefix.PID.XXXXXX, else -1. */
long	tmpname_pid(const char *, const char *);

#endif /* TMPNAME_H */
