/*
 * src/pipeline/filter.c: compiling the built-in filters from their JSON
 * config and running them on text (see filter.h). Patterns compile with
 * the extension's pattern module (pattern.h), the one definition of the
 * product's pattern language; keywords are folded to lower case once, at
 * compile time, and each text once per check.
 */
#include "pipeline/filter.h"

#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/vjson.h"
#include "model/budget.h"
#include "pattern.h"

#define GW_FILTER_MAX_PATTERNS 100
#define GW_FILTER_MAX_KEYWORDS 1000
#define GW_FILTER_KEYWORD_MAX 256
#define GW_FILTER_PH_MAX 64

struct gw_filter {
    gw_filter_type type;
    int allow;    /* regex: allow-list mode */
    int pii_block; /* pii: block instead of redact */
    aistudio_pattern **pats;
    size_t npats;
    char **kw; /* folded keywords */
    size_t *kwlen;
    size_t nkw;
    int whole_word;
    gw_pii_opts pii;
    char *ph[GW_PII_KINDS];
    int64_t max_chars, max_tokens; /* 0 = no limit */
    char message[GW_HOOK_MSG_MAX];
};

/* ---- case folding (byte length preserved: every mapping stays in its UTF-8 length) ---- */

static uint32_t gw_fold_cp(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c < 0xC0)
        return c;
    if (c <= 0xDE)
        return c == 0xD7 ? c : c + 32;
    if (c >= 0x100 && c <= 0x17F) {
        if ((c <= 0x12F || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && c % 2 == 0)
            return c + 1;
        if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && c % 2 == 1)
            return c + 1;
        return c == 0x178 ? 0xFF : c;
    }
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

/* Appends s folded to lower case to b (invalid UTF-8 bytes copied as they are). */
static void gw_fold(gw_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] < 0x80 && !(p[run] >= 'A' && p[run] <= 'Z'))
            run++;
        gw_buf_append(b, p + i, run - i);
        i = run;
        if (i >= n)
            break;
        if (p[i] < 0x80) {
            char c = (char)(p[i] + 32);
            gw_buf_append(b, &c, 1);
            i++;
        } else if (gw_utf8_seq_len(p + i, n - i) == 2) {
            uint32_t cp = ((uint32_t)(p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F), f = gw_fold_cp(cp);
            unsigned char o[2] = {(unsigned char)(0xC0 | (f >> 6)), (unsigned char)(0x80 | (f & 0x3F))};
            gw_buf_append(b, o, 2);
            i += 2;
        } else {
            size_t sl = gw_utf8_seq_len(p + i, n - i);
            if (sl == 0)
                sl = 1;
            gw_buf_append(b, p + i, sl);
            i += sl;
        }
    }
}

/* 1 when the code point ending at (or starting at) p is part of a word. */
static int gw_word_cp(uint32_t c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    return !((c >= 0xA0 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x206F) ||
             (c >= 0x3000 && c <= 0x303F));
}

static uint32_t gw_cp_at(const unsigned char *p, size_t n)
{
    size_t sl = gw_utf8_seq_len(p, n);
    if (sl <= 1)
        return p[0];
    if (sl == 2)
        return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    if (sl == 3)
        return ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) | ((uint32_t)(p[2] & 0x3F) << 6) |
           (p[3] & 0x3F);
}

static uint32_t gw_cp_before(const unsigned char *s, size_t at)
{
    size_t k = at;
    while (k > 0 && at - k < 4) {
        k--;
        if ((s[k] & 0xC0) != 0x80)
            break;
    }
    return gw_cp_at(s + k, at - k);
}

/* ---- compiling ---- */

void gw_filter_free(gw_filter *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->npats; i++)
        aistudio_pattern_free(f->pats[i]);
    free(f->pats);
    for (size_t i = 0; i < f->nkw; i++)
        free(f->kw[i]);
    free(f->kw);
    free(f->kwlen);
    for (int i = 0; i < GW_PII_KINDS; i++)
        free(f->ph[i]);
    free(f);
}

