"""Every exception this SDK raises on purpose, as one tree.

```
CodexError                        catch-all for this SDK
├── CodexTransportError           the connection could not be opened, broke, or was closed
│   └── CodexTransportNotFoundError   no installed transport plugin serves the URL's scheme
├── CodexTimeoutError             a request got no answer in time
│   └── CodexTurnInactiveError    a turn produced no event in time (it keeps running)
├── CodexProtocolError            the server answered a request with a JSON-RPC error
├── CodexTurnFailedError          a turn ended with status "failed"
├── CodexTurnCancelledError       cancel() gave the turn up before the server confirmed its end
├── CodexContinuationError        a continuation is unknown to this client or already spent
├── CodexExperimentalApiError     an experimental method or field without the opt-in
└── CodexServerRequestError       raised BY a server-request handler: answer with this error
```

Each message says what happened and what the caller can do about it. Attributes carry the
machine-readable parts (error codes, ids, the stderr tail of a child process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Continuation

__all__ = [
    "CodexContinuationError",
    "CodexError",
    "CodexExperimentalApiError",
    "CodexProtocolError",
    "CodexServerRequestError",
    "CodexTimeoutError",
    "CodexTransportError",
    "CodexTransportNotFoundError",
    "CodexTurnCancelledError",
    "CodexTurnFailedError",
    "CodexTurnInactiveError",
]


class CodexError(Exception):
    """Base class of every error this SDK raises on purpose."""


class CodexTransportError(CodexError):
    """The connection to the app-server could not be opened, was lost, or is closed.

    Every request and every turn still waiting when the connection ends fails with this error.
    Open a new client to continue.

    Attributes:
        stderr_tail: the last lines the server process wrote to stderr, when the transport
            runs a child process and it wrote any; ``None`` otherwise.
    """

    def __init__(self, message: str, *, stderr_tail: str | None = None) -> None:
        if stderr_tail:
            message = f"{message}\n--- last lines of the server's stderr ---\n{stderr_tail}"
        super().__init__(message)
        self.stderr_tail = stderr_tail


class CodexTransportNotFoundError(CodexTransportError, ValueError):
    """No installed transport plugin serves the scheme of the URL given.

    Attributes:
        scheme: the scheme that was asked for.
        available: the schemes the installed plugins serve.
    """

    def __init__(self, message: str, *, scheme: str, available: tuple[str, ...]) -> None:
        super().__init__(message)
        self.scheme = scheme
        self.available = available


class CodexTimeoutError(CodexError, TimeoutError):
    """A request got no answer within its timeout.

    The server may still act on the request; the client stops waiting and drops a late answer.
    Raise the ``timeout=`` of the call (or the client's ``request_timeout``) if the server is
    just slow.
    """


class CodexTurnInactiveError(CodexTimeoutError):
    """A turn produced no event for ``inactivity_timeout`` seconds; the turn keeps running.

    Pass ``.continuation`` back to ``chat``/``chat_once`` to keep waiting on the same turn, or
    to ``cancel`` to interrupt it.

    Attributes:
        continuation: where to resume waiting (thread id, turn id and cursor).
        idle_seconds: how long the wait had gone without an event when it gave up.
    """

    def __init__(self, message: str, *, continuation: Continuation, idle_seconds: float) -> None:
        super().__init__(message)
        self.continuation = continuation
        self.idle_seconds = idle_seconds


class CodexProtocolError(CodexError):
    """The server answered a request with a JSON-RPC error.

    Attributes:
        code: the JSON-RPC error code (the app-server uses -32600 for most errors); ``0``
            when the server answered without an error but the answer lacks what the SDK
            needs (a ``turn/start`` answer without ``turn.id``, say).
        message: the server's error message.
        data: the error's ``data`` member, if any.
        method: the method of the request that failed.
    """

    def __init__(self, message: str, *, code: int, data: Any = None, method: str = "") -> None:
        prefix = f"{method} failed" if method else "request failed"
        suffix = f" (JSON-RPC error {code})" if code else ""
        super().__init__(f"{prefix}: {message}{suffix}")
        self.code = code
        self.message = message
        self.data = data
        self.method = method


class CodexTurnFailedError(CodexError):
    """A turn ended with status ``failed``; the thread can take a new turn.

    Attributes:
        thread_id: the thread the turn ran on.
        turn_id: the failed turn.
        error_info: the server's ``codexErrorInfo``: a string such as
            ``"internalServerError"``, an object such as
            ``{"httpConnectionFailed": {"httpStatusCode": 401}}``, or ``None``.
        message: the server's error message.
    """

    def __init__(
        self, message: str, *, thread_id: str, turn_id: str, error_info: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.thread_id = thread_id
        self.turn_id = turn_id
        self.error_info = error_info


class CodexTurnCancelledError(CodexError):
    """``cancel()`` gave a turn up before the server confirmed that it ended.

    Raised to a caller still iterating the turn (another task's ``chat()``) when ``cancel()``
    from elsewhere stopped waiting for the interrupt. The client no longer tracks the turn and
    the thread can take a new one; the server may still be finishing it. When the server does
    confirm the interrupt in time, that caller's loop simply ends with ``status ==
    "interrupted"`` instead.

    Attributes:
        thread_id: the thread the turn ran on.
        turn_id: the cancelled turn.
    """

    def __init__(self, message: str, *, thread_id: str, turn_id: str) -> None:
        super().__init__(message)
        self.thread_id = thread_id
        self.turn_id = turn_id


class CodexContinuationError(CodexError, LookupError):
    """A continuation is not known to this client, or its turn was already collected.

    Continuations only work on the client that issued them, and only until the turn's result
    has been handed out (or the turn was cancelled).
    """


class CodexExperimentalApiError(CodexError, ValueError):
    """An experimental method or field was used on a client without ``experimental_api=True``.

    Nothing was sent. Experimental parts of the protocol may change or vanish in any codex
    release; opt in deliberately with ``CodexClient(..., experimental_api=True)``.

    Attributes:
        method: the request method.
        fields: the experimental params fields used (empty when the method itself is).
    """

    def __init__(self, method: str, fields: tuple[str, ...] = ()) -> None:
        what = f"{method} params {', '.join(fields)}" if fields else method
        kind = "are experimental fields" if len(fields) > 1 else "is experimental"
        super().__init__(
            f"{what} {kind} in the app-server protocol; create the client with "
            "experimental_api=True to use it (nothing was sent)"
        )
        self.method = method
        self.fields = fields


class CodexServerRequestError(CodexError):
    """Raise it from a server-request handler to answer with this JSON-RPC error.

    Any other exception from a handler gives the request's documented safe default (and is
    logged); this one sends exactly ``code``, ``message`` and ``data``.
    """

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
