/*
 * lineage_cmd: `cairn lineage`, the offline side of lineage records
 * (docs/LINEAGE.md).
 *   cairn lineage pubkey --data DIR     prints the region public key
 *   cairn lineage verify FILE [--pubkey HEX]...   (one per region)
 * verify reads a document saved from GET /bucket/key?lineage, recomputes
 * every record's canonical form from its fields (never trusting the
 * document's own "canonical" or the store), and checks hashes, signatures
 * and parent links with common/lineage.c. It needs no gateway and no store.
 *
 * Without --pubkey the document's region_public_key is used, which proves
 * only that the document is consistent with itself; say so on stderr.
 *
 * A record with "derived_from_hashes" is encoded as format version 2, any
 * other as version 1: the format a record claims is not trusted either, so
 * dropping or editing the list changes the encoding and fails the hash.
 */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/lineage.h"
#include "../common/util.h"
#include "gwint.h"

/* One record decoded from the document; strings point into the JSON. */
typedef struct doc_rec {
    cn_lin_extent *ext;
    const char **sources;
    uint8_t sig[CN_LIN_SIG_LEN];
} doc_rec;

static void usage(FILE *out)
{
    fprintf(out, "usage: cairn lineage <pubkey|verify> [options]\n\n"
                 "  pubkey --data DIR              print the region public key (hex) of the store in DIR\n"
                 "                                 (or of $CAIRN_REGION_KEY when set)\n"
                 "  verify FILE [--pubkey HEX]... verify a document saved from GET /bucket/key?lineage\n"
                 "                                 against the public keys of the regions (one --pubkey each):\n"
                 "                                 prints OK, or the first bad record (version id and\n"
                 "                                 reason); exits 0 if the chain verifies, 1 if not.\n"
                 "                                 Without --pubkey the document's own key is used.\n");
}

static int has_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

static int cmd_pubkey(int argc, char **argv)
{
    char err[PATH_MAX + 160] = "", path[PATH_MAX];
    const char *dir = NULL, *text = getenv("CAIRN_REGION_KEY");
    cn_rkey *k = NULL;
    int rc = 0;

    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            dir = argv[++i];
    if (text == NULL && dir == NULL) {
        fprintf(stderr, "cairn lineage pubkey: --data DIR is required (or set CAIRN_REGION_KEY)\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/region.key", dir != NULL ? dir : ".");
    rc = text != NULL ? cn_rkey_from_text(&k, text, err, sizeof(err))
                      : cn_rkey_load_file(&k, path, 0, NULL, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "cairn lineage pubkey: %s\n", err);
        return 1;
    }
    printf("%s\n", cn_rkey_public_hex(k));
    cn_rkey_destroy(k);
    return 0;
}

static const char *jstr(json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s != NULL ? s : "";
}

static int decode_extents(json_t *a, doc_rec *d, cn_lin_record *r)
{
    size_t n = json_array_size(a);

    r->n_ext = n;
    d->ext = n > 0 ? calloc(n, sizeof(*d->ext)) : NULL;
    if (n > 0 && d->ext == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(a, i);
        snprintf(d->ext[i].sha256, sizeof(d->ext[i].sha256), "%s", jstr(e, "sha256"));
        d->ext[i].off = (uint64_t)json_integer_value(json_object_get(e, "off"));
        d->ext[i].len = (uint64_t)json_integer_value(json_object_get(e, "len"));
    }
    r->ext = d->ext;
    return 0;
}

/* A version 2 record's sources; absent: version 1. A list that is there
 * but empty or holds a non-string is malformed, not version 1. */
static int decode_sources(json_t *a, doc_rec *d, cn_lin_record *r)
{
    size_t n = json_array_size(a);

    if (a == NULL)
        return 0;
    if (!json_is_array(a) || n == 0)
        return -1;
    d->sources = calloc(n, sizeof(*d->sources));
    if (d->sources == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        d->sources[i] = json_string_value(json_array_get(a, i));
        if (d->sources[i] == NULL)
            return -1;
    }
    r->sources = d->sources;
    r->n_sources = n;
    return 0;
}

