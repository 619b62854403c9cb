/*
 * The files made from the templates installed with the tools
 * (templates/): @NAME@ replaced by its value.
 */
#ifndef TEMPLATE_H
#define TEMPLATE_H

#include <stddef.h>

#include "base/sr.h"

struct tmpl_var {
	const char *name;
	const char *value;
};

/*
 * Replace each @NAME@ in text with its value from vars (NULL-terminated).
 * An unknown @NAME@ is an error naming file:line.
 */
int	tmpl_render(const char *, const char *, size_t,
	    const struct tmpl_var *, struct sbuf *);
/* Read the template file dir/name (a host path the tool was given). */
int	tmpl_load(const char *, const char *, const struct tmpl_var *,
	    struct sbuf *);

#endif /* TEMPLATE_H */
