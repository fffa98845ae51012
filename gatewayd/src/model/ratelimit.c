/*
 * src/model/ratelimit.c: per-app and per-LLM token buckets (see
 * ratelimit.h for the rules).
 *
 * Arithmetic: a level is in 1/GW_RL_SCALE of a unit with GW_RL_SCALE =
 * 60000 (milliseconds per minute), so a bucket of `limit` per minute holds
 * limit × 60000 and gains exactly `limit` per elapsed millisecond. Levels
 * never go below GW_RL_LEVEL_MIN and a charge is capped at
 * GW_RL_CHARGE_MAX units: every product stays far inside int64.
 *
 * Locking: GW_RL_SHARDS shards, each a mutex over its hash chains and the
 * buckets in them (a bucket's fields are read and written only under its
 * shard's mutex). gw_ratelimit_admit locks the distinct shards of its
 * buckets in ascending order; gw_ratelimit_charge and gw_ratelimit_level
 * lock one shard at a time. Buckets are freed only by
 * gw_ratelimit_destroy, when no request runs.
 */
#include "model/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_RL_SCALE 60000LL                  /* level units per unit; = ms per minute */
#define GW_RL_LEVEL_MIN (-60000000000000000LL) /* -6e16: a deficit of a million minutes at the largest limit */
#define GW_RL_CHARGE_MAX 100000000000LL      /* tokens charged at most per request (1e11) */
#define GW_RL_HEADS 256                       /* hash chains per shard */

typedef struct gw_rl_bucket {
    struct gw_rl_bucket *next;
    int64_t id;
    int subject; /* 0 app, 1 LLM */
    int tokens;  /* 0 requests, 1 tokens */
    int64_t limit;
    int64_t level; /* in 1/GW_RL_SCALE units */
    int64_t t_ms;  /* when level was last brought up to date */
} gw_rl_bucket;

typedef struct gw_rl_shard {
    pthread_mutex_t mu;
    gw_rl_bucket *heads[GW_RL_HEADS];
} gw_rl_shard;

struct gw_ratelimits {
    gw_rl_shard shards[GW_RL_SHARDS];
};

int gw_ratelimit_create(gw_ratelimits **out, char err[GW_ERR_LEN])
{
    gw_ratelimits *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return gw_errf(err, "out of memory");
    for (int i = 0; i < GW_RL_SHARDS; i++)
        pthread_mutex_init(&rl->shards[i].mu, NULL);
    *out = rl;
    return 0;
}

void gw_ratelimit_destroy(gw_ratelimits *rl)
{
    if (rl == NULL)
        return;
    for (int i = 0; i < GW_RL_SHARDS; i++) {
        for (int h = 0; h < GW_RL_HEADS; h++) {
            gw_rl_bucket *b = rl->shards[i].heads[h];
            while (b != NULL) {
                gw_rl_bucket *n = b->next;
                free(b);
                b = n;
            }
        }
        pthread_mutex_destroy(&rl->shards[i].mu);
    }
    free(rl);
}

static uint64_t gw_rl_hash(int subject, int tokens, int64_t id)
{
    uint64_t h = ((uint64_t)id << 2 | (uint64_t)(subject << 1 | tokens)) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}

static int gw_rl_shard_of(int subject, int tokens, int64_t id)
{
    return (int)(gw_rl_hash(subject, tokens, id) % GW_RL_SHARDS);
}

/* The bucket, under its shard's mutex; NULL when absent and not created
 * (create = 0, or out of memory). A new one starts full at limit. */
static gw_rl_bucket *gw_rl_find(gw_rl_shard *s, int subject, int tokens, int64_t id, int64_t limit, int create,
                                int64_t now_ms)
{
    size_t h = (size_t)(gw_rl_hash(subject, tokens, id) / GW_RL_SHARDS % GW_RL_HEADS);
    gw_rl_bucket *b;

    for (b = s->heads[h]; b != NULL; b = b->next)
        if (b->id == id && b->subject == subject && b->tokens == tokens)
            return b;
    if (!create)
        return NULL;
    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    b->id = id;
    b->subject = subject;
    b->tokens = tokens;
    b->limit = limit;
    b->level = limit * GW_RL_SCALE;
    b->t_ms = now_ms;
    b->next = s->heads[h];
    s->heads[h] = b;
    return b;
}

/* ceil(a / b) for a >= 0, b > 0 */
static int64_t gw_rl_ceil_div(int64_t a, int64_t b)
{
    return a <= 0 ? 0 : (a + b - 1) / b;
}

