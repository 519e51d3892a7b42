"""The in-memory transport passes the transport contract."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from codex_app_server_client.testing import memory_transport_pair
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
