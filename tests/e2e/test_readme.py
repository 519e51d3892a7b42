"""The README's quick start works as written, against the real binary and a fake provider."""

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
