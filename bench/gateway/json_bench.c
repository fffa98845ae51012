/*
 * bench/gateway/json_bench.c: the cost of reading the fields the gateway
 * checks (model, stream, max_tokens) from a 2 KB chat-completions body,
 * two ways: gatewayd's one-pass field scanner (gw_json_scan_object,
 * src/base/json.c) and validation followed by navigation
 * (gw_vj_parse + gw_vj_get, src/base/vjson.c). Prints ns per body for
 * each (the median of 7 runs). The header of src/base/json.c quotes it.
 *   make -C bench/gateway json_bench && bench/gateway/json_bench
 */
#include "../../gatewayd/src/base/buf.c"
#include "../../gatewayd/src/base/codec.c"
#include "../../gatewayd/src/base/json.c"
#include "../../gatewayd/src/base/vjson.c"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RUNS 7
#define ITER 200000

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A realistic body: a system prompt, a few turns, then the scalars. */
static size_t make_body(char *out, size_t cap)
{
    size_t n = 0;
    n += (size_t)snprintf(out + n, cap - n, "{\"messages\":[{\"role\":\"system\",\"content\":\"");
    for (int i = 0; i < 28; i++)
        n += (size_t)snprintf(out + n, cap - n, "You are a careful assistant; answer briefly. ");
    n += (size_t)snprintf(out + n, cap - n, "\"}");
    for (int t = 0; t < 6; t++)
        n += (size_t)snprintf(out + n, cap - n,
                              ",{\"role\":\"%s\",\"content\":\"Turn %d: what does \\\"idempotent\\\" mean for a "
                              "PUT request, with an example?\"}",
                              t % 2 ? "assistant" : "user", t);
    n += (size_t)snprintf(out + n, cap - n,
                          "],\"temperature\":0.2,\"top_p\":1,\"user\":\"bench\",\"model\":\"gpt-4o-mini\","
                          "\"stream\":true,\"max_tokens\":256}");
    return n;
}

int main(void)
{
    static char body[4096];
    size_t len = make_body(body, sizeof(body));
    double scan[RUNS], nav[RUNS];
    long sink = 0;

    for (int r = 0; r < RUNS; r++) {
        double t0 = now_ns();
        for (int i = 0; i < ITER; i++) {
            gw_json_field f[3] = {{"model", {0}}, {"stream", {0}}, {"max_tokens", {0}}};
            if (gw_json_scan_object(body, len, GW_JSON_DEFAULT_MAX_DEPTH, f, 3, NULL) != 0)
                return 1;
            sink += (long)f[0].value.len + (long)f[2].value.len + f[1].value.type;
        }
        scan[r] = (now_ns() - t0) / ITER;
        t0 = now_ns();
        for (int i = 0; i < ITER; i++) {
            gw_json_value root, m, s, mt;
            if (gw_vj_parse(body, len, &root, NULL) != 0)
                return 1;
            gw_vj_get(&root, "model", &m);
            gw_vj_get(&root, "stream", &s);
            gw_vj_get(&root, "max_tokens", &mt);
            sink += (long)m.len + (long)mt.len + s.type;
        }
        nav[r] = (now_ns() - t0) / ITER;
    }
    qsort(scan, RUNS, sizeof(double), cmp);
    qsort(nav, RUNS, sizeof(double), cmp);
    printf("body %zu bytes\n", len);
    printf("scan_object (one pass)        %8.0f ns\n", scan[RUNS / 2]);
    printf("vj_parse + 3 x vj_get         %8.0f ns  (%.2fx)\n", nav[RUNS / 2], nav[RUNS / 2] / scan[RUNS / 2]);
    return sink == 42; /* keep the work */
}
