/*-------------------------------------------------------------------------
 * src/include/audit.h
 *		The audit log of configuration changes (src/audit.c).
 *
 * A row-level AFTER trigger, aistudio.audit_trigger(), is attached to every
 * configuration table and writes one aistudio.audit_log row per inserted,
 * updated or deleted row, with the acting user and the changed columns.
 * Sealed values and hashes never reach the log: they are written as
 * "[redacted]".
 *-------------------------------------------------------------------------
 */
#ifndef AUDIT_H
#define AUDIT_H

#include "postgres.h"

/* The text written in place of a redacted column's value. */
#define AUDIT_REDACTED "[redacted]"

/*
 * Is column `column` (of type `typid`) of configuration table `table`
 * redacted in the audit log?  Every bytea column is, and so is every column
 * the audit module lists as secret (password hashes, sealed keys, key ids).
 */
extern bool AuditColumnIsRedacted(const char *table, const char *column, Oid typid);

/*
 * Is this session an extension script or a restore (a superuser without an
 * acting user and with check_function_bodies off, as pg_dump scripts and
 * pg_restore set)?  Triggers that derive state from configuration rows
 * (the audit log, the sync state) skip the rows such a session loads.
 */
extern bool AuditIsBulkLoad(void);

#endif							/* AUDIT_H */
