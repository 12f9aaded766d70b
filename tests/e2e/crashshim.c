/*
 * crashshim: an LD_PRELOAD shim for crash tests (reliability.md T1).
 *
 *   cc -shared -fPIC -O1 -o build/crashshim.so tests/e2e/crashshim.c -ldl
 *   LD_PRELOAD=build/crashshim.so FML_CRASH_AT=K fml DIR < mail
 *
 * It counts the calls that change durable state: write/pwrite/writev to a
 * regular file, fsync, fdatasync, msync, ftruncate, rename, link, unlink,
 * mkdir, open/openat/creat with O_CREAT or O_TRUNC, and close of a regular
 * file open for writing.  When the count reaches FML_CRASH_AT the process
 * dies by SIGKILL (FML_CRASH_MODE=exit: _exit(137)) before the call is made,
 * or right after it with FML_CRASH_AFTER=1.
 *
 *   FML_CRASH_AT=K       kill at the K-th counted call (unset or 0: never)
 *   FML_CRASH_AFTER=1    kill after the call instead of before it
 *   FML_CRASH_MODE=exit  _exit(137) instead of SIGKILL
 *   FML_CRASH_MODE=term  send SIGTERM to itself instead (the program's handler
 *                        runs at that very point; if it returns, the program
 *                        goes on)
 *   FML_CRASH_COUNT=PATH the number of counted calls, rewritten after each one
 *                        and at exit (so a normal run reports its total)
 *   FML_CRASH_TRACE=PATH one line per counted call: "K CALL TARGET"
 *   FML_CRASH_ON=CALL:SUBSTR  kill at the first counted CALL (write, link, ...)
 *                        whose target path contains SUBSTR (instead of a count)
 *
 * Error injection instead of a kill (the fault sweeps of test_faults.py):
 *   FML_FAIL_AT=K        the K-th counted call is not made: it returns -1
 *                        with errno FML_FAIL_ERRNO (a number; default EIO).
 *                        close() still releases the descriptor, as Linux
 *                        does when it reports an error.
 *   FML_FAIL_FROM=1      every counted call from the K-th on fails (a disk
 *                        that stays full), not only the K-th
 *
 * The variables are read in a constructor, before main: fml calls clearenv()
 * early and drops root; the files are opened here, as the starting user, and
 * written with raw system calls afterwards.  Only the process that loaded
 * the shim counts (a forked child does not).
 *
 * An execve() of the counting process (the lean fml handing over to
 * fmlproc in the same process) goes on counting: the count and a matched
 * FML_CRASH_ON pass to the new image in FML_CRASH_BASE and
 * FML_CRASH_MATCHED, and the count and trace files are continued, not
 * truncated, so a sweep sees one process, as the MTA does.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static long crash_at;
static long fail_at;
static int fail_from;
static int fail_errno = EIO;
static int crash_after;
static int crash_exit;
static int crash_term;
static int count_fd = -1;
static int trace_fd = -1;
static long count;
static long matched; /* the count at which FML_CRASH_ON matched */
static char crash_on_call[32];
static char crash_on_sub[512];
static pid_t owner;
static __thread int busy; /* no counting inside the shim itself */

