/*
 * rcconf_set(), ttys_console_only() and crontab_quiet() on both shapes.
 */
#include <sys/mman.h>

#include <unistd.h>

#include "plan/edit.h"
#include "h_util.h"

/*
 * A copy of text whose last byte is the last of a page, the next page
 * unreadable: an edit reading one byte past the end dies of SIGSEGV.
 */
static char *
guarded(const char *text, size_t len, void **map, size_t *maplen)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = (len + pg - 1) / pg;
	char *p;

	*maplen = (n + 1) * pg;
	p = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	ATF_REQUIRE(p != MAP_FAILED);
	ATF_REQUIRE(mprotect(p + n * pg, pg, PROT_NONE) == 0);
	*map = p;
	p += n * pg - len;
	memcpy(p, text, len);
	return p;
}

ATF_TC_WITHOUT_HEAD(rcconf_4x_replaces_wscons);
ATF_TC_BODY(rcconf_4x_replaces_wscons, tc)
{
	size_t len, nlen, n2;
	char *old = h_fixture(tc, "nb4/rc.conf", &len), *new, *again;

	ATF_REQUIRE_EQ(h_count_line(old, "wscons=YES"), 1);
	ATF_REQUIRE_EQ(rcconf_set(old, len, "wscons", "NO", &new, &nlen),
	    EDIT_CHANGED);
	ATF_CHECK_EQ(h_count_line(new, "wscons=NO"), 1);
	ATF_CHECK_EQ(h_count_line(new, "wscons=YES"), 0);
	/* In place: the line keeps its position. */
	ATF_CHECK_EQ(h_line_no(new, "wscons=NO"), h_line_no(old, "wscons=YES"));
	ATF_CHECK_EQ(nlen, len - 1);
	ATF_CHECK_EQ(rcconf_set(new, nlen, "wscons", "NO", &again, &n2),
	    EDIT_ALREADY);
	free(new);
	free(old);
}

ATF_TC_WITHOUT_HEAD(rcconf_today_appends_wscons);
ATF_TC_BODY(rcconf_today_appends_wscons, tc)
{
	size_t len, nlen, n2;
	char *old = h_fixture(tc, "nb10/rc.conf", &len), *new, *again;

	ATF_REQUIRE(strstr(old, "wscons") == NULL);
	ATF_REQUIRE_EQ(rcconf_set(old, len, "wscons", "NO", &new, &nlen),
	    EDIT_CHANGED);
	ATF_CHECK_EQ(nlen, len + strlen("wscons=NO\n"));
	ATF_CHECK(memcmp(new, old, len) == 0);
	ATF_CHECK_STREQ(new + len, "wscons=NO\n");
	ATF_CHECK_EQ(rcconf_set(new, nlen, "wscons", "NO", &again, &n2),
	    EDIT_ALREADY);
	free(new);
	free(old);
}

ATF_TC_WITHOUT_HEAD(rcconf_every_active_assignment);
ATF_TC_BODY(rcconf_every_active_assignment, tc)
{
	const char *t = "# sendmail=YES\nsendmail=YES\n  sendmail=YES # x\n"
	    "sendmail_flags=-bd\nnosendmail=YES";
	char *new;
	size_t nlen;

	ATF_REQUIRE_EQ(rcconf_set(t, strlen(t), "sendmail", "NO", &new, &nlen),
	    EDIT_CHANGED);
	ATF_CHECK_STREQ(new, "# sendmail=YES\nsendmail=NO\nsendmail=NO\n"
	    "sendmail_flags=-bd\nnosendmail=YES");
	free(new);
}

ATF_TC_WITHOUT_HEAD(rcconf_append_after_unterminated_line);
ATF_TC_BODY(rcconf_append_after_unterminated_line, tc)
{
	const char *t = "rc_configured=YES";
	char *new;
	size_t nlen;

	ATF_REQUIRE_EQ(rcconf_set(t, strlen(t), "powerd", "YES", &new, &nlen),
	    EDIT_CHANGED);
	ATF_CHECK_STREQ(new, "rc_configured=YES\npowerd=YES\n");
	free(new);
}

ATF_TC_WITHOUT_HEAD(ttys_console_only_both_shapes);
ATF_TC_BODY(ttys_console_only_both_shapes, tc)
{
	const char *shapes[] = { "nb4/ttys", "nb10/ttys" };
	size_t len, nlen, n2, i;
	char *old, *new, *again, *p;

	for (i = 0; i < 2; i++) {
		int on = 0;

		old = h_fixture(tc, shapes[i], &len);
		ATF_REQUIRE_EQ(ttys_console_only(old, len, &new, &nlen),
		    EDIT_CHANGED);
		ATF_CHECK_EQ(nlen, len + (i == 0 ? 2 : 3));
		for (p = new; (p = strstr(p, "\ton")) != NULL; p++)
			on++;
		ATF_CHECK_EQ(on, 1 + (i == 0));	/* console, commented E3 */
		ATF_CHECK(strstr(new, "console\t\"/usr/libexec/getty ") != NULL);
		ATF_CHECK(strstr(new, "vt100\ton secure") != NULL);
		ATF_CHECK(strstr(new, "wsvt25\toff secure") != NULL);
		ATF_CHECK_EQ(ttys_console_only(new, nlen, &again, &n2),
		    EDIT_ALREADY);
		free(new);
		free(old);
	}
}

