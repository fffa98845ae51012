/*
 * plugins/examples/custom_auth.c: a custom authentication plugin (hook
 * auth). A caller proves which app it is with a signed header instead of an
 * app key:
 *
 *     x-signed-app: <app_id>.<hex HMAC-SHA256(secret, app_id)>
 *
 * A valid signature authenticates the request as that app (the gateway then
 * checks the app exists, is active and may use the LLM, as for a key). A
 * bad signature is refused with 401 invalid_signature. A request without
 * the header goes on to the gateway's own API-key check, unless
 * "required" is true (then 401 signature_required).
 *
 * Configuration: {"secret": "...", "header": "x-signed-app", "required": false}
 * (the secret is at least 16 characters; the configuration is readable by
 * admins: give this plugin a secret of its own).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aistudio_plugin.h"

static char secret[256];
static char header[64] = "x-signed-app";
static int required;

static int configure(const char *config_json, aistudio_hook hook, char *err, size_t errlen, void *user)
{
    aistudio_json root, v;
    (void)user;
    if (hook != AISTUDIO_HOOK_AUTH) {
        snprintf(err, errlen, "this plugin serves the auth hook, not %s", aistudio_hook_name(hook));
        return -1;
    }
    if (aistudio_json_parse(config_json, &root, err, errlen) != 0)
        return -1;
    if (!aistudio_json_get(&root, "secret", &v) || aistudio_json_string(&v, secret, sizeof(secret)) != 0 ||
        strlen(secret) < 16) {
        snprintf(err, errlen, "secret: a string of 16 to 255 characters is required");
        return -1;
    }
    if (aistudio_json_get(&root, "header", &v) &&
        (aistudio_json_string(&v, header, sizeof(header)) != 0 || header[0] == '\0')) {
        snprintf(err, errlen, "header: a header name of at most 63 characters");
        return -1;
    }
    if (aistudio_json_get(&root, "required", &v) && aistudio_json_bool(&v, &required) != 0) {
        snprintf(err, errlen, "required: true or false");
        return -1;
    }
    return 0;
}

/* 1 when sig_hex is the HMAC of id under the secret. */
static int signature_ok(const char *id, size_t id_len, const char *sig_hex)
{
    unsigned char mac[EVP_MAX_MD_SIZE], given[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    size_t n = strlen(sig_hex);
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)id, id_len, mac, &mac_len) == NULL ||
        n != (size_t)mac_len * 2)
        return 0;
    for (size_t i = 0; i < mac_len; i++) {
        unsigned int b;
        if (sscanf(sig_hex + 2 * i, "%2x", &b) != 1)
            return 0;
        given[i] = (unsigned char)b;
    }
    return CRYPTO_memcmp(mac, given, mac_len) == 0;
}

static void on_request(const aistudio_request *req, aistudio_result *res, void *user)
{
    const char *v = aistudio_request_header(req, header);
    (void)user;
    if (v == NULL) {
        if (required)
            aistudio_result_block(res, 401, "signature_required", "the %s header is required", header);
        return; /* the gateway's API-key check decides */
    }
    const char *dot = strchr(v, '.');
    char *end = NULL;
    long long app = dot != NULL ? strtoll(v, &end, 10) : 0;
    if (dot == NULL || end != dot || app <= 0 || !signature_ok(v, (size_t)(dot - v), dot + 1)) {
        aistudio_result_block(res, 401, "invalid_signature", "the %s header is not validly signed", header);
        return;
    }
    aistudio_result_set_caller(res, app, 0);
}

int main(int argc, char **argv)
{
    aistudio_plugin_info("com.pg-aistudio.examples.custom-auth", "Signed-app authentication", "1.0.0",
                         "authenticates apps by an HMAC-signed header");
    aistudio_plugin_on_configure(configure, NULL);
    aistudio_plugin_on_request(AISTUDIO_HOOK_BIT(AISTUDIO_HOOK_AUTH), on_request, NULL);
    return aistudio_plugin_serve(argc, argv);
}
