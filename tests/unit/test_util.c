/* Unit tests for common/: buffers, encodings, time formats, query parsing, random tokens. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/http.h"
#include "../../common/util.h"

Test(util, base64_roundtrip_and_padding)
{
    static const char *cases[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}};
    char out[32];
    uint8_t back[32];

    for (size_t i = 0; i < CN_ARRAY_SIZE(cases); i++) {
        size_t n = strlen(cases[i][0]);
        cn_base64(out, (const uint8_t *)cases[i][0], n);
        cr_expect_str_eq(out, cases[i][1]);
        cr_expect_eq(cn_unbase64(back, sizeof(back), out, strlen(out)), (int)n);
        cr_expect_eq(memcmp(back, cases[i][0], n), 0);
    }
    cr_expect_eq(cn_unbase64(back, sizeof(back), "Zm9=Yg==", 8), -1, "padding inside is malformed");
    cr_expect_eq(cn_unbase64(back, sizeof(back), "Zm9", 3), -1, "length not a multiple of 4");
    cr_expect_eq(cn_unbase64(back, 2, "Zm9v", 4), -1, "output capacity respected");
}

Test(util, hex)
{
    uint8_t b[2];
    char s[8];

    cn_hex(s, (const uint8_t *)"\x01\xab", 2);
    cr_expect_str_eq(s, "01ab");
    cr_expect_eq(cn_unhex(b, sizeof(b), "01AB", 4), 2);
    cr_expect_eq(b[1], 0xab);
    cr_expect_eq(cn_unhex(b, sizeof(b), "0g", 2), -1);
}

Test(util, uri_decode_rejects_bad_escapes)
{
    char out[16];

    cr_expect_eq(cn_uri_decode(out, sizeof(out), "a%2Fb+c", 7, 0), 5);
    cr_expect_str_eq(out, "a/b+c");
    cr_expect_eq(cn_uri_decode(out, sizeof(out), "a+b", 3, 1), 3);
    cr_expect_str_eq(out, "a b");
    cr_expect_eq(cn_uri_decode(out, sizeof(out), "%4", 2, 0), -1);
    cr_expect_eq(cn_uri_decode(out, sizeof(out), "%zz", 3, 0), -1);
    cr_expect_eq(cn_uri_decode(out, 3, "abcd", 4, 0), -1, "capacity respected");
}

Test(util, uri_encode_aws_rules)
{
    char out[64];

    cn_uri_encode(out, "a b/c~d*", 8, 1);
    cr_expect_str_eq(out, "a%20b/c~d%2A");
    cn_uri_encode(out, "a/b", 3, 0);
    cr_expect_str_eq(out, "a%2Fb");
}

Test(util, time_formats)
{
    char s[32];
    time_t t = 0;

    cn_time_rfc1123(s, 1138985109);
    cr_expect_str_eq(s, "Fri, 03 Feb 2006 16:45:09 GMT");
    cn_time_iso8601(s, 1138985109);
    cr_expect_str_eq(s, "2006-02-03T16:45:09.000Z");
    cn_time_amz(s, 1138985109);
    cr_expect_str_eq(s, "20060203T164509Z");
    cr_expect_eq(cn_time_parse("Fri, 03 Feb 2006 16:45:09 GMT", 29, &t), 0);
    cr_expect_eq(t, 1138985109);
    cr_expect_eq(cn_time_parse("20060203T164509Z", 16, &t), 0);
    cr_expect_eq(t, 1138985109);
    cr_expect_eq(cn_time_parse("2006-02-03T16:45:09.123Z", 24, &t), 0);
    cr_expect_eq(t, 1138985109);
    cr_expect_eq(cn_time_parse("yesterday", 9, &t), -1);
}

/* Tokens (access keys, secrets) use only their alphabet, end in a NUL, and
 * every symbol turns up: with 36 symbols and 36,000 draws, each is expected
 * 1,000 times; 700 to 1,300 holds unless the generator is badly skewed. */
