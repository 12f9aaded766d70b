/*
 * Unit tests for lib/list/incoming.c: the accept step (the commit point) and the
 * items it leaves in DIR/var/incoming.  Input comes from a pipe (as from
 * the MTA) or a temp file; the item is checked byte for byte against the
 * format in incoming.h, with the SHA-256 computed here by GLib.  A failing
 * case prints "got X, want Y".
 */
#include "unit.h"

#include "list/incoming.h"
#include "util/msg.h"
#include "util/str.h"
#include "util/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[PATH_MAX];
static char idir[PATH_MAX]; /* ROOT/var/incoming */

static int setup(void **state)
{
	if (unit_tmpdir(root, sizeof root, "incoming") < 0)
		return -1;
	PATHF(idir, "%s/var/incoming", root);
	char var[PATH_MAX];
	PATHF(var, "%s/var", root);
	if (mkdir(var, 0700) != 0 || mkdir(idir, 0700) != 0)
		return -1;
	msg_set_stderr(0);
	return 0;
}

static int teardown(void **state)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Empty var/incoming between tests. */
static void empty_idir(void)
{
	DIR *d = opendir(idir);
	assert_non_null(d);
	struct dirent *de;
	char path[PATH_MAX];
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		PATHF(path, "%s/%s", idir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

/* Number of entries in var/incoming (all names, temp files included). */
static int count_idir(void)
{
	DIR *d = opendir(idir);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int slurp(const char *path, str *out)
{
	str_clear(out);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		str_append(out, buf, (size_t)n);
	close(fd);
	str_puts(out, "");
	return n < 0 ? -1 : 0;
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_true(write(fd, p, n) == (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

/* An fd reading DATA: a pipe fed by a child (any size), or a temp file. */
static int input_fd(const void *data, size_t len, int use_pipe, pid_t *child)
{
	*child = -1;
	if (!use_pipe) {
		char path[PATH_MAX];
		PATHF(path, "%s/input.XXXXXX", root);
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		unlink(path);
		assert_true(len == 0 || write(fd, data, len) == (ssize_t)len);
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		return fd;
	}
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		const char *s = data;
		size_t left = len;
		while (left > 0) {
			size_t chunk = left < 3000 ? left : 3000; /* many short reads */
			ssize_t w = write(p[1], s, chunk);
			if (w <= 0)
				_exit(1);
			s += w;
			left -= (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	*child = pid;
	return p[0];
}

static void input_done(int fd, pid_t child)
{
	close(fd);
	if (child > 0)
		waitpid(child, NULL, 0);
}

static fml_status accept_bytes(const void *data, size_t len, int use_pipe, incoming_mode mode,
			       const char *sender, long long limit, str *id)
{
	pid_t child;
	int fd = input_fd(data, len, use_pipe, &child);
	fml_status st = incoming_accept(root, fd, mode, sender, limit, NULL, id);
	input_done(fd, child);
	return st;
}

/* Check the item file against the format, from first principles. */
static int check_item(const char *what, const char *id, const char *want_first, const void *mail,
		      size_t mlen)
{
	int bad = 0;
	char path[PATH_MAX];
	str file = STR_INIT;
	PATHF(path, "%s/%s", idir, id);
	if (slurp(path, &file) < 0) {
		print_error("%s: cannot read %s: %s\n", what, path, strerror(errno));
		return 1;
	}
	size_t fl = strlen(want_first);
	if (file.len < fl || memcmp(file.s, want_first, fl) != 0) {
		const char *nl = memchr(file.s, '\n', file.len);
		print_error("%s: first line got \"%.*s\", want \"%.*s\"\n", what,
			    nl ? (int)(nl - file.s) : (int)file.len, file.s, (int)fl - 1,
			    want_first);
		bad++;
	}
	if (file.len != fl + mlen + INCOMING_TRAILER_LEN) {
		print_error("%s: file size got %zu, want %zu + %zu + %d\n", what, file.len, fl,
			    mlen, INCOMING_TRAILER_LEN);
		str_free(&file);
		return bad + 1;
	}
	if (memcmp(file.s + fl, mail, mlen) != 0) {
		print_error("%s: mail bytes differ from the input\n", what);
		bad++;
	}
	char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, mail, mlen);
	char want_trailer[INCOMING_TRAILER_LEN + 1];
	int tl =
	    snprintf(want_trailer, sizeof want_trailer, "\nfml-trailer %020zu %s\n", mlen, sha);
	assert_int_equal(tl, INCOMING_TRAILER_LEN);
	if (memcmp(file.s + fl + mlen, want_trailer, INCOMING_TRAILER_LEN) != 0) {
		print_error("%s: trailer got \"%.*s\", want \"%s\"\n", what, INCOMING_TRAILER_LEN,
			    file.s + fl + mlen, want_trailer);
		bad++;
	}
	struct stat st;
	if (stat(path, &st) != 0 || (st.st_mode & 07777) != 0600) {
		print_error("%s: mode %o, want 0600\n", what, (unsigned)st.st_mode & 07777);
		bad++;
	}
	g_free(sha);
	str_free(&file);
	return bad;
}

/* The id: "SSSSSSSSSS.UUUUUU.PID.RAND" with the arrival second in range. */
static int check_id(const char *what, const char *id, time_t before, time_t after)
{
	long long sec;
	int usec, pid, used = 0;
	if (sscanf(id, "%10lld.%6d.%d.%n", &sec, &usec, &pid, &used) != 3 || used == 0 ||
	    strlen(id) < 11 || id[10] != '.' || id[17] != '.' || !id[used] ||
	    strspn(id + used, "0123456789abcdef") != strlen(id + used)) {
		print_error("%s: id \"%s\", want SSSSSSSSSS.UUUUUU.PID.RAND\n", what, id);
		return 1;
	}
	if (sec < before || sec > after || pid != (int)getpid()) {
		print_error("%s: id \"%s\": got second %lld pid %d, want [%lld, %lld] pid %d\n",
			    what, id, sec, pid, (long long)before, (long long)after, (int)getpid());
		return 1;
	}
	return 0;
}

/* ---- accept */

/* The clock the item name is read from (CLOCK_REALTIME): time(2) reads a
 * coarse clock that can still show the previous second. */
static time_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static void test_accept_format(void **state)
{
	static const char mail1[] = "From: a@example.org\nSubject: hi\n\nbody\n";
	static const char crlf[] = "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n";
	static const char nul[] = "Subject: x\n\nbin\0ary\xff\n";
	static const char nonl[] = "Subject: x\n\nno final newline";
	static const struct {
		const char *mail;
		size_t len; /* 0 = generated big mail */
		int pipe;
		incoming_mode mode;
		const char *sender;
		const char *want_first;
	} c[] = {
	    {mail1, sizeof mail1 - 1, 1, IN_POST, "a@example.org",
	     "fml-incoming 1 post <a@example.org>\n"},
	    {mail1, sizeof mail1 - 1, 0, IN_POST, "a@example.org",
	     "fml-incoming 1 post <a@example.org>\n"},
	    {mail1, sizeof mail1 - 1, 1, IN_CTL, "a@example.org",
	     "fml-incoming 1 ctl <a@example.org>\n"},
	    {mail1, sizeof mail1 - 1, 1, IN_POST, NULL, "fml-incoming 1 post -\n"},
	    {mail1, sizeof mail1 - 1, 1, IN_POST, "", "fml-incoming 1 post <>\n"},
	    {crlf, sizeof crlf - 1, 1, IN_POST, "b@example.org",
	     "fml-incoming 1 post <b@example.org>\n"},
	    {nul, sizeof nul - 1, 0, IN_CTL, NULL, "fml-incoming 1 ctl -\n"},
	    {nonl, sizeof nonl - 1, 1, IN_POST, "c@x", "fml-incoming 1 post <c@x>\n"},
	    {"x", 1, 1, IN_POST, "c@x", "fml-incoming 1 post <c@x>\n"},
	    {NULL, 0, 1, IN_POST, "big@x", "fml-incoming 1 post <big@x>\n"},
	    {NULL, 0, 0, IN_POST, "big@x", "fml-incoming 1 post <big@x>\n"},
	};
	size_t biglen = 3 * 65536 + 12345; /* several read chunks, an odd tail */
	char *big = mem_alloc(biglen);
	for (size_t k = 0; k < biglen; k++)
		big[k] = (k % 77 == 76) ? '\n' : (char)(' ' + k % 90);
	int bad = 0;
	str id = STR_INIT;
	char what[96];
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		const char *mail = c[i].mail ? c[i].mail : big;
		size_t len = c[i].mail ? c[i].len : biglen;
		snprintf(what, sizeof what, "accept case %zu (%zu bytes from a %s)", i, len,
			 c[i].pipe ? "pipe" : "file");
		empty_idir();
		time_t before = now_seconds();
		WANT_ST(what, accept_bytes(mail, len, c[i].pipe, c[i].mode, c[i].sender, 0, &id),
			ST_OK);
		time_t after = now_seconds();
		if (id.len == 0) {
			print_error("%s: got an empty id, want the item name\n", what);
			bad++;
			continue;
		}
		bad += check_id(what, id.s, before, after);
		bad += check_item(what, id.s, c[i].want_first, mail, len);
		if (count_idir() != 1) {
			print_error("%s: var/incoming holds %d entries, want 1\n", what,
				    count_idir());
			bad++;
		}
		/* and it reads back through incoming_open */
		incoming_item it;
		WANT_ST(what, incoming_open(root, id.s, &it), ST_OK);
		if (it.mode != c[i].mode || it.mail_end - it.mail_start != (off_t)len ||
		    it.mail_start != (off_t)strlen(c[i].want_first)) {
			print_error("%s: open got mode %d mail [%lld, %lld), want mode %d [%zu, "
				    "%zu)\n",
				    what, it.mode, (long long)it.mail_start, (long long)it.mail_end,
				    c[i].mode, strlen(c[i].want_first),
				    strlen(c[i].want_first) + len);
			bad++;
		}
		char *sha =
		    g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)mail, len);
		if (strcmp(it.sha256, sha) != 0) {
			print_error("%s: open sha256 got %s, want %s\n", what, it.sha256, sha);
			bad++;
		}
		g_free(sha);
		if (strcmp(it.id, id.s) != 0 || it.arrival != strtoll(id.s, NULL, 10)) {
			print_error("%s: open id \"%s\" arrival %lld, want \"%s\"\n", what, it.id,
				    it.arrival, id.s);
			bad++;
		}
		incoming_close(&it);
	}
	empty_idir();
	free(big);
	str_free(&id);
	assert_int_equal(bad, 0);
}

static void test_accept_limit(void **state)
{
	static const struct {
		size_t len;
		long long limit;
		int pipe;
		fml_status want;
	} c[] = {
	    {100, 100, 1, ST_OK},
	    {101, 100, 1, ST_TOOBIG},
	    {101, 100, 0, ST_TOOBIG},
	    {99, 100, 0, ST_OK},
	    {200000, 100, 1, ST_TOOBIG},
	    {200000, 65536, 0, ST_TOOBIG},
	    {200000, 199999, 1, ST_TOOBIG},
	    {200000, 200000, 1, ST_OK},
	    {65537, 65536, 1, ST_TOOBIG},
	    {65536, 65536, 0, ST_OK},
	    {1, 0, 1, ST_OK}, /* 0 = no limit */
	};
	char *mail = mem_alloc(200000);
	memset(mail, 'm', 200000);
	int bad = 0;
	str id = STR_INIT;
	char what[96];
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		snprintf(what, sizeof what, "limit case %zu (%zu bytes, limit %lld, %s)", i,
			 c[i].len, c[i].limit, c[i].pipe ? "pipe" : "file");
		empty_idir();
		str_sets(&id, "stale");
		fml_status st =
		    accept_bytes(mail, c[i].len, c[i].pipe, IN_POST, "a@x", c[i].limit, &id);
		WANT_ST(what, st, c[i].want);
		int want_entries = c[i].want == ST_OK;
		if (count_idir() != want_entries) {
			print_error("%s: var/incoming holds %d entries, want %d\n", what,
				    count_idir(), want_entries);
			bad++;
		}
		if (st != ST_OK && id.len != 0) {
			print_error("%s: got id \"%s\", want an empty id\n", what, id.s);
			bad++;
		}
		if (st == ST_OK)
			bad +=
			    check_item(what, id.s, "fml-incoming 1 post <a@x>\n", mail, c[i].len);
	}
	empty_idir();
	free(mail);
	str_free(&id);
	assert_int_equal(bad, 0);
}

static void test_accept_empty(void **state)
{
	int bad = 0;
	str id = STR_INIT;
	for (int use_pipe = 0; use_pipe <= 1; use_pipe++) {
		empty_idir();
		str_sets(&id, "stale");
		WANT_ST("empty input", accept_bytes("", 0, use_pipe, IN_POST, "a@x", 100, &id),
			ST_OK);
		if (id.len != 0) {
			print_error("empty input (%s): got id \"%s\", want \"\"\n",
				    use_pipe ? "pipe" : "file", id.s);
			bad++;
		}
		if (count_idir() != 0) {
			print_error("empty input: var/incoming holds %d entries, want 0\n",
				    count_idir());
			bad++;
		}
	}
	/* unreadable input (a directory, a closed fd): ST_TEMPFAIL, nothing left */
	empty_idir();
	int dfd = open(root, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	WANT_ST("input is a directory", incoming_accept(root, dfd, IN_POST, NULL, 0, NULL, &id),
		ST_TEMPFAIL);
	close(dfd);
	WANT_ST("input is a closed fd", incoming_accept(root, dfd, IN_POST, NULL, 0, NULL, &id),
		ST_TEMPFAIL);
	if (count_idir() != 0) {
		print_error("unreadable input: var/incoming holds %d entries, want 0\n",
			    count_idir());
		bad++;
	}
	/* no var/incoming at all: ST_TEMPFAIL, the MTA keeps the mail */
	char nodir[PATH_MAX];
	PATHF(nodir, "%s/no-such-list", root);
	pid_t child;
	int fd = input_fd("x", 1, 0, &child);
	WANT_ST("missing var/incoming", incoming_accept(nodir, fd, IN_POST, NULL, 0, NULL, &id),
		ST_TEMPFAIL);
	input_done(fd, child);
	str_free(&id);
	assert_int_equal(bad, 0);
}

/* ---- senders: escape and the round trip through the first line */

static void test_sender_round_trip(void **state)
{
	static const struct {
		const char *sender; /* NULL = unknown */
		const char *want_token;
	} c[] = {
	    {NULL, "-"},
	    {"", "<>"},
	    {"a@example.org", "<a@example.org>"},
	    {"a b@example.org", "<a%20b@example.org>"},
	    {"\"a b\"@example.org", "<\"a%20b\"@example.org>"},
	    {"100%@example.org", "<100%25@example.org>"},
	    {"%41@x", "<%2541@x>"}, /* a literal "%41" stays "%41" */
	    {"<a@x>", "<%3Ca@x%3E>"},
	    {"a>b<c@x", "<a%3Eb%3Cc@x>"},
	    {"caf\xc3\xa9@example.jp", "<caf%C3%A9@example.jp>"},
	    {"\x7f\x80\xff", "<%7F%80%FF>"},
	    {"tab\there", "<tab%09here>"},
	    {"cr\rlf\n", "<cr%0Dlf%0A>"},
	    {"-", "<->"}, /* a real sender named "-" is not "unknown" */
	    {"%", "<%25>"},
	    {"a%", "<a%25>"},
	    {"~!#$&'*+/=?^_`{|}@x", "<~!#$&'*+/=?^_`{|}@x>"},
	};
	int bad = 0;
	str id = STR_INIT, esc = STR_INIT, first = STR_INIT;
	char what[128];
	static const char mail[] = "Subject: s\n\nb\n";
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		snprintf(what, sizeof what, "sender case %zu", i);
		if (c[i].sender) {
			incoming_escape(c[i].sender, &esc);
			str_clear(&first);
			str_printf(&first, "<%s>", str_c(&esc));
			if (strcmp(str_c(&first), c[i].want_token) != 0) {
				print_error("%s: incoming_escape got \"%s\", want \"%s\"\n", what,
					    str_c(&first), c[i].want_token);
				bad++;
			}
		}
		empty_idir();
		WANT_ST(what, accept_bytes(mail, sizeof mail - 1, 1, IN_POST, c[i].sender, 0, &id),
			ST_OK);
		str_clear(&first);
		str_printf(&first, "fml-incoming 1 post %s\n", c[i].want_token);
		bad += check_item(what, str_c(&id), str_c(&first), mail, sizeof mail - 1);
		incoming_item it;
		WANT_ST(what, incoming_open(root, str_c(&id), &it), ST_OK);
		int want_has = c[i].sender != NULL;
		const char *want_sender = c[i].sender ? c[i].sender : "";
		if (it.has_sender != want_has || strcmp(str_c(&it.sender), want_sender) != 0 ||
		    it.sender.len != strlen(want_sender)) {
			print_error("%s: open got has_sender %d \"%s\", want %d \"%s\"\n", what,
				    it.has_sender, str_c(&it.sender), want_has, want_sender);
			bad++;
		}
		incoming_close(&it);
	}
	empty_idir();
	str_free(&id);
	str_free(&esc);
	str_free(&first);
	assert_int_equal(bad, 0);
}

/* Long senders: whatever incoming_accept() commits, incoming_open() must
 * read back.  KNOWN BUG (reported): incoming_open() reads the first line
 * into a 1200-byte buffer and the sender token with "%1099s", so a sender
 * whose escaped form is longer than 1097 bytes (e.g. 400 8-bit bytes, each
 * escaped to 3) is accepted (the MTA is told "delivered") and then the item
 * is refused as ST_DATAERR.  SENDER comes from the environment unbounded
 * (fml/fml.c).  The cases marked "bug" fail until that is fixed. */
static void test_sender_long(void **state)
{
	static const struct {
		size_t len;
		unsigned char byte;
	} c[] = {
	    {254, 'a'},	 /* longest RFC 5321 path */
	    {512, 'a'},	 /* INCOMING_SENDER_MAX: kept */
	    {170, 0xe9}, /* 8-bit, escaped 510 bytes: kept */
	    {512, 0xe9}, /* escaped 1536 bytes: kept */
	    {513, 'a'},	 /* over the limit: recorded as unknown */
	    {2000, 'a'}, /* Postfix accepts MAIL FROM lines this long */
	};
	int bad = 0;
	str id = STR_INIT;
	char what[96];
	static const char mail[] = "Subject: s\n\nb\n";
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		char *sender = mem_alloc(c[i].len + 1);
		memset(sender, c[i].byte, c[i].len);
		sender[c[i].len] = 0;
		int kept = c[i].len <= INCOMING_SENDER_MAX;
		snprintf(what, sizeof what, "long sender case %zu (%zu bytes 0x%02x)", i, c[i].len,
			 c[i].byte);
		empty_idir();
		fml_status st = accept_bytes(mail, sizeof mail - 1, 1, IN_POST, sender, 0, &id);
		WANT_ST(what, st, ST_OK);
		if (st == ST_OK) {
			incoming_item it;
			WANT_ST(what, incoming_open(root, str_c(&id), &it), ST_OK);
			if (it.has_sender != kept ||
			    (kept && (it.sender.len != c[i].len ||
				      strcmp(str_c(&it.sender), sender) != 0))) {
				print_error(
				    "%s: open got has_sender=%d and a %zu-byte sender, want %d "
				    "and %zu bytes\n",
				    what, it.has_sender, it.sender.len, kept, kept ? c[i].len : 0);
				bad++;
			}
			incoming_close(&it);
		}
		free(sender);
	}
	empty_idir();
	str_free(&id);
	assert_int_equal(bad, 0);
}

/* ---- incoming_open on damaged or hand-made items */

/* Build an item: FIRST line, MAIL, and a trailer for TLEN / SHA (NULL =
 * the real ones). */
static void make_item(str *out, const char *first, const char *mail, long long tlen,
		      const char *sha)
{
	size_t mlen = strlen(mail);
	char *real = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)mail, mlen);
	str_clear(out);
	str_puts(out, first);
	str_puts(out, mail);
	str_printf(out, "\nfml-trailer %020lld %s\n", tlen >= 0 ? tlen : (long long)mlen,
		   sha ? sha : real);
	g_free(real);
}

