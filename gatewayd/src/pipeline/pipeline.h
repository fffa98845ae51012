/*
 * src/pipeline/pipeline.h: the request pipeline as an ordered list of
 * stages, each an ordered list of steps (DESIGN §3):
 *
 *   pre_auth     what needs no caller yet (route, method, admission)
 *   auth         who is calling (an app key, or a signed-in user)
 *   post_auth    the checks against the snapshot, the body, the vendor
 *                request, the stream limit, the budget
 *   upstream     the call and the relay of its answer
 *   on_response  each piece of the answer on its way to the client
 *
 * A step answers the client itself when it stops the request (it returns
 * -1 after answering); the walk then ends. The pipeline knows nothing of
 * the request (struct gw_preq is the gateway's, gateway/request.h): the
 * built-in steps are registered by the gateway when it starts, and content
 * filters and plugin hooks (issue 11) will be more steps of the same
 * stages, each with its argument (pipeline/hooks.h: the per-LLM list
 * behind one step of each stage). Walking is a plain array walk: no
 * allocation, no lock (a pipeline is built before its listener starts and
 * only read afterwards).
 */
#ifndef GW_PIPELINE_H
#define GW_PIPELINE_H

#include <stddef.h>

#include "base/common.h"

typedef enum gw_stage {
    GW_STAGE_PRE_AUTH = 0,
    GW_STAGE_AUTH,
    GW_STAGE_POST_AUTH,
    GW_STAGE_UPSTREAM,
    GW_STAGE_ON_RESPONSE,
    GW_STAGE_COUNT
} gw_stage;

#define GW_PIPELINE_MAX_STEPS 32 /* per stage */

struct gw_preq;

/* A request step: 0 to go on, -1 when it answered the client and the walk stops. */
typedef int (*gw_step_fn)(struct gw_preq *r, void *arg);
/* Where an on_response step sends what it lets through; -1 when the
 * client is gone. */
typedef int (*gw_piece_fn)(void *ctx, const char *data, size_t len);
/* An on_response step, for each piece of the answer (a whole unit as the
 * client gets it: the JSON body, an SSE event, an NDJSON line) and once at
 * the end (data NULL, len 0): passes on, through next, the piece, a changed
 * one, none or several (what it held back, at the end). 0, or -1 to stop
 * the answer there (the step says why with the request's error; the relay
 * ends the answer with it) or when next failed. */
typedef int (*gw_response_fn)(struct gw_preq *r, void *arg, const char *data, size_t len, gw_piece_fn next,
                              void *next_ctx);

typedef struct gw_step {
    const char *name;
    gw_step_fn fn;              /* request stages */
    gw_response_fn on_response; /* GW_STAGE_ON_RESPONSE */
    void *arg;
} gw_step;

typedef struct gw_pipeline {
    const char *name;
    gw_step steps[GW_STAGE_COUNT][GW_PIPELINE_MAX_STEPS];
    size_t nsteps[GW_STAGE_COUNT];
} gw_pipeline;

void gw_pipeline_init(gw_pipeline *p, const char *name);
/* Appends a step to a request stage (not GW_STAGE_ON_RESPONSE). 0, or -1
 * with err for a full stage or a bad argument. */
int gw_pipeline_add(gw_pipeline *p, gw_stage stage, const char *name, gw_step_fn fn, void *arg, char err[GW_ERR_LEN]);
/* Appends an on_response step. */
int gw_pipeline_add_response(gw_pipeline *p, const char *name, gw_response_fn fn, void *arg, char err[GW_ERR_LEN]);

/* Walks the steps of the stages from..to (both included, request stages
 * only) in order; -1 as soon as a step stops the request, else 0. */
int gw_pipeline_run(const gw_pipeline *p, gw_stage from, gw_stage to, struct gw_preq *r);
/* 1 when the pipeline has on_response steps (the relay skips the walk otherwise). */
static inline int gw_pipeline_has_response_steps(const gw_pipeline *p)
{
    return p != NULL && p->nsteps[GW_STAGE_ON_RESPONSE] > 0;
}
/* Passes one piece of the answer through the on_response steps, in order,
 * and what the last lets through to out; -1 when one stopped it (or out
 * failed). */
int gw_pipeline_on_response(const gw_pipeline *p, struct gw_preq *r, const char *data, size_t len, gw_piece_fn out,
                            void *out_ctx);
/* The answer is complete: each step, in order, passes on what it held. */
int gw_pipeline_on_response_end(const gw_pipeline *p, struct gw_preq *r, gw_piece_fn out, void *out_ctx);

const char *gw_stage_name(gw_stage s);

#endif
