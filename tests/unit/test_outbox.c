/* test_outbox.c: the redelivery outbox (live/outbox.h): kept as it was,
 * headers and all, oldest first; bounded, and what does not fit counted. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "live/outbox.h"

int main(void)
{
    sw_outbox *o = outbox_create(3);
    CHECK(o != NULL);
    CHECK(outbox_create(0) == NULL);
    char value[16], key[8], hv[8];
    /* one header more than kept: the last is dropped */
    kafka_header h[OUTBOX_HEADERS + 1];
    h[0] = (kafka_header){"type", hv, 0};
    h[1] = (kafka_header){"schema_version", "1", 1};
    for (int i = 2; i <= OUTBOX_HEADERS; i++)
        h[i] = (kafka_header){"extra", "x", 1};
    for (int i = 0; i < 4; i++) {
        int n = snprintf(value, sizeof(value), "value-%d", i);
        int k = snprintf(key, sizeof(key), "k%d", i);
        h[0].len = (size_t)snprintf(hv, sizeof(hv), "t%d", i);
        int rc = outbox_keep(o, 10 + i, value, (size_t)n, key, (size_t)k, h, OUTBOX_HEADERS + 1);
        CHECK_INT(rc, i < 3 ? 0 : -ENOBUFS);
    }
    /* the caller's buffers are reused: the outbox holds copies */
    memset(value, 'z', sizeof(value));
    memset(hv, 'z', sizeof(hv));
    CHECK_INT(outbox_len(o), 3);
    CHECK_INT(outbox_lost(o), 1);
    outbox_item items[3];
    int n = outbox_take(o, items);
    CHECK_INT(n, 3);
    CHECK_INT(outbox_len(o), 0);
    for (int i = 0; i < n; i++) {
        char want[16];
        int wl = snprintf(want, sizeof(want), "value-%d", i);
        CHECK_INT(items[i].kind, 10 + i);
        CHECK_INT(items[i].len, wl);
        CHECK(memcmp(items[i].value, want, (size_t)wl) == 0);
        snprintf(want, sizeof(want), "k%d", i);
        CHECK_INT(items[i].key_len, strlen(want));
        CHECK(memcmp(items[i].key, want, items[i].key_len) == 0);
        CHECK_INT(items[i].nh, OUTBOX_HEADERS);
        CHECK_STR(items[i].h[0].name, "type");
        snprintf(want, sizeof(want), "t%d", i);
        CHECK_INT(items[i].h[0].len, strlen(want));
        CHECK(memcmp(items[i].h[0].value, want, items[i].h[0].len) == 0);
        CHECK_STR(items[i].h[1].name, "schema_version");
        outbox_item_free(&items[i]);
    }
    /* room again once taken; an empty key is fine */
    CHECK_INT(outbox_keep(o, 1, "v", 1, NULL, 0, NULL, 0), 0);
    CHECK_INT(outbox_len(o), 1);
    outbox_destroy(o); /* frees what it still keeps */
    CHECK_DONE();
}
