/*
 * cmdparse: the command language of command mail.  See cmdparse.h.
 *
 * A line is split into blank-separated tokens; the first is looked up in
 * a fixed table (user commands, or after "admin"/"approve PASSWORD" the
 * admin table), and each argument is checked by its type.  Nothing here
 * fails: bad input becomes an error entry with a reason from a fixed set.
 *
 * Linear in the input: every line is walked a fixed number of times, the
 * token array is fixed, and confirmation IDs are deduplicated with a small
 * open-addressing table whose size follows the number of IDs found.
 *
 * After the end of the commands (end/quit/exit or a signature) only
 * "confirm ID" is still looked for: a reply usually quotes the request
 * below the sender's signature.  A confirmation entry's echo is
 * "confirm ID" (the ID lower-cased), whatever line it was found in.
 *
 * Error reasons: "unknown command", "missing admin command", "missing
 * argument", "too many arguments", "line too long", "control character in
 * line", "bad confirmation id", "bad address: <addr_check() reason>",
 * "not an article number", "bad range", "bad mode", "bad digest spec",
 * "bad id", "bad option", "bad log count".  The password of "admin pass"
 * is in the entry's password only (not in args).
 */
#include "cmdparse.h"
#include "list/bundle.h"
#include "list/digeststate.h"
#include "mail/addr.h"
#include "util/bytes.h"
#include "list/vacation.h"
#include "util/lines.h"
#include "util/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum arg_type {
	T_NONE,
	T_ADDR,
	T_NUM,
	T_RANGE,
	T_MODE,
	T_DIGEST,
	T_ID,
	T_OPTS,
	T_LOGN,
	T_TEXT,
	T_PASS,
	T_DAYS
};

typedef struct cmd_def {
	cmd_id id;
	const char *name;  /* canonical */
	const char *words; /* the name and its aliases, blank-separated */
	unsigned char min, max;
	unsigned char type[2]; /* argument i has type[min(i, 1)] */
} cmd_def;

static const cmd_def user_cmds[] = {
    {CMD_HELP, "help", "help", 0, 0, {T_NONE, T_NONE}},
    {CMD_GUIDE, "guide", "guide info", 0, 0, {T_NONE, T_NONE}},
    {CMD_OBJECTIVE, "objective", "objective", 0, 0, {T_NONE, T_NONE}},
    {CMD_SUBSCRIBE, "subscribe", "subscribe", 0, 1, {T_TEXT, T_TEXT}},
    {CMD_CONFIRM, "confirm", "confirm", 1, 1, {T_ID, T_ID}},
    {CMD_UNSUBSCRIBE, "unsubscribe", "unsubscribe bye", 0, 0, {T_NONE, T_NONE}},
    {CMD_CHADDR, "chaddr", "chaddr change-address change", 2, 2, {T_ADDR, T_ADDR}},
    {CMD_MEMBERS, "members", "members member", 0, 0, {T_NONE, T_NONE}},
    {CMD_ACTIVES, "actives", "actives active", 0, 0, {T_NONE, T_NONE}},
    {CMD_SUMMARY, "summary", "summary", 0, 1, {T_RANGE, T_RANGE}},
    {CMD_STATUS, "status", "status stat", 0, 1, {T_ADDR, T_ADDR}},
    {CMD_INDEX, "index", "index", 0, 0, {T_NONE, T_NONE}},
    {CMD_GET, "get", "get send getfile sendfile", 1, 1, {T_NUM, T_NUM}},
    {CMD_MGET, "mget", "mget mget2 mget3 msend", 1, 2, {T_RANGE, T_MODE}},
    {CMD_DIGEST, "digest", "digest matome", 1, 1, {T_DIGEST, T_DIGEST}},
    {CMD_UNDIGEST, "undigest", "undigest unmatome", 0, 0, {T_NONE, T_NONE}},
    {CMD_SKIP, "skip", "skip", 0, 0, {T_NONE, T_NONE}},
    {CMD_NOSKIP, "noskip", "noskip", 0, 0, {T_NONE, T_NONE}},
    {CMD_OFF, "off", "off", 0, 1, {T_DAYS, T_DAYS}},
    {CMD_ON, "on", "on", 0, 0, {T_NONE, T_NONE}},
    {CMD_END, "end", "end quit exit", 0, 0, {T_NONE, T_NONE}},
    {CMD_APPROVE, "approve", "approve", 1, 1, {T_ID, T_ID}},
    {CMD_REJECT, "reject", "reject", 1, 2, {T_ID, T_TEXT}},
};

static const cmd_def admin_cmds[] = {
    {CMD_ADMIN_PASS, "admin pass", "pass password", 1, 1, {T_PASS, T_PASS}},
    {CMD_ADMIN_ADD, "admin add", "add subscribe", 1, CMD_MAXARGS, {T_ADDR, T_OPTS}},
    {CMD_ADMIN_BYE, "admin bye", "bye unsubscribe", 1, 1, {T_ADDR, T_ADDR}},
    {CMD_ADMIN_CHADDR, "admin chaddr", "chaddr change change-address", 2, 2, {T_ADDR, T_ADDR}},
    {CMD_ADMIN_OFF, "admin off", "off", 1, 1, {T_ADDR, T_ADDR}},
    {CMD_ADMIN_ON, "admin on", "on", 1, 1, {T_ADDR, T_ADDR}},
    {CMD_ADMIN_SKIP, "admin skip", "skip", 1, 1, {T_ADDR, T_ADDR}},
    {CMD_ADMIN_NOSKIP, "admin noskip", "noskip", 1, 1, {T_ADDR, T_ADDR}},
    {CMD_ADMIN_DIGEST, "admin digest", "digest matome", 2, 2, {T_ADDR, T_DIGEST}},
    {CMD_ADMIN_MEMBERS, "admin members", "members member", 0, 0, {T_NONE, T_NONE}},
    {CMD_ADMIN_ACTIVES, "admin actives", "actives active", 0, 0, {T_NONE, T_NONE}},
    {CMD_ADMIN_LOG, "admin log", "log", 0, 1, {T_LOGN, T_LOGN}},
    {CMD_ADMIN_HELP, "admin help", "help", 0, 0, {T_NONE, T_NONE}},
    {CMD_ADMIN_ADDADMIN, "admin addadmin", "addadmin addpriv", 1, 1, {T_ADDR, T_ADDR}},
    {CMD_ADMIN_BYEADMIN, "admin byeadmin", "byeadmin byepriv", 1, 1, {T_ADDR, T_ADDR}},
};

/* addr_check()'s reasons, prefixed; an unknown reason gives "bad address". */
#define BAD(r)                                                                                     \
	{                                                                                          \
		r, "bad address: " r                                                               \
	}
static const char *const addr_errors[][2] = {
    BAD("empty address"),
    BAD("address too long"),
    BAD("control character"),
    BAD("space"),
    BAD("non-ASCII byte"),
    BAD("quoted local part"),
    BAD("more than one '@'"),
    BAD("no domain"),
    BAD("empty local part"),
    BAD("local part too long"),
    BAD("local part starts with '-'"),
    BAD("local part starts with '.'"),
    BAD("local part ends with '.'"),
    BAD("bad character in local part"),
    BAD("\"..\" in local part"),
    BAD("empty domain"),
    BAD("domain literal refused"),
    BAD("domain too long"),
    BAD("empty domain label"),
    BAD("domain label too long"),
    BAD("domain label starts or ends with '-'"),
    BAD("bad character in domain"),
    BAD("domain needs at least two labels"),
};
#undef BAD

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAXTOK (3 + CMD_MAXARGS + 1) /* word, sub, password, args, one more */
#define MASK "********"
#define ID_LEN 32 /* confirm.h: CONFIRM_ID_LEN hex digits */

typedef struct tok {
	size_t off, len;
} tok;

typedef struct line {
	const char *p; /* after the '#' and blanks, trailing blanks dropped */
	size_t n;
	tok t[MAXTOK];
	size_t nt;	   /* all tokens, even those not stored */
	size_t mask[2][2]; /* password byte ranges [from, to) of P */
	size_t nmask;
} line;

