"""Malformed input from the server: invalid JSON, invalid UTF-8, a JSON array, 64 MiB lines.

A message the client cannot understand is logged (briefly) and skipped; the connection and
every other request go on. Only a message over ``max_message_bytes`` ends the connection,
with an error that says so. Each case runs over stdio and ws against a server end the test
drives byte for byte, inside the folder's leak check.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from pathlib import Path

import anyio
import pytest
from _peers import KINDS, Kind, open_fake_process, open_raw_client

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexTimeoutError, CodexTransportError
from codex_app_server_client.testing.fake_server import agent_message, garbage

pytestmark = pytest.mark.anyio

WAIT = 10.0
BIG = 64 * 1024 * 1024
"""64 MiB."""

CLIENT_LOGGER = "codex_app_server_client"


async def ask_and_forget(client: CodexClient) -> None:
    await client.request("thread/loaded/list", {})


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param


GARBAGE = {
    "invalid JSON": (b'{"id": 1, "result": {oops', "not valid JSON"),
    "invalid UTF-8": (b'{"method":"warning","params":{"message":"\xff\xfe\xfd"}}', "not valid"),
    "a JSON array": (b'[{"method":"warning","params":{}}]', "must be an object, got list"),
    "a bare string": (b'"hello"', "must be an object, got str"),
    "an object that is no message": (b'{"hello":"world"}', "neither a request"),
}


@pytest.mark.parametrize("name", list(GARBAGE))
async def test_a_malformed_message_is_logged_and_skipped_and_the_request_still_answered(
    kind: Kind, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    data, logged = GARBAGE[name]
    caplog.set_level(logging.WARNING, logger=CLIENT_LOGGER)
    async with open_raw_client(kind) as server:
        client = server.client
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                results: list[object] = []

                async def ask() -> None:
                    results.append(await client.request("thread/loaded/list", {}))

                tg.start_soon(ask)
                request_id = await server.expect_request("thread/loaded/list")
                await server.send_bytes(data)
                await server.answer(request_id, {"data": ["after the garbage"]})
            assert results == [{"data": ["after the garbage"]}]
            # The connection is as good as before: a second round trip works too.
            async with anyio.create_task_group() as tg:
                tg.start_soon(ask)
                request_id = await server.expect_request("thread/loaded/list")
                await server.answer(request_id, {"data": []})
        assert not client.closed
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any(logged in r.getMessage() for r in warnings), [r.getMessage() for r in warnings]


async def test_a_garbled_answer_leaves_its_request_to_time_out_with_a_timeout_error(
    kind: Kind,
) -> None:
    failures: list[CodexTimeoutError] = []
    async with open_raw_client(kind) as server:
        client = server.client
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:

                async def ask() -> None:
                    with pytest.raises(CodexTimeoutError) as caught:
                        await client.request("thread/start", {}, timeout=0.5)
                    failures.append(caught.value)

                tg.start_soon(ask)
                request_id = await server.expect_request("thread/start")
                # The answer, cut off: it can never be matched to the request.
                await server.send_bytes(
                    b'{"id": ' + str(request_id).encode() + b', "result": {"thr'
                )
            assert "thread/start got no answer within 0.5 s" in str(failures[0])
            assert not client.closed
            await server.check_round_trip()


async def test_a_64_mib_answer_arrives_whole_and_the_connection_goes_on(kind: Kind) -> None:
    results: list[dict[str, str]] = []
    async with open_raw_client(kind) as server:
        client = server.client
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:

                async def ask() -> None:
                    answer: dict[str, str] = await client.request("fake/bigDownload", {})
                    results.append(answer)

                tg.start_soon(ask)
                request_id = await server.expect_request("fake/bigDownload")
                await server.answer(request_id, {"dataBase64": "A" * BIG})
            assert len(results[0]["dataBase64"]) == BIG
            await server.check_round_trip()


async def test_a_64_mib_line_of_garbage_is_logged_in_a_few_hundred_bytes_and_skipped(
    kind: Kind, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=CLIENT_LOGGER)
    async with open_raw_client(kind) as server:
        client = server.client
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(ask_and_forget, client)
                request_id = await server.expect_request("thread/loaded/list")
                await server.send_bytes(b"{" + b"x" * BIG)
                await server.answer(request_id, {"data": []})
        assert not client.closed
    [record] = [r for r in caplog.records if "not valid JSON" in r.getMessage()]
    assert len(record.getMessage()) < 1024


async def test_a_64_mib_line_over_max_message_bytes_fails_everything_waiting_at_once(
    kind: Kind,
) -> None:
    async with open_raw_client(kind, max_message_bytes=1024 * 1024) as server:
        client = server.client
        with anyio.fail_after(WAIT):
            failures: list[CodexTransportError] = []
            failed = anyio.Event()
            async with anyio.create_task_group() as tg:

                async def ask() -> None:
                    with pytest.raises(CodexTransportError) as caught:
                        await client.request("thread/loaded/list", {}, timeout=60)
                    failures.append(caught.value)
                    failed.set()

                async def answer_too_big(request_id: int) -> None:
                    # The client stops reading at the limit, so this write may never finish.
                    with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                        await server.answer(request_id, {"data": ["x" * BIG]})

                tg.start_soon(ask)
                tg.start_soon(answer_too_big, await server.expect_request("thread/loaded/list"))
                await failed.wait()
                tg.cancel_scope.cancel()
            assert client.closed
            message = str(failures[0])
            assert "longer than max_message_bytes=1048576 bytes" in message
            if kind == "ws":
                assert "1009" in message  # the close code websockets sent
            with pytest.raises(CodexTransportError):
                await client.request("thread/loaded/list", {})


GARBAGE_MID_TURN = [
    garbage(b"{not json"),
    garbage(b'{"method":"warning","params":{"message":"\xff\xfe"}}'),
    garbage(b'[{"method":"turn/completed","params":{}}]'),
    garbage(b'{"id":"no-such-request","result":{}}'),
]


async def test_garbage_from_the_fake_server_mid_turn_never_breaks_the_turn(
    kind: Kind, tmp_path: Path
) -> None:
    script = [agent_message("before"), *GARBAGE_MID_TURN, agent_message("after")]
    async with open_fake_process(kind, [script], workdir=tmp_path) as fake:
        with anyio.fail_after(WAIT):
            result = await fake.client.chat_once("talk through the noise", inactivity_timeout=5)
    assert [s.text for s in result.steps] == ["talk through the noise", "before", "after"]
    assert result.final_text == "after"
