/*
 * src/pipeline/pipeline.c: registering steps in stages and walking them
 * (see pipeline.h). A pipeline is filled at start-up, before the listener
 * that uses it starts, and only read by the worker threads afterwards: no
 * lock.
 */
#include "pipeline/pipeline.h"

#include <string.h>

static const char *const gw_stage_names[GW_STAGE_COUNT] = {"pre_auth", "auth", "post_auth", "upstream", "on_response"};

const char *gw_stage_name(gw_stage s)
{
    return s >= 0 && s < GW_STAGE_COUNT ? gw_stage_names[s] : "?";
}

void gw_pipeline_init(gw_pipeline *p, const char *name)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
}

static int gw_pipeline_append(gw_pipeline *p, gw_stage stage, const gw_step *st, char err[GW_ERR_LEN])
{
    if (stage < 0 || stage >= GW_STAGE_COUNT)
        return gw_errf(err, "pipeline %s: no stage %d", p->name, (int)stage);
    if (p->nsteps[stage] >= GW_PIPELINE_MAX_STEPS)
        return gw_errf(err, "pipeline %s: stage %s is full (%d steps)", p->name, gw_stage_name(stage),
                       GW_PIPELINE_MAX_STEPS);
    p->steps[stage][p->nsteps[stage]++] = *st;
    return 0;
}

int gw_pipeline_add(gw_pipeline *p, gw_stage stage, const char *name, gw_step_fn fn, void *arg, char err[GW_ERR_LEN])
{
    gw_step st = {name, fn, NULL, arg};
    if (fn == NULL || name == NULL)
        return gw_errf(err, "pipeline %s: a step needs a name and a function", p->name);
    if (stage == GW_STAGE_ON_RESPONSE)
        return gw_errf(err, "pipeline %s: step %s: on_response steps are added with gw_pipeline_add_response", p->name,
                       name);
    return gw_pipeline_append(p, stage, &st, err);
}

int gw_pipeline_add_response(gw_pipeline *p, const char *name, gw_response_fn fn, void *arg, char err[GW_ERR_LEN])
{
    gw_step st = {name, NULL, fn, arg};
    if (fn == NULL || name == NULL)
        return gw_errf(err, "pipeline %s: a step needs a name and a function", p->name);
    return gw_pipeline_append(p, GW_STAGE_ON_RESPONSE, &st, err);
}

int gw_pipeline_run(const gw_pipeline *p, gw_stage from, gw_stage to, struct gw_preq *r)
{
    if (to >= GW_STAGE_ON_RESPONSE)
        to = GW_STAGE_UPSTREAM;
    for (int s = from; s <= (int)to; s++) {
        const gw_step *st = p->steps[s];
        for (size_t i = 0, n = p->nsteps[s]; i < n; i++)
            if (st[i].fn(r, st[i].arg) != 0)
                return -1;
    }
    return 0;
}

/* The rest of the on_response steps after step i, as a gw_piece_fn. */
typedef struct gw_resp_chain {
    const gw_pipeline *p;
    struct gw_preq *r;
    size_t i;
    gw_piece_fn out;
    void *out_ctx;
} gw_resp_chain;

static int gw_resp_chain_next(void *ctx, const char *data, size_t len)
{
    const gw_resp_chain *c = ctx;
    const gw_step *st = c->p->steps[GW_STAGE_ON_RESPONSE];
    gw_resp_chain next = *c;

    if (data == NULL)
        return 0;
    if (c->i >= c->p->nsteps[GW_STAGE_ON_RESPONSE])
        return c->out(c->out_ctx, data, len);
    next.i = c->i + 1;
    return st[c->i].on_response(c->r, st[c->i].arg, data, len, gw_resp_chain_next, &next);
}

int gw_pipeline_on_response(const gw_pipeline *p, struct gw_preq *r, const char *data, size_t len, gw_piece_fn out,
                            void *out_ctx)
{
    gw_resp_chain c = {p, r, 0, out, out_ctx};
    if (data == NULL)
        data = "";
    return gw_resp_chain_next(&c, data, len);
}

/* At the end each step gets data NULL once, in order; what a step passes on
 * through next goes on to the steps after it (a NULL it passes is dropped:
 * each later step gets its own end call). */
int gw_pipeline_on_response_end(const gw_pipeline *p, struct gw_preq *r, gw_piece_fn out, void *out_ctx)
{
    const gw_step *st = p->steps[GW_STAGE_ON_RESPONSE];
    for (size_t i = 0, n = p->nsteps[GW_STAGE_ON_RESPONSE]; i < n; i++) {
        gw_resp_chain next = {p, r, i + 1, out, out_ctx};
        if (st[i].on_response(r, st[i].arg, NULL, 0, gw_resp_chain_next, &next) != 0)
            return -1;
    }
    return 0;
}
