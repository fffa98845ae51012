build/gw/base/vjson.o: ../../gatewayd/src/base/vjson.c \
 ../../gatewayd/src/base/vjson.h ../../gatewayd/src/base/buf.h \
 ../../gatewayd/src/base/common.h ../../gatewayd/src/base/json.h
../../gatewayd/src/base/vjson.h:
../../gatewayd/src/base/buf.h:
../../gatewayd/src/base/common.h:
../../gatewayd/src/base/json.h:
