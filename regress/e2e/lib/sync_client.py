#!/usr/bin/env python3
"""regress/e2e/lib/sync_client.py: an independent gRPC peer of gatewayd's
control plane, written with Debian's python3-grpcio and python3-protobuf
and the Python code protoc generates from proto/aistudio/v1/*.proto (no
code of gatewayd). regress/e2e/gateway-sync.test.mjs runs it in two roles:

  sync_client.py GEN_DIR client HOST:PORT SPEC.json
      calls a real hub as an edge would (and as no edge should): prints one
      JSON object per check on stdout, {"check": name, ...observations};
      the test asserts on them.

  sync_client.py GEN_DIR fakehub PORT_FILE SPEC.json
      a hub that lies: it serves a snapshot under a checksum that is not
      its own, or a stream of bytes that are not HubMessages, so that the
      test sees what a real edge does with them. Writes its port to
      PORT_FILE and serves until killed; prints one JSON line per call.
"""
import json
import os
import sys
import threading
import time
from concurrent import futures

GEN = sys.argv[1]
sys.path.insert(0, GEN)

import grpc  # noqa: E402
from aistudio.v1 import snapshot_pb2, sync_pb2  # noqa: E402

SVC = "/aistudio.v1.Sync/"


OUT_LOCK = threading.Lock()


def out(**kw):
    # one whole line per call: the fake hub answers from several threads
    line = json.dumps(kw) + "\n"
    with OUT_LOCK:
        sys.stdout.write(line)
        sys.stdout.flush()


def md(token, edge_id, ns):
    return [("authorization", "Bearer " + token), ("x-aistudio-edge-id", edge_id), ("x-aistudio-namespace", ns)]


def code_of(e):
    return e.code().name if isinstance(e, grpc.RpcError) else "OK"


def unary(ch, method, req_cls, resp_cls):
    return ch.unary_unary(SVC + method, request_serializer=req_cls.SerializeToString,
                          response_deserializer=resp_cls.FromString)