/* Fills e from one record object of the document. */
static int decode_record(json_t *o, doc_rec *d, cn_lin_entry *e)
{
    cn_lin_record *r = &e->rec;
    json_t *key = json_object_get(o, "key");
    const char *sig = json_string_value(json_object_get(o, "signature"));
    int n = 0;

    if (!json_is_object(o) || !json_is_string(key))
        return -1;
    r->bucket = jstr(o, "bucket");
    r->key = json_string_value(key);
    r->key_len = json_string_length(key);
    r->version_id = jstr(o, "version_id");
    r->parent_hash = jstr(o, "parent_hash");
    r->derived_hash = jstr(o, "derived_from_hash");
    r->size = (uint64_t)json_integer_value(json_object_get(o, "size"));
    r->etag = jstr(o, "etag");
    r->created_ms = (int64_t)json_integer_value(json_object_get(o, "created_ms"));
    r->delete_marker = json_is_true(json_object_get(o, "delete_marker"));
    r->region = jstr(o, "region");
    e->record_hash = json_string_value(json_object_get(o, "record_hash"));
    if (sig != NULL) {
        n = cn_unbase64(d->sig, sizeof(d->sig), sig, strlen(sig));
        e->sig = d->sig;
        e->sig_len = n > 0 ? (size_t)n : 0;
    }
    if (decode_sources(json_object_get(o, "derived_from_hashes"), d, r) != 0)
        return -1;
    return decode_extents(json_object_get(o, "extents"), d, r);
}

#define MAX_KEYS 16

/* The --pubkey values (one per region), else the document's own key. */
static int pubkeys_of(json_t *doc, const char *const *given, size_t n, uint8_t pubs[][CN_LIN_PUB_LEN], size_t *n_pubs)
{
    const char *own = jstr(doc, "region_public_key");

    *n_pubs = n > 0 ? n : 1;
    if (n == 0) {
        fprintf(stderr, "cairn lineage verify: no --pubkey: using the document's own key %s\n", own);
        return cn_unhex(pubs[0], CN_LIN_PUB_LEN, own, strlen(own)) == CN_LIN_PUB_LEN ? 0 : -1;
    }
    for (size_t i = 0; i < n; i++)
        if (cn_unhex(pubs[i], CN_LIN_PUB_LEN, given[i], strlen(given[i])) != CN_LIN_PUB_LEN)
            return -1;
    return 0;
}

static int verify_doc(json_t *doc, const uint8_t (*pubs)[CN_LIN_PUB_LEN], size_t n_pubs)
{
    json_t *recs = json_object_get(doc, "records");
    size_t n = json_array_size(recs), bad = 0;
    cn_lin_entry *e = calloc(n + 1, sizeof(*e));
    doc_rec *d = calloc(n + 1, sizeof(*d));
    const char *why = NULL;
    int rc = e != NULL && d != NULL && n > 0 ? 0 : -1;

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = decode_record(json_array_get(recs, i), &d[i], &e[i]);
    if (rc != 0) {
        fprintf(stderr, "cairn lineage verify: the document holds no well-formed records\n");
        rc = 1;
    } else if (cn_lin_verify_chain_keys(e, n, pubs, n_pubs, &bad, &why) != 0) {
        printf("BAD version %s (record %zu of %zu, newest first): %s\n", e[bad].rec.version_id, bad + 1, n, why);
        rc = 1;
    } else {
        printf("OK %zu records of %s/%s verified\n", n, jstr(doc, "bucket"), jstr(doc, "key"));
    }
    for (size_t i = 0; d != NULL && i < n; i++) {
        free(d[i].ext);
        free(d[i].sources);
    }
    free(d);
    free(e);
    return rc;
}

static int cmd_verify(int argc, char **argv)
{
    const char *file = NULL, *pubhex[MAX_KEYS];
    uint8_t pubs[MAX_KEYS][CN_LIN_PUB_LEN];
    size_t n_hex = 0, n_pubs = 0;
    json_error_t jerr;
    json_t *doc = NULL;
    int rc = 0;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--pubkey") == 0 && i + 1 < argc && n_hex < MAX_KEYS)
            pubhex[n_hex++] = argv[++i];
        else if (file == NULL && argv[i][0] != '-')
            file = argv[i];
        else {
            fprintf(stderr, "cairn lineage verify: unexpected argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (file == NULL) {
        fprintf(stderr, "cairn lineage verify: FILE is required (see --help)\n");
        return 2;
    }
    doc = json_load_file(file, 0, &jerr);
    if (doc == NULL) {
        fprintf(stderr, "cairn lineage verify: %s: %s (line %d)\n", file, jerr.text, jerr.line);
        return 1;
    }
    if (pubkeys_of(doc, pubhex, n_hex, pubs, &n_pubs) != 0) {
        fprintf(stderr, "cairn lineage verify: a public key is 64 hex digits\n");
        rc = 1;
    } else {
        rc = verify_doc(doc, (const uint8_t(*)[CN_LIN_PUB_LEN])pubs, n_pubs);
    }
    json_decref(doc);
    return rc;
}

int gw_lineage_main(int argc, char **argv)
{
    if (argc < 1 || (has_help(argc, argv) && argc == 1)) {
        usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (has_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[0], "pubkey") == 0)
        return cmd_pubkey(argc - 1, argv + 1);
    if (strcmp(argv[0], "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    fprintf(stderr, "cairn lineage: unknown subcommand '%s'\n", argv[0]);
    usage(stderr);
    return 2;
}
