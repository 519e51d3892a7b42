"""Transport discovery: entry points, scheme resolution, precedence, blocking, errors."""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator, Iterable, Mapping
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

import anyio
import pytest

from codex_app_server_client import plugins
from codex_app_server_client.errors import CodexTransportNotFoundError
from codex_app_server_client.hookspecs import hookimpl
from codex_app_server_client.plugins import (
    BLOCK_PLUGINS_ENV,
    get_plugin_manager,
    resolve_transport,
)
from codex_app_server_client.transport import Transport, TransportSpec

ECHO_LINES = (
    "import sys\n"
    "for line in sys.stdin.buffer:\n"
    "    sys.stdout.buffer.write(line)\n"
    "    sys.stdout.buffer.flush()\n"
)


def test_first_party_transports_are_declared_as_entry_points() -> None:
    eps = {ep.name: ep for ep in metadata.entry_points(group="codex_app_server_client")}
    assert eps["stdio"].value == "codex_app_server_client_stdio._plugin"
    assert eps["ws"].value == "codex_app_server_client_ws._plugin"
    assert eps["stdio"].dist is not None
    assert eps["stdio"].dist.name == "codex-app-server-client-stdio"
    assert eps["ws"].dist is not None
    assert eps["ws"].dist.name == "codex-app-server-client-ws"


@pytest.mark.anyio
async def test_the_stdio_entry_point_opens_a_stdio_url() -> None:
    eps = {ep.name: ep for ep in metadata.entry_points(group="codex_app_server_client")}
    manager = get_plugin_manager(load_entry_points=False)
    manager.register(eps["stdio"].load(), name="stdio")
    spec = resolve_transport("stdio://", manager)
    command = [sys.executable, "-c", ECHO_LINES]
    with anyio.fail_after(10):
        async with spec.open("stdio://", {"command": command}) as transport:
            await transport.send(b'{"hello":"stdio"}')
            assert await transport.receive() == b'{"hello":"stdio"}'


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_the_ws_entry_point_opens_ws_urls(anyio_backend: str) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    async def echo(connection: ServerConnection) -> None:
        async for message in connection:
            await connection.send(message)

    eps = {ep.name: ep for ep in metadata.entry_points(group="codex_app_server_client")}
    manager = get_plugin_manager(load_entry_points=False)
    manager.register(eps["ws"].load(), name="ws")
    with anyio.fail_after(10):
        async with serve(echo, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            url = f"ws://127.0.0.1:{port}"
            spec = resolve_transport(url, manager)
            assert "wss" in spec.schemes
            async with spec.open(url, {}) as transport:
                await transport.send(b'{"hello":"ws"}')
                assert await transport.receive() == b'{"hello":"ws"}'


def test_installed_schemes_resolve_to_the_first_party_transports() -> None:
    manager = get_plugin_manager()
    assert resolve_transport("stdio://", manager).name == "stdio"
    assert resolve_transport("ws://127.0.0.1:1", manager).name == "ws"
    assert resolve_transport("WSS://example.test", manager).name == "ws"


def test_an_unknown_scheme_names_the_installed_schemes() -> None:
    with pytest.raises(CodexTransportNotFoundError) as info:
        resolve_transport("carrier-pigeon://coop", get_plugin_manager())
    message = str(info.value)
    assert "carrier-pigeon://" in message
    assert "stdio://" in message
    assert "ws://" in message
    assert info.value.scheme == "carrier-pigeon"
    assert set(info.value.available) >= {"stdio", "ws", "wss"}


def test_a_missing_first_party_scheme_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(BLOCK_PLUGINS_ENV, "ws")
    with pytest.raises(CodexTransportNotFoundError) as info:
        resolve_transport("wss://host", get_plugin_manager())
    message = str(info.value)
    assert "codex-app-server-client[ws]" in message
    assert BLOCK_PLUGINS_ENV in message
    assert "stdio://" in message


def test_a_url_without_scheme_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="has no scheme"):
        resolve_transport("localhost:8765", get_plugin_manager())


def test_blocked_plugins_are_not_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BLOCK_PLUGINS_ENV, " stdio , ws ")
    manager = get_plugin_manager()
    assert manager.schemes() == {}
    assert manager.is_blocked("stdio")


@asynccontextmanager
async def _never_opens(url: str, options: Mapping[str, Any]) -> AsyncGenerator[Transport]:
    raise AssertionError("not opened in this test")
    yield  # pragma: no cover


class StdioOverride:
    @hookimpl
    def codex_app_server_client_transports(self) -> list[TransportSpec]:
        return [TransportSpec(name="my-stdio", schemes=("stdio",), open=_never_opens)]


def test_a_third_party_plugin_overrides_a_first_party_scheme_on_purpose() -> None:
    manager = get_plugin_manager()
    manager.register(StdioOverride(), name="my-stdio")
    assert resolve_transport("stdio://", manager).name == "my-stdio"
    # The shadowed first-party spec is still listed, after the winner.
    names = [spec.name for spec in manager.transport_specs()]
    assert names.index("my-stdio") < names.index("stdio")


def test_entry_points_load_lazily_and_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = plugins._entry_points  # pyright: ignore[reportPrivateUsage]

    def counting() -> Iterable[metadata.EntryPoint]:
        calls.append(1)
        return real()

    monkeypatch.setattr(plugins, "_entry_points", counting)
    manager = get_plugin_manager()
    assert calls == []
    manager.schemes()
    manager.schemes()
    assert calls == [1]


def test_a_plugin_that_fails_to_import_is_skipped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken = metadata.EntryPoint(
        name="broken", value="no_such_module_for_codex_tests", group="codex_app_server_client"
    )
    real = plugins._entry_points  # pyright: ignore[reportPrivateUsage]
    monkeypatch.setattr(plugins, "_entry_points", lambda: [broken, *real()])
    manager = get_plugin_manager()
    assert manager.schemes()["stdio"].name == "stdio"
    assert "broken" in caplog.text
    assert BLOCK_PLUGINS_ENV in caplog.text


def test_importing_the_sdk_loads_no_transport_plugin() -> None:
    code = (
        "import sys, codex_app_server_client\n"
        "loaded = [m for m in sys.modules if m.startswith('codex_app_server_client_')"
        " or m.startswith('websockets') or m == 'pluggy']\n"
        "assert not loaded, loaded\n"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True)
