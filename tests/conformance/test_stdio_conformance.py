"""The stdio transport passes the transport contract, opened through the plugin system.

The transport runs a relay child process (``_stdio_relay.py``) that connects back to a
loopback listener of the test; the test's end of that TCP connection is the peer.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio
from anyio.abc import SocketListener, SocketStream

from codex_app_server_client.plugins import resolve_transport
from codex_app_server_client.testing.conformance import TransportConformance, TransportPeer
from codex_app_server_client.transport import Transport
from codex_app_server_client_stdio import StdioTransport

RELAY = Path(__file__).with_name("_stdio_relay.py")


class SocketLinePeer:
    """The test's end of the relay's socket, framed by newlines like the stdio wire."""

    def __init__(self, stream: SocketStream) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._scanned = 0

    async def send(self, message: bytes) -> None:
        await self._stream.send(message + b"\n")

    async def receive(self) -> bytes:
        while True:
            newline = self._buffer.find(b"\n", self._scanned)
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                self._scanned = 0
                return line
            self._scanned = len(self._buffer)
            # EndOfStream from the socket is what the contract wants once the relay half-closes.
            self._buffer += await self._stream.receive(1 << 20)

    async def aclose(self) -> None:
        await self._stream.aclose()


@asynccontextmanager
async def open_relayed_stdio(
    **extra_options: object,
) -> AsyncGenerator[tuple[Transport, SocketLinePeer], None]:
    """A stdio transport running the relay, and the socket peer the relay connected to."""
    async with await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0) as listener:
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        spec = resolve_transport("stdio://")
        options = {"command": [sys.executable, str(RELAY), str(port)], **extra_options}
        async with spec.open("stdio://", options) as transport:
            [socket_listener] = listener.listeners
            assert isinstance(socket_listener, SocketListener)
            with anyio.fail_after(10):
                stream = await socket_listener.accept()
            peer = SocketLinePeer(stream)
            try:
                yield transport, peer
            finally:
                # Peer first: the relay then exits 0 on its own and the transport closes fast.
                with anyio.CancelScope(shield=True):
                    await peer.aclose()


class TestStdioTransportConformance(TransportConformance):
    supports_receive_batch = True

    def open_pair(self) -> AbstractAsyncContextManager[tuple[Transport, TransportPeer]]:
        # A short grace: the relay outlives stdin EOF by design (to test send_eof), so the
        # tests that close the transport while the peer is still connected reach SIGTERM.
        return open_relayed_stdio(close_grace=0.2)

    async def break_abruptly(self, transport: Transport, peer: TransportPeer) -> None:
        # The server process dies without a word: its pipes break mid-stream.
        assert isinstance(transport, StdioTransport)
        os.kill(transport.pid, signal.SIGKILL)
