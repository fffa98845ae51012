/*
 * regress/unit/test_pipeline.c: the request pipeline's registry
 * (src/pipeline/pipeline.c): steps run stage by stage in the order they
 * were added, a step that stops the request ends the walk, a stage range
 * runs only its stages, on_response steps see each piece and can stop it,
 * bad registrations and a full stage are refused with a message.
 */
#include "pipeline/pipeline.c"

#include "tap.h"

/* The test's request: a trace of the steps that ran. */
struct gw_preq {
    char trace[256];
    const char *stop_at; /* the step that stops the request */
    size_t seen;         /* bytes the on_response steps saw */
};

static int step(struct gw_preq *r, void *arg)
{
    const char *name = arg;
    strncat(r->trace, name, sizeof(r->trace) - strlen(r->trace) - 1);
    strncat(r->trace, " ", sizeof(r->trace) - strlen(r->trace) - 1);
    return r->stop_at != NULL && strcmp(r->stop_at, name) == 0 ? -1 : 0;
}

static int count_bytes(struct gw_preq *r, void *arg, const char *data, size_t len, gw_piece_fn next, void *nctx)
{
    (void)arg;
    if (data == NULL)
        return next(nctx, "<end>", 5);
    r->seen += len;
    return next(nctx, data, len);
}

static int refuse_secret(struct gw_preq *r, void *arg, const char *data, size_t len, gw_piece_fn next, void *nctx)
{
    (void)r, (void)arg;
    if (data == NULL)
        return 0;
    return memmem(data, len, "secret", 6) != NULL ? -1 : next(nctx, data, len);
}

/* Doubles each piece (a step that emits two units for one). */
static int twice(struct gw_preq *r, void *arg, const char *data, size_t len, gw_piece_fn next, void *nctx)
{
    (void)r, (void)arg;
    if (data == NULL)
        return 0;
    return next(nctx, data, len) != 0 ? -1 : next(nctx, data, len);
}

static char got[256];
static int collect(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    strncat(got, data, len < sizeof(got) - strlen(got) - 1 ? len : sizeof(got) - strlen(got) - 1);
    return 0;
}

int main(void)
{
    gw_pipeline p;
    struct gw_preq r;
    char err[GW_ERR_LEN];

    gw_pipeline_init(&p, "test");
    /* added out of stage order: the walk follows the stages, then the order of addition */
    ok(gw_pipeline_add(&p, GW_STAGE_UPSTREAM, "call", step, "call", err) == 0, "add an upstream step");
    ok(gw_pipeline_add(&p, GW_STAGE_PRE_AUTH, "route", step, "route", err) == 0, "add a pre_auth step");
    ok(gw_pipeline_add(&p, GW_STAGE_AUTH, "key", step, "key", err) == 0, "add an auth step");
    ok(gw_pipeline_add(&p, GW_STAGE_POST_AUTH, "llm", step, "llm", err) == 0, "add a post_auth step");
    ok(gw_pipeline_add(&p, GW_STAGE_PRE_AUTH, "method", step, "method", err) == 0, "add a second pre_auth step");
    ok(gw_pipeline_add(&p, GW_STAGE_POST_AUTH, "budget", step, "budget", err) == 0, "add a second post_auth step");

    memset(&r, 0, sizeof(r));
    is_int(gw_pipeline_run(&p, GW_STAGE_PRE_AUTH, GW_STAGE_UPSTREAM, &r), 0, "a full walk succeeds");
    is_str(r.trace, "route method key llm budget call ", "stages in order, steps in the order added");

    memset(&r, 0, sizeof(r));
    r.stop_at = "key";
    is_int(gw_pipeline_run(&p, GW_STAGE_PRE_AUTH, GW_STAGE_UPSTREAM, &r), -1, "a step that stops the request: -1");
    is_str(r.trace, "route method key ", "nothing runs after the step that stopped");

    memset(&r, 0, sizeof(r));
    is_int(gw_pipeline_run(&p, GW_STAGE_PRE_AUTH, GW_STAGE_AUTH, &r), 0, "a range of stages");
    is_str(r.trace, "route method key ", "only pre_auth and auth ran");
    memset(&r, 0, sizeof(r));
    is_int(gw_pipeline_run(&p, GW_STAGE_POST_AUTH, GW_STAGE_ON_RESPONSE, &r), 0, "the rest, up to on_response");
    is_str(r.trace, "llm budget call ", "post_auth and upstream ran (on_response is not a request stage)");

    /* on_response */
    ok(!gw_pipeline_has_response_steps(&p), "no on_response step yet");
    memset(&r, 0, sizeof(r));
    got[0] = '\0';
    is_int(gw_pipeline_on_response(&p, &r, "data: x\n\n", 9, collect, NULL), 0, "no on_response step: passes");
    is_str(got, "data: x\n\n", "and the piece goes out as it is");
    ok(gw_pipeline_add_response(&p, "count", count_bytes, NULL, err) == 0, "add an on_response step");
    ok(gw_pipeline_add_response(&p, "refuse", refuse_secret, NULL, err) == 0, "add a second one");
    ok(gw_pipeline_has_response_steps(&p), "the pipeline has on_response steps");
    got[0] = '\0';
    is_int(gw_pipeline_on_response(&p, &r, "data: x\n\n", 9, collect, NULL), 0, "a frame both let through");
    is_str(got, "data: x\n\n", "it reaches the client");
    is_int(gw_pipeline_on_response(&p, &r, "data: secret\n\n", 14, collect, NULL), -1, "a frame the second refuses");
    is_str(got, "data: x\n\n", "the refused frame does not");
    is_int((int)r.seen, 23, "the first saw both frames, in order before the second");
    got[0] = '\0';
    is_int(gw_pipeline_on_response_end(&p, &r, collect, NULL), 0, "the end of the answer");
    is_str(got, "<end>", "what the first step held at the end passes the second");
    ok(gw_pipeline_add_response(&p, "twice", twice, NULL, err) == 0, "a third step that emits two units for one");
    got[0] = '\0';
    is_int(gw_pipeline_on_response(&p, &r, "a", 1, collect, NULL), 0, "one piece");
    is_str(got, "aa", "comes out twice");

    /* refusals */
    ok(gw_pipeline_add(&p, GW_STAGE_ON_RESPONSE, "x", step, NULL, err) == -1 &&
           strstr(err, "gw_pipeline_add_response") != NULL,
       "a request step cannot go to on_response (%s)", err);
    ok(gw_pipeline_add(&p, GW_STAGE_AUTH, "x", NULL, NULL, err) == -1 && strstr(err, "needs a name") != NULL,
       "a step without a function is refused");
    ok(gw_pipeline_add(&p, (gw_stage)42, "x", step, NULL, err) == -1 && strstr(err, "no stage 42") != NULL,
       "an unknown stage is refused");
    {
        int added = 0;
        while (gw_pipeline_add(&p, GW_STAGE_AUTH, "more", step, "more", err) == 0)
            added++;
        is_int(added, GW_PIPELINE_MAX_STEPS - 1, "a stage takes GW_PIPELINE_MAX_STEPS steps");
        ok(strstr(err, "stage auth is full") != NULL, "then it says the stage is full (%s)", err);
    }
    is_str(gw_stage_name(GW_STAGE_POST_AUTH), "post_auth", "stage names");
    is_str(gw_stage_name((gw_stage)-1), "?", "an unknown stage's name");
    return tap_done();
}
