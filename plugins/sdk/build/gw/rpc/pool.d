build/gw/rpc/pool.o: ../../gatewayd/src/rpc/pool.c \
 ../../gatewayd/src/rpc/pool.h ../../gatewayd/src/base/common.h
../../gatewayd/src/rpc/pool.h:
../../gatewayd/src/base/common.h:
