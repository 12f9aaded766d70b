/*
 * Unit tests for lib/cmd/confirm.c: confirmation IDs and their store
 * DIR/var/db/confirm.  Issue then redeem, a second use, expiry (an ID issued
 * with an old `now`), a forged ID (one hex digit changed), another sender, a
 * malformed ID, the daily rate limit (CONFIRMATION_LIMIT, 3 by default), a
 * chaddr pair, a missing etc/secret (made, 0600) and the rewrite of a store
 * past 64 KiB (live records kept, old ones dropped).  The configuration is
 * config_new()'s defaults: CONFIRMATION_EXPIRE 7 days.  A failing case prints
 * "got X, want Y".
 */
#include "unit.h"

#include "cmd/confirm.h"
#include "list/config.h"
#include "util/msg.h"
#include "util/safefile.h"
#include "util/str.h"
#include "util/fs.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX]; /* the list directory */
static char store[PATH_MAX];
static char secret[PATH_MAX];
static config *cf;

#define T0 1700000000L
#define DAY 86400L

static int setup(void **state)
{
	if (unit_tmphome(root, sizeof root, "confirm") < 0)
		return -1;
	PATHF(store, "%s/var/db/confirm", root);
	PATHF(secret, "%s/etc/secret", root);
	msg_set_stderr(0);
	cf = config_new();
	return 0;
}

static int teardown(void **state)
{
	config_free(cf);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void fresh(void)
{
	if (unlink(store) != 0 && errno != ENOENT)
		fail_msg("unlink %s: %s", store, strerror(errno));
	if (safefile_replace(secret, "00112233445566778899aabbccddeeff\n", 33, 0) != ST_OK)
		fail_msg("cannot write %s", secret);
}

static int want_st(const char *what, fml_status got, fml_status want, const str *why)
{
	if (got != want) {
		print_error("%s: got %s (%s), want %s\n", what, status_name(got), str_c(why),
			    status_name(want));
		return 1;
	}
	return 0;
}

static int want_str(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		print_error("%s: got \"%s\", want \"%s\"\n", what, got, want);
		return 1;
	}
	return 0;
}

/* Issue one ID into ID (must succeed). */
static void issue(time_t now, const char *action, const char *addr, const char *arg, str *id)
{
	str why = STR_INIT;
	fml_status st = confirm_issue(root, cf, now, action, addr, arg, id, &why);
	if (st != ST_OK)
		fail_msg("issue %s %s: got %s (%s), want ST_OK", action, addr, status_name(st),
			 str_c(&why));
	if (!confirm_id_shape(id->s, id->len))
		fail_msg("issue: ID \"%s\" is not 32 hex digits", id->s);
	str_free(&why);
}

/* Redeem and check the status and the reason (WANT_WHY NULL: ST_OK). */
static int redeem(const char *what, time_t now, const char *id, const char *sender,
		  const char *want_why, confirm_req *req)
{
	str why = STR_INIT;
	int bad = 0;
	fml_status st = confirm_redeem(root, cf, now, id, sender, req, &why);
	bad += want_st(what, st, want_why ? ST_DATAERR : ST_OK, &why);
	if (want_why)
		bad += want_str(what, str_c(&why), want_why);
	str_free(&why);
	return bad;
}

static void test_issue_redeem(void **state)
{
	str id = STR_INIT;
	confirm_req req;
	int bad = 0;
	fresh();
	confirm_req_init(&req);
	issue(T0, "subscribe", "alice@example.org", "Alice Liddell", &id);
	char want_time[9];
	snprintf(want_time, sizeof want_time, "%08lx", (unsigned long)T0);
	if (strncmp(id.s, want_time, 8) != 0)
		bad += want_str("ID time part", id.s, want_time);
	bad += redeem("redeem", T0 + 60, id.s, "alice@EXAMPLE.org", NULL, &req);
	bad += want_str("action", str_c(&req.action), "subscribe");
	bad += want_str("addr", str_c(&req.addr), "alice@example.org");
	bad += want_str("arg (escaped and back)", str_c(&req.arg), "Alice Liddell");
	if (req.issued != T0) {
		print_error("issued: got %ld, want %ld\n", (long)req.issued, T0);
		bad++;
	}
	/* an upper-case ID is the same ID */
	for (size_t i = 0; i < id.len; i++)
		if (id.s[i] >= 'a' && id.s[i] <= 'f')
			id.s[i] = (char)(id.s[i] - 'a' + 'A');
	bad += redeem("reuse (upper case)", T0 + 120, id.s, "alice@example.org",
		      "confirmation ID already used", &req);
	/* a store line holds the escaped name */
	str text = STR_INIT;
	assert_int_equal(fs_read(store, &text, 0), ST_OK);
	if (!strstr(str_c(&text), " subscribe alice@example.org Alice%20Liddell\n") ||
	    !strstr(str_c(&text), " used ")) {
		print_error("store: got \"%s\", want an issue line with Alice%%20Liddell and a "
			    "used line\n",
			    str_c(&text));
		bad++;
	}
	str_free(&text);
	str_free(&id);
	confirm_req_free(&req);
	assert_int_equal(bad, 0);
}

