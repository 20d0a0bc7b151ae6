/*
 * test_sigv2: auth/sigv2.c against the worked examples of the S3 developer
 * guide's "Signing and authenticating REST requests" (Signature Version 2,
 * bucket johnsmith, key AKIAIOSFODNN7EXAMPLE), then the failure modes.
 * Those examples address the bucket virtual-hosted style, so they go through
 * auth_authenticate_ex() with the bucket the gateway would have derived from
 * Host; the same requests path-style need no bucket.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_auth_helpers.h"

#define T_GET 1175024202 /* Tue, 27 Mar 2007 19:36:42 +0000 */

static int v2(const char *text, const char *vhost, time_t now, auth_result *ar)
{
    treq t;
    int rc;

    treq_from(&t, text);
    rc = auth_authenticate_ex(&t.r, now, lookup, NULL, vhost, ar);
    free(t.buf);
    return rc;
}

#define GET_OBJECT                                                                                                     \
    "GET /photos/puppy.jpg HTTP/1.1\nHost: johnsmith.s3.amazonaws.com\nDate: Tue, 27 Mar 2007 19:36:42 +0000\n"        \
    "Authorization: AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=\n\n"

Test(sigv2, aws_examples)
{
    auth_result ar;

    cr_expect_eq(v2(GET_OBJECT, "johnsmith", T_GET, &ar), 0);
    cr_expect_eq(ar.kind, AUTH_V2_HEADER);
    cr_expect_eq(ar.payload, AUTH_PAYLOAD_NONE);
    cr_expect_str_eq(ar.principal, "alice");
    cr_expect_str_eq(ar.access_key, "AKIAIOSFODNN7EXAMPLE");
    cr_expect_eq(v2("PUT /photos/puppy.jpg HTTP/1.1\nContent-Type: image/jpeg\nContent-Length: 94328\n"
                    "Host: johnsmith.s3.amazonaws.com\nDate: Tue, 27 Mar 2007 21:15:45 +0000\n"
                    "Authorization: AWS AKIAIOSFODNN7EXAMPLE:MyyxeRY7whkBe+bq8fHCL/2kKUg=\n\n",
                    "johnsmith", T_GET + 5943, &ar),
                 0);
    /* query parameters that are not sub-resources are not signed */
    cr_expect_eq(v2("GET /?prefix=photos&max-keys=50&marker=puppy HTTP/1.1\nUser-Agent: Mozilla/5.0\n"
                    "Host: johnsmith.s3.amazonaws.com\nDate: Tue, 27 Mar 2007 19:42:41 +0000\n"
                    "Authorization: AWS AKIAIOSFODNN7EXAMPLE:htDYFYduRNen8P9ZfE/s9SuKy0U=\n\n",
                    "johnsmith", T_GET + 359, &ar),
                 0);
    cr_expect_eq(v2("GET /?acl HTTP/1.1\nHost: johnsmith.s3.amazonaws.com\nDate: Tue, 27 Mar 2007 19:44:46 +0000\n"
                    "Authorization: AWS AKIAIOSFODNN7EXAMPLE:c2WLPFtWHVgbEmeEG93a4cG37dM=\n\n",
                    "johnsmith", T_GET + 484, &ar),
                 0);
    /* x-amz-* headers sorted, repeated ones joined, Content-MD5 signed */
    cr_expect_eq(v2("PUT /db-backup.dat.gz HTTP/1.1\nUser-Agent: curl/7.15.5\nHost: static.johnsmith.net:8080\n"
                    "Date: Tue, 27 Mar 2007 21:06:08 +0000\nx-amz-acl: public-read\n"
                    "content-type: application/x-download\nContent-MD5: 4gJE4saaMU4BqNR0kLY+lw==\n"
                    "X-Amz-Meta-ReviewedBy: joe@johnsmith.net\nX-Amz-Meta-ReviewedBy: jane@johnsmith.net\n"
                    "X-Amz-Meta-FileChecksum: 0x02661779\nX-Amz-Meta-ChecksumAlgorithm: crc32\n"
                    "Content-Disposition: attachment; filename=database.dat\nContent-Encoding: gzip\n"
                    "Content-Length: 5913339\n"
                    "Authorization: AWS AKIAIOSFODNN7EXAMPLE:ilyl83RwaSoYIEdixDQcA4OnAnc=\n\n",
                    "static.johnsmith.net", T_GET + 5366, &ar),
                 0);
}

Test(sigv2, path_style)
{
    auth_result ar;

    cr_expect_eq(v2("GET /johnsmith/photos/puppy.jpg HTTP/1.1\nHost: gw.local\n"
                    "Date: Tue, 27 Mar 2007 19:36:42 +0000\n"
                    "Authorization: AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=\n\n",
                    NULL, T_GET, &ar),
                 0);
    /* the same request virtual-hosted but presented without its bucket fails */
    cr_expect_eq(v2(GET_OBJECT, NULL, T_GET, &ar), -CN_ESIGNATURE);
}

