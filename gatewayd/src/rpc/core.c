/*
 * src/rpc/core.c: what both sides of src/rpc share: the counted grpc
 * library reference (one mutex; the last release waits for grpc's shutdown
 * so no grpc thread outlives it), grpc's log lines routed to base/log.h,
 * status names and the grpc status mapping, metadata lookups, byte buffers,
 * deadlines, unary replies and the reconnect backoff.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <grpc/support/log.h>

#include "base/log.h"
#include "rpc/rpc_int.h"

/* PEM files are small; a bigger one is a mistake (wrong path). */
#define GW_RPC_FILE_MAX (1024 * 1024)

static pthread_mutex_t lib_mu = PTHREAD_MUTEX_INITIALIZER;
static int lib_refs;

/* grpc's errors are mostly about peers (a refused connection, a handshake
 * that failed): warnings for us; its info and debug lines are debug. */
static void rpc_gpr_log(gpr_log_func_args *a)
{
    gw_log_level level = a->severity == GPR_LOG_SEVERITY_ERROR ? GW_LOG_WARN : GW_LOG_DEBUG;
    if (!gw_log_enabled(level))
        return;
    const char *file = a->file != NULL ? strrchr(a->file, '/') : NULL;
    gw_log(level, "grpc: %s (%s:%d)", a->message, file != NULL ? file + 1 : (a->file ? a->file : "?"), a->line);
}

void gw_rpc_lib_acquire(void)
{
    pthread_mutex_lock(&lib_mu);
    if (lib_refs++ == 0) {
        gpr_set_log_function(rpc_gpr_log);
        grpc_init();
    }
    pthread_mutex_unlock(&lib_mu);
}

void gw_rpc_lib_release(void)
{
    pthread_mutex_lock(&lib_mu);
    if (lib_refs > 0 && --lib_refs == 0)
        grpc_shutdown_blocking();
    pthread_mutex_unlock(&lib_mu);
}

void gw_rpc_init(void)
{
    gw_rpc_lib_acquire();
}

void gw_rpc_shutdown(void)
{
    gw_rpc_lib_release();
}

static const char *const status_names[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

const char *gw_rpc_status_name(gw_rpc_status status)
{
    if ((int)status < 0 || (size_t)status >= sizeof(status_names) / sizeof(status_names[0]))
        return "UNKNOWN";
    return status_names[status];
}

gw_rpc_status gw_rpc_status_from_grpc(grpc_status_code code)
{
    if ((int)code < 0 || (int)code > (int)GW_RPC_UNAUTHENTICATED)
        return GW_RPC_UNKNOWN;
    return (gw_rpc_status)code;
}

const char *gw_rpc_md_get(const gw_rpc_md *md, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (md[i].key != NULL && strcasecmp(md[i].key, key) == 0)
            return md[i].value;
    return NULL;
}

const char *gw_rpc_md_bearer(const gw_rpc_md *md, size_t n)
{
    const char *v = gw_rpc_md_get(md, n, "authorization");
    if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
        return NULL;
    v += 7;
    while (*v == ' ')
        v++;
    return *v != '\0' ? v : NULL;
}

int gw_rpc_md_from_grpc(const grpc_metadata_array *arr, gw_rpc_md **out, size_t *n)
{
    size_t bytes = arr->count * sizeof(gw_rpc_md);
    for (size_t i = 0; i < arr->count; i++)
        bytes += GRPC_SLICE_LENGTH(arr->metadata[i].key) + GRPC_SLICE_LENGTH(arr->metadata[i].value) + 2;
    gw_rpc_md *md = malloc(bytes > 0 ? bytes : 1);
    if (md == NULL)
        return -1;
    char *p = (char *)(md + arr->count);
    for (size_t i = 0; i < arr->count; i++) {
        const grpc_metadata *m = &arr->metadata[i];
        size_t kl = GRPC_SLICE_LENGTH(m->key), vl = GRPC_SLICE_LENGTH(m->value);
        memcpy(p, GRPC_SLICE_START_PTR(m->key), kl);
        p[kl] = '\0';
        md[i].key = p;
        p += kl + 1;
        memcpy(p, GRPC_SLICE_START_PTR(m->value), vl);
        p[vl] = '\0';
        md[i].value = p;
        md[i].len = vl;
        p += vl + 1;
    }
    *out = md;
    *n = arr->count;
    return 0;
}

grpc_byte_buffer *gw_rpc_bb_new(const void *data, size_t len)
{
    grpc_slice s = grpc_slice_from_copied_buffer(data != NULL ? data : "", len);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

int gw_rpc_bb_read(grpc_byte_buffer *bb, grpc_slice *out)
{
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb))
        return -1; /* a message that does not decompress */
    *out = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    return 0;
}

