"""Cancelling a caller at every await point leaves the client clean and usable.

Each public operation (``request``, ``chat``, ``chat_once``, ``cancel``) runs inside a cancel
scope over the in-memory transport, against the in-process fake app-server. A wrapper around
the client's end of the transport counts *checkpoints*: just before and just after each
message the client sends, and just before and just after the reader hands on each message it
received. Run ``k`` cancels the caller's scope at the ``k``-th checkpoint and yields there, so
the caller is interrupted at whatever it is awaiting at that moment (a send, an answer, a retry
back-off, the next event of a turn, the read-back of a final text, ...). ``k`` grows from 1
until a run finishes without reaching its ``k``-th checkpoint: every point between two moves
of a message has then been cut once.

After each cut, the client's tables must be empty (pending requests, the JSON-RPC engine's
correlation table, tracked turns, turn starts in flight, attached waiters), the connection
must still be open, and a following ``chat_once`` on the same client must succeed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexTurnInactiveError
from codex_app_server_client.models import Continuation, Step
from codex_app_server_client.testing import FakeAppServer, MemoryTransport, memory_transport_pair
from codex_app_server_client.testing.fake_server import (
    DEFAULT_AGENT_TEXT,
    Action,
    agent_message,
    before_response,
    command,
    command_approval,
    notify,
    reasoning,
    server_request,
    stall,
    turn_started,
)

pytestmark = pytest.mark.anyio

WAIT = 10.0
"""Upper bound on one run (setup, cut, checks, follow-up); a hang fails instead of blocking."""

MAX_CHECKPOINTS = 400
"""Far above the checkpoints of any operation here; reaching it means the count never ends."""

INACTIVE = 0.05
"""Inactivity timeout used in setups to park a turn that is stalled on purpose."""

RICH_TURN: tuple[Action, ...] = (
    # Events before the turn/start response, as the real server sends them: they exercise the
    # buffer of a turn start in flight.
    before_response(
        notify("warning", {"threadId": "$threadId", "message": "early"}), turn_started()
    ),
    reasoning(["thinking"]),
    agent_message("looking around", phase="commentary", deltas=2),
    # A server request: its default answer (decline) runs in a handler task of the client.
    command_approval("touch x"),
    server_request("item/tool/requestUserInput", {"itemId": "ask", "questions": []}),
    command("ls", output="a b"),
    agent_message("the answer", phase="final_answer", deltas=3),
)
"""A turn with deltas, early events, server requests and several items."""

RICH_STEPS = 6
"""Completed items of :data:`RICH_TURN`: user message, reasoning, two messages, two commands."""


class _Checkpoints:
    """Counts the checkpoints of the armed caller and cancels its scope at the target one."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.count = 0
        self.scope: anyio.CancelScope | None = None
        self.cut_at: str | None = None
        """Which checkpoint the cancel came at, for failure messages."""

    @property
    def fired(self) -> bool:
        return self.cut_at is not None

    async def tick(self, label: str) -> None:
        scope = self.scope
        if scope is None:
            return
        self.count += 1
        if self.count == self.target:
            self.cut_at = label
            scope.cancel()
            # Yield, so the cancelled caller runs (and unwinds) before the message moves on.
            await anyio.lowlevel.checkpoint()


class _CountingTransport:
    """The client's end of the memory pair, with a checkpoint around every message."""

    def __init__(self, inner: MemoryTransport, points: _Checkpoints) -> None:
        self._inner = inner
        self._points = points

    async def send(self, message: bytes) -> None:
        await self._points.tick(f"before sending {_head(message)}")
        await self._inner.send(message)
        await self._points.tick(f"after sending {_head(message)}")

    async def receive(self) -> bytes:
        await self._points.tick("after dispatching the previous message")
        message = await self._inner.receive()
        await self._points.tick(f"before dispatching {_head(message)}")
        return message

    async def aclose(self) -> None:
        await self._inner.aclose()


def _head(message: bytes) -> str:
    return message[:80].decode(errors="replace")


@dataclass
class _Run:
    server: FakeAppServer
    client: CodexClient
    points: _Checkpoints


@asynccontextmanager
async def _connected(server: FakeAppServer, points: _Checkpoints) -> AsyncGenerator[CodexClient]:
    client_end, server_end = memory_transport_pair()
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, server_end)
        try:
            async with CodexClient(
                _CountingTransport(client_end, points), request_timeout=WAIT
            ) as client:
                yield client
        finally:
            await server_end.aclose()


