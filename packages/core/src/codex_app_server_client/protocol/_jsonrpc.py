"""The JSON-RPC connection as a sans-I/O state machine: bytes in, events out.

No I/O and no event loop: the caller moves bytes, this object knows the protocol. Feed each
whole message the transport delivered to :meth:`JsonRpcConnection.receive` and act on the
event it returns; send the bytes that the ``send_*`` methods return. Nothing here raises on
bad input: a message that is not valid JSON-RPC becomes a :class:`Malformed` event.

The app-server speaks "JSON-RPC lite": no ``"jsonrpc"`` member on the wire (tolerated when
present), notifications may carry extra top-level members such as ``emittedAtMs``, and every
request must carry ``params`` even when empty. Server-to-client requests number their ids
from 0 in their own sequence; they are answered with exactly the id they came with and never
mixed with this side's request ids, which are integers from 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import orjson

__all__ = [
    "ErrorResponse",
    "Event",
    "JsonRpcConnection",
    "Malformed",
    "Notification",
    "RequestId",
    "Response",
    "ServerRequest",
]

RequestId: TypeAlias = int | str
"""A JSON-RPC request id: this client only mints ints; the server's may be ints or strings."""

INTERNAL_ERROR: Final = -32603
"""Code used for an error response whose error object is itself malformed."""


@dataclass(frozen=True, slots=True)
class Response:
    """A successful answer to one of our requests."""

    request_id: int
    method: str
    """The method of the request this answers."""
    result: Any


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """A JSON-RPC error answer to one of our requests."""

    request_id: int
    method: str
    """The method of the request this answers."""
    code: int
    message: str
    data: Any = None


@dataclass(slots=True)
class Notification:
    """A server notification; ``params`` is ``{}`` when the server sent none.

    Treat it as read-only. (Not a frozen dataclass only because one is made per event and
    frozen-ness doubles the construction cost.)
    """

    method: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ServerRequest:
    """A request from the server that must be answered with :meth:`JsonRpcConnection.send_result`
    or :meth:`JsonRpcConnection.send_error`, using this ``request_id``."""

    request_id: RequestId
    method: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Malformed:
    """A message that could not be understood; log it and carry on.

    ``request_id`` is set when the message was an answer to a request id that is not pending
    (unknown, answered twice, or given up on after a timeout).
    """

    reason: str
    data: bytes
    request_id: RequestId | None = None


Event: TypeAlias = Response | ErrorResponse | Notification | ServerRequest | Malformed
"""Everything :meth:`JsonRpcConnection.receive` can return."""

_EMPTY_PARAMS: Final = b"{}"


def _encode(message: dict[str, Any]) -> bytes:
    return orjson.dumps(message)


def _valid_id(value: object) -> bool:
    # bool is an int subclass but never a valid JSON-RPC id.
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)