Test(sigv2, x_amz_date_blanks_date)
{
    auth_result ar;

    cr_expect_eq(v2("GET /johnsmith/photos/puppy.jpg HTTP/1.1\nHost: gw\nDate: Thu, 01 Jan 2037 00:00:00 GMT\n"
                    "x-amz-date: Tue, 27 Mar 2007 19:36:42 +0000\n"
                    "Authorization: AWS AKIAIOSFODNN7EXAMPLE:+rB4ADkP0V1KOCpQK+wVbPqnJlo=\n\n",
                    NULL, T_GET, &ar),
                 0);
}

Test(sigv2, subresources)
{
    auth_result ar;

    /* sorted, values decoded, other parameters left out */
    cr_expect_eq(v2("PUT /johnsmith/big.bin?uploadId=a%20b%2Bc&foo=bar&partNumber=2 HTTP/1.1\nHost: gw\n"
                    "Date: Tue, 27 Mar 2007 19:36:42 +0000\n"
                    "Authorization: AWS AKIAIOSFODNN7EXAMPLE:CVwYu0dNdepwjdITqBgP+jV/UA8=\n\n",
                    NULL, T_GET, &ar),
                 0);
    cr_expect_eq(v2("GET /johnsmith/photos/puppy.jpg?versionId=3&response-content-disposition=attachment%3B%20"
                    "filename%3Dx.jpg HTTP/1.1\nHost: gw\nDate: Tue, 27 Mar 2007 19:36:42 +0000\n"
                    "Authorization: AWS AKIAIOSFODNN7EXAMPLE:0AFxOl+USf8IS0jApMUIIxDMZI0=\n\n",
                    NULL, T_GET, &ar),
                 0);
    /* a sub-resource added after signing breaks the signature */
    cr_expect_eq(v2("GET /photos/puppy.jpg?acl HTTP/1.1\nHost: johnsmith.s3.amazonaws.com\n"
                    "Date: Tue, 27 Mar 2007 19:36:42 +0000\n"
                    "Authorization: AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=\n\n",
                    "johnsmith", T_GET, &ar),
                 -CN_ESIGNATURE);
}

/* GET_OBJECT with one substring replaced. */
static int variant(const char *from, const char *to, time_t now)
{
    char text[2048];
    auth_result ar;

    substitute(text, sizeof(text), GET_OBJECT, from, to);
    return v2(text, "johnsmith", now, &ar);
}

Test(sigv2, failures)
{
    cr_expect_eq(variant("puppy", "kitty", T_GET), -CN_ESIGNATURE);
    cr_expect_eq(variant(":bWq2", ":bWq3", T_GET), -CN_ESIGNATURE);
    cr_expect_eq(variant("IXMU=", "IXMU", T_GET), -CN_ESIGNATURE);
    cr_expect_eq(variant("AKIAIOSFODNN7EXAMPLE", "AKIDUNKNOWN", T_GET), -CN_ENOKEY_ID);
    cr_expect_eq(variant("AKIAIOSFODNN7EXAMPLE:", "AKIAIOSFODNN7EXAMPLE", T_GET), -CN_EAUTHHDR);
    cr_expect_eq(variant("Date: Tue, 27 Mar 2007 19:36:42 +0000\n", "", T_GET), -CN_EACCESS);
    cr_expect_eq(variant("Tue, 27 Mar", "Someday, 27 Mar", T_GET), -CN_EACCESS);
    cr_expect_eq(variant("puppy", "puppy", T_GET + 15 * 60), 0);
    cr_expect_eq(variant("puppy", "puppy", T_GET + 15 * 60 + 1), -CN_ESKEW);
    cr_expect_eq(variant("puppy", "puppy", T_GET - 15 * 60 - 1), -CN_ESKEW);
}

#define QUERY_AUTH                                                                                                     \
    "GET /photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&"            \
    "Expires=1175139620 HTTP/1.1\nHost: johnsmith.s3.amazonaws.com\n\n"

Test(sigv2, query)
{
    auth_result ar;
    char text[1024];

    cr_expect_eq(v2(QUERY_AUTH, "johnsmith", 1175139620, &ar), 0);
    cr_expect_eq(ar.kind, AUTH_V2_QUERY);
    cr_expect_eq(ar.expires, 1175139620);
    cr_expect_eq(v2(QUERY_AUTH, "johnsmith", 1175139621, &ar), -CN_EEXPIRED);
    FMT(text, "%s", QUERY_AUTH);
    memcpy(strstr(text, "1175139620"), "1175139629", 10);
    cr_expect_eq(v2(text, "johnsmith", 1175139600, &ar), -CN_ESIGNATURE);
    cr_expect_eq(v2("GET /x?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=abc HTTP/1.1\nHost: h\n\n", NULL, 0, &ar),
                 -CN_EAUTHQUERY);
    cr_expect_eq(v2("GET /x?Signature=abc&Expires=99 HTTP/1.1\nHost: h\n\n", NULL, 0, &ar), -CN_EAUTHQUERY);
}
