/*
 * src/notify/send.c: one attempt to send a budget alert (see send.h): the
 * webhook's signed POST and the e-mail's SMTP transaction, each on a fresh
 * libcurl easy handle (alerts are rare: no connection is kept). No
 * global state; any thread may call it.
 */
#include "notify/send.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/codec.h"

#define GW_NOTIFY_MAX_MAIL (256 * 1024)
#define GW_NOTIFY_MAX_RESPONSE (64 * 1024) /* of a webhook's answer, read and dropped */

void gw_notify_signature(const char *secret, const char *body, size_t len, char out[GW_NOTIFY_SIG_LEN])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac, &n);
    memcpy(out, "sha256=", 7);
    gw_hex_encode(mac, n, out + 7);
}

/* ---- the e-mail ---- */

/* The subject as one header value: control characters as spaces, and the
 * whole encoded as =?UTF-8?B?…?= words when it is not plain ASCII. */
static void gw_notify_subject(gw_buf *b, const char *subject)
{
    size_t n = strlen(subject);
    int ascii = 1;
    char *clean = malloc(n + 1);

    if (clean == NULL) {
        b->failed = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)subject[i];
        clean[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
        if (c >= 0x80)
            ascii = 0;
    }
    clean[n] = '\0';
    if (ascii) {
        gw_buf_puts(b, clean);
    } else {
        /* words of at most 45 input bytes (60 base64 characters), cut
         * between UTF-8 sequences, folded onto continuation lines */
        size_t i = 0;
        while (i < n) {
            size_t take = n - i < 45 ? n - i : 45;
            unsigned char enc[64];
            while (take > 0 && i + take < n && ((unsigned char)clean[i + take] & 0xC0) == 0x80)
                take--;
            if (take == 0)
                take = n - i < 45 ? n - i : 45;
            EVP_EncodeBlock(enc, (const unsigned char *)clean + i, (int)take);
            gw_buf_printf(b, "%s=?UTF-8?B?%s?=", i > 0 ? "\r\n " : "", (const char *)enc);
            i += take;
        }
    }
    free(clean);
}

/* The domain of an address (for the Message-ID), "localhost" without one. */
static const char *gw_notify_domain(const char *addr)
{
    const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
    return at != NULL && at[1] != '\0' ? at + 1 : "localhost";
}

int gw_notify_mail_format(const gw_notify_msg *msg, int64_t date, char **out, size_t *out_len, char err[GW_ERR_LEN])
{
    gw_buf b;
    char when[64];
    time_t t = (time_t)date;
    struct tm tm;
    const char *p;

    if (msg->mail_from == NULL || msg->mail_to == NULL || msg->subject == NULL || msg->body == NULL)
        return gw_errf(err, "the e-mail has no sender, recipients, subject or text");
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    gw_buf_init(&b, GW_NOTIFY_MAX_MAIL);
    gw_buf_printf(&b, "Date: %s\r\nFrom: <%s>\r\nTo: ", when, msg->mail_from);
    /* the recipients, "<a>, <b>" */
    p = msg->mail_to;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        gw_buf_printf(&b, "%s<%.*s>", p == msg->mail_to ? "" : ", ", (int)n, p);
        p += n;
        if (*p == ',')
            p++;
    }
    gw_buf_puts(&b, "\r\nSubject: ");
    gw_notify_subject(&b, msg->subject);
    gw_buf_printf(&b,
                  "\r\nMessage-ID: <aistudio-alert-delivery-%lld.%lld@%s>\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
                  "X-AIStudio-Delivery: %lld\r\nAuto-Submitted: auto-generated\r\n\r\n",
                  (long long)msg->delivery_id, (long long)date, gw_notify_domain(msg->mail_from),
                  (long long)msg->delivery_id);
    /* the text with CRLF line ends (libcurl escapes a line holding one dot) */
    for (p = msg->body; *p != '\0'; p++) {
        if (*p == '\n' && (p == msg->body || p[-1] != '\r'))
            gw_buf_append(&b, "\r", 1);
        gw_buf_append(&b, p, 1);
    }
    gw_buf_puts(&b, "\r\n");
    if (b.failed || gw_buf_cstr(&b) == NULL) {
        gw_buf_free(&b);
        return gw_errf(err, "the e-mail is larger than %d bytes", GW_NOTIFY_MAX_MAIL);
    }
    *out = b.data;
    *out_len = b.len;
    return 0;
}

/* ---- libcurl ---- */

typedef struct gw_notify_upload {
    const char *data;
    size_t len, off;
} gw_notify_upload;

static size_t gw_notify_read(char *buf, size_t size, size_t nitems, void *arg)
{
    gw_notify_upload *u = arg;
    size_t n = size * nitems;
    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}

/* A webhook's answer is read and dropped (at most GW_NOTIFY_MAX_RESPONSE). */
static size_t gw_notify_discard(char *buf, size_t size, size_t nitems, void *arg)
{
    size_t *seen = arg;
    (void)buf;
    *seen += size * nitems;
    return *seen > GW_NOTIFY_MAX_RESPONSE ? 0 : size * nitems;
}

