"""The stdio plugin's registration, its option checks and the default command lookup."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest

from codex_app_server_client import _codex_binary
from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client.hookspecs import hookimpl
from codex_app_server_client.plugins import get_plugin_manager, resolve_transport
from codex_app_server_client.transport import TransportSpec
from codex_app_server_client_stdio import (  # pyright: ignore[reportPrivateUsage]
    _command,  # pyright: ignore[reportPrivateUsage]
    _plugin,  # pyright: ignore[reportPrivateUsage]
    _transport,  # pyright: ignore[reportPrivateUsage]
    default_codex_command,
)
from codex_app_server_client_stdio import open_stdio as public_open_stdio

WAIT = 10.0


def no_codex_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_BIN", raising=False)
    monkeypatch.setattr(_codex_binary, "_codex_from_wheel", lambda: None)
    monkeypatch.setattr(_codex_binary, "_codex_on_path", lambda: None)


def test_the_plugin_serves_stdio_urls_through_the_entry_point() -> None:
    spec = resolve_transport("stdio://", get_plugin_manager())
    assert spec.name == "stdio"
    assert spec.schemes == ("stdio",)
    assert spec.options == _transport.OPTIONS


def test_another_plugin_serving_stdio_overrides_the_first_party_one() -> None:
    class OtherStdio:
        @hookimpl
        def codex_app_server_client_transports(self) -> list[TransportSpec]:
            return [TransportSpec(name="other", schemes=("stdio",), open=_plugin.open_stdio)]

    manager = get_plugin_manager()
    # Registered before the entry points load, so only trylast keeps stdio from winning.
    manager.register(OtherStdio())
    manager.ensure_loaded()
    assert manager.get_plugin("stdio") is _plugin
    assert resolve_transport("stdio://", manager).name == "other"


def test_codex_bin_beats_the_wheel_and_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_BIN", "/opt/env/codex")
    monkeypatch.setattr(_codex_binary, "_codex_from_wheel", lambda: ("/wheel/codex", None))
    monkeypatch.setattr(_codex_binary, "_codex_on_path", lambda: "/usr/bin/codex")
    assert default_codex_command() == ["/opt/env/codex", "app-server"]


def test_the_wheel_beats_path_when_codex_bin_is_unset_or_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_BIN", "")
    monkeypatch.setattr(_codex_binary, "_codex_from_wheel", lambda: ("/wheel/codex", "/wheel/path"))
    monkeypatch.setattr(_codex_binary, "_codex_on_path", lambda: "/usr/bin/codex")
    assert default_codex_command() == ["/wheel/codex", "app-server"]
    assert _command.resolve_default_command().path_prepend == "/wheel/path"


def test_path_is_the_last_place_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    no_codex_anywhere(monkeypatch)
    monkeypatch.setattr(_codex_binary, "_codex_on_path", lambda: "/usr/bin/codex")
    assert default_codex_command() == ["/usr/bin/codex", "app-server"]


def test_no_codex_anywhere_says_where_it_looked_and_how_to_fix_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_codex_anywhere(monkeypatch)
    with pytest.raises(CodexTransportError) as caught:
        default_codex_command()
    message = str(caught.value)
    for needed in ("CODEX_BIN", "openai-codex-cli-bin", "PATH", "pip install", "command=["):
        assert needed in message


def test_the_installed_wheel_is_found_when_present() -> None:
    pytest.importorskip("codex_cli_bin")
    found = _codex_binary._codex_from_wheel()  # pyright: ignore[reportPrivateUsage]
    assert found is not None
    assert Path(found[0]).name.startswith("codex")


@pytest.mark.anyio
async def test_the_default_command_runs_with_the_wheel_tool_folder_first_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_codex = tmp_path / "codex"
    fake_codex.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "print(json.dumps([sys.argv[1:], os.environ['PATH'].split(os.pathsep)[0]]), flush=True)\n"
    )
    fake_codex.chmod(0o755)
    tools = tmp_path / "codex-path"
    tools.mkdir()
    monkeypatch.delenv("CODEX_BIN", raising=False)
    monkeypatch.setattr(_codex_binary, "_codex_from_wheel", lambda: (str(fake_codex), str(tools)))
    async with public_open_stdio("stdio://", {}) as transport:
        with anyio.fail_after(WAIT):
            args, first_path_entry = json.loads(await transport.receive())
    assert args == ["app-server"]
    assert first_path_entry == str(tools)


@pytest.mark.anyio
async def test_opening_with_no_codex_anywhere_raises_the_not_found_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_codex_anywhere(monkeypatch)
    with pytest.raises(CodexTransportError, match="cannot find the codex binary"):
        async with resolve_transport("stdio://").open("stdio://", {}):
            pass


@pytest.mark.anyio
async def test_a_command_given_as_a_string_is_rejected_with_type_error() -> None:
    with pytest.raises(TypeError, match="list of arguments"):
        async with public_open_stdio("stdio://", {"command": "codex app-server"}):
            pass


@pytest.mark.anyio
async def test_an_unknown_option_is_rejected_with_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="bogus"):
        async with resolve_transport("stdio://").open("stdio://", {"bogus": 1}):
            pass


@pytest.mark.anyio
@pytest.mark.parametrize("url", ["stdio://localhost", "stdio:///usr/bin/codex", "stdio://?x=1"])
async def test_a_stdio_url_with_anything_after_the_scheme_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="command option"):
        async with public_open_stdio(url, {"command": ["true"]}):
            pass


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("command", [], ValueError),
        ("command", 42, TypeError),
        ("command", ["ok", 3], TypeError),
        ("env", ["A=1"], TypeError),
        ("cwd", 3, TypeError),
        ("max_message_bytes", 0, ValueError),
        ("stderr_tail_bytes", -1, ValueError),
        ("close_grace", -1, ValueError),
        ("terminate_timeout", float("inf"), ValueError),
    ],
)
async def test_a_badly_typed_option_is_rejected_before_anything_starts(
    name: str, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=name if name != "command" else "command"):
        async with public_open_stdio("stdio://", {name: value}):
            pass


def test_command_items_may_be_paths() -> None:
    parsed = _transport._parse_options(  # pyright: ignore[reportPrivateUsage]
        {"command": [Path(sys.executable), "-c", "pass"]}
    )
    assert parsed["command"] == [os.fspath(sys.executable), "-c", "pass"]
