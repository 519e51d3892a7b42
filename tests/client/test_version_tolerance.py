"""The next server version must not break the client: what is unknown passes through.

The in-process fake app-server plays turns full of things this SDK has never heard of:
notification methods, item types, enum values in known fields, extra fields on every object,
``codexErrorInfo`` as a string and as an object. A "future server" transport wrapper adds
unknown fields to every message the fake sends and gives ``turn/completed`` an ``itemsView``
value nobody knows. Every turn must still complete with the right final text, and the client
must stay usable for the next turn.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
import orjson
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexTurnFailedError
from codex_app_server_client.testing import MemoryTransport, memory_transport_pair
from codex_app_server_client.testing.fake_server import (
    Action,
    FakeAppServer,
    agent_message,
    fail,
    item,
    notify,
    retry_error,
)

pytestmark = pytest.mark.anyio

WAIT = 10.0

FUTURE = {"futureField": {"nested": [1, "two", None]}, "x-vendor": True}
"""Unknown fields added everywhere by :class:`FutureServer`."""


def _with_future_fields(value: Any) -> Any:
    """``value`` with :data:`FUTURE` merged into every object that looks like protocol data."""
    if isinstance(value, dict):
        obj = cast("dict[str, Any]", value)
        out = {key: _with_future_fields(inner) for key, inner in obj.items()}
        if "type" in out or "id" in out or "method" in out or "threadId" in out:
            out.update(FUTURE)
        return out
    if isinstance(value, list):
        return [_with_future_fields(inner) for inner in cast("list[Any]", value)]
    return value


class FutureServer:
    """The server end of the pair, seen as a newer server would send it."""

    def __init__(self, inner: MemoryTransport) -> None:
        self._inner = inner

    async def send(self, message: bytes) -> None:
        decoded: Any = orjson.loads(message)
        if isinstance(decoded, dict):
            msg = cast("dict[str, Any]", _with_future_fields(decoded))
            params: Any = msg.get("params")
            if msg.get("method") == "turn/completed" and isinstance(params, dict):
                turn: Any = cast("dict[str, Any]", params).get("turn")
                if isinstance(turn, dict):
                    cast("dict[str, Any]", turn)["itemsView"] = "someNewView"
            message = orjson.dumps(msg)
        await self._inner.send(message)

    async def receive(self) -> bytes:
        return await self._inner.receive()

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def future_client(
    scripts: Sequence[Sequence[Action]],
) -> AsyncGenerator[tuple[CodexClient, FakeAppServer]]:
    fake = FakeAppServer()
    fake.script_turns(scripts)
    client_end, server_end = memory_transport_pair()
    try:
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(fake.serve, FutureServer(server_end))
                async with CodexClient(client_end, inactivity_timeout=WAIT) as client:
                    yield client, fake
    finally:
        await server_end.aclose()
        await client_end.aclose()  # also when the client could not be built


def surprising_turn(answer: str) -> list[Action]:
    """A turn full of things this SDK does not know, ending with the agent saying ``answer``."""
    return [
        notify("thread/someNewThing/changed", {"threadId": "$threadId", "what": "new"}),
        notify("item/hologram/delta", {"threadId": "$threadId", "turnId": "$turnId", "d": 1}),
        notify("server/mood", None),
        notify(
            "thread/status/changed",
            {"threadId": "$threadId", "status": {"type": "dreaming", "depth": 3}},
        ),
        item({"type": "hologram", "frames": 3, "status": "inProgress"}),
        item(
            {"type": "commandExecution", "command": "ls", "status": "inProgress"},
            completed={
                "type": "commandExecution",
                "command": "ls",
                "status": "someNewStatus",
                "aggregatedOutput": "a\n",
                "exitCode": 0,
            },
        ),
        retry_error("Reconnecting... 1/5", "responseStreamDisconnected"),
        retry_error("Reconnecting... 2/5", {"someNewErrorKind": {"retryInMs": 10}}),
        agent_message("thinking aloud", phase="commentary"),
        item({"type": "agentMessage", "text": "odd phase", "phase": "someNewPhase"}),
        agent_message(answer, phase="final_answer", deltas=2),
        notify("turn/someNewSummary", {"threadId": "$threadId", "turnId": "$turnId"}),
    ]


async def test_unknown_methods_types_values_and_fields_do_not_disturb_a_turn() -> None:
    async with future_client([surprising_turn("the answer")]) as (client, _fake):
        result = await client.chat_once("go")
    assert result.status == "completed"
    assert result.final_text == "the answer"
    by_type = {step.item_type: step for step in result.steps}
    hologram = by_type["hologram"]
    assert hologram.text is None
    assert hologram.item["frames"] == 3
    assert hologram.item["futureField"] == FUTURE["futureField"]
    command = by_type["commandExecution"]
    assert command.item["status"] == "someNewStatus"
    assert command.text == "$ ls\na\n"


async def test_chat_yields_unknown_items_as_steps_with_their_raw_type() -> None:
    async with future_client([surprising_turn("done")]) as (client, _fake):
        stream = client.chat("go")
        seen = [step async for step in stream]
    types = [step.item_type for step in seen]
    assert types[:3] == ["userMessage", "hologram", "commandExecution"]
    assert types[-1] == "agentMessage"
    assert seen[-1].text == "done"
    assert stream.result is not None
    assert stream.result.final_text == "done"


async def test_the_client_stays_usable_after_surprising_turns() -> None:
    scripts = [surprising_turn("first"), surprising_turn("second"), [agent_message("third")]]
    async with future_client(scripts) as (client, fake):
        first = await client.chat_once("one")
        second = await client.chat_once("two", thread_id=first.thread_id)
        third = await client.chat_once("three")
        raw = await client.request("thread/read", {"threadId": first.thread_id})
    assert [first.final_text, second.final_text, third.final_text] == ["first", "second", "third"]
    assert second.thread_id == first.thread_id
    assert raw["thread"]["id"] == first.thread_id
    thread = cast("dict[str, Any]", raw["thread"])
    assert thread["futureField"] == FUTURE["futureField"]
    assert fake.turns_completed == 3


@pytest.mark.parametrize(
    "error_info",
    ["someNewErrorKind", {"httpConnectionFailed": {"httpStatusCode": 503, "newDetail": "x"}}],
)
async def test_a_failed_turn_surfaces_codex_error_info_as_sent(error_info: Any) -> None:
    scripts = [
        [agent_message("partial"), fail("upstream said no", error_info)],
        [agent_message("ok")],
    ]
    async with future_client(scripts) as (client, _fake):
        with pytest.raises(CodexTurnFailedError) as caught:
            await client.chat_once("go")
        again = await client.chat_once("again", thread_id=caught.value.thread_id)
    error = caught.value
    assert error.error_info == error_info
    assert "upstream said no" in str(error)
    assert error.turn_id
    assert again.final_text == "ok"
