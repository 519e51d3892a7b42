"""WebSocket transport for codex-app-server-client: ``ws://`` and ``wss://`` URLs.

Installing this distribution is enough: the client finds the transport through the
``codex_app_server_client`` entry point when given a ``ws://HOST:PORT`` URL. Import from here
only to open a transport yourself (:func:`open_websocket`) or to name its type
(:class:`WebSocketTransport`).

Names are loaded lazily so that resolving any transport never imports websockets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._options import OPTION_NAMES
    from ._transport import WebSocketTransport, open_websocket

__all__ = ["OPTION_NAMES", "WebSocketTransport", "open_websocket"]


def __getattr__(name: str) -> Any:
    if name == "OPTION_NAMES":
        from ._options import OPTION_NAMES

        return OPTION_NAMES
    if name in ("WebSocketTransport", "open_websocket"):
        from . import _transport

        return getattr(_transport, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
