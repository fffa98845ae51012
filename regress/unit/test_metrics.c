/*
 * regress/unit/test_metrics.c: the proxy's Prometheus metrics
 * (src/gateway/metrics.c): series by LLM and status, the overflow series,
 * histogram buckets (cumulative, +Inf = count, exact sums), label
 * escaping, the values of other modules (the listeners' connection counters
 * and the upstream cap among them), and concurrent updates from many threads
 * adding up exactly.
 */
#include <pthread.h>

#include "base/buf.c"
#include "gateway/metrics.c"

#include "tap.h"

static gw_metrics *shared;

static void *hammer(void *arg) {
  const char *llm = arg;
  for (int i = 0; i < 20000; i++)
    gw_metrics_request(shared, llm, i % 2 == 0 ? 200 : 429, 40, 1000);
  return NULL;
}

static char *render(gw_metrics *m, const gw_metrics_ext *x) {
  gw_buf b;
  gw_buf_init(&b, 0);
  if (gw_metrics_render(m, x, &b) != 0)
    return NULL;
  return (char *)gw_buf_cstr(&b);
}

int main(void) {
  gw_metrics *m;
  char err[GW_ERR_LEN];
  char *text;
  gw_metrics_ext x;

  ok(gw_metrics_create(&m, err) == 0, "metrics created");
  gw_metrics_request(m, "gpt", 200, 80, 2000);
  gw_metrics_request(m, "gpt", 200, 120, 3000);
  gw_metrics_request(m, "gpt", 502, 60, 10000000);
  gw_metrics_request(m, NULL, 401, 15, -1);
  gw_metrics_request(m, "", 404, 2000000, -1);
  gw_metrics_request(m, "we\"ird\\na\nme", 200, 5, 1);
  gw_metrics_streams_add(m, 3);
  gw_metrics_streams_add(m, -1);
  is_int(gw_metrics_requests_total(m), 6, "six requests counted");
  is_int(gw_metrics_streams_active(m), 2, "active streams gauge");

  text = render(m, NULL);
  ok(text != NULL, "rendered");
  has_str(text, "# TYPE gatewayd_requests_total counter", "counter type line");
  has_str(text, "gatewayd_requests_total{llm=\"gpt\",status=\"200\"} 2\n",
          "gpt 200 counted twice");
  has_str(text, "gatewayd_requests_total{llm=\"gpt\",status=\"502\"} 1\n",
          "gpt 502");
  has_str(text, "gatewayd_requests_total{llm=\"-\",status=\"401\"} 1\n",
          "no LLM -> llm=\"-\"");
  has_str(text, "gatewayd_requests_total{llm=\"-\",status=\"404\"} 1\n",
          "empty LLM -> llm=\"-\"");
  has_str(text, "llm=\"we\\\"ird\\\\na\\nme\"",
          "label value escaped (quote, backslash, newline)");
  has_str(text, "# TYPE gatewayd_overhead_seconds histogram",
          "overhead histogram");
  /* overhead observations: 80, 120, 60, 15, 2000000, 5 µs */
  has_str(text, "gatewayd_overhead_seconds_bucket{le=\"0.000010\"} 1\n",
          "5 µs in the 10 µs bucket");
  has_str(text, "gatewayd_overhead_seconds_bucket{le=\"0.000025\"} 2\n",
          "15 µs in the 25 µs bucket (cumulative)");
  has_str(text, "gatewayd_overhead_seconds_bucket{le=\"0.000100\"} 4\n",
          "60 and 80 µs by 100 µs");
  has_str(text, "gatewayd_overhead_seconds_bucket{le=\"1.000000\"} 5\n",
          "all but the 2 s one by 1 s");
  has_str(text, "gatewayd_overhead_seconds_bucket{le=\"+Inf\"} 6\n",
          "+Inf holds everything");
  has_str(text, "gatewayd_overhead_seconds_count 6\n", "count equals +Inf");
  has_str(text, "gatewayd_overhead_seconds_sum 2.000280\n",
          "exact sum in seconds");
  /* upstream: only the four with an upstream call */
  has_str(text, "gatewayd_upstream_latency_seconds_count 4\n",
          "requests without an upstream call not observed");
  has_str(text, "gatewayd_upstream_latency_seconds_bucket{le=\"0.001000\"} 1\n",
          "1 µs in the first bucket");
  has_str(text, "gatewayd_upstream_latency_seconds_bucket{le=\"5.000000\"} 3\n",
          "10 s above 5 s");
  has_str(text, "gatewayd_active_streams 2\n", "active streams rendered");
  lacks_str(text, "gatewayd_analytics_queue_depth",
            "no analytics lines without the module");
  lacks_str(text, "gatewayd_journal_", "no journal lines without a journal");
  free(text);

  memset(&x, 0, sizeof(x));
  x.have_analytics = 1;
  x.analytics.queue_depth = 7;
  x.analytics.spool_bytes = 4096;
  x.analytics.dropped = 1;
  x.analytics.written = 99;
  x.have_credcache = 1;
  x.credcache.hits = 12;
  x.credcache.entries = 3;
  x.snapshot_loads = 2;
  x.snapshot_loaded = 1;
  x.ready = 1;
  x.requests_in_flight = 5;
  x.have_journal = 1;
  x.journal.slots = 64;
  x.journal.in_use = 9;
  x.journal.not_journaled = 4;
  x.journal.recovered_finished = 8;
  x.journal.recovered_interrupted = 32;
  x.journal.recovered_invalid = 1;
  /* the listeners' connection counters and the upstream cap */
  x.nservers = 2;
  x.servers[0] = (gw_connguard_stats){.name = "proxy", .workers = 64, .open = 70, .queued = 6, .head = 3,
                                      .active = 50, .keepalive = 17, .accepted = 1000,
                                      .refused_per_address = 4, .refused_overload = 9, .head_timeouts = 11,
                                      .reclaimed_keepalive = 21, .reclaimed_head = 2};
  x.servers[1] = (gw_connguard_stats){.name = "admin", .workers = 32, .open = 5, .active = 5};
  x.have_upstream = 1;
  x.upstream.in_use = 40;
  x.upstream.max = 4824;
  x.upstream.made = 512;
  x.upstream.busy = 3;
  text = render(m, &x);
  has_str(text, "# TYPE gatewayd_http_workers gauge\ngatewayd_http_workers{server=\"proxy\"} 64\n"
                "gatewayd_http_workers{server=\"admin\"} 32\n", "workers per server");
  has_str(text, "gatewayd_http_workers_busy{server=\"proxy\"} 64\n", "busy: never more than the workers");
  has_str(text, "gatewayd_http_workers_idle{server=\"proxy\"} 0\n", "idle: none left");
  has_str(text, "gatewayd_http_workers_busy{server=\"admin\"} 5\n", "admin busy");
  has_str(text, "gatewayd_http_workers_idle{server=\"admin\"} 27\n", "admin idle");
  has_str(text, "gatewayd_http_connections{server=\"proxy\",state=\"queued\"} 6\n"
                "gatewayd_http_connections{server=\"proxy\",state=\"head\"} 3\n"
                "gatewayd_http_connections{server=\"proxy\",state=\"active\"} 50\n"
                "gatewayd_http_connections{server=\"proxy\",state=\"keepalive\"} 17\n", "connections by state");
  has_str(text, "gatewayd_http_connections_accepted_total{server=\"proxy\"} 1000\n", "accepted");
  has_str(text, "gatewayd_http_connections_refused_total{server=\"proxy\",reason=\"per_address\"} 4\n"
                "gatewayd_http_connections_refused_total{server=\"proxy\",reason=\"overload\"} 9\n", "refusals by reason");
  has_str(text, "# TYPE gatewayd_http_head_timeouts_total counter\ngatewayd_http_head_timeouts_total{server=\"proxy\"} 11\n",
          "head timeouts");
  has_str(text, "gatewayd_http_connections_reclaimed_total{server=\"proxy\",state=\"keepalive\"} 21\n"
                "gatewayd_http_connections_reclaimed_total{server=\"proxy\",state=\"head\"} 2\n", "reclaims");
  has_str(text, "gatewayd_upstream_calls 40\n", "upstream calls");
  has_str(text, "gatewayd_upstream_calls_max 4824\n", "upstream cap");
  has_str(text, "# TYPE gatewayd_upstream_busy_total counter\ngatewayd_upstream_busy_total 3\n", "upstream refusals");
  has_str(text, "# TYPE gatewayd_journal_slots gauge\ngatewayd_journal_slots 64\n", "journal slots");
  has_str(text, "gatewayd_journal_slots_in_use 9\n", "journal slots in use");
  has_str(text, "# TYPE gatewayd_journal_not_journaled_total counter\ngatewayd_journal_not_journaled_total 4\n",
          "requests not journaled");
  has_str(text, "gatewayd_journal_recovered_finished_total 8\n", "recovered finished events");
  has_str(text, "gatewayd_journal_recovered_interrupted_total 32\n", "recovered interrupted events");
  has_str(text, "gatewayd_journal_recovered_invalid_total 1\n", "unreadable slots");
  has_str(text, "gatewayd_analytics_queue_depth 7\n", "queue depth");
  has_str(text, "gatewayd_analytics_spool_bytes 4096\n", "spool size");
  has_str(text, "gatewayd_analytics_dropped_total 1\n", "dropped events");
  has_str(text, "gatewayd_analytics_written_total 99\n", "written events");
  has_str(text, "gatewayd_credential_cache_hits_total 12\n",
          "credential cache hits");
  has_str(text, "gatewayd_credential_cache_entries 3\n",
          "credential cache size");
  has_str(text, "gatewayd_snapshot_loads_total 2\n", "snapshot loads");
  has_str(text, "gatewayd_ready 1\n", "readiness");
  has_str(text, "gatewayd_requests_in_flight 5\n", "in flight");
  {
    /* every non-comment line is "name[{labels}] value" */
    int good = 1;
    for (char *line = strtok(text, "\n"); line != NULL;
         line = strtok(NULL, "\n")) {
      char *sp;
      if (line[0] == '#')
        continue;
      sp = strrchr(line, ' ');
      if (sp == NULL || sp == line || sp[1] == '\0' ||
          strncmp(line, "gatewayd_", 9) != 0) {
        good = 0;
        diag("bad line: %s", line);
      }
    }
    ok(good, "exposition lines are well formed");
  }
  free(text);
  gw_metrics_destroy(m);

  /* overflow: more distinct series than slots */
  ok(gw_metrics_create(&m, err) == 0, "second registry");
  for (int i = 0; i < GW_METRICS_MAX_SERIES + 10; i++) {
    char name[32];
    snprintf(name, sizeof(name), "llm-%d", i);
    gw_metrics_request(m, name, 200, 1, 1);
  }
  text = render(m, NULL);
  has_str(text, "gatewayd_requests_total{llm=\"other\",status=\"other\"} 10\n",
          "overflow counted under other");
  is_int(gw_metrics_requests_total(m), GW_METRICS_MAX_SERIES + 10,
         "nothing lost in overflow");
  free(text);
  gw_metrics_destroy(m);

  /* concurrency: 8 threads over 4 LLMs, two statuses each */
  {
    pthread_t th[8];
    static const char *llms[] = {"a", "b", "c", "d"};
    ok(gw_metrics_create(&shared, err) == 0, "shared registry");
    for (int i = 0; i < 8; i++)
      pthread_create(&th[i], NULL, hammer, (void *)llms[i % 4]);
    for (int i = 0; i < 8; i++)
      pthread_join(th[i], NULL);
    is_int(gw_metrics_requests_total(shared), 160000,
           "every concurrent request counted");
    text = render(shared, NULL);
    has_str(text, "gatewayd_requests_total{llm=\"a\",status=\"200\"} 20000\n",
            "a/200 exact under contention");
    has_str(text, "gatewayd_requests_total{llm=\"d\",status=\"429\"} 20000\n",
            "d/429 exact under contention");
    has_str(text, "gatewayd_overhead_seconds_count 160000\n",
            "histogram count exact");
    {
      int n = 0;
      for (char *p = text; (p = strstr(p, "gatewayd_requests_total{")) != NULL;
           p++)
        n++;
      is_int(n, 8,
             "one series per (llm, status): no duplicate slots from racing "
             "claims");
    }
    free(text);
    gw_metrics_destroy(shared);
  }
  return tap_done();
}
