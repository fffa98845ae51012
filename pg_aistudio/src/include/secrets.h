/*-------------------------------------------------------------------------
 * src/include/secrets.h
 *		AES-256-GCM sealing of secrets and literal API keys under the master
 *		key (see src/secrets.c).
 *
 * A sealed value is (key_id, nonce, ciphertext): key_id names the master key
 * (first 16 hex digits of SHA-256 of the key bytes), nonce is 12 random
 * bytes, ciphertext is the encrypted bytes followed by the 16-byte GCM tag.
 * The associated data (aad) binds a value to its owner, e.g. 'secret:Name'
 * or 'llm:42'; opening with another aad fails.
 *-------------------------------------------------------------------------
 */
#ifndef AISTUDIO_SECRETS_H
#define AISTUDIO_SECRETS_H

#include "postgres.h"

#include "sealbox.h"

/* length of a key id including its terminating NUL */
#define SECRETS_KEY_ID_SIZE 17

/* Largest plaintext that may be sealed (bytes). */
#define SECRETS_MAX_PLAIN_LEN (1024 * 1024)

/*
 * Seal plain[0..len) under the current master key.  key_id_out receives the
 * NUL-terminated key id (SECRETS_KEY_ID_SIZE bytes); *nonce and *ciphertext
 * are palloc'd.  Raises 55000 when no usable master key is configured.
 */
extern void SecretsSeal(const char *aad, const char *plain, Size len,
						char *key_id_out, bytea **nonce, bytea **ciphertext);

/*
 * Open a sealed value with the master key named by key_id (the current key,
 * or the previous key during a rotation).  Returns a palloc'd NUL-terminated
 * copy of the plaintext and its length in *len (len may be NULL).  Raises
 * 55000 when that key is not loaded and XX001 when the value does not
 * authenticate (tampered, wrong aad or wrong key); never prints plaintext.
 */
extern char *SecretsOpen(const char *aad, const char *key_id, bytea *nonce,
						 bytea *ciphertext, Size *len);

/*
 * Seal plain[0..len) under key (an edge key, say) instead of the master
 * key; *nonce and *ciphertext are palloc'd.
 */
extern void SecretsSealWith(const aistudio_seal_key *key, const char *aad, const char *plain,
							Size len, bytea **nonce, bytea **ciphertext);

/* Key id of the current master key (raises 55000 when there is none). */
extern void SecretsCurrentKeyId(char *key_id_out);

#endif							/* AISTUDIO_SECRETS_H */
