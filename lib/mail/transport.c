/*
 * transport: pick the transport by URI scheme.  See transport.h.
 */
#include "transport.h"

#include <string.h>

static const transport_ops *const all_ops[] = {&smtp_ops, &smtp_lmtp_ops, &qmqp_ops, &maildir_ops};

transport_conn *transport_connect(const char *uri, const transport_opts *o, str *err)
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
	return smtp_ops.connect(uri, o, err); /* fml's HOST[:PORT] */
}

int transport_send(transport_conn *c, const char *sender, const char *const *rcpts, size_t n,
		   const transport_msg *m, transport_result *res)
{
	return c->ops->send(c, sender, rcpts, n, m, res);
}

void transport_close(transport_conn *c)
{
	if (c)
		c->ops->close(c);
}