/* The confirmation IDs seen: indexes into out->v, open addressing. */
typedef struct idset {
	size_t *slot; /* index + 1, 0 = empty */
	size_t cap, n;
} idset;

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int tok_is(const line *l, size_t i, const char *w)
{
	return i < l->nt && i < MAXTOK &&
	       bytes_casecmp(l->p + l->t[i].off, l->t[i].len, w, strlen(w)) == 0;
}

/* Is the token one of WORDS (blank-separated), case-insensitive? */
static int word_in(const char *p, size_t n, const char *words)
{
	while (*words) {
		size_t w = strcspn(words, " ");
		if (bytes_casecmp(p, n, words, w) == 0)
			return 1;
		words += w;
		words += *words == ' ';
	}
	return 0;
}

static const cmd_def *lookup(const cmd_def *tab, size_t ntab, const char *p, size_t n)
{
	for (size_t i = 0; i < ntab; i++)
		if (word_in(p, n, tab[i].words))
			return &tab[i];
	return NULL;
}

static void tokenize(line *l)
{
	size_t i = 0;
	l->nt = 0;
	while (i < l->n) {
		while (i < l->n && is_blank(l->p[i]))
			i++;
		if (i >= l->n)
			break;
		size_t s = i;
		while (i < l->n && !is_blank(l->p[i]))
			i++;
		if (l->nt < MAXTOK)
			l->t[l->nt] = (tok){s, i - s};
		l->nt++;
	}
}

/* Where the password is, whatever else is wrong with the line:
 * "admin pass|password REST" (all of REST) and "approve PASSWORD CMD ..."
 * (and REST too when CMD is pass). */
static void find_password(line *l)
{
	l->nmask = 0;
	size_t sub = 0;
	if (tok_is(l, 0, "admin")) {
		sub = 1;
	} else if (tok_is(l, 0, "approve") && l->nt >= 3) {
		l->mask[l->nmask][0] = l->t[1].off;
		l->mask[l->nmask][1] = l->t[1].off + l->t[1].len;
		l->nmask++;
		sub = 2;
	}
	/* fml4's "admin passwd NEW" and "admin initpass" too: not commands
	 * here, but their argument is a password all the same */
	if (sub &&
	    (tok_is(l, sub, "pass") || tok_is(l, sub, "password") || tok_is(l, sub, "passwd") ||
	     tok_is(l, sub, "initpass")) &&
	    l->nt > sub + 1) {
		l->mask[l->nmask][0] = l->t[sub + 1].off;
		l->mask[l->nmask][1] = l->n;
		l->nmask++;
	}
}

static void make_echo(const line *l, long maxlen, str *echo)
{
	str_clear(echo);
	for (size_t i = 0; i < l->n; i++) {
		size_t m;
		for (m = 0; m < l->nmask; m++)
			if (i == l->mask[m][0])
				break;
		if (m < l->nmask) {
			str_puts(echo, MASK);
			i = l->mask[m][1] - 1;
			continue;
		}
		unsigned char c = (unsigned char)l->p[i];
		str_putc(echo, c == '\t' ? ' ' : is_ctl(c) ? '?' : c);
	}
	if (echo->len > (size_t)maxlen)
		str_truncate(echo, (size_t)maxlen);
}

static cmd_line *new_entry(cmd_script *s)
{
	/* the capacity is 8, then doubles: implied by N, which has no room
	 * beside it in cmd_script */
	if (s->n == 0 || (s->n >= 8 && (s->n & (s->n - 1)) == 0))
		s->v = mem_reallocarray(s->v, s->n ? s->n * 2 : 8, sizeof *s->v);
	cmd_line *c = &s->v[s->n++];
	memset(c, 0, sizeof *c);
	c->id = CMD_NONE;
	c->name = "";
	str_init(&c->echo);
	str_init(&c->password);
	for (size_t i = 0; i < CMD_MAXARGS; i++)
		str_init(&c->args[i]);
	return c;
}

static void wipe(str *s)
{
	if (s->s)
		explicit_bzero(s->s, s->cap);
	str_free(s);
}

static void entry_free(cmd_line *c)
{
	str_free(&c->echo);
	wipe(&c->password);
	for (size_t i = 0; i < CMD_MAXARGS; i++)
		str_free(&c->args[i]);
}

void cmdparse_script_init(cmd_script *s)
{
	memset(s, 0, sizeof *s);
}

