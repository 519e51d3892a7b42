# my_transport/_plugin.py: a transport for "fake://" URLs that serves every connection from an
# in-process FakeAppServer. The same shape works for any wire: the opener connects, yields an
# object with send/receive/aclose (whole messages as bytes), and closes it on exit.
from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from codex_app_server_client.hookspecs import hookimpl
from codex_app_server_client.plugins import check_options
from codex_app_server_client.transport import Transport, TransportSpec


@asynccontextmanager
async def open_fake(url: str, options: Mapping[str, Any]) -> AsyncGenerator[Transport]:
    check_options("fake", options, ("greeting",))  # a TypeError names unknown options
    # Heavy imports go inside the opener: plugin modules are imported on first URL lookup.
    import anyio

    from codex_app_server_client.testing import FakeAppServer, memory_transport_pair
    from codex_app_server_client.testing.fake_server import agent_message

    server = FakeAppServer()
    server.script_turn(agent_message(options.get("greeting", "Hello from fake://")))
    client_end, server_end = memory_transport_pair()
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, server_end)
        try:
            yield client_end
        finally:
            await client_end.aclose()  # the server sees end of stream and returns


@hookimpl
def codex_app_server_client_transports() -> list[TransportSpec]:
    return [
        TransportSpec(
            name="fake",
            schemes=("fake",),
            open=open_fake,
            summary="an in-process fake app-server",
            options=("greeting",),
        )
    ]