def client(target, spec):
    ch = grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20),
                                                ("grpc.max_receive_message_length", 64 << 20)])
    grpc.channel_ready_future(ch).result(timeout=20)
    good = md(spec["shared_token"], spec["edge_id"], spec["ns"])

    register = unary(ch, "RegisterEdge", sync_pb2.RegisterRequest, sync_pb2.RegisterResponse)
    r = register(sync_pb2.RegisterRequest(edge_id=spec["edge_id"], namespace=spec["ns"], version="python-1",
                                          heartbeat_interval_s=5), metadata=good, timeout=10)
    out(check="register", expected=r.expected_checksum, interval=r.heartbeat_interval_s, hub_id=r.hub_id)

    pull = unary(ch, "PullSnapshot", sync_pb2.SnapshotRequest, sync_pb2.SnapshotResponse)
    p = pull(sync_pb2.SnapshotRequest(namespace=spec["ns"]), metadata=good, timeout=10)
    snap = snapshot_pb2.Snapshot.FromString(p.snapshot)
    key_ids = sorted({l.api_key.key_id for l in snap.llms if l.api_key.ciphertext} |
                     {s.value.key_id for s in snap.secrets if s.value.ciphertext})
    out(check="pull", checksum=p.checksum, unchanged=p.unchanged, namespace=snap.namespace,
        llms=sorted(l.name for l in snap.llms), llm_namespaces=sorted({l.namespace for l in snap.llms}),
        key_ids=key_ids, bytes=len(p.snapshot))
    p2 = pull(sync_pb2.SnapshotRequest(namespace=spec["ns"], have_checksum=p.checksum), metadata=good, timeout=10)
    out(check="pull_unchanged", unchanged=p2.unchanged, bytes=len(p2.snapshot))
    try:
        pull(sync_pb2.SnapshotRequest(namespace=spec["other_ns"]), metadata=good, timeout=10)
        out(check="pull_other_namespace", code="OK")
    except grpc.RpcError as e:
        out(check="pull_other_namespace", code=code_of(e), details=e.details())

    validate = unary(ch, "ValidateCredential", sync_pb2.CredentialRequest, sync_pb2.CredentialResponse)
    for name, sha in spec["key_hashes"].items():
        v = validate(sync_pb2.CredentialRequest(key_sha256=sha), metadata=good, timeout=10)
        out(check="validate", key=name, found=v.found, app_id=v.credential.app_id, app_name=v.credential.app_name,
            llm_ids=list(v.credential.llm_ids))

    upload = unary(ch, "UploadAnalytics", sync_pb2.AnalyticsBatch, sync_pb2.AnalyticsAck)
    ev = sync_pb2.AnalyticsEvent(timestamp=spec["event"]["timestamp"], request_id=spec["event"]["request_id"],
                                 app_id=spec["event"]["app_id"], llm_id=spec["event"]["llm_id"], vendor="openai",
                                 model_name="gpt-4o", prompt_tokens=10, response_tokens=5, latency_ms=12,
                                 interaction_type="proxy", status_code=200)
    for attempt in (1, 2):
        a = upload(sync_pb2.AnalyticsBatch(events=[ev], batch_seq=attempt), metadata=good, timeout=10)
        out(check="upload", attempt=attempt, inserted=a.inserted, duplicates=a.duplicates, rejected=a.rejected,
            acked=list(a.acked_request_ids), seq=a.batch_seq)

    lease = unary(ch, "Lease", sync_pb2.LeaseRequest, sync_pb2.LeaseResponse)
    L = lease(sync_pb2.LeaseRequest(op=sync_pb2.LeaseRequest.ACQUIRE, subject=sync_pb2.LeaseRequest.APP,
                                    subject_id=spec["lease_app_id"], want_nanos=1000, spent_nanos=0),
              metadata=good, timeout=10)
    out(check="lease", has_budget=L.has_budget, granted=L.granted_nanos, period_start=L.period_start,
        period_end=L.period_end)
    try:
        lease(sync_pb2.LeaseRequest(op=0, subject=sync_pb2.LeaseRequest.APP, subject_id=1), metadata=good, timeout=10)
        out(check="lease_bad_op", code="OK")
    except grpc.RpcError as e:
        out(check="lease_bad_op", code=code_of(e), details=e.details())

    # refusals: a wrong token, an edge that is not enrolled, no metadata
    for name, m in (("wrong_token", md("aie_not-the-token", spec["enrolled_edge"], spec["ns"])),
                    ("unknown_edge", md("aie_" + "x" * 43, "edge-nobody-knows", spec["ns"])),
                    ("no_metadata", [])):
        try:
            register(sync_pb2.RegisterRequest(edge_id=spec["enrolled_edge"], namespace=spec["ns"]), metadata=m,
                     timeout=10)
            out(check="refused", case=name, code="OK")
        except grpc.RpcError as e:
            out(check="refused", case=name, code=code_of(e), details=e.details())

    # bad input: bytes that are not the message, a message over the limit
    raw = ch.unary_unary(SVC + "RegisterEdge")
    for name, payload in (("malformed", b"\xff\xff\xff\xff\x0f garbage"),
                          ("oversized", b"\x0a" + b"\xff\xff\xff\x08" + b"x" * (17 << 20))):
        try:
            raw(payload, metadata=good, timeout=30)
            out(check="bad_input", case=name, code="OK")
        except grpc.RpcError as e:
            out(check="bad_input", case=name, code=code_of(e), details=(e.details() or "")[:200])

    # a Connect stream: a malformed message ends it; one that never sends
    # anything is ended by the hub
    connect = ch.stream_stream(SVC + "Connect")
    try:
        list(connect(iter([b"\xff\xff\xff\xff"]), metadata=good, timeout=30))
        out(check="stream_malformed", code="OK")
    except grpc.RpcError as e:
        out(check="stream_malformed", code=code_of(e), details=e.details())

    silence = threading.Event()

    def quiet():
        silence.wait(60)
        return
        yield  # a generator that sends nothing

    t0 = time.monotonic()
    try:
        list(connect(quiet(), metadata=good, timeout=60))
        out(check="stream_silent", code="OK", seconds=time.monotonic() - t0)
    except grpc.RpcError as e:
        out(check="stream_silent", code=code_of(e), details=e.details(), seconds=round(time.monotonic() - t0, 2))
    silence.set()

    # a stream that heartbeats gets answers with the expected checksum
    def beats():
        for i in range(1, 3):
            yield sync_pb2.EdgeMessage(heartbeat=sync_pb2.Heartbeat(
                loaded_checksum=p.checksum, version="python-1", seq=i, heartbeat_interval_s=5,
                metrics=sync_pb2.EdgeMetrics(requests=3, errors=1, p50_ms=12.5, p99_ms=40,
                                             prompt_tokens=30, response_tokens=15, since_ms=5000))).SerializeToString()
            time.sleep(0.8)

    acks = []
    try:
        for m in connect(beats(), metadata=good, timeout=15):
            hm = sync_pb2.HubMessage.FromString(m)
            if hm.HasField("heartbeat_ack"):
                acks.append({"seq": hm.heartbeat_ack.seq, "in_sync": hm.heartbeat_ack.in_sync,
                             "expected": hm.heartbeat_ack.expected_checksum})
        out(check="stream_heartbeats", code="OK", acks=acks)
    except grpc.RpcError as e:
        out(check="stream_heartbeats", code=code_of(e), details=e.details(), acks=acks)
    ch.close()
    return 0


