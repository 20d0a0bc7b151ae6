/*
 * config: the configuration as a table of directives, in the manner of
 * nginx: each entry names a dotted key, a typed setter, the offset of its
 * field in gw_config and a description. The YAML loader walks nested
 * mappings, joins their keys with '.', and hands every scalar to the table;
 * an unknown or ill-typed key fails with file and line. The sample file
 * conf/cairn.yaml documents every key in this table.
 */
#include "gateway.h"

#include "../common/buf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef enum { T_STR, T_INT, T_SIZE } dtype;

typedef struct directive {
    const char *key;
    dtype type;
    size_t off;
    const char *help;
} directive;

#define F(field) offsetof(gw_config, field)

static const directive directives[] = {
    {"listen", T_STR, F(listen), "address:port to listen on"},
    {"data_dir", T_STR, F(data_dir), "directory for metadata (SQLite) and the default local provider"},
    {"master_key_file", T_STR, F(master_key_file),
     "master key file, 0600 (\"\": data_dir/master.key); $CAIRN_MASTER_KEY overrides"},
    {"region", T_STR, F(region), "region name reported to clients"},
    {"domain", T_STR, F(domain), "base domain for virtual-hosted-style requests (\"\" disables)"},
    {"threads", T_INT, F(threads), "event-loop threads (0: one per core)"},
    {"workers", T_INT, F(workers), "worker threads for blocking work (SQLite, disk, providers)"},
    {"http.max_body", T_SIZE, F(max_body), "largest request body accepted (k/M/G/T suffixes)"},
    {"http.request_timeout", T_INT, F(request_timeout), "seconds a request (headers and body) may take"},
    {"http.spill_threshold", T_SIZE, F(spill_threshold), "bodies larger than this are buffered on disk"},
    {"tls.certificate", T_STR, F(tls_cert), "PEM certificate chain; enables TLS and HTTP/2"},
    {"tls.key", T_STR, F(tls_key), "PEM private key"},
    {"log.file", T_STR, F(log_file), "log file (\"\" logs to stderr); reopened on SIGHUP"},
    {"log.access_file", T_STR, F(access_file),
     "access log, a JSON line per request (\"\": data_dir/access.log, \"off\": none); reopened on SIGHUP"},
    {"gc.interval", T_INT, F(gc_interval), "seconds between garbage-collection passes"},
    {"gc.grace", T_INT, F(gc_grace), "seconds an unreferenced blob stays readable"},
    {"storage.inline_max", T_SIZE, F(inline_max), "bodies up to this size live in the metadata store (0: never)"},
    {"storage.default_class", T_STR, F(default_class), "placement used when a request names no storage class"},
};

/* The sections whose keys are names chosen by the operator. */
static const char *const sections[] = {"providers", "placements"};

static char **str_field(gw_config *c, const directive *d)
{
    return (char **)((char *)c + d->off);
}

void gw_config_init(gw_config *c)
{
    memset(c, 0, sizeof(*c));
    c->listen = strdup("127.0.0.1:9000");
    c->data_dir = strdup("/var/lib/cairn");
    c->master_key_file = strdup("");
    c->region = strdup("us-east-1");
    c->domain = strdup("localhost");
    c->tls_cert = strdup("");
    c->tls_key = strdup("");
    c->log_file = strdup("");
    c->default_class = strdup("");
    c->access_file = strdup("");
    c->workers = 32;
    c->max_body = (5ull << 30) + (64ull << 20); /* 5 GiB plus aws-chunked framing */
    c->request_timeout = 900;
    c->spill_threshold = 4ull << 20;
    c->gc_interval = 30;
    c->gc_grace = 60;
    c->inline_max = 64u << 10;
}

void gw_config_dispose(gw_config *c)
{
    for (size_t i = 0; i < c->n_entries; i++) {
        free(c->entries[i].section);
        free(c->entries[i].name);
        free(c->entries[i].key);
        free(c->entries[i].value);
    }
    free(c->entries);
    c->entries = NULL;
    c->n_entries = 0;
    for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
        if (directives[i].type == T_STR) {
            free(*str_field(c, &directives[i]));
            *str_field(c, &directives[i]) = NULL;
        }
}

