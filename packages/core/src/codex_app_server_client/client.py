"""CodexClient: the public async API over one app-server connection."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import anyio
import anyio.abc

from ._connection import Connection, ServerRequestError
from ._version import __version__
from .protocol import Notification, ServerRequest
from .transport import Transport

if TYPE_CHECKING:
    from .plugins import PluginManager

__all__ = ["CodexClient"]

logger = logging.getLogger("codex_app_server_client.client")

DEFAULT_CLIENT_INFO: Mapping[str, str] = {
    "name": "codex_app_server_client",
    "title": "codex-app-server-client (Python)",
    "version": __version__,
}

ServerRequestHandler = Callable[[ServerRequest], Awaitable[Any]]


class CodexClient:
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
        inactivity_timeout: seconds a turn may stay silent before a wait on it gives up.
        approval_handler: async callable answering approval requests (see ``chat``).
        client_info: ``clientInfo`` sent in ``initialize`` (``name``, ``title``, ``version``);
            ``name`` becomes the ``originator`` the server reports upstream.
        experimental_api: opt into the server's experimental methods and fields.
        opt_out_notifications: exact notification method names this connection should not
            receive.
        plugin_manager: the plugin manager that resolves URL schemes; the process-wide one by
            default.
        **transport_options: passed to the transport, e.g. ``command``, ``env``, ``cwd`` for
            stdio, or ``token``, ``headers``, ``ssl`` for websockets.
    """

    def __init__(
        self,
        target: str | Transport = "stdio://",
        *,
        request_timeout: float = 30.0,
        inactivity_timeout: float | None = 180.0,
        approval_handler: Callable[..., Awaitable[Any]] | None = None,
        client_info: Mapping[str, str] | None = None,
        experimental_api: bool = False,
        opt_out_notifications: Sequence[str] | None = None,
        plugin_manager: PluginManager | None = None,
        **transport_options: Any,
    ) -> None:
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
        self.approval_handler = approval_handler
        self._client_info = dict(client_info or DEFAULT_CLIENT_INFO)
        self._experimental_api = experimental_api
        self._opt_out = list(opt_out_notifications or ())
        self._server_request_handlers: dict[str, ServerRequestHandler] = {}
        self._stack: AsyncExitStack | None = None
        self._connection: Connection | None = None
        self._initialize_result: dict[str, Any] | None = None
        self._task_group: anyio.abc.TaskGroup | None = None

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
            connection = Connection(transport, on_server_request=self._handle_server_request)
            self._connection = connection
            connection.start(task_group)
            await self._initialize()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection: waiting requests fail with ``CodexTransportError``.

        Idempotent. Call it from the task that entered the client (``async with`` does).
        """
        stack, self._stack = self._stack, None
        if stack is None:
            return
        if self._connection is not None:
            await self._connection.aclose()  # shielded inside: fails waiters, closes transport
        if self._task_group is not None:
            # Handlers of server requests may be waiting on user code; stop them too.
            self._task_group.cancel_scope.cancel()
        # The stack's cancel scopes must unwind in this task's own scope nesting, so no shield
        # wraps it; the transport's context manager shields its own bounded close.
        await stack.aclose()

    async def _initialize(self) -> None:
        capabilities: dict[str, Any] = {"experimentalApi": self._experimental_api}
        if self._opt_out:
            capabilities["optOutNotificationMethods"] = self._opt_out
        result = await self.request(
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

    async def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """Send any request and return the server's ``result`` as it came.

        Args:
            method: the protocol method, e.g. ``"thread/start"``.
            params: the params object; ``{}`` is sent when omitted.
            timeout: seconds to wait for the answer; the client's ``request_timeout`` when
                ``None``.

        Raises:
            CodexProtocolError: the server answered with a JSON-RPC error (``.code``,
                ``.data``); ``-32001`` overload answers are retried with backoff first.
            CodexTimeoutError: no answer in time.
            CodexTransportError: the connection is closed or ended while waiting.
        """
        connection = self._require_connection()
        return await connection.request(
            method, params, self.request_timeout if timeout is None else timeout
        )

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        """Send a client notification (no answer comes)."""
        await self._require_connection().notify(method, params)

    def on_notification(self, listener: Callable[[Notification], None]) -> Callable[[], None]:
        """Call ``listener(notification)`` for every server notification.

        The listener runs on the reader task: keep it quick and non-blocking (hand work to a
        task or a memory stream). Returns a function that unsubscribes it.
        """
        return self._require_connection().add_listener(listener)

    def set_server_request_handler(self, method: str, handler: ServerRequestHandler | None) -> None:
        """Answer server requests of ``method`` with ``await handler(request)``'s return value.

        The handler runs in its own task. Its return value is the JSON-RPC ``result``; raise
        an exception to answer with a JSON-RPC error. Pass ``None`` to remove it. Requests
        with no handler are answered with a "method not found" error, never left unanswered.
        """
        if handler is None:
            self._server_request_handlers.pop(method, None)
        else:
            self._server_request_handlers[method] = handler

    async def _handle_server_request(self, request: ServerRequest) -> Any:
        handler = self._server_request_handlers.get(request.method)
        if handler is None:
            raise ServerRequestError(
                -32601,
                f"codex-app-server-client has no handler for {request.method!r}",
            )
        return await handler(request)

    @property
    def closed(self) -> bool:
        """Whether the connection has ended."""
        return self._connection is None or self._connection.closed
