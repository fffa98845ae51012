/*
 * src/pipeline/pii.c: the personal-data scanners, their redaction and the
 * streaming hold-back (see pii.h). Every scanner works on bytes: ASCII
 * decides, any byte >= 0x80 counts as a letter (so a match never starts or
 * ends inside a non-ASCII word).
 */
#include "pipeline/pii.h"

#include <stdlib.h>
#include <string.h>

static const char *const gw_pii_names[GW_PII_KINDS] = {"email", "phone", "card", "iban"};
static const char *const gw_pii_default_ph[GW_PII_KINDS] = {"[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]"};

static int gw_pii_bit(int kind)
{
    for (int i = 0; i < GW_PII_KINDS; i++)
        if (kind == 1 << i)
            return i;
    return 0;
}

const char *gw_pii_kind_name(int kind)
{
    return gw_pii_names[gw_pii_bit(kind)];
}

int gw_pii_kind_parse(const char *name, size_t len)
{
    for (int i = 0; i < GW_PII_KINDS; i++)
        if (strlen(gw_pii_names[i]) == len && memcmp(gw_pii_names[i], name, len) == 0)
            return 1 << i;
    return 0;
}

/* ---- character classes ---- */

static int gw_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int gw_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static int gw_alpha(unsigned char c)
{
    return gw_upper(c) || (c >= 'a' && c <= 'z');
}

/* a letter or digit (any byte >= 0x80 counts as a letter) */
static int gw_word(unsigned char c)
{
    return gw_alpha(c) || gw_digit(c) || c >= 0x80;
}

static int gw_local_char(unsigned char c)
{
    return gw_alpha(c) || gw_digit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static int gw_domain_char(unsigned char c)
{
    return gw_alpha(c) || gw_digit(c) || c == '.' || c == '-';
}

/* ---- the match list ---- */

typedef struct gw_pii_list {
    gw_pii_match *v;
    size_t n, cap;
    int oom;
} gw_pii_list;

static void gw_pii_push(gw_pii_list *l, size_t at, size_t len, int kind)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap < 16 ? 16 : l->cap * 2;
        gw_pii_match *nv = realloc(l->v, ncap * sizeof(*nv));
        if (nv == NULL) {
            l->oom = 1;
            return;
        }
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n].at = at;
    l->v[l->n].len = len;
    l->v[l->n].kind = kind;
    l->n++;
}

/* ---- e-mail ---- */

static int gw_domain_ok(const unsigned char *d, size_t n)
{
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && d[i] != '.')
            continue;
        if (i == start || d[start] == '-' || d[i - 1] == '-')
            return 0;
        labels++;
        if (i == n) { /* the last label: letters only, two or more */
            if (i - start < 2)
                return 0;
            for (size_t k = start; k < i; k++)
                if (!gw_alpha(d[k]))
                    return 0;
        }
        start = i + 1;
    }
    return labels >= 2;
}

static void gw_scan_email(const unsigned char *t, size_t len, gw_pii_list *l)
{
    for (const unsigned char *p = memchr(t, '@', len); p != NULL;
         p = (size_t)(p + 1 - t) < len ? memchr(p + 1, '@', len - (size_t)(p + 1 - t)) : NULL) {
        size_t at = (size_t)(p - t), s = at, e = at + 1;
        while (s > 0 && gw_local_char(t[s - 1]) && at - s <= 64)
            s--;
        if (at - s > 64 || (s > 0 && (gw_word(t[s - 1]) || t[s - 1] == '@')))
            continue;
        while (s < at && t[s] == '.')
            s++;
        if (s == at)
            continue;
        while (e < len && gw_domain_char(t[e]) && e - at <= 255)
            e++;
        if (e - at > 255)
            continue;
        while (e > at + 1 && (t[e - 1] == '.' || t[e - 1] == '-'))
            e--;
        if ((e < len && (gw_word(t[e]) || t[e] == '@')) || !gw_domain_ok(t + at + 1, e - at - 1))
            continue;
        gw_pii_push(l, s, e - s, GW_PII_EMAIL);
    }
}

