"""Benchmark 2: sequential request round trips to an echo server, SDK against raw.

The fast fake server (``_fast_server.py echo``) answers every request with
``{"id": id, "result": {}}`` at once. The SDK figure times ``await client.request("echo/ping",
{})``; the raw baseline writes pre-built request bytes to the same server, reads the answer
(a line over stdio, a frame over websockets) and ``orjson.loads`` it. Both report p50 and
p99 over the same number of round trips, after a short warm-up.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial

import anyio
import orjson

from _common import Result
from _fast_server import command, ws_server
from codex_app_server_client import CodexClient

ROUND_TRIPS_FULL = 10_000
ROUND_TRIPS_SMOKE = 200
ROUNDS = 3
"""Runs per figure in a full run, SDK and raw alike."""
WARMUP = 200
TARGET_P50 = 1.5


def _requests(count: int) -> list[bytes]:
    """Pre-built request messages (ids from 1000 so they never collide with a handshake)."""
    return [
        orjson.dumps({"id": 1000 + i, "method": "echo/ping", "params": {}}) for i in range(count)
    ]


def _percentiles(samples: list[int]) -> tuple[float, float]:
    """(p50, p99) in microseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] / 1000, cuts[98] / 1000


# -- SDK -----------------------------------------------------------------------------------


async def _sdk_loop(client: CodexClient, count: int) -> tuple[list[int], bool]:
    clock = time.perf_counter_ns
    samples: list[int] = []
    ok = True
    for _ in range(WARMUP):
        await client.request("echo/ping", {})
    for _ in range(count):
        start = clock()
        result = await client.request("echo/ping", {})
        samples.append(clock() - start)
        ok = ok and result == {}
    return samples, ok


async def sdk_stdio(count: int) -> tuple[list[int], bool]:
    async with CodexClient("stdio://", command=command("stdio", "echo")) as client:
        return await _sdk_loop(client, count)


async def sdk_ws(count: int) -> tuple[list[int], bool]:
    async with ws_server("echo") as url, CodexClient(url) as client:
        return await _sdk_loop(client, count)


# -- raw baselines -------------------------------------------------------------------------


async def raw_stdio(count: int) -> tuple[list[int], bool]:
    clock = time.perf_counter_ns
    messages = [m + b"\n" for m in _requests(WARMUP + count)]
    samples: list[int] = []
    ok = True
    process = await anyio.open_process(command("stdio", "echo"), stderr=None)
    async with process:
        assert process.stdin is not None
        assert process.stdout is not None
        stdin, stdout = process.stdin, process.stdout
        buffer = b""
        for index, message in enumerate(messages):
            start = clock()
            await stdin.send(message)
            while b"\n" not in buffer:
                buffer += await stdout.receive(65536)
            line, buffer = buffer.split(b"\n", 1)
            answer = orjson.loads(line)
            if index >= WARMUP:
                samples.append(clock() - start)
                ok = ok and answer["result"] == {}
        await stdin.aclose()
        await process.wait()
    return samples, ok


async def raw_ws(count: int) -> tuple[list[int], bool]:
    from websockets.asyncio.client import connect

    clock = time.perf_counter_ns
    messages = _requests(WARMUP + count)
    samples: list[int] = []
    ok = True
    async with (
        ws_server("echo") as url,
        connect(url, compression=None, max_size=None, ping_interval=None) as ws,
    ):
        for index, message in enumerate(messages):
            start = clock()
            await ws.send(message, text=True)
            answer = orjson.loads(await ws.recv(decode=False))
            if index >= WARMUP:
                samples.append(clock() - start)
                ok = ok and answer["result"] == {}
    return samples, ok


# -- driver --------------------------------------------------------------------------------

Runner = Callable[[int], Awaitable[tuple[list[int], bool]]]


def _measure(runner: Runner, count: int) -> tuple[float, float, bool]:
    samples, ok = anyio.run(partial(runner, count), backend="asyncio")
    p50, p99 = _percentiles(samples)
    return p50, p99, ok and len(samples) == count


def _best_of(rounds: int, runner: Runner, count: int) -> tuple[float, float, bool]:
    """The lowest p50 and p99 of ``rounds`` runs: scheduler noise (which core the server
    process lands on, say) only ever adds latency, so the lowest is the truest."""
    measured = [_measure(runner, count) for _ in range(rounds)]
    return (
        min(p50 for p50, _, _ in measured),
        min(p99 for _, p99, _ in measured),
        all(ok for _, _, ok in measured),
    )


def run(smoke: bool) -> list[Result]:
    count = ROUND_TRIPS_SMOKE if smoke else ROUND_TRIPS_FULL
    rounds = 1 if smoke else ROUNDS
    results: list[Result] = []
    for transport, sdk, raw in (("stdio", sdk_stdio, raw_stdio), ("ws", sdk_ws, raw_ws)):
        raw_p50, raw_p99, raw_ok = _best_of(rounds, raw, count)
        sdk_p50, sdk_p99, sdk_ok = _best_of(rounds, sdk, count)
        print(
            f"  latency {transport}: sdk p50 {sdk_p50:.1f} us p99 {sdk_p99:.1f} us; "
            f"raw p50 {raw_p50:.1f} us p99 {raw_p99:.1f} us",
            file=sys.stderr,
            flush=True,
        )
        note = f"{count:,} sequential round trips after {WARMUP} warm-up; lowest of {rounds} runs"
        correct = raw_ok and sdk_ok
        results.append(
            Result(
                benchmark="latency",
                figure=f"{transport} request round trip p50",
                sdk=sdk_p50,
                raw=raw_p50,
                unit="us",
                higher_is_better=False,
                target=TARGET_P50,
                correct=correct,
                note=note,
            )
        )
        results.append(
            Result(
                benchmark="latency",
                figure=f"{transport} request round trip p99",
                sdk=sdk_p99,
                raw=raw_p99,
                unit="us",
                higher_is_better=False,
                target=None,
                correct=correct,
                note=note,
            )
        )
    return results