static int parse_size(const char *v, uint64_t *out)
{
    char *end;
    unsigned long long n;
    int shift = 0;

    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno != 0 || end == v || *v == '-')
        return -1;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    case 't':
    case 'T':
        shift = 40;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'i' || *end == 'B')
        end += *end == 'i' ? (end[1] == 'B' ? 2 : 1) : 1;
    if (*end != '\0' || (shift && n > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)n << shift;
    return 0;
}

static int parse_int(const char *v, int *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < 0 || n > 1000000000)
        return -1;
    *out = (int)n;
    return 0;
}

/* "<section>.<name>.<key>" of a section: appended as an entry (a key set
 * twice keeps both; the last wins when the section is read). 1 if key is
 * not in a section, 0 or -1 otherwise. */
static int set_entry(gw_config *c, const char *key, const char *value, char *err, size_t errcap)
{
    const char *name = NULL, *sub = NULL;
    size_t slen = 0, cap = c->n_entries;
    gw_entry *e = NULL;

    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]) && name == NULL; i++) {
        slen = strlen(sections[i]);
        if (strncmp(key, sections[i], slen) == 0 && key[slen] == '.')
            name = key + slen + 1;
    }
    if (name == NULL)
        return 1;
    sub = strchr(name, '.');
    if (sub == NULL || sub == name || sub[1] == '\0' || strchr(sub + 1, '.') != NULL) {
        snprintf(err, errcap, "'%s': expected %.*s.<name>.<key>", key, (int)slen, key);
        return -1;
    }
    if (cn_grow(&c->entries, &cap, c->n_entries, sizeof(*c->entries), 8) != 0)
        return -1;
    e = &c->entries[c->n_entries];
    e->section = strndup(key, slen);
    e->name = strndup(name, (size_t)(sub - name));
    e->key = strdup(sub + 1);
    e->value = strdup(value);
    c->n_entries++;
    return e->section && e->name && e->key && e->value ? 0 : -1;
}

int gw_config_set(gw_config *c, const char *key, const char *value, char *err, size_t errcap)
{
    int rc = set_entry(c, key, value, err, errcap);

    if (rc <= 0)
        return rc;
    for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++) {
        const directive *d = &directives[i];
        char *copy;
        if (strcmp(d->key, key) != 0)
            continue;
        switch (d->type) {
        case T_STR:
            if ((copy = strdup(value)) == NULL)
                break;
            free(*str_field(c, d));
            *str_field(c, d) = copy;
            return 0;
        case T_INT:
            if (parse_int(value, (int *)((char *)c + d->off)) == 0)
                return 0;
            break;
        case T_SIZE:
            if (parse_size(value, (uint64_t *)((char *)c + d->off)) == 0)
                return 0;
            break;
        }
        snprintf(err, errcap, "invalid value for %s: '%s'", key, value);
        return -1;
    }
    snprintf(err, errcap, "unknown key '%s'", key);
    return -1;
}

void gw_config_describe(FILE *out)
{
    for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
        fprintf(out, "  %-22s %s\n", directives[i].key, directives[i].help);
    fprintf(out, "  %-22s %s\n", "providers.<id>.<key>", "a provider: driver (posix, s3, azure) and its options");
    fprintf(out, "  %-22s %s\n", "placements.<class>.<key>",
            "a storage class: scheme (plain, rN, k+m), providers, segment_size, quorum");
}

/* Walks the document: mapping keys are pushed onto a dotted path; scalars
 * are set; a sequence of scalars is set as one comma-separated value (a
 * placement's providers). */
typedef struct walker {
    gw_config *c;
    const char *file;
    char path[256];
    char *err;
    size_t errcap;
} walker;

static int fail_at(walker *w, const yaml_event_t *ev, const char *msg)
{
    snprintf(w->err, w->errcap, "%s:%zu: %s", w->file, (size_t)ev->start_mark.line + 1, msg);
    return -1;
}

