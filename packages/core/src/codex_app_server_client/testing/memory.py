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


class _Backlog:
    """How many messages one direction holds that its receiver has not taken yet.

    Only a hint, kept by the two ends of a pair: it lets a batch stop draining when the
    queue is empty without first failing a ``receive_nowait`` (an exception per batch).
    """

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


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
        # Set by memory_transport_pair, which shares each direction's backlog between the
        # two ends; an end made otherwise drains until the queue reports empty.
        self._outgoing: _Backlog | None = None
        self._incoming: _Backlog | None = None

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
        if self._outgoing is not None:
            self._outgoing.count += 1

    async def receive(self) -> bytes:
        """The next message from the other end; ``anyio.EndOfStream`` once it has closed."""
        if self._closed:
            raise CodexTransportError("cannot receive: this in-memory transport is closed")
        stream = self._receive_stream
        try:
            try:
                # A queued message is handed out without a checkpoint, so a reader drains
                # the whole queue in one event-loop pass.
                message = stream.receive_nowait()
            except anyio.WouldBlock:
                message = await stream.receive()
        except anyio.ClosedResourceError:
            raise CodexTransportError(
                "the in-memory transport was closed while receiving"
            ) from None
        if self._incoming is not None:
            self._incoming.count -= 1
        return message

    async def receive_batch(self) -> list[bytes]:
        """Every message queued from the other end, waiting for one if there is none.

        ``anyio.EndOfStream`` once the other end has closed and the queue is empty.
        """
        batch = [await self.receive()]
        backlog = self._incoming
        stream = self._receive_stream
        while backlog is None or backlog.count > 0:
            try:
                batch.append(stream.receive_nowait())
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                # Empty after all (another receiver took it), or the end came: that is
                # raised by the next call.
                break
            if backlog is not None:
                backlog.count -= 1
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
    a, b = MemoryTransport(a_send, a_receive), MemoryTransport(b_send, b_receive)
    a._outgoing = b._incoming = _Backlog()  # pyright: ignore[reportPrivateUsage]
    b._outgoing = a._incoming = _Backlog()  # pyright: ignore[reportPrivateUsage]
    return a, b