/* Brings b up to now_ms at limit: resized when the limit changed (level
 * kept, capped at the new size), then refilled for the time elapsed. */
static void gw_rl_refill(gw_rl_bucket *b, int64_t limit, int64_t now_ms)
{
    int64_t cap, elapsed;

    if (limit < 1)
        limit = 1;
    if (limit > GW_RL_LIMIT_MAX)
        limit = GW_RL_LIMIT_MAX;
    cap = limit * GW_RL_SCALE;
    if (b->limit != limit) {
        b->limit = limit;
        if (b->level > cap)
            b->level = cap;
    }
    elapsed = now_ms - b->t_ms;
    if (elapsed <= 0) /* same instant (or a clock that went back): no refill */
        return;
    b->t_ms = now_ms;
    if (b->level >= cap)
        return;
    if (elapsed >= gw_rl_ceil_div(cap - b->level, limit))
        b->level = cap;
    else
        b->level += elapsed * limit; /* < cap - level + limit: no overflow */
}

static void gw_rl_view_of(const gw_rl_bucket *b, gw_rl_view *v)
{
    int64_t cap = b->limit * GW_RL_SCALE;
    int64_t remaining = b->level > 0 ? b->level / GW_RL_SCALE : 0;
    int64_t reset = gw_rl_ceil_div(cap - b->level, b->limit);

    /* the tighter of two: fewer whole units left, then the lower limit */
    if (v->set && (v->remaining < remaining || (v->remaining == remaining && v->limit <= b->limit)))
        return;
    v->set = 1;
    v->limit = b->limit;
    v->remaining = remaining;
    v->reset_ms = reset;
}

int gw_ratelimit_applies(const gw_rl_limits *lim)
{
    return (lim->app_id > 0 && (lim->app_rpm > 0 || lim->app_tpm > 0)) ||
           (lim->llm_id > 0 && (lim->llm_rpm > 0 || lim->llm_tpm > 0));
}

typedef struct gw_rl_use {
    int subject, tokens;
    int64_t id, limit;
    int shard;
    gw_rl_bucket *b;
    gw_rl_result refusal; /* what it means when this bucket refuses */
} gw_rl_use;

gw_rl_result gw_ratelimit_admit(gw_ratelimits *rl, const gw_rl_limits *lim, int64_t now_ms, gw_rl_ticket *t)
{
    /* checked in this order: the app's requests, the LLM's, then tokens */
    const gw_rl_use all[4] = {
        {0, 0, lim->app_id, lim->app_rpm, 0, NULL, GW_RL_APP_REQUESTS},
        {1, 0, lim->llm_id, lim->llm_rpm, 0, NULL, GW_RL_LLM_REQUESTS},
        {0, 1, lim->app_id, lim->app_tpm, 0, NULL, GW_RL_APP_TOKENS},
        {1, 1, lim->llm_id, lim->llm_tpm, 0, NULL, GW_RL_LLM_TOKENS},
    };
    gw_rl_use use[4];
    int n = 0, locked[GW_RL_SHARDS] = {0};
    gw_rl_result res = GW_RL_OK;

    memset(t, 0, sizeof(*t));
    for (int i = 0; i < 4; i++) {
        if (all[i].id <= 0 || all[i].limit <= 0)
            continue;
        use[n] = all[i];
        if (use[n].limit > GW_RL_LIMIT_MAX)
            use[n].limit = GW_RL_LIMIT_MAX;
        use[n].shard = gw_rl_shard_of(use[n].subject, use[n].tokens, use[n].id);
        locked[use[n].shard] = 1;
        n++;
    }
    if (n == 0)
        return GW_RL_OK;
    for (int s = 0; s < GW_RL_SHARDS; s++) /* ascending: no deadlock */
        if (locked[s])
            pthread_mutex_lock(&rl->shards[s].mu);

    for (int i = 0; i < n && res == GW_RL_OK; i++) {
        use[i].b = gw_rl_find(&rl->shards[use[i].shard], use[i].subject, use[i].tokens, use[i].id, use[i].limit, 1,
                              now_ms);
        if (use[i].b == NULL)
            res = GW_RL_ERROR;
        else
            gw_rl_refill(use[i].b, use[i].limit, now_ms);
    }
    /* every bucket must admit before any is charged */
    for (int i = 0; i < n && res == GW_RL_OK; i++) {
        gw_rl_bucket *b = use[i].b;
        int64_t need = b->tokens ? 1 : GW_RL_SCALE; /* tokens: above 0; requests: one whole */
        if (b->level < need) {
            res = use[i].refusal;
            t->limit = b->limit;
            t->retry_after_s = gw_rl_ceil_div(gw_rl_ceil_div(need - b->level, b->limit), 1000);
            if (t->retry_after_s < 1)
                t->retry_after_s = 1;
        }
    }
    if (res == GW_RL_OK)
        for (int i = 0; i < n; i++)
            if (!use[i].b->tokens)
                use[i].b->level -= GW_RL_SCALE;
    if (res != GW_RL_ERROR)
        for (int i = 0; i < n; i++) {
            gw_rl_view_of(use[i].b, use[i].tokens ? &t->tokens : &t->requests);
            if (res == GW_RL_OK && use[i].tokens) {
                if (use[i].subject == 0)
                    t->app_tok_id = use[i].id;
                else
                    t->llm_tok_id = use[i].id;
            }
        }

    for (int s = GW_RL_SHARDS - 1; s >= 0; s--)
        if (locked[s])
            pthread_mutex_unlock(&rl->shards[s].mu);
    return res;
}

