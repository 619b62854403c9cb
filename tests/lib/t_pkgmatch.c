/*
 * pkg_install's pattern matching and dewey versions (pkg/pkgmatch.h):
 * tables of cases worked out from lib/dewey.c and lib/opattern.c.
 */
#include "h_util.h"
#include "pkg/pkgmatch.h"

static const struct {
	const char	*a, *b;
	int		 cmp;
} versions[] = {
	{ "1.0", "1.0", 0 },		{ "1.0", "1.0.0", 0 },
	{ "1.0", "1.0.1", -1 },		{ "1.10", "1.9", 1 },
	{ "2.0", "1.99", 1 },		{ "1.0alpha1", "1.0beta1", -1 },
	{ "1.0beta1", "1.0rc1", -1 },	{ "1.0rc1", "1.0", -1 },
	{ "1.0pre1", "1.0rc1", 0 },	{ "1.0RC1", "1.0rc1", 0 },
	{ "1.0pl1", "1.0.1", 0 },	{ "1.0_1", "1.0.1", 0 },
	{ "1.0a", "1.0.1", 0 },		{ "1.0b", "1.0a", 1 },
	{ "1.0nb1", "1.0", 1 },		{ "1.0nb2", "1.0nb1", 1 },
	{ "1.0nb0", "1.0", 0 },		{ "1.0.1", "1.0nb9", 1 },
	{ "2.0rc1", "2", -1 },		{ "20230101", "9.9", 1 },
	{ "99999999999999999999", "1", 1 },
	{ "", "0", 0 },			{ "1.0", "", 1 },
};

ATF_TC_WITHOUT_HEAD(version_cmp);
ATF_TC_BODY(version_cmp, tc)
{
	size_t i;
	int c, r;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		c = pkg_version_cmp(versions[i].a, versions[i].b);
		c = c < 0 ? -1 : c > 0;
		ATF_CHECK_EQ_MSG(c, versions[i].cmp, "%s vs %s: %d",
		    versions[i].a, versions[i].b, c);
		r = pkg_version_cmp(versions[i].b, versions[i].a);
		r = r < 0 ? -1 : r > 0;
		ATF_CHECK_EQ_MSG(r, -versions[i].cmp, "%s vs %s (swapped)",
		    versions[i].b, versions[i].a);
	}
}

static const struct {
	const char	*pattern, *pkg;
	int		 match;
} matches[] = {
	/* dewey */
	{ "foo>=1.0", "foo-1.0", 1 },		{ "foo>=1.0", "foo-0.9", 0 },
	{ "foo>=1.0", "foo-1.0nb1", 1 },	{ "foo>1.0", "foo-1.0", 0 },
	{ "foo<1.0", "foo-0.9", 1 },		{ "foo<=1.0", "foo-1.0nb1", 0 },
	{ "foo>=1.0<2", "foo-1.5", 1 },		{ "foo>=1.0<2", "foo-2.0", 0 },
	{ "foo>=1.0<2", "foo-2.0rc1", 1 },	{ "foo>1.0<=2", "foo-2.0", 1 },
	{ "foo>=1.0", "foobar-1.0", 0 },	{ "foo>=1.0", "foo-bar-1.0", 0 },
	{ "foo>=1.0", "foo", 0 },		{ "foo-bar>=1", "foo-bar-1.2", 1 },
	/* globs */
	{ "foo-[0-9]*", "foo-1.0", 1 },		{ "foo-[0-9]*", "foo-bar-1.0", 0 },
	{ "foo-1.*", "foo-1.2", 1 },		{ "*-1.0", "foo-1.0", 1 },
	{ "py3[0-9]-foo-[0-9]*", "py39-foo-1", 1 },
	{ "foo-?.0", "foo-1.0", 1 },
	/* exact, and a base name alone */
	{ "foo-1.0", "foo-1.0", 1 },		{ "foo-1.0", "foo-1.0nb1", 0 },
	{ "foo", "foo-1.0", 1 },		{ "foo", "foo-bar-1.0", 0 },
	{ "foo-bar", "foo-bar-1.0", 1 },	{ "foo", "foo", 1 },
	{ "foo", "foox-1", 0 },
	/* alternatives */
	{ "{foo,bar}>=1", "bar-1.2", 1 },	{ "{foo,bar}>=1", "baz-1.2", 0 },
	{ "foo-{a,b}-[0-9]*", "foo-b-3", 1 },	{ "{x,{foo,bar}}-[0-9]*", "bar-1", 1 },
	{ "foo{,-nox11}>=1", "foo-nox11-2", 1 },
	{ "foo{,-nox11}>=1", "foo-2", 1 },	{ "foo{,-nox11}>=1", "foo-0.5", 0 },
	/* malformed */
	{ "{a,b", "a-1", -1 },			{ "a,b}", "a-1", 0 },
};

ATF_TC_WITHOUT_HEAD(patterns);
ATF_TC_BODY(patterns, tc)
{
	size_t i;
	int r;

	for (i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
		r = pkg_match(matches[i].pattern, matches[i].pkg);
		ATF_CHECK_EQ_MSG(r, matches[i].match, "%s against %s: %d",
		    matches[i].pattern, matches[i].pkg, r);
	}
}

/* Patterns that would make pkg_install work without end: refused. */
ATF_TC_WITHOUT_HEAD(hostile_patterns);
ATF_TC_BODY(hostile_patterns, tc)
{
	char p[2048];
	int i;

	p[0] = '\0';
	for (i = 0; i < 20; i++)
		strcat(p, "{*,*}");
	strcat(p, "x");
	ATF_CHECK_EQ(pkg_match(p, "zzz-1"), -1);
	ATF_CHECK(strstr(sr_errmsg(), "too many alternatives") != NULL);
	memset(p, 'a', 1500);
	p[1500] = '\0';
	ATF_CHECK_EQ(pkg_match(p, "a-1"), -1);
	ATF_CHECK(strstr(sr_errmsg(), "longer than") != NULL);
	strcpy(p, "foo>=99999999999999999999999999");
	ATF_CHECK_EQ(pkg_match(p, "foo-1"), 0);
	ATF_CHECK_EQ(pkg_match("foo>=", "foo-1"), 1);
	ATF_CHECK_EQ(pkg_match("{}", "x-1"), 0);
	ATF_CHECK_EQ(pkg_match("{{{}}}", "x-1"), 0);
}

ATF_TC_WITHOUT_HEAD(order);
ATF_TC_BODY(order, tc)
{
	ATF_CHECK_EQ(pkg_order("foo>=1", "foo-1.0", "foo-2.0"), 2);
	ATF_CHECK_EQ(pkg_order("foo>=1", "foo-2.0", "foo-1.0"), 1);
	ATF_CHECK_EQ(pkg_order("foo>=1", "foo-0.1", "foo-1.0"), 2);
	ATF_CHECK_EQ(pkg_order("foo>=1", "foo-1.0", NULL), 1);
	ATF_CHECK_EQ(pkg_order("foo>=1", "bar-1.0", "foo-0.1"), 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, version_cmp);
	ATF_TP_ADD_TC(tp, patterns);
	ATF_TP_ADD_TC(tp, hostile_patterns);
	ATF_TP_ADD_TC(tp, order);
	return atf_no_error();
}
