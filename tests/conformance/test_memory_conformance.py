"""The in-memory transport passes the transport contract."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from codex_app_server_client.testing import MemoryTransport, memory_transport_pair
from codex_app_server_client.testing.conformance import TransportConformance, TransportPeer
from codex_app_server_client.transport import Transport


class TestMemoryTransportConformance(TransportConformance):
    supports_receive_batch = True

    @asynccontextmanager
    async def open_pair(self) -> AsyncGenerator[tuple[Transport, TransportPeer]]:
        client, server = memory_transport_pair()
        try:
            yield client, server
        finally:
            await client.aclose()
            await server.aclose()

    async def break_abruptly(self, transport: Transport, peer: TransportPeer) -> None:
        # In memory a broken pipe is the server's end going away with both directions:
        # nothing more arrives, and nothing sent can be delivered.
        assert isinstance(peer, MemoryTransport)
        await peer.aclose()
