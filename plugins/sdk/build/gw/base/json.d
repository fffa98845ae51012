build/gw/base/json.o: ../../gatewayd/src/base/json.c \
 ../../gatewayd/src/base/json.h ../../gatewayd/src/base/buf.h \
 ../../gatewayd/src/base/common.h ../../gatewayd/src/base/codec.h
../../gatewayd/src/base/json.h:
../../gatewayd/src/base/buf.h:
../../gatewayd/src/base/common.h:
../../gatewayd/src/base/codec.h:
