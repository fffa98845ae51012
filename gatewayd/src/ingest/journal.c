/*
 * src/ingest/journal.c: the in-flight request journal (what it is for, the
 * life of a slot and the locking protocol are in journal.h).
 *
 * File format, <SPOOL_DIR>/journal.map (native byte order: the file never
 * leaves the machine):
 *   a header page (GW_JR_HEADER_SIZE bytes): magic "GWJOURNL", format
 *   version, header size, slot size, record size, slot count, file size and
 *   a CRC32C of those fields;
 *   then nslots slots of sizeof(gw_jslot) bytes (1344), each:
 *     state      FREE (0), STARTED (1) or FINISHED (2)
 *     gen        which claim of the slot the records belong to
 *     cur        the record written last (a hint for writers only)
 *     usage      prompt/response/cache tokens, "estimated" and the elapsed
 *                time so far: aligned 64-bit words stored one by one
 *     rec[2]     two records, each {crc, gen, version, kind, len, data}:
 *                data is the event in the spool's record encoding
 *                (gw_spool_encode_event), kind PROGRESS (the request's
 *                identity so far) or FINAL (the complete event), crc a
 *                CRC32C of gen … data.
 *
 * Torn writes: a kill -9 stops a thread between two stores, and every
 * store before it is in the file (the page cache is the memory the process
 * wrote; nothing is reordered after the process is gone, and release
 * stores keep the compiler and the CPU from moving a store past the one
 * that publishes it). So:
 *   - a record is only ever written over the OLDER of the two, its CRC
 *     stored last (release): the newest record whose CRC matches (and whose
 *     gen is the slot's) is complete, and the one before it survives a
 *     write cut half-way;
 *   - a claim writes gen and the first record while the state is still
 *     FREE and then stores STARTED (release); a finish writes the FINAL
 *     record and then stores FINISHED (release);
 *   - the usage words are independent: a cut between two of them leaves
 *     values of two neighbouring moments, all plausible.
 * Recovery trusts nothing: the header (magic, version, geometry, CRC, the
 * file's real size) decides whether the slots are read at all, a state
 * other than the three is skipped, a record counts only with its CRC and
 * gen and when it decodes, usage words are clamped to [0, 10^12]. Whatever
 * fails is skipped with a warning ("nothing to recover"), never trusted.
 *
 * Start: the old file is read (mapped read-only), its events are written
 * into a new file, journal.map.tmp (fallocate'd, so a full disk fails the
 * start instead of raising SIGBUS on a later store into a hole), as
 * FINISHED slots 0 … k-1; that file is synced and renamed over the old one.
 * A crash at any moment leaves either the old file or the new one, and
 * each holds every event. Free slots are handed out lowest first (a stack),
 * so the pages in use stay few.
 *
 * Locking the file: flock(LOCK_EX) on journal.map, the open retried when
 * the file was renamed between open and flock (the inode must still be the
 * one the path names); the new file is locked before it is renamed into
 * place.
 */
#include "ingest/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "ingest/spool.h"

#define GW_JR_MAGIC "GWJOURNL"
#define GW_JR_VERSION 2
#define GW_JR_HEADER_SIZE 4096
#define GW_JR_REC_DATA 624 /* the longest encoded event is 623 bytes (test_journal checks) */
#define GW_JR_TOKENS_MAX 1000000000000LL
#define GW_JR_LOCK_TRIES 8

enum { GW_JS_FREE = 0, GW_JS_STARTED = 1, GW_JS_FINISHED = 2 };
enum { GW_JR_PROGRESS = 1, GW_JR_FINAL = 2 };

typedef struct gw_jheader {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint32_t slot_size;
    uint32_t rec_data;
    uint32_t nslots;
    uint32_t reserved;
    uint64_t file_size;
    uint32_t crc; /* CRC32C of the bytes before it */
} gw_jheader;

typedef struct gw_jrec {
    _Atomic uint32_t crc; /* CRC32C of gen, version, kind, len and data[0, len); stored last */
    uint32_t gen;
    uint32_t version;
    uint16_t kind;
    uint16_t len;
    unsigned char data[GW_JR_REC_DATA];
} gw_jrec;

typedef struct gw_jslot {
    _Atomic uint32_t state;
    uint32_t gen;
    uint32_t cur;
    _Atomic uint32_t estimated;
    _Atomic int64_t prompt_tokens;
    _Atomic int64_t response_tokens;
    _Atomic int64_t cache_write_tokens;
    _Atomic int64_t cache_read_tokens;
    _Atomic int64_t elapsed_ms;
    uint64_t reserved;
    gw_jrec rec[2];
} gw_jslot;

