/*
 * admin_cmd: `cairn admin <noun> <verb> [ARGS] [options]`, the command line
 * of the admin API (docs/ADMIN.md). Each command is one row of the table
 * below: the request it sends (admin_client.c signs and sends it) and how
 * its answer is shown.
 *
 * Design notes:
 *  1. Output: lines and tables for people by default; --json prints the
 *     API's own JSON document, unchanged, on stdout (on success and on an
 *     API error alike), for scripts.
 *  2. Exit status: 0 success, 1 an error of the API or of the transport
 *     (the message on stderr), 2 a usage error (nothing was sent).
 *  3. Endpoint and credentials: --endpoint, --access-key, --secret-key and
 *     --region, else $CAIRN_ENDPOINT (default http://127.0.0.1:9000),
 *     $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY, $AWS_REGION or
 *     $AWS_DEFAULT_REGION (default us-east-1), as the AWS tools read them.
 *     Options may come anywhere; "--" ends them (names may start with '-').
 *  4. Names are URI-encoded into the path; the gateway decodes and checks
 *     them, so a bad name is the API's 400, reported like any API error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "../common/util.h"
#include "gwint.h"

#define MAX_POS 8
#define EXIT_API 1
#define EXIT_USAGE 2

typedef struct cli {
    gw_admin_client c;
    int json, help;
    const char *pos[MAX_POS];
    int n_pos;
} cli;

/* A table column: a member of each row object; "b" shows a boolean
 * "disabled" as a status, "a" an array joined by ", ". */
typedef struct column {
    const char *title, *member, kind;
} column;

typedef struct command {
    const char *noun, *verb, *args;
    int nargs;
    const char *method;
    const char *path; /* under ADMIN_PATH_PREFIX; each '*' takes the next argument */
    int body_name;    /* sends {"name": first argument} */
    /* How a success is shown: a line with {member}s filled in, or ... */
    const char *say;
    void (*show)(json_t *v); /* ... a function, or ... */
    const char *list;        /* ... the table of this array member */
    const column *cols;
    const char *help;
} command;

static void show_user(json_t *v);
static void show_group(json_t *v);
static void show_new_key(json_t *v);

static const column user_cols[] = {{"NAME", "name", 's'}, {"CREATED", "created", 's'}, {NULL, NULL, 0}};
static const column group_cols[] = {
    {"NAME", "name", 's'}, {"CREATED", "created", 's'}, {"MEMBERS", "members", 'a'}, {NULL, NULL, 0}};
static const column key_cols[] = {{"ACCESS KEY", "access_key", 's'},
                                  {"USER", "user", 's'},
                                  {"STATUS", "disabled", 'b'},
                                  {"CREATED", "created", 's'},
                                  {NULL, NULL, 0}};

