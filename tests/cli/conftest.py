"""Helpers to run ``codex-client`` in-process against the fake app-server, or as a process."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

from codex_app_server_client import CodexClient
from codex_app_server_client._cli import run
from codex_app_server_client.testing import FakeAppServer, memory_transport_pair

WAIT = 10.0
"""Upper bound for one in-process command against the fake (it normally takes milliseconds)."""


@dataclass
class CliRun:
    """The outcome of one command: exit code and what it wrote."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def events(self) -> list[dict[str, Any]]:
        """Every stdout line parsed as JSON; fails if any line is not a JSON object."""
        parsed: list[dict[str, Any]] = []
        for line in self.out.splitlines():
            value = json.loads(line)
            assert isinstance(value, dict), line
            parsed.append(value)  # pyright: ignore[reportUnknownArgumentType]
        return parsed

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["type"] == kind]


class TerminalInput(io.StringIO):
    """Typed answers that claim to come from a terminal (so the CLI prompts)."""

    def isatty(self) -> bool:
        return True


class TerminalOutput(io.StringIO):
    """A stderr that claims to be a terminal (so the spinner draws) and reports each write."""

    def __init__(self, on_write: Callable[[str], None] = lambda _: None) -> None:
        super().__init__()
        self._on_write = on_write

    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> int:
        written = super().write(s)
        self._on_write(s)
        return written


@dataclass
class FakeConnector:
    """Serves every client the CLI opens from one in-memory :class:`FakeAppServer`."""

    server: FakeAppServer
    task_group: anyio.abc.TaskGroup
    urls: list[str] = field(default_factory=list[str])
    transport_options: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    def __call__(
        self, url: str, transport_options: dict[str, Any], /, **client_options: Any
    ) -> CodexClient:
        self.urls.append(url)
        self.transport_options.append(transport_options)
        client_end, server_end = memory_transport_pair()
        self.task_group.start_soon(self.server.serve, server_end)
        return CodexClient(client_end, **client_options)


Invoke = Callable[..., Awaitable[CliRun]]


@asynccontextmanager
async def fake_cli(server: FakeAppServer) -> AsyncGenerator[tuple[Invoke, FakeConnector]]:
    """``async with fake_cli(server) as (invoke, connector):``, then
    ``result = await invoke("chat", "hi")``."""
    async with anyio.create_task_group() as tg:
        connector = FakeConnector(server, tg)

        async def invoke(*argv: str, stdin: io.StringIO | None = None) -> CliRun:
            out, err = io.StringIO(), io.StringIO()
            with anyio.fail_after(WAIT):
                code = await run(
                    list(argv),
                    stdin=stdin if stdin is not None else io.StringIO(""),
                    stdout=out,
                    stderr=err,
                    connect=connector,
                )
            return CliRun(code, out.getvalue(), err.getvalue())

        yield invoke, connector
        tg.cancel_scope.cancel()


def console_script() -> list[str]:
    """The installed ``codex-client`` console script (the entry point users run)."""
    script = Path(sys.executable).with_name("codex-client")
    assert script.is_file(), f"the codex-client console script is not installed at {script}"
    return [str(script)]
