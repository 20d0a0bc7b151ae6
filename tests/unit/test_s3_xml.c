/*
 * test_s3_xml: s3api/xml_in.c (request bodies) and xml_out.c (the writer),
 * with the bodies kept as files under tests/vectors/xml/.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../s3api/s3int.h"

#define VEC_DIR "tests/vectors/xml/"

static char *load(const char *name, size_t *n)
{
    char path[256];
    FILE *f;
    char *buf;
    long len;

    snprintf(path, sizeof(path), VEC_DIR "%s", name);
    f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s (run from the repository root)", path);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)len + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = '\0';
    fclose(f);
    *n = (size_t)len;
    return buf;
}

static int complete_file(const char *name, s3_part_list *l)
{
    size_t n;
    char *x = load(name, &n);
    int err = s3__xml_complete(x, n, l);

    free(x);
    return err;
}

static int delete_file(const char *name, s3_del_list *l)
{
    size_t n;
    char *x = load(name, &n);
    int err = s3__xml_delete(x, n, l);

    free(x);
    return err;
}

Test(xml_complete, basic)
{
    s3_part_list l;

    cr_assert_eq(complete_file("complete-basic.xml", &l), 0);
    cr_assert_eq(l.n, 3);
    cr_expect_eq(l.v[0].number, 1);
    cr_expect_str_eq(l.v[0].etag, "\"a54357aff0632cce46d942af68356b38\"");
    cr_expect_eq(l.v[1].number, 2);
    cr_expect_eq(l.v[2].number, 3);
    cr_expect_str_eq(l.v[2].etag, "\"acbd18db4cc2f85cedef654fccc4a4d8\"");
    s3__part_list_dispose(&l);
}

Test(xml_complete, no_namespace_and_max_part)
{
    s3_part_list l;

    cr_assert_eq(complete_file("complete-no-namespace.xml", &l), 0);
    cr_assert_eq(l.n, 1);
    cr_expect_eq(l.v[0].number, 10000);
    cr_expect_str_eq(l.v[0].etag, "abc");
    s3__part_list_dispose(&l);
}

Test(xml_complete, part_checksums)
{
    s3_part_list l;

    cr_assert_eq(complete_file("complete-basic.xml", &l), 0);
    cr_expect_str_eq(l.v[0].checksum.algo, "");
    cr_expect_str_eq(l.v[1].checksum.algo, "crc32");
    cr_expect_str_eq(l.v[1].checksum.value, "AAAAAA==");
    s3__part_list_dispose(&l);

    cr_assert_eq(complete_file("complete-checksums.xml", &l), 0);
    cr_assert_eq(l.n, 3);
    cr_expect_str_eq(l.v[0].checksum.algo, "sha256");
    cr_expect_str_eq(l.v[0].checksum.value, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", "whitespace trimmed");
    cr_expect_str_eq(l.v[1].checksum.algo, "crc64nvme");
    cr_expect_str_eq(l.v[1].checksum.value, "rosUhgp5mIg=");
    cr_expect_str_eq(l.v[2].checksum.algo, "", "an empty element is no checksum");
    s3__part_list_dispose(&l);

    /* a part has one checksum: two cannot both match it */
    cr_expect_eq(complete_file("complete-two-checksums.xml", &l), -CN_EINVALID_PART);
    cr_expect_null(l.v);
}

Test(xml_complete, malformed)
{
    static const char *const bad[] = {
        "complete-empty.xml",          "complete-part-zero.xml", "complete-part-too-big.xml", "complete-part-nan.xml",
        "complete-missing-number.xml", "complete-truncated.xml", "complete-wrong-root.xml",   "not-xml.txt",
    };
    s3_part_list l;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_expect_eq(complete_file(bad[i], &l), -CN_EMALFORMED_XML, "%s", bad[i]);
        cr_expect_null(l.v, "%s", bad[i]);
    }
    cr_expect_eq(s3__xml_complete("", 0, &l), -CN_EMALFORMED_XML);
    cr_expect_eq(s3__xml_complete(NULL, 0, &l), -CN_EMALFORMED_XML);
}

