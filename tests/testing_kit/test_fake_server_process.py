"""The fake app-server as a subprocess: stdio JSONL and websocket modes, end to end."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any, cast

import anyio
import orjson
import pytest
from anyio.abc import ByteReceiveStream, Process
from anyio.streams.buffered import BufferedByteReceiveStream

from codex_app_server_client.testing.fake_server import (
    agent_message,
    command_approval,
    exit_process,
    garbage,
)

WAIT = 20.0
MODULE = "codex_app_server_client.testing.fake_server"


async def drain(stream: ByteReceiveStream, sink: list[bytes]) -> None:
    try:
        async for chunk in stream:
            sink.append(chunk)
    except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass


async def read_message(lines: BufferedByteReceiveStream) -> dict[str, Any]:
    return cast("dict[str, Any]", orjson.loads(await lines.receive_until(b"\n", 1 << 24)))


async def read_until(
    lines: BufferedByteReceiveStream, method: str | None = None, response_id: int | None = None
) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while True:
        message = await read_message(lines)
        got.append(message)
        if method is not None and message.get("method") == method:
            return got
        if response_id is not None and message.get("id") == response_id and "method" not in message:
            return got


@pytest.mark.anyio
async def test_stdio_mode_runs_a_scripted_turn_and_exits_zero_at_end_of_input(
    tmp_path: Path,
) -> None:
    script = tmp_path / "turns.json"
    script.write_text(
        json.dumps(
            [
                [
                    command_approval("touch x").to_dict(),
                    agent_message("from file", deltas=2).to_dict(),
                ]
            ]
        )
    )
    command = [sys.executable, "-m", MODULE, "--listen", "stdio://", "--script", str(script)]
    stderr: list[bytes] = []
    with anyio.fail_after(WAIT):
        async with await anyio.open_process(command) as process, anyio.create_task_group() as tg:
            assert process.stdin is not None
            assert process.stdout is not None
            assert process.stderr is not None
            tg.start_soon(drain, process.stderr, stderr)
            lines = BufferedByteReceiveStream(process.stdout)

            async def send(message: Any) -> None:
                assert process.stdin is not None
                await process.stdin.send(orjson.dumps(message) + b"\n")

            await send(
                {
                    "id": 1,
                    "method": "initialize",
                    "params": {"clientInfo": {"name": "p", "version": "1"}},
                }
            )
            init = (await read_until(lines, response_id=1))[-1]
            assert init["result"]["platformOs"] == "linux"
            await send({"method": "initialized"})
            await process.stdin.send(b"{malformed\n")
            await send({"id": 2, "method": "thread/start", "params": {}})
            thread = (await read_until(lines, response_id=2))[-1]["result"]["thread"]
            await send(
                {
                    "id": 3,
                    "method": "turn/start",
                    "params": {"threadId": thread["id"], "input": [{"type": "text", "text": "x"}]},
                }
            )
            approval = (await read_until(lines, method="item/commandExecution/requestApproval"))[-1]
            assert approval["id"] == 0
            await send({"id": 0, "result": {"decision": "accept"}})
            got = await read_until(lines, method="turn/completed")
            turn = got[-1]["params"]["turn"]
            assert turn["status"] == "completed"
            assert turn["items"][0]["text"] == "from file"
            assert [
                m["params"]["delta"] for m in got if m.get("method") == "item/agentMessage/delta"
            ] == [
                "from ",
                "file",
            ]
            await process.stdin.aclose()
            assert await process.wait() == 0
    assert b"Failed to deserialize JSONRPCMessage" in b"".join(stderr)


async def wait_for_banner(process: Process, stderr: list[bytes]) -> int:
    assert process.stderr is not None
    lines = BufferedByteReceiveStream(process.stderr)
    while True:
        line = (await lines.receive_until(b"\n", 1 << 16)).decode()
        stderr.append(line.encode())
        if line.startswith("listening on: ws://127.0.0.1:"):
            return int(line.rsplit(":", 1)[1])


def websocket_session(port: int) -> list[dict[str, Any]]:
    """Runs in a worker thread: a plain synchronous websocket client."""
    from websockets.sync.client import connect

    got: list[dict[str, Any]] = []
    with connect(f"ws://127.0.0.1:{port}", open_timeout=10) as ws:
        ws.send(json.dumps({"id": 1, "method": "thread/loaded/list", "params": {}}))
        got.append(json.loads(ws.recv(timeout=10)))
        ws.send(
            json.dumps(
                {
                    "id": 2,
                    "method": "initialize",
                    "params": {"clientInfo": {"name": "w", "version": "1"}},
                }
            )
        )
        got.append(json.loads(ws.recv(timeout=10)))
        ws.send(json.dumps({"method": "initialized"}))
        ws.send(json.dumps({"id": 3, "method": "thread/start", "params": {}}))
        while True:
            message = json.loads(ws.recv(timeout=10))
            got.append(message)
            if message.get("id") == 3:
                break
    return got


@pytest.mark.anyio
async def test_ws_mode_prints_its_port_and_serves_each_connection_as_its_own_session() -> None:
    command = [sys.executable, "-m", MODULE, "--listen", "ws://127.0.0.1:0", "--quiet-initialize"]
    stderr: list[bytes] = []
    with anyio.fail_after(WAIT):
        async with await anyio.open_process(command) as process:
            port = await wait_for_banner(process, stderr)
            first = await anyio.to_thread.run_sync(websocket_session, port)
            second = await anyio.to_thread.run_sync(websocket_session, port)
            for got in (first, second):
                assert got[0] == {"error": {"code": -32600, "message": "Not initialized"}, "id": 1}
                assert got[1]["result"]["platformFamily"] == "unix"
                assert "thread" in got[-1]["result"]
            process.send_signal(signal.SIGTERM)
            assert await process.wait() == 0


async def start_a_turn(process: Process, lines: BufferedByteReceiveStream) -> None:
    """Handshake, a thread and a turn on a fake run with ``--quiet-initialize``."""
    assert process.stdin is not None
    handshake: list[dict[str, Any]] = [
        {"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "p", "version": "1"}}},
        {"method": "initialized"},
        {"id": 2, "method": "thread/start", "params": {}},
    ]
    for message in handshake:
        await process.stdin.send(orjson.dumps(message) + b"\n")
    thread = (await read_until(lines, response_id=2))[-1]["result"]["thread"]
    turn = {"threadId": thread["id"], "input": [{"type": "text", "text": "x"}]}
    await process.stdin.send(
        orjson.dumps({"id": 3, "method": "turn/start", "params": turn}) + b"\n"
    )


@pytest.mark.anyio
async def test_exit_process_ends_the_fake_process_mid_turn_with_its_code_and_stderr(
    tmp_path: Path,
) -> None:
    script = tmp_path / "turns.json"
    script.write_bytes(
        orjson.dumps([[agent_message("bye").to_dict(), exit_process(3, "fatal: boom").to_dict()]])
    )
    command = [sys.executable, "-m", MODULE, "--listen", "stdio://", "--script", str(script)]
    stderr: list[bytes] = []
    with anyio.fail_after(WAIT):
        async with await anyio.open_process(command) as process, anyio.create_task_group() as tg:
            assert process.stdout is not None
            assert process.stderr is not None
            tg.start_soon(drain, process.stderr, stderr)
            lines = BufferedByteReceiveStream(process.stdout)
            await start_a_turn(process, lines)
            got = await read_until(lines, method="item/completed")
            while got[-1]["params"]["item"].get("text") != "bye":
                got = await read_until(lines, method="item/completed")
            # The process ends before anything else: stdout closes with no turn/completed.
            with pytest.raises(anyio.IncompleteRead):
                await lines.receive_until(b"\n", 1 << 24)
            assert await process.wait() == 3
    assert b"fatal: boom\n" in b"".join(stderr)


def invalid_utf8_over_ws(port: int) -> bytes:
    """Runs in a worker thread: one turn whose garbage frame is returned undecoded."""
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}", open_timeout=10) as ws:
        ws.send(
            json.dumps(
                {
                    "id": 1,
                    "method": "initialize",
                    "params": {"clientInfo": {"name": "w", "version": "1"}},
                }
            )
        )
        ws.recv(timeout=10)
        ws.send(json.dumps({"method": "initialized"}))
        ws.send(json.dumps({"id": 2, "method": "thread/start", "params": {}}))
        thread_id = ""
        while not thread_id:
            message = json.loads(ws.recv(timeout=10))
            if message.get("id") == 2:
                thread_id = message["result"]["thread"]["id"]
        turn = {"threadId": thread_id, "input": [{"type": "text", "text": "x"}]}
        ws.send(json.dumps({"id": 3, "method": "turn/start", "params": turn}))
        while True:
            frame = ws.recv(timeout=10, decode=False)
            if frame.startswith(b"{bad"):
                return frame


@pytest.mark.anyio
async def test_ws_mode_sends_garbage_bytes_undecoded_even_when_not_utf8(tmp_path: Path) -> None:
    script = tmp_path / "turns.json"
    script.write_bytes(orjson.dumps([[garbage(b"{bad \xff\xfe bytes").to_dict()]]))
    command = [
        sys.executable, "-m", MODULE, "--listen", "ws://127.0.0.1:0", "--quiet-initialize",
        "--script", str(script),
    ]  # fmt: skip
    stderr: list[bytes] = []
    with anyio.fail_after(WAIT):
        async with await anyio.open_process(command) as process:
            port = await wait_for_banner(process, stderr)
            frame = await anyio.to_thread.run_sync(invalid_utf8_over_ws, port)
            process.send_signal(signal.SIGTERM)
            assert await process.wait() == 0
    assert frame == b"{bad \xff\xfe bytes"
