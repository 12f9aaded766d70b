/*
 * msg: logging to syslog, the list log and stderr; fatal exits with clean-up.
 * The list log line format is "YYYY/MM/DD HH:MM:SS text" (fml's format with a
 * four-digit year).  Text from mail must be made safe by the caller
 * (addr/envelope do so); this module still replaces control bytes so a log
 * line is always one line.
 */
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static const char *progname = "fml";
static int log_fd = -1;
static int to_stderr;
static int verbose;
static int use_syslog;
static int errors_to_stderr; /* errors even when stderr is no terminal */
static volatile sig_atomic_t fatal_exit = EX_TEMPFAIL;
static int in_fatal;

#define MAX_CLEANUP 64 /* a drain's batch holds 32 temps (distribute.h) */
static struct {
	msg_cleanup_fn fn;
	void *arg;
} cleanups[MAX_CLEANUP];
static volatile sig_atomic_t ncleanup;

void msg_startup(const char *name)
{
	/* fds 0-2 open, so no file we open later becomes stdout by accident */
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) < 0) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
	}
	umask(077);
	msg_open(name);
	msg_catch_signals();
}

void msg_open(const char *name)
{
	progname = name;
	/* without a syslog socket, glibc's syslog() tries to connect again on
	 * every call: two wasted system calls a line, several a post */
	use_syslog = access(_PATH_LOG, W_OK) == 0;
	if (use_syslog)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_MAIL);
	to_stderr = isatty(2);
}

const char *msg_progname(void)
{
	return progname;
}

void msg_set_logfile(const char *path)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	if (path) {
		log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (log_fd < 0)
			msg_warn("cannot open log file %s: %s", path, strerror(errno));
	}
}

void msg_set_stderr_errors(int on)
{
	errors_to_stderr = on;
}

void msg_set_stderr(int on)
{
	to_stderr = on;
}

void msg_set_verbose(int level)
{
	verbose = level;
}

int msg_verbose(void)
{
	return verbose;
}

void msg_set_fatal_exit(int code)
{
	fatal_exit = code;
}

static void emit(int prio, const char *tag, const char *fmt, va_list ap)
{
	int saved_errno = errno; /* callers read errno after logging */
	char text[2048];
	vsnprintf(text, sizeof text, fmt, ap);
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (use_syslog)
		syslog(prio, "%s%s", tag, text);
	if (log_fd >= 0) {
		char line[2200];
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		int n = (int)strftime(line, sizeof line, "%Y/%m/%d %H:%M:%S ", &tm);
		int m = snprintf(line + n, sizeof line - (size_t)n, "%s%s\n", tag, text);
		if (m > 0 && (size_t)m < sizeof line - (size_t)n)
			(void)!write(log_fd, line, (size_t)(n + m));
	}
	if (to_stderr || (errors_to_stderr && prio <= LOG_ERR))
		fprintf(stderr, "%s: %s%s\n", progname, tag, text);
	errno = saved_errno;
}

#define EMIT(prio, tag)                                                                            \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		emit(prio, tag, fmt, ap);                                                          \
		va_end(ap);                                                                        \
	} while (0)

void msg_debug(const char *fmt, ...)
{
	if (verbose)
		EMIT(LOG_DEBUG, "debug: ");
}

void msg_info(const char *fmt, ...)
{
	EMIT(LOG_INFO, "");
}

void msg_warn(const char *fmt, ...)
{
	EMIT(LOG_WARNING, "warning: ");
}

void msg_error(const char *fmt, ...)
{
	EMIT(LOG_ERR, "error: ");
}

void msg_fatal(const char *fmt, ...)
{
	if (!in_fatal++)
		EMIT(LOG_CRIT, "fatal: ");
	msg_cleanup_run();
	exit(fatal_exit);
}

void msg_panic(const char *fmt, ...)
{
	if (!in_fatal++)
		EMIT(LOG_CRIT, "panic: ");
	msg_cleanup_run();
	exit(fatal_exit);
}

int msg_cleanup_push(msg_cleanup_fn fn, void *arg)
{
	if (ncleanup >= MAX_CLEANUP)
		msg_panic("too many clean-up handlers");
	int h = ncleanup;
	cleanups[h].fn = fn;
	cleanups[h].arg = arg;
	ncleanup = h + 1;
	return h;
}

void msg_cleanup_pop(int handle)
{
	if (handle < 0 || handle >= ncleanup)
		return;
	cleanups[handle].fn = NULL;
	while (ncleanup > 0 && cleanups[ncleanup - 1].fn == NULL)
		ncleanup = ncleanup - 1;
}

void msg_cleanup_run(void)
{
	while (ncleanup > 0) {
		int h = ncleanup - 1;
		msg_cleanup_fn fn = cleanups[h].fn;
		ncleanup = h;
		if (fn)
			fn(cleanups[h].arg);
	}
}

static void on_signal(int sig)
{
	msg_cleanup_run();
	/* No syslog here: not async-signal-safe.  The exit status tells. */
	_exit(fatal_exit);
}

void msg_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGXFSZ, SIGXCPU};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
