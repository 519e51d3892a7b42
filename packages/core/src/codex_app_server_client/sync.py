"""A blocking ``CodexClient`` for scripts, REPLs and Jupyter notebooks.

Same constructor, same method names and the same exceptions as the async
:class:`codex_app_server_client.CodexClient`; ``with`` instead of ``async with`` and plain
iterators instead of async iterators::

    from codex_app_server_client.sync import CodexClient

    with CodexClient("stdio://") as client:
        print(client.chat_once("Summarise this repository.").final_text)
        for step in client.chat("Which files did you read?"):
            print(step.item_type, step.text)

The async client runs on an event loop in a thread of its own (an anyio blocking portal), so
the blocking calls work from any thread, including one that already runs an event loop
(Jupyter). See ``docs/sync.md``.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import CancelledError, Future
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from functools import cached_property
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    Literal,
    ParamSpec,
    Self,
    TypeAlias,
    TypeVar,
    cast,
    overload,
)

import anyio
import anyio.to_thread
from anyio.abc import TaskStatus
from anyio.from_thread import BlockingPortal, start_blocking_portal

from . import models
from ._sync_proxy import Runner, SyncIterator, SyncProxy, blocking
from ._sync_requests import SyncTypedRequests
from .client import CodexClient as AsyncCodexClient
from .client import ServerRequestHandler as AsyncServerRequestHandler
from .client import TurnStream as AsyncTurnStream
from .errors import CodexError, CodexTransportError
from .models import (
    ApprovalDecision,
    ApprovalRequest,
    AttestationRequest,
    AuthTokenRefreshRequest,
    AuthTokens,
    ChatResult,
    CommandApprovalRequest,
    DynamicToolCallRequest,
    DynamicToolResult,
    ElicitationAction,
    FileChangeApprovalRequest,
    LegacyExecApprovalRequest,
    LegacyPatchApprovalRequest,
    McpElicitationRequest,
    McpElicitationResponse,
    PermissionsApprovalRequest,
    PermissionsGrant,
    RetryNotice,
    ReviewDecision,
    Step,
    UserInputRequest,
)
from .protocol import Notification, ServerRequest
from .transport import Transport

if TYPE_CHECKING:
    from ._sync_wrappers import (
        Account,
        Command,
        Config,
        Fs,
        Mcp,
        Models,
        Review,
        Skills,
        Threads,
        Turns,
    )
    from .plugins import PluginManager

__all__ = [
    "ApprovalHandler",
    "Backend",
    "CodexClient",
    "Handler",
    "ServerRequestHandlers",
    "SyncIterator",
    "TurnStream",
]

_Req = TypeVar("_Req")
_Ans = TypeVar("_Ans")
R = TypeVar("R")
P = ParamSpec("P")

Backend: TypeAlias = Literal["asyncio", "trio"]
"""The event loop the client's portal thread runs."""

Handler: TypeAlias = Callable[[_Req], _Ans | Awaitable[_Ans]]
"""A handler of a server request: a plain function (run in a worker thread, so it may block,
e.g. on ``input()``) or an ``async def`` function (run on the client's event loop; it must not
block)."""

ApprovalHandler: TypeAlias = Handler[ApprovalRequest, ApprovalDecision | str | Mapping[str, Any]]
"""``def handler(request) -> decision`` (or ``async def``): an
:class:`~codex_app_server_client.models.ApprovalDecision` or its wire string."""

