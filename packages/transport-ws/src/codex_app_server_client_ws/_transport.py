"""The WebSocket transport: one JSON-RPC message per text frame to a codex app-server.

Works on both anyio backends: websockets' asyncio client runs under asyncio and its trio client
under trio, chosen when the connection opens.
"""

from __future__ import annotations

import ssl as ssl_module
from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedOK,
    InvalidHandshake,
    InvalidStatus,
)

from codex_app_server_client.errors import CodexTransportError

from ._link import open_link
from ._options import WebSocketSettings, parse_options

if TYPE_CHECKING:
    from ._link import Link

__all__ = ["WebSocketTransport", "open_websocket"]


def _current_library() -> str:
    """``"trio"`` or ``"asyncio"``: the event loop running the caller."""
    try:
        import sniffio
    except ImportError:
        # trio depends on sniffio, so without sniffio the loop can only be asyncio.
        return "asyncio"
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return "asyncio"


def _describe_close(exc: ConnectionClosed) -> str:
    """What a ``ConnectionClosed`` says about how the connection ended, for messages."""
    if exc.rcvd is not None:
        frame = exc.rcvd
        reason = f" ({frame.reason})" if frame.reason else ""
        return f"the server closed the connection with code {frame.code}{reason}"
    if exc.sent is not None:
        frame = exc.sent
        reason = f" ({frame.reason})" if frame.reason else ""
        return f"the connection failed and was closed with code {frame.code}{reason}"
    cause = exc.__cause__
    detail = f": {cause}" if cause is not None and str(cause) else ""
    return f"the connection was lost without a WebSocket close frame (code 1006){detail}"


def _is_plain_eof(exc: ConnectionClosed) -> bool:
    """The server ended the TCP stream between frames without a close frame or socket error.

    websockets reports that as a 1006 closure caused by the ``EOFError`` its frame parser raises
    at a frame boundary (or with no cause at all). A stream cut inside a frame, a reset or any
    other socket error has a different cause and stays an error.
    """
    if exc.rcvd is not None or exc.sent is not None:
        return False
    cause = exc.__cause__
    return cause is None or (type(cause) is EOFError and str(cause) == "unexpected end of stream")


