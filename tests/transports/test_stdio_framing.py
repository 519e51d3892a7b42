"""How the stdio transport cuts the child's stdout into messages, read by read.

A pipe decides where one read ends and the next begins, so these tests hand the transport a
scripted process whose stdout yields exactly the chunks given: lines split anywhere, a
``\\r\\n`` cut between its two bytes, blank lines, an over-long line among good ones.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
import pytest
from anyio.abc import Process

from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client_stdio import StdioTransport

WAIT = 10.0


class _Chunks:
    """A byte stream that yields the given chunks, then ends."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks = list(chunks)

    async def receive(self, max_bytes: int = 65536) -> bytes:
        await anyio.lowlevel.checkpoint()
        if not self._chunks:
            raise anyio.EndOfStream
        chunk = self._chunks.pop(0)
        assert len(chunk) <= max_bytes
        return chunk

    async def send(self, item: bytes) -> None:
        await anyio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        self._chunks.clear()


class _ScriptedProcess:
    """Just enough of :class:`anyio.abc.Process` for a transport reading scripted stdout."""

    def __init__(self, chunks: Sequence[bytes], returncode: int = 0) -> None:
        self.stdin = _Chunks([])
        self.stdout = _Chunks(chunks)
        self.stderr = _Chunks([])
        self.pid = 4242
        self._exit = returncode
        self.returncode: int | None = None

    async def wait(self) -> int:
        await anyio.lowlevel.checkpoint()
        self.returncode = self._exit
        return self._exit

    def terminate(self) -> None:
        self.returncode = -15

    def kill(self) -> None:
        self.returncode = -9


@asynccontextmanager
async def scripted(chunks: Sequence[bytes], **options: Any) -> AsyncGenerator[StdioTransport]:
    """A transport over a scripted process, with its stderr drained as ``open_stdio`` does."""
    process = cast(Process, _ScriptedProcess(chunks, options.pop("returncode", 0)))
    transport = StdioTransport(process, argv=["codex", "app-server"], **options)
    async with anyio.create_task_group() as tg:
        tg.start_soon(transport.drain_stderr)
        yield transport


async def batches_until_end(transport: StdioTransport) -> list[list[bytes]]:
    batches: list[list[bytes]] = []
    with anyio.fail_after(WAIT):
        while True:
            try:
                batch = await transport.receive_batch()
            except anyio.EndOfStream:
                return batches
            assert batch
            batches.append(batch)


@pytest.mark.anyio
async def test_a_line_split_over_many_reads_arrives_once_whole() -> None:
    async with scripted([b'{"a":', b"1", b'}\n{"b"', b":2}\n"]) as transport:
        assert await batches_until_end(transport) == [[b'{"a":1}'], [b'{"b":2}']]


@pytest.mark.anyio
async def test_every_whole_line_of_a_read_comes_in_one_batch() -> None:
    async with scripted([b'{"a":1}\n{"b":2}\n{"c":', b"3}\n"]) as transport:
        assert await batches_until_end(transport) == [[b'{"a":1}', b'{"b":2}'], [b'{"c":3}']]


@pytest.mark.anyio
async def test_a_crlf_cut_between_its_bytes_still_ends_the_line_cleanly() -> None:
    async with scripted([b'{"a":1}\r', b'\n{"b":2}\r\n']) as transport:
        assert await batches_until_end(transport) == [[b'{"a":1}', b'{"b":2}']]


@pytest.mark.anyio
async def test_blank_and_whitespace_lines_are_skipped_in_batches() -> None:
    async with scripted([b'\n{"a":1}\n  \n\t\n', b'\r\n{"b":2}\n\n']) as transport:
        assert await batches_until_end(transport) == [[b'{"a":1}'], [b'{"b":2}']]


@pytest.mark.anyio
async def test_receive_hands_out_one_line_at_a_time_from_a_read() -> None:
    async with scripted([b'{"a":1}\n{"b":2}\n{"c":3}']) as transport:
        with anyio.fail_after(WAIT):
            assert await transport.receive() == b'{"a":1}'
            assert await transport.receive_batch() == [b'{"b":2}']
            # The unterminated last line arrives because the scripted server exits cleanly.
            assert await transport.receive() == b'{"c":3}'
            with pytest.raises(anyio.EndOfStream):
                await transport.receive()


@pytest.mark.anyio
async def test_lines_before_an_over_long_one_arrive_then_the_transport_fails() -> None:
    async with scripted(
        [b'{"a":1}\n{"b":2}\n' + b"x" * 100 + b'\n{"c":3}\n'], max_message_bytes=64
    ) as transport:
        with anyio.fail_after(WAIT):
            assert await transport.receive_batch() == [b'{"a":1}', b'{"b":2}']
            with pytest.raises(CodexTransportError, match="max_message_bytes=64"):
                await transport.receive_batch()
            with pytest.raises(CodexTransportError, match="max_message_bytes=64"):
                await transport.receive()


@pytest.mark.anyio
async def test_an_unfinished_line_over_the_limit_fails_without_waiting_for_its_end() -> None:
    async with scripted([b'{"a":1}\n' + b"y" * 40, b"y" * 40], max_message_bytes=64) as transport:
        with anyio.fail_after(WAIT):
            assert await transport.receive_batch() == [b'{"a":1}']
            with pytest.raises(CodexTransportError, match="max_message_bytes=64"):
                await transport.receive_batch()


@pytest.mark.anyio
async def test_an_unfinished_last_line_is_dropped_when_the_server_fails() -> None:
    async with scripted([b'{"a":1}\n{"cut', b'-off"'], returncode=3) as transport:
        with anyio.fail_after(WAIT):
            assert await transport.receive_batch() == [b'{"a":1}']
            with pytest.raises(CodexTransportError, match="exit"):
                await transport.receive_batch()
