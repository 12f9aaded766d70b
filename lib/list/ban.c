/*
 * ban: the list's ban file.  See ban.h.
 */
#include "ban.h"
#include "util/fs.h"
#include "util/msg.h"

#include <errno.h>
#include <regex.h>
#include <string.h>
#include <strings.h>

#define BAN_MAX (4 << 20)

/* Does the rule LINE (LEN bytes) hold ADDR?  1, 0; -1 not a rule (WHY). */
static int rule_holds(const char *line, size_t len, const char *addr, str *why)
{
	str r = STR_INIT;
	str_append(&r, line, len);
	int rc = 0;
	if (line[0] == '^') {
		regex_t re;
		int e = regcomp(&re, str_c(&r), REG_EXTENDED | REG_ICASE | REG_NOSUB);
		if (e != 0) {
			char buf[256];
			regerror(e, &re, buf, sizeof buf);
			str_sets(why, buf);
			rc = -1;
		} else {
			rc = addr && regexec(&re, addr, 0, NULL, 0) == 0;
			regfree(&re);
		}
	} else if (line[0] == '@') {
		const char *at = addr ? strrchr(addr, '@') : NULL;
		size_t dl = at ? strlen(at + 1) : 0;
		size_t rl = len - 1;
		if (rl == 0 || memchr(line, ' ', len) || memchr(line + 1, '@', rl)) {
			str_sets(why, "not a domain");
			rc = -1;
		} else if (at && rl <= dl && strncasecmp(at + 1 + dl - rl, line + 1, rl) == 0 &&
			   (rl == dl || at[dl - rl] == '.')) {
			rc = 1;
		}
	} else if (!memchr(line, '@', len) || memchr(line, ' ', len) || memchr(line, '\t', len)) {
		str_sets(why, "neither an address, @domain nor ^regex");
		rc = -1;
	} else {
		rc = addr && strcasecmp(str_c(&r), addr) == 0;
	}
	str_free(&r);
	return rc;
}

/* DIR/ban against ADDR and ADDR2 (either may be NULL): 1 when a rule holds
 * one of them (into RULE); with BAD, the invalid lines onto it and their
 * count instead; -1 when the file cannot be read. */
static int each_rule(const char *dir, const char *addr, const char *addr2, str *rule, str *bad)
{
	char path[4096];
	str text = STR_INIT, why = STR_INIT;
	if (fs_path(path, sizeof path, "%s/ban", dir) < 0)
		return -1;
	fml_status st = fs_read(path, &text, BAN_MAX);
	if (st == ST_NOINPUT)
		return 0;
	if (st != ST_OK) {
		msg_error("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	int found = 0, nbad = 0;
	long lineno = 0;
	for (const char *p = str_c(&text); *p && !found;) {
		size_t len = strcspn(p, "\n");
		lineno++;
		while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		const char *l = p;
		while (len && (*l == ' ' || *l == '\t'))
			l++, len--;
		if (len && *l != '#') {
			str_clear(&why);
			int rc = rule_holds(l, len, addr, &why);
			if (rc == 0 && addr2)
				rc = rule_holds(l, len, addr2, &why);
			if (rc < 0) {
				nbad++;
				if (bad)
					str_printf(bad, "line %ld: %.*s: %s\n", lineno, (int)len, l,
						   str_c(&why));
				else
					msg_warn("%s line %ld: %.*s: %s (skipped)", path, lineno,
						 (int)len, l, str_c(&why));
			} else if (rc == 1) {
				found = 1;
				if (rule)
					str_set(rule, l, len);
			}
		}
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	str_free(&text);
	str_free(&why);
	return bad ? nbad : found;
}

int ban_match(const char *dir, const char *addr, const char *addr2, str *rule)
{
	return each_rule(dir, addr, addr2, rule, NULL);
}

int ban_check(const char *dir, str *out)
{
	return each_rule(dir, NULL, NULL, NULL, out);
}
