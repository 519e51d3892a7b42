"""Ctrl-C typed at a terminal, against the real ``codex`` binary offline.

``codex-client chat`` runs with a pseudo-terminal as its controlling terminal, its stdin and
its stderr (where a user sees the spinner and the notes); stdout is a pipe carrying ``--json``
events. Writing ``\\x03`` to the terminal's master side makes the terminal driver send SIGINT
to the foreground process group, exactly as a key press would. The ``codex app-server`` the
CLI started must not get that signal (it runs in a session of its own): the CLI interrupts the
turn through the server, which keeps serving, and the thread takes a new turn afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest

from codex_app_server_client.testing.codex_home import write_codex_home
from codex_app_server_client.testing.fake_provider import FakeResponsesProvider, stall, text

from .conftest import CliRun, console_script

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.anyio,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal"),
]

WAIT = 60.0
"""Bound on each wait (a real codex start and turn take well under a second here)."""

# Makes the terminal on stdin the controlling terminal of this new session's leader, then
# becomes the CLI (same process: it stays the session leader and the foreground group).
_TAKE_TERMINAL = """
import fcntl, os, sys, termios
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
os.execv(sys.argv[1], sys.argv[1:])
"""


@pytest.fixture
def anyio_backend() -> str:
    # The CLI is a separate process; one backend in the test is enough.
    return "asyncio"


@pytest.fixture
def provider() -> Generator[FakeResponsesProvider]:
    with FakeResponsesProvider() as fake:
        yield fake


def _env(codex_home: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CODEX_CLIENT_TOKEN", "CODEX_HOME")}
    return {**env, **codex_home, "TERM": "xterm"}


class Terminal:
    """The master side of a pseudo-terminal: what was written to it, and the keyboard."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.output = bytearray()

    async def drain(self) -> None:
        """Keep reading the terminal so that the CLI never blocks on it; ends at hang-up."""
        while True:
            await anyio.wait_readable(self.master)
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: every process holding the terminal has exited
                return
            if not chunk:
                return
            self.output += chunk

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")


async def _read_events_until(
    stdout: anyio.abc.ByteReceiveStream, buffer: bytearray, kind: str
) -> list[dict[str, Any]]:
    """Read ``--json`` lines from the CLI until an event of type ``kind`` has arrived."""
    events: list[dict[str, Any]] = []
    while True:
        while b"\n" in buffer:
            line, _, rest = bytes(buffer).partition(b"\n")
            buffer[:] = rest
            events.append(json.loads(line))
            if events[-1]["type"] == kind:
                return events
        buffer += await stdout.receive()


def _cli(argv: list[str], env: dict[str, str], cwd: Path) -> CliRun:
    done = subprocess.run(
        [*console_script(), *argv],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


async def test_ctrl_c_at_the_terminal_interrupts_the_turn_and_the_server_survives(
    provider: FakeResponsesProvider, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    env = _env(write_codex_home(tmp_path / "codex-home", provider_url=provider.base_url))
    provider.enqueue(stall())  # the model call stays in flight: the turn keeps running

    master, slave = os.openpty()
    terminal = Terminal(master)
    argv = ["chat", "--json", "--inactivity-timeout", "0", "count to a million"]
    seen: list[dict[str, Any]] = []
    process: anyio.abc.Process | None = None
    try:
        try:
            process = await anyio.open_process(
                [sys.executable, "-c", _TAKE_TERMINAL, *console_script(), *argv],
                stdin=slave,
                stdout=subprocess.PIPE,
                stderr=slave,
                env=env,
                cwd=workspace,
                start_new_session=True,
            )
        finally:
            os.close(slave)  # the CLI holds it now; the terminal hangs up when the CLI exits
        stdout = process.stdout
        assert stdout is not None
        pending = bytearray()
        async with anyio.create_task_group() as tg:
            tg.start_soon(terminal.drain)
            with anyio.fail_after(WAIT):
                # The turn runs once its user message is out and the model call has stalled.
                seen += await _read_events_until(stdout, pending, "step")
                await anyio.to_thread.run_sync(provider.wait_for_stalls, 1, WAIT)
                terminal.press(b"\x03")  # Ctrl-C, as typed
                seen += await _read_events_until(stdout, pending, "interrupted")
                code = await process.wait()
            tg.cancel_scope.cancel()
    finally:
        if process is not None:
            if process.returncode is None:
                process.kill()  # a failed test: its server exits at the end of its stdin
            with anyio.CancelScope(shield=True), anyio.move_on_after(WAIT):
                await process.aclose()
        os.close(master)

    said = terminal.text
    assert code == 130, said
    final = seen[-1]
    thread_id: str = final["thread_id"]
    assert thread_id == seen[0]["thread_id"]
    # The server answered the interrupt: the turn ended "interrupted", confirmed.
    assert final["status"] == "interrupted", said
    assert final["confirmed"] is True, said
    assert final["exit_code"] == 130
    assert f"interrupted by Ctrl-C on thread {thread_id} (turn status: interrupted)" in said
    # Nothing says the server went away (it would, had the Ctrl-C reached it).
    assert "killed by" not in said
    assert "could not interrupt" not in said
    assert "connection to the server ended" not in said
    assert "SIGINT" not in said

    # The interrupted thread takes a new turn.
    provider.enqueue(text("Resumed."))
    again = await anyio.to_thread.run_sync(
        _cli, ["chat", "--json", "--thread", thread_id, "just say resumed"], env, workspace
    )
    assert again.code == 0, again.err
    result = again.of_type("result")[0]
    assert result["thread_id"] == thread_id
    assert result["status"] == "completed"
    assert result["final_text"] == "Resumed."
    history = provider.requests[-1].input_texts()
    assert "count to a million" in history
    assert history[-1] == "just say resumed"
