"""TurnStream: one caller's wait on one turn, as an async iterator of steps."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Final, Self

from ._connection import copy_error
from ._defaults import Default
from ._turn_registry import TurnRegistry
from ._waiting import Wake
from .errors import CodexTurnFailedError, CodexTurnInactiveError
from .models import ChatResult, Continuation, FinalTextSource, RetryNotice, Step
from .protocol import TurnState, pick_final_text
from .protocol._turns import as_dicts

__all__ = ["TurnStream"]

_LET_GO_EVERY: Final = 1024
"""A stream behind its turn lets go of handed-out steps in chunks this big (deleting from
the front of a list one step at a time would cost a copy per step)."""


class TurnStream:
    """The steps of one turn as they complete: ``async for step in client.chat(...)``.

    Iteration yields one :class:`~codex_app_server_client.models.Step` per live
    ``item/completed`` of the turn, in order, and ends when the turn ends; a failed turn raises
    :class:`~codex_app_server_client.errors.CodexTurnFailedError` after its steps. Afterwards
    :attr:`result` holds the :class:`~codex_app_server_client.models.ChatResult`.

    If the turn stays silent for the inactivity timeout, iteration raises
    :class:`~codex_app_server_client.errors.CodexTurnInactiveError`; the turn keeps running and
    the error's ``continuation`` resumes it. Time our own server-request handlers spend
    deciding (a person reading an approval) is not silence; a server that only announces
    retries is (see :attr:`retry`).

    ``cancel()`` of the turn from another task ends the iteration too: normally, with
    ``status == "interrupted"``, when the server confirms the interrupt in time, else with
    :class:`~codex_app_server_client.errors.CodexTurnCancelledError`. The client's close or
    the connection's loss raises :class:`~codex_app_server_client.errors.CodexTransportError`.

    Leaving the loop early (``break``) or calling :meth:`aclose` stops tracking the turn on this
    client (it is not interrupted on the server; use ``cancel`` for that). Use
    ``async with client.chat(...) as steps:`` to make that release explicit.
    """

    def __init__(
        self,
        turns: TurnRegistry | None,
        *,
        turn_params: dict[str, Any] | None,
        thread_id: str | None,
        continuation: Continuation | None,
        inactivity_timeout: float | None,
        approval_timeout: float | Default | None,
        hand_out_steps: bool = True,
    ) -> None:
        self._turns = turns
        self._turn_params = turn_params
        self._thread_id = thread_id
        self._turn_id = continuation.turn_id if continuation is not None else None
        self._continuation = continuation
        self._timeout = inactivity_timeout
        self._approval_timeout = approval_timeout
        self._hand_out = hand_out_steps
        self._state: TurnState | None = None
        self._cursor = continuation.cursor if continuation is not None else 0
        self._done = False
        self._last_retry: RetryNotice | None = None
        self._result: ChatResult | None = None
        # The inactivity clock: restarted whenever the turn's progress count moves on.
        self._idle_since = 0.0
        self._seen = -1
        # The current timed wait, kept by the watchdog through deadline_reached().
        self._deadline: float | None = None
        self._watch_key: int | None = None
        self._wake: Wake | None = None
        self._expired = False

    # -- public --------------------------------------------------------------------------

    @property
    def result(self) -> ChatResult:
        """The turn's result, once iteration has ended normally."""
        if self._result is None:
            raise RuntimeError("the turn has not ended yet; iterate the stream to its end first")
        return self._result

    @property
    def thread_id(self) -> str | None:
        """The thread, once known (a new thread is started on first iteration)."""
        return self._thread_id

    @property
    def turn_id(self) -> str | None:
        """The turn, once ``turn/start`` has answered (kept after the stream ends)."""
        return self._turn_id

    @property
    def retry(self) -> RetryNotice | None:
        """The server's latest retry notice for this turn while it is retrying the model
        request (``None`` once the turn progresses again, or when it never retried).

        Retries are also logged at WARNING on ``codex_app_server_client.turns``. They do not
        count as progress: a turn that only retries for ``inactivity_timeout`` raises
        :class:`~codex_app_server_client.errors.CodexTurnInactiveError` with the last notice.
        """
        state = self._state
        return state.retry if state is not None else self._last_retry

    def keep_steps(self) -> None:
        """Keep every step for :attr:`result` instead of letting go of those handed out
        (what ``chat_once`` does; call before iterating)."""
        self._hand_out = False

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Step:
        if self._done:
            raise StopAsyncIteration
        state = self._state if self._state is not None else await self._attach()
        while True:
            step = self._next_step(state)
            if step is not None:
                return step
            if state.terminal:
                await self._finish(state)
                raise StopAsyncIteration
            if state.ended is not None:
                self._release()
                # A copy per waiter, so concurrent waiters' tracebacks don't mix.
                raise copy_error(state.ended)
            await self._wait(state)

    async def collect(self) -> ChatResult:
        """Run the turn to its end and return its result (what ``chat_once`` does)."""
        async for _ in self:
            pass
        return self.result

    async def aclose(self) -> None:
        """Stop tracking the turn on this client; idempotent."""
        self._release()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()

    def __del__(self) -> None:
        # Dropped mid-turn (a `break` without `async with`): the turn must still be freed,
        # but the collector may run in the middle of the reader's work, so only queue it.
        state = self._state
        if state is not None and self._turns is not None:
            self._turns.release_later(state)

    # -- the watchdog's side -------------------------------------------------------------

    def deadline_reached(self, now: float) -> float | None:
        """Called by the watchdog when this stream's watched deadline falls due."""
        deadline = self._deadline
        state = self._state
        if deadline is None or state is None or state.busy:
            # Not in a timed wait (or our handler is deciding): the next timed wait arms anew.
            self._watch_key = None
            return None
        if deadline > now:
            return deadline  # progress moved the deadline on; check again then
        self._watch_key = None
        self._expired = True
        if self._wake is not None:
            self._wake()
        return None

    # -- internals -----------------------------------------------------------------------

    async def _attach(self) -> TurnState:
        turns = self._turns
        if turns is None:
            raise RuntimeError("the client is not connected; use it with `async with`")
        approval = self._approval_timeout
        if self._continuation is not None:
            state = turns.adopt(self._continuation)
            if not isinstance(approval, Default):
                state.approval_timeout = approval
        else:
            assert self._turn_params is not None
            assert not isinstance(approval, Default)
            state = await turns.start(self._thread_id, self._turn_params, approval_timeout=approval)
        self._state = state
        self._thread_id, self._turn_id = state.thread_id, state.turn_id
        # Steps before state.dropped were handed out earlier and are gone.
        self._cursor = max(self._cursor, state.dropped)
        self._idle_since = turns.now()
        self._seen = state.progress
        return state

    def _next_step(self, state: TurnState) -> Step | None:
        steps = state.steps
        index = self._cursor - state.dropped
        if index >= len(steps):
            return None
        step = steps[index]
        self._cursor += 1
        if self._hand_out and (index + 1 == len(steps) or index + 1 >= _LET_GO_EVERY):
            # The caller has this step: the client keeps no step it handed out, so a long
            # turn streamed through chat() holds only what has not been taken yet.
            state.let_go(index + 1)
        return step

    async def _wait(self, state: TurnState) -> None:
        """Wait for the turn's next change; raise CodexTurnInactiveError (after parking the
        turn) when it stayed without progress for the inactivity timeout.

        The clock runs only while the caller waits (time spent on a step is not the turn's
        silence) and never while our handler decides a server request of the turn.
        """
        turns = self._turns
        assert turns is not None
        now = turns.now()
        if state.progress != self._seen:
            self._seen = state.progress
            self._idle_since = now
        timeout = self._timeout
        timed = timeout is not None and not state.busy
        if timed:
            assert timeout is not None
            deadline = self._idle_since + timeout
            if deadline <= now:
                self._go_inactive(state)
            self._deadline = deadline
            if self._watch_key is None:
                self._watch_key = turns.watch(self, deadline)
        self._expired = False
        wake, waiting = turns.next_change(state)
        self._wake = wake
        try:
            await waiting
        finally:
            self._wake = None
            self._deadline = None
            turns.stop_waiting(state, wake)
        if self._expired and state.progress == self._seen and not state.finished:
            self._go_inactive(state)

    def _go_inactive(self, state: TurnState) -> None:
        turns = self._turns
        assert turns is not None
        idle = turns.now() - self._idle_since
        cursor = self._cursor if self._hand_out else 0
        continuation = Continuation(state.thread_id, state.turn_id, cursor)
        self._stop_watching()
        self._done = True
        self._state = None
        turns.park(state)
        retry = self._last_retry = state.retry
        why = (
            f"; the server is retrying the model request: {retry.message}"
            if retry is not None
            else ""
        )
        raise CodexTurnInactiveError(
            f"turn {state.turn_id} made no progress for {idle:.1f} s (inactivity_timeout="
            f"{self._timeout:g}){why}. It is still running: pass the error's .continuation to "
            "chat()/chat_once() to keep waiting, or to cancel() to interrupt it.",
            continuation=continuation,
            idle_seconds=idle,
        )

    async def _finish(self, state: TurnState) -> None:
        self._release()
        if state.status == "failed":
            error = state.error or {}
            message = error.get("message")
            raise CodexTurnFailedError(
                message if isinstance(message, str) and message else "the turn failed",
                thread_id=state.thread_id,
                turn_id=state.turn_id,
                error_info=error.get("codexErrorInfo"),
            )
        text, source = await self._final_text(state)
        self._result = ChatResult(
            final_text=text,
            thread_id=state.thread_id,
            turn_id=state.turn_id,
            status=state.status,
            steps=tuple(state.steps),
            usage=state.usage,
            final_text_source=source,
            turn=state.completed_turn,
        )

    async def _final_text(self, state: TurnState) -> tuple[str | None, FinalTextSource | None]:
        text = state.live_final_text
        if text is not None:
            return text, "live"
        text = pick_final_text(as_dicts((state.completed_turn or {}).get("items")))
        if text is not None:
            return text, "turn_completed"
        if state.status != "completed" or self._turns is None:
            return None, None
        return await self._turns.read_back(state)

    def _stop_watching(self) -> None:
        self._deadline = None
        key, self._watch_key = self._watch_key, None
        if key is not None and self._turns is not None:
            self._turns.unwatch(key)

    def _release(self) -> None:
        self._done = True
        self._stop_watching()
        state, self._state = self._state, None
        if state is not None and self._turns is not None:
            self._turns.release(state)
