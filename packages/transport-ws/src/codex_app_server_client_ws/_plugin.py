"""The ``ws`` plugin: registers the WebSocket transport for ``ws://`` and ``wss://`` URLs.

Every plugin module is imported whenever any transport is resolved, so this one imports only
core; websockets is imported when a connection is actually opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from codex_app_server_client.hookspecs import hookimpl
from codex_app_server_client.transport import Transport, TransportSpec

from ._options import OPTION_NAMES

__all__ = ["codex_app_server_client_transports", "open_websocket"]


def open_websocket(url: str, options: Mapping[str, Any]) -> AbstractAsyncContextManager[Transport]:
    """Open a WebSocket transport; see :func:`codex_app_server_client_ws.open_websocket`."""
    from ._transport import open_websocket as open_transport

    return open_transport(url, options)


@hookimpl(trylast=True)
def codex_app_server_client_transports() -> list[TransportSpec]:
    """Declare the ``ws`` transport.

    Marked ``trylast`` so that any other installed plugin serving ``ws://`` or ``wss://``
    overrides this first-party one on purpose rather than by install order.
    """
    return [
        TransportSpec(
            name="ws",
            schemes=("ws", "wss"),
            open=open_websocket,
            summary="WebSocket to `codex app-server --listen ws://HOST:PORT` (one message per "
            "text frame)",
            options=OPTION_NAMES,
        )
    ]
