"""The stdio transport runs its child in a process group of its own and ends that group on close.

A terminal's Ctrl-C goes to its foreground process group, so a child in the caller's group
would die with it; and the server's own children (sandboxed commands, helpers) must not
outlive the transport. The stand-in for ``codex app-server`` below starts a long-lived
grandchild, which connects to a loopback socket the test listens on, sends its pid and then
echoes what it receives: the connection ending tells the test, without polling, that the
grandchild has exited, and an echo after close proves that it is alive.

POSIX only (process groups).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
import anyio.abc
import pytest

from codex_app_server_client_stdio import open_stdio

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX-only"),
]

WAIT = 10.0

# Connect to the test, send the pid, then echo until the test hangs up (or a signal ends it).
_GRANDCHILD = """
import os, signal, socket, sys
port, term, session = sys.argv[1:4]
if term == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if session == "own-session":
    os.setsid()
sock = socket.create_connection(("127.0.0.1", int(port)))
sock.sendall(f"{os.getpid()}\\n".encode())
while data := sock.recv(100):
    sock.sendall(data)
"""

# Start the grandchild, report the ids on stdout, then wait for the end of stdin (as codex
# app-server does), or with mode "hang" ignore both stdin and SIGTERM.
_SERVER = """
import json, os, signal, subprocess, sys, time
port, term, session, mode = sys.argv[1:5]
if mode == "hang":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", GRANDCHILD, port, term, session])
print(json.dumps({"pgid": os.getpgid(0), "sid": os.getsid(0)}), flush=True)
if mode == "hang":
    while True:
        time.sleep(60)
sys.stdin.read()
"""


def server_options(
    port: int, *, term: str = "default", session: str = "same", mode: str = "eof", **extra: Any
) -> Mapping[str, Any]:
    code = f"GRANDCHILD = {textwrap.dedent(_GRANDCHILD)!r}\n{textwrap.dedent(_SERVER)}"
    return {"command": [sys.executable, "-c", code, str(port), term, session, mode], **extra}


class Grandchild:
    """The grandchild's connection: its pid, a liveness probe and an event-driven exit wait."""

    def __init__(self, stream: anyio.abc.SocketStream, pid: int) -> None:
        self.stream = stream
        self.pid = pid

    async def wait_gone(self) -> None:
        """Return once the grandchild's end of the connection has closed: it exited."""
        with suppress(anyio.EndOfStream, anyio.BrokenResourceError):
            while await self.stream.receive():
                pass

    async def echo(self, data: bytes) -> bytes:
        await self.stream.send(data)
        return await self.stream.receive()

    def kill(self) -> None:
        """Clean-up for a failed test: end the grandchild whatever happened."""
        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


@asynccontextmanager
async def grandchild_socket() -> AsyncGenerator[tuple[int, anyio.abc.SocketListener]]:
    """A loopback listener for the grandchild: ``(port, listener)``."""
    multi = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    async with multi:
        [listener] = multi.listeners
        assert isinstance(listener, anyio.abc.SocketListener)
        yield listener.extra(anyio.abc.SocketAttribute.local_port), listener


async def accept_grandchild(listener: anyio.abc.SocketListener) -> Grandchild:
    stream = await listener.accept()
    data = b""
    while not data.endswith(b"\n"):
        data += await stream.receive()
    return Grandchild(stream, int(data))


async def test_the_child_leads_a_process_group_and_session_of_its_own() -> None:
    code = """
        import json, os, sys
        print(json.dumps({"pgid": os.getpgid(0), "sid": os.getsid(0)}), flush=True)
        sys.stdin.read()
    """
    command = [sys.executable, "-c", textwrap.dedent(code)]
    async with open_stdio("stdio://", {"command": command}) as transport:
        with anyio.fail_after(WAIT):
            ids = json.loads(await transport.receive())
        # So a Ctrl-C typed in our terminal (sent to our process group) does not reach it.
        assert ids["pgid"] != os.getpgid(0)
        assert ids["pgid"] == ids["sid"] == transport.pid
        assert os.getpgid(transport.pid) == transport.pid


@pytest.mark.parametrize(
    ("term", "mode"),
    [
        pytest.param("default", "eof", id="server-exits-on-eof"),
        pytest.param("ignore-term", "eof", id="grandchild-ignores-sigterm"),
        pytest.param("default", "hang", id="server-ignores-eof-and-sigterm"),
    ],
)
async def test_close_ends_the_grandchildren_of_the_server(term: str, mode: str) -> None:
    async with grandchild_socket() as (port, listener):
        opts = server_options(port, term=term, mode=mode, close_grace=0.2, terminate_timeout=0.2)
        grandchild: Grandchild | None = None
        try:
            async with open_stdio("stdio://", opts) as transport:
                with anyio.fail_after(WAIT):
                    grandchild = await accept_grandchild(listener)
                    assert await grandchild.echo(b"ping") == b"ping"
                    await transport.receive()  # the ids line: the server is set up
                    await transport.aclose()
            with anyio.fail_after(WAIT):
                await grandchild.wait_gone()
            if mode == "hang":
                assert transport.returncode == -signal.SIGKILL
        finally:
            if grandchild is not None:
                grandchild.kill()
                await grandchild.stream.aclose()


async def test_close_leaves_alone_a_process_that_left_the_group() -> None:
    async with grandchild_socket() as (port, listener):
        opts = server_options(port, session="own-session")
        grandchild: Grandchild | None = None
        try:
            async with open_stdio("stdio://", opts) as transport:
                with anyio.fail_after(WAIT):
                    grandchild = await accept_grandchild(listener)
                    await transport.receive()
            # Closed, with every signal sent; the grandchild (now in a session of its own,
            # so not ours to end) still answers.
            assert transport.returncode == 0
            with anyio.fail_after(WAIT):
                assert await grandchild.echo(b"still here") == b"still here"
        finally:
            if grandchild is not None:
                grandchild.kill()
                await grandchild.stream.aclose()
