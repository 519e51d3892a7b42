"""The server process dies mid-turn: it exits (cleanly or with an error) or is killed.

Whatever the way, a turn and a request that were waiting fail at once with
:class:`CodexTransportError`, later calls fail the same way without waiting, leaving the client
is bounded, and nothing (descriptor, child, task) is left behind: the folder's leak check runs
around every test. The fake app-server runs as a child process over stdio and over ws; the real
codex binary is in ``test_real_binary_death.py``.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import anyio
import anyio.abc
import pytest
from _peers import KINDS, FakeProcess, Kind, open_fake_process

from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client.protocol import Notification
from codex_app_server_client.testing.fake_server import (
    IGNORE_NEXT_NOTIFICATION,
    RELEASE_NOTIFICATION,
    Action,
    agent_message,
    exit_process,
    stall,
)

pytestmark = pytest.mark.anyio

WAIT = 15.0
PROMPT = 2.0
"""How soon after the death every waiter must have failed."""


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param


class Waiters:
    """A turn and a request left waiting on the fake, and how each of them ended."""

    def __init__(self, fake: FakeProcess) -> None:
        self.fake = fake
        self.errors: dict[str, CodexTransportError] = {}
        self.all_failed = anyio.Event()

    async def start(self, tg: anyio.abc.TaskGroup) -> None:
        """Start a turn that reaches its first agent message, then a request never answered."""
        client = self.fake.client
        working = anyio.Event()

        def listener(note: Notification) -> None:
            item = note.params.get("item")
            text = item.get("text") if isinstance(item, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if note.method == "item/completed" and text == "working":
                working.set()

        client.on_notification(listener)
        tg.start_soon(self._turn)
        await working.wait()
        await client.notify(IGNORE_NEXT_NOTIFICATION, {"count": 1})
        tg.start_soon(self._request)
        # Both are now waiting on the server (the reader and the two waiters are all parked).
        await anyio.wait_all_tasks_blocked()

    async def _turn(self) -> None:
        try:
            await self.fake.client.chat_once("work, then die", inactivity_timeout=None)
        except CodexTransportError as exc:
            self._failed("turn", exc)

    async def _request(self) -> None:
        try:
            await self.fake.client.request("thread/loaded/list", {}, timeout=60)
        except CodexTransportError as exc:
            self._failed("request", exc)

    def _failed(self, name: str, exc: CodexTransportError) -> None:
        self.errors[name] = exc
        if len(self.errors) == 2:
            self.all_failed.set()


async def die_and_check(
    kind: Kind, script: list[Action], kill: signal.Signals | None, tmp_path: Path
) -> dict[str, CodexTransportError]:
    """Run ``script`` on the fake, leave a turn and a request waiting, end the fake (by the
    script's own end after a release, or by ``kill``) and check everything fails promptly."""
    with anyio.fail_after(WAIT):
        async with open_fake_process(kind, [script], workdir=tmp_path) as fake:
            waiters = Waiters(fake)
            async with anyio.create_task_group() as tg:
                await waiters.start(tg)
                if kill is None:
                    await fake.client.notify(RELEASE_NOTIFICATION)
                else:
                    os.kill(fake.pid, kill)
                with anyio.fail_after(PROMPT):
                    await waiters.all_failed.wait()
            assert fake.client.closed
            # Later calls fail at once too, with the same kind of error.
            with anyio.fail_after(PROMPT), pytest.raises(CodexTransportError):
                await fake.client.request("thread/loaded/list", {})
            with anyio.fail_after(PROMPT), pytest.raises(CodexTransportError):
                await fake.client.chat_once("anyone?")
    return waiters.errors


async def test_a_server_that_exits_cleanly_mid_turn_fails_the_turn_and_the_request(
    kind: Kind, tmp_path: Path
) -> None:
    script: list[Action] = [agent_message("working"), stall(), exit_process(0)]
    errors = await die_and_check(kind, script, None, tmp_path)
    assert set(errors) == {"turn", "request"}
    if kind == "stdio":
        for error in errors.values():
            assert "the app-server closed the connection" in str(error)


async def test_a_server_that_crashes_mid_turn_fails_everything_with_its_exit_code_and_stderr(
    kind: Kind, tmp_path: Path
) -> None:
    script: list[Action] = [
        agent_message("working"),
        stall(),
        exit_process(3, "fatal: out of cheese"),
    ]
    errors = await die_and_check(kind, script, None, tmp_path)
    assert set(errors) == {"turn", "request"}
    if kind == "stdio":
        for error in errors.values():
            assert "exited with code 3" in str(error)
            assert error.stderr_tail is not None
            assert "fatal: out of cheese" in error.stderr_tail


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
async def test_a_server_killed_mid_turn_fails_the_turn_and_the_request_at_once(
    kind: Kind, sig: signal.Signals, tmp_path: Path
) -> None:
    errors = await die_and_check(kind, [agent_message("working"), stall()], sig, tmp_path)
    assert set(errors) == {"turn", "request"}
    if kind == "stdio":
        for error in errors.values():
            assert f"killed by {sig.name}" in str(error)