/* A string member into out (decoded); 0, 1 when absent, -1 when not a string or too long. */
static int gw_cfg_str(const gw_json_value *cfg, const char *key, char *out, size_t cap)
{
    gw_json_value v;
    size_t n;
    if (!gw_vj_get(cfg, key, &v) || v.type == GW_JSON_NULL)
        return 1;
    return gw_json_get_string(&v, out, cap, &n) == 0 ? 0 : -1;
}

/* A positive integer member (0 when absent); -1 when not one. */
static int gw_cfg_count(const gw_json_value *cfg, const char *key, int64_t *out)
{
    gw_json_value v;
    *out = 0;
    if (!gw_vj_get(cfg, key, &v) || v.type == GW_JSON_NULL)
        return 0;
    return gw_json_get_int64(&v, out) == 0 && *out >= 1 ? 0 : -1;
}

static int gw_filter_regex(gw_filter *f, const gw_json_value *cfg, char err[GW_ERR_LEN])
{
    gw_json_value pats, e;
    gw_vj_iter it;
    char action[16];
    size_t n = 0;

    if (!gw_vj_get(cfg, "patterns", &pats) || pats.type != GW_JSON_ARRAY || gw_vj_array_empty(&pats))
        return gw_errf(err, "config.patterns must be a non-empty array of patterns");
    f->pats = calloc(GW_FILTER_MAX_PATTERNS, sizeof(*f->pats));
    if (f->pats == NULL)
        return gw_errf(err, "out of memory");
    gw_vj_iter_init(&it, &pats);
    while (gw_vj_next_elem(&it, &e)) {
        char src[AISTUDIO_PATTERN_MAX_LEN + 1], perr[AISTUDIO_PATTERN_ERR_LEN];
        size_t sl;
        if (n >= GW_FILTER_MAX_PATTERNS)
            return gw_errf(err, "config.patterns has more than %d patterns", GW_FILTER_MAX_PATTERNS);
        if (gw_json_get_string(&e, src, sizeof(src), &sl) != 0)
            return gw_errf(err, "config.patterns[%zu] is not a pattern of at most %d bytes", n + 1,
                           AISTUDIO_PATTERN_MAX_LEN);
        if (aistudio_pattern_compile(src, sl, &f->pats[n], perr) != 0)
            return gw_errf(err, "config.patterns[%zu]: %s", n + 1, perr);
        f->npats = ++n;
    }
    switch (gw_cfg_str(cfg, "action", action, sizeof(action))) {
    case 1:
        break;
    case 0:
        if (strcmp(action, "allow") == 0) {
            f->allow = 1;
            break;
        }
        if (strcmp(action, "block") == 0)
            break;
        /* fallthrough */
    default:
        return gw_errf(err, "config.action must be \"block\" or \"allow\"");
    }
    return 0;
}

static int gw_filter_keywords(gw_filter *f, const gw_json_value *cfg, char err[GW_ERR_LEN])
{
    gw_json_value kws, e, ww;
    gw_vj_iter it;
    size_t n = 0;

    if (!gw_vj_get(cfg, "keywords", &kws) || kws.type != GW_JSON_ARRAY || gw_vj_array_empty(&kws))
        return gw_errf(err, "config.keywords must be a non-empty array of strings");
    f->kw = calloc(GW_FILTER_MAX_KEYWORDS, sizeof(char *));
    f->kwlen = calloc(GW_FILTER_MAX_KEYWORDS, sizeof(size_t));
    if (f->kw == NULL || f->kwlen == NULL)
        return gw_errf(err, "out of memory");
    gw_vj_iter_init(&it, &kws);
    while (gw_vj_next_elem(&it, &e)) {
        char raw[GW_FILTER_KEYWORD_MAX + 1];
        size_t kl;
        gw_buf b;
        if (n >= GW_FILTER_MAX_KEYWORDS)
            return gw_errf(err, "config.keywords has more than %d keywords", GW_FILTER_MAX_KEYWORDS);
        if (gw_json_get_string(&e, raw, sizeof(raw), &kl) != 0 || kl == 0)
            return gw_errf(err, "config.keywords[%zu] is not a keyword of 1 to %d bytes", n + 1,
                           GW_FILTER_KEYWORD_MAX);
        gw_buf_init(&b, 0);
        gw_fold(&b, raw, kl);
        if (gw_buf_append(&b, "", 1) != 0) {
            gw_buf_free(&b);
            return gw_errf(err, "out of memory");
        }
        f->kw[n] = b.data;
        f->kwlen[n] = kl;
        f->nkw = ++n;
    }
    if (gw_vj_get(cfg, "whole_word", &ww) && ww.type != GW_JSON_NULL && gw_json_get_bool(&ww, &f->whole_word) != 0)
        return gw_errf(err, "config.whole_word must be true or false");
    return 0;
}

