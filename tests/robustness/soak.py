"""Soak: many turns with random faults against the in-process fake app-server, bounded in time.

Usage::

    python tests/robustness/soak.py --duration 120          # what `nox -s soak` runs
    python tests/robustness/soak.py --turns 40 --workers 2  # the smoke size the tests run

Several workers, each with its own client and its own
:class:`~codex_app_server_client.testing.FakeAppServer` over the in-memory transport, run turns
until the time or turn budget is spent. Each turn draws a scenario: a plain turn, or one with
a fault injected: overload answers (``-32001``, retried by the client), a flood of server
requests, garbage lines, retryable errors, approvals answered at random (``cancel`` included),
a stalled turn (the wait times out, then ``cancel``), a failed turn, a dropped connection
(the worker connects a new client).

Counted and reported:

- ``lost``: per turn, the ``item/completed`` items the server sent (recorded on the server's
  end of the transport) against the steps the caller got (``chat`` plus, after a cancel, the
  steps ``cancel`` handed back): every item missing, duplicated or out of order counts;
- ``leaks``: client tables not empty after a turn or at close, server-request handlers still
  running at close, and at the end more running tasks, open file descriptors, threads, or
  live clients or turn streams than before;
- ``errors``: any outcome a scenario does not expect.

The last line is ``soak: turns=N faults=N lost=N leaks=N errors=N``; the exit code is 1 when
any of the last three is not zero. Lives beside the tests (rather than in a top-level folder)
so that the lint and strict type check of the test tree cover it.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import threading
import time
import warnings
from collections import defaultdict
from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import orjson

from codex_app_server_client import CodexClient
from codex_app_server_client._turn_stream import TurnStream  # pyright: ignore[reportPrivateUsage]
from codex_app_server_client.errors import (
    CodexTransportError,
    CodexTurnFailedError,
    CodexTurnInactiveError,
)
from codex_app_server_client.models import ApprovalRequest, Step
from codex_app_server_client.testing import FakeAppServer, MemoryTransport, memory_transport_pair
from codex_app_server_client.testing.fake_server import (
    Action,
    agent_message,
    command,
    command_approval,
    disconnect,
    fail,
    file_change_approval,
    garbage,
    notify,
    reasoning,
    retry_error,
    server_request,
    stall,
)

STALL_TIMEOUT = 0.2
"""Inactivity timeout of a turn stalled on purpose: how long until it is given up and cancelled."""

TURN_TIMEOUT = 10.0
"""Inactivity timeout of every other turn; a turn that goes quiet this long is an error."""

WAIT = 30.0
"""Upper bound on one turn, its cancel included; a hang is an error, not a stuck soak."""


@dataclass
class Tally:
    """What the soak counts, shared by every worker."""

    turns: int = 0
    faults: int = 0
    lost: int = 0
    leaks: int = 0
    errors: int = 0
    by_scenario: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def problem(self, kind: str, message: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        print(f"{kind}: {message}", file=sys.stderr, flush=True)


class Recorder:
    """The server's end of a connection, noting every ``item/completed`` it sends, per turn."""

    def __init__(self, inner: MemoryTransport, sent: dict[str, list[str]]) -> None:
        self._inner = inner
        self._sent = sent
        self.overloads = 0

    async def send(self, message: bytes) -> None:
        await self._inner.send(message)
        # Recorded once handed to the transport: the client must get it from there on.
        if b'"item/completed"' in message:
            params = orjson.loads(message).get("params", {})
            turn_id, item = params.get("turnId"), params.get("item", {})
            if isinstance(turn_id, str) and isinstance(item, dict):
                self._sent[turn_id].append(str(item.get("id")))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        elif b"-32001" in message:
            self.overloads += 1

    async def receive(self) -> bytes:
        return await self._inner.receive()

    async def aclose(self) -> None:
        await self._inner.aclose()


def leftovers(client: CodexClient) -> dict[str, Any]:
    """The client tables that still hold something (empty once every turn has ended)."""
    connection = client._connection  # pyright: ignore[reportPrivateUsage]
    if connection is None:
        return {}
    router = client._router  # pyright: ignore[reportPrivateUsage]
    tables: dict[str, Any] = {
        "requests awaiting an answer": connection.pending_requests,
        "engine correlation table": dict(connection._engine.pending),  # pyright: ignore[reportPrivateUsage]
        "tracked turns": list(router.tracked_turns),
        "turn starts in flight": list(router.starting_threads),
        "attached waiters": router.leftovers().get("attached turns", []),
        "armed deadlines": len(connection.watchdog),
    }
    return {name: table for name, table in tables.items() if table}


# ------------------------------------------------------------------------------------------
# Scenarios


def _items(rng: random.Random) -> list[Action]:
    """Some ordinary work: messages with deltas, reasoning, commands, approvals."""
    actions: list[Action] = []
    for _ in range(rng.randint(1, 5)):
        kind = rng.randrange(5)
        text = f"text {rng.randrange(10**6)}"
        if kind == 0:
            actions.append(agent_message(text, deltas=rng.randint(1, 4)))
        elif kind == 1:
            actions.append(reasoning([text, "more"]))
        elif kind == 2:
            actions.append(command("ls", output=text))
        elif kind == 3:
            actions.append(command_approval(f"touch {text}"))
        else:
            actions.append(file_change_approval(f"/tmp/{rng.randrange(100)}.txt"))
    actions.append(agent_message("final", phase="final_answer", deltas=2))
    return actions


SCENARIOS = (
    "plain",
    "overload",
    "flood",
    "garbage",
    "retry",
    "stall",
    "fail",
    "disconnect",
)


def _script(scenario: str, rng: random.Random) -> tuple[list[Action], int]:
    """The turn's script and how many faults it injects."""
    work = _items(rng)
    cut = rng.randint(0, len(work))
    if scenario == "flood":
        count = rng.randint(5, 40)
        flood: list[Action] = [
            server_request("soak/unknownRequest", {"n": n}, wait=rng.random() < 0.5)
            for n in range(count)
        ]
        return work[:cut] + flood + work[cut:], count
    if scenario == "garbage":
        junk: list[Action] = [garbage(), garbage("[1, 2, 3]"), garbage('{"id": "x"}')]
        junk.append(notify("soak/unknownNotification", {"threadId": "$threadId"}))
        return work[:cut] + junk + work[cut:], len(junk)
    if scenario == "retry":
        return [*work[:cut], retry_error(), retry_error("Reconnecting... 2/5"), *work[cut:]], 2
    if scenario == "stall":
        return [*work[:cut], stall(), *work[cut:]], 1
    if scenario == "fail":
        return [*work[:cut], fail("upstream broke")], 1
    if scenario == "disconnect":
        return [*work[:cut], disconnect()], 1
    return work, 0


@dataclass
class Connection:
    client: CodexClient
    recorder: Recorder
    closed: bool = False


