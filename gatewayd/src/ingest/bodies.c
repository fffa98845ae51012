/*
 * src/ingest/bodies.c: the captured bodies of one request (bodies.h): the
 * request cut at the cap, the response appended up to it, growing by
 * doubling. No locking: a capture belongs to one request, then to its event.
 */
#include "ingest/bodies.h"

#include <stdlib.h>
#include <string.h>

gw_event_bodies *gw_event_bodies_new(size_t cap)
{
    gw_event_bodies *b = calloc(1, sizeof(*b));
    if (b != NULL)
        b->cap = cap;
    return b;
}

int gw_event_bodies_set_request(gw_event_bodies *b, const char *data, size_t len)
{
    size_t n = len < b->cap ? len : b->cap;
    free(b->request);
    b->request = malloc(n + 1);
    b->request_len = 0;
    if (b->request == NULL)
        return -1;
    if (n > 0)
        memcpy(b->request, data, n);
    b->request[n] = '\0';
    b->request_len = n;
    b->request_truncated = len > n;
    return 0;
}

int gw_event_bodies_add_response(gw_event_bodies *b, const char *data, size_t len)
{
    size_t room = b->cap - b->response_len, n = len < room ? len : room;
    if (len > n)
        b->response_truncated = 1;
    if (b->response == NULL || b->response_len + n + 1 > b->response_alloc) {
        /* grows by doubling, never past the cap */
        size_t want = b->response_alloc > 0 ? b->response_alloc * 2 : 1024;
        char *p;
        if (want < b->response_len + n + 1)
            want = b->response_len + n + 1;
        if (want > b->cap + 1)
            want = b->cap + 1;
        p = realloc(b->response, want);
        if (p == NULL) {
            b->response_truncated = 1;
            return -1;
        }
        b->response = p;
        b->response_alloc = want;
    }
    if (n > 0)
        memcpy(b->response + b->response_len, data, n);
    b->response_len += n;
    b->response[b->response_len] = '\0';
    return 0;
}

void gw_event_bodies_free(gw_event_bodies *b)
{
    if (b == NULL)
        return;
    free(b->request);
    free(b->response);
    free(b);
}
