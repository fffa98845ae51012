/*
 * plugins/examples/response_logger.c: a response logger (hook on_response,
 * JSON and streamed answers). It writes one JSON line per answer to the
 * file named in its configuration and never changes the answer:
 *
 *     {"ts":"2025-01-31T12:00:00Z","request_id":"...","llm":"gpt","model":"gpt-4o",
 *      "app_id":3,"streamed":true,"chunks":9,"chars":42}
 *
 * chars counts the bytes of the answer's text (a streamed answer: every
 * chunk's text). Each line is written with one write(2) on a file opened
 * with O_APPEND, so lines from concurrent answers never mix.
 *
 * Configuration: {"path": "/var/log/aistudio/responses.log"} (absolute).
 * In the bubblewrap sandbox the file system is read-only: list the file's
 * directory in "writable_paths" too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aistudio_plugin.h"

static int log_fd = -1;

static int configure(const char *config_json, aistudio_hook hook, char *err, size_t errlen, void *user)
{
    aistudio_json root, v;
    char path[1024];
    (void)hook, (void)user;
    if (aistudio_json_parse(config_json, &root, err, errlen) != 0)
        return -1;
    if (!aistudio_json_get(&root, "path", &v) || aistudio_json_string(&v, path, sizeof(path)) != 0 ||
        path[0] != '/') {
        snprintf(err, errlen, "path: the absolute path of the log file is required");
        return -1;
    }
    log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (log_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Appends s as a JSON string (quotes, backslashes and control characters escaped). */
static size_t json_str(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    if (n < cap)
        out[n++] = '"';
    for (; s != NULL && *s != '\0' && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else
            out[n++] = (char)c;
    }
    if (n < cap)
        out[n++] = '"';
    return n;
}

static void write_line(const aistudio_context *ctx, int streamed, unsigned chunks, size_t chars)
{
    char line[2048], ts[32];
    size_t n = 0;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, "{\"ts\":\"%s\",\"request_id\":", ts);
    n += json_str(line + n, sizeof(line) - n, ctx->request_id);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"llm\":");
    n += json_str(line + n, sizeof(line) - n, ctx->llm_slug);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"model\":");
    n += json_str(line + n, sizeof(line) - n, ctx->model);
    n += (size_t)snprintf(line + n, sizeof(line) - n,
                          ",\"app_id\":%lld,\"streamed\":%s,\"chunks\":%u,\"chars\":%zu}\n",
                          (long long)ctx->app_id, streamed ? "true" : "false", chunks, chars);
    if (n >= sizeof(line))
        n = sizeof(line) - 1;
    if (log_fd >= 0 && write(log_fd, line, n) < 0)
        aistudio_plugin_log("response logger: cannot write: %s", strerror(errno));
}

static void on_response(const aistudio_response *resp, aistudio_result *res, void *user)
{
    size_t chars = 0;
    (void)res, (void)user;
    for (size_t i = 0; i < resp->ntexts; i++)
        chars += strlen(resp->texts[i].text);
    write_line(resp->ctx, 0, 0, chars);
}

typedef struct answer {
    const aistudio_context *ctx;
    unsigned chunks;
    size_t chars;
    int written;
} answer;

static void *stream_open(const aistudio_context *ctx, void *user)
{
    answer *a = calloc(1, sizeof(*a));
    (void)user;
    if (a != NULL)
        a->ctx = ctx; /* valid until the stream closes */
    return a;
}

static void stream_chunk(void *state, const aistudio_chunk *chunk, aistudio_result *res, void *user)
{
    answer *a = state;
    (void)res, (void)user;
    if (a == NULL)
        return;
    if (!chunk->end) {
        a->chunks++;
        a->chars += strlen(chunk->text);
    } else if (!a->written) {
        write_line(a->ctx, 1, a->chunks, a->chars);
        a->written = 1;
    }
}

static void stream_close(void *state, void *user)
{
    answer *a = state;
    (void)user;
    if (a != NULL && !a->written) /* cut before its end: logged all the same */
        write_line(a->ctx, 1, a->chunks, a->chars);
    free(a);
}

int main(int argc, char **argv)
{
    aistudio_plugin_info("com.pg-aistudio.examples.response-logger", "Response logger", "1.0.0",
                         "writes one line per answer to a file");
    aistudio_plugin_on_configure(configure, NULL);
    aistudio_plugin_on_response(on_response, NULL);
    aistudio_plugin_on_stream(stream_open, stream_chunk, stream_close, NULL);
    return aistudio_plugin_serve(argc, argv);
}
