"""A fake OpenAI Responses API on 127.0.0.1, so the real ``codex`` binary can run offline in tests.

:class:`FakeResponsesProvider` serves ``POST /v1/responses`` as a server-sent-event stream from a
background thread, so it works the same under asyncio, trio or plain synchronous code. Point
codex at it with :func:`~codex_app_server_client.testing.codex_home.write_codex_home`, queue
the model's replies with :meth:`FakeResponsesProvider.enqueue`, and read back what codex asked
for from :attr:`FakeResponsesProvider.requests`.

The reply constructors build the queued replies:

- :func:`text`: an assistant message, optionally streamed as deltas;
- :func:`reasoning`: a reasoning summary, followed by another reply's output;
- :func:`tool_call`: an ``exec_command`` function call (codex runs it and asks again);
- :func:`stall`: send a few events, then hold the stream open until released;
- :func:`http_error`, :func:`response_failed`, :func:`drop`: the three ways a model call fails;
- :func:`events` and :func:`event`: any other event sequence, built by hand.

Example::

    with FakeResponsesProvider() as provider:
        provider.enqueue(text("Hi there", deltas=["Hi", " there"]))
        env = write_codex_home(tmp_path / "home", provider_url=provider.base_url)
        ...  # start codex with env, run a turn
        assert provider.requests[0].input_texts()[-1] == "Say hi"
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import json
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Self, TypeAlias, cast

import orjson

__all__ = [
    "DEFAULT_TEXT",
    "DropReply",
    "FakeResponsesProvider",
    "HTTPErrorReply",
    "RecordedRequest",
    "Reply",
    "SSEEvent",
    "SSEReply",
    "StallReply",
    "drop",
    "event",
    "events",
    "http_error",
    "reasoning",
    "response_failed",
    "stall",
    "text",
    "tool_call",
]

DEFAULT_TEXT: Final = "Hello from the fake provider"
"""The assistant text of the reply served when the queue is empty."""

_ids = itertools.count(1)
_POLL_SECONDS: Final = 0.05


def _next_id(prefix: str) -> str:
    return f"{prefix}_fake_{next(_ids)}"


# --------------------------------------------------------------------------------------------
# Events and replies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SSEEvent:
    """One server-sent event: an ``event:`` line named ``type`` and a ``data:`` line of JSON."""

    type: str
    data: Mapping[str, Any]

    def encode(self) -> bytes:
        """The wire form: ``event: TYPE``, ``data: JSON`` and a blank line."""
        return b"event: " + self.type.encode() + b"\ndata: " + orjson.dumps(self.data) + b"\n\n"


@dataclass(frozen=True)
class SSEReply:
    """A ``200 text/event-stream`` reply that sends ``events`` in order, then ends the stream.

    Codex fails the turn unless a ``response.completed`` event is among them.
    """

    events: tuple[SSEEvent, ...]


@dataclass(frozen=True)
class StallReply:
    """Send ``before``, then hold the stream open until released, closed, or abandoned.

    The stream is released by :meth:`FakeResponsesProvider.release` or by setting ``gate``.
    After release, ``then`` is sent (its ``response.created`` is skipped, one was already sent)
    and the stream ends; without ``then`` the stream just ends, and codex reports
    "stream closed before response.completed".
    """

    before: tuple[SSEEvent, ...]
    then: SSEReply | None = None
    gate: threading.Event | None = None


@dataclass(frozen=True)
class HTTPErrorReply:
    """A plain HTTP error: ``status`` with a JSON ``body``; no event stream at all."""

    status: int
    body: bytes


@dataclass(frozen=True)
class DropReply:
    """Send ``before``, then close the socket mid-stream, without ending the chunked body."""

    before: tuple[SSEEvent, ...]


Reply: TypeAlias = SSEReply | StallReply | HTTPErrorReply | DropReply
"""Anything :meth:`FakeResponsesProvider.enqueue` accepts."""


def event(type: str, **fields: Any) -> SSEEvent:
    """One event with JSON data ``{"type": type, **fields}``; combine them with :func:`events`."""
    return SSEEvent(type, {"type": type, **fields})


def events(*items: SSEEvent | SSEReply) -> SSEReply:
    """A reply made of hand-built events and other replies' events, in order.

    Example: ``events(event("response.created", response={"id": "r1"}), text("hi"))`` sends
    the first event, then everything ``text("hi")`` sends.
    """
    collected: list[SSEEvent] = []
    for item in items:
        if isinstance(item, SSEReply):
            collected.extend(item.events)
        else:
            collected.append(item)
    return SSEReply(tuple(collected))


def _usage(input_tokens: int = 10, output_tokens: int = 5) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": None,
        "output_tokens": output_tokens,
        "output_tokens_details": None,
        "total_tokens": input_tokens + output_tokens,
    }


def _created(response_id: str) -> SSEEvent:
    return event("response.created", response={"id": response_id})


def _completed(response_id: str, *, usage: bool = True) -> SSEEvent:
    response: dict[str, Any] = {"id": response_id}
    if usage:
        response["usage"] = _usage()
    return event("response.completed", response=response)


def _message_item(item_id: str, content_text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "role": "assistant",
        "id": item_id,
        "content": [{"type": "output_text", "text": content_text}],
    }


def _message_events(message: str, deltas: Sequence[str] | None) -> list[SSEEvent]:
    item_id = _next_id("msg")
    out: list[SSEEvent] = []
    if deltas is not None:
        out.append(event("response.output_item.added", item=_message_item(item_id, "")))
        out.extend(
            event("response.output_text.delta", item_id=item_id, delta=piece) for piece in deltas
        )
    out.append(event("response.output_item.done", item=_message_item(item_id, message)))
    return out


def _body(reply: SSEReply) -> list[SSEEvent]:
    """A reply's events without its ``response.created`` and ``response.completed``."""
    return [e for e in reply.events if e.type not in ("response.created", "response.completed")]


