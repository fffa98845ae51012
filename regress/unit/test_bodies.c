/*
 * regress/unit/test_bodies.c: the capture buffers of request/response body
 * capture (ingest/bodies.c): the request cut at the cap, the response
 * appended up to it (growing by doubling), the flags set only when bytes
 * were cut, never more memory than the cap.
 */
#include "ingest/bodies.c"

#include "tap.h"

/* The capture buffers: the request cut at the cap, the response appended
 * up to it (growing by doubling), the flags set only when bytes were cut. */
static void test_bodies_cap(void)
{
    gw_event_bodies *b = gw_event_bodies_new(300);
    char big[1000];
    int grew_ok = 1;

    memset(big, 'x', sizeof(big));
    ok(b != NULL && gw_event_bodies_set_request(b, big, 300) == 0, "request of exactly the cap");
    is_int((int64_t)b->request_len, 300, "kept whole");
    ok(!b->request_truncated, "not flagged");
    ok(gw_event_bodies_set_request(b, big, 301) == 0 && b->request_len == 300 && b->request_truncated,
       "one byte more: cut at the cap and flagged");
    ok(b->response == NULL && !b->response_truncated, "no response before one is relayed");
    for (int i = 0; i < 299; i++)
        grew_ok &= gw_event_bodies_add_response(b, "y", 1) == 0;
    ok(grew_ok && b->response_len == 299 && !b->response_truncated, "299 one-byte pieces: kept, not flagged");
    ok(gw_event_bodies_add_response(b, "z", 1) == 0 && b->response_len == 300 && !b->response_truncated,
       "the 300th byte fills the cap");
    ok(gw_event_bodies_add_response(b, "w", 1) == 0 && b->response_len == 300 && b->response_truncated,
       "the next is cut and flagged");
    ok(b->response_alloc <= 301 && b->response[300] == '\0' && b->response[299] == 'z', "never more than the cap");
    gw_event_bodies_free(b);
    gw_event_bodies_free(NULL);
}

int main(void)
{
    test_bodies_cap();
    return tap_done();
}