static int gw_filter_pii_cfg(gw_filter *f, const gw_json_value *cfg, char err[GW_ERR_LEN])
{
    gw_json_value kinds, e, phs, k, v;
    gw_vj_iter it;
    char action[16];

    f->pii.kinds = GW_PII_ALL;
    if (gw_vj_get(cfg, "kinds", &kinds) && kinds.type != GW_JSON_NULL) {
        if (kinds.type != GW_JSON_ARRAY || gw_vj_array_empty(&kinds))
            return gw_errf(err, "config.kinds must be a non-empty array of email, phone, card, iban");
        f->pii.kinds = 0;
        gw_vj_iter_init(&it, &kinds);
        while (gw_vj_next_elem(&it, &e)) {
            char name[16];
            int bit;
            size_t nl;
            if (gw_json_get_string(&e, name, sizeof(name), &nl) != 0 || (bit = gw_pii_kind_parse(name, nl)) == 0)
                return gw_errf(err, "config.kinds: kinds are email, phone, card and iban");
            f->pii.kinds |= bit;
        }
    }
    if (gw_vj_get(cfg, "placeholders", &phs) && phs.type != GW_JSON_NULL) {
        if (phs.type != GW_JSON_OBJECT)
            return gw_errf(err, "config.placeholders must be an object of kind: text");
        gw_vj_iter_init(&it, &phs);
        while (gw_vj_next_member(&it, &k, &v)) {
            char name[16], ph[GW_FILTER_PH_MAX + 1];
            size_t nl, pl;
            int bit = 0;
            if (gw_json_get_string(&k, name, sizeof(name), &nl) == 0)
                bit = gw_pii_kind_parse(name, nl);
            if (bit == 0)
                return gw_errf(err, "config.placeholders: kinds are email, phone, card and iban");
            if (gw_json_get_string(&v, ph, sizeof(ph), &pl) != 0)
                return gw_errf(err, "config.placeholders.%s must be a text of at most %d bytes", name,
                               GW_FILTER_PH_MAX);
            for (int i = 0; i < GW_PII_KINDS; i++)
                if (bit == 1 << i) {
                    free(f->ph[i]);
                    if ((f->ph[i] = strdup(ph)) == NULL)
                        return gw_errf(err, "out of memory");
                    f->pii.placeholder[i] = f->ph[i];
                }
        }
    }
    switch (gw_cfg_str(cfg, "action", action, sizeof(action))) {
    case 1:
        return 0;
    case 0:
        if (strcmp(action, "redact") == 0)
            return 0;
        if (strcmp(action, "block") == 0) {
            f->pii_block = 1;
            return 0;
        }
        /* fallthrough */
    default:
        return gw_errf(err, "config.action must be \"redact\" or \"block\"");
    }
}

