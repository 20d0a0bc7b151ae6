/*
 * share_cmd: `cairn share`, capabilities from the command line, over the
 * admin API's shares/ resource (admin/shares.c) with gw_admin_call().
 *
 *   cairn share create s3://BUCKET[/PREFIX | /KEY (--history | --version-id V)] --perms read,list
 *                      [--expires-in SECONDS | --expires TIME] [--not-before TIME] [--not-after TIME]
 *                      [--source CIDR] [--json]
 *   cairn share list [--json]          the tree of grants the caller made
 *   cairn share revoke ID [--json]     the capability and everything derived from it
 *
 * Signed with the caller's key: a user's to grant on its buckets, a
 * capability's to derive a narrower one or revoke below itself. Endpoint
 * and credentials as for cairn admin (--endpoint, --access-key,
 * --secret-key, --region or $CAIRN_ENDPOINT, $AWS_ACCESS_KEY_ID, ...).
 * Exit status 0, 1 when the API refused, 2 for a usage error.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwint.h"

#define SHARES_PATH "/_cairn/admin/shares"

typedef struct opts {
    gw_admin_client c;
    const char *verb, *target, *id;
    const char *perms, *version_id, *expires, *expires_in, *not_before, *not_after, *source;
    int history, json;
} opts;

static void usage(FILE *out)
{
    fprintf(out, "usage: cairn share create s3://BUCKET[/PREFIX] --perms read,list,write,delete\n"
                 "       cairn share create s3://BUCKET/KEY (--history | --version-id ID) --perms read\n"
                 "                          [--expires-in SECONDS | --expires TIME] [--not-before TIME]\n"
                 "                          [--not-after TIME] [--source CIDR] [--json]\n"
                 "       cairn share list [--json]\n"
                 "       cairn share revoke ID [--json]\n\n"
                 "TIME is ISO 8601 UTC (2026-12-01T00:00:00Z) or epoch seconds. The request is\n"
                 "signed with --access-key/--secret-key (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY):\n"
                 "a bucket owner's key grants on its buckets; a capability's key derives a narrower\n"
                 "capability. --endpoint (or CAIRN_ENDPOINT, default http://127.0.0.1:9000).\n");
}

static int take(opts *o, const char *name, const char *val)
{
    const struct {
        const char *name;
        const char **dst;
    } t[] = {
        {"--endpoint", &o->c.endpoint},
        {"--access-key", &o->c.access_key},
        {"--secret-key", &o->c.secret_key},
        {"--region", &o->c.region},
        {"--perms", &o->perms},
        {"--version-id", &o->version_id},
        {"--expires", &o->expires},
        {"--expires-in", &o->expires_in},
        {"--not-before", &o->not_before},
        {"--not-after", &o->not_after},
        {"--source", &o->source},
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(name, t[i].name) == 0) {
            *t[i].dst = val;
            return 0;
        }
    return -1;
}

static int parse(opts *o, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0)
            o->json = 1;
        else if (strcmp(a, "--history") == 0)
            o->history = 1;
        else if (a[0] == '-' && i + 1 < argc && take(o, a, argv[i + 1]) == 0)
            i++;
        else if (a[0] == '-')
            return -1;
        else if (o->verb == NULL)
            o->verb = a;
        else if (o->target == NULL)
            o->target = a;
        else
            return -1;
    }
    return o->verb == NULL ? -1 : 0;
}

/* A time argument: digits are epoch seconds, anything else is sent as text. */
static json_t *time_value(const char *s)
{
    return strspn(s, "0123456789") == strlen(s) ? json_integer(strtoll(s, NULL, 10)) : json_string(s);
}

static int set_opt(json_t *b, const char *name, const char *v, int is_time)
{
    if (v == NULL)
        return 0;
    return json_object_set_new(b, name, is_time ? time_value(v) : json_string(v));
}

/* "s3://bucket/prefix" and the options, as the create body. */
static char *create_body(const opts *o)
{
    const char *p = o->target != NULL && strncmp(o->target, "s3://", 5) == 0 ? o->target + 5 : NULL;
    const char *slash = p != NULL ? strchr(p, '/') : NULL;
    json_t *b = json_object(), *perms = json_array();
    char *text = NULL, *save = NULL, *list = o->perms != NULL ? strdup(o->perms) : NULL;
    int rc = p == NULL || list == NULL || b == NULL || perms == NULL;

    if (rc == 0)
        rc = json_object_set_new(b, "bucket", json_stringn(p, slash != NULL ? (size_t)(slash - p) : strlen(p)));
    /* with --history or --version-id the path is a key, else a prefix */
    if (rc == 0 && slash != NULL && slash[1] != '\0')
        rc = json_object_set_new(b, o->history || o->version_id != NULL ? "key" : "prefix", json_string(slash + 1));
    for (char *t = rc == 0 ? strtok_r(list, ",", &save) : NULL; t != NULL; t = strtok_r(NULL, ",", &save))
        json_array_append_new(perms, json_string(t));
    rc |= set_opt(b, "version_id", o->version_id, 0);
    rc |= set_opt(b, "expires", o->expires, 1) | set_opt(b, "not_before", o->not_before, 1);
    rc |= set_opt(b, "not_after", o->not_after, 1) | set_opt(b, "source", o->source, 0);
    if (o->expires_in != NULL)
        rc |= json_object_set_new(b, "expires_in", json_integer(strtoll(o->expires_in, NULL, 10)));
    if (o->history)
        rc |= json_object_set_new(b, "history", json_true());
    rc |= json_object_set(b, "permissions", perms);
    if (rc == 0)
        text = json_dumps(b, JSON_COMPACT);
    json_decref(perms);
    json_decref(b);
    free(list);
    return text;
}

