"""A transport that only a third party would ship, defined here and registered only through the
plugin hook, passes the same contract as the first-party ones.

It carries newline-framed messages over a plain TCP connection (``tcpjsonl://HOST:PORT``), a
shape the app-server does not speak: the point is that core accepts any plugin that honours
the transport contract.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast
from urllib.parse import urlsplit

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client.hookspecs import hookimpl
from codex_app_server_client.plugins import check_options, get_plugin_manager, resolve_transport
from codex_app_server_client.testing.conformance import TransportConformance, TransportPeer
from codex_app_server_client.transport import Transport, TransportSpec


class LineStream:
    """Newline framing over a byte stream; used for both ends of the test transport."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self._stream = stream
        self._reader = BufferedByteReceiveStream(stream)
        self._lock = anyio.Lock()
        self._closed = False
        self._eof = False
        # Set once the connection broke (reset by the peer): every later call raises it.
        self._broken: str | None = None

    async def send(self, message: bytes) -> None:
        if self._closed:
            raise CodexTransportError("tcpjsonl transport is closed")
        if self._broken is not None:
            raise CodexTransportError(f"cannot send: {self._broken}")
        async with self._lock:
            try:
                await self._stream.send(message + b"\n")
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
                raise CodexTransportError(f"tcpjsonl send failed: {exc!r}") from exc

    async def receive(self) -> bytes:
        if self._closed:
            raise CodexTransportError("tcpjsonl transport is closed")
        if self._broken is not None:
            raise CodexTransportError(self._broken)
        if self._eof:
            raise anyio.EndOfStream
        try:
            return await self._reader.receive_until(b"\n", 64 * 1024 * 1024)
        except (anyio.IncompleteRead, anyio.EndOfStream):
            # The peer closed cleanly (a partial last line is dropped).
            self._eof = True
            raise anyio.EndOfStream from None
        except anyio.BrokenResourceError as exc:
            # A reset is a failure, not a goodbye: it must not look like a clean end.
            self._broken = f"the tcpjsonl connection broke: {exc.__cause__ or exc!r}"
            raise CodexTransportError(self._broken) from exc
        except anyio.ClosedResourceError:
            raise CodexTransportError("tcpjsonl transport was closed while receiving") from None

    async def send_eof(self) -> None:
        await self._stream.send_eof()

    async def aclose(self) -> None:
        self._closed = True
        with anyio.CancelScope(shield=True):
            await self._stream.aclose()

    async def reset(self) -> None:
        """Vanish without a goodbye: close with a TCP reset (``SO_LINGER`` 0), not a FIN."""
        raw = self._stream.extra(anyio.abc.SocketAttribute.raw_socket)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await self.aclose()


@asynccontextmanager
async def open_tcpjsonl(url: str, options: Mapping[str, Any]) -> AsyncGenerator[Transport]:
    check_options("tcpjsonl", options, ())
    parts = urlsplit(url)
    stream = await anyio.connect_tcp(parts.hostname or "127.0.0.1", parts.port or 0)
    transport = LineStream(stream)
    try:
        yield transport
    finally:
        await transport.aclose()


class TcpJsonlPlugin:
    @hookimpl
    def codex_app_server_client_transports(self) -> list[TransportSpec]:
        return [TransportSpec(name="tcpjsonl", schemes=("tcpjsonl",), open=open_tcpjsonl)]


class TestThirdPartyTransportConformance(TransportConformance):
    # supports_receive_batch stays at its default (False): LineStream has no receive_batch,
    # so the client reads it one message at a time, and the suite checks exactly that.

    @asynccontextmanager
    async def open_pair(self) -> AsyncGenerator[tuple[Transport, TransportPeer]]:
        manager = get_plugin_manager()
        manager.register(TcpJsonlPlugin(), name="tcpjsonl-test")
        accepted: list[LineStream] = []
        ready = anyio.Event()
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)

        async def accept_one() -> None:
            socket_listener = cast(anyio.abc.SocketListener, listener.listeners[0])
            stream = await socket_listener.accept()
            accepted.append(LineStream(stream))
            ready.set()

        async with listener, anyio.create_task_group() as tg:
            tg.start_soon(accept_one)
            url = f"tcpjsonl://127.0.0.1:{port}"
            spec = resolve_transport(url, manager)
            assert spec.name == "tcpjsonl"
            async with spec.open(url, {}) as transport:
                await ready.wait()
                try:
                    yield transport, accepted[0]
                finally:
                    await accepted[0].aclose()

    async def break_abruptly(self, transport: Transport, peer: TransportPeer) -> None:
        assert isinstance(peer, LineStream)
        await peer.reset()
