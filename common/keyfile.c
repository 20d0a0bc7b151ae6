/*
 * keyfile: durable creation and strict reading of small secret files
 * (keyfile.h). The master key (masterkey.c) and the region signing key
 * (lineage.c) are kept this way; the buffer holding a key is the caller's
 * to wipe.
 */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

static void set_err(char *err, size_t errcap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errcap, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errcap == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

static int write_full(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;

    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int cn_fsync_parent(const char *path)
{
    char dir[PATH_MAX];
    char *slash = NULL;
    int fd = -1, rc = 0;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

int cn_keyfile_write(const char *path, const void *b, size_t n, const char *what, char *err, size_t errcap)
{
    char tmp[PATH_MAX];
    int fd = -1, made = 0, rc = -CN_EIO;

    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
        set_err(err, errcap, "%s file path too long: %s", what, path);
        return -CN_EINVALID_ARGUMENT;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errcap, "cannot create %s file %s: %s", what, path, strerror(errno));
        goto out;
    }
    made = 1;
    /* mkostemp() gives 0600 less the umask; state the mode rather than rely on it */
    if (fchmod(fd, 0600) != 0 || write_full(fd, b, n) != 0 || fsync(fd) != 0) {
        set_err(err, errcap, "cannot write %s file %s: %s", what, path, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    /* a link, unlike a rename, never replaces a file made meanwhile */
    if (link(tmp, path) != 0) {
        rc = errno == EEXIST ? -CN_ECONFLICT : -CN_EIO;
        set_err(err, errcap, "cannot create %s file %s: %s", what, path, strerror(errno));
        goto out;
    }
    if (cn_fsync_parent(path) != 0) {
        set_err(err, errcap, "cannot make %s file %s durable: %s", what, path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (made)
        unlink(tmp);
    return rc;
}

static int check_stat(int fd, const char *path, size_t n, const char *what, char *err, size_t errcap)
{
    struct stat sb;

    if (fstat(fd, &sb) != 0) {
        set_err(err, errcap, "cannot stat %s file %s: %s", what, path, strerror(errno));
        return -CN_EIO;
    }
    if (!S_ISREG(sb.st_mode)) {
        set_err(err, errcap, "%s file %s is not a regular file", what, path);
        return -CN_EINVALID_ARGUMENT;
    }
    if ((sb.st_mode & 077) != 0) {
        set_err(err, errcap, "%s file %s may be read or written by group or others (mode %04o): chmod 600 it", what,
                path, (unsigned)(sb.st_mode & 07777));
        return -CN_EACCESS;
    }
    if (sb.st_size != (off_t)n) {
        set_err(err, errcap, "%s file %s holds %lld bytes, not %zu", what, path, (long long)sb.st_size, n);
        return -CN_EINVALID_ARGUMENT;
    }
    return 0;
}

int cn_keyfile_read(const char *path, void *b, size_t n, const char *what, int *missing, char *err, size_t errcap)
{
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc = 0;

    if (missing != NULL)
        *missing = fd < 0 && errno == ENOENT;
    if (fd < 0) {
        set_err(err, errcap, "cannot open %s file %s: %s", what, path, strerror(errno));
        return -CN_EIO;
    }
    rc = check_stat(fd, path, n, what, err, errcap);
    while (rc == 0 && got < n) {
        ssize_t r = read(fd, (unsigned char *)b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            set_err(err, errcap, "cannot read %s file %s", what, path);
            rc = -CN_EIO;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    return rc;
}
