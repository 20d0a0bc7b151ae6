/*
 * keyfile: small secret files (a key's raw bytes) that only their owner may
 * read. Written durably under a temporary name and linked into place, so a
 * key file is never seen half-written and never replaces one another process
 * made meanwhile; read back only if it is a regular file of the exact size
 * with no group or other permission bits.
 */
#ifndef CN_KEYFILE_H
#define CN_KEYFILE_H

#include <stddef.h>

/* Writes b[0..n) to a new file at path, mode 0600; the file and its
 * directory are fsync'd. -CN_ECONFLICT if path exists, -CN_EIO otherwise.
 * what names the key in err ("region key"). */
/* fsyncs the directory holding path, so that a rename or create in it is
 * durable. 0 or -1. */
int cn_fsync_parent(const char *path);
int cn_keyfile_write(const char *path, const void *b, size_t n, const char *what, char *err, size_t errcap);
/* Reads exactly n bytes from path into b: -CN_EACCESS if group or others
 * have any permission, -CN_EINVALID_ARGUMENT if not a regular file of n
 * bytes, -CN_EIO if it cannot be opened (errno ENOENT: *missing set) or read. */
int cn_keyfile_read(const char *path, void *b, size_t n, const char *what, int *missing, char *err, size_t errcap);

#endif
