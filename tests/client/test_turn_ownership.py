"""One owner per turn: the behaviours issue 15 found broken, each shown against the fake.

Every test here failed on the turn layer before the rebuild (a waiter stranded by
``cancel()`` from another task, ``aclose()`` cancelling the caller's own scope, an approval
counted as silence, a transport bug surfacing as ``ExceptionGroup``, a malformed start answer
leaving the thread locked, retries restarting the inactivity clock, a read-back that hid a
broken connection, a finalizer changing shared tables). They run on asyncio and trio; those
that go through ``Driver`` run against the async client and the blocking facade.

Nothing sleeps: time passes only by waiting on a real deadline (another turn's inactivity
timeout) under ``anyio.fail_after``.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
import anyio.lowlevel
import orjson
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import (
    CodexProtocolError,
    CodexTransportError,
    CodexTurnCancelledError,
    CodexTurnInactiveError,
)
from codex_app_server_client.models import (
    ApprovalDecision,
    ApprovalRequest,
    ChatResult,
    Continuation,
    Step,
)
from codex_app_server_client.protocol import Notification
from codex_app_server_client.testing import MemoryTransport, memory_transport_pair
from codex_app_server_client.testing.fake_server import (
    FakeAppServer,
    agent_message,
    before_response,
    command_approval,
    complete,
    notify,
    retry_error,
    stall,
)

from .test_behaviour import (
    INACTIVE,
    WAIT,
    Driver,
    OpenFake,
    tables_empty,
    texts,
)
from .test_behaviour import api as api  # a fixture memory_client uses
from .test_behaviour import memory_client as memory_client  # a fixture

pytestmark = pytest.mark.anyio


def turn_of(client: Driver) -> tuple[list[Continuation], anyio.Event]:
    """Filled with a continuation (cursor 0) for each turn the server starts, and an event
    set at the first (listeners of the sync API run a little behind its steps)."""
    started: list[Continuation] = []
    seen = anyio.Event()

    def listener(note: Notification) -> None:
        if note.method == "turn/started":
            turn: Any = note.params.get("turn")
            started.append(Continuation(str(note.params["threadId"]), str(turn["id"]), 0))
            seen.set()

    client.on_notification(listener)
    return started, seen


@asynccontextmanager
async def served(
    scripts: list[list[Any]] | None = None, **client_kwargs: Any
) -> AsyncGenerator[tuple[CodexClient, FakeAppServer, MemoryTransport]]:
    """An async client on the in-process fake, for tests of the async API only."""
    fake = FakeAppServer()
    fake.script_turns(scripts or [])
    client_end, server_end = memory_transport_pair()
    async with anyio.create_task_group() as tg:
        tg.start_soon(fake.serve, server_end)
        try:
            async with CodexClient(client_end, **client_kwargs) as client:
                yield client, fake, server_end
        finally:
            await server_end.aclose()


# ------------------------------------------------------------------------------------------
# 1. cancel() from another task never strands the task iterating the turn


async def test_cancel_from_another_task_ends_the_iterating_task_with_the_interrupted_turn(
    memory_client: OpenFake,
) -> None:
    script = [agent_message("first"), stall(), agent_message("never said")]
    async with memory_client([script], inactivity_timeout=None) as (client, _control):
        started, turn_seen = turn_of(client)
        seen: list[Step] = []
        first = anyio.Event()
        outcome: list[ChatResult] = []
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:

                async def iterate() -> None:
                    steps = client.chat("go")
                    async for step in steps:
                        seen.append(step)
                        if step.text == "first":
                            first.set()
                    outcome.append(steps.result)

                tg.start_soon(iterate)
                await first.wait()
                await turn_seen.wait()
                cancelled = await client.cancel(started[0])
        await tables_empty(client)
    assert cancelled.status == "interrupted"
    assert cancelled.interrupted is True
    assert outcome[0].status == "interrupted"
    assert texts(seen) == ["go", "first"]


async def test_cancel_the_server_never_confirms_ends_the_iterating_task_with_turn_cancelled(
    anyio_backend: str,
) -> None:
    async with served([[stall()]], inactivity_timeout=None) as (client, fake, _end):
        with anyio.fail_after(WAIT):
            steps = client.chat("go")
            await steps.__anext__()  # the user message: the turn is running
            assert steps.turn_id is not None
            assert steps.thread_id is not None
            errors: list[BaseException] = []
            async with anyio.create_task_group() as tg:

                async def iterate() -> None:
                    try:
                        async for _ in steps:
                            pass
                    except CodexTurnCancelledError as exc:
                        errors.append(exc)

                tg.start_soon(iterate)
                fake.ignore_next(1)  # turn/interrupt is never answered
                cancelled = await client.cancel(
                    Continuation(steps.thread_id, steps.turn_id, 1), timeout=INACTIVE
                )
            # The thread takes a new turn at once.
            assert client._router.leftovers() == {}  # pyright: ignore[reportPrivateUsage]
            fake.release()
    assert cancelled.status == "inProgress"
    assert cancelled.interrupted is False
    [error] = errors
    assert isinstance(error, CodexTurnCancelledError)
    assert error.turn_id == steps.turn_id


async def test_a_task_waiting_on_a_cancelled_turn_is_not_left_waiting_after_aclose(
    anyio_backend: str,
) -> None:
    errors: list[BaseException] = []
    async with served([[stall()]], inactivity_timeout=None) as (client, fake, _end):
        with anyio.fail_after(WAIT):
            steps = client.chat("go")
            await steps.__anext__()
            assert steps.turn_id is not None
            assert steps.thread_id is not None
            async with anyio.create_task_group() as tg:

                async def iterate() -> None:
                    try:
                        async for _ in steps:
                            pass
                    except (CodexTurnCancelledError, CodexTransportError) as exc:
                        errors.append(exc)

                tg.start_soon(iterate)
                fake.ignore_next(1)
                await client.cancel(Continuation(steps.thread_id, steps.turn_id, 1), timeout=0)
                await client.aclose()
    assert len(errors) == 1


# ------------------------------------------------------------------------------------------
# 2. aclose() anywhere: the code after the block runs


async def test_aclose_inside_the_block_lets_the_code_after_the_block_run(
    anyio_backend: str,
) -> None:
    reached: list[str] = []
    with anyio.fail_after(WAIT):
        async with served() as (client, _fake, _end):
            await client.aclose()
            await anyio.lowlevel.checkpoint()
            reached.append("inside, after aclose")
            await client.aclose()  # twice
            await anyio.lowlevel.checkpoint()
            with pytest.raises(CodexTransportError):
                await client.request("thread/list", {})
        reached.append("after the block")
    assert reached == ["inside, after aclose", "after the block"]


async def test_aclose_from_an_approval_handler_fails_the_turn_and_the_block_exits(
    anyio_backend: str,
) -> None:
    reached: list[str] = []
    holder: list[CodexClient] = []

    async def closes(request: ApprovalRequest) -> ApprovalDecision:
        await holder[0].aclose()
        return ApprovalDecision.ACCEPT

    script = [command_approval("anything"), agent_message("never said")]
    with anyio.fail_after(WAIT):
        async with served([script], approval_handler=closes) as (client, _fake, _end):
            holder.append(client)
            with pytest.raises(CodexTransportError):
                await client.chat_once("go")
            await anyio.lowlevel.checkpoint()
            reached.append("inside")
        reached.append("after the block")
    assert reached == ["inside", "after the block"]


async def test_aclose_from_another_task_fails_every_waiter_and_the_block_exits(
    anyio_backend: str,
) -> None:
    reached: list[str] = []
    outcomes: list[type[BaseException]] = []
    with anyio.fail_after(WAIT):
        async with served([[stall()]], inactivity_timeout=None) as (client, fake, _end):
            async with anyio.create_task_group() as tg:

                async def waits(call: Any) -> None:
                    try:
                        await call()
                    except CodexTransportError as exc:
                        outcomes.append(type(exc))

                stalled = anyio.Event()
                client.on_notification(
                    lambda n: stalled.set() if n.method == "item/completed" else None
                )
                tg.start_soon(waits, lambda: client.chat_once("go"))
                await stalled.wait()
                fake.ignore_next(1)  # this request is never answered
                tg.start_soon(waits, lambda: client.request("thread/list", {}))
                await anyio.lowlevel.checkpoint()
                tg.start_soon(client.aclose)
            reached.append("inside")
        reached.append("after the block")
    assert outcomes == [CodexTransportError, CodexTransportError]
    assert reached == ["inside", "after the block"]


# ------------------------------------------------------------------------------------------
# 3. A person deciding an approval is not silence; approval_timeout; cancel and close


async def test_an_approval_decided_after_the_inactivity_timeout_does_not_end_the_wait(
    memory_client: OpenFake,
) -> None:
    asked = anyio.Event()
    decide = anyio.Event()

    async def person(request: ApprovalRequest) -> ApprovalDecision:
        asked.set()
        await decide.wait()
        return ApprovalDecision.ACCEPT

    scripts = [[command_approval("make"), agent_message("approved and done")], [stall()]]
    async with memory_client(scripts, inactivity_timeout=INACTIVE, approval_handler=person) as (
        client,
        control,
    ):
        results: list[ChatResult] = []
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:

                async def run() -> None:
                    results.append(await client.chat_once("build it"))

                tg.start_soon(run)
                await asked.wait()
                # Let a real inactivity timeout pass: a turn started now goes quiet and gives
                # up after INACTIVE, later than the first turn's clock would have.
                with pytest.raises(CodexTurnInactiveError) as quiet:
                    await client.chat_once("a quiet one")
                assert results == []
                decide.set()
            await client.cancel(quiet.value.continuation)
            await control.release()
        await tables_empty(client)
    assert results[0].final_text == "approved and done"


async def test_an_approval_undecided_after_approval_timeout_is_declined_and_the_turn_goes_on(
    memory_client: OpenFake,
) -> None:
    never = anyio.Event()

    async def absent(request: ApprovalRequest) -> ApprovalDecision:
        await never.wait()
        return ApprovalDecision.ACCEPT

    script = [command_approval("rm -rf build"), agent_message("carried on")]
    async with memory_client([script], approval_handler=absent, approval_timeout=INACTIVE) as (
        client,
        control,
    ):
        with anyio.fail_after(WAIT):
            result = await client.chat_once("clean")
        await tables_empty(client)
    assert result.final_text == "carried on"
    assert [d.decision for d in control.fake.decisions] == ["decline"]


async def test_a_per_call_approval_timeout_overrides_the_clients(
    memory_client: OpenFake,
) -> None:
    never = anyio.Event()

    async def absent(request: ApprovalRequest) -> ApprovalDecision:
        await never.wait()
        return ApprovalDecision.ACCEPT

    script = [command_approval("deploy"), agent_message("carried on")]
    async with memory_client([script], approval_handler=absent) as (client, control):
        with anyio.fail_after(WAIT):
            result = await client.chat_once("go", approval_timeout=INACTIVE)
    assert result.final_text == "carried on"
    assert [d.decision for d in control.fake.decisions] == ["decline"]


async def test_cancel_during_a_pending_approval_answers_it_cancel_and_stops_the_handler(
    anyio_backend: str,
) -> None:
    asked = anyio.Event()
    stopped = anyio.Event()

    async def person(request: ApprovalRequest) -> ApprovalDecision:
        asked.set()
        try:
            await anyio.sleep_forever()
        finally:
            stopped.set()
        return ApprovalDecision.ACCEPT  # pragma: no cover - never reached

    script = [command_approval("deploy"), agent_message("never said")]
    async with served([script], approval_handler=person) as (client, fake, _end):
        with anyio.fail_after(WAIT):
            steps = client.chat("ship")
            await steps.__anext__()
            assert steps.turn_id is not None
            assert steps.thread_id is not None
            async with anyio.create_task_group() as tg:
                tg.start_soon(steps.collect)
                await asked.wait()
                cancelled = await client.cancel(
                    Continuation(steps.thread_id, steps.turn_id, 1), timeout=WAIT
                )
            await stopped.wait()
    assert [d.decision for d in fake.decisions] == ["cancel"]
    assert cancelled.status == "interrupted"
    assert steps.result.status == "interrupted"


async def test_closing_the_client_stops_a_running_approval_handler(anyio_backend: str) -> None:
    asked = anyio.Event()
    stopped = anyio.Event()

    async def person(request: ApprovalRequest) -> ApprovalDecision:
        asked.set()
        try:
            await anyio.sleep_forever()
        finally:
            stopped.set()
        return ApprovalDecision.ACCEPT  # pragma: no cover - never reached

    reached: list[str] = []
    with anyio.fail_after(WAIT):
        async with served([[command_approval("x")]], approval_handler=person) as (client, _f, _end):
            async with anyio.create_task_group() as tg:

                async def run() -> None:
                    with pytest.raises(CodexTransportError):
                        await client.chat_once("go")

                tg.start_soon(run)
                await asked.wait()
                await client.aclose()
            await stopped.wait()
        reached.append("after the block")
    assert reached == ["after the block"]


# ------------------------------------------------------------------------------------------
# 4. A transport that raises outside its contract


class _Buggy:
    """A third-party transport with a bug: decoding one odd message raises."""

    def __init__(self, inner: MemoryTransport) -> None:
        self.inner = inner

    async def send(self, message: bytes) -> None:
        await self.inner.send(message)

    async def receive(self) -> bytes:
        data = await self.inner.receive()
        if b"poison/pill" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "a plugin's decoding bug")
        return data

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_transport_raising_outside_its_contract_fails_every_waiter_with_transport_error(
    anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeAppServer()
    fake.script_turns([[notify("poison/pill", {}), stall()]])
    plain_end, server_end = memory_transport_pair()
    client_end = _Buggy(plain_end)
    reached: list[str] = []
    with anyio.fail_after(WAIT), caplog.at_level(logging.ERROR):
        async with anyio.create_task_group() as tg:
            tg.start_soon(fake.serve, server_end)
            async with CodexClient(client_end, inactivity_timeout=None) as client:
                with pytest.raises(CodexTransportError, match="bug in the transport"):
                    await client.chat_once("go")
                with pytest.raises(CodexTransportError):
                    await client.request("thread/list", {})
                reached.append("inside")
            await server_end.aclose()
        reached.append("after")
    assert reached == ["inside", "after"]
    assert any("UnicodeDecodeError" in (r.exc_text or "") for r in caplog.records)


# ------------------------------------------------------------------------------------------
# 5. Answers that lack what the SDK needs


async def _hand_played(
    server_end: MemoryTransport, answers: dict[str, list[Any]], turns: list[str]
) -> None:
    """Answer each request with the next of ``answers[method]``; complete started turns."""
    while True:
        try:
            message = orjson.loads(await server_end.receive())
        except (anyio.EndOfStream, CodexTransportError, anyio.ClosedResourceError):
            return
        if "id" not in message:
            continue
        method = str(message["method"])
        queued = answers.get(method)
        result: dict[str, Any] = queued.pop(0) if queued else {}
        await server_end.send(orjson.dumps({"id": message["id"], "result": result}))
        turn_id = cast("dict[str, Any]", result.get("turn") or {}).get("id")
        if method == "turn/start" and isinstance(turn_id, str):
            turns.append(turn_id)
            done: dict[str, Any] = {
                "threadId": message["params"]["threadId"],
                "turn": {"id": turn_id, "status": "completed", "items": []},
            }
            await server_end.send(orjson.dumps({"method": "turn/completed", "params": done}))


async def test_a_start_answer_without_ids_raises_protocol_error_and_leaves_no_state(
    anyio_backend: str,
) -> None:
    answers: dict[str, list[Any]] = {
        "thread/start": [{"thread": {}}, {"thread": {"id": "thread-1"}}],
        "turn/start": [{"turn": {"status": "inProgress"}}, {"turn": {"id": "turn-2"}}],
        "thread/turns/list": [{"data": []}],
        "thread/read": [{"thread": {"turns": []}}],
    }
    turns: list[str] = []
    client_end, server_end = memory_transport_pair()
    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(_hand_played, server_end, answers, turns)
            async with CodexClient(client_end) as client:
                with pytest.raises(CodexProtocolError, match=r"thread\.id"):
                    await client.chat_once("one")
                with pytest.raises(CodexProtocolError, match=r"turn\.id") as missing:
                    await client.chat_once("two")
                assert missing.value.method == "turn/start"
                assert client._router.leftovers() == {}  # pyright: ignore[reportPrivateUsage]
                # The thread is not locked: its next turn runs.
                result = await client.chat_once("three", thread_id="thread-1")
            await server_end.aclose()
    assert result.status == "completed"
    assert turns == ["turn-2"]


# ------------------------------------------------------------------------------------------
# 6. A turn that only retries is not alive


async def test_a_turn_that_only_retries_ends_inactive_with_the_retry_reason(
    memory_client: OpenFake, caplog: pytest.LogCaptureFixture
) -> None:
    script = [retry_error("Reconnecting... 1/5"), retry_error("Reconnecting... 2/5"), stall()]
    async with memory_client([script], inactivity_timeout=INACTIVE) as (client, control):
        with (
            anyio.fail_after(WAIT),
            caplog.at_level(logging.WARNING, "codex_app_server_client"),
            pytest.raises(CodexTurnInactiveError) as info,
        ):
            await client.chat_once("hello")
        await client.cancel(info.value.continuation)
        await control.release()
    assert "Reconnecting... 2/5" in str(info.value)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Reconnecting... 1/5" in m for m in warned)
    assert any("Reconnecting... 2/5" in m for m in warned)


async def test_the_stream_shows_the_last_retry_notice_until_the_turn_progresses(
    anyio_backend: str,
) -> None:
    script = [retry_error("Reconnecting... 3/5 (connection refused)"), stall(), agent_message("ok")]
    async with served([script], inactivity_timeout=None) as (client, fake, _end):
        with anyio.fail_after(WAIT):
            retried = anyio.Event()
            client.on_notification(lambda n: retried.set() if n.method == "error" else None)
            steps = client.chat("hello")
            assert (await steps.__anext__()).item_type == "userMessage"
            await retried.wait()
            notice = steps.retry
            assert notice is not None
            assert (notice.attempt, notice.max_attempts) == (3, 5)
            assert "connection refused" in notice.message
            fake.release()
            step = await steps.__anext__()
            assert step.text == "ok"
            assert steps.retry is None
            await steps.collect()


# ------------------------------------------------------------------------------------------
# Review findings: read-back and the finalizer


async def test_a_read_back_on_a_broken_connection_raises_instead_of_an_empty_result(
    anyio_backend: str,
) -> None:
    # The turn completes without any agent message, so its final text must be read back
    # from the server; the connection breaks before the answer comes.
    async with served([[complete(items=[])]]) as (client, fake, server_end):
        completed = anyio.Event()

        def on_completed(note: Notification) -> None:
            if note.method == "turn/completed":
                fake.ignore_next(1)  # the read-back request is never answered
                completed.set()

        client.on_notification(on_completed)
        outcome: list[BaseException | ChatResult] = []
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:

                async def run() -> None:
                    try:
                        outcome.append(await client.chat_once("hi"))
                    except CodexTransportError as exc:
                        outcome.append(exc)

                tg.start_soon(run)
                await completed.wait()
                await server_end.aclose()
    assert len(outcome) == 1
    assert isinstance(outcome[0], CodexTransportError), outcome


async def test_a_dropped_stream_is_only_queued_by_its_finalizer_and_freed_at_the_next_operation(
    anyio_backend: str,
) -> None:
    async with served([[stall()]], inactivity_timeout=None) as (client, fake, _end):
        with anyio.fail_after(WAIT):
            steps = client.chat("go")
            await steps.__anext__()
            turn_id = steps.turn_id
            assert turn_id is not None
            router = client._router  # pyright: ignore[reportPrivateUsage]
            del steps
            gc.collect()
            # The collector only queued the release: the table is as it was ...
            assert router.get(turn_id) is not None
            # ... until the next operation on the table.
            assert router.leftovers() == {}
            assert router.get(turn_id) is None
            fake.release()


async def test_an_approval_sent_before_the_turn_start_answer_takes_the_calls_approval_timeout(
    anyio_backend: str,
) -> None:
    never = anyio.Event()

    async def absent(request: ApprovalRequest) -> ApprovalDecision:
        await never.wait()
        return ApprovalDecision.ACCEPT

    script = [before_response(command_approval("early")), agent_message("carried on")]
    async with served([script], approval_handler=absent) as (client, fake, _end):
        with anyio.fail_after(WAIT):
            result = await client.chat_once("go", approval_timeout=INACTIVE)
    assert result.final_text == "carried on"
    assert [d.decision for d in fake.decisions] == ["decline"]
