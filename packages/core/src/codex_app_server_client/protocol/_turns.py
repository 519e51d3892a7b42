"""Turns, sans-I/O: where each notification belongs, what each turn holds, who owns it.

:class:`TurnRouter` is the table of the turns one client tracks, and the rules of owning
them; :class:`TurnState` is everything known about one turn. A turn moves pending →
inProgress → completed | interrupted | failed; its state collects the completed items as
:class:`~codex_app_server_client.models.Step` objects, the open items and their streamed
deltas, the last error, the latest retry notice, the token usage and the final turn object.

Ownership rules (one place for all of them; the I/O layer only asks):

- One running turn per thread per client (:meth:`TurnRouter.begin`): the server would steer a
  second ``turn/start`` into the running turn, so two callers would silently share it.
- At most one caller waits on a turn's steps at a time (``attached``); a wait that timed out
  leaves the turn *parked* for its continuation (:meth:`TurnRouter.attach`).
- ``cancel()`` *holds* a turn while it interrupts it; the turn is forgotten when the last
  holder and the attached caller are done with it.
- Every way a turn can end for its callers (the server's ``turn/completed``, the
  connection's loss, the client's close, a cancel that gave up, being forgotten) wakes
  **every** waiter registered on it (:meth:`TurnState.notify`), and sets either a terminal
  status or :attr:`TurnState.ended`, so no waiter can miss its end.

Rules that come from the real server's behaviour:

- Notifications of a turn can arrive before the ``turn/start`` response that names it. While
  a start is in flight on a thread, that thread's turn-scoped events are buffered and replayed
  once the response binds the turn id (:meth:`TurnRouter.bind`).
- Events of no tracked turn are not kept: the router says so and the caller only dispatches
  them to listeners. A forgotten turn's later events are dropped the same way.
- An item cut off by an interrupt never gets ``item/completed``; when the turn completes it is
  closed from the ``turn/completed`` items, or reported as a ``partial`` step.
- ``error`` with ``willRetry: true`` announces a retry. A retry is not progress: it updates
  :attr:`TurnState.retry` (logged at WARNING) but not :attr:`TurnState.progress`, so a turn
  that only retries still goes quiet for the inactivity clock.

Nothing here does I/O or reads a clock. Waiters are plain callables the I/O layer registers
with :meth:`TurnState.add_waiter`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, cast

from ..errors import CodexContinuationError, CodexError
from ..models import RetryNotice, Step
from ._jsonrpc import Notification

__all__ = [
    "TERMINAL_STATUSES",
    "TurnRouter",
    "TurnState",
    "pick_final_text",
    "retry_notice",
    "step_from_item",
]

logger = logging.getLogger("codex_app_server_client.turns")

TERMINAL_STATUSES: Final = frozenset({"completed", "interrupted", "failed"})

MAX_BUFFERED: Final = 10_000
"""Events kept per thread while a ``turn/start`` is in flight; far above anything seen (a
response normally follows within milliseconds), it only bounds memory if it never comes."""

Waiter = Callable[[], None]
"""Called once when the turn changes next; registered again for every wait."""

_ATTEMPT: Final = re.compile(r"(\d+)\s*/\s*(\d+)")


class TurnState:
    """Everything known about one tracked turn."""

    __slots__ = (
        "approval_timeout",
        "attached",
        "completed_turn",
        "deltas",
        "dropped",
        "ended",
        "error",
        "final_answer",
        "holds",
        "open_items",
        "pending_requests",
        "progress",
        "retry",
        "status",
        "steps",
        "thread_id",
        "turn_id",
        "unphased_answer",
        "usage",
        "waiters",
    )

    def __init__(
        self, thread_id: str, turn_id: str, *, approval_timeout: float | None = None
    ) -> None:
        self.thread_id = thread_id
        self.turn_id = turn_id
        self.status = "pending"
        self.steps: list[Step] = []
        """Completed steps still held, the first being step number :attr:`dropped`."""
        self.dropped = 0
        """How many steps were let go from the front of :attr:`steps` (already handed out)."""
        self.open_items: dict[str, dict[str, Any]] = {}
        self.deltas: dict[str, list[str]] = {}
        self.error: dict[str, Any] | None = None
        self.completed_turn: dict[str, Any] | None = None
        self.usage: dict[str, Any] | None = None
        self.final_answer: str | None = None
        """Text of the last completed ``agentMessage`` with ``phase: "final_answer"``."""
        self.unphased_answer: str | None = None
        """Text of the last completed ``agentMessage`` without a phase."""
        self.progress = 0
        """Count of signs of progress (events other than retry notices, answers to the
        server's requests); the inactivity clock restarts when it changes."""
        self.retry: RetryNotice | None = None
        """The latest retry notice, until the turn progresses again."""
        self.ended: BaseException | None = None
        """Why the turn ended for this client without a terminal status (connection lost,
        client closed, cancel gave up, no longer tracked); waiters raise it."""
        self.pending_requests: dict[object, object] = {}
        """Server requests of this turn our handlers are deciding, by request id (the values
        belong to the I/O layer). While any is pending the turn is not silent."""
        self.approval_timeout = approval_timeout
        """Seconds our handlers get to decide a server request of this turn (``None``: no
        limit)."""
        self.attached = False
        """Whether a caller is waiting on the turn's steps (else it is parked)."""
        self.holds = 0
        """How many ``cancel()`` calls are working on the turn."""
        self.waiters: list[Waiter] = []

    @property
    def terminal(self) -> bool:
        """Whether the server said the turn ended (completed, interrupted or failed)."""
        return self.status in TERMINAL_STATUSES

    @property
    def finished(self) -> bool:
        """Whether the turn is over for this client: terminal, or :attr:`ended` locally."""
        return self.ended is not None or self.status in TERMINAL_STATUSES

    @property
    def busy(self) -> bool:
        """Whether our handlers are deciding a server request of this turn right now."""
        return bool(self.pending_requests)

    @property
    def live_final_text(self) -> str | None:
        """The answer among the completed steps, chosen as :func:`pick_final_text` does.

        Kept up to date as steps complete, so it holds even for steps already let go.
        """
        final = self.final_answer
        return final if final is not None else self.unphased_answer

    def steps_since(self, cursor: int) -> list[Step]:
        """The steps held from step number ``cursor`` on."""
        return self.steps[max(cursor - self.dropped, 0) :]

    def let_go(self, count: int) -> None:
        """Stop holding the first ``count`` held steps (their taker has them now)."""
        count = min(count, len(self.steps))
        del self.steps[:count]
        self.dropped += count

    # -- waiters -------------------------------------------------------------------------

    def add_waiter(self, waiter: Waiter) -> None:
        """Call ``waiter`` once, at the turn's next change (or its end)."""
        self.waiters.append(waiter)

    def remove_waiter(self, waiter: Waiter) -> None:
        """Forget a waiter that stopped waiting before it was called."""
        if waiter in self.waiters:
            self.waiters.remove(waiter)

    def notify(self) -> None:
        """Call every registered waiter once (each registers again for its next wait)."""
        waiters = self.waiters
        if waiters:
            self.waiters = []
            for waiter in waiters:
                waiter()

    def end(self, error: BaseException) -> None:
        """The turn ended for this client without a terminal status: wake every waiter.

        Does nothing to a turn that already ended (the first reason stays).
        """
        if not self.finished:
            self.ended = error
        self.notify()

    # -- server requests of the turn -----------------------------------------------------

    def request_started(self, request_id: object, handle: object) -> None:
        """Our handler started deciding a server request of this turn: it is not silent."""
        self.pending_requests[request_id] = handle
        self.notify()

    def request_finished(self, request_id: object) -> None:
        """Our handler answered (or gave up): that counts as progress."""
        if self.pending_requests.pop(request_id, None) is not None:
            self.progress += 1
            self.notify()

    # -- events --------------------------------------------------------------------------

    def sign_of_life(self) -> None:
        """A thread-scoped event (``thread/status/changed``, ``warning``) for the thread's
        running turn: progress, unless the turn is retrying (those come with retries)."""
        if self.retry is None and not self.finished:
            self.progress += 1
            self.notify()

    def apply(self, method: str, params: dict[str, Any]) -> None:
        """Fold one notification of this turn (its method and params) into the state."""
        if method == "item/completed":  # most of a turn's events: checked first
            self.progress += 1
            self.retry = None
            item = params.get("item")
            if isinstance(item, dict):
                self._item_completed(item)  # pyright: ignore[reportUnknownArgumentType]
            if self.waiters:
                self.notify()
            return
        if method == "error" and params.get("willRetry") is True:
            self.retry = retry_notice(params.get("error"))
            logger.warning(
                "turn %s: the server is retrying the model request: %s",
                self.turn_id,
                self.retry.message,
            )
            self.notify()
            return
        self.progress += 1
        self.retry = None
        if method == "item/agentMessage/delta":
            item_id = params.get("itemId")
            delta = params.get("delta")
            if isinstance(item_id, str) and isinstance(delta, str):
                self.deltas.setdefault(item_id, []).append(delta)
        elif method == "item/started":
            item = params.get("item")
            if isinstance(item, dict):
                started = cast("dict[str, Any]", item)
                self.open_items[str(started.get("id", ""))] = started
        elif method == "turn/started":
            if self.status == "pending":
                self.status = "inProgress"
        elif method == "turn/completed":
            self._complete(params.get("turn"))
        elif method == "error":
            error = params.get("error")
            if isinstance(error, dict):
                self.error = cast("dict[str, Any]", error)
        elif method == "thread/tokenUsage/updated":
            usage = params.get("tokenUsage")
            if isinstance(usage, dict):
                self.usage = cast("dict[str, Any]", usage)
        if self.waiters:
            self.notify()

    def _item_completed(self, item: dict[str, Any]) -> None:
        """A new step; keeps the final-answer candidates current."""
        if self.open_items or self.deltas:
            key = str(item.get("id", ""))
            self.open_items.pop(key, None)
            self.deltas.pop(key, None)
        if item.get("type") == "agentMessage":
            text = item.get("text")
            if isinstance(text, str):
                phase = item.get("phase")
                if phase is None:
                    self.unphased_answer = text
                elif phase == "final_answer":
                    self.final_answer = text
        self.steps.append(step_from_item(item))

    def _complete(self, turn: object) -> None:
        turn_dict = as_dict(turn)
        status = turn_dict.get("status")
        self.status = (
            status if isinstance(status, str) and status in TERMINAL_STATUSES else "failed"
        )
        self.completed_turn = turn_dict
        error = turn_dict.get("error")
        if isinstance(error, dict):
            self.error = cast("dict[str, Any]", error)
        self._close_open_items(turn_dict.get("items"))

    def _close_open_items(self, summary_items: object) -> None:
        by_id = {
            item["id"]: item for item in as_dicts(summary_items) if isinstance(item.get("id"), str)
        }
        for item_id, started in list(self.open_items.items()):
            closed = by_id.get(item_id)
            if closed is not None:
                self._item_completed(closed)
                continue
            streamed = "".join(self.deltas.get(item_id, ()))
            item = dict(started)
            if streamed and item.get("type") == "agentMessage":
                item["text"] = streamed
            self.steps.append(step_from_item(item, partial=True))
        self.open_items.clear()
        self.deltas.clear()


def _turn_key(method: str, params: dict[str, Any]) -> tuple[str | None, str | None]:
    thread_id = params.get("threadId")
    turn_id = params.get("turnId")
    if turn_id is None and method in ("turn/started", "turn/completed"):
        turn_id = as_dict(params.get("turn")).get("id")
    return (
        thread_id if isinstance(thread_id, str) else None,
        turn_id if isinstance(turn_id, str) else None,
    )


class TurnRouter:
    """The turns one client tracks: routing of notifications and the rules of ownership."""

    __slots__ = ("_abandoned", "_buffers", "_by_thread", "_hooks", "_starting", "_turns")

    def __init__(self, hooks: Mapping[str, Callable[[Notification], object]] | None = None) -> None:
        """``hooks`` maps a method to a function that sees its notifications too (before they
        are routed), for the few methods the owner acts on itself."""
        self._turns: dict[str, TurnState] = {}
        # The same turns by thread, so that checking one thread does not scan them all.
        self._by_thread: dict[str, dict[str, TurnState]] = {}
        self._buffers: dict[str, list[tuple[str, Notification]]] = {}
        # The approval timeout of the turn being started on each thread (its server requests
        # may come before the turn/start answer names the turn).
        self._starting: dict[str, float | None] = {}
        self._hooks: dict[str, Callable[[Notification], object]] = dict(hooks or {})
        # Turns whose caller was garbage-collected mid-turn; released at the next operation
        # (a finalizer must not change these tables while the reader may be using them).
        self._abandoned: list[TurnState] = []

    @property
    def tracked_turns(self) -> Mapping[str, TurnState]:
        """Turns being tracked, by turn id."""
        self._drain()
        return self._turns

    @property
    def starting_threads(self) -> Mapping[str, list[tuple[str, Notification]]]:
        """Threads with a ``turn/start`` in flight, with the events buffered for them."""
        return self._buffers

    def leftovers(self) -> dict[str, object]:
        """Whatever the tables still hold, by kind (empty when nothing is left)."""
        self._drain()
        left: dict[str, object] = {}
        if self._turns:
            left["tracked turns"] = sorted(self._turns)
        if self._buffers:
            left["turn starts in flight"] = sorted(self._buffers)
        attached = sorted(t for t, s in self._turns.items() if s.attached)
        if attached:
            left["attached turns"] = attached
        return left

    # -- starting and binding ------------------------------------------------------------

    def begin(self, thread_id: str, *, approval_timeout: float | None = None) -> None:
        """A ``turn/start`` is about to be sent on ``thread_id``: check the thread is free,
        then buffer its events until :meth:`bind` or :meth:`abandon`.

        Raises:
            CodexError: a turn is being started, or still running, on that thread here.
        """
        self._drain()
        if thread_id in self._buffers:
            raise CodexError(
                f"a turn is being started on thread {thread_id} already; wait for it to end"
            )
        for turn_id, state in list(self._by_thread.get(thread_id, {}).items()):
            if state.finished:
                if not state.attached and not state.holds:
                    self.forget(state)  # a parked turn nobody resumed; it has ended
                continue
            raise CodexError(
                f"thread {thread_id} has a running turn ({turn_id}) on this client; wait for "
                "it, resume it with its continuation, or cancel() it first"
            )
        self._buffers[thread_id] = []
        self._starting[thread_id] = approval_timeout

    def starting_approval_timeout(self, thread_id: str) -> tuple[bool, float | None]:
        """Whether a turn is being started on ``thread_id``, and its approval timeout."""
        if thread_id in self._starting:
            return True, self._starting[thread_id]
        return False, None

    def abandon(self, thread_id: str) -> None:
        """The ``turn/start`` on ``thread_id`` failed or was cancelled: drop its buffer."""
        self._buffers.pop(thread_id, None)
        self._starting.pop(thread_id, None)

    def bind(
        self, thread_id: str, turn_id: str, *, approval_timeout: float | None = None
    ) -> TurnState:
        """The ``turn/start`` response named the turn: track it, attached to its starter,
        and replay its early events."""
        buffered = self._buffers.pop(thread_id, [])
        self._starting.pop(thread_id, None)
        state = self._turns.get(turn_id)
        if state is None:
            state = TurnState(thread_id, turn_id, approval_timeout=approval_timeout)
            self._turns[turn_id] = state
            self._by_thread.setdefault(thread_id, {})[turn_id] = state
        state.attached = True
        if state.status == "pending":
            state.status = "inProgress"
        for event_turn_id, note in buffered:
            if event_turn_id == turn_id:
                state.apply(note.method, note.params)
        return state

    # -- owners --------------------------------------------------------------------------

    def get(self, turn_id: str) -> TurnState | None:
        """The state of a tracked turn."""
        return self._turns.get(turn_id)

    def turns_on(self, thread_id: str) -> list[tuple[str, TurnState]]:
        """The tracked turns of one thread, by id (a new list)."""
        turns = self._by_thread.get(thread_id)
        return list(turns.items()) if turns else []

    def attach(self, turn_id: str) -> TurnState:
        """A continuation resumes waiting on a parked turn.

        Raises:
            CodexContinuationError: the turn is not tracked, or someone waits on it already.
        """
        self._drain()
        state = self._turns.get(turn_id)
        if state is None:
            raise CodexContinuationError(
                f"turn {turn_id} is not tracked by this client: its result was already "
                "collected, it was cancelled, or the continuation comes from another client"
            )
        if state.attached:
            raise CodexContinuationError(f"another caller is already waiting on turn {turn_id}")
        state.attached = True
        return state

    def detach(self, state: TurnState) -> None:
        """The attached caller stopped waiting (inactivity): keep the turn, parked."""
        state.attached = False

    def release(self, state: TurnState) -> None:
        """The attached caller is done with the turn: forget it unless a cancel holds it."""
        state.attached = False
        if not state.holds:
            self.forget(state)

    def release_later(self, state: TurnState) -> None:
        """:meth:`release`, from a finalizer: only queued, done at the next operation."""
        self._abandoned.append(state)

    def hold(self, turn_id: str) -> TurnState:
        """``cancel()`` starts working on a turn.

        Raises:
            CodexContinuationError: the turn is not tracked.
        """
        self._drain()
        state = self._turns.get(turn_id)
        if state is None:
            raise CodexContinuationError(
                f"turn {turn_id} is not tracked by this client: it was already collected or "
                "cancelled, or the continuation comes from another client"
            )
        state.holds += 1
        return state

    def unhold(self, state: TurnState, error: BaseException) -> None:
        """``cancel()`` is done: the turn ends (with ``error`` if it had not) and is
        forgotten, so its thread can take a new turn at once."""
        state.holds -= 1
        if not state.holds:
            state.end(error)
            self.forget(state)

    def forget(self, state: TurnState) -> None:
        """Stop tracking a turn (its later events are dropped) and wake its waiters; a turn
        still running ends for them with :class:`CodexContinuationError`."""
        turn_id = state.turn_id
        if self._turns.get(turn_id) is state:
            del self._turns[turn_id]
            turns = self._by_thread.get(state.thread_id)
            if turns is not None:
                turns.pop(turn_id, None)
                if not turns:
                    del self._by_thread[state.thread_id]
        state.end(
            CodexContinuationError(
                f"this client stopped tracking turn {turn_id} before it ended; it may still "
                "be running on the server"
            )
        )

    def _drain(self) -> None:
        abandoned = self._abandoned
        while abandoned:
            self.release(abandoned.pop())

    # -- events --------------------------------------------------------------------------

    def route(self, method: str, params: dict[str, Any]) -> TurnState | None:
        """Apply a notification (its method and params) to its turn; ``None`` when no
        tracked turn owns it."""
        if self._abandoned:
            self._drain()
        hook = self._hooks.get(method)
        if hook is not None:
            hook(Notification(method, params))
        turn_id = params.get("turnId")
        if isinstance(turn_id, str):
            # Item and delta events name their turn: one lookup for most of the traffic.
            state = self._turns.get(turn_id)
            if state is not None:
                state.apply(method, params)
                return state
        thread_id, turn_id = _turn_key(method, params)
        if turn_id is not None:
            state = self._turns.get(turn_id)
            if state is not None:
                state.apply(method, params)
                return state
            if thread_id is not None:
                buffer = self._buffers.get(thread_id)
                if buffer is not None and len(buffer) < MAX_BUFFERED:
                    buffer.append((turn_id, Notification(method, params)))
            return None
        if thread_id is not None and method in ("thread/status/changed", "warning"):
            for state in self._by_thread.get(thread_id, {}).values():
                if not state.finished:
                    state.sign_of_life()
                    return state
        return None

    def fail_all(self, error: BaseException) -> None:
        """The connection ended: every unfinished turn ends with ``error``, every waiter
        wakes."""
        for state in list(self._turns.values()):
            state.end(error)


def retry_notice(error: object) -> RetryNotice:
    """The :class:`RetryNotice` of an ``error`` notification's ``error`` member."""
    error_dict = as_dict(error)
    message = error_dict.get("message")
    text = message if isinstance(message, str) and message else "the server is retrying"
    details = error_dict.get("additionalDetails")
    if isinstance(details, str) and details and details not in text:
        text = f"{text} ({details})"
    match = _ATTEMPT.search(text)
    attempt = int(match.group(1)) if match else None
    total = int(match.group(2)) if match else None
    return RetryNotice(text, attempt, total, error_dict)


def step_from_item(item: dict[str, Any], *, partial: bool = False) -> Step:
    """Make a :class:`Step` of a raw item, with best-effort human text."""
    kind = item.get("type")
    item_id = item.get("id", "")
    return Step(
        item_id if isinstance(item_id, str) else str(item_id),
        kind if isinstance(kind, str) else "unknown",
        _item_text(item, kind),
        item,
        partial,
    )


def as_dict(value: object) -> dict[str, Any]:
    """``value`` if it is a dict, else an empty one (lenient parsing of server data)."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def as_dicts(value: object) -> list[dict[str, Any]]:
    """The dict members of ``value`` if it is a list (lenient parsing of server data)."""
    if not isinstance(value, list):
        return []
    return [cast("dict[str, Any]", v) for v in cast("list[object]", value) if isinstance(v, dict)]


def _strings(values: object) -> list[str]:
    if not isinstance(values, list):
        return []
    return [v for v in values if isinstance(v, str)]  # pyright: ignore[reportUnknownVariableType]


def _item_text(item: dict[str, Any], kind: object) -> str | None:
    if kind in ("agentMessage", "plan"):
        text = item.get("text")
        return text if isinstance(text, str) else None
    if kind == "reasoning":
        parts = _strings(item.get("summary")) or _strings(item.get("content"))
        return "\n".join(parts) if parts else None
    if kind == "userMessage":
        texts: list[str] = []
        content = item.get("content")
        if isinstance(content, list):
            for part in content:  # pyright: ignore[reportUnknownVariableType]
                if isinstance(part, dict) and part.get("type") == "text":  # pyright: ignore[reportUnknownMemberType]
                    text = part.get("text")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
                    if isinstance(text, str):
                        texts.append(text)
        return "\n".join(texts) if texts else None
    if kind == "commandExecution":
        command = item.get("command")
        output = item.get("aggregatedOutput")
        head = f"$ {command}" if isinstance(command, str) else None
        if isinstance(output, str) and output:
            return f"{head}\n{output}" if head else output
        return head
    if kind == "fileChange":
        paths = [c["path"] for c in as_dicts(item.get("changes")) if isinstance(c.get("path"), str)]
        return "\n".join(paths) if paths else None
    return None


def pick_final_text(items: Iterable[Mapping[str, Any]]) -> str | None:
    """The final answer among completed items.

    The ``agentMessage`` marked ``phase: "final_answer"`` wins (the last one, if several);
    otherwise the last ``agentMessage`` without a phase; otherwise ``None`` (commentary is
    never taken for the answer).
    """
    final: str | None = None
    unphased: str | None = None
    for item in items:
        if item.get("type") != "agentMessage":
            continue
        text = item.get("text")
        if not isinstance(text, str):
            continue
        phase = item.get("phase")
        if phase == "final_answer":
            final = text
        elif phase is None:
            unphased = text
    return final if final is not None else unphased
