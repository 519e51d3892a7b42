"""The owner of every turn a client tracks: the anyio glue around the sans-I/O turn table.

:class:`~codex_app_server_client.protocol.TurnRouter` holds the tables and the rules (one
running turn per thread, one waiting caller per turn, who may forget a turn); this module does
the I/O around them, so that neither the stream nor ``cancel()`` reaches into the client:

- starting a turn (``thread/start`` or ``thread/resume``, then ``turn/start``), refusing an
  answer that lacks the ids the SDK needs and leaving no state behind when anything fails;
- waiting for a turn's next change (every waiter is woken by every change and by the end);
- the inactivity deadlines of waiting callers, kept by the connection's watchdog;
- the server's requests of a turn: while our handler decides, the turn is not silent;
  ``approval_timeout`` bounds the decision; ``cancel()`` answers them ``cancel``;
- ``cancel()`` itself, and reading a turn's final text back from the server.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Generator, Mapping
from contextlib import contextmanager
from typing import Any, Final

import anyio

from ._waiting import WaitKit, Wake, Watchdog, Watched
from .errors import (
    CodexProtocolError,
    CodexTimeoutError,
    CodexTransportError,
    CodexTurnCancelledError,
)
from .models import CancelResult, Continuation, FinalTextSource
from .protocol import ServerRequest, TurnRouter, TurnState, pick_final_text
from .protocol._turns import as_dict, as_dicts

__all__ = ["RequestHandling", "TurnRegistry"]

logger = logging.getLogger("codex_app_server_client.turns")

Request = Callable[[str, Mapping[str, Any], float | None], Awaitable[Any]]
"""Send one request and return its result: ``request(method, params, timeout)``."""

_READ_BACK_LIMIT: Final = 10


class RequestHandling:
    """One server request our handler is deciding: its time limit and how to stop it."""

    __slots__ = ("cancelled_by_turn", "scope", "timeout")

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.scope = anyio.CancelScope()
        self.cancelled_by_turn = False

    def cancel_for_turn(self) -> None:
        """``cancel()`` stopped the request's turn: stop the handler, answer ``cancel``."""
        self.cancelled_by_turn = True
        self.scope.cancel()


