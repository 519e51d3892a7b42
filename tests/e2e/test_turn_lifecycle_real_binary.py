"""Approval timeouts, the inactivity clock while a handler decides, and model-call retries,
against the real codex binary over stdio and websocket.

What codex 0.163 does when the model provider cannot be reached (measured with a refused
port, see ``refusing_port``): after the ``userMessage`` item, nothing but ``error``
notifications with ``willRetry: true``, ``message: "Reconnecting... waiting for network"``,
``codexErrorInfo: {"responseStreamDisconnected": {"httpStatusCode": null}}`` and
``additionalDetails: "Connection failed: error sending request"``, without end: waits of 5,
10, 20, 40, then 60 s, each after the provider's silent ``request_max_retries`` (about 3 s
with the default 4, none with 0). ``stream_max_retries`` does not bound it; turning off
``[features] unbounded_connection_retries`` does: then the notices read "Reconnecting... 1/N"
and the turn fails after N. A stream error (a dropped stream, an HTTP 500) is retried up to
``stream_max_retries`` with "Reconnecting... k/N" notices either way.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable, Generator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import anyio
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.client import TurnStream
from codex_app_server_client.errors import CodexTurnInactiveError
from codex_app_server_client.models import (
    ApprovalDecision,
    ApprovalRequest,
    ChatResult,
    RetryNotice,
    Step,
)
from codex_app_server_client.protocol import Notification
from codex_app_server_client.testing.codex_home import render_config_toml, write_codex_home
from codex_app_server_client.testing.fake_provider import (
    FakeResponsesProvider,
    drop,
    stall,
    text,
    tool_call,
)

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

OpenRealClient = Callable[..., AbstractAsyncContextManager[tuple[CodexClient, int]]]

LIMIT = 60.0
"""Bound on each whole test: codex start-up, a few seconds of waiting on purpose, CI slack."""

WAITING_FOR_NETWORK = "Reconnecting... waiting for network"
"""The retry message codex 0.163 sends while the provider refuses connections."""


def _command_statuses(steps: tuple[Step, ...]) -> list[str]:
    return [str(step.item.get("status")) for step in steps if step.item_type == "commandExecution"]


def _sdk_warnings(caplog: pytest.LogCaptureFixture, needle: str) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name.startswith("codex_app_server_client")
        and record.levelno == logging.WARNING
        and needle in record.getMessage()
    ]


async def _notice_while_retrying_then_give_up(
    client: CodexClient, stream: TurnStream
) -> tuple[RetryNotice | None, CodexTurnInactiveError]:
    """Iterate ``stream`` in a task; read ``stream.retry`` once the first retry notice is in,
    then let the wait run into its inactivity timeout and return that error."""
    retrying = anyio.Event()

    def on_notification(note: Notification) -> None:
        if note.method == "error" and note.params.get("willRetry") is True:
            retrying.set()

    unsubscribe = client.on_notification(on_notification)
    gave_up: list[CodexTurnInactiveError] = []

    async def consume() -> None:
        try:
            async for _ in stream:
                pass
        except CodexTurnInactiveError as error:
            gave_up.append(error)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(consume)
        await retrying.wait()
        await anyio.wait_all_tasks_blocked()
        notice = stream.retry
    unsubscribe()
    assert gave_up, "the stream ended without CodexTurnInactiveError"
    return notice, gave_up[0]


@pytest.fixture
def refusing_port() -> Generator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, so nothing else can take it
    while the test runs, but never listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def test_provider_options_are_merged_into_the_provider_table() -> None:
    config = render_config_toml(
        provider_url="http://127.0.0.1:9/v1",
        provider_options={"stream_max_retries": 3, "request_max_retries": 1},
        extra_config={"features": {"unbounded_connection_retries": False}},
    )
    provider_table = config.split("[model_providers.mock]", 1)[1]
    assert "stream_max_retries = 3\n" in provider_table
    assert "request_max_retries = 1\n" in provider_table
    assert "stream_max_retries = 0" not in provider_table
    features = config.split("[features]", 1)[1].split("[", 1)[0]
    assert "plugins = false\n" in features
    assert "unbounded_connection_retries = false\n" in features


# ---- approvals: the inactivity clock and approval_timeout -----------------------------------


async def test_a_slow_approval_does_not_count_against_the_inactivity_timeout(
    open_real_client: OpenRealClient, provider: FakeResponsesProvider
) -> None:
    """The handler takes 2 s to decide, the inactivity timeout is 1 s: the turn completes."""
    provider.enqueue(tool_call("touch slow.txt", call_id="call-slow"), text("Done, slowly"))
    asked = anyio.Event()
    decided = anyio.Event()
    decision_took: list[float] = []

    async def handler(request: ApprovalRequest) -> ApprovalDecision:
        asked.set()
        started = anyio.current_time()
        await decided.wait()
        decision_took.append(anyio.current_time() - started)
        return ApprovalDecision.ACCEPT

    async def person_who_takes_two_seconds() -> None:
        await asked.wait()
        await anyio.sleep(2.0)  # the simulated human thinking, not a test synchronisation
        decided.set()

    with anyio.fail_after(LIMIT):
        async with (
            open_real_client(approval_handler=handler, inactivity_timeout=1.0) as (client, _),
            anyio.create_task_group() as people,
        ):
            people.start_soon(person_who_takes_two_seconds)
            result = await client.chat_once(
                "Create the file", approval_policy="untrusted", sandbox_policy="workspace-write"
            )
    assert decision_took
    assert decision_took[0] >= 2.0  # twice the inactivity timeout
    assert result.status == "completed"
    assert result.final_text == "Done, slowly"
    assert _command_statuses(result.steps) == ["completed"]


@pytest.mark.parametrize("where", ["client", "chat_once", "chat"])
async def test_an_approval_undecided_after_approval_timeout_is_declined_and_the_turn_goes_on(
    open_real_client: OpenRealClient, provider: FakeResponsesProvider, where: str
) -> None:
    """``approval_timeout`` on the client, or per call (which wins over the client's)."""
    provider.enqueue(tool_call("touch never.txt", call_id="call-never"), text("Went on without"))
    cancelled: list[str] = []

    async def handler_that_never_decides(request: ApprovalRequest) -> ApprovalDecision:
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(request.item_id)
            raise
        return ApprovalDecision.ACCEPT  # never reached; would make the test fail

    client_timeout = {"client": 1.0, "chat_once": 600.0, "chat": None}[where]
    with anyio.fail_after(LIMIT):
        async with open_real_client(
            approval_handler=handler_that_never_decides,
            approval_timeout=client_timeout,
            inactivity_timeout=30.0,
        ) as (client, _):
            started = anyio.current_time()
            result: ChatResult
            if where == "client":
                result = await client.chat_once(
                    "Create the file", approval_policy="untrusted", sandbox_policy="workspace-write"
                )
                steps = result.steps
            elif where == "chat_once":
                result = await client.chat_once(
                    "Create the file",
                    approval_timeout=1.0,
                    approval_policy="untrusted",
                    sandbox_policy="workspace-write",
                )
                steps = result.steps
            else:
                stream = client.chat(
                    "Create the file",
                    approval_timeout=1.0,
                    approval_policy="untrusted",
                    sandbox_policy="workspace-write",
                )
                steps = tuple([step async for step in stream])
                result = stream.result
            elapsed = anyio.current_time() - started
    assert elapsed >= 1.0  # the handler had its full second
    assert result.status == "completed"
    assert result.final_text == "Went on without"
    assert _command_statuses(steps) == ["declined"]
    assert len(cancelled) == 1
    outputs = provider.requests[-1].function_call_outputs()
    assert "rejected" in outputs["call-never"]


# ---- retries: a provider that refuses connections (codex retries without end) -------------


class TestAProviderThatRefusesConnections:
    """No retry ever succeeds, so the turn makes no progress and the wait gives up."""

    @pytest.fixture
    def codex_env(self, tmp_path: Path, refusing_port: int) -> dict[str, str]:
        # request_max_retries = 0: the first notice comes at once instead of after ~3 s of
        # silent request retries; the next ones 5 and 15 s later.
        return write_codex_home(
            tmp_path / "codex-home",
            provider_url=f"http://127.0.0.1:{refusing_port}/v1",
            provider_options={"request_max_retries": 0},
        )

    async def test_chat_once_gives_up_with_the_last_retry_message_and_a_warning_was_logged(
        self, open_real_client: OpenRealClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING), anyio.fail_after(LIMIT):
            async with open_real_client(inactivity_timeout=3.0) as (client, _):
                with pytest.raises(CodexTurnInactiveError) as info:
                    await client.chat_once("Anyone there?")
                # Interrupting a turn that is between retries ends it at once.
                cancelled = await client.cancel(info.value.continuation, timeout=10)
        assert WAITING_FOR_NETWORK in str(info.value)
        assert info.value.idle_seconds >= 3.0
        assert cancelled.status == "interrupted"
        assert _sdk_warnings(caplog, WAITING_FOR_NETWORK), caplog.text

    async def test_the_stream_shows_the_retry_notice_while_codex_retries(
        self, open_real_client: OpenRealClient
    ) -> None:
        with anyio.fail_after(LIMIT):
            async with open_real_client(inactivity_timeout=3.0) as (client, _):
                stream = client.chat("Anyone there?")
                notice, gave_up = await _notice_while_retrying_then_give_up(client, stream)
                await client.cancel(gave_up.continuation, timeout=10)
        assert isinstance(notice, RetryNotice)
        assert notice.message.startswith(WAITING_FOR_NETWORK)
        assert "Connection failed: error sending request" in notice.message
        assert notice.attempt is None  # this message carries no count
        assert notice.max_attempts is None
        assert notice.error.get("codexErrorInfo") == {
            "responseStreamDisconnected": {"httpStatusCode": None}
        }
        assert notice.message in str(gave_up)


class TestBoundedConnectionRetries:
    """With unbounded connection retries off, the notices count: "Reconnecting... k/N"."""

    MAX = 10

    @pytest.fixture
    def codex_env(self, tmp_path: Path, refusing_port: int) -> dict[str, str]:
        # Waits of about 0.2 s doubling each time: ten attempts take far longer than the test.
        return write_codex_home(
            tmp_path / "codex-home",
            provider_url=f"http://127.0.0.1:{refusing_port}/v1",
            provider_options={"request_max_retries": 0, "stream_max_retries": self.MAX},
            extra_config={"features": {"unbounded_connection_retries": False}},
        )

    async def test_the_retry_notice_carries_the_attempt_and_the_limit(
        self, open_real_client: OpenRealClient
    ) -> None:
        with anyio.fail_after(LIMIT):
            async with open_real_client(inactivity_timeout=2.0) as (client, _):
                stream = client.chat("Anyone there?")
                notice, gave_up = await _notice_while_retrying_then_give_up(client, stream)
                await client.cancel(gave_up.continuation, timeout=10)
        assert notice is not None
        assert notice.message.startswith(f"Reconnecting... 1/{self.MAX} (")
        assert notice.attempt == 1
        assert notice.max_attempts == self.MAX
        # The error names the last notice before the wait gave up, a later attempt.
        last = re.search(rf"Reconnecting\.\.\. (\d+)/{self.MAX}", str(gave_up))
        assert last is not None, str(gave_up)
        assert 1 <= int(last.group(1)) <= self.MAX


# ---- retries: a dropped stream that the retry recovers -------------------------------------


class TestARetryThatRecovers:
    @pytest.fixture
    def codex_env(self, tmp_path: Path, provider: FakeResponsesProvider) -> dict[str, str]:
        return write_codex_home(
            tmp_path / "codex-home",
            provider_url=provider.base_url,
            provider_options={"stream_max_retries": 2},
        )

    async def test_the_retry_notice_shows_while_codex_retries_and_clears_when_the_turn_goes_on(
        self,
        open_real_client: OpenRealClient,
        provider: FakeResponsesProvider,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        # The first model call is dropped mid-stream; the retry stalls until released, so
        # the notice can be read before the turn makes progress.
        provider.enqueue(drop(), stall(then=text("recovered")))
        retrying = anyio.Event()

        def on_notification(note: Notification) -> None:
            if note.method == "error" and note.params.get("willRetry") is True:
                retrying.set()

        seen: list[tuple[str, RetryNotice | None]] = []
        with caplog.at_level(logging.WARNING), anyio.fail_after(LIMIT):
            async with open_real_client() as (client, _):
                client.on_notification(on_notification)
                stream = client.chat("Hello")

                async def consume() -> None:
                    async for step in stream:
                        seen.append((step.item_type, stream.retry))

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(consume)
                    await retrying.wait()
                    await anyio.wait_all_tasks_blocked()
                    while_retrying = stream.retry
                    provider.release()
        assert isinstance(while_retrying, RetryNotice)
        assert while_retrying.message.startswith("Reconnecting... 1/2 (")
        assert "error decoding response body" in while_retrying.message
        assert while_retrying.attempt == 1
        assert while_retrying.max_attempts == 2
        assert seen == [("userMessage", None), ("agentMessage", None)]
        assert stream.retry is None
        assert stream.result.status == "completed"
        assert stream.result.final_text == "recovered"
        assert len(provider.requests) == 2
        assert _sdk_warnings(caplog, "Reconnecting... 1/2"), caplog.text
