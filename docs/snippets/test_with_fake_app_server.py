# tests/test_approvals.py: no codex binary at all; the fake app-server runs in-process.
import anyio
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.models import (
    ApprovalDecision,
    ApprovalRequest,
    CommandApprovalRequest,
)
from codex_app_server_client.testing import FakeAppServer, memory_transport_pair
from codex_app_server_client.testing.fake_server import agent_message, command_approval

pytestmark = pytest.mark.anyio


async def test_my_handler_approves_the_command() -> None:
    server = FakeAppServer()
    server.script_turn(command_approval("make test"), agent_message("Tests pass."))
    asked: list[str | None] = []

    async def approve(request: ApprovalRequest) -> ApprovalDecision:
        assert isinstance(request, CommandApprovalRequest)
        asked.append(request.command)
        return ApprovalDecision.ACCEPT

    client_end, server_end = memory_transport_pair()
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, server_end)  # returns when the client hangs up
        async with CodexClient(client_end, approval_handler=approve) as client:
            result = await client.chat_once("Run the tests")
        assert result.final_text == "Tests pass."
    assert asked == ["make test"]
    assert server.decisions[0].decision == "accept"
