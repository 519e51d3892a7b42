"""What only the blocking facade does: its lifecycle, threads, a running loop, plain handlers.

The behaviour guarantees themselves run against the facade in tests/client/test_behaviour.py.
These tests are plain functions (no event loop of the test's own), as a script would be; the
fake app-server runs as a child process over stdio. Waits are on events with a deadline.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from codex_app_server_client.errors import CodexError, CodexTransportError, CodexTurnInactiveError
from codex_app_server_client.models import (
    ApprovalDecision,
    ApprovalRequest,
    CommandApprovalRequest,
)
from codex_app_server_client.protocol import Notification
from codex_app_server_client.sync import Backend, CodexClient
from codex_app_server_client.testing.fake_server import (
    DEFAULT_AGENT_TEXT,
    Action,
    agent_message,
    command_approval,
    retry_error,
    stall,
)

WAIT = 15.0
FAKE_MODULE = "codex_app_server_client.testing.fake_server"


@pytest.fixture(params=["asyncio", "trio"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return "trio" if request.param == "trio" else "asyncio"


@pytest.fixture
def fake(tmp_path: Path, backend: Backend) -> Any:
    """``fake(scripts, **options)``: a blocking client on a fake app-server child process."""

    def open_client(scripts: Sequence[Sequence[Action]] = (), **options: Any) -> CodexClient:
        script = tmp_path / f"script-{len(list(tmp_path.iterdir()))}.json"
        script.write_bytes(orjson.dumps([[a.to_dict() for a in s] for s in scripts]))
        argv = [sys.executable, "-m", FAKE_MODULE, "--script", str(script), "--listen"]
        return CodexClient("stdio://", command=[*argv, "stdio://"], backend=backend, **options)

    return open_client


def test_a_script_chats_iterates_steps_and_pages_threads_without_async(fake: Any) -> None:
    with fake([[agent_message("first")], [agent_message("second")]]) as client:
        assert isinstance(client, CodexClient)
        result = client.chat_once("one")
        steps = list(client.chat("two", thread_id=result.thread_id))
        listed = list(client.threads.list(limit=1))
        loaded = client.request("thread/loaded/list", {})
    assert result.final_text == "first"
    assert [s.text for s in steps] == ["two", "second"]
    assert [t["id"] for t in listed] == [result.thread_id]
    assert loaded["data"] == [result.thread_id]


def test_closing_twice_is_fine_and_use_after_close_raises_a_transport_error(fake: Any) -> None:
    client = fake()
    with pytest.raises(RuntimeError, match="not connected"):
        client.request("thread/list", {})
    with client:
        assert not client.closed
        with pytest.raises(RuntimeError, match="already opened"):
            client.open()
    assert client.closed
    client.close()
    with pytest.raises(CodexTransportError, match="closed"):
        client.request("thread/list", {})
    with pytest.raises(CodexTransportError, match="closed"):
        client.chat_once("hello")


def test_open_and_close_work_across_calls_like_notebook_cells(fake: Any) -> None:
    client = fake().open()
    try:
        assert client.chat_once("cell one").final_text == DEFAULT_AGENT_TEXT
        assert client.user_agent
    finally:
        client.close()
    assert client.closed


def test_the_client_works_from_a_thread_that_runs_an_asyncio_loop_like_jupyter(
    fake: Any,
) -> None:
    client = fake()

    async def notebook_cell() -> str | None:
        # A cell's code runs inside the kernel's running loop and calls the client blocking.
        asyncio.get_running_loop()
        with client:
            return client.chat_once("from a cell").final_text

    assert asyncio.run(notebook_cell()) == DEFAULT_AGENT_TEXT


def test_a_plain_approval_handler_runs_in_a_worker_thread_and_may_block(fake: Any) -> None:
    asked = threading.Event()
    answer = threading.Event()
    threads: list[threading.Thread] = []

    def human(request: ApprovalRequest) -> ApprovalDecision:
        threads.append(threading.current_thread())
        asked.set()
        assert answer.wait(WAIT)  # blocks like input() would
        return ApprovalDecision.ACCEPT

    script = [command_approval("make"), agent_message("built")]
    results: list[Any] = []
    with fake([script], approval_handler=human, inactivity_timeout=0.3) as client:
        runner = threading.Thread(target=lambda: results.append(client.chat_once("build")))
        runner.start()
        assert asked.wait(WAIT)
        # The handler blocks its thread; other calls still go through, and the waiting turn
        # is not inactive (its clock is paused while our handler decides).
        assert client.request("thread/list", {})["data"]
        answer.set()
        runner.join(WAIT)
    [result] = results
    assert result.final_text == "built"
    assert threads[0] is not threading.main_thread()
    assert threads[0] is not runner


def test_an_async_approval_handler_runs_on_the_clients_loop(fake: Any) -> None:
    requests: list[ApprovalRequest] = []

    async def approve(request: ApprovalRequest) -> str:
        requests.append(request)
        return "accept"

    script = [command_approval("ls"), agent_message("listed")]
    with fake([script], approval_handler=approve) as client:
        result = client.chat_once("list")
    assert isinstance(requests[0], CommandApprovalRequest)
    ran = [s for s in result.steps if s.item_type == "commandExecution"]
    assert ran[0].item["status"] == "completed"


def test_breaking_out_of_chat_in_a_plain_thread_frees_the_turn(fake: Any) -> None:
    with fake([[agent_message("first"), stall(), agent_message("never read")]]) as client:
        for step in client.chat("start"):
            assert step.text == "start"
            break
        gc.collect()
        target = client.wrapped
        router = target._router  # pyright: ignore[reportPrivateUsage]
        assert client.portal.call(lambda: dict(router.tracked_turns)) == {}
        # The thread is free for a new turn at once.
        client.notify("fake/release")
        assert client.chat_once("next", thread_id=None).status == "completed"


def test_a_turn_waited_on_in_one_thread_is_cancelled_from_another(fake: Any) -> None:
    with fake([[agent_message("thinking"), stall()]], inactivity_timeout=0.3) as client:
        with pytest.raises(CodexTurnInactiveError) as info:
            client.chat_once("think")
        outcome: list[Any] = []
        worker = threading.Thread(
            target=lambda: outcome.append(client.cancel(info.value.continuation))
        )
        worker.start()
        worker.join(WAIT)
    [cancelled] = outcome
    assert cancelled.status == "interrupted"
    assert [s.text for s in cancelled.steps] == ["think", "thinking"]


def test_a_blocking_call_from_a_listener_raises_instead_of_deadlocking(fake: Any) -> None:
    errors: list[BaseException] = []
    seen = threading.Event()

    with fake() as client:

        def listener(note: Notification) -> None:
            if note.method == "turn/completed" and not seen.is_set():
                try:
                    client.request("thread/list", {})
                except CodexError as exc:
                    errors.append(exc)
                seen.set()

        client.on_notification(listener)
        client.chat_once("hi")
        assert seen.wait(WAIT)
    assert "event loop thread" in str(errors[0])


def test_a_ctrl_c_while_waiting_cancels_the_call_on_the_loop(fake: Any) -> None:
    with fake([[stall(), agent_message("late")]], inactivity_timeout=None) as client:
        started = threading.Event()

        def on_note(note: Notification) -> None:
            if note.method == "turn/started":
                started.set()

        client.on_notification(on_note)
        target = client.wrapped
        router = target._router  # pyright: ignore[reportPrivateUsage]

        def interrupt_when_started() -> None:
            assert started.wait(WAIT)
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C (or a notebook's stop) does

        threading.Thread(target=interrupt_when_started).start()
        with pytest.raises(KeyboardInterrupt):
            client.chat_once("wait forever")
        # The cancelled chat_once released its turn on the loop.
        assert client.portal.call(lambda: dict(router.tracked_turns)) == {}


def test_approval_timeout_declines_what_a_blocking_handler_left_undecided(fake: Any) -> None:
    release = threading.Event()
    asked: list[str] = []

    def slow_human(request: ApprovalRequest) -> ApprovalDecision:
        asked.append(request.item_id)
        release.wait(WAIT)  # never answers in time
        return ApprovalDecision.ACCEPT

    first = [command_approval("rm -rf build"), agent_message("done")]
    # The stall keeps the request back until the stream has attached to its turn (a request
    # that comes before the turn/start answer is bound takes the client's setting).
    second = [stall(), command_approval("rm -rf dist"), agent_message("done")]
    try:
        with fake([first, second], approval_handler=slow_human, approval_timeout=0.2) as client:
            # The constructor's setting, forwarded to the async client.
            assert client.wrapped.approval_timeout == 0.2
            results = [client.chat_once("one")]
            # The property, forwarded too; then the per-call argument overrides it.
            client.approval_timeout = None
            assert client.approval_timeout is None
            assert client.wrapped.approval_timeout is None
            with client.chat("two", approval_timeout=0.2) as stream:
                stream.keep_steps()
                assert next(stream).text == "two"
                client.notify("fake/release")
                results.append(stream.collect())
    finally:
        release.set()
    assert len(asked) == 2
    commands = [s for r in results for s in r.steps if s.item_type == "commandExecution"]
    assert [s.item["status"] for s in commands] == ["declined", "declined"]
    assert [r.final_text for r in results] == ["done", "done"]


def test_the_blocking_stream_shows_the_servers_retry_notice(fake: Any) -> None:
    script = [retry_error("Reconnecting... 2/5"), stall(), agent_message("recovered")]
    with fake([script], inactivity_timeout=None) as client, client.chat("go") as stream:
        stream.keep_steps()
        assert stream.retry is None
        assert next(stream).text == "go"
        deadline = time.monotonic() + WAIT
        while stream.retry is None and time.monotonic() < deadline:
            time.sleep(0.01)
        notice = stream.retry
        assert notice is not None
        assert (notice.message, notice.attempt, notice.max_attempts) == (
            "Reconnecting... 2/5",
            2,
            5,
        )
        client.notify("fake/release")
        assert [s.text for s in stream] == ["recovered"]
        assert stream.retry is None
        # keep_steps(): the result has every step, also those handed out.
        assert [s.text for s in stream.result.steps] == ["go", "recovered"]
