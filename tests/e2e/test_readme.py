"""The README works as written, against the real binary and a fake provider: the quick start,
and the main-job command of "The two commands" (``codex-client doctor``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from codex_app_server_client.testing.fake_provider import FakeResponsesProvider, text

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


MAIN_JOB = "python3 -m pip install uv nox && uv sync && uv run codex-client doctor"


def _main_job_line() -> str:
    section = README.read_text(encoding="utf-8").split("## The two commands", 1)[1]
    match = re.search(r"```bash\n(.*?)\n```", section, re.DOTALL)
    assert match is not None, "the README's two-commands section has no bash block"
    return match.group(1).strip()


def _codex_client_argv() -> list[str]:
    """The README's ``uv run codex-client ...`` step, as the installed console script."""
    step = _main_job_line().split("&&")[-1].split()
    assert step[:3] == ["uv", "run", "codex-client"], step
    script = Path(sys.executable).with_name("codex-client")
    assert script.is_file(), f"the codex-client console script is not installed at {script}"
    return [str(script), *step[3:]]


def _fresh_machine_home(path: Path) -> dict[str, str]:
    """No login and the stock provider, like a fresh machine; plugins and analytics off so
    that codex looks nothing up on the internet."""
    path.mkdir(parents=True)
    (path / "config.toml").write_text(
        "[features]\nplugins = false\n\n[analytics]\nenabled = false\n", encoding="utf-8"
    )
    return {"CODEX_HOME": str(path)}


def _run_main_job(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "CODEX_HOME"}
    return subprocess.run(
        _codex_client_argv(),
        env={**base, **env},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_readme_main_job_is_the_cli_doctor() -> None:
    assert _main_job_line() == MAIN_JOB


def test_the_main_job_on_a_fresh_machine_fails_the_login_check_and_says_what_to_do(
    tmp_path: Path,
) -> None:
    home = tmp_path / "fresh-home"
    done = _run_main_job(_fresh_machine_home(home), tmp_path)
    assert done.returncode == 7, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("OK    binary      ")
    assert lines[1].startswith("OK    app-server  started and answered initialize")
    assert lines[2].startswith("FAIL  login       not logged in")
    assert "login` (ChatGPT account, opens a browser)" in lines[3]
    assert "login --with-api-key" in lines[3]
    assert f"{home}/config.toml" in lines[3]
    assert "1 check(s) failed" in done.stderr


def test_the_main_job_passes_once_a_model_provider_is_configured(
    codex_env: dict[str, str], tmp_path: Path
) -> None:
    done = _run_main_job(codex_env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["OK", "OK", "OK"]


def _quick_start() -> str:
    section = README.read_text(encoding="utf-8").split("## Quick start", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README's Quick start section has no python block"
    return match.group(1)


def test_the_readme_quick_start_runs_as_written(
    provider: FakeResponsesProvider, codex_env: dict[str, str], tmp_path: Path
) -> None:
    provider.enqueue(text("It is an SDK for the Codex app-server."), text("None, I guessed."))
    script = tmp_path / "quick_start.py"
    script.write_text(_quick_start(), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, **codex_env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "It is an SDK for the Codex app-server."
    assert "[userMessage] Which files did you read?" in lines
    assert "[agentMessage] None, I guessed." in lines
