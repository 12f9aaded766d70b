/*
 * command: command mail.  See command.h.  Command mail is never archived
 * or distributed; an answer is sent only where RFC 3834 allows it.
 */
#include "command.h"
#include "msg.h"
#include "reply.h"

#include <string.h>

fml_status command_process(proc_ctx *c, proc_mail *m)
{
	str to = STR_INIT, body = STR_INIT, subject = STR_INIT;
	fml_status st = ST_OK;
	str_set(&to, m->reply.s, m->reply.len);
	const char *why = reply_suppressed(c, m, str_c(&to));
	if (why) {
		msg_info("command mail from %s: not answered: %s", str_c(&m->from), why);
		goto out;
	}
	str_printf(&subject, "fml Command Status report %s", cf_str(c->cf, CF_ML_FN));
	if (reply_template(c, "help", &body) != ST_OK)
		str_sets(&body, "This list has no help file.  Ask the maintainer.\n");
	st = reply_send(c, m, str_c(&to), str_c(&subject), str_c(&body));
	msg_info("command mail from %s: answered with help", str_c(&m->from));
out:
	str_free(&to);
	str_free(&body);
	str_free(&subject);
	return st;
}
