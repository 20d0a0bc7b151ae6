/*
 * main: the `cairn` command. Subcommands:
 *   cairn serve [-c FILE] [--listen ADDR:PORT] [--data DIR] [--domain D] [--threads N]
 *   cairn lineage pubkey|verify ...  (lineage_cmd.c)
 *   cairn scrub [-c FILE] ..., cairn key rotate [-c FILE] ...  (store_cmd.c)
 *   cairn admin <noun> <verb> ...  (admin_cmd.c: a client of the admin API)
 * Command-line options override the file; the file overrides the defaults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "gwint.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: cairn <command> [options]\n\n"
                 "commands:\n"
                 "  serve    run the S3 gateway\n"
                 "  lineage  print the region public key; verify a saved ?lineage document\n"
                 "  scrub    verify every shard of every blob, repair what can be repaired\n"
                 "  key      rotate the master key (the gateway stopped)\n"
                 "  share    create, list and revoke capabilities (access key pairs on part of a bucket)\n"
                 "  admin    users, groups and access keys, through a running gateway\n\n"
                 "`cairn <command> --help` describes a command.\n");
}

static void serve_usage(FILE *out)
{
    fprintf(out, "usage: cairn serve [-c FILE] [--listen ADDR:PORT] [--data DIR] [--domain DOMAIN]\n"
                 "                   [--threads N] [--workers N] [--set KEY=VALUE]...\n\n"
                 "Runs the S3 gateway until SIGTERM or SIGINT (which drain in-flight requests);\n"
                 "SIGHUP reopens the log file. On first start the root credentials are taken from\n"
                 "CAIRN_ROOT_ACCESS_KEY / CAIRN_ROOT_SECRET_KEY, or generated and printed.\n\n"
                 "Configuration keys (YAML file, or --set key=value):\n");
    gw_config_describe(out);
}

/* Maps a long option to a configuration key. */
static const char *option_key(const char *opt)
{
    static const char *const map[][2] = {
        {"--listen", "listen"},   {"--data", "data_dir"},   {"--domain", "domain"},
        {"--threads", "threads"}, {"--workers", "workers"}, {"--region", "region"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(opt, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

static int apply_set(gw_config *c, const char *kv, char *err, size_t errcap)
{
    char key[128];
    const char *eq = strchr(kv, '=');

    if (eq == NULL || (size_t)(eq - kv) >= sizeof(key)) {
        snprintf(err, errcap, "--set expects KEY=VALUE, got '%s'", kv);
        return -1;
    }
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    return gw_config_set(c, key, eq + 1, err, errcap);
}

/* Two passes: the file first (wherever -c appears), then the overrides.
 * (scrub and key rotate take the same options: store_cmd.c.) */
int gw_config_args(gw_config *c, int argc, char **argv, char *err, size_t errcap)
{
    for (int i = 0; i < argc; i++)
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc &&
            gw_config_load(c, argv[i + 1], err, errcap) != 0)
            return -1;
    for (int i = 0; i < argc; i++) {
        const char *key = option_key(argv[i]);
        if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
            i++;
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            if (apply_set(c, argv[++i], err, errcap) != 0)
                return -1;
        } else if (key != NULL && i + 1 < argc) {
            if (gw_config_set(c, key, argv[++i], err, errcap) != 0)
                return -1;
        } else {
            snprintf(err, errcap, "unknown or incomplete option '%s' (see cairn serve --help)", argv[i]);
            return -1;
        }
    }
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    gw_config c;
    char err[1200];
    int rc;

    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            serve_usage(stdout);
            return 0;
        }
    gw_config_init(&c);
    if (gw_config_args(&c, argc, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "cairn: %s\n", err);
        gw_config_dispose(&c);
        return 2;
    }
    if (gw_log_open(c.log_file) != 0) {
        fprintf(stderr, "cairn: cannot open log file %s\n", c.log_file);
        gw_config_dispose(&c);
        return 1;
    }
    rc = gw_serve(&c);
    gw_config_dispose(&c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 2, argv + 2);
    if (strcmp(argv[1], "lineage") == 0)
        return gw_lineage_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "scrub") == 0)
        return gw_scrub_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "key") == 0)
        return gw_key_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "share") == 0)
        return gw_share_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "admin") == 0)
        return gw_admin_main(argc - 2, argv + 2);
    fprintf(stderr, "cairn: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
