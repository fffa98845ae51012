/*
 * src/ingest/spool.c: the analytics spool file (format, durability and
 * locking in spool.h): the record codec with CRC32C, appends with grouped
 * fsync, the committed-offset sidecar, replay reads, and the validation
 * that cuts a torn tail off at open. An exclusive flock on the file keeps
 * two daemons from sharing one spool.
 */
#include "ingest/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

#define GW_SPOOL_RDBUF (256 * 1024)

struct gw_spool {
    pthread_mutex_t mu;
    int fd;
    char *dir;
    char *path;
    char *offpath;
    char *tmppath;
    int64_t max_bytes;
    int64_t size;      /* bytes in the file (the append position) */
    int64_t committed; /* records before this offset are in the database */
    int64_t npending;  /* records after committed */
    int64_t found_end; /* records before this offset come from an earlier run */
    int dirty;         /* written since the last fsync */
    int64_t last_sync_ms;
    /* the reader's state (writer thread only) */
    unsigned char *rdbuf;
    int64_t rd_start, rd_end, rd_count; /* the last gw_spool_read */
};

/* ---- CRC32C (Castagnoli, reflected 0x82F63B78), tables built once ----
 * Eight bytes a step through eight tables ("slicing by 8"): the journal
 * checksums every request's records on the request path, and one table
 * lookup per byte cost about 1 µs a request. Bytes are read one by one,
 * so neither alignment nor byte order matters. */

static uint32_t gw_spool_crc_table[8][256];
static pthread_once_t gw_spool_crc_once = PTHREAD_ONCE_INIT;

static void gw_spool_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        gw_spool_crc_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = gw_spool_crc_table[t - 1][i];
            gw_spool_crc_table[t][i] = (c >> 8) ^ gw_spool_crc_table[0][c & 0xff];
        }
}

uint32_t gw_spool_crc32c(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    const uint32_t(*t)[256] = gw_spool_crc_table;
    pthread_once(&gw_spool_crc_once, gw_spool_crc_init);
    crc = ~crc;
    for (; len >= 8; p += 8, len -= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][hi & 0xff] ^
              t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    }
    while (len-- > 0)
        crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- record codec ---- */

static unsigned char *gw_sp_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *gw_sp_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *gw_sp_put_str(unsigned char *p, const char *s, size_t field_size)
{
    size_t n = strnlen(s, field_size - 1);
    *p++ = (unsigned char)n;
    memcpy(p, s, n);
    return p + n;
}

static uint32_t gw_sp_get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t gw_sp_get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

size_t gw_spool_encode_event(const gw_event *ev, unsigned char out[GW_SPOOL_PAYLOAD_MAX])
{
    unsigned char *p = out;
    uint64_t bits;

    *p++ = GW_SPOOL_RECORD_VERSION;
    p = gw_sp_put_u64(p, (uint64_t)ev->ts_us);
    p = gw_sp_put_str(p, ev->request_id, sizeof(ev->request_id));
    p = gw_sp_put_u64(p, (uint64_t)ev->user_id);
    p = gw_sp_put_u64(p, (uint64_t)ev->app_id);
    p = gw_sp_put_u64(p, (uint64_t)ev->llm_id);
    p = gw_sp_put_str(p, ev->vendor, sizeof(ev->vendor));
    p = gw_sp_put_str(p, ev->model, sizeof(ev->model));
    p = gw_sp_put_u64(p, (uint64_t)ev->prompt_tokens);
    p = gw_sp_put_u64(p, (uint64_t)ev->response_tokens);
    p = gw_sp_put_u64(p, (uint64_t)ev->cache_write_tokens);
    p = gw_sp_put_u64(p, (uint64_t)ev->cache_read_tokens);
    p = gw_sp_put_u32(p, (uint32_t)ev->latency_ms);
    p = gw_sp_put_u32(p, (uint32_t)ev->status_code);
    *p++ = (unsigned char)ev->interaction_type;
    p = gw_sp_put_str(p, ev->namespace_, sizeof(ev->namespace_));
    p = gw_sp_put_str(p, ev->error, sizeof(ev->error));
    bits = (uint64_t)ev->est_cost;
    p = gw_sp_put_u64(p, bits);
    p = gw_sp_put_u64(p, (uint64_t)ev->credential_id); /* version 2 */
    return (size_t)(p - out);
}

