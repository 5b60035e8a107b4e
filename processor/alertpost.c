/* alertpost.c: the Alertmanager poster thread and its two rings
 * (alertpost.h). The caller's thread owns the free slots; the poster owns
 * what it holds, at most one slot per key (the latest); a slot is on one
 * ring, in the free list or held, never in two places. */
#include "alertpost.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spsc.h"

#define AP_IDLE_SLEEP_MS 20
#define AP_URL_MAX (SW_STR_MAX + 32)

typedef struct ap_slot {
    ap_result r;
    int stop;                        /* the sentinel that ends the thread */
    int rounds;                      /* rounds of POSTs made */
    int url_ok[SW_AM_MAX_URLS];      /* accepted by that URL */
    int64_t next_try_ms;             /* monotonic; 0: at once */
    size_t len;
    char json[AP_SLOT_BYTES];
} ap_slot;

struct ap_poster {
    spsc_ring out, back;             /* caller -> poster, poster -> caller */
    void **out_store, **back_store;
    ap_slot *slots, stop_slot;
    ap_slot **free_list;             /* caller's */
    int n_slots, n_free, n_keys;
    ap_slot **held;                  /* poster's: per key, the latest payload */
    ap_slot **inbox;                 /* poster's: taken off `out` during a POST */
    int n_inbox, stopping;
    CURL *curl;
    struct curl_slist *headers;
    char urls[SW_AM_MAX_URLS][AP_URL_MAX];
    int n_urls;
    long timeout_ms;
    pthread_t thread;
    int started;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static size_t discard(char *ptr, size_t size, size_t n, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * n;
}

/* Poster: move what the caller sent into the inbox (also from inside a
 * POST, so that a stop never waits for a timeout). */
static void drain_out(ap_poster *p)
{
    void *it;
    while (p->n_inbox <= p->n_slots && (it = spsc_try_pop(&p->out)) != NULL) {
        if (((ap_slot *)it)->stop)
            p->stopping = 1;
        else
            p->inbox[p->n_inbox++] = it;
    }
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    ap_poster *p = ud;
    (void)a, (void)b, (void)c, (void)d;
    drain_out(p);
    return p->stopping; /* non-zero aborts the transfer */
}

static void give_back(ap_poster *p, ap_slot *s)
{
    spsc_try_push(&p->back, s); /* never full: it holds every slot */
}

/* Poster: the inbox's payloads replace what is held for their keys. */
static void take_inbox(ap_poster *p)
{
    for (int i = 0; i < p->n_inbox; i++) {
        ap_slot *s = p->inbox[i];
        ap_slot *old = p->held[s->r.key];
        if (old != NULL) {
            old->r.superseded = 1;
            give_back(p, old);
        }
        p->held[s->r.key] = s;
    }
    p->n_inbox = 0;
}

/* One round: POST to every URL that has not accepted it yet. Returns 1
 * when the slot is answered (all accepted, or attempts exhausted). */
static int post_round(ap_poster *p, ap_slot *s)
{
    int all = 1;
    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, s->json);
    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE, (long)s->len);
    for (int u = 0; u < p->n_urls && !p->stopping; u++) {
        if (s->url_ok[u])
            continue;
        long code = 0;
        curl_easy_setopt(p->curl, CURLOPT_URL, p->urls[u]);
        if (curl_easy_perform(p->curl) == CURLE_OK)
            curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code);
        s->url_ok[u] = code >= 200 && code < 300;
        if (s->url_ok[u])
            s->r.posts_ok++;
        else if (!p->stopping)
            s->r.posts_failed++;
        all &= s->url_ok[u];
    }
    s->rounds++;
    s->r.ok = all && !p->stopping;
    if (s->r.ok || s->rounds >= AP_ATTEMPTS)
        return 1;
    s->next_try_ms = mono_ms() + ((int64_t)AP_BACKOFF_MS << (s->rounds - 1));
    return 0;
}

/* Poster: post the held payload due first, if any. Returns 1 when it did. */
static int post_due(ap_poster *p)
{
    int64_t now = mono_ms();
    for (int k = 0; k < p->n_keys; k++) {
        ap_slot *s = p->held[k];
        if (s == NULL || s->next_try_ms > now)
            continue;
        p->held[k] = NULL; /* a newer payload taken during the POST is held meanwhile */
        int answered = post_round(p, s);
        if (!answered && !p->stopping)
            p->held[k] = s; /* a newer one in the inbox replaces it next */
        else
            give_back(p, s);
        return 1;
    }
    return 0;
}

static void *poster_main(void *arg)
{
    ap_poster *p = arg;
    while (!p->stopping) {
        drain_out(p);
        take_inbox(p);
        if (!p->stopping && !post_due(p))
            sleep_ms(AP_IDLE_SLEEP_MS);
    }
    return NULL;
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 2;
    while (c < n)
        c <<= 1;
    return c;
}

