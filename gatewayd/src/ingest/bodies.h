/*
 * src/ingest/bodies.h: request/response body capture (LLMs with
 * capture_bodies, docs/gateway.md "Body capture"). The gateway fills one
 * gw_event_bodies per request (gateway/proxy_relay.c) and hands it to the
 * request's event (analytics.h), which writes it to
 * aistudio.request_bodies with the event.
 */
#ifndef GW_INGEST_BODIES_H
#define GW_INGEST_BODIES_H

#include <stddef.h>

/*
 * The captured bodies of one request (LLMs with capture_bodies, see
 * docs/gateway.md "Body capture"): the request as sent upstream and the
 * answer as the client got it, each cut at cap bytes (then flagged
 * truncated), NUL-terminated. Owned by the event that carries them: freed
 * once the event is in the database, spooled or dropped. Neither the spool
 * nor the journal keeps them: an event replayed from either has none.
 */
typedef struct gw_event_bodies {
    size_t cap;
    char *request; /* NULL: none */
    size_t request_len;
    int request_truncated;
    char *response; /* NULL: nothing relayed */
    size_t response_len, response_alloc;
    int response_truncated;
} gw_event_bodies;

/* A capture of at most cap bytes a body; NULL when out of memory. */
gw_event_bodies *gw_event_bodies_new(size_t cap);
/* Keeps the first cap bytes of the request body; -1 when out of memory. */
int gw_event_bodies_set_request(gw_event_bodies *b, const char *data, size_t len);
/* Appends to the response up to the cap (the rest only sets the flag);
 * -1 when out of memory (the capture then keeps what it had, flagged). */
int gw_event_bodies_add_response(gw_event_bodies *b, const char *data, size_t len);
void gw_event_bodies_free(gw_event_bodies *b);

#endif