class TurnRegistry:
    """Owns the life of every tracked turn of one connection; the client creates one on
    entering and the turn streams and ``cancel()`` go through it."""

    def __init__(
        self,
        router: TurnRouter,
        request: Request,
        kit: WaitKit,
        watchdog: Watchdog,
        loaded_threads: set[str],
    ) -> None:
        self.router = router
        self._request = request
        self._kit = kit
        self._watchdog = watchdog
        self._loaded_threads = loaded_threads
        self.now: Callable[[], float] = kit.now
        """The event loop's clock (the one deadlines use)."""

    # -- starting and adopting -----------------------------------------------------------

    async def start(
        self, thread_id: str | None, params: dict[str, Any], *, approval_timeout: float | None
    ) -> TurnState:
        """Start a turn (on a new thread when ``thread_id`` is ``None``) and track it,
        attached to the caller.

        Raises:
            CodexError: the thread has a turn running, or being started, on this client.
            CodexProtocolError: the server refused, or answered without the ids needed.
        """
        if thread_id is None:
            started = await self._request("thread/start", {}, None)
            thread_id = _required_id(started, "thread", "thread/start")
        elif thread_id not in self._loaded_threads:
            await self._request(
                "thread/resume", {"threadId": thread_id, "excludeTurns": True}, None
            )
            self._loaded_threads.add(thread_id)  # in case the answer carried no thread
        router = self.router
        router.begin(thread_id, approval_timeout=approval_timeout)
        try:
            answer = await self._request("turn/start", {"threadId": thread_id, **params}, None)
            turn_id = _required_id(answer, "turn", "turn/start")
        except BaseException:
            router.abandon(thread_id)
            raise
        return router.bind(thread_id, turn_id, approval_timeout=approval_timeout)

    def adopt(self, continuation: Continuation) -> TurnState:
        """Attach a caller to a parked turn (see :meth:`TurnRouter.attach`)."""
        return self.router.attach(continuation.turn_id)

    # -- waiting -------------------------------------------------------------------------

    def next_change(self, state: TurnState) -> tuple[Wake, Awaitable[None]]:
        """A wait for the turn's next change: await the second item; the first ends the
        wait early (for an inactivity deadline). Call :meth:`stop_waiting` afterwards."""
        wake, waiting = self._kit.new_wait()
        state.add_waiter(wake)
        return wake, waiting

    def stop_waiting(self, state: TurnState, wake: Wake) -> None:
        """The wait from :meth:`next_change` is over, however it ended."""
        state.remove_waiter(wake)

    def watch(self, watched: Watched, deadline: float) -> int:
        """Have ``watched.deadline_reached`` called at ``deadline`` (see :class:`Watchdog`)."""
        return self._watchdog.arm(watched, deadline)

    def unwatch(self, key: int) -> None:
        """Drop a deadline :meth:`watch` set."""
        self._watchdog.disarm(key)

    # -- ends ----------------------------------------------------------------------------

    def park(self, state: TurnState) -> None:
        """The caller gave up waiting (inactivity): the turn stays, for its continuation."""
        self.router.detach(state)

    def release(self, state: TurnState) -> None:
        """The caller is done with the turn (its end, ``break``, ``aclose()``)."""
        self.router.release(state)

    def release_later(self, state: TurnState) -> None:
        """:meth:`release` from a finalizer (the tables are changed at the next operation)."""
        self.router.release_later(state)

    async def cancel(self, continuation: Continuation, timeout: float) -> CancelResult:
        """Interrupt a turn, wait up to ``timeout`` seconds in all for its end, and forget it.

        Pending server requests of the turn are answered ``cancel`` and their handlers
        stopped first. Every caller still waiting on the turn is woken: with the turn's end
        when the server confirmed it in time, else with :class:`CodexTurnCancelledError`.
        """
        router = self.router
        state = router.hold(continuation.turn_id)
        accepted = False
        try:
            stopping = [
                request_id
                for request_id, handling in state.pending_requests.items()
                if isinstance(handling, RequestHandling)
            ]
            for request_id in stopping:
                handling = state.pending_requests[request_id]
                assert isinstance(handling, RequestHandling)
                handling.cancel_for_turn()
            with anyio.move_on_after(timeout):
                # Their "cancel" answers go out before the interrupt, which would otherwise
                # make the server retire the requests unanswered.
                while any(r in state.pending_requests for r in stopping):
                    await self._next_change_of(state)
                if not state.finished:
                    try:
                        await self._request(
                            "turn/interrupt",
                            {"threadId": state.thread_id, "turnId": state.turn_id},
                            timeout,
                        )
                        accepted = True
                    except CodexProtocolError as exc:
                        # "no active turn to interrupt": it ended on its own meanwhile.
                        logger.debug("turn/interrupt refused: %s", exc)
                    except (CodexTimeoutError, CodexTransportError) as exc:
                        logger.info("turn/interrupt got no answer: %s", exc)
                while not state.finished:
                    await self._next_change_of(state)
            status = state.status if state.terminal else "inProgress"
            return CancelResult(
                status=status,
                interrupted=accepted and status == "interrupted",
                steps=tuple(state.steps_since(continuation.cursor)),
                thread_id=state.thread_id,
                turn_id=state.turn_id,
            )
        finally:
            router.unhold(
                state,
                CodexTurnCancelledError(
                    f"turn {state.turn_id} was cancelled by cancel() on this client, and the "
                    f"server had not confirmed its end within {timeout:g} s; the thread can "
                    "take a new turn",
                    thread_id=state.thread_id,
                    turn_id=state.turn_id,
                ),
            )

    async def _next_change_of(self, state: TurnState) -> None:
        wake, waiting = self.next_change(state)
        try:
            await waiting
        finally:
            self.stop_waiting(state, wake)

    def fail_all(self, error: BaseException) -> None:
        """The connection ended: every unfinished turn ends with ``error``."""
        self.router.fail_all(error)

    # -- server requests -----------------------------------------------------------------

    @contextmanager
    def handling(
        self, request: ServerRequest, default_timeout: float | None
    ) -> Generator[RequestHandling]:
        """Held while our handler decides ``request``: a request of a tracked turn belongs
        to it (the turn is not silent meanwhile, and takes the turn's ``approval_timeout``)."""
        turn_id = request.params.get("turnId")
        state = self.router.get(turn_id) if isinstance(turn_id, str) else None
        if state is None:
            # Perhaps its turn is being started and not named yet: it takes that turn's limit.
            thread_id = request.params.get("threadId")
            starting, timeout = (
                self.router.starting_approval_timeout(thread_id)
                if isinstance(thread_id, str)
                else (False, None)
            )
            yield RequestHandling(timeout if starting else default_timeout)
            return
        handling = RequestHandling(state.approval_timeout)
        state.request_started(request.request_id, handling)
        try:
            yield handling
        finally:
            state.request_finished(request.request_id)

    async def decide(
        self,
        request: ServerRequest,
        decide: Callable[[], Awaitable[Any]],
        fallback: Callable[[bool], Any],
        default_timeout: float | None,
    ) -> Any:
        """Run our handler's ``decide()`` for ``request`` as part of its turn.

        When the time limit runs out, or ``cancel()`` stops the turn, the handler is
        cancelled and ``fallback(cancelled)`` gives the fail-closed answer.
        """
        with self.handling(request, default_timeout) as handling:
            limit = math.inf if handling.timeout is None else handling.timeout
            with handling.scope, anyio.move_on_after(limit):
                return await decide()
            if not handling.cancelled_by_turn:
                logger.warning(
                    "no decision on the server request %s within approval_timeout=%g s; "
                    "answering with its safe default",
                    request.method,
                    limit,
                )
            return fallback(handling.cancelled_by_turn)

    # -- final text ----------------------------------------------------------------------

    async def read_back(self, state: TurnState) -> tuple[str | None, FinalTextSource | None]:
        """Last resort for the final text: ask the server for the turn's items.

        Raises:
            CodexTransportError: the connection ended meanwhile.
        """
        try:
            page = await self._request(
                "thread/turns/list",
                {"threadId": state.thread_id, "itemsView": "full", "limit": _READ_BACK_LIMIT},
                None,
            )
        except CodexProtocolError as exc:
            logger.debug("thread/turns/list unavailable (%s); trying thread/read", exc)
        else:
            for turn in as_dicts(as_dict(page).get("data")):
                if turn.get("id") == state.turn_id:
                    text = pick_final_text(as_dicts(turn.get("items")))
                    return (text, "thread_turns_list") if text is not None else (None, None)
            return None, None
        try:
            read = await self._request(
                "thread/read", {"threadId": state.thread_id, "includeTurns": True}, None
            )
        except CodexProtocolError:
            return None, None
        for turn in as_dicts(as_dict(as_dict(read).get("thread")).get("turns")):
            if turn.get("id") == state.turn_id:
                text = pick_final_text(as_dicts(turn.get("items")))
                return (text, "thread_read") if text is not None else (None, None)
        return None, None


def _required_id(answer: object, member: str, method: str) -> str:
    """``answer[member]["id"]``, or :class:`CodexProtocolError` saying it is missing."""
    value = as_dict(as_dict(answer).get(member)).get("id")
    if isinstance(value, str) and value:
        return value
    raise CodexProtocolError(
        f"the answer has no {member}.id ({answer!r:.200}); the server does not speak the "
        "protocol this SDK knows, so check that its version is supported",
        code=0,
        method=method,
    )