static const char *str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v != NULL ? v : "";
}

static void print_share(json_t *s, int depth)
{
    json_t *p = NULL;
    size_t i = 0;

    printf("%*s%s  %s s3://%s/%s%s%s  [", depth * 2, "", str(s, "id"), str(s, "target"), str(s, "bucket"),
           str(s, "path"), str(s, "version_id")[0] ? " version " : "", str(s, "version_id"));
    json_array_foreach(json_object_get(s, "permissions"), i, p) printf("%s%s", i ? "," : "", json_string_value(p));
    printf("]  key %s", str(s, "access_key"));
    if (str(s, "expires")[0])
        printf("  expires %s", str(s, "expires"));
    if (str(s, "revoked")[0])
        printf("  REVOKED %s", str(s, "revoked"));
    printf("\n");
}

/* Each share under its parent, roots first. */
static void print_tree(json_t *all, const char *parent, int depth)
{
    json_t *s = NULL;
    size_t i = 0;

    json_array_foreach(all, i, s)
    {
        const char *p = str(s, "parent");
        int root = depth == 0 && (p[0] == '\0' || !json_object_get(s, "parent_listed"));
        if ((parent == NULL && root) || (parent != NULL && strcmp(p, parent) == 0)) {
            print_share(s, depth);
            print_tree(all, str(s, "id"), depth + 1);
        }
    }
}

/* Marks the shares whose parent is in the list, so that a capability's own
 * listing roots at itself. */
static void mark_parents(json_t *all)
{
    json_t *s = NULL, *t = NULL;
    size_t i = 0, j = 0;

    json_array_foreach(all, i, s) json_array_foreach(all, j, t) if (strcmp(str(s, "parent"), str(t, "id")) == 0)
        json_object_set_new(s, "parent_listed", json_true());
}

static void show(const opts *o, json_t *r)
{
    json_t *all = json_object_get(r, "shares");

    if (strcmp(o->verb, "create") == 0) {
        print_share(r, 0);
        printf("access key: %s\nsecret key: %s\n", str(r, "access_key"), str(r, "secret_key"));
    } else if (strcmp(o->verb, "list") == 0) {
        mark_parents(all);
        print_tree(all, NULL, 0);
    } else {
        printf("revoked %s (and every capability derived from it)\n", str(r, "id"));
    }
}

static int call(opts *o, const char *method, const char *path, const char *body)
{
    gw_admin_reply r;
    char err[512];
    int rc = 0;

    if (gw_admin_call(&o->c, method, path, body, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "cairn share: %s\n", err);
        return 1;
    }
    if (o->json && r.raw_len > 0)
        fputs(r.raw, stdout);
    if (r.status >= 200 && r.status < 300 && !o->json)
        show(o, r.json);
    if (r.status < 200 || r.status >= 300) {
        fprintf(stderr, "cairn share: %s (HTTP %ld)\n", str(r.json, "message")[0] ? str(r.json, "message") : r.raw,
                r.status);
        rc = 1;
    }
    gw_admin_reply_dispose(&r);
    return rc;
}

static int dispatch(opts *o)
{
    char path[256];
    char *body = NULL;
    int rc = 0;

    if (strcmp(o->verb, "list") == 0 && o->target == NULL)
        return call(o, "GET", SHARES_PATH, NULL);
    if (strcmp(o->verb, "revoke") == 0 && o->target != NULL && strlen(o->target) < 64 &&
        strspn(o->target, "0123456789abcdef") == strlen(o->target)) {
        snprintf(path, sizeof(path), SHARES_PATH "/%s", o->target);
        return call(o, "DELETE", path, NULL);
    }
    if (strcmp(o->verb, "create") != 0 || (body = create_body(o)) == NULL) {
        usage(stderr);
        return 2;
    }
    rc = call(o, "POST", SHARES_PATH, body);
    free(body);
    return rc;
}

int gw_share_main(int argc, char **argv)
{
    opts o;
    int rc = 0;

    memset(&o, 0, sizeof(o));
    if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (parse(&o, argc, argv) != 0) {
        usage(stderr);
        return 2;
    }
    gw_admin_client_defaults(&o.c);
    if (o.c.access_key == NULL || o.c.secret_key == NULL) {
        fprintf(stderr, "cairn share: no credentials (--access-key/--secret-key or AWS_ACCESS_KEY_ID...)\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = dispatch(&o);
    curl_global_cleanup();
    return rc;
}