_ReviewAnswer: TypeAlias = ReviewDecision | ApprovalDecision | str | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ServerRequestHandlers:
    """:class:`codex_app_server_client.models.ServerRequestHandlers` with blocking handlers.

    The same slots, answers and safe defaults; each handler may be a plain function (run in a
    worker thread, so it may block waiting for a human) or an ``async def`` function (run on
    the client's event loop). The async kind is also accepted as is.
    """

    command_approval: (
        Handler[CommandApprovalRequest, ApprovalDecision | str | Mapping[str, Any]] | None
    ) = None
    file_change_approval: Handler[FileChangeApprovalRequest, ApprovalDecision | str] | None = None
    permissions_approval: (
        Handler[PermissionsApprovalRequest, PermissionsGrant | Mapping[str, Any]] | None
    ) = None
    user_input: Handler[UserInputRequest, Mapping[str, Any]] | None = None
    mcp_elicitation: (
        Handler[
            McpElicitationRequest,
            ElicitationAction | str | McpElicitationResponse | Mapping[str, Any],
        ]
        | None
    ) = None
    dynamic_tool_call: (
        Handler[DynamicToolCallRequest, DynamicToolResult | str | Mapping[str, Any]] | None
    ) = None
    auth_token_refresh: Handler[AuthTokenRefreshRequest, AuthTokens | Mapping[str, Any]] | None = (
        None
    )
    attestation: Handler[AttestationRequest, str | Mapping[str, Any]] | None = None
    legacy_exec_approval: Handler[LegacyExecApprovalRequest, _ReviewAnswer] | None = None
    legacy_patch_approval: Handler[LegacyPatchApprovalRequest, _ReviewAnswer] | None = None


def _is_async(handler: object) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


def _to_async(handler: Handler[_Req, _Ans]) -> Callable[[_Req], Awaitable[_Ans]]:
    """An async handler for the async client: as is, or a plain one run in a worker thread."""
    if _is_async(handler):
        return cast("Callable[[_Req], Awaitable[_Ans]]", handler)

    async def in_worker_thread(request: _Req) -> _Ans:
        # abandon_on_cancel: when the server retires the request (or the client closes), the
        # client does not wait for a thread it cannot stop; the handler's late answer is lost.
        answer = await anyio.to_thread.run_sync(handler, request, abandon_on_cancel=True)
        if inspect.isawaitable(answer):  # e.g. a lambda that returns a coroutine
            return await cast("Awaitable[_Ans]", answer)
        return cast("_Ans", answer)

    in_worker_thread.__qualname__ = getattr(handler, "__qualname__", repr(handler))
    return in_worker_thread


def _async_handlers(
    handlers: ServerRequestHandlers | models.ServerRequestHandlers | None,
) -> models.ServerRequestHandlers | None:
    if handlers is None:
        return None
    slots = {
        slot.name: _to_async(value)
        for slot in fields(handlers)
        if (value := getattr(handlers, slot.name)) is not None
    }
    return models.ServerRequestHandlers(**slots)


_State: TypeAlias = Literal["new", "open", "closed"]


class _Loop:
    """The event loop thread of one sync client: the :class:`Runner` of the client and of
    every blocking view, iterator and stream it hands out.

    ``portal``, ``thread`` and ``state`` are set by the client's ``open()``/``close()`` (under
    its lock); the methods may be called from any thread.
    """

    __slots__ = ("portal", "state", "thread")

    def __init__(self) -> None:
        self.portal: BlockingPortal | None = None
        self.thread: int | None = None
        """The loop thread's ident, once the loop runs the client."""
        self.state: _State = "new"

    def on_loop_thread(self) -> bool:
        """Whether the calling thread is the loop's own."""
        return threading.get_ident() == self.thread

    def require_portal(self) -> BlockingPortal:
        """The portal, for a blocking call from the calling thread; raises when there is none
        (not opened, closed) or when the caller is the loop thread itself."""
        portal = self.portal
        if portal is None or self.state != "open":
            if self.state == "new":
                raise RuntimeError("the client is not connected; use it with `with` or open()")
            raise CodexTransportError(
                "this CodexClient is closed; create a new one to talk to the server again"
            )
        if self.on_loop_thread():
            raise CodexError(
                "a blocking CodexClient method was called on the client's own event loop "
                "thread (from a notification listener or an async handler), where it would "
                "wait for itself forever; make the handler a plain function (it then runs in "
                "a worker thread) or use the async client's methods there"
            )
        return portal

    def run(self, func: Callable[[], Awaitable[R]]) -> R:
        """Run ``func()`` on the client's loop and block until it is done.

        An interrupt of the waiting thread (Ctrl-C, the notebook's stop button) cancels the
        call on the loop too, so nothing keeps running behind the caller's back.
        """
        portal = self.require_portal()
        unwound = threading.Event()

        async def call() -> R:
            try:
                return await func()
            finally:
                unwound.set()

        future = portal.start_task_soon(call)
        try:
            return future.result()
        except BaseException:
            if not future.done() and future.cancel():
                # Return only once the call has unwound on the loop (a cancelled chat_once
                # has released its turn); a second interrupt stops this wait too.
                unwound.wait()
            raise

    def schedule(self, func: Callable[[], Awaitable[object]]) -> None:
        """Run ``func()`` on the loop for a finalizer (``__del__``); never raises.

        Waits for it, so a stream dropped after ``break`` has freed its turn when the next
        line runs, as with the async client.
        """
        portal = self.portal
        if portal is None or self.on_loop_thread():
            return  # closed: nothing left to free; on the loop: objects free themselves there
        with contextlib.suppress(Exception):  # e.g. the portal stopped meanwhile
            portal.start_task_soon(func).result()


