"""Transport discovery: entry points, scheme resolution, precedence, blocking, errors."""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Mapping
from contextlib import asynccontextmanager
from importlib import metadata
from types import ModuleType
from typing import Any

import anyio
import pytest

from codex_app_server_client import plugins
from codex_app_server_client.errors import CodexTransportNotFoundError
from codex_app_server_client.hookspecs import hookimpl
from codex_app_server_client.plugins import (
    BLOCK_PLUGINS_ENV,
    CodexPluginWarning,
    PluginManager,
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


def _add_entry_point(
    monkeypatch: pytest.MonkeyPatch, name: str, module_name: str, **hooks: Callable[..., Any]
) -> None:
    """Install a fake entry point ``name`` whose plugin module holds ``hooks``."""
    module = ModuleType(module_name)
    for attr, function in hooks.items():
        setattr(module, attr, function)
    monkeypatch.setitem(sys.modules, module_name, module)
    ep = metadata.EntryPoint(name=name, value=module_name, group="codex_app_server_client")
    real = plugins._entry_points  # pyright: ignore[reportPrivateUsage]
    monkeypatch.setattr(plugins, "_entry_points", lambda: [ep, *real()])


def test_a_plugin_that_fails_to_import_is_skipped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = metadata.EntryPoint(
        name="broken", value="no_such_module_for_codex_tests", group="codex_app_server_client"
    )
    real = plugins._entry_points  # pyright: ignore[reportPrivateUsage]
    monkeypatch.setattr(plugins, "_entry_points", lambda: [broken, *real()])
    manager = get_plugin_manager()
    with pytest.warns(CodexPluginWarning) as record:
        assert manager.schemes()["stdio"].name == "stdio"
    [warning] = record
    message = str(warning.message)
    assert "'broken'" in message
    assert "no_such_module_for_codex_tests" in message
    assert "failed to import" in message
    assert f"{BLOCK_PLUGINS_ENV}=broken" in message


class Healthy:
    """A working plugin registered next to each broken one: it must keep its scheme."""

    @hookimpl
    def codex_app_server_client_transports(self) -> list[TransportSpec]:
        return [TransportSpec(name="healthy", schemes=("healthy",), open=_never_opens)]


def _manager_with(broken: object, name: str) -> PluginManager:
    manager = get_plugin_manager(load_entry_points=False)
    manager.register(Healthy(), name="healthy")
    manager.register(broken, name=name)
    return manager


def _only_warning(record: pytest.WarningsRecorder) -> str:
    assert len(record) == 1, [str(w.message) for w in record]
    return str(record[0].message)


class RaisingHook:
    @hookimpl
    def codex_app_server_client_transports(self) -> list[TransportSpec]:
        raise RuntimeError("the plugin's config file is missing")


def test_a_plugin_whose_hook_raises_is_skipped_with_a_warning() -> None:
    manager = _manager_with(RaisingHook(), "raising")
    with pytest.warns(CodexPluginWarning) as record:
        assert resolve_transport("healthy://", manager).name == "healthy"
    message = _only_warning(record)
    assert "'raising'" in message
    assert "RaisingHook" in message
    assert "config file is missing" in message
    assert "skipped" in message
    # Reported once per manager: the next lookups stay quiet (warnings are errors here).
    assert resolve_transport("healthy://", manager).name == "healthy"
    assert set(manager.schemes()) == {"healthy"}


def _returns(value: object) -> object:
    class ReturnsValue:
        @hookimpl
        def codex_app_server_client_transports(self) -> object:
            return value

    return ReturnsValue()


_BARE_SPEC = TransportSpec(name="bare", schemes=("bare",), open=_never_opens)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "None"),
        (_BARE_SPEC, "TransportSpec"),
        ({"bare": _BARE_SPEC}, "dict"),
        ("bare", "str"),
    ],
    ids=["none", "a-bare-spec", "a-dict", "a-string"],
)
def test_a_plugin_whose_hook_returns_a_non_list_is_skipped_with_a_warning(
    value: object, shown: str
) -> None:
    manager = _manager_with(_returns(value), "not-a-list")
    with pytest.warns(CodexPluginWarning) as record:
        assert resolve_transport("healthy://", manager).name == "healthy"
    message = _only_warning(record)
    assert "'not-a-list'" in message
    assert "instead of a list of TransportSpec" in message
    assert shown in message
    assert set(manager.schemes()) == {"healthy"}


