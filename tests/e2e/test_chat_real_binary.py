"""chat, chat_once, inactivity, continuation, cancel, failures and approvals against the real
codex binary over stdio and websocket, with a scripted fake model provider on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import anyio
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexTurnFailedError, CodexTurnInactiveError
from codex_app_server_client.models import ApprovalDecision, ApprovalRequest, CommandApprovalRequest
from codex_app_server_client.testing.fake_provider import (
    FakeResponsesProvider,
    http_error,
    stall,
    text,
    tool_call,
)

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

OpenRealClient = Callable[..., AbstractAsyncContextManager[tuple[CodexClient, int]]]

LIMIT = 60.0
"""Bound on each whole test: codex start-up dominates, a turn takes well under a second."""


async def test_chat_once_returns_the_models_text(
    open_real_client: OpenRealClient, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(text("The answer is 42."))
    with anyio.fail_after(LIMIT):
        async with open_real_client() as (client, _):
            result = await client.chat_once("What is the answer?")
    assert result.final_text == "The answer is 42."
    assert result.status == "completed"
    assert result.final_text_source == "live"
    assert provider.requests[0].input_texts()[-1] == "What is the answer?"


async def test_chat_yields_the_user_message_then_the_agent_message(
    open_real_client: OpenRealClient, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(text("streamed reply", deltas=["str", "eamed ", "reply"]))
    with anyio.fail_after(LIMIT):
        async with open_real_client() as (client, _):
            stream = client.chat("Say something")
            steps = [step async for step in stream]
    kinds = [step.item_type for step in steps]
    assert kinds == ["userMessage", "agentMessage"]
    assert steps[0].text == "Say something"
    assert steps[1].text == "streamed reply"
    assert stream.result.final_text == "streamed reply"


async def test_a_stalled_stream_times_out_and_its_continuation_gets_the_final_text(
    open_real_client: OpenRealClient, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(stall(then=text("finally here")))
    with anyio.fail_after(LIMIT):
        async with open_real_client(inactivity_timeout=1.0) as (client, _):
            with pytest.raises(CodexTurnInactiveError) as info:
                await client.chat_once("Take your time")
            assert info.value.idle_seconds >= 1.0
            assert provider.stalls_reached == 1
            provider.release()
            result = await client.chat_once(continuation=info.value.continuation)
    assert result.final_text == "finally here"
    assert result.turn_id == info.value.continuation.turn_id


async def test_cancel_interrupts_a_stalled_turn_and_the_thread_takes_a_new_turn(
    open_real_client: OpenRealClient, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(stall(), text("second turn works"))
    with anyio.fail_after(LIMIT):
        async with open_real_client(inactivity_timeout=1.0) as (client, _):
            with pytest.raises(CodexTurnInactiveError) as info:
                await client.chat_once("Stall please")
            cancelled = await client.cancel(info.value.continuation, timeout=10)
            after = await client.chat_once("Again", thread_id=cancelled.thread_id)
    assert cancelled.status == "interrupted"
    assert cancelled.interrupted is True
    assert [step.item_type for step in cancelled.steps] == ["userMessage"]
    assert after.final_text == "second turn works"
    assert after.thread_id == cancelled.thread_id


async def test_an_http_500_from_the_provider_raises_turn_failed(
    open_real_client: OpenRealClient, provider: FakeResponsesProvider
) -> None:
    provider.enqueue(http_error(500), text("recovered"))
    with anyio.fail_after(LIMIT):
        async with open_real_client() as (client, _):
            with pytest.raises(CodexTurnFailedError) as info:
                await client.chat_once("Break")
            retry = await client.chat_once("Again", thread_id=info.value.thread_id)
    assert info.value.error_info == "internalServerError"
    assert info.value.message
    assert retry.final_text == "recovered"


def _command_status(steps: tuple[object, ...]) -> list[str]:
    from codex_app_server_client.models import Step

    return [
        str(step.item.get("status"))
        for step in steps
        if isinstance(step, Step) and step.item_type == "commandExecution"
    ]


@pytest.mark.parametrize(
    ("decision", "expected_status"),
    [
        (ApprovalDecision.ACCEPT, "completed"),
        (ApprovalDecision.DECLINE, "declined"),
        (None, "declined"),
    ],
)
async def test_an_approval_request_reaches_the_handler_and_its_decision_decides_the_item(
    open_real_client: OpenRealClient,
    provider: FakeResponsesProvider,
    decision: ApprovalDecision | None,
    expected_status: str,
) -> None:
    provider.enqueue(tool_call("touch approved.txt", call_id="call-1"), text("Done"))
    seen: list[ApprovalRequest] = []

    async def handler(request: ApprovalRequest) -> ApprovalDecision:
        seen.append(request)
        assert decision is not None
        return decision

    with anyio.fail_after(LIMIT):
        async with open_real_client(approval_handler=handler if decision else None) as (
            client,
            _,
        ):
            result = await client.chat_once(
                "Create the file",
                approval_policy="untrusted",
                sandbox_policy="workspace-write",
            )
    assert result.final_text == "Done"
    assert _command_status(result.steps) == [expected_status]
    if decision is not None:
        assert len(seen) == 1
        request = seen[0]
        assert isinstance(request, CommandApprovalRequest)
        assert request.turn_id == result.turn_id
        assert request.command is not None
        assert "touch approved.txt" in request.command
