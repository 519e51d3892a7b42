"""One lookup of the ``codex`` binary, seen through every entry point that uses it.

The stdio transport's default command, the testing kit's ``find_codex_binary`` and the CLI's
``doctor`` must name the same binary for each place it can come from. Every binary here is a
stand-in script in a temporary folder; the ``codex_cli_bin`` wheel is replaced by a fake module.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path
from typing import cast

import pytest

from codex_app_server_client._cli._login import find_binary
from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client.testing import find_codex_binary
from codex_app_server_client_stdio import resolve_default_command

WHEEL_SOURCE = "the openai-codex-cli-bin package"


class FakeWheel(types.ModuleType):
    """Stands in for the ``codex_cli_bin`` module of the ``openai-codex-cli-bin`` wheel."""

    def __init__(self, binary: Path, helpers: Path | None) -> None:
        super().__init__("codex_cli_bin")
        self.binary = binary
        self.helpers = helpers

    def bundled_codex_path(self) -> Path:
        return self.binary

    def bundled_path_dir(self) -> Path | None:
        return self.helpers


class WheelWithoutBinary(FakeWheel):
    """A wheel whose binary is missing; the real module raises FileNotFoundError then."""

    def bundled_codex_path(self) -> Path:
        raise FileNotFoundError(f"missing its packaged codex binary at {self.binary}")


def fake_codex(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "codex"
    script.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    script.chmod(0o755)
    return script


def no_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import codex_cli_bin` raise ImportError.
    modules = cast("dict[str, types.ModuleType | None]", sys.modules)
    monkeypatch.setitem(modules, "codex_cli_bin", None)


def use_wheel(monkeypatch: pytest.MonkeyPatch, wheel: types.ModuleType) -> None:
    monkeypatch.setitem(sys.modules, "codex_cli_bin", wheel)


@pytest.mark.parametrize("source", ["env", "wheel", "path", "none"])
def test_the_stdio_transport_the_testing_kit_and_doctor_find_the_same_codex_from_each_source(
    source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Every place below the chosen one holds a binary too, so the order is pinned as well.
    on_path = fake_codex(tmp_path / "path-dir")
    wheel_binary = fake_codex(tmp_path / "wheel" / "bin")
    helpers = tmp_path / "wheel" / "codex-path"
    helpers.mkdir()
    from_env = fake_codex(tmp_path / "env")
    empty = tmp_path / "empty"
    empty.mkdir()

    monkeypatch.setenv("PATH", str(on_path.parent if source != "none" else empty))
    if source in ("env", "wheel"):
        use_wheel(monkeypatch, FakeWheel(wheel_binary, helpers))
    else:
        no_wheel(monkeypatch)
    if source == "env":
        monkeypatch.setenv("CODEX_BIN", str(from_env))
    else:
        monkeypatch.delenv("CODEX_BIN", raising=False)

    if source == "none":
        assert find_codex_binary() is None
        with pytest.raises(CodexTransportError, match="cannot find the codex binary"):
            resolve_default_command()
        with pytest.raises(CodexTransportError, match="no codex binary found"):
            find_binary()
        return

    expected_path, expected_source, expected_helpers = {
        "env": (from_env, "$CODEX_BIN", None),
        "wheel": (wheel_binary, WHEEL_SOURCE, str(helpers)),
        "path": (on_path, "PATH", None),
    }[source]
    resolved = resolve_default_command()
    doctor = find_binary()
    assert find_codex_binary() == str(expected_path)
    assert resolved.argv == [str(expected_path), "app-server"]
    assert doctor.path == str(expected_path)
    assert resolved.source == doctor.source == expected_source
    assert resolved.path_prepend == expected_helpers


@pytest.mark.parametrize("wheel_kind", ["raises", "points at nothing"])
def test_a_wheel_without_its_binary_counts_as_no_wheel_for_every_entry_point(
    wheel_kind: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    on_path = fake_codex(tmp_path / "path-dir")
    missing = tmp_path / "wheel" / "bin" / "codex"
    wheel = WheelWithoutBinary if wheel_kind == "raises" else FakeWheel
    use_wheel(monkeypatch, wheel(missing, None))
    monkeypatch.setenv("PATH", str(on_path.parent))
    monkeypatch.delenv("CODEX_BIN", raising=False)

    assert find_codex_binary() == str(on_path)
    assert resolve_default_command().argv == [str(on_path), "app-server"]
    assert find_binary().source == "PATH"


def test_importing_the_sdk_does_not_import_the_codex_lookup() -> None:
    code = (
        "import sys, codex_app_server_client\n"
        "assert 'codex_app_server_client._codex_binary' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
