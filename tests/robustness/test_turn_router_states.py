"""Random interleavings against the sans-I/O turn table (``TurnRouter`` / ``TurnState``).

A hypothesis state machine plays a server and a client at once, with plain function calls:
turn starts announced (``expect``), answered (``bind``) or given up (``abandon``); events of
several turns on several threads, before and after their ``turn/start`` answer (turn started,
items started, deltas, items completed, retryable errors, token usage, thread-level signs of
life, turn completed with any status, with or without a summary of the open items); events of
turns nobody tracks; turns forgotten by their caller; waiters set and woken; the connection
lost (``fail_all``), then a fresh table.

A model of what the server sent says what each tracked turn's steps must be. Invariants,
after every step: every ``item/completed`` of a tracked turn is a step exactly once and in
order (items still open when the turn completes follow, closed from the summary or partial);
the table holds exactly the turns and pending starts the model expects; every waiter set on a
turn is woken exactly once, by the next event of that turn or by the connection's end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from codex_app_server_client.protocol import TurnRouter

THREADS = ("thread-a", "thread-b", "thread-c")
STATUSES = ("completed", "interrupted", "failed")


@dataclass
class _Turn:
    """The server's view of one turn, and what its tracked state must show."""

    id: str
    thread_id: str
    bound: bool = False
    forgotten: bool = False
    orphan: bool = False
    """Its start was abandoned before the answer: none of its events may reach a table."""
    completed: str | None = None
    open_items: dict[str, tuple[str, list[str]]] = field(
        default_factory=dict[str, tuple[str, list[str]]]
    )
    """Started, not completed items, in start order: their type and the deltas streamed."""
    expected: list[tuple[str, bool, str | None]] = field(
        default_factory=list[tuple[str, bool, str | None]]
    )
    """The steps the turn's state must hold: item id, partial, text."""
    waker_calls: int = 0
    waker_set: bool = False
    lost: bool = False
    retrying: bool = False
    """The last event of the turn announced a retry (thread-level events are then no sign of
    progress, so they wake nobody)."""


class TurnRouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.router = TurnRouter()
        self.turns: dict[str, _Turn] = {}
        self.starting: dict[str, _Turn] = {}
        """Threads with a turn/start in flight, with the turn the server made for it."""
        self.counter = 0

    # -- helpers ------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def _live(self, thread_id: str) -> _Turn | None:
        """The server's running turn on a thread (tracked, pending, forgotten or orphan)."""
        for turn in self.turns.values():
            if turn.thread_id == thread_id and turn.completed is None and not turn.lost:
                return turn
        return None

    def _tracked(self, turn: _Turn) -> bool:
        return turn.bound and not turn.forgotten

    def _route(self, turn: _Turn | None, method: str, params: dict[str, Any]) -> None:
        """Send a notification, and note the wake-up it owes the turn's waiter."""
        self.router.route(method, params)
        if turn is not None:
            turn.retrying = method == "error" and params.get("willRetry") is True
        if turn is not None and self._tracked(turn) and turn.waker_set:
            # The router owed this waiter one call (counted by the waker itself); a second
            # call, or none, leaves waker_calls off zero and fails the invariant.
            turn.waker_set = False

    def _fold(self, turn: _Turn, step: tuple[str, bool, str | None]) -> None:
        # A turn's events count once it is tracked, or while its start is answered later.
        if not turn.orphan and not turn.forgotten:
            turn.expected.append(step)

    # -- a turn's life ------------------------------------------------------------------

    @rule(thread_id=st.sampled_from(THREADS))
    def start(self, thread_id: str) -> None:
        if thread_id in self.starting or self._live(thread_id) is not None:
            return
        self.router.begin(thread_id)
        turn = _Turn(self._new_id("turn"), thread_id)
        self.turns[turn.id] = turn
        self.starting[thread_id] = turn

    @rule(thread_id=st.sampled_from(THREADS))
    def answer_start(self, thread_id: str) -> None:
        turn = self.starting.pop(thread_id, None)
        if turn is None:
            return
        state = self.router.bind(thread_id, turn.id)
        turn.bound = True
        assert state.turn_id == turn.id
        assert state.thread_id == thread_id

    @rule(thread_id=st.sampled_from(THREADS))
    def abandon_start(self, thread_id: str) -> None:
        turn = self.starting.pop(thread_id, None)
        if turn is None:
            return
        self.router.abandon(thread_id)
        turn.orphan = True
        turn.expected.clear()

    @rule(thread_id=st.sampled_from(THREADS))
    def forget(self, thread_id: str) -> None:
        for turn in self.turns.values():
            if turn.thread_id == thread_id and self._tracked(turn):
                state = self.router.get(turn.id)
                assert state is not None
                self.router.forget(state)
                turn.forgotten = True
                # Forgetting wakes the waiter (the waker counts the call), so nobody is left
                # waiting on a turn no event will reach any more.
                turn.waker_set = False
                return

    @rule(thread_id=st.sampled_from(THREADS))
    def wait(self, thread_id: str) -> None:
        for turn in self.turns.values():
            if (
                turn.thread_id == thread_id
                and self._tracked(turn)
                and turn.completed is None
                and not turn.waker_set
            ):
                state = self.router.get(turn.id)
                assert state is not None

                def waker(turn: _Turn = turn) -> None:
                    turn.waker_calls += 1

                state.add_waiter(waker)
                turn.waker_set = True
                turn.waker_calls -= 1  # owed one call; back to zero when it comes
                return

    # -- what the server sends for a running turn ---------------------------------------

    @rule(thread_id=st.sampled_from(THREADS))
    def turn_started(self, thread_id: str) -> None:
        turn = self._live(thread_id)
        if turn is None:
            return
        params = {"threadId": thread_id, "turn": {"id": turn.id, "status": "inProgress"}}
        self._route(turn, "turn/started", params)

    @rule(thread_id=st.sampled_from(THREADS), kind=st.sampled_from(["agentMessage", "reasoning"]))
    def item_started(self, thread_id: str, kind: str) -> None:
        turn = self._live(thread_id)
        if turn is None:
            return
        item_id = self._new_id("item")
        turn.open_items[item_id] = (kind, [])
        item = {"type": kind, "id": item_id, "text": ""}
        self._route(turn, "item/started", {"threadId": thread_id, "turnId": turn.id, "item": item})

    @rule(thread_id=st.sampled_from(THREADS), text=st.text("abc ", min_size=1, max_size=4))
    def delta(self, thread_id: str, text: str) -> None:
        turn = self._live(thread_id)
        if turn is None or not turn.open_items:
            return
        item_id = next(reversed(turn.open_items))
        turn.open_items[item_id][1].append(text)
        params = {"threadId": thread_id, "turnId": turn.id, "itemId": item_id, "delta": text}
        self._route(turn, "item/agentMessage/delta", params)

    @rule(thread_id=st.sampled_from(THREADS), fresh=st.booleans())
    def item_completed(self, thread_id: str, fresh: bool) -> None:
        turn = self._live(thread_id)
        if turn is None:
            return
        if fresh or not turn.open_items:
            item_id = self._new_id("item")  # completed without a start: allowed
        else:
            item_id = next(iter(turn.open_items))
        turn.open_items.pop(item_id, None)
        text = f"done {item_id}"
        item = {"type": "agentMessage", "id": item_id, "text": text}
        self._fold(turn, (item_id, False, text))
        params = {"threadId": thread_id, "turnId": turn.id, "item": item}
        self._route(turn, "item/completed", params)

    @rule(
        thread_id=st.sampled_from(THREADS),
        method=st.sampled_from(["error", "thread/tokenUsage/updated", "turn/diff/updated"]),
    )
    def other_turn_event(self, thread_id: str, method: str) -> None:
        turn = self._live(thread_id)
        if turn is None:
            return
        params: dict[str, Any] = {"threadId": thread_id, "turnId": turn.id}
        if method == "error":
            params |= {"error": {"message": "reconnecting"}, "willRetry": True}
        elif method == "thread/tokenUsage/updated":
            params["tokenUsage"] = {"total": {"totalTokens": 1}}
        self._route(turn, method, params)

    @rule(
        thread_id=st.sampled_from(THREADS),
        method=st.sampled_from(["warning", "thread/status/changed"]),
    )
    def thread_sign_of_life(self, thread_id: str, method: str) -> None:
        # No turn id: activity for the thread's running tracked turn, if any.
        self.router.route(method, {"threadId": thread_id, "status": {}})
        for turn in self.turns.values():
            if (
                turn.thread_id == thread_id
                and self._tracked(turn)
                and turn.completed is None
                and not turn.retrying
                and turn.waker_set
            ):
                turn.waker_set = False  # the router owed this call; the waker counts it

    @rule(
        thread_id=st.sampled_from(THREADS),
        status=st.sampled_from(STATUSES),
        summarise=st.lists(st.booleans(), max_size=4),
    )
    def turn_completed(self, thread_id: str, status: str, summarise: list[bool]) -> None:
        turn = self._live(thread_id)
        if turn is None:
            return
        summary: list[dict[str, Any]] = []
        for index, (item_id, (kind, deltas)) in enumerate(turn.open_items.items()):
            if index < len(summarise) and summarise[index]:
                text = f"summary {item_id}"
                summary.append({"type": "agentMessage", "id": item_id, "text": text})
                self._fold(turn, (item_id, False, text))
            else:
                # Cut off: a message keeps what had streamed; a reasoning item has no text.
                self._fold(
                    turn, (item_id, True, "".join(deltas) if kind == "agentMessage" else None)
                )
        turn.open_items.clear()
        turn.completed = status
        params = {
            "threadId": thread_id,
            "turn": {"id": turn.id, "status": status, "items": summary},
        }
        self._route(turn, "turn/completed", params)

    @rule(thread_id=st.sampled_from([*THREADS, None]))
    def stranger_event(self, thread_id: str | None) -> None:
        # A turn this table never heard of (another client's, or one long forgotten).
        params: dict[str, Any] = {"turnId": self._new_id("stranger")}
        if thread_id is not None:
            params["threadId"] = thread_id
        item = {"type": "agentMessage", "id": self._new_id("item"), "text": "not yours"}
        self.router.route("item/completed", {**params, "item": item})

    @rule()
    def connection_lost(self) -> None:
        self.router.fail_all(ConnectionError("gone"))
        for turn in self.turns.values():
            if self._tracked(turn):
                if turn.waker_set:
                    turn.waker_set = False  # woken by fail_all; the waker counts the call
                if turn.completed is None:
                    turn.lost = True
        self._check_steps()
        for turn in self.turns.values():
            if self._tracked(turn):
                state = self.router.get(turn.id)
                assert state is not None
                assert (state.ended is not None) == (turn.completed is None)
        # A new connection starts from an empty table.
        self.router = TurnRouter()
        self.turns.clear()
        self.starting.clear()

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def tables_hold_exactly_what_is_expected(self) -> None:
        tracked = {t.id for t in self.turns.values() if self._tracked(t)}
        assert set(self.router.tracked_turns) == tracked
        assert set(self.router.starting_threads) == set(self.starting)
        # The per-thread index names exactly the tracked turns of each thread.
        for thread_id in {t.thread_id for t in self.turns.values()}:
            on_thread = {turn_id for turn_id, _ in self.router.turns_on(thread_id)}
            expected = {
                t.id for t in self.turns.values() if self._tracked(t) and t.thread_id == thread_id
            }
            assert on_thread == expected
        for thread_id, buffered in self.router.starting_threads.items():
            # Only the events of the turn being started on that thread may be held.
            for turn_id, _ in buffered:
                turn = self.turns.get(turn_id)
                assert turn is None or turn.thread_id == thread_id

    @invariant()
    def every_completed_item_is_a_step_once_and_in_order(self) -> None:
        self._check_steps()

    @invariant()
    def every_waiter_is_woken_exactly_once(self) -> None:
        for turn in self.turns.values():
            assert turn.waker_calls == (-1 if turn.waker_set else 0), turn

    def _check_steps(self) -> None:
        for turn in self.turns.values():
            if not self._tracked(turn):
                continue
            state = self.router.get(turn.id)
            assert state is not None
            got = [(s.item_id, s.partial, s.text) for s in state.steps]
            assert got == turn.expected
            assert state.terminal == (turn.completed is not None)
            if turn.completed is not None:
                assert state.status == turn.completed


TurnRouterMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_random_interleavings_keep_every_step_once_in_order_and_wake_every_waiter = (
    TurnRouterMachine.TestCase
)
