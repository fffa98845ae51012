/*-------------------------------------------------------------------------
 * src/include/credentials.h
 *		App credentials (API keys): format and hashing (src/credentials.c).
 *
 * A key is "ais_" followed by 64 lower-case hex digits (256 random bits).
 * Only its SHA-256 and its first CREDENTIAL_PREFIX_LEN characters are
 * stored; gatewayd hashes a presented key the same way.
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_CREDENTIALS_H
#define AISTUDIO_CREDENTIALS_H

#include "postgres.h"

#define CREDENTIAL_KEY_TAG "ais_"
#define CREDENTIAL_TAG_LEN 4
#define CREDENTIAL_RANDOM_BYTES 32
#define CREDENTIAL_KEY_LEN (CREDENTIAL_TAG_LEN + 2 * CREDENTIAL_RANDOM_BYTES)
#define CREDENTIAL_PREFIX_LEN 12
#define CREDENTIAL_HASH_LEN 32

/* Is key a well-formed credential ("ais_" + 64 lower-case hex digits)? */
extern bool CredentialKeyIsWellFormed(const char *key, size_t len);

/* SHA-256 of the key's bytes into hash[CREDENTIAL_HASH_LEN]. */
extern void CredentialHashKey(const char *key, size_t len, uint8 *hash);

#endif							/* AISTUDIO_CREDENTIALS_H */
