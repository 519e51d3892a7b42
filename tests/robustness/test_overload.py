"""The server's ``-32001`` "Server overloaded; retry later." answer is retried, within bounds.

Retries back off exponentially with jitter, give up after a bounded number of attempts with a
:class:`CodexProtocolError` carrying code ``-32001``, and never apply to any other error.

No test measures time: the back-off sleeps are recorded by replacing ``anyio.sleep`` for the
duration of a test (the client's retry loop is its only caller here; the fake server and the
client's own watchdog never call it), so each test runs at once and checks the delays the
client asked for.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexProtocolError
from codex_app_server_client.testing import FakeAppServer, memory_transport_pair

pytestmark = pytest.mark.anyio

WAIT = 10.0
"""Upper bound on one test; a hang fails instead of blocking."""

OVERLOADED = -32001

DEFAULT_RETRIES = 4
"""The documented default retry budget (docs/design.md, "Timeouts")."""


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every delay passed to ``anyio.sleep``, in order; the sleep itself only yields once."""
    delays: list[float] = []

    async def recorded_sleep(delay: float) -> None:
        delays.append(delay)
        await anyio.lowlevel.checkpoint()

    monkeypatch.setattr(anyio, "sleep", recorded_sleep)
    return delays


@pytest.fixture
def jitter(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[float]], list[tuple[float, float]]]:
    """Script the random draws of the back-off; returns the ranges they were drawn from."""

    def script(factors: list[float]) -> list[tuple[float, float]]:
        ranges: list[tuple[float, float]] = []
        queue = list(factors)

        def uniform(low: float, high: float) -> float:
            ranges.append((low, high))
            return queue.pop(0)

        monkeypatch.setattr(random, "uniform", uniform)
        return ranges

    return script


@asynccontextmanager
async def _connected(server: FakeAppServer, **client_options: Any) -> AsyncGenerator[CodexClient]:
    client_end, server_end = memory_transport_pair()
    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, server_end)
            try:
                async with CodexClient(client_end, **client_options) as client:
                    yield client
            finally:
                # Also when the client could not be built: no stream is left to a finaliser.
                await client_end.aclose()
                await server_end.aclose()


def _requests(server: FakeAppServer, method: str) -> list[dict[str, Any]]:
    return [m for m in server.received if isinstance(m, dict) and m.get("method") == method]  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]


async def test_an_overloaded_request_is_retried_with_doubling_jittered_delays_until_it_succeeds(
    sleeps: list[float], jitter: Callable[[list[float]], list[tuple[float, float]]]
) -> None:
    server = FakeAppServer()
    factors = [0.5, 1.5, 1.0]
    ranges = jitter(factors)
    async with _connected(server) as client:
        server.overload_next(3)
        result = await client.request("thread/start", {})
    assert result["thread"]["id"] in server.thread_ids
    attempts = _requests(server, "thread/start")
    assert len(attempts) == 4
    assert len({a["id"] for a in attempts}) == 4, "each attempt is a new request with a new id"
    assert len(sleeps) == 3
    # Each delay is base * 2**attempt, scaled by its own random draw.
    base = sleeps[0] / factors[0]
    assert base > 0
    assert sleeps == pytest.approx([base * 2**i * f for i, f in enumerate(factors)])
    # The draws spread each delay around its nominal value, both ways.
    assert len(ranges) == 3
    for low, high in ranges:
        assert 0 < low < 1 < high


async def test_identical_retries_wait_different_random_delays(sleeps: list[float]) -> None:
    # Unscripted jitter: clients retrying together must not retry in lockstep.
    server = FakeAppServer()
    async with _connected(server) as client:
        for _ in range(12):
            server.overload_next(1)
            await client.request("thread/start", {})
    assert len(sleeps) == 12
    assert len(set(sleeps)) > 1
    # All are first retries: the same nominal delay, spread by the jitter factor only.
    assert max(sleeps) / min(sleeps) <= 3.0


async def test_overload_gives_up_after_the_retry_budget_with_code_32001_and_the_client_stays_usable(
    sleeps: list[float], jitter: Callable[[list[float]], list[tuple[float, float]]]
) -> None:
    server = FakeAppServer()
    jitter([1.0] * DEFAULT_RETRIES)  # nominal delays, so that their growth shows
    async with _connected(server) as client:
        server.overload_next(DEFAULT_RETRIES + 1)
        with pytest.raises(CodexProtocolError) as caught:
            await client.request("thread/start", {})
        assert caught.value.code == OVERLOADED
        assert "retry" in str(caught.value).lower(), "the message says what to do"
        assert len(_requests(server, "thread/start")) == DEFAULT_RETRIES + 1
        assert len(sleeps) == DEFAULT_RETRIES
        assert all(b == pytest.approx(2 * a) for a, b in itertools.pairwise(sleeps)), sleeps
        # The overload is over: the next request goes through at once.
        result = await client.request("thread/start", {})
        assert result["thread"]["id"] in server.thread_ids
        assert len(sleeps) == DEFAULT_RETRIES


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("thread/read", {"threadId": "no-such-thread"}),
        ("no/suchMethod", {}),
        ("thread/start", {"approvalPolicy": "sometimes"}),
    ],
)
async def test_other_error_codes_are_not_retried(
    sleeps: list[float], method: str, params: dict[str, Any]
) -> None:
    server = FakeAppServer()
    async with _connected(server) as client:
        with pytest.raises(CodexProtocolError) as caught:
            await client.request(method, params)
    assert caught.value.code != OVERLOADED
    assert len(_requests(server, method)) == 1
    assert sleeps == []


async def test_an_overloaded_turn_start_is_retried_and_runs_the_turn_once(
    sleeps: list[float],
) -> None:
    server = FakeAppServer()
    async with _connected(server) as client:
        started = await client.request("thread/start", {})
        thread_id = started["thread"]["id"]
        server.overload_next(2)
        result = await client.chat_once("hello", thread_id=thread_id)
    assert result.status == "completed"
    assert len(_requests(server, "turn/start")) == 3
    assert len(server.thread_turns(thread_id)) == 1
    assert len(sleeps) == 2


async def test_the_retry_budget_and_back_off_are_configurable_on_the_client(
    sleeps: list[float], jitter: Callable[[list[float]], list[tuple[float, float]]]
) -> None:
    server = FakeAppServer()
    jitter([1.0, 1.0, 1.0])
    async with _connected(server, overload_retries=2, overload_backoff=0.25) as client:
        server.overload_next(3)
        with pytest.raises(CodexProtocolError) as caught:
            await client.request("thread/start", {})
        assert caught.value.code == OVERLOADED
    assert len(_requests(server, "thread/start")) == 3
    assert sleeps == pytest.approx([0.25, 0.5])


async def test_a_retry_budget_of_zero_surfaces_the_first_overload(sleeps: list[float]) -> None:
    server = FakeAppServer()
    async with _connected(server, overload_retries=0) as client:
        server.overload_next(1)
        with pytest.raises(CodexProtocolError) as caught:
            await client.request("thread/start", {})
        assert caught.value.code == OVERLOADED
    assert len(_requests(server, "thread/start")) == 1
    assert sleeps == []
