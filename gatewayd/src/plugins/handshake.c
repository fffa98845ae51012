/*
 * src/plugins/handshake.c: the plugin handshake line, parsed by the host and
 * formatted by the SDK (see handshake.h).
 */
#include "plugins/handshake.h"

#include <stdio.h>
#include <string.h>

/* A printable excerpt of what the plugin sent, for the error message. */
static const char *gw_handshake_quote(const char *line, size_t len, char *out, size_t cap)
{
    size_t n = 0, max = cap - 4; /* room for "..." and the NUL */
    for (; n < len && n < max; n++) {
        unsigned char c = (unsigned char)line[n];
        out[n] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
    }
    if (n < len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

int gw_plugin_handshake_parse(const char *line, size_t len, const char *dir, gw_plugin_handshake *out,
                              char err[GW_ERR_LEN])
{
    static const char magic[] = GW_PLUGIN_MAGIC " ";
    char q[96];
    size_t i, plen;
    long version = 0;

    memset(out, 0, sizeof(*out));
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len < sizeof(magic) - 1 || memcmp(line, magic, sizeof(magic) - 1) != 0)
        return gw_errf(err, "not a plugin handshake: \"%s\" (expected \"%s %d unix:<socket>\")",
                       gw_handshake_quote(line, len, q, sizeof(q)), GW_PLUGIN_MAGIC, GW_PLUGIN_PROTOCOL);
    i = sizeof(magic) - 1;
    if (i >= len || line[i] < '0' || line[i] > '9')
        return gw_errf(err, "handshake without a protocol version: \"%s\"", gw_handshake_quote(line, len, q, sizeof(q)));
    for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
        version = version * 10 + (line[i] - '0');
        if (version > 1000000)
            break;
    }
    if (version != GW_PLUGIN_PROTOCOL)
        return gw_errf(err, "plugin protocol version %s%ld is not supported (this gateway speaks %d)",
                       version > 1000000 ? ">" : "", version, GW_PLUGIN_PROTOCOL);
    if (len - i < 6 || memcmp(line + i, " unix:", 6) != 0)
        return gw_errf(err, "handshake without \" unix:<socket>\" after the version: \"%s\"",
                       gw_handshake_quote(line, len, q, sizeof(q)));
    i += 6;
    plen = len - i;
    if (plen == 0 || line[i] != '/')
        return gw_errf(err, "the handshake's socket path is not absolute: \"%s\"",
                       gw_handshake_quote(line, len, q, sizeof(q)));
    if (plen > GW_PLUGIN_SOCKET_PATH_MAX)
        return gw_errf(err, "the handshake's socket path is longer than %d bytes", GW_PLUGIN_SOCKET_PATH_MAX);
    for (size_t k = i; k < len; k++) {
        unsigned char c = (unsigned char)line[k];
        if (c <= 0x20 || c == 0x7f)
            return gw_errf(err, "the handshake's socket path has a space or control character: \"%s\"",
                           gw_handshake_quote(line, len, q, sizeof(q)));
    }
    memcpy(out->path, line + i, plen);
    out->path[plen] = '\0';
    if (dir != NULL) {
        size_t dl = strlen(dir);
        const char *name = out->path + dl + 1;
        if (strncmp(out->path, dir, dl) != 0 || out->path[dl] != '/' || *name == '\0' || strchr(name, '/') != NULL ||
            strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            return gw_errf(err, "the handshake's socket %s is not in the plugin's directory %s", out->path, dir);
    }
    out->version = (int)version;
    snprintf(out->target, sizeof(out->target), "unix:%s", out->path);
    return 0;
}

int gw_plugin_handshake_format(const char *socket_path, char *out, size_t cap)
{
    if (socket_path == NULL || socket_path[0] != '/' || strlen(socket_path) > GW_PLUGIN_SOCKET_PATH_MAX)
        return -1;
    int n = snprintf(out, cap, "%s %d unix:%s\n", GW_PLUGIN_MAGIC, GW_PLUGIN_PROTOCOL, socket_path);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}
