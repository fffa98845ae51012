/*
 * regress/unit/seal.h: a test-local implementation of the extension's
 * sealing (AES-256-GCM, 12-byte nonce, ciphertext || 16-byte tag, AAD), so
 * the gateway's opening is checked against an independent encryptor.
 */
#ifndef GW_TEST_SEAL_H
#define GW_TEST_SEAL_H

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

/* ct must hold len + 16 bytes. Returns 0 on success. */
static int test_seal(const unsigned char key[32], const unsigned char nonce[12], const char *aad,
                     const unsigned char *pt, size_t len, unsigned char *ct)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, rc = -1;
    if (c == NULL)
        return -1;
    if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
        EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
        (aad == NULL || aad[0] == '\0' ||
         EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1) &&
        (len == 0 || EVP_EncryptUpdate(c, ct, &n, pt, (int)len) == 1) && EVP_EncryptFinal_ex(c, ct + len, &n) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, ct + len) == 1)
        rc = 0;
    EVP_CIPHER_CTX_free(c);
    return rc;
}

#endif
