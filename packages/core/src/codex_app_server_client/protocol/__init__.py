"""The protocol engine, sans-I/O: pure state machines with no event loop and no I/O.

:class:`JsonRpcConnection` turns whole messages (bytes) into events and requests into bytes,
in the manner of the ``websockets`` library's protocol core. The async client is thin glue
around it; another front end (a different event loop, a replay tool) can reuse it as is.
"""

from __future__ import annotations

from ._jsonrpc import (
    ErrorResponse,
    Event,
    JsonRpcConnection,
    Malformed,
    Notification,
    RequestId,
    Response,
    ServerRequest,
)

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