def _leftovers(client: CodexClient) -> dict[str, Any]:
    """Every client table that still holds something (empty when the client is clean)."""
    connection = client._connection  # pyright: ignore[reportPrivateUsage]
    assert connection is not None
    router = client._router  # pyright: ignore[reportPrivateUsage]
    tables: dict[str, Any] = {
        "requests awaiting an answer": dict(connection._slots),  # pyright: ignore[reportPrivateUsage]
        "engine correlation table": dict(connection._engine.pending),  # pyright: ignore[reportPrivateUsage]
        "tracked turns": dict(router.tracked_turns),
        "turn starts in flight": dict(router.starting_threads),
        "attached waiters": router.leftovers().get("attached turns", []),
        "armed deadlines": len(connection.watchdog),
    }
    return {name: table for name, table in tables.items() if table}


async def _handlers_drained(client: CodexClient) -> None:
    """Wait until no server-request handler task is running (they answer at once here)."""
    connection = client._connection  # pyright: ignore[reportPrivateUsage]
    assert connection is not None
    while connection.handling_server_requests:
        await anyio.lowlevel.checkpoint()


async def _parked_turn(run: _Run) -> Continuation:
    """Start a turn that stalls, and let the wait on it time out: its continuation."""
    run.server.script_turn(agent_message("before the stall"), stall(), agent_message("after"))
    try:
        await run.client.chat_once("stall please", inactivity_timeout=INACTIVE)
    except CodexTurnInactiveError as exc:
        return exc.continuation
    raise AssertionError("the stalled turn was expected to time out")


# ------------------------------------------------------------------------------------------
# The operations, each as (setup, operation, check of an uncut result)

Setup = Callable[[_Run], Awaitable[Any]]
Operation = Callable[[_Run, Any], Awaitable[Any]]
Check = Callable[[_Run, Any], None]


async def _overloaded(run: _Run) -> None:
    # Two overload answers put the retry back-off (a sleep) among the awaited points.
    run.server.overload_next(2)


async def _request(run: _Run, _: None) -> Any:
    return await run.client.request("thread/start", {})


def _check_request(run: _Run, result: Any) -> None:
    assert result["thread"]["id"] in run.server.thread_ids


async def _rich_turn(run: _Run) -> None:
    run.server.script_turn(*RICH_TURN)


async def _chat_once(run: _Run, _: None) -> Any:
    return await run.client.chat_once("go")


def _check_rich_result(run: _Run, result: Any) -> None:
    assert result.final_text == "the answer"
    assert len(result.steps) == RICH_STEPS


async def _thread_of_another_connection(run: _Run) -> str:
    # Made on a second connection, so this client must resume it (thread/resume) first.
    async with _connected(run.server, _Checkpoints(0)) as other:
        started = await other.request("thread/start", {})
    thread_id = str(started["thread"]["id"])
    run.server.script_turn(*RICH_TURN, thread_id=thread_id)
    return thread_id


async def _chat_once_on_thread(run: _Run, thread_id: str) -> Any:
    return await run.client.chat_once("go", thread_id=thread_id)


async def _chat_with(run: _Run, _: None) -> Any:
    seen: list[Step] = []
    async with run.client.chat("go") as steps:
        async for step in steps:
            seen.append(step)
    return seen


async def _chat_bare(run: _Run, _: None) -> Any:
    # No `async with`: a stream dropped by a cut must free its turn when it is collected.
    seen: list[Step] = []
    async for step in run.client.chat("go"):
        seen.append(step)
    return seen


def _check_rich_steps(run: _Run, result: Any) -> None:
    assert [s.text for s in result][-1] == "the answer"
    assert len(result) == RICH_STEPS


async def _parked_and_released(run: _Run) -> Continuation:
    continuation = await _parked_turn(run)
    await run.server.wait_stalled()
    run.server.release()
    return continuation


async def _resume(run: _Run, continuation: Continuation) -> Any:
    return await run.client.chat_once(continuation=continuation)


def _check_resumed(run: _Run, result: Any) -> None:
    assert result.final_text == "after"
    assert [s.text for s in result.steps][-2:] == ["before the stall", "after"]


async def _cancel(run: _Run, continuation: Continuation) -> Any:
    return await run.client.cancel(continuation)


def _check_cancelled(run: _Run, result: Any) -> None:
    assert result.status == "interrupted"
    assert result.interrupted


@dataclass(frozen=True)
class _Case:
    setup: Setup
    operation: Operation
    check: Check
    dropped_late: bool = False
    """The operation drops a stream without closing it, so a cut frees it only when collected."""


OPERATIONS: dict[str, _Case] = {
    "request with overload retries": _Case(_overloaded, _request, _check_request),
    "chat_once on a new thread": _Case(_rich_turn, _chat_once, _check_rich_result),
    "chat_once on a thread to resume": _Case(
        _thread_of_another_connection, _chat_once_on_thread, _check_rich_result
    ),
    "chat inside async with": _Case(_rich_turn, _chat_with, _check_rich_steps),
    "chat without async with": _Case(_rich_turn, _chat_bare, _check_rich_steps, True),
    "chat_once with a continuation": _Case(_parked_and_released, _resume, _check_resumed),
    "cancel": _Case(_parked_turn, _cancel, _check_cancelled),
}


async def _cut_once(name: str, target: int) -> bool:
    """Run the operation once, cut at checkpoint ``target``; whether the cut happened."""
    case = OPERATIONS[name]
    server = FakeAppServer(post_initialize_notifications=False)
    points = _Checkpoints(target)
    with anyio.fail_after(WAIT):
        async with _connected(server, points) as client:
            run = _Run(server, client, points)
            prepared = await case.setup(run)
            result: Any = None
            with anyio.CancelScope() as scope:
                points.scope = scope
                try:
                    result = await case.operation(run, prepared)
                finally:
                    points.scope = None
            where = f"{name}, cut at checkpoint {target} ({points.cut_at})"
            if not points.fired:
                case.check(run, result)
                assert not _leftovers(client), where
                return False
            # A cut stream is gone with the frame that held it; nothing else may remain.
            assert not client.closed, where
            if case.dropped_late:
                # The cut stream is referenced by the cancellation exception's traceback until
                # the event loop has finished delivering it: it is freed (by __del__) at the
                # caller's next checkpoint, not at once.
                await anyio.lowlevel.checkpoint()
            assert _leftovers(client) == {}, where
            after = await client.chat_once("and now?")
            assert after.status == "completed", where
            assert after.final_text is not None, where
            await _handlers_drained(client)
            assert _leftovers(client) == {}, where
            return True


@pytest.mark.parametrize("name", list(OPERATIONS))
async def test_cancelling_the_caller_at_every_checkpoint_leaves_the_client_clean_and_usable(
    name: str,
) -> None:
    cuts = 0
    for target in range(1, MAX_CHECKPOINTS):
        if not await _cut_once(name, target):
            break
        cuts += 1
    else:
        raise AssertionError(f"{name}: still cutting after {MAX_CHECKPOINTS} checkpoints")
    # Every operation here awaits at several points; a count this low means the counting broke.
    assert cuts >= 4, f"{name}: only {cuts} checkpoints"


async def test_a_turn_whose_caller_was_cut_does_not_disturb_the_next_caller() -> None:
    # The turn whose caller was cut keeps running on the server; its events belong to no turn
    # of this client and must neither reach nor disturb the next caller.
    server = FakeAppServer(post_initialize_notifications=False)
    with anyio.fail_after(WAIT):
        async with _connected(server, _Checkpoints(0)) as client:
            server.script_turn(agent_message("cut off"), stall(), *RICH_TURN)

            async def cut_at_the_stall(caller: anyio.CancelScope) -> None:
                await server.wait_stalled()
                caller.cancel()

            async with anyio.create_task_group() as tg:
                with anyio.CancelScope() as scope:
                    tg.start_soon(cut_at_the_stall, scope)
                    await client.chat_once("go")
            assert scope.cancelled_caught
            assert _leftovers(client) == {}
            server.release()
            after = await client.chat_once("and now?")
            assert after.final_text == DEFAULT_AGENT_TEXT
            assert [s.text for s in after.steps][-1] == DEFAULT_AGENT_TEXT
            await server.wait_turns_completed(2)
            await _handlers_drained(client)
            assert _leftovers(client) == {}


async def test_a_wait_for_the_next_step_cut_by_the_caller_can_be_resumed_on_the_same_stream() -> (
    None
):
    # A cut around one step (a per-step timeout, say) must not spend the stream: the turn
    # stays attached and the next iteration picks up where the cut one stopped.
    server = FakeAppServer(post_initialize_notifications=False)
    with anyio.fail_after(WAIT):
        async with _connected(server, _Checkpoints(0)) as client:
            server.script_turn(agent_message("one"), stall(), agent_message("two"))
            seen: list[Step] = []
            async with client.chat("go") as steps, anyio.create_task_group() as tg:

                async def cut_at_the_stall(caller: anyio.CancelScope) -> None:
                    await server.wait_stalled()
                    caller.cancel()

                with anyio.CancelScope() as scope:
                    tg.start_soon(cut_at_the_stall, scope)
                    async for step in steps:
                        seen.append(step)
                assert scope.cancelled_caught
                # (How many steps came before the cut depends on scheduling; the total below
                # must not: nothing lost, nothing twice.)
                # Still attached: the turn is tracked and waited on, nothing else is left.
                assert set(client._router.tracked_turns) == {steps.turn_id}  # pyright: ignore[reportPrivateUsage]
                assert not client._connection.pending_requests  # pyright: ignore[reportPrivateUsage, reportOptionalMemberAccess]
                server.release()
                async for step in steps:
                    seen.append(step)
            assert [s.text for s in seen][1:] == ["one", "two"]
            assert steps.result.final_text == "two"
            assert _leftovers(client) == {}