class Worker:
    """Runs turns on connections of its own until the budget is spent."""

    def __init__(self, name: str, tally: Tally, rng: random.Random, budget: Budget) -> None:
        self.name = name
        # A server per worker: its overload answers and turn scripts reach only this worker's
        # requests, so a request never meets more overloads in a row than were injected for
        # it (a shared server let overloads injected for one worker chain onto another's
        # retries past their budget).
        self.server = FakeAppServer(post_initialize_notifications=rng.random() < 0.5)
        self.tally = tally
        self.rng = rng
        self.budget = budget
        self.sent: dict[str, list[str]] = defaultdict(list)
        self.injected = 0
        self.recorders: list[Recorder] = []
        self.may_cancel = False
        """Whether an approval may be answered ``cancel`` (which interrupts the turn)."""

    def overloads_pending(self) -> int:
        """Overload answers injected and not sent yet."""
        return self.injected - sum(r.overloads for r in self.recorders)

    async def approve(self, request: ApprovalRequest) -> str:
        choices = ["accept", "accept", "decline", "acceptForSession"]
        if self.may_cancel:
            choices.append("cancel")
        return self.rng.choice(choices)

    @asynccontextmanager
    async def connect(self) -> AsyncGenerator[Connection]:
        client_end, server_end = memory_transport_pair()
        recorder = Recorder(server_end, self.sent)
        self.recorders.append(recorder)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.server.serve, recorder)
            try:
                async with CodexClient(
                    client_end,
                    request_timeout=WAIT,
                    inactivity_timeout=TURN_TIMEOUT,
                    approval_handler=self.approve,
                ) as client:
                    connection = Connection(client, recorder)
                    yield connection
                    self._check_closing(connection)
            finally:
                await client_end.aclose()
                await recorder.aclose()

    def _check_closing(self, connection: Connection) -> None:
        if connection.closed:
            return
        left = leftovers(connection.client)
        if left:
            self.tally.problem("leaks", f"{self.name}: tables not empty at close: {left}")
        inner = connection.client._connection  # pyright: ignore[reportPrivateUsage]
        if inner is not None and inner.handling_server_requests:
            # Handlers answer at once here; any still running at close would be stuck.
            self.tally.problem(
                "leaks", f"{self.name}: {inner.handling_server_requests} handlers still running"
            )

    async def run(self) -> None:
        while not self.budget.spent():
            async with self.connect() as connection:
                thread_id: str | None = None
                while not connection.closed and not self.budget.spent():
                    if thread_id is None:
                        started = await connection.client.request("thread/start", {})
                        thread_id = str(started["thread"]["id"])
                    self.budget.take()
                    if not await self.turn(connection, thread_id):
                        thread_id = None

    async def turn(self, connection: Connection, thread_id: str) -> bool:
        """Run one turn of a random scenario; whether the thread can take the next turn."""
        scenario = self.rng.choice(SCENARIOS)
        actions, faults = _script(scenario, self.rng)
        # Overload only when no overload answer is pending, so that no request meets more of
        # them in a row than its retry budget allows (other workers share the server).
        if scenario == "overload" and self.overloads_pending() == 0:
            count = self.rng.randint(1, 2)
            self.injected += count
            self.server.overload_next(count)
            faults = count
        self.server.script_turn(*actions, thread_id=thread_id)
        # A cancelled approval interrupts the turn: only where that is an expected ending.
        self.may_cancel = scenario not in ("stall", "fail", "disconnect")
        self.tally.faults += faults
        self.tally.by_scenario[scenario] += 1
        client = connection.client
        seen: list[Step] = []
        turn_id: str | None = None
        outcome = "completed"
        try:
            with anyio.fail_after(WAIT):
                timeout = STALL_TIMEOUT if scenario == "stall" else TURN_TIMEOUT
                stream = client.chat("go", thread_id=thread_id, inactivity_timeout=timeout)
                try:
                    async with stream:
                        async for step in stream:
                            seen.append(step)
                finally:
                    turn_id = stream.turn_id
                if stream.result.status != "completed":
                    outcome = stream.result.status
        except CodexTurnInactiveError as exc:
            outcome = "stalled"
            turn_id = exc.continuation.turn_id
            with anyio.fail_after(WAIT):
                cancelled = await client.cancel(exc.continuation)
            seen.extend(cancelled.steps)
            if scenario == "stall" and cancelled.status != "interrupted":
                self.tally.problem("errors", f"{self.name}: stalled turn not interrupted")
        except CodexTurnFailedError:
            outcome = "failed"
        except CodexTransportError:
            outcome = "dropped"
            connection.closed = True
        except Exception as exc:
            self.tally.problem("errors", f"{self.name}: {scenario} turn raised {exc!r}")
            outcome = "error"
        self.tally.turns += 1
        expected = {
            "plain": {"completed", "interrupted"},
            "overload": {"completed", "interrupted"},
            "flood": {"completed", "interrupted"},
            "garbage": {"completed", "interrupted"},
            "retry": {"completed", "interrupted"},
            "stall": {"stalled"},
            "fail": {"failed"},
            "disconnect": {"dropped"},
        }[scenario]
        if outcome not in expected:
            self.tally.problem("errors", f"{self.name}: {scenario} turn ended {outcome}")
        if turn_id is not None:
            self._compare(scenario, turn_id, seen)
        if not connection.closed:
            left = leftovers(client)
            if left:
                self.tally.problem("leaks", f"{self.name}: after a {scenario} turn: {left}")
        # After a surprise the thread's script queue may be off by one: use a fresh thread.
        return outcome in expected

    def _compare(self, scenario: str, turn_id: str, seen: Sequence[Step]) -> None:
        sent = self.sent.pop(turn_id, [])
        got = [s.item_id for s in seen if not s.partial]
        if got == sent:
            return
        missing = len(set(sent) - set(got))
        extra = len(got) - len(set(got))
        lost = max(1, missing + extra)
        self.tally.problem(
            "lost", f"{self.name}: {scenario} turn {turn_id}: sent {sent}, got {got} ({lost})"
        )
        self.tally.lost += lost - 1


