/*
 * bench/gateway/redact_bench.c: the cost of removing the vendor key from
 * upstream bytes (gatewayd/src/base/redact.c) on the relay path. Feeds
 * 256 MiB of SSE frames in 16 KiB chunks (libcurl's write size) through
 * gw_redact_feed with a 51-byte key that never occurs, then with one
 * occurrence per MiB, and prints the time per MiB next to a plain memcpy of
 * the same bytes. Not part of the product; the numbers go in
 * docs/BENCHMARKS.md.
 *
 *   make -C bench/gateway redact_bench && bench/gateway/redact_bench
 */
#include "../../gatewayd/src/base/codec.c"
#include "../../gatewayd/src/base/redact.c"
#include "../../gatewayd/src/base/url.c"

#include <stdio.h>
#include <time.h>

#define TOTAL (256u << 20)
#define CHUNK (16u << 10)

static char sink_buf[CHUNK * 2];
static size_t sunk;

static int sink(void *ctx, const char *d, size_t n)
{
    (void)ctx;
    memcpy(sink_buf, d, n < sizeof(sink_buf) ? n : sizeof(sink_buf));
    sunk += n;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    static const char key[] = "sk-proj-CANARY-0123456789abcdefghijklmnopqrstuvwxyz";
    static const char frame[] = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
                                "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello from the model \"}}]}\n\n";
    char *text = malloc(TOTAL);
    size_t fl = sizeof(frame) - 1;
    gw_redact r;
    double t0, t_copy, t_none, t_some;

    if (text == NULL)
        return 1;
    for (size_t i = 0; i < TOTAL; i++)
        text[i] = frame[i % fl];

    t0 = now_s();
    for (size_t off = 0; off < TOTAL; off += CHUNK)
        sink(NULL, text + off, CHUNK);
    t_copy = now_s() - t0;

    gw_redact_init(&r);
    gw_redact_add(&r, key, sizeof(key) - 1);
    t0 = now_s();
    for (size_t off = 0; off < TOTAL; off += CHUNK)
        gw_redact_feed(&r, text + off, CHUNK, sink, NULL);
    gw_redact_flush(&r, sink, NULL);
    t_none = now_s() - t0;

    /* one occurrence per MiB, placed across a chunk boundary */
    for (size_t off = (1u << 20) - 20; off + sizeof(key) < TOTAL; off += 1u << 20)
        memcpy(text + off, key, sizeof(key) - 1);
    t0 = now_s();
    for (size_t off = 0; off < TOTAL; off += CHUNK)
        gw_redact_feed(&r, text + off, CHUNK, sink, NULL);
    gw_redact_flush(&r, sink, NULL);
    t_some = now_s() - t0;

    printf("memcpy only:                 %.1f us/MiB\n", t_copy * 1e6 / (TOTAL >> 20));
    printf("redact, key absent:          %.1f us/MiB\n", t_none * 1e6 / (TOTAL >> 20));
    printf("redact, 1 key per MiB split: %.1f us/MiB (%llu replaced)\n", t_some * 1e6 / (TOTAL >> 20),
           (unsigned long long)r.replaced);
    gw_redact_free(&r);
    free(text);
    return 0;
}