static void gw_rl_take(gw_ratelimits *rl, int subject, int64_t id, int64_t tokens, int64_t now_ms)
{
    int sh = gw_rl_shard_of(subject, 1, id);
    gw_rl_shard *s = &rl->shards[sh];
    gw_rl_bucket *b;

    pthread_mutex_lock(&s->mu);
    b = gw_rl_find(s, subject, 1, id, 0, 0, now_ms);
    if (b != NULL) {
        gw_rl_refill(b, b->limit, now_ms);
        b->level -= tokens * GW_RL_SCALE;
        if (b->level < GW_RL_LEVEL_MIN)
            b->level = GW_RL_LEVEL_MIN;
    }
    pthread_mutex_unlock(&s->mu);
}

void gw_ratelimit_charge(gw_ratelimits *rl, const gw_rl_ticket *t, int64_t tokens, int64_t now_ms)
{
    if (rl == NULL || tokens <= 0)
        return;
    if (tokens > GW_RL_CHARGE_MAX)
        tokens = GW_RL_CHARGE_MAX;
    if (t->app_tok_id > 0)
        gw_rl_take(rl, 0, t->app_tok_id, tokens, now_ms);
    if (t->llm_tok_id > 0)
        gw_rl_take(rl, 1, t->llm_tok_id, tokens, now_ms);
}

int64_t gw_ratelimit_level(gw_ratelimits *rl, int is_llm, int tokens, int64_t id, int64_t now_ms)
{
    int subject = is_llm ? 1 : 0, tok = tokens ? 1 : 0;
    gw_rl_shard *s = &rl->shards[gw_rl_shard_of(subject, tok, id)];
    gw_rl_bucket *b;
    int64_t level = 0;

    pthread_mutex_lock(&s->mu);
    b = gw_rl_find(s, subject, tok, id, 0, 0, now_ms);
    if (b != NULL) {
        gw_rl_refill(b, b->limit, now_ms);
        /* whole units, rounded down (towards minus infinity) */
        level = b->level >= 0 ? b->level / GW_RL_SCALE : -gw_rl_ceil_div(-b->level, GW_RL_SCALE);
    }
    pthread_mutex_unlock(&s->mu);
    return level;
}

const char *gw_ratelimit_duration(int64_t ms, char *out, size_t cap)
{
    int64_t h, m, sec, frac;
    size_t len = 0;
    char fs[8];

    if (ms <= 0) {
        snprintf(out, cap, "0s");
        return out;
    }
    if (ms < 1000) {
        snprintf(out, cap, "%lldms", (long long)ms);
        return out;
    }
    h = ms / 3600000;
    m = ms / 60000 % 60;
    sec = ms / 1000 % 60;
    frac = ms % 1000;
    out[0] = '\0';
    if (h > 0)
        len += (size_t)snprintf(out + len, cap - len, "%lldh", (long long)h);
    if ((h > 0 || m > 0) && len < cap)
        len += (size_t)snprintf(out + len, cap - len, "%lldm", (long long)m);
    fs[0] = '\0';
    if (frac > 0) {
        snprintf(fs, sizeof(fs), ".%03lld", (long long)frac);
        for (size_t k = strlen(fs); k > 1 && fs[k - 1] == '0'; k--)
            fs[k - 1] = '\0';
    }
    if (len < cap)
        snprintf(out + len, cap - len, "%llds", (long long)sec);
    len = strlen(out);
    if (fs[0] != '\0' && len > 0 && len < cap) {
        /* the fraction goes before the final "s" */
        out[len - 1] = '\0';
        snprintf(out + len - 1, cap - (len - 1), "%ss", fs);
    }
    return out;
}
