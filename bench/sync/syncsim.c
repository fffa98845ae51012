/*
 * bench/sync/syncsim.c: N simulated edges speaking the real Sync protocol
 * (proto/aistudio/v1/sync.proto) against one hub, for bench/sync/run.sh.
 * A benchmark tool, never a test: it prints figures, it fails only when the
 * hub cannot be reached at all.
 *
 * It is linked with gatewayd's own objects (src/rpc for gRPC, src/sync/wire
 * for packing, src/model/snapshot for decoding, the generated protobuf-c
 * code): no second copy of the protocol. Each simulated edge does what
 * src/sync/edge.c does (simedge.c says what, and what it leaves out: the
 * edge's local database write of a snapshot).
 *
 *   syncsim run  --target H:P --edges FILE [--conns K] [--workers W]
 *                [--interval S] [--db CONNINFO] [--id-prefix P] [--push-sql SQL]
 *                [--hold S --hub-pid PID --pg-pid PID]
 *   syncsim pull --target H:P --edges FILE [--pulls N]
 *
 * FILE: one edge a line, "edge_id<TAB>namespace<TAB>token" (psql -At -F
 * '\t' of aistudio.enroll_edge). run: all edges connect (K gRPC
 * connections, edge i on connection i mod K; default one per edge up to
 * 2,000), wait until every edge has pulled and had a heartbeat answered;
 * then with --push-sql: the SQL (a change and aistudio.push_config(); its
 * last result's first column is the push id) is run through libpq and the
 * time from just before it until each edge has applied the push is
 * measured, then until the hub's view (aistudio.list_edges) says in_sync
 * for all; with --hold: the edges heartbeat for S seconds while the CPU of
 * the hub process and of PostgreSQL's processes is read from /proc.
 * pull: the first edge of FILE pulls its snapshot N times (have_checksum
 * empty), timed as its client sees it.
 * Output: "key=value" lines (run.sh reads them), prefixed by the phase.
 *
 * This file: the command line, the phases and their figures (percentiles,
 * CPU from /proc, the hub's view through libpq); simedge.c: the edges.
 */
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "simedge.h"

/* ---- figures ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of v[0..n), sorted here. */
static double pct(double *v, int n, double p)
{
    int k;
    if (n <= 0)
        return -1;
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    k = (int)(p / 100.0 * n + 0.999999) - 1;
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* utime + stime of a process, in clock ticks (-1: gone). */
static long long proc_ticks(long pid, long *ppid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut, st;
    long pp;
    FILE *f;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fgets(buf, sizeof(buf), f) == NULL) {
        fclose(f);
        return -1;
    }
    fclose(f);
    p = strrchr(buf, ')');
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (p == NULL || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &pp, &ut, &st) != 3)
        return -1;
    if (ppid != NULL)
        *ppid = pp;
    return (long long)(ut + st);
}

#define SIM_MAX_PG 512
typedef struct pg_sample {
    int n;
    long pid[SIM_MAX_PG];
    long long ticks[SIM_MAX_PG];
} pg_sample;

/* The postmaster and its children. */
static void pg_sample_take(long postmaster, pg_sample *s)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    s->n = 0;
    if (d == NULL || postmaster <= 0) {
        if (d != NULL)
            closedir(d);
        return;
    }
    while ((de = readdir(d)) != NULL && s->n < SIM_MAX_PG) {
        long pid = strtol(de->d_name, NULL, 10), pp = 0;
        long long t;
        if (pid <= 0)
            continue;
        t = proc_ticks(pid, &pp);
        if (t >= 0 && (pid == postmaster || pp == postmaster)) {
            s->pid[s->n] = pid;
            s->ticks[s->n++] = t;
        }
    }
    closedir(d);
}

/* CPU ticks the PostgreSQL processes used between a and b (a process
 * started meanwhile counts whole). */
static long long pg_sample_delta(const pg_sample *a, const pg_sample *b)
{
    long long sum = 0;
    for (int i = 0; i < b->n; i++) {
        long long before = 0;
        for (int j = 0; j < a->n; j++)
            if (a->pid[j] == b->pid[i])
                before = a->ticks[j];
        sum += b->ticks[i] - before;
    }
    return sum;
}

static long long self_ticks(void)
{
    return proc_ticks((long)getpid(), NULL);
}

static char *sim_sql(PGconn *db, const char *sql)
{
    PGresult *res = PQexec(db, sql);
    char *out = NULL;
    if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
        fprintf(stderr, "syncsim: SQL failed: %s", PQerrorMessage(db));
    else if (PQntuples(res) > 0 && PQnfields(res) > 0)
        out = strdup(PQgetvalue(res, 0, 0));
    else
        out = strdup("");
    PQclear(res);
    return out;
}

/* The hub's view of our edges (aistudio.list_edges, as an admin sees it;
 * the ids starting with --id-prefix): how many are in_sync and connected. */
static void hub_view(PGconn *db, int *in_sync, int *connected, int *total)
{
    const char *params[1] = {sim.id_prefix};
    PGresult *res = PQexecParams(db,
                                 "SELECT count(*) FILTER (WHERE status = 'in_sync'), count(*) FILTER (WHERE connected), "
                                 "count(*) FROM aistudio.list_edges(NULL, NULL, 10000, 0) WHERE starts_with(edge_id, $1)",
                                 1, NULL, params, NULL, NULL, 0);
    *in_sync = *connected = *total = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        *in_sync = atoi(PQgetvalue(res, 0, 0));
        *connected = atoi(PQgetvalue(res, 0, 1));
        *total = atoi(PQgetvalue(res, 0, 2));
    } else {
        fprintf(stderr, "syncsim: list_edges: %s", PQerrorMessage(db));
    }
    PQclear(res);
}

static void phase_push(PGconn *db, const char *sql)
{
    double *reload = malloc((size_t)sim.n * sizeof(double)), *applied = malloc((size_t)sim.n * sizeof(double));
    int64_t t0, t_sql, deadline, push_id;
    int nr = 0, na = 0, in_sync = 0, connected = 0, total = 0;
    char *ret;
    double hub_ms = -1;

    sim_counters_reset();
    t0 = sim_now_us();
    ret = sim_sql(db, sql);
    t_sql = sim_now_us();
    if (ret == NULL)
        return;
    push_id = strtoll(ret, NULL, 10);
    free(ret);
    deadline = gw_now_ms() + 30000;
    for (;;) {
        int done = 0;
        for (int i = 0; i < sim.n; i++) {
            pthread_mutex_lock(&sim.edges[i].mu);
            done += sim.edges[i].push_id == push_id;
            pthread_mutex_unlock(&sim.edges[i].mu);
        }
        if (done == sim.n || gw_now_ms() > deadline)
            break;
        usleep(2000);
    }
    for (int i = 0; i < sim.n; i++) {
        sim_edge *e = &sim.edges[i];
        pthread_mutex_lock(&e->mu);
        if (e->t_reload_us >= t0)
            reload[nr++] = (double)(e->t_reload_us - t0) / 1000.0;
        if (e->push_id == push_id)
            applied[na++] = (double)(e->t_applied_us - t0) / 1000.0;
        pthread_mutex_unlock(&e->mu);
    }
    /* the hub's view: until aistudio.list_edges says in_sync for all */
    deadline = gw_now_ms() + 30000;
    for (;;) {
        hub_view(db, &in_sync, &connected, &total);
        if (in_sync == sim.n) {
            hub_ms = (double)(sim_now_us() - t0) / 1000.0;
            break;
        }
        if (gw_now_ms() > deadline)
            break;
        usleep(20000);
    }
    printf("push push_id=%" PRId64 " edges=%d sql_ms=%.1f signalled=%d applied=%d\n", push_id, sim.n,
           (double)(t_sql - t0) / 1000.0, nr, na);
    printf("push reload_p50_ms=%.1f reload_p100_ms=%.1f\n", pct(reload, nr, 50), pct(reload, nr, 100));
    printf("push applied_p50_ms=%.1f applied_p90_ms=%.1f applied_p100_ms=%.1f\n", pct(applied, na, 50),
           pct(applied, na, 90), pct(applied, na, 100));
    printf("push hub_view_all_in_sync_ms=%.1f list_edges_in_sync=%d list_edges_connected=%d list_edges_total=%d\n",
           hub_ms, in_sync, connected, total);
    {
        char q[256];
        char *r;
        snprintf(q, sizeof(q),
                 "SELECT count(*) FILTER (WHERE phase = 'applied') || ' ' || "
                 "coalesce(round(extract(epoch FROM max(updated_at) - (SELECT pushed_at FROM aistudio.pushes WHERE id = %" PRId64
                 ")) * 1000)::text, '-') FROM aistudio.get_push(%" PRId64 ")",
                 push_id, push_id);
        r = sim_sql(db, q);
        if (r != NULL) {
            char *sp = strchr(r, ' ');
            if (sp != NULL) {
                *sp = '\0';
                printf("push get_push_applied=%s get_push_last_applied_ms=%s\n", r, sp + 1);
            }
            free(r);
        }
    }
    sim_print_counters("push");
    free(reload);
    free(applied);
}

/* Heartbeats for hold_s seconds; CPU of the hub and of PostgreSQL. */
static void phase_hold(PGconn *db, int hold_s, long hub_pid, long pg_pid)
{
    pg_sample *pa = calloc(1, sizeof(*pa)), *pb = calloc(1, sizeof(*pb));
    long long h0, h1, s0, s1, pgd;
    int64_t t0, t1;
    double secs, tck = (double)sysconf(_SC_CLK_TCK);
    int in_sync = -1, connected = -1, total = -1;

    sim_counters_reset();
    pg_sample_take(pg_pid, pa);
    h0 = proc_ticks(hub_pid, NULL);
    s0 = self_ticks();
    t0 = sim_mono_us();
    sleep((unsigned)hold_s);
    h1 = proc_ticks(hub_pid, NULL);
    s1 = self_ticks();
    pg_sample_take(pg_pid, pb);
    t1 = sim_mono_us();
    secs = (double)(t1 - t0) / 1e6;
    pgd = pg_sample_delta(pa, pb);
    if (db != NULL)
        hub_view(db, &in_sync, &connected, &total);
    printf("hold edges=%d interval_s=%d seconds=%.1f hb_per_s=%.0f acks_per_s=%.0f\n", sim.n, sim.interval_s, secs,
           (double)atomic_load(&sim.hb_sent) / secs, (double)atomic_load(&sim.acks) / secs);
    printf("hold hub_cpu_cores=%.3f pg_cpu_cores=%.3f sim_cpu_cores=%.3f\n",
           h0 >= 0 && h1 >= 0 ? (double)(h1 - h0) / tck / secs : -1.0, (double)pgd / tck / secs,
           (double)(s1 - s0) / tck / secs);
    printf("hold list_edges_in_sync=%d list_edges_connected=%d list_edges_total=%d\n", in_sync, connected, total);
    sim_print_counters("hold");
    free(pa);
    free(pb);
}

static int cmd_run(const char *db_conninfo, const char *push_sql, int hold_s, long hub_pid, long pg_pid, int nworkers)
{
    PGconn *db = NULL;
    int64_t t0 = sim_mono_us(), deadline = gw_now_ms() + 180000;
    int ready = 0;

    if (db_conninfo != NULL) {
        db = PQconnectdb(db_conninfo);
        if (PQstatus(db) != CONNECTION_OK) {
            fprintf(stderr, "syncsim: database: %s", PQerrorMessage(db));
            return 1;
        }
    }
    sim_start(nworkers);
    while (!sim_all_ready(&ready) && gw_now_ms() < deadline)
        usleep(20000);
    printf("connect edges=%d conns=%d ready=%d seconds=%.1f\n", sim.n, sim.nconns, ready,
           (double)(sim_mono_us() - t0) / 1e6);
    sim_print_counters("connect");
    if (ready == sim.n) {
        sleep(2); /* every edge heartbeats with what it loaded, and is answered */
        if (push_sql != NULL && db != NULL)
            phase_push(db, push_sql);
        if (hold_s > 0)
            phase_hold(db, hold_s, hub_pid, pg_pid);
    }
    sim_stop();
    if (db != NULL)
        PQfinish(db);
    return ready == sim.n ? 0 : 1;
}