/* Replace bytes of a good item at OFF (negative: from the end) and open. */
static fml_status open_patched(long off, const char *text)
{
	static const char first[] = "fml-incoming 1 post <a@x>\n";
	const char *id = "0000000001.000001.1.00000000";
	char path[PATH_MAX];
	str item = STR_INIT;
	PATHF(path, "%s/%s", idir, id);
	empty_idir();
	make_item(&item, first, "Subject: s\n\nbody\n", -1, NULL);
	size_t at = off >= 0 ? (size_t)off : item.len - (size_t)-off;
	memcpy(item.s + at, text, strlen(text));
	write_file(path, item.s, item.len);
	incoming_item it;
	fml_status st = incoming_open(root, id, &it);
	incoming_close(&it);
	empty_idir();
	str_free(&item);
	return st;
}

/* The frame is fixed: the first line "fml-incoming 1 post|ctl SENDER",
 * and a 99-byte trailer "\nfml-trailer " 20 digits, a space, 64 lower-case
 * hex digits, "\n".  KNOWN BUG (reported, lib/list/incoming.c:255 and :273):
 * both are parsed with sscanf, whose "\n" and " " match any white space (or
 * none) and whose %s takes any non-blank bytes; the trailer's last byte is
 * not looked at and a MODE other than "ctl" is read as "post".  So the
 * cases marked "bug" are opened as ST_OK.  The lengths still agree: these
 * are damaged bytes, not truncation. */