class WebSocketTransport:
    """One WebSocket connection to a codex app-server, carrying whole messages as bytes.

    Each message is one text frame. Get a connected transport from :func:`open_websocket` (or
    through the plugin system with a ``ws://``/``wss://`` URL) and use it inside that context;
    leaving the context closes it. Receive promptly: the app-server disconnects a client that
    lets 128 messages queue up on its side.

    A WebSocket cannot half-close, so this transport has no ``send_eof``.
    """

    def __init__(self, link: Link, settings: WebSocketSettings) -> None:
        self._link = link
        self._url = settings.display_url
        self._close_timeout = settings.close_timeout
        self._max_message_bytes = settings.max_message_bytes
        self._closed = False
        self._close_done = anyio.Event()
        self._eof = False
        self._failure: str | None = None
        # fast_acquire: an uncontended acquire does not yield to the event loop.
        self._receive_lock = anyio.Lock(fast_acquire=True)
        self._receive_scopes: set[anyio.CancelScope] = set()

    def __repr__(self) -> str:
        if self._closed:
            state = "closed"
        elif self._failure is not None:
            state = "broken"
        elif self._eof:
            state = "ended"
        else:
            state = "open"
        return f"<WebSocketTransport {self._url} {state}>"

    @property
    def url(self) -> str:
        """The server's URL without credentials, query or fragment; safe to log."""
        return self._url

    def _closed_error(self, action: str) -> CodexTransportError:
        return CodexTransportError(
            f"cannot {action}: the WebSocket transport to {self._url} is closed; "
            "open a new client to reconnect"
        )

    def _check_receivable(self) -> None:
        if self._closed:
            raise self._closed_error("receive")
        if self._failure is not None:
            raise CodexTransportError(self._failure)
        if self._eof:
            raise anyio.EndOfStream

    async def receive(self) -> bytes:
        """The next whole message from the server, as the bytes of its frame.

        Raises:
            anyio.EndOfStream: the server closed the connection normally (close code 1000 or
                1001, or a clean end of the TCP stream); raised again on every later call.
            CodexTransportError: the connection broke or was closed abnormally (the message
                gives the close code and reason), or this transport was closed.
        """
        return (await self._receive(many=False))[0]

    async def receive_batch(self) -> list[bytes]:
        """The next whole message and every one already queued behind it, in order.

        Ends and failures are those of :meth:`receive`, raised once the messages that came
        before them have been handed over.
        """
        return await self._receive(many=True)

    async def _receive(self, *, many: bool) -> list[bytes]:
        self._check_receivable()
        scope = anyio.CancelScope()
        self._receive_scopes.add(scope)
        try:
            with scope:
                # websockets allows one recv at a time; queue concurrent callers instead of
                # letting the second fail.
                async with self._receive_lock:
                    self._check_receivable()
                    link = self._link
                    try:
                        batch = [await link.recv()]
                    except ConnectionClosed as exc:
                        self._record_end(exc)
                        self._check_receivable()
                        raise AssertionError("unreachable: the end was recorded") from exc
                    if many:
                        # ready() promises recv() returns at once, so the loop never waits
                        # and cannot be interrupted half-way.
                        try:
                            while link.ready():
                                batch.append(await link.recv())
                        except ConnectionClosed as exc:
                            self._record_end(exc)  # raised by the next call
                    return batch
        finally:
            self._receive_scopes.discard(scope)
        # Only aclose() cancels this scope: the wait ended because the transport closed.
        raise CodexTransportError(
            f"the WebSocket transport to {self._url} was closed while a receive was waiting"
        )

    def _record_end(self, exc: ConnectionClosed) -> None:
        if self._closed or self._failure is not None or self._eof:
            return
        if isinstance(exc, ConnectionClosedOK) or _is_plain_eof(exc):
            self._eof = True
        elif exc.sent is not None and exc.sent.code == 1009:
            # websockets closes with 1009 itself when a message exceeds max_size.
            self._failure = (
                f"the WebSocket connection to {self._url} broke: the server sent a message "
                f"longer than max_message_bytes={self._max_message_bytes} bytes (close code "
                "1009). Open the transport with a larger max_message_bytes (or None for no "
                "limit) if such messages are expected."
            )
        else:
            self._failure = (
                f"the WebSocket connection to {self._url} broke: {_describe_close(exc)}; "
                "open a new client to reconnect"
            )

    async def send(self, message: bytes) -> None:
        """Send one whole message (UTF-8 JSON) as one text frame.

        Concurrent calls are safe: frames never interleave. On trio, cancelling a send that is
        writing drops the connection, because a partial frame cannot be taken back.

        Raises:
            CodexTransportError: the transport is closed or the connection has ended.
        """
        if self._closed:
            raise self._closed_error("send")
        if self._failure is not None:
            raise CodexTransportError(f"cannot send: {self._failure}")
        try:
            await self._link.send(message)
        except ConnectionClosed as exc:
            if self._closed:
                raise self._closed_error("send") from None
            self._record_end(exc)
            raise CodexTransportError(
                f"cannot send: the WebSocket connection to {self._url} has ended "
                f"({_describe_close(exc)}); open a new client to reconnect"
            ) from exc
        except anyio.get_cancelled_exc_class():
            if self._link.cancel_breaks_send and not self._closed:
                self._failure = (
                    f"a send to {self._url} was cancelled while writing, and the connection "
                    "was dropped because a partial frame cannot be taken back; open a new "
                    "client to reconnect"
                )
                await self._link.abort()
            raise

    async def aclose(self) -> None:
        """Close the connection: a close frame, then a bounded wait, then the socket drops.

        Idempotent. A ``receive()`` waiting in another task ends at once with
        :class:`CodexTransportError`. Takes at most about ``close_timeout`` seconds even when the
        server does not answer, and completes even if the caller is being cancelled.
        """
        if self._closed:
            with anyio.move_on_after(self._close_timeout + 1.0, shield=True):
                await self._close_done.wait()
            return
        self._closed = True
        for scope in list(self._receive_scopes):
            scope.cancel()
        try:
            # Shielded so the close frame goes out even when the caller is cancelled; the
            # deadline keeps the shield from ever hanging.
            with anyio.move_on_after(self._close_timeout + 1.0, shield=True) as scope:
                await self._link.close()
            if scope.cancelled_caught:
                await self._link.abort()
        except Exception:
            # The connection is being discarded; a failure while closing changes nothing.
            await self._link.abort()
        finally:
            self._close_done.set()


