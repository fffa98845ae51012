/*
 * src/admin/admin_bind.h: the parameters of an operation of the REST API
 * from its request: path parameters ("{id}": a positive integer, "{name}":
 * text without control characters) to $1/$2, page/page_size to $3/$4,
 * query parameters and body fields to the $n their table row names,
 * checked for type (a 400 naming the field); an unknown field or query
 * parameter is a 400 too. See admin_bind.c.
 */
#ifndef GW_ADMIN_BIND_H
#define GW_ADMIN_BIND_H

#include "admin/admin_int.h"

/* Parses the path, body fields and query parameters of r->op into
 * r->params. -1: response sent. */
int gw_admin_bind(gw_admin_req *r);

#endif
