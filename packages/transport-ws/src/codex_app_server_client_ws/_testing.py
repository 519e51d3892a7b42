"""A tiny WebSocket server on 127.0.0.1 for tests, on either anyio backend.

It plays the app-server's side of the wire: it records each handshake request, can refuse it
with an HTTP status (as the app-server does with 401 and 403), negotiates no extension, and
hands each accepted connection to the test as a :class:`WebSocketPeer`. Built on websockets'
sans-I/O server protocol and anyio sockets, so the same code runs under asyncio and trio.

Not part of the public API: it exists for this distribution's tests.
"""

from __future__ import annotations

import math
import ssl as ssl_module
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from anyio.streams.tls import TLSStream
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol

__all__ = [
    "Refusal",
    "WebSocketPeer",
    "WebSocketTestServer",
    "require_token",
    "serve_websocket",
]

_WAIT = 10.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """An HTTP answer that refuses a handshake: status code and plain-text body."""

    status: int
    body: str


def require_token(expected: str) -> Callable[[Request], Refusal | None]:
    """A handshake check (``serve_websocket(refuse=...)``) that refuses a missing or wrong
    bearer token the way ``codex app-server --ws-auth capability-token`` does: HTTP 401."""

    def check(request: Request) -> Refusal | None:
        header = request.headers.get("Authorization")
        if header is None:
            return Refusal(401, "missing websocket bearer token")
        if header != f"Bearer {expected}":
            return Refusal(401, "invalid websocket bearer token")
        return None

    return check


