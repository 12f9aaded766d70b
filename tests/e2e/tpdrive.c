/*
 * tpdrive: drive one transport of lib/mail/transport.h for the end-to-end
 * tests.
 *
 *   tpdrive [-t SECONDS] [-n COUNT] URI SENDER MESSAGE-FILE RCPT...
 *
 * Connects to URI, sends MESSAGE-FILE to the recipients COUNT times (1) on
 * the same connection, and prints one line per recipient and transaction:
 * "CODE TEXT".  -t sets every timeout (default 10 s).  Exit status: 0 when
 * every transaction left the connection reusable, 3 when one returned -1
 * (the lines say why), 2 when the connection failed ("connect: REASON"
 * on stdout), 64 for usage.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/transport.h"

int main(int argc, char **argv)
{
	long secs = 10, count = 1;
	int ch;

	while ((ch = getopt(argc, argv, "t:n:")) != -1) {
		if (ch == 't')
			secs = atol(optarg);
		else if (ch == 'n')
			count = atol(optarg);
		else
			return 64;
	}
	argc -= optind;
	argv += optind;
	if (argc < 3)
		return 64;
	signal(SIGPIPE, SIG_IGN);

	int fd = open(argv[2], O_RDONLY);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		perror(argv[2]);
		return 66;
	}
	transport_opts o = {"client.example.org", secs, secs, secs};
	transport_msg m = {fd, 0, sb.st_size, NULL, NULL, NULL, 0};
	size_t n = (size_t)argc - 3;
	transport_result *res = calloc(n ? n : 1, sizeof *res);
	str err = STR_INIT;

	transport_conn *c = transport_connect(argv[0], &o, &err);
	if (!c) {
		printf("connect: %s\n", str_c(&err));
		free(res);
		str_free(&err);
		close(fd);
		return 2;
	}
	int ret = 0;
	for (long k = 0; k < count && ret == 0; k++) {
		ret = transport_send(c, argv[1], (const char *const *)argv + 3, n, &m, res);
		for (size_t i = 0; i < n; i++)
			printf("%d %s\n", res[i].code, res[i].text);
	}
	transport_close(c);
	fflush(stdout);
	free(res);
	str_free(&err);
	close(fd);
	return ret == 0 ? 0 : 3;
}

/* The other transports, when the build does not link them (weak: the
 * real ones win when lib/mail/qmqp.c and lib/mail/maildir.c are linked). */
__attribute__((weak)) const transport_ops qmqp_ops = {"qmqp", NULL, NULL, NULL};
__attribute__((weak)) const transport_ops maildir_ops = {"maildir", NULL, NULL, NULL};
