/*
 * The error message and the hint beside it: what a tool is told.
 */
#include <errno.h>

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

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, hint_kept_by_prefix);
	ATF_TP_ADD_TC(tp, hint_cleared_by_next_error);
	return atf_no_error();
}
