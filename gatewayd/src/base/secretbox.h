/*
 * src/base/secretbox.h: opening values sealed by the extension
 * (AES-256-GCM, see proto SealedValue): a 12-byte nonce, the ciphertext
 * followed by the 16-byte tag, an AAD string, and key_id = the first 16
 * lowercase hex digits of SHA-256 over the 32 key bytes. The master key is
 * given as 64 hex digits. Plaintext buffers belong to the caller, who wipes
 * them with gw_secretbox_wipe (explicit_bzero) when done.
 */
#ifndef GW_SECRETBOX_H
#define GW_SECRETBOX_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"

#define GW_SECRET_KEY_LEN 32
#define GW_SECRET_NONCE_LEN 12
#define GW_SECRET_TAG_LEN 16
#define GW_SECRET_KEY_ID_LEN 16 /* hex digits */
#define GW_SECRET_MAX_PLAINTEXT (1024 * 1024)

typedef struct gw_secret_key {
    unsigned char key[GW_SECRET_KEY_LEN];
    char key_id[GW_SECRET_KEY_ID_LEN + 1];
} gw_secret_key;

/* Parses 64 hex digits (either case) into a key and computes its key_id.
 * Never echoes the input in err. */
int gw_secretbox_key_from_hex(gw_secret_key *key, const char *hex, size_t hex_len, char err[GW_ERR_LEN]);

/* key_id of raw key bytes: 16 lowercase hex digits + NUL. */
void gw_secretbox_key_id(const unsigned char key[GW_SECRET_KEY_LEN], char out[GW_SECRET_KEY_ID_LEN + 1]);

/*
 * Opens one sealed value with whichever of keys[0..nkeys-1] has key_id.
 * out must hold ct_len - GW_SECRET_TAG_LEN bytes plus one (a NUL is appended
 * for convenience); *out_len gets the plaintext length. Unknown key id, a
 * bad nonce length or a tag mismatch (wrong key, tampered ciphertext or
 * AAD) return -1 and leave out wiped.
 */
int gw_secretbox_open(const gw_secret_key *keys, int nkeys, const char *key_id, const unsigned char *nonce,
                      size_t nonce_len, const unsigned char *ct, size_t ct_len, const char *aad, unsigned char *out,
                      size_t out_cap, size_t *out_len, char err[GW_ERR_LEN]);

/* Same, into a fresh NUL-terminated buffer; release with gw_secretbox_free. */
int gw_secretbox_open_alloc(const gw_secret_key *keys, int nkeys, const char *key_id, const unsigned char *nonce,
                            size_t nonce_len, const unsigned char *ct, size_t ct_len, const char *aad, char **out,
                            size_t *out_len, char err[GW_ERR_LEN]);

/* Wipes len bytes (explicit_bzero: not optimized away). */
void gw_secretbox_wipe(void *buf, size_t len);
/* Wipes and frees a buffer from gw_secretbox_open_alloc. */
void gw_secretbox_free(char *buf, size_t len);

#endif