class Budget:
    """When to stop: a deadline and/or a number of turns, shared by the workers."""

    def __init__(self, duration: float | None, turns: int | None) -> None:
        self.deadline = time.monotonic() + duration if duration is not None else None
        self.turns_left = turns

    def spent(self) -> bool:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return True
        return self.turns_left is not None and self.turns_left <= 0

    def take(self) -> None:
        if self.turns_left is not None:
            self.turns_left -= 1


# ------------------------------------------------------------------------------------------
# Resources before and after


def _fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _live(kind: type[Any]) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


async def soak(args: argparse.Namespace, tally: Tally) -> None:
    rng = random.Random(args.seed)
    budget = Budget(args.duration, args.turns)
    tasks_before = len(anyio.get_running_tasks())
    fds_before = _fds()
    threads_before = threading.active_count()
    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        for index in range(args.workers):
            worker = Worker(f"worker-{index}", tally, random.Random(rng.random()), budget)
            tg.start_soon(worker.run)
    elapsed = time.monotonic() - started
    tasks_after = len(anyio.get_running_tasks())
    if tasks_after > tasks_before:
        tally.problem("leaks", f"{tasks_after - tasks_before} tasks still running")
    fds_after = _fds()
    if fds_before is not None and fds_after is not None and fds_after > fds_before:
        tally.problem("leaks", f"{fds_after - fds_before} more file descriptors open")
    if threading.active_count() > threads_before:
        tally.problem("leaks", f"{threading.active_count() - threads_before} more threads")
    for kind in (CodexClient, TurnStream):
        alive = _live(kind)
        if alive:
            tally.problem("leaks", f"{alive} {kind.__name__} objects still alive")
    scenarios = ", ".join(f"{k}={v}" for k, v in sorted(tally.by_scenario.items()))
    print(
        f"soak: {elapsed:.1f} s, {args.workers} workers, seed {args.seed}; scenarios: {scenarios}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, help="stop starting turns after this many s")
    parser.add_argument("--turns", type=int, help="stop after this many turns in all")
    parser.add_argument("--workers", type=int, default=4, help="concurrent clients (4)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    args = parser.parse_args(argv)
    if args.duration is None and args.turns is None:
        args.duration = 60.0
    if args.seed is None:
        args.seed = random.randrange(2**32)
    tally = Tally()
    # Warnings are errors, as in the test suite; those raised where nobody can catch them
    # (an unclosed stream or a never-awaited coroutine found by the collector) are leaks.
    warnings.simplefilter("error")

    def unraisable(hook: Any) -> None:
        tally.problem("leaks", f"{hook.exc_value!r} in {hook.object!r}")

    sys.unraisablehook = unraisable
    anyio.run(soak, args, tally, backend=args.backend)
    gc.collect()
    print(
        f"soak: turns={tally.turns} faults={tally.faults} lost={tally.lost} "
        f"leaks={tally.leaks} errors={tally.errors}",
        flush=True,
    )
    return 1 if tally.lost or tally.leaks or tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
