/*
 * fmlweb: the web side of fml, a CGI program (doc/fmlweb.8).
 *
 *   fmlweb [-D ML_DIR]     run by a web server's CGI (or fcgiwrap), as
 *                          the owner of the list homes, never as root
 *
 * Reads the request from the CGI environment (REQUEST_METHOD, PATH_INFO,
 * CONTENT_TYPE, CONTENT_LENGTH and the body on stdin) and writes the
 * response on stdout (lib/web/web.h says what it answers).  ML_DIR: -D,
 * else $FML_ML_DIR, else the compiled default.  Exit 0 once a response is
 * written, whatever its status.
 */
#include "list/home.h"
#include "queue/dkimsign.h"
#include "queue/runner.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/str.h"
#include "web/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BODY_MAX 65536 /* a one-click POST is a few dozen bytes */

static int plain(const char *status, const char *text)
{
	printf("Status: %s\nContent-Type: text/plain; charset=utf-8\n"
	       "Cache-Control: no-store\n\n%s\n",
	       status, text);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *opt_d = NULL;
	msg_startup("fmlweb");
	msg_set_stderr_errors(1); /* the web server's error log */
	runner_sign_with(&dkimsign_signer);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-D") == 0 && i + 1 < argc)
			opt_d = argv[++i];
		else if (strncmp(argv[i], "-D", 2) == 0 && argv[i][2])
			opt_d = argv[i] + 2;
		else
			/* a CGI may pass the query string as words: none is ours */
			break;
	}
	if (geteuid() == 0 || getuid() == 0)
		return plain("500 Internal Server Error",
			     "fmlweb does not run as root: run it as the lists' owner.");
	const char *method = getenv("REQUEST_METHOD");
	if (!method)
		return plain("400 Bad Request", "fmlweb is a CGI program (doc/fmlweb.8).");
	const char *len = getenv("CONTENT_LENGTH");
	long n = len && *len ? strtol(len, NULL, 10) : 0;
	if (n < 0 || n > BODY_MAX)
		return plain("413 Content Too Large", "The request is too large.");
	str body = STR_INIT;
	str_reserve(&body, (size_t)n + 1);
	while (body.len < (size_t)n) {
		size_t got = fread(body.s + body.len, 1, (size_t)n - body.len, stdin);
		if (got == 0)
			break;
		body.len += got;
	}
	web_request req = {home_ml_dir(opt_d),	 method,
			   getenv("PATH_INFO"),	 getenv("CONTENT_TYPE"),
			   body.s ? body.s : "", body.len};
	str out = STR_INIT;
	web_answer(&req, &out);
	int rc = fwrite(out.s, 1, out.len, stdout) == out.len && fflush(stdout) == 0 ? 0 : 1;
	str_free(&out);
	str_free(&body);
	return rc;
}
