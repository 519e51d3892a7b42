"""The conformance suite judges transports correctly: it passes what the contract allows and
fails what it forbids. Each check runs contracts of the suite directly against an in-memory
transport bent in one way."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import cast

import anyio
import pytest

from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client.testing import MemoryTransport, conformance, memory_transport_pair
from codex_app_server_client.testing.conformance import TransportConformance, TransportPeer
from codex_app_server_client.transport import Transport

BATCH_CONTRACTS = {
    "test_receive_batch_hands_over_a_burst_whole_and_in_order",
    "test_receive_and_receive_batch_mix_without_loss_or_reordering",
    "test_receive_batch_gives_pending_messages_then_end_of_stream",
    "test_receive_batch_after_close_raises_transport_error",
}
ABRUPT = "test_an_abrupt_break_ends_a_waiting_receive_and_fails_later_sends"


class OneAtATime:
    """A conforming transport with the three required methods and ``send_eof``, no batch."""

    def __init__(self, inner: MemoryTransport) -> None:
        self.inner = inner

    async def send(self, message: bytes) -> None:
        await self.inner.send(message)

    async def receive(self) -> bytes:
        return await self.inner.receive()

    async def send_eof(self) -> None:
        await self.inner.send_eof()

    async def aclose(self) -> None:
        await self.inner.aclose()


class _MemorySuite(TransportConformance):
    """The suite over a memory pair whose client end is ``wrap(end)``; not collected itself
    (its name does not start with ``Test``), only run contract by contract below."""

    def wrap(self, end: MemoryTransport) -> Transport:
        return OneAtATime(end)

    @asynccontextmanager
    async def open_pair(self) -> AsyncGenerator[tuple[Transport, TransportPeer]]:
        client, server = memory_transport_pair()
        try:
            yield self.wrap(client), server
        finally:
            await client.aclose()
            await server.aclose()

    async def break_abruptly(self, transport: Transport, peer: TransportPeer) -> None:
        await peer.aclose()


async def _run(suite: TransportConformance, name: str) -> str | BaseException:
    """Run one contract: ``"passed"``, ``"skipped"`` or the exception it failed with."""
    contract: Callable[[], Awaitable[None]] = getattr(suite, name)
    try:
        await contract()
    except pytest.skip.Exception:
        return "skipped"
    except (Exception, pytest.fail.Exception) as exc:
        return exc
    return "passed"


async def _run_all(suite: TransportConformance) -> dict[str, str | BaseException]:
    names = sorted(name for name in dir(TransportConformance) if name.startswith("test_"))
    return {name: await _run(suite, name) for name in names}


def _failures(outcomes: dict[str, str | BaseException]) -> dict[str, BaseException]:
    return {name: got for name, got in outcomes.items() if isinstance(got, BaseException)}


# -- receive_batch declared by default -----------------------------------------------------


@pytest.mark.anyio
async def test_a_transport_without_receive_batch_at_the_default_passes_and_skips_only_batch() -> (
    None
):
    outcomes = await _run_all(_MemorySuite())
    assert _failures(outcomes) == {}
    assert {name for name, got in outcomes.items() if got == "skipped"} == BATCH_CONTRACTS
    # Not skipped for it: the declaration check and the read path the client takes.
    assert outcomes["test_receive_batch_support_matches_the_declaration"] == "passed"
    assert outcomes["test_the_read_path_the_client_picks_takes_a_burst_then_the_end"] == "passed"


class _BatchUndeclared(_MemorySuite):
    """Has receive_batch (the client will call it) but leaves the declaration at default."""

    def wrap(self, end: MemoryTransport) -> Transport:
        return end


@pytest.mark.anyio
async def test_a_transport_with_receive_batch_left_at_the_default_declaration_fails() -> None:
    got = await _run(_BatchUndeclared(), "test_receive_batch_support_matches_the_declaration")
    assert isinstance(got, AssertionError)
    assert "set supports_receive_batch = True" in str(got)


class _BatchDeclaredButMissing(_MemorySuite):
    supports_receive_batch = True


@pytest.mark.anyio
async def test_receive_batch_declared_but_missing_fails_instead_of_skipping() -> None:
    suite = _BatchDeclaredButMissing()
    got = await _run(suite, "test_receive_batch_support_matches_the_declaration")
    assert isinstance(got, AssertionError)
    for name in BATCH_CONTRACTS:
        assert isinstance(await _run(suite, name), AssertionError), name


# -- a cancelled receive_batch is no longer part of the contract ---------------------------


class ClosesWhenBatchCancelled(OneAtATime):
    """A cancelled ``receive_batch`` closes the transport: allowed now that the client never
    cancels one mid-read."""

    async def receive_batch(self) -> list[bytes]:
        try:
            return await self.inner.receive_batch()
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await self.inner.aclose()
            raise


class _ClosesWhenBatchCancelledSuite(_MemorySuite):
    supports_receive_batch = True

    def wrap(self, end: MemoryTransport) -> Transport:
        return ClosesWhenBatchCancelled(end)


@pytest.mark.anyio
async def test_a_transport_closed_by_a_cancelled_receive_batch_passes_every_contract() -> None:
    outcomes = await _run_all(_ClosesWhenBatchCancelledSuite())
    assert _failures(outcomes) == {}
    assert "skipped" not in outcomes.values()
    # The cancelled receive() contract is still there.
    assert outcomes["test_a_cancelled_receive_loses_no_message"] == "passed"


# -- an abrupt break -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_abrupt_break_passes_for_a_conforming_transport() -> None:
    assert await _run(_MemorySuite(), ABRUPT) == "passed"


class HangsWhenBroken(OneAtATime):
    async def receive(self) -> bytes:
        try:
            return await self.inner.receive()
        except anyio.EndOfStream:
            await anyio.Event().wait()  # never set: the caller waits forever
            raise


class _HangsSuite(_MemorySuite):
    def wrap(self, end: MemoryTransport) -> Transport:
        return HangsWhenBroken(end)


@pytest.mark.anyio
async def test_an_abrupt_break_fails_a_receive_that_never_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conformance, "WAIT", 0.2)  # the bound the contract waits for
    assert isinstance(await _run(_HangsSuite(), ABRUPT), TimeoutError)


class RaisesOutsideTheContract(OneAtATime):
    async def receive(self) -> bytes:
        try:
            return await self.inner.receive()
        except anyio.EndOfStream:
            raise ConnectionResetError("reset by peer") from None


class _WrongErrorSuite(_MemorySuite):
    def wrap(self, end: MemoryTransport) -> Transport:
        return RaisesOutsideTheContract(end)


@pytest.mark.anyio
async def test_an_abrupt_break_fails_a_receive_that_raises_another_exception() -> None:
    got = await _run(_WrongErrorSuite(), ABRUPT)
    assert isinstance(got, AssertionError)
    assert "ConnectionResetError" in str(got)


class SendsIntoTheVoid(OneAtATime):
    async def send(self, message: bytes) -> None:
        with suppress(CodexTransportError):  # pretends the message went out
            await self.inner.send(message)


class _SilentSendSuite(_MemorySuite):
    def wrap(self, end: MemoryTransport) -> Transport:
        return SendsIntoTheVoid(end)


@pytest.mark.anyio
async def test_an_abrupt_break_fails_a_send_that_pretends_to_succeed() -> None:
    got = await _run(_SilentSendSuite(), ABRUPT)
    assert isinstance(got, pytest.fail.Exception)
    assert "DID NOT RAISE" in str(got)


class _NoBreakHook(_MemorySuite):
    """A suite written before the hook existed: it never overrode break_abruptly."""

    async def break_abruptly(self, transport: Transport, peer: TransportPeer) -> None:
        await TransportConformance.break_abruptly(self, transport, peer)


@pytest.mark.anyio
async def test_a_suite_without_break_abruptly_fails_the_contract_rather_than_skipping() -> None:
    got = await _run(_NoBreakHook(), ABRUPT)
    while isinstance(got, BaseExceptionGroup):
        [got] = cast(BaseExceptionGroup[BaseException], got).exceptions
    assert isinstance(got, NotImplementedError)
    assert "implement break_abruptly" in str(got)
