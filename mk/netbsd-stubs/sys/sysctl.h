/*
 * make compat-check: NetBSD's <sys/sysctl.h>, which glibc no longer
 * has; sysctlbyname() is declared in netbsd.h.
 */
#ifndef _SYS_SYSCTL_H_
#define _SYS_SYSCTL_H_
#endif
