"""The typed wrappers against the real pinned codex binary, over stdio and websocket (offline:
see conftest.py). Each test checks that the wrapper's params are accepted by the real server
and that its result has the shape the wrapper promises."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import anyio
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client._wrappers import (
    Account,
    Command,
    Config,
    Fs,
    Mcp,
    Models,
    Skills,
    Threads,
)
from codex_app_server_client.testing.fake_provider import FakeResponsesProvider, text

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

OpenRealClient = Callable[..., AbstractAsyncContextManager[tuple[CodexClient, int]]]

STARTUP = 90.0
"""Generous: a cold start of the binary plus a few turns on a loaded machine."""


async def test_thread_wrappers_start_read_list_name_archive_and_unarchive(
    open_real_client: OpenRealClient, tmp_path: Path
) -> None:
    with anyio.fail_after(STARTUP):
        async with open_real_client() as (client, _):
            threads = Threads(client)
            started = await threads.start(cwd=str(tmp_path / "workspace"))
            thread_id = started["thread"]["id"]
            read = await threads.read(thread_id)
            loaded = await threads.loaded()
            # A new thread is listed once it has a turn; chat_once gives it one.
            result = await client.chat_once("hello", thread_id=thread_id)
            await threads.set_name(thread_id, "wrapped")
            listed = [t async for t in threads.list(limit=1)]
            await threads.archive(thread_id)
            after_archive = [t["id"] async for t in threads.list()]
            archived = [t["id"] async for t in threads.list(archived=True)]
            unarchived = await threads.unarchive(thread_id)
    assert read["id"] == thread_id
    assert thread_id in loaded
    assert result.status == "completed"
    assert [t["id"] for t in listed] == [thread_id]
    assert listed[0].get("name") == "wrapped"
    assert listed[0]["preview"] == "hello"
    assert thread_id not in after_archive
    assert thread_id in archived
    assert unarchived["id"] == thread_id


async def test_thread_wrappers_page_turns_and_items_and_fork_after_a_turn(
    open_real_client: OpenRealClient,
) -> None:
    with anyio.fail_after(STARTUP):
        async with open_real_client() as (client, _):
            threads = Threads(client)
            first = await client.chat_once("one")
            second = await client.chat_once("two", thread_id=first.thread_id)
            turns = [t async for t in threads.turns(first.thread_id, limit=1, sort_direction="asc")]
            items = [e async for e in threads.items(first.thread_id, turn_id=second.turn_id)]
            forked = await threads.fork(first.thread_id, last_turn_id=first.turn_id)
            fork_turns = [t async for t in threads.turns(forked["thread"]["id"])]
            status = await threads.unsubscribe(first.thread_id)
    assert [t["id"] for t in turns] == [first.turn_id, second.turn_id]
    assert {e["turnId"] for e in items} == {second.turn_id}
    assert [e["item"]["type"] for e in items][-1] == "agentMessage"
    assert forked["thread"].get("forkedFromId") == first.thread_id
    assert forked["thread"]["id"] != first.thread_id
    assert len(fork_turns) == 1
    assert status == "unsubscribed"


async def test_models_list_returns_the_catalog(open_real_client: OpenRealClient) -> None:
    with anyio.fail_after(STARTUP):
        async with open_real_client() as (client, _):
            models = Models(client)
            everything = await models.list(limit=2)
            page = await models.list_page(limit=2)
    assert len(everything) >= len(page["data"])
    assert all(isinstance(m["id"], str) and m["id"] for m in everything)
    assert sum(1 for m in everything if m["isDefault"]) <= 1
    if page.get("nextCursor"):  # the catalog spans pages: the iterator followed them
        assert len(everything) > 2


async def test_config_write_value_then_read_shows_it(open_real_client: OpenRealClient) -> None:
    with anyio.fail_after(STARTUP):
        async with open_real_client() as (client, _):
            config = Config(client)
            before = await config.read()
            written = await config.write_value("model_reasoning_effort", "low")
            after = await config.read(include_layers=True)
    assert before["config"].get("model_provider") == "mock"
    assert written["status"] in ("ok", "okOverridden")
    assert written["filePath"].endswith("config.toml")
    assert after["config"].get("model_reasoning_effort") == "low"


async def test_command_exec_runs_echo(open_real_client: OpenRealClient) -> None:
    with anyio.fail_after(STARTUP):
        async with open_real_client() as (client, _):
            result = await Command(client).exec(["echo", "hi"])
    assert result["exitCode"] == 0
    assert result["stdout"] == "hi\n"


async def test_fs_write_read_metadata_list_and_remove(
    open_real_client: OpenRealClient, tmp_path: Path
) -> None:
    folder = tmp_path / "fs-area"
    target = folder / "note.bin"
    data = b"hello\x00\xffworld"
    with anyio.fail_after(STARTUP):
        async with open_real_client() as (client, _):
            fs = Fs(client)
            await fs.create_directory(folder, recursive=True)
            await fs.write_file(target, data)
            back = await fs.read_file(target)
            meta = await fs.metadata(target)
            await fs.copy(target, folder / "copy.bin")
            entries = await fs.read_directory(folder)
            await fs.remove(target)
            after = await fs.read_directory(folder)
    assert back == data
    assert meta["isFile"] is True
    assert meta["isDirectory"] is False
    assert sorted(e["fileName"] for e in entries) == ["copy.bin", "note.bin"]
    assert [e["fileName"] for e in after] == ["copy.bin"]
    assert not target.exists()


async def test_account_skills_and_mcp_wrappers_answer_offline(
    open_real_client: OpenRealClient, tmp_path: Path
) -> None:
    with anyio.fail_after(STARTUP):
        async with open_real_client() as (client, _):
            account = await Account(client).read()
            skills = await Skills(client).list(cwds=[str(tmp_path / "workspace")])
            servers = await Mcp(client).server_status()
    assert account.get("account") is None
    assert account["requiresOpenaiAuth"] is False
    assert [entry["cwd"] for entry in skills] == [str(tmp_path / "workspace")]
    assert servers == []


async def test_a_thread_started_by_the_wrapper_takes_a_chat_turn_at_once(
    open_real_client: OpenRealClient, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(text("on the new thread"))
    with anyio.fail_after(60):
        async with open_real_client() as (client, _):
            started = await client.threads.start()
            # No read in between: the turn must not try to resume the fresh thread.
            result = await client.chat_once("hello", thread_id=started["thread"]["id"])
    assert result.final_text == "on the new thread"
    assert result.thread_id == started["thread"]["id"]
