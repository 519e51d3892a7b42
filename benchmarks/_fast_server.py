"""Fast fake app-servers for the throughput and latency benchmarks.

``python _fast_server.py TRANSPORT MODE [--items N] [--deltas K]``

* ``TRANSPORT``: ``stdio`` (messages on stdin/stdout, one per line) or ``ws`` (a websockets
  server on 127.0.0.1; the chosen port is printed as the first line of stdout).
* ``MODE``: ``stream`` answers ``initialize``, ``thread/start`` and ``turn/start``, then writes
  ``N`` pre-built ``item/completed`` notifications (each preceded by ``K``
  ``item/agentMessage/delta`` notifications) as fast as it can, then ``turn/completed``.
  ``echo`` answers every request with ``{"id": id, "result": {}}`` (``initialize`` with a
  plausible result) at once.

Every byte of the stream is built before the first request is read, so the client, not the
server, is what a benchmark measures. Over websockets the stream is written as pre-encoded
frames straight into the socket's transport, bypassing the per-frame cost of the library.
The SDK and the raw baselines talk to exactly this code.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import orjson

THREAD_ID = "01a20d11-f933-7d63-9229-71eb3972e25c"
TURN_ID = "01a20d11-f94a-7ed2-aeb1-2ae505821c3c"

_INITIALIZE_RESULT: dict[str, Any] = {
    "userAgent": "fast_server/0.0.0 (bench)",
    "codexHome": "/tmp/codex-bench",
    "platformFamily": "unix",
    "platformOs": "linux",
}
_THREAD: dict[str, Any] = {"id": THREAD_ID, "preview": "", "turns": [], "status": {"type": "idle"}}

# Shaped like the real transcripts (codex 0.169, /work/shared/transcripts/stdio_hello.jsonl).
# `@I@` is replaced by the item index.
_ITEM_TEMPLATE = orjson.dumps(
    {
        "method": "item/completed",
        "params": {
            "item": {
                "type": "agentMessage",
                "moderation": None,
                "id": "msg_bench_@I@",
                "text": "Hello from the fast fake server, item @I@.",
                "phase": None,
                "memoryCitation": None,
                "delivery": None,
                "questions": None,
                "startedAtMs": 1795515611576,
                "completedAtMs": 1795515611576,
            },
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "contentTokenCount": None,
            "completedAtMs": 1795515611576,
        },
        "emittedAtMs": 1795515611578,
    }
)
_DELTA_TEMPLATE = orjson.dumps(
    {
        "method": "item/agentMessage/delta",
        "params": {
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "itemId": "msg_bench_@I@",
            "delta": "chunk ",
        },
        "emittedAtMs": 1795515614330,
    }
)
_TURN_COMPLETED = orjson.dumps(
    {
        "method": "turn/completed",
        "params": {
            "threadId": THREAD_ID,
            "turn": {
                "id": TURN_ID,
                "items": [],
                "itemsView": "notLoaded",
                "status": "completed",
                "error": None,
                "startedAt": 1795515611,
                "completedAt": 1795515612,
                "durationMs": 1000,
            },
        },
        "emittedAtMs": 1795515612000,
    }
)


def stream_messages(items: int, deltas: int) -> list[bytes]:
    """The notifications of the streamed turn, in order, without newlines."""
    item_head, item_tail = _ITEM_TEMPLATE.split(b"@I@", 1)
    item_tail_a, item_tail_b = item_tail.split(b"@I@", 1)
    delta_head, delta_tail = _DELTA_TEMPLATE.split(b"@I@", 1)
    out: list[bytes] = []
    append = out.append
    for index in range(items):
        number = str(index).encode()
        if deltas:
            delta = delta_head + number + delta_tail
            for _ in range(deltas):
                append(delta)
        append(item_head + number + item_tail_a + number + item_tail_b)
    append(_TURN_COMPLETED)
    return out


def answer(message: bytes) -> tuple[bytes | None, bool]:
    """The answer to one client message (``None`` for a notification), and whether the
    message was ``turn/start`` (after whose answer a stream begins)."""
    decoded = orjson.loads(message)
    request_id = decoded.get("id")
    if request_id is None:
        return None, False
    method = decoded.get("method")
    result: dict[str, Any]
    if method == "initialize":
        result = _INITIALIZE_RESULT
    elif method == "thread/start":
        result = {"thread": _THREAD}
    elif method == "turn/start":
        result = {"turn": {"id": TURN_ID, "status": "inProgress", "items": []}}
    else:
        result = {}
    return orjson.dumps({"id": request_id, "result": result}), method == "turn/start"


# -- stdio ---------------------------------------------------------------------------------


def serve_stdio(mode: str, stream: bytes) -> None:
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    while True:
        line = stdin.readline()
        if not line:
            return
        if not line.strip():
            continue
        reply, turn_started = answer(line)
        if reply is None:
            continue
        stdout.write(reply + b"\n")
        if mode == "stream" and turn_started:
            stdout.write(stream)
        stdout.flush()


# -- websockets ----------------------------------------------------------------------------


def _frame(payload: bytes) -> bytes:
    """One unmasked, final text frame (server to client) carrying ``payload``."""
    length = len(payload)
    if length < 126:
        header = bytes((0x81, length))
    elif length < 1 << 16:
        header = bytes((0x81, 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + length.to_bytes(8, "big")
    return header + payload


async def serve_ws(mode: str, frames: bytes) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    async def handler(connection: ServerConnection) -> None:
        async for message in connection:
            data = message.encode() if isinstance(message, str) else message
            reply, turn_started = answer(data)
            if reply is None:
                continue
            await connection.send(reply, text=True)
            if mode == "stream" and turn_started:
                # Pre-encoded frames, written in one go: only complete frames, so the
                # protocol state of the connection stays valid.
                connection.transport.write(frames)

    async with serve(
        handler, "127.0.0.1", 0, compression=None, max_size=None, ping_interval=None
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.serve_forever()


# -- launching (used by the benchmarks) -----------------------------------------------------


def command(transport: str, mode: str, *, items: int = 0, deltas: int = 0) -> list[str]:
    """The argv that starts this server."""
    argv = [sys.executable, __file__, transport, mode]
    if mode == "stream":
        argv += ["--items", str(items), "--deltas", str(deltas)]
    return argv


@asynccontextmanager
async def ws_server(mode: str, *, items: int = 0, deltas: int = 0) -> AsyncGenerator[str]:
    """Run the websockets server in a child process; yields its ``ws://`` URL."""
    import anyio

    process = await anyio.open_process(
        command("ws", mode, items=items, deltas=deltas), stdin=subprocess.DEVNULL, stderr=None
    )
    async with process:
        try:
            assert process.stdout is not None
            head = b""
            while b"\n" not in head:
                head += await process.stdout.receive()
            port = int(head.split(b"\n", 1)[0])
            yield f"ws://127.0.0.1:{port}"
        finally:
            process.terminate()
            await process.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("transport", choices=("stdio", "ws"))
    parser.add_argument("mode", choices=("stream", "echo"))
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--deltas", type=int, default=0)
    args = parser.parse_args(argv)
    messages = stream_messages(args.items, args.deltas) if args.mode == "stream" else []
    if args.transport == "stdio":
        serve_stdio(args.mode, b"\n".join(messages) + b"\n" if messages else b"")
    else:
        asyncio.run(serve_ws(args.mode, b"".join(_frame(m) for m in messages)))


if __name__ == "__main__":
    main()