def text(message: str, *, deltas: Sequence[str] | None = None, usage: bool = True) -> SSEReply:
    """An assistant message, then ``response.completed``: the model's final answer for a turn.

    Args:
        message: the full text; codex shows it as the ``agentMessage`` item's text.
        deltas: if given, the message is first announced empty and then streamed as these
            pieces (each one an ``item/agentMessage/delta`` notification). Pass pieces that
            join to ``message``; nothing checks it.
        usage: include token usage in ``response.completed`` (codex then reports
            ``thread/tokenUsage/updated``).
    """
    response_id = _next_id("resp")
    return SSEReply(
        (
            _created(response_id),
            *_message_events(message, deltas),
            _completed(response_id, usage=usage),
        )
    )


def reasoning(
    summary: str, *, deltas: Sequence[str] | None = None, then: SSEReply | None = None
) -> SSEReply:
    """A reasoning item with a summary, followed by the output of ``then`` (default: a text).

    Args:
        summary: the reasoning summary text (codex reports ``item/reasoning/summaryTextDelta``
            for each delta and a ``reasoning`` item with ``summary: [summary]``).
        deltas: the summary's streamed pieces; by default the whole summary is one delta.
        then: what the model does after reasoning, e.g. ``text("answer")`` or ``tool_call(...)``.
    """
    response_id = _next_id("resp")
    item_id = _next_id("rs")
    pieces = [summary] if deltas is None else list(deltas)
    after = then if then is not None else text(DEFAULT_TEXT)
    return SSEReply(
        (
            _created(response_id),
            event(
                "response.output_item.added",
                item={"type": "reasoning", "id": item_id, "summary": [], "content": []},
            ),
            *(
                event(
                    "response.reasoning_summary_text.delta",
                    item_id=item_id,
                    summary_index=0,
                    delta=piece,
                )
                for piece in pieces
            ),
            event(
                "response.output_item.done",
                item={
                    "type": "reasoning",
                    "id": item_id,
                    "summary": [{"type": "summary_text", "text": summary}],
                    "content": [],
                },
            ),
            *_body(after),
            _completed(response_id),
        )
    )


