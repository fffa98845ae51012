build/gw/rpc/core.o: ../../gatewayd/src/rpc/core.c \
 ../../gatewayd/src/base/log.h ../../gatewayd/src/base/common.h \
 ../../gatewayd/src/rpc/rpc_int.h ../../gatewayd/src/rpc/pool.h \
 ../../gatewayd/src/rpc/rpc.h
../../gatewayd/src/base/log.h:
../../gatewayd/src/base/common.h:
../../gatewayd/src/rpc/rpc_int.h:
../../gatewayd/src/rpc/pool.h:
../../gatewayd/src/rpc/rpc.h:
