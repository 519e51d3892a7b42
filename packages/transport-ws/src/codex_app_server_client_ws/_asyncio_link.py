"""The :class:`~._link.Link` over websockets' asyncio client."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

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

    async def recv(self) -> bytes:
        return await self._connection.recv(decode=False)

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
