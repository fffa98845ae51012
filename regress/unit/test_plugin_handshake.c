/*
 * regress/unit/test_plugin_handshake.c: the plugin handshake line
 * (gatewayd/src/plugins/handshake.c): what the host accepts, what it
 * refuses and how it says so, and the SDK's formatting read back.
 */
#include "plugins/handshake.c"

#include "tap.h"

#define DIR_ "/tmp/aistudio-plugins.abc/7-1"

static int parse(const char *line, gw_plugin_handshake *hs, char *err)
{
    err[0] = '\0';
    return gw_plugin_handshake_parse(line, strlen(line), DIR_, hs, err);
}

int main(void)
{
    gw_plugin_handshake hs;
    char err[GW_ERR_LEN], line[GW_PLUGIN_HANDSHAKE_MAX], long_path[256];

    is_int(parse("AISTUDIO_PLUGIN 1 unix:" DIR_ "/plugin.sock", &hs, err), 0, "a valid line is accepted");
    is_int(hs.version, 1, "its version");
    is_str(hs.path, DIR_ "/plugin.sock", "its socket path");
    is_str(hs.target, "unix:" DIR_ "/plugin.sock", "the rpc target");
    is_int(parse("AISTUDIO_PLUGIN 1 unix:" DIR_ "/p.sock\r", &hs, err), 0, "a trailing CR is allowed");
    is_str(hs.path, DIR_ "/p.sock", "without the CR");

    is_int(parse("hello, I am not a plugin", &hs, err), -1, "garbage is refused");
    has_str(err, "not a plugin handshake: \"hello, I am not a plugin\"", "the error quotes what it got");
    is_int(parse("AISTUDIO_PLUGIN \x01\x02 unix:/x", &hs, err), -1, "a missing version is refused");
    has_str(err, "without a protocol version", "... and said so");
    lacks_str(err, "\x01", "control characters are not echoed");
    is_int(parse("AISTUDIO_PLUGIN 2 unix:" DIR_ "/plugin.sock", &hs, err), -1, "another protocol version is refused");
    has_str(err, "protocol version 2 is not supported (this gateway speaks 1)", "... naming both versions");
    is_int(parse("AISTUDIO_PLUGIN 99999999999999999999 unix:/x", &hs, err), -1, "an absurd version is refused");
    has_str(err, "is not supported", "... without overflowing");
    is_int(parse("AISTUDIO_PLUGIN 1 tcp:127.0.0.1:5000", &hs, err), -1, "a non-unix address is refused");
    has_str(err, "unix:<socket>", "... saying what is expected");
    is_int(parse("AISTUDIO_PLUGIN 1 unix:plugin.sock", &hs, err), -1, "a relative socket path is refused");
    has_str(err, "not absolute", "... and said so");
    is_int(parse("AISTUDIO_PLUGIN 1 unix:/tmp/elsewhere/plugin.sock", &hs, err), -1,
           "a socket outside the plugin's directory is refused");
    has_str(err, "is not in the plugin's directory", "... and said so");
    is_int(parse("AISTUDIO_PLUGIN 1 unix:" DIR_ "/sub/plugin.sock", &hs, err), -1, "a socket in a subdirectory too");
    is_int(parse("AISTUDIO_PLUGIN 1 unix:" DIR_ "/..", &hs, err), -1, "\"..\" is refused");
    is_int(parse("AISTUDIO_PLUGIN 1 unix:" DIR_ "x/plugin.sock", &hs, err), -1, "a sibling directory is refused");
    is_int(parse("AISTUDIO_PLUGIN 1 unix:" DIR_ "/a b", &hs, err), -1, "a space in the path is refused");
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[sizeof(long_path) - 1] = '\0';
    snprintf(line, sizeof(line), "AISTUDIO_PLUGIN 1 unix:/%s", long_path);
    is_int(parse(line, &hs, err), -1, "a socket path longer than a unix socket allows is refused");
    has_str(err, "longer than 107 bytes", "... and said so");
    is_int(parse("", &hs, err), -1, "an empty line is refused");

    /* without a directory to check (a plugin started by hand) */
    is_int(gw_plugin_handshake_parse("AISTUDIO_PLUGIN 1 unix:/run/x.sock", 34, NULL, &hs, err), 0,
           "any absolute path without a directory to check");

    /* the SDK's line, read back */
    is_int(gw_plugin_handshake_format(DIR_ "/plugin.sock", line, sizeof(line)), 0, "the SDK formats the line");
    is_str(line, "AISTUDIO_PLUGIN 1 unix:" DIR_ "/plugin.sock\n", "with its newline");
    is_int(gw_plugin_handshake_parse(line, strlen(line) - 1, DIR_, &hs, err), 0, "and the host accepts it");
    is_int(gw_plugin_handshake_format("relative.sock", line, sizeof(line)), -1, "no line for a relative path");
    is_int(gw_plugin_handshake_format(DIR_ "/plugin.sock", line, 10), -1, "nor when it does not fit");
    return tap_done();
}
