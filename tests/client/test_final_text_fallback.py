"""chat_once reads a turn back from the server only when neither the live events nor
``turn/completed`` carried the answer.

The server is played by hand over an in-memory transport: no realistic server leaves a
completed turn without its final message, which is exactly the case to test.
"""

from __future__ import annotations

from typing import Any

import anyio
import orjson
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.testing import MemoryTransport, memory_transport_pair

pytestmark = pytest.mark.anyio

ANSWER = {"id": "m1", "type": "agentMessage", "text": "from history", "phase": None}


async def recv(server: MemoryTransport) -> dict[str, Any]:
    return orjson.loads(await server.receive())


async def send(server: MemoryTransport, message: dict[str, Any]) -> None:
    await server.send(orjson.dumps(message))


async def play(server: MemoryTransport, *, turns_list_supported: bool, seen: list[str]) -> None:
    while True:
        try:
            msg = await recv(server)
        except anyio.EndOfStream:
            return
        method = msg.get("method")
        seen.append(str(method))
        if "id" not in msg:
            continue
        rid = msg["id"]
        if method == "initialize":
            await send(server, {"id": rid, "result": {"userAgent": "hand/1"}})
        elif method == "thread/start":
            await send(server, {"id": rid, "result": {"thread": {"id": "th"}}})
        elif method == "turn/start":
            await send(server, {"id": rid, "result": {"turn": {"id": "tu", "items": []}}})
            turn: dict[str, Any] = {
                "id": "tu",
                "status": "completed",
                "items": [],
                "itemsView": "notLoaded",
            }
            await send(
                server, {"method": "turn/completed", "params": {"threadId": "th", "turn": turn}}
            )
        elif method == "thread/turns/list":
            if turns_list_supported:
                turn = {"id": "tu", "status": "completed", "items": [ANSWER]}
                await send(server, {"id": rid, "result": {"data": [turn], "nextCursor": None}})
            else:
                error = {"code": -32600, "message": "Invalid request: unknown variant"}
                await send(server, {"id": rid, "error": error})
        elif method == "thread/read":
            turn = {"id": "tu", "status": "completed", "items": [ANSWER]}
            await send(server, {"id": rid, "result": {"thread": {"id": "th", "turns": [turn]}}})


@pytest.mark.parametrize(
    ("supported", "source", "reads"),
    [
        (True, "thread_turns_list", ["thread/turns/list"]),
        (False, "thread_read", ["thread/turns/list", "thread/read"]),
    ],
)
async def test_the_final_text_is_read_back_only_when_live_and_summary_lack_it(
    supported: bool, source: str, reads: list[str]
) -> None:
    client_end, server = memory_transport_pair()
    seen: list[str] = []
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: play(server, turns_list_supported=supported, seen=seen))
            async with CodexClient(client_end) as client:
                result = await client.chat_once("hello")
            await server.aclose()
    assert result.final_text == "from history"
    assert result.final_text_source == source
    assert [m for m in seen if m.startswith("thread/") and m != "thread/start"] == reads