static const command commands[] = {
    {"user", "create", "NAME", 1, "POST", "users", 1, "created user {name}", NULL, NULL, NULL, "create a user"},
    {"user", "list", "", 0, "GET", "users", 0, NULL, NULL, "users", user_cols, "list the users"},
    {"user", "show", "NAME", 1, "GET", "users/*", 0, NULL, show_user, NULL, NULL,
     "a user with its groups, access keys and buckets"},
    {"user", "delete", "NAME", 1, "DELETE", "users/*", 0, "deleted user {user} with its access keys and memberships",
     NULL, NULL, NULL, "delete a user who owns no bucket"},
    {"group", "create", "NAME", 1, "POST", "groups", 1, "created group {name}", NULL, NULL, NULL, "create a group"},
    {"group", "list", "", 0, "GET", "groups", 0, NULL, NULL, "groups", group_cols, "list the groups and members"},
    {"group", "show", "NAME", 1, "GET", "groups/*", 0, NULL, show_group, NULL, NULL, "a group and its members"},
    {"group", "delete", "NAME", 1, "DELETE", "groups/*", 0, "deleted group {group}", NULL, NULL, NULL,
     "delete a group (not its members)"},
    {"group", "add-member", "GROUP USER", 2, "PUT", "groups/*/members/*", 0, "added user {user} to group {group}", NULL,
     NULL, NULL, "add a user to a group"},
    {"group", "remove-member", "GROUP USER", 2, "DELETE", "groups/*/members/*", 0,
     "removed user {user} from group {group}", NULL, NULL, NULL, "remove a user from a group"},
    {"key", "create", "USER", 1, "POST", "users/*/keys", 0, NULL, show_new_key, NULL, NULL,
     "a new access key of a user (the secret is shown once)"},
    {"key", "list", "USER", 1, "GET", "users/*/keys", 0, NULL, NULL, "keys", key_cols,
     "the access keys of a user (never their secrets)"},
    {"key", "show", "ACCESS_KEY", 1, "GET", "keys/*", 0, NULL, NULL, NULL, key_cols, "one access key"},
    {"key", "disable", "ACCESS_KEY", 1, "POST", "keys/*/disable", 0, "disabled access key {access_key} of user {user}",
     NULL, NULL, NULL, "refuse a key from the next request on"},
    {"key", "enable", "ACCESS_KEY", 1, "POST", "keys/*/enable", 0, "enabled access key {access_key} of user {user}",
     NULL, NULL, NULL, "accept a disabled key again"},
    {"key", "delete", "ACCESS_KEY", 1, "DELETE", "keys/*", 0, "deleted access key {access_key} of user {user}", NULL,
     NULL, NULL, "delete a key for good"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: cairn admin <noun> <verb> [ARGS] [--json] [--endpoint URL] [--access-key AK]\n"
                 "                   [--secret-key SK] [--region REGION]\n\n"
                 "Manages users, groups and access keys through the gateway's admin API (as root\n"
                 "or a member of the group admins).\n\ncommands:\n");
    for (size_t i = 0; i < CN_ARRAY_SIZE(commands); i++) {
        char head[64];
        snprintf(head, sizeof(head), "%s %s %s", commands[i].noun, commands[i].verb, commands[i].args);
        fprintf(out, "  %-34s %s\n", head, commands[i].help);
    }
    fprintf(out, "\noptions:\n"
                 "  --json             print the API's JSON instead of lines and tables\n"
                 "  --endpoint URL     default $CAIRN_ENDPOINT, else http://127.0.0.1:9000\n"
                 "  --access-key AK    default $AWS_ACCESS_KEY_ID\n"
                 "  --secret-key SK    default $AWS_SECRET_ACCESS_KEY\n"
                 "  --region REGION    default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1\n\n"
                 "Exit status: 0 success, 1 the API or the connection failed, 2 usage error.\n");
}

/* ---- showing answers ---- */

static const char *str(json_t *v, const char *member)
{
    const char *s = json_string_value(json_object_get(v, member));

    return s != NULL ? s : "";
}

/* Prints an array of strings joined by ", " ("-" when empty). */
static void print_joined(FILE *out, json_t *a)
{
    size_t i = 0;
    json_t *e = NULL;

    if (json_array_size(a) == 0)
        fputs("-", out);
    json_array_foreach(a, i, e)
    {
        fprintf(out, "%s%s", i > 0 ? ", " : "", json_string_value(e));
    }
}

/* The text of one table cell (arrays are printed, not measured: last column). */
static const char *cell(json_t *row, const column *c)
{
    if (c->kind == 'b')
        return json_is_true(json_object_get(row, c->member)) ? "disabled" : "enabled";
    return str(row, c->member);
}

/* The width of each column: its widest cell or title. */
static void measure(json_t *rows, const column *cols, size_t width[])
{
    size_t i = 0;
    json_t *row = NULL;

    for (size_t k = 0; cols[k].title != NULL; k++)
        width[k] = strlen(cols[k].title);
    json_array_foreach(rows, i, row)
    {
        for (size_t k = 0; cols[k].title != NULL; k++)
            if (strlen(cell(row, &cols[k])) > width[k])
                width[k] = strlen(cell(row, &cols[k]));
    }
}

