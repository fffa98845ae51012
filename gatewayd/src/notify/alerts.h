/*
 * src/notify/alerts.h: the delivery of budget alerts. One thread per
 * gatewayd (standalone and hub; never an edge, whose database is not where
 * alerts are made) wakes every poll_ms, claims the due deliveries through
 * the pool (aistudio.claim_alert_deliveries: the extension decides which
 * are due, locks them with SKIP LOCKED and leases them to this worker, so
 * several gatewayd processes on one database never send one twice), sends
 * each (notify/send.h) and reports the outcome
 * (aistudio.finish_alert_delivery, which schedules the retry with backoff
 * or gives up). The database being down is never fatal: the next poll
 * tries again.
 */
#ifndef GW_NOTIFY_ALERTS_H
#define GW_NOTIFY_ALERTS_H

#include "base/common.h"
#include "db/pgpool.h"

typedef struct gw_alerts_opts {
    gw_pgpool *pool;
    int poll_ms;    /* ALERT_POLL_MS */
    int timeout_ms; /* ALERT_TIMEOUT_MS: one attempt */
} gw_alerts_opts;

typedef struct gw_alerts gw_alerts;

/* Starts the thread; its worker name (claimed_by) is "<host>:<pid>". */
int gw_alerts_start(const gw_alerts_opts *opts, gw_alerts **out, char err[GW_ERR_LEN]);
/* Stops it: an attempt in progress is cut (it is retried later, by this or
 * another gatewayd, once its lease runs out). NULL is ignored. */
void gw_alerts_stop(gw_alerts *a);

#endif
