/*
 * src/base/uuid7.h: gw_uuid7, the request ids of gatewayd (RFC 9562
 * UUIDv7, time-ordered: the database ingests those fastest). How they are
 * made and why they never repeat is written in uuid7.c.
 */
#ifndef GW_BASE_UUID7_H
#define GW_BASE_UUID7_H

#define GW_UUID7_LEN 36 /* the text form, without its NUL */

/* A new UUIDv7 as 36 characters and a NUL. Thread-safe. */
void gw_uuid7(char out[GW_UUID7_LEN + 1]);

#endif
