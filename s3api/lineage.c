/*
 * lineage: GET /bucket/key?lineage, a cairn extension (docs/LINEAGE.md).
 * Answers the key's lineage records, newest first, as JSON: each record's
 * fields, its canonical form (base64), record hash and signature, and the
 * region public key, so that `cairn lineage verify` can check the document
 * offline without trusting this gateway.
 *
 * The canonical form is recomputed here from the stored fields, never
 * stored: a verifier recomputes it too, and a row altered in the store then
 * no longer matches its signed hash. Access is that of GetObject (handle.c).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "s3int.h"

static json_t *b64(const void *p, size_t n)
{
    char *s = malloc(4 * ((n + 2) / 3) + 1);
    json_t *j = NULL;

    if (s == NULL)
        return NULL;
    s[cn_base64(s, p, n)] = '\0';
    j = json_string(s);
    free(s);
    return j;
}

static json_t *extents_json(const obj_lineage_rec *r)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < r->n_ext; i++)
        if (json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "sha256", r->ext[i].sha256, "off",
                                               (json_int_t)r->ext[i].off, "len", (json_int_t)r->ext[i].len)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* The record's canonical form, base64. */
static json_t *canonical_json(const char *bucket, const obj_lineage_rec *r)
{
    cn_lin_record f;
    cn_buf b;
    json_t *j = NULL;

    cn_buf_init(&b, CN_LIN_CANON_MAX);
    obj_lineage_fields(bucket, r, &f);
    if (cn_lin_canonical(&f, &b) == 0)
        j = b64(b.data, b.len);
    cn_buf_dispose(&b);
    return j;
}

/* A version 2 record lists its sources; a version 1 record keeps its one
 * derived_from_hash, so documents of v1 records read exactly as before. */
static void sources_json(json_t *o, const obj_lineage_rec *r)
{
    json_t *a = NULL;

    if (r->n_sources == 0)
        return;
    a = json_array();
    for (size_t i = 0; a != NULL && i < r->n_sources; i++)
        json_array_append_new(a, json_string(r->sources[i]));
    json_object_del(o, "derived_from_hash");
    json_object_set_new(o, "derived_from_hashes", a);
}

static json_t *record_json(const char *bucket, const obj_lineage_rec *r)
{
    json_t *o = json_pack("{s:s, s:s%, s:s, s:s, s:s, s:I, s:s, s:I, s:b, s:s}", "bucket", bucket, "key", r->key,
                          r->key_len, "version_id", r->version_id, "parent_hash", r->parent_hash, "derived_from_hash",
                          r->derived_hash, "size", (json_int_t)r->size, "etag", r->etag, "created_ms",
                          (json_int_t)r->created_ms, "delete_marker", r->delete_marker, "region", r->region);

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "format", json_string(r->n_sources > 0 ? CN_LIN_FORMAT_V2 : CN_LIN_FORMAT));
    sources_json(o, r);
    json_object_set_new(o, "extents", extents_json(r));
    json_object_set_new(o, "canonical", canonical_json(bucket, r));
    /* null marks a version written before records were signed */
    json_object_set_new(o, "record_hash", r->record_hash[0] != '\0' ? json_string(r->record_hash) : json_null());
    json_object_set_new(o, "signature", r->sig_len != 0 ? b64(r->sig, r->sig_len) : json_null());
    return o;
}

static int send_json(s3_op *op, json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(1));
    int err = s != NULL ? cn_buf_puts(&op->res->body, s) : -CN_ENOMEM;

    free(s);
    if (err == 0)
        err = cn_res_add_header(op->res, "content-type", "application/json");
    if (err == 0)
        op->res->status = 200;
    return err;
}

int s3__get_lineage(s3_op *op)
{
    obj_lineage_rec *v = NULL;
    obj_region_key_info rk;
    json_t *doc = NULL, *recs = NULL;
    size_t n = 0;
    int truncated = 0;
    int err = obj_lineage_get(op->ctx->store, op->rt->bucket, op->rt->key, &v, &n, &truncated);

    if (err < 0)
        return err;
    obj_store_region_key(op->ctx->store, &rk);
    recs = json_array();
    doc = json_pack("{s:s, s:s, s:s%, s:s, s:b, s:o}", "format", CN_LIN_FORMAT, "bucket", op->rt->bucket, "key",
                    op->rt->key, op->rt->key_len, "region_public_key", rk.public_hex, "truncated", truncated, "records",
                    recs);
    for (size_t i = 0; doc != NULL && i < n; i++) {
        json_t *r = record_json(op->rt->bucket, &v[i]);
        if (r == NULL || json_array_append_new(recs, r) != 0) {
            err = -CN_ENOMEM;
            break;
        }
    }
    if (doc == NULL)
        err = -CN_ENOMEM;
    if (err == 0)
        err = send_json(op, doc);
    json_decref(doc);
    obj_lineage_free(v, n);
    return err;
}