Test(util, random_token)
{
    const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char tok[1001], again[1001];
    int count[256] = {0};

    for (int round = 0; round < 36; round++) {
        memset(tok, '?', sizeof(tok));
        cr_assert_eq(cn_random_token(tok, 1000, abc), 0);
        cr_assert_eq(tok[1000], '\0');
        cr_assert_eq(strspn(tok, abc), 1000);
        for (int i = 0; i < 1000; i++)
            count[(unsigned char)tok[i]]++;
    }
    for (const char *p = abc; *p != '\0'; p++)
        cr_expect(count[(unsigned char)*p] > 700 && count[(unsigned char)*p] < 1300, "%c: %d", *p,
                  count[(unsigned char)*p]);
    cr_assert_eq(cn_random_token(again, 1000, abc), 0);
    cr_assert_str_neq(tok, again);
    cr_assert_eq(cn_random_token(tok, 0, abc), 0);
    cr_assert_str_eq(tok, "");
}

Test(buf, cap_is_enforced_and_failure_changes_nothing)
{
    cn_buf b;

    cn_buf_init(&b, 8);
    cr_expect_eq(cn_buf_puts(&b, "12345"), 0);
    cr_expect_eq(cn_buf_puts(&b, "6789"), -CN_ETOOLARGE);
    cr_expect_eq(b.len, 5);
    cr_expect_str_eq(b.data, "12345");
    cr_expect_eq(cn_buf_printf(&b, "%d", 678), 0);
    cr_expect_str_eq(b.data, "12345678");
    cn_buf_dispose(&b);
}

Test(buf, xml_escape)
{
    cn_buf b;

    cn_buf_init(&b, 1024);
    cn_buf_xml_escape(&b, "a<b>&\"c'\n", 9);
    cr_expect_str_eq(b.data, "a&lt;b&gt;&amp;&quot;c&apos;&#10;");
    cn_buf_dispose(&b);
}

Test(http, query_parsing)
{
    char v[32];

    cr_expect_eq(cn_query_get("uploads&prefix=a%2Fb&max-keys=5", "prefix", v, sizeof(v)), 3);
    cr_expect_str_eq(v, "a/b");
    cr_expect_eq(cn_query_get("uploads&prefix=a", "uploads", v, sizeof(v)), 0);
    cr_expect(cn_query_has("uploads&prefix=a", "uploads"));
    cr_expect(!cn_query_has("uploadsx=1", "uploads"));
    cr_expect_eq(cn_query_get("a=1", "b", v, sizeof(v)), -1);
    cr_expect_eq(cn_query_get("a=%zz", "a", v, sizeof(v)), -1);
}

Test(err, table_maps_codes)
{
    cr_expect_str_eq(cn_err_info(-CN_ENO_KEY)->code, "NoSuchKey");
    cr_expect_eq(cn_err_info(-CN_ENO_KEY)->status, 404);
    cr_expect_eq(cn_err_info(CN_EBUCKET_NOT_EMPTY)->status, 409);
    cr_expect_str_eq(cn_err_info(-9999)->code, "InternalError");
}

Test(buf, grow_doubles_and_keeps_contents)
{
    int *v = NULL;
    size_t cap = 0;

    for (size_t n = 0; n < 100; n++) {
        cr_assert_eq(cn_grow(&v, &cap, n, sizeof(*v), 4), 0);
        cr_assert(cap > n, "room for element %zu", n);
        v[n] = (int)n;
    }
    cr_expect_eq(cap, 128, "4, 8, ... 128: doubling from the first capacity");
    for (size_t n = 0; n < 100; n++)
        cr_expect_eq(v[n], (int)n);
    cr_expect_eq(cn_grow(&v, &cap, 5, sizeof(*v), 4), 0);
    cr_expect_eq(cap, 128, "no growth while there is room");
    free(v);
}
