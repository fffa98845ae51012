#!/bin/sh
# regress/e2e/plugins/garbage_handshake.sh: a "plugin" whose first line is not a handshake.
echo "hello, I am not a plugin"
exec sleep 60
