/*
 * src/base/redact.c: removing known secret values from upstream bytes
 * (see redact.h). Pure code: no I/O, no locks (one gw_redact per request).
 */
#include "base/redact.h"
#include "base/codec.h"
#include "base/url.h"

#include <stdlib.h>
#include <string.h>

#define GW_MARK_LEN (sizeof(GW_REDACT_MARK) - 1)

void gw_redact_init(gw_redact *r)
{
    memset(r, 0, sizeof(*r));
}

int gw_redact_active(const gw_redact *r)
{
    return r != NULL && r->n > 0;
}

static void gw_wipe_free(char *p, size_t n)
{
    if (p == NULL)
        return;
    explicit_bzero(p, n);
    free(p);
}

void gw_redact_free(gw_redact *r)
{
    for (size_t i = 0; i < r->n; i++) {
        gw_wipe_free(r->nd[i].s, r->nd[i].len);
        free(r->nd[i].fail);
    }
    gw_wipe_free(r->carry, r->maxlen);
    gw_wipe_free(r->join, r->join_cap);
    gw_redact_init(r);
}

void gw_redact_restart(gw_redact *r)
{
    if (r->carry != NULL)
        explicit_bzero(r->carry, r->carry_len);
    r->carry_len = 0;
}

/* Adds one searched byte string (owned copy + KMP table); duplicates are skipped. */
static int gw_redact_add_needle(gw_redact *r, const char *s, size_t n)
{
    gw_redact_needle *nd;
    size_t k = 0;

    for (size_t i = 0; i < r->n; i++)
        if (r->nd[i].len == n && memcmp(r->nd[i].s, s, n) == 0)
            return 0;
    if (r->n == GW_REDACT_MAX_NEEDLES)
        return -1;
    nd = &r->nd[r->n];
    nd->s = malloc(n);
    nd->fail = malloc(n * sizeof(size_t));
    if (nd->s == NULL || nd->fail == NULL) {
        free(nd->s);
        free(nd->fail);
        nd->s = NULL;
        nd->fail = NULL;
        return -1;
    }
    memcpy(nd->s, s, n);
    nd->len = n;
    nd->fail[0] = 0;
    for (size_t i = 1; i < n; i++) {
        while (k > 0 && s[i] != s[k])
            k = nd->fail[k - 1];
        if (s[i] == s[k])
            k++;
        nd->fail[i] = k;
    }
    if (n > r->maxlen) {
        char *c = malloc(n);
        if (c == NULL) {
            gw_wipe_free(nd->s, n);
            free(nd->fail);
            nd->s = NULL;
            nd->fail = NULL;
            return -1;
        }
        if (r->carry_len > 0)
            memcpy(c, r->carry, r->carry_len);
        gw_wipe_free(r->carry, r->maxlen);
        r->carry = c;
        r->maxlen = n;
    }
    r->n++;
    return 0;
}

/* The JSON string escaping of v (without quotes) into out (6 * n bytes). */
static size_t gw_json_form(const char *v, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"' || c == '\\' || c == '/') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = gw_hex_lower[c >> 4];
            out[o + 5] = gw_hex_lower[c & 15];
            o += 6;
        } else {
            out[o++] = (char)c;
        }
    }
    return o;
}

int gw_redact_add(gw_redact *r, const char *v, size_t n)
{
    char *tmp;
    size_t m;
    int rc;

    if (v == NULL || n < GW_REDACT_MIN_LEN)
        return 0;
    if (gw_redact_add_needle(r, v, n) != 0)
        return -1;
    if ((tmp = malloc(6 * n)) == NULL)
        return -1;
    m = gw_json_form(v, n, tmp);
    rc = gw_redact_add_needle(r, tmp, m);
    if (rc == 0) {
        m = gw_url_encode(v, n, tmp);
        rc = gw_redact_add_needle(r, tmp, m);
    }
    gw_wipe_free(tmp, 6 * n);
    return rc;
}

/* Longest tail of buf[0..len) that is a proper prefix of needle nd. */
static size_t gw_redact_tail(const gw_redact_needle *nd, const char *buf, size_t len)
{
    size_t w = len < nd->len - 1 ? len : nd->len - 1, k = 0;

    for (const char *p = buf + len - w; p < buf + len; p++) {
        while (k > 0 && *p != nd->s[k])
            k = nd->fail[k - 1];
        if (*p == nd->s[k])
            k++;
        /* k == nd->len cannot happen: the window is shorter than the needle */
    }
    return k;
}

/*
 * Scans buf[0..len): every occurrence is replaced; when !final, the
 * longest tail that may begin an occurrence is not passed on and its
 * length goes to *held.
 */
static int gw_redact_scan(gw_redact *r, const char *buf, size_t len, int final, gw_redact_sink sink, void *ctx,
                          size_t *held)
{
    const char *next[GW_REDACT_MAX_NEEDLES];
    size_t pos = 0, hold = 0;

    for (size_t i = 0; i < r->n; i++)
        next[i] = memmem(buf, len, r->nd[i].s, r->nd[i].len);
    for (;;) {
        const char *best = NULL;
        size_t blen = 0;
        for (size_t i = 0; i < r->n; i++) {
            if (next[i] != NULL && next[i] < buf + pos)
                next[i] = memmem(buf + pos, len - pos, r->nd[i].s, r->nd[i].len);
            if (next[i] != NULL && (best == NULL || next[i] < best || (next[i] == best && r->nd[i].len > blen))) {
                best = next[i];
                blen = r->nd[i].len;
            }
        }
        if (best == NULL)
            break;
        if ((best > buf + pos && sink(ctx, buf + pos, (size_t)(best - (buf + pos))) != 0) ||
            sink(ctx, GW_REDACT_MARK, GW_MARK_LEN) != 0)
            return -1;
        r->replaced++;
        pos = (size_t)(best - buf) + blen;
    }
    if (!final)
        for (size_t i = 0; i < r->n; i++) {
            size_t t = gw_redact_tail(&r->nd[i], buf + pos, len - pos);
            if (t > hold)
                hold = t;
        }
    if (len - hold > pos && sink(ctx, buf + pos, len - hold - pos) != 0)
        return -1;
    if (held != NULL)
        *held = hold;
    return 0;
}

int gw_redact_feed(gw_redact *r, const char *data, size_t len, gw_redact_sink sink, void *ctx)
{
    const char *buf = data;
    size_t total = len, held = 0;

    if (r->n == 0)
        return len > 0 ? sink(ctx, data, len) : 0;
    if (r->carry_len > 0) {
        /* a held tail: scan it joined with this chunk */
        if (r->carry_len + len > r->join_cap) {
            size_t cap = r->carry_len + len;
            char *j = malloc(cap);
            if (j == NULL)
                return -1;
            gw_wipe_free(r->join, r->join_cap);
            r->join = j;
            r->join_cap = cap;
        }
        memcpy(r->join, r->carry, r->carry_len);
        memcpy(r->join + r->carry_len, data, len);
        buf = r->join;
        total = r->carry_len + len;
        r->carry_len = 0;
    }
    if (gw_redact_scan(r, buf, total, 0, sink, ctx, &held) != 0)
        return -1;
    /* held < maxlen: the carry has room; memmove as buf may be the join buffer */
    memmove(r->carry, buf + total - held, held);
    r->carry_len = held;
    return 0;
}

int gw_redact_flush(gw_redact *r, gw_redact_sink sink, void *ctx)
{
    size_t n = r->carry_len;

    r->carry_len = 0;
    /* the held tail is a proper prefix of a value: never an occurrence */
    return n > 0 ? sink(ctx, r->carry, n) : 0;
}

typedef struct gw_redact_out {
    char *p;
    size_t len;
    size_t cap; /* bytes for text, the NUL excluded */
} gw_redact_out;

static int gw_redact_out_sink(void *ctx, const char *data, size_t len)
{
    gw_redact_out *o = ctx;
    size_t room = o->cap - o->len;

    if (len > room)
        len = room;
    memcpy(o->p + o->len, data, len);
    o->len += len;
    return 0;
}

size_t gw_redact_copy(gw_redact *r, const char *in, size_t n, char *out, size_t cap)
{
    gw_redact_out o = {out, 0, cap > 0 ? cap - 1 : 0};

    if (cap == 0)
        return 0;
    if (r == NULL || r->n == 0)
        gw_redact_out_sink(&o, in, n);
    else
        (void)gw_redact_scan(r, in, n, 1, gw_redact_out_sink, &o, NULL);
    out[o.len] = '\0';
    return o.len;
}