static void print_table(json_t *rows, const column *cols)
{
    size_t width[8] = {0}, i = 0, k = 0;
    json_t *row = NULL;

    measure(rows, cols, width);
    for (k = 0; cols[k].title != NULL; k++)
        printf("%-*s%s", cols[k + 1].title != NULL ? (int)width[k] : 0, cols[k].title,
               cols[k + 1].title != NULL ? "  " : "\n");
    json_array_foreach(rows, i, row)
    {
        for (k = 0; cols[k].title != NULL; k++) {
            if (cols[k].kind == 'a')
                print_joined(stdout, json_object_get(row, cols[k].member));
            else
                printf("%-*s", cols[k + 1].title != NULL ? (int)width[k] : 0, cell(row, &cols[k]));
            fputs(cols[k + 1].title != NULL ? "  " : "\n", stdout);
        }
    }
}

static void show_user(json_t *v)
{
    json_t *keys = json_object_get(v, "keys");

    printf("user:     %s\ncreated:  %s\ngroups:   ", str(v, "name"), str(v, "created"));
    print_joined(stdout, json_object_get(v, "groups"));
    printf("\nbuckets:  ");
    print_joined(stdout, json_object_get(v, "buckets"));
    printf("\nkeys:%s\n", json_array_size(keys) == 0 ? "     -" : "");
    if (json_array_size(keys) > 0)
        print_table(keys, key_cols);
}

static void show_group(json_t *v)
{
    printf("group:    %s\ncreated:  %s\nmembers:  ", str(v, "name"), str(v, "created"));
    print_joined(stdout, json_object_get(v, "members"));
    putchar('\n');
}

static void show_new_key(json_t *v)
{
    printf("access key: %s\nsecret key: %s\nuser:       %s\n", str(v, "access_key"), str(v, "secret_key"),
           str(v, "user"));
    fprintf(stderr, "cairn admin: the secret key is shown only now; keep it safe\n");
}

/* A "say" line: each {member} replaced by that string member of v. */
static void say(const char *tmpl, json_t *v)
{
    char member[64];

    for (const char *p = tmpl; *p != '\0'; p++) {
        const char *end = *p == '{' ? strchr(p, '}') : NULL;
        if (end == NULL || (size_t)(end - p - 1) >= sizeof(member)) {
            putchar(*p);
            continue;
        }
        memcpy(member, p + 1, (size_t)(end - p - 1));
        member[end - p - 1] = '\0';
        fputs(str(v, member), stdout);
        p = end;
    }
    putchar('\n');
}

static void show(const command *cmd, json_t *v)
{
    if (cmd->say != NULL)
        say(cmd->say, v);
    else if (cmd->show != NULL)
        cmd->show(v);
    else if (cmd->list != NULL)
        print_table(json_object_get(v, cmd->list), cmd->cols);
    else {
        json_t *one = json_array();
        json_array_append(one, v);
        print_table(one, cmd->cols);
        json_decref(one);
    }
}

/* ---- the command line ---- */

static int take_option(cli *cl, const char *opt, const char *val)
{
    static const char *const names[] = {"--endpoint", "--access-key", "--secret-key", "--region"};
    const char **dst[] = {&cl->c.endpoint, &cl->c.access_key, &cl->c.secret_key, &cl->c.region};

    for (size_t i = 0; i < CN_ARRAY_SIZE(names); i++)
        if (strcmp(opt, names[i]) == 0) {
            *dst[i] = val;
            return 0;
        }
    return -1;
}

static int parse_args(cli *cl, int argc, char **argv)
{
    int options = 1;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        char opt[32];
        if (!options || a[0] != '-' || a[1] == '\0') {
            if (cl->n_pos == MAX_POS)
                return -1;
            cl->pos[cl->n_pos++] = a;
        } else if (strcmp(a, "--") == 0) {
            options = 0;
        } else if (strcmp(a, "--json") == 0) {
            cl->json = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cl->help = 1;
        } else if (eq != NULL && (size_t)(eq - a) < sizeof(opt)) {
            snprintf(opt, sizeof(opt), "%.*s", (int)(eq - a), a);
            if (take_option(cl, opt, eq + 1) != 0)
                return -1;
        } else if (i + 1 >= argc || take_option(cl, a, argv[i + 1]) != 0) {
            return -1;
        } else {
            i++;
        }
    }
    return 0;
}

