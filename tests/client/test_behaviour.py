"""The behaviour guarantees of ``CodexClient`` (DESIGN.md §2), against the fake app-server.

Every test runs against both APIs: the async client and the blocking facade
(``codex_app_server_client.sync``), through one driver (below), on asyncio and trio.
Most tests run over three transports: the fake in-process over a memory pair (``memory``),
the fake as a child process over stdio (``stdio``), and the fake as a websocket server process
(``ws``). Tests that must look at what the server received use the in-process fake only; each
guarantee still has at least one test over all three.

Nothing here sleeps: every wait is on an event (a notification seen by a listener, a handler
being called, a stalled turn) under ``anyio.fail_after``. The small inactivity and request
timeouts are deadlines on such waits, and stalled turns stay stalled until released, so the
outcomes do not depend on timing.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, cast

import anyio
import anyio.to_thread
import orjson
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import (
    CodexContinuationError,
    CodexTimeoutError,
    CodexTransportError,
    CodexTurnFailedError,
    CodexTurnInactiveError,
)
from codex_app_server_client.models import (
    ApprovalDecision,
    ApprovalRequest,
    CancelResult,
    ChatResult,
    CommandApprovalRequest,
    Continuation,
    FileChangeApprovalRequest,
    Step,
)
from codex_app_server_client.protocol import Notification, ServerRequest
from codex_app_server_client.sync import CodexClient as SyncCodexClient
from codex_app_server_client.sync import TurnStream as SyncTurnStream
from codex_app_server_client.testing import MemoryTransport, memory_transport_pair
from codex_app_server_client.testing.codex_ws import run_ws_server_process
from codex_app_server_client.testing.fake_server import (
    DEFAULT_AGENT_TEXT,
    IGNORE_NEXT_NOTIFICATION,
    RELEASE_NOTIFICATION,
    Action,
    FakeAppServer,
    agent_message,
    before_response,
    command,
    command_approval,
    complete,
    disconnect,
    fail,
    file_change_approval,
    reasoning,
    retry_error,
    server_request,
    stall,
    turn_started,
)
from codex_app_server_client.transport import Transport
from codex_app_server_client.types import TurnStartParams, UserInput
from codex_app_server_client_stdio import StdioTransport

pytestmark = pytest.mark.anyio

Kind = Literal["memory", "stdio", "ws"]
KINDS: tuple[Kind, ...] = ("memory", "stdio", "ws")
Api = Literal["async", "sync"]
APIS: tuple[Api, ...] = ("async", "sync")
R = TypeVar("R")
T = TypeVar("T")
FAKE_MODULE = "codex_app_server_client.testing.fake_server"

WAIT = 15.0
"""Upper bound on one test, child process start included; a hang fails instead of blocking."""

INACTIVE = 0.3
"""A small inactivity timeout: the deadline of a wait on a turn that is stalled on purpose."""


# ------------------------------------------------------------------------------------------
# Two APIs behind one driver
#
# Each body is written once against ``Driver`` and runs against the async client and against
# the blocking facade (``codex_app_server_client.sync``). The sync driver calls the facade from
# worker threads (``anyio.to_thread``), so the test's own loop never blocks; the facade runs
# its connection on a loop of its own (the test's backend: asyncio or trio). Callbacks written
# for the test's loop (listeners, handlers) are carried back to it through a portal: a sync
# handler then blocks its worker thread until the test answers, as a human would.


class Steps(Protocol):
    """What ``chat`` returns, for either API: async iteration and the ``result``."""

    def __aiter__(self) -> AsyncIterator[Step]: ...

    @property
    def result(self) -> ChatResult: ...


class Driver(Protocol):
    """The client calls the bodies make; implemented over each API."""

    api: Api

    @property
    def target(self) -> CodexClient:
        """The async client (itself, or the one inside the facade), to look at its tables."""
        ...

    @property
    def closed(self) -> bool: ...

    def set_request_timeout(self, seconds: float) -> None: ...

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any: ...

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None: ...

    def chat(self, text: str | None = None, **kwargs: Any) -> Steps: ...

    async def chat_once(self, text: str | None = None, **kwargs: Any) -> ChatResult: ...

    async def cancel(self, continuation: Continuation) -> CancelResult: ...

    def on_notification(self, listener: Callable[[Notification], None]) -> None: ...

    def set_server_request_handler(
        self, method: str, handler: Callable[[ServerRequest], Awaitable[Any]]
    ) -> None: ...

    async def on_loop(self, check: Callable[[CodexClient], None]) -> None:
        """Run ``check(target)`` on the client's own loop (its tables are safe to read there)."""
        ...


class AsyncDriver:
    """The async client, called directly."""

    api: Api = "async"

    def __init__(self, client: CodexClient) -> None:
        self.client = client

    @property
    def target(self) -> CodexClient:
        return self.client

    @property
    def closed(self) -> bool:
        return self.client.closed

    def set_request_timeout(self, seconds: float) -> None:
        self.client.request_timeout = seconds

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        return await self.client.request(method, params, timeout=timeout)

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        await self.client.notify(method, params)

    def chat(self, text: str | None = None, **kwargs: Any) -> Steps:
        return self.client.chat(text, **kwargs)

    async def chat_once(self, text: str | None = None, **kwargs: Any) -> ChatResult:
        return await self.client.chat_once(text, **kwargs)

    async def cancel(self, continuation: Continuation) -> CancelResult:
        return await self.client.cancel(continuation)

    def on_notification(self, listener: Callable[[Notification], None]) -> None:
        self.client.on_notification(listener)

    def set_server_request_handler(
        self, method: str, handler: Callable[[ServerRequest], Awaitable[Any]]
    ) -> None:
        self.client.set_server_request_handler(method, handler)

    async def on_loop(self, check: Callable[[CodexClient], None]) -> None:
        check(self.client)


async def in_thread(call: Callable[[], R]) -> R:
    """Run a blocking call in a worker thread; a hang fails the test's deadline, not the run."""
    return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)


class SyncSteps:
    """The facade's blocking ``TurnStream``, iterated from worker threads."""

    def __init__(self, stream: SyncTurnStream) -> None:
        self.stream = stream

    def __aiter__(self) -> SyncSteps:
        return self

    async def __anext__(self) -> Step:
        step = await in_thread(lambda: next(self.stream, None))
        if step is None:
            raise StopAsyncIteration
        return step

    @property
    def result(self) -> ChatResult:
        return self.stream.result

    def __del__(self) -> None:
        # A body that breaks out of its loop drops this object on the test's own loop thread,
        # where a trio loop forbids blocking calls; a user's loop runs in a plain thread. So
        # the stream is let go in a plain thread, as a user's `break` would (the facade's own
        # finalizer after a `break` in a plain thread is tested in tests/sync).
        stream = self.stream
        worker = threading.Thread(target=stream.close)
        worker.start()
        worker.join()


Listened = tuple[Callable[[Notification], None], Notification]


