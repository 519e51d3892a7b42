"""The :class:`~._link.Link` over websockets' asyncio client."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect

from ._link import connect_kwargs

if TYPE_CHECKING:
    from ._options import WebSocketSettings

__all__ = ["AsyncioLink", "open_asyncio_link"]


class AsyncioLink:
    """A websockets asyncio client connection seen as a :class:`~._link.Link`."""

    # websockets writes a whole frame to the asyncio transport's buffer before it waits for
    # the buffer to drain, so a cancelled send never leaves half a frame behind.
    cancel_breaks_send = False

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection
        # websockets parses every frame of a socket read at once and queues them in
        # recv_messages.frames.queue. Peeking at that deque tells whether a whole message is
        # already there, so receive_batch can drain a burst in one go. It is not public API:
        # if it ever moves, ready() answers False and batches hold one message each.
        queue = getattr(getattr(connection.recv_messages, "frames", None), "queue", None)
        self._queue: deque[Any] | None = queue if isinstance(queue, deque) else None

    async def recv(self) -> bytes:
        return await self._connection.recv(decode=False)

    def ready(self) -> bool:
        queue = self._queue
        # The first queued frame ends its message (fin): recv() returns without waiting.
        return bool(queue) and queue[0].fin is True  # pyright: ignore[reportOptionalSubscript]

    async def send(self, message: bytes) -> None:
        # text=True sends the (already UTF-8) bytes in a text frame without decoding them.
        await self._connection.send(message, text=True)

    async def close(self) -> None:
        await self._connection.close()

    async def abort(self) -> None:
        self._connection.transport.abort()


@asynccontextmanager
async def open_asyncio_link(settings: WebSocketSettings) -> AsyncGenerator[AsyncioLink, None]:
    """Connect on asyncio; leaving closes the connection."""
    kwargs = connect_kwargs(settings)
    if settings.ssl is not None:
        kwargs["ssl"] = settings.ssl
    async with connect(settings.url, **kwargs) as connection:
        yield AsyncioLink(connection)
