/*
 * regress/unit/test_jwt.c: ID token verification (admin/jwt.c) with keys
 * OpenSSL generates here — RSA 2048 and EC P-256 — published as a JWK set
 * and used to sign tokens in the test. Good RS256/RS384/RS512/ES256 tokens
 * pass; refused: alg none, HS256 (also keyed with the RSA modulus), an
 * unknown kid, a tampered payload or signature, expiry, a future iat, a
 * wrong iss/aud/azp/nonce, malformed base64url and JSON, oversize tokens.
 * Also base64url itself and the JWK set parser (weak and foreign keys are
 * skipped).
 */
#include "base/codec.c"
#include "base/buf.c"
#include "base/json.c"
#include "admin/jwt.c"
#include "base/vjson.c"

#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "tap.h"

#define ISS "https://idp.example.com"
#define CLIENT "studio-client"
#define NONCE "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static EVP_PKEY *rsa_key, *ec_key, *rsa_weak;
static int64_t now;

/* base64url of raw bytes into a static rotating buffer. */
static const char *b64(const void *p, size_t n)
{
    static char bufs[4][32768];
    static int i;
    char *out = bufs[i++ % 4];
    gw_b64url_encode(p, n, out, sizeof(bufs[0]));
    return out;
}

static const char *b64s(const char *s)
{
    return b64(s, strlen(s));
}

static const char *bn_b64(EVP_PKEY *k, const char *param)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    int n;
    EVP_PKEY_get_bn_param(k, param, &bn);
    n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64(buf, (size_t)n);
}

/* {"kty":"RSA",...} of an RSA key. */
static void jwk_rsa(gw_buf *b, EVP_PKEY *k, const char *kid, const char *extra)
{
    gw_buf_printf(b, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",", kid, bn_b64(k, OSSL_PKEY_PARAM_RSA_N));
    gw_buf_printf(b, "\"e\":\"%s\"%s}", bn_b64(k, OSSL_PKEY_PARAM_RSA_E), extra);
}

static void jwk_ec(gw_buf *b, EVP_PKEY *k, const char *kid, int corrupt)
{
    unsigned char pub[65];
    size_t n;
    EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n);
    if (corrupt)
        pub[64] ^= 1; /* no longer on the curve */
    gw_buf_printf(b, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\",\"x\":\"%s\",", kid, b64(pub + 1, 32));
    gw_buf_printf(b, "\"y\":\"%s\",\"use\":\"sig\"}", b64(pub + 33, 32));
}

/* Signs header.payload with alg; returns a malloc'd token. */
static char *sign(const char *alg, const char *header, const char *payload)
{
    char *input, *tok;
    unsigned char sig[1024];
    size_t sl = sizeof(sig);
    const char *h = b64s(header), *p = b64s(payload);
    size_t n = strlen(h) + strlen(p) + 2;

    input = malloc(n);
    snprintf(input, n, "%s.%s", h, p);
    if (strcmp(alg, "HS256") == 0) {
        unsigned int hl = 0;
        const char *secret = bn_b64(rsa_key, OSSL_PKEY_PARAM_RSA_N); /* the classic key confusion */
        HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)input, strlen(input), sig, &hl);
        sl = hl;
    } else if (strcmp(alg, "none") != 0) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        const EVP_MD *d = strcmp(alg, "RS384") == 0 ? EVP_sha384() : strcmp(alg, "RS512") == 0 ? EVP_sha512()
                                                                                                : EVP_sha256();
        EVP_PKEY *k = strcmp(alg, "ES256") == 0 ? ec_key : rsa_key;
        EVP_DigestSignInit(md, NULL, d, NULL, k);
        EVP_DigestSign(md, sig, &sl, (unsigned char *)input, strlen(input));
        EVP_MD_CTX_free(md);
        if (k == ec_key) { /* DER → R||S */
            const unsigned char *q = sig;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)sl);
            const BIGNUM *r, *s;
            ECDSA_SIG_get0(es, &r, &s);
            BN_bn2binpad(r, sig, 32);
            BN_bn2binpad(s, sig + 32, 32);
            ECDSA_SIG_free(es);
            sl = 64;
        }
    } else {
        sl = 0;
    }
    n = strlen(input) + 2 * sl + 8;
    tok = malloc(n);
    snprintf(tok, n, "%s.%s", input, sl > 0 ? b64(sig, sl) : "");
    free(input);
    return tok;
}

/* printf into a static buffer (claims, or extra members for payload()). */
static char *fmt(const char *f, ...) GW_PRINTF(1, 2);
static char *fmt(const char *f, ...)
{
    static char out[20000];
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, sizeof(out), f, ap);
    va_end(ap);
    return out;
}

/* The standard claims of a good token, then extra members (a later member
 * wins over an earlier one of the same name). */
static char *payload(int64_t exp, int64_t iat, const char *extra)
{
    static char out[20000];
    snprintf(out, sizeof(out),
             "{\"iss\":\"" ISS "\",\"sub\":\"user-42\",\"aud\":\"" CLIENT "\",\"exp\":%lld,\"iat\":%lld,"
             "\"nonce\":\"" NONCE "\",\"email\":\"ada@example.com\",\"email_verified\":true,\"name\":\"Ada Lovelace\"%s}",
             (long long)exp, (long long)iat, extra);
    return out;
}

static gw_jwks jwks;

/* Verifies tok against the test's JWK set; err receives the reason. */
static int verify(const char *tok, gw_jwt_claims *c, char *err)
{
    gw_jwt_expect want = {ISS, CLIENT, NONCE, now};
    gw_jwt_claims tmp;
    err[0] = '\0';
    return gw_jwt_verify(tok, strlen(tok), &jwks, &want, c != NULL ? c : &tmp, err);
}

/* Expects a refusal whose reason contains `why`. */
static void refused(const char *what, char *tok, const char *why)
{
    char err[GW_ERR_LEN];
    int rc = verify(tok, NULL, err);
    ok(rc == -1 && strstr(err, why) != NULL, "refused: %s", what);
    if (rc == 0 || strstr(err, why) == NULL)
        diag("rc %d, error: %s (wanted '%s')", rc, err, why);
    lacks_str(err, tok, "  the error does not contain the token");
    free(tok);
}

static void test_base64url(void)
{
    unsigned char out[16];
    size_t n;
    char enc[16];

    ok(gw_b64url_encode((const unsigned char *)"\xfb\xff", 2, enc, sizeof(enc)) == 3 && strcmp(enc, "-_8") == 0,
       "base64url encodes with - and _ and no padding");
    ok(gw_b64url_decode("-_8", 3, out, sizeof(out), &n) == 0 && n == 2 && out[0] == 0xfb && out[1] == 0xff,
       "base64url decodes");
    ok(gw_b64url_decode("-_9", 3, out, sizeof(out), &n) == -1, "non-canonical trailing bits refused");
    ok(gw_b64url_decode("+/8", 3, out, sizeof(out), &n) == -1, "standard base64 characters refused");
    ok(gw_b64url_decode("-_8=", 4, out, sizeof(out), &n) == -1, "padding refused");
    ok(gw_b64url_decode("abcde", 5, out, sizeof(out), &n) == -1, "impossible length refused");
    ok(gw_b64url_decode("QUJDREVGR0g", 11, out, 4, &n) == -1, "output larger than the buffer refused");
    ok(gw_b64url_encode((const unsigned char *)"abc", 3, enc, 4) == -1, "encode into a too small buffer refused");
}

static void test_jwks(void)
{
    gw_buf b;
    gw_jwks set;
    char err[GW_ERR_LEN];

    gw_buf_init(&b, 0);
    gw_buf_puts(&b, "{\"keys\":[");
    jwk_rsa(&b, rsa_weak, "weak", "");
    gw_buf_puts(&b, ",");
    jwk_rsa(&b, rsa_key, "enc", ",\"use\":\"enc\"");
    gw_buf_puts(&b, ",");
    jwk_ec(&b, ec_key, "off-curve", 1);
    gw_buf_puts(&b, ",{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"hmac\"},");
    jwk_rsa(&b, rsa_key, "ok", ",\"alg\":\"RS256\"");
    gw_buf_puts(&b, "]}");
    ok(gw_jwks_parse(b.data, b.len, &set, err) == 0, "JWK set with foreign keys parses");
    ok(set.n == 1 && strcmp(set.keys[0].kid, "ok") == 0 && set.keys[0].alg == GW_JWT_RS256,
       "only the usable key is kept (1024-bit RSA, use=enc, off-curve EC and oct skipped)");
    gw_jwks_free(&set);
    ok(gw_jwks_parse("{\"nokeys\":[]}", 13, &set, err) == -1, "JWK set without keys refused");
    ok(gw_jwks_parse("[1,2", 4, &set, err) == -1, "malformed JWK set refused");
    gw_buf_free(&b);
}

int main(void)
{
    gw_buf b;
    char err[GW_ERR_LEN];
    gw_jwt_claims c;
    char *tok;

    now = (int64_t)time(NULL);
    rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    rsa_weak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ok(rsa_key != NULL && ec_key != NULL && rsa_weak != NULL, "test keys generated");

    test_base64url();
    test_jwks();

    gw_buf_init(&b, 0);
    gw_buf_puts(&b, "{\"keys\":[");
    jwk_rsa(&b, rsa_key, "rsa1", "");
    gw_buf_puts(&b, ",");
    jwk_ec(&b, ec_key, "ec1", 0);
    gw_buf_puts(&b, "]}");
    ok(gw_jwks_parse(b.data, b.len, &jwks, err) == 0 && jwks.n == 2, "the test's JWK set: RSA + EC");
    gw_buf_free(&b);

    /* good tokens */
    tok = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}", payload(now + 300, now, ""));
    ok(verify(tok, &c, err) == 0, "RS256 token verifies");
    is_str(c.sub, "user-42", "sub");
    is_str(c.email, "ada@example.com", "email");
    ok(c.email_verified == 1, "email_verified");
    is_str(c.name, "Ada Lovelace", "name");
    free(tok);
    tok = sign("RS384", "{\"alg\":\"RS384\",\"kid\":\"rsa1\"}", payload(now + 300, now, ""));
    ok(verify(tok, NULL, err) == 0, "RS384 token verifies");
    free(tok);
    tok = sign("RS512", "{\"alg\":\"RS512\",\"kid\":\"rsa1\"}", payload(now + 300, now, ""));
    ok(verify(tok, NULL, err) == 0, "RS512 token verifies");
    free(tok);
    tok = sign("ES256", "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", payload(now + 300, now, ""));
    ok(verify(tok, NULL, err) == 0, "ES256 token verifies");
    if (err[0] != '\0')
        diag("%s", err);
    free(tok);
    tok = sign("ES256", "{\"alg\":\"ES256\"}", payload(now + 300, now, ""));
    ok(verify(tok, NULL, err) == 0, "a token without kid uses the only key of its type");
    free(tok);
    tok = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", payload(now - 30, now - 600, ""));
    ok(verify(tok, NULL, err) == 0, "expired 30 s ago: within the 60 s leeway");
    free(tok);
    tok = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
               payload(now + 300, now, ",\"aud\":[\"other\",\"" CLIENT "\"],\"azp\":\"" CLIENT "\""));
    ok(verify(tok, NULL, err) == 0, "aud array with azp = client id");
    free(tok);
    tok = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
               fmt("{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":[\"" CLIENT "\"],\"exp\":%lld.5,\"iat\":%lld,"
                      "\"nonce\":\"" NONCE "\",\"email_verified\":\"true\"}",
                      (long long)now + 300, (long long)now));
    ok(verify(tok, &c, err) == 0 && c.email_verified == 1 && c.email[0] == '\0' && c.exp == now + 300,
       "one-element aud array, fractional exp, email_verified \"true\", no email");
    free(tok);
    tok = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
               fmt("{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" CLIENT "\",\"exp\":%lld,\"iat\":%lld,"
                   "\"nonce\":\"" NONCE "\",\"email\":\"a@b.example\",\"xms_edov\":true}",
                   (long long)now + 300, (long long)now));
    ok(verify(tok, &c, err) == 0 && c.email_verified == 1, "Entra ID: xms_edov true counts as a verified email");
    free(tok);
    tok = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", payload(now + 300, now, ",\"email_verified\":false"));
    ok(verify(tok, &c, err) == 0 && c.email_verified == 0, "email_verified false");
    free(tok);
    {
        char name[1200] = "";
        for (int i = 0; i < 300; i++)
            strcat(name, "\xc3\xa9"); /* é: 2 bytes */
        tok = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                   payload(now + 300, now, fmt(",\"name\":\"%s\"", name)));
        ok(verify(tok, &c, err) == 0 && strlen(c.name) == 400, "a long name is cut to 200 characters (UTF-8 intact)");
        free(tok);
    }

    /* refused */
    refused("alg none with an empty signature",
            sign("none", "{\"alg\":\"none\"}", payload(now + 300, now, "")), "three non-empty parts");
    {
        char *t = sign("none", "{\"alg\":\"none\"}", payload(now + 300, now, ""));
        size_t n = strlen(t);
        t = realloc(t, n + 8);
        strcat(t, "c2ln"); /* any signature */
        refused("alg none", t, "alg \"none\"");
    }
    refused("HS256 keyed with the RSA modulus",
            sign("HS256", "{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", payload(now + 300, now, "")), "HS256");
    refused("unsupported alg PS256",
            sign("RS256", "{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", payload(now + 300, now, "")), "unsupported");
    refused("unknown kid", sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"nope\"}", payload(now + 300, now, "")),
            "no key");
    refused("RS256 naming the EC key",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"ec1\"}", payload(now + 300, now, "")), "no key");
    refused("crit header",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"]}", payload(now + 300, now, "")),
            "critical");
    {
        char *t = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", payload(now + 300, now, ""));
        char *forged = payload(now + 300, now, ",\"sub\":\"admin\"");
        char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
        size_t n = strlen(t) + strlen(forged) * 2;
        char *tampered = malloc(n);
        snprintf(tampered, n, "%.*s.%s%s", (int)(d1 - t), t, b64s(forged), d2);
        refused("tampered payload", tampered, "bad token signature");
        t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
        refused("tampered signature", t, "bad token signature");
    }
    {
        char *t = sign("ES256", "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", payload(now + 300, now, ""));
        t[strlen(t) - 2] = '\0'; /* 63 bytes: a signature of the wrong length */
        refused("ES256 signature of the wrong length", t, "bad token signature");
    }
    refused("expired", sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", payload(now - 61, now - 600, "")),
            "expired");
    refused("issued in the future",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", payload(now + 600, now + 120, "")), "future");
    refused("not valid yet",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                 payload(now + 600, now, fmt(",\"nbf\":%lld", (long long)now + 300))),
            "not valid yet");
    refused("wrong issuer",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                 payload(now + 300, now, ",\"iss\":\"https://evil.example.com\"")),
            "issuer");
    refused("issuer with a trailing slash",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", payload(now + 300, now, ",\"iss\":\"" ISS "/\"")),
            "issuer");
    refused("wrong audience",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", payload(now + 300, now, ",\"aud\":\"other\"")),
            "aud");
    refused("aud array without the client",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                 payload(now + 300, now, ",\"aud\":[\"a\",\"b\"],\"azp\":\"a\"")),
            "aud");
    refused("aud array with several audiences and no azp",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                 payload(now + 300, now, ",\"aud\":[\"other\",\"" CLIENT "\"]")),
            "azp");
    refused("azp of another client",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                 payload(now + 300, now, ",\"aud\":[\"other\",\"" CLIENT "\"],\"azp\":\"other\"")),
            "azp");
    refused("wrong nonce",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                 payload(now + 300, now, ",\"nonce\":\"" NONCE "0\"")),
            "nonce");
    refused("no nonce",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                 fmt("{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" CLIENT "\",\"exp\":%lld,\"iat\":%lld}",
                        (long long)now + 300, (long long)now)),
            "nonce");
    refused("no sub",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", payload(now + 300, now, ",\"sub\":\"\"")),
            "subject");
    refused("no exp",
            sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                 fmt("{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" CLIENT "\",\"iat\":%lld,\"nonce\":\"" NONCE "\"}",
                        (long long)now)),
            "exp");
    refused("payload that is not JSON", sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", "{\"iss\":"),
            "payload is not a JSON object");
    refused("header that is not an object", sign("RS256", "[\"RS256\"]", payload(now + 300, now, "")),
            "header is not a JSON object");
    refused("header without alg", sign("RS256", "{\"kid\":\"rsa1\"}", payload(now + 300, now, "")), "alg");
    refused("two parts", strdup("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0"), "three non-empty parts");
    refused("four parts", strdup("a.b.c.d"), "three non-empty parts");
    {
        char *t = sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", payload(now + 300, now, ""));
        char *d1 = strchr(t, '.');
        d1[1] = '+'; /* not base64url */
        refused("malformed base64url", t, "base64url");
    }
    {
        char big[GW_JWT_MAX_LEN];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        refused("oversize token",
                sign("RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", payload(now + 300, now, fmt(",\"x\":\"%s\"", big))),
                "too large");
    }

    gw_jwks_free(&jwks);
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(rsa_weak);
    EVP_PKEY_free(ec_key);
    return tap_done();
}