def _find_in_chain(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _open_error(exc: Exception, settings: WebSocketSettings) -> CodexTransportError:
    """Translate a failure of the opening handshake into an error that says what to do."""
    url = settings.display_url
    message: str
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        body = (exc.response.body or b"").decode("utf-8", "replace").strip()[:200]
        said = f" ({body})" if body else ""
        if status == 401:
            hint = (
                "pass the server's token with token=..."
                if settings.token is None
                else "check the token= you passed: the server does not accept it"
            )
            message = (
                f"the server at {url} rejected the bearer token with HTTP 401{said}: it is "
                f"missing or invalid; {hint}"
            )
        elif status == 403:
            message = (
                f"the server at {url} refused the connection with HTTP 403{said}: the codex "
                "app-server forbids requests with an Origin header and clients it does not "
                "allow; remove any Origin header or connect from an allowed client"
            )
        else:
            message = (
                f"the server at {url} answered the WebSocket upgrade with HTTP {status}{said}; "
                "check that the URL points at `codex app-server --listen ws://HOST:PORT`"
            )
    elif (cert := _find_in_chain(exc, ssl_module.SSLCertVerificationError)) is not None:
        reason = getattr(cert, "verify_message", None) or str(cert)
        message = (
            f"TLS certificate verification failed for {url} ({reason}); pass ssl= an "
            "ssl.SSLContext that trusts the server's certificate authority"
        )
    elif (tls := _find_in_chain(exc, ssl_module.SSLError)) is not None:
        message = f"the TLS handshake with {url} failed ({tls}); check that the server speaks TLS"
    elif isinstance(exc, TimeoutError):
        message = (
            f"opening the WebSocket connection to {url} timed out after "
            f"{settings.open_timeout} s; check that the server is running and reachable, or "
            "raise open_timeout="
        )
    elif isinstance(exc, InvalidHandshake):
        message = (
            f"the WebSocket handshake with {url} failed ({exc}); check that the URL points at "
            "`codex app-server --listen ws://HOST:PORT`"
        )
    elif isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        message = (
            f"could not connect to {url} ({reason}); check that the server is running and "
            "listening at that address"
        )
    else:
        message = f"could not open a WebSocket connection to {url} ({type(exc).__name__}: {exc})"
    return CodexTransportError(settings.redact(message))


@asynccontextmanager
async def open_websocket(
    url: str, options: Mapping[str, Any]
) -> AsyncGenerator[WebSocketTransport, None]:
    """Connect to a codex app-server at ``ws://HOST:PORT`` or ``wss://HOST:PORT``.

    Entering performs the WebSocket handshake and yields the :class:`WebSocketTransport`;
    leaving closes it. This is the opener the ``ws`` plugin registers; a client normally calls
    it for you when given a ``ws://`` URL.

    Options (all optional):
        token: bearer token, sent as ``Authorization: Bearer <token>``; never put in the URL,
            logs or error messages. Needed when the server runs with ``--ws-auth``.
        headers: mapping of extra handshake headers. ``Origin`` is refused (the app-server
            answers 403 to it), as are the headers the handshake itself sets.
        ssl: for ``wss://``, an :class:`ssl.SSLContext`, or ``True``/``None`` for the system's
            default verification. Certificates are always verified unless the context says
            otherwise.
        open_timeout: seconds the connection and handshake may take (default 10; ``None`` waits
            forever).
        close_timeout: seconds ``aclose`` waits for the server's close frame (default 2).
        max_message_bytes: largest message accepted from the server (default 256 MiB;
            ``None`` for no limit).
        ping_interval, ping_timeout: keepalive pings, in seconds (default 20 each; ``None``
            turns them off).

    Raises:
        TypeError: an unknown option or an option of the wrong type.
        ValueError: a bad URL, credentials in the URL, or a forbidden header.
        CodexTransportError: the connection or the handshake failed; the message says why
            (HTTP 401: the token; 403: Origin or forbidden client; certificate; unreachable).
    """
    settings = parse_options(url, options)
    connected = False
    try:
        async with open_link(settings, _current_library()) as link:
            connected = True
            transport = WebSocketTransport(link, settings)
            try:
                yield transport
            finally:
                await transport.aclose()
    except Exception as exc:
        if connected:
            raise
        raise _open_error(exc, settings) from exc
