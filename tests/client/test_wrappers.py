"""The typed wrappers (``client.threads``, ``client.turns``, ...) against the in-process fake.

Each test drives one namespace over a memory transport pair and checks two things: the params
that reached the server (``FakeAppServer.received``: camelCase names, nothing sent for omitted
arguments) and what the wrapper hands back. The paging helpers are checked to follow
``nextCursor`` across at least two pages. Nothing sleeps: waits are on notifications under
``anyio.fail_after``.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream

from codex_app_server_client import CodexClient
from codex_app_server_client._wrappers import (
    Account,
    Command,
    Config,
    Fs,
    Mcp,
    Models,
    Review,
    Skills,
    Threads,
    Turns,
    attach_wrappers,
)
from codex_app_server_client.errors import CodexProtocolError
from codex_app_server_client.protocol import Notification
from codex_app_server_client.testing import memory_transport_pair
from codex_app_server_client.testing.fake_server import FakeAppServer, agent_message, stall

pytestmark = pytest.mark.anyio

WAIT = 10.0


@dataclass
class Api:
    """The namespaces, built on a connected client (as ``CodexClient`` exposes them)."""

    client: CodexClient
    server: FakeAppServer
    threads: Threads
    turns: Turns
    review: Review
    models: Models
    account: Account
    config: Config
    command: Command
    fs: Fs
    skills: Skills
    mcp: Mcp

    def sent(self, method: str, index: int = -1) -> Any:
        """The params of the ``index``-th request of ``method`` the server received."""
        return self.requests(method)[index]

    def requests(self, method: str) -> list[Any]:
        return [
            m.get("params") for m in self.server.received if m.get("method") == method and "id" in m
        ]


@asynccontextmanager
async def connected(server: FakeAppServer | None = None) -> AsyncGenerator[Api]:
    fake = server or FakeAppServer(post_initialize_notifications=False)
    client_end, server_end = memory_transport_pair()
    try:
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(fake.serve, server_end)
                async with CodexClient(client_end) as client:
                    yield Api(
                        client,
                        fake,
                        Threads(client),
                        Turns(client),
                        Review(client),
                        Models(client),
                        Account(client),
                        Config(client),
                        Command(client),
                        Fs(client),
                        Skills(client),
                        Mcp(client),
                    )
    finally:
        await server_end.aclose()


@contextmanager
def notifications(client: CodexClient) -> Generator[MemoryObjectReceiveStream[Notification]]:
    """Every notification from now on, until the block ends."""
    send, receive = anyio.create_memory_object_stream[Notification](1000)
    unsubscribe = client.on_notification(send.send_nowait)
    with send, receive:
        try:
            yield receive
        finally:
            unsubscribe()


async def next_matching(
    stream: MemoryObjectReceiveStream[Notification], predicate: Callable[[Notification], bool]
) -> Notification:
    async for note in stream:
        if predicate(note):
            return note
    raise AssertionError("the notification stream ended")


def turn_completed(turn_id: str) -> Callable[[Notification], bool]:
    def match(note: Notification) -> bool:
        return note.method == "turn/completed" and note.params["turn"]["id"] == turn_id

    return match


async def new_thread(api: Api) -> str:
    return (await api.threads.start())["thread"]["id"]


# -- threads --------------------------------------------------------------------------------


async def test_threads_start_sends_camel_case_options_and_nothing_for_omitted_ones() -> None:
    async with connected() as api:
        started = await api.threads.start(
            cwd="/work/repo",
            model="m1",
            approval_policy="on-request",
            sandbox="workspace-write",
            developer_instructions="be brief",
            extra={"serviceName": "svc"},
        )
        bare = await api.threads.start()
    assert api.sent("thread/start", 0) == {
        "cwd": "/work/repo",
        "model": "m1",
        "approvalPolicy": "on-request",
        "sandbox": "workspace-write",
        "developerInstructions": "be brief",
        "serviceName": "svc",
    }
    assert api.sent("thread/start", 1) == {}
    assert started["thread"]["id"] in api.server.thread_ids
    assert started["model"] == "m1"
    assert started["sandbox"]["type"] == "workspaceWrite"
    assert bare["thread"]["id"] != started["thread"]["id"]


async def test_threads_resume_sends_the_thread_id_and_its_overrides() -> None:
    async with connected() as api:
        thread_id = await new_thread(api)
        resumed = await api.threads.resume(thread_id, exclude_turns=True, model="m2")
    assert api.sent("thread/resume") == {"threadId": thread_id, "excludeTurns": True, "model": "m2"}
    assert resumed["thread"]["id"] == thread_id
    assert resumed["model"] == "m2"


async def test_threads_fork_copies_history_up_to_the_last_turn_id_into_a_new_thread() -> None:
    async with connected() as api:
        first = await api.client.chat_once("one")
        await api.client.chat_once("two", thread_id=first.thread_id)
        forked = await api.threads.fork(first.thread_id, last_turn_id=first.turn_id)
        fork_id = forked["thread"]["id"]
        fork_turns = [t async for t in api.threads.turns(fork_id)]
    assert api.sent("thread/fork") == {"threadId": first.thread_id, "lastTurnId": first.turn_id}
    assert fork_id != first.thread_id
    assert forked["thread"].get("forkedFromId") == first.thread_id
    assert len(fork_turns) == 1


async def test_threads_read_returns_the_thread_and_sends_include_turns_only_when_asked() -> None:
    async with connected() as api:
        result = await api.client.chat_once("hello")
        plain = await api.threads.read(result.thread_id)
        full = await api.threads.read(result.thread_id, include_turns=True)
    assert api.sent("thread/read", 0) == {"threadId": result.thread_id}
    assert api.sent("thread/read", 1) == {"threadId": result.thread_id, "includeTurns": True}
    assert plain["id"] == result.thread_id
    assert plain["preview"] == "hello"
    assert plain["turns"] == []
    assert [t["id"] for t in full["turns"]] == [result.turn_id]


async def test_threads_list_iterates_every_thread_across_pages() -> None:
    async with connected() as api:
        ids = [await new_thread(api) for _ in range(5)]
        listed = [t["id"] async for t in api.threads.list(limit=2, sort_key="created_at")]
    assert sorted(listed) == sorted(ids)
    assert len(listed) == 5
    assert api.requests("thread/list") == [
        {"limit": 2, "sortKey": "created_at"},
        {"limit": 2, "sortKey": "created_at", "cursor": "2"},
        {"limit": 2, "sortKey": "created_at", "cursor": "4"},
    ]


async def test_threads_list_page_returns_one_raw_page_with_its_cursor() -> None:
    async with connected() as api:
        for _ in range(3):
            await new_thread(api)
        page = await api.threads.list_page(limit=2, cwd=["/a", "/b"], archived=False)
        last = await api.threads.list_page(cursor=page.get("nextCursor"), limit=2)
    assert api.sent("thread/list", 0) == {"limit": 2, "cwd": ["/a", "/b"], "archived": False}
    assert len(page["data"]) == 2
    assert page.get("nextCursor") == "2"
    assert len(last["data"]) == 1
    assert last.get("nextCursor") is None


async def test_threads_loaded_returns_every_loaded_thread_id_across_pages() -> None:
    async with connected() as api:
        ids = [await new_thread(api) for _ in range(3)]
        loaded = await api.threads.loaded(limit=2)
        page = await api.threads.loaded_page(limit=2)
    assert sorted(loaded) == sorted(ids)
    assert api.requests("thread/loaded/list") == [
        {"limit": 2},
        {"limit": 2, "cursor": "2"},
        {"limit": 2},
    ]
    assert page.get("nextCursor") == "2"


async def test_an_archived_thread_leaves_the_default_listing_until_unarchived() -> None:
    async with connected() as api:
        result = await api.client.chat_once("keep me")
        await api.threads.archive(result.thread_id)
        listed = [t["id"] async for t in api.threads.list()]
        archived = [t["id"] async for t in api.threads.list(archived=True)]
        thread = await api.threads.unarchive(result.thread_id)
        relisted = [t["id"] async for t in api.threads.list()]
    assert api.sent("thread/archive") == {"threadId": result.thread_id}
    assert api.sent("thread/unarchive") == {"threadId": result.thread_id}
    assert result.thread_id not in listed
    assert archived == [result.thread_id]
    assert thread["id"] == result.thread_id
    assert result.thread_id in relisted


async def test_threads_set_name_names_the_thread() -> None:
    async with connected() as api:
        thread_id = await new_thread(api)
        assert await api.threads.set_name(thread_id, "my thread") is None
        thread = await api.threads.read(thread_id)
    assert api.sent("thread/name/set") == {"threadId": thread_id, "name": "my thread"}
    assert thread.get("name") == "my thread"


async def test_threads_compact_runs_as_a_turn_with_a_context_compaction_item() -> None:
    async with connected() as api:
        thread_id = await new_thread(api)
        with notifications(api.client) as events:
            assert await api.threads.compact(thread_id) is None
            started = await next_matching(events, lambda n: n.method == "turn/started")
            turn_id = started.params["turn"]["id"]
            item = await next_matching(events, lambda n: n.method == "item/completed")
            done = await next_matching(events, turn_completed(turn_id))
    assert api.sent("thread/compact/start") == {"threadId": thread_id}
    assert item.params["item"]["type"] == "contextCompaction"
    assert done.params["turn"]["status"] == "completed"


async def test_threads_turns_iterates_a_threads_turns_across_pages() -> None:
    async with connected() as api:
        first = await api.client.chat_once("one")
        second = await api.client.chat_once("two", thread_id=first.thread_id)
        third = await api.client.chat_once("three", thread_id=first.thread_id)
        turns = [t async for t in api.threads.turns(first.thread_id, limit=2, sort_direction="asc")]
        page = await api.threads.turns_page(first.thread_id, limit=1, items_view="notLoaded")
    assert [t["id"] for t in turns] == [first.turn_id, second.turn_id, third.turn_id]
    assert api.requests("thread/turns/list")[:2] == [
        {"threadId": first.thread_id, "limit": 2, "sortDirection": "asc"},
        {"threadId": first.thread_id, "limit": 2, "sortDirection": "asc", "cursor": "2"},
    ]
    assert [t["id"] for t in page["data"]] == [third.turn_id]
    assert page["data"][0]["items"] == []


async def test_threads_items_iterates_items_across_pages_and_filters_by_turn() -> None:
    async with connected() as api:
        first = await api.client.chat_once("one")
        second = await api.client.chat_once("two", thread_id=first.thread_id)
        entries = [e async for e in api.threads.items(first.thread_id, limit=3)]
        of_second = [e async for e in api.threads.items(first.thread_id, turn_id=second.turn_id)]
        page = await api.threads.items_page(first.thread_id, limit=1)
    assert [e["item"]["type"] for e in entries] == ["userMessage", "agentMessage"] * 2
    assert api.requests("thread/items/list")[1] == {
        "threadId": first.thread_id,
        "limit": 3,
        "cursor": "3",
    }
    assert {e["turnId"] for e in of_second} == {second.turn_id}
    assert page.get("nextCursor") == "1"


async def test_threads_unsubscribe_returns_the_status() -> None:
    async with connected() as api:
        thread_id = await new_thread(api)
        status = await api.threads.unsubscribe(thread_id)
    assert api.sent("thread/unsubscribe") == {"threadId": thread_id}
    assert status == "unsubscribed"


async def test_threads_delete_removes_the_thread() -> None:
    async with connected() as api:
        thread_id = await new_thread(api)
        await api.threads.delete(thread_id)
        with pytest.raises(CodexProtocolError):
            await api.threads.read(thread_id)
    assert api.sent("thread/delete") == {"threadId": thread_id}
    assert thread_id not in api.server.thread_ids


# -- turns and review -------------------------------------------------------------------


async def test_turns_start_returns_the_running_turn_with_options_mapped() -> None:
    async with connected() as api:
        thread_id = await new_thread(api)
        with notifications(api.client) as events:
            turn = await api.turns.start(
                thread_id,
                "do it",
                model="m3",
                sandbox_policy="read-only",
                extra={"turnTrigger": "t"},
            )
            done = await next_matching(events, turn_completed(turn["id"]))
    assert api.sent("turn/start") == {
        "threadId": thread_id,
        "input": [{"type": "text", "text": "do it", "text_elements": []}],
        "model": "m3",
        "sandboxPolicy": {"type": "readOnly"},
        "turnTrigger": "t",
    }
    assert turn["status"] == "inProgress"
    assert done.params["turn"]["status"] == "completed"


async def test_turns_start_rejects_an_unknown_option_before_sending() -> None:
    async with connected() as api:
        thread_id = await new_thread(api)
        with pytest.raises(TypeError, match="unknown turn option"):
            await api.turns.start(thread_id, "x", no_such_option=1)
    assert api.requests("turn/start") == []


async def test_turns_steer_adds_input_to_the_running_turn() -> None:
    server = FakeAppServer(post_initialize_notifications=False)
    server.script_turn(stall(), agent_message("done"))
    async with connected(server) as api:
        thread_id = await new_thread(api)
        with notifications(api.client) as events:
            turn = await api.turns.start(thread_id, "first")
            await server.wait_stalled()
            steered = await api.turns.steer(thread_id, turn["id"], "also this")
            server.release()
            await next_matching(events, turn_completed(turn["id"]))
    assert steered == turn["id"]
    assert api.sent("turn/steer") == {
        "threadId": thread_id,
        "expectedTurnId": turn["id"],
        "input": [{"type": "text", "text": "also this", "text_elements": []}],
    }
    texts = [
        i["content"][0]["text"]
        for i in server.thread_turns(thread_id)[0]["items"]
        if i["type"] == "userMessage"
    ]
    assert texts == ["first", "also this"]


async def test_turns_steer_with_a_wrong_expected_turn_id_is_a_protocol_error() -> None:
    server = FakeAppServer(post_initialize_notifications=False)
    server.script_turn(stall())
    async with connected(server) as api:
        thread_id = await new_thread(api)
        turn = await api.turns.start(thread_id, "first")
        await server.wait_stalled()
        with pytest.raises(CodexProtocolError, match="expected active turn id"):
            await api.turns.steer(thread_id, "not-the-turn", "x")
        await api.turns.interrupt(thread_id, turn["id"])


async def test_turns_interrupt_ends_the_running_turn_as_interrupted() -> None:
    server = FakeAppServer(post_initialize_notifications=False)
    server.script_turn(stall())
    async with connected(server) as api:
        thread_id = await new_thread(api)
        with notifications(api.client) as events:
            turn = await api.turns.start(thread_id, "long job")
            await server.wait_stalled()
            assert await api.turns.interrupt(thread_id, turn["id"]) is None
            done = await next_matching(events, turn_completed(turn["id"]))
    assert api.sent("turn/interrupt") == {"threadId": thread_id, "turnId": turn["id"]}
    assert done.params["turn"]["status"] == "interrupted"


async def test_review_start_runs_a_review_turn_and_returns_it() -> None:
    async with connected() as api:
        thread_id = await new_thread(api)
        with notifications(api.client) as events:
            started = await api.review.start(
                thread_id, {"type": "baseBranch", "branch": "main"}, delivery="inline"
            )
            exited = await next_matching(
                events,
                lambda n: (
                    n.method == "item/completed" and n.params["item"]["type"] == "exitedReviewMode"
                ),
            )
            await next_matching(events, turn_completed(started["turn"]["id"]))
    assert api.sent("review/start") == {
        "threadId": thread_id,
        "target": {"type": "baseBranch", "branch": "main"},
        "delivery": "inline",
    }
    assert started["reviewThreadId"] == thread_id
    assert started["turn"]["status"] == "inProgress"
    assert exited.params["turnId"] == started["turn"]["id"]


# -- models, account, config ------------------------------------------------------------


async def test_models_list_returns_every_model_across_pages() -> None:
    server = FakeAppServer(post_initialize_notifications=False, models=["a", "b", "c"])
    async with connected(server) as api:
        models = await api.models.list(limit=2)
        page = await api.models.list_page(limit=2, include_hidden=True)
    assert [m["id"] for m in models] == ["a", "b", "c"]
    assert [m["isDefault"] for m in models] == [True, False, False]
    assert api.requests("model/list") == [
        {"limit": 2},
        {"limit": 2, "cursor": "2"},
        {"limit": 2, "includeHidden": True},
    ]
    assert page.get("nextCursor") == "2"


async def test_account_methods_read_log_in_and_log_out() -> None:
    async with connected() as api:
        before = await api.account.read()
        limits = await api.account.rate_limits(exclude_reset_credit_details=True)
        key_login = await api.account.login_start("apiKey", api_key="sk-test")
        after = await api.account.read(refresh_token=True)
        browser = await api.account.login_start()
        assert browser["type"] == "chatgpt"
        login_id = browser["loginId"]
        cancelled = await api.account.login_cancel(login_id)
        unknown = await api.account.login_cancel("nope")
        await api.account.logout()
        logged_out = await api.account.read()
    assert before.get("account") is None
    assert limits["rateLimits"].get("limitId") == "codex"
    assert api.sent("account/rateLimits/read") == {"excludeResetCreditDetails": True}
    assert api.sent("account/login/start", 0) == {"type": "apiKey", "apiKey": "sk-test"}
    assert api.sent("account/login/start", 1) == {"type": "chatgpt"}
    assert api.sent("account/read", 1) == {"refreshToken": True}
    assert key_login == {"type": "apiKey"}
    assert after.get("account") == {"type": "apiKey"}
    assert api.sent("account/login/cancel", 0) == {"loginId": login_id}
    assert cancelled == {"status": "canceled"}
    assert unknown == {"status": "notFound"}
    assert logged_out.get("account") is None


async def test_account_login_start_with_an_api_key_kind_needs_the_key() -> None:
    async with connected() as api:
        with pytest.raises(ValueError, match="api_key"):
            await api.account.login_start("apiKey")
    assert api.requests("account/login/start") == []


async def test_config_write_value_then_read_shows_the_value() -> None:
    async with connected() as api:
        before = await api.config.read()
        written = await api.config.write_value("tools.web_search", True)
        read = await api.config.read(include_layers=True, cwd="/w")
    assert api.sent("config/value/write") == {
        "keyPath": "tools.web_search",
        "value": True,
        "mergeStrategy": "replace",
    }
    assert api.sent("config/read", 1) == {"includeLayers": True, "cwd": "/w"}
    assert written["status"] == "ok"
    assert written["version"] != before.get("version")
    assert read["config"].get("tools") == {"web_search": True}


async def test_config_batch_write_applies_every_edit_and_checks_the_version() -> None:
    async with connected() as api:
        first = await api.config.write_value("model", "m1")
        await api.config.batch_write(
            [
                {"keyPath": "model", "value": "m2", "mergeStrategy": "replace"},
                {"keyPath": "profiles.p", "value": {"a": 1}, "mergeStrategy": "upsert"},
            ],
            expected_version=first["version"],
            reload_user_config=True,
        )
        with pytest.raises(CodexProtocolError, match="changed"):
            await api.config.write_value("model", "m3", expected_version=first["version"])
        read = await api.config.read()
    sent = api.sent("config/batchWrite")
    assert sent["expectedVersion"] == first["version"]
    assert sent["reloadUserConfig"] is True
    assert len(sent["edits"]) == 2
    assert read["config"].get("model") == "m2"
    assert read["config"].get("profiles") == {"p": {"a": 1}}


# -- command/exec -----------------------------------------------------------------------


async def test_command_exec_runs_an_argv_and_returns_exit_code_and_output() -> None:
    async with connected() as api:
        result = await api.command.exec(["echo", "hi"], cwd="/tmp", env={"A": "1", "B": None})
    assert api.sent("command/exec") == {
        "command": ["echo", "hi"],
        "cwd": "/tmp",
        "env": {"A": "1", "B": None},
    }
    assert result == {"exitCode": 0, "stdout": "hi\n", "stderr": ""}


async def test_command_exec_refuses_a_single_string_command() -> None:
    async with connected() as api:
        with pytest.raises(TypeError, match="argv"):
            await api.command.exec("echo hi")
    assert api.requests("command/exec") == []


async def test_command_write_sends_base64_stdin_and_closes_it() -> None:
    results: list[Any] = []
    async with connected() as api, anyio.create_task_group() as tg:

        async def run() -> None:
            results.append(
                await api.command.exec(
                    ["cat"], process_id="p1", stream_stdin=True, tty=True, size=(24, 80)
                )
            )

        tg.start_soon(run)
        await api.server.wait_received("command/exec")
        await api.command.resize("p1", rows=40, cols=100)
        await api.command.write("p1", b"abc")
        await api.command.write("p1", close_stdin=True)
    assert api.sent("command/exec") == {
        "command": ["cat"],
        "processId": "p1",
        "streamStdin": True,
        "tty": True,
        "size": {"rows": 24, "cols": 80},
    }
    assert api.sent("command/exec/resize") == {"processId": "p1", "size": {"rows": 40, "cols": 100}}
    assert api.requests("command/exec/write") == [
        {"processId": "p1", "deltaBase64": base64.b64encode(b"abc").decode()},
        {"processId": "p1", "closeStdin": True},
    ]
    assert results == [{"exitCode": 0, "stdout": "abc", "stderr": ""}]


async def test_command_terminate_ends_a_running_command() -> None:
    results: list[Any] = []
    async with connected() as api, anyio.create_task_group() as tg:

        async def run() -> None:
            results.append(await api.command.exec(["cat"], process_id="p2", stream_stdin=True))

        tg.start_soon(run)
        await api.server.wait_received("command/exec")
        await api.command.terminate("p2")
    assert api.sent("command/exec/terminate") == {"processId": "p2"}
    assert results[0]["exitCode"] != 0


# -- fs -------------------------------------------------------------------------------------


async def test_fs_write_then_read_round_trips_bytes_through_base64() -> None:
    data = bytes(range(256))
    async with connected() as api:
        await api.fs.write_file("/work/blob.bin", data)
        back = await api.fs.read_file("/work/blob.bin")
    assert back == data
    assert api.sent("fs/writeFile") == {
        "path": "/work/blob.bin",
        "dataBase64": base64.b64encode(data).decode(),
    }
    assert api.sent("fs/readFile") == {"path": "/work/blob.bin"}


async def test_fs_directories_metadata_copy_and_remove() -> None:
    async with connected() as api:
        await api.fs.create_directory("/w/sub/deep", recursive=True)
        await api.fs.write_file("/w/a.txt", b"a")
        await api.fs.copy("/w/a.txt", "/w/sub/b.txt")
        file_meta = await api.fs.metadata("/w/a.txt")
        dir_meta = await api.fs.metadata("/w/sub")
        entries = await api.fs.read_directory("/w")
        with pytest.raises(CodexProtocolError, match="not empty"):
            await api.fs.remove("/w/sub")
        await api.fs.remove("/w/sub", recursive=True)
        await api.fs.remove("/w/missing", force=True)
        after = await api.fs.read_directory("/w")
        with pytest.raises(CodexProtocolError):
            await api.fs.read_file("relative.txt")
    assert api.sent("fs/createDirectory") == {"path": "/w/sub/deep", "recursive": True}
    assert api.sent("fs/copy") == {"sourcePath": "/w/a.txt", "destinationPath": "/w/sub/b.txt"}
    assert api.sent("fs/remove", 1) == {"path": "/w/sub", "recursive": True}
    assert api.sent("fs/remove", 2) == {"path": "/w/missing", "force": True}
    assert file_meta["isFile"] is True
    assert file_meta["isDirectory"] is False
    assert dir_meta["isDirectory"] is True
    assert [(e["fileName"], e["isDirectory"]) for e in entries] == [("a.txt", False), ("sub", True)]
    assert [e["fileName"] for e in after] == ["a.txt"]


# -- skills and MCP -----------------------------------------------------------------------


async def test_skills_list_returns_one_entry_per_directory() -> None:
    async with connected() as api:
        entries = await api.skills.list(cwds=["/a", "/b"], force_reload=True)
    assert api.sent("skills/list") == {"cwds": ["/a", "/b"], "forceReload": True}
    assert [e["cwd"] for e in entries] == ["/a", "/b"]
    assert entries[0]["skills"][0]["name"] == "fake-skill"


def mcp_server(name: str) -> Mapping[str, Any]:
    return {"name": name, "authStatus": "unsupported", "tools": {}, "resources": [],
            "resourceTemplates": []}  # fmt: skip


async def test_mcp_server_status_returns_every_server_across_pages() -> None:
    server = FakeAppServer(post_initialize_notifications=False)
    server.mcp_servers = [dict(mcp_server(n)) for n in ("one", "two", "three")]
    async with connected(server) as api:
        statuses = await api.mcp.server_status(limit=2, detail="toolsAndAuthOnly")
        page = await api.mcp.server_status_page(server_name="two")
    assert [s["name"] for s in statuses] == ["one", "two", "three"]
    assert api.requests("mcpServerStatus/list") == [
        {"limit": 2, "detail": "toolsAndAuthOnly"},
        {"limit": 2, "detail": "toolsAndAuthOnly", "cursor": "2"},
        {"serverName": "two"},
    ]
    assert [s["name"] for s in page["data"]] == ["two"]


# -- plumbing ---------------------------------------------------------------------------


class ScriptedPages:
    """A stand-in client that answers each request with the next scripted page."""

    def __init__(self, *pages: Mapping[str, Any]) -> None:
        self.pages = list(pages)
        self.sent: list[Any] = []

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        self.sent.append((method, dict(params or {})))
        return self.pages.pop(0)


async def test_a_paging_iterator_stops_with_an_error_when_the_server_repeats_a_cursor() -> None:
    fake = ScriptedPages(
        {"data": ["a"], "nextCursor": "c1"},
        {"data": ["b"], "nextCursor": "c1"},
    )
    with pytest.raises(CodexProtocolError, match="twice"):
        await Threads(fake).loaded()
    assert [params for _, params in fake.sent] == [{}, {"cursor": "c1"}]


async def test_a_paging_iterator_fetches_the_next_page_only_when_needed() -> None:
    fake = ScriptedPages({"data": [{"id": "t1"}], "nextCursor": "c1"}, {"data": [{"id": "t2"}]})
    iterator = Threads(fake).list()
    first = await iterator.__anext__()
    assert first["id"] == "t1"
    assert len(fake.sent) == 1
    rest = [t["id"] async for t in iterator]
    assert rest == ["t2"]
    assert fake.sent[1] == ("thread/list", {"cursor": "c1"})


async def test_attach_wrappers_sets_every_namespace_on_the_client() -> None:
    async with connected() as api:
        attach_wrappers(api.client)
        threads: Any = getattr(api.client, "threads")  # noqa: B009 - attached at run time
        models: Any = getattr(api.client, "models")  # noqa: B009
        listed = await models.list()
        assert isinstance(threads, Threads)
    assert [m["id"] for m in listed] == ["fake-model"]
    for name in ("turns", "review", "account", "config", "command", "fs", "skills", "mcp"):
        assert hasattr(api.client, name)


async def test_threads_items_page_accepts_an_item_anchor_as_cursor() -> None:
    async with connected() as api:
        result = await api.client.chat_once("one")
        entries = [e async for e in api.threads.items(result.thread_id)]
        anchor = entries[1]["item"]["id"]
        page = await api.threads.items_page(
            result.thread_id, cursor={"type": "item", "itemId": anchor}
        )
    assert api.sent("thread/items/list")["cursor"] == {"type": "item", "itemId": anchor}
    assert [e["item"]["id"] for e in page["data"]] == [anchor]
