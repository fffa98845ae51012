/*
 * regress/e2e/plugins/misbehave.c: a plugin for the tests of the plugin
 * host (regress/unit/test_plugin_host.c, regress/e2e/gateway-plugins): it
 * serves every request hook and JSON answers, and misbehaves as its
 * configuration says:
 *   {"sleep_ms": N}     sleeps N ms in each request hook (a deadline test)
 *   {"exit_in_hook": 1} the process exits (status 3) in a request hook
 *   {"tag": "x"}        sets the upstream header x-test-tag: x
 * The caller may also make it sleep per request: a header x-test-sleep-ms.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aistudio_plugin.h"

static int64_t sleep_ms;
static int exit_in_hook;
static char tag[64];

static int configure(const char *config_json, aistudio_hook hook, char *err, size_t errlen, void *user)
{
    aistudio_json root, v;
    int64_t n;
    (void)hook, (void)user;
    if (aistudio_json_parse(config_json, &root, err, errlen) != 0)
        return -1;
    if (aistudio_json_get(&root, "sleep_ms", &v) && aistudio_json_int(&v, &sleep_ms) != 0) {
        snprintf(err, errlen, "sleep_ms: an integer");
        return -1;
    }
    if (aistudio_json_get(&root, "exit_in_hook", &v) && aistudio_json_int(&v, &n) == 0)
        exit_in_hook = n != 0;
    if (aistudio_json_get(&root, "tag", &v))
        aistudio_json_string(&v, tag, sizeof(tag));
    return 0;
}

static void nap(int64_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void on_request(const aistudio_request *req, aistudio_result *res, void *user)
{
    const char *s = aistudio_request_header(req, "x-test-sleep-ms");
    (void)user;
    if (exit_in_hook)
        _exit(3);
    if (sleep_ms > 0)
        nap(sleep_ms);
    if (s != NULL)
        nap(atoll(s));
    if (tag[0] != '\0')
        aistudio_result_set_header(res, "x-test-tag", tag);
}

static void on_response(const aistudio_response *resp, aistudio_result *res, void *user)
{
    (void)resp, (void)res, (void)user;
    if (sleep_ms > 0)
        nap(sleep_ms);
}

int main(int argc, char **argv)
{
    aistudio_plugin_info("test.misbehave", "Misbehaving test plugin", "0.1", "sleeps or exits on request");
    aistudio_plugin_on_configure(configure, NULL);
    aistudio_plugin_on_request(AISTUDIO_HOOK_BIT(AISTUDIO_HOOK_PRE_AUTH) | AISTUDIO_HOOK_BIT(AISTUDIO_HOOK_AUTH) |
                                   AISTUDIO_HOOK_BIT(AISTUDIO_HOOK_POST_AUTH),
                               on_request, NULL);
    aistudio_plugin_on_response(on_response, NULL);
    return aistudio_plugin_serve(argc, argv);
}
