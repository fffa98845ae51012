/*
 * sealbox.c: AES-256-GCM sealed values, key ids and the HKDF edge key (see
 * include/sealbox.h for the format).  Compiled into the extension and into
 * gatewayd: this file is the only implementation of the format.  OpenSSL
 * EVP only; nothing here allocates except OpenSSL's own contexts.
 */
#include "sealbox.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

static int	seal_fail(char *err, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* Writes the reason into err (when not NULL); returns -1. */
static int
seal_fail(char *err, const char *fmt,...)
{
	va_list		ap;

	if (err != NULL)
	{
		va_start(ap, fmt);
		vsnprintf(err, AISTUDIO_SEAL_ERR_LEN, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void
aistudio_seal_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

int
aistudio_seal_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int
aistudio_seal_key_id(const unsigned char raw[AISTUDIO_SEAL_KEY_LEN], char out[AISTUDIO_SEAL_KEY_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(raw, AISTUDIO_SEAL_KEY_LEN, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 8)
	{
		out[0] = '\0';
		return -1;
	}
	for (int i = 0; i < AISTUDIO_SEAL_KEY_ID_LEN / 2; i++)
	{
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[AISTUDIO_SEAL_KEY_ID_LEN] = '\0';
	aistudio_seal_wipe(md, sizeof(md));
	return 0;
}

int
aistudio_seal_key_set(aistudio_seal_key *key, const unsigned char raw[AISTUDIO_SEAL_KEY_LEN],
					  char err[AISTUDIO_SEAL_ERR_LEN])
{
	memcpy(key->key, raw, AISTUDIO_SEAL_KEY_LEN);
	if (aistudio_seal_key_id(key->key, key->key_id) != 0)
	{
		aistudio_seal_wipe(key, sizeof(*key));
		return seal_fail(err, "could not compute the key id (SHA-256 failed)");
	}
	return 0;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
aistudio_seal_key_parse(const char *text, size_t len, aistudio_seal_key *key, char err[AISTUDIO_SEAL_ERR_LEN])
{
	size_t		start = 0;
	size_t		end = len;
	unsigned char raw[AISTUDIO_SEAL_KEY_LEN];
	int			rc;

	memset(key, 0, sizeof(*key));
	while (start < end && isspace((unsigned char) text[start]))
		start++;
	while (end > start && isspace((unsigned char) text[end - 1]))
		end--;
	if (end - start != 2 * AISTUDIO_SEAL_KEY_LEN)
		return seal_fail(err, "a key is exactly %d hexadecimal digits (%d bytes), not %zu characters",
						 2 * AISTUDIO_SEAL_KEY_LEN, AISTUDIO_SEAL_KEY_LEN, end - start);
	for (int i = 0; i < AISTUDIO_SEAL_KEY_LEN; i++)
	{
		int			hi = hex_value(text[start + 2 * i]);
		int			lo = hex_value(text[start + 2 * i + 1]);

		if (hi < 0 || lo < 0)
		{
			aistudio_seal_wipe(raw, sizeof(raw));
			return seal_fail(err, "a key is exactly %d hexadecimal digits; character %d is not one",
							 2 * AISTUDIO_SEAL_KEY_LEN, hi < 0 ? 2 * i + 1 : 2 * i + 2);
		}
		raw[i] = (unsigned char) ((hi << 4) | lo);
	}
	rc = aistudio_seal_key_set(key, raw, err);
	aistudio_seal_wipe(raw, sizeof(raw));
	return rc;
}

int
aistudio_seal(const aistudio_seal_key *key, const char *aad, const void *plain, size_t len,
			  unsigned char nonce[AISTUDIO_SEAL_NONCE_LEN], unsigned char *ct, char err[AISTUDIO_SEAL_ERR_LEN])
{
	EVP_CIPHER_CTX *ctx;
	int			outl = 0;
	int			finl = 0;
	int			ok;

	if (len > AISTUDIO_SEAL_MAX_PLAIN_LEN)
		return seal_fail(err, "a sealed value has at most %d bytes", AISTUDIO_SEAL_MAX_PLAIN_LEN);
	if (aad == NULL)
		aad = "";
	if (RAND_bytes(nonce, AISTUDIO_SEAL_NONCE_LEN) != 1)
		return seal_fail(err, "could not generate a random nonce");
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return seal_fail(err, "out of memory");
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, AISTUDIO_SEAL_NONCE_LEN, NULL) == 1 &&
		EVP_EncryptInit_ex(ctx, NULL, NULL, key->key, nonce) == 1 &&
		EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *) aad, (int) strlen(aad)) == 1 &&
		(len == 0 || EVP_EncryptUpdate(ctx, ct, &outl, plain, (int) len) == 1) &&
		EVP_EncryptFinal_ex(ctx, ct + (len == 0 ? 0 : outl), &finl) == 1 &&
		(size_t) ((len == 0 ? 0 : outl) + finl) == len &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AISTUDIO_SEAL_TAG_LEN, ct + len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
	{
		aistudio_seal_wipe(ct, len + AISTUDIO_SEAL_TAG_LEN);
		return seal_fail(err, "AES-256-GCM encryption failed");
	}
	return 0;
}

int
aistudio_seal_open(const aistudio_seal_key *key, const char *aad,
				   const unsigned char *nonce, size_t nonce_len,
				   const unsigned char *ct, size_t ct_len,
				   unsigned char *plain, size_t *plain_len, char err[AISTUDIO_SEAL_ERR_LEN])
{
	EVP_CIPHER_CTX *ctx;
	unsigned char tag[AISTUDIO_SEAL_TAG_LEN];
	size_t		len;
	int			outl = 0;
	int			finl = 0;
	int			ok;

	*plain_len = 0;
	if (nonce == NULL || nonce_len != AISTUDIO_SEAL_NONCE_LEN)
		return seal_fail(err, "a sealed value has a %d-byte nonce, not %zu bytes", AISTUDIO_SEAL_NONCE_LEN,
						 nonce_len);
	if (ct == NULL || ct_len < AISTUDIO_SEAL_TAG_LEN)
		return seal_fail(err, "a sealed value has at least its %d-byte tag", AISTUDIO_SEAL_TAG_LEN);
	len = ct_len - AISTUDIO_SEAL_TAG_LEN;
	if (len > AISTUDIO_SEAL_MAX_PLAIN_LEN)
		return seal_fail(err, "a sealed value has at most %d bytes", AISTUDIO_SEAL_MAX_PLAIN_LEN);
	if (aad == NULL)
		aad = "";
	memcpy(tag, ct + len, AISTUDIO_SEAL_TAG_LEN);
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return seal_fail(err, "out of memory");
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, AISTUDIO_SEAL_NONCE_LEN, NULL) == 1 &&
		EVP_DecryptInit_ex(ctx, NULL, NULL, key->key, nonce) == 1 &&
		EVP_DecryptUpdate(ctx, NULL, &outl, (const unsigned char *) aad, (int) strlen(aad)) == 1 &&
		(len == 0 || EVP_DecryptUpdate(ctx, plain, &outl, ct, (int) len) == 1) &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AISTUDIO_SEAL_TAG_LEN, tag) == 1 &&
		EVP_DecryptFinal_ex(ctx, plain + (len == 0 ? 0 : outl), &finl) == 1 &&
		(size_t) ((len == 0 ? 0 : outl) + finl) == len;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
	{
		aistudio_seal_wipe(plain, len);
		return seal_fail(err, "the value does not authenticate (wrong key or associated data, or altered)");
	}
	*plain_len = len;
	return 0;
}

int
aistudio_seal_edge_key(const void *token, size_t token_len, const char *edge_id, size_t edge_id_len,
					   unsigned char out[AISTUDIO_SEAL_KEY_LEN], char err[AISTUDIO_SEAL_ERR_LEN])
{
	static const char info[] = AISTUDIO_EDGE_KEY_INFO;
	EVP_PKEY_CTX *pctx;
	size_t		outlen = AISTUDIO_SEAL_KEY_LEN;
	int			ok;

	if (token == NULL || token_len == 0 || token_len > 4096)
		return seal_fail(err, "the token must have 1 to 4096 bytes");
	if (edge_id == NULL || edge_id_len == 0 || edge_id_len > 4096)
		return seal_fail(err, "the edge id must have 1 to 4096 bytes");
	pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	if (pctx == NULL)
		return seal_fail(err, "out of memory");
	ok = EVP_PKEY_derive_init(pctx) > 0 &&
		EVP_PKEY_CTX_hkdf_mode(pctx, EVP_PKEY_HKDEF_MODE_EXTRACT_AND_EXPAND) > 0 &&
		EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()) > 0 &&
		EVP_PKEY_CTX_set1_hkdf_salt(pctx, (const unsigned char *) edge_id, (int) edge_id_len) > 0 &&
		EVP_PKEY_CTX_set1_hkdf_key(pctx, (const unsigned char *) token, (int) token_len) > 0 &&
		EVP_PKEY_CTX_add1_hkdf_info(pctx, (const unsigned char *) info, (int) (sizeof(info) - 1)) > 0 &&
		EVP_PKEY_derive(pctx, out, &outlen) > 0 &&
		outlen == AISTUDIO_SEAL_KEY_LEN;
	EVP_PKEY_CTX_free(pctx);
	if (!ok)
	{
		aistudio_seal_wipe(out, AISTUDIO_SEAL_KEY_LEN);
		return seal_fail(err, "HKDF-SHA256 failed");
	}
	return 0;
}
