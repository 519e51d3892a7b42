"""The WebSocket transport passes the transport contract, on asyncio and on trio."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import anyio

from codex_app_server_client.plugins import resolve_transport
from codex_app_server_client.testing.conformance import TransportConformance, TransportPeer
from codex_app_server_client.transport import Transport
from codex_app_server_client_ws._testing import WebSocketPeer, serve_websocket


class TestWebSocketTransportConformance(TransportConformance):
    supports_send_eof = False
    supports_receive_batch = True

    @asynccontextmanager
    async def open_pair(self) -> AsyncGenerator[tuple[Transport, TransportPeer], None]:
        async with serve_websocket() as server:
            spec = resolve_transport(server.url)
            assert spec.name == "ws"
            async with spec.open(server.url, {"close_timeout": 2.0}) as transport:
                with anyio.fail_after(10):
                    peer = await server.accept()
                yield transport, peer

    async def break_abruptly(self, transport: Transport, peer: TransportPeer) -> None:
        # The server's TCP connection ends with no close frame (an abnormal closure).
        assert isinstance(peer, WebSocketPeer)
        await peer.drop()
