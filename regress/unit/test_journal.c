/*
 * regress/unit/test_journal.c: the in-flight request journal
 * (ingest/journal.c). The file (0600, its size, the lock, no journal
 * without a directory); the life of a slot (claim, note, progress, finish,
 * release, a second release ignored); what a restart recovers: a finished
 * event as it was, a request cut mid-way as an interrupted event with the
 * usage seen so far, a released slot nothing, the same events again after
 * a second crash before they were stored, and across a change of the slot
 * count; a full table (requests go on, counted "not journaled"); the
 * double-buffered records (a cut or corrupt newest record falls back to the
 * one before); corrupt files (bad magic, header checksum, wrong geometry,
 * truncated, garbage, bad slot states) recover nothing and never crash, nor
 * do 10,000 files mutated at random from a fixed seed; a child process
 * killed with SIGKILL at random points while it claims, updates, finishes
 * and releases slots leaves only free, valid STARTED or valid FINISHED
 * slots; and the analytics writer releasing slots only once their events
 * are in the spool or counted dropped.
 */
#include "base/codec.c"
#include "ingest/analytics.c"
#include "ingest/bodies.c"
#include "base/buf.c"
#include "ingest/journal.c"
#include "base/log.c"
#include "db/pgpool.c"
#include "ingest/spool.c"
#include "base/uuid7.c"

#include <ftw.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "tap.h"

static char tmpdir[64];

