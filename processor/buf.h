/* buf.h: a byte buffer with a hard size cap, and the JSON pieces written
 * into it. Growth stops at the cap: every append after that fails and the
 * buffer remembers it, so a caller checks once at the end. */
#ifndef SOAKWATCH_BUF_H
#define SOAKWATCH_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct sw_buf {
    char *data;    /* NUL-terminated while len < cap */
    size_t len;
    size_t alloc;
    size_t cap;    /* hard limit on len */
    int failed;    /* an append hit the cap or malloc failed */
} sw_buf;

/* Initialise an empty buffer that will never exceed cap bytes. */
void buf_init(sw_buf *b, size_t cap);
/* Free the memory; the buffer is empty and usable again. Accepts NULL. */
void buf_free(sw_buf *b);
/* Empty the buffer, keeping its memory and clearing `failed`. */
void buf_reset(sw_buf *b);
/* Allocate the whole cap now, so that no append up to the cap allocates:
 * for a buffer that must not fail once start-up is over. Returns 0 or
 * -ENOMEM (the buffer is then as it was). */
int buf_preallocate(sw_buf *b);

/* Appends. Return 0, or -ENOBUFS (cap) / -ENOMEM, and set failed. */
int buf_append(sw_buf *b, const char *s, size_t n);
int buf_puts(sw_buf *b, const char *s);
int buf_printf(sw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON: a string with escapes; a double in the shortest form that reads
 * back to the same value ("null" for NAN and infinities); an integer. */
int buf_json_str(sw_buf *b, const char *s);
int buf_json_double(sw_buf *b, double v);
int buf_json_u64(sw_buf *b, uint64_t v);
int buf_json_i64(sw_buf *b, int64_t v);

/* Shortest "%.*g" text of v that strtod reads back exactly (finite v). */
int fmt_double_shortest(char *out, size_t cap, double v);

#endif
