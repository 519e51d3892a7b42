"""The server stops reading: our sends back up, and must deadlock nothing.

A server end the test drives stops taking bytes off the wire (over stdio the relay then blocks
on its full socket and the client's pipe fills; over ws the peer stops reading its socket), and
the client sends a 64 MiB request, more than every buffer on the way can hold. Then:

- the reader still delivers everything the server sends (answers, notifications);
- the stuck request still ends within its own timeout, with :class:`CodexTimeoutError`;
- leaving the client while a send is stuck is bounded, and the stuck call fails with
  :class:`CodexTransportError`;
- nothing leaks (the folder's leak check).
"""

from __future__ import annotations

import anyio
import pytest
from _peers import KINDS, Kind, RawServer, open_raw_client

from codex_app_server_client.errors import CodexError, CodexTimeoutError, CodexTransportError
from codex_app_server_client.protocol import Notification

pytestmark = pytest.mark.anyio

WAIT = 20.0
PAD = "x" * (64 * 1024 * 1024)
"""A params payload no pipe, socket buffer or relay can absorb while nobody reads."""


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param


def quick_close(kind: Kind) -> dict[str, float]:
    """Short close bounds: the server end never answers a close while it is not reading."""
    return {"close_grace": 0.2} if kind == "stdio" else {"close_timeout": 0.5}


def when_notified(server: RawServer, method: str) -> anyio.Event:
    seen = anyio.Event()

    def listener(note: Notification) -> None:
        if note.method == method:
            seen.set()

    server.client.on_notification(listener)
    return seen


async def test_the_reader_keeps_delivering_while_a_send_is_stuck(kind: Kind) -> None:
    async with open_raw_client(kind, **quick_close(kind)) as server:
        client = server.client
        stuck_errors: list[BaseException] = []
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                answered: list[object] = []

                async def small() -> None:
                    answered.append(await client.request("thread/loaded/list", {}))

                async def big() -> None:
                    try:
                        await client.request("fake/bigUpload", {"pad": PAD}, timeout=60)
                    except CodexError as exc:
                        stuck_errors.append(exc)

                tg.start_soon(small)
                small_id = await server.expect_request("thread/loaded/list")
                server.pause_reading()
                tg.start_soon(big)
                # The big send is now parked on a full pipe or socket.
                await anyio.wait_all_tasks_blocked()

                notified = when_notified(server, "fake/stillThere")
                await server.send_json({"method": "fake/stillThere", "params": {}})
                await server.answer(small_id, {"data": ["answered while our send is stuck"]})
                await notified.wait()
                # The small request's task ends; the big one is still stuck on its send.
                while not answered:
                    await anyio.wait_all_tasks_blocked()
                assert answered == [{"data": ["answered while our send is stuck"]}]
                assert not stuck_errors

                # Closing the client with the send stuck is bounded and ends the stuck call.
                await client.aclose()
        assert len(stuck_errors) == 1
        assert isinstance(stuck_errors[0], CodexTransportError)


async def test_a_request_whose_send_is_stuck_still_times_out(kind: Kind) -> None:
    async with open_raw_client(kind, **quick_close(kind)) as server:
        client = server.client
        server.pause_reading()
        with anyio.fail_after(WAIT):
            with pytest.raises(CodexTimeoutError, match="fake/bigUpload got no answer within 1 s"):
                await client.request("fake/bigUpload", {"pad": PAD}, timeout=1.0)
            # A request queued behind the stuck one is bounded by its own timeout too.
            async with anyio.create_task_group() as tg:
                errors: list[CodexError] = []

                async def queued() -> None:
                    try:
                        await client.request("thread/loaded/list", {}, timeout=1.0)
                    except CodexError as exc:
                        errors.append(exc)

                tg.start_soon(queued)
            assert len(errors) == 1