static int64_t read_file(const char *path, unsigned char **out);

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void subdir(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

/* ---- collecting what gw_journal_replay hands out ---- */

#define MAX_GOT 256
static gw_event got[MAX_GOT];
static int ngot;

static void collect(void *ctx, const gw_event *ev)
{
    (void)ctx;
    if (ngot < MAX_GOT)
        got[ngot] = *ev;
    ngot++;
}

static const gw_event *got_rid(const char *rid)
{
    for (int i = 0; i < ngot && i < MAX_GOT; i++)
        if (strcmp(got[i].request_id, rid) == 0)
            return &got[i];
    return NULL;
}

/* Opens dir, replays into got[], returns the journal (NULL on failure). */
static gw_journal *reopen(const char *dir, uint32_t nslots)
{
    char err[GW_ERR_LEN] = "";
    gw_journal *j = NULL;
    ngot = 0;
    if (gw_journal_open(dir, nslots, &j, err) != 0) {
        diag("open %s: %s", dir, err);
        return NULL;
    }
    gw_journal_replay(j, collect, NULL);
    return j;
}

/* The identity of request i, as at its claim (note = 0) or once it is an LLM call (note = 1). */
static gw_event ident(int i, int note)
{
    gw_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.ts_us = 1735689600000000LL + i;
    snprintf(ev.request_id, sizeof(ev.request_id), "0190a5d6-0000-7000-8000-%012x", (unsigned)i);
    ev.user_id = i;
    ev.interaction_type = GW_INTERACTION_PROXY;
    if (note) {
        ev.app_id = i + 1;
        ev.credential_id = i + 2;
        ev.llm_id = i + 3;
        snprintf(ev.vendor, sizeof(ev.vendor), "openai");
        snprintf(ev.model, sizeof(ev.model), "model-%d", i);
        snprintf(ev.namespace_, sizeof(ev.namespace_), "ns-%d", i % 7);
    }
    return ev;
}

static gw_event final_event(int i)
{
    gw_event ev = ident(i, 1);
    ev.prompt_tokens = 100 + i;
    ev.response_tokens = 20 + i;
    ev.cache_read_tokens = 3;
    ev.latency_ms = 42;
    ev.status_code = 200;
    ev.est_cost = 0.5;
    return ev;
}

static gw_journal_usage usage(int64_t prompt, int64_t response, int estimated, int64_t elapsed)
{
    gw_journal_usage u = {prompt, response, 0, 0, estimated, elapsed};
    return u;
}

/* ---- tests ---- */

static void test_record_size(void)
{
    gw_event ev;
    unsigned char buf[GW_SPOOL_PAYLOAD_MAX];
    size_t len;

    memset(&ev, 'x', sizeof(ev));
    ev.request_id[sizeof(ev.request_id) - 1] = '\0';
    ev.vendor[sizeof(ev.vendor) - 1] = '\0';
    ev.model[sizeof(ev.model) - 1] = '\0';
    ev.namespace_[sizeof(ev.namespace_) - 1] = '\0';
    ev.error[sizeof(ev.error) - 1] = '\0';
    ev.interaction_type = GW_INTERACTION_CHAT;
    len = gw_spool_encode_event(&ev, buf);
    ok(len <= GW_JR_REC_DATA, "the longest event (%zu bytes encoded) fits a journal record (%d)", len, GW_JR_REC_DATA);
}

static void test_lifecycle(void)
{
    char err[GW_ERR_LEN] = "", dir[128], path[192];
    gw_journal *j, *j2;
    gw_journal_stats st;
    gw_jref ref, ref2;
    gw_event ev = ident(1, 0), fin;
    gw_journal_usage u = usage(5, 7, 0, 10);
    struct stat sb;

    ok(gw_journal_open("", 8, &j, err) == 0 && j == NULL, "no directory: no journal, no error");
    gw_journal_claim(NULL, &ev, &ref);
    is_int(ref.slot, 0, "claim without a journal: not journaled");
    gw_journal_note(NULL, ref, &ev);
    gw_journal_progress(NULL, ref, &u);
    fin = final_event(1);
    gw_journal_finish(NULL, ref, &fin);
    is_int(fin.journal_slot, 0, "finish without a journal leaves the event without a slot");
    gw_journal_release(NULL, &fin, 1);
    ok(gw_journal_open(tmpdir, 0, &j, err) != 0, "0 slots refused: %s", err);
    has_str(err, "JOURNAL_SLOTS", "the error names the setting");

    subdir(dir, sizeof(dir), "life/deeper");
    ok(gw_journal_open(dir, 8, &j, err) == 0 && j != NULL, "opens, creating the directory: %s", err);
    snprintf(path, sizeof(path), "%s/%s", dir, GW_JOURNAL_FILE);
    ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "journal.map is 0600");
    is_int(sb.st_size, GW_JR_HEADER_SIZE + 8 * sizeof(gw_jslot), "sized for 8 slots");
    snprintf(path, sizeof(path), "%s/%s.tmp", dir, GW_JOURNAL_FILE);
    ok(stat(path, &sb) != 0, "no temporary file left");
    ok(gw_journal_open(dir, 8, &j2, err) != 0, "a second open of the same directory is refused");
    has_str(err, "in use by another process", "because the file is locked: %s", err);
    has_str(err, "SPOOL_DIR", "the error names SPOOL_DIR");

    gw_journal_claim(j, &ev, &ref);
    ok(ref.slot == 1 && ref.gen == 1, "the first claim takes the first slot (slot %u gen %u)", ref.slot, ref.gen);
    gw_journal_stats_get(j, &st);
    ok(st.slots == 8 && st.in_use == 1 && st.claimed == 1 && st.not_journaled == 0, "stats: 8 slots, 1 in use");
    ev = ident(1, 1);
    gw_journal_note(j, ref, &ev);
    gw_journal_progress(j, ref, &u);
    gw_journal_finish(j, ref, &fin);
    ok(fin.journal_slot == ref.slot && fin.journal_gen == ref.gen, "the finished event carries its slot");
    gw_journal_release(j, &fin, 1);
    gw_journal_stats_get(j, &st);
    is_int(st.in_use, 0, "released once durable");
    gw_journal_release(j, &fin, 1);
    gw_journal_stats_get(j, &st);
    is_int(st.in_use, 0, "a second release is ignored");
    gw_journal_claim(j, &ev, &ref2);
    ok(ref2.slot == 1 && ref2.gen == 2, "the slot is reused with the next generation (gen %u)", ref2.gen);
    gw_journal_claim(j, &ev, &ref);
    is_int(ref.slot, 2, "the next claim takes the next slot");
    gw_journal_release(j, &fin, 1); /* gen 1: stale */
    gw_journal_stats_get(j, &st);
    is_int(st.in_use, 2, "a release of an older generation does not free the slot");
    gw_journal_close(j);
    j = reopen(dir, 8);
    ok(j != NULL && ngot == 2, "after close the 2 claimed slots are recovered (%d)", ngot);
    gw_journal_release(j, got, ngot < MAX_GOT ? ngot : MAX_GOT);
    gw_journal_close(j);
    j = reopen(dir, 8);
    ok(j != NULL && ngot == 0, "released: nothing recovered the next time");
    gw_journal_close(j);
}

