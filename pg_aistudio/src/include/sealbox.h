/*
 * sealbox.h: the one definition of the product's sealed values and of the
 * edge key, compiled into the extension (src/secrets.c, src/sync.c) and
 * into gatewayd alike, so that a value sealed by one opens in the other.
 *
 * A sealed value is AES-256-GCM under a 32-byte key: a 12-byte random
 * nonce, the ciphertext followed by the 16-byte tag, and associated data
 * (AAD, a text such as "secret:Name", "llm:42" or "edge:eu-1") that binds
 * the value to its owner: opening with another AAD fails.  A key is named
 * by its key_id, the first 16 lowercase hex digits of SHA-256 over the 32
 * key bytes, and is written as 64 hex digits (either case; surrounding
 * whitespace is allowed, as in a key file).
 *
 * The edge key of an edge is HKDF-SHA256 (RFC 5869) with ikm = the bytes of
 * the token the edge authenticates with, salt = the bytes of its edge id,
 * info = "aistudio edge key v1", 32 bytes of output.  The hub re-seals
 * vendor keys under it for that edge; the edge derives it from its token.
 *
 * Pure C (libc and OpenSSL libcrypto): no PostgreSQL or gatewayd headers.
 * Thread safe (no state).  Errors are one line in err and never contain
 * key bytes, plaintext or the text that was parsed; buffers that held
 * plaintext or key material are wiped (OPENSSL_cleanse) on failure.
 */
#ifndef AISTUDIO_SEALBOX_H
#define AISTUDIO_SEALBOX_H

#include <stddef.h>

#define AISTUDIO_SEAL_KEY_LEN 32
#define AISTUDIO_SEAL_NONCE_LEN 12
#define AISTUDIO_SEAL_TAG_LEN 16
#define AISTUDIO_SEAL_KEY_ID_LEN 16 /* hex digits, without the NUL */
#define AISTUDIO_SEAL_MAX_PLAIN_LEN (1024 * 1024)
#define AISTUDIO_SEAL_ERR_LEN 256
#define AISTUDIO_EDGE_KEY_INFO "aistudio edge key v1"

typedef struct aistudio_seal_key
{
	unsigned char key[AISTUDIO_SEAL_KEY_LEN];
	char		key_id[AISTUDIO_SEAL_KEY_ID_LEN + 1];
} aistudio_seal_key;

/*
 * key_id of raw key bytes into out (16 hex digits and a NUL).  0, or -1
 * when SHA-256 fails.
 */
int			aistudio_seal_key_id(const unsigned char raw[AISTUDIO_SEAL_KEY_LEN],
								 char out[AISTUDIO_SEAL_KEY_ID_LEN + 1]);

/* A key from 32 raw bytes (an edge key), with its key_id.  0 or -1. */
int			aistudio_seal_key_set(aistudio_seal_key *key, const unsigned char raw[AISTUDIO_SEAL_KEY_LEN],
								  char err[AISTUDIO_SEAL_ERR_LEN]);

/*
 * A key from text[0..len): exactly 64 hex digits, optionally surrounded by
 * whitespace.  0, or -1 with the reason in err (the text is never quoted);
 * on failure *key is wiped.
 */
int			aistudio_seal_key_parse(const char *text, size_t len, aistudio_seal_key *key,
									char err[AISTUDIO_SEAL_ERR_LEN]);

/*
 * Seals plain[0..len) (at most AISTUDIO_SEAL_MAX_PLAIN_LEN bytes) under key
 * with aad (NULL = ""): a fresh random nonce into nonce, the ciphertext and
 * tag into ct, which must hold len + AISTUDIO_SEAL_TAG_LEN bytes.  0 or -1.
 */
int			aistudio_seal(const aistudio_seal_key *key, const char *aad, const void *plain, size_t len,
						  unsigned char nonce[AISTUDIO_SEAL_NONCE_LEN], unsigned char *ct,
						  char err[AISTUDIO_SEAL_ERR_LEN]);

/*
 * Opens ct[0..ct_len) (ciphertext and tag) sealed with nonce under key and
 * aad (NULL = "").  plain must hold ct_len - AISTUDIO_SEAL_TAG_LEN bytes;
 * *plain_len receives that length.  A wrong key, AAD, nonce length or a
 * tampered value returns -1 and leaves plain wiped.
 */
int			aistudio_seal_open(const aistudio_seal_key *key, const char *aad,
							   const unsigned char *nonce, size_t nonce_len,
							   const unsigned char *ct, size_t ct_len,
							   unsigned char *plain, size_t *plain_len,
							   char err[AISTUDIO_SEAL_ERR_LEN]);

/*
 * The edge key: HKDF-SHA256(ikm = token[0..token_len), salt =
 * edge_id[0..edge_id_len), info = AISTUDIO_EDGE_KEY_INFO) into out
 * (32 bytes).  Both inputs must be non-empty.  0 or -1 (out wiped).
 */
int			aistudio_seal_edge_key(const void *token, size_t token_len,
								   const char *edge_id, size_t edge_id_len,
								   unsigned char out[AISTUDIO_SEAL_KEY_LEN],
								   char err[AISTUDIO_SEAL_ERR_LEN]);

/* 1 when a[0..len) equals b[0..len), in time independent of the contents. */
int			aistudio_seal_equal(const void *a, const void *b, size_t len);

/* Wipes len bytes (not optimised away). */
void		aistudio_seal_wipe(void *p, size_t len);

#endif
