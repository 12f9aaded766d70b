/*
 * cmdparse: the command language of mail to LIST-ctl (and of "# cmd" lines
 * at the top of a post).  A line is parsed by a grammar: a command word
 * from a fixed table (fml's names and aliases, case-insensitive), then
 * arguments of known types; never by a pattern built from user data.
 *
 *   - one command per line; blank lines and quoted lines (">") skipped;
 *     a signature separator "-- " ends the commands; so do end/quit/exit
 *   - ctl mode: a bare word or "# word"; post mode: only "# word" lines are
 *     commands, other lines are the letter's text and skipped silently
 *   - "confirm ID" is found anywhere in a line, quoted or not, so that a
 *     reply quoting the confirmation request works; each ID once
 *   - a line longer than MAXLEN bytes, or holding a control byte, is an
 *     error entry; an unknown word or bad arguments too, and parsing goes on
 *   - after MAXNUM commands (error entries count) the rest is skipped and
 *     counted
 *   - "admin pass PASSWORD", "admin password PASSWORD" and the one-line
 *     "approve PASSWORD CMD ARGS" carry the password; the echo masks it
 *
 * Argument types: ADDR (an address that passes addr_check(), "<...>"
 * stripped, domain lower-cased), NUM (1..999999999), RANGE (an article range
 * spec: digits, ',', '-', ':', "first", "last"; checked again by
 * artrange_parse()), MODE (mp uf rfc1153 rfc934 tgz gz), DIGEST (N[mode],
 * N 0..99), ID ([A-Za-z0-9._-], 1..64), OPTS (member option words:
 * [a-z0-9=], e.g. m=3mp s=skip), LOGN ("-N" or "all"), TEXT (the rest of the
 * line, control bytes removed).
 */
#ifndef FML_CMDPARSE_H
#define FML_CMDPARSE_H

#include <stddef.h>

#include "util/status.h"
#include "util/str.h"

typedef enum cmd_id {
	CMD_NONE = 0, /* an error entry */
	/* user commands */
	CMD_HELP,
	CMD_GUIDE, /* guide, info */
	CMD_OBJECTIVE,
	CMD_SUBSCRIBE,	 /* [TEXT name] */
	CMD_CONFIRM,	 /* ID */
	CMD_UNSUBSCRIBE, /* unsubscribe, bye */
	CMD_CHADDR,	 /* ADDR ADDR: chaddr, change-address, change */
	CMD_MEMBERS,	 /* members, member */
	CMD_ACTIVES,	 /* actives, active */
	CMD_SUMMARY,	 /* [RANGE]: none, last:N, a-b */
	CMD_STATUS,	 /* [ADDR]: status, stat */
	CMD_INDEX,
	CMD_GET,      /* NUM: get, send, getfile, sendfile */
	CMD_MGET,     /* RANGE [MODE]: mget, mget2, mget3, msend */
	CMD_DIGEST,   /* DIGEST: digest, matome */
	CMD_UNDIGEST, /* undigest, unmatome: digest 0 */
	CMD_SKIP,
	CMD_NOSKIP,
	CMD_OFF,
	CMD_ON,
	CMD_END,     /* end, quit, exit */
	CMD_APPROVE, /* ID: release a held post (moderators) */
	CMD_REJECT,  /* ID [TEXT reason]: refuse a held post (moderators) */
	/* admin commands: "admin CMD ..." or "approve PASSWORD CMD ..." */
	CMD_ADMIN_PASS,	    /* pass, password: PASSWORD */
	CMD_ADMIN_ADD,	    /* add, subscribe: ADDR [OPTS...] */
	CMD_ADMIN_BYE,	    /* bye, unsubscribe: ADDR */
	CMD_ADMIN_CHADDR,   /* chaddr, change, change-address: ADDR ADDR */
	CMD_ADMIN_OFF,	    /* ADDR */
	CMD_ADMIN_ON,	    /* ADDR */
	CMD_ADMIN_SKIP,	    /* ADDR */
	CMD_ADMIN_NOSKIP,   /* ADDR */
	CMD_ADMIN_DIGEST,   /* digest, matome: ADDR DIGEST */
	CMD_ADMIN_MEMBERS,  /* members, member */
	CMD_ADMIN_ACTIVES,  /* actives, active */
	CMD_ADMIN_LOG,	    /* [LOGN] */
	CMD_ADMIN_HELP,	    /* help */
	CMD_ADMIN_ADDADMIN, /* addadmin, addpriv: ADDR */
	CMD_ADMIN_BYEADMIN, /* byeadmin, byepriv: ADDR */
	CMD__COUNT
} cmd_id;

#define CMD_MAXARGS 8

typedef struct cmd_line {
	cmd_id id;	  /* CMD_NONE: an error entry (see error) */
	int admin;	  /* an admin command (either form) */
	int oneline;	  /* the "approve PASSWORD CMD" form */
	const char *name; /* canonical command name ("get", "admin add", ...) */
	str echo;	  /* the line as written, password masked, control bytes
			     as '?', at most MAXLEN bytes: for ">>> " */
	size_t nargs;
	str args[CMD_MAXARGS]; /* typed and validated as the table says */
	str password;	       /* admin pass / one-line approve; wiped by cmd_free */
	const char *error;     /* CMD_NONE: why ("unknown command", ...) */
} cmd_line;

typedef struct cmd_script {
	cmd_line *v;
	size_t n;
	long skipped; /* lines not looked at after MAXNUM commands */
	int ended;    /* stopped by end/quit/exit or a signature */
} cmd_script;

void cmdparse_script_init(cmd_script *s);
/* Wipes passwords. */
void cmdparse_script_free(cmd_script *s);

/* Parse TEXT (LEN bytes, LF or CRLF lines; the first text part of the mail,
 * already decoded).  CTLADDR: bare words are commands.  MAXNUM/MAXLEN:
 * MAXNUM_COMMAND_INPUT and MAXLEN_COMMAND_INPUT.  Never fails: bad input
 * becomes error entries. */
void cmdparse_script(const char *text, size_t len, int ctladdr, long maxnum, long maxlen,
		     cmd_script *out);

#endif
