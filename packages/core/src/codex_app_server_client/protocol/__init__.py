"""The protocol engine, sans-I/O: pure state machines with no event loop and no I/O.

:class:`JsonRpcConnection` turns whole messages (bytes) into events and requests into bytes,
in the manner of the ``websockets`` library's protocol core. :class:`TurnRouter` routes
notifications to the turns being tracked and folds them into :class:`TurnState` objects.
The async client is thin glue around both; another front end (a different event loop, a
replay tool) can reuse them as they are.
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
from ._turns import TERMINAL_STATUSES, TurnRouter, TurnState, pick_final_text, step_from_item

__all__ = [
    "TERMINAL_STATUSES",
    "TurnRouter",
    "TurnState",
    "pick_final_text",
    "step_from_item",
    "ErrorResponse",
    "Event",
    "JsonRpcConnection",
    "Malformed",
    "Notification",
    "RequestId",
    "Response",
    "ServerRequest",
]