_Static_assert(sizeof(gw_jrec) == 640, "journal record layout");
_Static_assert(sizeof(gw_jslot) == 1344, "journal slot layout");
_Static_assert(offsetof(gw_jrec, data) == 16 && offsetof(gw_jslot, rec) == 64, "journal field offsets");
_Static_assert(sizeof(gw_jheader) <= GW_JR_HEADER_SIZE, "journal header");

struct gw_journal {
    char *path;
    char *tmppath;
    char *dir;
    int fd;
    unsigned char *map;
    size_t map_len;
    uint32_t nslots;
    uint32_t nrecovered; /* slots [0, nrecovered) hold recovered events until gw_journal_replay */
    pthread_mutex_t mu;  /* guards free_idx / nfree */
    uint32_t *free_idx;
    uint32_t nfree;
    atomic_llong in_use, claimed, not_journaled;
    int64_t rec_finished, rec_interrupted, rec_invalid;
};

static gw_jslot *gw_jr_slot(unsigned char *map, uint32_t i)
{
    return (gw_jslot *)(map + GW_JR_HEADER_SIZE + (size_t)i * sizeof(gw_jslot));
}

static size_t gw_jr_file_size(uint32_t nslots)
{
    return GW_JR_HEADER_SIZE + (size_t)nslots * sizeof(gw_jslot);
}

static uint32_t gw_jr_rec_crc(const gw_jrec *r)
{
    uint32_t c = gw_spool_crc32c(0, &r->gen, offsetof(gw_jrec, data) - offsetof(gw_jrec, gen));
    return gw_spool_crc32c(c, r->data, r->len);
}

/* Writes ev as record `which` of s; the CRC last, so a cut write never validates. */
static void gw_jr_put(gw_jslot *s, uint32_t which, uint32_t version, uint16_t kind, const gw_event *ev)
{
    unsigned char buf[GW_SPOOL_PAYLOAD_MAX];
    size_t len = gw_spool_encode_event(ev, buf);
    gw_jrec *r = &s->rec[which];

    if (len > GW_JR_REC_DATA) { /* cannot happen: the encoding is bounded (test_journal) */
        gw_log_error("journal: event %s encodes to %zu bytes, more than a record holds", ev->request_id, len);
        return;
    }
    r->gen = s->gen;
    r->version = version;
    r->kind = kind;
    r->len = (uint16_t)len;
    memcpy(r->data, buf, len);
    atomic_store_explicit(&r->crc, gw_jr_rec_crc(r), memory_order_release);
    s->cur = which;
}

/* Writes over the older record. */
static void gw_jr_put_next(gw_jslot *s, uint16_t kind, const gw_event *ev)
{
    uint32_t cur = s->cur & 1;
    gw_jr_put(s, cur ^ 1, s->rec[cur].version + 1, kind, ev);
}

static gw_jslot *gw_jr_ref(gw_journal *j, gw_jref ref)
{
    if (j == NULL || ref.slot == 0 || ref.slot > j->nslots)
        return NULL;
    return gw_jr_slot(j->map, ref.slot - 1);
}

/* ---- the request path ---- */

void gw_journal_claim(gw_journal *j, const gw_event *ident, gw_jref *out)
{
    gw_jslot *s;
    uint32_t idx, gen;

    out->slot = out->gen = 0;
    if (j == NULL)
        return;
    pthread_mutex_lock(&j->mu);
    if (j->nfree == 0) {
        pthread_mutex_unlock(&j->mu);
        atomic_fetch_add_explicit(&j->not_journaled, 1, memory_order_relaxed);
        return;
    }
    idx = j->free_idx[--j->nfree];
    pthread_mutex_unlock(&j->mu);

    s = gw_jr_slot(j->map, idx);
    gen = s->gen + 1;
    s->gen = gen != 0 ? gen : 1;
    atomic_store_explicit(&s->estimated, 0, memory_order_relaxed);
    atomic_store_explicit(&s->prompt_tokens, 0, memory_order_relaxed);
    atomic_store_explicit(&s->response_tokens, 0, memory_order_relaxed);
    atomic_store_explicit(&s->cache_write_tokens, 0, memory_order_relaxed);
    atomic_store_explicit(&s->cache_read_tokens, 0, memory_order_relaxed);
    atomic_store_explicit(&s->elapsed_ms, 0, memory_order_relaxed);
    gw_jr_put(s, 0, 1, GW_JR_PROGRESS, ident);
    atomic_store_explicit(&s->state, GW_JS_STARTED, memory_order_release);
    atomic_fetch_add_explicit(&j->in_use, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&j->claimed, 1, memory_order_relaxed);
    out->slot = idx + 1;
    out->gen = s->gen;
}

void gw_journal_note(gw_journal *j, gw_jref ref, const gw_event *ident)
{
    gw_jslot *s = gw_jr_ref(j, ref);
    if (s != NULL)
        gw_jr_put_next(s, GW_JR_PROGRESS, ident);
}

void gw_journal_progress(gw_journal *j, gw_jref ref, const gw_journal_usage *u)
{
    gw_jslot *s = gw_jr_ref(j, ref);
    if (s == NULL)
        return;
    atomic_store_explicit(&s->prompt_tokens, u->prompt_tokens, memory_order_relaxed);
    atomic_store_explicit(&s->response_tokens, u->response_tokens, memory_order_relaxed);
    atomic_store_explicit(&s->cache_write_tokens, u->cache_write_tokens, memory_order_relaxed);
    atomic_store_explicit(&s->cache_read_tokens, u->cache_read_tokens, memory_order_relaxed);
    atomic_store_explicit(&s->estimated, u->estimated ? 1 : 0, memory_order_relaxed);
    atomic_store_explicit(&s->elapsed_ms, u->elapsed_ms, memory_order_relaxed);
}

void gw_journal_finish(gw_journal *j, gw_jref ref, gw_event *ev)
{
    gw_jslot *s = gw_jr_ref(j, ref);
    ev->journal_slot = ev->journal_gen = 0;
    if (s == NULL)
        return;
    gw_jr_put_next(s, GW_JR_FINAL, ev);
    atomic_store_explicit(&s->state, GW_JS_FINISHED, memory_order_release);
    ev->journal_slot = ref.slot;
    ev->journal_gen = ref.gen;
}

