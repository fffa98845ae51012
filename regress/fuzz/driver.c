/*
 * regress/fuzz/driver.c: runs a fuzz target without libFuzzer, so every CI
 * run exercises it under AddressSanitizer + UBSan with gcc. Deterministic:
 * first every file of the seed corpus (corpus/<target>/, in name order) as
 * is, then GW_FUZZ_RUNS (default 100000) inputs made by a fixed-seed
 * xorshift generator: seeds mutated (bit flips, random bytes, inserted or
 * deleted runs, duplicated runs, tokens from a small dictionary of the
 * syntax the parsers care about, splices of two seeds) and some purely
 * random inputs. Each input is a malloc'd copy of exactly its length, so a
 * read past the end is a sanitizer report. Prints TAP: "ok 1 - …" when the
 * target survived every input (a sanitizer report or an abort() in the
 * target's own invariant checks ends the process with an error instead).
 *
 *   bin/drive_json [CORPUS_DIR [RUNS]]
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef GW_FUZZ_NAME
#error "build with -DGW_FUZZ_NAME='\"target\"'"
#endif

#define GW_FUZZ_MAX_LEN 8192
#define GW_FUZZ_MAX_SEEDS 256

typedef struct seed {
    uint8_t *data;
    size_t len;
} seed;

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static size_t below(size_t n)
{
    return n == 0 ? 0 : (size_t)(rnd() % n);
}

static const char *const dict[] = {
    "\"", "\\", "\\u0000", "\\u001f", "\\ud800", "\\udc00", "\\ud83d\\ude00", "{", "}", "[", "]", ":", ",", "null",
    "true", "-0", "1e999", "9223372036854775808", "\"model\":", "\"stream\":true", "\"messages\":[]", "\x7f",
    "\xc3\xa9", "\xf0\x9f\x98\x80", "\xff", "%", "%00", "%0a", "%7f", "%2e%2e", "%2F", "%3A", "/..", "/./", "//",
    "/models/", ":generateContent", ":streamGenerateContent", "?", "&", "key=", "+", "\r\n", "\0",
    "Content-Length:", "Transfer-Encoding:", "chunked", "1.0", "1.1", "/llm/rest/", "/llm/stream/", "/ai/",
    "/v1/chat/completions", "Bearer ",
};

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t load_seeds(const char *dir, seed *seeds)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *names[GW_FUZZ_MAX_SEEDS];
    size_t n = 0, ns = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL && n < GW_FUZZ_MAX_SEEDS)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(names[0]), name_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        free(names[i]);
        if ((f = fopen(path, "rb")) == NULL)
            continue;
        seeds[ns].data = malloc(GW_FUZZ_MAX_LEN);
        seeds[ns].len = fread(seeds[ns].data, 1, GW_FUZZ_MAX_LEN, f);
        fclose(f);
        ns++;
    }
    return ns;
}

/* One target call on an exact-size heap copy. */
static void run_one(const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n > 0 ? n : 1);
    if (n > 0)
        memcpy(copy, p, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
}

static size_t mutate(uint8_t *buf, size_t len, const seed *seeds, size_t ns)
{
    int k = 1 + (int)below(6);
    for (int m = 0; m < k; m++) {
        size_t pos = below(len + 1), n;
        switch (below(8)) {
        case 0: /* flip a bit */
            if (len > 0)
                buf[below(len)] ^= (uint8_t)(1u << below(8));
            break;
        case 1: /* a random byte */
            if (len > 0)
                buf[below(len)] = (uint8_t)rnd();
            break;
        case 2: /* insert random bytes */
            n = 1 + below(8);
            if (len + n <= GW_FUZZ_MAX_LEN) {
                memmove(buf + pos + n, buf + pos, len - pos);
                for (size_t i = 0; i < n; i++)
                    buf[pos + i] = (uint8_t)rnd();
                len += n;
            }
            break;
        case 3: /* delete a run */
            if (len > 0) {
                n = 1 + below(len - pos > 16 ? 16 : (len - pos > 0 ? len - pos : 1));
                if (pos + n > len)
                    n = len - pos;
                memmove(buf + pos, buf + pos + n, len - pos - n);
                len -= n;
            }
            break;
        case 4: /* duplicate a run */
            if (len > 0) {
                size_t from = below(len);
                n = 1 + below(len - from > 64 ? 64 : len - from);
                if (len + n <= GW_FUZZ_MAX_LEN) {
                    uint8_t tmp[64];
                    memcpy(tmp, buf + from, n);
                    memmove(buf + pos + n, buf + pos, len - pos);
                    memcpy(buf + pos, tmp, n);
                    len += n;
                }
            }
            break;
        case 5:
        case 6: { /* a dictionary token (dict entries may hold a NUL: "\0" is one byte) */
            const char *t = dict[below(sizeof(dict) / sizeof(dict[0]))];
            n = t[0] == '\0' ? 1 : strlen(t);
            if (len + n <= GW_FUZZ_MAX_LEN) {
                memmove(buf + pos + n, buf + pos, len - pos);
                memcpy(buf + pos, t, n);
                len += n;
            }
            break;
        }
        default: /* splice in a piece of another seed */
            if (ns > 0) {
                const seed *o = &seeds[below(ns)];
                size_t from = below(o->len + 1);
                n = below(o->len - from + 1);
                if (pos + n > GW_FUZZ_MAX_LEN)
                    n = GW_FUZZ_MAX_LEN - pos;
                memcpy(buf + pos, o->data + from, n);
                if (pos + n > len)
                    len = pos + n;
            }
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    static seed seeds[GW_FUZZ_MAX_SEEDS];
    char dir[1024];
    const char *env = getenv("GW_FUZZ_RUNS");
    long runs = argc > 2 ? atol(argv[2]) : env != NULL ? atol(env) : 100000;
    size_t ns;
    uint8_t *buf = malloc(GW_FUZZ_MAX_LEN);

    snprintf(dir, sizeof(dir), "%s", argc > 1 ? argv[1] : "corpus/" GW_FUZZ_NAME);
    ns = load_seeds(dir, seeds);
    for (size_t i = 0; i < ns; i++)
        run_one(seeds[i].data, seeds[i].len);
    /* a fixed seed per target: the same inputs on every run */
    rng_state = 0x9e3779b97f4a7c15ull;
    for (const char *c = GW_FUZZ_NAME; *c != '\0'; c++)
        rng_state = (rng_state ^ (uint8_t)*c) * 0x100000001b3ull;
    for (long i = 0; i < runs; i++) {
        size_t len;
        if (ns == 0 || below(8) == 0) {
            len = below(512);
            for (size_t j = 0; j < len; j++)
                buf[j] = (uint8_t)rnd();
        } else {
            const seed *s = &seeds[below(ns)];
            memcpy(buf, s->data, s->len);
            len = mutate(buf, s->len, seeds, ns);
        }
        run_one(buf, len);
    }
    printf("ok 1 - fuzz %s: %zu seed inputs from %s and %ld generated inputs, no sanitizer report\n", GW_FUZZ_NAME,
           ns, dir, runs);
    printf("1..1\n");
    for (size_t i = 0; i < ns; i++)
        free(seeds[i].data);
    free(buf);
    return 0;
}