static void test_refusals(void **state)
{
	str id = STR_INIT, id2 = STR_INIT;
	confirm_req req;
	int bad = 0;
	fresh();
	confirm_req_init(&req);
	issue(T0, "unsubscribe", "bob@example.org", NULL, &id);
	issue(T0 - 8 * DAY, "subscribe", "carol@example.org", "", &id2);

	char forged[CONFIRM_ID_LEN + 1];
	memcpy(forged, id.s, sizeof forged);
	forged[20] = forged[20] == '0' ? '1' : '0';
	char forged_time[CONFIRM_ID_LEN + 1];
	memcpy(forged_time, id.s, sizeof forged_time);
	forged_time[7] = forged_time[7] == '0' ? '1' : '0';
	static const char *const malformed[] = {"",
						"abc",
						"0123456789abcdef0123456789abcde",
						"0123456789abcdef0123456789abcdefa",
						"0123456789abcdef0123456789abcdeg",
						"0123456789abcdef 123456789abcdef"};

	for (size_t i = 0; i < N_ELEMS(malformed); i++)
		bad += redeem(malformed[i], T0, malformed[i], "bob@example.org",
			      "malformed confirmation ID", &req);
	bad += redeem("forged MAC digit", T0 + 1, forged, "bob@example.org",
		      "unknown confirmation ID", &req);
	bad += redeem("forged time digit", T0 + 1, forged_time, "bob@example.org",
		      "unknown confirmation ID", &req);
	bad += redeem("never issued", T0 + 1, "6553f10000000000000000000000000a", "bob@example.org",
		      "unknown confirmation ID", &req);
	bad += redeem("other address", T0 + 1, id.s, "mallory@example.org",
		      "confirmation ID was sent to another address", &req);
	bad += redeem("expired", T0, id2.s, "carol@example.org", "confirmation ID expired", &req);
	bad += redeem("just expired", T0 + 7 * DAY + 1, id.s, "bob@example.org",
		      "confirmation ID expired", &req);
	/* none of the refusals used it up */
	bad += redeem("after refusals", T0 + 7 * DAY, id.s, "bob@example.org", NULL, &req);
	bad += want_str("unsubscribe arg", str_c(&req.arg), "");
	/* a different key: every MAC fails */
	assert_int_equal(safefile_replace(secret, "ffff\n", 5, 0), ST_OK);
	issue(T0, "subscribe", "dave@example.org", NULL, &id);
	assert_int_equal(safefile_replace(secret, "eeee\n", 5, 0), ST_OK);
	bad +=
	    redeem("other key", T0 + 1, id.s, "dave@example.org", "unknown confirmation ID", &req);
	str_free(&id);
	str_free(&id2);
	confirm_req_free(&req);
	assert_int_equal(bad, 0);
}

static void test_rate_limit(void **state)
{
	str id = STR_INIT, why = STR_INIT;
	int bad = 0;
	fresh();
	long limit = (long)config_int(cf, CF_CONFIRMATION_LIMIT);
	assert_true(limit > 0);
	/* one a day before: outside the 24 hours */
	issue(T0 - DAY, "subscribe", "eve@example.org", NULL, &id);
	for (long i = 0; i < limit; i++)
		issue(T0 + i, "subscribe", i % 2 ? "eve@EXAMPLE.org" : "eve@example.org", NULL,
		      &id);
	fml_status st =
	    confirm_issue(root, cf, T0 + 100, "subscribe", "eve@example.org", NULL, &id, &why);
	bad += want_st("over the limit", st, ST_DATAERR, &why);
	bad += want_str("over the limit why", str_c(&why),
			"too many confirmation requests for eve@example.org today");
	/* others are not affected, and the next day eve may ask again */
	issue(T0 + 100, "subscribe", "frank@example.org", NULL, &id);
	issue(T0 + DAY + 1, "subscribe", "eve@example.org", NULL, &id);
	str_free(&id);
	str_free(&why);
	assert_int_equal(bad, 0);
}