void cmdparse_script_free(cmd_script *s)
{
	for (size_t i = 0; i < s->n; i++)
		entry_free(&s->v[i]);
	free(s->v);
	cmdparse_script_init(s);
}

/* ---- argument types */

/* A bundle mode name (bundle.h's table: mp, uf, rfc1153, ...). */
static int mode_ok(const char *p, size_t n)
{
	char buf[16];
	bundle_mode m;
	if (n >= sizeof buf)
		return 0;
	memcpy(buf, p, n);
	buf[n] = 0;
	return bundle_mode_parse(buf, &m);
}

static void lower(str *a)
{
	for (size_t i = 0; i < a->len; i++)
		a->s[i] = (char)tolower((unsigned char)a->s[i]);
}

/* Check P (N bytes) as type T, leaving the value in A; NULL or why not. */
static const char *check_arg(int t, const char *p, size_t n, str *a)
{
	size_t i;
	switch (t) {
	case T_ADDR: {
		if (n >= 2 && p[0] == '<' && p[n - 1] == '>')
			p++, n -= 2;
		const char *why = addr_check(p, n);
		if (why) {
			for (i = 0; i < N_ELEMS(addr_errors); i++)
				if (strcmp(why, addr_errors[i][0]) == 0)
					return addr_errors[i][1];
			return "bad address";
		}
		str_set(a, p, n);
		addr_normalize(a);
		return NULL;
	}
	case T_NUM: {
		unsigned long v = 0;
		for (i = 0; i < n && isdigit((unsigned char)p[i]); i++)
			if ((v = v * 10 + (unsigned long)(p[i] - '0')) > 999999999)
				break;
		if (n == 0 || i < n || v == 0)
			return "not an article number";
		str_printf(a, "%lu", v);
		return NULL;
	}
	case T_RANGE:
		if (n > 64)
			return "bad range";
		for (i = 0; i < n;) {
			if (isdigit((unsigned char)p[i]) || p[i] == ',' || p[i] == ':' ||
			    p[i] == '-') {
				i++;
				continue;
			}
			size_t w = i;
			while (i < n && isalpha((unsigned char)p[i]))
				i++;
			if (bytes_casecmp(p + w, i - w, "first", 5) != 0 &&
			    bytes_casecmp(p + w, i - w, "last", 4) != 0)
				return "bad range";
		}
		str_set(a, p, n);
		lower(a);
		return NULL;
	case T_MODE:
		if (!mode_ok(p, n))
			return "bad mode";
		str_set(a, p, n);
		lower(a);
		return NULL;
	case T_DIGEST: {
		char buf[24], mode[16];
		int d;
		if (n >= sizeof buf)
			return "bad digest spec";
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (strlen(buf) != n || !digeststate_spec(buf, &d, mode))
			return "bad digest spec";
		str_printf(a, "%d%s", d, mode);
		return NULL;
	}
	case T_ID:
		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '.' && p[i] != '_' &&
			    p[i] != '-')
				break;
		if (n == 0 || n > 64 || i < n)
			return "bad id";
		str_set(a, p, n);
		return NULL;
	case T_OPTS:
		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '=')
				break;
		if (n == 0 || n > 32 || i < n)
			return "bad option";
		str_set(a, p, n);
		lower(a);
		return NULL;
	case T_DAYS: { /* "14", "14d", "2w": a number of days, 1..366 */
		long v = vacation_days(p, n);
		if (!v)
			return "bad number of days (1d to 366d, or 1w to 52w)";
		str_printf(a, "%ld", v);
		return NULL;
	}
	case T_LOGN: {
		unsigned long v = 0;
		if (bytes_casecmp(p, n, "all", 3) == 0) {
			str_sets(a, "all");
			return NULL;
		}
		for (i = 1; i < n && isdigit((unsigned char)p[i]); i++)
			if ((v = v * 10 + (unsigned long)(p[i] - '0')) > 100000)
				break;
		if (n < 2 || p[0] != '-' || i < n || v == 0)
			return "bad log count";
		str_printf(a, "-%lu", v);
		return NULL;
	}
	case T_TEXT:
		str_clear(a);
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c == '\t')
				str_putc(a, ' ');
			else if (!is_ctl(c))
				str_putc(a, c);
		}
		return NULL;
	case T_PASS:
		str_set(a, p, n);
		return NULL;
	}
	return "bad argument";
}

