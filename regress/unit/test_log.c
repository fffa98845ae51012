/*
 * regress/unit/test_log.c: the logger (levels, one line per message) and
 * the redaction helpers that keep credentials out of logs.
 */
#include "base/codec.c"
#include "base/log.c"

#include <unistd.h>

#include "tap.h"

static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    return n;
}

int main(void)
{
    char out[256], buf[8192];
    gw_log_level lvl;
    int fds[2];

    /* levels */
    ok(gw_log_parse_level("debug", &lvl) == 0 && lvl == GW_LOG_DEBUG, "parse debug");
    ok(gw_log_parse_level("WARN", &lvl) == 0 && lvl == GW_LOG_WARN, "parse WARN (case-insensitive)");
    ok(gw_log_parse_level("warning", &lvl) == 0 && lvl == GW_LOG_WARN, "parse warning");
    ok(gw_log_parse_level("verbose", &lvl) != 0, "unknown level rejected");

    /* output: one line per message, filtered by level */
    ok(pipe(fds) == 0, "pipe");
    gw_log_set_fd(fds[1]);
    gw_log_set_level(GW_LOG_INFO);
    gw_log_info("first line\nsecond \"part\"\r\t%d", 42);
    gw_log_debug("hidden at info level");
    gw_log_error("an error");
    gw_log_set_fd(2);
    close(fds[1]);
    read_all(fds[0], buf, sizeof(buf));
    close(fds[0]);
    {
        int lines = 0;
        for (char *c = buf; *c != '\0'; c++)
            lines += *c == '\n';
        is_int(lines, 2, "two messages are exactly two lines (debug filtered out)");
    }
    has_str(buf, "info  first line\\nsecond \"part\"\\r\\t42", "newline/CR/tab inside a message are escaped");
    has_str(buf, "error an error", "error level written");
    lacks_str(buf, "hidden", "debug message not written at info level");
    ok(buf[4] == '-' && buf[10] == 'T' && strstr(buf, "Z info ") != NULL, "UTC ISO-8601 timestamp prefix");

    /* long messages are truncated, still one line */
    ok(pipe(fds) == 0, "pipe");
    gw_log_set_fd(fds[1]);
    {
        static char big[GW_LOG_LINE_MAX * 2];
        memset(big, 'x', sizeof(big) - 1);
        gw_log_warn("%s", big);
    }
    gw_log_set_fd(2);
    close(fds[1]);
    read_all(fds[0], buf, sizeof(buf));
    close(fds[0]);
    ok(strchr(buf, '\n') == buf + strlen(buf) - 1, "oversized message is one line");
    has_str(buf, "...", "oversized message marked as truncated");

    /* redaction */
    gw_log_redact_header("Authorization", "Bearer sk-live-abcdef", out, sizeof(out));
    is_str(out, "Bearer [redacted len=14]", "Authorization keeps only the scheme and length");
    gw_log_redact_header("x-api-key", "sk-ant-123456", out, sizeof(out));
    is_str(out, "[redacted len=13]", "x-api-key redacted");
    gw_log_redact_header("X-Goog-Api-Key", "AIzaSecret", out, sizeof(out));
    lacks_str(out, "AIza", "x-goog-api-key redacted (case-insensitive name)");
    gw_log_redact_header("Cookie", "session=abc", out, sizeof(out));
    lacks_str(out, "abc", "Cookie redacted");
    gw_log_redact_header("Content-Type", "application/json", out, sizeof(out));
    is_str(out, "application/json", "ordinary header passes through");
    gw_log_redact_header("Authorization", "sk-no-scheme-here-at-all", out, sizeof(out));
    lacks_str(out, "sk-", "Authorization without a scheme fully redacted");
    gw_log_redact_header("Authorization", "Bearer", out, sizeof(out));
    lacks_str(out, "Bearer", "a bare token (no space) is treated as the secret");
    ok(gw_log_header_is_secret("proxy-authorization") && !gw_log_header_is_secret("accept"),
       "header_is_secret classifies");

    gw_log_redact_url("/v1beta/models/gemini:generateContent?key=AIzaSECRET&alt=sse", out, sizeof(out));
    is_str(out, "/v1beta/models/gemini:generateContent?key=REDACTED&alt=sse", "?key= redacted in a URL");
    gw_log_redact_url("a=1&api_key=zzz&token=yyy", out, sizeof(out));
    is_str(out, "a=1&api_key=REDACTED&token=REDACTED", "bare query string: every credential parameter redacted");
    gw_log_redact_url("/plain/path", out, sizeof(out));
    is_str(out, "/plain/path", "URL without query unchanged");
    gw_log_redact_url("/p?key=SECRETSECRET", out, 12);
    lacks_str(out, "SECRET", "truncated output never leaks a partial secret");
    gw_log_redact("topsecret", out, sizeof(out));
    is_str(out, "[redacted len=9]", "gw_log_redact shows only the length");

    return tap_done();
}