typedef struct gw_sp_cursor {
    const unsigned char *p;
    size_t left;
    int bad;
} gw_sp_cursor;

static uint64_t gw_sp_take_u64(gw_sp_cursor *c)
{
    uint64_t v;
    if (c->left < 8) {
        c->bad = 1;
        return 0;
    }
    v = gw_sp_get_u64(c->p);
    c->p += 8, c->left -= 8;
    return v;
}

static uint32_t gw_sp_take_u32(gw_sp_cursor *c)
{
    uint32_t v;
    if (c->left < 4) {
        c->bad = 1;
        return 0;
    }
    v = gw_sp_get_u32(c->p);
    c->p += 4, c->left -= 4;
    return v;
}

static unsigned gw_sp_take_u8(gw_sp_cursor *c)
{
    if (c->left < 1) {
        c->bad = 1;
        return 0;
    }
    c->left--;
    return *c->p++;
}

static void gw_sp_take_str(gw_sp_cursor *c, char *out, size_t field_size)
{
    size_t n = gw_sp_take_u8(c);
    if (c->bad || n >= field_size || n > c->left || memchr(c->p, '\0', n) != NULL) {
        c->bad = 1;
        out[0] = '\0';
        return;
    }
    memcpy(out, c->p, n);
    out[n] = '\0';
    c->p += n, c->left -= n;
}

int gw_spool_decode_event(const unsigned char *p, size_t len, gw_event *ev)
{
    gw_sp_cursor c = {p, len, 0};
    uint64_t bits;
    unsigned itype, version;

    memset(ev, 0, sizeof(*ev));
    version = gw_sp_take_u8(&c);
    if (version < GW_SPOOL_RECORD_VERSION_MIN || version > GW_SPOOL_RECORD_VERSION)
        return -1;
    ev->ts_us = (int64_t)gw_sp_take_u64(&c);
    gw_sp_take_str(&c, ev->request_id, sizeof(ev->request_id));
    ev->user_id = (int64_t)gw_sp_take_u64(&c);
    ev->app_id = (int64_t)gw_sp_take_u64(&c);
    ev->llm_id = (int64_t)gw_sp_take_u64(&c);
    gw_sp_take_str(&c, ev->vendor, sizeof(ev->vendor));
    gw_sp_take_str(&c, ev->model, sizeof(ev->model));
    ev->prompt_tokens = (int64_t)gw_sp_take_u64(&c);
    ev->response_tokens = (int64_t)gw_sp_take_u64(&c);
    ev->cache_write_tokens = (int64_t)gw_sp_take_u64(&c);
    ev->cache_read_tokens = (int64_t)gw_sp_take_u64(&c);
    ev->latency_ms = (int32_t)gw_sp_take_u32(&c);
    ev->status_code = (int32_t)gw_sp_take_u32(&c);
    itype = gw_sp_take_u8(&c);
    ev->interaction_type = itype == GW_INTERACTION_CHAT ? GW_INTERACTION_CHAT : GW_INTERACTION_PROXY;
    gw_sp_take_str(&c, ev->namespace_, sizeof(ev->namespace_));
    gw_sp_take_str(&c, ev->error, sizeof(ev->error));
    bits = gw_sp_take_u64(&c);
    /* money since version 3; before, a double of a run long gone: its cost
     * was never in this process's budget counts */
    ev->est_cost = version >= 3 && bits <= (uint64_t)INT64_MAX ? (int64_t)bits : 0;
    if (version >= 2)
        ev->credential_id = (int64_t)gw_sp_take_u64(&c);
    if (c.bad || c.left != 0 || itype > GW_INTERACTION_CHAT)
        return -1;
    return 0;
}

