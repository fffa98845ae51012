#!/usr/bin/env python3
"""regress/unit/rpc_interop.py: an independent gRPC client (Debian's
python3-grpcio, generic calls on raw bytes, no generated code) against the
echo server of regress/unit/test_rpc.c, proving that src/rpc speaks real gRPC
on the wire. test_rpc starts its server and runs:

    python3 rpc_interop.py HOST:PORT TOKEN

Prints one line per check, "ok - what" or "not ok - what: why", which
test_rpc turns into TAP lines; exits 1 when a check failed.
"""
import sys

import grpc


def main():
    target, token = sys.argv[1], sys.argv[2]
    good = [("authorization", "Bearer " + token)]
    results = []

    def check(what, cond, why=""):
        results.append(cond)
        print(("ok - " if cond else "not ok - ") + what + ("" if cond else ": " + why), flush=True)

    with grpc.insecure_channel(target) as channel:
        say = channel.unary_unary("/test.Echo/Say")
        try:
            reply = say(b"hello from python", metadata=good, timeout=10)
            check("python unary call echoed", reply == b"hello from python", repr(reply))
        except grpc.RpcError as e:
            check("python unary call echoed", False, "%s %s" % (e.code(), e.details()))

        binary = bytes(range(256)) * 4
        try:
            reply = say(binary, metadata=good, timeout=10)
            check("python unary call with binary bytes", reply == binary, "%d bytes back" % len(reply))
        except grpc.RpcError as e:
            check("python unary call with binary bytes", False, "%s %s" % (e.code(), e.details()))

        try:
            say(b"x", metadata=[("authorization", "Bearer wrong")], timeout=10)
            check("python call with a bad token is refused", False, "it succeeded")
        except grpc.RpcError as e:
            check("python call with a bad token is refused (UNAUTHENTICATED)",
                  e.code() == grpc.StatusCode.UNAUTHENTICATED, str(e.code()))

        try:
            say(b"fail", metadata=good, timeout=10)
            check("python sees a handler's status", False, "it succeeded")
        except grpc.RpcError as e:
            check("python sees a handler's status and message (NOT_FOUND)",
                  e.code() == grpc.StatusCode.NOT_FOUND and e.details() == "no such thing",
                  "%s %s" % (e.code(), e.details()))

        chat = channel.stream_stream("/test.Echo/Chat")
        sent = [b"one", b"two", b"three", b""]
        try:
            got = list(chat(iter(sent), metadata=good, timeout=10))
            check("python bidi stream echoed in order", got == sent, repr(got))
        except grpc.RpcError as e:
            check("python bidi stream echoed in order", False, "%s %s" % (e.code(), e.details()))

        watch = channel.unary_stream("/test.Echo/Watch")
        try:
            got = list(watch(b"3", metadata=good, timeout=10))
            check("python server-streaming call", got == [b"watch-0", b"watch-1", b"watch-2"], repr(got))
        except grpc.RpcError as e:
            check("python server-streaming call", False, "%s %s" % (e.code(), e.details()))

        nothing = channel.unary_unary("/test.Echo/Nothing")
        try:
            nothing(b"", metadata=good, timeout=10)
            check("python unknown method", False, "it succeeded")
        except grpc.RpcError as e:
            check("python unknown method is UNIMPLEMENTED", e.code() == grpc.StatusCode.UNIMPLEMENTED,
                  str(e.code()))

    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
