/*
 * regress/unit/test_filter.c: the built-in filters (src/pipeline/filter.c,
 * filter_hook.c) and the per-LLM hook lists and their runs (hooks.c):
 *   - compiling configs (each type, the errors a bad config gets);
 *   - regex block / allow (a match limit blocks: fail closed), keywords
 *     (case folding beyond ASCII, whole words), pii redact / block,
 *     max_prompt in characters and in the budget's token estimate;
 *   - a snapshot's lists: only attached, active objects, at their stage,
 *     merged by position (ties: filters first), one instance per object;
 *     a kind with no runtime blocks (503 plugin_unavailable); a runs' MODIFY
 *     feeds the next hook; the first BLOCK ends the run;
 *   - on_response: pii over stream units of every framing (OpenAI SSE and
 *     the /ai translation, Anthropic SSE with the held text flushed before
 *     content_block_stop in a unit made from the last delta, Gemini SSE and
 *     JSON array, Ollama NDJSON), what is held released at the end, and a
 *     regex stopping a stream whose match spans two frames.
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/json.c"
#include "base/log.c"
#include "base/secretbox.c"
#include "base/vjson.c"
#include "model/snapshot.c"
#include "pipeline/pipeline.c"
#include "pipeline/text.c"
#include "pipeline/pii.c"
#include "pipeline/filter.c"
#include "pipeline/filter_hook.c"
#include "pipeline/hooks.c"

#include "tap.h"

static char err[GW_ERR_LEN];

/* ---- the filters alone ---- */

static gw_filter *compile(const char *type, const char *cfg)
{
    gw_filter *f = NULL;
    if (gw_filter_compile(type, cfg, &f, err) != 0)
        return NULL;
    return f;
}

/* The filter on one user message: "pass", "block <status> <code>" or "modify <text>". */
static const char *verdict(const gw_filter *f, const char *text)
{
    static char out[1024];
    gw_text t;
    gw_filter_outcome o;
    gw_buf b;
    gw_jw w;

    gw_buf_init(&b, 0);
    gw_jw_init(&w, &b);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "messages");
    gw_jw_array_begin(&w);
    gw_jw_object_begin(&w);
    gw_jw_key(&w, "role");
    gw_jw_string(&w, "user");
    gw_jw_key(&w, "content");
    gw_jw_string(&w, text);
    gw_jw_object_end(&w);
    gw_jw_array_end(&w);
    gw_jw_object_end(&w);
    gw_jw_finish(&w);
    gw_text_init(&t);
    gw_filter_outcome_init(&o);
    gw_text_prompt(&t, GW_DIALECT_OPENAI_CHAT, b.data, b.len, err);
    gw_filter_check(f, &t, 0, &o);
    if (o.action == GW_HOOK_BLOCK)
        snprintf(out, sizeof(out), "block %d %s", o.status, o.code);
    else if (o.action == GW_HOOK_MODIFY)
        snprintf(out, sizeof(out), "modify %.*s", (int)t.parts[0].repl_len, t.repl.data + t.parts[0].repl_off);
    else
        snprintf(out, sizeof(out), "pass");
    gw_filter_outcome_free(&o);
    gw_text_free(&t);
    gw_buf_free(&b);
    return out;
}

static void test_filters(void)
{
    gw_filter *f;

    /* compile errors */
    ok(compile("script", "{}") == NULL && strstr(err, "unknown filter type") != NULL, "an unknown type (%s)", err);
    ok(compile("regex", "{}") == NULL && strstr(err, "config.patterns") != NULL, "regex without patterns (%s)", err);
    ok(compile("regex", "{\"patterns\":[\"(x\"]}") == NULL && strstr(err, "patterns[1]") != NULL,
       "a pattern that does not compile, named (%s)", err);
    ok(compile("regex", "{\"patterns\":[\"a\"],\"action\":\"redact\"}") == NULL,
       "a regex action that is not block/allow");
    ok(compile("keywords", "{\"keywords\":[\"\"]}") == NULL, "an empty keyword");
    ok(compile("pii", "{\"kinds\":[\"ssn\"]}") == NULL && strstr(err, "kinds") != NULL, "an unknown pii kind (%s)",
       err);
    ok(compile("pii", "{\"placeholders\":{\"card\":5}}") == NULL, "a placeholder that is not text");
    ok(compile("max_prompt", "{}") == NULL && strstr(err, "max_chars or") != NULL, "max_prompt without a limit");
    ok(compile("max_prompt", "{\"max_chars\":0}") == NULL, "a limit of 0");
    ok(compile("regex", "[1]") == NULL && strstr(err, "JSON object") != NULL, "a config that is not an object");

    /* regex */
    f = compile("regex", "{\"patterns\":[\"(?i)top\\\\s*secret\",\"\\\\d{3}-\\\\d{2}-\\\\d{4}\"]}");
    is_str(verdict(f, "this is Top  Secret"), "block 400 blocked_by_filter", "regex: the first pattern");
    is_str(verdict(f, "ssn 123-45-6789"), "block 400 blocked_by_filter", "regex: the second");
    is_str(verdict(f, "nothing"), "pass", "regex: no match passes");
    gw_filter_free(f);
    f = compile("regex", "{\"patterns\":[\"^(?i)translate\"],\"action\":\"allow\"}");
    is_str(verdict(f, "Translate this"), "pass", "regex allow: a match passes");
    is_str(verdict(f, "write a poem"), "block 400 blocked_by_filter", "regex allow: no match blocks");
    gw_filter_free(f);
    f = compile("regex", "{\"patterns\":[\"(a+)+$\"]}");
    is_str(verdict(f, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"), "block 400 blocked_by_filter",
           "regex: a pattern hitting the match limit blocks (fail closed)");
    gw_filter_free(f);

    /* keywords */
    f = compile("keywords", "{\"keywords\":[\"Überweisung\",\"ΚΛΕΙΔΙ\",\"пароль\"]}");
    is_str(verdict(f, "eine ÜBERWEISUNG bitte"), "block 400 blocked_by_filter", "keywords: Latin-1 upper case");
    is_str(verdict(f, "το κλειδι"), "block 400 blocked_by_filter", "keywords: Greek");
    is_str(verdict(f, "ПАРОЛЬ!"), "block 400 blocked_by_filter", "keywords: Cyrillic");
    is_str(verdict(f, "Überweisungsauftrag"), "block 400 blocked_by_filter", "keywords: inside a word by default");
    is_str(verdict(f, "nothing"), "pass", "keywords: none");
    gw_filter_free(f);
    f = compile("keywords", "{\"keywords\":[\"pass\"],\"whole_word\":true}");
    is_str(verdict(f, "the pass, please"), "block 400 blocked_by_filter", "whole word: punctuation after it");
    is_str(verdict(f, "a passport"), "pass", "whole word: not inside a longer word");
    is_str(verdict(f, "«pass»"), "block 400 blocked_by_filter", "whole word: quotes around it");
    is_str(verdict(f, "épass"), "pass", "whole word: a letter beyond ASCII before it");
    gw_filter_free(f);

    /* pii */
    f = compile("pii", "{\"kinds\":[\"card\",\"email\"],\"placeholders\":{\"email\":\"<mail>\"}}");
    is_str(verdict(f, "x@y.io 4111111111111111 +1 555 123 4567"), "modify <mail> [CARD] +1 555 123 4567",
           "pii: chosen kinds and a placeholder");
    is_str(verdict(f, "nothing"), "pass", "pii: nothing found passes");
    gw_filter_free(f);
    f = compile("pii", "{\"action\":\"block\",\"message\":\"no personal data\"}");
    is_str(verdict(f, "iban GB82WEST12345698765432"), "block 400 blocked_by_filter", "pii block");
    is_str(gw_filter_message(f), "no personal data", "its message");
    gw_filter_free(f);

    /* max_prompt */
    f = compile("max_prompt", "{\"max_chars\":5}");
    is_str(verdict(f, "ééééé"), "pass", "max_chars counts characters, not bytes");
    is_str(verdict(f, "éééééé"), "block 413 prompt_too_large", "max_chars: one more is too many");
    gw_filter_free(f);
    f = compile("max_prompt", "{\"max_tokens\":20}");
    is_str(verdict(f, "abcd"), "pass", "max_tokens: 4 bytes are at most 20 tokens (the budget's estimate)");
    is_str(verdict(f, "abcde"), "block 413 prompt_too_large", "max_tokens: 5 bytes may be 21");
    gw_filter_free(f);
}

/* ---- a snapshot with hooks ---- */

/* A test plugin kind: appends its name to the first text part; the config
 * {"block":true} blocks. */
static int plug_open(const gw_hook_def *def, void **inst, char e[GW_ERR_LEN])
{
    (void)e;
    *inst = (void *)def->name;
    return 0;
}

static int plug_request(void *inst, const gw_hook_def *def, gw_hook_req *rq, gw_hook_verdict *v)
{
    gw_text *t = gw_hook_req_text(rq, err);
    char buf[256];
    if (strstr(def->config_json, "block") != NULL) {
        v->action = GW_HOOK_BLOCK;
        v->status = 403;
        snprintf(v->code, sizeof(v->code), "plugin_says_no");
        return 0;
    }
    if (t == NULL || t->n == 0)
        return 0;
    snprintf(buf, sizeof(buf), "%s+%s", gw_text_str(t, &t->parts[0]), (const char *)inst);
    gw_text_replace(t, 0, buf, strlen(buf));
    gw_text_write(t, &v->body);
    v->body_set = 1;
    v->action = GW_HOOK_MODIFY;
    return 0;
}

static int plug_response(void *inst, const gw_hook_def *def, void *state, const gw_hook_req *rq, const char *data,
                         size_t len, gw_hook_emit_fn emit, void *ectx, gw_hook_verdict *v)
{
    (void)inst, (void)def, (void)state, (void)rq, (void)v;
    return data != NULL ? emit(ectx, data, len) : 0;
}

static const gw_hook_ops plug_ops = {
    .name = "plugin", .open = plug_open, .request = plug_request, .response = plug_response};

typedef struct snapfix {
    Aistudio__V1__Snapshot snap;
    Aistudio__V1__Llm llm[4];
    Aistudio__V1__Llm *llmp[4];
    Aistudio__V1__Filter filt[6];
    Aistudio__V1__Filter *filtp[6];
    Aistudio__V1__Plugin plug[2];
    Aistudio__V1__Plugin *plugp[2];
    int64_t l1_filters[3], l1_plugins[2], l3_filters[1], l4_filters[1];
    int32_t l1_fpos[3], l1_ppos[2];
} snapfix;

static void filt(snapfix *x, int i, int64_t id, const char *name, const char *type, const char *stage, const char *cfg,
                 int active)
{
    aistudio__v1__filter__init(&x->filt[i]);
    x->filt[i].id = id;
    x->filt[i].name = (char *)name;
    x->filt[i].filter_type = (char *)type;
    x->filt[i].stage = (char *)stage;
    x->filt[i].config_json = (char *)cfg;
    x->filt[i].active = active;
    x->filtp[i] = &x->filt[i];
}

static gw_snapshot *build(void)
{
    static snapfix x;
    gw_snapshot *s = NULL;
    uint8_t *bytes;
    size_t len;
    int kerr;

    memset(&x, 0, sizeof(x));
    aistudio__v1__snapshot__init(&x.snap);
    for (int i = 0; i < 4; i++) {
        static const char *const slugs[] = {"one", "two", "three", "four"};
        aistudio__v1__llm__init(&x.llm[i]);
        x.llm[i].id = i + 1;
        x.llm[i].name = x.llm[i].slug = (char *)slugs[i];
        x.llm[i].vendor = (char *)"openai";
        x.llm[i].active = 1;
        x.llmp[i] = &x.llm[i];
    }
    filt(&x, 0, 10, "pii", "pii", "post_auth", "{}", 1);
    filt(&x, 1, 11, "no-secret", "regex", "post_auth", "{\"patterns\":[\"(?i)secret\"]}", 1);
    filt(&x, 2, 12, "off", "regex", "post_auth", "{\"patterns\":[\".\"]}", 0);
    filt(&x, 3, 13, "broken", "regex", "pre_auth", "{\"patterns\":[\"(x\"]}", 1);
    filt(&x, 4, 14, "pii-out", "pii", "on_response", "{}", 1);
    filt(&x, 5, 15, "words-out", "keywords", "on_response", "{\"keywords\":[\"forbidden answer\"]}", 1);
    aistudio__v1__plugin__init(&x.plug[0]);
    x.plug[0].id = 20;
    x.plug[0].name = (char *)"tagger";
    x.plug[0].hook = (char *)"post_auth";
    x.plug[0].config_json = (char *)"{}";
    x.plug[0].active = 1;
    x.plugp[0] = &x.plug[0];
    aistudio__v1__plugin__init(&x.plug[1]);
    x.plug[1].id = 21;
    x.plug[1].name = (char *)"gate";
    x.plug[1].hook = (char *)"post_auth";
    x.plug[1].config_json = (char *)"{\"block\":true}";
    x.plug[1].active = 1;
    x.plugp[1] = &x.plug[1];
    /* llm one: filters pii (position 2), no-secret (0), off (5); plugin tagger (1) */
    x.l1_filters[0] = 11, x.l1_fpos[0] = 0;
    x.l1_filters[1] = 10, x.l1_fpos[1] = 2;
    x.l1_filters[2] = 12, x.l1_fpos[2] = 5;
    x.l1_plugins[0] = 20, x.l1_ppos[0] = 1;
    x.llm[0].filter_ids = x.l1_filters, x.llm[0].n_filter_ids = 3;
    x.llm[0].filter_positions = x.l1_fpos, x.llm[0].n_filter_positions = 3;
    x.llm[0].plugin_ids = x.l1_plugins, x.llm[0].n_plugin_ids = 1;
    x.llm[0].plugin_positions = x.l1_ppos, x.llm[0].n_plugin_positions = 1;
    /* llm three: a filter that cannot compile; llm four: the answer filters and the blocking plugin */
    x.l3_filters[0] = 13;
    x.llm[2].filter_ids = x.l3_filters, x.llm[2].n_filter_ids = 1;
    x.l4_filters[0] = 14;
    x.llm[3].filter_ids = x.l4_filters, x.llm[3].n_filter_ids = 1;
    x.l1_plugins[1] = 21;
    x.llm[3].plugin_ids = &x.l1_plugins[1], x.llm[3].n_plugin_ids = 1;
    x.snap.llms = x.llmp, x.snap.n_llms = 4;
    x.snap.filters = x.filtp, x.snap.n_filters = 6;
    x.snap.plugins = x.plugp, x.snap.n_plugins = 2;
    len = aistudio__v1__snapshot__get_packed_size(&x.snap);
    bytes = malloc(len);
    aistudio__v1__snapshot__pack(&x.snap, bytes);
    if (gw_snapshot_build(bytes, len, "c", NULL, 0, &s, &kerr, err) != 0)
        s = NULL;
    free(bytes);
    return s;
}

static const char *names(const gw_hook_list *hl, gw_stage st)
{
    static char out[256];
    out[0] = '\0';
    for (size_t i = 0; i < gw_hooks_count(hl, st); i++) {
        strncat(out, hl->hooks[st][i]->def.name, sizeof(out) - strlen(out) - 2);
        strcat(out, " ");
    }
    return out;
}

static int run_stage(const gw_hook_list *hl, gw_stage st, const char *body, gw_hook_result *res, gw_hook_req *rq)
{
    gw_hook_req_init(rq);
    rq->stage = st;
    rq->dialect = GW_DIALECT_OPENAI_CHAT;
    rq->body = body;
    rq->body_len = strlen(body);
    gw_hook_result_init(res);
    return gw_hooks_run(hl, rq, res);
}

/* ---- on_response ---- */

static char got[8192];
static int collect(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    strncat(got, data, len < sizeof(got) - strlen(got) - 1 ? len : sizeof(got) - strlen(got) - 1);
    return 0;
}

/* Units through the on_response hooks of hl, then the end; the client's bytes in got. */
static int answer(const gw_hook_list *hl, gw_dialect d, gw_proc_mode m, const char *const *units, size_t n,
                  gw_hook_result *res)
{
    gw_hook_req rq;
    gw_hook_stream *hs = NULL;
    int rc = 0;

    got[0] = '\0';
    gw_hook_req_init(&rq);
    rq.stage = GW_STAGE_ON_RESPONSE;
    rq.answer_dialect = d;
    rq.answer_mode = m;
    gw_hook_result_init(res);
    if (gw_hooks_response_begin(hl, &rq, &hs, err) != 0)
        return -2;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = gw_hooks_response_unit(hs, units[i], strlen(units[i]), collect, NULL, res);
    if (rc == 0)
        rc = gw_hooks_response_end(hs, collect, NULL, res);
    gw_hooks_response_free(hs);
    gw_hook_req_free(&rq);
    return rc;
}

#define OAI(c)                                                                                                         \
    "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" c "\"},\"finish_reason\":null}]}\n\n"
#define ANT(c)                                                                                                         \
    "event: content_block_delta\ndata: "                                                                               \
    "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" c "\"}}\n\n"

static void test_snapshot_hooks(void)
{
    gw_snapshot *s;
    const gw_hook_list *hl;
    gw_hook_result res;
    gw_hook_req rq;

    /* before the plugin kind is registered: its hooks cannot run */
    s = build();
    ok(s != NULL, "a snapshot with filters and plugins (%s)", s ? "ok" : err);
    hl = gw_hooks_of(s, gw_snapshot_llm_by_slug(s, "one"));
    ok(hl != NULL, "the hooks of llm one");
    is_str(names(hl, GW_STAGE_POST_AUTH), "no-secret tagger pii ", "merged by position; the inactive one is left out");
    ok(gw_hooks_of(s, gw_snapshot_llm_by_slug(s, "one")) == hl, "built once per snapshot");
    is_int(run_stage(hl, GW_STAGE_POST_AUTH, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &res, &rq), -1,
           "a plugin without a runtime blocks");
    ok(res.v.status == 503 && strcmp(res.v.code, "plugin_unavailable") == 0 && strcmp(res.by->name, "tagger") == 0,
       "503 plugin_unavailable, by tagger (%d %s)", res.v.status, res.v.code);
    gw_hook_result_free(&res);
    gw_hook_req_free(&rq);
    hl = gw_hooks_of(s, gw_snapshot_llm_by_slug(s, "three"));
    is_int(run_stage(hl, GW_STAGE_PRE_AUTH, "{}", &res, &rq), -1, "a filter that cannot compile blocks");
    ok(res.v.status == 503 && strcmp(res.v.code, "filter_unavailable") == 0 && strstr(res.v.message, "broken") != NULL,
       "503 filter_unavailable naming it (%s)", res.v.message);
    gw_hook_result_free(&res);
    gw_hook_req_free(&rq);
    is_int(gw_hooks_count(gw_hooks_of(s, gw_snapshot_llm_by_slug(s, "two")), GW_STAGE_POST_AUTH), 0,
           "an LLM without hooks: an empty list");
    gw_snapshot_release(s);

    ok(gw_hooks_register(GW_HOOK_PLUGIN, &plug_ops, err) == 0, "a plugin kind registered");
    ok(gw_hooks_register(GW_HOOK_PLUGIN, &plug_ops, err) == -1, "only once (%s)", err);
    s = build();
    ok(gw_hooks_prepare(s, err) == 0, "hooks prepared ahead");
    hl = gw_hooks_of(s, gw_snapshot_llm_by_slug(s, "one"));
    is_int(run_stage(hl, GW_STAGE_POST_AUTH, "{\"messages\":[{\"role\":\"user\",\"content\":\"mail a@b.io\"}],\"n\":1}",
                     &res, &rq),
           0, "the stage runs through");
    is_int(res.action, GW_HOOK_MODIFY, "modified");
    is_str(gw_buf_cstr(&res.v.body), "{\"messages\":[{\"role\":\"user\",\"content\":\"mail [EMAIL]+tagger\"}],\"n\":1}",
           "the plugin's change seen by pii after it: written back in place");
    ok(rq.body == res.v.body.data, "the request's body is the new one");
    gw_hook_result_free(&res);
    gw_hook_req_free(&rq);
    is_int(
        run_stage(hl, GW_STAGE_POST_AUTH, "{\"messages\":[{\"role\":\"user\",\"content\":\"a SECRET\"}]}", &res, &rq),
        -1, "the regex blocks first");
    ok(res.v.status == 400 && strcmp(res.by->name, "no-secret") == 0 && strstr(res.v.message, "'no-secret'") != NULL,
       "400 by no-secret, the default message names it (%s)", res.v.message);
    gw_hook_result_free(&res);
    gw_hook_req_free(&rq);

    /* llm four: the blocking plugin, and pii on the answer */
    hl = gw_hooks_of(s, gw_snapshot_llm_by_slug(s, "four"));
    is_int(run_stage(hl, GW_STAGE_POST_AUTH, "{}", &res, &rq), -1, "a plugin's block");
    ok(res.v.status == 403 && strcmp(res.v.code, "plugin_says_no") == 0, "its status and code (%d %s)", res.v.status,
       res.v.code);
    gw_hook_result_free(&res);
    gw_hook_req_free(&rq);
    {
        const char *u[] = {
            OAI("Card 4111 11"), OAI("11 1111 1111 and a@b"), OAI(".io"),
            "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
            "data: [DONE]\n\n"};
        is_int(answer(hl, GW_DIALECT_OPENAI_CHAT, GW_PROC_AI_SSE, u, 5, &res), 0, "an OpenAI stream");
        is_str(got,
               OAI("Card") OAI(" [CARD] and ") OAI("")
                   OAI("[EMAIL]") "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},"
                                  "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
               "the card split over two frames replaced whole; the held address flushed before the finish chunk");
        gw_hook_result_free(&res);
    }
    {
        const char *u[] = {ANT("mail jane@exa"), ANT("mple.com"),
                           "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"};
        is_int(answer(hl, GW_DIALECT_ANTHROPIC, GW_PROC_SSE, u, 3, &res), 0, "an Anthropic stream");
        is_str(got,
               ANT("mail ") ANT("")
                   ANT("[EMAIL]") "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
               "the address flushed in a delta made from the last one, before content_block_stop");
        gw_hook_result_free(&res);
    }
    {
        const char *u[] = {"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"IBAN GB82 WEST 1234 "
                           "\"}]},\"index\":0}]}\r\n\r\n",
                           "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"5698 7654 32 "
                           "ok\"}]},\"finishReason\":\"STOP\",\"index\":0}]}\r\n\r\n"};
        is_int(answer(hl, GW_DIALECT_GOOGLE, GW_PROC_SSE, u, 2, &res), 0, "a Gemini stream");
        ok(strstr(got, "[IBAN] ok") != NULL && strstr(got, "GB82") == NULL, "the IBAN replaced across the frames (%s)",
           got);
        gw_hook_result_free(&res);
    }
    {
        const char *u[] = {"[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"call +1 555\"}]},\"index\":0}]}",
                           ",\r\n{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" 123 4567\"}]},\"index\":0}]}",
                           "]"};
        is_int(answer(hl, GW_DIALECT_GOOGLE, GW_PROC_JSON_ARRAY, u, 3, &res), 0, "a Gemini JSON array");
        ok(strstr(got, "[PHONE]") != NULL && strstr(got, "555") == NULL && got[strlen(got) - 1] == ']',
           "the number flushed at the end, before the closing bracket (%s)", got);
        ok(gw_json_validate(got, strlen(got), 64, err) == 0, "still one JSON array");
        gw_hook_result_free(&res);
    }
    {
        const char *u[] = {"{\"message\":{\"role\":\"assistant\",\"content\":\"x@y\"},\"done\":false}\n",
                           "{\"message\":{\"role\":\"assistant\",\"content\":\".org\"},\"done\":false}\n",
                           "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true}\n"};
        is_int(answer(hl, GW_DIALECT_OLLAMA_CHAT, GW_PROC_NDJSON, u, 3, &res), 0, "an Ollama stream");
        is_str(got,
               "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":false}\n"
               "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":false}\n"
               "{\"message\":{\"role\":\"assistant\",\"content\":\"[EMAIL]\"},\"done\":true}\n",
               "flushed into the last line's own text");
        gw_hook_result_free(&res);
    }
    {
        const char *u[] = {OAI("ends with 4111 1111 1111 11"), OAI("11")};
        is_int(answer(hl, GW_DIALECT_OPENAI_CHAT, GW_PROC_SSE, u, 2, &res), 0, "a stream cut without its end");
        is_str(got, OAI("ends with") OAI("") OAI(" [CARD]"), "the end of the answer releases what is held");
        gw_hook_result_free(&res);
    }
    gw_snapshot_release(s);
}

