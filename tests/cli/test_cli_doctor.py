"""``codex-client doctor`` against the fake app-server and stand-in binaries: one line per
check, a fix for each failure, and the exit code of the first failure."""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

import anyio
import pytest

from codex_app_server_client._cli import run
from codex_app_server_client.testing import FakeAppServer

from .conftest import WAIT, CliRun, fake_cli

pytestmark = pytest.mark.anyio


def _fake_codex(tmp_path: Path, *, version_status: int = 0) -> Path:
    """A stand-in `codex` executable: answers --version (and nothing else)."""
    script = tmp_path / "codex"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then\n'
        "  echo 'codex-cli 9.9.9-fake'\n"
        "  echo 'version trouble' >&2\n"
        f"  exit {version_status}\n"
        "fi\n"
        "exit 1\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_doctor_prints_one_ok_line_per_check_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codex = _fake_codex(tmp_path)
    monkeypatch.setenv("CODEX_BIN", str(codex))
    server = FakeAppServer(codex_home="/home/me/.codex")
    async with fake_cli(server) as (invoke, connector):
        result = await invoke("doctor")
    assert result.code == 0, result.out + result.err
    assert result.lines == [
        f"OK    binary      {codex} (found via $CODEX_BIN), codex-cli 9.9.9-fake",
        result.lines[1],
        "OK    login       no login needed: model provider 'fake' from the server's config",
    ]
    assert result.lines[1].startswith("OK    app-server  started and answered initialize in ")
    assert result.lines[1].endswith("(codex 0.169.0, CODEX_HOME /home/me/.codex)")
    assert connector.urls == ["stdio://"]
    assert "all checks passed" in result.err


async def test_doctor_reports_the_account_when_logged_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_BIN", str(_fake_codex(tmp_path)))
    server = FakeAppServer()
    server.account = {"type": "chatgpt", "email": "me@example.com", "planType": "plus"}
    async with fake_cli(server) as (invoke, _):
        result = await invoke("doctor", "--json")
    assert result.code == 0
    login = next(e for e in result.of_type("check") if e["name"] == "login")
    assert login["status"] == "ok"
    assert login["detail"] == "logged in with ChatGPT as me@example.com (plus)"


async def test_doctor_with_a_binary_that_does_not_exist_fails_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere" / "codex"
    monkeypatch.setenv("CODEX_BIN", str(missing))
    async with fake_cli(FakeAppServer()) as (invoke, connector):
        result = await invoke("doctor", "--json")
    assert result.code == 3
    checks = {e["name"]: e for e in result.of_type("check")}
    assert list(checks) == ["binary", "app-server", "login"]
    assert checks["binary"]["status"] == "fail"
    assert str(missing) in checks["binary"]["detail"]
    assert "found via $CODEX_BIN" in checks["binary"]["detail"]
    assert "CODEX_BIN" in checks["binary"]["fix"]
    assert checks["app-server"]["status"] == "skip"
    assert checks["login"]["status"] == "skip"
    assert result.of_type("result") == [{"type": "result", "ok": False, "exit_code": 3}]
    assert connector.urls == []


async def test_doctor_shows_why_a_binary_that_fails_its_version_check_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_BIN", str(_fake_codex(tmp_path, version_status=2)))
    async with fake_cli(FakeAppServer()) as (invoke, _):
        result = await invoke("doctor")
    assert result.code == 3
    assert result.lines[0].startswith("FAIL  binary      ")
    assert "exited with status 2" in result.lines[0]
    assert "      | version trouble" in result.lines
    assert any(line.startswith("      fix: ") for line in result.lines)


async def test_with_url_local_trouble_is_a_warning_and_an_unreachable_server_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stand-in binary answers --version but exits at once for `app-server`.
    monkeypatch.setenv("CODEX_BIN", str(_fake_codex(tmp_path)))
    url = f"ws://127.0.0.1:{_closed_port()}"
    out, err = io.StringIO(), io.StringIO()
    with anyio.fail_after(30):
        code = await run(["doctor", "--url", url, "--json"], stdout=out, stderr=err)
    result = CliRun(code, out.getvalue(), err.getvalue())
    assert result.code == 3
    checks = {e["name"]: e for e in result.of_type("check")}
    assert list(checks) == ["binary", "app-server", "server", "login"]
    assert checks["binary"]["status"] == "ok"
    assert checks["app-server"]["status"] == "warn"
    assert checks["server"]["status"] == "fail"
    assert url in checks["server"]["detail"]
    assert "--token" in checks["server"]["fix"]
    assert checks["login"]["status"] == "skip"


# -- never an empty reason --------------------------------------------------------------------


async def test_a_binary_that_hangs_on_version_fails_with_a_reason_and_the_option_to_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "codex"
    # `exec`: the shell becomes the sleep, so the doctor's kill on timeout ends it.
    script.write_text("#!/bin/sh\nexec sleep 60\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("CODEX_BIN", str(script))
    async with fake_cli(FakeAppServer()) as (invoke, _):
        result = await invoke("doctor", "--timeout", "0.3")
    assert result.code == 3
    assert result.lines[0] == (
        f"FAIL  binary      `{script} --version` (found via $CODEX_BIN) gave no answer "
        "within 0.3 s (--timeout 0.3)"
    )
    assert result.lines[1].startswith("      fix: ")
    assert "raise --timeout" in result.lines[1]


async def test_an_app_server_that_never_answers_is_explained_in_the_clis_terms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_BIN", str(_fake_codex(tmp_path)))
    server = FakeAppServer()
    server.ignore_next()  # initialize
    async with fake_cli(server) as (invoke, _):
        result = await invoke("doctor", "--json", "--timeout", "0.2")
    assert result.code == 3
    checks = {e["name"]: e for e in result.of_type("check")}
    detail: str = checks["app-server"]["detail"]
    assert detail.endswith(
        "app-server` did not answer initialize: the server did not answer initialize within "
        "0.2 s (--timeout 0.2); it may be busy or stuck. Try again, or raise --timeout if it is "
        "just slow"
    )
    assert "timeout=" not in detail


async def test_a_failure_without_a_message_names_its_type_and_what_to_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_BIN", str(_fake_codex(tmp_path)))

    class SilentClient:
        async def __aenter__(self) -> Any:
            raise TimeoutError

        async def __aexit__(self, *exc: object) -> None:
            return None

    def connect(url: str, transport_options: dict[str, Any], /, **options: Any) -> Any:
        return SilentClient()

    out, err = io.StringIO(), io.StringIO()
    with anyio.fail_after(WAIT):
        code = await run(
            ["doctor", "--json", "--timeout", "0.2"], stdout=out, stderr=err, connect=connect
        )
    result = CliRun(code, out.getvalue(), err.getvalue())
    assert result.code == 3
    checks = {e["name"]: e for e in result.of_type("check")}
    assert checks["app-server"]["detail"].endswith(
        "did not answer initialize: timed out after 0.6 s (TimeoutError); raise --timeout if "
        "the server is just slow"
    )
    for check in checks.values():
        assert check["detail"].strip(), check
