/*
 * h_cgdcat keyfile image out: decrypt a cgd image with the key file's
 * key (lib/cgd.c, checked against NetBSD's vectors by t_cgd), for the
 * shell tests to read the file system with sleuthkit.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgd/cgdimage.h"

int
main(int argc, char *argv[])
{
	struct cgdimg g;
	char cmd[8192];

	if (argc != 4)
		errx(2, "usage: h_cgdcat keyfile image out");
	cgdimg_init(&g);
	if (cgdimg_open(&g, argv[1], NULL, false) == -1 ||
	    cgdimg_private(&g, scratch_base()) == -1 || cgdimg_decrypt(&g, argv[2]) == -1)
		errx(1, "%s", sr_errmsg());
	snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s'", g.plain,
	    argv[3]);
	if (system(cmd) != 0)
		errx(1, "copy failed");
	(void)cgdimg_close(&g);
	return 0;
}