ATF_TC_WITHOUT_HEAD(crontab_quiet_both_shapes);
ATF_TC_BODY(crontab_quiet_both_shapes, tc)
{
	const char *shapes[] = { "nb4/crontab", "nb10/crontab" };
	size_t len, nlen, n2, i;
	char *old, *new, *again;

	for (i = 0; i < 2; i++) {
		old = h_fixture(tc, shapes[i], &len);
		ATF_REQUIRE_EQ(crontab_quiet(old, len, &new, &nlen),
		    EDIT_CHANGED);
		ATF_CHECK_EQ(nlen, len + 2);
		ATF_CHECK(strstr(new, "\n#15\t3\t*\t*\t*\t/bin/sh /etc/daily") !=
		    NULL);
		ATF_CHECK(strstr(new, "\n#30\t4\t*\t*\t6\t/bin/sh /etc/weekly") !=
		    NULL);
		/* Monthly was off already; atrun and newsyslog stay on. */
		ATF_CHECK(strstr(new, "\n#30\t5\t1\t*\t*\t/bin/sh /etc/monthly") !=
		    NULL);
		ATF_CHECK(strstr(new, "\n##") == NULL);
		ATF_CHECK(strstr(new, "\n*/10\t*\t*\t*\t*\t/usr/libexec/atrun\n")
		    != NULL);
		ATF_CHECK_EQ(crontab_quiet(new, nlen, &again, &n2),
		    EDIT_ALREADY);
		free(new);
		free(old);
	}
}

ATF_TC_WITHOUT_HEAD(crontab_other_daily_left);
ATF_TC_BODY(crontab_other_daily_left, tc)
{
	const char *t = "0 1 * * * /usr/local/etc/daily.local\n"
	    "0 2 * * * /etc/daily;echo\n";
	char *new;
	size_t nlen;

	ATF_REQUIRE_EQ(crontab_quiet(t, strlen(t), &new, &nlen), EDIT_CHANGED);
	ATF_CHECK_STREQ(new, "0 1 * * * /usr/local/etc/daily.local\n"
	    "#0 2 * * * /etc/daily;echo\n");
	free(new);
}

ATF_TC_WITHOUT_HEAD(edits_stay_inside_the_text);
ATF_TC_BODY(edits_stay_inside_the_text, tc)
{
	/* Last lines blank, blank with spaces, a lone '#', a lone tab. */
	static const char *const texts[] = {
		"0 3 * * * /bin/sh /etc/daily\n   ",
		"0 3 * * * /bin/sh /etc/daily\n\t",
		" ",
		"#",
		"console \"/usr/libexec/getty\" vt100 on secure\n \t",
		"ttyE0 x",
		"wscons=YES\n  ",
		NULL
	};
	size_t i, maplen, nlen;
	void *map;
	char *t, *new;

	for (i = 0; texts[i] != NULL; i++) {
		size_t len = strlen(texts[i]);

		t = guarded(texts[i], len, &map, &maplen);
		if (crontab_quiet(t, len, &new, &nlen) == EDIT_CHANGED)
			free(new);
		if (ttys_console_only(t, len, &new, &nlen) == EDIT_CHANGED)
			free(new);
		if (rcconf_set(t, len, "wscons", "NO", &new, &nlen) ==
		    EDIT_CHANGED)
			free(new);
		munmap(map, maplen);
	}
	/* And the outcome on the first: daily off, the blank line kept. */
	t = guarded(texts[0], strlen(texts[0]), &map, &maplen);
	ATF_REQUIRE_EQ(crontab_quiet(t, strlen(texts[0]), &new, &nlen),
	    EDIT_CHANGED);
	ATF_CHECK_STREQ(new, "#0 3 * * * /bin/sh /etc/daily\n   ");
	free(new);
	munmap(map, maplen);
}

ATF_TC_WITHOUT_HEAD(edits_keep_every_byte);
ATF_TC_BODY(edits_keep_every_byte, tc)
{
	/* A NUL in an edited line once ended it (a %s); the rest was lost. */
	static const char cron[] = "0 3 * * * /bin/sh /etc/daily #\0x\n";
	static const char ttys[] = "ttyE1 \"getty\0\" wsvt25 on secure\n";
	char *new;
	size_t nlen;

	ATF_REQUIRE_EQ(crontab_quiet(cron, sizeof(cron) - 1, &new, &nlen),
	    EDIT_CHANGED);
	ATF_CHECK_EQ(nlen, sizeof(cron));
	ATF_CHECK(memcmp(new, "#0 3 * * * /bin/sh /etc/daily #\0x\n",
	    nlen) == 0);
	free(new);
	ATF_REQUIRE_EQ(ttys_console_only(ttys, sizeof(ttys) - 1, &new, &nlen),
	    EDIT_CHANGED);
	ATF_CHECK_EQ(nlen, sizeof(ttys));
	ATF_CHECK(memcmp(new, "ttyE1 \"getty\0\" wsvt25 off secure\n",
	    nlen) == 0);
	free(new);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, rcconf_4x_replaces_wscons);
	ATF_TP_ADD_TC(tp, rcconf_today_appends_wscons);
	ATF_TP_ADD_TC(tp, rcconf_every_active_assignment);
	ATF_TP_ADD_TC(tp, rcconf_append_after_unterminated_line);
	ATF_TP_ADD_TC(tp, ttys_console_only_both_shapes);
	ATF_TP_ADD_TC(tp, crontab_quiet_both_shapes);
	ATF_TP_ADD_TC(tp, crontab_other_daily_left);
	ATF_TP_ADD_TC(tp, edits_stay_inside_the_text);
	ATF_TP_ADD_TC(tp, edits_keep_every_byte);
	return atf_no_error();
}