#define REAL(name)                                                                                 \
	static __typeof__(name) *real_##name;                                                      \
	if (!real_##name)                                                                          \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);

static long env_long(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : 0;
}

static int open_out(const char *name, int go_on)
{
	const char *p = getenv(name);
	if (!p || !*p)
		return -1;
	return (int)syscall(SYS_openat, AT_FDCWD, p,
			    O_WRONLY | O_CREAT | (go_on ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0644);
}

static void raw_write(int fd, const char *s, size_t n)
{
	while (n > 0) {
		long w = syscall(SYS_write, fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void save_count(void)
{
	if (count_fd < 0)
		return;
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", count);
	syscall(SYS_ftruncate, count_fd, 0);
	syscall(SYS_pwrite64, count_fd, buf, (size_t)n, (off_t)0);
}

__attribute__((constructor)) static void shim_init(void)
{
	crash_at = env_long("FML_CRASH_AT");
	fail_at = env_long("FML_FAIL_AT");
	fail_from = env_long("FML_FAIL_FROM") != 0;
	if (env_long("FML_FAIL_ERRNO") > 0)
		fail_errno = (int)env_long("FML_FAIL_ERRNO");
	crash_after = env_long("FML_CRASH_AFTER") != 0;
	const char *m = getenv("FML_CRASH_MODE");
	crash_exit = m && strcmp(m, "exit") == 0;
	crash_term = m && strcmp(m, "term") == 0;
	const char *on = getenv("FML_CRASH_ON");
	const char *colon = on ? strchr(on, ':') : NULL;
	if (colon && (size_t)(colon - on) < sizeof crash_on_call) {
		memcpy(crash_on_call, on, (size_t)(colon - on));
		snprintf(crash_on_sub, sizeof crash_on_sub, "%s", colon + 1);
	}
	int go_on = getenv("FML_CRASH_BASE") != NULL; /* after an execve() */
	count = env_long("FML_CRASH_BASE");
	matched = env_long("FML_CRASH_MATCHED");
	count_fd = open_out("FML_CRASH_COUNT", go_on);
	trace_fd = open_out("FML_CRASH_TRACE", go_on);
	owner = (pid_t)syscall(SYS_getpid);
	save_count();
}

__attribute__((destructor)) static void shim_fini(void)
{
	if ((pid_t)syscall(SYS_getpid) == owner)
		save_count();
}

static void die(void)
{
	if (crash_term) {
		syscall(SYS_kill, (pid_t)syscall(SYS_getpid), SIGTERM);
		return;
	}
	if (crash_exit)
		syscall(SYS_exit_group, 137);
	syscall(SYS_kill, (pid_t)syscall(SYS_getpid), SIGKILL);
	syscall(SYS_exit_group, 137); /* not reached */
}

static int counting(void)
{
	return !busy && (pid_t)syscall(SYS_getpid) == owner;
}

static const char *target_of(const char *a, int fd, char *buf, size_t size)
{
	if (a || fd < 0)
		return a ? a : "-";
	char fdpath[64];
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
	long n = syscall(SYS_readlinkat, AT_FDCWD, fdpath, buf, size - 1);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/* Before a counted call: returns its number (0: not counted; negative:
 * the call is to fail with fail_errno instead of being made). */
static long pre(const char *call, const char *path, int fd)
{
	if (!counting())
		return 0;
	busy = 1;
	long k = ++count;
	char buf[1024];
	const char *target = NULL;
	if (trace_fd >= 0 || crash_on_call[0])
		target = target_of(path, fd, buf, sizeof buf);
	if (trace_fd >= 0) {
		char line[1200];
		int n = snprintf(line, sizeof line, "%ld %s %s\n", k, call, target);
		if (n > 0)
			raw_write(trace_fd, line,
				  (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	}
	if (crash_on_call[0] && !matched && strcmp(call, crash_on_call) == 0 &&
	    strstr(target, crash_on_sub))
		matched = k;
	if (((crash_at > 0 && k == crash_at) || (matched && k == matched)) && !crash_after)
		die();
	busy = 0;
	if (fail_at > 0 && (k == fail_at || (fail_from && k > fail_at))) {
		save_count();
		return -k;
	}
	return k;
}

static void post(long k)
{
	if (!k)
		return;
	int saved = errno;
	busy = 1;
	save_count();
	if (((crash_at > 0 && k == crash_at) || (matched && k == matched)) && crash_after)
		die();
	busy = 0;
	errno = saved;
}

/* A regular file: writes to pipes, sockets and terminals change nothing durable. */
static int regular(int fd)
{
	struct stat st;
	return fd >= 0 && syscall(SYS_fstat, fd, &st) == 0 && S_ISREG(st.st_mode);
}

static int writable_regular(int fd)
{
	if (!regular(fd))
		return 0;
	long fl = syscall(SYS_fcntl, fd, F_GETFL);
	return fl >= 0 && (fl & O_ACCMODE) != O_RDONLY;
}

static int creating(int flags)
{
	return (flags & (O_CREAT | O_TRUNC)) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

#define FD_CALL(ret, name, params, args, fd, test)                                                 \
	ret name params                                                                            \
	{                                                                                          \
		REAL(name);                                                                        \
		long k = (!busy && (test)) ? pre(#name, NULL, fd) : 0;                             \
		if (k < 0) {                                                                       \
			errno = fail_errno;                                                        \
			return (ret)-1;                                                            \
		}                                                                                  \
		ret r = real_##name args;                                                          \
		post(k);                                                                           \
		return r;                                                                          \
	}

FD_CALL(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n), fd, regular(fd))
FD_CALL(ssize_t, pwrite, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o), fd, regular(fd))
FD_CALL(ssize_t, pwrite64, (int fd, const void *b, size_t n, off64_t o), (fd, b, n, o), fd,
	regular(fd))
FD_CALL(ssize_t, writev, (int fd, const struct iovec *v, int c), (fd, v, c), fd, regular(fd))
FD_CALL(ssize_t, pwritev, (int fd, const struct iovec *v, int c, off_t o), (fd, v, c, o), fd,
	regular(fd))
FD_CALL(int, fsync, (int fd), (fd), fd, 1)
FD_CALL(int, fdatasync, (int fd), (fd), fd, 1)
FD_CALL(int, ftruncate, (int fd, off_t len), (fd, len), fd, 1)
FD_CALL(int, ftruncate64, (int fd, off64_t len), (fd, len), fd, 1)

int close(int fd)
{
	REAL(close);
	long k = (!busy && writable_regular(fd)) ? pre("close", NULL, fd) : 0;
	int r = real_close(fd); /* an injected error still releases FD */
	if (k < 0) {
		errno = fail_errno;
		return -1;
	}
	post(k);
	return r;
}

int msync(void *addr, size_t len, int flags)
{
	REAL(msync);
	long k = busy ? 0 : pre("msync", "-", -1);
	if (k < 0) {
		errno = fail_errno;
		return -1;
	}
	int r = real_msync(addr, len, flags);
	post(k);
	return r;
}

#define PATH_CALL(ret, name, params, args, path)                                                   \
	ret name params                                                                            \
	{                                                                                          \
		REAL(name);                                                                        \
		long k = busy ? 0 : pre(#name, path, -1);                                          \
		if (k < 0) {                                                                       \
			errno = fail_errno;                                                        \
			return (ret)-1;                                                            \
		}                                                                                  \
		ret r = real_##name args;                                                          \
		post(k);                                                                           \
		return r;                                                                          \
	}

PATH_CALL(int, rename, (const char *a, const char *b), (a, b), a)
PATH_CALL(int, renameat, (int da, const char *a, int db, const char *b), (da, a, db, b), a)
PATH_CALL(int, renameat2, (int da, const char *a, int db, const char *b, unsigned f),
	  (da, a, db, b, f), a)
PATH_CALL(int, link, (const char *a, const char *b), (a, b), b)
PATH_CALL(int, linkat, (int da, const char *a, int db, const char *b, int f), (da, a, db, b, f), b)
PATH_CALL(int, unlink, (const char *a), (a), a)
PATH_CALL(int, unlinkat, (int d, const char *a, int f), (d, a, f), a)
PATH_CALL(int, mkdir, (const char *a, mode_t m), (a, m), a)
PATH_CALL(int, creat, (const char *a, mode_t m), (a, m), a)
PATH_CALL(int, creat64, (const char *a, mode_t m), (a, m), a)

/* open and friends: counted when they may create or truncate a file */
#define OPEN_CALL(name, params, args, path, flags)                                                 \
	int name params                                                                            \
	{                                                                                          \
		REAL(name);                                                                        \
		mode_t mode = 0;                                                                   \
		if (creating(flags)) {                                                             \
			va_list ap;                                                                \
			va_start(ap, flags);                                                       \
			mode = va_arg(ap, mode_t);                                                 \
			va_end(ap);                                                                \
		}                                                                                  \
		long k = (!busy && creating(flags)) ? pre(#name, path, -1) : 0;                    \
		if (k < 0) {                                                                       \
			errno = fail_errno;                                                        \
			return -1;                                                                 \
		}                                                                                  \
		int r = real_##name args;                                                          \
		post(k);                                                                           \
		return r;                                                                          \
	}

OPEN_CALL(open, (const char *p, int flags, ...), (p, flags, mode), p, flags)
OPEN_CALL(open64, (const char *p, int flags, ...), (p, flags, mode), p, flags)
OPEN_CALL(openat, (int d, const char *p, int flags, ...), (d, p, flags, mode), p, flags)
OPEN_CALL(openat64, (int d, const char *p, int flags, ...), (d, p, flags, mode), p, flags)

/* _FORTIFY_SOURCE forms (no O_CREAT possible: they exist for the check) */
int __open_2(const char *p, int flags);
int __open64_2(const char *p, int flags);
int __openat_2(int d, const char *p, int flags);
int __openat64_2(int d, const char *p, int flags);
#define OPEN2_CALL(name, params, args, path, flags)                                                \
	int name params                                                                            \
	{                                                                                          \
		REAL(name);                                                                        \
		long k = (!busy && creating(flags)) ? pre(#name, path, -1) : 0;                    \
		if (k < 0) {                                                                       \
			errno = fail_errno;                                                        \
			return -1;                                                                 \
		}                                                                                  \
		int r = real_##name args;                                                          \
		post(k);                                                                           \
		return r;                                                                          \
	}
OPEN2_CALL(__open_2, (const char *p, int flags), (p, flags), p, flags)
OPEN2_CALL(__open64_2, (const char *p, int flags), (p, flags), p, flags)
OPEN2_CALL(__openat_2, (int d, const char *p, int flags), (d, p, flags), p, flags)
OPEN2_CALL(__openat64_2, (int d, const char *p, int flags), (d, p, flags), p, flags)

/* The counting process execs a new image (fml -> fmlproc): it goes on
 * counting where this one stopped (see the top). */
int execve(const char *path, char *const argv[], char *const envp[])
{
	REAL(execve);
	if (!counting())
		return real_execve(path, argv, envp);
	size_t n = 0;
	while (envp && envp[n])
		n++;
	char **env = malloc((n + 3) * sizeof *env);
	char base[48], match[48];
	if (!env)
		return real_execve(path, argv, envp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], "FML_CRASH_BASE=", 15) != 0 &&
		    strncmp(envp[i], "FML_CRASH_MATCHED=", 18) != 0)
			env[k++] = envp[i];
	snprintf(base, sizeof base, "FML_CRASH_BASE=%ld", count);
	snprintf(match, sizeof match, "FML_CRASH_MATCHED=%ld", matched);
	env[k++] = base;
	env[k++] = match;
	env[k] = NULL;
	save_count();
	int r = real_execve(path, argv, env);
	free(env);
	return r;
}
