/*
 * buf: a growable byte buffer with a hard cap, in the manner of curl's dynbuf.
 *
 * Anything a peer can make grow (XML bodies, header lists, listings) lives in a
 * cn_buf whose cap is chosen at init; an append past the cap fails with
 * -CN_ETOOLARGE and leaves the buffer as it was. The data is always kept
 * NUL-terminated so that it can be handed to C string functions.
 */
#ifndef CN_BUF_H
#define CN_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cn_buf {
    char *data;
    size_t len;
    size_t cap;   /* allocated bytes */
    size_t limit; /* hard cap on len */
} cn_buf;

void cn_buf_init(cn_buf *b, size_t limit);
void cn_buf_dispose(cn_buf *b);
void cn_buf_reset(cn_buf *b);
int cn_buf_append(cn_buf *b, const void *p, size_t n);
int cn_buf_puts(cn_buf *b, const char *s);
int cn_buf_printf(cn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cn_buf_vprintf(cn_buf *b, const char *fmt, va_list ap);
/* Appends s with the five XML special characters escaped. */
int cn_buf_xml_escape(cn_buf *b, const char *s, size_t n);
/* Takes ownership of the data (caller frees); the buffer is left empty. */
char *cn_buf_steal(cn_buf *b, size_t *len);

/* Makes room for element n in a doubling array: arrayp is the address of
 * the array pointer (T **), *cap its capacity in elements, elem sizeof(T),
 * first the capacity of the first allocation. 0, or -CN_ENOMEM with the
 * array and *cap unchanged. */
int cn_grow(void *arrayp, size_t *cap, size_t n, size_t elem, size_t first);

#endif
