"""Turn routing and the turn state machine, sans-I/O.

:class:`TurnRouter` takes every server notification and decides which tracked turn it belongs
to. A turn moves pending → inProgress → completed | interrupted | failed; its state collects
the completed items as :class:`~codex_app_server_client.models.Step` objects, the open items
and their streamed deltas, the last error, the token usage and the final turn object.

Rules that come from the real server's behaviour:

- Notifications of a turn can arrive before the ``turn/start`` response that names it. While
  a start is in flight on a thread, that thread's turn-scoped events are buffered and replayed
  once the response binds the turn id (:meth:`TurnRouter.bind`).
- Events of no tracked turn are not kept: the router says so and the caller only dispatches
  them to listeners. A forgotten turn's later events are dropped the same way.
- An item cut off by an interrupt never gets ``item/completed``; when the turn completes it is
  closed from the ``turn/completed`` items, or reported as a ``partial`` step.

Nothing here does I/O or reads a clock. The caller sets :attr:`TurnState.waker` to be told
when a state changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, cast

from ..models import Step
from ._jsonrpc import Notification

__all__ = ["TERMINAL_STATUSES", "TurnRouter", "TurnState", "pick_final_text", "step_from_item"]

TERMINAL_STATUSES: Final = frozenset({"completed", "interrupted", "failed"})

MAX_BUFFERED: Final = 10_000
"""Events kept per thread while a ``turn/start`` is in flight; far above anything seen (a
response normally follows within milliseconds), it only bounds memory if it never comes."""


class TurnState:
    """Everything known about one tracked turn."""

    __slots__ = (
        "activity",
        "client_requests",
        "completed_turn",
        "deltas",
        "dropped",
        "error",
        "final_answer",
        "lost",
        "open_items",
        "status",
        "steps",
        "thread_id",
        "turn_id",
        "unphased_answer",
        "usage",
        "waker",
    )

    def __init__(self, thread_id: str, turn_id: str | None = None) -> None:
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
        self.activity = 0
        """Count of events routed to this turn; a waiter compares it to see progress."""
        self.client_requests = 0
        """Server requests of this turn being handled by this client right now."""
        self.lost: BaseException | None = None
        """Set when the connection ended before the turn did."""
        self.waker: Callable[[], None] | None = None
        """Called after every change; the I/O layer points it at whatever wakes its waiter."""

    @property
    def terminal(self) -> bool:
        """Whether the turn has ended (completed, interrupted or failed)."""
        return self.status in TERMINAL_STATUSES

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
        if count >= len(self.steps):
            count = len(self.steps)
            self.steps.clear()
        else:
            del self.steps[:count]
        self.dropped += count

    def wake(self) -> None:
        """Tell the waiter (if any) that something changed; it is told once per wait."""
        waker = self.waker
        if waker is not None:
            self.waker = None
            waker()

    def apply(self, method: str, params: dict[str, Any]) -> None:
        """Fold one notification of this turn (its method and params) into the state."""
        if method == "item/completed":
            self.item_completed(params)
            return
        self.activity += 1
        if method == "item/agentMessage/delta":
            item_id = params.get("itemId")
            delta = params.get("delta")
            if item_id.__class__ is str and delta.__class__ is str:
                pieces = self.deltas.get(item_id)  # pyright: ignore[reportArgumentType]
                if pieces is None:
                    self.deltas[item_id] = [delta]  # pyright: ignore[reportArgumentType]
                else:
                    pieces.append(delta)  # pyright: ignore[reportArgumentType]
        elif method == "item/started":
            item = params.get("item")
            if isinstance(item, dict):
                item_dict: dict[str, Any] = item  # pyright: ignore[reportUnknownVariableType]
                self.open_items[str(item_dict.get("id", ""))] = item_dict
        elif method == "turn/started":
            if self.status == "pending":
                self.status = "inProgress"
        elif method == "turn/completed":
            self._complete(params.get("turn"))
        elif method == "error":
            if params.get("willRetry") is not True:
                error = params.get("error")
                if isinstance(error, dict):
                    self.error = error  # pyright: ignore[reportUnknownMemberType]
        elif method == "thread/tokenUsage/updated":
            usage = params.get("tokenUsage")
            if isinstance(usage, dict):
                self.usage = usage  # pyright: ignore[reportUnknownMemberType]
        waker = self.waker  # self.wake(), inlined: this runs once per event
        if waker is not None:
            self.waker = None
            waker()

    def item_completed(self, params: dict[str, Any]) -> None:
        """Fold in the params of one ``item/completed``: a new step.

        Most events of a turn are these, so :meth:`apply` checks for them first and this
        builds the step without further calls. It also keeps the final-answer candidates
        current.
        """
        self.activity += 1
        item = params.get("item")
        if isinstance(item, dict):
            item_dict: dict[str, Any] = item  # pyright: ignore[reportUnknownVariableType]
            if self.open_items or self.deltas:
                item_key = str(item_dict.get("id", ""))
                self.open_items.pop(item_key, None)
                self.deltas.pop(item_key, None)
            kind = item_dict.get("type")
            if kind == "agentMessage":
                text = item_dict.get("text")
                if text.__class__ is str:
                    phase = item_dict.get("phase")
                    if phase is None:
                        self.unphased_answer = text
                    elif phase == "final_answer":
                        self.final_answer = text
                else:
                    text = None
            else:
                text = _item_text(item_dict, kind)
                if kind.__class__ is not str:
                    kind = "unknown"
            item_id = item_dict.get("id", "")
            step = _new(_StepLayout)
            step.item_id = item_id if item_id.__class__ is str else str(item_id)
            step.item_type = kind  # pyright: ignore[reportAttributeAccessIssue]
            step.text = text
            step.item = item_dict
            step.partial = False
            step.__class__ = Step  # pyright: ignore[reportAttributeAccessIssue]
            self.steps.append(step)  # pyright: ignore[reportArgumentType]
        waker = self.waker
        if waker is not None:
            self.waker = None
            waker()

    def _complete(self, turn: object) -> None:
        turn_dict: dict[str, Any] = turn if isinstance(turn, dict) else {}  # pyright: ignore[reportUnknownVariableType]
        status = turn_dict.get("status")
        self.status = (
            status if isinstance(status, str) and status in TERMINAL_STATUSES else "failed"
        )
        self.completed_turn = turn_dict
        error = turn_dict.get("error")
        if isinstance(error, dict):
            self.error = error  # pyright: ignore[reportUnknownMemberType]
        self._close_open_items(turn_dict.get("items"))

    def _close_open_items(self, summary_items: object) -> None:
        if not self.open_items:
            self.deltas.clear()
            return
        by_id: dict[str, dict[str, Any]] = {}
        if isinstance(summary_items, list):
            for item in summary_items:  # pyright: ignore[reportUnknownVariableType]
                if isinstance(item, dict) and isinstance(item.get("id"), str):  # pyright: ignore[reportUnknownMemberType]
                    by_id[item["id"]] = item  # pyright: ignore[reportUnknownArgumentType]
        # A copy: closing an item through item_completed takes it out of open_items.
        for item_id, started in list(self.open_items.items()):
            closed = by_id.get(item_id)
            if closed is not None:
                self.item_completed({"item": closed})
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
        turn = params.get("turn")
        if isinstance(turn, dict):
            turn_id = turn.get("id")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    return (
        thread_id if isinstance(thread_id, str) else None,
        turn_id if isinstance(turn_id, str) else None,
    )


class TurnRouter:
    """Which tracked turn each notification belongs to; the tables behind ``CodexClient``."""

    __slots__ = ("_buffers", "_by_thread", "_hooks", "_turns")

    def __init__(self, hooks: Mapping[str, Callable[[Notification], object]] | None = None) -> None:
        """``hooks`` maps a method to a function that sees its notifications too (before they
        are routed), for the few methods the owner acts on itself."""
        self._turns: dict[str, TurnState] = {}
        # The same turns by thread, so that checking one thread does not scan them all.
        self._by_thread: dict[str, dict[str, TurnState]] = {}
        self._buffers: dict[str, list[tuple[str, Notification]]] = {}
        self._hooks: dict[str, Callable[[Notification], object]] = dict(hooks or {})

    @property
    def tracked_turns(self) -> Mapping[str, TurnState]:
        """Turns being tracked, by turn id."""
        return self._turns

    @property
    def starting_threads(self) -> Mapping[str, list[tuple[str, Notification]]]:
        """Threads with a ``turn/start`` in flight, with the events buffered for them."""
        return self._buffers

    def expect(self, thread_id: str) -> None:
        """A ``turn/start`` is about to be sent on ``thread_id``: start buffering its events."""
        self._buffers.setdefault(thread_id, [])

    def abandon(self, thread_id: str) -> None:
        """The ``turn/start`` on ``thread_id`` failed or was cancelled: drop its buffer."""
        self._buffers.pop(thread_id, None)

    def bind(self, thread_id: str, turn_id: str) -> TurnState:
        """The ``turn/start`` response named the turn: track it and replay its early events."""
        buffered = self._buffers.pop(thread_id, [])
        state = self._turns.get(turn_id)
        if state is None:
            state = TurnState(thread_id, turn_id)
            self._turns[turn_id] = state
            self._by_thread.setdefault(thread_id, {})[turn_id] = state
        if state.status == "pending":
            state.status = "inProgress"
        for event_turn_id, note in buffered:
            if event_turn_id == turn_id:
                state.apply(note.method, note.params)
        return state

    def get(self, turn_id: str) -> TurnState | None:
        """The state of a tracked turn."""
        return self._turns.get(turn_id)

    def turns_on(self, thread_id: str) -> list[tuple[str, TurnState]]:
        """The tracked turns of one thread, by id (a new list: the caller may forget them)."""
        turns = self._by_thread.get(thread_id)
        return list(turns.items()) if turns else []

    def forget(self, turn_id: str) -> None:
        """Stop tracking a turn; its later events are dropped."""
        state = self._turns.pop(turn_id, None)
        if state is not None:
            state.waker = None
            turns = self._by_thread.get(state.thread_id)
            if turns is not None:
                turns.pop(turn_id, None)
                if not turns:
                    del self._by_thread[state.thread_id]

    def route(self, method: str, params: dict[str, Any]) -> TurnState | None:
        """Apply a notification (its method and params) to its turn; ``None`` when no
        tracked turn owns it."""
        hook = self._hooks.get(method)
        if hook is not None:
            hook(Notification(method, params))
        turn_id = params.get("turnId")
        if turn_id.__class__ is str:
            # The common case (item and delta events) in one dict lookup.
            state = self._turns.get(turn_id)  # pyright: ignore[reportArgumentType]
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
            # Thread-scoped signs of life count as activity for that thread's running turn.
            for state in self._by_thread.get(thread_id, {}).values():
                if not state.terminal:
                    state.activity += 1
                    state.wake()
        return None

    def fail_all(self, error: BaseException) -> None:
        """The connection ended: mark every unfinished turn lost and wake its waiter."""
        for state in self._turns.values():
            if not state.terminal:
                state.lost = error
            state.wake()


_new = object.__new__


class _StepLayout:
    """A :class:`Step` under construction: the same slots, without the frozen ``__setattr__``.

    One ``Step`` is made per completed item, and a frozen dataclass pays for its frozenness
    on every field it sets; building this twin and then switching its ``__class__`` to
    ``Step`` (allowed because the two layouts are identical) costs half as much and yields
    an ordinary, frozen ``Step``.
    """

    __slots__ = Step.__slots__

    def __init__(
        self,
        item_id: str,
        item_type: str,
        text: str | None,
        item: dict[str, Any],
        partial: bool = False,
    ) -> None:
        self.item_id = item_id
        self.item_type = item_type
        self.text = text
        self.item = item
        self.partial = partial


def step_from_item(item: dict[str, Any], *, partial: bool = False) -> Step:
    """Make a :class:`Step` of a raw item, with best-effort human text."""
    kind = item.get("type")
    item_id = item.get("id", "")
    step = _StepLayout(
        item_id if item_id.__class__ is str else str(item_id),
        kind if isinstance(kind, str) else "unknown",
        _item_text(item, kind),
        item,
        partial,
    )
    step.__class__ = Step  # pyright: ignore[reportAttributeAccessIssue]
    return step  # pyright: ignore[reportReturnType]


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
