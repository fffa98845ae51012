build/gw/base/buf.o: ../../gatewayd/src/base/buf.c \
 ../../gatewayd/src/base/buf.h ../../gatewayd/src/base/common.h
../../gatewayd/src/base/buf.h:
../../gatewayd/src/base/common.h:
