/*
 * posix: a provider that keeps each named byte string as one file under a
 * local directory.
 *
 * Layout under the configured path:
 *
 *   data/ab/cd/<file>   stored objects; ab/cd are two fan-out levels taken
 *                       from an FNV-1a hash of the name, so no directory holds
 *                       more than ~1/65536 of the objects whatever the names
 *                       look like; '/' in a name is stored as '~' (which names
 *                       may not contain) so every object is a plain file.
 *   tmp/<rand>.tmp      puts in progress; same filesystem, so rename() is atomic.
 *
 * Invariants:
 *  1. A file under data/ is complete and durable: put() writes a temporary,
 *     fsyncs it, renames it into place and fsyncs the directory (and fsyncs
 *     the parents of fan-out directories it had to create).
 *  2. A failed put leaves nothing under data/; its temporary is unlinked, or
 *     swept by sweep() after a crash.
 *  3. Names are validated before any path is built: [A-Za-z0-9._/-], no "..",
 *     no leading '/', at most POSIX_MAX_NAME bytes; nothing escapes the root.
 *
 * Not done here: quotas, free-space checks, O_DIRECT. sweep() assumes no put
 * is in flight (it runs at startup).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/err.h"
#include "../common/util.h"
#include "be.h"

#define POSIX_MAX_NAME 200
#define POSIX_IO_CHUNK (1u << 20)

typedef struct posix_provider {
    be_provider base;
    char *root;
} posix_provider;

static int name_valid(const char *name)
{
    return be_name_valid(name, POSIX_MAX_NAME);
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s != '\0'; s++) {
        h ^= (uint8_t)*s;
        h *= 16777619u;
    }
    return h;
}

/* data/ab/cd and the file name inside it. */
static int object_path(const posix_provider *p, const char *name, char *dir, size_t dircap, char *path, size_t pathcap)
{
    uint32_t h = fnv1a(name);
    char file[POSIX_MAX_NAME + 1];
    size_t i = 0;
    int n = 0;

    for (i = 0; name[i] != '\0'; i++)
        file[i] = name[i] == '/' ? '~' : name[i];
    file[i] = '\0';
    n = snprintf(dir, dircap, "%s/data/%02x/%02x", p->root, (unsigned)(h >> 24), (unsigned)((h >> 16) & 0xff));
    if (n < 0 || (size_t)n >= dircap)
        return -CN_EINVALID_ARGUMENT;
    n = snprintf(path, pathcap, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= pathcap)
        return -CN_EINVALID_ARGUMENT;
    return 0;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return -CN_EIO;
    if (fsync(fd) != 0)
        rc = -CN_EIO;
    close(fd);
    return rc;
}

/* mkdir that makes a new directory's entry durable in its parent. */
static int mkdir_durable(const char *dir, const char *parent)
{
    if (mkdir(dir, 0755) == 0)
        return fsync_path(parent);
    return errno == EEXIST ? 0 : -CN_EIO;
}

static int ensure_fanout(const char *dir)
{
    char level1[PATH_MAX], data[PATH_MAX];
    char *slash = NULL;
    int rc = 0;

    snprintf(level1, sizeof(level1), "%s", dir);
    slash = strrchr(level1, '/');
    if (slash == NULL)
        return -CN_EINTERNAL;
    *slash = '\0';
    snprintf(data, sizeof(data), "%s", level1);
    slash = strrchr(data, '/');
    if (slash == NULL)
        return -CN_EINTERNAL;
    *slash = '\0';
    rc = mkdir_durable(level1, data);
    if (rc == 0)
        rc = mkdir_durable(dir, level1);
    return rc;
}

