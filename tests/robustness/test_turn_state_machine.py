"""Random interleavings against the whole client: a hypothesis state machine plays the server.

The client runs over the in-memory transport in an event loop of its own (an anyio blocking
portal, so the sync rules of a hypothesis state machine can drive it, on asyncio and on
trio). The machine is the server: it answers ``turn/start`` requests whenever it likes,
sends events of several turns on several threads in any order (before and after the answer
that names their turn: turn started, items started, deltas, items completed, retryable
errors, thread-level signs of life, turn completed with any status), sends server requests
(approvals and unknown methods) and reads the client's answers, sends noise (garbage lines,
events of turns nobody started, answers to no request), makes callers walk away, and drops
the connection (then connects a new client).

Each turn has a caller iterating ``client.chat(...)``. Invariants:

- every ``item/completed`` of a turn reaches its caller exactly once and in order (items
  still open at ``turn/completed`` follow, closed from its summary or as partial steps);
- every caller ends: when its turn ends, when it walks away, or when the connection drops
  (with every step that had arrived before the drop delivered first), and its outcome
  matches (the turn's status, ``CodexTurnFailedError``, ``CodexTransportError``);
- every server request gets its safe default answer (approvals declined, anything unknown a
  ``-32601`` error), never silence;
- once callers have ended, the client's tables are empty.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import anyio
import anyio.abc
import orjson
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexTransportError, CodexTurnFailedError
from codex_app_server_client.models import Step
from codex_app_server_client.testing import MemoryTransport, memory_transport_pair

WAIT = 5.0
"""Upper bound on any one wait of the machine; a hang fails instead of blocking."""

THREADS = ("thread-a", "thread-b", "thread-c")
STATUSES = ("completed", "interrupted", "failed")

SETTINGS = settings(
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

Message = dict[str, Any]


@dataclass
class _Caller:
    """One ``async for step in client.chat(...)`` and how it ended."""

    thread_id: str
    steps: list[Step] = field(default_factory=list[Step])
    outcome: str | None = None
    ended: anyio.Event | None = None
    scope: anyio.CancelScope | None = None


@dataclass
class _Turn:
    """The server's view of one turn."""

    id: str
    thread_id: str
    request_id: int
    caller: _Caller
    answered: bool = False
    completed: str | None = None
    walked_away: bool = False
    caller_done: bool = False
    """Its caller has ended (and was checked)."""
    open_items: dict[str, tuple[str, list[str]]] = field(
        default_factory=dict[str, tuple[str, list[str]]]
    )
    expected: list[tuple[str, bool, str | None]] = field(
        default_factory=list[tuple[str, bool, str | None]]
    )
    """The steps its caller must get: item id, partial, text."""


def _auto_answer(message: Message) -> Message | None:
    """Answers the server gives at once, without the machine deciding anything."""
    method, request_id = message.get("method"), message.get("id")
    if method is None or request_id is None:
        return None
    if method == "initialize":
        return {"id": request_id, "result": {"userAgent": "machine/0", "codexHome": "/tmp/x"}}
    if method == "thread/resume":
        thread_id = message["params"]["threadId"]
        return {"id": request_id, "result": {"thread": {"id": thread_id, "turns": []}}}
    if method in ("thread/turns/list", "thread/read"):
        # Final-text read-back of a turn without a message: nothing to read.
        return {"id": request_id, "error": {"code": -32600, "message": "not kept"}}
    return None