static int fail_syntax(walker *w, const yaml_parser_t *p)
{
    snprintf(w->err, w->errcap, "%s:%zu: %s", w->file, (size_t)p->problem_mark.line + 1,
             p->problem ? p->problem : "YAML syntax error");
    return -1;
}

static int walk_mapping(walker *w, yaml_parser_t *p);

/* Scalars up to the sequence's end, joined with ','. */
static int walk_sequence(walker *w, yaml_parser_t *p, const yaml_event_t *start)
{
    char joined[1024] = "", msg[600];
    size_t used = 0;

    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(p, &ev))
            return fail_syntax(w, p);
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type != YAML_SCALAR_EVENT || used + ev.data.scalar.length + 2 > sizeof(joined)) {
            snprintf(msg, sizeof(msg), "'%s': expected a short list of values", w->path);
            yaml_event_delete(&ev);
            return fail_at(w, start, msg);
        }
        used += (size_t)snprintf(joined + used, sizeof(joined) - used, "%s%s", used ? "," : "",
                                 (const char *)ev.data.scalar.value);
        yaml_event_delete(&ev);
    }
    if (gw_config_set(w->c, w->path, joined, msg, sizeof(msg)) != 0)
        return fail_at(w, start, msg);
    return 0;
}

static int walk_value(walker *w, yaml_parser_t *p, size_t keylen)
{
    yaml_event_t ev;
    int rc = 0;
    char msg[600];

    if (!yaml_parser_parse(p, &ev))
        return fail_syntax(w, p);
    if (ev.type == YAML_SCALAR_EVENT) {
        if (gw_config_set(w->c, w->path, (const char *)ev.data.scalar.value, msg, sizeof(msg)) != 0)
            rc = fail_at(w, &ev, msg);
    } else if (ev.type == YAML_MAPPING_START_EVENT) {
        rc = walk_mapping(w, p);
    } else if (ev.type == YAML_SEQUENCE_START_EVENT) {
        rc = walk_sequence(w, p, &ev);
    } else {
        snprintf(msg, sizeof(msg), "'%s': expected a value or a mapping", w->path);
        rc = fail_at(w, &ev, msg);
    }
    yaml_event_delete(&ev);
    w->path[keylen] = '\0';
    return rc;
}

static int walk_mapping(walker *w, yaml_parser_t *p)
{
    size_t base = strlen(w->path);

    for (;;) {
        yaml_event_t ev;
        int rc = 0;
        if (!yaml_parser_parse(p, &ev))
            return fail_syntax(w, p);
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            rc = fail_at(w, &ev, "expected a key");
        } else if (base + ev.data.scalar.length + 2 >= sizeof(w->path)) {
            rc = fail_at(w, &ev, "key too long");
        } else {
            snprintf(w->path + base, sizeof(w->path) - base, "%s%s", base ? "." : "",
                     (const char *)ev.data.scalar.value);
        }
        yaml_event_delete(&ev);
        if (rc != 0 || (rc = walk_value(w, p, base)) != 0)
            return rc;
    }
}

int gw_config_load(gw_config *c, const char *path, char *err, size_t errcap)
{
    yaml_parser_t p;
    yaml_event_t ev;
    walker w = {.c = c, .file = path, .err = err, .errcap = errcap};
    FILE *f = fopen(path, "r");
    int rc = -1, done = 0;

    if (f == NULL) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    while (!done) {
        if (!yaml_parser_parse(&p, &ev)) {
            fail_syntax(&w, &p);
            goto out;
        }
        if (ev.type == YAML_MAPPING_START_EVENT) {
            if (walk_mapping(&w, &p) != 0) {
                yaml_event_delete(&ev);
                goto out;
            }
        } else if (ev.type == YAML_STREAM_END_EVENT) {
            done = 1;
        } else if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT) {
            fail_at(&w, &ev, "the top level must be a mapping");
            yaml_event_delete(&ev);
            goto out;
        }
        yaml_event_delete(&ev);
    }
    rc = 0;
out:
    yaml_parser_delete(&p);
    fclose(f);
    return rc;
}