/* ---- numbers: groups of digits and the separators between them ---- */

#define GW_PII_MAX_GROUPS 24

typedef struct gw_num_run {
    size_t gs[GW_PII_MAX_GROUPS], ge[GW_PII_MAX_GROUPS]; /* each digit group [gs, ge) */
    int ng;
} gw_num_run;

/* The groups of digits from i, separated by at most max_sep bytes of seps,
 * stopping at anything else; returns the end of the run. */
static size_t gw_num_groups(const unsigned char *t, size_t len, size_t i, const char *seps, int max_sep, gw_num_run *r)
{
    r->ng = 0;
    while (i < len && gw_digit(t[i]) && r->ng < GW_PII_MAX_GROUPS) {
        size_t j = i, k;
        int ns = 0;
        while (j < len && gw_digit(t[j]))
            j++;
        r->gs[r->ng] = i;
        r->ge[r->ng] = j;
        r->ng++;
        k = j;
        while (k < len && t[k] != '\0' && strchr(seps, t[k]) != NULL && ns < max_sep) {
            k++;
            ns++;
        }
        if (ns == 0 || k >= len || !gw_digit(t[k]))
            return j;
        i = k;
    }
    return r->ng > 0 ? r->ge[r->ng - 1] : i;
}

static int gw_luhn(const unsigned char *t, size_t s, size_t e)
{
    int sum = 0, dbl = 0;
    for (size_t i = e; i > s; i--) {
        int d;
        if (!gw_digit(t[i - 1]))
            continue;
        d = t[i - 1] - '0';
        if (dbl && (d *= 2) > 9)
            d -= 9;
        sum += d;
        dbl = !dbl;
    }
    return sum % 10 == 0;
}

static size_t gw_digits_in(const unsigned char *t, size_t s, size_t e)
{
    size_t n = 0;
    for (size_t i = s; i < e; i++)
        n += gw_digit(t[i]);
    return n;
}

/* Cards: in each run of digit groups (single space or hyphen between), the
 * longest Luhn-valid stretch of whole groups with 13 to 19 digits. */
static void gw_scan_card(const unsigned char *t, size_t len, gw_pii_list *l)
{
    size_t i = 0;
    while (i < len) {
        gw_num_run r;
        size_t end;
        int a, found = 0;
        if (!gw_digit(t[i]) || (i > 0 && gw_word(t[i - 1]))) {
            i++;
            continue;
        }
        end = gw_num_groups(t, len, i, " -", 1, &r);
        if (end < len && gw_word(t[end]) && r.ng == 1) {
            i = end;
            continue;
        }
        for (a = 0; a < r.ng && !found; a++)
            for (int b = r.ng - 1; b >= a && !found; b--) {
                size_t s = r.gs[a], e = r.ge[b], nd = gw_digits_in(t, s, e);
                if (nd < 13 || nd > 19 || (e < len && gw_word(t[e])) || !gw_luhn(t, s, e))
                    continue;
                gw_pii_push(l, s, e - s, GW_PII_CARD);
                found = 1;
                end = e;
            }
        i = end > i ? end : i + 1;
    }
}

/* Phones: '+' and 8-15 digits; or 10-11 digits written with separators
 * in a usual shape: 3-3-4 (with a leading 1, or the area code in
 * parentheses), groups of three digits or more after the first (020 7946
 * 0958), or 0X XX XX XX XX. Dots only in 3.3.4. */
