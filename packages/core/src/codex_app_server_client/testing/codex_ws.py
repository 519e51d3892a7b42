"""Run the real ``codex app-server --listen ws://127.0.0.1:0`` for tests, and learn its URL."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import anyio.abc
from anyio.streams.text import TextReceiveStream

from ..errors import CodexTransportError
from .codex_home import find_codex_binary

__all__ = ["CodexWebSocketServer", "run_codex_ws_server", "run_ws_server_process"]

_LISTENING = re.compile(r"listening on: (ws://\S+)")


@dataclass
class CodexWebSocketServer:
    """A running ``codex app-server`` in websocket mode, started by :func:`run_codex_ws_server`.

    Attributes:
        url: the ``ws://127.0.0.1:PORT`` it listens on; give it to ``CodexClient``.
        process: the child process (``pid``, ``returncode``).
        stderr: every stderr line it wrote so far.
    """

    url: str
    process: anyio.abc.Process
    stderr: list[str] = field(default_factory=list[str])

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid


@asynccontextmanager
async def run_codex_ws_server(
    *,
    env: Mapping[str, str],
    codex: str | None = None,
    args: Sequence[str] = (),
    cwd: str | os.PathLike[str] | None = None,
    ready_timeout: float = 30.0,
) -> AsyncGenerator[CodexWebSocketServer]:
    """Start codex as a websocket server on a free loopback port; stop it on exit.

    Args:
        env: variables added to the inherited environment; include the ``CODEX_HOME`` from
            :func:`~codex_app_server_client.testing.codex_home.write_codex_home` so codex
            stays offline.
        codex: the binary; by default ``$CODEX_BIN``, the ``openai-codex-cli-bin`` wheel, or
            ``codex`` on ``PATH``.
        args: extra ``app-server`` arguments, e.g. ``["--ws-auth", "capability-token", ...]``.
        cwd: the server's working directory.
        ready_timeout: seconds to wait for the "listening on" line.

    Raises:
        CodexTransportError: no binary found, or it exited before listening.
    """
    binary = codex or find_codex_binary()
    if binary is None:
        raise CodexTransportError(
            "no codex binary: set CODEX_BIN, pip install openai-codex-cli-bin, or put codex on PATH"
        )
    argv = [binary, "app-server", "--listen", "ws://127.0.0.1:0", *args]
    async with run_ws_server_process(argv, env=env, cwd=cwd, ready_timeout=ready_timeout) as server:
        yield server


@asynccontextmanager
async def run_ws_server_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    ready_timeout: float = 30.0,
) -> AsyncGenerator[CodexWebSocketServer]:
    """Start any server process that prints ``listening on: ws://...`` to stderr (codex, or
    the fake app-server's ``--listen ws://127.0.0.1:0`` mode); stop it on exit."""
    process = await anyio.open_process(
        list(argv),
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    lines: list[str] = []
    found = anyio.Event()
    urls: list[str] = []

    async def drain() -> None:
        assert process.stderr is not None
        pending = ""
        async for chunk in TextReceiveStream(process.stderr, errors="replace"):
            pending += chunk
            *complete, pending = pending.split("\n")
            for line in complete:
                lines.append(line)
                match = _LISTENING.search(line)
                if match and not found.is_set():
                    urls.append(match.group(1))
                    found.set()
        found.set()  # stderr closed: the process is gone; stop waiting either way

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(drain)
            with anyio.move_on_after(ready_timeout):
                await found.wait()
            if not urls:
                tail = "\n".join(lines[-20:])
                raise CodexTransportError(
                    f"codex did not report a websocket address within {ready_timeout:g} s",
                    stderr_tail=tail,
                )
            try:
                yield CodexWebSocketServer(url=urls[0], process=process, stderr=lines)
            finally:
                tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await _stop(process)


async def _stop(process: anyio.abc.Process) -> None:
    if process.returncode is None:
        process.terminate()
        with anyio.move_on_after(5):
            await process.wait()
    if process.returncode is None:
        process.kill()
        with anyio.move_on_after(5):
            await process.wait()
    await process.aclose()