class SyncDriver:
    """The blocking facade, called from worker threads; callbacks come back through ``bridge``."""

    api: Api = "sync"

    def __init__(self, client: SyncCodexClient, bridge: BlockingPortal) -> None:
        self.client = client
        self.bridge = bridge
        # Listeners run on the facade's loop thread, which must not block and (under trio)
        # may not call into another trio loop: notes go through a queue to one thread that
        # hands them to the test's loop in order.
        self.notes: queue.SimpleQueue[Listened | None] = queue.SimpleQueue()
        self.dispatcher = threading.Thread(target=self.dispatch, name="test listener dispatch")
        self.dispatcher.start()

    def dispatch(self) -> None:
        while (entry := self.notes.get()) is not None:
            listener, note = entry
            self.bridge.call(listener, note)

    async def stop_dispatch(self) -> None:
        self.notes.put(None)
        await in_thread(self.dispatcher.join)

    @property
    def target(self) -> CodexClient:
        return self.client.wrapped

    @property
    def closed(self) -> bool:
        return self.client.closed

    def set_request_timeout(self, seconds: float) -> None:
        self.client.request_timeout = seconds

    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        return await in_thread(lambda: self.client.request(method, params, timeout=timeout))

    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        await in_thread(lambda: self.client.notify(method, params))

    def chat(self, text: str | None = None, **kwargs: Any) -> Steps:
        return SyncSteps(self.client.chat(text, **kwargs))

    async def chat_once(self, text: str | None = None, **kwargs: Any) -> ChatResult:
        return await in_thread(lambda: self.client.chat_once(text, **kwargs))

    async def cancel(self, continuation: Continuation) -> CancelResult:
        return await in_thread(lambda: self.client.cancel(continuation))

    def on_notification(self, listener: Callable[[Notification], None]) -> None:
        notes = self.notes
        self.client.on_notification(lambda note: notes.put((listener, note)))

    def set_server_request_handler(
        self, method: str, handler: Callable[[ServerRequest], Awaitable[Any]]
    ) -> None:
        self.client.set_server_request_handler(method, self.blocking(handler))

    def blocking(self, handler: Callable[[T], Awaitable[R]]) -> Callable[[T], R]:
        """A plain function that runs ``handler`` on the test's loop and waits for it."""
        bridge = self.bridge

        def call(request: T) -> R:
            return bridge.call(handler, request)

        return call

    async def on_loop(self, check: Callable[[CodexClient], None]) -> None:
        target = self.target
        portal = self.client.portal
        await in_thread(lambda: portal.call(check, target))


# ------------------------------------------------------------------------------------------
# The fake app-server over three transports


@dataclass
class Control:
    """Test-side handle on the fake behind a client, whatever the transport and API."""

    kind: Kind
    client: Driver
    server: FakeAppServer | None = None
    """The in-process fake (``memory`` only): ``received``, ``decisions``, ``replies``."""
    server_end: MemoryTransport | None = None
    portal: BlockingPortal | None = None
    """The loop the in-process fake runs on when it is not the test's (the sync API's)."""
    pid: int | None = None
    """The fake's process id (``stdio`` and ``ws``)."""

    @property
    def fake(self) -> FakeAppServer:
        assert self.server is not None, "this check needs the in-process fake"
        return self.server

    async def on_fake_loop(self, call: Callable[[], Awaitable[R]]) -> R:
        """Run ``call()`` where the in-process fake runs."""
        portal = self.portal
        if portal is None:
            return await call()
        return await in_thread(lambda: portal.call(call))

    async def release(self) -> None:
        """Let every stalled turn go on (or the next stall pass at once)."""
        server = self.server
        if server is not None:

            async def release() -> None:
                server.release()

            await self.on_fake_loop(release)
        else:
            await self.client.notify(RELEASE_NOTIFICATION)

    async def ignore_next(self, count: int = 1) -> None:
        """Make the fake never answer the next ``count`` requests."""
        server = self.server
        if server is not None:

            async def ignore() -> None:
                server.ignore_next(count)

            await self.on_fake_loop(ignore)
        else:
            await self.client.notify(IGNORE_NEXT_NOTIFICATION, {"count": count})

    async def kill(self) -> None:
        """End the server abruptly: SIGKILL for a process, closing its end in memory."""
        server_end = self.server_end
        if server_end is not None:
            await self.on_fake_loop(server_end.aclose)
        else:
            assert self.pid is not None
            os.kill(self.pid, signal.SIGKILL)

    async def wait_turns_completed(self, count: int = 1) -> None:
        """Wait until the in-process fake has completed ``count`` turns."""
        fake = self.fake
        await self.on_fake_loop(lambda: fake.wait_turns_completed(count))


@asynccontextmanager
async def open_driver(
    api: Api,
    backend: str,
    transport: Transport | str,
    **client_kwargs: Any,
) -> AsyncGenerator[Driver]:
    """A client of ``api`` on ``transport``; for the sync API, on its own ``backend`` loop."""
    if api == "async":
        async with CodexClient(transport, **client_kwargs) as client:
            yield AsyncDriver(client)
        return
    portal: BlockingPortal | None = client_kwargs.pop("portal", None)
    async with BlockingPortal() as bridge:
        for name in ("approval_handler",):
            if name in client_kwargs:
                handler = client_kwargs[name]

                def call(request: Any, handler: Any = handler) -> Any:
                    return bridge.call(handler, request)

                client_kwargs[name] = call
        client = SyncCodexClient(
            transport,
            backend="trio" if backend == "trio" else "asyncio",
            portal=portal,
            **client_kwargs,
        )
        await in_thread(client.open)
        driver = SyncDriver(client, bridge)
        try:
            yield driver
        finally:
            await in_thread(client.close)
            await driver.stop_dispatch()
            # Handlers still blocked in a worker thread (abandoned by the client) end here.
            await bridge.stop(cancel_remaining=True)


@asynccontextmanager
async def open_fake(
    kind: Kind,
    scripts: Sequence[Sequence[Action]] = (),
    *,
    workdir: Path,
    api: Api = "async",
    backend: str = "asyncio",
    server: FakeAppServer | None = None,
    **client_kwargs: Any,
) -> AsyncGenerator[tuple[Driver, Control]]:
    """A client connected to a fake app-server that plays ``scripts``, one per turn, in order."""
    with anyio.fail_after(WAIT):
        if kind == "memory":
            fake = server if server is not None else FakeAppServer()
            fake.script_turns(scripts)
            client_end, server_end = memory_transport_pair()
            if api == "sync":
                # Both ends of a memory pair must live on one loop: the fake serves on the
                # facade's loop, which the test starts and hands to the facade.
                # (Entered and left in worker threads: a trio loop forbids blocking calls.)
                portal_cm = start_blocking_portal(backend)
                portal = await in_thread(portal_cm.__enter__)
                try:
                    served = await in_thread(lambda: portal.start_task_soon(fake.serve, server_end))
                    try:
                        async with open_driver(
                            api, backend, client_end, portal=portal, **client_kwargs
                        ) as client:
                            control = Control(
                                kind, client, server=fake, server_end=server_end, portal=portal
                            )
                            yield client, control
                    finally:
                        await in_thread(lambda: portal.call(server_end.aclose))
                        await in_thread(served.result)
                finally:
                    await in_thread(lambda: portal_cm.__exit__(None, None, None))
                return
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(fake.serve, server_end)
                    async with open_driver(api, backend, client_end, **client_kwargs) as client:
                        yield client, Control(kind, client, server=fake, server_end=server_end)
            finally:
                await server_end.aclose()
            return
        assert server is None, "a shared FakeAppServer only exists in memory"
        script_file = workdir / f"turns-{uuid.uuid4().hex}.json"
        script_file.write_bytes(orjson.dumps([[a.to_dict() for a in s] for s in scripts]))
        argv = [sys.executable, "-m", FAKE_MODULE, "--script", str(script_file), "--listen"]
        if kind == "stdio":
            async with open_driver(
                api, backend, "stdio://", command=[*argv, "stdio://"], **client_kwargs
            ) as client:
                transport = client.target.transport
                assert isinstance(transport, StdioTransport)
                yield client, Control(kind, client, pid=transport.pid)
            return
        async with (
            run_ws_server_process([*argv, "ws://127.0.0.1:0"], ready_timeout=WAIT) as process,
            open_driver(api, backend, process.url, **client_kwargs) as client,
        ):
            yield client, Control(kind, client, pid=process.pid)


class OpenFake(Protocol):
    def __call__(
        self, scripts: Sequence[Sequence[Action]] = (), **client_kwargs: Any
    ) -> AbstractAsyncContextManager[tuple[Driver, Control]]: ...


@pytest.fixture(params=APIS)
def api(request: pytest.FixtureRequest) -> Api:
    """The async client, or the blocking facade over it: every body runs against both."""
    return cast("Api", request.param)


@pytest.fixture(params=KINDS)
def fake_client(
    request: pytest.FixtureRequest, tmp_path: Path, api: Api, anyio_backend: str
) -> OpenFake:
    """Open a client on the fake, over each of the three transports in turn, with each API."""
    kind: Kind = request.param

    def open_client(
        scripts: Sequence[Sequence[Action]] = (), **client_kwargs: Any
    ) -> AbstractAsyncContextManager[tuple[Driver, Control]]:
        return open_fake(
            kind, scripts, workdir=tmp_path, api=api, backend=anyio_backend, **client_kwargs
        )

    return open_client


@pytest.fixture
def memory_client(tmp_path: Path, api: Api, anyio_backend: str) -> OpenFake:
    """Open a client on the in-process fake only (for tests that inspect what it received)."""

    def open_client(
        scripts: Sequence[Sequence[Action]] = (), **client_kwargs: Any
    ) -> AbstractAsyncContextManager[tuple[Driver, Control]]:
        return open_fake(
            "memory", scripts, workdir=tmp_path, api=api, backend=anyio_backend, **client_kwargs
        )

    return open_client


# ------------------------------------------------------------------------------------------
# Small helpers


def when(client: Driver, predicate: Callable[[Notification], bool]) -> anyio.Event:
    """An event set by the first notification that matches ``predicate``."""
    event = anyio.Event()

    def listener(note: Notification) -> None:
        if predicate(note):
            event.set()

    client.on_notification(listener)
    return event


def is_user_message_done(note: Notification) -> bool:
    item: object = note.params.get("item")
    return (
        note.method == "item/completed"
        and isinstance(item, dict)
        and cast("dict[str, Any]", item).get("type") == "userMessage"
    )


def is_turn_completed(note: Notification) -> bool:
    return note.method == "turn/completed"


def methods(control: Control) -> list[str]:
    """Methods of every message the in-process fake received, in order."""
    return [str(m.get("method")) for m in control.fake.received if isinstance(m, dict)]  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]


def sent(control: Control, method: str) -> list[dict[str, Any]]:
    """Params of every request or notification ``method`` the in-process fake received."""
    return [
        m.get("params") or {}  # pyright: ignore[reportUnknownMemberType]
        for m in control.fake.received
        if isinstance(m, dict) and m.get("method") == method  # pyright: ignore[reportUnknownMemberType]
    ]


def texts(steps: Sequence[Step]) -> list[str | None]:
    return [s.text for s in steps]


async def collect_into(seen: list[Step], stream: Steps) -> None:
    """Iterate ``stream``, keeping each step in ``seen`` (also when iteration then raises)."""
    async for step in stream:
        seen.append(step)


def assert_tables_empty(client: CodexClient) -> None:
    """Nothing is tracked, buffered, awaited or being handled on the client any more."""
    router = client._router  # pyright: ignore[reportPrivateUsage]
    connection = client._connection  # pyright: ignore[reportPrivateUsage]
    assert connection is not None
    assert dict(router.tracked_turns) == {}
    assert dict(router.starting_threads) == {}
    assert router.leftovers() == {}
    assert connection.pending_requests == 0
    assert connection.handling_server_requests == 0


async def tables_empty(client: Driver) -> None:
    """``assert_tables_empty`` on the client's own loop (the facade's runs in another thread)."""
    await client.on_loop(assert_tables_empty)


def user_input(text: str) -> list[UserInput]:
    return [{"type": "text", "text": text, "text_elements": []}]


# ------------------------------------------------------------------------------------------
# 1. chat: live, completed steps only


async def test_chat_yields_the_completed_items_of_the_turn_in_order_and_never_a_delta(
    fake_client: OpenFake,
) -> None:
    script = [
        reasoning(["first, look around"]),
        command("ls", output="notes.txt\n"),
        agent_message("all streamed in pieces", deltas=4),
    ]
    async with fake_client([script]) as (client, control):
        stream = client.chat("what is here?")
        steps = [step async for step in stream]
        assert stream.result.final_text == "all streamed in pieces"
        await tables_empty(client)
    assert [s.item_type for s in steps] == [
        "userMessage",
        "reasoning",
        "commandExecution",
        "agentMessage",
    ]
    assert texts(steps) == [
        "what is here?",
        "first, look around",
        "$ ls\nnotes.txt\n",
        "all streamed in pieces",
    ]
    assert not any(s.partial for s in steps)
    assert len({s.item_id for s in steps}) == 4
    assert steps[2].item["status"] == "completed"
    # The stream handed every step out, so the client kept none of them for the result.
    assert stream.result.steps == ()
    if control.server is not None:
        assert "thread/read" not in methods(control)
        assert "thread/turns/list" not in methods(control)


# ------------------------------------------------------------------------------------------
# 2. chat_once: the final text


