/* sha256: the FIPS 180-4 example vectors (NIST CSRC "SHA256.pdf",
 * "SHA2_Additional.pdf"), whole and fed in every split and in odd-sized
 * chunks, and the hex text GChecksum gave for the same input. */
#include "unit.h"
#include "util/sha256.h"

#include <glib.h>

static const struct {
	const char *in;
	size_t repeat; /* IN this many times */
	const char *want;
} cases[] = {
    {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopq"
     "rlmnopqrsmnopqrstnopqrstu",
     1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};

static void hex_of(const char *in, size_t repeat, size_t chunk, char hex[SHA256_HEX])
{
	sha256 s;
	size_t len = strlen(in);
	sha256_init(&s);
	for (size_t r = 0; r < repeat; r++)
		for (size_t off = 0; off < len; off += chunk)
			sha256_update(&s, in + off, len - off < chunk ? len - off : chunk);
	sha256_hex(&s, hex);
}

static void test_vectors(void **state)
{
	int bad = 0;
	char hex[SHA256_HEX];
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		size_t chunks[] = {1, 3, 63, 64, 65, 1000};
		for (size_t c = 0; c < N_ELEMS(chunks); c++) {
			hex_of(cases[i].in, cases[i].repeat, chunks[c], hex);
			if (strcmp(hex, cases[i].want) != 0) {
				print_error("case %zu chunk %zu: got %s, want %s\n", i, chunks[c],
					    hex, cases[i].want);
				bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
}

/* A million 'a' as one update, and as 1000-byte updates. */
static void test_million_one_update(void **state)
{
	char *a = malloc(1000000), hex[SHA256_HEX];
	sha256 s;
	assert_non_null(a);
	memset(a, 'a', 1000000);
	sha256_init(&s);
	sha256_update(&s, a, 1000000);
	sha256_hex(&s, hex);
	assert_string_equal(hex, cases[4].want);
	free(a);
}

/* Every length from 0 to 300 (every padding case around the block ends),
 * every split point: the same text as GChecksum, which queue items and
 * incoming trailers were written with. */
static void test_as_gchecksum(void **state)
{
	unsigned char buf[300];
	char hex[SHA256_HEX];
	int bad = 0;
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 7 + 1);
	for (size_t len = 0; len <= sizeof buf; len++) {
		GChecksum *g = g_checksum_new(G_CHECKSUM_SHA256);
		g_checksum_update(g, buf, (gssize)len);
		for (size_t cut = 0; cut <= len; cut += 17) {
			sha256 s;
			sha256_init(&s);
			sha256_update(&s, buf, cut);
			sha256_update(&s, buf + cut, len - cut);
			sha256_hex(&s, hex);
			if (strcmp(hex, g_checksum_get_string(g)) != 0) {
				print_error("len %zu cut %zu: got %s, want %s\n", len, cut, hex,
					    g_checksum_get_string(g));
				bad++;
			}
		}
		g_checksum_free(g);
	}
	assert_int_equal(bad, 0);
}

/* RFC 4231 test cases 1, 2 and 6 (a key longer than the block) */
static void test_hmac(void **state)
{
	(void)state;
	unsigned char k1[20], k6[131], out[SHA256_BYTES];
	memset(k1, 0x0b, sizeof k1);
	memset(k6, 0xaa, sizeof k6);
	static const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	const struct {
		const void *key;
		size_t klen;
		const char *msg, *hex;
	} hc[] = {
	    {k1, sizeof k1, "Hi There",
	     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	    {"Jefe", 4, "what do ya want for nothing?",
	     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	    {k6, sizeof k6, d6, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	};
	for (size_t i = 0; i < N_ELEMS(hc); i++) {
		char hex[SHA256_HEX];
		sha256_hmac(hc[i].key, hc[i].klen, hc[i].msg, strlen(hc[i].msg), out);
		for (int j = 0; j < SHA256_BYTES; j++)
			snprintf(hex + 2 * j, 3, "%02x", out[j]);
		assert_string_equal(hex, hc[i].hex);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_million_one_update),
	    cmocka_unit_test(test_as_gchecksum),
	    cmocka_unit_test(test_hmac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
