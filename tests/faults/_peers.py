"""Raw app-server stand-ins for fault tests: the test plays the server, byte for byte.

:func:`open_raw_client` connects a real :class:`CodexClient` to a server end that the test
drives itself, over either real transport:

- ``stdio``: the client's stdio transport runs a relay child (the conformance suite's
  ``_stdio_relay.py``) that copies its stdin and stdout to a loopback socket; the test holds
  the other end of that socket, framed by newlines. Closing the socket makes the relay exit 0;
  killing the relay is killing "the server".
- ``ws``: the ws transport's own test server on 127.0.0.1; the test holds the accepted
  connection (:class:`WebSocketPeer`).

Either way the handshake (``initialize`` / ``initialized``) is answered before the client is
handed over, so each test starts from a live connection and scripts only its fault.
"""

from __future__ import annotations

import signal
import sys
import uuid
from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import anyio
import anyio.abc
import orjson
from anyio.abc import SocketListener, SocketStream

from codex_app_server_client import CodexClient
from codex_app_server_client.testing.codex_ws import run_ws_server_process
from codex_app_server_client.testing.fake_server import Action
from codex_app_server_client_stdio import StdioTransport
from codex_app_server_client_ws._testing import WebSocketPeer, serve_websocket

__all__ = [
    "KINDS",
    "FakeProcess",
    "Kind",
    "LinePeer",
    "RawServer",
    "open_fake_process",
    "open_raw_client",
]

Kind = Literal["stdio", "ws"]
KINDS: tuple[Kind, ...] = ("stdio", "ws")

RELAY = Path(__file__).resolve().parent.parent / "conformance" / "_stdio_relay.py"

CONNECTION_WAIT = 60.0
"""Backstop on a whole raw connection, child start and handshake included; each test bounds
its own waits much tighter."""

_READ_CHUNK = 1 << 20


class LinePeer:
    """The test's end of the relay's socket: one message per ``\\n``-terminated line."""

    def __init__(self, stream: SocketStream) -> None:
        self.stream = stream
        self._buffer = bytearray()

    async def send(self, message: bytes) -> None:
        """Write ``message`` as one line (the newline is added)."""
        await self.stream.send(message + b"\n")

    async def send_raw(self, data: bytes) -> None:
        """Write bytes as they are: no newline added."""
        await self.stream.send(data)

    async def receive(self) -> bytes:
        """The next line the client wrote, without its newline."""
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                return line
            self._buffer += await self.stream.receive(_READ_CHUNK)

    async def aclose(self) -> None:
        await self.stream.aclose()


@dataclass
class RawServer:
    """The server end of one client connection, driven by the test."""

    kind: Kind
    client: CodexClient
    peer: LinePeer | WebSocketPeer

    async def send_json(self, message: Any) -> None:
        """Send one JSON message."""
        await self.peer.send(orjson.dumps(message))

    async def send_bytes(self, data: bytes) -> None:
        """Send ``data`` as one message: one line on stdio, one text frame on ws."""
        await self.peer.send(data)

    async def receive_json(self) -> dict[str, Any]:
        """The next message the client sent, decoded."""
        return cast("dict[str, Any]", orjson.loads(await self.peer.receive()))

    async def expect_request(self, method: str) -> int:
        """Wait for the client's next message, check it is a ``method`` request, return its id."""
        message = await self.receive_json()
        assert message.get("method") == method, message
        request_id = message["id"]
        assert isinstance(request_id, int)
        return request_id

    async def answer(self, request_id: int, result: Any) -> None:
        await self.send_json({"id": request_id, "result": result})

    async def check_round_trip(self) -> None:
        """One request answered: the connection still works both ways."""
        results: list[object] = []

        async def ask() -> None:
            results.append(await self.client.request("thread/loaded/list", {}))

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask)
            await self.answer(await self.expect_request("thread/loaded/list"), {"data": []})
        assert results == [{"data": []}]

    async def play_turn_start(self, thread_id: str = "thr_raw", turn_id: str = "turn_raw") -> None:
        """Answer the ``thread/start`` and ``turn/start`` of a ``chat``, then ``turn/started``:
        from here on the client waits on a running turn."""
        await self.answer(
            await self.expect_request("thread/start"),
            {"thread": {"id": thread_id, "status": {"type": "idle"}, "turns": []}},
        )
        message = await self.receive_json()
        assert message.get("method") == "turn/start", message
        turn: dict[str, Any] = {"id": turn_id, "status": "inProgress", "items": []}
        await self.answer(message["id"], {"turn": turn})
        await self.send_json(
            {"method": "turn/started", "params": {"threadId": thread_id, "turn": turn}}
        )

    def pause_reading(self) -> None:
        """Stop taking the client's bytes off the wire, so that its sends back up.

        On stdio the test simply does not call ``receive``; the relay then blocks on the full
        socket and stops draining the client's pipe.
        """
        if isinstance(self.peer, WebSocketPeer):
            self.peer.pause_reading()

    def resume_reading(self) -> None:
        if isinstance(self.peer, WebSocketPeer):
            self.peer.resume_reading()

    @property
    def server_pid(self) -> int:
        """The relay child's pid (stdio only)."""
        transport = self.client.transport
        assert isinstance(transport, StdioTransport)
        return transport.pid

    async def hang_up(self) -> None:
        """End the connection from the server side without any goodbye.

        stdio: the relay sees its socket end and exits 0 (a server that just exits). ws: the
        TCP connection is closed without a close frame.
        """
        if isinstance(self.peer, WebSocketPeer):
            await self.peer.drop()
        else:
            await self.peer.aclose()

    def kill(self) -> None:
        """SIGKILL the server process (stdio only: the ws peer lives in this process)."""
        import os

        os.kill(self.server_pid, signal.SIGKILL)


async def _handshake(peer: LinePeer | WebSocketPeer, done: anyio.Event) -> None:
    init = orjson.loads(await peer.receive())
    assert init["method"] == "initialize", init
    await peer.send(orjson.dumps({"id": init["id"], "result": {"userAgent": "raw-peer/1"}}))
    initialized = orjson.loads(await peer.receive())
    assert initialized["method"] == "initialized", initialized
    done.set()


@asynccontextmanager
async def open_raw_client(kind: Kind, **client_kwargs: Any) -> AsyncGenerator[RawServer]:
    """A client connected to a server end the test drives; see the module docstring.

    On exit the server end is closed first, then the client (so no close waits on a peer
    that is not answering).
    """
    if kind == "stdio":
        async with _open_stdio(**client_kwargs) as server:
            yield server
    else:
        async with _open_ws(**client_kwargs) as server:
            yield server


@asynccontextmanager
async def _open_stdio(**client_kwargs: Any) -> AsyncGenerator[RawServer]:
    async with await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0) as listener:
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        [socket_listener] = listener.listeners
        assert isinstance(socket_listener, SocketListener)
        peers: list[LinePeer] = []
        done = anyio.Event()

        async def accept_and_greet() -> None:
            peer = LinePeer(await socket_listener.accept())
            peers.append(peer)
            await _handshake(peer, done)

        command = [sys.executable, str(RELAY), str(port)]
        try:
            async with anyio.create_task_group() as tg:
                with anyio.fail_after(CONNECTION_WAIT):
                    tg.start_soon(accept_and_greet)
                    async with CodexClient("stdio://", command=command, **client_kwargs) as client:
                        await done.wait()
                        try:
                            yield RawServer("stdio", client, peers[0])
                        finally:
                            with anyio.CancelScope(shield=True):
                                await peers[0].aclose()
        finally:
            for peer in peers:
                await anyio.aclose_forcefully(peer.stream)


@asynccontextmanager
async def _open_ws(**client_kwargs: Any) -> AsyncGenerator[RawServer]:
    async with serve_websocket() as ws_server:
        peers: list[WebSocketPeer] = []
        done = anyio.Event()

        async def accept_and_greet() -> None:
            peer = await ws_server.accept()
            peers.append(peer)
            await _handshake(peer, done)

        async with anyio.create_task_group() as tg:
            with anyio.fail_after(CONNECTION_WAIT):
                tg.start_soon(accept_and_greet)
                async with CodexClient(ws_server.url, **client_kwargs) as client:
                    await done.wait()
                    try:
                        yield RawServer("ws", client, peers[0])
                    finally:
                        with anyio.CancelScope(shield=True):
                            await peers[0].drop()


FAKE_MODULE = "codex_app_server_client.testing.fake_server"


@dataclass
class FakeProcess:
    """A client connected to the fake app-server running as a child process."""

    kind: Kind
    client: CodexClient
    pid: int


@asynccontextmanager
async def open_fake_process(
    kind: Kind,
    scripts: Sequence[Sequence[Action]],
    *,
    workdir: Path,
    **client_kwargs: Any,
) -> AsyncGenerator[FakeProcess]:
    """A client on ``python -m ...fake_server`` over ``kind``, playing ``scripts`` in order."""
    script_file = workdir / f"turns-{uuid.uuid4().hex}.json"
    script_file.write_bytes(orjson.dumps([[a.to_dict() for a in s] for s in scripts]))
    argv = [sys.executable, "-m", FAKE_MODULE, "--script", str(script_file), "--listen"]
    with anyio.fail_after(CONNECTION_WAIT):
        if kind == "stdio":
            async with CodexClient("stdio://", command=[*argv, "stdio://"], **client_kwargs) as c:
                transport = c.transport
                assert isinstance(transport, StdioTransport)
                yield FakeProcess(kind, c, transport.pid)
            return
        async with (
            run_ws_server_process([*argv, "ws://127.0.0.1:0"], ready_timeout=CONNECTION_WAIT) as p,
            CodexClient(p.url, **client_kwargs) as c,
        ):
            yield FakeProcess(kind, c, p.pid)