/* Aborts the transfer when the daemon stops. */
static int gw_notify_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    const atomic_int *stop = arg;
    (void)a, (void)b, (void)c, (void)d;
    return stop != NULL && atomic_load(stop) ? 1 : 0;
}

static void gw_notify_common(CURL *h, int timeout_ms, const atomic_int *stop, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 10000 ? timeout_ms : 10000));
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, gw_notify_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)stop);
}

/* The message of a failed transfer (never the URL: it may hold a token). */
static void gw_notify_curl_error(gw_notify_result *res, CURLcode rc, const char *errbuf)
{
    snprintf(res->error, sizeof(res->error), "%s", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
}

static int gw_notify_webhook(const gw_notify_msg *msg, int timeout_ms, const atomic_int *stop, gw_notify_result *res)
{
    char sig[GW_NOTIFY_SIG_LEN], h_sig[16 + GW_NOTIFY_SIG_LEN + 8], h_id[64], errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    size_t seen = 0;
    CURLcode rc;
    CURL *h;

    if (msg->secret == NULL || msg->secret[0] == '\0') {
        snprintf(res->error, sizeof(res->error), "the webhook has no signing secret");
        return -1;
    }
    gw_notify_signature(msg->secret, msg->body, strlen(msg->body), sig);
    snprintf(h_sig, sizeof(h_sig), "X-AIStudio-Signature: %s", sig);
    snprintf(h_id, sizeof(h_id), "X-AIStudio-Delivery: %lld", (long long)msg->delivery_id);
    h = curl_easy_init();
    if (h == NULL) {
        snprintf(res->error, sizeof(res->error), "out of memory");
        return -1;
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "X-AIStudio-Event: budget.threshold_crossed");
    headers = curl_slist_append(headers, h_id);
    headers = curl_slist_append(headers, h_sig);
    headers = curl_slist_append(headers, "Expect:");
    gw_notify_common(h, timeout_ms, stop, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, msg->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "pg_aistudio-gatewayd");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, msg->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(msg->body));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, gw_notify_discard);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &seen);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && res->status >= 200 && res->status < 300)) {
        gw_notify_curl_error(res, rc, errbuf);
        return -1;
    }
    if (res->status < 200 || res->status > 299) {
        snprintf(res->error, sizeof(res->error), "the webhook answered HTTP %ld", res->status);
        return -1;
    }
    return 0;
}

static int gw_notify_email(const gw_notify_msg *msg, int timeout_ms, const atomic_int *stop, gw_notify_result *res)
{
    char errbuf[CURL_ERROR_SIZE] = "", from[300], err[GW_ERR_LEN];
    struct curl_slist *rcpt = NULL;
    gw_notify_upload up = {0};
    char *mail = NULL;
    size_t mail_len = 0;
    long use_ssl = CURLUSESSL_TRY;
    CURLcode rc;
    CURL *h;
    const char *p;

    if (gw_notify_mail_format(msg, (int64_t)time(NULL), &mail, &mail_len, err) != 0) {
        snprintf(res->error, sizeof(res->error), "%s", err);
        return -1;
    }
    h = curl_easy_init();
    if (h == NULL) {
        free(mail);
        snprintf(res->error, sizeof(res->error), "out of memory");
        return -1;
    }
    snprintf(from, sizeof(from), "<%s>", msg->mail_from);
    for (p = msg->mail_to; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char to[300];
        snprintf(to, sizeof(to), "<%.*s>", (int)(n < 256 ? n : 256), p);
        rcpt = curl_slist_append(rcpt, to);
        p += n;
        if (*p == ',')
            p++;
    }
    if (msg->smtp_tls != NULL && strcmp(msg->smtp_tls, "none") == 0)
        use_ssl = CURLUSESSL_NONE;
    else if (msg->smtp_tls != NULL && strcmp(msg->smtp_tls, "require") == 0)
        use_ssl = CURLUSESSL_ALL;
    up.data = mail;
    up.len = mail_len;
    gw_notify_common(h, timeout_ms, stop, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, msg->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl);
    if (msg->smtp_username != NULL && msg->smtp_username[0] != '\0') {
        curl_easy_setopt(h, CURLOPT_USERNAME, msg->smtp_username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, msg->secret != NULL ? msg->secret : "");
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, gw_notify_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE, (long)mail_len);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
    curl_easy_cleanup(h);
    curl_slist_free_all(rcpt);
    free(mail);
    if (rc != CURLE_OK) {
        gw_notify_curl_error(res, rc, errbuf);
        return -1;
    }
    return 0;
}

int gw_notify_send(const gw_notify_msg *msg, int timeout_ms, const atomic_int *stop, gw_notify_result *res)
{
    res->status = 0;
    res->error[0] = '\0';
    if (msg->url == NULL || msg->body == NULL || msg->kind == NULL) {
        snprintf(res->error, sizeof(res->error), "incomplete delivery");
        return -1;
    }
    if (strcmp(msg->kind, "webhook") == 0)
        return gw_notify_webhook(msg, timeout_ms, stop, res);
    if (strcmp(msg->kind, "email") == 0)
        return gw_notify_email(msg, timeout_ms, stop, res);
    snprintf(res->error, sizeof(res->error), "unknown target kind '%.32s'", msg->kind);
    return -1;
}