static int gw_phone_ok(const unsigned char *t, const gw_num_run *r, int a, int b, size_t s, int plus)
{
    size_t e = r->ge[b], nd = gw_digits_in(t, s, e), len[GW_PII_MAX_GROUPS] = {0};
    int n = b - a + 1, dot = 0, big = 1, pairs = 1;

    if (plus)
        return nd >= 8 && nd <= 15;
    if (nd < 10 || nd > 11 || n < 2)
        return 0;
    for (int g = a; g <= b; g++) {
        len[g - a] = r->ge[g] - r->gs[g];
        if (g > a && memchr(t + r->ge[g - 1], '.', r->gs[g] - r->ge[g - 1]) != NULL)
            dot = 1;
    }
    if ((n == 3 && len[0] == 3 && len[1] == 3 && len[2] == 4) ||
        (n == 4 && len[0] == 1 && len[1] == 3 && len[2] == 3 && len[3] == 4))
        return 1;
    if (dot)
        return 0;
    for (int g = 1; g < n; g++) {
        if (len[g] < 3)
            big = 0;
        if (len[g] != 2)
            pairs = 0;
    }
    if (big && len[0] >= 2)
        return 1;
    return pairs && n == 5 && len[0] == 2 && t[r->gs[a]] == '0';
}

static void gw_scan_phone(const unsigned char *t, size_t len, gw_pii_list *l)
{
    size_t i = 0;
    while (i < len) {
        gw_num_run r;
        size_t end;
        int plus, paren, a, found = 0;
        unsigned char c = t[i];
        if ((c != '+' && c != '(' && !gw_digit(c)) || (i > 0 && (gw_word(t[i - 1]) || t[i - 1] == '+'))) {
            i++;
            continue;
        }
        plus = c == '+';
        paren = c == '(';
        if ((plus || paren) && (i + 1 >= len || !gw_digit(t[i + 1]))) {
            i++;
            continue;
        }
        end = gw_num_groups(t, len, i + (size_t)(plus || paren), " -.()", 2, &r);
        for (a = 0; a < r.ng && !found; a++) {
            /* the match starts at the group, or at the '+' / '(' right before it;
             * a later group must follow a space or '(' (not "2024-01-15") */
            size_t s = r.gs[a];
            int p = 0;
            if (s > 0 && t[s - 1] == '+')
                s--, p = 1;
            else if (s > 0 && t[s - 1] == '(')
                s--;
            if (a > 0 && s == r.gs[a] && t[s - 1] != ' ')
                continue;
            for (int b = r.ng - 1; b >= a && !found; b--) {
                size_t e = r.ge[b];
                if ((e < len && gw_word(t[e])) || !gw_phone_ok(t, &r, a, b, s, p))
                    continue;
                gw_pii_push(l, s, e - s, GW_PII_PHONE);
                found = 1;
                end = e;
            }
        }
        i = end > i ? end : i + 1;
    }
}

/* ---- IBAN ---- */

static int gw_iban_mod97(const char *c, size_t n)
{
    unsigned rem = 0;
    for (size_t k = 0; k < n; k++) {
        char ch = c[(k + 4) % n]; /* the first four characters move to the end */
        if (gw_digit((unsigned char)ch))
            rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
    }
    return rem == 1;
}

static void gw_scan_iban(const unsigned char *t, size_t len, gw_pii_list *l)
{
    size_t i = 0;
    while (i + 4 <= len) {
        char compact[40];
        size_t n = 0, j, best = 0, ends[40], counts[40];
        int ne = 0;
        if (!gw_upper(t[i]) || !gw_upper(t[i + 1]) || !gw_digit(t[i + 2]) || !gw_digit(t[i + 3]) ||
            (i > 0 && gw_word(t[i - 1]))) {
            i++;
            continue;
        }
        for (j = i; j < len && n < 34;) {
            if (gw_upper(t[j]) || gw_digit(t[j])) {
                compact[n++] = (char)t[j++];
                if (j == len || !(gw_upper(t[j]) || gw_digit(t[j]))) {
                    ends[ne] = j;
                    counts[ne++] = n;
                }
            } else if (t[j] == ' ' && j + 1 < len && (gw_upper(t[j + 1]) || gw_digit(t[j + 1])) && j > i) {
                j++;
            } else {
                break;
            }
        }
        for (int k = ne - 1; k >= 0; k--) {
            if (counts[k] < 15 || counts[k] > 34 || (ends[k] < len && gw_word(t[ends[k]])))
                continue;
            if (gw_iban_mod97(compact, counts[k])) {
                best = ends[k];
                break;
            }
        }
        if (best > 0) {
            gw_pii_push(l, i, best - i, GW_PII_IBAN);
            i = best;
        } else {
            i++;
        }
    }
}

