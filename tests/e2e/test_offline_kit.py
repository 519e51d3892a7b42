"""The offline kit against the REAL codex binary: raw JSONL over stdio, a fake model on 127.0.0.1.

Each test writes CODEX_HOME first (so codex never reaches the internet), starts
``codex app-server`` with ``anyio.open_process``, speaks the protocol by hand and always
reaps the child. Every wait is bounded.
"""

from __future__ import annotations

import os
import tomllib
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread
import orjson
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

from codex_app_server_client.testing.codex_home import (
    find_codex_binary,
    render_config_toml,
    write_codex_home,
)
from codex_app_server_client.testing.fake_provider import (
    FakeResponsesProvider,
    drop,
    http_error,
    reasoning,
    response_failed,
    stall,
    text,
    tool_call,
)

STEP = 30.0  # generous bound for any single wait on the binary
MAX_LINE = 64 * 1024 * 1024

Message = dict[str, Any]

pytestmark = pytest.mark.anyio


class RawCodex:
    """A hand-driven JSONL peer: send requests, keep every message, find the one wanted."""

    def __init__(self, process: anyio.abc.Process, stderr_path: Path) -> None:
        assert process.stdin is not None
        assert process.stdout is not None
        self.process = process
        self._stdin = process.stdin
        self._stdout = BufferedByteReceiveStream(process.stdout)
        self._stderr_path = stderr_path
        self._next_id = 1
        self._unclaimed: deque[Message] = deque()
        self.received: list[Message] = []

    def stderr(self) -> str:
        return self._stderr_path.read_text(errors="replace")

    async def send(self, message: Message) -> None:
        await self._stdin.send(orjson.dumps(message) + b"\n")

    async def _read(self) -> Message:
        try:
            line = await self._stdout.receive_until(b"\n", MAX_LINE)
        except anyio.IncompleteRead:
            raise AssertionError(f"codex closed stdout; stderr:\n{self.stderr()}") from None
        message: Message = orjson.loads(line)
        self.received.append(message)
        return message

    async def next_matching(self, wanted: Callable[[Message], bool]) -> Message:
        """The first unclaimed message that ``wanted`` accepts, reading more as needed."""
        with anyio.fail_after(STEP):
            for message in self._unclaimed:
                if wanted(message):
                    self._unclaimed.remove(message)
                    return message
            while True:
                message = await self._read()
                if wanted(message):
                    return message
                self._unclaimed.append(message)

    async def notification(self, method: str, **params: Any) -> Message:
        """The next notification (or server request) ``method`` whose params include ``params``."""

        def wanted(message: Message) -> bool:
            got: Message = message.get("params") or {}
            return message.get("method") == method and all(
                got.get(k) == v for k, v in params.items()
            )

        return (await self.next_matching(wanted))["params"]

    async def server_request(self, method: str) -> Message:
        return await self.next_matching(lambda m: m.get("method") == method and "id" in m)

    async def request(self, method: str, params: Message) -> Message:
        """Send a request and return its result (the error fails the test)."""
        request_id = self._next_id
        self._next_id += 1
        await self.send({"id": request_id, "method": method, "params": params})
        reply = await self.next_matching(lambda m: m.get("id") == request_id and "method" not in m)
        assert "error" not in reply, f"{method} failed: {reply['error']}"
        return reply["result"]

    async def handshake(self) -> Message:
        result = await self.request(
            "initialize", {"clientInfo": {"name": "kit-test", "version": "0"}}
        )
        await self.send({"method": "initialized", "params": {}})
        return result

    async def start_thread(self, **params: Any) -> str:
        return (await self.request("thread/start", params))["thread"]["id"]

    async def start_turn(self, thread_id: str, prompt: str) -> str:
        result = await self.request(
            "turn/start",
            {"threadId": thread_id, "input": [{"type": "text", "text": prompt}]},
        )
        return result["turn"]["id"]

    def methods(self) -> list[str]:
        return [m["method"] for m in self.received if "method" in m]


@pytest.fixture
def codex_binary() -> str:
    binary = find_codex_binary()
    if binary is None:
        pytest.skip("no codex binary: install openai-codex-cli-bin or set CODEX_BIN")
    return binary


@pytest.fixture
def provider() -> Iterator[FakeResponsesProvider]:
    with FakeResponsesProvider() as running:
        yield running


@asynccontextmanager
async def running_codex(
    binary: str, tmp_path: Path, provider: FakeResponsesProvider
) -> AsyncGenerator[RawCodex]:
    """Start ``codex app-server`` on a fresh offline CODEX_HOME; reap it however the test ends."""
    env = {**os.environ, **write_codex_home(tmp_path / "home", provider_url=provider.base_url)}
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    stderr_path = tmp_path / "codex-stderr.log"
    with stderr_path.open("wb") as stderr:
        process = await anyio.open_process(
            [binary, "app-server"], env=env, cwd=workspace, stderr=stderr
        )
        try:
            yield RawCodex(process, stderr_path)
        finally:
            with anyio.CancelScope(shield=True):
                await _reap(process)


async def _reap(process: anyio.abc.Process) -> None:
    """Close stdin (codex exits 0 on EOF), wait a bounded time, then kill."""
    if process.stdin is not None:
        await process.stdin.aclose()
    with anyio.move_on_after(10):
        await process.wait()
    if process.returncode is None:
        process.kill()
        with anyio.move_on_after(10):
            await process.wait()
    await process.aclose()


@pytest.mark.e2e
async def test_a_turn_completes_with_the_fake_providers_text(
    codex_binary: str, tmp_path: Path, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(text("Hello from the offline kit"))
    async with running_codex(codex_binary, tmp_path, provider) as codex:
        init = await codex.handshake()
        assert isinstance(init["userAgent"], str)
        assert init["userAgent"].startswith("kit-test/")
        assert init["codexHome"] == str((tmp_path / "home").absolute())
        thread_id = await codex.start_thread()
        turn_id = await codex.start_turn(thread_id, "Say hello")
        completed = await codex.notification("turn/completed", threadId=thread_id)
        assert completed["turn"]["id"] == turn_id
        assert completed["turn"]["status"] == "completed"
        assert completed["turn"]["error"] is None
        messages = [
            m["params"]["item"]
            for m in codex.received
            if m.get("method") == "item/completed" and m["params"]["item"]["type"] == "agentMessage"
        ]
        assert [item["text"] for item in messages] == ["Hello from the offline kit"]
        # 0.163.0 (like 0.169.0) carries the final agent message in turn/completed.
        assert [i["text"] for i in completed["turn"]["items"] if i["type"] == "agentMessage"] == [
            "Hello from the offline kit"
        ]
    (request,) = provider.requests
    assert request.body["stream"] is True
    assert request.body["model"] == "mock-model"
    assert request.input_texts()[-1] == "Say hello"
    assert "exec_command" in request.tool_names()
    assert request.headers["originator"] == "kit-test"
    assert "authorization" not in request.headers


@pytest.mark.e2e
async def test_streamed_deltas_arrive_in_order_and_add_up_to_the_message(
    codex_binary: str, tmp_path: Path, provider: FakeResponsesProvider
) -> None:
    pieces = ["Streaming", " works", " offline"]
    provider.enqueue(text("".join(pieces), deltas=pieces))
    async with running_codex(codex_binary, tmp_path, provider) as codex:
        await codex.handshake()
        thread_id = await codex.start_thread()
        await codex.start_turn(thread_id, "Stream something")
        completed = await codex.notification("turn/completed", threadId=thread_id)
    assert completed["turn"]["status"] == "completed"
    started = [
        m["params"]["item"]
        for m in codex.received
        if m.get("method") == "item/started" and m["params"]["item"]["type"] == "agentMessage"
    ]
    assert [item["text"] for item in started] == [""]
    deltas = [m["params"] for m in codex.received if m.get("method") == "item/agentMessage/delta"]
    assert [d["delta"] for d in deltas] == pieces
    assert {d["itemId"] for d in deltas} == {started[0]["id"]}


@pytest.mark.e2e
async def test_an_http_500_fails_the_turn_with_error_info_and_the_thread_stays_usable(
    codex_binary: str, tmp_path: Path, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(http_error(500), text("Recovered"))
    async with running_codex(codex_binary, tmp_path, provider) as codex:
        await codex.handshake()
        thread_id = await codex.start_thread()
        await codex.start_turn(thread_id, "This one fails")
        failed = await codex.notification("turn/completed", threadId=thread_id)
        error = await codex.notification("error", threadId=thread_id)
        await codex.start_turn(thread_id, "This one works")
        recovered = await codex.notification("turn/completed", threadId=thread_id)
    assert failed["turn"]["status"] == "failed"
    assert failed["turn"]["error"]["codexErrorInfo"] == "internalServerError"
    assert error["willRetry"] is False
    assert error["error"]["codexErrorInfo"] == "internalServerError"
    assert recovered["turn"]["status"] == "completed"
    assert len(provider.requests) == 2


@pytest.mark.e2e
async def test_interrupting_a_stalled_stream_ends_the_turn_interrupted(
    codex_binary: str, tmp_path: Path, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(stall())
    async with running_codex(codex_binary, tmp_path, provider) as codex:
        await codex.handshake()
        thread_id = await codex.start_thread()
        turn_id = await codex.start_turn(thread_id, "Take your time")
        await anyio.to_thread.run_sync(provider.wait_for_stalls, 1, STEP)
        result = await codex.request("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})
        completed = await codex.notification("turn/completed", threadId=thread_id)
        # codex drops the HTTP stream it no longer needs
        await anyio.to_thread.run_sync(provider.wait_for_disconnects, 1, STEP)
    assert result == {}
    assert completed["turn"]["status"] == "interrupted"
    assert completed["turn"]["error"] is None
    assert "error" not in codex.methods()


@pytest.mark.e2e
async def test_an_approved_tool_call_runs_the_command_and_returns_its_output_to_the_model(
    codex_binary: str, tmp_path: Path, provider: FakeResponsesProvider
) -> None:
    # `echo` alone is "known safe" and never asked about; touching a file is not.
    provider.enqueue(tool_call("touch approved.txt", call_id="call-approve"), text("Done"))
    async with running_codex(codex_binary, tmp_path, provider) as codex:
        await codex.handshake()
        # "untrusted" must be passed per thread: in config.toml it makes codex exit. An
        # approved command may still run in the sandbox, so let it write the workspace.
        thread_id = await codex.start_thread(approvalPolicy="untrusted", sandbox="workspace-write")
        turn_id = await codex.start_turn(thread_id, "Create the file")
        approval = await codex.server_request("item/commandExecution/requestApproval")
        params = approval["params"]
        assert isinstance(approval["id"], int)
        assert params["threadId"] == thread_id
        assert params["turnId"] == turn_id
        assert params["itemId"] == "call-approve"
        assert "touch approved.txt" in params["command"]
        assert "accept" in params["availableDecisions"]
        await codex.send({"id": approval["id"], "result": {"decision": "accept"}})
        resolved = await codex.notification("serverRequest/resolved", threadId=thread_id)
        command = await codex.next_matching(
            lambda m: (
                m.get("method") == "item/completed"
                and m["params"]["item"]["type"] == "commandExecution"
            )
        )
        completed = await codex.notification("turn/completed", threadId=thread_id)
    assert resolved["requestId"] == approval["id"]
    item = command["params"]["item"]
    assert item["id"] == "call-approve"
    assert item["status"] == "completed", item.get("aggregatedOutput")
    assert item["exitCode"] == 0
    assert (tmp_path / "workspace" / "approved.txt").exists()
    assert completed["turn"]["status"] == "completed"
    first, second = provider.wait_for_requests(2, STEP)
    assert "function_call_output" not in first.input_types()
    assert second.input_types()[-2:] == ["function_call", "function_call_output"]
    assert "call-approve" in second.function_call_outputs()


@pytest.mark.e2e
async def test_a_response_failed_event_fails_the_turn_with_the_models_message(
    codex_binary: str, tmp_path: Path, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(response_failed("the model gave up"), text("Recovered"))
    async with running_codex(codex_binary, tmp_path, provider) as codex:
        await codex.handshake()
        thread_id = await codex.start_thread()
        await codex.start_turn(thread_id, "This one fails")
        failed = await codex.notification("turn/completed", threadId=thread_id)
        await codex.start_turn(thread_id, "This one works")
        recovered = await codex.notification("turn/completed", threadId=thread_id)
    assert failed["turn"]["status"] == "failed"
    assert "the model gave up" in failed["turn"]["error"]["message"]
    assert recovered["turn"]["status"] == "completed"
    assert len(provider.requests) == 2


@pytest.mark.e2e
async def test_a_dropped_stream_fails_the_turn_and_the_thread_stays_usable(
    codex_binary: str, tmp_path: Path, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(drop(), text("Recovered"))
    async with running_codex(codex_binary, tmp_path, provider) as codex:
        await codex.handshake()
        thread_id = await codex.start_thread()
        await codex.start_turn(thread_id, "This one is cut off")
        failed = await codex.notification("turn/completed", threadId=thread_id)
        await codex.start_turn(thread_id, "This one works")
        recovered = await codex.notification("turn/completed", threadId=thread_id)
    assert failed["turn"]["status"] == "failed"
    assert failed["turn"]["error"]["message"]
    assert recovered["turn"]["status"] == "completed"
    assert len(provider.requests) == 2  # no retry: the CODEX_HOME sets stream_max_retries = 0


@pytest.mark.e2e
async def test_a_reasoning_summary_streams_before_the_answer(
    codex_binary: str, tmp_path: Path, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(
        reasoning("Thinking it over", deltas=["Thinking", " it over"], then=text("42"))
    )
    async with running_codex(codex_binary, tmp_path, provider) as codex:
        await codex.handshake()
        thread_id = await codex.start_thread()
        await codex.start_turn(thread_id, "Think first")
        completed = await codex.notification("turn/completed", threadId=thread_id)
    assert completed["turn"]["status"] == "completed"
    deltas = [
        m["params"]["delta"]
        for m in codex.received
        if m.get("method") == "item/reasoning/summaryTextDelta"
    ]
    assert deltas == ["Thinking", " it over"]
    items = [
        m["params"]["item"]
        for m in codex.received
        if m.get("method") == "item/completed" and m["params"]["item"]["type"] != "userMessage"
    ]
    assert [item["type"] for item in items] == ["reasoning", "agentMessage"]
    assert items[0]["summary"] == ["Thinking it over"]
    assert items[1]["text"] == "42"


# ---- the CODEX_HOME writer (no binary needed) ------------------------------------------------


def test_the_codex_home_config_points_at_the_provider_and_stays_offline(tmp_path: Path) -> None:
    env = write_codex_home(
        tmp_path / "nested" / "home",
        provider_url="http://127.0.0.1:9/v1",
        stream_idle_timeout_ms=1500,
    )
    home = tmp_path / "nested" / "home"
    assert env == {"CODEX_HOME": str(home.absolute())}
    config = tomllib.loads((home / "config.toml").read_text())
    assert config["model"] == "mock-model"
    assert config["model_provider"] == "mock"
    assert config["approval_policy"] == "never"
    assert config["sandbox_mode"] == "read-only"
    assert config["features"] == {"plugins": False}
    assert config["analytics"] == {"enabled": False}
    assert config["model_providers"]["mock"] == {
        "name": "Fake Responses API",
        "base_url": "http://127.0.0.1:9/v1",
        "wire_api": "responses",
        "request_max_retries": 0,
        "stream_max_retries": 0,
        "stream_idle_timeout_ms": 1500,
    }


def test_extra_config_adds_keys_and_tables_and_merges_features() -> None:
    rendered = render_config_toml(
        provider_url="http://127.0.0.1:9/v1",
        extra_config={
            "developer_instructions": 'Say "hi"\nthen stop',
            "features": {"shell_snapshot": False},
            "shell_environment_policy": {"inherit": "core", "exclude": ["A*", "B"]},
            "model_auto_compact_token_limit": 1000,
        },
    )
    config = tomllib.loads(rendered)
    assert config["developer_instructions"] == 'Say "hi"\nthen stop'
    assert config["features"] == {"plugins": False, "shell_snapshot": False}
    assert config["shell_environment_policy"] == {"inherit": "core", "exclude": ["A*", "B"]}
    assert config["model_auto_compact_token_limit"] == 1000


def test_untrusted_approval_in_the_file_is_refused_with_the_per_thread_advice(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match="approvalPolicy"):
        write_codex_home(
            tmp_path, provider_url="http://127.0.0.1:9/v1", approval_policy="untrusted"
        )
    assert not (tmp_path / "config.toml").exists()
