/*
 * bootstrap: everything between reading the configuration and serving:
 * the data directory, the object store (which loads the master key and runs
 * crash recovery), and the root credentials on first start. Those come from
 * CAIRN_ROOT_ACCESS_KEY / CAIRN_ROOT_SECRET_KEY when set, else are generated
 * and printed once on stdout; they are never written to the log.
 *
 * The master key comes from CAIRN_MASTER_KEY when set (the object layer then
 * neither reads nor creates a key file), else from master_key_file. Only its
 * id is ever logged; its creation at first start is announced on stdout.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../common/err.h"
#include "../common/util.h"
#include "gwint.h"

static int mkdirs(const char *path)
{
    char tmp[1024];

    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* h2o unlinks each spill file right after creating it; a file still named
 * in data_dir/tmp was caught between the two by a crash, and is garbage. */
static void sweep_spill_files(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    char path[1400];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "h2o.b.", 6) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
        if (unlink(path) == 0)
            gw_log("removed a spill file left by a crash: %s", path);
    }
    closedir(d);
}

static int root_credentials(obj_store *s)
{
    char ak[160], sk[160]; /* longer than obj_key_create() accepts, so it refuses rather than we truncate */
    const char *eak = getenv("CAIRN_ROOT_ACCESS_KEY"), *esk = getenv("CAIRN_ROOT_SECRET_KEY");
    int count = 0, rc;

    if ((rc = obj_key_count(s, &count)) != 0 || count > 0)
        return rc;
    if (eak != NULL && esk != NULL && eak[0] && esk[0]) {
        snprintf(ak, sizeof(ak), "%s", eak);
        snprintf(sk, sizeof(sk), "%s", esk);
    } else {
        rc = obj_key_generate(ak, sk);
        if (rc != 0)
            return rc;
    }
    rc = obj_key_create(s, OBJ_ROOT_USER, ak, sk);
    if (rc == 0) {
        printf("cairn: first start: root credentials\n"
               "  access key: %s\n  secret key: %s\n",
               ak, eak && esk && eak[0] && esk[0] ? "(from CAIRN_ROOT_SECRET_KEY)" : sk);
        fflush(stdout);
    }
    OPENSSL_cleanse(sk, sizeof(sk));
    if (rc != 0)
        return rc;
    gw_log("created root access key %s", ak);
    return 0;
}

int gw_lock_data_dir(const char *data_dir)
{
    static int fd = -1; /* held until exit */
    char path[1100];

    snprintf(path, sizeof(path), "%s/lock", data_dir);
    if (fd < 0)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        gw_log("%s is in use by another cairn (serve or key rotate): %s", data_dir,
               fd < 0 ? strerror(errno) : "locked");
        return -1;
    }
    return 0;
}

int gw_obj_config(const gw_config *c, gw_storage *st, obj_config *oc)
{
    char err[512] = "";
    int rc = gw_storage_build(c, st, err, sizeof(err));

    if (rc != 0) {
        gw_log("configuration: %s", err[0] ? err : cn_err_info(rc)->message);
        return rc;
    }
    *oc = (obj_config){.data_dir = c->data_dir,
                       .region = c->region,
                       .seal = gw_storage_config(st),
                       .gc_grace_seconds = (unsigned)c->gc_grace,
                       .inline_max = c->inline_max == 0 ? OBJ_INLINE_OFF : c->inline_max,
                       .master_key = getenv("CAIRN_MASTER_KEY"),
                       .master_key_file = c->master_key_file,
                       .region_key = getenv("CAIRN_REGION_KEY")};
    return 0;
}

static int open_access_log(const gw_config *c)
{
    char path[1100];

    if (strcmp(c->access_file, "off") == 0)
        return 0;
    if (c->access_file[0] != '\0')
        snprintf(path, sizeof(path), "%s", c->access_file);
    else
        snprintf(path, sizeof(path), "%s/access.log", c->data_dir);
    if (gw_access_open(path) != 0) {
        gw_log("cannot open the access log %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int gw_bootstrap(const gw_config *c)
{
    static gw_storage st; /* lives as long as the store */
    char tmp[1100];
    obj_config oc;
    obj_master_key_info mk;
    obj_region_key_info rk;
    int rc;

    if (gw_obj_config(c, &st, &oc) != 0)
        return -1;
    snprintf(tmp, sizeof(tmp), "%s/tmp", c->data_dir);
    if (mkdirs(c->data_dir) != 0 || mkdirs(tmp) != 0) {
        gw_log("cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (gw_lock_data_dir(c->data_dir) != 0 || open_access_log(c) != 0)
        return -1;
    sweep_spill_files(tmp);
    if ((rc = obj_store_open(&gw__state.store, &oc)) != 0) {
        gw_log("cannot open the store in %s: %s", c->data_dir, cn_err_info(rc)->code);
        return -1;
    }
    obj_store_master_key(gw__state.store, &mk);
    gw_log("master key %s from %s%s", mk.id, mk.file != NULL ? mk.file : "CAIRN_MASTER_KEY",
           mk.created ? " (created)" : "");
    if (mk.created) {
        printf("cairn: first start: master key %s written to %s (mode 0600)\n"
               "  Back it up apart from the data: without it no access key of this store can be used.\n",
               mk.id, mk.file);
        fflush(stdout);
    }
    obj_store_region_key(gw__state.store, &rk);
    gw_log("region key %s from %s%s (Ed25519 public key; signs lineage records)", rk.public_hex,
           rk.file != NULL ? rk.file : "CAIRN_REGION_KEY", rk.created ? " (created)" : "");
    if ((rc = root_credentials(gw__state.store)) != 0) {
        gw_log("cannot create root credentials: %s", cn_err_info(rc)->code);
        return -1;
    }
    if (s3_policy_cache_create(&gw__state.s3.policies) != 0) {
        gw_log("cannot create the bucket policy cache");
        return -1;
    }
    gw__state.cfg = c;
    gw__state.s3.store = gw__state.store;
    gw__state.admin.store = gw__state.store;
    gw__state.admin.log = gw_log;
    gw__state.s3.cfg.region = c->region;
    gw__state.s3.cfg.domain = c->domain[0] ? c->domain : NULL;
    return 0;
}