/* ---- buffered record reader ---- */

typedef struct gw_sp_reader {
    int fd;
    unsigned char *buf;
    int64_t pos;   /* file offset of buf[0] */
    int64_t limit; /* read no further */
    size_t len, cur;
} gw_sp_reader;

/* Makes n bytes available at buf + cur; 0 when the file ends first. */
static int gw_sp_ensure(gw_sp_reader *r, size_t n)
{
    while (r->len - r->cur < n) {
        int64_t avail;
        ssize_t got;
        if (r->cur > 0) {
            memmove(r->buf, r->buf + r->cur, r->len - r->cur);
            r->pos += (int64_t)r->cur;
            r->len -= r->cur;
            r->cur = 0;
        }
        avail = r->limit - (r->pos + (int64_t)r->len);
        if (avail <= 0)
            return 0;
        if (avail > (int64_t)(GW_SPOOL_RDBUF - r->len))
            avail = (int64_t)(GW_SPOOL_RDBUF - r->len);
        got = pread(r->fd, r->buf + r->len, (size_t)avail, r->pos + (int64_t)r->len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return 0;
        r->len += (size_t)got;
    }
    return 1;
}

/* The next record: 1 (payload/plen set), 0 at a clean end, -1 torn or corrupt. */
static int gw_sp_next(gw_sp_reader *r, const unsigned char **payload, uint32_t *plen)
{
    uint32_t len, crc;
    if (r->pos + (int64_t)r->cur >= r->limit)
        return 0;
    if (!gw_sp_ensure(r, GW_SPOOL_HEADER_LEN))
        return -1;
    len = gw_sp_get_u32(r->buf + r->cur);
    crc = gw_sp_get_u32(r->buf + r->cur + 4);
    if (len == 0 || len > GW_SPOOL_PAYLOAD_MAX || !gw_sp_ensure(r, GW_SPOOL_HEADER_LEN + len))
        return -1;
    if (gw_spool_crc32c(0, r->buf + r->cur + GW_SPOOL_HEADER_LEN, len) != crc)
        return -1;
    *payload = r->buf + r->cur + GW_SPOOL_HEADER_LEN;
    *plen = len;
    r->cur += GW_SPOOL_HEADER_LEN + len;
    return 1;
}

static int64_t gw_sp_offset(const gw_sp_reader *r)
{
    return r->pos + (int64_t)r->cur;
}

/* Counts the valid records in [from, limit); *cut = where the valid part ends. */
static int64_t gw_sp_count(gw_spool *s, int64_t from, int64_t limit, int64_t *cut)
{
    gw_sp_reader r = {s->fd, s->rdbuf, from, limit, 0, 0};
    const unsigned char *payload;
    uint32_t plen;
    int64_t n = 0;
    while (gw_sp_next(&r, &payload, &plen) == 1)
        n++;
    *cut = gw_sp_offset(&r);
    return n;
}

/* ---- files ---- */

int gw_spool_mkdirs(const char *dir, char err[GW_ERR_LEN])
{
    char path[PATH_MAX];
    struct stat st;
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(path))
        return gw_errf(err, "SPOOL_DIR: invalid path");
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return gw_errf(err, "SPOOL_DIR: cannot create %s: %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return gw_errf(err, "SPOOL_DIR: cannot create %s: %s", path, strerror(errno));
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return gw_errf(err, "SPOOL_DIR: %s is not a directory", path);
    return 0;
}

static void gw_sp_sync_dir(const gw_spool *s)
{
    int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
}

static int64_t gw_sp_read_sidecar(const gw_spool *s)
{
    char buf[32];
    ssize_t n;
    char *end;
    long long v;
    int fd = open(s->offpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    errno = 0;
    v = strtoll(buf, &end, 10);
    if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') || v < 0)
        return 0;
    return (int64_t)v;
}

/* Records offset in the sidecar atomically (0 removes it). Caller holds mu. */
static int gw_sp_write_sidecar(gw_spool *s, int64_t offset, char err[GW_ERR_LEN])
{
    char buf[32];
    int fd, len;
    if (offset == 0) {
        if (unlink(s->offpath) != 0 && errno != ENOENT)
            return gw_errf(err, "spool: cannot remove %s: %s", s->offpath, strerror(errno));
        gw_sp_sync_dir(s);
        return 0;
    }
    len = snprintf(buf, sizeof(buf), "%" PRId64 "\n", offset);
    fd = open(s->tmppath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return gw_errf(err, "spool: cannot write %s: %s", s->tmppath, strerror(errno));
    if (write(fd, buf, (size_t)len) != len || fsync(fd) != 0) {
        gw_errf(err, "spool: cannot write %s: %s", s->tmppath, strerror(errno));
        close(fd);
        unlink(s->tmppath);
        return -1;
    }
    close(fd);
    if (rename(s->tmppath, s->offpath) != 0) {
        gw_errf(err, "spool: cannot rename %s: %s", s->tmppath, strerror(errno));
        unlink(s->tmppath);
        return -1;
    }
    gw_sp_sync_dir(s);
    return 0;
}

/* Everything is committed: forget the sidecar, then empty the file. Caller holds mu. */
static int gw_sp_reset(gw_spool *s, char err[GW_ERR_LEN])
{
    if (gw_sp_write_sidecar(s, 0, err) != 0)
        return -1;
    if (ftruncate(s->fd, 0) != 0)
        return gw_errf(err, "spool: cannot truncate %s: %s", s->path, strerror(errno));
    (void)fsync(s->fd);
    s->size = s->committed = s->npending = s->found_end = 0;
    s->dirty = 0;
    return 0;
}

static char *gw_sp_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void gw_spool_close(gw_spool *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0) {
        if (s->dirty)
            (void)fdatasync(s->fd);
        close(s->fd); /* also drops the flock */
    }
    pthread_mutex_destroy(&s->mu);
    free(s->dir);
    free(s->path);
    free(s->offpath);
    free(s->tmppath);
    free(s->rdbuf);
    free(s);
}

int gw_spool_open(const char *dir, int64_t max_bytes, gw_spool **out, int64_t *found, char err[GW_ERR_LEN])
{
    gw_spool *s;
    struct stat st;
    int64_t cut, n;

    *out = NULL;
    if (found != NULL)
        *found = 0;
    if (gw_spool_mkdirs(dir, err) != 0)
        return -1;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return gw_errf(err, "out of memory");
    s->fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    s->max_bytes = max_bytes > 0 ? max_bytes : INT64_MAX;
    s->dir = strdup(dir);
    s->path = gw_sp_join(dir, GW_SPOOL_FILE);
    s->offpath = gw_sp_join(dir, GW_SPOOL_OFFSET_FILE);
    s->tmppath = gw_sp_join(dir, GW_SPOOL_OFFSET_FILE ".tmp");
    s->rdbuf = malloc(GW_SPOOL_RDBUF);
    if (s->dir == NULL || s->path == NULL || s->offpath == NULL || s->tmppath == NULL || s->rdbuf == NULL) {
        gw_spool_close(s);
        return gw_errf(err, "out of memory");
    }
    s->fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->fd < 0) {
        gw_errf(err, "SPOOL_DIR: cannot open %s: %s", s->path, strerror(errno));
        gw_spool_close(s);
        return -1;
    }
    if (flock(s->fd, LOCK_EX | LOCK_NB) != 0) {
        gw_errf(err, "SPOOL_DIR: %s is in use by another process", s->path);
        gw_spool_close(s);
        return -1;
    }
    if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        gw_errf(err, "SPOOL_DIR: %s is not a regular file", s->path);
        gw_spool_close(s);
        return -1;
    }
    s->size = (int64_t)st.st_size;
    s->committed = gw_sp_read_sidecar(s);
    if (s->committed > s->size)
        s->committed = 0; /* the file was emptied after the sidecar was written */

    n = gw_sp_count(s, s->committed, s->size, &cut);
    if (n == 0 && cut < s->size && s->committed > 0) {
        /* not on a record boundary: re-send everything (duplicates are harmless) */
        s->committed = 0;
        n = gw_sp_count(s, 0, s->size, &cut);
    }
    if (cut < s->size) {
        gw_log_warn("spool %s: torn or corrupt record at offset %" PRId64 ", cutting off %" PRId64 " bytes", s->path,
                    cut, s->size - cut);
        if (ftruncate(s->fd, cut) != 0 || fsync(s->fd) != 0) {
            gw_errf(err, "SPOOL_DIR: cannot truncate %s: %s", s->path, strerror(errno));
            gw_spool_close(s);
            return -1;
        }
        s->size = cut;
    }
    s->npending = n;
    s->found_end = s->size;
    if (n == 0 && s->size > 0 && gw_sp_reset(s, err) != 0) {
        gw_spool_close(s);
        return -1;
    }
    s->last_sync_ms = gw_now_ms();
    if (n > 0)
        gw_log_info("spool %s: %" PRId64 " events from an earlier run to replay", s->path, n);
    if (found != NULL)
        *found = n;
    *out = s;
    return 0;
}

