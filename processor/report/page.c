/* page.c: the live page (page.h): the report's model fed event by event,
 * then analysed and rendered as the HTML report, with a reload. */
#include "page.h"

#include <errno.h>
#include <stdlib.h>

#include "report_model.h"

struct rp_page {
    rp_report r;
    int failed; /* memory ran out taking an event */
};

rp_page *rp_page_begin(const sw_config *cfg)
{
    rp_page *p = calloc(1, sizeof(*p));
    if (p) {
        p->r.cfg = *cfg;
        p->r.refresh_s = RP_PAGE_REFRESH_S;
    }
    return p;
}

int rp_page_line(void *page, const char *json, size_t len)
{
    rp_page *p = page;
    int rc = rp_take_line(&p->r, json, len);
    if (rc == -ENOMEM)
        p->failed = 1;
    return rc != 0;
}

/* Nothing published yet: say so, and reload. */
static int render_empty(sw_buf *b)
{
    buf_printf(b, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
               "<meta http-equiv='refresh' content='%d'><title>Stream5 soak report</title>"
               "</head><body><h1>Stream5 soak report</h1><p>No status or rollback trigger "
               "published yet: the first status comes one status interval after coverage "
               "starts. This page reloads every %d s.</p></body></html>\n",
               RP_PAGE_REFRESH_S, RP_PAGE_REFRESH_S);
    return rp_render_result(b);
}

int rp_page_end(rp_page *p, sw_buf *b)
{
    if (p == NULL)
        return -ENOMEM;
    rp_report *r = &p->r;
    int rc = p->failed ? -ENOMEM : 0;
    if (rc == 0 && r->n_st == 0 && r->n_tr == 0)
        rc = render_empty(b);
    else if (rc == 0) {
        if (rp_normalise(r) != 0 || rp_build_hours(r) != 0)
            rc = -ENOMEM;
        if (rc == 0) {
            rp_build_soak(r);
            rp_judge_soak(r);
            rc = rp_render_html(b, r);
        }
    }
    rp_report_free(r);
    free(p);
    return rc;
}
