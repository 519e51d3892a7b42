"""Protocol oddities: answers to unknown ids, duplicate answers, notifications without params,
server requests with unknown methods.

None of them may crash the reader, leave a request waiting, or disturb other requests and
turns; each is logged or answered as the protocol wants. Raw server ends (stdio and ws) check
the exact bytes; the fake app-server as a child process checks that a running turn survives.
"""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest
from _peers import KINDS, Kind, open_fake_process, open_raw_client

from codex_app_server_client.protocol import Notification
from codex_app_server_client.testing.fake_server import agent_message, garbage, server_request

pytestmark = pytest.mark.anyio

WAIT = 10.0
CLIENT_LOGGER = "codex_app_server_client"
METHOD_NOT_FOUND = -32601


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param


async def test_an_answer_to_an_unknown_id_is_logged_and_the_pending_request_still_answered(
    kind: Kind, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=CLIENT_LOGGER)
    async with open_raw_client(kind) as server:
        results: list[object] = []

        async def ask() -> None:
            results.append(await server.client.request("thread/loaded/list", {}))

        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(ask)
                request_id = await server.expect_request("thread/loaded/list")
                await server.answer(request_id + 1000, {"data": ["not yours"]})
                await server.send_json({"id": "no-such-id", "error": {"code": 1, "message": "x"}})
                await server.answer(request_id, {"data": ["yours"]})
        assert results == [{"data": ["yours"]}]
        assert not server.client.closed
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"request id {request_id + 1000}, which is not pending" in m for m in messages)
    assert any("error response without a usable id" in m for m in messages)


async def test_a_duplicate_answer_is_dropped_and_never_taken_for_the_next_request(
    kind: Kind, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=CLIENT_LOGGER)
    async with open_raw_client(kind) as server:
        results: list[object] = []

        async def ask(tag: str) -> None:
            results.append((tag, await server.client.request("thread/loaded/list", {})))

        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(ask, "first")
                first = await server.expect_request("thread/loaded/list")
                await server.answer(first, {"data": ["one"]})
                await server.answer(first, {"data": ["one, again"]})
            async with anyio.create_task_group() as tg:
                tg.start_soon(ask, "second")
                second = await server.expect_request("thread/loaded/list")
                # The duplicate of the first answer again, now while the second request waits.
                await server.answer(first, {"data": ["one, a third time"]})
                await server.answer(second, {"data": ["two"]})
        assert results == [("first", {"data": ["one"]}), ("second", {"data": ["two"]})]
        assert server.client._connection is not None  # pyright: ignore[reportPrivateUsage]
        assert server.client._connection.pending_requests == 0  # pyright: ignore[reportPrivateUsage]
    not_pending = [r for r in caplog.records if "which is not pending" in r.getMessage()]
    assert len(not_pending) == 2


async def test_a_notification_without_params_reaches_listeners_with_empty_params(
    kind: Kind,
) -> None:
    async with open_raw_client(kind) as server:
        seen: list[Notification] = []
        arrived = anyio.Event()

        def listener(note: Notification) -> None:
            seen.append(note)
            if note.method == "fake/last":
                arrived.set()

        server.client.on_notification(listener)
        with anyio.fail_after(WAIT):
            await server.send_json({"method": "fake/bare"})
            await server.send_json({"method": "turn/completed"})
            await server.send_json({"method": "item/completed", "params": None})
            await server.send_json({"method": "fake/last", "params": {}})
            await arrived.wait()
        assert not server.client.closed
    assert [(n.method, n.params) for n in seen] == [
        ("fake/bare", {}),
        ("turn/completed", {}),
        ("item/completed", {}),
        ("fake/last", {}),
    ]


async def test_a_server_request_with_an_unknown_method_gets_a_method_not_found_error(
    kind: Kind,
) -> None:
    async with open_raw_client(kind) as server:
        with anyio.fail_after(WAIT):
            await server.send_json({"id": 0, "method": "fake/noSuchRequest", "params": {"a": 1}})
            await server.send_json({"id": "s-1", "method": "fake/noParamsEither"})
            replies = [await server.receive_json(), await server.receive_json()]
            # The connection still serves requests both ways.
            await server.check_round_trip()
        assert not server.client.closed
    by_id = {reply["id"]: reply for reply in replies}
    assert set(by_id) == {0, "s-1"}
    for reply in by_id.values():
        assert "result" not in reply
        assert reply["error"]["code"] == METHOD_NOT_FOUND
    assert "fake/noSuchRequest" in by_id[0]["error"]["message"]


BARE_NOTIFICATIONS = [
    garbage(b'{"method":"%s"}' % method)
    for method in (
        b"turn/started",
        b"item/started",
        b"item/agentMessage/delta",
        b"item/completed",
        b"thread/status/changed",
        b"serverRequest/resolved",
        b"thread/tokenUsage/updated",
        b"error",
        b"warning",
        b"turn/completed",
    )
]


async def test_a_turn_survives_bare_notifications_and_an_unknown_server_request(
    kind: Kind, tmp_path: Path
) -> None:
    script = [
        agent_message("before"),
        *BARE_NOTIFICATIONS,
        # The fake waits for the client's reply before it goes on: the turn can only finish
        # if the unknown request was answered.
        server_request("fake/noSuchRequest", {"question": "?"}),
        agent_message("after"),
    ]
    async with open_fake_process(kind, [script], workdir=tmp_path) as fake:
        with anyio.fail_after(WAIT):
            result = await fake.client.chat_once("carry on", inactivity_timeout=5)
            again = await fake.client.request("thread/loaded/list", {})
    assert [s.text for s in result.steps] == ["carry on", "before", "after"]
    assert result.status == "completed"
    assert again["data"] == [result.thread_id]
