/*
 * src/plugins/handshake.h: the one line a plugin process prints on its
 * stdout once it serves (docs/plugins.md, proto/aistudio/v1/plugin.proto):
 *
 *     AISTUDIO_PLUGIN <protocol version> unix:<absolute socket path>\n
 *
 * The host (plugins/host.c) parses it; the C SDK (plugins/sdk) formats it
 * with the same constants. The host gives the plugin a private directory in
 * the environment variable GW_PLUGIN_DIR_ENV and accepts a socket only
 * inside it.
 */
#ifndef GW_PLUGINS_HANDSHAKE_H
#define GW_PLUGINS_HANDSHAKE_H

#include <stddef.h>

#include "base/common.h"

#define GW_PLUGIN_MAGIC "AISTUDIO_PLUGIN"
#define GW_PLUGIN_PROTOCOL 1
/* The environment variables the host sets for a plugin. */
#define GW_PLUGIN_DIR_ENV "AISTUDIO_PLUGIN_DIR"   /* its private 0700 directory */
#define GW_PLUGIN_NAME_ENV "AISTUDIO_PLUGIN_NAME" /* aistudio.plugins.name */
/* The longest handshake line read (the newline included). */
#define GW_PLUGIN_HANDSHAKE_MAX 512
/* A unix socket path: sun_path is 108 bytes with its NUL. */
#define GW_PLUGIN_SOCKET_PATH_MAX 107

typedef struct gw_plugin_handshake {
    int version;
    char path[GW_PLUGIN_SOCKET_PATH_MAX + 1]; /* the socket */
    char target[GW_PLUGIN_SOCKET_PATH_MAX + 6]; /* "unix:" + path, for the rpc client */
} gw_plugin_handshake;

/*
 * Parses one line (without its newline; a trailing '\r' is allowed). dir,
 * when not NULL, is the directory the socket must be directly inside. -1
 * with err saying what was wrong and quoting (printable bytes of) the line.
 */
int gw_plugin_handshake_parse(const char *line, size_t len, const char *dir, gw_plugin_handshake *out,
                              char err[GW_ERR_LEN]);
/* Formats the line (newline included) into out; -1 when it does not fit or
 * the path is not absolute. */
int gw_plugin_handshake_format(const char *socket_path, char *out, size_t cap);

#endif
