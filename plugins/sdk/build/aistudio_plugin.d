build/aistudio_plugin.o: aistudio_plugin.c aistudio_plugin.h \
 build/gen/aistudio/v1/plugin.pb-c.h ../../gatewayd/src/base/json.h \
 ../../gatewayd/src/base/buf.h ../../gatewayd/src/base/common.h \
 ../../gatewayd/src/base/log.h ../../gatewayd/src/base/vjson.h \
 ../../gatewayd/src/plugins/handshake.h ../../gatewayd/src/rpc/rpc.h
aistudio_plugin.h:
build/gen/aistudio/v1/plugin.pb-c.h:
../../gatewayd/src/base/json.h:
../../gatewayd/src/base/buf.h:
../../gatewayd/src/base/common.h:
../../gatewayd/src/base/log.h:
../../gatewayd/src/base/vjson.h:
../../gatewayd/src/plugins/handshake.h:
../../gatewayd/src/rpc/rpc.h:
