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

int gw_pipeline_on_response(const gw_pipeline *p, struct gw_preq *r, const char *data, size_t len)
{
    const gw_step *st = p->steps[GW_STAGE_ON_RESPONSE];
    for (size_t i = 0, n = p->nsteps[GW_STAGE_ON_RESPONSE]; i < n; i++)
        if (st[i].on_response(r, st[i].arg, data, len) != 0)
            return -1;
    return 0;
}
