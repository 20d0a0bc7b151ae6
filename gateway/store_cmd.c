/*
 * store_cmd: commands that work on a store without serving it.
 *   cairn scrub [-c FILE] [--data DIR] [--set K=V]...
 *       reads and authenticates every shard of every blob, repairs what can
 *       be repaired, prints a summary; exits 0 when every blob is whole at
 *       the end, 1 when some blob is left with bad shards. Safe while the
 *       gateway runs (it opens the store attached: no recovery, no sweeps).
 *   cairn key rotate [-c FILE] [--data DIR] [--new-key-file PATH]
 *       a new master key re-seals every secret and blob key (obj/rotate.c);
 *       takes the data directory's lock, so never while the gateway runs.
 * Both read the same configuration as `cairn serve`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "gwint.h"

typedef struct store_cmd {
    gw_config cfg;
    gw_storage st;
    obj_store *store;
} store_cmd;

/* Parses the options (minus those in skip, handled by the caller) and opens
 * the store. 0, or the exit status. */
static int open_store(store_cmd *sc, int argc, char **argv, int attach, int lock)
{
    char err[1200];
    obj_config oc;
    int rc = 0;

    gw_config_init(&sc->cfg);
    if (gw_config_args(&sc->cfg, argc, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "cairn: %s\n", err);
        return 2;
    }
    if (lock && gw_lock_data_dir(sc->cfg.data_dir) != 0)
        return 1;
    if (gw_obj_config(&sc->cfg, &sc->st, &oc) != 0)
        return 2;
    oc.attach = attach;
    rc = obj_store_open(&sc->store, &oc);
    if (rc != 0) {
        fprintf(stderr, "cairn: cannot open the store in %s: %s\n", sc->cfg.data_dir, cn_err_info(rc)->code);
        return 1;
    }
    return 0;
}

static void close_store(store_cmd *sc)
{
    obj_store_close(sc->store);
    gw_storage_dispose(&sc->st);
    gw_config_dispose(&sc->cfg);
}

int gw_scrub_main(int argc, char **argv)
{
    store_cmd sc = {0};
    obj_scrub_report r;
    int rc = 0;

    if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("usage: cairn scrub [-c FILE] [--data DIR] [--set KEY=VALUE]...\n\n"
               "Reads and authenticates every shard of every blob and rebuilds the shards that\n"
               "are missing, truncated, corrupt or misplaced. Safe while the gateway runs.\n"
               "Exit status 0: every blob is whole; 1: some blob could not be repaired.\n");
        return 0;
    }
    rc = open_store(&sc, argc, argv, 1, 0);
    if (rc == 0) {
        rc = obj_scrub(sc.store, &r);
        if (rc != 0)
            fprintf(stderr, "cairn: scrub: %s\n", cn_err_info(rc)->message);
        else
            printf("scrub: %llu blobs, %llu shards verified; %llu bad, %llu repaired; %llu blobs unrecoverable\n",
                   (unsigned long long)r.blobs, (unsigned long long)r.shards, (unsigned long long)r.bad_shards,
                   (unsigned long long)r.repaired_shards, (unsigned long long)r.unrecoverable);
        rc = rc != 0 || r.unrecoverable > 0 ? 1 : 0;
    }
    close_store(&sc);
    return rc;
}

/* Removes "--new-key-file PATH" from argv; returns PATH or NULL. */
static const char *take_new_key_file(int *argc, char **argv)
{
    for (int i = 0; i + 1 < *argc; i++)
        if (strcmp(argv[i], "--new-key-file") == 0) {
            const char *path = argv[i + 1];
            memmove(&argv[i], &argv[i + 2], (size_t)(*argc - i - 2) * sizeof(char *));
            *argc -= 2;
            return path;
        }
    return NULL;
}

int gw_key_main(int argc, char **argv)
{
    store_cmd sc = {0};
    obj_rotate_report r;
    const char *nkf = NULL;
    int rc = 0;

    if (argc < 1 || strcmp(argv[0], "rotate") != 0) {
        fprintf(argc < 1 ? stderr : stdout,
                "usage: cairn key rotate [-c FILE] [--data DIR] [--new-key-file PATH]\n\n"
                "Makes a new master key and re-seals every access-key secret and blob key with\n"
                "it; no data is rewritten. The gateway must be stopped. With a key file the new\n"
                "key replaces it; with CAIRN_MASTER_KEY, --new-key-file names where the new key\n"
                "is written (give it as CAIRN_MASTER_KEY from then on).\n");
        return argc < 1 ? 2 : 0;
    }
    argc--;
    argv++;
    nkf = take_new_key_file(&argc, argv);
    rc = open_store(&sc, argc, argv, 0, 1);
    if (rc == 0) {
        rc = obj_master_key_rotate(sc.store, nkf, &r);
        if (rc == -CN_EINVALID_ARGUMENT)
            fprintf(stderr, "cairn: the master key is given as text: name a file for the new one (--new-key-file)\n");
        else if (rc != 0)
            fprintf(stderr, "cairn: key rotate: %s\n", cn_err_info(rc)->message);
        else
            printf("master key %s replaced by %s: %zu secrets and %zu blob keys re-sealed%s%s\n", r.old_id, r.new_id,
                   r.secrets, r.blobs, nkf != NULL ? "; new key in " : "", nkf != NULL ? nkf : "");
        rc = rc != 0;
    }
    close_store(&sc);
    return rc;
}
