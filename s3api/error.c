/*
 * error: the S3 error document.
 *
 * Every failure leaves s3api through here, so that status, code and message
 * come from the one table in common/err.c (cn_err_info) and never drift apart.
 * HEAD and 304 answers carry no body, as S3 sends none; everything else gets
 * <Error> with Code, Message, optional extra element AWS names (BucketName,
 * Key, UploadId...), Resource and RequestId. Whatever the response held
 * before (headers, a stream) is dropped first.
 */
#include <string.h>

#include "s3int.h"

static void error_body(cn_response *res, const cn_request *req, const cn_err_info_t *info, const char *message,
                       const char *extra_name, const char *extra_value)
{
    cn_buf *b = &res->body;
    const char *path = req != NULL && req->path != NULL ? req->path : "/";
    const char *rid = req != NULL ? req->request_id : "";
    int err = 0;

    err |= cn_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
    err |= cn_buf_puts(b, info->code);
    err |= cn_buf_puts(b, "</Code><Message>");
    err |= s3__xml_text(b, message, strlen(message));
    err |= cn_buf_puts(b, "</Message>");
    if (extra_name != NULL && extra_value != NULL)
        err |= cn_buf_printf(b, "<%s>", extra_name) | s3__xml_text(b, extra_value, strlen(extra_value)) |
               cn_buf_printf(b, "</%s>", extra_name);
    err |= cn_buf_puts(b, "<Resource>");
    err |= s3__xml_text(b, path, strlen(path));
    err |= cn_buf_puts(b, "</Resource><RequestId>");
    err |= s3__xml_text(b, rid, strnlen(rid, sizeof(req->request_id)));
    err |= cn_buf_puts(b, "</RequestId></Error>");
    if (err != 0) {
        /* A hostile key made the document too long: drop the extras. */
        cn_buf_reset(b);
        cn_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code></Error>", info->code);
    }
    cn_res_add_header(res, "content-type", "application/xml");
}

void s3__error_doc(cn_response *res, const cn_request *req, int err, const char *message, const char *extra_name,
                   const char *extra_value)
{
    const cn_err_info_t *info = cn_err_info(err);
    int bodyless = (req != NULL && req->method != NULL && strcmp(req->method, "HEAD") == 0) ||
                   err == -CN_ENOT_MODIFIED || err == CN_ENOT_MODIFIED;

    const char *op_name = res->op_name;
    uint64_t bytes_in = res->bytes_in;
    char deny_reason[sizeof(res->deny_reason)];

    /* Headers a handler added before failing (an override, an ETag) do not
     * belong on the error; the response starts over. */
    memcpy(deny_reason, res->deny_reason, sizeof(deny_reason)); /* for the access log */
    cn_res_dispose(res);                                        /* closes a stream a handler may have opened */
    cn_res_init(res);
    res->op_name = op_name;
    res->bytes_in = bytes_in;
    memcpy(res->deny_reason, deny_reason, sizeof(deny_reason));
    res->status = info->status;
    cn_buf_dispose(&res->body);
    cn_buf_init(&res->body, S3_MAX_XML_BODY);
    if (bodyless) {
        res->no_body = 1;
        res->content_length = 0;
        return;
    }
    res->no_body = 0;
    error_body(res, req, info, message != NULL ? message : info->message, extra_name, extra_value);
}

void s3_error(cn_response *res, const cn_request *req, int err, const char *message)
{
    s3__error_doc(res, req, err, message, NULL, NULL);
}
