/*
 * regress/unit/test_notify.c: one attempt to send a budget alert
 * (notify/send.c) without a network peer: the webhook signature against
 * RFC 4231's HMAC-SHA256 vectors and an independent OpenSSL computation;
 * the e-mail's header and body (Date, From, To with several recipients,
 * the Message-ID and delivery headers, CRLF line ends, a subject with
 * CR/LF that cannot inject a header, a non-ASCII subject as RFC 2047
 * base64 words that decode back, cut between UTF-8 sequences, missing
 * parts refused); and the refusals of gw_notify_send that need no peer (no
 * signing secret, an unknown kind, incomplete rows, a closed port on
 * 127.0.0.1).
 */
#include "base/buf.c"
#include "base/codec.c"
#include "notify/send.c"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

#include "tap.h"

static void test_signature(void)
{
    char sig[GW_NOTIFY_SIG_LEN];
    static const char body[] = "{\"type\":\"budget.threshold_crossed\",\"delivery_id\":42}";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];

    /* RFC 4231, test case 2 */
    gw_notify_signature("Jefe", "what do ya want for nothing?", 28, sig);
    is_str(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "RFC 4231 case 2");
    /* the raw bytes count, an embedded NUL included */
    gw_notify_signature("key", "a\0b", 3, sig);
    HMAC(EVP_sha256(), "key", 3, (const unsigned char *)"a\0b", 3, mac, &n);
    for (unsigned int i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    is_str(sig + 7, hex, "the length given is signed, not up to a NUL");
    gw_notify_signature("whsec-0123456789abcdef", body, strlen(body), sig);
    is_int(strlen(sig), 71, "sha256= and 64 hex digits");
    ok(strncmp(sig, "sha256=", 7) == 0, "prefixed sha256=");
    {
        char other[GW_NOTIFY_SIG_LEN];
        gw_notify_signature("whsec-0123456789abcdeF", body, strlen(body), other);
        ok(strcmp(sig, other) != 0, "another secret signs differently");
    }
}

static gw_notify_msg mail_msg(const char *subject, const char *body)
{
    gw_notify_msg m;
    memset(&m, 0, sizeof(m));
    m.delivery_id = 43;
    m.kind = "email";
    m.url = "smtp://127.0.0.1:1";
    m.mail_from = "aistudio@example.com";
    m.mail_to = "oncall@example.com,boss@example.org";
    m.subject = subject;
    m.body = body;
    return m;
}

/* Decodes the =?UTF-8?B?…?= words of a folded Subject header into out. */
static void decode_words(const char *hdr, char *out, size_t cap)
{
    size_t n = 0;
    const char *p = hdr;
    while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
        const char *s = p + 10, *e = strstr(s, "?=");
        unsigned char dec[128];
        int len;
        if (e == NULL || (size_t)(e - s) >= sizeof(dec))
            break;
        len = EVP_DecodeBlock(dec, (const unsigned char *)s, (int)(e - s));
        if (len < 0)
            break;
        /* EVP_DecodeBlock counts the padding as zero bytes: drop them */
        len -= (e[-1] == '=') + (e - s >= 2 && e[-2] == '=');
        if (n + (size_t)len >= cap)
            break;
        memcpy(out + n, dec, (size_t)len);
        n += (size_t)len;
        p = e + 2;
    }
    out[n] = '\0';
}

