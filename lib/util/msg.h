/*
 * msg: logging for every program.  Messages go to syslog (LOG_MAIL), to the
 * list's `log` file once msg_set_logfile() named it, and to stderr when
 * interactive or asked for (-d).  msg_fatal() runs the registered clean-up
 * handlers (unlink partial files, release locks) and exits with the status
 * set by msg_set_fatal_exit(): EX_TEMPFAIL before the commit point, 0 after
 * it (the mail is then ours and a later run finishes the work).
 */
#ifndef FML_MSG_H
#define FML_MSG_H

#define MSG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Start-up hygiene for every main: fds 0-2 open (else /dev/null), umask
 * 077, logging as PROGNAME, SIGTERM & co. turned into clean exits. */
void msg_startup(const char *progname);
void msg_open(const char *progname);
const char *msg_progname(void);
void msg_set_logfile(const char *path); /* NULL closes it */
void msg_set_stderr(int on);
/* Errors (and fatal errors) to stderr even when it is no terminal: for the
 * programs cron and timers run, whose mail or journal is where an admin
 * looks. */
void msg_set_stderr_errors(int on);
void msg_set_verbose(int level);
int msg_verbose(void);
void msg_set_fatal_exit(int code);

void msg_debug(const char *fmt, ...) MSG_PRINTF(1, 2); /* only with verbose */
void msg_info(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_warn(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_error(const char *fmt, ...) MSG_PRINTF(1, 2);
__attribute__((noreturn)) void msg_fatal(const char *fmt, ...) MSG_PRINTF(1, 2);
__attribute__((noreturn)) void msg_panic(const char *fmt, ...) MSG_PRINTF(1, 2);

/* Clean-up run by msg_fatal()/msg_panic() (and msg_cleanup_run()), newest
 * first.  A handler must be async-signal-safe: it may run from SIGTERM. */
typedef void (*msg_cleanup_fn)(void *arg);
int msg_cleanup_push(msg_cleanup_fn fn, void *arg);
void msg_cleanup_pop(int handle);
void msg_cleanup_run(void);

/* Terminate on SIGTERM/SIGINT/SIGHUP/SIGQUIT: run clean-up, then exit with
 * the fatal exit status (never die by a signal). */
void msg_catch_signals(void);

#endif