gpr_timespec gw_rpc_deadline(int timeout_ms)
{
    if (timeout_ms <= 0)
        return gpr_inf_future(GPR_CLOCK_MONOTONIC);
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
}

char *gw_rpc_slice_strdup(grpc_slice s)
{
    size_t n = GRPC_SLICE_LENGTH(s);
    char *p = malloc(n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, GRPC_SLICE_START_PTR(s), n);
    p[n] = '\0';
    return p;
}

char *gw_rpc_read_file(const char *what, const char *path, char err[GW_ERR_LEN])
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        gw_errf(err, "cannot open %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > GW_RPC_FILE_MAX) {
        fclose(f);
        gw_errf(err, "%s %s is not a regular file of at most %d bytes", what, path, GW_RPC_FILE_MAX);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf != NULL ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    int bad = buf == NULL || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        gw_errf(err, "cannot read %s %s", what, path);
        return NULL;
    }
    buf[n] = '\0';
    if (strstr(buf, "-----BEGIN ") == NULL) {
        free(buf);
        gw_errf(err, "%s %s is not PEM", what, path);
        return NULL;
    }
    return buf;
}

/* ---- replies ---- */

unsigned char *gw_rpc_reply_alloc(gw_rpc_reply *r, size_t len)
{
    free(r->data);
    r->data = malloc(len > 0 ? len : 1);
    r->len = r->data != NULL ? len : 0;
    if (r->data == NULL)
        gw_rpc_reply_fail(r, GW_RPC_RESOURCE_EXHAUSTED, "out of memory for a reply of %zu bytes", len);
    return r->data;
}

int gw_rpc_reply_set(gw_rpc_reply *r, const void *data, size_t len)
{
    unsigned char *p = gw_rpc_reply_alloc(r, len);
    if (p == NULL)
        return -1;
    if (len > 0)
        memcpy(p, data, len);
    return 0;
}

void gw_rpc_reply_fail(gw_rpc_reply *r, gw_rpc_status status, const char *fmt, ...)
{
    free(r->data);
    r->data = NULL;
    r->len = 0;
    r->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
}

void gw_rpc_reply_clear(gw_rpc_reply *r)
{
    free(r->data);
    memset(r, 0, sizeof(*r));
}

/* ---- backoff ---- */

void gw_rpc_backoff_init(gw_rpc_backoff *b, int min_ms, int max_ms)
{
    b->min_ms = min_ms > 0 ? min_ms : 1;
    b->max_ms = max_ms >= b->min_ms ? max_ms : b->min_ms;
    b->cur_ms = 0;
    b->seed = (uint32_t)gw_now_ms() ^ (uint32_t)(uintptr_t)b;
}

int gw_rpc_backoff_next(gw_rpc_backoff *b)
{
    if (b->cur_ms == 0)
        b->cur_ms = b->min_ms;
    else
        b->cur_ms = b->cur_ms > b->max_ms / 2 ? b->max_ms : b->cur_ms * 2;
    b->seed = b->seed * 1103515245u + 12345u; /* jitter only, not a secret */
    int half = b->cur_ms / 2;
    return b->cur_ms - (half > 0 ? (int)((b->seed >> 8) % (uint32_t)(half + 1)) : 0);
}

void gw_rpc_backoff_reset(gw_rpc_backoff *b)
{
    b->cur_ms = 0;
}