static int cmd_pull(int pulls)
{
    sim_edge *e = &sim.edges[0];
    double *lat = malloc((size_t)pulls * sizeof(double)), *build = malloc((size_t)pulls * sizeof(double));
    size_t size = 0;
    char err[GW_ERR_LEN];

    for (int i = -2; i < pulls; i++) { /* two warm-up pulls */
        Aistudio__V1__SnapshotResponse *rs;
        int64_t a = sim_mono_us(), b, c;
        if (sim_pull_once(e, "", &rs, err) != 0) {
            fprintf(stderr, "syncsim: %s\n", err);
            return 1;
        }
        b = sim_mono_us();
        if (sim_build(e, rs, err) != 0) {
            fprintf(stderr, "syncsim: the snapshot does not build: %s\n", err);
            aistudio__v1__snapshot_response__free_unpacked(rs, NULL);
            return 1;
        }
        c = sim_mono_us();
        size = rs->snapshot.len;
        aistudio__v1__snapshot_response__free_unpacked(rs, NULL);
        if (i >= 0) {
            lat[i] = (double)(b - a) / 1000.0;
            build[i] = (double)(c - b) / 1000.0;
        }
    }
    printf("pull edge=%s namespace=%s pulls=%d bytes=%zu key_errors=%ld\n", e->id, e->ns, pulls, size,
           atomic_load(&sim.key_errors));
    printf("pull rpc_p50_ms=%.1f rpc_p99_ms=%.1f rpc_max_ms=%.1f\n", pct(lat, pulls, 50), pct(lat, pulls, 99),
           pct(lat, pulls, 100));
    printf("pull build_p50_ms=%.1f build_p99_ms=%.1f\n", pct(build, pulls, 50), pct(build, pulls, 99));
    free(lat);
    free(build);
    for (int i = 0; i < sim.nconns; i++)
        gw_rpc_client_destroy(sim.cli[i]);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: syncsim run  --target H:P --edges FILE [--conns K] [--workers W] [--interval S]\n"
                    "                    [--db CONNINFO] [--id-prefix P] [--push-sql SQL] [--hold S --hub-pid PID --pg-pid PID]\n"
                    "       syncsim pull --target H:P --edges FILE [--pulls N]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"target", required_argument, NULL, 't'}, {"edges", required_argument, NULL, 'e'},
        {"conns", required_argument, NULL, 'c'},  {"workers", required_argument, NULL, 'w'},
        {"interval", required_argument, NULL, 'i'}, {"db", required_argument, NULL, 'd'},
        {"push-sql", required_argument, NULL, 'p'}, {"hold", required_argument, NULL, 'h'},
        {"hub-pid", required_argument, NULL, 'H'}, {"pg-pid", required_argument, NULL, 'P'},
        {"pulls", required_argument, NULL, 'n'},  {"id-prefix", required_argument, NULL, 'x'},
        {NULL, 0, NULL, 0}};
    const char *cmd, *edges = NULL, *db = NULL, *push_sql = NULL;
    int conns = 0, nworkers = 8, hold = 0, pulls = 20, o, rc;
    long hub_pid = 0, pg_pid = 0;

    if (argc < 2) {
        usage();
        return 2;
    }
    cmd = argv[1];
    sim.interval_s = 1;
    sim.id_prefix = "";
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 't': sim.target = optarg; break;
        case 'e': edges = optarg; break;
        case 'c': conns = atoi(optarg); break;
        case 'w': nworkers = atoi(optarg); break;
        case 'i': sim.interval_s = atoi(optarg); break;
        case 'd': db = optarg; break;
        case 'p': push_sql = optarg; break;
        case 'h': hold = atoi(optarg); break;
        case 'H': hub_pid = atol(optarg); break;
        case 'P': pg_pid = atol(optarg); break;
        case 'n': pulls = atoi(optarg); break;
        case 'x': sim.id_prefix = optarg; break;
        default: usage(); return 2;
        }
    }
    if (sim.target == NULL || edges == NULL || sim.interval_s < 1 || nworkers < 1 || pulls < 1 ||
        (strcmp(cmd, "run") != 0 && strcmp(cmd, "pull") != 0)) {
        usage();
        return 2;
    }
    gw_log_set_level(GW_LOG_ERROR);
    pthread_mutex_init(&sim.qmu, NULL);
    pthread_cond_init(&sim.qcv, NULL);
    pthread_mutex_init(&sim.err_mu, NULL);
    if (sim_load_edges(edges, strcmp(cmd, "pull") == 0 ? 1 : 0) != 0)
        return 1;
    if (conns <= 0)
        conns = sim.n < SIM_MAX_CONNS_DEFAULT ? sim.n : SIM_MAX_CONNS_DEFAULT;
    if (conns > sim.n)
        conns = sim.n;
    gw_rpc_init();
    if (sim_clients(strcmp(cmd, "pull") == 0 ? 1 : conns) != 0)
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = strcmp(cmd, "pull") == 0 ? cmd_pull(pulls) : cmd_run(db, push_sql, hold, hub_pid, pg_pid, nworkers);
    gw_rpc_shutdown();
    return rc;
}
