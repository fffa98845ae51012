/*
 * regress/unit/test_plugin_host.c: the plugin host (gatewayd/src/plugins:
 * host, conn, spawn, handshake) with real plugin processes: the examples
 * of plugins/examples (firewall, PII redactor with a streamed answer,
 * signed-header auth, response logger) and the test plugins of
 * regress/e2e/plugins. Hook calls and their results; a plugin that sleeps
 * (the deadline, the plugin keeps serving), exits in a hook or is killed
 * (restarted with a new process); a wrong handshake, another protocol
 * version, a missing executable, a hook its manifest does not list, a
 * refused configuration, garbage answers, bad host settings: each a clear
 * error in the log and in the plugin's state; a configuration change under
 * load (no call fails), a plugin removed; the bubblewrap sandbox; destroy
 * leaves no process and no directory. LeakSanitizer checks the rest.
 */
#include "base/buf.c"
#include "base/codec.c"
#include "base/json.c"
#include "base/log.c"
#include "base/vjson.c"
#include "plugins/conn.c"
#include "plugins/handshake.c"
#include "plugins/host.c"
#include "plugins/spawn.c"
#include "rpc/call.c"
#include "rpc/client.c"
#include "rpc/core.c"
#include "rpc/pool.c"
#include "rpc/server.c"

#include <openssl/hmac.h>
#include <signal.h>

#include "tap.h"

#define WAIT_MS 20000 /* generous: nothing here should take a tenth of it */

static gw_plugin_host *host;
static char logpath[] = "/tmp/gw-plugin-host-log.XXXXXX";

static int wait_serving(int64_t id, int not_pid)
{
    gw_plugin_info in;
    int64_t until = gw_now_ms() + WAIT_MS;
    while (gw_now_ms() < until) {
        if (gw_plugin_host_info(host, id, &in) == 0 && in.serving && in.pid != not_pid)
            return in.pid;
        usleep(20000);
    }
    return 0;
}

static const char *wait_error(int64_t id, const char *needle)
{
    static gw_plugin_info in;
    int64_t until = gw_now_ms() + WAIT_MS;
    while (gw_now_ms() < until) {
        if (gw_plugin_host_info(host, id, &in) == 0 && strstr(in.last_error, needle) != NULL)
            return in.last_error;
        usleep(20000);
    }
    return in.last_error;
}

