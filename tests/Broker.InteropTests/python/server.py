"""Echo server on grpcio (a real gRPC implementation) for the interop tests.

Usage: server.py STUB_DIR. Listens on 127.0.0.1 on a free port and prints "PORT <n>" when ready; prints
"CANCELLED <call_id>" when a call (named by its x-call-id metadata) ends before its handler finished
(client cancel, deadline). Runs until killed
or until stdin closes (the test process died).
"""
import sys
import threading
from concurrent import futures

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
import interop_pb2  # noqa: E402
import interop_pb2_grpc  # noqa: E402

_print_lock = threading.Lock()


def say(line):
    with _print_lock:
        print(line, flush=True)


class Watch:
    """Reports a call that terminates (add_callback fires on termination) before its handler finished."""

    def __init__(self, context):
        self.finished = False
        self.done = threading.Event()
        self.call_id = next((v for k, v in context.invocation_metadata() if k == "x-call-id"), "")
        context.add_callback(self._ended)

    def _ended(self):
        self.done.set()
        if not self.finished and self.call_id:
            say("CANCELLED " + self.call_id)

    def finish(self):
        """Marks the handler finished, unless the call has been cancelled.

        grpcio's sync request iterator can end normally when the client resets the stream (the pending receive
        completes empty before the cancellation is processed), so a normal end of the request stream is only
        trusted once the call has stayed alive a moment: a cancelled call terminates (done is set) at once.
        """
        if not self.done.wait(0.2):
            self.finished = True

    def wait(self, context, request):
        """Waits delay_ms; False if the call ended first."""
        if request.delay_ms <= 0:
            return True
        return not self.done.wait(request.delay_ms / 1000.0) and context.is_active()


def auth(context):
    for key, value in context.invocation_metadata():
        if key == "authorization":
            return value
    return ""


def reply(request, context, index=0, received=None):
    return interop_pb2.EchoReply(
        message=request.message,
        payload=b"\x01" * request.reply_size,
        index=index,
        received_size=len(request.payload) if received is None else received,
        peer=context.peer(),
        authorization=auth(context),
    )


def fail(context, request, w):
    w.finished = True
    context.abort(grpc.StatusCode(next(c for c in grpc.StatusCode if c.value[0] == request.error_code)), request.error_message)


class Echo(interop_pb2_grpc.EchoServicer):
    def Unary(self, request, context):
        w = Watch(context)
        if not w.wait(context, request):
            return interop_pb2.EchoReply()
        if request.error_code:
            fail(context, request, w)
        w.finished = True
        return reply(request, context)

    def ClientStream(self, request_iterator, context):
        w = Watch(context)
        messages, received, last = [], 0, interop_pb2.EchoRequest()
        for request in request_iterator:
            if request.error_code:
                fail(context, request, w)
            messages.append(request.message)
            received += len(request.payload)
            last = request
        w.finish()
        result = reply(last, context, received=received)
        result.message = ",".join(messages)
        return result

    def ServerStream(self, request, context):
        w = Watch(context)
        for i in range(request.count):
            if i > 0 and not w.wait(context, request):
                return
            yield reply(request, context, index=i)
        if request.error_code:
            fail(context, request, w)
        w.finished = True

    def Bidi(self, request_iterator, context):
        w = Watch(context)
        for i, request in enumerate(request_iterator):
            if request.error_code:
                fail(context, request, w)
            if not w.wait(context, request):
                return
            yield reply(request, context, index=i)
        w.finish()


def main():
    # Every open stream holds a worker thread in the sync server: room for the >100-streams case.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=400))
    interop_pb2_grpc.add_EchoServicer_to_server(Echo(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    say("PORT %d" % port)
    # Exit when the parent closes our stdin (or dies), so no orphan is left behind.
    sys.stdin.read()
    server.stop(0)


if __name__ == "__main__":
    main()