static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -CN_EIO;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copies exactly size bytes from src to fd; the stream's own error wins. */
static int copy_stream(int fd, cn_stream *src, uint64_t size)
{
    char *buf = malloc(POSIX_IO_CHUNK);
    uint64_t left = size;
    int rc = 0;

    if (buf == NULL)
        return -CN_ENOMEM;
    while (left > 0) {
        size_t want = left < POSIX_IO_CHUNK ? (size_t)left : POSIX_IO_CHUNK;
        long got = src->read(src, buf, want);
        if (got < 0) {
            rc = (int)got;
            goto out;
        }
        if (got == 0) {
            rc = -CN_EINCOMPLETE_BODY;
            goto out;
        }
        if ((size_t)got > want) {
            rc = -CN_EINTERNAL;
            goto out;
        }
        rc = write_all(fd, buf, (size_t)got);
        if (rc != 0)
            goto out;
        left -= (uint64_t)got;
    }
out:
    free(buf);
    return rc;
}

static int posix_put(be_provider *bp, const char *name, cn_stream *src, uint64_t size)
{
    posix_provider *p = (posix_provider *)bp;
    char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX], rnd[17];
    uint8_t r[8];
    int fd = -1, rc = 0, have_tmp = 0;

    if (!name_valid(name))
        return -CN_EINVALID_ARGUMENT;
    rc = object_path(p, name, dir, sizeof(dir), path, sizeof(path));
    if (rc == 0)
        rc = cn_random(r, sizeof(r));
    if (rc != 0)
        goto out;
    cn_hex(rnd, r, sizeof(r));
    snprintf(tmp, sizeof(tmp), "%s/tmp/%s.tmp", p->root, rnd);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -CN_EIO;
        goto out;
    }
    have_tmp = 1;
    rc = copy_stream(fd, src, size);
    if (rc != 0)
        goto out;
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        rc = -CN_EIO;
        goto out;
    }
    fd = -1;
    rc = ensure_fanout(dir);
    if (rc != 0)
        goto out;
    if (rename(tmp, path) != 0) {
        rc = -CN_EIO;
        goto out;
    }
    have_tmp = 0;
    rc = fsync_path(dir);
out:
    if (fd >= 0)
        close(fd);
    if (have_tmp)
        unlink(tmp);
    return rc;
}

static int posix_get(be_provider *bp, const char *name, uint64_t off, void *buf, size_t len)
{
    posix_provider *p = (posix_provider *)bp;
    char dir[PATH_MAX], path[PATH_MAX];
    size_t done = 0;
    int fd = -1, rc = 0;

    if (!name_valid(name))
        return -CN_EINVALID_ARGUMENT;
    rc = object_path(p, name, dir, sizeof(dir), path, sizeof(path));
    if (rc != 0)
        goto out;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -CN_EIO;
        goto out;
    }
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* 0: the object is shorter than asked; never truncate silently */
            rc = -CN_EIO;
            goto out;
        }
        done += (size_t)n;
    }
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

static int posix_del(be_provider *bp, const char *name)
{
    posix_provider *p = (posix_provider *)bp;
    char dir[PATH_MAX], path[PATH_MAX];
    int rc = 0;

    if (!name_valid(name))
        return -CN_EINVALID_ARGUMENT;
    rc = object_path(p, name, dir, sizeof(dir), path, sizeof(path));
    if (rc != 0)
        return rc;
    if (unlink(path) != 0)
        return errno == ENOENT ? 0 : -CN_EIO;
    /* Durable, so that a blob row deleted after this never resurrects as an orphan file. */
    return fsync_path(dir);
}

static int list_dir(const char *dir, const char *prefix, int (*fn)(void *, const char *, uint64_t), void *arg,
                    int *stop)
{
    DIR *d = opendir(dir);
    struct dirent *e = NULL;
    char name[POSIX_MAX_NAME + 1];
    struct stat st;
    size_t i = 0;

    if (d == NULL)
        return errno == ENOENT ? 0 : -CN_EIO;
    while (!*stop && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
            continue;
        if (strlen(e->d_name) > POSIX_MAX_NAME)
            continue;
        for (i = 0; e->d_name[i] != '\0'; i++)
            name[i] = e->d_name[i] == '~' ? '/' : e->d_name[i];
        name[i] = '\0';
        if (strncmp(name, prefix, strlen(prefix)) != 0)
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (fn(arg, name, (uint64_t)st.st_size) != 0)
            *stop = 1;
    }
    closedir(d);
    return 0;
}