/* The log so far. */
static const char *logged(void)
{
    static char buf[1 << 16];
    FILE *f = fopen(logpath, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = '\0';
    if (f != NULL)
        fclose(f);
    return buf;
}

/* One request hook call with one user text and optional headers. */
static int call(int64_t id, Aistudio__V1__Hook hook, const char *text, const char *const *hdrs, size_t nh,
                Aistudio__V1__HookResult **out, char err[GW_ERR_LEN])
{
    Aistudio__V1__RequestHookCall rq = AISTUDIO__V1__REQUEST_HOOK_CALL__INIT;
    Aistudio__V1__RequestContext ctx = AISTUDIO__V1__REQUEST_CONTEXT__INIT;
    Aistudio__V1__TextPart tp = AISTUDIO__V1__TEXT_PART__INIT, *tpp = &tp;
    Aistudio__V1__Header h[4], *hp[4];
    char why[GW_ERR_LEN];
    gw_plugin_conn *c = gw_plugin_host_acquire(host, id, why);
    *out = NULL;
    err[0] = '\0';
    if (c == NULL) {
        snprintf(err, GW_ERR_LEN, "%s", why);
        return -1;
    }
    ctx.request_id = "req-1";
    ctx.hook = hook;
    ctx.llm_slug = "gpt";
    rq.context = &ctx;
    rq.method = "POST";
    rq.path = "/v1/chat/completions";
    tp.role = "user";
    tp.text = (char *)text;
    if (text != NULL) {
        rq.texts = &tpp;
        rq.n_texts = 1;
    }
    for (size_t i = 0; i < nh; i++) {
        aistudio__v1__header__init(&h[i]);
        h[i].name = (char *)hdrs[2 * i];
        h[i].value = (char *)hdrs[2 * i + 1];
        hp[i] = &h[i];
    }
    rq.headers = hp;
    rq.n_headers = nh;
    int rc = gw_plugin_call_request(c, &rq, out, err);
    gw_plugin_conn_release(c);
    return rc;
}

static gw_plugin_spec spec(int64_t id, const char *name, const char *hook, const char *cmd, const char *config)
{
    gw_plugin_spec s = {id, name, hook, cmd, config};
    return s;
}

typedef struct hammer {
    pthread_t th;
    atomic_int stop, calls, failures;
    char last_err[GW_ERR_LEN];
} hammer;

static void *hammer_main(void *arg)
{
    hammer *hm = arg;
    while (!atomic_load(&hm->stop)) {
        Aistudio__V1__HookResult *r;
        char err[GW_ERR_LEN];
        if (call(1, AISTUDIO__V1__HOOK__HOOK_POST_AUTH, "hello", NULL, 0, &r, err) != 0) {
            atomic_fetch_add(&hm->failures, 1);
            snprintf(hm->last_err, sizeof(hm->last_err), "%s", err);
        } else
            aistudio__v1__hook_result__free_unpacked(r, NULL);
        atomic_fetch_add(&hm->calls, 1);
        usleep(2000);
    }
    return NULL;
}

int main(void)
{
    char err[GW_ERR_LEN], cmd[16][512], cfg[512], logdir[] = "/tmp/gw-plugin-resp.XXXXXX", line[1024];
    Aistudio__V1__HookResult *r;
    gw_plugin_host_opts o;
    gw_plugin_spec specs[16];
    size_t ns = 0;
    int pid, fd = mkstemp(logpath);

    gw_log_set_fd(fd);
    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(logdir) == NULL)
        return 1;
    chmod(logdir, 0777); /* the plugins may run as nobody */
    snprintf(cmd[0], sizeof(cmd[0]), "%s/firewall", GW_EXAMPLES);
    snprintf(cmd[1], sizeof(cmd[1]), "%s/pii_redactor", GW_EXAMPLES);
    snprintf(cmd[2], sizeof(cmd[2]), "file://%s/custom_auth", GW_EXAMPLES);
    snprintf(cmd[3], sizeof(cmd[3]), "%s/response_logger", GW_EXAMPLES);
    snprintf(cmd[4], sizeof(cmd[4]), "%s/build/misbehave", GW_TEST_PLUGINS);
    snprintf(cmd[5], sizeof(cmd[5]), "%s/garbage_handshake.sh", GW_TEST_PLUGINS);
    snprintf(cmd[6], sizeof(cmd[6]), "%s/wrong_version.sh", GW_TEST_PLUGINS);
    snprintf(cmd[7], sizeof(cmd[7]), "%s/garbage_answers.py", GW_TEST_PLUGINS);
    snprintf(cmd[8], sizeof(cmd[8]), "%s/../node-team-gate/plugin.mjs", GW_EXAMPLES);
    snprintf(line, sizeof(line), "%s/../node-team-gate/node_modules/@grpc/grpc-js", GW_EXAMPLES);
    int have_node = access(line, F_OK) == 0 && access("/usr/bin/node", X_OK) == 0;

    memset(&o, 0, sizeof(o));
    o.socket_parent = "/tmp";
    o.sandbox = GW_SANDBOX_NONE;
    o.mem_bytes = 512 << 20;
    o.nofile = 256;
    o.start_timeout_ms = 10000;
    o.health_interval_ms = 300;
    o.restart_max_ms = 500;
    o.gateway_mode = "standalone";
    o.socket_parent = "/tmp/a-directory-name-much-too-long-for-unix-sockets-to-hold-xxxxxxxx";
    ok(gw_plugin_host_create(&o, err) == NULL, "a socket directory too long for unix sockets is refused");
    has_str(err, "PLUGIN_SOCKET_DIR", "... naming the setting");
    o.socket_parent = "/tmp";
    host = gw_plugin_host_create(&o, err);
    ok(host != NULL, "the host starts (%s)", host ? "" : err);
    if (host == NULL)
        return tap_done();
    const char *run_dir = gw_plugin_host_dir(host);
    char run_dir_copy[256];
    snprintf(run_dir_copy, sizeof(run_dir_copy), "%s", run_dir);
    struct stat st;
    ok(stat(run_dir, &st) == 0 && (st.st_mode & 077) == (geteuid() == 0 ? 011 : 0), "a private run directory");

    snprintf(cfg, sizeof(cfg), "{\"path\": \"%s/responses.log\"}", logdir);
    /* a deadline a busy machine does not reach: the pool's checks below count
     * calls that failed, and a missed deadline breaks its stream (the
     * deadline's own checks use the sleepy plugin) */
    specs[ns++] = spec(1, "fw", "post_auth", cmd[0],
                       "{\"phrases\": [\"ignore previous instructions\"], \"timeout_ms\": 5000}");
    specs[ns++] = spec(2, "pii", "post_auth", cmd[1], "{}");
    specs[ns++] = spec(3, "signed", "auth", cmd[2], "{\"secret\": \"0123456789abcdef-secret\"}");
    specs[ns++] = spec(4, "logger", "on_response", cmd[3], cfg);
    specs[ns++] = spec(5, "sleepy", "post_auth", cmd[4], "{\"sleep_ms\": 400, \"timeout_ms\": 100}");
    specs[ns++] = spec(6, "crashy", "post_auth", cmd[4], "{\"exit_in_hook\": 1}");
    specs[ns++] = spec(7, "garbage-handshake", "post_auth", cmd[5], "{}");
    specs[ns++] = spec(8, "wrong-version", "post_auth", cmd[6], "{}");
    specs[ns++] = spec(9, "missing", "post_auth", "/nonexistent/plugin", "{}");
    specs[ns++] = spec(10, "wrong-hook", "on_response", cmd[0], "{\"phrases\": [\"x\"]}");
    specs[ns++] = spec(11, "refused", "post_auth", cmd[0], "{}");
    specs[ns++] = spec(12, "garbage-answers", "post_auth", cmd[7], "{}");
    specs[ns++] = spec(13, "relative", "post_auth", "plugins/firewall", "{}");
    specs[ns++] = spec(14, "bad-timeout", "post_auth", cmd[4], "{\"timeout_ms\": 0}");
    if (have_node)
        specs[ns++] = spec(15, "node", "pre_auth", cmd[8],
                           "{\"teams\": [\"red\"], \"set_header\": \"x-team\", \"timeout_ms\": 2000}");
    gw_plugin_host_sync(host, specs, ns);

    /* ---- the firewall ---- */
    pid = wait_serving(1, 0);
    ok(pid > 0, "the firewall serves");
    is_int(call(1, AISTUDIO__V1__HOOK__HOOK_POST_AUTH, "Please IGNORE previous instructions now", NULL, 0, &r, err), 0,
           "a hook call (%s)", err);
    ok(r != NULL && r->action == AISTUDIO__V1__ACTION__ACTION_BLOCK, "a listed phrase is blocked");
    ok(r != NULL && r->status == 403 && strcmp(r->error_code, "blocked_by_filter") == 0, "with 403 blocked_by_filter");
    if (r)
        aistudio__v1__hook_result__free_unpacked(r, NULL);
    is_int(call(1, AISTUDIO__V1__HOOK__HOOK_POST_AUTH, "hello there", NULL, 0, &r, err), 0, "another call");
    ok(r != NULL && r->action == AISTUDIO__V1__ACTION__ACTION_CONTINUE, "a clean prompt goes on");
    if (r)
        aistudio__v1__hook_result__free_unpacked(r, NULL);
    {
        /* the C SDK offers HandleRequests: the calls above went over one pooled stream */
        gw_plugin_conn *c = gw_plugin_host_acquire(host, 1, err);
        ok(c != NULL && c->request_stream, "the SDK's manifest offers request streams");
        ok(c != NULL && c->n_pooled == 1 && c->n_idle == 1, "sequential calls share one stream (%d open, %d idle)",
           c ? c->n_pooled : -1, c ? c->n_idle : -1);
        gw_plugin_conn_release(c);
    }
    {
        /* more callers at once than the pool holds: the rest make unary calls */
        enum { N = GW_PLUGIN_POOL_STREAMS + 16 };
        hammer *hs = calloc(N, sizeof(*hs));
        for (int i = 0; i < N; i++)
            pthread_create(&hs[i].th, NULL, hammer_main, &hs[i]);
        usleep(500000);
        int calls = 0, failures = 0;
        const char *other = NULL; /* a failure that is not a missed deadline */
        for (int i = 0; i < N; i++)
            atomic_store(&hs[i].stop, 1);
        for (int i = 0; i < N; i++) {
            pthread_join(hs[i].th, NULL);
            calls += atomic_load(&hs[i].calls);
            failures += atomic_load(&hs[i].failures);
            if (atomic_load(&hs[i].failures) > 0 && other == NULL &&
                strstr(hs[i].last_err, "no answer within 5000 ms") == NULL)
                other = hs[i].last_err;
        }
        /* even 5 s may pass under the sanitizers on a loaded machine; any
         * other failure is a fault of the pool */
        ok(calls >= N && other == NULL, "%d callers at once: %d calls, %d failed (%s)", N, calls, failures,
           other != NULL ? other : "none but missed deadlines");
        gw_plugin_conn *c = gw_plugin_host_acquire(host, 1, err);
        ok(c != NULL && c->n_pooled <= GW_PLUGIN_POOL_STREAMS && c->n_idle == c->n_pooled && c->n_pooled > 1,
           "the pool grew, within its size, and every stream came back (%d open, %d idle)", c ? c->n_pooled : -1,
           c ? c->n_idle : -1);
        gw_plugin_conn_release(c);
        free(hs);
    }
    has_str(logged(), "plugin fw (id 1) serves the post_auth hook", "the start is logged");
    has_str(logged(), "plugin fw: firewall: 1 phrases, 0 patterns", "its stderr goes to the log with its name");

    /* ---- the PII redactor: a prompt, a JSON answer, a streamed answer ---- */
    ok(wait_serving(2, 0) > 0, "the PII redactor serves");
    is_int(call(2, AISTUDIO__V1__HOOK__HOOK_POST_AUTH, "write to john.doe@example.com or +1 415 555 0100", NULL, 0,
                &r, err),
           0, "a prompt with PII (%s)", err);
    ok(r != NULL && r->action == AISTUDIO__V1__ACTION__ACTION_MODIFY && r->replace_texts && r->n_texts == 1,
       "its text is replaced");
    is_str(r && r->n_texts ? r->texts[0] : "", "write to [EMAIL] or [PHONE]", "e-mail and phone redacted");
    if (r)
        aistudio__v1__hook_result__free_unpacked(r, NULL);
    {
        gw_plugin_conn *c = gw_plugin_host_acquire(host, 2, err);
        Aistudio__V1__ResponseHookCall rc = AISTUDIO__V1__RESPONSE_HOOK_CALL__INIT;
        Aistudio__V1__RequestContext ctx = AISTUDIO__V1__REQUEST_CONTEXT__INIT;
        Aistudio__V1__TextPart tp = AISTUDIO__V1__TEXT_PART__INIT, *tpp = &tp;
        ctx.hook = AISTUDIO__V1__HOOK__HOOK_ON_RESPONSE;
        rc.context = &ctx;
        tp.text = "card 4111 1111 1111 1111 ok";
        rc.texts = &tpp;
        rc.n_texts = 1;
        ok(c != NULL && gw_plugin_conn_streams(c), "its manifest asks for streams");
        is_int(c ? gw_plugin_call_response(c, &rc, &r, err) : -1, 0, "a JSON answer (%s)", err);
        is_str(r && r->n_texts ? r->texts[0] : "", "card [CARD] ok", "a card number redacted");
        if (r)
            aistudio__v1__hook_result__free_unpacked(r, NULL);

        const char *pieces[] = {"mail me at jo", "hn@example.com now", ""};
        char joined[256] = "";
        gw_plugin_stream *s = c ? gw_plugin_stream_open(c, err) : NULL;
        ok(s != NULL, "a stream opens");
        for (int i = 0; s != NULL && i < 3; i++) {
            Aistudio__V1__ResponseChunk ch = AISTUDIO__V1__RESPONSE_CHUNK__INIT;
            Aistudio__V1__ChunkResult *cr = NULL;
            ch.context = i == 0 ? &ctx : NULL;
            ch.index = (uint32_t)i;
            ch.text = (char *)pieces[i];
            ch.end = i == 2;
            if (gw_plugin_stream_chunk(s, &ch, &cr, err) != 0) {
                ok(0, "chunk %d: %s", i, err);
                break;
            }
            strcat(joined, cr->replace_text ? cr->text : pieces[i]);
            aistudio__v1__chunk_result__free_unpacked(cr, NULL);
        }
        is_str(joined, "mail me at [EMAIL] now", "an address split over two chunks is redacted");
        gw_plugin_stream_close(s);
        gw_plugin_conn_release(c);
    }

    /* ---- signed-header auth ---- */
    ok(wait_serving(3, 0) > 0, "the auth plugin serves (file:// command)");
    {
        unsigned char mac[32];
        unsigned int ml = 0;
        char hdr[128], hex[65];
        HMAC(EVP_sha256(), "0123456789abcdef-secret", 23, (const unsigned char *)"42", 2, mac, &ml);
        for (unsigned i = 0; i < ml; i++)
            snprintf(hex + 2 * i, 3, "%02x", mac[i]);
        snprintf(hdr, sizeof(hdr), "42.%s", hex);
        const char *good[] = {"x-signed-app", hdr};
        is_int(call(3, AISTUDIO__V1__HOOK__HOOK_AUTH, NULL, good, 1, &r, err), 0, "a signed request (%s)", err);
        ok(r != NULL && r->action != AISTUDIO__V1__ACTION__ACTION_BLOCK && r->app_id == 42, "is app 42");
        if (r)
            aistudio__v1__hook_result__free_unpacked(r, NULL);
        hdr[5] ^= 1;
        is_int(call(3, AISTUDIO__V1__HOOK__HOOK_AUTH, NULL, good, 1, &r, err), 0, "a bad signature");
        ok(r != NULL && r->action == AISTUDIO__V1__ACTION__ACTION_BLOCK && r->status == 401 &&
               strcmp(r->error_code, "invalid_signature") == 0,
           "is refused with 401 invalid_signature");
        if (r)
            aistudio__v1__hook_result__free_unpacked(r, NULL);
        is_int(call(3, AISTUDIO__V1__HOOK__HOOK_AUTH, NULL, NULL, 0, &r, err), 0, "no header");
        ok(r != NULL && r->action == AISTUDIO__V1__ACTION__ACTION_CONTINUE && r->app_id == 0,
           "goes on to the gateway's key check");
        if (r)
            aistudio__v1__hook_result__free_unpacked(r, NULL);
    }

    /* ---- the response logger ---- */
    ok(wait_serving(4, 0) > 0, "the response logger serves");
    {
        gw_plugin_conn *c = gw_plugin_host_acquire(host, 4, err);
        Aistudio__V1__ResponseHookCall rc = AISTUDIO__V1__RESPONSE_HOOK_CALL__INIT;
        Aistudio__V1__RequestContext ctx = AISTUDIO__V1__REQUEST_CONTEXT__INIT;
        ctx.request_id = "req-logged-1";
        ctx.llm_slug = "gpt";
        rc.context = &ctx;
        is_int(c ? gw_plugin_call_response(c, &rc, &r, err) : -1, 0, "a JSON answer");
        ok(r != NULL && r->action == AISTUDIO__V1__ACTION__ACTION_CONTINUE, "goes on unchanged");
        if (r)
            aistudio__v1__hook_result__free_unpacked(r, NULL);
        ctx.request_id = "req-logged-2";
        gw_plugin_stream *s = c ? gw_plugin_stream_open(c, err) : NULL;
        for (int i = 0; s != NULL && i < 3; i++) {
            Aistudio__V1__ResponseChunk ch = AISTUDIO__V1__RESPONSE_CHUNK__INIT;
            Aistudio__V1__ChunkResult *cr = NULL;
            ch.context = i == 0 ? &ctx : NULL;
            ch.index = (uint32_t)i;
            ch.text = i < 2 ? "abc" : "";
            ch.end = i == 2;
            if (gw_plugin_stream_chunk(s, &ch, &cr, err) == 0)
                aistudio__v1__chunk_result__free_unpacked(cr, NULL);
        }
        gw_plugin_stream_close(s);
        gw_plugin_conn_release(c);
        snprintf(line, sizeof(line), "%s/responses.log", logdir);
        FILE *f = fopen(line, "r");
        char all[4096] = "";
        size_t n = f ? fread(all, 1, sizeof(all) - 1, f) : 0;
        all[n] = '\0';
        if (f)
            fclose(f);
        has_str(all, "\"request_id\":\"req-logged-1\",\"llm\":\"gpt\"", "one line for the JSON answer");
        has_str(all, "\"request_id\":\"req-logged-2\",\"llm\":\"gpt\",\"model\":\"\",\"app_id\":0,\"streamed\":true,"
                     "\"chunks\":2,\"chars\":6}",
                "one line for the streamed answer");
    }

    /* ---- the Node example: the same protocol from @grpc/grpc-js ---- */
    if (have_node) {
        const char *red[] = {"x-team", "red"}, *green[] = {"x-team", "green"};
        ok(wait_serving(15, 0) > 0, "the Node plugin serves (%s)", wait_error(15, ""));
        is_int(call(15, AISTUDIO__V1__HOOK__HOOK_PRE_AUTH, "x", NULL, 0, &r, err), 0, "a call (%s)", err);
        ok(r != NULL && r->action == AISTUDIO__V1__ACTION__ACTION_BLOCK && r->status == 400 &&
               strcmp(r->error_code, "team_required") == 0,
           "no team header: 400 team_required");
        if (r)
            aistudio__v1__hook_result__free_unpacked(r, NULL);
        is_int(call(15, AISTUDIO__V1__HOOK__HOOK_PRE_AUTH, "x", green, 1, &r, err), 0, "another call");
        ok(r != NULL && r->action == AISTUDIO__V1__ACTION__ACTION_BLOCK && r->status == 403, "a team not listed: 403");
        if (r)
            aistudio__v1__hook_result__free_unpacked(r, NULL);
        is_int(call(15, AISTUDIO__V1__HOOK__HOOK_PRE_AUTH, "x", red, 1, &r, err), 0, "a third call");
        ok(r != NULL && r->action == AISTUDIO__V1__ACTION__ACTION_MODIFY && r->n_set_headers == 1 &&
               strcmp(r->set_headers[0]->name, "x-team") == 0 && strcmp(r->set_headers[0]->value, "red") == 0,
           "a listed team: the header set upstream");
        if (r)
            aistudio__v1__hook_result__free_unpacked(r, NULL);
    } else {
        for (int i = 0; i < 7; i++)
            ok(1, "# SKIP node or the Node example's node_modules are missing");
    }

    /* ---- a plugin that sleeps: the deadline ---- */
    ok(wait_serving(5, 0) > 0, "the sleepy plugin serves");
    int64_t t0 = gw_now_ms();
    is_int(call(5, AISTUDIO__V1__HOOK__HOOK_POST_AUTH, "x", NULL, 0, &r, err), -1, "a hook call past its deadline fails");
    has_str(err, "no answer within 100 ms", "... saying so");
    ok(gw_now_ms() - t0 < 3000, "the caller is not held past the deadline");
    {
        gw_plugin_conn *c = gw_plugin_host_acquire(host, 5, err);
        ok(c != NULL && c->n_pooled == 0, "the stream that missed its deadline is not given back (%d open)",
           c ? c->n_pooled : -1);
        gw_plugin_conn_release(c);
    }
    usleep(1000000);
    gw_plugin_info info;
    gw_plugin_host_info(host, 5, &info);
    ok(info.serving && info.starts == 1, "a slow plugin is not restarted (it answers its health checks)");

    /* ---- a plugin that exits in a hook: restarted ---- */
    int crashy = wait_serving(6, 0);
    ok(crashy > 0, "the crashing plugin serves");
    is_int(call(6, AISTUDIO__V1__HOOK__HOOK_POST_AUTH, "x", NULL, 0, &r, err), -1, "the call it died in fails");
    ok(wait_serving(6, crashy) > 0, "it is started again");
    has_str(logged(), "plugin crashy (id 6) is unavailable: the process exited with status 3", "its exit is logged");

    /* ---- a plugin killed: restarted, the others unaffected ---- */
    kill(pid, SIGKILL);
    int again = wait_serving(1, pid);
    ok(again > 0 && again != pid, "the killed firewall is back with a new process");
    has_str(logged(), "plugin fw (id 1) is unavailable: the process was killed by signal 9 (SIGKILL)",
            "the kill is logged");
    gw_plugin_host_info(host, 1, &info);
    is_int(info.starts, 2, "it was started twice");
    ok(wait_serving(2, 0) > 0 && wait_serving(3, 0) > 0, "the other plugins kept serving");

    /* ---- start failures: clear errors ---- */
    has_str(wait_error(7, "handshake"), "not a plugin handshake: \"hello, I am not a plugin\"",
            "garbage on stdout: the error quotes it");
    has_str(logged(), "plugin garbage-handshake (id 7) is unavailable: not a plugin handshake", "... in the log");
    is_int(call(7, AISTUDIO__V1__HOOK__HOOK_POST_AUTH, "x", NULL, 0, &r, err), -1, "a call to it fails at once");
    has_str(err, "plugin garbage-handshake is not running: not a plugin handshake", "... saying why");
    has_str(wait_error(8, "version"), "protocol version 2 is not supported (this gateway speaks 1)",
            "a handshake of another version");
    has_str(wait_error(9, "execute"), "cannot execute /nonexistent/plugin: No such file or directory",
            "a missing executable");
    has_str(wait_error(10, "does not list"),
            "it is configured for the on_response hook, which its manifest does not list (it lists: pre_auth, "
            "post_auth)",
            "a hook the plugin does not implement");
    has_str(wait_error(11, "configuration"), "it refused its configuration (Configure answered INVALID_ARGUMENT: give "
                                             "at least one of phrases or patterns)",
            "a configuration the plugin refuses");
    has_str(wait_error(13, "local"), "is not a local executable", "a relative command");
    has_str(wait_error(14, "bad configuration"), "bad configuration: timeout_ms must be an integer from 1 to 60000",
            "a bad timeout_ms");
    const char *log_now = logged();
    const char *first = strstr(log_now, "plugin garbage-handshake (id 7) is unavailable");
    ok(first != NULL && strstr(first + 1, "plugin garbage-handshake (id 7) is unavailable") == NULL,
       "the same error again is not logged again at error level");

    /* ---- garbage answers ---- */
    ok(wait_serving(12, 0) > 0, "a plugin answering garbage starts (its manifest is fine)");
    is_int(call(12, AISTUDIO__V1__HOOK__HOOK_POST_AUTH, "x", NULL, 0, &r, err), -1, "its hook answer is refused");
    has_str(err, "answered a message that does not decode", "... saying so");

    /* ---- a configuration change under load: no call fails ---- */
    hammer hm;
    memset(&hm, 0, sizeof(hm));
    pthread_create(&hm.th, NULL, hammer_main, &hm);
    usleep(200000);
    int old_fw = wait_serving(1, 0);
    specs[0] = spec(1, "fw", "post_auth", cmd[0], "{\"phrases\": [\"forbidden word\"], \"timeout_ms\": 5000}");
    gw_plugin_host_sync(host, specs, ns);
    int new_fw = wait_serving(1, old_fw);
    usleep(300000);
    atomic_store(&hm.stop, 1);
    pthread_join(hm.th, NULL);
    ok(new_fw > 0 && new_fw != old_fw, "a changed configuration starts a new process");
    ok(atomic_load(&hm.calls) > 10, "calls went on during the change (%d)", atomic_load(&hm.calls));
    is_int(atomic_load(&hm.failures), 0, "none failed (%s)", hm.last_err);
    usleep(200000);
    ok(kill(old_fw, 0) != 0, "the old process is stopped");
    is_int(call(1, AISTUDIO__V1__HOOK__HOOK_POST_AUTH, "a forbidden word", NULL, 0, &r, err), 0, "the new one answers");
    ok(r != NULL && r->action == AISTUDIO__V1__ACTION__ACTION_BLOCK, "with its new configuration");
    if (r)
        aistudio__v1__hook_result__free_unpacked(r, NULL);

    /* ---- a plugin removed ---- */
    gw_plugin_host_sync(host, specs + 1, ns - 1);
    ok(kill(new_fw, 0) != 0, "a plugin no longer configured is stopped");
    is_int(call(1, AISTUDIO__V1__HOOK__HOOK_POST_AUTH, "x", NULL, 0, &r, err), -1, "and not called");
    has_str(err, "plugin 1 is not running", "... saying why");

    /* ---- the bubblewrap sandbox ---- */
    char bwrap[256];
    if (gw_spawn_find_bwrap(bwrap, sizeof(bwrap)) == 0) {
        gw_plugin_host_sync(host, NULL, 0);
        gw_plugin_host_destroy(host);
        o.sandbox = GW_SANDBOX_BWRAP;
        o.bwrap = bwrap;
        host = gw_plugin_host_create(&o, err);
        ok(host != NULL, "a host with the sandbox");
        specs[0] = spec(1, "fw", "post_auth", cmd[0], "{\"phrases\": [\"forbidden word\"]}");
        if (have_node)
            specs[1] = spec(15, "node", "pre_auth", cmd[8], "{\"timeout_ms\": 2000}");
        gw_plugin_host_sync(host, specs, have_node ? 2 : 1);
        ok(wait_serving(1, 0) > 0, "a plugin serves from the sandbox (%s)", wait_error(1, ""));
        ok(!have_node || wait_serving(15, 0) > 0, "the Node plugin too (%s)", have_node ? wait_error(15, "") : "");
        is_int(call(1, AISTUDIO__V1__HOOK__HOOK_POST_AUTH, "a forbidden word", NULL, 0, &r, err), 0,
               "calls reach it (%s)", err);
        ok(r != NULL && r->action == AISTUDIO__V1__ACTION__ACTION_BLOCK, "and it answers");
        if (r)
            aistudio__v1__hook_result__free_unpacked(r, NULL);
        snprintf(run_dir_copy, sizeof(run_dir_copy), "%s", gw_plugin_host_dir(host));
    } else {
        for (int i = 0; i < 5; i++)
            ok(1, "# SKIP bwrap is not installed");
    }

    gw_plugin_host_destroy(host);
    ok(stat(run_dir_copy, &st) != 0, "destroy removes the run directory");
    snprintf(line, sizeof(line), "%s/responses.log", logdir);
    unlink(line);
    rmdir(logdir);
    unlink(logpath);
    return tap_done();
}