static void test_mail(void)
{
    char err[GW_ERR_LEN];
    char *mail = NULL;
    size_t len = 0;
    gw_notify_msg m = mail_msg("[AI Studio] App x passed 100% of its monthly budget",
                               "line one\nline two\r\n\nAcknowledge it.");

    ok(gw_notify_mail_format(&m, 1765090800, &mail, &len, err) == 0, "an e-mail is composed");
    if (mail == NULL)
        return;
    is_int(len, strlen(mail), "its length");
    {
        static const char date[] = "Date: Sun, 07 Dec 2025 07:00:00 +0000\r\n";
        ok(strncmp(mail, date, strlen(date)) == 0, "Date in RFC 5322 form, UTC");
    }
    has_str(mail, "\r\nFrom: <aistudio@example.com>\r\n", "From");
    has_str(mail, "\r\nTo: <oncall@example.com>, <boss@example.org>\r\n", "To: every recipient");
    has_str(mail, "\r\nSubject: [AI Studio] App x passed 100% of its monthly budget\r\n", "an ASCII subject as it is");
    has_str(mail, "\r\nMessage-ID: <aistudio-alert-delivery-43.1765090800@example.com>\r\n", "Message-ID");
    has_str(mail, "\r\nX-AIStudio-Delivery: 43\r\n", "the delivery id");
    has_str(mail, "\r\nContent-Type: text/plain; charset=utf-8\r\n", "plain UTF-8 text");
    has_str(mail, "\r\nAuto-Submitted: auto-generated\r\n\r\nline one\r\nline two\r\n\r\nAcknowledge it.\r\n",
            "the body after one empty line, every line end CRLF (an existing CRLF kept)");
    {
        int bare = 0;
        for (size_t i = 0; i < len; i++)
            if (mail[i] == '\n' && (i == 0 || mail[i - 1] != '\r'))
                bare++;
        is_int(bare, 0, "no bare LF anywhere");
    }
    free(mail);

    /* a subject cannot add a header */
    m = mail_msg("hi\r\nBcc: victim@example.com\nX: y", "text");
    ok(gw_notify_mail_format(&m, 0, &mail, &len, err) == 0, "a subject with CR/LF is composed");
    if (mail != NULL) {
        has_str(mail, "\r\nSubject: hi  Bcc: victim@example.com X: y\r\n", "CR and LF become spaces: one header line");
        lacks_str(mail, "\r\nBcc:", "no Bcc header");
        free(mail);
    }

    /* non-ASCII: RFC 2047 words, folded, decoding back to the subject */
    {
        const char *subject = "[AI Studio] App «Übersetzer ünd Qualitätsprüfung für Kundenbriefe» passed 90% — éèê";
        char hdr[1024], decoded[512];
        const char *s, *e;
        m = mail_msg(subject, "text");
        ok(gw_notify_mail_format(&m, 0, &mail, &len, err) == 0, "a non-ASCII subject is composed");
        if (mail != NULL) {
            s = strstr(mail, "\r\nSubject: ");
            e = s != NULL ? strstr(s + 2, "\r\nMessage-ID:") : NULL;
            ok(s != NULL && e != NULL, "one Subject header");
            if (s != NULL && e != NULL && (size_t)(e - s) < sizeof(hdr)) {
                memcpy(hdr, s, (size_t)(e - s));
                hdr[e - s] = '\0';
                has_str(hdr, "=?UTF-8?B?", "encoded words");
                has_str(hdr, "?=\r\n =?UTF-8?B?", "folded onto continuation lines");
                for (const char *p = hdr + 2; *p; p++)
                    if ((unsigned char)*p >= 0x80) {
                        ok(0, "no raw 8-bit byte in the header");
                        break;
                    }
                decode_words(hdr, decoded, sizeof(decoded));
                is_str(decoded, subject, "the words decode back to the subject");
            }
            free(mail);
        }
    }

    /* missing parts */
    m = mail_msg("s", "b");
    m.mail_to = NULL;
    mail = NULL;
    ok(gw_notify_mail_format(&m, 0, &mail, &len, err) == -1 && mail == NULL, "no recipients: refused");
    has_str(err, "recipients", "and said so");
    m = mail_msg(NULL, "b");
    ok(gw_notify_mail_format(&m, 0, &mail, &len, err) == -1, "no subject: refused");
}

static void test_send_refusals(void)
{
    gw_notify_result r;
    gw_notify_msg m;
    atomic_int stop;

    atomic_init(&stop, 0);
    memset(&m, 0, sizeof(m));
    m.kind = "webhook";
    m.url = "http://127.0.0.1:1/hook";
    m.body = "{}";
    ok(gw_notify_send(&m, 2000, &stop, &r) == -1, "a webhook without a secret is not sent");
    has_str(r.error, "no signing secret", "the reason");
    is_int(r.status, 0, "no status");

    m.kind = "pager";
    m.secret = "whsec-0123456789abcdef";
    ok(gw_notify_send(&m, 2000, &stop, &r) == -1, "an unknown kind");
    has_str(r.error, "unknown target kind 'pager'", "named");

    m.kind = "webhook";
    m.body = NULL;
    ok(gw_notify_send(&m, 2000, &stop, &r) == -1, "no body");
    has_str(r.error, "incomplete", "named");

    /* port 1 on loopback: nothing listens there */
    m.body = "{}";
    ok(gw_notify_send(&m, 2000, &stop, &r) == -1, "a closed port fails the attempt");
    ok(r.error[0] != '\0', "with curl's reason: %s", r.error);
    lacks_str(r.error, "whsec", "never the secret");

    m = mail_msg("s", "b");
    ok(gw_notify_send(&m, 2000, &stop, &r) == -1, "an SMTP server that is not there fails the attempt");
    ok(r.error[0] != '\0', "with curl's reason: %s", r.error);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_signature();
    test_mail();
    test_send_refusals();
    curl_global_cleanup();
    return tap_done();
}