def fakehub(port_file, spec):
    """A hub whose snapshot does not match the checksum it announces
    (spec.mode = "bad_checksum"), or that streams garbage ("garbage")."""
    snapshot = bytes.fromhex(spec["snapshot_hex"])
    mode = spec["mode"]

    def register(req, ctx):
        out(call="RegisterEdge", edge_id=req.edge_id, loaded=req.loaded_checksum)
        return sync_pb2.RegisterResponse(expected_checksum=spec["announced"], heartbeat_interval_s=1,
                                         hub_id="fake-hub").SerializeToString()

    def pull(req, ctx):
        out(call="PullSnapshot", namespace=req.namespace)
        return sync_pb2.SnapshotResponse(snapshot=snapshot, checksum=spec["announced"]).SerializeToString()

    def connect(it, ctx):
        out(call="Connect")
        if mode == "garbage":
            yield b"\xff\xff\xff\xff\x0f not a HubMessage"
        else:
            yield sync_pb2.HubMessage(reload=sync_pb2.Reload(push_id=77, namespace="eu",
                                                             expected_checksum=spec["announced"])).SerializeToString()
        for raw in it:
            m = sync_pb2.EdgeMessage.FromString(raw)
            if m.HasField("progress"):
                out(call="progress", push_id=m.progress.push_id, phase=sync_pb2.PushProgress.Phase.Name(m.progress.phase),
                    checksum=m.progress.checksum, reason=m.progress.reason)
            elif m.HasField("heartbeat"):
                out(call="heartbeat", loaded=m.heartbeat.loaded_checksum)

    handler = grpc.method_handlers_generic_handler("aistudio.v1.Sync", {
        "RegisterEdge": grpc.unary_unary_rpc_method_handler(lambda raw, ctx: register(
            sync_pb2.RegisterRequest.FromString(raw), ctx)),
        "PullSnapshot": grpc.unary_unary_rpc_method_handler(lambda raw, ctx: pull(
            sync_pb2.SnapshotRequest.FromString(raw), ctx)),
        "Connect": grpc.stream_stream_rpc_method_handler(connect),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(port_file + ".tmp", port_file)
    server.wait_for_termination()
    return 0


def main():
    role = sys.argv[2]
    if role == "client":
        with open(sys.argv[4]) as f:
            return client(sys.argv[3], json.load(f))
    if role == "fakehub":
        with open(sys.argv[4]) as f:
            return fakehub(sys.argv[3], json.load(f))
    print("usage: sync_client.py GEN_DIR client HOST:PORT SPEC | fakehub PORT_FILE SPEC", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
