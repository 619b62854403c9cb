/*
 * The error message and the hint beside it: what a tool is told.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "h_util.h"

ATF_TC_WITHOUT_HEAD(hint_kept_by_prefix);
ATF_TC_BODY(hint_kept_by_prefix, tc)
{
	sr_seterr("a;b: not a host name");
	ATF_CHECK_EQ(sr_errhint(), SR_HINT_NONE);
	sr_sethint(SR_HINT_HOSTNAME);
	sr_prefixerr("etc/myname");
	ATF_CHECK_STREQ(sr_errmsg(), "etc/myname: a;b: not a host name");
	ATF_CHECK_EQ(sr_errhint(), SR_HINT_HOSTNAME);
}

/* A hint belongs to its message: the next failure starts without one. */
ATF_TC_WITHOUT_HEAD(hint_cleared_by_next_error);
ATF_TC_BODY(hint_cleared_by_next_error, tc)
{
	sr_seterr("etc: already provisioned");
	sr_sethint(SR_HINT_FORCE);
	sr_seterr("something else");
	ATF_CHECK_EQ(sr_errhint(), SR_HINT_NONE);

	sr_sethint(SR_HINT_FORCE);
	errno = ENOENT;
	sr_seterrno("etc/rc");
	ATF_CHECK_STREQ(sr_errmsg(), "etc/rc: No such file or directory");
	ATF_CHECK_EQ(sr_errhint(), SR_HINT_NONE);

	sr_sethint(SR_HINT_FORCE);
	ATF_CHECK_EQ(sr_oom(), -1);
	ATF_CHECK_EQ(errno, ENOMEM);
	ATF_CHECK_EQ(sr_errhint(), SR_HINT_NONE);

	sr_sethint(SR_HINT_FORCE);
	sr_seterr_noroom(-1, "etc/rc", 0, false);
	ATF_CHECK_EQ(sr_errhint(), SR_HINT_NONE);
}

/* What a logger registered with sr_setlog() was told. */
struct heard {
	int	 n;
	enum sr_level level;
	char	 msg[256];
	void	*ctx;
};

static void
hear(void *ctx, enum sr_level level, const char *fmt, ...)
{
	struct heard *h = ctx;
	va_list ap;

	h->n++;
	h->level = level;
	h->ctx = ctx;
	va_start(ap, fmt);
	vsnprintf(h->msg, sizeof(h->msg), fmt, ap);
	va_end(ap);
}

/* sr_log() reaches the registered logger, level and text; none: silent. */
ATF_TC_WITHOUT_HEAD(log_registered_and_not);
ATF_TC_BODY(log_registered_and_not, tc)
{
	struct heard h = { 0 };
	sr_logfn *fn;
	void *ctx;

	sr_log(SR_WARN, "nobody hears %s", "this");	/* none: no crash */
	sr_setlog(hear, &h);
	sr_log(SR_WARN, "etc/rc: %s %d%%", "kept", 50);
	ATF_CHECK_EQ(h.n, 1);
	ATF_CHECK_EQ(h.level, SR_WARN);
	ATF_CHECK_STREQ(h.msg, "etc/rc: kept 50%");
	ATF_CHECK_EQ(h.ctx, &h);
	sr_log(SR_VERBOSE, "dev: made");
	ATF_CHECK_EQ(h.n, 2);
	ATF_CHECK_EQ(h.level, SR_VERBOSE);
	ATF_CHECK_STREQ(h.msg, "dev: made");
	sr_getlog(&fn, &ctx);
	ATF_CHECK(fn == hear && ctx == &h);

	sr_setlog(NULL, NULL);
	sr_log(SR_INFO, "unheard");
	ATF_CHECK_EQ(h.n, 2);
	ATF_CHECK_STREQ(h.msg, "dev: made");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, hint_kept_by_prefix);
	ATF_TP_ADD_TC(tp, hint_cleared_by_next_error);
	ATF_TP_ADD_TC(tp, log_registered_and_not);
	return atf_no_error();
}
