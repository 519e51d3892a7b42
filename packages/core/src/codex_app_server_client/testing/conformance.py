"""The transport conformance contract: an abstract test class every transport must pass.

A transport package proves itself by subclassing :class:`TransportConformance` in its tests
and telling it how to open a connected pair (the transport under test, and a
:class:`TransportPeer` that plays the server's side of the same connection) and how to break
that connection abruptly::

    # tests/test_my_transport_conformance.py
    from codex_app_server_client.testing.conformance import TransportConformance

    class TestMyTransport(TransportConformance):
        supports_receive_batch = True   # if the transport has receive_batch

        def open_pair(self):
            return open_my_transport_and_peer()   # async context manager -> (transport, peer)

        async def break_abruptly(self, transport, peer):
            await peer.reset()   # no goodbye: reset the socket, kill the process, ...

Enable the SDK's pytest plugin (``-p codex_app_server_client.testing.pytest_plugin`` or
``pytest_plugins = [...]`` in a conftest) so that the async tests run under anyio. Each
contract is its own test with its own id; none sleeps; every wait is bounded.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import ClassVar, Protocol

import anyio
import pytest

from ..errors import CodexTransportError
from ..transport import SupportsReceiveBatch, SupportsSendEof, Transport

__all__ = ["TransportConformance", "TransportPeer"]

WAIT = 10.0
"""Seconds any single step of a contract may take before the test fails as hung. Generous,
because a 16 MiB message through a subprocess relay on a loaded two-core machine is slow."""


class TransportPeer(Protocol):
    """The server's end of a connection under test.

    ``receive`` raises :class:`anyio.EndOfStream` once the client has closed its side (or sent
    EOF); ``aclose`` ends the connection from the server's side, which the transport must
    report to its caller as :class:`anyio.EndOfStream`.
    """

    async def send(self, message: bytes) -> None: ...

    async def receive(self) -> bytes: ...

    async def aclose(self) -> None: ...


async def _cancel_while_waiting(receive: Callable[[], Awaitable[object]]) -> None:
    """Start ``receive`` in a task, cancel it once it is blocked, and check it was cancelled."""
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:

            async def receive_then_cancel() -> None:
                await receive()

            tg.start_soon(receive_then_cancel)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
    assert scope.cancelled_caught


def _message(tag: str, size: int = 0) -> bytes:
    """A JSON document of at least ``size`` bytes that names itself with ``tag``."""
    pad = "x" * max(0, size - len(tag) - 32)
    return f'{{"tag":"{tag}","pad":"{pad}"}}'.encode()


class TransportConformance:
    """The behaviour every transport promises; subclass it and implement :meth:`open_pair`
    and :meth:`break_abruptly`.

    Class attributes a subclass may set:
        supports_send_eof: whether the transport implements ``send_eof`` (default ``True``).
            The contract checks that the declaration matches the object, then checks
            ``send_eof`` if present.
        supports_receive_batch: whether the transport implements ``receive_batch`` (default
            ``False``: it has none, and the client reads it with ``receive`` only). The
            contract checks that the declaration matches the object; the ``receive_batch``
            contracts run when it is ``True`` and are skipped, as not applicable, when it is
            ``False``.
        large_message_bytes: size of the largest-message test (16 MiB by default).
    """

    supports_send_eof: ClassVar[bool] = True
    supports_receive_batch: ClassVar[bool] = False
    large_message_bytes: ClassVar[int] = 16 * 1024 * 1024

    def open_pair(self) -> AbstractAsyncContextManager[tuple[Transport, TransportPeer]]:
        """Return an async context manager that yields ``(transport, peer)``, connected.

        Leaving it must close both ends and release every resource (processes, sockets).
        """
        raise NotImplementedError("subclass TransportConformance and implement open_pair()")

    async def break_abruptly(self, transport: Transport, peer: TransportPeer) -> None:
        """Break the connection of a pair from :meth:`open_pair` the way a vanished peer does.

        No clean goodbye: kill the server process (``SIGKILL``), drop or reset the socket
        without a close frame, or whatever your wire's equivalent of a broken pipe is. Return
        once the break has happened; the contract then checks how ``transport`` reports it.
        """
        raise NotImplementedError(
            "subclass TransportConformance and implement break_abruptly(transport, peer): "
            "end the connection without a clean close (kill the process, reset the socket)"
        )

    @pytest.mark.anyio
    async def test_message_round_trips_both_ways(self) -> None:
        async with self.open_pair() as (transport, peer):
            with anyio.fail_after(WAIT):
                await transport.send(b'{"id":1,"method":"ping","params":{}}')
                assert await peer.receive() == b'{"id":1,"method":"ping","params":{}}'
                await peer.send(b'{"id":1,"result":{}}')
                assert await transport.receive() == b'{"id":1,"result":{}}'

    @pytest.mark.anyio
    async def test_messages_keep_their_order_in_a_burst(self) -> None:
        count = 500
        async with self.open_pair() as (transport, peer):
            with anyio.fail_after(WAIT):
                for i in range(count):
                    await transport.send(_message(f"up-{i}"))
                got = [await peer.receive() for _ in range(count)]
                assert got == [_message(f"up-{i}") for i in range(count)]
                for i in range(count):
                    await peer.send(_message(f"down-{i}"))
                got = [await transport.receive() for _ in range(count)]
                assert got == [_message(f"down-{i}") for i in range(count)]

    @pytest.mark.anyio
    async def test_a_sixteen_mib_message_arrives_whole_both_ways(self) -> None:
        big_up = _message("big-up", self.large_message_bytes)
        big_down = _message("big-down", self.large_message_bytes)
        async with self.open_pair() as (transport, peer):
            with anyio.fail_after(WAIT * 3):
                async with anyio.create_task_group() as tg:
                    # The peer reads while the transport writes: a pipe or socket buffer is far
                    # smaller than the message, so sequential send-then-receive would stall.
                    received: list[bytes] = []

                    async def read_on_peer() -> None:
                        received.append(await peer.receive())

                    tg.start_soon(read_on_peer)
                    await transport.send(big_up)
                assert received == [big_up]
                async with anyio.create_task_group() as tg:
                    tg.start_soon(peer.send, big_down)
                    assert await transport.receive() == big_down

    @pytest.mark.anyio
    async def test_non_ascii_text_arrives_byte_for_byte(self) -> None:
        text = '{"text":"héllo wörld ✓ 日本語 🚀 \\u2028 Ω","emoji":"👩‍💻"}'.encode()
        async with self.open_pair() as (transport, peer):
            with anyio.fail_after(WAIT):
                await transport.send(text)
                assert await peer.receive() == text
                await peer.send(text)
                assert await transport.receive() == text

    @pytest.mark.anyio
    async def test_concurrent_sends_never_interleave(self) -> None:
        senders, per_sender = 16, 20
        async with self.open_pair() as (transport, peer):
            with anyio.fail_after(WAIT * 2):
                received: list[bytes] = []

                async def read_all() -> None:
                    for _ in range(senders * per_sender):
                        received.append(await peer.receive())

                async def send_many(sender: int) -> None:
                    for i in range(per_sender):
                        # Sizes vary so some messages span several pipe or socket writes.
                        await transport.send(_message(f"s{sender}-{i}", 64 + 9973 * (i % 7)))

                async with anyio.create_task_group() as tg:
                    tg.start_soon(read_all)
                    for sender in range(senders):
                        tg.start_soon(send_many, sender)
            expected = {
                _message(f"s{s}-{i}", 64 + 9973 * (i % 7))
                for s in range(senders)
                for i in range(per_sender)
            }
            assert set(received) == expected
            assert len(received) == len(expected)
            for sender in range(senders):
                mine = [m for m in received if m.startswith(f'{{"tag":"s{sender}-'.encode())]
                assert mine == [
                    _message(f"s{sender}-{i}", 64 + 9973 * (i % 7)) for i in range(per_sender)
                ]

    @pytest.mark.anyio
    async def test_peer_close_gives_end_of_stream_after_pending_messages(self) -> None:
        async with self.open_pair() as (transport, peer):
            with anyio.fail_after(WAIT):
                await peer.send(b'{"n":1}')
                await peer.send(b'{"n":2}')
                await peer.aclose()
                assert await transport.receive() == b'{"n":1}'
                assert await transport.receive() == b'{"n":2}'
                with pytest.raises(anyio.EndOfStream):
                    await transport.receive()
                # End of stream is sticky: asking again does not hang.
                with pytest.raises(anyio.EndOfStream):
                    await transport.receive()

    @pytest.mark.anyio
    async def test_send_after_close_raises_transport_error(self) -> None:
        async with self.open_pair() as (transport, _peer):
            with anyio.fail_after(WAIT):
                await transport.aclose()
                with pytest.raises(CodexTransportError):
                    await transport.send(b'{"late":true}')

    @pytest.mark.anyio
    async def test_receive_after_close_raises_transport_error(self) -> None:
        async with self.open_pair() as (transport, _peer):
            with anyio.fail_after(WAIT):
                await transport.aclose()
                with pytest.raises(CodexTransportError):
                    await transport.receive()

    @pytest.mark.anyio
    async def test_close_is_idempotent_and_bounded_in_time(self) -> None:
        async with self.open_pair() as (transport, _peer):
            with anyio.fail_after(WAIT):
                await transport.aclose()
                await transport.aclose()

    @pytest.mark.anyio
    async def test_close_is_bounded_when_the_peer_ignores_it(self) -> None:
        async with self.open_pair() as (transport, peer):
            # The peer is busy sending and never reads or closes: aclose may not wait on it.
            await peer.send(b'{"unread":1}')
            with anyio.fail_after(WAIT):
                await transport.aclose()

    @pytest.mark.anyio
    async def test_close_from_another_task_ends_a_waiting_receive(self) -> None:
        async with self.open_pair() as (transport, _peer):
            outcome: list[BaseException] = []

            async def receive_until_closed() -> None:
                try:
                    await transport.receive()
                except (CodexTransportError, anyio.EndOfStream) as exc:
                    outcome.append(exc)

            with anyio.fail_after(WAIT):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(receive_until_closed)
                    await anyio.wait_all_tasks_blocked()
                    await transport.aclose()
            assert len(outcome) == 1

    @pytest.mark.anyio
    async def test_an_abrupt_break_ends_a_waiting_receive_and_fails_later_sends(self) -> None:
        async with self.open_pair() as (transport, peer):
            outcome: list[Exception] = []

            async def receive_until_broken() -> None:
                try:
                    got = await transport.receive()
                except Exception as exc:
                    outcome.append(exc)
                else:
                    outcome.append(AssertionError(f"receive returned {got!r}"))

            with anyio.fail_after(WAIT):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(receive_until_broken)
                    await anyio.wait_all_tasks_blocked()
                    await self.break_abruptly(transport, peer)
            [exc] = outcome
            assert isinstance(exc, anyio.EndOfStream | CodexTransportError), (
                "a broken connection must end a waiting receive with anyio.EndOfStream or "
                f"CodexTransportError, not {exc!r}"
            )
            with anyio.fail_after(WAIT), pytest.raises(CodexTransportError):
                await transport.send(b'{"after":"break"}')

    @pytest.mark.anyio
    async def test_a_cancelled_receive_loses_no_message(self) -> None:
        async with self.open_pair() as (transport, peer):
            with anyio.fail_after(WAIT):
                await _cancel_while_waiting(transport.receive)
                await peer.send(b'{"after":"cancel"}')
                try:
                    got = await transport.receive()
                except CodexTransportError:
                    # Allowed: a transport may close itself when a receive is cancelled, as
                    # long as it says so and closes cleanly.
                    await transport.aclose()
                else:
                    assert got == b'{"after":"cancel"}'

    @pytest.mark.anyio
    async def test_send_eof_support_matches_the_declaration(self) -> None:
        async with self.open_pair() as (transport, peer):
            assert isinstance(transport, SupportsSendEof) == self.supports_send_eof
            if not isinstance(transport, SupportsSendEof):
                return
            with anyio.fail_after(WAIT):
                await transport.send(b'{"last":true}')
                await transport.send_eof()
                assert await peer.receive() == b'{"last":true}'
                with pytest.raises(anyio.EndOfStream):
                    await peer.receive()
                # The other direction still works after a half-close.
                await peer.send(b'{"reply":true}')
                assert await transport.receive() == b'{"reply":true}'

    @pytest.mark.anyio
    async def test_receive_batch_support_matches_the_declaration(self) -> None:
        async with self.open_pair() as (transport, _peer):
            # The very check the client makes to choose between receive_batch and receive.
            has_it = isinstance(transport, SupportsReceiveBatch)
            if self.supports_receive_batch:
                assert has_it, (
                    "supports_receive_batch = True, but the transport has no receive_batch"
                )
                assert callable(transport.receive_batch), "receive_batch is not callable"
            else:
                assert not has_it, (
                    "the transport has a receive_batch attribute, so the client will call it "
                    "instead of receive, but supports_receive_batch is False (the default): "
                    "set supports_receive_batch = True so that its contracts run"
                )

    @pytest.mark.anyio
    async def test_the_read_path_the_client_picks_takes_a_burst_then_the_end(self) -> None:
        # The client reads with receive_batch when the transport has it and with receive
        # otherwise, until the end of the stream; whichever it picks loses nothing.
        count = 200
        expected = [_message(f"read-{i}", 64 + 131 * (i % 3)) for i in range(count)]
        async with self.open_pair() as (transport, peer):
            with anyio.fail_after(WAIT):
                for message in expected:
                    await peer.send(message)
                await peer.aclose()
                got: list[bytes] = []
                try:
                    if isinstance(transport, SupportsReceiveBatch):
                        while True:
                            batch = await transport.receive_batch()
                            assert batch, "receive_batch returned an empty list"
                            got.extend(batch)
                    else:
                        while True:
                            got.append(await transport.receive())
                except anyio.EndOfStream:
                    pass
                assert got == expected

    @asynccontextmanager
    async def _open_batching(
        self,
    ) -> AsyncGenerator[tuple[SupportsReceiveBatch, Transport, TransportPeer]]:
        """A connected pair for a ``receive_batch`` contract, each step bounded by WAIT.

        Skips the contract when the transport is declared to have no ``receive_batch``: it
        does not apply (the declaration test checks that the transport really has none).
        """
        if not self.supports_receive_batch:
            pytest.skip("supports_receive_batch = False: the client reads with receive only")
        async with self.open_pair() as (transport, peer):
            assert isinstance(transport, SupportsReceiveBatch), (
                "supports_receive_batch = True, but the transport has no receive_batch"
            )
            with anyio.fail_after(WAIT):
                yield transport, transport, peer

    @pytest.mark.anyio
    async def test_receive_batch_hands_over_a_burst_whole_and_in_order(self) -> None:
        count = 500
        expected = [_message(f"down-{i}", 64 + 97 * (i % 5)) for i in range(count)]
        async with self._open_batching() as (batching, _transport, peer):
            for message in expected:
                await peer.send(message)
            got: list[bytes] = []
            while len(got) < count:
                batch = await batching.receive_batch()
                assert batch, "receive_batch returned an empty list"
                got.extend(batch)
            assert got == expected

    @pytest.mark.anyio
    async def test_receive_and_receive_batch_mix_without_loss_or_reordering(self) -> None:
        expected = [_message(f"mix-{i}") for i in range(40)]
        async with self._open_batching() as (batching, transport, peer):
            for message in expected:
                await peer.send(message)
            got: list[bytes] = []
            while len(got) < len(expected):
                got.append(await transport.receive())
                if len(got) < len(expected):
                    got.extend(await batching.receive_batch())
            assert got == expected

    @pytest.mark.anyio
    async def test_receive_batch_gives_pending_messages_then_end_of_stream(self) -> None:
        async with self._open_batching() as (batching, _transport, peer):
            await peer.send(b'{"n":1}')
            await peer.send(b'{"n":2}')
            await peer.aclose()
            got: list[bytes] = []
            while len(got) < 2:
                got.extend(await batching.receive_batch())
            assert got == [b'{"n":1}', b'{"n":2}']
            with pytest.raises(anyio.EndOfStream):
                await batching.receive_batch()
            with pytest.raises(anyio.EndOfStream):
                await batching.receive_batch()

    @pytest.mark.anyio
    async def test_receive_batch_after_close_raises_transport_error(self) -> None:
        async with self._open_batching() as (batching, transport, _peer):
            await transport.aclose()
            with pytest.raises(CodexTransportError):
                await batching.receive_batch()
