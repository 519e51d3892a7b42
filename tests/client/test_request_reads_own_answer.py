"""A lone request reads its own answer (and whatever comes before it) in the caller's task.

After the reader task hands the answer of the only waiting request to its caller, it parks
for two event-loop passes; a request sent in that window reads for itself instead of waiting
for the reader task to read and wake it. These tests pin that hand-over: every message is
still dispatched once and in order, and reading always returns to the reader task when the
request ends, however it ends (answer, timeout, cancellation, closed connection).

Which task reads is a scheduling detail, deterministic on asyncio; trio shuffles its run
queue on purpose, so the tests that check *who* read run on asyncio only, and the ones that
check *what* arrived run on both backends.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import orjson
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexTimeoutError, CodexTransportError
from codex_app_server_client.protocol import Notification
from codex_app_server_client.testing import MemoryTransport, memory_transport_pair

pytestmark = pytest.mark.anyio

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])


async def recv(server: MemoryTransport) -> dict[str, Any]:
    return orjson.loads(await server.receive())


async def send(server: MemoryTransport, message: dict[str, Any]) -> None:
    await server.send(orjson.dumps(message))


class Seen:
    """Records each notification and the id of the task that dispatched it."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, int]] = []
        self._changed = anyio.Event()

    def __call__(self, note: Notification) -> None:
        self.items.append((note.params.get("i"), anyio.get_current_task().id))
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, count: int) -> None:
        while len(self.items) < count:
            await self._changed.wait()


@asynccontextmanager
async def connected() -> AsyncGenerator[tuple[CodexClient, MemoryTransport, Seen]]:
    client_end, server = memory_transport_pair()
    seen = Seen()
    try:
        async with anyio.create_task_group() as tg:

            async def handshake() -> None:
                init = await recv(server)
                await send(server, {"id": init["id"], "result": {"userAgent": "fake/1.0"}})
                assert await recv(server) == {"method": "initialized"}

            tg.start_soon(handshake)
            async with CodexClient(client_end) as client:
                client.on_notification(seen)
                yield client, server, seen
    finally:
        await server.aclose()


async def answer_with_a_note_first(server: MemoryTransport, count: int) -> None:
    """Answer ``count`` requests, each preceded by a notification numbered like it."""
    for i in range(count):
        request = await recv(server)
        await send(server, {"method": "test/progress", "params": {"i": i}})
        await send(server, {"id": request["id"], "result": {"i": i}})


async def one_round_trip(
    client: CodexClient, server: MemoryTransport, tg: anyio.abc.TaskGroup
) -> None:
    """One answered request, so that the next lone request reads for itself.

    The server's side runs in ``tg`` and is not waited for here: waiting would give the
    reader task time to stop standing aside before the next request is sent.
    """
    tg.start_soon(answer_with_a_note_first, server, 1)
    assert await client.request("test/echo") == {"i": 0}


@asyncio_only
async def test_sequential_requests_read_their_own_answers_in_the_callers_task() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server, seen), anyio.create_task_group() as tg:
            tg.start_soon(answer_with_a_note_first, server, 6)
            results = [await client.request("test/echo") for _ in range(6)]
            me = anyio.get_current_task().id
    assert results == [{"i": i} for i in range(6)]
    assert [i for i, _ in seen.items] == list(range(6))
    # The first answer is read by the reader task; each later request reads for itself.
    assert [task for _, task in seen.items[1:]] == [me] * 5


async def test_every_message_is_dispatched_once_and_in_order_whoever_reads() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server, seen), anyio.create_task_group() as tg:
            tg.start_soon(answer_with_a_note_first, server, 50)
            results = [await client.request("test/echo") for _ in range(50)]
    assert results == [{"i": i} for i in range(50)]
    assert [i for i, _ in seen.items] == list(range(50))


async def test_a_request_timing_out_while_reading_for_itself_hands_reading_back() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server, seen), anyio.create_task_group() as tg:
            await one_round_trip(client, server, tg)
            with pytest.raises(CodexTimeoutError, match="no answer within"):
                await client.request("test/never", timeout=0.05)
            await recv(server)  # the unanswered request
            # Nobody is waiting on a request now: only the reader task can deliver this.
            await send(server, {"method": "test/progress", "params": {"i": 1}})
            await seen.wait_for(2)
            await one_round_trip(client, server, tg)
    assert [i for i, _ in seen.items] == [0, 1, 0]


@asyncio_only
async def test_a_timeout_ends_a_request_that_was_reading_for_itself() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server, seen), anyio.create_task_group() as tg:
            await one_round_trip(client, server, tg)

            async def note_but_never_answer() -> None:
                await recv(server)
                await send(server, {"method": "test/progress", "params": {"i": 1}})

            tg.start_soon(note_but_never_answer)
            with pytest.raises(CodexTimeoutError):
                await client.request("test/never", timeout=0.2)
            me = anyio.get_current_task().id
    # The note before the timeout was read in this task: it was reading for itself.
    assert seen.items[1] == (1, me)


async def test_cancelling_a_request_that_reads_for_itself_hands_reading_back() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server, seen), anyio.create_task_group() as tg:
            await one_round_trip(client, server, tg)
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as inner:

                    async def note_then_cancel() -> None:
                        await recv(server)
                        await send(server, {"method": "test/progress", "params": {"i": 1}})
                        await seen.wait_for(2)
                        scope.cancel()

                    inner.start_soon(note_then_cancel)
                    await client.request("test/cancelled")
            assert scope.cancelled_caught
            await send(server, {"method": "test/progress", "params": {"i": 2}})
            await seen.wait_for(3)
            await one_round_trip(client, server, tg)
    assert [i for i, _ in seen.items] == [0, 1, 2, 0]


async def test_a_request_made_while_another_reads_for_itself_gets_its_own_answer() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server, _seen), anyio.create_task_group() as tg:
            await one_round_trip(client, server, tg)
            results: dict[str, Any] = {}

            async def ask(name: str) -> None:
                results[name] = await client.request("test/named", {"name": name})

            async def answer_the_second_first() -> None:
                first, second = await recv(server), await recv(server)
                for request in (second, first):
                    name = request["params"]["name"]
                    await send(server, {"id": request["id"], "result": {"for": name}})

            tg.start_soon(answer_the_second_first)
            async with anyio.create_task_group() as inner:
                inner.start_soon(ask, "c")  # sent on the next pass, while "b" reads
                await ask("b")
    assert results == {"b": {"for": "b"}, "c": {"for": "c"}}


async def fail_an_unanswered_request(
    client: CodexClient, server: MemoryTransport, end: Callable[[], Awaitable[None]], match: str
) -> None:
    """Send a request that is never answered, run ``end`` once the server has it, and check
    that the request fails with a transport error matching ``match``."""
    async with anyio.create_task_group() as tg:

        async def end_after_request() -> None:
            await recv(server)
            await end()

        tg.start_soon(end_after_request)
        with pytest.raises(CodexTransportError, match=match):
            await client.request("test/unanswered", timeout=60)


async def test_the_server_ending_fails_a_request_that_reads_for_itself() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server, _seen), anyio.create_task_group() as tg:
            await one_round_trip(client, server, tg)
            await fail_an_unanswered_request(client, server, server.aclose, "closed the connection")
            assert client.closed


async def test_closing_the_client_fails_a_request_that_reads_for_itself() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server, _seen), anyio.create_task_group() as tg:
            await one_round_trip(client, server, tg)
            await fail_an_unanswered_request(client, server, client.aclose, "closed")