static void test_chaddr_pair(void **state)
{
	str old_id = STR_INIT, new_id = STR_INIT, other = STR_INIT;
	confirm_req req;
	int bad = 0;
	fresh();
	confirm_req_init(&req);
	issue(T0, "chaddr", "old@example.org", "new@example.org", &old_id);
	issue(T0, "chaddr-new", "new@example.org", "old@example.org", &new_id);
	/* another pair at the same second for the same new address */
	issue(T0, "chaddr", "x@example.org", "new@example.org", &other);
	if (strcmp(old_id.s, new_id.s) == 0)
		bad += want_str("pair IDs differ", old_id.s, "(another ID)");
	bad += redeem("first of pair", T0 + 10, new_id.s, "new@example.org", NULL, &req);
	if (req.pair_done) {
		print_error("first of pair: pair_done got 1, want 0\n");
		bad++;
	}
	bad += want_str("first of pair arg", str_c(&req.arg), "old@example.org");
	bad += redeem("second of pair", T0 + 20, old_id.s, "old@example.org", NULL, &req);
	if (!req.pair_done) {
		print_error("second of pair: pair_done got 0, want 1\n");
		bad++;
	}
	bad += want_str("second of pair action", str_c(&req.action), "chaddr");
	bad += want_str("second of pair arg", str_c(&req.arg), "new@example.org");
	bad += redeem("unrelated pair", T0 + 30, other.s, "x@example.org", NULL, &req);
	if (req.pair_done) {
		print_error("unrelated pair: pair_done got 1, want 0\n");
		bad++;
	}
	str_free(&old_id);
	str_free(&new_id);
	str_free(&other);
	confirm_req_free(&req);
	assert_int_equal(bad, 0);
}

static void test_secret_missing(void **state)
{
	str id = STR_INIT, key = STR_INIT;
	confirm_req req;
	struct stat st;
	int bad = 0;
	fresh();
	confirm_req_init(&req);
	assert_int_equal(unlink(secret), 0);
	issue(T0, "subscribe", "gina@example.org", NULL, &id);
	assert_int_equal(stat(secret, &st), 0);
	if ((st.st_mode & 07777) != 0600) {
		print_error("etc/secret mode: got %o, want 600\n", (unsigned)(st.st_mode & 07777));
		bad++;
	}
	assert_int_equal(fs_read(secret, &key, 0), ST_OK);
	if (key.len != 65 || key.s[64] != '\n' || !confirm_id_shape(key.s, 32) ||
	    !confirm_id_shape(key.s + 32, 32)) {
		print_error("etc/secret: got \"%s\", want 64 hex digits and a newline\n", key.s);
		bad++;
	}
	bad += redeem("with the new secret", T0 + 1, id.s, "gina@example.org", NULL, &req);
	str_free(&id);
	str_free(&key);
	confirm_req_free(&req);
	assert_int_equal(bad, 0);
}

static void test_compaction(void **state)
{
	str id = STR_INIT, live = STR_INIT, used = STR_INIT, text = STR_INIT;
	confirm_req req;
	struct stat st;
	int bad = 0;
	fresh();
	confirm_req_init(&req);
	/* old records from many addresses (the rate limit is per address) */
	char addr[64];
	long n = 0;
	for (;; n++) {
		snprintf(addr, sizeof addr, "old%ld@example.org", n);
		issue(T0 - 30 * DAY + n, "subscribe", addr, "a name", &id);
		assert_int_equal(stat(store, &st), 0);
		if (st.st_size > 60000)
			break;
	}
	issue(T0 - DAY, "subscribe", "live@example.org", NULL, &live);
	issue(T0 - DAY, "subscribe", "used@example.org", NULL, &used);
	bad +=
	    redeem("used before the rewrite", T0 - DAY + 5, used.s, "used@example.org", NULL, &req);
	/* past 64 KiB: the next record rewrites the store */
	for (long i = 0; i < 200; i++) {
		snprintf(addr, sizeof addr, "new%ld@example.org", i);
		issue(T0, "subscribe", addr, NULL, &id);
		assert_int_equal(stat(store, &st), 0);
		if (st.st_size < 60000)
			break;
	}
	if (st.st_size >= 60000) {
		print_error("store size: got %ld, want a rewrite below 64 KiB\n", (long)st.st_size);
		bad++;
	}
	assert_int_equal(fs_read(store, &text, 0), ST_OK);
	if (strstr(str_c(&text), "old0@example.org")) {
		print_error("rewrite: old records kept, want them dropped\n");
		bad++;
	}
	bad += redeem("live after the rewrite", T0 + 1, live.s, "live@example.org", NULL, &req);
	bad += redeem("used after the rewrite", T0 + 1, used.s, "used@example.org",
		      "confirmation ID already used", &req);
	bad += redeem("last issued", T0 + 1, id.s, addr, NULL, &req);
	str_free(&id);
	str_free(&live);
	str_free(&used);
	str_free(&text);
	confirm_req_free(&req);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_issue_redeem),   cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_rate_limit),	   cmocka_unit_test(test_chaddr_pair),
	    cmocka_unit_test(test_secret_missing), cmocka_unit_test(test_compaction),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
