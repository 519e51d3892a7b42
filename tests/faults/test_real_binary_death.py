"""The real codex app-server dies mid-turn (SIGKILL, or SIGTERM: its clean shutdown), over
stdio and over ws, offline: its only model provider is the fake on 127.0.0.1, stalled so that
the turn is surely running when the server dies.

The turn and a concurrent request fail at once with :class:`CodexTransportError`; later calls
fail without waiting; no descriptor, child process or task is left (the folder's leak check).
Runs on both anyio backends, like the other real-binary tests.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import anyio
import pytest
from _peers import KINDS, Kind

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client.protocol import Notification
from codex_app_server_client.testing.codex_home import write_codex_home
from codex_app_server_client.testing.codex_ws import run_codex_ws_server
from codex_app_server_client.testing.fake_provider import FakeResponsesProvider, stall

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

STARTUP = 60.0
"""Generous: the first start of the 300 MB binary on a loaded two-core machine is slow."""
PROMPT = 5.0
"""How soon the waiters must fail once the server is gone (generous: a loaded 2-core box)."""


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param


@asynccontextmanager
async def real_client(
    kind: Kind, provider: FakeResponsesProvider, tmp_path: Path
) -> AsyncGenerator[tuple[CodexClient, int]]:
    env = write_codex_home(tmp_path / "codex-home", provider_url=provider.base_url)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    if kind == "stdio":
        async with CodexClient("stdio://", env=env, cwd=str(workspace)) as client:
            yield client, int(getattr(client.transport, "pid"))  # noqa: B009
        return
    async with (
        run_codex_ws_server(env=env, cwd=workspace) as server,
        CodexClient(server.url) as client,
    ):
        yield client, server.pid


async def test_the_real_server_killed_mid_turn_fails_the_turn_and_a_request_at_once(
    kind: Kind, tmp_path: Path
) -> None:
    errors: dict[str, CodexTransportError] = {}
    all_failed = anyio.Event()

    def failed(name: str, exc: CodexTransportError) -> None:
        errors[name] = exc
        if len(errors) == 2:
            all_failed.set()

    # The provider lives inside the test, so the leak check sees its sockets closed again.
    with FakeResponsesProvider() as provider, anyio.fail_after(STARTUP):
        provider.enqueue(stall())
        async with real_client(kind, provider, tmp_path) as (client, pid):
            turn_running = when_turn_started(client)

            async def turn() -> None:
                try:
                    await client.chat_once("think for a long time", inactivity_timeout=None)
                except CodexTransportError as exc:
                    failed("turn", exc)

            async def request() -> None:
                try:
                    await client.request("thread/loaded/list", {}, timeout=60)
                except CodexTransportError as exc:
                    failed("request", exc)

            async with anyio.create_task_group() as tg:
                tg.start_soon(turn)
                await turn_running.wait()
                # A stopped server cannot answer, so the request is surely pending when it dies.
                os.kill(pid, signal.SIGSTOP)
                try:
                    # Delivery is asynchronous: wait until it has really stopped (without
                    # reaping it), or it might still answer the request in the meantime.
                    # Returns within microseconds: the stop is already under way.
                    os.waitid(os.P_PID, pid, os.WSTOPPED | os.WNOWAIT)  # noqa: ASYNC222
                    tg.start_soon(request)
                    await anyio.wait_all_tasks_blocked()
                    os.kill(pid, signal.SIGKILL)
                finally:
                    with suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGCONT)
                with anyio.move_on_after(PROMPT):
                    await all_failed.wait()
                assert set(errors) == {"turn", "request"}, (errors, client.closed)
            assert client.closed
            with anyio.fail_after(PROMPT), pytest.raises(CodexTransportError):
                await client.request("thread/loaded/list", {})
    assert set(errors) == {"turn", "request"}
    if kind == "stdio":
        assert all("killed by SIGKILL" in str(e) for e in errors.values())


async def test_the_real_stdio_server_terminated_mid_turn_fails_the_turn_at_once(
    tmp_path: Path,
) -> None:
    # SIGTERM is codex's orderly shutdown: over stdio it exits at once (code 0) even with a
    # turn running. (Over ws it drains instead: it keeps the connection until the turn ends,
    # so a stalled turn holds it open; there is no fault for the client to see there.)
    errors: list[CodexTransportError] = []
    with FakeResponsesProvider() as provider, anyio.fail_after(STARTUP):
        provider.enqueue(stall())
        async with real_client("stdio", provider, tmp_path) as (client, pid):
            turn_running = when_turn_started(client)
            failed = anyio.Event()

            async def turn() -> None:
                try:
                    await client.chat_once("think for a long time", inactivity_timeout=None)
                except CodexTransportError as exc:
                    errors.append(exc)
                    failed.set()

            async with anyio.create_task_group() as tg:
                tg.start_soon(turn)
                await turn_running.wait()
                os.kill(pid, signal.SIGTERM)
                with anyio.fail_after(PROMPT):
                    await failed.wait()
            assert client.closed
            with anyio.fail_after(PROMPT), pytest.raises(CodexTransportError):
                await client.request("thread/loaded/list", {})
    assert "the app-server closed the connection" in str(errors[0])


def when_turn_started(client: CodexClient) -> anyio.Event:
    started = anyio.Event()

    def listener(note: Notification) -> None:
        if note.method == "turn/started":
            started.set()

    client.on_notification(listener)
    return started
