/*
 * src/base/secretbox.c: opening the extension's sealed values with the
 * master key (or an edge's key), and the master-key/key-id helpers: the
 * daemon's face of the one implementation of the format,
 * pg_aistudio/src/sealbox.c (compiled in, gatewayd/Makefile EXT_SRCS).
 * Nothing here logs; errors never contain key material or plaintext.
 */
#include "base/secretbox.h"
#include "base/codec.h"

#include <stdlib.h>
#include <string.h>

#include "sealbox.h" /* the extension's sealed-value module (pg_aistudio/src) */

_Static_assert(GW_SECRET_KEY_LEN == AISTUDIO_SEAL_KEY_LEN && GW_SECRET_NONCE_LEN == AISTUDIO_SEAL_NONCE_LEN &&
                   GW_SECRET_TAG_LEN == AISTUDIO_SEAL_TAG_LEN && GW_SECRET_KEY_ID_LEN == AISTUDIO_SEAL_KEY_ID_LEN,
               "gw_secret_key is an aistudio_seal_key");

void gw_secretbox_key_id(const unsigned char key[GW_SECRET_KEY_LEN], char out[GW_SECRET_KEY_ID_LEN + 1])
{
    if (aistudio_seal_key_id(key, out) != 0)
        out[0] = '\0'; /* matches no sealed value */
}

int gw_secretbox_key_from_hex(gw_secret_key *key, const char *hex, size_t hex_len, char err[GW_ERR_LEN])
{
    memset(key, 0, sizeof(*key));
    if (hex_len != 2 * GW_SECRET_KEY_LEN)
        return gw_errf(err, "must be %d hex digits (%d bytes), got %zu characters", 2 * GW_SECRET_KEY_LEN,
                       GW_SECRET_KEY_LEN, hex_len);
    {
        size_t bad = 0;
        if (gw_hex_decode(hex, GW_SECRET_KEY_LEN, key->key, &bad) != 0) {
            gw_secretbox_wipe(key, sizeof(*key));
            return gw_errf(err, "must be %d hex digits (%d bytes); character %zu is not a hex digit",
                           2 * GW_SECRET_KEY_LEN, GW_SECRET_KEY_LEN, bad + 1);
        }
    }
    gw_secretbox_key_id(key->key, key->key_id);
    return 0;
}

void gw_secretbox_wipe(void *buf, size_t len)
{
    if (buf != NULL && len > 0)
        explicit_bzero(buf, len);
}

void gw_secretbox_free(char *buf, size_t len)
{
    if (buf == NULL)
        return;
    gw_secretbox_wipe(buf, len + 1);
    free(buf);
}

int gw_secretbox_open(const gw_secret_key *keys, int nkeys, const char *key_id, const unsigned char *nonce,
                      size_t nonce_len, const unsigned char *ct, size_t ct_len, const char *aad, unsigned char *out,
                      size_t out_cap, size_t *out_len, char err[GW_ERR_LEN])
{
    const gw_secret_key *key = NULL;
    aistudio_seal_key sk;
    char serr[AISTUDIO_SEAL_ERR_LEN];
    size_t pt_len;
    int rc;

    *out_len = 0;
    if (key_id == NULL || key_id[0] == '\0')
        return gw_errf(err, "sealed value has no key id");
    for (int i = 0; i < nkeys; i++) {
        if (strcmp(keys[i].key_id, key_id) == 0) {
            key = &keys[i];
            break;
        }
    }
    if (key == NULL && nkeys == 0)
        return gw_errf(err, "sealed with key id %.16s, but no master key is configured (AISTUDIO_SECRET_KEY)", key_id);
    if (key == NULL)
        return gw_errf(err, "sealed with key id %.16s, but the gateway's master key has id %s", key_id, keys[0].key_id);
    if (nonce == NULL || nonce_len != GW_SECRET_NONCE_LEN)
        return gw_errf(err, "sealed value has a %zu-byte nonce, expected %d", nonce_len, GW_SECRET_NONCE_LEN);
    if (ct == NULL || ct_len < GW_SECRET_TAG_LEN)
        return gw_errf(err, "sealed value is shorter than its %d-byte tag", GW_SECRET_TAG_LEN);
    pt_len = ct_len - GW_SECRET_TAG_LEN;
    if (pt_len > GW_SECRET_MAX_PLAINTEXT)
        return gw_errf(err, "sealed value is too large (%zu bytes)", pt_len);
    if (out_cap < pt_len + 1)
        return gw_errf(err, "output buffer too small for the sealed value");

    /* the one implementation of the format (pg_aistudio/src/sealbox.c) */
    memcpy(sk.key, key->key, sizeof(sk.key));
    memcpy(sk.key_id, key->key_id, sizeof(sk.key_id));
    rc = aistudio_seal_open(&sk, aad, nonce, nonce_len, ct, ct_len, out, out_len, serr);
    aistudio_seal_wipe(&sk, sizeof(sk));
    if (rc != 0) {
        gw_secretbox_wipe(out, pt_len + 1);
        *out_len = 0;
        return gw_errf(err, "authentication failed (wrong key, associated data or tampered ciphertext)");
    }
    out[pt_len] = '\0';
    return 0;
}

int gw_secretbox_open_alloc(const gw_secret_key *keys, int nkeys, const char *key_id, const unsigned char *nonce,
                            size_t nonce_len, const unsigned char *ct, size_t ct_len, const char *aad, char **out,
                            size_t *out_len, char err[GW_ERR_LEN])
{
    size_t cap;
    unsigned char *buf;

    *out = NULL;
    *out_len = 0;
    if (ct == NULL || ct_len < GW_SECRET_TAG_LEN)
        return gw_errf(err, "sealed value is shorter than its %d-byte tag", GW_SECRET_TAG_LEN);
    cap = ct_len - GW_SECRET_TAG_LEN + 1;
    if (cap > GW_SECRET_MAX_PLAINTEXT + 1)
        return gw_errf(err, "sealed value is too large (%zu bytes)", cap - 1);
    buf = malloc(cap);
    if (buf == NULL)
        return gw_errf(err, "out of memory");
    if (gw_secretbox_open(keys, nkeys, key_id, nonce, nonce_len, ct, ct_len, aad, buf, cap, out_len, err) != 0) {
        free(buf);
        return -1;
    }
    *out = (char *)buf;
    return 0;
}