class WebSocketPeer:
    """The server's end of one accepted connection; the conformance ``TransportPeer``.

    ``receive`` returns each message's payload bytes (text or binary frame) and raises
    :class:`anyio.EndOfStream` once the client has closed; ``aclose`` closes with code 1000.
    """

    def __init__(self, stream: anyio.abc.ByteStream, protocol: ServerProtocol) -> None:
        self.stream = stream
        self.protocol = protocol
        self._send_lock = anyio.Lock()
        self._inbox_send: MemoryObjectSendStream[bytes]
        self._inbox: MemoryObjectReceiveStream[bytes]
        self._inbox_send, self._inbox = anyio.create_memory_object_stream[bytes](math.inf)
        self._fragments: list[bytes] = []
        self.finished = anyio.Event()
        self._reading: anyio.Event | None = None

    async def _flush(self) -> None:
        async with self._send_lock:
            for data in self.protocol.data_to_send():
                if data:
                    await self.stream.send(data)
                else:
                    # websockets asks for the TCP connection to end here.
                    await self.stream.aclose()

    async def run(self) -> None:
        """Read frames until the connection ends; answers pings and close frames."""
        try:
            while True:
                if self._reading is not None:
                    await self._reading.wait()
                try:
                    data = await self.stream.receive()
                except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                    self.protocol.receive_eof()
                    break
                self.protocol.receive_data(data)
                for event in self.protocol.events_received():
                    if isinstance(event, Frame):
                        self._on_frame(event)
                try:
                    await self._flush()
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    break
                if self.protocol.state is State.CLOSED:
                    break
        finally:
            self._inbox_send.close()
            with anyio.CancelScope(shield=True):
                await self.stream.aclose()
            self.finished.set()

    def _on_frame(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            self._fragments.append(bytes(frame.data))
            if frame.fin:
                self._inbox_send.send_nowait(b"".join(self._fragments))
                self._fragments.clear()

    def pause_reading(self) -> None:
        """Stop reading the socket, so that the client's writes back up."""
        if self._reading is None:
            self._reading = anyio.Event()

    def resume_reading(self) -> None:
        """Read the socket again after :meth:`pause_reading`."""
        if self._reading is not None:
            self._reading.set()
            self._reading = None

    def discard(self) -> None:
        """Drop the messages nobody received; the server calls this when it stops."""
        self._inbox_send.close()
        self._inbox.close()

    async def send(self, message: bytes) -> None:
        """Send ``message`` as one text frame."""
        self.protocol.send_text(message)
        await self._flush()

    async def send_binary(self, message: bytes) -> None:
        """Send ``message`` as one binary frame."""
        self.protocol.send_binary(message)
        await self._flush()

    async def receive(self) -> bytes:
        """The next message from the client; ``anyio.EndOfStream`` once it has closed."""
        return await self._inbox.receive()

    async def close_with(self, code: int, reason: str = "") -> None:
        """Start the closing handshake with ``code`` and wait (bounded) until it ends."""
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(code, reason)
            with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                await self._flush()
        with anyio.move_on_after(_WAIT):
            await self.finished.wait()

    async def drop(self) -> None:
        """End the TCP connection abruptly, without a close frame."""
        await self.stream.aclose()

    async def aclose(self) -> None:
        """Close normally, with code 1000."""
        await self.close_with(1000)


@dataclass
class WebSocketTestServer:
    """A running test server: its port, what it saw, and the connections it accepted."""

    port: int
    ssl: bool
    requests: list[Request] = field(default_factory=list[Request])
    responses: list[Response] = field(default_factory=list[Response])
    peers: MemoryObjectReceiveStream[WebSocketPeer] | None = None

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:PORT`` (or ``wss://localhost:PORT`` when serving TLS)."""
        if self.ssl:
            return f"wss://localhost:{self.port}"
        return f"ws://127.0.0.1:{self.port}"

    async def accept(self) -> WebSocketPeer:
        """The next accepted connection's peer."""
        assert self.peers is not None
        return await self.peers.receive()


@asynccontextmanager
async def serve_websocket(
    *,
    refuse: Callable[[Request], Refusal | None] | None = None,
    ssl_context: ssl_module.SSLContext | None = None,
) -> AsyncGenerator[WebSocketTestServer, None]:
    """Serve WebSocket connections on 127.0.0.1 until the context exits.

    Args:
        refuse: called with each handshake request; return a :class:`Refusal` to answer it
            with that HTTP status instead of upgrading.
        ssl_context: a server-side TLS context to serve ``wss://``.
    """
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    peers_send, peers_receive = anyio.create_memory_object_stream[WebSocketPeer](math.inf)
    server = WebSocketTestServer(port=port, ssl=ssl_context is not None, peers=peers_receive)

    all_peers: list[WebSocketPeer] = []

    async def handle(raw: anyio.abc.SocketStream) -> None:
        try:
            await serve_one(raw)
        finally:
            # anyio's listener leaves its streams open; a cancelled server must not leak them.
            await anyio.aclose_forcefully(raw)

    async def serve_one(stream: anyio.abc.ByteStream) -> None:
        if ssl_context is not None:
            try:
                stream = await TLSStream.wrap(stream, server_side=True, ssl_context=ssl_context)
            except (OSError, anyio.BrokenResourceError, anyio.EndOfStream):
                # The client refused our certificate: nothing to serve.
                return
        protocol = ServerProtocol(max_size=None)
        peer = WebSocketPeer(stream, protocol)
        all_peers.append(peer)
        while True:
            try:
                data = await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await stream.aclose()
                return
            protocol.receive_data(data)
            events = protocol.events_received()
            if events:
                break
        request = events[0]
        assert isinstance(request, Request)
        server.requests.append(request)
        refusal = refuse(request) if refuse is not None else None
        if refusal is not None:
            response = protocol.reject(refusal.status, refusal.body)
        else:
            response = protocol.accept(request)
        server.responses.append(response)
        protocol.send_response(response)
        try:
            await peer._flush()  # pyright: ignore[reportPrivateUsage]
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return
        if protocol.state is not State.OPEN:
            await stream.aclose()
            return
        peers_send.send_nowait(peer)
        await peer.run()

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        try:
            yield server
        finally:
            tg.cancel_scope.cancel()
    peers_send.close()
    peers_receive.close()
    for peer in all_peers:
        peer.discard()