/* ---- one command line */

static void parse_command(line *l, cmd_line *c)
{
	const cmd_def *d = NULL;
	size_t argi = 1;

	if (tok_is(l, 0, "admin")) {
		c->admin = 1;
		if (l->nt < 2) {
			c->error = "missing admin command";
			return;
		}
		d = lookup(admin_cmds, N_ELEMS(admin_cmds), l->p + l->t[1].off, l->t[1].len);
		argi = 2;
	} else if (tok_is(l, 0, "approve") && l->nt >= 3) {
		c->admin = c->oneline = 1;
		str_set(&c->password, l->p + l->t[1].off, l->t[1].len);
		d = lookup(admin_cmds, N_ELEMS(admin_cmds), l->p + l->t[2].off, l->t[2].len);
		if (d && d->id == CMD_ADMIN_PASS)
			d = NULL;
		argi = 3;
	} else {
		d = lookup(user_cmds, N_ELEMS(user_cmds), l->p + l->t[0].off, l->t[0].len);
	}
	if (!d) {
		c->error = "unknown command";
		return;
	}
	c->name = d->name;
	size_t given = l->nt - argi;
	if (given > d->max && !(d->max > 0 && d->type[d->max > 1] == T_TEXT)) {
		c->error = "too many arguments";
		return;
	}
	if (given < d->min) {
		c->error = "missing argument";
		return;
	}
	for (size_t k = 0; k < given && k < d->max; k++) {
		int t = d->type[k > 0];
		const tok *a = &l->t[argi + k];
		size_t n = t == T_TEXT ? l->n - a->off : a->len;
		str *dst = t == T_PASS ? &c->password : &c->args[c->nargs];
		const char *why = check_arg(t, l->p + a->off, n, dst);
		if (why) {
			c->error = why;
			return;
		}
		if (t != T_PASS)
			c->nargs++;
		if (t == T_TEXT)
			break;
	}
	c->id = d->id;
}

/* ---- confirm ID anywhere */

static int is_word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-';
}

static size_t id_hash(const char *id)
{
	size_t h = 5381;
	for (size_t i = 0; i < ID_LEN; i++)
		h = h * 33 + (unsigned char)id[i];
	return h;
}

/* Add the entry holding ID unless the ID is there already: 1 if added. */
static int idset_add(idset *ids, cmd_script *s, const char *id, long maxlen)
{
	if (ids->n * 2 >= ids->cap) {
		size_t ncap = ids->cap ? ids->cap * 2 : 16;
		size_t *nslot = mem_calloc(ncap, sizeof *nslot);
		for (size_t i = 0; i < ids->cap; i++) {
			if (!ids->slot[i])
				continue;
			size_t h = id_hash(s->v[ids->slot[i] - 1].args[0].s) & (ncap - 1);
			while (nslot[h])
				h = (h + 1) & (ncap - 1);
			nslot[h] = ids->slot[i];
		}
		free(ids->slot);
		ids->slot = nslot;
		ids->cap = ncap;
	}
	size_t h = id_hash(id) & (ids->cap - 1);
	for (; ids->slot[h]; h = (h + 1) & (ids->cap - 1))
		if (memcmp(s->v[ids->slot[h] - 1].args[0].s, id, ID_LEN) == 0)
			return 0;
	cmd_line *c = new_entry(s);
	c->id = CMD_CONFIRM;
	c->name = "confirm";
	c->nargs = 1;
	str_set(&c->args[0], id, ID_LEN);
	str_printf(&c->echo, "confirm %s", id);
	if (c->echo.len > (size_t)maxlen)
		str_truncate(&c->echo, (size_t)maxlen);
	ids->slot[h] = s->n;
	ids->n++;
	return 1;
}

/* Every "confirm" blanks 32-hex-digits in P (N bytes), as words; returns
 * how many were found (new or not). */
