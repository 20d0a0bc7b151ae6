/*
 * log: timestamped lines on stderr, which is pointed at the log file when
 * one is configured; SIGHUP reopens it so that logrotate can move it away.
 * Secrets never reach this function: callers log access key ids only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gwint.h"

static char log_path[1024];

/* freopen makes stderr fully buffered on a regular file; a log must reach
 * the file line by line, or tail -f shows nothing and a crash loses the end. */
static int reopen(void)
{
    if (freopen(log_path, "a", stderr) == NULL)
        return -1;
    setvbuf(stderr, NULL, _IOLBF, 0);
    return 0;
}

int gw_log_open(const char *path)
{
    if (path == NULL || path[0] == '\0')
        return 0;
    snprintf(log_path, sizeof(log_path), "%s", path);
    return reopen();
}

void gw_log_reopen(void)
{
    if (log_path[0] != '\0' && reopen() != 0)
        perror("cairn: reopen log");
}

void gw_log(const char *fmt, ...)
{
    char ts[32], line[2048];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;

    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* one fprintf per line so that lines from several threads do not interleave */
    fprintf(stderr, "%s cairn: %s\n", ts, line);
}
