#!/bin/sh
# regress/e2e/plugins/wrong_version.sh: a handshake of a protocol version this gateway does not speak.
echo "AISTUDIO_PLUGIN 2 unix:$AISTUDIO_PLUGIN_DIR/plugin.sock"
exec sleep 60
