"""An in-memory transport pair: both ends of one connection inside the current process.

Use it to run a client against :class:`~codex_app_server_client.testing.FakeAppServer` with no
process and no socket, or as the simplest example of the transport contract.
"""

from __future__ import annotations

import math

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ..errors import CodexTransportError

__all__ = ["MemoryTransport", "memory_transport_pair"]


class MemoryTransport:
    """One end of an in-memory connection; see :func:`memory_transport_pair`."""

    def __init__(
        self,
        send_stream: MemoryObjectSendStream[bytes],
        receive_stream: MemoryObjectReceiveStream[bytes],
    ) -> None:
        self._send_stream = send_stream
        self._receive_stream = receive_stream
        self._closed = False

    async def send(self, message: bytes) -> None:
        """Queue one message for the other end; never blocks with the default buffer."""
        if self._closed:
            raise CodexTransportError("cannot send: this in-memory transport is closed")
        try:
            await self._send_stream.send(message)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise CodexTransportError(
                "cannot send: the other end of the in-memory transport is closed"
            ) from None

    async def receive(self) -> bytes:
        """The next message from the other end; ``anyio.EndOfStream`` once it has closed."""
        if self._closed:
            raise CodexTransportError("cannot receive: this in-memory transport is closed")
        try:
            # A queued message is handed out without a checkpoint, so a reader drains the
            # whole queue in one event-loop pass.
            return self._receive_stream.receive_nowait()
        except anyio.WouldBlock:
            pass
        except anyio.ClosedResourceError:
            raise CodexTransportError(
                "the in-memory transport was closed while receiving"
            ) from None
        try:
            return await self._receive_stream.receive()
        except anyio.ClosedResourceError:
            raise CodexTransportError(
                "the in-memory transport was closed while receiving"
            ) from None

    async def receive_batch(self) -> list[bytes]:
        """Every message queued from the other end, waiting for one if there is none.

        ``anyio.EndOfStream`` once the other end has closed and the queue is empty.
        """
        batch = [await self.receive()]
        stream = self._receive_stream
        try:
            while True:
                batch.append(stream.receive_nowait())
        except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
            # The end, if that is what came, is raised by the next call.
            return batch

    async def send_eof(self) -> None:
        """Tell the other end that nothing more will be sent; receiving still works."""
        self._send_stream.close()

    async def aclose(self) -> None:
        """Close both directions; idempotent and immediate."""
        self._closed = True
        self._send_stream.close()
        self._receive_stream.close()


def memory_transport_pair(
    max_buffer: float = math.inf,
) -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected transports: what one sends, the other receives.

    Args:
        max_buffer: messages each direction may hold before ``send`` waits; unbounded by
            default, like a socket buffer that never fills.
    """
    a_send, b_receive = anyio.create_memory_object_stream[bytes](max_buffer)
    b_send, a_receive = anyio.create_memory_object_stream[bytes](max_buffer)
    return MemoryTransport(a_send, a_receive), MemoryTransport(b_send, b_receive)
