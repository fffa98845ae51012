/*
 * regress/unit/test_spool.c: the analytics spool and the writer's offline
 * paths. The record codec (CRC32C check value, round trip, malformed
 * payloads refused, a version 1 record of the previous release still
 * decoding, alone and in a spool file followed by current records); the
 * file (0700 directory, 0600 file, exclusive lock); append / read /
 * commit with the sidecar offset, a crash in the middle of a replay
 * re-sending rather than losing, truncation once all is committed; a torn
 * or corrupt tail cut off at open, corruption met during a replay counted
 * as lost, an undecodable record skipped; the size cap. The COPY
 * text encoding (escapes, invalid UTF-8, NULLs, captured bodies). And
 * gw_analytics with the database unreachable (a closed port on 127.0.0.1):
 * events go to the spool, or without a spool are dropped, and recorded +
 * found == stored + spooled-and-waiting + dropped at stop; their captured
 * bodies are freed on every path (LeakSanitizer) and never spooled.
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

#include <dirent.h>
#include <ftw.h>

#include "tap.h"

static char tmpdir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static gw_event make_event(int i)
{
    gw_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.ts_us = 1735689600000000LL + i; /* 2025-01-01 */
    gw_uuid7(ev.request_id);
    ev.user_id = 7;
    ev.app_id = 3;
    ev.credential_id = 9;
    ev.llm_id = 1;
    snprintf(ev.vendor, sizeof(ev.vendor), "openai");
    snprintf(ev.model, sizeof(ev.model), "gpt-4o-%d", i);
    ev.prompt_tokens = 1000 + i;
    ev.response_tokens = 50;
    ev.cache_read_tokens = 10;
    ev.latency_ms = 12;
    ev.status_code = 200;
    ev.est_cost = 250000000000000LL * i; /* 0.25 × i in 10^-15 units */
    return ev;
}

static int64_t file_size(const char *name)
{
    char p[256];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
    return stat(p, &st) == 0 ? (int64_t)st.st_size : -1;
}

/*
 * A version 1 payload exactly as the previous release wrote it (no
 * credential_id): 2025-01-01, request 0190a5d6-1234-7abc-8def-0123456789ab,
 * user 7, app 3, LLM 1, openai gpt-4o, tokens 1000/50/0/10, 12 ms, status
 * 200, chat, namespace team-a, no error, est_cost 0.5 (a double; decoded as
 * 0: an older record's cost is not this process's).
 */
static const unsigned char spool_v1_record[] = {
    0x01, 0x00, 0x60, 0x0c, 0xba, 0x99, 0x2a, 0x06, 0x00, 0x24, 0x30, 0x31,
    0x39, 0x30, 0x61, 0x35, 0x64, 0x36, 0x2d, 0x31, 0x32, 0x33, 0x34, 0x2d,
    0x37, 0x61, 0x62, 0x63, 0x2d, 0x38, 0x64, 0x65, 0x66, 0x2d, 0x30, 0x31,
    0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x07, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x6f,
    0x70, 0x65, 0x6e, 0x61, 0x69, 0x06, 0x67, 0x70, 0x74, 0x2d, 0x34, 0x6f,
    0xe8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x32, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00,
    0xc8, 0x00, 0x00, 0x00, 0x01, 0x06, 0x74, 0x65, 0x61, 0x6d, 0x2d, 0x61,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f,
};

/* 1 when ev is the event of spool_v1_record. */
static int is_v1_event(const gw_event *ev)
{
    return ev->ts_us == 1735689600000000LL && strcmp(ev->request_id, "0190a5d6-1234-7abc-8def-0123456789ab") == 0 &&
           ev->user_id == 7 && ev->app_id == 3 && ev->llm_id == 1 && ev->credential_id == 0 &&
           strcmp(ev->vendor, "openai") == 0 && strcmp(ev->model, "gpt-4o") == 0 && ev->prompt_tokens == 1000 &&
           ev->response_tokens == 50 && ev->cache_write_tokens == 0 && ev->cache_read_tokens == 10 &&
           ev->latency_ms == 12 && ev->status_code == 200 && ev->interaction_type == GW_INTERACTION_CHAT &&
           strcmp(ev->namespace_, "team-a") == 0 && ev->error[0] == '\0' && ev->est_cost == 0;
}

static void test_codec(void)
{
    unsigned char buf[GW_SPOOL_PAYLOAD_MAX];
    gw_event ev = make_event(5), back;
    size_t len;

    is_int(gw_spool_crc32c(0, "123456789", 9), 0xE3069283u, "CRC32C check value of \"123456789\"");
    is_int(gw_spool_crc32c(gw_spool_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u, "CRC32C can be chained");
    {
        /* eight bytes a step: every length and starting offset against the
         * bit-by-bit definition, chained at every split point */
        unsigned char data[300];
        int bad = 0, badsplit = 0;
        for (size_t i = 0; i < sizeof(data); i++)
            data[i] = (unsigned char)(i * 131u + 7u);
        for (size_t off = 0; off < 8; off++)
            for (size_t n = 0; off + n <= sizeof(data); n++) {
                uint32_t ref = 0xFFFFFFFFu;
                for (size_t i = 0; i < n; i++) {
                    ref ^= data[off + i];
                    for (int k = 0; k < 8; k++)
                        ref = (ref & 1) ? (ref >> 1) ^ 0x82F63B78u : ref >> 1;
                }
                ref = ~ref;
                if (gw_spool_crc32c(0, data + off, n) != ref)
                    bad++;
                if (n == 100 - off)
                    for (size_t cut = 0; cut <= n; cut++)
                        if (gw_spool_crc32c(gw_spool_crc32c(0, data + off, cut), data + off + cut, n - cut) != ref)
                            badsplit++;
            }
        is_int(bad, 0, "CRC32C equals the bitwise definition for lengths 0-300 at offsets 0-7");
        is_int(badsplit, 0, "and chains at every split point");
    }

    snprintf(ev.error, sizeof(ev.error), "upstream said:\t\"no\"\nline2 \\ back");
    snprintf(ev.namespace_, sizeof(ev.namespace_), "team-a");
    ev.interaction_type = GW_INTERACTION_CHAT;
    memset(ev.model, 'm', sizeof(ev.model) - 1);
    ev.model[sizeof(ev.model) - 1] = '\0';
    len = gw_spool_encode_event(&ev, buf);
    ok(len > 0 && len <= GW_SPOOL_PAYLOAD_MAX, "an event with full-length fields encodes (%zu bytes)", len);
    ok(gw_spool_decode_event(buf, len, &back) == 0, "and decodes");
    ok(memcmp(&ev, &back, sizeof(ev)) == 0, "round trip keeps every field");
    is_str(back.request_id, ev.request_id, "request id kept");
    ok(back.est_cost == 1250000000000000LL && back.prompt_tokens == 1005 && back.cache_read_tokens == 10, "numbers kept");
    is_int(buf[0], GW_SPOOL_RECORD_VERSION, "written in the current version (%d)", GW_SPOOL_RECORD_VERSION);
    is_int(back.credential_id, 9, "credential id kept");
    ev.credential_id = 0;
    len = gw_spool_encode_event(&ev, buf);
    ok(gw_spool_decode_event(buf, len, &back) == 0 && back.credential_id == 0, "credential id 0 (none) kept");

    /* the previous release's records */
    ok(gw_spool_decode_event(spool_v1_record, sizeof(spool_v1_record), &back) == 0,
       "a version 1 record (previous release) decodes");
    ok(is_v1_event(&back), "with every field, and credential id 0");
    memcpy(buf, spool_v1_record, sizeof(spool_v1_record));
    buf[0] = 2;
    ok(gw_spool_decode_event(buf, sizeof(spool_v1_record), &back) != 0,
       "the same bytes as version 2 are refused (credential id missing)");
    ev.credential_id = 9;
    len = gw_spool_encode_event(&ev, buf);
    buf[0] = 1;
    ok(gw_spool_decode_event(buf, len, &back) != 0, "a version 2 payload labelled version 1 is refused");
    buf[0] = 0;
    ok(gw_spool_decode_event(buf, len, &back) != 0, "version 0 is refused");
    buf[0] = GW_SPOOL_RECORD_VERSION;

    ok(gw_spool_decode_event(buf, len - 1, &back) != 0, "a truncated payload is refused");
    buf[len] = 0;
    ok(gw_spool_decode_event(buf, len + 1, &back) != 0, "trailing bytes are refused");
    buf[0] = 99;
    ok(gw_spool_decode_event(buf, len, &back) != 0, "an unknown version is refused");
    buf[0] = GW_SPOOL_RECORD_VERSION;
    buf[1 + 8] = 200; /* request id length beyond its field */
    ok(gw_spool_decode_event(buf, len, &back) != 0, "a string length beyond its field is refused");
}

static void test_files(void)
{
    char err[GW_ERR_LEN] = "", dir[128], path[192];
    gw_spool *s, *s2;
    gw_event evs[10], got[16];
    unsigned char before[16];
    int64_t found = -1, end, lost = 0, ends[16];
    struct stat st;
    int n;

    snprintf(dir, sizeof(dir), "%s/a/b", tmpdir);
    ok(gw_spool_open(dir, 0, &s, &found, err) == 0, "open creates the directories: %s", err);
    stat(dir, &st);
    is_int(st.st_mode & 0777, 0700, "spool directory is 0700");
    snprintf(path, sizeof(path), "%s/" GW_SPOOL_FILE, dir);
    stat(path, &st);
    is_int(st.st_mode & 0777, 0600, "spool file is 0600");
    is_int(found, 0, "a new spool holds nothing");
    ok(gw_spool_open(dir, 0, &s2, NULL, err) != 0, "a second open of the same spool fails");
    has_str(err, "in use", "saying it is in use");

    for (int i = 0; i < 10; i++)
        evs[i] = make_event(i);
    is_int(gw_spool_append(s, evs, 10, 1, err), 10, "append 10 events");
    is_int(gw_spool_pending(s), 10, "10 pending");
    n = gw_spool_read(s, &end, got, 4, before, ends, &lost);
    is_int(n, 4, "read 4");
    ok(strcmp(got[3].request_id, evs[3].request_id) == 0 && got[3].est_cost == evs[3].est_cost, "in order, intact");
    ok(!before[0] && !before[3], "written by this run (not before the open)");
    is_int(ends[3], end, "the last record's end is the batch end");
    ok(gw_spool_commit(s, end, err) == 0, "commit 4");
    is_int(gw_spool_pending(s), 6, "6 pending");
    is_int(gw_spool_committed(s), end, "committed offset moved");
    ok(access(path, F_OK) == 0, "the file is kept while records wait");

    /* read 3 more but "crash" before committing them */
    n = gw_spool_read(s, &end, got, 3, before, ends, &lost);
    is_int(n, 3, "read 3 more (not committed)");
    gw_spool_close(s);

    err[0] = '\0';
    ok(gw_spool_open(dir, 0, &s, &found, err) == 0, "reopen %s", err);
    is_int(found, 6, "a crash mid-replay re-sends the uncommitted 6, loses none");
    n = gw_spool_read(s, &end, got, 16, before, ends, &lost);
    is_int(n, 6, "read them");
    is_str(got[0].request_id, evs[4].request_id, "starting after the committed ones");
    ok(before[0] && before[5], "flagged as written before this open");
    /* commit a prefix, then the rest */
    ok(gw_spool_commit(s, ends[1], err) == 0, "commit a prefix of 2");
    is_int(gw_spool_pending(s), 4, "4 pending");
    n = gw_spool_read(s, &end, got, 16, before, ends, &lost);
    is_int(n, 4, "the rest reads on from the prefix");
    ok(gw_spool_commit(s, end, err) == 0, "commit all");
    is_int(gw_spool_bytes(s), 0, "all committed: the file is truncated");
    is_int(gw_spool_pending(s), 0, "nothing pending");
    snprintf(path, sizeof(path), "%s/" GW_SPOOL_OFFSET_FILE, dir);
    ok(access(path, F_OK) != 0, "and the sidecar removed");
    is_int(lost, 0, "nothing lost");
    n = gw_spool_read(s, &end, got, 16, before, ends, &lost);
    is_int(n, 0, "reading an empty spool gives nothing");
    gw_spool_close(s);
}

/* Appends raw bytes to the spool file. */
static void append_raw(const char *dir, const void *p, size_t n)
{
    char path[192];
    int fd;
    snprintf(path, sizeof(path), "%s/" GW_SPOOL_FILE, dir);
    fd = open(path, O_WRONLY | O_APPEND);
    if (write(fd, p, n) != (ssize_t)n)
        abort();
    close(fd);
}

static void flip_byte(const char *dir, int64_t at)
{
    char path[192];
    unsigned char c;
    int fd;
    snprintf(path, sizeof(path), "%s/" GW_SPOOL_FILE, dir);
    fd = open(path, O_RDWR);
    if (pread(fd, &c, 1, at) != 1)
        abort();
    c ^= 0x5a;
    if (pwrite(fd, &c, 1, at) != 1)
        abort();
    close(fd);
}

static void test_corruption(void)
{
    char err[GW_ERR_LEN] = "", dir[128];
    gw_spool *s;
    gw_event evs[5], got[8];
    int64_t found, end, lost = 0, size5, rec;
    unsigned char torn[20] = {100, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9};
    unsigned char payload[GW_SPOOL_PAYLOAD_MAX + GW_SPOOL_HEADER_LEN];
    size_t plen;
    int n;

    snprintf(dir, sizeof(dir), "%s/c", tmpdir);
    for (int i = 0; i < 5; i++)
        evs[i] = make_event(i);
    gw_spool_open(dir, 0, &s, &found, err);
    gw_spool_append(s, evs, 5, 1, err);
    size5 = gw_spool_bytes(s);
    rec = size5 / 5; /* the records have the same length */
    gw_spool_close(s);

    append_raw(dir, torn, sizeof(torn)); /* a header promising 100 bytes, then 12 */
    ok(gw_spool_open(dir, 0, &s, &found, err) == 0, "open with a torn tail: %s", err);
    is_int(found, 5, "the 5 whole records are kept");
    is_int(gw_spool_bytes(s), size5, "the torn tail is cut off");
    gw_spool_close(s);

    flip_byte(dir, size5 - 3); /* inside the last record's payload */
    gw_spool_open(dir, 0, &s, &found, err);
    is_int(found, 4, "a bad CRC on the last record: it is cut off");
    is_int(gw_spool_bytes(s), size5 - rec, "file cut back to 4 records");

    /* corruption met during a replay: records 2.. are lost, counted */
    flip_byte(dir, 2 * rec + GW_SPOOL_HEADER_LEN + 5);
    n = gw_spool_read(s, &end, got, 8, NULL, NULL, &lost);
    is_int(n, 2, "a replay stops at a corrupt record");
    is_int(lost, 2, "the records from there on are counted as lost");
    is_int(gw_spool_bytes(s), 2 * rec, "and cut off");
    ok(gw_spool_commit(s, end, err) == 0 && gw_spool_bytes(s) == 0, "commit the 2 good ones: empty");

    /* a record with a valid CRC whose payload does not decode is skipped */
    evs[0] = make_event(0);
    gw_spool_append(s, evs, 1, 1, err);
    plen = gw_spool_encode_event(&evs[1], payload + GW_SPOOL_HEADER_LEN);
    payload[GW_SPOOL_HEADER_LEN] = 99; /* a future version */
    gw_sp_put_u32(payload, (uint32_t)plen);
    gw_sp_put_u32(payload + 4, gw_spool_crc32c(0, payload + GW_SPOOL_HEADER_LEN, plen));
    gw_spool_close(s);
    append_raw(dir, payload, plen + GW_SPOOL_HEADER_LEN);
    gw_spool_open(dir, 0, &s, &found, err);
    gw_spool_append(s, &evs[2], 1, 1, err);
    is_int(found, 2, "a CRC-valid record of an unknown version counts as a record");
    lost = 0;
    n = gw_spool_read(s, &end, got, 8, NULL, NULL, &lost);
    is_int(n, 2, "reading skips it");
    is_int(lost, 1, "counted as lost");
    is_str(got[1].request_id, evs[2].request_id, "the record after it is read");
    ok(gw_spool_commit(s, end, err) == 0 && gw_spool_pending(s) == 0 && gw_spool_bytes(s) == 0,
       "commit: nothing pending, file empty");
    gw_spool_close(s);
}

/* A spool left by the previous release (version 1 records) replays after an
 * upgrade, followed by what the new release appends. */
static void test_upgrade(void)
{
    char err[GW_ERR_LEN] = "", dir[128];
    unsigned char rec[GW_SPOOL_HEADER_LEN + sizeof(spool_v1_record)];
    gw_spool *s;
    gw_event ev = make_event(3), got[4];
    unsigned char before[4];
    int64_t found = -1, end, lost = 0;
    int n;

    snprintf(dir, sizeof(dir), "%s/u", tmpdir);
    gw_sp_put_u32(rec, (uint32_t)sizeof(spool_v1_record));
    gw_sp_put_u32(rec + 4, gw_spool_crc32c(0, spool_v1_record, sizeof(spool_v1_record)));
    memcpy(rec + GW_SPOOL_HEADER_LEN, spool_v1_record, sizeof(spool_v1_record));
    ok(gw_spool_open(dir, 0, &s, &found, err) == 0, "open: %s", err);
    gw_spool_close(s);
    append_raw(dir, rec, sizeof(rec));
    append_raw(dir, rec, sizeof(rec));
    ok(gw_spool_open(dir, 0, &s, &found, err) == 0, "reopen with two version 1 records: %s", err);
    is_int(found, 2, "both are found");
    is_int(gw_spool_append(s, &ev, 1, 1, err), 1, "a current record appended after them");
    n = gw_spool_read(s, &end, got, 4, before, NULL, &lost);
    is_int(n, 3, "all three read");
    is_int(lost, 0, "none lost");
    ok(is_v1_event(&got[0]) && is_v1_event(&got[1]), "the version 1 events, credential id 0");
    ok(before[0] && before[1] && !before[2], "flagged as an earlier run's");
    ok(strcmp(got[2].request_id, ev.request_id) == 0 && got[2].credential_id == 9,
       "then the current one, with its key");
    ok(gw_spool_commit(s, end, err) == 0 && gw_spool_bytes(s) == 0, "committed: the spool is empty");
    gw_spool_close(s);
}

static void test_sidecar_and_cap(void)
{
    char err[GW_ERR_LEN] = "", dir[128], path[192];
    gw_spool *s;
    gw_event evs[4], got[4];
    int64_t found, end, lost = 0, rec;
    FILE *f;

    snprintf(dir, sizeof(dir), "%s/d", tmpdir);
    for (int i = 0; i < 4; i++)
        evs[i] = make_event(i);
    gw_spool_open(dir, 0, &s, &found, err);
    gw_spool_append(s, evs, 4, 1, err);
    rec = gw_spool_bytes(s) / 4;
    gw_spool_close(s);

    snprintf(path, sizeof(path), "%s/" GW_SPOOL_OFFSET_FILE, dir);
    f = fopen(path, "w");
    fprintf(f, "%lld\n", (long long)(rec * 4 + 100));
    fclose(f);
    gw_spool_open(dir, 0, &s, &found, err);
    is_int(found, 4, "a sidecar offset beyond the file: everything is re-sent");
    gw_spool_close(s);

    f = fopen(path, "w");
    fprintf(f, "%lld\n", (long long)(rec + 3));
    fclose(f);
    gw_spool_open(dir, 0, &s, &found, err);
    is_int(found, 4, "a sidecar offset off a record boundary: everything is re-sent");
    gw_spool_close(s);

    f = fopen(path, "w");
    fprintf(f, "%lld\n", (long long)rec);
    fclose(f);
    gw_spool_open(dir, rec * 5, &s, &found, err);
    is_int(found, 3, "a valid sidecar offset skips the committed record");
    gw_spool_read(s, &end, got, 4, NULL, NULL, &lost);
    is_str(got[0].request_id, evs[1].request_id, "reading starts at the sidecar offset");

    is_int(gw_spool_append(s, evs, 2, 0, err), 0, "an append beyond max_bytes is refused");
    has_str(err, "spool full", "with a reason");
    is_int(gw_spool_append(s, evs, 1, 0, err), 1, "one that fits is taken");
    gw_spool_sync_due(s, 1);
    is_int(gw_spool_bytes(s), rec * 5, "exactly at the cap");
    gw_spool_close(s);
}

static void test_copy_encoding(void)
{
    gw_buf b;
    gw_event ev = make_event(1);
    gw_buf_init(&b, 0);

    snprintf(ev.request_id, sizeof(ev.request_id), "0190a5d6-1234-7abc-8def-0123456789ab");
    ev.ts_us = 1735689600123456LL;
    ev.user_id = 0;
    snprintf(ev.model, sizeof(ev.model), "a\tb\nc\\d\re\x01 \xc3\xa9 \xff\xfe end");
    snprintf(ev.error, sizeof(ev.error), "boom");
    gw_an_copy_row(&b, &ev);
    is_str(gw_buf_cstr(&b),
           "2025-01-01 00:00:00.123456+00\t0190a5d6-1234-7abc-8def-0123456789ab\t\\N\t3\t9\t1\topenai\t"
           "a\\tb\\nc\\\\d\\re\\x01 \xc3\xa9 ?? end\t1001\t50\t0\t10\t12\tproxy\t200\t\t\\N\tboom"
           "\t\\N\t\\N\t\\N\t\\N\n",
           "COPY row: escapes, invalid UTF-8 replaced, NULL ids, the credential id, microsecond UTC timestamp");

    gw_buf_reset(&b);
    ev.vendor[0] = '\0';
    ev.error[0] = '\0';
    ev.model[0] = '\0';
    ev.interaction_type = GW_INTERACTION_CHAT;
    ev.credential_id = 0;
    snprintf(ev.request_id, sizeof(ev.request_id), "not-a-uuid");
    ev.ts_us = -1;
    gw_an_copy_row(&b, &ev);
    is_str(gw_buf_cstr(&b),
           "1969-12-31 23:59:59.999999+00\t\\N\t\\N\t3\t\\N\t1\tunknown\t"
           "\t1001\t50\t0\t10\t12\tchat\t200\t\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n",
           "no vendor -> 'unknown', bad request id -> NULL, no credential -> NULL, no error -> NULL");

    /* captured bodies: escaped like any text, the flags as booleans */
    gw_buf_reset(&b);
    ev.bodies = gw_event_bodies_new(8);
    gw_event_bodies_set_request(ev.bodies, "{\"a\":\n1}", 8);
    gw_event_bodies_add_response(ev.bodies, "abc", 3);
    gw_event_bodies_add_response(ev.bodies, "defghi", 6); /* one byte past the cap */
    gw_an_copy_row(&b, &ev);
    is_str(strstr(gw_buf_cstr(&b), "\t\\N\t\\N\t{"), "\t\\N\t\\N\t{\"a\":\\n1}\tabcdefgh\tf\tt\n",
           "COPY row with bodies: request, response, request_truncated, response_truncated");
    gw_event_bodies_free(ev.bodies);
    ev.bodies = NULL;

    ok(gw_an_uuid_ok("0190A5D6-1234-7abc-8def-0123456789ab"), "uuid check accepts upper case hex");
    ok(!gw_an_uuid_ok("0190a5d6-1234-7abc-8def-0123456789a"), "and refuses a short one");
    gw_buf_free(&b);
}

/* A capture as the gateway makes one (bodies.h). */
static gw_event_bodies *with_bodies(int i)
{
    char text[64];
    gw_event_bodies *b = gw_event_bodies_new(256);
    snprintf(text, sizeof(text), "{\"request\": %d}", i);
    gw_event_bodies_set_request(b, text, strlen(text));
    gw_event_bodies_add_response(b, "answer", 6);
    return b;
}

static void test_offline_writer(void)
{
    char err[GW_ERR_LEN] = "", dir[128];
    gw_analytics *a;
    gw_analytics_stats st;
    gw_analytics_opts o = {.database_url = "host=127.0.0.1 port=1 connect_timeout=2",
                           .queue_size = 64,
                           .batch_size = 16,
                           .flush_interval_ms = 20,
                           .spool_max_bytes = 0};
    gw_spool *s;
    gw_event got[512];
    int64_t found, end, lost = 0;
    int n = 300, total = 0, k, no_bodies = 0;

    snprintf(dir, sizeof(dir), "%s/w", tmpdir);
    o.spool_dir = dir;
    ok(gw_analytics_start(&o, NULL, NULL, &a, err) == 0, "writer starts with the database down: %s", err);
    for (int i = 0; i < n; i++) {
        gw_event ev = make_event(i);
        ev.bodies = with_bodies(i); /* freed when spooled (LeakSanitizer checks) */
        gw_analytics_record(a, &ev);
    }
    gw_an_shutdown(a, 200);
    gw_analytics_stats_get(a, &st);
    is_int(st.recorded, n, "recorded %d", n);
    is_int(st.written + st.duplicates + st.rejected, 0, "nothing stored");
    is_int(st.spooled, n, "everything spooled");
    is_int(st.dropped, 0, "nothing dropped");
    is_int(st.spool_records, n, "all waiting in the spool");
    is_int(st.queue_depth, 0, "queue empty after stop");
    ok(st.recorded + st.spool_found == st.written + st.duplicates + st.rejected + st.spool_records + st.dropped,
       "recorded + found == stored + spooled + dropped");
    gw_an_free(a);

    /* the next run finds them */
    ok(gw_analytics_start(&o, NULL, NULL, &a, err) == 0, "restart: %s", err);
    gw_analytics_stats_get(a, &st);
    is_int(st.spool_found, n, "the next run finds the %d spooled events", n);
    gw_analytics_stop(a, 100);

    gw_spool_open(dir, 0, &s, &found, err);
    while ((k = gw_spool_read(s, &end, got, 512, NULL, NULL, &lost)) > 0) {
        for (int i = 0; i < k; i++)
            no_bodies += got[i].bodies == NULL;
        total += k;
        gw_spool_commit(s, end, err);
    }
    is_int(total, n, "the spool holds exactly the %d events", n);
    is_int(no_bodies, n, "without their bodies (the spool does not keep them)");
    gw_spool_close(s);

    /* without a spool: the queue holds what it can, the rest is dropped */
    o.spool_dir = "";
    ok(gw_analytics_start(&o, NULL, NULL, &a, err) == 0, "writer without a spool: %s", err);
    for (int i = 0; i < n; i++) {
        gw_event ev = make_event(i);
        ev.bodies = with_bodies(i); /* freed when dropped, at once or at stop */
        gw_analytics_record(a, &ev);
    }
    gw_analytics_stats_get(a, &st);
    ok(st.dropped >= n - 64 - 16, "no spool, database down: events beyond the queue are dropped (%lld)",
       (long long)st.dropped);
    gw_an_shutdown(a, 100);
    gw_analytics_stats_get(a, &st);
    is_int(st.dropped, n, "at stop, what could not be delivered is dropped and counted");
    is_int(st.recorded, n, "recorded == dropped");
    gw_an_free(a);
}

/* The ring of the analytics queue starts over at its first slot whenever
 * the writer empties it: a steady load then touches only the slots of its
 * largest backlog, not all ANALYTICS_QUEUE_SIZE slots one after the other
 * (44 MB with the defaults, resident memory that grew for 22 minutes of the
 * soak at 50 requests a second). No writer thread: the ring alone. */
static void test_ring_restarts(void)
{
    gw_analytics a;
    int stopping = 0, closed = 0, n, max_slot = 0;

    memset(&a, 0, sizeof(a));
    a.cap = 64;
    a.batch_size = 8;
    a.flush_ms = 1;
    pthread_mutex_init(&a.mu, NULL);
    pthread_cond_init(&a.cv, NULL);
    a.ring = calloc((size_t)a.cap, sizeof(gw_event));
    a.batch = calloc((size_t)a.batch_size, sizeof(gw_event));
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 3; i++) {
            gw_event ev = make_event(round * 3 + i);
            int slot = (a.head + a.count) % a.cap;
            if (slot > max_slot)
                max_slot = slot;
            gw_analytics_record(&a, &ev);
        }
        n = gw_an_take(&a, 1, &stopping, &closed);
        if (n != 3)
            break;
    }
    is_int(n, 3, "the writer takes the three events of each round");
    is_int(a.count, 0, "and empties the ring");
    is_int(a.head, 0, "an empty ring starts over at its first slot");
    is_int(max_slot, 2, "300 events, never more than 3 waiting: only slots 0-2 were used");
    /* a backlog is still taken in order */
    for (int i = 0; i < 21; i++) {
        gw_event ev = make_event(1000 + i);
        gw_analytics_record(&a, &ev);
    }
    n = gw_an_take(&a, 1, &stopping, &closed);
    ok(n == 8 && a.count == 13 && a.head == 8 && a.batch[0].ts_us == make_event(1000).ts_us &&
           a.batch[7].ts_us == make_event(1007).ts_us,
       "a backlog of 21 is taken in order, 8 at a time (head %d, left %d)", a.head, a.count);
    while (gw_an_take(&a, 1, &stopping, &closed) > 0)
        ;
    is_int(a.head, 0, "and once it is taken the ring starts over again");
    free(a.ring);
    free(a.batch);
    pthread_mutex_destroy(&a.mu);
    pthread_cond_destroy(&a.cv);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_spool.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    gw_log_set_level(GW_LOG_ERROR);
    test_codec();
    test_files();
    test_corruption();
    test_upgrade();
    test_sidecar_and_cap();
    test_copy_encoding();
    test_offline_writer();
    test_ring_restarts();
    rm_rf(tmpdir);
    return tap_done();
}