/* A regex on the answer: a match across two frames stops the stream. */
static void test_response_block(void)
{
    gw_filter *f = compile("keywords", "{\"keywords\":[\"forbidden answer\"]}");
    gw_hook h;
    const gw_hook *hp = &h;
    gw_hook_list hl;
    gw_hook_result res;
    const char *u[] = {OAI("fine, then a forbid"), OAI("den answer"), OAI("more")};

    memset(&h, 0, sizeof(h));
    memset(&hl, 0, sizeof(hl));
    h.def.kind = GW_HOOK_FILTER;
    h.def.name = "words-out";
    h.def.stage = GW_STAGE_ON_RESPONSE;
    h.ops = &gw_filter_hook_ops;
    h.inst = f;
    hl.hooks[GW_STAGE_ON_RESPONSE] = &hp;
    hl.n[GW_STAGE_ON_RESPONSE] = 1;
    is_int(answer(&hl, GW_DIALECT_OPENAI_CHAT, GW_PROC_SSE, u, 3, &res), -1, "keywords on the answer stop it");
    is_str(got, OAI("fine, then a forbid"), "what came before the match went out; the rest did not");
    ok(res.action == GW_HOOK_BLOCK && res.v.status == 502 && strcmp(res.v.code, "blocked_by_filter") == 0,
       "502 blocked_by_filter (%d %s)", res.v.status, res.v.code);
    gw_hook_result_free(&res);
    gw_filter_free(f);
}

int main(void)
{
    gw_log_set_level(GW_LOG_ERROR);
    ok(gw_hooks_register(GW_HOOK_FILTER, &gw_filter_hook_ops, err) == 0, "the filter kind registered");
    test_filters();
    test_snapshot_hooks();
    test_response_block();
    return tap_done();
}
