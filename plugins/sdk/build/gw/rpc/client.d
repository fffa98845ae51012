build/gw/rpc/client.o: ../../gatewayd/src/rpc/client.c \
 ../../gatewayd/src/base/log.h ../../gatewayd/src/base/common.h \
 ../../gatewayd/src/rpc/rpc_int.h ../../gatewayd/src/rpc/pool.h \
 ../../gatewayd/src/rpc/rpc.h
../../gatewayd/src/base/log.h:
../../gatewayd/src/base/common.h:
../../gatewayd/src/rpc/rpc_int.h:
../../gatewayd/src/rpc/pool.h:
../../gatewayd/src/rpc/rpc.h:
