/*
 * The little that differs between hosts (see compat.h).
 */
#include "compat.h"

#include <stdlib.h>
#if !SR_NETBSD
#include <libutil.h>
#endif

int
sr_parse_size(const char *s, uint64_t *v)
{
#if SR_NETBSD
	int64_t r;

	if (dehumanize_number(s, &r) == -1 || r < 0)
		return -1;
	*v = (uint64_t)r;
	return 0;
#else
	return expand_number(s, v);
#endif
}
