/* page.h: the report as a running process's live page (GET / on the HTTP
 * port): the same model and HTML as `soakwatch report --format html`, built
 * from the output events the process keeps, reloading itself.
 *
 * Invariant: a page is built per request from the events handed in and
 * freed before returning: what stays in memory is only what the caller
 * keeps (live/recent.h, fixed at start).
 */
#ifndef SOAKWATCH_PAGE_H
#define SOAKWATCH_PAGE_H

#include <stddef.h>

#include "../buf.h"
#include "../config.h"

#define RP_PAGE_REFRESH_S 30

typedef struct rp_page rp_page;

/* A page for the config's targets and rules. NULL when memory is short. */
rp_page *rp_page_begin(const sw_config *cfg);
/* One output event (no newline). Returns 0, or nonzero to stop. */
int rp_page_line(void *page, const char *json, size_t len);
/* Render into b (HTML) and free the page. Returns 0, or a negative errno
 * (memory, the buffer's cap). */
int rp_page_end(rp_page *p, sw_buf *b);

#endif
