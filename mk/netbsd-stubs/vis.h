/* make compat-check: NetBSD's <vis.h>, the part the tools use. */
#ifndef _VIS_H_
#define _VIS_H_
#define VIS_OCTAL	0x0001
#define VIS_CSTYLE	0x0002
#define VIS_SP		0x0004
#define VIS_TAB		0x0008
#define VIS_NL		0x0010
#define VIS_SAFE	0x0020
#define VIS_NOSLASH	0x0040
#define VIS_WHITE	(VIS_SP | VIS_TAB | VIS_NL)
#define VIS_GLOB	0x1000
int	stravis(char **, const char *, int);
int	strnvis(char *, size_t, const char *, int);
int	strvisx(char *, const char *, size_t, int);
int	strunvis(char *, const char *);
#endif
