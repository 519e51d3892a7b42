"""The async connection: anyio glue between a transport and the sans-I/O JSON-RPC engine.

One reader task feeds every received message to :class:`JsonRpcConnection` and dispatches the
event: answers wake their waiting request, notifications go to the listeners (synchronously,
so they must not block), server requests each run their handler in a task of their own so a
slow handler (a human approving a command) never stalls the reader.

When the transport ends, breaks (with any exception at all: a plugin's bug is logged with its
traceback and treated as a broken connection), or the connection is closed, every waiting
request fails at once with :class:`CodexTransportError`, and so does every later call.

The connection's own tasks (reader, watchdog, handlers) each run in a cancel scope of their
own, so closing stops exactly them and never the task group's host: ``aclose()`` is safe
from any task, the host's included.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

import anyio
import anyio.abc

from ._waiting import WaitKit, Wake, Watchdog
from ._wire_log import WireTap
from .errors import (
    CodexProtocolError,
    CodexServerRequestError,
    CodexTimeoutError,
    CodexTransportError,
)
from .protocol import (
    ErrorResponse,
    Event,
    JsonRpcConnection,
    Malformed,
    Notification,
    Response,
    ServerRequest,
)
from .transport import SupportsReceiveBatch, Transport

__all__ = ["Connection", "ServerRequestError", "copy_error"]

logger = logging.getLogger("codex_app_server_client.connection")

OVERLOADED: Final = -32001
"""The app-server's error code for "Server overloaded; retry later."."""

METHOD_NOT_FOUND: Final = -32601
INTERNAL_ERROR: Final = -32603

CLOSE_TIMEOUT: Final = 10.0
"""Upper bound on closing the transport; transports bound themselves, this is a backstop."""


ServerRequestError = CodexServerRequestError
"""The internal name of :class:`~codex_app_server_client.errors.CodexServerRequestError`."""


_E = TypeVar("_E", bound=BaseException)

NotificationListener = Callable[[Notification], object]
NotificationRoute = Callable[[str, dict[str, Any]], object]
"""The owner's own handler of every notification, given its method and params."""
ServerRequestHandler = Callable[[ServerRequest], Awaitable[Any]]
CloseListener = Callable[[CodexTransportError], None]


class _Slot:
    """Where the reader leaves the answer to one request, and wakes its caller."""

    __slots__ = ("__weakref__", "answer", "expired", "sending", "wake")

    def __init__(self, wake: Wake) -> None:
        self.wake = wake
        self.answer: Response | ErrorResponse | None = None
        self.expired = False
        self.sending: anyio.CancelScope | None = None
        """The scope of the send while it is under way, for the watchdog to cut it short."""

    def deadline_reached(self, now: float) -> float | None:
        """The request timeout passed (called by the connection's watchdog)."""
        self.expired = True
        if self.sending is not None:
            self.sending.cancel()  # a send stuck on a server that stopped reading
        self.wake()
        return None


class Connection:
    """A live JSON-RPC session over one transport. Create, then :meth:`start` in a task group."""

    def __init__(
        self,
        transport: Transport,
        *,
        on_server_request: ServerRequestHandler | None = None,
        route: NotificationRoute | None = None,
        overload_retries: int = 4,
        overload_backoff: float = 0.05,
        wire_tap: WireTap | None = None,
    ) -> None:
        self._transport = transport
        self._tap = wire_tap
        self._engine = JsonRpcConnection()
        self._slots: dict[int, _Slot] = {}
        # The owner's route, called first for every notification with (method, params): no
        # Notification object is made per event unless someone listens for those.
        self._route = route
        # A tuple, replaced on (rare) subscription changes, so dispatching a notification
        # needs no copy and a listener may unsubscribe while being called.
        self._listeners: tuple[NotificationListener, ...] = ()
        # What the reader calls per notification (route and listeners, each guarded);
        # rebuilt when listeners change.
        self._deliver: NotificationRoute = _ignore
        self._set_listeners(())
        self._close_listeners: list[CloseListener] = []
        self._on_server_request = on_server_request
        self._closed: CodexTransportError | None = None
        self._task_group: anyio.abc.TaskGroup | None = None
        self._task_scopes: list[anyio.CancelScope] = []
        """Scopes of the reader and the watchdog, cancelled on close."""
        self._handler_scopes: dict[object, anyio.CancelScope] = {}
        self._overload_retries = overload_retries
        self._overload_backoff = overload_backoff
        self.wait_kit = WaitKit()
        """The running loop's clock and wake-ups (so create the connection inside the loop)."""
        self.watchdog = Watchdog(self.wait_kit.now)
        """Request and turn-inactivity deadlines; :meth:`start` runs it."""

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, task_group: anyio.abc.TaskGroup) -> None:
        """Start the reader; server-request handlers will also run in ``task_group``."""
        self._task_group = task_group
        task_group.start_soon(self._own, self.watchdog.run, name="codex_app_server_client watchdog")
        task_group.start_soon(self._own, self._read_loop, name="codex_app_server_client reader")

    async def _own(self, run: Callable[[], Awaitable[None]]) -> None:
        """Run one of the connection's tasks in a scope that closing cancels."""
        with anyio.CancelScope() as scope:
            self._task_scopes.append(scope)
            if self._closed is not None:
                scope.cancel()
            await run()

    @property
    def closed(self) -> bool:
        """Whether the connection has ended (by close, end of stream or failure)."""
        return self._closed is not None

    @property
    def pending_requests(self) -> int:
        """How many requests are waiting for an answer."""
        return len(self._slots)

    def add_listener(self, listener: NotificationListener) -> Callable[[], None]:
        """Call ``listener`` for every notification; returns a function that removes it.

        Listeners run in the reader task, in the order messages arrive: they must return
        quickly and not block. An exception in a listener is logged and does not affect the
        connection.
        """
        self._set_listeners((*self._listeners, listener))

        def remove() -> None:
            listeners = list(self._listeners)
            if listener in listeners:
                listeners.remove(listener)
                self._set_listeners(tuple(listeners))

        return remove

    def _set_listeners(self, listeners: tuple[NotificationListener, ...]) -> None:
        self._listeners = listeners
        route = self._route
        # Rebuilt per subscription change, so the usual case (a route and nobody else) costs
        # one guarded call per event. A failing route or listener is logged and the batch
        # carries on.
        routed = _ignore if route is None else _guarded(route)
        if not listeners:
            self._deliver = routed
            return

        def deliver(method: str, params: dict[str, Any]) -> None:
            routed(method, params)
            note = Notification(method, params)
            for listener in listeners:
                try:
                    listener(note)
                except Exception:
                    logger.exception("notification listener failed on %s", method)

        self._deliver = deliver

    def add_close_listener(self, listener: CloseListener) -> None:
        """Call ``listener`` once, with the error, when the connection ends."""
        self._close_listeners.append(listener)

    async def aclose(self, reason: str = "the client was closed") -> None:
        """Fail everything still waiting, stop the connection's own tasks (reader, watchdog,
        server-request handlers) and close the transport. Safe from any task, also from a
        handler of this connection; only the connection's tasks are cancelled."""
        self._fail_all(CodexTransportError(f"{reason}; open a new client to continue"))
        for scope in self._task_scopes:
            scope.cancel()
        for scope in list(self._handler_scopes.values()):
            scope.cancel()
        with anyio.CancelScope(shield=True), anyio.move_on_after(CLOSE_TIMEOUT):
            try:
                await self._transport.aclose()
            except Exception:
                logger.exception("closing the transport failed")

    # -- requests --------------------------------------------------------------------------

    async def request(self, method: str, params: Mapping[str, Any] | None, timeout: float) -> Any:
        """Send a request and wait for its result.

        ``-32001`` (server overloaded) answers are retried with exponential backoff and
        jitter, up to the configured number of retries; ``timeout`` bounds each attempt.

        Raises:
            CodexProtocolError: the server answered with a JSON-RPC error.
            CodexTimeoutError: no answer within ``timeout`` seconds.
            CodexTransportError: the connection ended before the answer came.
        """
        attempt = 0
        while True:
            answer = await self._request_once(method, params, timeout)
            if isinstance(answer, Response):
                return answer.result
            if answer.code == OVERLOADED and attempt < self._overload_retries:
                delay = self._overload_backoff * (2**attempt)
                attempt += 1
                logger.debug("%s: server overloaded, retry %d in %.3fs", method, attempt, delay)
                await anyio.sleep(delay * random.uniform(0.5, 1.5))
                continue
            raise CodexProtocolError(
                answer.message, code=answer.code, data=answer.data, method=method
            )

    async def _request_once(
        self, method: str, params: Mapping[str, Any] | None, timeout: float
    ) -> Response | ErrorResponse:
        self._raise_if_closed()
        kit, watchdog = self.wait_kit, self.watchdog
        request_id, data = self._engine.send_request(method, params)
        wake, answered = kit.new_wait()
        slot = _Slot(wake)
        self._slots[request_id] = slot
        deadline = kit.now() + timeout
        key = watchdog.arm(slot, deadline)
        # A server that stops reading leaves the send stuck on a full pipe or socket; the
        # request timeout bounds that part too (the watchdog cancels this scope), or the
        # caller would wait forever. A scope without a deadline of its own costs half as
        # much as one with a timer.
        scope = slot.sending = anyio.CancelScope()
        sent = False
        try:
            with scope:
                await self._send(data)
                sent = True
            slot.sending = None
            if slot.answer is None and not scope.cancelled_caught and self._closed is None:
                await answered
        finally:
            del self._slots[request_id]
            if not slot.expired:
                watchdog.disarm(key)
            if slot.answer is None:
                self._engine.forget(request_id)
        if slot.answer is not None:
            return slot.answer
        self._raise_if_closed()
        if not sent:
            raise CodexTimeoutError(
                f"{method} got no answer within {timeout:g} s: it could not even be sent in "
                "that time, because the server is not reading what this client sends. Check "
                "that the server is alive and responsive, or open a new client."
            )
        raise CodexTimeoutError(
            f"{method} got no answer within {timeout:g} s; the server may be busy or may have "
            "dropped the request. Retry, or pass a larger timeout= (or request_timeout= to "
            "the client)."
        )

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        """Send a notification (no answer expected)."""
        self._raise_if_closed()
        await self._send(self._engine.send_notification(method, params))

    async def _send(self, data: bytes) -> None:
        if self._tap is not None:
            self._tap.sent(data)
        try:
            await self._transport.send(data)
        except CodexTransportError as exc:
            self._fail_all(exc)
            raise
        except Exception as exc:
            if not isinstance(exc, _TRANSPORT_FAILURES):
                logger.error("the transport's send raised outside its contract", exc_info=exc)
            error = CodexTransportError(f"sending to the app-server failed: {exc!r}")
            self._fail_all(error)
            raise error from exc

    def _raise_if_closed(self) -> None:
        if self._closed is not None:
            raise copy_error(self._closed)

    # -- reading ---------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        """Read and dispatch until the connection ends: batch after batch (one await per
        chunk the transport read, not per message) when the transport can, else message
        after message. Any exception from the transport ends the connection for every
        waiter with :class:`CodexTransportError`."""
        transport = self._transport
        try:
            if isinstance(transport, SupportsReceiveBatch):
                while True:
                    self._dispatch_batch(await transport.receive_batch())
            else:
                while True:
                    self._dispatch_batch([await transport.receive()])
        except Exception as exc:
            if not isinstance(exc, (anyio.EndOfStream, *_TRANSPORT_FAILURES)):
                logger.error("the transport's receive raised outside its contract", exc_info=exc)
            self._fail_all(_read_failure(exc))

    def _dispatch_batch(self, batch: list[bytes]) -> None:
        tap = self._tap
        if tap is not None:
            for data in batch:
                tap.received(data)
        self._engine.receive_batch(batch, self._deliver, self._dispatch_other)

    def _dispatch_other(self, event: Event) -> None:
        if isinstance(event, Response | ErrorResponse):
            slot = self._slots.get(event.request_id)
            if slot is not None:
                slot.answer = event
                slot.wake()
        elif isinstance(event, ServerRequest):
            assert self._task_group is not None
            self._task_group.start_soon(self._answer_server_request, event)
        elif isinstance(event, Malformed):
            _log_malformed(event)

    @property
    def handling_server_requests(self) -> int:
        """How many server requests are being handled right now."""
        return len(self._handler_scopes)

    def retire(self, request_id: object) -> None:
        """The server no longer needs an answer to ``request_id``: stop its handler, send none.

        Called on ``serverRequest/resolved`` (the turn ended, was interrupted, or another client
        answered). A late answer would be harmless, but the handler may be waiting on a human.
        """
        scope = self._handler_scopes.get(request_id)
        if scope is not None:
            scope.cancel()

    async def _answer_server_request(self, request: ServerRequest) -> None:
        with anyio.CancelScope() as scope:
            self._handler_scopes[request.request_id] = scope
            try:
                data = await self._run_handler(request)
            finally:
                self._handler_scopes.pop(request.request_id, None)
        if scope.cancelled_caught:
            logger.debug("server request %s was retired before it was answered", request.method)
            return
        if self._closed is not None:
            return
        try:
            await self._send(data)
        except CodexTransportError:
            logger.debug("could not answer %s: connection closed", request.method)

    async def _run_handler(self, request: ServerRequest) -> bytes:
        handler = self._on_server_request
        try:
            if handler is None:
                raise ServerRequestError(
                    METHOD_NOT_FOUND, f"this client does not handle {request.method!r}"
                )
            result = await handler(request)
        except ServerRequestError as exc:
            return self._engine.send_error(request.request_id, exc.code, exc.message, exc.data)
        except Exception as exc:
            logger.exception("handler for server request %s failed", request.method)
            return self._engine.send_error(
                request.request_id, INTERNAL_ERROR, f"client handler failed: {exc!r}"
            )
        else:
            try:
                data = self._engine.send_result(request.request_id, result)
            except TypeError as exc:
                logger.error("handler for %s returned an unencodable result", request.method)
                data = self._engine.send_error(
                    request.request_id, INTERNAL_ERROR, f"client handler result invalid: {exc}"
                )
        return data

    def _fail_all(self, error: CodexTransportError) -> None:
        if self._closed is not None:
            return
        self._closed = error
        for slot in self._slots.values():
            slot.wake()
        for listener in self._close_listeners:
            try:
                listener(error)
            except Exception:
                logger.exception("close listener failed")


_TRANSPORT_FAILURES = (
    CodexTransportError,
    OSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
)
"""How a transport may fail (besides ``anyio.EndOfStream`` for a clean end); anything else is
a bug in the transport, logged with its traceback, and still ends the connection."""


def _read_failure(exc: BaseException) -> CodexTransportError:
    """The error every waiter gets when reading ended with ``exc``."""
    if isinstance(exc, CodexTransportError):
        return exc
    if isinstance(exc, anyio.EndOfStream):
        return CodexTransportError(
            "the app-server closed the connection; open a new client to continue"
        )
    if isinstance(exc, _TRANSPORT_FAILURES):
        return CodexTransportError(f"the connection to the app-server broke: {exc!r}")
    return CodexTransportError(
        f"the transport failed unexpectedly ({exc!r}); that is a bug in the transport plugin "
        "(its traceback is logged): report it there, and open a new client to continue"
    )


def _ignore(method: str, params: dict[str, Any]) -> None:
    """The reader's notification hook while nobody listens."""


def _guarded(route: NotificationRoute) -> NotificationRoute:
    """``route``, with its failures logged instead of raised (the batch carries on)."""

    def routed(method: str, params: dict[str, Any]) -> None:
        try:
            route(method, params)
        except Exception:
            logger.exception("routing the notification %s failed", method)

    return routed


def copy_error(error: _E) -> _E:
    """A copy of ``error`` (same class, args and attributes) for one more waiter to raise.

    Each waiter raises its own instance, so tracebacks of concurrent waiters don't mix.
    """
    copy = type(error).__new__(type(error))
    copy.args = error.args
    copy.__dict__.update(error.__dict__)
    copy.__cause__ = error.__cause__
    return copy


def _log_malformed(event: Malformed) -> None:
    preview = event.data[:200]
    logger.warning("ignoring a message from the server: %s: %r", event.reason, preview)