static size_t scan_confirm(const char *p, size_t n, idset *ids, cmd_script *s, long maxnum,
			   long maxlen)
{
	size_t found = 0;
	for (size_t i = 0; i + 7 < n; i++) {
		if ((p[i] != 'c' && p[i] != 'C') || bytes_casecmp(p + i, 7, "confirm", 7) != 0 ||
		    (i > 0 && is_word_byte((unsigned char)p[i - 1])))
			continue;
		size_t j = i + 7, k;
		if (!is_blank(p[j]))
			continue;
		while (j < n && is_blank(p[j]))
			j++;
		char id[ID_LEN + 1];
		for (k = 0; k < ID_LEN && j + k < n && isxdigit((unsigned char)p[j + k]); k++)
			id[k] = (char)tolower((unsigned char)p[j + k]);
		if (k < ID_LEN || (j + k < n && is_word_byte((unsigned char)p[j + k])))
			continue;
		id[k] = '\0';
		found++;
		if ((long)s->n < maxnum)
			idset_add(ids, s, id, maxlen);
		i = j + k - 1;
	}
	return found;
}

/* ---- the text */

static int all_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)p[i]))
			return 0;
	return 1;
}

/* A line that may be a command: ctl mode or "#".  Fills L; 0 if not. */
static int command_line(const char *p, size_t n, int ctladdr, line *l)
{
	size_t i = 0;
	while (i < n && is_blank(p[i]))
		i++;
	if (i < n && p[i] == '#') {
		i++;
		while (i < n && is_blank(p[i]))
			i++;
	} else if (!ctladdr) {
		return 0;
	}
	while (n > i && is_blank(p[n - 1]))
		n--;
	if (n == i)
		return 0;
	l->p = p + i;
	l->n = n - i;
	tokenize(l);
	find_password(l);
	return 1;
}

static void parse_line(const char *p, size_t n, int ctladdr, long maxlen, cmd_script *out)
{
	line l;
	if (!command_line(p, n, ctladdr, &l))
		return;
	if (tok_is(&l, 0, "confirm"))
		return; /* bad IDs are reported by the caller */
	cmd_line *c = new_entry(out);
	make_echo(&l, maxlen, &c->echo);
	if (n > (size_t)maxlen) {
		c->error = "line too long";
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		unsigned char ch = (unsigned char)l.p[i];
		if (is_ctl(ch) && ch != '\t') {
			c->error = "control character in line";
			return;
		}
	}
	parse_command(&l, c);
	if (c->id == CMD_END)
		out->ended = 1;
}

/* "confirm" as a command with no well-formed ID */
static void bad_confirm(const char *p, size_t n, int ctladdr, long maxlen, cmd_script *out)
{
	line l;
	if (!command_line(p, n, ctladdr, &l) || !tok_is(&l, 0, "confirm"))
		return;
	cmd_line *c = new_entry(out);
	make_echo(&l, maxlen, &c->echo);
	c->name = "confirm";
	c->error = n > (size_t)maxlen ? "line too long" : "bad confirmation id";
}

void cmdparse_script(const char *text, size_t len, int ctladdr, long maxnum, long maxlen,
		     cmd_script *out)
{
	idset ids = {NULL, 0, 0};
	lines it;
	const char *p;
	size_t n;

	if (maxlen < 1)
		maxlen = 1;
	for (lines_init(&it, text, len); lines_next(&it, &p, &n);) {
		if (n && p[n - 1] == '\r')
			n--;
		if ((long)out->n >= maxnum) {
			if (out->ended)
				break;
			out->skipped += !all_blank(p, n);
			continue;
		}
		size_t found = scan_confirm(p, n, &ids, out, maxnum, maxlen);
		if (out->ended || all_blank(p, n))
			continue;
		size_t i = 0;
		while (i < n && is_blank(p[i]))
			i++;
		if (i < n && p[i] == '>')
			continue;
		if ((n == 2 && memcmp(p, "--", 2) == 0) || (n >= 3 && memcmp(p, "-- ", 3) == 0)) {
			out->ended = 1;
			continue;
		}
		if ((long)out->n >= maxnum) {
			out->skipped++;
			continue;
		}
		if (!found)
			bad_confirm(p, n, ctladdr, maxlen, out);
		parse_line(p, n, ctladdr, maxlen, out);
	}
	free(ids.slot);
}