static void test_open_strict_frame(void **state)
{
	static const struct {
		const char *name;
		long off;
		const char *text;
		fml_status want;
	} c[] = {
	    {"intact (a no-op patch)", -1, "\n", ST_OK},
	    {"first newline a space", -99, " ", ST_DATAERR}, /* bug */
	    {"last newline an X", -1, "X", ST_DATAERR},	     /* bug */
	    {"sha not hex", -20, "zz", ST_DATAERR},	     /* bug */
	    {"sha with a blank", -20, " ", ST_DATAERR},
	    {"space after the length a tab", -66, "\t", ST_DATAERR}, /* bug */
	    {"mode \"pest\"", 16, "e", ST_DATAERR},		     /* bug */
	    {"mode \"post\" (a no-op patch)", 15, "p", ST_OK},
	};
	int bad = 0;
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		fml_status st = open_patched(c[i].off, c[i].text);
		if (st != c[i].want) {
			print_error("incoming_open %s: got %s, want %s\n", c[i].name,
				    status_name(st), status_name(c[i].want));
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_open_damaged(void **state)
{
	static const char good_first[] = "fml-incoming 1 post <a@x>\n";
	static const char mail[] = "Subject: s\n\nbody\n";
	enum { CUT, REPLACE, RAW };
	static const struct {
		const char *name;
		int op;
		long off;	  /* CUT: bytes to keep (negative: from the end); REPLACE: where */
		const char *text; /* REPLACE: bytes put at OFF; RAW: the whole file */
		fml_status want;
	} c[] = {
	    {"intact", CUT, 0, NULL, ST_OK},
	    {"one byte cut", CUT, -1, NULL, ST_DATAERR},
	    {"half the trailer cut", CUT, -50, NULL, ST_DATAERR},
	    {"whole trailer cut", CUT, -99, NULL, ST_DATAERR},
	    {"only the first line", CUT, 26, NULL, ST_DATAERR},
	    {"first line cut", CUT, 10, NULL, ST_DATAERR},
	    {"empty file", CUT, -1000, NULL, ST_DATAERR},
	    /* the item is not synced: a crash may keep its length and trailer
	     * but not every block of the mail; only the SHA-256 tells */
	    {"mail bytes changed, trailer intact", REPLACE, 38, "XXXX", ST_DATAERR},
	    {"length one too big", REPLACE, -67, "8", ST_DATAERR}, /* last length digit */
	    {"length one too small", REPLACE, -67, "6", ST_DATAERR},
	    {"trailer keyword", REPLACE, -98, "fml-trailor", ST_DATAERR},
	    {"length not digits", REPLACE, -75, "x", ST_DATAERR},
	    {"short sha", RAW, 0, NULL, ST_DATAERR}, /* filled in below */
	    {"bad version", REPLACE, 13, "2", ST_DATAERR},
	    {"bad magic", REPLACE, 0, "xml", ST_DATAERR},
	    {"sender without >", RAW, 0,
	     "fml-incoming 1 post <a@x\nm\nfml-trailer 00000000000000000001 "
	     "0000000000000000000000000000000000000000000000000000000000000000\n",
	     ST_DATAERR},
	    {"sender without <", RAW, 0,
	     "fml-incoming 1 post a@x>\nm\nfml-trailer 00000000000000000001 "
	     "0000000000000000000000000000000000000000000000000000000000000000\n",
	     ST_DATAERR},
	    {"no sender token", RAW, 0,
	     "fml-incoming 1 post\nm\nfml-trailer 00000000000000000001 "
	     "0000000000000000000000000000000000000000000000000000000000000000\n",
	     ST_DATAERR},
	    {"no newline at all", RAW, 0, "fml-incoming 1 post -", ST_DATAERR},
	    {"hand-made good", RAW, 0,
	     "fml-incoming 1 ctl -\nm\nfml-trailer 00000000000000000001 "
	     "62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a\n",
	     ST_OK},
	    {"garbage", RAW, 0, "\x01\x02garbage\n\n\n", ST_DATAERR},
	};
	int bad = 0;
	str item = STR_INIT;
	char path[PATH_MAX];
	const char *id = "0000000001.000001.1.00000000";
	PATHF(path, "%s/%s", idir, id);
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		empty_idir();
		make_item(&item, good_first, mail, -1, NULL);
		size_t len = item.len;
		if (c[i].op == CUT && c[i].off) {
			long keep = c[i].off > 0 ? c[i].off : (long)item.len + c[i].off;
			len = keep > 0 ? (size_t)keep : 0;
		} else if (c[i].op == REPLACE) {
			size_t at = c[i].off >= 0 ? (size_t)c[i].off : item.len - (size_t)-c[i].off;
			memcpy(item.s + at, c[i].text, strlen(c[i].text));
		} else if (c[i].op == RAW && c[i].text) {
			str_sets(&item, c[i].text);
			len = item.len;
		} else if (c[i].op == RAW) { /* short sha: 63 hex digits, length adjusted */
			str_clear(&item);
			str_printf(&item, "%sxx\nfml-trailer %020d %063d\n", good_first, 2, 0);
			len = item.len;
		}
		write_file(path, item.s, len);
		incoming_item it;
		fml_status st = incoming_open(root, id, &it);
		if (st != c[i].want) {
			print_error("incoming_open %s: got %s, want %s\n", c[i].name,
				    status_name(st), status_name(c[i].want));
			bad++;
		}
		incoming_close(&it);
	}
	/* the fixture itself: "length one too big/small" must hit the last
	 * digit of the 17-byte mail's length */
	make_item(&item, good_first, mail, -1, NULL);
	if (memcmp(item.s + item.len - 68, "17 ", 3) != 0) {
		print_error("fixture: length digits at -68 are \"%.3s\", want \"17 \"\n",
			    item.s + item.len - 68);
		bad++;
	}
	/* gone: ST_NOINPUT */
	empty_idir();
	incoming_item it;
	WANT_ST("incoming_open missing", incoming_open(root, id, &it), ST_NOINPUT);
	incoming_close(&it);
	/* a symlink is not an item */
	char target[PATH_MAX];
	PATHF(target, "%s/target", root);
	make_item(&item, good_first, mail, -1, NULL);
	write_file(target, item.s, item.len);
	assert_int_equal(symlink(target, path), 0);
	fml_status st = incoming_open(root, id, &it);
	if (st == ST_OK) {
		print_error("incoming_open symlink: got ST_OK, want a refusal\n");
		bad++;
	}
	incoming_close(&it);
	unlink(target);
	empty_idir();
	str_free(&item);
	assert_int_equal(bad, 0);
}

/* ---- incoming_list */

static void touch_age(const char *name, long age)
{
	char path[PATH_MAX];
	PATHF(path, "%s/%s", idir, name);
	write_file(path, "x", 1);
	if (age) {
		struct timeval tv[2];
		gettimeofday(&tv[0], NULL);
		tv[0].tv_sec -= age;
		tv[1] = tv[0];
		assert_int_equal(utimes(path, tv), 0);
	}
}

static void test_list(void **state)
{
	static const struct {
		const char *name;
		long age;     /* seconds the mtime is set back */
		int listed;   /* position in the list, 0 = not listed */
		int survives; /* still in the directory afterwards */
	} c[] = {
	    {"0000000010.000000.5.0000000a", 0, 4, 1},
	    {"0000000002.000001.9.00000001", 0, 2, 1},
	    {"0000000001.999999.7.000000ff", 0, 1, 1},
	    {"0000000002.000010.1.00000002", 0, 3, 1},
	    {"1700000000.000000.1.00000003", 7200, 5, 1}, /* old items are kept */
	    {"tmp.1.2.3.old", 7200, 0, 0},		  /* a dead writer's temp */
	    {"tmp.1.2.3.hour", 3700, 0, 0},
	    {"tmp.1.2.3.fresh", 0, 0, 1}, /* being written right now */
	    {"tmp.1.2.3.recent", 1800, 0, 1},
	    {".hidden", 7200, 0, 1},
	    {"junk", 0, 0, 1},
	    {"README", 7200, 0, 1},
	};
	int bad = 0;
	empty_idir();
	for (size_t i = 0; i < N_ELEMS(c); i++)
		touch_age(c[i].name, c[i].age);
	str names = STR_INIT;
	int n = incoming_list(root, &names);
	int want_n = 0;
	for (size_t i = 0; i < N_ELEMS(c); i++)
		want_n += c[i].listed > 0;
	if (n != want_n) {
		print_error("incoming_list: got %d names, want %d\n", n, want_n);
		bad++;
	}
	/* walk the NUL-separated names */
	const char *p = str_c(&names);
	for (int k = 1; k <= n && (size_t)(p - names.s) < names.len; k++) {
		const char *want = NULL;
		for (size_t i = 0; i < N_ELEMS(c); i++)
			if (c[i].listed == k)
				want = c[i].name;
		if (!want || strcmp(p, want) != 0) {
			print_error("incoming_list position %d: got \"%s\", want \"%s\"\n", k, p,
				    want ? want : "(nothing)");
			bad++;
		}
		p += strlen(p) + 1;
	}
	if ((size_t)(p - str_c(&names)) != names.len) {
		print_error("incoming_list: %zu bytes of names, %zu walked\n", names.len,
			    (size_t)(p - str_c(&names)));
		bad++;
	}
	char path[PATH_MAX];
	for (size_t i = 0; i < N_ELEMS(c); i++) {
		PATHF(path, "%s/%s", idir, c[i].name);
		int got = access(path, F_OK) == 0;
		if (got != c[i].survives) {
			print_error("incoming_list: %s %s, want it %s\n", c[i].name,
				    got ? "kept" : "removed", c[i].survives ? "kept" : "removed");
			bad++;
		}
	}
	/* items made by accept list in arrival order */
	empty_idir();
	str id = STR_INIT, ids = STR_INIT;
	for (int k = 0; k < 5; k++) {
		char mail[32];
		snprintf(mail, sizeof mail, "Subject: %d\n\n", k);
		WANT_ST("accept for list",
			accept_bytes(mail, strlen(mail), 0, IN_POST, NULL, 0, &id), ST_OK);
		str_append(&ids, id.s, id.len + 1);
		usleep(2000);
	}
	n = incoming_list(root, &names);
	if (n != 5 || names.len != ids.len || memcmp(names.s, ids.s, ids.len) != 0) {
		print_error("incoming_list after 5 accepts: got %d names, want the 5 ids in "
			    "arrival order\n",
			    n);
		bad++;
	}
	/* an empty directory lists nothing; a missing one is an error */
	empty_idir();
	n = incoming_list(root, &names);
	if (n != 0 || names.len != 0) {
		print_error("incoming_list empty: got %d, want 0\n", n);
		bad++;
	}
	char nodir[PATH_MAX];
	PATHF(nodir, "%s/no-such-list", root);
	n = incoming_list(nodir, &names);
	if (n != -1) {
		print_error("incoming_list missing dir: got %d, want -1\n", n);
		bad++;
	}
	str_free(&names);
	str_free(&id);
	str_free(&ids);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accept_format),     cmocka_unit_test(test_accept_limit),
	    cmocka_unit_test(test_accept_empty),      cmocka_unit_test(test_sender_round_trip),
	    cmocka_unit_test(test_sender_long),	      cmocka_unit_test(test_open_damaged),
	    cmocka_unit_test(test_open_strict_frame), cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
