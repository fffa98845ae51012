#!/usr/bin/env python3
# regress/e2e/plugins/garbage_answers.py: a plugin (Python's grpcio) that
# starts correctly (manifest: post_auth; configure; health) and then answers
# every hook call with bytes that are not a HookResult.
import os, signal, sys, threading
from concurrent import futures
import grpc

SVC = 'aistudio.v1.PluginService'
# Manifest{id:"test.garbage" (1), hooks:[HOOK_POST_AUTH] (5), protocol_version:1 (7)}
MANIFEST = b'\x0a\x0ctest.garbage' + b'\x2a\x01\x03' + b'\x38\x01'
HEALTHY = b'\x08\x01'  # HealthResponse{serving:true}
GARBAGE = b'\xff\xff\xff\xff\xff'

def unary(answer):
    return grpc.unary_unary_rpc_method_handler(lambda req, ctx: answer)

handlers = {
    'GetManifest': unary(MANIFEST),
    'Configure': unary(b''),
    'Health': unary(HEALTHY),
    'HandleRequest': unary(GARBAGE),
    'HandleResponse': unary(GARBAGE),
}
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SVC, handlers),))
sock = os.path.join(os.environ['AISTUDIO_PLUGIN_DIR'], 'plugin.sock')
server.add_insecure_port('unix:' + sock)
server.start()
print('AISTUDIO_PLUGIN 1 unix:' + sock, flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
done.wait()
server.stop(0)