class _World:
    """The event-loop side: one client, its callers, the server's end of the transport."""

    def __init__(self) -> None:
        self.client: CodexClient
        self.server_end: MemoryTransport
        self.callers: anyio.abc.TaskGroup
        self.inbox: list[Message] = []
        self.inbox_changed = anyio.Event()
        self.stop = anyio.Event()

    async def host(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        client_end, self.server_end = memory_transport_pair()
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._pump)
                async with (
                    CodexClient(
                        client_end, request_timeout=WAIT, inactivity_timeout=None
                    ) as client,
                    anyio.create_task_group() as callers,
                ):
                    self.client = client
                    self.callers = callers
                    task_status.started()
                    await self.stop.wait()
                    # Closing fails whatever still waits: every caller must end now.
                    await client.aclose()
                tg.cancel_scope.cancel()
        finally:
            await client_end.aclose()
            await self.server_end.aclose()

    async def _pump(self) -> None:
        while True:
            try:
                raw = await self.server_end.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError, CodexTransportError):
                return
            message: Message = orjson.loads(raw)
            answer = _auto_answer(message)
            if answer is not None:
                await self.send(answer)
                continue
            self.inbox.append(message)
            changed, self.inbox_changed = self.inbox_changed, anyio.Event()
            changed.set()

    async def send(self, message: Message | bytes) -> None:
        data = message if isinstance(message, bytes) else orjson.dumps(message)
        await self.server_end.send(data)

    async def take(self, wanted: Callable[[Message], bool]) -> Message:
        """The first client message that is ``wanted`` (waiting for it if need be)."""
        with anyio.fail_after(WAIT):
            while True:
                for index, message in enumerate(self.inbox):
                    if wanted(message):
                        return self.inbox.pop(index)
                await self.inbox_changed.wait()

    def spawn(self, caller: _Caller) -> None:
        caller.ended = anyio.Event()
        self.callers.start_soon(self._run_caller, caller)

    async def _run_caller(self, caller: _Caller) -> None:
        assert caller.ended is not None
        try:
            with anyio.CancelScope() as scope:
                caller.scope = scope
                async with self.client.chat("go", thread_id=caller.thread_id) as steps:
                    async for step in steps:
                        caller.steps.append(step)
                caller.outcome = steps.result.status
            if scope.cancelled_caught:
                caller.outcome = "walked away"
        except CodexTurnFailedError:
            caller.outcome = "failed"
        except CodexTransportError:
            caller.outcome = "lost"
        except Exception as exc:  # any other outcome is a finding: keep it for the report
            caller.outcome = f"unexpected {exc!r}"
        finally:
            caller.ended.set()

    async def ended(self, caller: _Caller) -> None:
        assert caller.ended is not None
        with anyio.fail_after(WAIT):
            await caller.ended.wait()

    async def walk_away(self, caller: _Caller) -> None:
        assert caller.scope is not None
        caller.scope.cancel()
        await self.ended(caller)

    def leftovers(self) -> dict[str, Any]:
        client = self.client
        connection = client._connection  # pyright: ignore[reportPrivateUsage]
        assert connection is not None
        router = client._router  # pyright: ignore[reportPrivateUsage]
        tables: dict[str, Any] = {
            "requests awaiting an answer": connection.pending_requests,
            "engine correlation table": dict(connection._engine.pending),  # pyright: ignore[reportPrivateUsage]
            "tracked turns": list(router.tracked_turns),
            "turn starts in flight": list(router.starting_threads),
            "attached waiters": router.leftovers().get("attached turns", []),
        }
        return {name: table for name, table in tables.items() if table}