/* ---- all kinds ---- */

static int gw_pii_rank(int kind)
{
    return kind == GW_PII_EMAIL ? 4 : kind == GW_PII_IBAN ? 3 : kind == GW_PII_CARD ? 2 : 1;
}

static int gw_pii_cmp(const void *a, const void *b)
{
    const gw_pii_match *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return gw_pii_rank(y->kind) - gw_pii_rank(x->kind);
}

/* Every match of the kinds, sorted, overlaps resolved by rank. */
static int gw_pii_find(const char *text, size_t len, int kinds, gw_pii_list *l)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t k = 0;

    memset(l, 0, sizeof(*l));
    if (kinds & GW_PII_EMAIL)
        gw_scan_email(t, len, l);
    if (kinds & GW_PII_IBAN)
        gw_scan_iban(t, len, l);
    if (kinds & GW_PII_CARD)
        gw_scan_card(t, len, l);
    if (kinds & GW_PII_PHONE)
        gw_scan_phone(t, len, l);
    if (l->oom)
        return -1;
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(gw_pii_match), gw_pii_cmp);
    for (size_t i = 0; i < l->n; i++) {
        gw_pii_match *m = &l->v[i];
        if (k > 0 && m->at < l->v[k - 1].at + l->v[k - 1].len) {
            if (gw_pii_rank(m->kind) > gw_pii_rank(l->v[k - 1].kind) &&
                (k < 2 || l->v[k - 2].at + l->v[k - 2].len <= m->at))
                l->v[k - 1] = *m;
            continue;
        }
        l->v[k++] = *m;
    }
    l->n = k;
    return 0;
}

size_t gw_pii_scan(const char *text, size_t len, int kinds, gw_pii_match *out, size_t max)
{
    gw_pii_list l;
    size_t n;
    if (gw_pii_find(text, len, kinds, &l) != 0) {
        free(l.v);
        return 0;
    }
    for (size_t i = 0; i < l.n && i < max; i++)
        out[i] = l.v[i];
    n = l.n;
    free(l.v);
    return n;
}

/* ---- hold-back ---- */

/* Where the trailing run of bytes accepted by in() starts (at most max back). */
static size_t gw_tail_run(const unsigned char *t, size_t len, int (*in)(unsigned char), size_t max)
{
    size_t s = len;
    while (s > 0 && in(t[s - 1]) && len - s < max)
        s--;
    return s;
}

static int gw_email_char(unsigned char c)
{
    return gw_local_char(c) || c == '@';
}

static int gw_number_char(unsigned char c)
{
    return gw_digit(c) || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '+';
}

static int gw_iban_char(unsigned char c)
{
    return gw_upper(c) || gw_digit(c) || c == ' ';
}

/* 1 when t[s..len) could be the start of an IBAN: LL, LLDD, LLDD… */
static int gw_iban_prefix(const unsigned char *t, size_t s, size_t len)
{
    for (size_t k = 0; k < 4 && s + k < len; k++)
        if (k < 2 ? !gw_upper(t[s + k]) : !gw_digit(t[s + k]))
            return 0;
    for (size_t k = s + 1; k < len; k++)
        if (t[k] == ' ' && t[k - 1] == ' ')
            return 0;
    return s < len && (s == 0 || !gw_word(t[s - 1]));
}