def test_a_plugin_whose_list_holds_a_non_spec_is_skipped_whole_with_a_warning() -> None:
    # The good spec next to the bad item is not served either: a plugin counts whole or not.
    manager = _manager_with(_returns([_BARE_SPEC, ("ws", "opener")]), "bad-item")
    with pytest.warns(CodexPluginWarning) as record:
        assert resolve_transport("healthy://", manager).name == "healthy"
    message = _only_warning(record)
    assert "'bad-item'" in message
    assert "item 1" in message
    assert "('ws', 'opener')" in message
    assert "not a codex_app_server_client.transport.TransportSpec" in message
    assert set(manager.schemes()) == {"healthy"}


def test_a_tuple_of_specs_is_accepted() -> None:
    manager = _manager_with(_returns((_BARE_SPEC,)), "tuple")
    assert resolve_transport("bare://", manager).name == "bare"
    assert resolve_transport("healthy://", manager).name == "healthy"


@hookimpl
def codex_app_server_client_transport() -> list[TransportSpec]:  # one letter short
    return [_BARE_SPEC]


def test_an_entry_point_plugin_with_a_misspelt_hook_is_skipped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pluggy rejects an unknown hook name; before, that broke every lookup.
    _add_entry_point(
        monkeypatch,
        "misspelt",
        "codex_tests_misspelt_plugin",
        codex_app_server_client_transport=codex_app_server_client_transport,
    )
    manager = get_plugin_manager()
    manager.register(Healthy(), name="healthy")
    with pytest.warns(CodexPluginWarning) as record:
        assert resolve_transport("stdio://", manager).name == "stdio"
    message = _only_warning(record)
    assert "'misspelt'" in message
    assert "codex_tests_misspelt_plugin" in message
    assert "'codex_app_server_client_transport'" in message
    assert "'codex_app_server_client_transports'" in message
    assert f"{BLOCK_PLUGINS_ENV}=misspelt" in message
    assert manager.get_plugin("misspelt") is None
    assert resolve_transport("healthy://", manager).name == "healthy"
    assert "bare" not in manager.schemes()


class MisspeltHook:
    @hookimpl
    def codex_app_server_client_transports(self) -> list[TransportSpec]:
        return [_BARE_SPEC]

    @hookimpl
    def codex_app_server_client_transport(self) -> list[TransportSpec]:
        return [_BARE_SPEC]


def test_a_registered_plugin_with_a_misspelt_hook_is_skipped_with_a_warning() -> None:
    manager = get_plugin_manager(load_entry_points=False)
    manager.register(Healthy(), name="healthy")
    with pytest.warns(CodexPluginWarning) as record:
        assert manager.register(MisspeltHook(), name="misspelt") is None
    message = _only_warning(record)
    assert "'misspelt'" in message
    assert "MisspeltHook" in message
    assert "misspelt?" in message
    # Skipped whole: its correctly spelt hook does not serve bare:// either.
    assert set(manager.schemes()) == {"healthy"}


class ExtraArgument:
    @hookimpl
    def codex_app_server_client_transports(self, config: object) -> list[TransportSpec]:
        return [_BARE_SPEC]


def test_a_plugin_whose_hook_takes_unknown_arguments_is_skipped_with_a_warning() -> None:
    manager = get_plugin_manager(load_entry_points=False)
    manager.register(Healthy(), name="healthy")
    with pytest.warns(CodexPluginWarning) as record:
        assert manager.register(ExtraArgument(), name="extra-arg") is None
    message = _only_warning(record)
    assert "'extra-arg'" in message
    assert "config" in message
    assert set(manager.schemes()) == {"healthy"}


class Wrapper:
    @hookimpl(wrapper=True)
    def codex_app_server_client_transports(
        self,
    ) -> Generator[None, list[TransportSpec], list[TransportSpec]]:
        result = yield
        return result


def test_a_hook_wrapper_is_skipped_with_a_warning() -> None:
    manager = get_plugin_manager(load_entry_points=False)
    manager.register(Healthy(), name="healthy")
    with pytest.warns(CodexPluginWarning, match="hook wrapper"):
        assert manager.register(Wrapper(), name="wrapper") is None
    assert set(manager.schemes()) == {"healthy"}


def test_importing_the_sdk_loads_no_transport_plugin() -> None:
    code = (
        "import sys, codex_app_server_client\n"
        "loaded = [m for m in sys.modules if m.startswith('codex_app_server_client_')"
        " or m.startswith('websockets') or m == 'pluggy']\n"
        "assert not loaded, loaded\n"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True)
