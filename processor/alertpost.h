/* alertpost.h: the Alertmanager poster: one thread that POSTs alert
 * payloads to every configured Alertmanager (API v2, /api/v2/alerts) with
 * libcurl, the only user of libcurl.
 *
 * Invariants: the caller's thread never blocks here. It meets the poster
 * only through two lock-free SPSC rings (spsc.h) of fixed-size slots
 * allocated at create: payloads go out on one, answered slots come back on
 * the other. The memory is fixed whatever Alertmanager does: n_keys x 2
 * slots of AP_SLOT_BYTES. While a key waits (Alertmanager down, backing
 * off), a newer payload for the same key replaces it: the latest state of
 * each alert wins. Each POST is bounded by timeout_ms; a payload is tried
 * AP_ATTEMPTS times per URL with doubling backoff, then given up (its
 * sender posts the state again later).
 */
#ifndef SOAKWATCH_ALERTPOST_H
#define SOAKWATCH_ALERTPOST_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define AP_SLOT_BYTES 8192 /* one alert's JSON array: labels, annotations, times */
#define AP_ATTEMPTS 3      /* per URL and payload */
#define AP_BACKOFF_MS 500  /* before the second attempt; doubled for each next */

typedef struct ap_poster ap_poster;

/* What became of one payload. */
typedef struct ap_result {
    int key;        /* the key it was submitted under */
    uint64_t seq;   /* and its sequence number */
    int ok;         /* every URL accepted it (2xx) */
    int superseded; /* replaced by a newer payload of the key before it was sent */
    uint64_t posts_ok, posts_failed; /* HTTP POSTs made for it, by outcome */
} ap_result;

/* Start the poster for keys 0..n_keys-1. Returns NULL with one line in
 * errstr. */
ap_poster *ap_create(const sw_alertmanager *am, int n_keys, char *errstr, size_t errlen);
/* Stop the thread (within one POST's timeout) and free. Accepts NULL. */
void ap_destroy(ap_poster *p);

/* Hand a payload (a JSON array) for key on. Returns 0, -EAGAIN when no slot
 * is free (try again later), -EMSGSIZE when it does not fit a slot. */
int ap_submit(ap_poster *p, int key, uint64_t seq, const char *json, size_t len);

/* Take the answered payloads: calls done for each. Returns how many. */
int ap_collect(ap_poster *p, void (*done)(void *ud, const ap_result *r), void *ud);
/* Payloads handed on and not answered yet. */
int ap_pending(const ap_poster *p);

#endif