size_t gw_pii_hold(const char *text, size_t len, int kinds)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t hold = len, s;

    if (kinds & GW_PII_EMAIL) {
        s = gw_tail_run(t, len, gw_email_char, GW_PII_HOLD_MAX);
        if (s < hold)
            hold = s;
    }
    if (kinds & (GW_PII_CARD | GW_PII_PHONE)) {
        s = gw_tail_run(t, len, gw_number_char, 48);
        while (s < len && !(gw_digit(t[s]) || t[s] == '+' || t[s] == '('))
            s++; /* the run starts with what a number may start with */
        if (s < hold)
            hold = s;
    }
    if (kinds & GW_PII_IBAN) {
        size_t r = gw_tail_run(t, len, gw_iban_char, 48);
        for (s = r; s < len; s++)
            if ((s == r || t[s - 1] == ' ') && gw_iban_prefix(t, s, len))
                break;
        if (s < hold)
            hold = s;
    }
    return hold;
}

/* ---- redaction ---- */

static const char *gw_pii_ph(const gw_pii_opts *o, int kind)
{
    int b = gw_pii_bit(kind);
    return o->placeholder[b] != NULL ? o->placeholder[b] : gw_pii_default_ph[b];
}

/* Appends text[0..upto) with the matches of l that end by upto replaced;
 * returns how many were. */
static size_t gw_pii_apply(const gw_pii_opts *o, const char *text, size_t upto, const gw_pii_list *l, gw_buf *out)
{
    size_t pos = 0, n = 0;
    for (size_t i = 0; i < l->n && l->v[i].at + l->v[i].len <= upto; i++) {
        gw_buf_append(out, text + pos, l->v[i].at - pos);
        gw_buf_puts(out, gw_pii_ph(o, l->v[i].kind));
        pos = l->v[i].at + l->v[i].len;
        n++;
    }
    gw_buf_append(out, text + pos, upto - pos);
    return n;
}

int gw_pii_redact(const gw_pii_opts *o, const char *text, size_t len, gw_buf *out, size_t *count,
                  gw_pii_match *matches, size_t max)
{
    gw_pii_list l;
    size_t n;

    if (gw_pii_find(text, len, o->kinds, &l) != 0) {
        free(l.v);
        return -1;
    }
    n = gw_pii_apply(o, text, len, &l, out);
    for (size_t i = 0; matches != NULL && i < l.n && i < max; i++)
        matches[i] = l.v[i];
    if (count != NULL)
        *count = n;
    free(l.v);
    return out->failed ? -1 : 0;
}

void gw_pii_stream_init(gw_pii_stream *s)
{
    gw_buf_init(&s->pending, 0);
}

void gw_pii_stream_free(gw_pii_stream *s)
{
    gw_buf_free(&s->pending);
}

int gw_pii_stream_feed(gw_pii_stream *s, const gw_pii_opts *o, const char *text, size_t len, int final, gw_buf *out,
                       size_t *count)
{
    gw_pii_list l;
    size_t hold, n;
    const char *p;

    if (len > 0 && gw_buf_append(&s->pending, text, len) != 0)
        return -1;
    p = s->pending.data != NULL ? s->pending.data : "";
    if (gw_pii_find(p, s->pending.len, o->kinds, &l) != 0) {
        free(l.v);
        return -1;
    }
    hold = final ? s->pending.len : gw_pii_hold(p, s->pending.len, o->kinds);
    /* a match that runs into the held text is held with it */
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i].at < hold && l.v[i].at + l.v[i].len > hold)
            hold = l.v[i].at;
    n = gw_pii_apply(o, p, hold, &l, out);
    free(l.v);
    if (count != NULL)
        *count += n;
    if (hold > 0) {
        memmove(s->pending.data, p + hold, s->pending.len - hold);
        s->pending.len -= hold;
    }
    return out->failed ? -1 : 0;
}
