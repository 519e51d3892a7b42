"""The stdio transport never involves a shell, and says what environment the child gets.

Behaviour pinned elsewhere, cited rather than repeated: shell metacharacters in ``command``
reach the program literally (tests/transports/test_stdio_process.py::
test_shell_metacharacters_in_the_command_are_passed_literally), a string ``command`` is refused
(tests/transports/test_stdio_options.py::
test_a_command_given_as_a_string_is_rejected_with_type_error), and ``env`` is merged over the
inherited environment (test_stdio_process.py::test_env_is_merged_over_the_inherited_environment).
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest

import codex_app_server_client_stdio
from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client_stdio import open_stdio

README = Path(codex_app_server_client_stdio.__file__).resolve().parents[2] / "README.md"

# A child that prints its argv and one environment variable as its last words on stderr.
SHOW = (
    "import json, os, sys; "
    "print(json.dumps([sys.argv[1:], os.environ.get('FAULTS_PROBE')]), file=sys.stderr); "
    "sys.exit(7)"
)


@pytest.mark.anyio
async def test_a_client_command_runs_without_a_shell_and_with_the_inherited_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAULTS_PROBE", "inherited")
    marker = tmp_path / "pwned"
    hostile = f"$(touch {marker}); touch {marker} && echo `id` | cat > {marker}"
    with anyio.fail_after(15), pytest.raises(CodexTransportError) as caught:
        async with CodexClient("stdio://", command=[sys.executable, "-c", SHOW, hostile, "*"]):
            pass
    tail = caught.value.stderr_tail or ""
    assert f'[["{hostile}", "*"], "inherited"]' in tail
    assert not marker.exists()


@pytest.mark.anyio
async def test_env_none_removes_an_inherited_variable_from_the_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAULTS_PROBE", "inherited")
    with anyio.fail_after(15), pytest.raises(CodexTransportError) as caught:
        async with CodexClient(
            "stdio://", command=[sys.executable, "-c", SHOW], env={"FAULTS_PROBE": None}
        ):
            pass
    assert "[[], null]" in (caught.value.stderr_tail or "")


def test_the_inherited_environment_is_documented_where_users_look() -> None:
    readme = README.read_text()
    assert "| `env` | inherit | variables merged over this process's environment" in readme
    assert "no shell is involved" in readme
    doc = " ".join((open_stdio.__doc__ or "").split())
    assert "merged over this process's environment" in doc
    assert "no shell is used" in doc