Test(xml_delete, basic)
{
    s3_del_list l;

    cr_assert_eq(delete_file("delete-basic.xml", &l), 0);
    cr_expect_eq(l.quiet, 1);
    cr_assert_eq(l.n, 2);
    cr_expect_str_eq(l.v[0].key, "photos/2006/January/sample.jpg");
    cr_expect_null(l.v[0].version_id);
    cr_expect_str_eq(l.v[1].key, "sample.jpg");
    cr_expect_str_eq(l.v[1].version_id, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");
    s3__del_list_dispose(&l);
}

Test(xml_delete, special_keys_are_kept_byte_for_byte)
{
    s3_del_list l;

    cr_assert_eq(delete_file("delete-special-keys.xml", &l), 0);
    cr_expect_eq(l.quiet, 0);
    cr_assert_eq(l.n, 7);
    cr_expect_str_eq(l.v[0].key, " leading and trailing spaces ");
    cr_expect_eq(l.v[0].key_len, strlen(" leading and trailing spaces "));
    cr_expect_str_eq(l.v[1].key, "a&b<c>d\"e'f");
    cr_expect_str_eq(l.v[2].key, "ünïcødé/日本語/emoji-😀");
    cr_expect_str_eq(l.v[3].key, "../../etc/passwd");
    cr_expect_str_eq(l.v[4].key, "dir//double/slash/");
    cr_expect_str_eq(l.v[5].key, "tab\tand\nnewline\rcr");
    cr_expect_str_eq(l.v[6].key, "cdata <raw> & stuff");
    s3__del_list_dispose(&l);
}

Test(xml_delete, malformed)
{
    static const char *const bad[] = {
        "delete-bad-quiet.xml", "delete-missing-key.xml",    "delete-empty.xml",
        "delete-xxe.xml",       "delete-billion-laughs.xml", "not-xml.txt",
    };
    s3_del_list l;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_eq(delete_file(bad[i], &l), -CN_EMALFORMED_XML, "%s", bad[i]);
}

Test(xml_delete, more_than_1000_objects)
{
    cn_buf b;
    s3_del_list l;
    int i;

    cn_buf_init(&b, 1 << 20);
    cn_buf_puts(&b, "<Delete>");
    for (i = 0; i < 1001; i++)
        cn_buf_printf(&b, "<Object><Key>k%d</Key></Object>", i);
    cn_buf_puts(&b, "</Delete>");
    cr_expect_eq(s3__xml_delete(b.data, b.len, &l), -CN_EMALFORMED_XML);
    /* exactly 1000 is fine */
    cn_buf_reset(&b);
    cn_buf_puts(&b, "<Delete>");
    for (i = 0; i < 1000; i++)
        cn_buf_printf(&b, "<Object><Key>k%d</Key></Object>", i);
    cn_buf_puts(&b, "</Delete>");
    cr_assert_eq(s3__xml_delete(b.data, b.len, &l), 0);
    cr_expect_eq(l.n, 1000);
    cr_expect_str_eq(l.v[999].key, "k999");
    s3__del_list_dispose(&l);
    cn_buf_dispose(&b);
}

Test(xml_tagging, basic_and_errors)
{
    obj_tags t;
    size_t n;
    char *x = load("tagging-basic.xml", &n);

    cr_assert_eq(s3__xml_tagging(x, n, &t), 0);
    free(x);
    cr_assert_eq(t.n, 2);
    cr_expect_str_eq(t.v[0].key, "project");
    cr_expect_str_eq(t.v[0].value, "cairn");
    cr_expect_str_eq(t.v[1].key, "empty");
    cr_expect_str_eq(t.v[1].value, "");
    s3__tags_dispose(&t);

    x = load("tagging-empty.xml", &n);
    cr_expect_eq(s3__xml_tagging(x, n, &t), 0);
    cr_expect_eq(t.n, 0);
    free(x);
    x = load("tagging-no-tagset.xml", &n);
    cr_expect_eq(s3__xml_tagging(x, n, &t), -CN_EMALFORMED_XML);
    free(x);
    x = load("tagging-no-value.xml", &n);
    cr_expect_eq(s3__xml_tagging(x, n, &t), -CN_EMALFORMED_XML);
    free(x);
}

Test(xml_location, constraint)
{
    char lc[64];
    size_t n;
    char *x = load("location-eu.xml", &n);

    cr_expect_eq(s3__xml_location(x, n, lc, sizeof(lc)), 0);
    cr_expect_str_eq(lc, "eu-west-1");
    free(x);
    x = load("location-none.xml", &n);
    cr_expect_eq(s3__xml_location(x, n, lc, sizeof(lc)), 0);
    cr_expect_str_eq(lc, "");
    free(x);
    cr_expect_eq(s3__xml_location("<Foo/>", 6, lc, sizeof(lc)), -CN_EMALFORMED_XML);
}

Test(xml_versioning, status_and_mfa)
{
    char status[16], mfa[16];
    size_t n;
    char *x = load("versioning-enabled.xml", &n);

    cr_expect_eq(s3__xml_versioning(x, n, status, mfa), 0);
    cr_expect_str_eq(status, "Enabled");
    cr_expect_str_eq(mfa, "Disabled");
    free(x);
    x = load("versioning-suspended.xml", &n);
    cr_expect_eq(s3__xml_versioning(x, n, status, mfa), 0);
    cr_expect_str_eq(status, "Suspended");
    cr_expect_str_eq(mfa, "");
    free(x);
    cr_expect_eq(s3__xml_versioning("<Foo/>", 6, status, mfa), -CN_EMALFORMED_XML);
    cr_expect_eq(s3__xml_versioning("<VersioningConfiguration><Status>", 33, status, mfa), -CN_EMALFORMED_XML);
    x = "<VersioningConfiguration><Status>EnabledEnabledEnabled</Status></VersioningConfiguration>";
    cr_expect_eq(s3__xml_versioning(x, strlen(x), status, mfa), -CN_EMALFORMED_XML, "too long for any status");
}

static int acl_file(const char *name, s3_grant_list *l)
{
    size_t n;
    char *x = load(name, &n);
    int err = s3__xml_acl(x, n, l);

    free(x);
    return err;
}

Test(xml_acl, grants_trimmed_as_aws_writes_them)
{
    s3_grant_list l = {0};

    cr_assert_eq(acl_file("acl-public-read.xml", &l), 0);
    cr_assert_eq(l.n, 2);
    cr_expect_str_eq(l.v[0].type, "CanonicalUser");
    cr_expect_str_eq(l.v[0].who, "alice");
    cr_expect_str_eq(l.v[0].permission, "FULL_CONTROL");
    cr_expect_str_eq(l.v[1].type, "Group");
    cr_expect_str_eq(l.v[1].who, "http://acs.amazonaws.com/groups/global/AllUsers");
    cr_expect_str_eq(l.v[1].permission, "READ");
    s3__grant_list_dispose(&l);
}

Test(xml_acl, type_implied_by_the_grantee_element)
{
    s3_grant_list l = {0};

    cr_assert_eq(acl_file("acl-implied-types.xml", &l), 0);
    cr_assert_eq(l.n, 3);
    cr_expect_str_eq(l.v[0].type, "CanonicalUser");
    cr_expect_str_eq(l.v[1].type, "AmazonCustomerByEmail");
    cr_expect_str_eq(l.v[1].who, "bob@example.com");
    cr_expect_str_eq(l.v[2].type, "Group");
    s3__grant_list_dispose(&l);
    cr_expect_eq(acl_file("acl-empty-list.xml", &l), 0);
    cr_expect_eq(l.n, 0);
}

Test(xml_acl, malformed)
{
    s3_grant_list l = {0};
    char big[600];

    cr_expect_eq(acl_file("acl-no-list.xml", &l), -CN_EMALFORMED_XML);
    cr_expect_eq(acl_file("acl-no-grantee.xml", &l), -CN_EMALFORMED_XML);
    cr_expect_eq(acl_file("not-xml.txt", &l), -CN_EMALFORMED_XML);
    cr_expect_eq(acl_file("delete-xxe.xml", &l), -CN_EMALFORMED_XML, "wrong root, and a DTD");
    snprintf(big, sizeof(big),
             "<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>%0400d</ID></Grantee>"
             "<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>",
             7);
    cr_expect_eq(s3__xml_acl(big, strlen(big), &l), -CN_EMALFORMED_XML, "an ID longer than any grantee");
    cr_expect_eq(l.n, 0);
    cr_expect_null(l.v);
}

Test(tags, header_form)
{
    obj_tags t;
    const char *why;

    cr_assert_eq(s3__tags_from_query("a=1&b%20c=x+y&empty=&novalue", &t, &why), 0);
    cr_assert_eq(t.n, 4);
    cr_expect_str_eq(t.v[1].key, "b c");
    cr_expect_str_eq(t.v[1].value, "x y");
    cr_expect_str_eq(t.v[2].value, "");
    cr_expect_str_eq(t.v[3].key, "novalue");
    s3__tags_dispose(&t);
    cr_expect_eq(s3__tags_from_query("", &t, &why), 0);
    cr_expect_eq(t.n, 0);
    cr_expect_eq(s3__tags_from_query("a=1&a=2", &t, &why), -CN_EINVALID_TAG);
    cr_expect_str_eq(why, "Cannot provide multiple Tags with the same key");
    cr_expect_eq(s3__tags_from_query("1=1&2=2&3=3&4=4&5=5&6=6&7=7&8=8&9=9&10=10&11=11", &t, &why), -CN_EINVALID_TAG);
    cr_expect_eq(s3__tags_from_query("a=%zz", &t, &why), -CN_EINVALID_TAG);
}

Test(tags, limits_count_characters_not_bytes)
{
    char key[129 * 3 + 1], val[257 * 2 + 1];
    obj_tag tag = {key, val};
    obj_tags t = {&tag, 1};
    const char *why = NULL;
    int i;

    /* 128 three-byte characters: fine; 129: too long. */
    for (i = 0; i < 128; i++)
        memcpy(key + 3 * i, "日", 3);
    key[128 * 3] = '\0';
    strcpy(val, "v");
    cr_expect_eq(s3__tags_validate(&t, 10, &why), 0);
    memcpy(key + 128 * 3, "日", 3);
    key[129 * 3] = '\0';
    cr_expect_eq(s3__tags_validate(&t, 10, &why), -CN_EINVALID_TAG);
    key[1] = '\0';
    key[0] = 'k';
    for (i = 0; i < 256; i++)
        memcpy(val + 2 * i, "é", 2);
    val[512] = '\0';
    cr_expect_eq(s3__tags_validate(&t, 10, &why), 0);
    memcpy(val + 512, "é", 2);
    val[514] = '\0';
    cr_expect_eq(s3__tags_validate(&t, 10, &why), -CN_EINVALID_TAG);
    key[0] = '\0';
    val[0] = '\0';
    cr_expect_eq(s3__tags_validate(&t, 10, &why), -CN_EINVALID_TAG);
}

Test(xml_out, writer_escapes_and_namespace)
{
    cn_buf b;
    s3_xw w;

    cn_buf_init(&b, 4096);
    s3__xw_begin(&w, &b, "ListBucketResult");
    s3__xw_elem(&w, "Key", "a<b>&\"c'\x01\r");
    s3__xw_elem_enc(&w, "Prefix", "dir/with space+plus&", 1);
    s3__xw_elem_time(&w, "LastModified", 1138985109123LL);
    s3__xw_elem_bool(&w, "IsTruncated", 0);
    s3__xw_close(&w, "ListBucketResult");
    cr_assert_eq(w.err, 0);
    cr_expect_str_eq(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                             "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                             "<Key>a&lt;b&gt;&amp;&quot;c&apos;&#x1;&#xD;</Key>"
                             "<Prefix>dir/with%20space%2Bplus%26</Prefix>"
                             "<LastModified>2006-02-03T16:45:09.123Z</LastModified>"
                             "<IsTruncated>false</IsTruncated></ListBucketResult>");
    cn_buf_dispose(&b);
}

Test(xml_out, cap_is_reported_once)
{
    cn_buf b;
    s3_xw w;
    int i;

    cn_buf_init(&b, 128);
    s3__xw_begin(&w, &b, "R");
    for (i = 0; i < 100; i++)
        s3__xw_elem(&w, "Key", "0123456789");
    cr_expect_eq(w.err, -CN_ETOOLARGE);
    cn_buf_dispose(&b);
}