def tool_call(
    command: str,
    *,
    call_id: str | None = None,
    yield_time_ms: int = 500,
    workdir: str | None = None,
    extra_arguments: Mapping[str, Any] | None = None,
    tool: str = "exec_command",
) -> SSEReply:
    """A ``function_call`` of codex's ``exec_command`` tool, then ``response.completed``.

    Codex runs ``command`` through a shell (asking for approval first if the thread's policy
    says so), then POSTs again with a ``function_call_output`` in ``input``: queue the reply to
    that second request too, usually a :func:`text`.

    Args:
        command: the shell command line (the tool's ``cmd`` argument).
        call_id: the call id echoed in the ``function_call_output``; generated if omitted.
        yield_time_ms: how long codex waits for output before returning to the model.
        workdir: the command's working directory (default: the thread's cwd).
        extra_arguments: more tool arguments, e.g. ``{"sandbox_permissions":
            "require_escalated", "justification": "..."}``.
        tool: the function name, for tools other than ``exec_command``.
    """
    arguments: dict[str, Any] = {"cmd": command, "yield_time_ms": yield_time_ms}
    if workdir is not None:
        arguments["workdir"] = workdir
    if extra_arguments:
        arguments.update(extra_arguments)
    response_id = _next_id("resp")
    item = {
        "type": "function_call",
        "id": _next_id("fc"),
        "call_id": call_id if call_id is not None else _next_id("call"),
        "name": tool,
        "arguments": json.dumps(arguments),
    }
    return SSEReply(
        (
            _created(response_id),
            event("response.output_item.done", item=item),
            _completed(response_id),
        )
    )


def stall(
    *,
    before: Iterable[SSEEvent] | SSEReply | None = None,
    then: SSEReply | None = None,
    gate: threading.Event | None = None,
) -> StallReply:
    """A stream that stops after its first event(s) and waits.

    Use it to test interrupts, steering and idle timeouts: the model call stays in flight
    until :meth:`FakeResponsesProvider.release` is called (or ``gate`` is set), until codex
    disconnects, or until the provider closes.

    Args:
        before: the events sent before stalling; default a single ``response.created``.
        then: sent after release (minus its ``response.created``), e.g. ``text("resumed")``;
            without it the stream just ends after release.
        gate: a private release switch for this one stream, instead of ``release()``.
    """
    if before is None:
        first: tuple[SSEEvent, ...] = (_created(_next_id("resp")),)
    elif isinstance(before, SSEReply):
        first = before.events
    else:
        first = tuple(before)
    return StallReply(first, then, gate)


def http_error(status: int, body: str | bytes | Mapping[str, Any] | None = None) -> HTTPErrorReply:
    """An HTTP error status instead of an event stream, e.g. ``http_error(500)``.

    With ``request_max_retries = 0`` codex fails the turn at once (500 gives
    ``codexErrorInfo: "internalServerError"``). The default body is an OpenAI-style
    ``{"error": {...}}`` object; a string or mapping replaces it.
    """
    if body is None:
        payload = orjson.dumps(
            {
                "error": {
                    "message": f"fake provider error (HTTP {status})",
                    "type": "invalid_request_error" if 400 <= status < 500 else "server_error",
                    "code": None,
                    "param": None,
                }
            }
        )
    elif isinstance(body, bytes):
        payload = body
    elif isinstance(body, str):
        payload = body.encode()
    else:
        payload = orjson.dumps(body)
    return HTTPErrorReply(status, payload)


def response_failed(
    message: str = "fake response.failed", *, code: str = "server_error"
) -> SSEReply:
    """A stream that ends in ``response.failed``: codex fails the turn with ``message``."""
    response_id = _next_id("resp")
    return SSEReply(
        (
            _created(response_id),
            event(
                "response.failed",
                response={"id": response_id, "error": {"code": code, "message": message}},
            ),
        )
    )