/* Walks every fan-out directory: names hash, so a prefix cannot narrow the walk. */
static int posix_list(be_provider *bp, const char *prefix, int (*fn)(void *arg, const char *name, uint64_t size),
                      void *arg)
{
    posix_provider *p = (posix_provider *)bp;
    char dir[PATH_MAX];
    unsigned a = 0, b = 0;
    int rc = 0, stop = 0;

    if (prefix == NULL)
        prefix = "";
    for (a = 0; a < 256 && !stop && rc == 0; a++) {
        snprintf(dir, sizeof(dir), "%s/data/%02x", p->root, a);
        if (access(dir, F_OK) != 0)
            continue;
        for (b = 0; b < 256 && !stop && rc == 0; b++) {
            snprintf(dir, sizeof(dir), "%s/data/%02x/%02x", p->root, a, b);
            rc = list_dir(dir, prefix, fn, arg, &stop);
        }
    }
    return rc;
}

static int posix_health(be_provider *bp)
{
    posix_provider *p = (posix_provider *)bp;
    char path[PATH_MAX];
    int fd = -1, rc = 0;

    snprintf(path, sizeof(path), "%s/tmp/health.%ld.tmp", p->root, (long)getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -CN_EIO;
    if (write_all(fd, "ok", 2) != 0 || fsync(fd) != 0)
        rc = -CN_EIO;
    close(fd);
    unlink(path);
    return rc;
}

static int posix_sweep(be_provider *bp)
{
    posix_provider *p = (posix_provider *)bp;
    char dir[PATH_MAX];
    struct dirent *e = NULL;
    DIR *d = NULL;
    int rc = 0;

    snprintf(dir, sizeof(dir), "%s/tmp", p->root);
    d = opendir(dir);
    if (d == NULL)
        return -CN_EIO;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT)
            rc = -CN_EIO;
    }
    closedir(d);
    return rc;
}

static void posix_destroy(be_provider *bp)
{
    posix_provider *p = (posix_provider *)bp;

    if (p == NULL)
        return;
    free(p->root);
    free(p);
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    char *s = NULL;

    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return -CN_EINVALID_ARGUMENT;
    for (s = tmp + 1; *s != '\0'; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -CN_EIO;
        *s = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -CN_EIO;
    return 0;
}

static int posix_create(be_provider **out, const char *id, const be_option *opts, size_t n_opts)
{
    posix_provider *p = NULL;
    const char *path = NULL;
    char sub[PATH_MAX];
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    for (i = 0; i < n_opts; i++)
        if (strcmp(opts[i].key, "path") == 0)
            path = opts[i].value;
    if (path == NULL || path[0] == '\0' || strlen(path) > PATH_MAX - 300)
        return -CN_EINVALID_ARGUMENT;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -CN_ENOMEM;
    p->base.driver = &be_posix_driver;
    snprintf(p->base.id, sizeof(p->base.id), "%s", id != NULL ? id : "posix");
    p->root = strdup(path);
    if (p->root == NULL) {
        rc = -CN_ENOMEM;
        goto out;
    }
    rc = mkdir_p(path);
    snprintf(sub, sizeof(sub), "%s/data", path);
    if (rc == 0)
        rc = mkdir_p(sub);
    snprintf(sub, sizeof(sub), "%s/tmp", path);
    if (rc == 0)
        rc = mkdir_p(sub);
    if (rc == 0)
        rc = fsync_path(path);
out:
    if (rc != 0)
        posix_destroy(&p->base);
    else
        *out = &p->base;
    return rc;
}

const be_driver be_posix_driver = {
    .name = "posix",
    .version = 1,
    .caps = BE_CAP_RANGE | BE_CAP_LIST,
    .create = posix_create,
    .destroy = posix_destroy,
    .put = posix_put,
    .get = posix_get,
    .del = posix_del,
    .list = posix_list,
    .health = posix_health,
    .sweep = posix_sweep,
};
