/*
 * Running the host's helper programs (mount, vndconfig, makefs, mke2fs,
 * cgdconfig, ...): found in PATH or the sbin directories, started with
 * the signals we catch back at their defaults, their outputs collected.
 */
#ifndef RUN_H
#define RUN_H

#include <stddef.h>

struct sbuf;

/*
 * Where helper name is: PATH first, then the sbin directories an
 * ordinary user's PATH often lacks; a name with a slash is taken as it
 * is.  The path goes in buf.
 */
int	run_find(const char *, char *, size_t);
/*
 * Run argv (argv[0] found by run_find()) and wait for it; with out,
 * collect its standard output.  Fails unless it exits 0, saying how.
 */
int	run_cmd(char *const [], struct sbuf *);
/* The same, with err collecting its standard error too. */
int	run_cmd_err(char *const [], struct sbuf *, struct sbuf *);

#endif /* RUN_H */