/* ---- append, sync ---- */

static void gw_sp_sync_locked(gw_spool *s)
{
    if (fdatasync(s->fd) != 0)
        gw_log_warn("spool %s: fdatasync failed: %s", s->path, strerror(errno));
    s->dirty = 0;
    s->last_sync_ms = gw_now_ms();
}

int gw_spool_append(gw_spool *s, const gw_event *ev, int n, int sync, char err[GW_ERR_LEN])
{
    unsigned char one[GW_SPOOL_HEADER_LEN + GW_SPOOL_PAYLOAD_MAX];
    unsigned char *buf = one, *p;
    size_t total = 0;
    int64_t at;

    if (n <= 0)
        return 0;
    if (n > 1) {
        buf = malloc((size_t)n * sizeof(one));
        if (buf == NULL) {
            gw_errf(err, "out of memory");
            return 0;
        }
    }
    p = buf;
    for (int i = 0; i < n; i++) {
        size_t len = gw_spool_encode_event(&ev[i], p + GW_SPOOL_HEADER_LEN);
        gw_sp_put_u32(p, (uint32_t)len);
        gw_sp_put_u32(p + 4, gw_spool_crc32c(0, p + GW_SPOOL_HEADER_LEN, len));
        p += GW_SPOOL_HEADER_LEN + len;
    }
    total = (size_t)(p - buf);

    pthread_mutex_lock(&s->mu);
    if (s->size + (int64_t)total > s->max_bytes) {
        pthread_mutex_unlock(&s->mu);
        if (buf != one)
            free(buf);
        gw_errf(err, "spool full (%" PRId64 " bytes)", s->max_bytes);
        return 0;
    }
    at = s->size;
    for (size_t done = 0; done < total;) {
        ssize_t w = pwrite(s->fd, buf + done, total - done, at + (int64_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            gw_errf(err, "spool write failed: %s", w < 0 ? strerror(errno) : "short write");
            if (ftruncate(s->fd, at) != 0)
                gw_log_error("spool %s: cannot cut back a failed write: %s", s->path, strerror(errno));
            pthread_mutex_unlock(&s->mu);
            if (buf != one)
                free(buf);
            return 0;
        }
        done += (size_t)w;
    }
    s->size += (int64_t)total;
    s->npending += n;
    s->dirty = 1;
    if (sync || gw_now_ms() - s->last_sync_ms >= GW_SPOOL_SYNC_MS)
        gw_sp_sync_locked(s);
    pthread_mutex_unlock(&s->mu);
    if (buf != one)
        free(buf);
    return n;
}

void gw_spool_sync_due(gw_spool *s, int force)
{
    pthread_mutex_lock(&s->mu);
    if (s->dirty && (force || gw_now_ms() - s->last_sync_ms >= GW_SPOOL_SYNC_MS))
        gw_sp_sync_locked(s);
    pthread_mutex_unlock(&s->mu);
}

/* ---- replay ---- */

int gw_spool_read(gw_spool *s, int64_t *end, gw_event *ev, int max, unsigned char *before, int64_t *ends, int64_t *lost)
{
    gw_sp_reader r;
    const unsigned char *payload;
    uint32_t plen;
    int64_t start, limit, found_end, consumed = 0;
    int k = 0, rc = 0;

    pthread_mutex_lock(&s->mu);
    start = s->committed;
    limit = s->size;
    found_end = s->found_end;
    pthread_mutex_unlock(&s->mu);

    r = (gw_sp_reader){s->fd, s->rdbuf, start, limit, 0, 0};
    while (k < max) {
        int64_t at = gw_sp_offset(&r);
        rc = gw_sp_next(&r, &payload, &plen);
        if (rc <= 0)
            break;
        consumed++;
        if (gw_spool_decode_event(payload, plen, &ev[k]) != 0) {
            gw_log_error("spool %s: undecodable record at offset %" PRId64 " skipped", s->path, at);
            if (lost != NULL)
                (*lost)++;
            continue;
        }
        if (before != NULL)
            before[k] = at < found_end;
        if (ends != NULL)
            ends[k] = gw_sp_offset(&r);
        k++;
    }
    *end = gw_sp_offset(&r);
    if (rc == 0 && consumed == 0) {
        /* nothing after the committed offset: make sure the count agrees,
         * so the writer never spins on a phantom backlog */
        pthread_mutex_lock(&s->mu);
        if (s->committed == start && s->size == limit && s->npending != 0) {
            gw_log_warn("spool %s: %" PRId64 " pending records not found, resetting the count", s->path, s->npending);
            s->npending = 0;
        }
        pthread_mutex_unlock(&s->mu);
    }
    s->rd_start = start;
    s->rd_end = *end;
    s->rd_count = consumed;
    if (rc < 0) {
        int64_t cut = *end, gone;
        pthread_mutex_lock(&s->mu);
        gone = s->npending - consumed;
        gw_log_error("spool %s: torn or corrupt record at offset %" PRId64 ", cutting off %" PRId64 " bytes (%" PRId64
                     " events lost)",
                     s->path, cut, s->size - cut, gone);
        if (ftruncate(s->fd, cut) == 0) {
            (void)fsync(s->fd);
            s->size = cut;
            if (s->found_end > cut)
                s->found_end = cut;
            s->npending = consumed;
            if (lost != NULL)
                *lost += gone;
        } else {
            gw_log_error("spool %s: cannot truncate: %s", s->path, strerror(errno));
        }
        pthread_mutex_unlock(&s->mu);
    }
    return k;
}

int gw_spool_commit(gw_spool *s, int64_t offset, char err[GW_ERR_LEN])
{
    int64_t n, cut;
    int rc = 0;

    pthread_mutex_lock(&s->mu);
    if (offset <= s->committed || offset > s->size) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    if (s->rd_start == s->committed && s->rd_end == offset)
        n = s->rd_count;
    else
        n = gw_sp_count(s, s->committed, offset, &cut);
    s->committed = offset;
    s->npending = s->npending > n ? s->npending - n : 0;
    if (s->committed >= s->size)
        rc = gw_sp_reset(s, err);
    else
        rc = gw_sp_write_sidecar(s, offset, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int64_t gw_spool_bytes(gw_spool *s)
{
    int64_t v;
    pthread_mutex_lock(&s->mu);
    v = s->size;
    pthread_mutex_unlock(&s->mu);
    return v;
}

int64_t gw_spool_pending(gw_spool *s)
{
    int64_t v;
    pthread_mutex_lock(&s->mu);
    v = s->npending;
    pthread_mutex_unlock(&s->mu);
    return v;
}

int64_t gw_spool_committed(gw_spool *s)
{
    int64_t v;
    pthread_mutex_lock(&s->mu);
    v = s->committed;
    pthread_mutex_unlock(&s->mu);
    return v;
}