class _streaming(Generic[P]):
    """``chat = _streaming(AsyncCodexClient.chat)``: the same parameters, a blocking stream."""

    def __init__(
        self, method: Callable[Concatenate[AsyncCodexClient, P], AsyncTurnStream], doc: str
    ) -> None:
        self._method = method
        self.__doc__ = doc

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: CodexClient, owner: type[Any]) -> Callable[P, TurnStream]: ...
    def __get__(self, obj: CodexClient | None, owner: type[Any]) -> Self | Callable[P, TurnStream]:
        if obj is None:
            return self
        method = self._method

        def chat(*args: P.args, **kwargs: P.kwargs) -> TurnStream:
            # Argument checks (ValueError, TypeError) happen here, in the caller's thread:
            # building the async stream sends nothing and touches no loop state.
            return TurnStream(method(obj.wrapped, *args, **kwargs), obj.runner)

        chat.__doc__ = self.__doc__
        return chat


class CodexClient(SyncProxy[AsyncCodexClient], SyncTypedRequests):
    """A blocking client for one ``codex app-server`` connection.

    Use it as a context manager (``with CodexClient(...) as client:``), or call :meth:`open`
    and :meth:`close` yourself (handy across notebook cells). Every method blocks the calling
    thread until the answer is there; the connection itself lives on an event loop in a
    thread of its own, so calls may come from any thread, including one that runs an event
    loop already (Jupyter).

    Args:
        target: as for the async :class:`codex_app_server_client.CodexClient`, and so are
            ``request_timeout``, ``inactivity_timeout``, ``approval_timeout``, ``client_info``,
            ``experimental_api``, ``opt_out_notifications``, ``plugin_manager``, ``wire_log``,
            ``overload_retries``, ``overload_backoff`` and ``**transport_options``.
        approval_handler: answers command and file-change approvals: a plain function (run in
            a worker thread, so it may block, e.g. on ``input()``) or an ``async def``
            function (run on the client's loop; it must not block).
        server_request_handlers: one handler per kind of server request, plain or async as
            above (:class:`ServerRequestHandlers`, or the async
            :class:`~codex_app_server_client.models.ServerRequestHandlers`).
        backend: the event loop of the client's thread, ``"asyncio"`` (default) or
            ``"trio"``.
        backend_options: passed to ``anyio.run`` for that loop (e.g. ``{"use_uvloop":
            True}``).
        portal: run on this already started anyio ``BlockingPortal`` (its loop, its thread)
            instead of starting one; several clients may share one. The caller keeps it
            running until the client is closed and stops it afterwards; ``backend`` and
            ``backend_options`` are then ignored.
    """

    def __init__(
        self,
        target: str | Transport = "stdio://",
        *,
        request_timeout: float = 30.0,
        inactivity_timeout: float | None = 180.0,
        approval_timeout: float | None = None,
        approval_handler: ApprovalHandler | None = None,
        server_request_handlers: ServerRequestHandlers | models.ServerRequestHandlers | None = None,
        client_info: Mapping[str, str] | None = None,
        experimental_api: bool = False,
        opt_out_notifications: Sequence[str] | None = None,
        plugin_manager: PluginManager | None = None,
        wire_log: bool = False,
        overload_retries: int = 4,
        overload_backoff: float = 0.05,
        backend: Backend = "asyncio",
        backend_options: Mapping[str, Any] | None = None,
        portal: BlockingPortal | None = None,
        **transport_options: Any,
    ) -> None:
        self._approval_handler = approval_handler
        self._server_request_handlers = server_request_handlers
        target_client = AsyncCodexClient(
            target,
            request_timeout=request_timeout,
            inactivity_timeout=inactivity_timeout,
            approval_timeout=approval_timeout,
            approval_handler=None if approval_handler is None else _to_async(approval_handler),
            server_request_handlers=_async_handlers(server_request_handlers),
            client_info=client_info,
            experimental_api=experimental_api,
            opt_out_notifications=opt_out_notifications,
            plugin_manager=plugin_manager,
            wire_log=wire_log,
            overload_retries=overload_retries,
            overload_backoff=overload_backoff,
            **transport_options,
        )
        self._loop = _Loop()
        super().__init__(target_client, self._loop)
        self.backend = backend
        self._backend_options = dict(backend_options or {})
        self._given_portal = portal
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._owner: Future[None] | None = None
        self._stop: anyio.Event | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<sync {self._target!r}>"

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> Self:
        """Connect and perform the handshake; what ``with`` does on entry.

        Call :meth:`close` when done (``with`` does it for you). Raises what the async client
        raises on entry (e.g. ``CodexTransportError`` when the server cannot be reached).
        """
        loop = self._loop
        with self._lock:
            if loop.state != "new":
                raise RuntimeError("this CodexClient was already opened; create a new one")
            loop.state = "open"
        try:
            if self._given_portal is not None:
                portal = self._given_portal
            else:
                self._portal_cm = start_blocking_portal(self.backend, self._backend_options)
                portal = self._portal_cm.__enter__()
            loop.portal = portal
            # One task enters and leaves the async client (DESIGN.md: same task), waiting in
            # between for close(); every call runs as its own task beside it.
            self._owner, _ = portal.start_task(self._own, name=f"owner of {self!r}")
        except BaseException:
            self._shutdown_portal()
            loop.state = "closed"
            raise
        return self

    async def _own(self, *, task_status: TaskStatus[None]) -> None:
        self._loop.thread = threading.get_ident()
        async with self._target:
            self._stop = anyio.Event()
            task_status.started()
            await self._stop.wait()

    def close(self) -> None:
        """Close the connection and stop the client's loop thread; idempotent.

        Requests and turns still waiting (in other threads) fail with
        :class:`~codex_app_server_client.errors.CodexTransportError`; later calls raise it.
        """
        loop = self._loop
        with self._lock:
            if loop.state != "open":
                loop.state = "closed"
                return
            loop.state = "closed"
        portal, owner, stop = loop.portal, self._owner, self._stop
        try:
            if portal is not None and owner is not None and stop is not None:
                if loop.on_loop_thread():
                    raise CodexError(
                        "close() was called on the client's own event loop thread (from a "
                        "listener or an async handler); close it from your own thread"
                    )
                portal.call(stop.set)
                # Wait until the async client has left its `async with` (which fails what is
                # still waiting). An owner cancelled along the way has still left it.
                with contextlib.suppress(CancelledError):
                    owner.result()
        finally:
            self._shutdown_portal()

    def _shutdown_portal(self) -> None:
        cm, self._portal_cm = self._portal_cm, None
        self._loop.portal = None
        if cm is not None:
            cm.__exit__(None, None, None)

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether the connection has ended (closed by :meth:`close` or lost)."""
        return self._loop.state != "open" or self._target.closed

    @property
    def portal(self) -> BlockingPortal:
        """The anyio portal of the client's loop: run your own coroutines beside the client."""
        return self._loop.require_portal()

    # -- raw protocol ----------------------------------------------------------------------

    def _request(
        self, method: str, params: Mapping[str, Any] | None, *, timeout: float | None
    ) -> Any:
        target = self._target
        return self._loop.run(lambda: target.request(method, params, timeout=timeout))

    notify = blocking(AsyncCodexClient.notify)

    def on_notification(self, listener: Callable[[Notification], None]) -> Callable[[], None]:
        """Call ``listener(notification)`` for every server notification.

        The listener runs on the client's event loop thread: keep it quick, never block in it
        and call no blocking method of this client from it (hand the work to a queue or
        another thread). Returns a function that unsubscribes it; both may be called from any
        thread.
        """
        self._loop.require_portal()
        with self._lock:
            remove = self._target.on_notification(listener)

        def unsubscribe() -> None:
            with self._lock:
                remove()

        return unsubscribe

    def set_server_request_handler(
        self, method: str, handler: Handler[ServerRequest, Any] | None
    ) -> None:
        """Answer server requests of ``method`` with ``handler(request)``'s return value.

        As the async client's method; ``handler`` may be a plain function (run in a worker
        thread) or an ``async def`` function (run on the client's loop). ``None`` removes it.
        """
        wrapped: AsyncServerRequestHandler | None = None if handler is None else _to_async(handler)
        with self._lock:
            self._target.set_server_request_handler(method, wrapped)

    @property
    def initialize_result(self) -> dict[str, Any]:
        """What the server answered to ``initialize`` (``userAgent``, ``codexHome``, ...)."""
        return self._target.initialize_result

    @property
    def transport(self) -> Transport:
        """The open transport, for diagnostics (e.g. the stdio transport's ``pid``)."""
        return self._target.transport

    @property
    def user_agent(self) -> str:
        """The server's ``userAgent``."""
        return self._target.user_agent

    # -- settings --------------------------------------------------------------------------

    @property
    def request_timeout(self) -> float:
        """Seconds to wait for each answer unless a call says otherwise; may be changed."""
        return self._target.request_timeout

    @request_timeout.setter
    def request_timeout(self, value: float) -> None:
        self._target.request_timeout = value

    @property
    def inactivity_timeout(self) -> float | None:
        """Seconds a turn may stay silent before a wait on it gives up; may be changed."""
        return self._target.inactivity_timeout

    @inactivity_timeout.setter
    def inactivity_timeout(self, value: float | None) -> None:
        self._target.inactivity_timeout = value

    @property
    def approval_timeout(self) -> float | None:
        """Seconds the handlers get to decide a server request before it gets its fail-closed
        answer (``None``: no limit); may be changed. A turn keeps the value it started with
        (or its ``chat``/``chat_once`` argument); requests of no turn take the current one."""
        return self._target.approval_timeout

    @approval_timeout.setter
    def approval_timeout(self, value: float | None) -> None:
        self._target.approval_timeout = value

    @property
    def approval_handler(self) -> ApprovalHandler | None:
        """The approval handler given (plain or async); may be replaced."""
        return self._approval_handler

    @approval_handler.setter
    def approval_handler(self, handler: ApprovalHandler | None) -> None:
        self._approval_handler = handler
        self._target.approval_handler = None if handler is None else _to_async(handler)

    @property
    def server_request_handlers(
        self,
    ) -> ServerRequestHandlers | models.ServerRequestHandlers | None:
        """The server request handlers given to the constructor."""
        return self._server_request_handlers

    # -- turns -----------------------------------------------------------------------------

    chat = _streaming(
        AsyncCodexClient.chat,
        """Run a turn and iterate its steps as they complete: ``for step in client.chat(...)``.

    Arguments, steps, errors and the stream's ``result`` are those of the async
    :meth:`codex_app_server_client.CodexClient.chat`; it returns a blocking
    :class:`TurnStream`. Leaving the loop early (``break``) stops tracking the turn on this
    client (``with client.chat(...) as steps:`` makes that explicit); ``cancel`` interrupts it
    on the server.
    """,
    )
    chat_once = blocking(AsyncCodexClient.chat_once)
    cancel = blocking(AsyncCodexClient.cancel)

    # -- protocol areas ------------------------------------------------------------------

    @cached_property
    def threads(self) -> Threads:
        """Threads: start, resume, fork, read, list (all pages), archive, name, compact, ..."""
        from ._sync_wrappers import Threads

        return Threads(self._target.threads, self._loop)

    @cached_property
    def turns(self) -> Turns:
        """Raw turn control: start, steer, interrupt (``chat`` is the high-level way)."""
        from ._sync_wrappers import Turns

        return Turns(self._target.turns, self._loop)

    @cached_property
    def review(self) -> Review:
        """``review/start``."""
        from ._sync_wrappers import Review

        return Review(self._target.review, self._loop)

    @cached_property
    def models(self) -> Models:
        """``model/list``."""
        from ._sync_wrappers import Models

        return Models(self._target.models, self._loop)

    @cached_property
    def account(self) -> Account:
        """Account: read, rate limits, login start/cancel, logout."""
        from ._sync_wrappers import Account

        return Account(self._target.account, self._loop)

    @cached_property
    def config(self) -> Config:
        """Configuration: read, write a value, batch write."""
        from ._sync_wrappers import Config

        return Config(self._target.config, self._loop)

    @cached_property
    def command(self) -> Command:
        """``command/exec`` and its write/resize/terminate companions."""
        from ._sync_wrappers import Command

        return Command(self._target.command, self._loop)

    @cached_property
    def fs(self) -> Fs:
        """Files on the server's machine (absolute paths): read, write, list, remove, copy."""
        from ._sync_wrappers import Fs

        return Fs(self._target.fs, self._loop)

    @cached_property
    def skills(self) -> Skills:
        """``skills/list``."""
        from ._sync_wrappers import Skills

        return Skills(self._target.skills, self._loop)

    @cached_property
    def mcp(self) -> Mcp:
        """MCP server status."""
        from ._sync_wrappers import Mcp

        return Mcp(self._target.mcp, self._loop)


