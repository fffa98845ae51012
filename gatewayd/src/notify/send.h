/*
 * src/notify/send.h: one attempt to send a budget alert to its target, with
 * libcurl: a webhook (an HTTP POST of the JSON body the extension wrote,
 * signed) or an e-mail (SMTP: the message composed here from the subject
 * and text the extension wrote). What is sent and to whom comes from
 * aistudio.claim_alert_deliveries (notify/alerts.c); nothing here decides
 * whether or when to send.
 *
 * A webhook request carries
 *   Content-Type: application/json
 *   X-AIStudio-Event: budget.threshold_crossed
 *   X-AIStudio-Delivery: <delivery id>   (the same on every retry)
 *   X-AIStudio-Signature: sha256=<hex HMAC-SHA256 of the raw body under the
 *                                  target's secret>
 * and succeeds on any 2xx answer; redirects are not followed and only
 * http and https are spoken. An e-mail goes to smtp:// (STARTTLS as
 * smtp_tls says: none, try, require) or smtps:// (TLS from the start), with
 * AUTH when a user name is given. Each attempt ends within timeout_ms, or
 * sooner when *stop becomes non-zero (shutdown).
 */
#ifndef GW_NOTIFY_SEND_H
#define GW_NOTIFY_SEND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define GW_NOTIFY_SIG_LEN (7 + 64 + 1) /* "sha256=" + 64 hex digits + NUL */

typedef struct gw_notify_msg {
    int64_t delivery_id;
    const char *kind;          /* "webhook" | "email" */
    const char *url;           /* webhook URL, or smtp(s)://host[:port] */
    const char *secret;        /* signing secret / SMTP password (may be NULL for e-mail) */
    const char *mail_from;     /* e-mail: sender */
    const char *mail_to;       /* e-mail: recipients, comma-separated */
    const char *smtp_username; /* e-mail: AUTH user (NULL: no AUTH) */
    const char *smtp_tls;      /* e-mail: none | try | require */
    const char *subject;       /* e-mail subject */
    const char *body;          /* webhook: JSON; e-mail: plain text */
} gw_notify_msg;

typedef struct gw_notify_result {
    long status; /* the HTTP status or the last SMTP reply code; 0 when none came */
    char error[GW_ERR_LEN]; /* why it failed ("" on success) */
} gw_notify_result;

/* "sha256=<hex>" of HMAC-SHA256(secret, body[0..len)) into out. */
void gw_notify_signature(const char *secret, const char *body, size_t len, char out[GW_NOTIFY_SIG_LEN]);

/*
 * The e-mail (RFC 5322 header and body, CRLF line ends) into a malloc'd
 * string (*out, freed by the caller), from msg's sender, recipients,
 * subject and text; date is the Date: header's time. Control characters
 * in the subject become spaces (no header can be injected) and a
 * non-ASCII subject is encoded (RFC 2047, UTF-8, base64). 0, or -1 with err.
 */
int gw_notify_mail_format(const gw_notify_msg *msg, int64_t date, char **out, size_t *out_len, char err[GW_ERR_LEN]);

/* One attempt: 0 when the target accepted it, -1 otherwise (res says why). */
int gw_notify_send(const gw_notify_msg *msg, int timeout_ms, const atomic_int *stop, gw_notify_result *res);

#endif
