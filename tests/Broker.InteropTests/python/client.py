"""Echo client on grpcio (a real gRPC implementation) for the interop tests.

Usage: client.py STUB_DIR TARGET CASE [CALL_ID]. Runs one case against TARGET (host:port; h2c, or TLS when
INTEROP_ROOT_CERT names a PEM root certificate) and prints one JSON object with what it observed; the C# test
asserts on it.
"""
import json
import os
import queue
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
import interop_pb2 as pb  # noqa: E402
import interop_pb2_grpc  # noqa: E402

MB = 1024 * 1024


def code_of(error):
    return error.code().name


def unary(stub, call_id):
    r = stub.Unary(pb.EchoRequest(message="hello"), metadata=[("authorization", "Bearer key-1")], timeout=30)
    return {"message": r.message, "authorization": r.authorization, "peer": r.peer}


def client_stream(stub, call_id):
    requests = (pb.EchoRequest(message=m, payload=b"x" * 10) for m in ["a", "b", "c", "d", "e"])
    r = stub.ClientStream(requests, timeout=30)
    return {"message": r.message, "received_size": r.received_size}


def server_stream(stub, call_id):
    replies = list(stub.ServerStream(pb.EchoRequest(message="s", count=5), timeout=30))
    return {"indices": [r.index for r in replies], "messages": [r.message for r in replies]}


def bidi(stub, call_id):
    # Interleaved: each request is sent only after the reply to the previous one arrived.
    outbox = queue.Queue()

    def requests():
        while True:
            item = outbox.get()
            if item is None:
                return
            yield item

    call = stub.Bidi(requests(), timeout=30)
    got = []
    for i in range(5):
        outbox.put(pb.EchoRequest(message="m%d" % i))
        got.append(next(call).message)
    outbox.put(None)
    rest = list(call)
    return {"messages": got, "rest": len(rest), "code": call.code().name}


def error(stub, call_id):
    detail = "Schlüssel ungültig: 100% ✗ — 鍵"
    out = {"detail_sent": detail}
    try:
        stub.Unary(pb.EchoRequest(error_code=3, error_message=detail), timeout=30)
        out["unary_code"] = "OK"
    except grpc.RpcError as e:
        out["unary_code"], out["unary_details"] = code_of(e), e.details()
    # After messages: the status travels in real trailers, not trailers-only.
    received = 0
    try:
        for _ in stub.ServerStream(pb.EchoRequest(count=2, error_code=9, error_message=detail), timeout=30):
            received += 1
        out["stream_code"] = "OK"
    except grpc.RpcError as e:
        out["stream_code"], out["stream_details"] = code_of(e), e.details()
    out["stream_received"] = received
    return out


def deadline(stub, call_id):
    try:
        stub.Unary(pb.EchoRequest(delay_ms=20000), timeout=0.5, metadata=[("x-call-id", call_id)])
        return {"code": "OK"}
    except grpc.RpcError as e:
        return {"code": code_of(e)}


def cancel(stub, call_id):
    call = stub.ServerStream(pb.EchoRequest(count=100000, delay_ms=50), timeout=30, metadata=[("x-call-id", call_id)])
    first = next(call)
    call.cancel()
    try:
        for _ in call:
            pass
        code = "OK"
    except grpc.RpcError as e:
        code = code_of(e)
    return {"first_index": first.index, "code": code}


def large(stub, call_id):
    r = stub.Unary(pb.EchoRequest(payload=b"\x07" * MB, reply_size=MB), timeout=30)
    return {"received_size": r.received_size, "payload_len": len(r.payload)}


def unimplemented(stub, call_id, channel=None):
    out = {}
    for key, path in [("method", "/interop.v1.Echo/Nope"), ("service", "/interop.v1.Nope/Unary")]:
        call = channel.unary_unary(path, request_serializer=pb.EchoRequest.SerializeToString,
                                   response_deserializer=pb.EchoReply.FromString)
        try:
            call(pb.EchoRequest(), timeout=30)
            out[key] = "OK"
        except grpc.RpcError as e:
            out[key] = code_of(e)
    return out


def compressed(stub, call_id):
    # grpcio compresses with gzip, which Grpc.AspNetCore accepts (doc/compression.md): the payload arrives whole.
    try:
        reply = stub.Unary(pb.EchoRequest(payload=b"z" * 4096), compression=grpc.Compression.Gzip, timeout=30)
        return {"code": "OK", "received_size": reply.received_size}
    except grpc.RpcError as e:
        return {"code": code_of(e), "details": e.details()}


def concurrent(stub, call_id):
    # 150 server streams open at once on the channel's one connection: each gets its first reply, and the
    # second only after 3 s, so all 150 are open together when the first replies have been read.
    n = 150
    calls = [stub.ServerStream(pb.EchoRequest(message=str(i), count=2, delay_ms=3000), timeout=60) for i in range(n)]
    firsts = [next(c) for c in calls]
    seconds = [next(c) for c in calls]
    for c in calls:
        list(c)
    return {"count": len(firsts) + len(seconds), "peers": len({r.peer for r in firsts})}


CASES = {f.__name__: f for f in [unary, client_stream, server_stream, bidi, error, deadline, cancel, large, unimplemented, compressed, concurrent]}


def main():
    target, case = sys.argv[2], sys.argv[3]
    call_id = sys.argv[4] if len(sys.argv) > 4 else ""
    # TLS when a root certificate is given: the test's self-signed certificate for localhost.
    root = os.environ.get("INTEROP_ROOT_CERT")
    if root:
        with open(root, "rb") as f:
            channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=f.read()))
    else:
        channel = grpc.insecure_channel(target)
    with channel:
        stub = interop_pb2_grpc.EchoStub(channel)
        if case == "unimplemented":
            result = unimplemented(stub, call_id, channel)
        else:
            result = CASES[case](stub, call_id)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
