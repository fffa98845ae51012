/*
 * regress/unit/test_secretbox.c: opening sealed values — round trip against
 * an independent OpenSSL sealing, and every way opening must fail (wrong
 * tag, wrong AAD, wrong key id, wrong key, bad nonce, truncated input).
 */
#include "base/codec.c"
#include "base/secretbox.c"

#include <openssl/sha.h>

#include "seal.h"
#include "tap.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

int main(void)
{
    gw_secret_key key, other, keys[2];
    unsigned char nonce[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const char *pt = "sk-proj-1234567890abcdef";
    size_t len = strlen(pt), olen = 99;
    unsigned char ct[128], tampered[128], out[128];
    char err[GW_ERR_LEN], *alloc;

    ok(gw_secretbox_key_from_hex(&key, KEY_HEX, 64, err) == 0, "key parsed");
    ok(gw_secretbox_key_from_hex(&other, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 64, err) == 0,
       "upper-case hex accepted");
    ok(gw_secretbox_key_from_hex(&other, KEY_HEX, 63, err) != 0, "63 digits rejected");
    ok(gw_secretbox_key_from_hex(&other, "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 64, err) !=
           0,
       "non-hex digit rejected");
    {
        unsigned char d[32];
        char want[17];
        SHA256(key.key, 32, d);
        for (int i = 0; i < 8; i++)
            sprintf(want + 2 * i, "%02x", d[i]);
        is_str(key.key_id, want, "key_id = first 16 lowercase hex of SHA-256(key)");
        is_int(strlen(key.key_id), 16, "key_id has 16 digits");
    }

    ok(test_seal(key.key, nonce, "llm:7:api_key", (const unsigned char *)pt, len, ct) == 0, "sealed with OpenSSL");
    ok(gw_secretbox_open(&key, 1, key.key_id, nonce, 12, ct, len + 16, "llm:7:api_key", out, sizeof(out), &olen,
                         err) == 0,
       "opens");
    ok(olen == len && memcmp(out, pt, len) == 0 && out[len] == '\0', "plaintext matches, NUL-terminated");

    /* wrong tag */
    memcpy(tampered, ct, len + 16);
    tampered[len + 15] ^= 0x01;
    ok(gw_secretbox_open(&key, 1, key.key_id, nonce, 12, tampered, len + 16, "llm:7:api_key", out, sizeof(out),
                         &olen, err) != 0,
       "flipped tag bit -> fails");
    has_str(err, "authentication failed", "error says authentication failed");
    {
        int wiped = 1;
        for (size_t i = 0; i <= len; i++)
            if (out[i] != 0)
                wiped = 0;
        ok(wiped && olen == 0, "output wiped on failure");
    }
    lacks_str(err, "sk-proj", "error does not contain plaintext");

    /* tampered ciphertext */
    memcpy(tampered, ct, len + 16);
    tampered[0] ^= 0x80;
    ok(gw_secretbox_open(&key, 1, key.key_id, nonce, 12, tampered, len + 16, "llm:7:api_key", out, sizeof(out),
                         &olen, err) != 0,
       "flipped ciphertext bit -> fails");

    /* wrong aad */
    ok(gw_secretbox_open(&key, 1, key.key_id, nonce, 12, ct, len + 16, "llm:8:api_key", out, sizeof(out), &olen,
                         err) != 0,
       "wrong AAD -> fails");
    ok(gw_secretbox_open(&key, 1, key.key_id, nonce, 12, ct, len + 16, "", out, sizeof(out), &olen, err) != 0,
       "missing AAD -> fails");

    /* wrong nonce */
    nonce[0] ^= 1;
    ok(gw_secretbox_open(&key, 1, key.key_id, nonce, 12, ct, len + 16, "llm:7:api_key", out, sizeof(out), &olen,
                         err) != 0,
       "wrong nonce -> fails");
    nonce[0] ^= 1;

    /* wrong key id */
    ok(gw_secretbox_open(&key, 1, "0123456789abcdef", nonce, 12, ct, len + 16, "llm:7:api_key", out, sizeof(out),
                         &olen, err) != 0,
       "unknown key id -> fails");
    has_str(err, "key id", "error names the key id problem");
    ok(gw_secretbox_open(NULL, 0, key.key_id, nonce, 12, ct, len + 16, "llm:7:api_key", out, sizeof(out), &olen,
                         err) != 0,
       "no master key -> fails");
    has_str(err, "no master key", "error says no master key is configured");
    ok(gw_secretbox_open(&key, 1, "", nonce, 12, ct, len + 16, "llm:7:api_key", out, sizeof(out), &olen, err) != 0,
       "empty key id -> fails");

    /* wrong key that claims the right id */
    ok(gw_secretbox_key_from_hex(&other, "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100", 64, err) ==
           0,
       "second key parsed");
    memcpy(other.key_id, key.key_id, sizeof(key.key_id));
    ok(gw_secretbox_open(&other, 1, key.key_id, nonce, 12, ct, len + 16, "llm:7:api_key", out, sizeof(out), &olen,
                         err) != 0,
       "right id, wrong key bytes -> authentication fails");

    /* key rotation: the right one of two keys is chosen by id */
    gw_secretbox_key_from_hex(&other, "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100", 64, err);
    keys[0] = other;
    keys[1] = key;
    ok(gw_secretbox_open(keys, 2, key.key_id, nonce, 12, ct, len + 16, "llm:7:api_key", out, sizeof(out), &olen,
                         err) == 0 &&
           memcmp(out, pt, len) == 0,
       "with two keys, the one matching key_id opens");

    /* malformed inputs */
    ok(gw_secretbox_open(&key, 1, key.key_id, nonce, 11, ct, len + 16, "llm:7:api_key", out, sizeof(out), &olen,
                         err) != 0,
       "11-byte nonce rejected");
    has_str(err, "nonce", "error names the nonce");
    ok(gw_secretbox_open(&key, 1, key.key_id, nonce, 12, ct, 15, "llm:7:api_key", out, sizeof(out), &olen, err) != 0,
       "input shorter than the tag rejected");
    ok(gw_secretbox_open(&key, 1, key.key_id, nonce, 12, ct, len + 16, "llm:7:api_key", out, len, &olen, err) != 0,
       "output buffer too small rejected (room for NUL required)");

    /* empty plaintext */
    ok(test_seal(key.key, nonce, "x", (const unsigned char *)"", 0, ct) == 0, "empty value sealed");
    ok(gw_secretbox_open(&key, 1, key.key_id, nonce, 12, ct, 16, "x", out, sizeof(out), &olen, err) == 0 && olen == 0,
       "empty value opens");

    /* allocating variant */
    ok(test_seal(key.key, nonce, "secret:OPENAI", (const unsigned char *)pt, len, ct) == 0, "resealed");
    ok(gw_secretbox_open_alloc(&key, 1, key.key_id, nonce, 12, ct, len + 16, "secret:OPENAI", &alloc, &olen, err) ==
               0 &&
           strcmp(alloc, pt) == 0,
       "open_alloc returns a NUL-terminated copy");
    gw_secretbox_free(alloc, olen);
    ok(gw_secretbox_open_alloc(&key, 1, key.key_id, nonce, 12, ct, len + 16, "secret:OTHER", &alloc, &olen, err) !=
               0 &&
           alloc == NULL,
       "open_alloc failure leaves no buffer");
    return tap_done();
}
