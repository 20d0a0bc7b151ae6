/*
 * body: the request payload as s3api hands it on.
 *
 *   request body --auth_body_stream--> decoded payload (chunk signatures,
 *   SHA-256, aws-chunked framing, trailers) --s3__ck_stream--> verified
 *   x-amz-checksum-*, stop on client abort --> obj_put / obj_mpu_put_part,
 *   or read whole for XML.
 *
 * On CompleteMultipartUpload the x-amz-checksum-* headers describe the
 * object being assembled, not the XML body, so they are not verified here.
 *
 * Content-MD5 is decoded here (bad base64 is InvalidDigest) but verified by
 * the object layer, which hashes MD5 anyway for the ETag; for the small XML
 * bodies s3api reads itself it is verified here. The streams are owned by
 * s3_body and closed by s3__body_close(), never by the object layer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "../common/util.h"
#include "s3int.h"

static int content_md5(s3_op *op, s3_body *b)
{
    const char *v = s3__hdr(op, "content-md5");

    if (v == NULL)
        return 0;
    if (cn_unbase64(b->md5, sizeof(b->md5), v, strlen(v)) != 16)
        return -CN_EINVALID_DIGEST;
    b->has_md5 = 1;
    return 0;
}

/* Control headers that share the x-amz-checksum- prefix without being one. */
static int is_checksum_value(const char *name)
{
    return strncmp(name, "x-amz-checksum-", 15) == 0 && strcmp(name, "x-amz-checksum-algorithm") != 0 &&
           strcmp(name, "x-amz-checksum-type") != 0 && strcmp(name, "x-amz-checksum-mode") != 0;
}

/* At most one x-amz-checksum-<algo> header, with a well-formed value. */
static int checksum_header(s3_op *op, s3_body *b)
{
    const cn_request *req = op->req;
    size_t i;

    if (op->rt != NULL && op->rt->op == S3_OP_COMPLETE_MULTIPART_UPLOAD)
        return 0;
    for (i = 0; i < req->n_headers; i++) {
        const cn_header *h = &req->headers[i];
        s3_ck_algo a;
        uint8_t tmp[64];
        if (!is_checksum_value(h->name))
            continue;
        a = s3__ck_from_name(h->name + 15);
        if (a == S3_CK_NONE)
            return s3__fail(op, -CN_EINVALID_REQUEST, "The algorithm type you specified in %s header is invalid.",
                            h->name);
        if (b->algo != S3_CK_NONE)
            return s3__fail(op, -CN_EINVALID_REQUEST,
                            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
        if (h->value_len >= sizeof(b->value))
            return s3__fail(op, -CN_EINVALID_REQUEST, "Value for %s header is invalid.", h->name);
        memcpy(b->value, h->value, h->value_len);
        b->value[h->value_len] = '\0';
        if (s3__ck_decode(a, b->value, tmp) < 0)
            return s3__fail(op, -CN_EINVALID_REQUEST, "Value for %s header is invalid.", h->name);
        b->algo = a;
    }
    return 0;
}

/* x-amz-trailer naming a checksum: the value arrives after the payload. */
static int checksum_trailer(s3_op *op, s3_body *b, const char **name)
{
    const char *t = s3__hdr(op, "x-amz-trailer");
    s3_ck_algo a;

    *name = NULL;
    if (t == NULL)
        return 0;
    while (*t == ' ')
        t++;
    if (strncasecmp(t, "x-amz-checksum-", 15) != 0)
        return 0;
    a = s3__ck_from_name(t + 15);
    if (a == S3_CK_NONE)
        return s3__fail(op, -CN_EINVALID_REQUEST, "The value specified in the x-amz-trailer header is not supported");
    if (b->algo != S3_CK_NONE)
        return s3__fail(op, -CN_EINVALID_REQUEST,
                        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
    b->algo = a;
    b->from_trailer = 1;
    *name = t;
    return 0;
}

int s3__body_open(s3_op *op, s3_body *b)
{
    static const uint8_t empty[1];
    const char *trailer = NULL;
    char lname[40];
    size_t i;
    int err;

    memset(b, 0, sizeof(*b));
    b->aborted = op->req->aborted;
    b->length = auth_payload_length(op->ar, op->req->body_len);
    err = content_md5(op, b);
    if (err == 0)
        err = checksum_header(op, b);
    if (err == 0)
        err = checksum_trailer(op, b, &trailer);
    if (err < 0)
        return err;
    if (b->algo != S3_CK_NONE)
        snprintf(b->attr_name, sizeof(b->attr_name), "x-amz-checksum-%s", s3__ck_name(b->algo));
    b->auth = auth_body_stream(op->ar, op->req->body != NULL ? op->req->body : empty, op->req->body_len);
    if (b->auth == NULL)
        return -CN_ENOMEM;
    if (trailer != NULL) {
        for (i = 0; trailer[i] != '\0' && i + 1 < sizeof(lname); i++)
            lname[i] = (char)((trailer[i] >= 'A' && trailer[i] <= 'Z') ? trailer[i] + 32 : trailer[i]);
        lname[i] = '\0';
        while (i > 0 && lname[i - 1] == ' ')
            lname[--i] = '\0';
    }
    b->stream = s3__ck_stream(b->auth, b, trailer != NULL ? lname : NULL, auth_body_trailer);
    if (b->stream == NULL) {
        b->auth->close(b->auth);
        b->auth = NULL;
        return -CN_ENOMEM;
    }
    return 0;
}

void s3__body_close(s3_body *b)
{
    /* The verifier closes the auth stream beneath it. */
    if (b->stream != NULL)
        b->stream->close(b->stream);
    b->stream = NULL;
    b->auth = NULL;
}

int s3__body_error(s3_op *op, const s3_body *b, int err)
{
    if (err == -CN_EBAD_DIGEST && b->mismatch)
        return s3__fail(op, err, "The %s you specified did not match the calculated checksum.", s3__ck_upper(b->algo));
    return err;
}

static int verify_md5(const s3_body *b, const cn_buf *data)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!b->has_md5)
        return 0;
    if (EVP_Digest(data->data, data->len, md, &len, EVP_md5(), NULL) != 1)
        return -CN_EINTERNAL;
    return memcmp(md, b->md5, 16) == 0 ? 0 : -CN_EBAD_DIGEST;
}

int s3__body_read_all(s3_op *op, size_t cap, cn_buf *out)
{
    s3_body b;
    char chunk[16384];
    long r = 0;
    int err;

    err = s3__body_open(op, &b);
    if (err < 0)
        return err;
    if (b.length > cap) {
        err = -CN_EMALFORMED_XML; /* S3 answers an oversized XML body this way too */
        goto out;
    }
    for (;;) {
        r = b.stream->read(b.stream, chunk, sizeof(chunk));
        if (r <= 0)
            break;
        err = cn_buf_append(out, chunk, (size_t)r);
        if (err < 0) {
            err = err == -CN_ETOOLARGE ? -CN_EMALFORMED_XML : err;
            goto out;
        }
    }
    err = r < 0 ? s3__body_error(op, &b, (int)r) : verify_md5(&b, out);
out:
    s3__body_close(&b);
    return err;
}
