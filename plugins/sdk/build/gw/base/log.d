build/gw/base/log.o: ../../gatewayd/src/base/log.c \
 ../../gatewayd/src/base/log.h ../../gatewayd/src/base/common.h \
 ../../gatewayd/src/base/codec.h
../../gatewayd/src/base/log.h:
../../gatewayd/src/base/common.h:
../../gatewayd/src/base/codec.h:
