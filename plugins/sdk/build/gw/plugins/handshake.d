build/gw/plugins/handshake.o: ../../gatewayd/src/plugins/handshake.c \
 ../../gatewayd/src/plugins/handshake.h ../../gatewayd/src/base/common.h
../../gatewayd/src/plugins/handshake.h:
../../gatewayd/src/base/common.h:
