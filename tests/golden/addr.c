/*
 * Golden driver for lib/mail/addr.c: one header value per input line; per line
 * out, the value (escaped), the first mailbox or "error", its addr_check()
 * verdict, and the whole list as addr_parse_list() sees it:
 *
 *   in=<value> first=<addr> check=ok|<reason> list=N[ <addr>...]
 *
 * A line "path VALUE" parses VALUE with addr_parse_path() instead (SMTP
 * path, From_ line sender).  Lines starting with '#' and empty lines are
 * skipped.  Escapes in input lines: \r \n \t \0 \xNN, so that control
 * bytes can be written in the .in file; any other backslash is itself (a
 * quoted-pair is written as it is: "a\"b"@x).  Output escapes every byte
 * that is not printable ASCII, and '\', as \xNN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "util/str.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void unescape(const char *s, size_t n, str *out)
{
	str_clear(out);
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			str_putc(out, s[i]);
			continue;
		}
		char c = s[++i];
		if (c == 'r')
			str_putc(out, '\r');
		else if (c == 'n')
			str_putc(out, '\n');
		else if (c == 't')
			str_putc(out, '\t');
		else if (c == '0')
			str_putc(out, 0);
		else if (c == 'x' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			str_putc(out, hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			str_putc(out, '\\');
			str_putc(out, c);
		}
	}
}

static void put_escaped(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

static void verdict(const str *a)
{
	const char *why = addr_check(str_c(a), a->len);
	printf(" check=%s", why ? why : "ok");
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	str val = STR_INIT, first = STR_INIT, list = STR_INIT;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if (n == 0 || line[0] == '#')
			continue;
		int path = strncmp(line, "path ", 5) == 0;
		unescape(line + (path ? 5 : 0), (size_t)n - (path ? 5 : 0), &val);
		printf("%sin=", path ? "path " : "");
		put_escaped(val.s, val.len);
		if (path) {
			if (addr_parse_path(val.s, val.len, &first) == ST_OK) {
				printf(" path=<");
				put_escaped(first.s ? first.s : "", first.len);
				printf(">");
				verdict(&first);
			} else {
				printf(" path=error");
			}
			printf("\n");
			continue;
		}
		if (addr_parse_first(val.s, val.len, &first) == ST_OK) {
			printf(" first=<");
			put_escaped(first.s, first.len);
			printf(">");
			verdict(&first);
		} else {
			printf(" first=error");
		}
		str_clear(&list);
		int cnt = addr_parse_list(val.s, val.len, &list);
		if (cnt < 0) {
			printf(" list=error\n");
			continue;
		}
		printf(" list=%d", cnt);
		for (size_t i = 0; i < list.len; i += strlen(list.s + i) + 1) {
			printf(" <");
			put_escaped(list.s + i, strlen(list.s + i));
			printf(">");
		}
		printf("\n");
	}
	free(line);
	str_free(&val);
	str_free(&first);
	str_free(&list);
	return 0;
}
