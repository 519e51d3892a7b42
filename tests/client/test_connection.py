"""CodexClient's connection layer over an in-memory transport with a hand-played server.

These tests play the server by hand (raw JSON over the other end of the pair) because they
need exact control of timing and misbehaviour; the fake app-server covers realistic flows.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import orjson
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import (
    CodexProtocolError,
    CodexTimeoutError,
    CodexTransportError,
)
from codex_app_server_client.protocol import Notification, ServerRequest
from codex_app_server_client.testing import MemoryTransport, memory_transport_pair

pytestmark = pytest.mark.anyio


async def recv(server: MemoryTransport) -> dict[str, Any]:
    return orjson.loads(await server.receive())


async def send(server: MemoryTransport, message: dict[str, Any]) -> None:
    await server.send(orjson.dumps(message))


async def handshake(server: MemoryTransport) -> dict[str, Any]:
    init = await recv(server)
    assert init["method"] == "initialize"
    await send(server, {"id": init["id"], "result": {"userAgent": "fake/1.0", "codexHome": "/h"}})
    assert await recv(server) == {"method": "initialized"}
    return init


@asynccontextmanager
async def connected(**kwargs: Any) -> AsyncGenerator[tuple[CodexClient, MemoryTransport]]:
    client_end, server = memory_transport_pair()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(handshake, server)
            async with CodexClient(client_end, **kwargs) as client:
                yield client, server
    finally:
        await server.aclose()


async def test_entering_the_client_performs_the_handshake() -> None:
    client_end, server = memory_transport_pair()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            seen: list[dict[str, Any]] = []

            async def play() -> None:
                seen.append(await handshake(server))

            tg.start_soon(play)
            async with CodexClient(
                client_end, client_info={"name": "n", "version": "1"}, experimental_api=True
            ) as client:
                assert client.user_agent == "fake/1.0"
                assert client.initialize_result["codexHome"] == "/h"
    await server.aclose()
    assert seen[0]["params"] == {
        "clientInfo": {"name": "n", "version": "1"},
        "capabilities": {"experimentalApi": True},
    }


async def test_opt_out_notifications_are_sent_in_capabilities() -> None:
    client_end, server = memory_transport_pair()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            seen: list[dict[str, Any]] = []

            async def play() -> None:
                seen.append(await handshake(server))

            tg.start_soon(play)
            async with CodexClient(client_end, opt_out_notifications=["configWarning"]):
                pass
    await server.aclose()
    assert seen[0]["params"]["capabilities"]["optOutNotificationMethods"] == ["configWarning"]


async def test_request_returns_the_result_as_sent() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server), anyio.create_task_group() as tg:

            async def answer() -> None:
                req = await recv(server)
                assert req["method"] == "thread/start"
                assert req["params"] == {}
                await send(server, {"id": req["id"], "result": {"thread": {"id": "t1"}}})

            tg.start_soon(answer)
            assert await client.request("thread/start") == {"thread": {"id": "t1"}}


async def test_a_json_rpc_error_raises_protocol_error_with_code_and_data() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server), anyio.create_task_group() as tg:

            async def answer() -> None:
                req = await recv(server)
                await send(
                    server,
                    {"id": req["id"], "error": {"code": -32600, "message": "bad", "data": [1]}},
                )

            tg.start_soon(answer)
            with pytest.raises(CodexProtocolError) as info:
                await client.request("thread/read", {"threadId": "x"})
    assert info.value.code == -32600
    assert info.value.data == [1]
    assert info.value.method == "thread/read"
    assert "bad" in str(info.value)


async def test_a_request_without_answer_times_out_and_the_late_answer_is_dropped() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server):
            with pytest.raises(CodexTimeoutError, match="no answer within"):
                await client.request("slow/method", timeout=0.05)
            late = await recv(server)
            await send(server, {"id": late["id"], "result": {"late": True}})
            async with anyio.create_task_group() as tg:

                async def answer() -> None:
                    req = await recv(server)
                    await send(server, {"id": req["id"], "result": {"fresh": True}})

                tg.start_soon(answer)
                assert await client.request("next") == {"fresh": True}


async def test_overloaded_answers_are_retried_then_succeed() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server), anyio.create_task_group() as tg:
            attempts: list[int] = []

            async def answer() -> None:
                for _ in range(2):
                    req = await recv(server)
                    attempts.append(req["id"])
                    await send(
                        server,
                        {
                            "id": req["id"],
                            "error": {"code": -32001, "message": "Server overloaded; retry later."},
                        },
                    )
                req = await recv(server)
                attempts.append(req["id"])
                await send(server, {"id": req["id"], "result": {"ok": 1}})

            tg.start_soon(answer)
            assert await client.request("model/list") == {"ok": 1}
    assert len(set(attempts)) == 3


async def test_other_errors_are_not_retried() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server), anyio.create_task_group() as tg:

            async def answer() -> None:
                req = await recv(server)
                await send(server, {"id": req["id"], "error": {"code": -32603, "message": "x"}})

            tg.start_soon(answer)
            with pytest.raises(CodexProtocolError):
                await client.request("a")
            # Nothing else was sent: the next message the server sees is our next request.
            tg.start_soon(client.notify, "probe")
            assert (await recv(server))["method"] == "probe"


async def test_server_closing_fails_a_pending_request_at_once() -> None:
    async with connected() as (client, server):
        errors: list[BaseException] = []

        async def wait_for_answer() -> None:
            try:
                await client.request("thread/start", timeout=60)
            except CodexTransportError as exc:
                errors.append(exc)

        with anyio.fail_after(1):
            async with anyio.create_task_group() as tg:
                tg.start_soon(wait_for_answer)
                await recv(server)
                await server.aclose()
        assert len(errors) == 1
        assert client.closed
        with pytest.raises(CodexTransportError):
            await client.request("again")


async def test_closing_the_client_fails_pending_requests() -> None:
    errors: list[BaseException] = []
    client_end, server = memory_transport_pair()
    with anyio.fail_after(2):
        async with anyio.create_task_group() as outer:
            outer.start_soon(handshake, server)
            async with CodexClient(client_end) as client:

                async def wait_for_answer() -> None:
                    try:
                        await client.request("never/answered", timeout=60)
                    except CodexTransportError as exc:
                        errors.append(exc)

                outer.start_soon(wait_for_answer)
                await recv(server)
    await server.aclose()
    assert len(errors) == 1
    assert "closed" in str(errors[0])


async def test_notifications_reach_listeners_and_a_failing_listener_harms_nothing() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server):
            got: list[Notification] = []
            done = anyio.Event()

            def broken(_: Notification) -> None:
                raise RuntimeError("listener bug")

            def collect(note: Notification) -> None:
                got.append(note)
                if note.method == "last":
                    done.set()

            client.on_notification(broken)
            unsubscribe = client.on_notification(collect)
            await send(server, {"method": "warning", "params": {"message": "m"}, "emittedAtMs": 1})
            await server.send(b"{not json")
            await send(server, {"method": "last"})
            await done.wait()
            unsubscribe()
    assert [n.method for n in got] == ["warning", "last"]
    assert got[0].params == {"message": "m"}


async def test_a_server_request_without_handler_gets_an_error_reply() -> None:
    with anyio.fail_after(5):
        async with connected() as (_client, server):
            await send(server, {"id": 0, "method": "item/future/ask", "params": {}})
            reply = await recv(server)
    assert reply["id"] == 0
    assert reply["error"]["code"] == -32601
    assert "item/future/ask" in reply["error"]["message"]


async def test_server_request_handlers_run_off_the_reader() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server):
            release = anyio.Event()

            async def slow_handler(request: ServerRequest) -> dict[str, Any]:
                await release.wait()
                return {"answered": request.params["n"]}

            client.set_server_request_handler("slow/ask", slow_handler)
            await send(server, {"id": 0, "method": "slow/ask", "params": {"n": 7}})
            async with anyio.create_task_group() as tg:

                async def answer() -> None:
                    req = await recv(server)
                    await send(server, {"id": req["id"], "result": "while handler waits"})

                tg.start_soon(answer)
                # The handler is still blocked, yet this answer is read and delivered.
                assert await client.request("ping") == "while handler waits"
            release.set()
            assert await recv(server) == {"id": 0, "result": {"answered": 7}}


async def test_a_failing_server_request_handler_gets_an_error_reply() -> None:
    with anyio.fail_after(5):
        async with connected() as (client, server):

            async def broken(_: ServerRequest) -> Any:
                raise ValueError("handler bug")

            client.set_server_request_handler("x/ask", broken)
            await send(server, {"id": 3, "method": "x/ask", "params": {}})
            reply = await recv(server)
    assert reply["id"] == 3
    assert reply["error"]["code"] == -32603


async def test_transport_options_with_a_transport_object_are_refused() -> None:
    client_end, server = memory_transport_pair()
    with pytest.raises(TypeError, match="only apply when the client opens the transport"):
        CodexClient(client_end, command=["x"])
    await client_end.aclose()
    await server.aclose()


async def test_aclose_works_under_a_timeout_inside_the_client_block() -> None:
    errors: list[BaseException] = []
    client_end, server = memory_transport_pair()
    async with anyio.create_task_group() as outer:
        outer.start_soon(handshake, server)
        async with CodexClient(client_end) as client:

            async def wait_for_answer() -> None:
                try:
                    await client.request("never/answered", timeout=60)
                except CodexTransportError as exc:
                    errors.append(exc)

            outer.start_soon(wait_for_answer)
            await recv(server)
            with anyio.fail_after(1):
                await client.aclose()
                await client.aclose()
            assert client.closed
    await server.aclose()
    assert len(errors) == 1


async def test_experimental_methods_and_fields_need_the_opt_in_and_nothing_is_sent() -> None:
    from codex_app_server_client.errors import CodexExperimentalApiError

    with anyio.fail_after(5):
        async with connected() as (client, server):
            with pytest.raises(CodexExperimentalApiError, match="experimental_api=True"):
                await client.request("collaborationMode/list", {})
            with pytest.raises(CodexExperimentalApiError) as info:
                await client._request(  # pyright: ignore[reportPrivateUsage]
                    "thread/start", {"cwd": "/w", "dynamicTools": []}
                )
            assert info.value.fields == ("dynamicTools",)
            # Nothing reached the server: the next message it sees is this probe.
            await client.notify("probe")
            assert (await recv(server))["method"] == "probe"


async def test_with_the_opt_in_experimental_methods_are_sent() -> None:
    with anyio.fail_after(5):
        async with (
            connected(experimental_api=True) as (client, server),
            anyio.create_task_group() as tg,
        ):

            async def answer() -> None:
                req = await recv(server)
                assert req["method"] == "collaborationMode/list"
                await send(server, {"id": req["id"], "result": {"data": []}})

            tg.start_soon(answer)
            assert await client.request("collaborationMode/list", {}) == {"data": []}


class _OneAtATime:
    """A transport with only the three required methods: no ``receive_batch``."""

    def __init__(self, inner: MemoryTransport) -> None:
        self._inner = inner

    async def send(self, message: bytes) -> None:
        await self._inner.send(message)

    async def receive(self) -> bytes:
        return await self._inner.receive()

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_transport_without_receive_batch_is_read_one_message_at_a_time() -> None:
    client_end, server = memory_transport_pair()
    seen: list[str] = []
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(handshake, server)
            async with CodexClient(_OneAtATime(client_end)) as client:
                client.on_notification(lambda note: seen.append(note.method))

                async def answer() -> None:
                    req = await recv(server)
                    for n in range(3):
                        await send(server, {"method": f"test/n{n}", "params": {}})
                    await send(server, {"id": req["id"], "result": {"ok": True}})

                tg.start_soon(answer)
                assert await client.request("thread/start") == {"ok": True}
    await server.aclose()
    assert seen == ["test/n0", "test/n1", "test/n2"]
