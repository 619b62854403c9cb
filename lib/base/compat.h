/*
 * The portability layer's old name: new code includes os.h.  Kept so
 * that files not yet moved over build unchanged.
 */
#ifndef COMPAT_H
#define COMPAT_H

#include "base/os.h"

#endif /* COMPAT_H */