static const command *find_command(const cli *cl)
{
    for (size_t i = 0; cl->n_pos >= 2 && i < CN_ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].noun, cl->pos[0]) == 0 && strcmp(commands[i].verb, cl->pos[1]) == 0)
            return &commands[i];
    return NULL;
}

/* ADMIN_PATH_PREFIX + cmd->path with each '*' the next argument, encoded (note 4). */
static int build_path(const command *cmd, const cli *cl, char *out, size_t cap)
{
    size_t used = (size_t)snprintf(out, cap, "%s", ADMIN_PATH_PREFIX);
    int arg = 2;

    for (const char *p = cmd->path; *p != '\0' && used < cap; p++) {
        char enc[3 * 256 + 1];
        size_t n = *p == '*' ? strlen(cl->pos[arg]) : 0;
        if (*p != '*') {
            out[used++] = *p;
            continue;
        }
        if (n > 256)
            return -1;
        cn_uri_encode(enc, cl->pos[arg++], n, 0);
        used += (size_t)snprintf(out + used, cap - used, "%s", enc);
    }
    if (used >= cap)
        return -1;
    out[used] = '\0';
    return 0;
}

/* {"name": first argument}, malloc'd. */
static char *name_body(const cli *cl)
{
    json_t *v = json_pack("{s:s}", "name", cl->pos[2]);
    char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;

    json_decref(v);
    return text;
}

static int report(const cli *cl, const command *cmd, const gw_admin_reply *r)
{
    const char *code = str(r->json, "error"), *msg = str(r->json, "message");

    if (cl->json && r->raw_len > 0)
        fputs(r->raw, stdout);
    if (r->status >= 200 && r->status < 300) {
        if (!cl->json)
            show(cmd, r->json);
        return 0;
    }
    if (r->json != NULL && code[0] != '\0')
        fprintf(stderr, "cairn admin: %s (%s, HTTP %ld)\n", msg[0] ? msg : code, code, r->status);
    else
        fprintf(stderr, "cairn admin: HTTP %ld from %s (not the admin API?)\n", r->status, cl->c.endpoint);
    return EXIT_API;
}

static int run(cli *cl, const command *cmd)
{
    char path[2048], err[512];
    char *body = cmd->body_name ? name_body(cl) : NULL;
    gw_admin_reply r;
    int rc = 0;

    if (build_path(cmd, cl, path, sizeof(path)) != 0 || (cmd->body_name && body == NULL)) {
        fprintf(stderr, "cairn admin: an argument is too long\n");
        free(body);
        return EXIT_USAGE;
    }
    if (gw_admin_call(&cl->c, cmd->method, path, body, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "cairn admin: %s\n", err);
        free(body);
        return EXIT_API;
    }
    rc = report(cl, cmd, &r);
    gw_admin_reply_dispose(&r);
    free(body);
    return rc;
}

int gw_admin_main(int argc, char **argv)
{
    cli cl;
    const command *cmd = NULL;
    int rc = 0;

    memset(&cl, 0, sizeof(cl));
    if (parse_args(&cl, argc, argv) != 0 || cl.help || cl.n_pos == 0) {
        usage(cl.help ? stdout : stderr);
        return cl.help ? 0 : EXIT_USAGE;
    }
    cmd = find_command(&cl);
    if (cmd == NULL) {
        fprintf(stderr, "cairn admin: unknown command '%s%s%s'\n", cl.pos[0], cl.n_pos > 1 ? " " : "",
                cl.n_pos > 1 ? cl.pos[1] : "");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (cl.n_pos - 2 != cmd->nargs) {
        fprintf(stderr, "usage: cairn admin %s %s %s\n", cmd->noun, cmd->verb, cmd->args);
        return EXIT_USAGE;
    }
    gw_admin_client_defaults(&cl.c);
    if (cl.c.access_key == NULL || cl.c.secret_key == NULL || !cl.c.access_key[0] || !cl.c.secret_key[0]) {
        fprintf(stderr, "cairn admin: no credentials: give --access-key and --secret-key, or set "
                        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n");
        return EXIT_USAGE;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = run(&cl, cmd);
    curl_global_cleanup();
    return rc;
}