int gw_filter_compile(const char *type, const char *config_json, gw_filter **out, char err[GW_ERR_LEN])
{
    gw_json_value cfg;
    gw_filter *f;
    char perr[GW_ERR_LEN];
    int rc;

    *out = NULL;
    if (config_json == NULL || config_json[0] == '\0')
        config_json = "{}";
    if (gw_vj_parse(config_json, strlen(config_json), &cfg, perr) != 0 || cfg.type != GW_JSON_OBJECT)
        return gw_errf(err, "config is not a JSON object");
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return gw_errf(err, "out of memory");
    if (type != NULL && strcmp(type, "regex") == 0) {
        f->type = GW_FILTER_REGEX;
        rc = gw_filter_regex(f, &cfg, err);
    } else if (type != NULL && strcmp(type, "keywords") == 0) {
        f->type = GW_FILTER_KEYWORDS;
        rc = gw_filter_keywords(f, &cfg, err);
    } else if (type != NULL && strcmp(type, "pii") == 0) {
        f->type = GW_FILTER_PII;
        rc = gw_filter_pii_cfg(f, &cfg, err);
    } else if (type != NULL && strcmp(type, "max_prompt") == 0) {
        f->type = GW_FILTER_MAX_PROMPT;
        rc = gw_cfg_count(&cfg, "max_chars", &f->max_chars) != 0 || gw_cfg_count(&cfg, "max_tokens", &f->max_tokens) != 0
                 ? gw_errf(err, "config.max_chars and config.max_tokens must be positive integers")
                 : 0;
        if (rc == 0 && f->max_chars == 0 && f->max_tokens == 0)
            rc = gw_errf(err, "a max_prompt filter needs config.max_chars or config.max_tokens");
    } else {
        rc = gw_errf(err, "unknown filter type \"%s\"", type != NULL ? type : "");
    }
    if (rc == 0 && gw_cfg_str(&cfg, "message", f->message, sizeof(f->message)) < 0)
        rc = gw_errf(err, "config.message must be a text of at most %d bytes", GW_HOOK_MSG_MAX - 1);
    if (rc != 0) {
        gw_filter_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

gw_filter_type gw_filter_type_of(const gw_filter *f)
{
    return f->type;
}

const char *gw_filter_message(const gw_filter *f)
{
    return f->message;
}

const gw_pii_opts *gw_filter_pii(const gw_filter *f)
{
    return &f->pii;
}

int gw_filter_pii_blocks(const gw_filter *f)
{
    return f->pii_block;
}

/* ---- running ---- */

void gw_filter_outcome_init(gw_filter_outcome *o)
{
    memset(o, 0, sizeof(*o));
    gw_buf_init(&o->matches, 0);
    gw_buf_puts(&o->matches, "[");
}

void gw_filter_outcome_free(gw_filter_outcome *o)
{
    gw_buf_free(&o->matches);
}

static void gw_outcome_match(gw_filter_outcome *o, const char *fmt, ...) GW_PRINTF(2, 3);
static void gw_outcome_match(gw_filter_outcome *o, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    if (o->nmatches >= 100)
        return;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (o->nmatches++ > 0)
        gw_buf_puts(&o->matches, ",");
    gw_buf_puts(&o->matches, tmp);
}

static void gw_outcome_block(gw_filter_outcome *o, const gw_filter *f, int status, const char *code)
{
    o->action = GW_HOOK_BLOCK;
    o->status = status;
    snprintf(o->code, sizeof(o->code), "%s", code);
    if (f->message[0] != '\0')
        snprintf(o->message, sizeof(o->message), "%s", f->message);
}

/* Keywords found in text (folded into tmp); the first index or -1. */
static int gw_keywords_find(const gw_filter *f, const char *text, size_t len, gw_buf *tmp)
{
    const unsigned char *s;
    gw_buf_reset(tmp);
    gw_fold(tmp, text, len);
    if (tmp->failed || tmp->len == 0)
        return -1;
    s = (const unsigned char *)tmp->data;
    for (size_t k = 0; k < f->nkw; k++) {
        const unsigned char *p = s, *end = s + tmp->len;
        while (p < end) {
            const unsigned char *hit = memmem(p, (size_t)(end - p), f->kw[k], f->kwlen[k]);
            size_t at, e;
            if (hit == NULL)
                break;
            at = (size_t)(hit - s);
            e = at + f->kwlen[k];
            if (!f->whole_word ||
                ((at == 0 || !gw_word_cp(gw_cp_before(s, at))) && (e >= tmp->len || !gw_word_cp(gw_cp_at(s + e, tmp->len - e)))))
                return (int)k;
            p = hit + 1;
        }
    }
    return -1;
}

int gw_filter_find(const gw_filter *f, const char *text, size_t len, gw_filter_outcome *o)
{
    if (f->type == GW_FILTER_REGEX && !f->allow) {
        for (size_t i = 0; i < f->npats; i++) {
            aistudio_match m = aistudio_pattern_match(f->pats[i], text, len);
            if (m == AISTUDIO_MATCH_NO)
                continue;
            gw_outcome_match(o, m == AISTUDIO_MATCH_LIMIT ? "{\"pattern\":%zu,\"limit\":true}" : "{\"pattern\":%zu}",
                             i + 1);
            gw_outcome_block(o, f, 400, "blocked_by_filter");
            return 1;
        }
        return 0;
    }
    if (f->type == GW_FILTER_KEYWORDS) {
        gw_buf tmp;
        int k;
        gw_buf_init(&tmp, 0);
        k = gw_keywords_find(f, text, len, &tmp);
        gw_buf_free(&tmp);
        if (k < 0)
            return 0;
        {
            gw_buf q;
            gw_buf_init(&q, 0);
            gw_json_escape(&q, f->kw[k], f->kwlen[k]);
            gw_outcome_match(o, "{\"keyword\":%s}", gw_buf_cstr(&q) != NULL ? q.data : "\"\"");
            gw_buf_free(&q);
        }
        gw_outcome_block(o, f, 400, "blocked_by_filter");
        return 1;
    }
    return 0;
}

static int gw_filter_max_prompt(const gw_filter *f, const gw_text *t, gw_filter_outcome *o)
{
    size_t chars = gw_text_chars(t);
    int64_t tokens = gw_budget_prompt_tokens_max(gw_text_bytes(t));

    gw_outcome_match(o, "{\"chars\":%zu,\"tokens\":%lld}", chars, (long long)tokens);
    if (f->max_chars > 0 && (int64_t)chars > f->max_chars) {
        gw_outcome_block(o, f, 413, "prompt_too_large");
        if (f->message[0] == '\0')
            snprintf(o->message, sizeof(o->message), "the prompt has %zu characters, more than the %lld allowed", chars,
                     (long long)f->max_chars);
    } else if (f->max_tokens > 0 && tokens > f->max_tokens) {
        gw_outcome_block(o, f, 413, "prompt_too_large");
        if (f->message[0] == '\0')
            snprintf(o->message, sizeof(o->message),
                     "the prompt may be up to %lld tokens (estimated), more than the %lld allowed", (long long)tokens,
                     (long long)f->max_tokens);
    }
    return 0;
}

static int gw_filter_pii_run(const gw_filter *f, gw_text *t, gw_filter_outcome *o)
{
    gw_buf out;
    gw_pii_match m[16];
    int rc = 0;

    gw_buf_init(&out, 0);
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        size_t count = 0;
        gw_buf_reset(&out);
        if (gw_pii_redact(&f->pii, gw_text_str(t, &t->parts[i]), t->parts[i].len, &out, &count, m, 16) != 0) {
            rc = -1;
            break;
        }
        for (size_t k = 0; k < count && k < 16; k++)
            gw_outcome_match(o, "{\"kind\":\"%s\",\"part\":%zu,\"at\":%zu,\"length\":%zu}", gw_pii_kind_name(m[k].kind),
                             i, m[k].at, m[k].len);
        if (count == 0)
            continue;
        if (f->pii_block) {
            gw_outcome_block(o, f, 400, "blocked_by_filter");
            break;
        }
        if (gw_text_replace(t, i, out.data, out.len) != 0)
            rc = -1;
        o->action = GW_HOOK_MODIFY;
    }
    gw_buf_free(&out);
    return rc;
}

int gw_filter_check(const gw_filter *f, gw_text *t, int answer, gw_filter_outcome *o)
{
    switch (f->type) {
    case GW_FILTER_MAX_PROMPT:
        return answer ? 0 : gw_filter_max_prompt(f, t, o);
    case GW_FILTER_PII:
        return gw_filter_pii_run(f, t, o);
    case GW_FILTER_REGEX:
        if (f->allow) {
            for (size_t i = 0; i < t->n; i++)
                for (size_t k = 0; k < f->npats; k++)
                    if (aistudio_pattern_match(f->pats[k], gw_text_str(t, &t->parts[i]), t->parts[i].len) ==
                        AISTUDIO_MATCH_YES) {
                        gw_outcome_match(o, "{\"pattern\":%zu,\"part\":%zu}", k + 1, i);
                        return 0;
                    }
            gw_outcome_block(o, f, 400, "blocked_by_filter");
            return 0;
        }
        /* fallthrough */
    default:
        for (size_t i = 0; i < t->n; i++)
            if (gw_filter_find(f, gw_text_str(t, &t->parts[i]), t->parts[i].len, o))
                break;
        return 0;
    }
}
