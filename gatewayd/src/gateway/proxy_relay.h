/*
 * src/gateway/proxy_relay.h: the upstream stage of the gateway's
 * pipelines. gw_relay_step checks that a $SECRET key may go to the
 * request's host (model/keyhosts.h; 502 secret_host_not_allowed and no
 * request otherwise), creates the stream processor, calls the upstream with
 * r->ureq (body: the rewritten one, else the client's) with the vendor key
 * redacted from the response (base/redact.h), relays the answer through
 * the pipeline's on_response steps and sets r->status / r->error for every
 * outcome.
 */
#ifndef GW_GATEWAY_PROXY_RELAY_H
#define GW_GATEWAY_PROXY_RELAY_H

struct gw_preq;

/* A gw_step_fn (pipeline/pipeline.h) of GW_STAGE_UPSTREAM; always 0 (the
 * request ends after it, whatever the outcome). */
int gw_relay_step(struct gw_preq *r, void *arg);

#endif
