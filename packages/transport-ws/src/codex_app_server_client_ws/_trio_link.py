"""The :class:`~._link.Link` over websockets' trio client."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import trio
from websockets.trio.client import ClientConnection, connect

from ._link import connect_kwargs

if TYPE_CHECKING:
    from ._options import WebSocketSettings

__all__ = ["TrioLink", "open_trio_link"]


class TrioLink:
    """A websockets trio client connection seen as a :class:`~._link.Link`."""

    # A trio stream cancelled in the middle of a write may have sent part of a frame, after
    # which nothing can be framed correctly any more.
    cancel_breaks_send = True

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection
        _skip_idle_flushes(connection)

    async def recv(self) -> bytes:
        return await self._connection.recv(decode=False)

    def ready(self) -> bool:
        # websockets' trio client queues frames in a trio memory channel, whose receive
        # always checkpoints: draining it could be interrupted between two messages. So no
        # batching on trio: each batch is one message.
        return False

    async def send(self, message: bytes) -> None:
        # text=True sends the (already UTF-8) bytes in a text frame without decoding them.
        await self._connection.send(message, text=True)

    async def close(self) -> None:
        await self._connection.aclose()

    async def abort(self) -> None:
        await trio.aclose_forcefully(self._connection.stream)


def _skip_idle_flushes(connection: ClientConnection) -> None:
    """Keep websockets' trio reader from queueing behind a send that cannot finish.

    After every chunk it reads, websockets' trio connection flushes the protocol's outgoing
    buffer under the send lock, even when there is nothing to write. A send stuck on a full
    socket (a server that stopped reading) holds that lock, so the reader would stop too and
    no answer or notification would arrive any more. Flush only when something is queued:
    automatic replies (pong, close) still go out, in order, behind the stuck send.
    """
    flush = connection.send_data

    async def send_data() -> None:
        if connection.protocol.writes:
            await flush()

    connection.send_data = send_data  # type: ignore[method-assign]


@asynccontextmanager
async def open_trio_link(settings: WebSocketSettings) -> AsyncGenerator[TrioLink, None]:
    """Connect on trio; leaving closes the connection and joins websockets' helper tasks."""
    kwargs = connect_kwargs(settings)
    if settings.ssl is not None:
        kwargs["ssl"] = settings.ssl
    async with connect(settings.url, **kwargs) as connection:
        yield TrioLink(connection)
