/*
 * A set of packages checked together (pkg/pkgset.h): dependencies met,
 * conflicts, duplicates and two versions refused with one line naming
 * both, the order (dependencies first) and +REQUIRED_BY.
 */
#include "h_util.h"
#include "pkg/pkgset.h"

#define MAXP	8

struct fixture {
	struct plist	 pl[MAXP];
	struct pkgset_in in[MAXP];
	size_t		 n;
};

/* Each text: a +CONTENTS with "@cwd /usr/pkg" added. */
static void
load(struct fixture *f, const char *const *texts)
{
	char buf[1024], label[32];

	for (f->n = 0; texts[f->n] != NULL; f->n++) {
		snprintf(buf, sizeof(buf), "%s@cwd /usr/pkg\nbin/x%zu\n",
		    texts[f->n], f->n);
		snprintf(label, sizeof(label), "p%zu.tgz", f->n);
		ATF_REQUIRE_MSG(plist_parse(label, buf, strlen(buf),
		    &f->pl[f->n]) == 0, "%s", sr_errmsg());
		f->in[f->n].label = strdup(label);
		f->in[f->n].pl = &f->pl[f->n];
	}
}

static void
unload(struct fixture *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		plist_free(&f->pl[i]);
		free((char *)f->in[i].label);
	}
}

static void
refused(const char *const *texts, const char *want1, const char *want2)
{
	struct fixture f;
	struct pkgset set;

	load(&f, texts);
	ATF_CHECK_EQ(pkgset_resolve(f.in, f.n, &set), -1);
	ATF_CHECK_MSG(strstr(sr_errmsg(), want1) != NULL &&
	    strstr(sr_errmsg(), want2) != NULL && strchr(sr_errmsg(), '\n') ==
	    NULL, "\"%s\"", sr_errmsg());
	ATF_CHECK(set.order == NULL && set.required_by == NULL);
	unload(&f);
}

ATF_TC_WITHOUT_HEAD(chain_ordered);
ATF_TC_BODY(chain_ordered, tc)
{
	static const char *const texts[] = {
		"@name app-1.0\n@pkgdep lib>=2\n@pkgdep tool-[0-9]*\n"
		    "@blddep compiler-9\n",
		"@name tool-3nb1\n@pkgdep lib>=1.5<3\n",
		"@name lib-2.1\n",
		"@name other-1\n@pkgdep {lib,libx}>=2\n@pkgdep lib-2.1\n",
		NULL
	};
	struct fixture f;
	struct pkgset set;

	load(&f, texts);
	ATF_REQUIRE_MSG(pkgset_resolve(f.in, f.n, &set) == 0, "%s",
	    sr_errmsg());
	/* Dependencies first, otherwise in the order given. */
	ATF_CHECK_EQ(set.order[0], 2);
	ATF_CHECK_EQ(set.order[1], 1);
	ATF_CHECK_EQ(set.order[2], 0);
	ATF_CHECK_EQ(set.order[3], 3);
	ATF_REQUIRE_EQ(set.ndep[0], 2);
	ATF_CHECK_EQ(set.dep[0][0], 2);
	ATF_CHECK_EQ(set.dep[0][1], 1);
	/* Two patterns met by one package count once. */
	ATF_CHECK_EQ(set.ndep[3], 1);
	ATF_CHECK_STREQ(set.required_by[2], "tool-3nb1\napp-1.0\nother-1\n");
	ATF_CHECK_STREQ(set.required_by[1], "app-1.0\n");
	ATF_CHECK(set.required_by[0] == NULL && set.required_by[3] == NULL);
	pkgset_free(&set);
	unload(&f);
}

/* Of two packages matching, the better version is taken. */
ATF_TC_WITHOUT_HEAD(best_match);
ATF_TC_BODY(best_match, tc)
{
	static const char *const texts[] = {
		"@name app-1\n@pkgdep {py39,py310}-foo-[0-9]*\n",
		"@name py39-foo-1.0\n",
		"@name py310-foo-2.0\n",
		NULL
	};
	struct fixture f;
	struct pkgset set;

	load(&f, texts);
	ATF_REQUIRE_MSG(pkgset_resolve(f.in, f.n, &set) == 0, "%s",
	    sr_errmsg());
	ATF_REQUIRE_EQ(set.ndep[0], 1);
	ATF_CHECK_EQ(set.dep[0][0], 2);
	ATF_CHECK(set.required_by[1] == NULL);
	pkgset_free(&set);
	unload(&f);
}

ATF_TC_WITHOUT_HEAD(missing_dependency);
ATF_TC_BODY(missing_dependency, tc)
{
	static const char *const texts[] = {
		"@name app-1.0\n@pkgdep lib>=3\n", "@name lib-2.1\n", NULL
	};

	refused(texts, "app-1.0 (p0.tgz) needs lib>=3 (+CONTENTS line 2)",
	    "no package");
}

ATF_TC_WITHOUT_HEAD(conflict);
ATF_TC_BODY(conflict, tc)
{
	static const char *const texts[] = {
		"@name a-1\n", "@name b-1\n@pkgcfl a-[0-9]*\n", NULL
	};

	refused(texts, "b-1 (p1.tgz) conflicts with a-1 (p0.tgz)",
	    "@pkgcfl a-[0-9]*");
}

ATF_TC_WITHOUT_HEAD(duplicate);
ATF_TC_BODY(duplicate, tc)
{
	static const char *const texts[] = {
		"@name a-1\n", "@name b-1\n", "@name a-1\n", NULL
	};

	refused(texts, "p0.tgz and p2.tgz", "both are a-1");
}

ATF_TC_WITHOUT_HEAD(two_versions);
ATF_TC_BODY(two_versions, tc)
{
	static const char *const texts[] = {
		"@name a-b-1\n", "@name a-2\n", "@name a-1\n", NULL
	};

	refused(texts, "(a-1) and", "(a-2): two versions of a");
}

ATF_TC_WITHOUT_HEAD(cycle);
ATF_TC_BODY(cycle, tc)
{
	static const char *const texts[] = {
		"@name a-1\n@pkgdep b-1\n", "@name b-1\n@pkgdep c-1\n",
		"@name c-1\n@pkgdep a-1\n", NULL
	};

	refused(texts, "depend on each other", "c-1 (p2.tgz)");
}

ATF_TC_WITHOUT_HEAD(bad_pattern);
ATF_TC_BODY(bad_pattern, tc)
{
	static const char *const texts[] = {
		"@name a-1\n@pkgdep {b,c\n", "@name b-1\n", NULL
	};

	refused(texts, "a-1 (p0.tgz): +CONTENTS line 2", "unbalanced");
}

/* Two packages listing one file (under any @cwd): pkg_add's PLIST conflict. */
ATF_TC_WITHOUT_HEAD(file_conflict);
ATF_TC_BODY(file_conflict, tc)
{
	static const char *const texts[] = {
		"@name a-1\n@cwd /usr/pkg/share\ndoc/x\n",
		"@name b-1\n@cwd /usr/pkg\nshare/doc/x\n", NULL
	};

	refused(texts, "a-1 (p0.tgz) and b-1 (p1.tgz) both install",
	    "/usr/pkg/share/doc/x");
}

/* A package does not meet its own dependency. */
ATF_TC_WITHOUT_HEAD(self_dependency);
ATF_TC_BODY(self_dependency, tc)
{
	static const char *const texts[] = { "@name a-1\n@pkgdep a>=1\n", NULL };

	refused(texts, "a-1 (p0.tgz) needs a>=1", "no package");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, chain_ordered);
	ATF_TP_ADD_TC(tp, best_match);
	ATF_TP_ADD_TC(tp, missing_dependency);
	ATF_TP_ADD_TC(tp, conflict);
	ATF_TP_ADD_TC(tp, duplicate);
	ATF_TP_ADD_TC(tp, two_versions);
	ATF_TP_ADD_TC(tp, cycle);
	ATF_TP_ADD_TC(tp, bad_pattern);
	ATF_TP_ADD_TC(tp, self_dependency);
	ATF_TP_ADD_TC(tp, file_conflict);
	return atf_no_error();
}
