/*
 * tpdrive2: drive one transport from the command line, for the e2e tests.
 *   tpdrive2 URI SENDER MESSAGEFILE RCPT...
 * connects with transport_connect(), sends MESSAGEFILE (all of it) to the
 * recipients in one transport_send() and prints "CODE TEXT" per recipient on
 * stdout.  TPDRIVE_REPEAT=N sends N times over the same transport_conn (each pass
 * prints its lines); TPDRIVE_TIMEOUT=S sets the connect and data timeouts;
 * TPDRIVE_IDLE=MS waits that long between connecting and the first send.
 * The return value of each transport_send() goes to stderr as "send: RC".  A
 * failed connect prints "451 REASON" per recipient and exits 75.
 */
#include "mail/transport.h"
#include "util/mem.h"
#include "util/msg.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: tpdrive2 URI SENDER MESSAGEFILE RCPT...\n");
		return EX_USAGE;
	}
	msg_open("tpdrive2");
	msg_set_stderr(1);
	const char *e = getenv("TPDRIVE_TIMEOUT");
	long timeout = e ? atol(e) : 30;
	e = getenv("TPDRIVE_REPEAT");
	int repeat = e ? atoi(e) : 1;
	transport_opts o = {"localhost", timeout, timeout, timeout};
	int fd = open(argv[3], O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[3]);
		return EX_NOINPUT;
	}
	transport_msg m = {fd, 0, st.st_size, NULL, NULL, NULL, 0};
	const char *const *rcpts = (const char *const *)argv + 4;
	size_t n = (size_t)argc - 4;
	transport_result *res = mem_calloc(n, sizeof *res);
	str err = STR_INIT;
	transport_conn *c = transport_connect(argv[1], &o, &err);
	if (!c) {
		for (size_t i = 0; i < n; i++)
			printf("451 %s\n", str_c(&err));
		str_free(&err);
		free(res);
		close(fd);
		return EX_TEMPFAIL;
	}
	e = getenv("TPDRIVE_IDLE");
	if (e)
		usleep((useconds_t)atol(e) * 1000);
	for (int r = 0; r < repeat; r++) {
		memset(res, 0, n * sizeof *res);
		int rc = transport_send(c, argv[2], rcpts, n, &m, res);
		fprintf(stderr, "send: %d\n", rc);
		for (size_t i = 0; i < n; i++)
			printf("%d %s\n", res[i].code, res[i].text);
		fflush(stdout);
	}
	transport_close(c);
	str_free(&err);
	free(res);
	close(fd);
	return 0;
}