class JsonRpcConnection:
    """One JSON-RPC session's protocol state: id allocation and request correlation.

    Typical use by an I/O layer::

        request_id, data = conn.send_request("thread/start", {})
        await transport.send(data)
        ...
        event = conn.receive(await transport.receive())
        if isinstance(event, Response | ErrorResponse):
            ...  # wake whoever waits for event.request_id
    """

    __slots__ = ("_next_id", "_pending")

    def __init__(self) -> None:
        self._next_id = 1
        self._pending: dict[int, str] = {}

    @property
    def pending(self) -> Mapping[int, str]:
        """The ids of requests sent and not yet answered or forgotten, with their methods."""
        return self._pending

    def send_request(
        self, method: str, params: Mapping[str, Any] | None = None
    ) -> tuple[int, bytes]:
        """Encode a request with a fresh id and start tracking it.

        Returns the id and the bytes to send. Send them, then wait for the :class:`Response`
        or :class:`ErrorResponse` with that id; if you stop waiting, call :meth:`forget`.

        Raises:
            TypeError: ``params`` holds something JSON cannot encode (nothing is tracked then).
        """
        request_id = self._next_id
        if params is None or (isinstance(params, dict) and not params):
            data = b'{"id":%d,"method":%b,"params":%b}' % (
                request_id,
                orjson.dumps(method),
                _EMPTY_PARAMS,
            )
        else:
            try:
                data = _encode({"id": request_id, "method": method, "params": params})
            except orjson.JSONEncodeError as exc:
                raise TypeError(f"cannot encode the params of {method!r} as JSON: {exc}") from None
        self._next_id = request_id + 1
        self._pending[request_id] = method
        return request_id, data

    def forget(self, request_id: int) -> None:
        """Stop tracking a request (timed out or cancelled); a late answer becomes Malformed."""
        self._pending.pop(request_id, None)

    def send_notification(self, method: str, params: Mapping[str, Any] | None = None) -> bytes:
        """Encode a notification; ``params`` is omitted when ``None``."""
        if params is None:
            return _encode({"method": method})
        try:
            return _encode({"method": method, "params": params})
        except orjson.JSONEncodeError as exc:
            raise TypeError(f"cannot encode the params of {method!r} as JSON: {exc}") from None

    def send_result(self, request_id: RequestId, result: Any) -> bytes:
        """Encode the successful answer to a :class:`ServerRequest`."""
        try:
            return _encode({"id": request_id, "result": result})
        except orjson.JSONEncodeError as exc:
            raise TypeError(f"cannot encode the result for request {request_id!r}: {exc}") from None

    def send_error(self, request_id: RequestId, code: int, message: str, data: Any = None) -> bytes:
        """Encode a JSON-RPC error answer to a :class:`ServerRequest`."""
        error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        try:
            return _encode({"id": request_id, "error": error})
        except orjson.JSONEncodeError:
            del error["data"]
            return _encode({"id": request_id, "error": error})

    def receive(self, data: bytes) -> Event:
        """Decode one whole message and return what it means. Never raises."""
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            return Malformed(f"not valid JSON: {exc}", data)
        return self._classify(message, data)

    def receive_batch(
        self,
        batch: Iterable[bytes],
        on_notification: Callable[[str, dict[str, Any]], object],
        on_event: Callable[[Event], object],
    ) -> None:
        """Decode whole messages in order and hand each one over as it is decoded.

        A notification goes to ``on_notification(method, params)`` (``params`` is ``{}``
        when the server sent none) without a :class:`Notification` being made for it, since
        notifications are nearly all of the traffic; every other message goes to
        ``on_event`` as the event :meth:`receive` would return. Bad input never raises;
        what a callback raises propagates and leaves the rest of the batch unread, so
        callbacks that must not stop the batch catch their own errors.
        """
        loads = orjson.loads
        for data in batch:
            try:
                message = loads(data)
            except orjson.JSONDecodeError as exc:
                on_event(Malformed(f"not valid JSON: {exc}", data))
                continue
            # Fast path for the bulk of the traffic: a well-formed notification.
            if message.__class__ is dict and "id" not in message:
                method = message.get("method")
                if method.__class__ is str:
                    params = message.get("params")
                    if params.__class__ is dict:
                        on_notification(method, params)
                        continue
                    if params is None:
                        on_notification(method, {})
                        continue
            event = self._classify(message, data)
            if isinstance(event, Notification):
                on_notification(event.method, event.params)
            else:
                on_event(event)

    def _classify(self, message: object, data: bytes) -> Event:
        if not isinstance(message, dict):
            kind = type(message).__name__
            return Malformed(f"a JSON-RPC message must be an object, got {kind}", data)
        msg: dict[str, Any] = message  # pyright: ignore[reportUnknownVariableType]
        method = msg.get("method")
        if method is not None:
            return self._receive_call(msg, method, data)
        if "result" in msg or "error" in msg:
            return self._receive_answer(msg, data)
        return Malformed("neither a request, a notification nor a response", data)

    def _receive_call(self, msg: dict[str, Any], method: object, data: bytes) -> Event:
        if not isinstance(method, str):
            return Malformed("'method' is not a string", data)
        params = msg.get("params")
        if params is None:
            params = {}
        elif not isinstance(params, dict):
            return Malformed(f"params of {method!r} is not an object", data)
        request_id = msg.get("id")
        if request_id is None:
            return Notification(method, params)  # pyright: ignore[reportUnknownArgumentType]
        if not _valid_id(request_id):
            return Malformed(f"server request {method!r} has an invalid id", data)
        return ServerRequest(request_id, method, params)  # pyright: ignore[reportUnknownArgumentType]

    def _receive_answer(self, msg: dict[str, Any], data: bytes) -> Event:
        raw_id = msg.get("id")
        request_id: object = raw_id
        # Some peers echo numeric ids as strings; correlate "7" with 7.
        # isascii(): str.isdigit() also accepts digits such as "²" that int() rejects; the
        # length bound keeps int() away from its huge-number limit.
        if isinstance(raw_id, str) and raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 19:
            request_id = int(raw_id)
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            if "error" in msg:
                return Malformed(f"error response without a usable id: {msg['error']!r}", data)
            return Malformed("response without a usable id", data)
        method = self._pending.pop(request_id, None)
        if method is None:
            return Malformed(
                f"response to request id {request_id}, which is not pending (unknown, already "
                "answered, or given up on)",
                data,
                request_id,
            )
        if "error" not in msg:
            return Response(request_id, method, msg["result"])
        error = msg["error"]
        if isinstance(error, dict):
            code = error.get("code")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            message = error.get("message")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if isinstance(code, int) and not isinstance(code, bool) and isinstance(message, str):
                return ErrorResponse(request_id, method, code, message, error.get("data"))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        # The request is answered, just badly: still fail it rather than leave it waiting.
        return ErrorResponse(
            request_id, method, INTERNAL_ERROR, f"the server sent a malformed error: {error!r}"
        )
