"""Benchmark 4: memory over many sequential turns on one connection.

``TURNS`` turns run one after another on one thread of one ``CodexClient`` against the lean
in-process bench server (it keeps no per-turn state, so what grows is the client's). Most are
``chat_once``; every tenth is a ``chat()`` left after its first step, alternately by a bare
``break`` (the stream is dropped) and inside ``async with`` (released explicitly).

After a warm-up the resident set size (``VmRSS``) is read, and again at the end; a second
pass does the same under ``tracemalloc``. Growth after warm-up is reported against a 5 MB
limit: the ``raw`` column holds that limit, not a measurement, so the ratio is the share of
the limit used (target <= 1).

Correct when, at the end, the client's tables are empty: no tracked or starting turn, no
stream attached, no pending request.
"""

from __future__ import annotations

import gc
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import anyio
import anyio.lowlevel

from _common import Result
from bench_concurrency import BenchServer, step_event, turn_completed
from codex_app_server_client import CodexClient
from codex_app_server_client.testing import memory_transport_pair

__all__ = ["run"]

LIMIT_MB = 5.0
STEPS = 3


def rss_mb() -> float:
    """The resident set size now (Linux), else the peak RSS."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _on_turn(thread_id: str, turn_id: str, started: int) -> list[bytes]:
    events = [step_event(thread_id, turn_id, index) for index in range(STEPS)]
    events.append(turn_completed(thread_id, turn_id))
    return events


def _tables_empty(client: CodexClient) -> list[str]:
    """What the client still holds that it should have let go of."""
    router = client._router  # pyright: ignore[reportPrivateUsage]
    connection = client._connection  # pyright: ignore[reportPrivateUsage]
    left: list[str] = []
    if router.tracked_turns:
        left.append(f"{len(router.tracked_turns)} tracked turns")
    if router.starting_threads:
        left.append(f"{len(router.starting_threads)} starting threads")
    attached = router.leftovers().get("attached turns")
    if attached:
        left.append(f"attached streams: {attached}")
    if connection is None or connection.pending_requests:
        left.append("pending requests")
    elif connection._engine.pending:  # pyright: ignore[reportPrivateUsage]
        left.append("requests pending in the JSON-RPC engine")
    return left


async def _turns(client: CodexClient, thread_id: str, count: int, offset: int) -> list[str]:
    problems: list[str] = []
    for n in range(offset, offset + count):
        if n % 10 == 9:
            if n % 20 == 19:
                async for _ in client.chat("go", thread_id=thread_id):
                    break  # the stream is dropped: released by __del__
            else:
                async with client.chat("go", thread_id=thread_id) as steps:
                    async for _ in steps:
                        break
        else:
            result = await client.chat_once("go", thread_id=thread_id)
            if len(result.steps) != STEPS or result.final_text != f"step {STEPS - 1}":
                problems.append(f"turn {result.turn_id}: {len(result.steps)} steps")
    return problems


async def _pass(
    warmup: int, turns: int, measure: Callable[[], float]
) -> tuple[float, float, float, list[str]]:
    """Warm up, measure, run ``turns`` turns, measure: (before, after, seconds, problems)."""
    client_end, server_end = memory_transport_pair()
    server = BenchServer(_on_turn, name_turn=lambda thread_id, n: f"tu-{n}")
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve, server_end)
        async with CodexClient(client_end) as client:
            started = await client.request("thread/start", {})
            thread_id = started["thread"]["id"]
            problems = await _turns(client, thread_id, warmup, 0)
            gc.collect()
            before = measure()
            clock = time.perf_counter()
            problems += await _turns(client, thread_id, turns, warmup)
            elapsed = time.perf_counter() - clock
            await anyio.lowlevel.checkpoint()  # the reader drops an abandoned turn's events
            gc.collect()
            after = measure()
            problems += _tables_empty(client)
    return before, after, elapsed, problems


def _traced_mb() -> float:
    return tracemalloc.get_traced_memory()[0] / (1024 * 1024)


def run(smoke: bool) -> list[Result]:
    """``smoke``: 50 warm-up + 200 turns; else 500 warm-up + 10,000 turns, each pass."""
    warmup, turns = (50, 200) if smoke else (500, 10_000)
    before, after, elapsed, problems = anyio.run(_pass, warmup, turns, rss_mb)
    tracemalloc.start()
    try:
        t_before, t_after, _, t_problems = anyio.run(_pass, warmup, turns, _traced_mb)
    finally:
        tracemalloc.stop()
    problems += t_problems
    shape = (
        f"{turns:,} sequential turns on one thread after {warmup} warm-up turns (1 in 10 a "
        f"chat() abandoned after its first step), {STEPS} steps each"
    )
    limit = f"raw = the {LIMIT_MB:g} MB limit, not a measurement; ratio = share of the limit"
    failed = f" PROBLEMS: {'; '.join(problems[:5])}" if problems else ""
    return [
        Result(
            benchmark="memory",
            figure=f"RSS growth over {turns:,} turns",
            sdk=after - before,
            raw=LIMIT_MB,
            unit="MB",
            higher_is_better=False,
            target=1.0,
            correct=not problems,
            note=(
                f"{shape}; VmRSS {before:.1f} MB after warm-up, {after:.1f} MB at the end; "
                f"{turns / elapsed:,.0f} turns/s; {limit}.{failed}"
            ),
        ),
        Result(
            benchmark="memory",
            figure=f"tracemalloc growth over {turns:,} turns",
            sdk=t_after - t_before,
            raw=LIMIT_MB,
            unit="MB",
            higher_is_better=False,
            target=1.0,
            correct=not problems,
            note=(
                f"{shape}; traced {t_before:.2f} MB after warm-up, {t_after:.2f} MB at the "
                f"end ({(t_after - t_before) * 1024 * 1024 / turns:.1f} bytes/turn); {limit}."
                f"{failed}"
            ),
        ),
    ]


if __name__ == "__main__":
    from _common import print_table

    print_table(run(smoke="--smoke" in sys.argv))
