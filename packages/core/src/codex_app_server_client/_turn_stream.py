"""TurnStream: one caller's wait on one turn, as an async iterator of steps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from ._connection import _copy_error  # pyright: ignore[reportPrivateUsage]
from .errors import (
    CodexProtocolError,
    CodexTransportError,
    CodexTurnFailedError,
    CodexTurnInactiveError,
)
from .models import ChatResult, Continuation, FinalTextSource, Step
from .protocol import TurnState, pick_final_text
from .protocol._turns import as_dict, as_dicts

if TYPE_CHECKING:
    from .client import CodexClient

__all__ = ["TurnStream"]

logger = logging.getLogger("codex_app_server_client.turns")

_LET_GO_EVERY = 1024
"""A stream that keeps falling behind still lets go of the steps it handed out this often."""


class TurnStream:
    """The steps of one turn as they complete: ``async for step in client.chat(...)``.

    Iteration yields one :class:`~codex_app_server_client.models.Step` per live
    ``item/completed`` of the turn, in order, and ends when the turn ends; a failed turn raises
    :class:`~codex_app_server_client.errors.CodexTurnFailedError` after its steps. Afterwards
    :attr:`result` holds the :class:`~codex_app_server_client.models.ChatResult`.

    If the turn stays silent for the inactivity timeout, iteration raises
    :class:`~codex_app_server_client.errors.CodexTurnInactiveError`; the turn keeps running and
    the error's ``continuation`` resumes it.

    Leaving the loop early (``break``) or calling :meth:`aclose` stops tracking the turn on this
    client (it is not interrupted on the server; use ``cancel`` for that). Use
    ``async with client.chat(...) as steps:`` to make that release explicit.
    """

    def __init__(
        self,
        client: CodexClient,
        *,
        turn_params: dict[str, Any] | None,
        thread_id: str | None,
        continuation: Continuation | None,
        inactivity_timeout: float | None,
        hand_out_steps: bool = True,
    ) -> None:
        self._client = client
        self._turn_params = turn_params
        self._thread_id = thread_id
        self._continuation = continuation
        self._timeout = inactivity_timeout
        self._hand_out = hand_out_steps
        self._state: TurnState | None = None
        self._cursor = continuation.cursor if continuation is not None else 0
        self._idle_since = 0.0
        self._seen: int = -1
        """The turn's activity count when the inactivity clock last restarted."""
        self._done = False
        self._result: ChatResult | None = None
        # Inactivity deadline, kept by the client's watchdog while a timed wait is under way.
        self._deadline: float | None = None
        self._watch_key: int | None = None
        self._wake: Callable[[], None] | None = None
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
        return self._state.thread_id if self._state is not None else self._thread_id

    @property
    def turn_id(self) -> str | None:
        """The turn, once ``turn/start`` has answered."""
        return self._state.turn_id if self._state is not None else None

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Step:
        if self._done:
            raise StopAsyncIteration
        state = self._state
        if state is None:
            state = await self._attach()
        while True:
            steps = state.steps
            held = len(steps)
            if held:
                index = self._cursor - state.dropped
                if index < held:
                    self._cursor += 1
                    step = steps[index]
                    if index >= _LET_GO_EVERY and self._hand_out:
                        state.let_go(index + 1)
                    return step
                if self._hand_out:
                    # The caller has taken every step: the client keeps none of them, so a
                    # long turn streamed through chat() holds only what has not been handed
                    # out yet.
                    state.let_go(held)
            if state.terminal:
                await self._finish(state)
                raise StopAsyncIteration
            if state.lost is not None:
                self._release()
                raise _fresh(state.lost)
            # Wait for the reader. Inline, not a helper coroutine or method: with many turns
            # in flight this runs once per event, and a frame per wait is a measurable share.
            kit = self._client._wait_kit  # pyright: ignore[reportPrivateUsage]
            now = kit.now()
            timeout = self._timeout
            if state.activity != self._seen:
                # New events since the last wait: the inactivity clock starts again now. It
                # runs only while the caller waits, so time spent on earlier steps is not
                # counted as the turn's silence.
                self._seen = state.activity
                self._idle_since = now
            self._expired = False
            # A turn waiting on our own handler (a human approving) is not inactive.
            timed = timeout is not None and state.client_requests == 0
            deadline = self._idle_since + timeout if timeout is not None else 0.0
            if timed and deadline <= now:
                self._park(state)
            wake, waiting = kit.new_wait()
            state.waker = wake
            if timed:
                self._deadline = deadline
                self._wake = wake
                if self._watch_key is None:
                    self._watch_key = self._client._watchdog.arm(self, deadline)  # pyright: ignore[reportPrivateUsage]
            try:
                await waiting
            finally:
                self._deadline = None
                self._wake = None
                if state.waker is wake:
                    state.waker = None
            if self._expired and state.activity == self._seen:
                self._expired = False
                self._park(state)

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
        # Breaking out of `async for` drops the stream; forgetting the turn is a plain table
        # update (no await), so it is safe here and frees the turn at once.
        self._release()

    # -- internals -----------------------------------------------------------------------

    async def _attach(self) -> TurnState:
        client = self._client
        if self._continuation is not None:
            state = client._adopt(self._continuation)  # pyright: ignore[reportPrivateUsage]
        else:
            assert self._turn_params is not None
            state = await client._start_turn(self._thread_id, self._turn_params)  # pyright: ignore[reportPrivateUsage]
        self._state = state
        # Steps before state.dropped were handed out earlier and are gone.
        self._cursor = max(self._cursor, state.dropped)
        self._idle_since = client._wait_kit.now()  # pyright: ignore[reportPrivateUsage]
        self._seen = state.activity
        return state

    def deadline_reached(self, now: float) -> float | None:
        """Called by the client's watchdog when this stream's watched deadline falls due."""
        deadline = self._deadline
        if deadline is None:
            self._watch_key = None  # not waiting now; the next timed wait arms again
            return None
        if deadline > now:
            return deadline  # events moved the deadline on; check again then
        self._watch_key = None
        self._expired = True
        wake = self._wake
        if wake is not None:
            wake()
        return None

    def _park(self, state: TurnState) -> None:
        idle = self._client._wait_kit.now() - self._idle_since  # pyright: ignore[reportPrivateUsage]
        assert state.turn_id is not None
        cursor = self._cursor if self._hand_out else 0
        continuation = Continuation(state.thread_id, state.turn_id, cursor)
        self._done = True
        key, self._watch_key = self._watch_key, None
        if key is not None:
            self._client._watchdog.disarm(key)  # pyright: ignore[reportPrivateUsage]
        self._client._park(state)  # pyright: ignore[reportPrivateUsage]
        self._state = None
        raise CodexTurnInactiveError(
            f"turn {state.turn_id} produced no event for {idle:.1f} s (inactivity_timeout="
            f"{self._timeout:g}); it is still running. Pass the error's .continuation to "
            "chat()/chat_once() to keep waiting, or to cancel() to interrupt it.",
            continuation=continuation,
            idle_seconds=idle,
        )

    async def _finish(self, state: TurnState) -> None:
        self._release()
        assert state.turn_id is not None
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
        if state.status != "completed":
            return None, None
        return await self._read_back(state)

    async def _read_back(self, state: TurnState) -> tuple[str | None, FinalTextSource | None]:
        """Last resort: ask the server for the turn's items."""
        client = self._client
        try:
            page = await client._request(  # pyright: ignore[reportPrivateUsage]
                "thread/turns/list",
                {"threadId": state.thread_id, "itemsView": "full", "limit": 10},
            )
            for turn in as_dicts(as_dict(page).get("data")):
                if turn.get("id") == state.turn_id:
                    text = pick_final_text(as_dicts(turn.get("items")))
                    return (text, "thread_turns_list") if text is not None else (None, None)
            return None, None
        except CodexProtocolError as exc:
            logger.debug("thread/turns/list unavailable (%s); trying thread/read", exc)
        except CodexTransportError:
            return None, None
        try:
            read = await client._request(  # pyright: ignore[reportPrivateUsage]
                "thread/read", {"threadId": state.thread_id, "includeTurns": True}
            )
        except (CodexProtocolError, CodexTransportError):
            return None, None
        for turn in as_dicts(as_dict(as_dict(read).get("thread")).get("turns")):
            if turn.get("id") == state.turn_id:
                text = pick_final_text(as_dicts(turn.get("items")))
                return (text, "thread_read") if text is not None else (None, None)
        return None, None

    def _release(self) -> None:
        if self._done and self._state is None:
            return
        self._done = True
        self._deadline = None
        key, self._watch_key = self._watch_key, None
        if key is not None:
            self._client._watchdog.disarm(key)  # pyright: ignore[reportPrivateUsage]
        state, self._state = self._state, None
        if state is not None:
            self._client._release(state)  # pyright: ignore[reportPrivateUsage]


def _fresh(error: BaseException) -> BaseException:
    return _copy_error(error) if isinstance(error, CodexTransportError) else error
