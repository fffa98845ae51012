build/gw/base/codec.o: ../../gatewayd/src/base/codec.c \
 ../../gatewayd/src/base/codec.h
../../gatewayd/src/base/codec.h:
