"""The websocket goes away abruptly while a turn runs and a request waits.

Four ways, all from a server end the test drives: the TCP stream ends between frames without
a close frame, it ends inside a frame, it is reset (RST), or the server sends an error close
code. Each time the turn and the request fail at once with a :class:`CodexTransportError`
that says what happened, later calls fail without waiting, and nothing leaks (the folder's
leak check). A real server's connection dropping with its process is in
``test_process_death.py`` and ``test_real_binary_death.py``.
"""

from __future__ import annotations

import socket
import struct

import anyio
import anyio.abc
import pytest
from _peers import RawServer, open_raw_client

from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client_ws._testing import WebSocketPeer

pytestmark = pytest.mark.anyio

WAIT = 10.0
PROMPT = 2.0


async def end_between_frames(peer: WebSocketPeer) -> None:
    await peer.drop()


async def end_inside_a_frame(peer: WebSocketPeer) -> None:
    # A text frame header announcing 100 bytes, then only 2 of them.
    await peer.stream.send(b"\x81\x64{}")
    await peer.drop()


async def reset(peer: WebSocketPeer) -> None:
    raw = peer.stream.extra(anyio.abc.SocketAttribute.raw_socket)
    # Linger on, timeout 0: closing sends RST instead of FIN.
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    await peer.drop()


async def close_with_an_error_code(peer: WebSocketPeer) -> None:
    await peer.close_with(1011, "internal error: the model exploded")


ENDINGS = {
    "tcp end between frames": (end_between_frames, "closed the connection"),
    "tcp end inside a frame": (end_inside_a_frame, "1006"),
    "tcp reset": (reset, "1006"),
    "close code 1011": (close_with_an_error_code, "1011 (internal error: the model exploded)"),
}


async def wait_on_a_turn_and_a_request(
    server: RawServer, tg: anyio.abc.TaskGroup, errors: dict[str, CodexTransportError]
) -> anyio.Event:
    """Leave a running turn and a pending request on the client; return "both failed"."""
    client = server.client
    both_failed = anyio.Event()

    def failed(name: str, exc: CodexTransportError) -> None:
        errors[name] = exc
        if len(errors) == 2:
            both_failed.set()

    async def turn() -> None:
        try:
            await client.chat_once("long job", inactivity_timeout=None)
        except CodexTransportError as exc:
            failed("turn", exc)

    async def request() -> None:
        try:
            await client.request("thread/loaded/list", {}, timeout=60)
        except CodexTransportError as exc:
            failed("request", exc)

    tg.start_soon(turn)
    await server.play_turn_start()
    tg.start_soon(request)
    await server.expect_request("thread/loaded/list")
    return both_failed


@pytest.mark.parametrize("ending", list(ENDINGS))
async def test_an_abrupt_end_of_the_websocket_fails_the_turn_and_the_request_at_once(
    ending: str,
) -> None:
    end, said = ENDINGS[ending]
    errors: dict[str, CodexTransportError] = {}
    async with open_raw_client("ws") as server:
        assert isinstance(server.peer, WebSocketPeer)
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                both_failed = await wait_on_a_turn_and_a_request(server, tg, errors)
                tg.start_soon(end, server.peer)
                with anyio.fail_after(PROMPT):
                    await both_failed.wait()
            assert server.client.closed
            with anyio.fail_after(PROMPT), pytest.raises(CodexTransportError):
                await server.client.request("thread/loaded/list", {})
    assert set(errors) == {"turn", "request"}
    for error in errors.values():
        assert said in str(error), str(error)
        assert "open a new client" in str(error)
