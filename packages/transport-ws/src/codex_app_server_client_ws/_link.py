"""The small surface the transport needs from a websockets connection, per event loop.

websockets ships one client for asyncio and one for trio with the same message API but
different close and abort calls; a :class:`Link` hides that difference from the transport.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

from ._options import RedactingLogger

if TYPE_CHECKING:
    from ._options import WebSocketSettings

__all__ = ["Link", "connect_kwargs", "open_link"]

logger = logging.getLogger("codex_app_server_client.transport.ws")


class Link(Protocol):
    """One open WebSocket connection, as the transport drives it."""

    cancel_breaks_send: bool
    """Whether a cancelled :meth:`send` may have written part of a frame (then abort)."""

    async def recv(self) -> bytes:
        """The next message's payload, undecoded; raises ``ConnectionClosed`` at the end."""
        ...

    def ready(self) -> bool:
        """Whether :meth:`recv` would return a whole message without waiting.

        ``False`` when that cannot be told; the transport then hands over one message per
        batch, which is correct, only slower.
        """
        ...

    async def send(self, message: bytes) -> None:
        """Send ``message`` as one text frame; raises ``ConnectionClosed`` when closed."""
        ...

    async def close(self) -> None:
        """Closing handshake, bounded by the close timeout, then the socket is dropped."""
        ...

    async def abort(self) -> None:
        """Drop the socket now, without a closing handshake."""
        ...


def connect_kwargs(settings: WebSocketSettings) -> dict[str, Any]:
    """The keyword arguments both websockets clients take, from the settings."""
    return {
        # The codex app-server does not negotiate permessage-deflate; offering it only costs.
        "compression": None,
        # Never an Origin header: the server answers 403 to any.
        "origin": None,
        "additional_headers": settings.request_headers(),
        # A proxy from the environment must not capture a loopback app-server connection.
        "proxy": None,
        "open_timeout": settings.open_timeout,
        "close_timeout": settings.close_timeout,
        "ping_interval": settings.ping_interval,
        "ping_timeout": settings.ping_timeout,
        "max_size": settings.max_message_bytes,
        # No flow control on reading: websockets would stop reading the socket when its queue
        # fills, and the app-server disconnects a client that stops reading. The caller is
        # expected to receive promptly.
        "max_queue": None,
        "logger": RedactingLogger(logger, settings),
    }


@asynccontextmanager
async def open_link(settings: WebSocketSettings, library: str) -> AsyncGenerator[Link, None]:
    """Connect with the websockets client matching ``library`` (``"asyncio"`` or ``"trio"``).

    Errors of the opening handshake propagate unchanged; the caller translates them.
    """
    if library == "trio":
        from ._trio_link import open_trio_link

        async with open_trio_link(settings) as link:
            yield link
    else:
        from ._asyncio_link import open_asyncio_link

        async with open_asyncio_link(settings) as link:
            yield link
