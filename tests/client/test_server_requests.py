"""Every server request the app-server can send is typed, answered, and fails closed.

Two levels: the dispatcher (``answer_server_request``) called directly with realistic params
(from the 0.163.0 schema and the real-wire transcripts), and end to end through a
``CodexClient`` over an in-memory transport with a hand-played server that sends the request
JSON and reads the client's reply JSON.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, cast

import anyio
import orjson
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client._connection import INTERNAL_ERROR
from codex_app_server_client._server_requests import (
    KNOWN_METHODS,
    answer_server_request,
    fallback_answer,
    typed_server_request,
)
from codex_app_server_client.errors import CodexServerRequestError as ServerRequestError
from codex_app_server_client.models import (
    ApprovalDecision,
    ApprovalRequest,
    AttestationRequest,
    AuthTokenRefreshRequest,
    AuthTokens,
    CommandApprovalRequest,
    DynamicToolCallRequest,
    DynamicToolResult,
    ElicitationAction,
    FileChangeApprovalRequest,
    LegacyExecApprovalRequest,
    LegacyPatchApprovalRequest,
    McpElicitationRequest,
    McpElicitationResponse,
    PermissionsApprovalRequest,
    PermissionsGrant,
    ReviewDecision,
    ServerRequestHandlers,
    UserInputOption,
    UserInputRequest,
)
from codex_app_server_client.protocol import ServerRequest
from codex_app_server_client.testing import MemoryTransport, memory_transport_pair

pytestmark = pytest.mark.anyio

WAIT = 5.0

THREAD = "01a20d12-0943-7ad1-8056-77a52535d82e"
TURN = "01a20d12-095c-7c31-9895-fd03b3be3e32"

# Params as the real server sends them (transcripts for the approvals; the 0.163.0 schema for
# the rest, with every field it defines).
COMMAND_APPROVAL: dict[str, Any] = {
    "kind": "command",
    "threadId": THREAD,
    "turnId": TURN,
    "itemId": "call_mock_1",
    "startedAtMs": 1795515615686,
    "environmentId": "local",
    "command": "/bin/bash -lc \"sh -c 'echo approval-scenario-ran'\"",
    "cwd": "/work",
    "commandActions": [{"type": "unknown", "command": "sh -c 'echo approval-scenario-ran'"}],
    "proposedExecpolicyAmendment": ["sh", "-c", "echo approval-scenario-ran"],
    "availableDecisions": [
        "accept",
        {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["sh", "-c", "echo x"]}},
        "cancel",
    ],
}
FILE_CHANGE_APPROVAL: dict[str, Any] = {
    "threadId": THREAD,
    "turnId": TURN,
    "itemId": "call_mock_1",
    "startedAtMs": 1795515621190,
    "reason": None,
    "grantRoot": None,
}
PERMISSIONS_APPROVAL: dict[str, Any] = {
    "threadId": THREAD,
    "turnId": TURN,
    "itemId": "call_perm_1",
    "startedAtMs": 1795515621190,
    "cwd": "/work",
    "environmentId": None,
    "reason": "needs to fetch the package index",
    "permissions": {"network": {"enabled": True}, "fileSystem": {"write": ["/work/out"]}},
}
USER_INPUT: dict[str, Any] = {
    "threadId": THREAD,
    "turnId": TURN,
    "itemId": "call_ask_1",
    "isBlocking": True,
    "autoResolutionMs": None,
    "questions": [
        {
            "id": "colour",
            "header": "Colour",
            "question": "Which colour should the button be?",
            "isOther": True,
            "isSecret": False,
            "options": [
                {"label": "red", "description": "warm"},
                {"label": "blue", "description": "cool"},
            ],
        },
        {"id": "token", "header": "Token", "question": "Your API token?", "isSecret": True},
    ],
}
MCP_ELICITATION: dict[str, Any] = {
    "threadId": THREAD,
    "turnId": TURN,
    "serverName": "docs",
    "mode": "form",
    "message": "Which project should I search?",
    "requestedSchema": {
        "type": "object",
        "properties": {"project": {"type": "string", "title": "Project"}},
        "required": ["project"],
    },
    "_meta": None,
}
DYNAMIC_TOOL_CALL: dict[str, Any] = {
    "threadId": THREAD,
    "turnId": TURN,
    "callId": "call_tool_1",
    "namespace": None,
    "tool": "lookup_ticket",
    "arguments": {"id": "T-42"},
}
AUTH_TOKEN_REFRESH: dict[str, Any] = {"reason": "unauthorized", "previousAccountId": "acct_1"}
ATTESTATION: dict[str, Any] = {}
LEGACY_EXEC_APPROVAL: dict[str, Any] = {
    "conversationId": THREAD,
    "callId": "call_v1_1",
    "approvalId": None,
    "command": ["touch", "x"],
    "cwd": "/work",
    "parsedCmd": [{"type": "unknown", "cmd": "touch x"}],
    "reason": None,
}
LEGACY_PATCH_APPROVAL: dict[str, Any] = {
    "conversationId": THREAD,
    "callId": "call_v1_2",
    "fileChanges": {"/work/hello.txt": {"type": "add", "content": "hello\n"}},
    "reason": "create hello.txt",
    "grantRoot": None,
}

PARAMS: dict[str, dict[str, Any]] = {
    "item/commandExecution/requestApproval": COMMAND_APPROVAL,
    "item/fileChange/requestApproval": FILE_CHANGE_APPROVAL,
    "item/permissions/requestApproval": PERMISSIONS_APPROVAL,
    "item/tool/requestUserInput": USER_INPUT,
    "mcpServer/elicitation/request": MCP_ELICITATION,
    "item/tool/call": DYNAMIC_TOOL_CALL,
    "account/chatgptAuthTokens/refresh": AUTH_TOKEN_REFRESH,
    "attestation/generate": ATTESTATION,
    "execCommandApproval": LEGACY_EXEC_APPROVAL,
    "applyPatchApproval": LEGACY_PATCH_APPROVAL,
}


def request(
    method: str, params: dict[str, Any] | None = None, request_id: int = 0
) -> ServerRequest:
    return ServerRequest(request_id, method, PARAMS[method] if params is None else params)


async def answer(method: str, handlers: ServerRequestHandlers | None = None, **kw: Any) -> Any:
    with anyio.fail_after(WAIT):
        return await answer_server_request(request(method), handlers, **kw)


async def error_of(
    method: str, handlers: ServerRequestHandlers | None = None
) -> ServerRequestError:
    with pytest.raises(ServerRequestError) as caught, anyio.fail_after(WAIT):
        await answer_server_request(request(method), handlers)
    return caught.value


# ------------------------------------------------------------------------------------------
# Defaults: no handler, fail closed


DEFAULT_RESULTS: dict[str, Any] = {
    "item/commandExecution/requestApproval": {"decision": "decline"},
    "item/fileChange/requestApproval": {"decision": "decline"},
    "item/permissions/requestApproval": {"permissions": {}, "scope": "turn"},
}
ERROR_DEFAULTS = (
    "item/tool/requestUserInput",
    "account/chatgptAuthTokens/refresh",
    "mcpServer/elicitation/request",
    "item/tool/call",
)


@pytest.mark.parametrize("method", sorted(DEFAULT_RESULTS))
async def test_without_a_handler_a_request_gets_its_fail_closed_answer(method: str) -> None:
    assert await answer(method) == DEFAULT_RESULTS[method]
    assert await answer(method, ServerRequestHandlers()) == DEFAULT_RESULTS[method]


@pytest.mark.parametrize("method", ["execCommandApproval", "applyPatchApproval"])
async def test_without_a_handler_a_legacy_approval_is_denied_in_the_schema_shape(
    method: str,
) -> None:
    result = await answer(method)
    assert set(result) == {"decision"}
    assert set(result["decision"]) == {"denied"}
    assert isinstance(result["decision"]["denied"]["rejection"], str)


@pytest.mark.parametrize("method", [*ERROR_DEFAULTS, "attestation/generate"])
async def test_without_a_handler_a_request_that_needs_real_data_gets_an_error_reply(
    method: str,
) -> None:
    error = await error_of(method)
    assert error.code == -32601
    assert method in error.message


async def test_an_unknown_method_gets_a_method_not_found_error_whatever_the_handlers() -> None:
    handlers = ServerRequestHandlers(command_approval=accept_all)
    with pytest.raises(ServerRequestError) as caught, anyio.fail_after(WAIT):
        await answer_server_request(ServerRequest(3, "item/future/ask", {"x": 1}), handlers)
    assert caught.value.code == -32601
    assert "item/future/ask" in caught.value.message


# ------------------------------------------------------------------------------------------
# With handlers: typed request in, typed answer out


async def accept_all(_request: object) -> ApprovalDecision:
    return ApprovalDecision.ACCEPT


async def test_a_command_approval_handler_gets_the_typed_request_and_its_decision_is_sent() -> None:
    seen: list[CommandApprovalRequest] = []

    async def approve(req: CommandApprovalRequest) -> ApprovalDecision:
        seen.append(req)
        return ApprovalDecision.ACCEPT_FOR_SESSION

    handlers = ServerRequestHandlers(command_approval=approve)
    result = await answer("item/commandExecution/requestApproval", handlers)
    assert result == {"decision": "acceptForSession"}
    [req] = seen
    assert (req.thread_id, req.turn_id, req.item_id) == (THREAD, TURN, "call_mock_1")
    assert req.command == COMMAND_APPROVAL["command"]
    assert req.cwd == "/work"
    assert req.available_decisions[0] == "accept"
    assert req.params == COMMAND_APPROVAL


async def test_a_command_approval_may_answer_a_decision_object_such_as_an_amendment() -> None:
    amendment = {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["sh", "-c"]}}

    async def approve(_req: CommandApprovalRequest) -> dict[str, Any]:
        return amendment

    handlers = ServerRequestHandlers(command_approval=approve)
    result = await answer("item/commandExecution/requestApproval", handlers)
    assert result == {"decision": amendment}


async def test_a_file_change_handler_answers_with_a_wire_string() -> None:
    seen: list[FileChangeApprovalRequest] = []

    async def approve(req: FileChangeApprovalRequest) -> str:
        seen.append(req)
        return "accept"

    handlers = ServerRequestHandlers(file_change_approval=approve)
    assert await answer("item/fileChange/requestApproval", handlers) == {"decision": "accept"}
    assert seen[0].item_id == "call_mock_1"
    assert seen[0].grant_root is None


async def test_the_approval_handler_shortcut_answers_both_approval_kinds() -> None:
    seen: list[ApprovalRequest] = []

    async def shortcut(req: ApprovalRequest) -> ApprovalDecision:
        seen.append(req)
        return ApprovalDecision.ACCEPT

    for method in ("item/commandExecution/requestApproval", "item/fileChange/requestApproval"):
        assert await answer(method, None, approval_handler=shortcut) == {"decision": "accept"}
    assert [type(r) for r in seen] == [CommandApprovalRequest, FileChangeApprovalRequest]


async def test_a_specific_approval_slot_wins_over_the_approval_handler_shortcut() -> None:
    async def shortcut(_req: ApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision.ACCEPT

    async def cancel(_req: CommandApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision.CANCEL

    handlers = ServerRequestHandlers(command_approval=cancel)
    result = await answer(
        "item/commandExecution/requestApproval", handlers, approval_handler=shortcut
    )
    assert result == {"decision": "cancel"}
    # The shortcut still answers the kind that has no specific slot.
    result = await answer("item/fileChange/requestApproval", handlers, approval_handler=shortcut)
    assert result == {"decision": "accept"}


async def test_a_permissions_handler_grants_a_subset_for_the_session() -> None:
    seen: list[PermissionsApprovalRequest] = []

    async def grant(req: PermissionsApprovalRequest) -> PermissionsGrant:
        seen.append(req)
        return PermissionsGrant({"network": {"enabled": True}}, scope="session")

    handlers = ServerRequestHandlers(permissions_approval=grant)
    result = await answer("item/permissions/requestApproval", handlers)
    assert result == {"permissions": {"network": {"enabled": True}}, "scope": "session"}
    [req] = seen
    assert req.cwd == "/work"
    assert req.reason == "needs to fetch the package index"
    assert req.permissions["network"] == {"enabled": True}


async def test_a_permissions_handler_may_return_the_raw_result() -> None:
    async def grant(_req: PermissionsApprovalRequest) -> dict[str, Any]:
        return {"permissions": {}, "scope": "turn", "strictAutoReview": True}

    handlers = ServerRequestHandlers(permissions_approval=grant)
    result = await answer("item/permissions/requestApproval", handlers)
    assert result == {"permissions": {}, "scope": "turn", "strictAutoReview": True}


async def test_a_user_input_handler_gets_typed_questions_and_its_answers_are_wrapped() -> None:
    seen: list[UserInputRequest] = []

    async def ask(req: UserInputRequest) -> dict[str, Any]:
        seen.append(req)
        return {"colour": "blue", "token": ["sk-1", "sk-2"]}

    handlers = ServerRequestHandlers(user_input=ask)
    result = await answer("item/tool/requestUserInput", handlers)
    assert result == {
        "answers": {"colour": {"answers": ["blue"]}, "token": {"answers": ["sk-1", "sk-2"]}}
    }
    [req] = seen
    assert req.is_blocking is True
    colour, token = req.questions
    assert colour.id == "colour"
    assert colour.is_other is True
    assert colour.options == (UserInputOption("red", "warm"), UserInputOption("blue", "cool"))
    assert token.is_secret is True
    assert token.options == ()


async def test_a_user_input_handler_may_return_the_raw_result() -> None:
    raw = {"answers": {"colour": {"answers": ["red"]}}}

    async def ask(_req: UserInputRequest) -> dict[str, Any]:
        return raw

    handlers = ServerRequestHandlers(user_input=ask)
    assert await answer("item/tool/requestUserInput", handlers) == raw


async def test_an_elicitation_handler_accepts_with_content() -> None:
    seen: list[McpElicitationRequest] = []

    async def elicit(req: McpElicitationRequest) -> McpElicitationResponse:
        seen.append(req)
        return McpElicitationResponse(ElicitationAction.ACCEPT, content={"project": "sdk"})

    handlers = ServerRequestHandlers(mcp_elicitation=elicit)
    result = await answer("mcpServer/elicitation/request", handlers)
    assert result == {"action": "accept", "content": {"project": "sdk"}}
    [req] = seen
    assert (req.server_name, req.mode, req.turn_id) == ("docs", "form", TURN)
    assert req.message == "Which project should I search?"
    assert req.requested_schema["required"] == ["project"]
    assert req.url is None


async def test_an_elicitation_handler_may_answer_just_an_action() -> None:
    async def elicit(_req: McpElicitationRequest) -> str:
        return "cancel"

    handlers = ServerRequestHandlers(mcp_elicitation=elicit)
    assert await answer("mcpServer/elicitation/request", handlers) == {"action": "cancel"}


async def test_a_dynamic_tool_handler_gets_the_arguments_and_its_result_is_sent() -> None:
    seen: list[DynamicToolCallRequest] = []

    async def call(req: DynamicToolCallRequest) -> DynamicToolResult:
        seen.append(req)
        return DynamicToolResult.text("ticket T-42 is open")

    handlers = ServerRequestHandlers(dynamic_tool_call=call)
    result = await answer("item/tool/call", handlers)
    assert result == {
        "contentItems": [{"type": "inputText", "text": "ticket T-42 is open"}],
        "success": True,
    }
    [req] = seen
    assert (req.tool, req.call_id, req.namespace) == ("lookup_ticket", "call_tool_1", None)
    assert req.arguments == {"id": "T-42"}


async def test_a_dynamic_tool_handler_may_return_a_plain_string_or_the_raw_result() -> None:
    async def text(_req: DynamicToolCallRequest) -> str:
        return "done"

    raw = {"contentItems": [{"type": "inputImage", "imageUrl": "data:,"}], "success": False}

    async def image(_req: DynamicToolCallRequest) -> dict[str, Any]:
        return raw

    result = await answer("item/tool/call", ServerRequestHandlers(dynamic_tool_call=text))
    assert result == {"contentItems": [{"type": "inputText", "text": "done"}], "success": True}
    assert await answer("item/tool/call", ServerRequestHandlers(dynamic_tool_call=image)) == raw


async def test_an_auth_refresh_handler_returns_tokens_in_wire_shape() -> None:
    seen: list[AuthTokenRefreshRequest] = []

    async def refresh(req: AuthTokenRefreshRequest) -> AuthTokens:
        seen.append(req)
        return AuthTokens("at-1", "acct_1", chatgpt_plan_type="pro")

    handlers = ServerRequestHandlers(auth_token_refresh=refresh)
    result = await answer("account/chatgptAuthTokens/refresh", handlers)
    assert result == {"accessToken": "at-1", "chatgptAccountId": "acct_1", "chatgptPlanType": "pro"}
    assert (seen[0].reason, seen[0].previous_account_id) == ("unauthorized", "acct_1")


async def test_an_attestation_handler_returns_the_token() -> None:
    seen: list[AttestationRequest] = []

    async def attest(req: AttestationRequest) -> str:
        seen.append(req)
        return "opaque-token"

    handlers = ServerRequestHandlers(attestation=attest)
    assert await answer("attestation/generate", handlers) == {"token": "opaque-token"}
    assert seen[0].params == {}


async def test_a_legacy_exec_approval_handler_gets_the_argv_and_answers_snake_case() -> None:
    seen: list[LegacyExecApprovalRequest] = []

    async def approve(req: LegacyExecApprovalRequest) -> ReviewDecision:
        seen.append(req)
        return ReviewDecision.APPROVED_FOR_SESSION

    handlers = ServerRequestHandlers(legacy_exec_approval=approve)
    result = await answer("execCommandApproval", handlers)
    assert result == {"decision": "approved_for_session"}
    [req] = seen
    assert (req.thread_id, req.call_id, req.command, req.cwd) == (
        THREAD,
        "call_v1_1",
        ("touch", "x"),
        "/work",
    )


@pytest.mark.parametrize(
    ("decision", "wire"),
    [
        (ReviewDecision.APPROVED, "approved"),
        (ReviewDecision.ABORT, "abort"),
        (ApprovalDecision.ACCEPT, "approved"),
        (ApprovalDecision.CANCEL, "abort"),
        ("timed_out", "timed_out"),
    ],
)
async def test_a_legacy_patch_approval_maps_decisions_to_review_decisions(
    decision: str, wire: str
) -> None:
    seen: list[LegacyPatchApprovalRequest] = []

    async def approve(req: LegacyPatchApprovalRequest) -> str:
        seen.append(req)
        return decision

    handlers = ServerRequestHandlers(legacy_patch_approval=approve)
    assert await answer("applyPatchApproval", handlers) == {"decision": wire}
    assert list(seen[0].file_changes) == ["/work/hello.txt"]
    assert seen[0].reason == "create hello.txt"


@pytest.mark.parametrize("decision", [ReviewDecision.DENIED, ApprovalDecision.DECLINE])
async def test_a_legacy_denial_is_sent_in_the_object_form_the_schema_requires(
    decision: str,
) -> None:
    async def deny(_req: LegacyPatchApprovalRequest) -> str:
        return decision

    handlers = ServerRequestHandlers(legacy_patch_approval=deny)
    result = await answer("applyPatchApproval", handlers)
    assert set(result["decision"]) == {"denied"}
    assert isinstance(result["decision"]["denied"]["rejection"], str)


# ------------------------------------------------------------------------------------------
# Handlers that fail or answer nonsense get the default, logged


def failing(_req: Any) -> Awaitable[Any]:
    async def boom() -> Any:
        raise RuntimeError("the UI crashed")

    return boom()


def returning(value: Any) -> Callable[[Any], Awaitable[Any]]:
    async def handler(_req: Any) -> Any:
        return value

    return handler


MALFORMED: dict[str, Any] = {
    "command_approval": "yes please",
    "file_change_approval": {"acceptWithExecpolicyAmendment": {}},
    "permissions_approval": PermissionsGrant({}, scope="forever"),  # pyright: ignore[reportArgumentType]
    "user_input": {"colour": 3},
    "mcp_elicitation": "maybe",
    "dynamic_tool_call": {"contentItems": "text", "success": True},
    "auth_token_refresh": {"accessToken": "at"},
    "attestation": 42,
    "legacy_exec_approval": "ok",
    "legacy_patch_approval": None,
}
SLOT_METHODS: dict[str, str] = {
    "command_approval": "item/commandExecution/requestApproval",
    "file_change_approval": "item/fileChange/requestApproval",
    "permissions_approval": "item/permissions/requestApproval",
    "user_input": "item/tool/requestUserInput",
    "mcp_elicitation": "mcpServer/elicitation/request",
    "dynamic_tool_call": "item/tool/call",
    "auth_token_refresh": "account/chatgptAuthTokens/refresh",
    "attestation": "attestation/generate",
    "legacy_exec_approval": "execCommandApproval",
    "legacy_patch_approval": "applyPatchApproval",
}


async def safe_default(method: str) -> tuple[str, Any]:
    """The default answer to ``method`` with no handler: ``("result", x)`` or ``("error", -)``."""
    try:
        return "result", await answer(method)
    except ServerRequestError:
        return "error", None


async def outcome(method: str, handlers: ServerRequestHandlers) -> tuple[str, Any]:
    try:
        return "result", await answer(method, handlers)
    except ServerRequestError as exc:
        return "error", exc.code


def without_explanations(kind: tuple[str, Any]) -> tuple[str, Any]:
    """Drop the free text of a default (it says why), keeping its shape and verdict."""
    tag, value = kind
    if tag == "error":
        return tag, None
    result: dict[str, Any] = value
    if "contentItems" in result:
        return tag, {"success": result["success"]}
    decision: Any = result.get("decision")
    if isinstance(decision, dict):
        return tag, {"decision": sorted(cast("dict[str, Any]", decision))}
    return tag, result


@pytest.mark.parametrize("slot", sorted(SLOT_METHODS))
async def test_a_handler_that_raises_gets_the_safe_default_and_an_error_log(
    slot: str, caplog: pytest.LogCaptureFixture
) -> None:
    method = SLOT_METHODS[slot]
    handlers = ServerRequestHandlers(**{slot: failing})
    with caplog.at_level(logging.ERROR, "codex_app_server_client.server_requests"):
        got = await outcome(method, handlers)
    assert without_explanations(got) == without_explanations(await safe_default(method))
    assert got[0] == "result" or got[1] == -32603
    assert any("raised" in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.parametrize("slot", sorted(SLOT_METHODS))
async def test_a_handler_answer_of_the_wrong_shape_gets_the_safe_default_and_an_error_log(
    slot: str, caplog: pytest.LogCaptureFixture
) -> None:
    method = SLOT_METHODS[slot]
    handlers = ServerRequestHandlers(**{slot: returning(MALFORMED[slot])})
    with caplog.at_level(logging.ERROR, "codex_app_server_client.server_requests"):
        got = await outcome(method, handlers)
    assert without_explanations(got) == without_explanations(await safe_default(method))
    assert got[0] == "result" or got[1] == -32603
    assert any("does not fit" in r.getMessage() for r in caplog.records)


async def test_a_handler_may_raise_server_request_error_to_send_that_error() -> None:
    async def refuse(_req: UserInputRequest) -> dict[str, Any]:
        raise ServerRequestError(-32000, "the user closed the dialog")

    handlers = ServerRequestHandlers(user_input=refuse)
    error = await error_of("item/tool/requestUserInput", handlers)
    assert (error.code, error.message) == (-32000, "the user closed the dialog")


# ------------------------------------------------------------------------------------------
# Leniency and turn bookkeeping


@pytest.mark.parametrize("method", sorted(KNOWN_METHODS))
async def test_empty_or_ill_typed_params_build_a_typed_request_and_get_the_default(
    method: str,
) -> None:
    odd: dict[str, Any] = {"threadId": 5, "turnId": None, "questions": "?", "permissions": []}
    for params in ({}, odd):
        typed = typed_server_request(method, params)
        assert typed is not None
        assert typed.method == method
        with anyio.fail_after(WAIT):
            with suppress(ServerRequestError):
                await answer_server_request(request(method, params), None)


def test_every_server_request_of_the_schema_is_known() -> None:
    assert set(PARAMS) == KNOWN_METHODS


def test_an_undecided_approval_is_declined_after_the_timeout_and_cancelled_with_its_turn() -> None:
    for method in ("item/commandExecution/requestApproval", "item/fileChange/requestApproval"):
        assert fallback_answer(request(method), False) == {"decision": "decline"}
        assert fallback_answer(request(method), True) == {"decision": "cancel"}
    assert fallback_answer(request("execCommandApproval"), True) == {"decision": "abort"}
    assert "denied" in fallback_answer(request("execCommandApproval"), False)["decision"]
    assert fallback_answer(request("item/permissions/requestApproval"), True)["permissions"] == {}


def test_an_undecided_request_of_another_kind_gets_an_error_reply_naming_the_reason() -> None:
    with pytest.raises(ServerRequestError, match="approval_timeout") as timed_out:
        fallback_answer(request("item/tool/requestUserInput"), False)
    assert timed_out.value.code == INTERNAL_ERROR
    with pytest.raises(ServerRequestError, match="cancelled"):
        fallback_answer(request("item/tool/requestUserInput"), True)
    with pytest.raises(ServerRequestError, match="cancelled"):
        fallback_answer(ServerRequest(9, "some/futureRequest", {}), True)


# ------------------------------------------------------------------------------------------
# End to end: a CodexClient answers a hand-played server


async def recv(server: MemoryTransport) -> dict[str, Any]:
    return orjson.loads(await server.receive())


async def send(server: MemoryTransport, message: dict[str, Any]) -> None:
    await server.send(orjson.dumps(message))


async def handshake(server: MemoryTransport) -> None:
    init = await recv(server)
    assert init["method"] == "initialize"
    await send(server, {"id": init["id"], "result": {"userAgent": "fake/1.0", "codexHome": "/h"}})
    assert await recv(server) == {"method": "initialized"}


@asynccontextmanager
async def connected(**kwargs: Any) -> AsyncGenerator[tuple[CodexClient, MemoryTransport]]:
    client_end, server = memory_transport_pair()
    try:
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(handshake, server)
                async with CodexClient(client_end, **kwargs) as client:
                    yield client, server
    finally:
        await server.aclose()
        await client_end.aclose()  # also when the client could not be built


async def ask(server: MemoryTransport, method: str, request_id: int = 41) -> dict[str, Any]:
    """Send the server request ``method`` with its realistic params; return the reply."""
    await send(server, {"id": request_id, "method": method, "params": PARAMS[method]})
    reply = await recv(server)
    assert reply["id"] == request_id
    return reply


E2E_DEFAULTS: dict[str, Any] = {
    "item/commandExecution/requestApproval": {"decision": "decline"},
    "item/fileChange/requestApproval": {"decision": "decline"},
}


async def test_a_client_without_handlers_declines_approvals_on_the_wire() -> None:
    async with connected() as (_client, server):
        for index, (method, expected) in enumerate(E2E_DEFAULTS.items()):
            assert await ask(server, method, index) == {"id": index, "result": expected}


@pytest.mark.parametrize(
    "method", ["item/tool/requestUserInput", "mcpServer/elicitation/request", "item/tool/call"]
)
async def test_a_client_without_handlers_answers_other_requests_with_an_error_reply(
    method: str,
) -> None:
    async with connected() as (_client, server):
        reply = await ask(server, method)
    assert "result" not in reply
    assert reply["error"]["code"] == -32601


async def test_a_client_answers_an_unknown_server_request_with_method_not_found() -> None:
    async with connected(server_request_handlers=ServerRequestHandlers()) as (_client, server):
        await send(server, {"id": 9, "method": "item/future/ask", "params": {"threadId": THREAD}})
        reply = await recv(server)
    assert reply["id"] == 9
    assert reply["error"]["code"] == -32601


async def test_a_client_passes_each_request_to_its_handler_and_sends_the_answer() -> None:
    async def approve(_req: CommandApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision.ACCEPT

    async def approve_files(_req: FileChangeApprovalRequest) -> str:
        return "acceptForSession"

    async def ask_user(req: UserInputRequest) -> dict[str, str]:
        return {q.id: "blue" for q in req.questions}

    async def elicit(_req: McpElicitationRequest) -> McpElicitationResponse:
        return McpElicitationResponse("accept", content={"project": "sdk"})

    async def call(req: DynamicToolCallRequest) -> str:
        return f"{req.tool} ok"

    handlers = ServerRequestHandlers(
        command_approval=approve,
        file_change_approval=approve_files,
        user_input=ask_user,
        mcp_elicitation=elicit,
        dynamic_tool_call=call,
    )
    expected: dict[str, Any] = {
        "item/commandExecution/requestApproval": {"decision": "accept"},
        "item/fileChange/requestApproval": {"decision": "acceptForSession"},
        "item/tool/requestUserInput": {
            "answers": {"colour": {"answers": ["blue"]}, "token": {"answers": ["blue"]}}
        },
        "mcpServer/elicitation/request": {"action": "accept", "content": {"project": "sdk"}},
        "item/tool/call": {
            "contentItems": [{"type": "inputText", "text": "lookup_ticket ok"}],
            "success": True,
        },
    }
    async with connected(server_request_handlers=handlers) as (_client, server):
        for index, (method, result) in enumerate(expected.items()):
            assert await ask(server, method, index) == {"id": index, "result": result}


async def test_the_client_approval_handler_still_answers_approvals_on_the_wire() -> None:
    async def shortcut(req: ApprovalRequest) -> ApprovalDecision:
        if isinstance(req, CommandApprovalRequest):
            return ApprovalDecision.ACCEPT
        return ApprovalDecision.CANCEL

    async with connected(approval_handler=shortcut) as (_client, server):
        command = await ask(server, "item/commandExecution/requestApproval", 1)
        files = await ask(server, "item/fileChange/requestApproval", 2)
    assert command == {"id": 1, "result": {"decision": "accept"}}
    assert files == {"id": 2, "result": {"decision": "cancel"}}


async def test_a_raw_handler_for_a_method_wins_over_the_typed_handlers() -> None:
    async def typed(_req: DynamicToolCallRequest) -> str:
        return "typed"

    async def raw(req: ServerRequest) -> dict[str, Any]:
        return {"contentItems": [], "success": req.params["tool"] == "lookup_ticket"}

    handlers = ServerRequestHandlers(dynamic_tool_call=typed)
    async with connected(server_request_handlers=handlers) as (client, server):
        client.set_server_request_handler("item/tool/call", raw)
        reply = await ask(server, "item/tool/call")
    assert reply["result"] == {"contentItems": [], "success": True}