class TurnStream(SyncIterator[Step]):
    """The steps of one turn as they complete: ``for step in client.chat(...)``.

    The blocking form of the async :class:`codex_app_server_client.TurnStream`: each
    ``next()`` waits for the next completed step; iteration ends when the turn ends, and
    :attr:`result` then holds the :class:`~codex_app_server_client.models.ChatResult`. Leaving
    early (``break``), :meth:`close` or leaving ``with`` stops tracking the turn on this client.
    """

    def __init__(self, stream: AsyncTurnStream, runner: Runner) -> None:
        super().__init__(stream, runner)
        self._stream = stream

    @property
    def result(self) -> ChatResult:
        """The turn's result, once iteration has ended normally."""
        return self._stream.result

    @property
    def thread_id(self) -> str | None:
        """The thread, once known (a new thread is started on first iteration)."""
        return self._stream.thread_id

    @property
    def turn_id(self) -> str | None:
        """The turn, once ``turn/start`` has answered."""
        return self._stream.turn_id

    @property
    def retry(self) -> RetryNotice | None:
        """The server's latest retry notice for this turn while it is retrying the model
        request (``None`` once the turn progresses again, or when it never retried).

        As the async stream's :attr:`~codex_app_server_client.TurnStream.retry`:
        retries are not progress, so a turn that only retries for ``inactivity_timeout``
        raises :class:`~codex_app_server_client.errors.CodexTurnInactiveError`.
        """
        return self._stream.retry

    def keep_steps(self) -> None:
        """Keep every step for :attr:`result` instead of letting go of those handed out
        (what ``chat_once`` does; call before iterating)."""
        self._stream.keep_steps()

    def collect(self) -> ChatResult:
        """Run the turn to its end and return its result."""
        for _ in self:
            pass
        return self.result
