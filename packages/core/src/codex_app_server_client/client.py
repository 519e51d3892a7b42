"""CodexClient: the public async API over one app-server connection."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from functools import cached_property, partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, Unpack

import anyio
import anyio.abc

from ._connection import Connection
from ._defaults import DEFAULT, Default
from ._turn_options import TurnOptions, turn_params
from ._turn_registry import TurnRegistry
from ._turn_stream import TurnStream
from ._version import __version__
from ._wire_log import WireTap, secrets_of
from .errors import CodexExperimentalApiError
from .models import (
    ApprovalHandler,
    CancelResult,
    ChatResult,
    Continuation,
    ServerRequestHandlers,
)
from .protocol import Notification, ServerRequest, TurnRouter
from .protocol._turns import as_dict
from .transport import Transport
from .types._methods import EXPERIMENTAL_FIELDS, EXPERIMENTAL_METHODS
from .types._requests import TypedRequests

if TYPE_CHECKING:
    from ._wrappers import Account, Command, Config, Fs, Mcp, Models, Review, Skills, Threads, Turns
    from .plugins import PluginManager

__all__ = ["CodexClient", "TurnStream"]

logger = logging.getLogger("codex_app_server_client.client")
# Silent by default: records under codex_app_server_client.* reach only the handlers the
# application configures (never logging's last-resort stderr handler).
logging.getLogger("codex_app_server_client").addHandler(logging.NullHandler())

DEFAULT_CLIENT_INFO: Mapping[str, str] = {
    "name": "codex_app_server_client",
    "title": "codex-app-server-client (Python)",
    "version": __version__,
}

ServerRequestHandler = Callable[[ServerRequest], Awaitable[Any]]


class CodexClient(TypedRequests):
    """An async client for one ``codex app-server`` connection.

    Use it as an async context manager, entered and left in the same task::

        async with CodexClient("stdio://") as client:
            result = await client.request("thread/start", {})

    Entering opens the transport chosen by ``target``'s URL scheme (or uses the transport
    object given), starts the reader, and performs the ``initialize`` / ``initialized``
    handshake. Leaving closes everything; requests still waiting then fail with
    :class:`~codex_app_server_client.errors.CodexTransportError`.

    Args:
        target: a transport URL (``"stdio://"``, ``"ws://127.0.0.1:8765"``, ``"wss://..."`` or
            a scheme a plugin provides), or an already connected
            :class:`~codex_app_server_client.transport.Transport`, which the client then owns
            and closes.
        request_timeout: seconds to wait for the answer to each request unless a call says
            otherwise; ``math.inf`` waits without limit.
        inactivity_timeout: seconds a turn may go without progress before a wait on it gives
            up (``None``: no limit). Time our handlers spend deciding a server request of the
            turn does not count; the server's retry notices are not progress.
        approval_timeout: seconds our handlers get to decide a server request of a turn
            (``None``, the default: no limit). A request still undecided then gets its kind's
            fail-closed answer (approvals ``decline``), its handler is cancelled, and the turn
            goes on. ``chat``/``chat_once`` take it per call too.
        approval_handler: async callable answering command and file-change approval requests
            (see ``chat``); a shortcut for those two slots of ``server_request_handlers``.
        server_request_handlers: one async handler per kind of server request (approvals,
            permissions, user input, MCP elicitations, dynamic tool calls, ...). A request with
            no handler gets a safe default: approvals are declined, permissions not granted,
            elicitations declined, tool calls fail, the rest get a JSON-RPC error (see
            :class:`~codex_app_server_client.models.ServerRequestHandlers`).
        client_info: ``clientInfo`` sent in ``initialize`` (``name``, ``title``, ``version``);
            ``name`` becomes the ``originator`` the server reports upstream.
        experimental_api: opt into the server's experimental methods and fields.
        opt_out_notifications: exact notification method names this connection should not
            receive.
        plugin_manager: the plugin manager that resolves URL schemes; the process-wide one by
            default.
        wire_log: log every message in and out to the ``codex_app_server_client.wire`` logger
            at DEBUG, with secrets redacted (the bearer token, auth headers, and members
            named like ``token``, ``apiKey`` or ``password``). Off by default.
        overload_retries: how many times a request answered ``-32001`` ("Server overloaded;
            retry later.") is sent again before that error is raised; ``0`` raises it at once.
        overload_backoff: seconds before the first such retry; each further retry waits twice
            as long, every delay scaled by a random factor between 0.5 and 1.5 so that many
            clients do not retry in step.
        **transport_options: passed to the transport, e.g. ``command``, ``env``, ``cwd`` for
            stdio, or ``token``, ``headers``, ``ssl`` for websockets.
    """

    def __init__(
        self,
        target: str | Transport = "stdio://",
        *,
        request_timeout: float = 30.0,
        inactivity_timeout: float | None = 180.0,
        approval_timeout: float | None = None,
        approval_handler: ApprovalHandler | None = None,
        server_request_handlers: ServerRequestHandlers | None = None,
        client_info: Mapping[str, str] | None = None,
        experimental_api: bool = False,
        wire_log: bool = False,
        opt_out_notifications: Sequence[str] | None = None,
        plugin_manager: PluginManager | None = None,
        overload_retries: int = 4,
        overload_backoff: float = 0.05,
        **transport_options: Any,
    ) -> None:
        if overload_retries < 0 or overload_backoff < 0:
            raise ValueError(
                "overload_retries and overload_backoff must not be negative (got "
                f"{overload_retries!r} and {overload_backoff!r}); pass 0 to disable retries"
            )
        if isinstance(target, str):
            # pluggy and the plugin modules load only when a URL needs resolving.
            from .plugins import resolve_transport

            # Resolve now so a missing transport fails at construction, with the install hint.
            self._spec = resolve_transport(target, plugin_manager)
            self._transport: Transport | None = None
        else:
            if transport_options:
                raise TypeError(
                    "transport options ("
                    + ", ".join(sorted(transport_options))
                    + ") only apply when the client opens the transport from a URL; "
                    "configure the transport object you passed instead"
                )
            self._spec = None
            self._transport = target
        self._target = target
        self._transport_options = transport_options
        self.request_timeout = request_timeout
        self.inactivity_timeout = inactivity_timeout
        self.approval_timeout = approval_timeout
        self.approval_handler = approval_handler
        self.server_request_handlers = server_request_handlers or ServerRequestHandlers()
        self._client_info = dict(client_info or DEFAULT_CLIENT_INFO)
        self._experimental_api = experimental_api
        self._overload_retries = overload_retries
        self._overload_backoff = overload_backoff
        self._wire_log = wire_log
        self._opt_out = list(opt_out_notifications or ())
        self._server_request_handlers: dict[str, ServerRequestHandler] = {}
        self._stack: AsyncExitStack | None = None
        self._connection: Connection | None = None
        self._initialize_result: dict[str, Any] | None = None
        self._task_group: anyio.abc.TaskGroup | None = None
        self._router = TurnRouter(
            dict.fromkeys(_CLIENT_NOTIFICATIONS, self._on_client_notification)
        )
        self._closing = False
        self._loaded_threads: set[str] = set()
        self._turns: TurnRegistry | None = None
        """Owns every tracked turn's life (set on entering)."""

    # -- protocol areas (loaded on first use, so importing the SDK stays cheap) ----------

    @cached_property
    def threads(self) -> Threads:
        """Threads: start, resume, fork, read, list (all pages), archive, name, compact, ..."""
        from ._wrappers import Threads

        return Threads(self)

    @cached_property
    def turns(self) -> Turns:
        """Raw turn control: start, steer, interrupt (``chat`` is the high-level way)."""
        from ._wrappers import Turns

        return Turns(self)

    @cached_property
    def review(self) -> Review:
        """``review/start``."""
        from ._wrappers import Review

        return Review(self)

    @cached_property
    def models(self) -> Models:
        """``model/list``."""
        from ._wrappers import Models

        return Models(self)

    @cached_property
    def account(self) -> Account:
        """Account: read, rate limits, login start/cancel, logout."""
        from ._wrappers import Account

        return Account(self)

    @cached_property
    def config(self) -> Config:
        """Configuration: read, write a value, batch write."""
        from ._wrappers import Config

        return Config(self)

    @cached_property
    def command(self) -> Command:
        """``command/exec`` and its write/resize/terminate companions."""
        from ._wrappers import Command

        return Command(self)

    @cached_property
    def fs(self) -> Fs:
        """Files on the server's machine (absolute paths): read, write, list, remove, copy."""
        from ._wrappers import Fs

        return Fs(self)

    @cached_property
    def skills(self) -> Skills:
        """``skills/list``."""
        from ._wrappers import Skills

        return Skills(self)

    @cached_property
    def mcp(self) -> Mcp:
        """MCP server status."""
        from ._wrappers import Mcp

        return Mcp(self)

    def __repr__(self) -> str:
        target = self._target if isinstance(self._target, str) else type(self._target).__name__
        state = "open" if self._connection and not self._connection.closed else "closed"
        return f"<CodexClient {target} {state}>"

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._stack is not None:
            raise RuntimeError("this CodexClient was already entered; create a new one")
        stack = AsyncExitStack()
        self._stack = stack
        try:
            if self._spec is not None:
                assert isinstance(self._target, str)
                transport = await stack.enter_async_context(
                    self._spec.open(self._target, self._transport_options)
                )
            else:
                assert self._transport is not None
                transport = self._transport
                stack.push_async_callback(transport.aclose)
            self._transport = transport
            task_group = await stack.enter_async_context(anyio.create_task_group())
            self._task_group = task_group
            tap = WireTap(secrets_of(self._transport_options)) if self._wire_log else None
            connection = Connection(
                transport,
                on_server_request=self._handle_server_request,
                route=self._router.route,
                wire_tap=tap,
                overload_retries=self._overload_retries,
                overload_backoff=self._overload_backoff,
            )
            self._connection = connection
            self._turns = TurnRegistry(
                self._router,
                self._turn_request,
                connection.wait_kit,
                connection.watchdog,
                self._loaded_threads,
            )
            connection.add_close_listener(self._router.fail_all)
            connection.start(task_group)
            await self._initialize()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
        stack, self._stack = self._stack, None
        if stack is not None:
            # The client's task group must be left in this task's own scope nesting, which
            # is where `async with` leaves it; so the stack unwinds here and not in aclose().
            await stack.aclose()

    async def aclose(self) -> None:
        """Close the connection: waiting requests and turns fail with ``CodexTransportError``.

        Idempotent, bounded, and safe anywhere: inside the ``async with`` block, from a
        server-request handler, from another task, twice, under a timeout. It stops only the
        client's own tasks (the reader, the watchdog, running handlers), never the caller's,
        so the code after the block runs; leaving the block then releases the rest.
        """
        if self._closing:
            return
        self._closing = True
        if self._connection is not None:
            await self._connection.aclose()  # shielded inside: fails waiters, closes transport

    async def _initialize(self) -> None:
        capabilities: dict[str, Any] = {"experimentalApi": self._experimental_api}
        if self._opt_out:
            capabilities["optOutNotificationMethods"] = self._opt_out
        result = await self._request(
            "initialize", {"clientInfo": self._client_info, "capabilities": capabilities}
        )
        self._initialize_result = result if isinstance(result, dict) else {}
        await self.notify("initialized")

    # -- raw protocol ----------------------------------------------------------------------

    @property
    def initialize_result(self) -> dict[str, Any]:
        """What the server answered to ``initialize`` (``userAgent``, ``codexHome``, ...)."""
        if self._initialize_result is None:
            raise RuntimeError("the client is not connected; use it with `async with`")
        return self._initialize_result

    @property
    def transport(self) -> Transport:
        """The open transport, for diagnostics (e.g. the stdio transport's ``pid``)."""
        if self._transport is None:
            raise RuntimeError("the client is not connected; use it with `async with`")
        return self._transport

    @property
    def user_agent(self) -> str:
        """The server's ``userAgent``, e.g. ``"codex_app_server_client/0.163.0 (...)"``."""
        return str(self.initialize_result.get("userAgent", ""))

    def _require_connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the client is not connected; use it with `async with`")
        return self._connection

    async def _request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """The untyped request path behind :meth:`request` (see its docstring)."""
        if not self._experimental_api:
            _refuse_experimental(method, params)
        connection = self._require_connection()
        result: Any = await connection.request(
            method, params, self.request_timeout if timeout is None else timeout
        )
        if method in _THREAD_LOADING:
            # The thread is loaded on this connection now; don't wait for `thread/started`
            # (it may not be read yet), or the next turn would try to resume it.
            thread_id = as_dict(as_dict(result).get("thread")).get("id")
            if isinstance(thread_id, str):
                self._loaded_threads.add(thread_id)
        return result

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        """Send a client notification (no answer comes)."""
        await self._require_connection().notify(method, params)

    def on_notification(self, listener: Callable[[Notification], None]) -> Callable[[], None]:
        """Call ``listener(notification)`` for every server notification.

        The listener is called synchronously, in arrival order, by whichever task reads the
        connection (the client's reader task, or a request reading its own answer): keep it
        quick and non-blocking (hand work to a task or a memory stream). Returns a function
        that unsubscribes it.
        """
        return self._require_connection().add_listener(listener)

    def set_server_request_handler(self, method: str, handler: ServerRequestHandler | None) -> None:
        """Answer server requests of ``method`` with ``await handler(request)``'s return value.

        The handler runs in its own task. Its return value is the JSON-RPC ``result``; raise
        an exception to answer with a JSON-RPC error. Pass ``None`` to remove it. A raw
        handler takes precedence over ``server_request_handlers`` and ``approval_handler``.
        Requests with no handler of any kind get the safe default (see
        :class:`~codex_app_server_client.models.ServerRequestHandlers`), and methods this SDK
        does not know a "method not found" error: never silence, never an acceptance.
        """
        if handler is None:
            self._server_request_handlers.pop(method, None)
        else:
            self._server_request_handlers[method] = handler

    async def _handle_server_request(self, request: ServerRequest) -> Any:
        # Loaded on first use: most sessions never see a server request.
        from ._server_requests import answer_server_request, fallback_answer

        raw = self._server_request_handlers.get(request.method)
        decide: Callable[[], Awaitable[Any]] = (
            partial(raw, request)
            if raw is not None
            else partial(
                answer_server_request,
                request,
                self.server_request_handlers,
                approval_handler=self.approval_handler,
            )
        )
        turns = self._turns
        if turns is None:
            return await decide()
        return await turns.decide(
            request,
            decide,
            partial(fallback_answer, request),
            self.approval_timeout,
        )

    async def _turn_request(
        self, method: str, params: Mapping[str, Any] | None, timeout: float | None
    ) -> Any:
        return await self._request(method, params, timeout=timeout)

    def _on_client_notification(self, note: Notification) -> None:
        """The notifications the client acts on itself (the router hands them over)."""
        method = note.method
        if method == "serverRequest/resolved":
            connection = self._connection
            if connection is not None:
                connection.retire(note.params.get("requestId"))
        elif method == "thread/started":
            thread = note.params.get("thread")
            if isinstance(thread, dict) and isinstance(thread.get("id"), str):  # pyright: ignore[reportUnknownMemberType]
                self._loaded_threads.add(thread["id"])  # pyright: ignore[reportUnknownArgumentType]
        elif method == "thread/closed":
            self._loaded_threads.discard(str(note.params.get("threadId")))

    # -- turns ---------------------------------------------------------------------------

    def chat(
        self,
        text: str | None = None,
        *,
        thread_id: str | None = None,
        continuation: Continuation | None = None,
        inactivity_timeout: float | Default | None = DEFAULT,
        approval_timeout: float | Default | None = DEFAULT,
        images: Sequence[str] = (),
        local_images: Sequence[str | os.PathLike[str]] = (),
        **turn_options: Unpack[TurnOptions],
    ) -> TurnStream:
        """Run a turn and iterate its steps as they complete.

        ``async for step in client.chat("fix the tests"):`` yields one
        :class:`~codex_app_server_client.models.Step` per live ``item/completed`` of the turn,
        in order: never a delta, never a snapshot read back from the server. The loop ends when
        the turn ends; the stream's ``result`` then holds the
        :class:`~codex_app_server_client.models.ChatResult`.

        Args:
            text: the user message. Required unless ``continuation`` is given.
            thread_id: run the turn on this thread (resumed first if this connection has not
                loaded it); without it a new thread is started.
            continuation: resume waiting on a running turn after an inactivity timeout,
                instead of starting one; cannot be combined with new input or options.
            inactivity_timeout: seconds the turn may go without progress before the wait
                gives up with :class:`~codex_app_server_client.errors.CodexTurnInactiveError`;
                the client's setting by default; ``None`` waits without limit.
            approval_timeout: seconds our handlers get to decide each server request of this
                turn (an approval, say) before it gets its fail-closed answer; the client's
                setting by default (with a continuation: the turn's setting); ``None`` waits
                without limit.
            images: image URLs to send with the text.
            local_images: image files (paths on the server's machine) to send.
            **turn_options: see :class:`~codex_app_server_client.TurnOptions`: ``cwd``,
                ``model``, ``effort``, ``summary``, ``personality``, ``approval_policy``,
                ``approvals_reviewer``, ``sandbox_policy`` (an object, or
                ``"read-only"``/``"workspace-write"``/``"danger-full-access"``),
                ``output_schema``, ``service_tier``, ``client_user_message_id``.

        Raises:
            ValueError: ``continuation`` combined with new input or options, or neither given.
            TypeError: an unknown turn option.
        """
        timeout = (
            self.inactivity_timeout
            if isinstance(inactivity_timeout, Default)
            else inactivity_timeout
        )
        if continuation is not None:
            given = [
                name
                for name, value in (
                    ("text", text),
                    ("thread_id", thread_id),
                    ("images", images),
                    ("local_images", local_images),
                )
                if value
            ] + sorted(turn_options)
            if given:
                raise ValueError(
                    "a continuation resumes waiting on a running turn and cannot be combined "
                    f"with new input or turn options (got {', '.join(given)}); start a new turn "
                    "once this one has ended instead"
                )
            return TurnStream(
                self._turns,
                turn_params=None,
                thread_id=continuation.thread_id,
                continuation=continuation,
                inactivity_timeout=timeout,
                approval_timeout=approval_timeout,
            )
        if text is None:
            raise ValueError("text is required to start a turn (or pass continuation=)")
        return TurnStream(
            self._turns,
            turn_params=turn_params(text, images, local_images, turn_options),
            thread_id=thread_id,
            continuation=None,
            inactivity_timeout=timeout,
            approval_timeout=(
                self.approval_timeout if isinstance(approval_timeout, Default) else approval_timeout
            ),
        )

    async def chat_once(
        self,
        text: str | None = None,
        *,
        thread_id: str | None = None,
        continuation: Continuation | None = None,
        inactivity_timeout: float | Default | None = DEFAULT,
        approval_timeout: float | Default | None = DEFAULT,
        images: Sequence[str] = (),
        local_images: Sequence[str | os.PathLike[str]] = (),
        **turn_options: Unpack[TurnOptions],
    ) -> ChatResult:
        """Run a turn to its end and return its result; arguments as for :meth:`chat`.

        ``final_text`` is the completed ``agentMessage`` marked ``phase: "final_answer"`` when
        phases are present, else the last completed one, taken from the live events first, the
        items of ``turn/completed`` next, and read back from the server only as a last resort
        (``final_text_source`` says which).

        Raises:
            CodexTurnFailedError: the turn ended ``failed`` (``.error_info`` has the server's
                ``codexErrorInfo``).
            CodexTurnInactiveError: no progress for ``inactivity_timeout`` seconds; the turn
                keeps running and ``.continuation`` resumes the wait.
            CodexTurnCancelledError: ``cancel()`` from another task gave the turn up.
            CodexTransportError: the connection ended, or the client was closed.
        """
        stream = self.chat(
            text,
            thread_id=thread_id,
            continuation=continuation,
            inactivity_timeout=inactivity_timeout,
            approval_timeout=approval_timeout,
            images=images,
            local_images=local_images,
            **turn_options,
        )
        stream.keep_steps()
        async with stream:
            return await stream.collect()

    async def cancel(
        self, continuation: Continuation, *, timeout: float | None = None
    ) -> CancelResult:
        """Interrupt a running turn and collect what it produced since the cursor.

        Safe from any task, also while another task iterates the turn. Server requests of
        the turn still waiting on our handlers are answered ``cancel`` and the handlers
        stopped; then ``turn/interrupt`` is sent (best effort: a turn that already ended is
        not an error), and the call waits up to ``timeout`` seconds in all (the client's
        ``request_timeout`` by default) for the turn's end. The turn is then forgotten, so
        the thread can take a new turn at once; a task still iterating it ends with
        ``status == "interrupted"`` (or
        :class:`~codex_app_server_client.errors.CodexTurnCancelledError` if the server did
        not confirm in time).

        Raises:
            CodexContinuationError: this client does not know the turn (already collected,
                cancelled, or from another client).
        """
        limit = self.request_timeout if timeout is None else timeout
        return await self._require_turns().cancel(continuation, limit)

    def _require_turns(self) -> TurnRegistry:
        if self._turns is None:
            raise RuntimeError("the client is not connected; use it with `async with`")
        return self._turns

    @property
    def closed(self) -> bool:
        """Whether the connection has ended."""
        return self._connection is None or self._connection.closed


_CLIENT_NOTIFICATIONS: Final = frozenset(
    {"serverRequest/resolved", "thread/started", "thread/closed"}
)
"""Notifications the client itself acts on, besides routing them to their turn."""

_THREAD_LOADING: Final = frozenset({"thread/start", "thread/resume", "thread/fork"})


def _refuse_experimental(method: str, params: Mapping[str, Any] | None) -> None:
    if method in EXPERIMENTAL_METHODS:
        raise CodexExperimentalApiError(method)
    gated = EXPERIMENTAL_FIELDS.get(method)
    # isdisjoint first: this runs for every request, and almost none uses a gated field.
    if gated and params and not gated.isdisjoint(params):
        raise CodexExperimentalApiError(method, tuple(sorted(gated.intersection(params))))