def drop(*, before: Iterable[SSEEvent] | SSEReply | None = None) -> DropReply:
    """A stream whose socket is closed abruptly after ``before`` (default ``response.created``).

    Codex sees a transport error ("error decoding response body") and fails the turn.
    """
    if before is None:
        first: tuple[SSEEvent, ...] = (_created(_next_id("resp")),)
    elif isinstance(before, SSEReply):
        first = before.events
    else:
        first = tuple(before)
    return DropReply(first)


# --------------------------------------------------------------------------------------------
# Recorded requests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the provider received, as codex sent it.

    ``headers`` has lower-case names; ``body`` is the parsed JSON body, or ``None`` when the
    body was empty or not JSON (``raw_body`` always has the bytes).
    """

    method: str
    path: str
    headers: Mapping[str, str]
    raw_body: bytes
    body: Any = field(default=None)

    @property
    def input(self) -> list[dict[str, Any]]:
        """The ``input`` items of a Responses request (the whole conversation so far)."""
        return [_as_dict(item) for item in _as_list(_as_dict(self.body).get("input"))]

    def input_texts(self, role: str | None = "user") -> list[str]:
        """The text parts of the ``input`` messages with ``role`` (any role if ``None``), in order.

        Codex adds its own user messages (environment context) before the user's text, so the
        last entry is usually what the turn asked.
        """
        texts: list[str] = []
        for item in self.input:
            if item.get("type", "message") != "message":
                continue
            if role is not None and item.get("role") != role:
                continue
            content: object = item.get("content")
            if isinstance(content, str):
                texts.append(content)
                continue
            for part in _as_list(content):
                part_text: object = _as_dict(part).get("text")
                if isinstance(part_text, str):
                    texts.append(part_text)
        return texts

    def input_types(self) -> list[str]:
        """The ``type`` of each input item, with the role for messages (``"message:user"``)."""
        out: list[str] = []
        for item in self.input:
            kind = str(item.get("type", "message"))
            out.append(f"{kind}:{item.get('role')}" if kind == "message" else kind)
        return out

    def function_call_outputs(self) -> dict[str, str]:
        """The tool results codex sends back, by ``call_id``."""
        outputs: dict[str, str] = {}
        for item in self.input:
            if item.get("type") == "function_call_output":
                output: object = item.get("output")
                outputs[str(item.get("call_id"))] = (
                    output if isinstance(output, str) else json.dumps(output)
                )
        return outputs

    def tool_names(self) -> list[str]:
        """The names of the tools codex offered the model in this request."""
        names: list[str] = []
        for tool in _as_list(_as_dict(self.body).get("tools")):
            name: object = _as_dict(tool).get("name")
            if isinstance(name, str):
                names.append(name)
        return names


def _as_dict(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty dict."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def _as_list(value: object) -> list[Any]:
    """``value`` if it is a JSON array, else an empty list."""
    return cast("list[Any]", value) if isinstance(value, list) else []


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], provider: FakeResponsesProvider) -> None:
        self.provider = provider
        super().__init__(address, _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeResponsesProvider/1"
    timeout = 30.0

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read :attr:`FakeResponsesProvider.requests` instead."""

    @property
    def _provider(self) -> FakeResponsesProvider:
        return cast(_Server, self.server).provider

    def handle(self) -> None:
        provider = self._provider
        if not provider._register(self.connection):  # pyright: ignore[reportPrivateUsage]
            return
        try:
            super().handle()
        except OSError:
            pass  # the peer went away, or close() shut the socket
        finally:
            provider._unregister(self.connection)  # pyright: ignore[reportPrivateUsage]

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _record(self) -> RecordedRequest:
        raw = self._read_body()
        parsed: Any = None
        if raw:
            with contextlib.suppress(orjson.JSONDecodeError):
                parsed = orjson.loads(raw)
        headers = {name.lower(): value for name, value in self.headers.items()}
        return RecordedRequest(self.command, self.path, headers, raw, parsed)

    def _send_json(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
        self.close_connection = True

    def do_GET(self) -> None:
        request = self._record()
        self._provider._record_other(request)  # pyright: ignore[reportPrivateUsage]
        if self.path.split("?", 1)[0].rstrip("/") == "/v1/models":
            self._send_json(200, b'{"models":[]}')
        else:
            self._send_json(404, b'{"error":{"message":"not found"}}')

    def do_POST(self) -> None:
        provider = self._provider
        request = self._record()
        if self.path.split("?", 1)[0].rstrip("/") != "/v1/responses":
            provider._record_other(request)  # pyright: ignore[reportPrivateUsage]
            self._send_json(404, b'{"error":{"message":"not found"}}')
            return
        reply = provider._take_reply(request)  # pyright: ignore[reportPrivateUsage]
        self.close_connection = True
        if isinstance(reply, HTTPErrorReply):
            self._send_json(reply.status, reply.body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        if isinstance(reply, SSEReply):
            self._send_events(reply.events)
            self._end_stream()
        elif isinstance(reply, DropReply):
            self._send_events(reply.before)
            self._abort()
        else:
            self._send_events(reply.before)
            outcome = provider._stall(self.connection, reply.gate)  # pyright: ignore[reportPrivateUsage]
            if outcome != "released":
                self._abort()
                return
            if reply.then is not None:
                self._send_events([e for e in reply.then.events if e.type != "response.created"])
            self._end_stream()

    def _send_events(self, items: Iterable[SSEEvent]) -> None:
        for item in items:
            payload = item.encode()
            self.wfile.write(b"%x\r\n%b\r\n" % (len(payload), payload))
            self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _abort(self) -> None:
        """Close the socket without finishing the chunked body: a dropped connection."""
        with contextlib.suppress(OSError):
            self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _peer_gone(conn: socket.socket) -> bool:
    """Whether the client closed its side (readable with nothing to read, or reset)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        if not readable:
            return False
        return conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class FakeResponsesProvider:
    """A fake OpenAI Responses API endpoint on ``127.0.0.1``, served from a background thread.

    Start it (``with FakeResponsesProvider() as provider:`` or :meth:`start`), write a
    CODEX_HOME whose model provider is :attr:`base_url`, queue replies with :meth:`enqueue`,
    run codex, then assert on :attr:`requests`. Each ``POST /v1/responses`` takes the next
    queued reply; with an empty queue it gets ``default_reply()`` (a :func:`text` saying
    :data:`DEFAULT_TEXT`). ``GET /v1/models`` answers ``{"models": []}``.

    All methods are thread-safe and never block without a bound, so they can be called from
    async code too (the waits are short; use :meth:`wait_for_requests` with a timeout).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        default_reply: Callable[[], Reply] | None = None,
    ) -> None:
        """Prepare a provider; nothing listens until :meth:`start` (or ``with``).

        Args:
            port: the TCP port on 127.0.0.1; 0 picks a free one.
            default_reply: builds the reply for a request when the queue is empty.
        """
        self._port = port
        self._default_reply: Callable[[], Reply] = default_reply or (lambda: text(DEFAULT_TEXT))
        self._cond = threading.Condition()
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._other_requests: list[RecordedRequest] = []
        self._release_permits = 0
        self._stalls_reached = 0
        self._disconnects = 0
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Bind the port and start serving in a daemon thread; returns ``self``."""
        with self._cond:
            if self._closed:
                raise RuntimeError("this FakeResponsesProvider was closed; make a new one")
            if self._server is not None:
                return self
            server = _Server(("127.0.0.1", self._port), self)
            self._server = server
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name=f"FakeResponsesProvider:{server.server_address[1]}",
            daemon=True,
        )
        self._thread = thread
        thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop serving: stalled streams are dropped, open sockets closed, threads joined.

        Idempotent. Waits at most about ``timeout`` seconds in total.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._closed:
                return
            self._closed = True
            server = self._server
            connections = list(self._connections)
            self._cond.notify_all()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if server is not None:
            # serve_forever polls every _POLL_SECONDS; shutdown() waits for that loop to exit.
            stopper = threading.Thread(target=server.shutdown, daemon=True)
            stopper.start()
            stopper.join(max(0.0, deadline - time.monotonic()))
            server.server_close()
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
        with self._cond:
            while self._connections:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, _POLL_SECONDS))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The bound TCP port (only after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("the provider is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the ``base_url`` of codex's model provider."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting -----------------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies; each ``POST /v1/responses`` takes the next one, in order."""
        with self._cond:
            self._queue.extend(replies)

    @property
    def pending_replies(self) -> int:
        """How many queued replies no request has taken yet."""
        with self._cond:
            return len(self._queue)

    def release(self, count: int = 1) -> None:
        """Let ``count`` stalled streams continue (a stream stalled later uses a leftover permit).

        Streams stalled with their own ``gate`` ignore this.
        """
        with self._cond:
            self._release_permits += count
            self._cond.notify_all()

    # -- observation ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every ``POST /v1/responses`` (model call) received, oldest first."""
        with self._cond:
            return list(self._requests)

    @property
    def other_requests(self) -> list[RecordedRequest]:
        """A snapshot of every other request (``GET /v1/models``, unknown paths)."""
        with self._cond:
            return list(self._other_requests)

    @property
    def stalls_reached(self) -> int:
        """How many streams have reached their stall point so far."""
        with self._cond:
            return self._stalls_reached

    @property
    def disconnects(self) -> int:
        """How many stalled streams ended because the client disconnected."""
        with self._cond:
            return self._disconnects

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until at least ``count`` model calls arrived; return them all.

        Raises:
            TimeoutError: fewer arrived within ``timeout`` seconds.
        """
        self._wait(lambda: len(self._requests) >= count, timeout, f"{count} model request(s)")
        return self.requests

    def wait_for_stalls(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block until ``count`` streams have stalled (sent their first events and paused)."""
        self._wait(lambda: self._stalls_reached >= count, timeout, f"{count} stalled stream(s)")

    def wait_for_disconnects(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block until ``count`` stalled streams were abandoned by the client."""
        self._wait(lambda: self._disconnects >= count, timeout, f"{count} disconnect(s)")

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        with self._cond:
            if not self._cond.wait_for(ready, timeout):
                raise TimeoutError(f"FakeResponsesProvider: no {what} within {timeout} s")

    # -- called from handler threads -----------------------------------------------------

    def _register(self, conn: socket.socket) -> bool:
        with self._cond:
            if self._closed:
                return False
            self._connections.add(conn)
            return True

    def _unregister(self, conn: socket.socket) -> None:
        with self._cond:
            self._connections.discard(conn)
            self._cond.notify_all()

    def _record_other(self, request: RecordedRequest) -> None:
        with self._cond:
            self._other_requests.append(request)
            self._cond.notify_all()

    def _take_reply(self, request: RecordedRequest) -> Reply:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
            if self._queue:
                return self._queue.popleft()
        return self._default_reply()

    def _stall(self, conn: socket.socket, gate: threading.Event | None) -> str:
        """Wait for release; returns ``"released"``, ``"disconnected"`` or ``"closed"``."""
        with self._cond:
            self._stalls_reached += 1
            self._cond.notify_all()
            while True:
                if self._closed:
                    return "closed"
                if gate is not None:
                    if gate.is_set():
                        return "released"
                elif self._release_permits > 0:
                    self._release_permits -= 1
                    return "released"
                if _peer_gone(conn):
                    self._disconnects += 1
                    self._cond.notify_all()
                    return "disconnected"
                self._cond.wait(_POLL_SECONDS)