void gw_journal_release(gw_journal *j, const gw_event *ev, int n)
{
    int any = 0;
    if (j == NULL)
        return;
    for (int i = 0; i < n && !any; i++)
        any = ev[i].journal_slot != 0;
    if (!any)
        return; /* e.g. a batch replayed from the spool */
    pthread_mutex_lock(&j->mu);
    for (int i = 0; i < n; i++) {
        uint32_t idx = ev[i].journal_slot - 1;
        gw_jslot *s;
        if (ev[i].journal_slot == 0 || idx >= j->nslots)
            continue;
        s = gw_jr_slot(j->map, idx);
        /* never twice: a second release would put the index on the stack twice */
        if (s->gen != ev[i].journal_gen || atomic_load_explicit(&s->state, memory_order_relaxed) == GW_JS_FREE)
            continue;
        atomic_store_explicit(&s->state, GW_JS_FREE, memory_order_release);
        j->free_idx[j->nfree++] = idx;
        atomic_fetch_sub_explicit(&j->in_use, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&j->mu);
}

void gw_journal_stats_get(gw_journal *j, gw_journal_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (j == NULL)
        return;
    out->slots = j->nslots;
    out->in_use = atomic_load(&j->in_use);
    out->claimed = atomic_load(&j->claimed);
    out->not_journaled = atomic_load(&j->not_journaled);
    out->recovered_finished = j->rec_finished;
    out->recovered_interrupted = j->rec_interrupted;
    out->recovered_invalid = j->rec_invalid;
}

/* ---- recovery ---- */

static uint32_t gw_jr_header_crc(const gw_jheader *h)
{
    return gw_spool_crc32c(0, h, offsetof(gw_jheader, crc));
}

/* Is the file behind fd (size bytes) a journal? 0 with *nslots, or -1 with why. */
static int gw_jr_check_header(int fd, int64_t size, uint32_t *nslots, char why[GW_ERR_LEN])
{
    gw_jheader h;
    ssize_t got;

    if (size < (int64_t)GW_JR_HEADER_SIZE)
        return gw_errf(why, "%lld bytes, shorter than its header", (long long)size);
    do
        got = pread(fd, &h, sizeof(h), 0);
    while (got < 0 && errno == EINTR);
    if (got != (ssize_t)sizeof(h))
        return gw_errf(why, "cannot read its header: %s", got < 0 ? strerror(errno) : "short read");
    if (memcmp(h.magic, GW_JR_MAGIC, sizeof(h.magic)) != 0)
        return gw_errf(why, "bad magic");
    if (h.version != GW_JR_VERSION)
        return gw_errf(why, "format version %u, this gatewayd reads %u", h.version, GW_JR_VERSION);
    if (h.crc != gw_jr_header_crc(&h))
        return gw_errf(why, "header checksum mismatch");
    if (h.header_size != GW_JR_HEADER_SIZE || h.slot_size != sizeof(gw_jslot) || h.rec_data != GW_JR_REC_DATA)
        return gw_errf(why, "unexpected geometry (header %u, slot %u, record %u bytes)", h.header_size, h.slot_size,
                       h.rec_data);
    if (h.nslots < 1 || h.nslots > GW_JOURNAL_MAX_SLOTS)
        return gw_errf(why, "%u slots", h.nslots);
    if (h.file_size != gw_jr_file_size(h.nslots) || (uint64_t)size != h.file_size)
        return gw_errf(why, "%lld bytes where %u slots take %zu (truncated?)", (long long)size, h.nslots,
                       gw_jr_file_size(h.nslots));
    *nslots = h.nslots;
    return 0;
}

static int64_t gw_jr_clamp(int64_t v, int64_t max)
{
    return v < 0 || v > max ? 0 : v;
}

/*
 * The event a slot of an earlier run stands for: its FINAL record as it
 * is, or, when the newest readable record is the request's identity, an
 * interrupted event with the usage seen so far. -1 when nothing readable.
 */
static int gw_jr_recover_slot(const gw_jslot *s, gw_event *ev, int *interrupted)
{
    const gw_jrec *cand[2];
    int nc = 0, kind = 0, est;
    uint32_t gen = s->gen;

    for (int i = 0; i < 2; i++) {
        const gw_jrec *r = &s->rec[i];
        if (r->gen != gen || r->version == 0 || r->len > GW_JR_REC_DATA ||
            (r->kind != GW_JR_PROGRESS && r->kind != GW_JR_FINAL))
            continue;
        if (atomic_load_explicit(&r->crc, memory_order_relaxed) != gw_jr_rec_crc(r))
            continue;
        cand[nc++] = r;
    }
    if (nc == 2 && cand[1]->version > cand[0]->version) {
        const gw_jrec *t = cand[0];
        cand[0] = cand[1];
        cand[1] = t;
    }
    for (int i = 0; i < nc && kind == 0; i++)
        if (gw_spool_decode_event(cand[i]->data, cand[i]->len, ev) == 0 && ev->request_id[0] != '\0')
            kind = cand[i]->kind;
    if (kind == 0)
        return -1;
    ev->est_cost = 0; /* an earlier run's costs are not in this process's budget counts */
    ev->journal_slot = ev->journal_gen = 0;
    *interrupted = kind != GW_JR_FINAL;
    if (!*interrupted)
        return 0;
    ev->prompt_tokens = gw_jr_clamp(atomic_load_explicit(&s->prompt_tokens, memory_order_relaxed), GW_JR_TOKENS_MAX);
    ev->response_tokens =
        gw_jr_clamp(atomic_load_explicit(&s->response_tokens, memory_order_relaxed), GW_JR_TOKENS_MAX);
    ev->cache_write_tokens =
        gw_jr_clamp(atomic_load_explicit(&s->cache_write_tokens, memory_order_relaxed), GW_JR_TOKENS_MAX);
    ev->cache_read_tokens =
        gw_jr_clamp(atomic_load_explicit(&s->cache_read_tokens, memory_order_relaxed), GW_JR_TOKENS_MAX);
    ev->latency_ms = (int32_t)gw_jr_clamp(atomic_load_explicit(&s->elapsed_ms, memory_order_relaxed), INT32_MAX);
    est = atomic_load_explicit(&s->estimated, memory_order_relaxed) == 1 && ev->response_tokens > 0;
    ev->status_code = GW_JOURNAL_INTERRUPTED_STATUS;
    snprintf(ev->error, sizeof(ev->error), "%s%s", GW_JOURNAL_INTERRUPTED_ERROR,
             est ? ", response tokens estimated from the relayed answer frames" : "");
    return 0;
}

/* Opens and locks path; retried when the file was replaced between open and flock. */
static int gw_jr_open_locked(const char *path, int flags, int *out, char err[GW_ERR_LEN])
{
    for (int i = 0; i < GW_JR_LOCK_TRIES; i++) {
        struct stat a, b;
        int fd = open(path, flags | O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return gw_errf(err, "SPOOL_DIR: cannot open %s: %s", path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                return gw_errf(err, "SPOOL_DIR: %s is in use by another process", path);
            return gw_errf(err, "SPOOL_DIR: cannot lock %s: %s", path, strerror(e));
        }
        if (fstat(fd, &a) != 0 || !S_ISREG(a.st_mode)) {
            close(fd);
            return gw_errf(err, "SPOOL_DIR: %s is not a regular file", path);
        }
        if (stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            *out = fd;
            return 0;
        }
        close(fd); /* renamed over meanwhile: lock the file the path names now */
    }
    return gw_errf(err, "SPOOL_DIR: %s keeps being replaced", path);
}

static void gw_jr_sync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
}

/* The new file, mapped, header written, every slot FREE. */
static int gw_jr_create(gw_journal *j, uint32_t nslots, char err[GW_ERR_LEN])
{
    size_t size = gw_jr_file_size(nslots);
    gw_jheader h;
    int rc;

    if (gw_jr_open_locked(j->tmppath, O_TRUNC, &j->fd, err) != 0)
        return -1;
    if (ftruncate(j->fd, (off_t)size) != 0)
        return gw_errf(err, "SPOOL_DIR: cannot size %s: %s", j->tmppath, strerror(errno));
    if ((rc = posix_fallocate(j->fd, 0, (off_t)size)) != 0)
        return gw_errf(err, "SPOOL_DIR: cannot reserve %zu bytes for %s: %s", size, j->tmppath, strerror(rc));
    j->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd, 0);
    if (j->map == MAP_FAILED) {
        j->map = NULL;
        return gw_errf(err, "SPOOL_DIR: cannot map %s: %s", j->tmppath, strerror(errno));
    }
    j->map_len = size;
    j->nslots = nslots;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, GW_JR_MAGIC, sizeof(h.magic));
    h.version = GW_JR_VERSION;
    h.header_size = GW_JR_HEADER_SIZE;
    h.slot_size = sizeof(gw_jslot);
    h.rec_data = GW_JR_REC_DATA;
    h.nslots = nslots;
    h.file_size = size;
    h.crc = gw_jr_header_crc(&h);
    memcpy(j->map, &h, sizeof(h));
    return 0;
}