/* Leaves in dir: a finished event (1), a cut stream with usage (2), a
 * request cut right after its claim (3); request 4 was released. */
static void write_crashed(const char *dir, uint32_t nslots)
{
    char err[GW_ERR_LEN];
    gw_journal *j;
    gw_jref r1, r2, r3, r4;
    gw_event e, f1 = final_event(1), f4 = final_event(4);
    gw_journal_usage u;

    if (gw_journal_open(dir, nslots, &j, err) != 0) {
        diag("open: %s", err);
        return;
    }
    e = ident(1, 0);
    gw_journal_claim(j, &e, &r1);
    e = ident(2, 0);
    gw_journal_claim(j, &e, &r2);
    e = ident(3, 0);
    gw_journal_claim(j, &e, &r3);
    e = ident(4, 0);
    gw_journal_claim(j, &e, &r4);
    e = ident(1, 1);
    gw_journal_note(j, r1, &e);
    gw_journal_finish(j, r1, &f1);
    e = ident(2, 1);
    gw_journal_note(j, r2, &e);
    u = usage(11, 3, 1, 1500);
    gw_journal_progress(j, r2, &u);
    u = usage(11, 6, 1, 2500);
    gw_journal_progress(j, r2, &u);
    e = ident(4, 1);
    gw_journal_note(j, r4, &e);
    gw_journal_finish(j, r4, &f4);
    gw_journal_release(j, &f4, 1);
    gw_journal_close(j); /* what a kill -9 leaves: the mapping's stores are in the file */
}

static void check_crashed(int second_time)
{
    const gw_event *e1 = got_rid(ident(1, 0).request_id), *e2 = got_rid(ident(2, 0).request_id),
                   *e3 = got_rid(ident(3, 0).request_id);
    gw_event f1 = final_event(1);
    const char *when = second_time ? " (second crash)" : "";

    ok(e1 != NULL && e2 != NULL && e3 != NULL, "the 3 unfinished events are recovered%s", when);
    ok(got_rid(ident(4, 0).request_id) == NULL, "the released one is not%s", when);
    if (e1 == NULL || e2 == NULL || e3 == NULL)
        return;
    ok(e1->status_code == 200 && e1->prompt_tokens == f1.prompt_tokens && e1->response_tokens == f1.response_tokens &&
           e1->cache_read_tokens == 3 && e1->latency_ms == 42 && strcmp(e1->model, "model-1") == 0 &&
           e1->error[0] == '\0' && e1->app_id == 2 && e1->credential_id == 3,
       "a finished event comes back as it was%s", when);
    ok(e1->est_cost == 0, "without the earlier run's cost estimate (budgets)%s", when);
    is_int(e2->status_code, GW_JOURNAL_INTERRUPTED_STATUS, "a cut request is recorded with status 502%s", when);
    has_str(e2->error, GW_JOURNAL_INTERRUPTED_ERROR, "flagged interrupted%s", when);
    has_str(e2->error, "response tokens estimated from the relayed answer frames", "its estimate said%s", when);
    ok(e2->prompt_tokens == 11 && e2->response_tokens == 6 && e2->latency_ms == 2500,
       "with the usage seen so far (11/6 tokens, 2500 ms)%s", when);
    ok(e2->app_id == 3 && e2->llm_id == 5 && strcmp(e2->vendor, "openai") == 0 && strcmp(e2->model, "model-2") == 0 &&
           strcmp(e2->namespace_, "ns-2") == 0 && e2->ts_us == ident(2, 0).ts_us,
       "and the ids, vendor, model, namespace, start time it had%s", when);
    ok(e3->status_code == 502 && e3->prompt_tokens == 0 && e3->response_tokens == 0 && e3->user_id == 3 &&
           e3->model[0] == '\0',
       "a request cut right after its claim: its identity, no usage%s", when);
    lacks_str(e3->error, "estimated", "no estimate claimed without tokens%s", when);
    for (int i = 0; i < ngot && i < MAX_GOT; i++)
        ok(got[i].journal_slot >= 1 && got[i].journal_slot <= (uint32_t)ngot,
           "recovered event %d holds slot %u until stored", i, got[i].journal_slot);
}

static void test_recovery(void)
{
    char dir[128];
    gw_journal *j;
    gw_journal_stats st;
    gw_jref ref;
    gw_event e = ident(9, 0);

    subdir(dir, sizeof(dir), "crash");
    write_crashed(dir, 8);
    j = reopen(dir, 8);
    ok(j != NULL, "reopens");
    if (j == NULL)
        return;
    is_int(ngot, 3, "3 events handed to the analytics queue");
    check_crashed(0);
    gw_journal_stats_get(j, &st);
    ok(st.recovered_finished == 1 && st.recovered_interrupted == 2 && st.recovered_invalid == 0,
       "stats: 1 finished, 2 interrupted, 0 invalid");
    is_int(st.in_use, 3, "their slots stay in use until stored");
    gw_journal_claim(j, &e, &ref);
    is_int(ref.slot, 4, "new requests take other slots");
    gw_journal_close(j); /* crashed again before the writer stored them */

    j = reopen(dir, 8);
    ok(j != NULL && ngot == 4, "a second crash: the same 3 events again, and the new request (%d)", ngot);
    if (j == NULL)
        return;
    check_crashed(1);
    gw_journal_stats_get(j, &st);
    ok(st.recovered_finished == 3 && st.recovered_interrupted == 1, "the 3 are finished events now");
    gw_journal_release(j, got, ngot);
    gw_journal_stats_get(j, &st);
    is_int(st.in_use, 0, "stored: all released");
    gw_journal_close(j);
    j = reopen(dir, 8);
    ok(j != NULL && ngot == 0, "then nothing to recover");
    gw_journal_close(j);

    /* a changed slot count */
    write_crashed(dir, 8);
    j = reopen(dir, 2);
    gw_journal_stats_get(j, &st);
    ok(j != NULL && ngot == 3 && st.slots == 3, "fewer slots configured than events waiting: grown to 3 (%lld)",
       (long long)st.slots);
    gw_journal_close(j);
    j = reopen(dir, 64);
    gw_journal_stats_get(j, &st);
    ok(j != NULL && ngot == 3 && st.slots == 64, "more slots: the events move along (%d)", ngot);
    gw_journal_release(j, got, ngot);
    gw_journal_close(j);
}

static void test_full(void)
{
    char err[GW_ERR_LEN], dir[128];
    gw_journal *j;
    gw_journal_stats st;
    gw_jref a, b, c;
    gw_event e = ident(1, 0), f = final_event(1);
    gw_journal_usage u = usage(1, 1, 0, 1);

    subdir(dir, sizeof(dir), "full");
    if (gw_journal_open(dir, 2, &j, err) != 0) {
        ok(0, "open: %s", err);
        return;
    }
    gw_journal_claim(j, &e, &a);
    gw_journal_claim(j, &e, &b);
    gw_journal_claim(j, &e, &c);
    ok(a.slot != 0 && b.slot != 0 && c.slot == 0, "a full table: the third request is not journaled");
    gw_journal_stats_get(j, &st);
    is_int(st.not_journaled, 1, "counted as not journaled");
    gw_journal_note(j, c, &e);
    gw_journal_progress(j, c, &u);
    gw_journal_finish(j, c, &f);
    is_int(f.journal_slot, 0, "it runs on without a slot");
    gw_journal_release(j, &f, 1);
    f = final_event(1);
    gw_journal_finish(j, a, &f);
    gw_journal_release(j, &f, 1);
    gw_journal_claim(j, &e, &c);
    ok(c.slot == a.slot, "a released slot serves the next request");
    gw_journal_close(j);
}

/* The header of the file in dir as bytes, to corrupt. */
static int64_t read_file(const char *path, unsigned char **out)
{
    struct stat sb;
    int fd = open(path, O_RDONLY);
    *out = NULL;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *out = malloc((size_t)sb.st_size + 1);
    if (*out == NULL || pread(fd, *out, (size_t)sb.st_size, 0) != sb.st_size) {
        close(fd);
        return -1;
    }
    close(fd);
    return (int64_t)sb.st_size;
}

static void write_file(const char *path, const unsigned char *data, int64_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, (size_t)len) != len)
        diag("cannot write %s", path);
    if (fd >= 0)
        close(fd);
}

/* Writes data as dir's journal, reopens it: the events recovered, -1 when it did not open. */
static int recover_bytes(const char *dir, const unsigned char *data, int64_t len, gw_journal_stats *st)
{
    char path[192];
    gw_journal *j;
    snprintf(path, sizeof(path), "%s/%s", dir, GW_JOURNAL_FILE);
    write_file(path, data, len);
    j = reopen(dir, 4);
    if (j == NULL)
        return -1;
    gw_journal_stats_get(j, st);
    gw_journal_release(j, got, ngot < MAX_GOT ? ngot : MAX_GOT);
    gw_journal_close(j);
    return ngot;
}

static void test_corrupt(void)
{
    char dir[128], path[192];
    unsigned char *base, *buf;
    int64_t len;
    gw_journal_stats st;
    gw_jheader h;
    gw_jslot *s;

    subdir(dir, sizeof(dir), "corrupt");
    write_crashed(dir, 4);
    snprintf(path, sizeof(path), "%s/%s", dir, GW_JOURNAL_FILE);
    len = read_file(path, &base);
    if (len <= 0) {
        ok(0, "read the journal");
        return;
    }
    buf = malloc((size_t)len);
    is_int(recover_bytes(dir, base, len, &st), 3, "the intact file recovers 3 events");

    gw_log_set_level(GW_LOG_ERROR); /* the warnings below are expected */
    memcpy(buf, base, (size_t)len);
    buf[0] ^= 0xff;
    ok(recover_bytes(dir, buf, len, &st) == 0, "bad magic: nothing recovered");
    memcpy(buf, base, (size_t)len);
    buf[offsetof(gw_jheader, nslots)] ^= 1;
    ok(recover_bytes(dir, buf, len, &st) == 0, "header checksum mismatch: nothing recovered");
    memcpy(buf, base, (size_t)len);
    memcpy(&h, buf, sizeof(h));
    h.slot_size = 1024;
    h.crc = gw_jr_header_crc(&h);
    memcpy(buf, &h, sizeof(h));
    ok(recover_bytes(dir, buf, len, &st) == 0, "another slot size (checksum right): nothing recovered");
    memcpy(&h, base, sizeof(h));
    h.nslots = 1u << 30;
    h.file_size = gw_jr_file_size(4);
    h.crc = gw_jr_header_crc(&h);
    memcpy(buf, base, (size_t)len);
    memcpy(buf, &h, sizeof(h));
    ok(recover_bytes(dir, buf, len, &st) == 0, "an absurd slot count: nothing recovered");
    memcpy(&h, base, sizeof(h));
    h.version = 99;
    h.crc = gw_jr_header_crc(&h);
    memcpy(buf, base, (size_t)len);
    memcpy(buf, &h, sizeof(h));
    ok(recover_bytes(dir, buf, len, &st) == 0, "an unknown format version: nothing recovered");
    ok(recover_bytes(dir, base, len - 100, &st) == 0, "truncated: nothing recovered");
    ok(recover_bytes(dir, base, 100, &st) == 0, "shorter than the header: nothing recovered");
    ok(recover_bytes(dir, base, 0, &st) == 0, "empty: nothing recovered");
    for (int64_t i = 0; i < len; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    ok(recover_bytes(dir, buf, len, &st) == 0, "garbage: nothing recovered");
    ok(recover_bytes(dir, base, len, &st) == 3, "the intact bytes again: 3 events");

    /* slots: garbage state, a cut newest record */
    memcpy(buf, base, (size_t)len);
    s = gw_jr_slot(buf, 0);
    atomic_store(&s->state, 7);
    ok(recover_bytes(dir, buf, len, &st) == 2 && st.recovered_invalid == 1, "a slot in an unknown state is skipped");
    memcpy(buf, base, (size_t)len);
    s = gw_jr_slot(buf, 0); /* request 1: claim (v1), note (v2), final (v3, in rec[0]) */
    s->rec[s->cur].data[10] ^= 0x55;
    ok(recover_bytes(dir, buf, len, &st) == 3 && st.recovered_interrupted == 3,
       "a corrupt FINAL record: the one before it (the noted identity) gives an interrupted event");
    ok(got_rid(ident(1, 0).request_id) != NULL && strcmp(got_rid(ident(1, 0).request_id)->model, "model-1") == 0,
       "with the identity of the older record");
    memcpy(buf, base, (size_t)len);
    s = gw_jr_slot(buf, 0);
    s->rec[s->cur].data[10] ^= 0x55;
    s->rec[s->cur ^ 1].len = 9999;
    ok(recover_bytes(dir, buf, len, &st) == 2 && st.recovered_invalid == 1, "both records unreadable: skipped");
    memcpy(buf, base, (size_t)len);
    s = gw_jr_slot(buf, 1); /* request 2: claim (v1), note (v2) */
    s->rec[s->cur].gen = 77;
    ok(recover_bytes(dir, buf, len, &st) == 3 && got_rid(ident(2, 0).request_id) != NULL &&
           got_rid(ident(2, 0).request_id)->model[0] == '\0',
       "a record of another generation is ignored (the claim's record is used)");
    memcpy(buf, base, (size_t)len);
    s = gw_jr_slot(buf, 1);
    atomic_store(&s->prompt_tokens, -5);
    atomic_store(&s->response_tokens, INT64_MAX);
    atomic_store(&s->elapsed_ms, -1);
    ok(recover_bytes(dir, buf, len, &st) == 3 && got_rid(ident(2, 0).request_id)->prompt_tokens == 0 &&
           got_rid(ident(2, 0).request_id)->response_tokens == 0 && got_rid(ident(2, 0).request_id)->latency_ms == 0,
       "absurd usage words are read as 0");
    gw_log_set_level(GW_LOG_INFO);
    free(buf);
    free(base);
}

/* xorshift64*, fixed seed: the same files on every run. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* Every recovered event is well-formed: one of ours, or nothing. */
static int events_sane(void)
{
    for (int i = 0; i < ngot && i < MAX_GOT; i++) {
        const gw_event *e = &got[i];
        if (strlen(e->request_id) == 0 || (e->status_code != 200 && e->status_code != 502) || e->prompt_tokens < 0 ||
            e->response_tokens < 0 || e->latency_ms < 0)
            return 0;
    }
    return 1;
}

static void test_fuzz(void)
{
    char dir[128], path[192];
    unsigned char *base, *buf;
    int64_t len;
    gw_journal_stats st;
    int rounds = 10000, failed_open = 0, insane = 0, recovered_some = 0;

    subdir(dir, sizeof(dir), "fuzz");
    write_crashed(dir, 4);
    snprintf(path, sizeof(path), "%s/%s", dir, GW_JOURNAL_FILE);
    len = read_file(path, &base);
    if (len <= 0) {
        ok(0, "read the journal");
        return;
    }
    buf = malloc((size_t)len);
    gw_log_set_level(GW_LOG_ERROR);
    for (int r = 0; r < rounds; r++) {
        int64_t n = len;
        int k = 1 + (int)(rng() % 8);
        memcpy(buf, base, (size_t)len);
        for (int m = 0; m < k; m++) {
            uint64_t x = rng();
            switch (x % 8) {
            case 0: /* a byte of the header */
                buf[(x >> 8) % sizeof(gw_jheader)] ^= (unsigned char)(1 + (x >> 40) % 255);
                break;
            case 1: /* truncated */
                n = (int64_t)((x >> 8) % (uint64_t)len);
                break;
            case 2: /* a state word */
                atomic_store(&gw_jr_slot(buf, (uint32_t)((x >> 8) % 4))->state, (uint32_t)((x >> 16) % 4));
                break;
            case 3: /* a run of random bytes in a record */
            {
                gw_jslot *s = gw_jr_slot(buf, (uint32_t)((x >> 8) % 4));
                unsigned char *p = (unsigned char *)&s->rec[(x >> 16) & 1];
                size_t off = (x >> 20) % sizeof(gw_jrec), cnt = 1 + (x >> 32) % 16;
                for (size_t b = 0; b < cnt && off + b < sizeof(gw_jrec); b++)
                    p[off + b] = (unsigned char)rng();
                break;
            }
            default: /* any byte of the slots */
                buf[GW_JR_HEADER_SIZE + (x >> 8) % (uint64_t)(len - GW_JR_HEADER_SIZE)] ^=
                    (unsigned char)(1 + (x >> 40) % 255);
                break;
            }
        }
        int got_n = recover_bytes(dir, buf, n, &st);
        if (got_n < 0)
            failed_open++;
        else if (!events_sane() || got_n > 4)
            insane++;
        else if (got_n > 0)
            recovered_some++;
    }
    gw_log_set_level(GW_LOG_INFO);
    is_int(failed_open, 0, "%d mutated journals: every one opens (the bad ones are replaced)", rounds);
    is_int(insane, 0, "no mutated journal yields a malformed event or more events than slots");
    ok(recovered_some > rounds / 10, "many still recover readable slots (%d)", recovered_some);
    free(buf);
    free(base);
}

/*
 * A child claims, notes, updates and finishes requests in a tight loop,
 * releasing all but the last few; killed with SIGKILL at a random moment,
 * it must leave only free slots, valid STARTED ones (an identity whole as
 * of the claim or of the note) and valid FINISHED ones.
 */
#define KILL_SLOTS 16

static void child_loop(const char *dir)
{
    char err[GW_ERR_LEN];
    gw_journal *j;
    gw_event held[KILL_SLOTS / 2];
    gw_jref pend = {0, 0};
    int nheld = 0, pend_i = 0;

    gw_log_set_level(GW_LOG_ERROR);
    if (gw_journal_open(dir, KILL_SLOTS, &j, err) != 0)
        _exit(3);
    for (int i = 1;; i++) {
        gw_jref ref;
        gw_event e = ident(i, 0);
        gw_journal_claim(j, &e, &ref);
        if (ref.slot == 0)
            _exit(4);
        e = ident(i, 1);
        gw_journal_note(j, ref, &e);
        for (int k = 1; k <= 5; k++) {
            gw_journal_usage u = usage(i, k, 1, k);
            gw_journal_progress(j, ref, &u);
        }
        /* the previous request stayed STARTED during this one's updates */
        if (pend.slot != 0) {
            gw_event f = final_event(pend_i);
            gw_journal_finish(j, pend, &f);
            if (nheld == KILL_SLOTS / 2) {
                gw_journal_release(j, held, nheld); /* the writer stored a batch */
                nheld = 0;
            }
            held[nheld++] = f;
        }
        pend = ref;
        pend_i = i;
    }
}

/* Records the kill cut half-way in the file (a gen of the slot's, a CRC that does not match). */
static int count_torn(const char *dir)
{
    char path[192];
    unsigned char *data;
    int64_t len;
    int torn = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, GW_JOURNAL_FILE);
    len = read_file(path, &data);
    if (len != (int64_t)gw_jr_file_size(KILL_SLOTS)) {
        free(data);
        return 0;
    }
    for (uint32_t i = 0; i < KILL_SLOTS; i++) {
        gw_jslot *s = gw_jr_slot(data, i);
        if (atomic_load(&s->state) == GW_JS_FREE)
            continue;
        for (int k = 0; k < 2; k++)
            if (s->rec[k].gen == s->gen && s->rec[k].len <= GW_JR_REC_DATA &&
                atomic_load(&s->rec[k].crc) != gw_jr_rec_crc(&s->rec[k]))
                torn++;
    }
    free(data);
    return torn;
}

static void test_kill9(void)
{
    char dir[128];
    int rounds = 40, bad = 0, opened = 0, total = 0, cut = 0, fin = 0, torn = 0;

    subdir(dir, sizeof(dir), "kill9");
    for (int r = 0; r < rounds; r++) {
        pid_t pid;
        int status;
        struct timespec ts = {0, (long)(1 + rng() % 20) * 1000000L};
        gw_journal *j;
        gw_journal_stats st;

        fflush(stdout);
        pid = fork();
        if (pid == 0) {
            child_loop(dir); /* the journal the previous round emptied */
            _exit(0);
        }
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status)) {
            bad++;
            diag("round %d: the child exited with %d", r, WEXITSTATUS(status));
            continue;
        }
        torn += count_torn(dir);
        j = reopen(dir, KILL_SLOTS);
        if (j == NULL) {
            bad++;
            continue;
        }
        opened++;
        gw_journal_stats_get(j, &st);
        if (st.recovered_invalid != 0) {
            bad++;
            diag("round %d: %lld unreadable slots", r, (long long)st.recovered_invalid);
        }
        for (int i = 0; i < ngot && i < MAX_GOT; i++) {
            const gw_event *e = &got[i];
            unsigned id = 0;
            int whole;
            if (sscanf(e->request_id, "0190a5d6-0000-7000-8000-%12x", &id) != 1 || id == 0) {
                bad++;
                diag("round %d: request id '%s'", r, e->request_id);
                continue;
            }
            /* the noted identity whole, or none of it (the claim's record) */
            whole = e->app_id == (int64_t)id + 1 && e->credential_id == (int64_t)id + 2 && e->llm_id == (int64_t)id + 3;
            if (e->user_id != (int64_t)id || e->ts_us != ident((int)id, 0).ts_us ||
                (whole ? strcmp(e->model, ident((int)id, 1).model) != 0 || strcmp(e->vendor, "openai") != 0
                       : e->app_id != 0 || e->model[0] != '\0' || e->vendor[0] != '\0')) {
                bad++;
                diag("round %d: request %u has a torn identity (app %lld, model '%s')", r, id, (long long)e->app_id,
                     e->model);
                continue;
            }
            if (e->status_code == 200) {
                gw_event f = final_event((int)id);
                fin++;
                if (!whole || e->prompt_tokens != f.prompt_tokens || e->response_tokens != f.response_tokens ||
                    e->latency_ms != 42 || e->error[0] != '\0') {
                    bad++;
                    diag("round %d: finished request %u is not its final event", r, id);
                }
            } else if (e->status_code == 502) {
                cut++;
                if (strncmp(e->error, GW_JOURNAL_INTERRUPTED_ERROR, strlen(GW_JOURNAL_INTERRUPTED_ERROR)) != 0 ||
                    (e->prompt_tokens != 0 && e->prompt_tokens != (int64_t)id) || e->response_tokens < 0 ||
                    e->response_tokens > 5) {
                    bad++;
                    diag("round %d: interrupted request %u: prompt %lld response %lld error '%s'", r, id,
                         (long long)e->prompt_tokens, (long long)e->response_tokens, e->error);
                }
            } else {
                bad++;
                diag("round %d: request %u with status %d", r, id, e->status_code);
            }
        }
        total += ngot;
        gw_journal_release(j, got, ngot < MAX_GOT ? ngot : MAX_GOT); /* stored */
        gw_journal_close(j);
    }
    is_int(opened, rounds, "%d children killed with SIGKILL mid-loop: the journal opens after each", rounds);
    is_int(bad, 0, "every slot is free, a valid STARTED or a valid FINISHED one");
    ok(fin > 0 && cut > 0, "both kinds were recovered (%d finished, %d interrupted, %d in all)", fin, cut, total);
    diag("records cut half-way by the kills (the older record served instead): %d", torn);
}