async def test_chat_once_takes_the_final_answer_phase_else_the_last_message_from_live_events(
    fake_client: OpenFake,
) -> None:
    phased = [
        agent_message("let me look", phase="commentary"),
        agent_message("the answer is 42", phase="final_answer", deltas=3),
        agent_message("anything else?", phase="commentary"),
    ]
    unphased = [agent_message("a first thought"), agent_message("the last word")]
    async with fake_client([phased, unphased]) as (client, control):
        first = await client.chat_once("question")
        second = await client.chat_once("again", thread_id=first.thread_id)
    assert first.final_text == "the answer is 42"
    assert first.final_text_source == "live"
    assert first.status == "completed"
    assert [s.phase for s in first.steps[1:]] == ["commentary", "final_answer", "commentary"]
    assert second.final_text == "the last word"
    assert second.final_text_source == "live"
    assert second.thread_id == first.thread_id
    assert second.turn_id != first.turn_id
    if control.server is not None:
        assert "thread/read" not in methods(control)
        assert "thread/turns/list" not in methods(control)


async def test_chat_once_takes_the_turn_completed_items_when_no_message_completed_live(
    memory_client: OpenFake,
) -> None:
    summary = {"type": "agentMessage", "id": "msg-summary", "text": "from the summary"}
    async with memory_client([[complete("completed", items=[summary])]]) as (client, control):
        result = await client.chat_once("question")
    assert result.final_text == "from the summary"
    assert result.final_text_source == "turn_completed"
    assert [s.item_type for s in result.steps] == ["userMessage"]
    if control.server is not None:
        assert "thread/read" not in methods(control)
        assert "thread/turns/list" not in methods(control)


# ------------------------------------------------------------------------------------------
# 3. Request timeout


async def test_a_request_the_server_ignores_times_out_and_the_client_stays_usable(
    memory_client: OpenFake,
) -> None:
    async with memory_client() as (client, control):
        await control.ignore_next()
        with pytest.raises(CodexTimeoutError) as info:
            await client.request("thread/list", {}, timeout=0.2)
        assert type(info.value) is CodexTimeoutError
        assert "thread/list" in str(info.value)
        listed = await client.request("thread/list", {})
        assert listed["data"] == []
        result = await client.chat_once("still there?")
        assert result.final_text == DEFAULT_AGENT_TEXT
        await tables_empty(client)


async def test_a_per_call_timeout_overrides_the_clients_request_timeout(
    fake_client: OpenFake,
) -> None:
    # turn/start is answered only once the stall before its response is released.
    script = [before_response(turn_started(), stall())]
    async with fake_client([script]) as (client, control), anyio.create_task_group() as tg:
        client.set_request_timeout(0.2)
        thread_id = (await client.request("thread/start", {}))["thread"]["id"]
        started = when(client, lambda n: n.method == "turn/started")
        answers: list[Any] = []

        async def patient_request() -> None:
            params: TurnStartParams = {"threadId": thread_id, "input": user_input("hi")}
            answers.append(await client.request("turn/start", params, timeout=WAIT))

        tg.start_soon(patient_request)
        await started.wait()  # the server holds the turn/start answer from here on
        await control.ignore_next()
        with pytest.raises(CodexTimeoutError):
            await client.request("thread/list", {})  # the client's 0.2 s applies
        assert answers == []  # waited longer than the client's timeout, still waiting
        await control.release()
        with anyio.fail_after(WAIT):
            await client.request("thread/list", {})  # usable after a timeout
    assert len(answers) == 1
    assert answers[0]["turn"]["status"] == "inProgress"


# ------------------------------------------------------------------------------------------
# 4. Inactivity timeout and continuations


async def test_a_stalled_turn_raises_inactive_and_its_continuation_gets_the_final_text(
    fake_client: OpenFake,
) -> None:
    script = [
        agent_message("working on it", phase="commentary"),
        stall(),
        agent_message("done at last", phase="final_answer"),
    ]
    async with fake_client([script], inactivity_timeout=INACTIVE) as (client, control):
        with pytest.raises(CodexTurnInactiveError) as info:
            await client.chat_once("take your time")
        error = info.value
        continuation = error.continuation
        assert isinstance(continuation, Continuation)
        assert continuation.thread_id
        assert continuation.turn_id
        assert continuation.cursor == 0  # chat_once handed out no step
        assert error.idle_seconds >= INACTIVE / 2
        assert isinstance(error, CodexTimeoutError)
        assert continuation.turn_id in client.target._router.tracked_turns  # pyright: ignore[reportPrivateUsage]
        await control.release()
        result = await client.chat_once(continuation=continuation)
        await tables_empty(client)
    assert result.final_text == "done at last"
    assert result.status == "completed"
    assert (result.thread_id, result.turn_id) == (continuation.thread_id, continuation.turn_id)
    assert texts(result.steps) == ["take your time", "working on it", "done at last"]


async def test_chat_resumed_with_a_continuation_yields_only_the_steps_after_its_cursor(
    memory_client: OpenFake,
) -> None:
    script = [agent_message("before the pause"), stall(), agent_message("after the pause")]
    async with memory_client([script], inactivity_timeout=INACTIVE) as (client, control):
        seen: list[Step] = []
        with pytest.raises(CodexTurnInactiveError) as info:
            await collect_into(seen, client.chat("go"))
        continuation = info.value.continuation
        assert texts(seen) == ["go", "before the pause"]
        assert continuation.cursor == 2
        await control.release()
        stream = client.chat(continuation=continuation)
        rest = [step async for step in stream]
        await tables_empty(client)
    assert texts(rest) == ["after the pause"]
    assert stream.result.final_text == "after the pause"
    assert stream.result.steps == ()  # all were handed out, by one stream or the other


async def test_time_the_caller_spends_on_a_step_is_not_counted_as_the_turns_silence(
    memory_client: OpenFake,
) -> None:
    scripts = [
        [agent_message("first"), stall(), agent_message("second")],
        [stall(), agent_message("meanwhile")],
    ]
    async with (
        memory_client(scripts, inactivity_timeout=INACTIVE) as (client, control),
        anyio.create_task_group() as tg,
    ):
        steps = client.chat("go").__aiter__()
        held = [await steps.__anext__(), await steps.__anext__()]
        assert texts(held) == ["go", "first"]
        # The caller now works on "first" for longer than the inactivity timeout: another
        # turn's own timeout runs out meanwhile, which takes at least that long.
        with pytest.raises(CodexTurnInactiveError):
            await client.chat_once("meanwhile")
        rest: list[Step] = []

        async def drain() -> None:
            rest.extend([step async for step in steps])

        tg.start_soon(drain)
        # The wait for "second" starts its inactivity clock afresh instead of failing at once.
        await anyio.wait_all_tasks_blocked()
        await control.release()
    assert texts(rest) == ["second"]


async def test_inactivity_timeout_none_per_call_waits_past_the_clients_timeout(
    memory_client: OpenFake,
) -> None:
    scripts = [
        [stall(), agent_message("patience pays")],
        [stall(), agent_message("the impatient one")],
    ]
    async with (
        memory_client(scripts, inactivity_timeout=INACTIVE) as (client, control),
        anyio.create_task_group() as tg,
    ):
        results: list[ChatResult] = []
        first_stalled = when(client, is_user_message_done)

        async def patient() -> None:
            results.append(await client.chat_once("wait for it", inactivity_timeout=None))

        tg.start_soon(patient)
        await first_stalled.wait()
        # A second turn, started after the first went silent, gives up after the client's
        # timeout: by then the first has been silent for longer and must still be waiting.
        with pytest.raises(CodexTurnInactiveError) as info:
            await client.chat_once("impatient")
        assert results == []
        await control.release()  # releases both stalled turns
        late = await client.chat_once(continuation=info.value.continuation)
    assert [r.final_text for r in results] == ["patience pays"]
    assert late.final_text == "the impatient one"


# ------------------------------------------------------------------------------------------
# 5. Continuation misuse


async def test_a_continuation_with_new_input_or_options_is_a_value_error_before_sending(
    memory_client: OpenFake,
) -> None:
    script = [stall(), agent_message("still the same turn")]
    async with memory_client([script], inactivity_timeout=INACTIVE) as (client, control):
        with pytest.raises(CodexTurnInactiveError) as info:
            await client.chat_once("start")
        continuation = info.value.continuation
        received = len(control.fake.received)
        misuses: list[dict[str, Any]] = [
            {"text": "more input"},
            {"thread_id": continuation.thread_id},
            {"images": ["https://example.com/a.png"]},
            {"local_images": ["/tmp/a.png"]},
            {"model": "other-model"},
            {"approval_policy": "never"},
        ]
        for misuse in misuses:
            with pytest.raises(ValueError, match="continuation"):
                client.chat(continuation=continuation, **misuse)
            with pytest.raises(ValueError, match="continuation"):
                await client.chat_once(continuation=continuation, **misuse)
        assert len(control.fake.received) == received
        # A per-call inactivity timeout is allowed with a continuation; the turn is intact.
        await control.release()
        result = await client.chat_once(continuation=continuation, inactivity_timeout=WAIT)
    assert result.final_text == "still the same turn"
    assert result.turn_id == continuation.turn_id


async def test_an_unknown_or_spent_continuation_raises_continuation_error(
    fake_client: OpenFake,
) -> None:
    script = [stall(), agent_message("done")]
    async with fake_client([script], inactivity_timeout=INACTIVE) as (client, control):
        with pytest.raises(CodexTurnInactiveError) as info:
            await client.chat_once("start")
        continuation = info.value.continuation
        unknown = Continuation(continuation.thread_id, "no-such-turn", 0)
        with pytest.raises(CodexContinuationError):
            await client.chat_once(continuation=unknown)
        with pytest.raises(CodexContinuationError):
            async for _ in client.chat(continuation=unknown):
                pass
        with pytest.raises(CodexContinuationError):
            await client.cancel(unknown)
        await control.release()
        assert (await client.chat_once(continuation=continuation)).final_text == "done"
        with pytest.raises(CodexContinuationError):
            await client.chat_once(continuation=continuation)
        with pytest.raises(CodexContinuationError):
            await client.cancel(continuation)
        await tables_empty(client)


# ------------------------------------------------------------------------------------------
# 6. cancel


async def test_cancel_interrupts_a_stalled_turn_returns_its_unread_steps_and_frees_the_thread(
    fake_client: OpenFake,
) -> None:
    script = [agent_message("half a thought", deltas=["half a ", "thought"], stall_after=1)]
    async with fake_client([script], inactivity_timeout=INACTIVE) as (client, control):
        seen: list[Step] = []
        with pytest.raises(CodexTurnInactiveError) as info:
            await collect_into(seen, client.chat("think aloud"))
        continuation = info.value.continuation
        assert texts(seen) == ["think aloud"]
        assert continuation.cursor == 1
        cancelled = await client.cancel(continuation)
        await tables_empty(client)
        again = await client.chat_once("next question", thread_id=cancelled.thread_id)
        await tables_empty(client)
    assert cancelled.status == "interrupted"
    assert cancelled.interrupted is True
    assert (cancelled.thread_id, cancelled.turn_id) == (
        continuation.thread_id,
        continuation.turn_id,
    )
    assert [(s.item_type, s.text, s.partial) for s in cancelled.steps] == [
        ("agentMessage", "half a ", True)
    ]
    assert again.status == "completed"
    assert again.final_text == DEFAULT_AGENT_TEXT
    assert again.thread_id == cancelled.thread_id
    if control.server is not None:
        interrupts = sent(control, "turn/interrupt")
        assert interrupts == [{"threadId": continuation.thread_id, "turnId": continuation.turn_id}]


async def test_cancel_of_a_chat_once_continuation_returns_every_step_of_the_turn(
    memory_client: OpenFake,
) -> None:
    script = [agent_message("said before the stall"), stall(), agent_message("never said")]
    async with memory_client([script], inactivity_timeout=INACTIVE) as (client, _control):
        with pytest.raises(CodexTurnInactiveError) as info:
            await client.chat_once("begin")
        cancelled = await client.cancel(info.value.continuation)
        await tables_empty(client)
    assert cancelled.status == "interrupted"
    assert cancelled.interrupted is True
    assert texts(cancelled.steps) == ["begin", "said before the stall"]


async def test_cancel_of_a_turn_that_already_ended_returns_its_status_not_interrupted(
    memory_client: OpenFake,
) -> None:
    script = [stall(), agent_message("finished anyway")]
    async with memory_client([script], inactivity_timeout=INACTIVE) as (client, control):
        with pytest.raises(CodexTurnInactiveError) as info:
            await client.chat_once("begin")
        ended = when(client, is_turn_completed)
        await control.release()
        await ended.wait()
        cancelled = await client.cancel(info.value.continuation)
        await tables_empty(client)
        with pytest.raises(CodexContinuationError):
            await client.cancel(info.value.continuation)
    assert cancelled.status == "completed"
    assert cancelled.interrupted is False
    assert texts(cancelled.steps) == ["begin", "finished anyway"]
    assert "turn/interrupt" not in methods(control)


# ------------------------------------------------------------------------------------------
# 7. Turn outcomes


async def test_a_failed_turn_raises_turn_failed_with_the_servers_message_and_error_info(
    fake_client: OpenFake,
) -> None:
    object_info = {"httpConnectionFailed": {"httpStatusCode": 401}}
    scripts = [
        [agent_message("trying"), fail("upstream said no", codex_error_info="other")],
        [fail("unauthorized upstream", codex_error_info=object_info)],
    ]
    async with fake_client(scripts) as (client, _control):
        with pytest.raises(CodexTurnFailedError) as first:
            await client.chat_once("one")
        await tables_empty(client)
        with pytest.raises(CodexTurnFailedError) as second:
            await client.chat_once("two", thread_id=first.value.thread_id)
        await tables_empty(client)
        recovered = await client.chat_once("three", thread_id=first.value.thread_id)
    assert str(first.value) == "upstream said no"
    assert first.value.message == "upstream said no"
    assert first.value.error_info == "other"
    assert first.value.thread_id
    assert first.value.turn_id
    assert second.value.message == "unauthorized upstream"
    assert second.value.error_info == object_info
    assert second.value.thread_id == first.value.thread_id
    assert second.value.turn_id != first.value.turn_id
    assert recovered.final_text == DEFAULT_AGENT_TEXT


async def test_a_retry_error_does_not_fail_the_turn(fake_client: OpenFake) -> None:
    script = [retry_error("Reconnecting... 1/5"), agent_message("recovered")]
    async with fake_client([script]) as (client, _control):
        result = await client.chat_once("go")
    assert result.status == "completed"
    assert result.final_text == "recovered"


async def test_an_interrupted_turn_is_a_result_with_its_cut_off_message_as_a_partial_step(
    fake_client: OpenFake,
) -> None:
    script = [agent_message("cut off here", deltas=["cut ", "off here"], stall_after=1)]
    async with fake_client([script]) as (client, _control), anyio.create_task_group() as tg:
        results: list[ChatResult] = []
        deltas: list[Notification] = []
        streaming = anyio.Event()

        def on_delta(note: Notification) -> None:
            if note.method == "item/agentMessage/delta":
                deltas.append(note)
                streaming.set()

        client.on_notification(on_delta)

        async def run() -> None:
            results.append(await client.chat_once("speak", inactivity_timeout=None))

        tg.start_soon(run)
        await streaming.wait()
        params = deltas[0].params
        await client.request(
            "turn/interrupt", {"threadId": params["threadId"], "turnId": params["turnId"]}
        )
    [result] = results
    assert result.status == "interrupted"
    assert result.final_text is None  # a partial message is never taken for the answer
    assert [(s.item_type, s.text, s.partial) for s in result.steps] == [
        ("userMessage", "speak", False),
        ("agentMessage", "cut ", True),
    ]


# ------------------------------------------------------------------------------------------
# 8. Approvals and other server requests


def step_of(result: ChatResult, item_type: str) -> Step:
    [step] = [s for s in result.steps if s.item_type == item_type]
    return step


async def test_an_approval_handler_gets_a_typed_command_request_and_accept_runs_it(
    fake_client: OpenFake,
) -> None:
    requests: list[ApprovalRequest] = []

    async def approve(request: ApprovalRequest) -> ApprovalDecision:
        requests.append(request)
        return ApprovalDecision.ACCEPT

    script = [
        command_approval("touch x", reason="needs a file", item_id="call-1", output="made x"),
        agent_message("done"),
    ]
    async with fake_client([script], approval_handler=approve) as (client, control):
        result = await client.chat_once("make a file")
        await tables_empty(client)
    [request] = requests
    assert isinstance(request, CommandApprovalRequest)
    assert (request.thread_id, request.turn_id, request.item_id) == (
        result.thread_id,
        result.turn_id,
        "call-1",
    )
    assert request.command == "touch x"
    assert request.reason == "needs a file"
    assert request.available_decisions == (
        "accept",
        {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch", "x"]}},
        "cancel",
    )
    ran = step_of(result, "commandExecution")
    assert ran.item["status"] == "completed"
    assert ran.text == "$ touch x\nmade x"
    assert result.final_text == "done"
    if control.server is not None:
        assert [d.decision for d in control.fake.decisions] == ["accept"]


async def test_without_an_approval_handler_commands_and_file_changes_are_declined(
    fake_client: OpenFake,
) -> None:
    script = [command_approval("rm -rf /"), file_change_approval("a.txt"), agent_message("ok")]
    async with fake_client([script]) as (client, control):
        result = await client.chat_once("be careful")
    assert result.status == "completed"
    assert step_of(result, "commandExecution").item["status"] == "declined"
    assert step_of(result, "fileChange").item["status"] == "declined"
    if control.server is not None:
        assert [d.decision for d in control.fake.decisions] == ["decline", "decline"]


async def test_decline_as_value_or_wire_string_and_a_raising_handler_all_decline(
    memory_client: OpenFake,
) -> None:
    answers: list[Callable[[], Any]] = [
        lambda: ApprovalDecision.DECLINE,
        lambda: "decline",
        lambda: 1 / 0,
    ]

    async def handler(request: ApprovalRequest) -> Any:
        return answers.pop(0)()

    scripts = [[command_approval(f"step {n}"), agent_message(f"after {n}")] for n in range(3)]
    async with memory_client(scripts, approval_handler=handler) as (client, control):
        results = [await client.chat_once(f"turn {n}") for n in range(3)]
        await tables_empty(client)
    for result in results:
        assert result.status == "completed"
        assert step_of(result, "commandExecution").item["status"] == "declined"
    assert [d.decision for d in control.fake.decisions] == ["decline"] * 3


async def test_accept_for_session_and_a_typed_file_change_request_are_accepted(
    memory_client: OpenFake,
) -> None:
    requests: list[ApprovalRequest] = []

    async def handler(request: ApprovalRequest) -> str:
        requests.append(request)
        return "acceptForSession" if isinstance(request, CommandApprovalRequest) else "accept"

    script = [
        command_approval("make build"),
        file_change_approval("src/a.py", reason="fix it", grant_root="/repo", item_id="fc-1"),
    ]
    async with memory_client([script], approval_handler=handler) as (client, control):
        result = await client.chat_once("build and fix")
    command_request, file_request = requests
    assert isinstance(command_request, CommandApprovalRequest)
    assert isinstance(file_request, FileChangeApprovalRequest)
    assert (file_request.thread_id, file_request.turn_id, file_request.item_id) == (
        result.thread_id,
        result.turn_id,
        "fc-1",
    )
    assert (file_request.reason, file_request.grant_root) == ("fix it", "/repo")
    assert step_of(result, "commandExecution").item["status"] == "completed"
    assert step_of(result, "fileChange").item["status"] == "completed"
    assert [d.decision for d in control.fake.decisions] == ["acceptForSession", "accept"]


async def test_an_approval_answered_cancel_ends_the_turn_interrupted(
    memory_client: OpenFake,
) -> None:
    async def handler(request: ApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision.CANCEL

    script = [command_approval("deploy"), agent_message("never said")]
    async with memory_client([script], approval_handler=handler) as (client, _control):
        result = await client.chat_once("ship it")
        await tables_empty(client)
    assert result.status == "interrupted"
    assert result.final_text is None
    assert [s.item_type for s in result.steps] == ["userMessage", "commandExecution"]
    assert step_of(result, "commandExecution").item["status"] == "declined"


async def test_an_approval_handler_runs_in_its_own_task_and_blocks_no_other_traffic(
    memory_client: OpenFake,
) -> None:
    asked = anyio.Event()
    answer = anyio.Event()

    async def human(request: ApprovalRequest) -> ApprovalDecision:
        asked.set()
        await answer.wait()
        return ApprovalDecision.ACCEPT

    script = [command_approval("slow human"), agent_message("approved and done")]
    async with (
        memory_client([script], approval_handler=human) as (client, _control),
        anyio.create_task_group() as tg,
    ):
        results: list[ChatResult] = []

        async def run() -> None:
            results.append(await client.chat_once("wait for me"))

        tg.start_soon(run)
        await asked.wait()
        # The handler is waiting; requests and other turns still flow.
        assert (await client.request("thread/list", {}))["data"] != []
        other = await client.chat_once("meanwhile")
        assert other.final_text == DEFAULT_AGENT_TEXT
        assert results == []
        answer.set()
    [result] = results
    assert result.final_text == "approved and done"
    assert step_of(result, "commandExecution").item["status"] == "completed"


async def test_server_request_resolved_retires_a_pending_approval_handler(
    memory_client: OpenFake,
) -> None:
    asked: list[ApprovalRequest] = []
    asked_event = anyio.Event()
    late = anyio.Event()
    retired = anyio.Event()

    async def answers_too_late(request: ApprovalRequest) -> ApprovalDecision:
        asked.append(request)
        asked_event.set()
        try:
            await late.wait()  # set only once the server has retired the request
        finally:
            retired.set()
        return ApprovalDecision.ACCEPT

    script = [command_approval("rm important"), agent_message("never said")]
    async with memory_client([script], approval_handler=answers_too_late) as (client, control):
        results: list[ChatResult] = []
        async with anyio.create_task_group() as tg:

            async def run() -> None:
                results.append(await client.chat_once("try it"))

            resolved = when(client, lambda n: n.method == "serverRequest/resolved")
            tg.start_soon(run)
            await asked_event.wait()
            # Interrupting the turn makes the server send serverRequest/resolved for it.
            request = asked[0]
            await client.request(
                "turn/interrupt", {"threadId": request.thread_id, "turnId": request.turn_id}
            )
            await control.wait_turns_completed()
        # The turn has ended and the client waits on the handler no more: an async handler
        # was cancelled, a plain one (the sync API's, in a worker thread) was abandoned.
        await tables_empty(client)
        late.set()  # an abandoned handler answers now; nothing may reach the server
        await retired.wait()
        await client.request("thread/list", {})
        await resolved.wait()  # (listeners of the sync API run a little behind)
        [result] = results
        assert result.status == "interrupted"
        assert control.fake.replies == []  # the retired handler sent no answer
        assert control.fake.decisions == []


async def test_other_server_requests_get_an_error_without_handler_and_its_result_with_one(
    memory_client: OpenFake,
) -> None:
    question = {"questions": [{"id": "q1", "question": "name?"}], "itemId": "ask-1"}
    scripts = [
        [server_request("item/tool/requestUserInput", question), agent_message("no answer")],
        [server_request("item/tool/requestUserInput", question), agent_message("thanks")],
    ]
    handled: list[ServerRequest] = []

    async def answer(request: ServerRequest) -> dict[str, Any]:
        handled.append(request)
        return {"answers": {"q1": {"answers": ["Ada"]}}}

    async with memory_client(scripts) as (client, control):
        unanswered = await client.chat_once("ask me")
        client.set_server_request_handler("item/tool/requestUserInput", answer)
        answered = await client.chat_once("ask me again", thread_id=unanswered.thread_id)
        await tables_empty(client)
    first, second = control.fake.replies
    assert first.has_result is False
    assert first.error["code"] == -32601
    assert "item/tool/requestUserInput" in first.error["message"]
    assert second.has_result is True
    assert second.result == {"answers": {"q1": {"answers": ["Ada"]}}}
    assert [r.params["itemId"] for r in handled] == ["ask-1"]
    assert handled[0].params["turnId"] == answered.turn_id
    assert (unanswered.final_text, answered.final_text) == ("no answer", "thanks")


# ------------------------------------------------------------------------------------------
# 9. Routing


async def test_events_sent_before_the_turn_start_answer_are_kept_for_their_turn(
    fake_client: OpenFake,
) -> None:
    script = [before_response(turn_started(), agent_message("early bird"))]
    async with fake_client([script]) as (client, _control):
        result = await client.chat_once("hurry")
        await tables_empty(client)
    assert result.status == "completed"
    assert result.final_text == "early bird"
    assert texts(result.steps) == ["early bird", "hurry"]


async def test_two_concurrent_turns_on_two_threads_each_see_only_their_own_steps(
    fake_client: OpenFake,
) -> None:
    scripts = [
        [agent_message("one: before"), stall(), agent_message("one: after")],
        [agent_message("two: before"), stall(), agent_message("two: after")],
    ]
    results: dict[str, ChatResult] = {}
    async with fake_client(scripts) as (client, control), anyio.create_task_group() as tg:
        both_stalled = anyio.Event()
        user_messages: list[Notification] = []

        def count(note: Notification) -> None:
            if is_user_message_done(note):
                user_messages.append(note)
                if len(user_messages) == 2:
                    both_stalled.set()

        client.on_notification(count)

        async def run(text: str) -> None:
            results[text] = await client.chat_once(text, inactivity_timeout=None)

        tg.start_soon(run, "alpha")
        tg.start_soon(run, "beta")
        await both_stalled.wait()
        await control.release()
        await control.release()  # a second release covers a turn that had not stalled yet
    alpha, beta = results["alpha"], results["beta"]
    assert alpha.thread_id != beta.thread_id
    assert texts(alpha.steps)[0] == "alpha"
    assert texts(beta.steps)[0] == "beta"
    runs = sorted([texts(alpha.steps)[1:], texts(beta.steps)[1:]], key=str)
    assert runs == [["one: before", "one: after"], ["two: before", "two: after"]]
    assert {s.item_id for s in alpha.steps}.isdisjoint({s.item_id for s in beta.steps})


async def test_events_of_no_tracked_turn_reach_listeners_and_are_not_kept(
    memory_client: OpenFake,
) -> None:
    async with memory_client() as (client, _control):
        seen: list[Notification] = []
        client.on_notification(seen.append)
        ended = when(client, is_turn_completed)
        thread_id = (await client.request("thread/start", {}))["thread"]["id"]
        await client.request("turn/start", {"threadId": thread_id, "input": user_input("raw")})
        await ended.wait()
        await tables_empty(client)
    completed = [n.params["item"] for n in seen if n.method == "item/completed"]
    assert [(i["type"], i.get("text")) for i in completed] == [
        ("userMessage", None),
        ("agentMessage", DEFAULT_AGENT_TEXT),
    ]


async def test_a_turn_abandoned_by_break_is_forgotten(fake_client: OpenFake) -> None:
    script = [agent_message("first"), stall(), agent_message("after the break")]
    async with fake_client([script]) as (client, control):
        async for step in client.chat("start"):
            assert step.text == "start"
            break
        await tables_empty(client)
        ended = when(client, is_turn_completed)
        await control.release()
        await ended.wait()  # the abandoned turn's later events are dropped, not re-tracked
        await tables_empty(client)


# ------------------------------------------------------------------------------------------
# 10. Memory stays bounded


async def test_a_thousand_turns_leave_no_state_behind(memory_client: OpenFake) -> None:
    turns = 1000
    async with memory_client() as (client, control):
        for n in range(turns):
            if n % 2:
                result = await client.chat_once(f"turn {n}")
                assert result.final_text == DEFAULT_AGENT_TEXT
            else:
                async for step in client.chat(f"turn {n}"):
                    assert step.text == f"turn {n}"
                    break
        await control.wait_turns_completed(turns)
        await client.request("thread/loaded/list", {})  # every earlier event has been read
        await tables_empty(client)


async def test_a_stream_far_behind_its_turn_still_gets_every_step_in_order(
    memory_client: OpenFake,
) -> None:
    # More steps than the stream lets go of at once (1,024), all completed before the caller
    # reads past the first: the stream drops what it handed out in chunks while it catches up.
    count = 3000
    script = [agent_message(f"step {n}") for n in range(count)]
    async with memory_client([script]) as (client, _control):
        completed = when(client, is_turn_completed)
        steps = client.chat("go").__aiter__()
        first = await steps.__anext__()
        with anyio.fail_after(WAIT):
            await completed.wait()
        rest = [step async for step in steps]
        await tables_empty(client)
    assert texts([first, *rest]) == ["go", *(f"step {n}" for n in range(count))]


# ------------------------------------------------------------------------------------------
# 11. Lifecycle


async def test_closing_the_client_fails_a_pending_request_and_a_waiting_turn(
    fake_client: OpenFake,
) -> None:
    scripts = [[stall()], [before_response(turn_started(), stall())]]
    failures: dict[str, BaseException] = {}
    both_failed = anyio.Event()

    async def expect_transport_error(name: str, call: Callable[[], Any]) -> None:
        try:
            await call()
        except CodexTransportError as exc:
            failures[name] = exc
            if len(failures) == 2:
                both_failed.set()

    async with anyio.create_task_group() as tg, fake_client(scripts) as (client, _control):
        turn_waiting = when(client, is_user_message_done)
        tg.start_soon(
            expect_transport_error,
            "turn",
            lambda: client.chat_once("stuck", inactivity_timeout=None),
        )
        await turn_waiting.wait()
        thread_id = (await client.request("thread/start", {}))["thread"]["id"]
        request_waiting = when(
            client,
            lambda n: n.method == "turn/started" and n.params.get("threadId") == thread_id,
        )
        params: TurnStartParams = {"threadId": thread_id, "input": user_input("unanswered")}
        tg.start_soon(
            expect_transport_error,
            "request",
            lambda: client.request("turn/start", params, timeout=WAIT),
        )
        await request_waiting.wait()  # the server holds this request's answer

        async def watchdog() -> None:
            with anyio.fail_after(1):
                await both_failed.wait()

        tg.start_soon(watchdog)  # from here on, leaving the client must fail both waiters
    assert sorted(failures) == ["request", "turn"]
    assert all("closed" in str(e) for e in failures.values())


async def test_losing_the_server_mid_turn_fails_the_waiting_chat_once(
    fake_client: OpenFake,
) -> None:
    async with fake_client([[agent_message("last words"), stall()]]) as (client, control):
        failures: list[BaseException] = []
        failed = anyio.Event()
        stalled = when(
            client,
            lambda n: n.method == "item/completed" and n.params["item"].get("text") == "last words",
        )

        async def wait_for_turn() -> None:
            try:
                await client.chat_once("are you there?", inactivity_timeout=None)
            except CodexTransportError as exc:
                failures.append(exc)
                failed.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(wait_for_turn)
            await stalled.wait()
            await control.kill()
            with anyio.fail_after(1):
                await failed.wait()
        assert client.closed
        await tables_empty(client)
    assert len(failures) == 1


async def test_a_disconnect_in_the_script_fails_chat_once_with_a_transport_error(
    memory_client: OpenFake,
) -> None:
    async with memory_client([[agent_message("bye"), disconnect()]]) as (client, _control):
        with anyio.fail_after(1), pytest.raises(CodexTransportError):
            await client.chat_once("hello?", inactivity_timeout=None)
        assert client.closed
        with pytest.raises(CodexTransportError):
            await client.request("thread/list", {})


# ------------------------------------------------------------------------------------------
# 12. Turn options


async def test_turn_options_map_to_turn_start_fields_and_images_to_input_items(
    fake_client: OpenFake,
) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    async with fake_client() as (client, control):
        result = await client.chat_once(
            "look at these",
            images=["https://example.com/cat.png"],
            local_images=[Path("/tmp/dog.png")],
            approval_policy="untrusted",
            sandbox_policy="read-only",
            output_schema=schema,
            cwd="/tmp",
            model="fake-model",
            effort="high",
            summary="concise",
        )
    expected_input: list[dict[str, Any]] = [
        {"type": "text", "text": "look at these", "text_elements": []},
        {"type": "image", "url": "https://example.com/cat.png"},
        {"type": "localImage", "path": "/tmp/dog.png"},
    ]
    user_message = result.steps[0]
    assert user_message.item_type == "userMessage"
    assert user_message.item["content"] == expected_input
    if control.server is not None:
        [turn_start] = sent(control, "turn/start")
        assert turn_start == {
            "threadId": result.thread_id,
            "input": expected_input,
            "approvalPolicy": "untrusted",
            "sandboxPolicy": {"type": "readOnly"},
            "outputSchema": schema,
            "cwd": "/tmp",
            "model": "fake-model",
            "effort": "high",
            "summary": "concise",
        }


async def test_an_unknown_turn_option_is_a_type_error_before_sending(
    memory_client: OpenFake,
) -> None:
    async with memory_client() as (client, control):
        # An answer means the fake has read everything sent before (it may run on another
        # thread's loop, where `initialized` could still be on its way).
        await client.request("thread/loaded/list", {})
        received = len(control.fake.received)
        with pytest.raises(TypeError, match="approvalPolicy"):
            client.chat("hi", approvalPolicy="never")
        with pytest.raises(TypeError, match="temperature"):
            await client.chat_once("hi", temperature=0.2)
        assert len(control.fake.received) == received


async def test_a_thread_not_loaded_on_this_connection_is_resumed_before_turn_start(
    tmp_path: Path, api: Api, anyio_backend: str
) -> None:
    server = FakeAppServer()
    options: dict[str, Any] = {"workdir": tmp_path, "server": server, "api": api}
    options["backend"] = anyio_backend
    async with open_fake("memory", **options) as (first, _control):
        thread_id = (await first.chat_once("on the first connection")).thread_id
    mark = len(server.received)
    async with open_fake("memory", **options) as (second, _control):
        result = await second.chat_once("on the second connection", thread_id=thread_id)
        again = await second.chat_once("once more", thread_id=thread_id)
    later = [
        m for m in server.received[mark:] if m.get("method") in ("thread/resume", "turn/start")
    ]
    assert [(m["method"], m["params"]["threadId"]) for m in later] == [
        ("thread/resume", thread_id),
        ("turn/start", thread_id),
        ("turn/start", thread_id),
    ]
    assert result.thread_id == again.thread_id == thread_id
