/*
 * plugins/examples/firewall.c: a prompt firewall (hooks pre_auth and
 * post_auth). It blocks a request whose prompt contains one of the
 * configured phrases (case-insensitive) or matches one of the configured
 * PCRE2 patterns (with a match limit, so a bad pattern cannot hang it).
 *
 * Configuration (aistudio.plugins.config):
 *   {"phrases": ["ignore previous instructions"],
 *    "patterns": ["(?i)\\bpassword\\s*[:=]"],
 *    "status": 403, "code": "blocked_by_filter",
 *    "message": "the prompt was refused by the firewall"}
 * The prompt is the texts the gateway extracted (every wire format); a
 * request without texts is checked on its raw body.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aistudio_plugin.h"

#define MAX_RULES 64
#define MATCH_LIMIT 100000

typedef struct firewall {
    char *phrases[MAX_RULES]; /* lower-case */
    size_t nphrases;
    pcre2_code *patterns[MAX_RULES];
    size_t npatterns;
    int status;
    char code[65];
    char message[256];
} firewall;

/* Written once by configure (before any hook call), read by the hooks. */
static firewall fw;

static void lower(char *s)
{
    for (; *s != '\0'; s++)
        *s = (char)tolower((unsigned char)*s);
}

static int configure(const char *config_json, aistudio_hook hook, char *err, size_t errlen, void *user)
{
    aistudio_json root, v, e;
    aistudio_json_iter it;
    int64_t n;
    (void)hook, (void)user;

    fw.status = 403;
    snprintf(fw.code, sizeof(fw.code), "blocked_by_filter");
    snprintf(fw.message, sizeof(fw.message), "the prompt was refused by the firewall");
    if (aistudio_json_parse(config_json, &root, err, errlen) != 0)
        return -1;
    if (aistudio_json_get(&root, "phrases", &v)) {
        aistudio_json_iter_init(&it, &v);
        while (aistudio_json_next(&it, &e)) {
            char *p = aistudio_json_strdup(&e);
            if (p == NULL || p[0] == '\0' || fw.nphrases == MAX_RULES) {
                free(p);
                snprintf(err, errlen, "phrases: at most %d non-empty strings", MAX_RULES);
                return -1;
            }
            lower(p);
            fw.phrases[fw.nphrases++] = p;
        }
    }
    if (aistudio_json_get(&root, "patterns", &v)) {
        aistudio_json_iter_init(&it, &v);
        while (aistudio_json_next(&it, &e)) {
            char *p = aistudio_json_strdup(&e);
            int ec;
            PCRE2_SIZE off;
            if (p == NULL || fw.npatterns == MAX_RULES) {
                free(p);
                snprintf(err, errlen, "patterns: at most %d strings", MAX_RULES);
                return -1;
            }
            pcre2_code *re = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &off, NULL);
            if (re == NULL) {
                PCRE2_UCHAR msg[128];
                pcre2_get_error_message(ec, msg, sizeof(msg));
                snprintf(err, errlen, "pattern \"%s\" at offset %zu: %s", p, (size_t)off, (char *)msg);
                free(p);
                return -1;
            }
            free(p);
            fw.patterns[fw.npatterns++] = re;
        }
    }
    if (aistudio_json_get(&root, "status", &v)) {
        if (aistudio_json_int(&v, &n) != 0 || n < 400 || n > 599) {
            snprintf(err, errlen, "status must be an HTTP status from 400 to 599");
            return -1;
        }
        fw.status = (int)n;
    }
    if (aistudio_json_get(&root, "code", &v) && aistudio_json_string(&v, fw.code, sizeof(fw.code)) != 0) {
        snprintf(err, errlen, "code must be a string of at most 64 characters");
        return -1;
    }
    if (aistudio_json_get(&root, "message", &v) && aistudio_json_string(&v, fw.message, sizeof(fw.message)) != 0) {
        snprintf(err, errlen, "message must be a string of at most 255 characters");
        return -1;
    }
    if (fw.nphrases == 0 && fw.npatterns == 0) {
        snprintf(err, errlen, "give at least one of phrases or patterns");
        return -1;
    }
    aistudio_plugin_log("firewall: %zu phrases, %zu patterns", fw.nphrases, fw.npatterns);
    return 0;
}

/* The rule text matches, or NULL. */
static const char *check(const char *text, size_t len)
{
    const char *hit = NULL;
    char *low = malloc(len + 1);
    if (low == NULL)
        return "(out of memory)";
    memcpy(low, text, len);
    low[len] = '\0';
    lower(low);
    for (size_t i = 0; i < fw.nphrases && hit == NULL; i++)
        if (strstr(low, fw.phrases[i]) != NULL)
            hit = fw.phrases[i];
    free(low);
    if (hit != NULL || fw.npatterns == 0)
        return hit;
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(mc, MATCH_LIMIT);
    for (size_t i = 0; i < fw.npatterns && hit == NULL; i++) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(fw.patterns[i], NULL);
        int rc = pcre2_match(fw.patterns[i], (PCRE2_SPTR)text, len, 0, 0, md, mc);
        if (rc >= 0)
            hit = "a pattern";
        else if (rc == PCRE2_ERROR_MATCHLIMIT)
            hit = "a pattern (match limit reached)";
        pcre2_match_data_free(md);
    }
    pcre2_match_context_free(mc);
    return hit;
}

static void on_request(const aistudio_request *req, aistudio_result *res, void *user)
{
    const char *hit = NULL;
    (void)user;
    for (size_t i = 0; i < req->ntexts && hit == NULL; i++)
        hit = check(req->texts[i].text, strlen(req->texts[i].text));
    if (req->ntexts == 0 && req->body_len > 0)
        hit = check((const char *)req->body, req->body_len);
    if (hit != NULL) {
        aistudio_plugin_log("firewall: blocked request %s (%s)", req->ctx->request_id, hit);
        aistudio_result_block(res, fw.status, fw.code, "%s", fw.message);
    }
}

int main(int argc, char **argv)
{
    aistudio_plugin_info("com.pg-aistudio.examples.firewall", "Prompt firewall", "1.0.0",
                         "blocks prompts by phrase or regular expression");
    aistudio_plugin_on_configure(configure, NULL);
    aistudio_plugin_on_request(AISTUDIO_HOOK_BIT(AISTUDIO_HOOK_PRE_AUTH) | AISTUDIO_HOOK_BIT(AISTUDIO_HOOK_POST_AUTH),
                               on_request, NULL);
    return aistudio_plugin_serve(argc, argv);
}