class ClientMachine(RuleBasedStateMachine):
    backend: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self._portal_cm: AbstractContextManager[BlockingPortal] = start_blocking_portal(
            self.backend
        )
        self.portal = self._portal_cm.__enter__()
        self.turns: dict[str, _Turn] = {}
        self.counter = 0
        self.server_request_id = 0
        self.world = self._connect()

    # -- plumbing -----------------------------------------------------------------------

    def _connect(self) -> _World:
        world = self.portal.call(_World)
        self._host, _ = self.portal.start_task(world.host)
        return world

    def _disconnect_world(self) -> None:
        self.portal.call(self.world.stop.set)
        # Every caller ends when the client closes, or the host never returns.
        self._host.result(timeout=WAIT)

    def teardown(self) -> None:
        try:
            self._disconnect_world()
            for turn in self.turns.values():
                assert turn.caller.ended is not None
                assert self.portal.call(turn.caller.ended.is_set), turn
        except BaseException as exc:
            # Cancel whatever is stuck rather than wait for it, and report the failure.
            self._portal_cm.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._portal_cm.__exit__(None, None, None)

    def _new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def _send(self, message: Message | bytes) -> None:
        self.portal.call(self.world.send, message)

    def _running(self) -> list[_Turn]:
        return [t for t in self.turns.values() if t.completed is None]

    def _has_running(self) -> bool:
        return any(t.completed is None for t in self.turns.values())

    def _pick(self, pick: int) -> _Turn:
        running = self._running()
        return running[pick % len(running)]

    def _busy(self, thread_id: str) -> bool:
        """A turn runs on the thread, or a caller there has not ended yet."""
        return any(
            t.thread_id == thread_id and (t.completed is None or not t.caller_done)
            for t in self.turns.values()
        )

    def _fold(self, turn: _Turn, step: tuple[str, bool, str | None]) -> None:
        if not turn.walked_away:
            turn.expected.append(step)

    def _check_finished(self, turn: _Turn) -> None:
        """The turn ended and was answered: its caller ends with every step, in order."""
        if turn.walked_away:
            return
        caller = turn.caller
        self.portal.call(self.world.ended, caller)
        turn.caller_done = True
        got = [(s.item_id, s.partial, s.text) for s in caller.steps]
        assert got == turn.expected, turn
        assert caller.outcome == turn.completed, turn

    # -- turns --------------------------------------------------------------------------

    @precondition(lambda self: any(not self._busy(t) for t in THREADS))
    @rule(pick=st.integers(0, 2))
    def start_turn(self, pick: int) -> None:
        free = [t for t in THREADS if not self._busy(t)]
        thread_id = free[pick % len(free)]
        caller = _Caller(thread_id)
        self.portal.call(self.world.spawn, caller)

        def is_start(message: Message) -> bool:
            return (
                message.get("method") == "turn/start" and message["params"]["threadId"] == thread_id
            )

        request = self.portal.call(self.world.take, is_start)
        turn = _Turn(self._new_id("turn"), thread_id, request["id"], caller)
        self.turns[turn.id] = turn

    @precondition(lambda self: any(not t.answered for t in self._running()))
    @rule(pick=st.integers(0, 5))
    def answer_turn_start(self, pick: int) -> None:
        waiting = [t for t in self._running() if not t.answered]
        turn = waiting[pick % len(waiting)]
        turn.answered = True
        result: Message = {"turn": {"id": turn.id, "status": "inProgress", "items": []}}
        self._send({"id": turn.request_id, "result": result})

    @precondition(lambda self: self._has_running())
    @rule(pick=st.integers(0, 5))
    def turn_started(self, pick: int) -> None:
        turn = self._pick(pick)
        thread_id = turn.thread_id
        turn_object: Message = {"id": turn.id, "status": "inProgress", "items": []}
        self._send(
            {"method": "turn/started", "params": {"threadId": thread_id, "turn": turn_object}}
        )

    @precondition(lambda self: self._has_running())
    @rule(pick=st.integers(0, 5), kind=st.sampled_from(["agentMessage", "reasoning"]))
    def item_started(self, pick: int, kind: str) -> None:
        turn = self._pick(pick)
        thread_id = turn.thread_id
        item_id = self._new_id("item")
        turn.open_items[item_id] = (kind, [])
        params = {
            "threadId": thread_id,
            "turnId": turn.id,
            "item": {"type": kind, "id": item_id, "text": ""},
        }
        self._send({"method": "item/started", "params": params})

    @precondition(lambda self: self._has_running())
    @rule(pick=st.integers(0, 5), text=st.text("xyz ", min_size=1, max_size=4))
    def delta(self, pick: int, text: str) -> None:
        turn = self._pick(pick)
        thread_id = turn.thread_id
        if not turn.open_items:
            return
        item_id = next(reversed(turn.open_items))
        turn.open_items[item_id][1].append(text)
        params = {"threadId": thread_id, "turnId": turn.id, "itemId": item_id, "delta": text}
        self._send({"method": "item/agentMessage/delta", "params": params})

    @precondition(lambda self: self._has_running())
    @rule(pick=st.integers(0, 5), fresh=st.booleans())
    def item_completed(self, pick: int, fresh: bool) -> None:
        turn = self._pick(pick)
        thread_id = turn.thread_id
        item_id = (
            self._new_id("item") if fresh or not turn.open_items else next(iter(turn.open_items))
        )
        turn.open_items.pop(item_id, None)
        text = f"done {item_id}"
        self._fold(turn, (item_id, False, text))
        item = {"type": "agentMessage", "id": item_id, "text": text}
        self._send(
            {
                "method": "item/completed",
                "params": {"threadId": thread_id, "turnId": turn.id, "item": item},
            }
        )

    @precondition(lambda self: self._has_running())
    @rule(
        pick=st.integers(0, 5),
        method=st.sampled_from(["error", "warning", "thread/status/changed", "turn/diff/updated"]),
    )
    def sign_of_life(self, pick: int, method: str) -> None:
        turn = self._pick(pick)
        thread_id = turn.thread_id
        params: dict[str, Any] = {"threadId": thread_id}
        if method == "error":
            params |= {"turnId": turn.id, "error": {"message": "retrying"}, "willRetry": True}
        elif method == "turn/diff/updated":
            params |= {"turnId": turn.id, "diff": ""}
        elif method == "thread/status/changed":
            params["status"] = {"type": "active", "activeFlags": []}
        else:
            params["message"] = "heads up"
        self._send({"method": method, "params": params})

    @precondition(lambda self: self._has_running())
    @rule(
        pick=st.integers(0, 5),
        status=st.sampled_from(STATUSES),
        summarise=st.lists(st.booleans(), max_size=4),
    )
    def turn_completed(self, pick: int, status: str, summarise: list[bool]) -> None:
        turn = self._pick(pick)
        thread_id = turn.thread_id
        summary: list[Message] = []
        for index, (item_id, (kind, deltas)) in enumerate(turn.open_items.items()):
            if index < len(summarise) and summarise[index]:
                text = f"summary {item_id}"
                summary.append({"type": "agentMessage", "id": item_id, "text": text})
                self._fold(turn, (item_id, False, text))
            else:
                streamed = "".join(deltas) if kind == "agentMessage" else None
                self._fold(turn, (item_id, True, streamed))
        turn.open_items.clear()
        turn.completed = status
        turn_object: Message = {"id": turn.id, "status": status, "items": summary}
        if status == "failed":
            turn_object["error"] = {"message": "it broke", "codexErrorInfo": "other"}
        self._send(
            {"method": "turn/completed", "params": {"threadId": thread_id, "turn": turn_object}}
        )
        if turn.answered:
            self._check_finished(turn)

    @precondition(lambda self: any(t.completed and not t.answered for t in self.turns.values()))
    @rule()
    def answer_and_finish(self) -> None:
        # Completed before the answer that names it (buffered, replayed on the answer).
        for turn in self.turns.values():
            if turn.completed and not turn.answered:
                turn.answered = True
                result: Message = {"turn": {"id": turn.id, "status": "inProgress", "items": []}}
                self._send({"id": turn.request_id, "result": result})
                self._check_finished(turn)
                return

    # -- server requests, noise, callers leaving, connection loss ------------------------

    @precondition(lambda self: self._has_running())
    @rule(pick=st.integers(0, 5), approval=st.booleans(), resolve=st.booleans())
    def server_request(self, pick: int, approval: bool, resolve: bool) -> None:
        turn = self._pick(pick)
        thread_id = turn.thread_id
        request_id = self.server_request_id
        self.server_request_id += 1
        params: Message = {"threadId": thread_id, "turnId": turn.id, "itemId": self._new_id("item")}
        if approval:
            method = "item/commandExecution/requestApproval"
            params |= {
                "command": "touch x",
                "cwd": "/tmp",
                "availableDecisions": ["accept", "decline"],
            }
        else:
            method = "machine/unknownRequest"
        self._send({"id": request_id, "method": method, "params": params})

        def is_reply(message: Message) -> bool:
            return message.get("id") == request_id and "method" not in message

        reply = self.portal.call(self.world.take, is_reply)
        if approval:
            assert reply.get("result") == {"decision": "decline"}, reply
        else:
            assert reply.get("error", {}).get("code") == -32601, reply
        if resolve:
            resolved = {"threadId": thread_id, "requestId": request_id}
            self._send({"method": "serverRequest/resolved", "params": resolved})

    @rule(kind=st.sampled_from(["garbage", "array", "stranger", "stray answer", "unknown"]))
    def noise(self, kind: str) -> None:
        if kind == "garbage":
            self._send(b"{this is not json")
        elif kind == "array":
            self._send(b"[1, 2]")
        elif kind == "stranger":
            item = {"type": "agentMessage", "id": self._new_id("item"), "text": "not yours"}
            params = {"threadId": "thread-a", "turnId": self._new_id("stranger"), "item": item}
            self._send({"method": "item/completed", "params": params})
        elif kind == "stray answer":
            self._send({"id": 10_000 + self.counter, "result": {}})
        else:
            self._send({"method": "machine/somethingNew", "params": {"x": 1}})

    @precondition(lambda self: self._has_running())
    @rule(pick=st.integers(0, 5))
    def caller_walks_away(self, pick: int) -> None:
        turn = self._pick(pick)
        if turn.walked_away:
            return
        caller = turn.caller
        before = list(turn.expected)
        self.portal.call(self.world.walk_away, caller)
        turn.walked_away = True
        turn.caller_done = True
        assert caller.outcome == "walked away", caller.outcome
        # What it got so far is a prefix of what was sent, once each, in order.
        got = [(s.item_id, s.partial, s.text) for s in caller.steps]
        assert got == before[: len(got)]
        tracked = self.portal.call(lambda: set(self.world.client._router.tracked_turns))  # pyright: ignore[reportPrivateUsage]
        assert turn.id not in tracked

    @rule(now=st.integers(0, 3))
    def connection_drops(self, now: int) -> None:
        if now:
            return  # a drop ends every turn: keep it rarer than the rest
        self.portal.call(self.world.server_end.aclose)
        for turn in self.turns.values():
            if turn.caller_done:
                continue  # ended already (checked then)
            caller = turn.caller
            self.portal.call(self.world.ended, caller)
            got = [(s.item_id, s.partial, s.text) for s in caller.steps]
            if turn.answered:
                # Every step that arrived before the drop is delivered before the error.
                assert got == turn.expected, turn
            else:
                assert got == [], turn
            assert caller.outcome == "lost", turn
        assert self.portal.call(self.world.leftovers) == {}
        self._disconnect_world()
        # A new client on a new connection; the old turns are gone with the old server.
        self.turns.clear()
        self.world = self._connect()

    @rule()
    def tables_are_empty_once_every_caller_has_ended(self) -> None:
        if all(t.caller_done for t in self.turns.values()):
            assert self.portal.call(self.world.leftovers) == {}


class _OnAsyncio(ClientMachine):
    backend = "asyncio"


class _OnTrio(ClientMachine):
    backend = "trio"


@pytest.mark.parametrize("machine", [_OnAsyncio, _OnTrio], ids=["asyncio", "trio"])
def test_random_interleavings_deliver_every_step_once_in_order_and_end_every_caller(
    machine: type[ClientMachine],
) -> None:
    run_state_machine_as_test(machine, settings=SETTINGS)