/* Memory, rings and free list for n_keys x 2 slots. Returns 0 or -1. */
static int ap_alloc(ap_poster *p, int n_keys)
{
    p->n_keys = n_keys;
    p->n_slots = n_keys * 2;
    size_t cap = pow2_at_least((size_t)p->n_slots + 1);
    p->slots = calloc((size_t)p->n_slots, sizeof(ap_slot));
    p->free_list = calloc((size_t)p->n_slots, sizeof(ap_slot *));
    p->held = calloc((size_t)n_keys, sizeof(ap_slot *));
    p->inbox = calloc((size_t)p->n_slots + 1, sizeof(ap_slot *));
    p->out_store = calloc(cap, sizeof(void *));
    p->back_store = calloc(cap, sizeof(void *));
    if (!p->slots || !p->free_list || !p->held || !p->inbox || !p->out_store || !p->back_store)
        return -1;
    spsc_init(&p->out, p->out_store, cap);
    spsc_init(&p->back, p->back_store, cap);
    for (int i = 0; i < p->n_slots; i++)
        p->free_list[p->n_free++] = &p->slots[i];
    p->stop_slot.stop = 1;
    return 0;
}

/* One easy handle, reused for every POST (its connections with it). */
static int ap_curl(ap_poster *p, const sw_alertmanager *am)
{
    p->n_urls = am->n_urls;
    for (int u = 0; u < am->n_urls; u++)
        snprintf(p->urls[u], AP_URL_MAX, "%s/api/v2/alerts", am->urls[u]);
    p->timeout_ms = (long)am->timeout_ms;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (p->curl = curl_easy_init()) == NULL)
        return -1;
    p->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (p->headers == NULL)
        return -1;
    curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, p->timeout_ms);
    curl_easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT_MS, p->timeout_ms);
    curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(p->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(p->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(p->curl, CURLOPT_XFERINFODATA, p);
    curl_easy_setopt(p->curl, CURLOPT_USERAGENT, "soakwatch/" SW_VERSION);
    return 0;
}

ap_poster *ap_create(const sw_alertmanager *am, int n_keys, char *errstr, size_t errlen)
{
    ap_poster *p = calloc(1, sizeof(*p));
    if (p == NULL || n_keys < 1 || ap_alloc(p, n_keys) != 0) {
        snprintf(errstr, errlen, "out of memory");
        ap_destroy(p);
        return NULL;
    }
    if (ap_curl(p, am) != 0) {
        snprintf(errstr, errlen, "alertmanager: libcurl could not be set up");
        ap_destroy(p);
        return NULL;
    }
    int rc = pthread_create(&p->thread, NULL, poster_main, p);
    if (rc != 0) {
        snprintf(errstr, errlen, "alertmanager: cannot start the poster thread: %s",
                 strerror(rc));
        ap_destroy(p);
        return NULL;
    }
    p->started = 1;
    return p;
}

void ap_destroy(ap_poster *p)
{
    if (p == NULL)
        return;
    if (p->started) {
        spsc_try_push(&p->out, &p->stop_slot); /* room: one more than the slots */
        pthread_join(p->thread, NULL);
    }
    if (p->curl)
        curl_easy_cleanup(p->curl);
    curl_slist_free_all(p->headers);
    free(p->slots);
    free(p->free_list);
    free(p->held);
    free(p->inbox);
    free(p->out_store);
    free(p->back_store);
    free(p);
}

int ap_submit(ap_poster *p, int key, uint64_t seq, const char *json, size_t len)
{
    if (len >= AP_SLOT_BYTES || key < 0 || key >= p->n_keys)
        return -EMSGSIZE;
    if (p->n_free == 0)
        return -EAGAIN;
    ap_slot *s = p->free_list[--p->n_free];
    memset(&s->r, 0, sizeof(s->r));
    memset(s->url_ok, 0, sizeof(s->url_ok));
    s->r.key = key;
    s->r.seq = seq;
    s->rounds = 0;
    s->next_try_ms = 0;
    s->len = len;
    memcpy(s->json, json, len);
    s->json[len] = '\0';
    spsc_try_push(&p->out, s); /* room: the ring holds every slot */
    return 0;
}

int ap_collect(ap_poster *p, void (*done)(void *ud, const ap_result *r), void *ud)
{
    int n = 0;
    ap_slot *s;
    while ((s = spsc_try_pop(&p->back)) != NULL) {
        done(ud, &s->r);
        p->free_list[p->n_free++] = s;
        n++;
    }
    return n;
}

int ap_pending(const ap_poster *p)
{
    return p->n_slots - p->n_free;
}
