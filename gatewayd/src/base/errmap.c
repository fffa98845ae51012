/*
 * src/base/errmap.c: SQLSTATE → HTTP status table and the OpenAI-shaped
 * JSON error body. Entries are matched in order; a pattern of two characters
 * matches a SQLSTATE class ("22" = every 22xxx), five characters one code.
 */
#include "base/errmap.h"

#include <string.h>

typedef struct gw_errmap_entry {
    const char *pattern; /* class (2 chars) or full code (5 chars) */
    int status;
} gw_errmap_entry;

static const gw_errmap_entry gw_errmap_table[] = {
    {"42501", 403}, /* insufficient_privilege */
    {"28000", 401}, /* invalid_authorization_specification */
    {"28P01", 401}, /* invalid_password */
    {"P0002", 404}, /* no_data_found */
    {"55000", 503}, /* object_not_in_prerequisite_state (e.g. no master key) */
    {"55P03", 429}, /* lock_not_available: aistudio.login throttles failed logins */
    {"57P01", 503}, /* admin_shutdown */
    {"57P02", 503}, /* crash_shutdown */
    {"57P03", 503}, /* cannot_connect_now */
    {"53300", 503}, /* too_many_connections */
    {"57014", 504}, /* query_canceled (statement timeout) */
    {"08", 503},    /* connection exceptions: database unreachable */
    {"22", 400},    /* data exceptions: bad input */
    {"23", 409},    /* integrity constraint violations */
};

int gw_errmap_status(const char *sqlstate)
{
    if (sqlstate == NULL || strlen(sqlstate) != 5)
        return 500;
    for (size_t i = 0; i < sizeof(gw_errmap_table) / sizeof(gw_errmap_table[0]); i++) {
        const gw_errmap_entry *e = &gw_errmap_table[i];
        if (strncmp(sqlstate, e->pattern, strlen(e->pattern)) == 0)
            return e->status;
    }
    return 500;
}

const char *gw_errmap_type(int status)
{
    switch (status) {
    case 400:
    case 404:
    case 405:
    case 409:
    case 411:
    case 413:
    case 414:
    case 415:
    case 422:
    case 431:
        return "invalid_request_error";
    case 401:
        return "authentication_error";
    case 402:
        return "insufficient_quota";
    case 403:
        return "permission_error";
    case 429:
        return "rate_limit_error";
    case 502:
    case 504:
        return "upstream_error";
    case 503:
        return "service_unavailable";
    default:
        return status >= 400 && status < 500 ? "invalid_request_error" : "server_error";
    }
}

const char *gw_errmap_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 402:
        return "Payment Required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

int gw_errmap_body(gw_buf *b, int status, const char *message, const char *code)
{
    return gw_errmap_body_full(b, status, message, code, NULL, NULL);
}

int gw_errmap_body_full(gw_buf *b, int status, const char *message, const char *code, const char *detail,
                        const char *hint)
{
    gw_jw w;
    gw_jw_init(&w, b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "error");
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "message");
    gw_jw_string(&w, message != NULL ? message : gw_errmap_reason(status));
    gw_jw_key(&w, "type");
    gw_jw_string(&w, gw_errmap_type(status));
    gw_jw_key(&w, "code");
    gw_jw_string(&w, code);
    if (detail != NULL && detail[0] != '\0') {
        gw_jw_key(&w, "detail");
        gw_jw_string(&w, detail);
    }
    if (hint != NULL && hint[0] != '\0') {
        gw_jw_key(&w, "hint");
        gw_jw_string(&w, hint);
    }
    gw_jw_object_end(&w);
    gw_jw_object_end(&w);
    return gw_jw_finish(&w);
}

int gw_errmap_body_fixed(char *out, size_t cap, int status, const char *message, const char *code)
{
    gw_buf b;
    gw_buf_init_fixed(&b, out, cap);
    if (gw_errmap_body(&b, status, message, code) != 0)
        return -1;
    return (int)b.len;
}
