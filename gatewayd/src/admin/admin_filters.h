/*
 * src/admin/admin_filters.h: POST /api/v1/filters/{id}/test, a stored
 * filter run on sample text by gatewayd's filter code (admin_filters.c).
 */
#ifndef GW_ADMIN_FILTERS_H
#define GW_ADMIN_FILTERS_H

#include "admin/admin_req.h"

/* The operation's handler (its row in admin_resources.c binds $1 = the
 * filter's id, $5 = text, $6 = stage). */
int gw_admin_filter_test(gw_admin_req *r);

#endif
