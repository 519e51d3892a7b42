"""The fake app-server, driven with raw JSON over an in-memory transport pair."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
import orjson
import pytest

from codex_app_server_client.testing import memory_transport_pair
from codex_app_server_client.testing.fake_server import (
    DEFAULT_AGENT_TEXT,
    Action,
    FakeAppServer,
    action_from_dict,
    actions_from_json,
    agent_message,
    before_response,
    command,
    command_approval,
    complete,
    disconnect,
    exit_process,
    fail,
    file_change_approval,
    garbage,
    item,
    notify,
    reasoning,
    retry_error,
    server_request,
    stall,
    turn_started,
)
from codex_app_server_client.testing.memory import MemoryTransport

WAIT = 10.0
Msg = dict[str, Any]


class RawClient:
    """A minimal JSON-RPC peer: sends dicts, reads and filters decoded messages."""

    def __init__(self, transport: MemoryTransport) -> None:
        self.transport = transport
        self.next_id = 1
        self.seen: list[Msg] = []

    async def send(self, message: Any) -> None:
        await self.transport.send(orjson.dumps(message))

    async def request(self, method: str, params: Any = None, *, omit_params: bool = False) -> int:
        request_id = self.next_id
        self.next_id += 1
        message: Msg = {"id": request_id, "method": method}
        if not omit_params:
            message["params"] = {} if params is None else params
        await self.send(message)
        return request_id

    async def recv(self) -> Msg:
        message = cast("Msg", orjson.loads(await self.transport.receive()))
        self.seen.append(message)
        return message

    async def until(self, predicate: Callable[[Msg], bool]) -> list[Msg]:
        """Read until ``predicate`` matches; return every message read, the match last."""
        got: list[Msg] = []
        while True:
            message = await self.recv()
            got.append(message)
            if predicate(message):
                return got

    async def response(self, request_id: int) -> Msg:
        got = await self.until(lambda m: m.get("id") == request_id and "method" not in m)
        return got[-1]

    async def call(self, method: str, params: Any = None) -> Any:
        reply = await self.response(await self.request(method, params))
        assert "result" in reply, reply
        return reply["result"]

    async def initialize(self) -> Any:
        result = await self.call(
            "initialize", {"clientInfo": {"name": "probe", "title": None, "version": "0.0.1"}}
        )
        await self.send({"method": "initialized"})
        return result

    async def start_thread(self, params: Any = None) -> str:
        result = await self.call("thread/start", params or {})
        return str(result["thread"]["id"])

    async def start_turn(self, thread_id: str, text: str = "hi") -> int:
        return await self.request(
            "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": text}]}
        )

    async def until_turn_completed(self, thread_id: str | None = None) -> list[Msg]:
        return await self.until(
            lambda m: (
                m.get("method") == "turn/completed"
                and (thread_id is None or m["params"]["threadId"] == thread_id)
            )
        )


@asynccontextmanager
async def connected(server: FakeAppServer) -> AsyncGenerator[RawClient]:
    client_end, server_end = memory_transport_pair()
    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, server_end)
            yield RawClient(client_end)
            await client_end.aclose()


def methods(messages: list[Msg]) -> list[str]:
    return [str(m["method"]) for m in messages if "method" in m]


def quiet() -> FakeAppServer:
    return FakeAppServer(post_initialize_notifications=False)


# --------------------------------------------------------------------------------------------
# Handshake and request errors


@pytest.mark.anyio
async def test_requests_before_initialize_get_not_initialized() -> None:
    async with connected(quiet()) as client:
        reply = await client.response(await client.request("thread/start"))
        assert reply == {"error": {"code": -32600, "message": "Not initialized"}, "id": 1}


@pytest.mark.anyio
async def test_a_second_initialize_gets_already_initialized() -> None:
    async with connected(quiet()) as client:
        await client.initialize()
        reply = await client.response(
            await client.request("initialize", {"clientInfo": {"name": "x", "version": "1"}})
        )
        assert reply["error"] == {"code": -32600, "message": "Already initialized"}


@pytest.mark.anyio
async def test_initialize_answers_like_the_real_server_then_sends_the_startup_noise() -> None:
    server = FakeAppServer(user_agent="probe/0.169.0 (fake)", codex_home="/home/x/.codex")
    async with connected(server) as client:
        result = await client.initialize()
        assert result == {
            "userAgent": "probe/0.169.0 (fake)",
            "codexHome": "/home/x/.codex",
            "platformFamily": "unix",
            "platformOs": "linux",
        }
        first, second = await client.recv(), await client.recv()
        assert [first["method"], second["method"]] == [
            "configWarning",
            "remoteControl/status/changed",
        ]
        assert isinstance(first["emittedAtMs"], int)
        assert second["params"]["status"] == "disabled"


@pytest.mark.anyio
async def test_server_messages_never_carry_a_jsonrpc_member() -> None:
    async with connected(FakeAppServer()) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.start_turn(thread_id)
        await client.until_turn_completed()
        assert all("jsonrpc" not in m for m in client.seen)
        notifications = [m for m in client.seen if "method" in m and "id" not in m]
        assert all(isinstance(m["emittedAtMs"], int) for m in notifications)


@pytest.mark.anyio
async def test_an_unknown_method_is_an_invalid_request_naming_the_variant() -> None:
    async with connected(quiet()) as client:
        await client.initialize()
        reply = await client.response(await client.request("no/suchMethod"))
        assert reply["error"]["code"] == -32600
        assert reply["error"]["message"].startswith(
            "Invalid request: unknown variant `no/suchMethod`, expected one of `initialize`"
        )


@pytest.mark.anyio
async def test_a_request_without_params_is_rejected_with_missing_field_params() -> None:
    async with connected(quiet()) as client:
        await client.initialize()
        reply = await client.response(await client.request("thread/loaded/list", omit_params=True))
        assert reply["error"] == {
            "code": -32600,
            "message": "Invalid request: missing field `params`",
        }
        reply = await client.response(await client.request("turn/start", {}))
        assert reply["error"]["message"] == "Invalid request: missing field `threadId`"


@pytest.mark.anyio
async def test_unknown_threads_are_reported_like_the_real_server() -> None:
    async with connected(quiet()) as client:
        await client.initialize()
        unknown = "00000000-0000-0000-0000-000000000000"
        reply = await client.response(
            await client.request("turn/start", {"threadId": unknown, "input": []})
        )
        assert reply["error"]["message"] == f"thread not found: {unknown}"
        reply = await client.response(await client.request("thread/read", {"threadId": unknown}))
        assert reply["error"]["message"] == f"thread not loaded: {unknown}"


@pytest.mark.anyio
async def test_malformed_input_and_stray_messages_are_ignored_silently() -> None:
    server = quiet()
    async with connected(server) as client:
        await client.initialize()
        await client.transport.send(b"{this is not json")
        await client.transport.send(b'[{"id": 901, "method": "thread/loaded/list", "params": {}}]')
        await client.send({"id": 902})
        await client.send({"id": 903, "result": {"unsolicited": True}})
        await client.send({"id": None, "method": "thread/loaded/list", "params": {}})
        await client.send({"method": "no/suchNotification", "params": {}})
        reply = await client.response(await client.request("thread/loaded/list"))
        # The very next message is the answer to the last request: nothing else was sent.
        assert client.seen[-1] is reply
        assert reply["result"] == {"data": [], "nextCursor": None}
        assert {"id": 902} in server.received


@pytest.mark.anyio
async def test_string_ids_are_echoed_back_and_a_jsonrpc_member_is_accepted() -> None:
    async with connected(quiet()) as client:
        await client.initialize()
        await client.send({"jsonrpc": "2.0", "id": "abc-1", "method": "thread/list", "params": {}})
        reply = await client.recv()
        assert reply["id"] == "abc-1"
        assert reply["result"]["data"] == []


@pytest.mark.anyio
async def test_overload_injection_answers_the_next_requests_with_minus_32001() -> None:
    server = quiet()
    async with connected(server) as client:
        await client.initialize()
        server.overload_next(2)
        first = await client.response(await client.request("thread/loaded/list"))
        second = await client.response(await client.request("thread/loaded/list"))
        third = await client.response(await client.request("thread/loaded/list"))
        overloaded = {"code": -32001, "message": "Server overloaded; retry later."}
        assert first["error"] == overloaded
        assert second["error"] == overloaded
        assert "result" in third


# --------------------------------------------------------------------------------------------
# Threads


@pytest.mark.anyio
async def test_thread_start_answers_before_thread_started() -> None:
    async with connected(quiet()) as client:
        await client.initialize()
        request_id = await client.request("thread/start", {"approvalPolicy": "untrusted"})
        reply = await client.recv()
        started = await client.recv()
        assert reply["id"] == request_id
        result = reply["result"]
        assert result["thread"]["status"] == {"type": "idle"}
        assert result["thread"]["turns"] == []
        assert result["approvalPolicy"] == "untrusted"
        assert result["sandbox"] == {"type": "readOnly", "networkAccess": False}
        assert started["method"] == "thread/started"
        assert started["params"]["thread"]["id"] == result["thread"]["id"]


@pytest.mark.anyio
async def test_history_reads_answer_truthfully_after_a_turn() -> None:
    async with connected(quiet()) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.start_turn(thread_id, "remember me")
        await client.until_turn_completed()

        read = await client.call("thread/read", {"threadId": thread_id, "includeTurns": True})
        turns = read["thread"]["turns"]
        assert [t["status"] for t in turns] == ["completed"]
        assert [i["type"] for i in turns[0]["items"]] == ["userMessage", "agentMessage"]
        assert read["thread"]["preview"] == "remember me"
        assert "deprecationNotice" in methods(client.seen)

        plain = await client.call("thread/read", {"threadId": thread_id})
        assert plain["thread"]["turns"] == []

        listed = await client.call("thread/turns/list", {"threadId": thread_id})
        assert set(listed) == {"data", "nextCursor", "backwardsCursor"}
        assert listed["data"][0]["id"] == turns[0]["id"]

        rows = (await client.call("thread/items/list", {"threadId": thread_id}))["data"]
        assert [r["item"]["type"] for r in rows] == ["userMessage", "agentMessage"]
        assert all(r["turnId"] == turns[0]["id"] for r in rows)

        assert (await client.call("thread/loaded/list"))["data"] == [thread_id]
        assert [t["id"] for t in (await client.call("thread/list"))["data"]] == [thread_id]


@pytest.mark.anyio
async def test_name_set_answers_then_sends_name_updated() -> None:
    async with connected(quiet()) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.recv()  # thread/started
        assert await client.call("thread/name/set", {"threadId": thread_id, "name": "N"}) == {}
        updated = await client.recv()
        assert updated["method"] == "thread/name/updated"
        assert updated["params"] == {"threadId": thread_id, "threadName": "N"}


@pytest.mark.anyio
async def test_archive_sends_not_loaded_then_the_response_then_archived() -> None:
    async with connected(quiet()) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.recv()  # thread/started
        request_id = await client.request("thread/archive", {"threadId": thread_id})
        a, b, c = await client.recv(), await client.recv(), await client.recv()
        assert a["method"] == "thread/status/changed"
        assert a["params"]["status"] == {"type": "notLoaded"}
        assert b == {"id": request_id, "result": {}}
        assert c["method"] == "thread/archived"
        assert (await client.call("thread/loaded/list"))["data"] == []
        result = await client.call("thread/unarchive", {"threadId": thread_id})
        assert result["thread"]["id"] == thread_id
        assert (await client.recv())["method"] == "thread/unarchived"


# --------------------------------------------------------------------------------------------
# Turns


@pytest.mark.anyio
async def test_the_default_turn_has_the_real_servers_shape_and_order() -> None:
    server = quiet()
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        request_id = await client.start_turn(thread_id, "Say hello")
        got = await client.until_turn_completed()
        got = [m for m in got if m.get("method") != "thread/started"]
        assert got[0]["id"] == request_id
        turn = got[0]["result"]["turn"]
        assert turn["status"] == "inProgress"
        assert turn["items"] == []
        assert turn["itemsView"] == "notLoaded"
        assert methods(got) == [
            "thread/status/changed",
            "turn/started",
            "item/started",
            "item/completed",
            "item/started",
            "item/completed",
            "thread/tokenUsage/updated",
            "thread/status/changed",
            "turn/completed",
        ]
        user = got[4]["params"]["item"]
        assert user["type"] == "userMessage"
        assert user["content"] == [{"text_elements": [], "type": "text", "text": "Say hello"}]
        agent = got[6]["params"]["item"]
        assert agent["type"] == "agentMessage"
        assert agent["text"] == DEFAULT_AGENT_TEXT
        assert got[5]["params"]["item"]["text"] == DEFAULT_AGENT_TEXT  # no deltas: full text
        assert got[1]["params"]["status"] == {"type": "active", "activeFlags": []}
        assert got[-2]["params"]["status"] == {"type": "idle"}
        done = got[-1]["params"]["turn"]
        assert done["id"] == turn["id"]
        assert done["status"] == "completed"
        assert done["items"] == [agent]
        assert done["itemsView"] == "summary"
        assert server.turns_completed == 1


@pytest.mark.anyio
async def test_agent_message_deltas_arrive_between_started_and_completed() -> None:
    server = quiet()
    server.script_turn(agent_message("Hello world", deltas=["Hel", "lo ", "world"]))
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.start_turn(thread_id)
        got = await client.until_turn_completed()
        agent_events = [
            m
            for m in got
            if m.get("method", "").startswith("item/")
            and m["params"].get("item", {}).get("type", "agentMessage") == "agentMessage"
        ]
        assert methods(agent_events) == [
            "item/started",
            "item/agentMessage/delta",
            "item/agentMessage/delta",
            "item/agentMessage/delta",
            "item/completed",
        ]
        assert agent_events[0]["params"]["item"]["text"] == ""
        item_id = agent_events[0]["params"]["item"]["id"]
        assert "".join(m["params"]["delta"] for m in agent_events[1:4]) == "Hello world"
        assert all(m["params"]["itemId"] == item_id for m in agent_events[1:4])
        assert agent_events[-1]["params"]["item"]["text"] == "Hello world"


@pytest.mark.anyio
async def test_reasoning_command_and_custom_items_stream_in_script_order() -> None:
    server = quiet()
    server.script_turn(
        reasoning(["Thinking ", "hard."]),
        command("ls", output="a\n", exit_code=0),
        item({"type": "futureThing", "payload": 1}),
        notify("some/unknownNotification", {"threadId": "$threadId", "x": 1}),
        retry_error("Reconnecting... 1/5"),
        agent_message("done", phase="final_answer"),
    )
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.start_turn(thread_id)
        got = await client.until_turn_completed()
        completed = [m["params"]["item"] for m in got if m.get("method") == "item/completed"]
        assert [i["type"] for i in completed] == [
            "userMessage",
            "reasoning",
            "commandExecution",
            "futureThing",
            "agentMessage",
        ]
        assert completed[1]["summary"] == ["Thinking ", "hard."]
        assert completed[2]["status"] == "completed"
        assert completed[2]["exitCode"] == 0
        assert completed[2]["aggregatedOutput"] == "a\n"
        assert completed[4]["phase"] == "final_answer"
        unknown = next(m for m in got if m.get("method") == "some/unknownNotification")
        assert unknown["params"] == {"threadId": thread_id, "x": 1}
        error = next(m for m in got if m.get("method") == "error")
        assert error["params"]["willRetry"] is True
        assert got[-1]["params"]["turn"]["status"] == "completed"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("reply", "item_status", "turn_status"),
    [
        ({"result": {"decision": "accept"}}, "completed", "completed"),
        ({"result": {"decision": "acceptForSession"}}, "completed", "completed"),
        ({"result": {"decision": "decline"}}, "declined", "completed"),
        ({"error": {"code": -32603, "message": "no UI"}}, "declined", "completed"),
        ({"result": {"decision": "cancel"}}, "declined", "interrupted"),
    ],
)
async def test_command_approval_outcome_follows_the_clients_decision(
    reply: Msg, item_status: str, turn_status: str
) -> None:
    server = quiet()
    server.script_turn(command_approval("touch x", output="ok\n"), agent_message("after"))
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.start_turn(thread_id)
        got = await client.until(lambda m: m.get("method", "").endswith("requestApproval"))
        request = got[-1]
        assert request["id"] == 0
        assert request["method"] == "item/commandExecution/requestApproval"
        params = request["params"]
        assert params["threadId"] == thread_id
        assert params["command"] == "touch x"
        assert params["kind"] == "command"
        assert params["availableDecisions"] == [
            "accept",
            {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch", "x"]}},
            "cancel",
        ]
        waiting = [m for m in got if m.get("method") == "thread/status/changed"][-1]
        assert waiting["params"]["status"]["activeFlags"] == ["waitingOnApproval"]

        await client.send({"id": 0, **reply})
        rest = await client.until_turn_completed()
        assert rest[0]["method"] == "serverRequest/resolved"
        assert rest[0]["params"] == {"threadId": thread_id, "requestId": 0}
        command_done = next(
            m["params"]["item"]
            for m in rest
            if m.get("method") == "item/completed"
            and m["params"]["item"]["type"] == "commandExecution"
        )
        assert command_done["status"] == item_status
        assert rest[-1]["params"]["turn"]["status"] == turn_status
        agent_texts = [
            m["params"]["item"]["text"]
            for m in rest
            if m.get("method") == "item/completed" and m["params"]["item"]["type"] == "agentMessage"
        ]
        assert agent_texts == ([] if turn_status == "interrupted" else ["after"])
        assert len(server.decisions) == 1
        decision = server.decisions[0]
        assert decision.item_id == params["itemId"]
        assert decision.decision == reply.get("result", {}).get("decision")
        assert (decision.error is not None) == ("error" in reply)


@pytest.mark.anyio
async def test_file_change_approval_asks_and_completes_the_change() -> None:
    server = quiet()
    server.script_turn(file_change_approval("/w/hello.txt", diff="hello\n"))
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.start_turn(thread_id)
        got = await client.until(lambda m: m.get("method") == "item/fileChange/requestApproval")
        params = got[-1]["params"]
        assert set(params) == {"threadId", "turnId", "itemId", "startedAtMs", "reason", "grantRoot"}
        started = next(
            m
            for m in got
            if m.get("method") == "item/started" and m["params"]["item"]["type"] == "fileChange"
        )
        assert started["params"]["item"]["changes"] == [
            {"path": "/w/hello.txt", "kind": {"type": "add"}, "diff": "hello\n"}
        ]
        await client.send({"id": got[-1]["id"], "result": {"decision": "accept"}})
        rest = await client.until_turn_completed()
        change = next(
            m["params"]["item"]
            for m in rest
            if m.get("method") == "item/completed" and m["params"]["item"]["type"] == "fileChange"
        )
        assert change["status"] == "completed"
        assert server.decisions[0].method == "item/fileChange/requestApproval"


@pytest.mark.anyio
async def test_any_server_request_records_the_clients_result_or_error() -> None:
    server = quiet()
    server.script_turn(
        server_request("item/tool/requestUserInput", {"itemId": "q", "questions": []}),
        server_request("some/unknownRequest", {"x": 1}, scoped=False),
    )
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.start_turn(thread_id)
        first = (await client.until(lambda m: m.get("method") == "item/tool/requestUserInput"))[-1]
        assert first["params"]["threadId"] == thread_id
        assert first["params"]["itemId"] == "q"
        await client.send({"id": first["id"], "result": {"answers": {}}})
        second = (await client.until(lambda m: m.get("method") == "some/unknownRequest"))[-1]
        assert second["id"] == first["id"] + 1
        assert second["params"] == {"x": 1}
        await client.send({"id": second["id"], "error": {"code": -32601, "message": "nope"}})
        await client.until_turn_completed()
        assert [(r.method, r.result, r.error) for r in server.replies] == [
            ("item/tool/requestUserInput", {"answers": {}}, None),
            ("some/unknownRequest", None, {"code": -32601, "message": "nope"}),
        ]


@pytest.mark.anyio
async def test_an_interrupt_ends_a_stalled_turn_and_the_partial_message_never_completes() -> None:
    server = quiet()
    server.script_turn(
        agent_message("chunk0 chunk1 ", deltas=["chunk0 ", "chunk1 "], stall_after=1)
    )
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        turn_reply = await client.response(await client.start_turn(thread_id))
        turn_id = turn_reply["result"]["turn"]["id"]
        await server.wait_stalled()
        request_id = await client.request(
            "turn/interrupt", {"threadId": thread_id, "turnId": turn_id}
        )
        got = await client.until_turn_completed()
        interrupt_reply = next(m for m in got if m.get("id") == request_id)
        assert interrupt_reply["result"] == {}
        after = got[got.index(interrupt_reply) :]
        assert methods(after) == ["thread/status/changed", "turn/completed"]
        assert after[1]["params"]["status"] == {"type": "idle"}
        done = got[-1]["params"]["turn"]
        assert done["status"] == "interrupted"
        assert done["items"] == []
        assert done["itemsView"] == "notLoaded"
        deltas = [m for m in client.seen if m.get("method") == "item/agentMessage/delta"]
        assert [d["params"]["delta"] for d in deltas] == ["chunk0 "]
        completed_types = [
            m["params"]["item"]["type"] for m in client.seen if m.get("method") == "item/completed"
        ]
        assert "agentMessage" not in completed_types

        again = await client.response(
            await client.request("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})
        )
        assert again["error"] == {"code": -32600, "message": "no active turn to interrupt"}
        # The thread is reusable, and history shows the interrupted turn.
        await client.start_turn(thread_id)
        await client.until_turn_completed()
        listed = await client.call(
            "thread/turns/list", {"threadId": thread_id, "sortDirection": "asc"}
        )
        assert [t["status"] for t in listed["data"]] == ["interrupted", "completed"]


@pytest.mark.anyio
async def test_a_stalled_turn_does_not_block_other_requests_and_release_resumes_it() -> None:
    server = quiet()
    server.script_turn(stall(), agent_message("resumed"))
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.start_turn(thread_id)
        await server.wait_stalled()
        assert (await client.call("thread/loaded/list"))["data"] == [thread_id]
        read = await client.call("thread/read", {"threadId": thread_id})
        assert read["thread"]["status"] == {"type": "active", "activeFlags": []}
        server.release()
        got = await client.until_turn_completed()
        assert got[-1]["params"]["turn"]["status"] == "completed"
        assert got[-1]["params"]["turn"]["items"][0]["text"] == "resumed"


@pytest.mark.anyio
async def test_a_stall_can_wait_for_an_event() -> None:
    server = quiet()
    gate = anyio.Event()
    server.script_turn(stall(until=gate))
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.start_turn(thread_id)
        await server.wait_stalled()
        gate.set()
        got = await client.until_turn_completed()
        assert got[-1]["params"]["turn"]["status"] == "completed"


@pytest.mark.anyio
async def test_steer_adds_a_user_message_to_the_active_turn_and_checks_the_turn_id() -> None:
    server = quiet()
    server.script_turn(stall(), agent_message("steered"))
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        turn_id = (await client.response(await client.start_turn(thread_id)))["result"]["turn"][
            "id"
        ]
        await server.wait_stalled()
        wrong = await client.response(
            await client.request(
                "turn/steer",
                {"threadId": thread_id, "expectedTurnId": "nope", "input": []},
            )
        )
        assert wrong["error"]["message"] == (
            f"expected active turn id `nope` but found `{turn_id}`"
        )
        steer = {
            "threadId": thread_id,
            "expectedTurnId": turn_id,
            "input": [{"type": "text", "text": "also this"}],
        }
        assert await client.call("turn/steer", steer) == {"turnId": turn_id}
        got = await client.until_turn_completed()
        users = [
            m["params"]["item"]
            for m in got
            if m.get("method") == "item/completed" and m["params"]["item"]["type"] == "userMessage"
        ]
        assert users[0]["content"][0]["text"] == "also this"
        late = await client.response(await client.request("turn/steer", steer))
        assert late["error"]["message"] == "no active turn to steer"


@pytest.mark.anyio
async def test_fail_ends_the_turn_failed_with_the_error_and_a_system_error_status() -> None:
    server = quiet()
    info = {"httpConnectionFailed": {"httpStatusCode": 401}}
    server.script_turn(fail("unexpected status 401 Unauthorized", info))
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.start_turn(thread_id)
        got = await client.until_turn_completed()
        tail = got[-3:]
        assert methods(tail) == ["thread/status/changed", "error", "turn/completed"]
        assert tail[0]["params"]["status"] == {"type": "systemError"}
        assert tail[1]["params"]["willRetry"] is False
        assert tail[1]["params"]["error"]["codexErrorInfo"] == info
        turn = tail[2]["params"]["turn"]
        assert turn["status"] == "failed"
        assert turn["error"]["message"] == "unexpected status 401 Unauthorized"
        assert turn["items"] == []
        read = await client.call("thread/read", {"threadId": thread_id})
        assert read["thread"]["status"] == {"type": "systemError"}


@pytest.mark.anyio
async def test_notifications_and_turn_started_can_come_before_the_turn_start_response() -> None:
    server = quiet()
    server.script_turn(
        before_response(
            notify("warning", {"threadId": "$threadId", "message": "w"}), turn_started()
        )
    )
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        request_id = await client.start_turn(thread_id)
        got = await client.until_turn_completed()
        got = [m for m in got if m.get("method") != "thread/started"]
        assert methods(got[:3]) == ["warning", "thread/status/changed", "turn/started"]
        assert got[3]["id"] == request_id
        assert methods(got).count("turn/started") == 1


@pytest.mark.anyio
async def test_two_threads_run_turns_concurrently_on_one_connection() -> None:
    server = quiet()
    gate = anyio.Event()
    server.script_turn(agent_message("A", deltas=["A"]), stall(until=gate), agent_message("A2"))
    server.script_turn(agent_message("B"))
    async with connected(server) as client:
        await client.initialize()
        thread_a = await client.start_thread()
        thread_b = await client.start_thread()
        await client.start_turn(thread_a)
        await server.wait_stalled()
        await client.start_turn(thread_b)
        got_b = await client.until_turn_completed(thread_b)
        assert not any(
            m.get("method") == "turn/completed" and m["params"]["threadId"] == thread_a
            for m in got_b
        )
        gate.set()
        got_a = await client.until_turn_completed(thread_a)
        assert got_a[-1]["params"]["turn"]["items"][0]["text"] == "A2"
        ids = {m["params"]["threadId"] for m in client.seen if m.get("method") == "turn/started"}
        assert ids == {thread_a, thread_b}


@pytest.mark.anyio
async def test_scripts_queued_for_a_thread_are_used_for_that_thread_first() -> None:
    server = quiet()
    server.script_turn(agent_message("anyone"))
    async with connected(server) as client:
        await client.initialize()
        thread_a = await client.start_thread()
        thread_b = await client.start_thread()
        server.script_turn(agent_message("only b"), thread_id=thread_b)
        await client.start_turn(thread_b)
        got = await client.until_turn_completed(thread_b)
        assert got[-1]["params"]["turn"]["items"][0]["text"] == "only b"
        await client.start_turn(thread_a)
        got = await client.until_turn_completed(thread_a)
        assert got[-1]["params"]["turn"]["items"][0]["text"] == "anyone"


@pytest.mark.anyio
async def test_complete_ends_the_turn_with_the_given_status_and_items() -> None:
    server = quiet()
    server.script_turn(
        complete("completed", items=[{"type": "agentMessage", "id": "x", "text": "t"}])
    )
    async with connected(server) as client:
        await client.initialize()
        thread_id = await client.start_thread()
        await client.start_turn(thread_id)
        got = await client.until_turn_completed()
        assert got[-1]["params"]["turn"]["items"] == [
            {"type": "agentMessage", "id": "x", "text": "t"}
        ]


@pytest.mark.anyio
async def test_garbage_is_sent_raw_and_disconnect_ends_serve() -> None:
    server = quiet()
    server.script_turn(garbage(b"{oops"), disconnect())
    client_end, server_end = memory_transport_pair()
    client = RawClient(client_end)
    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, server_end)
            await client.initialize()
            thread_id = await client.start_thread()
            await client.start_turn(thread_id)
            raw: list[bytes] = []
            while True:
                try:
                    raw.append(await client_end.receive())
                except anyio.EndOfStream:
                    break
            assert b"{oops" in raw
        # serve() returned by itself: the task group exited before we closed our end.
        await client_end.aclose()


@pytest.mark.anyio
async def test_exit_process_in_process_closes_the_connection_like_disconnect() -> None:
    # In-process there is no process of the fake's own to end: the connection closes instead.
    server = quiet()
    server.script_turn(agent_message("last"), exit_process(3, "fatal: boom"))
    assert server.process_exit is None
    client_end, server_end = memory_transport_pair()
    client = RawClient(client_end)
    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, server_end)
            await client.initialize()
            await client.start_turn(await client.start_thread())
            received: list[bytes] = []
            ended = False
            while not ended:
                try:
                    received.append(await client_end.receive())
                except anyio.EndOfStream:
                    ended = True
            assert any(b'"last"' in message for message in received)
            assert not any(b"turn/completed" in message for message in received)
        await client_end.aclose()


@pytest.mark.anyio
async def test_exit_process_calls_the_process_exit_hook_with_the_code() -> None:
    server = quiet()
    codes: list[int] = []

    def record_exit(code: int) -> None:
        codes.append(code)  # a real hook never returns; this one lets the turn finish

    server.process_exit = record_exit
    server.script_turn(exit_process(5))
    client_end, server_end = memory_transport_pair()
    client = RawClient(client_end)
    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, server_end)
            await client.initialize()
            await client.start_turn(await client.start_thread())
            await client.until_turn_completed()
            await client_end.aclose()
    assert codes == [5]


# --------------------------------------------------------------------------------------------
# Scripts as data


def test_every_action_round_trips_through_a_json_dict() -> None:
    actions: list[Action] = [
        agent_message("hi", phase="final_answer", deltas=2, stall_after=1),
        reasoning("think"),
        command("ls", exit_code=2, output="x"),
        command_approval("rm -rf /", reason="why", available_decisions=["accept", "cancel"]),
        file_change_approval("/a", diff="d", change_kind="update"),
        server_request("m", {"a": [1, 2]}, scoped=False),
        notify("n", {"b": {"c": None}}),
        item({"type": "x"}, completed={"type": "x", "done": True}),
        stall(),
        fail("boom", {"responseTooManyFailedAttempts": {"httpStatusCode": 429}}),
        retry_error("again"),
        before_response(notify("warning", {}), turn_started()),
        disconnect(),
        exit_process(3, "fatal: boom"),
        garbage(b"\xff\x00{"),
        complete("interrupted"),
    ]
    encoded = orjson.loads(orjson.dumps([[a.to_dict() for a in actions]]))
    assert actions_from_json(encoded) == [actions]
    assert action_from_dict(actions[0].to_dict()) == actions[0]
    with pytest.raises(ValueError, match="unknown action kind"):
        action_from_dict({"action": "nope"})