/* Moves the events of the old file (old, nold slots) into slots 0 … of the new one. */
static void gw_jr_recover(gw_journal *j, const unsigned char *old, uint32_t nold)
{
    for (uint32_t i = 0; i < nold; i++) {
        const gw_jslot *s = gw_jr_slot((unsigned char *)old, i);
        uint32_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
        gw_event ev;
        gw_jslot *ns;
        int interrupted = 0;

        if (state == GW_JS_FREE)
            continue;
        if ((state != GW_JS_STARTED && state != GW_JS_FINISHED) || gw_jr_recover_slot(s, &ev, &interrupted) != 0 ||
            j->nrecovered >= j->nslots) {
            j->rec_invalid++;
            continue;
        }
        ns = gw_jr_slot(j->map, j->nrecovered++);
        ns->gen = 1;
        gw_jr_put(ns, 0, 1, GW_JR_FINAL, &ev);
        atomic_store_explicit(&ns->state, GW_JS_FINISHED, memory_order_release);
        if (interrupted)
            j->rec_interrupted++;
        else
            j->rec_finished++;
    }
}

/* Non-free slots of the old file (the new one holds at least that many). */
static uint32_t gw_jr_count_used(const unsigned char *old, uint32_t nold)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < nold; i++)
        if (atomic_load_explicit(&gw_jr_slot((unsigned char *)old, i)->state, memory_order_relaxed) != GW_JS_FREE)
            n++;
    return n;
}

static char *gw_jr_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void gw_journal_close(gw_journal *j)
{
    if (j == NULL)
        return;
    if (j->map != NULL) {
        long long left = atomic_load(&j->in_use);
        if (left > 0)
            gw_log_warn("journal: %lld events not yet durable stay in %s for the next start", left, j->path);
        munmap(j->map, j->map_len);
    }
    if (j->fd >= 0)
        close(j->fd); /* also drops the flock */
    pthread_mutex_destroy(&j->mu);
    free(j->free_idx);
    free(j->path);
    free(j->tmppath);
    free(j->dir);
    free(j);
}

