# tests/test_fake_transport.py
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import pytest
from my_transport import _plugin

from codex_app_server_client import CodexClient
from codex_app_server_client.plugins import default_plugin_manager
from codex_app_server_client.testing import memory_transport_pair
from codex_app_server_client.testing.conformance import TransportConformance, TransportPeer
from codex_app_server_client.transport import Transport

pytestmark = pytest.mark.anyio


async def test_a_fake_url_reaches_the_plugin() -> None:
    # Installed packages are found through their entry point; in a test, register directly.
    manager = default_plugin_manager()
    if manager.get_plugin("fake") is None:
        manager.register(_plugin, name="fake")
    async with CodexClient("fake://", greeting="Hi!") as client:
        result = await client.chat_once("Hello?")
    assert result.final_text == "Hi!"


class TestMemoryTransportConformance(TransportConformance):
    """The contract, checked on the transport object the plugin hands out."""

    supports_receive_batch = True  # it has receive_batch: run those contracts too

    @asynccontextmanager
    async def open_pair(self) -> AsyncGenerator[tuple[Transport, TransportPeer]]:
        client_end, server_end = memory_transport_pair()
        try:
            yield client_end, server_end
        finally:
            await client_end.aclose()
            await server_end.aclose()

    async def break_abruptly(self, transport: Transport, peer: TransportPeer) -> None:
        # The server's end vanishes. Over a real wire: kill the server process, or reset
        # the socket (SO_LINGER 0) or drop it without the protocol's goodbye.
        await peer.aclose()