/* The analytics writer gives a slot back only once its event is durable. */
static void test_writer_release(void)
{
    char err[GW_ERR_LEN] = "", dir[128], jdir[128];
    gw_journal *j;
    gw_analytics *a;
    gw_journal_stats st;
    gw_analytics_opts o = {.database_url = "host=127.0.0.1 port=1 connect_timeout=2",
                           .queue_size = 64,
                           .batch_size = 16,
                           .flush_interval_ms = 60000, /* the events wait in the queue */
                           .spool_max_bytes = 1 << 20};

    subdir(jdir, sizeof(jdir), "writer-journal");
    subdir(dir, sizeof(dir), "writer-spool");
    if (gw_journal_open(jdir, 8, &j, err) != 0) {
        ok(0, "open: %s", err);
        return;
    }
    o.journal = j;
    o.spool_dir = dir;
    for (int pass = 0; pass < 2; pass++) {
        if (gw_analytics_start(&o, NULL, NULL, &a, err) != 0) {
            ok(0, "writer starts: %s", err);
            break;
        }
        for (int i = 0; i < 3; i++) {
            gw_jref ref;
            gw_event e = ident(100 + i, 0), f = final_event(100 + i);
            gw_journal_claim(j, &e, &ref);
            gw_journal_finish(j, ref, &f);
            gw_analytics_record(a, &f);
        }
        gw_journal_stats_get(j, &st);
        is_int(st.in_use, 3, "%s: queued events keep their slots", pass == 0 ? "with a spool" : "without one");
        gw_analytics_stop(a, 200); /* the database is down: spool, else dropped */
        gw_journal_stats_get(j, &st);
        is_int(st.in_use, 0, "%s: released once %s", pass == 0 ? "with a spool" : "without one",
               pass == 0 ? "in the spool" : "counted dropped");
        o.spool_dir = ""; /* second pass: no spool */
    }
    gw_journal_close(j);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_journal.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_record_size();
    test_lifecycle();
    test_recovery();
    test_full();
    test_corrupt();
    test_fuzz();
    test_kill9();
    test_writer_release();
    rm_rf(tmpdir);
    return tap_done();
}