int gw_journal_open(const char *dir, uint32_t nslots, gw_journal **out, char err[GW_ERR_LEN])
{
    gw_journal *j;
    struct stat st;
    unsigned char *old = NULL;
    uint32_t nold = 0;
    int oldfd = -1, rc = -1;
    char why[GW_ERR_LEN];

    *out = NULL;
    if (dir == NULL || dir[0] == '\0')
        return 0;
    if (nslots < 1 || nslots > GW_JOURNAL_MAX_SLOTS)
        return gw_errf(err, "JOURNAL_SLOTS: must be between 1 and %u", GW_JOURNAL_MAX_SLOTS);
    if (gw_spool_mkdirs(dir, err) != 0)
        return -1;
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        return gw_errf(err, "out of memory");
    j->fd = -1;
    pthread_mutex_init(&j->mu, NULL);
    j->dir = strdup(dir);
    j->path = gw_jr_join(dir, GW_JOURNAL_FILE);
    j->tmppath = gw_jr_join(dir, GW_JOURNAL_FILE ".tmp");
    if (j->dir == NULL || j->path == NULL || j->tmppath == NULL) {
        gw_errf(err, "out of memory");
        goto done;
    }

    /* what an earlier run left */
    if (gw_jr_open_locked(j->path, 0, &oldfd, err) != 0)
        goto done;
    if (fstat(oldfd, &st) != 0) {
        gw_errf(err, "SPOOL_DIR: cannot stat %s: %s", j->path, strerror(errno));
        goto done;
    }
    if (st.st_size > 0 && gw_jr_check_header(oldfd, (int64_t)st.st_size, &nold, why) != 0) {
        gw_log_warn("journal: %s is not a valid journal (%s): nothing to recover", j->path, why);
        nold = 0;
    }
    if (nold > 0) {
        old = mmap(NULL, gw_jr_file_size(nold), PROT_READ, MAP_SHARED, oldfd, 0);
        if (old == MAP_FAILED) {
            gw_errf(err, "SPOOL_DIR: cannot map %s: %s", j->path, strerror(errno));
            old = NULL;
            goto done;
        }
        uint32_t used = gw_jr_count_used(old, nold);
        if (used > nslots)
            nslots = used;
    }

    /* the new file, with those events, replaces it */
    if (gw_jr_create(j, nslots, err) != 0)
        goto done;
    if (old != NULL)
        gw_jr_recover(j, old, nold);
    if (j->nrecovered > 0 && fsync(j->fd) != 0) {
        gw_errf(err, "SPOOL_DIR: cannot sync %s: %s", j->tmppath, strerror(errno));
        goto done;
    }
    if (rename(j->tmppath, j->path) != 0) {
        gw_errf(err, "SPOOL_DIR: cannot rename %s: %s", j->tmppath, strerror(errno));
        goto done;
    }
    gw_jr_sync_dir(dir);
    if (j->rec_invalid > 0)
        gw_log_warn("journal: %s: %lld unreadable slots skipped (nothing to recover from them)", j->path,
                    (long long)j->rec_invalid);

    j->free_idx = malloc((size_t)j->nslots * sizeof(uint32_t));
    if (j->free_idx == NULL) {
        gw_errf(err, "out of memory");
        goto done;
    }
    for (uint32_t i = j->nslots; i > j->nrecovered; i--)
        j->free_idx[j->nfree++] = i - 1; /* the lowest on top */
    atomic_store(&j->in_use, j->nrecovered);
    rc = 0;
done:
    if (old != NULL)
        munmap(old, gw_jr_file_size(nold));
    if (oldfd >= 0)
        close(oldfd);
    if (rc != 0) {
        if (j->fd >= 0)
            unlink(j->tmppath); /* still ours (locked); the old file is untouched */
        gw_journal_close(j);
        return -1;
    }
    *out = j;
    return 0;
}

void gw_journal_replay(gw_journal *j, void (*record)(void *ctx, const gw_event *ev), void *ctx)
{
    if (j == NULL)
        return;
    for (uint32_t k = 0; k < j->nrecovered; k++) {
        gw_jslot *s = gw_jr_slot(j->map, k);
        gw_event ev;
        int interrupted;
        if (gw_jr_recover_slot(s, &ev, &interrupted) != 0) { /* written just now: cannot happen */
            gw_log_error("journal: recovered slot %u does not read back", k);
            continue;
        }
        ev.journal_slot = k + 1;
        ev.journal_gen = s->gen;
        record(ctx, &ev);
    }
    gw_log_info("journal: %s, %u slots; recovered %lld finished, %lld interrupted events", j->path, j->nslots,
                (long long)j->rec_finished, (long long)j->rec_interrupted);
    j->nrecovered = 0;
}
