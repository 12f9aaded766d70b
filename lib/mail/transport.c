/*
 * transport: pick the transport by URI scheme.  See transport.h.
 */
#include "transport.h"

#include <string.h>

static const tp_ops *const all_ops[] = {&tp_smtp_ops, &tp_lmtp_ops, &tp_qmqp_ops, &tp_maildir_ops};

tp_conn *tp_connect(const char *uri, const tp_opts *o, str *err)
{
	for (size_t i = 0; i < sizeof all_ops / sizeof all_ops[0]; i++) {
		size_t l = strlen(all_ops[i]->scheme);
		if (strncmp(uri, all_ops[i]->scheme, l) == 0 && uri[l] == ':')
			return all_ops[i]->connect(uri + l + 1, o, err);
	}
	if (strchr(uri, '/')) {
		str_printf(err, "%s: unknown transport", uri);
		return NULL;
	}
	return tp_smtp_ops.connect(uri, o, err); /* fml's HOST[:PORT] */
}

int tp_send(tp_conn *c, const char *sender, const char *const *rcpts, size_t n, const tp_message *m,
	    tp_result *res)
{
	return c->ops->send(c, sender, rcpts, n, m, res);
}

void tp_close(tp_conn *c)
{
	if (c)
		c->ops->close(c);
}
