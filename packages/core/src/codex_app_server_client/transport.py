"""The transport contract: how core moves whole messages without knowing the wire.

A transport carries **whole messages as bytes**: one item is exactly one UTF-8 JSON document.
Framing (a line on stdio, a text frame on a websocket) belongs to the transport; JSON belongs
to core, so a transport never parses or builds JSON.

The contract, which :class:`codex_app_server_client.testing.conformance.TransportConformance`
checks for any implementation:

- ``await send(message)`` delivers one message, whole and in order. Concurrent calls never
  interleave. After ``aclose()``, or once the connection is broken, it raises
  :class:`~codex_app_server_client.errors.CodexTransportError`.
- ``await receive()`` returns the next whole message. When the peer ends the connection
  cleanly it raises :class:`anyio.EndOfStream`, and keeps raising it. A broken connection
  raises :class:`~codex_app_server_client.errors.CodexTransportError` (with the stderr tail
  when a child process is involved), and so does ``receive()`` after ``aclose()``. A
  ``receive()`` cancelled by its caller loses no message and leaves the transport usable or
  cleanly closed.
- A connection that breaks abruptly (the peer vanishes mid-stream: its process is killed,
  its socket is dropped or reset with no goodbye) ends a waiting ``receive()`` promptly with
  ``CodexTransportError``, or with ``anyio.EndOfStream`` where the wire cannot tell the break
  from a clean end; never with another exception, never by hanging. ``send()`` then raises
  ``CodexTransportError``.
- ``await aclose()`` releases everything, is idempotent, and finishes in bounded time even
  when the peer does not cooperate: core calls it inside a shielded cancel scope, so the
  implementation must bound its own waits.
- ``await send_eof()`` is optional (see :class:`SupportsSendEof`): it tells the peer that no
  more messages will come while still receiving (closing a child's stdin, for example).
- ``await receive_batch()`` is optional (see :class:`SupportsReceiveBatch`): it waits like
  ``receive()`` and then also hands over every whole message already buffered behind the
  first, so that core pays one call, not one per message, when the peer streams fast.

A plugin makes a transport available by returning a :class:`TransportSpec` from the hook in
:mod:`codex_app_server_client.hookspecs`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "SupportsReceiveBatch",
    "SupportsSendEof",
    "Transport",
    "TransportOpener",
    "TransportSpec",
]


@runtime_checkable
class Transport(Protocol):
    """A duplex channel of whole messages (bytes) to one app-server connection."""

    async def send(self, message: bytes) -> None:
        """Deliver one whole message to the peer."""
        ...

    async def receive(self) -> bytes:
        """Wait for and return the next whole message from the peer."""
        ...

    async def aclose(self) -> None:
        """Close the connection and release its resources; idempotent and bounded."""
        ...


@runtime_checkable
class SupportsSendEof(Protocol):
    """A transport that can half-close: the peer sees end of input, replies still arrive."""

    async def send_eof(self) -> None:
        """Signal that no further message will be sent."""
        ...


@runtime_checkable
class SupportsReceiveBatch(Protocol):
    """A transport that can hand over all the messages it already holds in one call.

    Core's reader uses :meth:`receive_batch` instead of :meth:`Transport.receive` when a
    transport has it. A transport that reads in chunks (a pipe, a socket) splits a whole
    chunk at once here, which is much cheaper than one call per message.
    """

    async def receive_batch(self) -> list[bytes]:
        """Wait for the next whole message; return it with every whole message already
        buffered after it, in order. The list is never empty.

        Ends and failures are those of :meth:`Transport.receive`, raised only once no
        message is left to hand over: messages received before the end come first, in
        a batch of their own. Calls to ``receive`` and ``receive_batch`` may be mixed; each
        message is delivered once, in order. Core cancels a ``receive_batch`` only when it
        is shutting the connection down, so what a cancelled call leaves behind is not part
        of the contract.
        """
        ...


TransportOpener = Callable[[str, Mapping[str, Any]], AbstractAsyncContextManager[Transport]]
"""Opens a transport: ``opener(url, options)`` returns an async context manager.

Entering it connects (starts the process, performs the websocket handshake) and yields the
:class:`Transport`; leaving it closes the transport. Options are the keyword arguments the
user gave the client beyond the client's own, for example ``command`` or ``token``; an opener
rejects options it does not know with a :class:`TypeError` naming them.
"""


@dataclass(frozen=True, slots=True)
class TransportSpec:
    """What a plugin registers: a named transport, the URL schemes it serves, its opener.

    Attributes:
        name: short unique name, such as ``"stdio"`` or ``"ws"``.
        schemes: URL schemes served, lower case and without ``://``, e.g. ``("ws", "wss")``.
        open: the :data:`TransportOpener`.
        summary: one line for listings and error messages.
        options: names of the options ``open`` accepts, for documentation and error messages.
    """

    name: str
    schemes: tuple[str, ...]
    open: TransportOpener = field(repr=False)
    summary: str = ""
    options: tuple[str, ...] = ()
