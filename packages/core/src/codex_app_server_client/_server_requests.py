"""Server requests: typed, answered by the user's handlers, with a safe default for each.

The app-server asks the client things (approve a command, answer questions, run a dynamic
tool, ...). :func:`answer_server_request` builds the typed request from the raw params
(leniently: a missing or ill-typed field becomes ``None`` or empty, never an exception),
calls the matching slot of :class:`~codex_app_server_client.models.ServerRequestHandlers`,
checks the answer's shape and encodes it as the JSON-RPC result.

Safe defaults (fail closed; nothing is ever accepted on the user's behalf) apply when no
handler is set, when the handler raises, and when its answer has the wrong shape (the last
two are logged as errors). As the public contract says, approvals are declined and every
other request gets a JSON-RPC error reply, never silence and never an invented answer:

=========================================  ==================================================
request                                    default answer
=========================================  ==================================================
``item/commandExecution/requestApproval``  ``{"decision": "decline"}``
``item/fileChange/requestApproval``        ``{"decision": "decline"}``
``item/permissions/requestApproval``       ``{"permissions": {}, "scope": "turn"}`` (nothing)
``item/tool/requestUserInput``             JSON-RPC error (no answers are made up)
``mcpServer/elicitation/request``          JSON-RPC error
``item/tool/call``                         JSON-RPC error
``account/chatgptAuthTokens/refresh``      JSON-RPC error
``attestation/generate``                   JSON-RPC error
``execCommandApproval`` (v1)               ``{"decision": {"denied": {"rejection": ...}}}``
``applyPatchApproval`` (v1)                ``{"decision": {"denied": {"rejection": ...}}}``
any other method                           JSON-RPC error ``-32601``
=========================================  ==================================================

A JSON-RPC error default uses ``-32601`` when no handler is set and ``-32603`` when the
handler failed or answered in the wrong shape. A handler may raise
:class:`~codex_app_server_client.errors.CodexServerRequestError` to send a specific error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from ._connection import INTERNAL_ERROR, METHOD_NOT_FOUND, ServerRequestError
from .models import (
    ApprovalDecision,
    ApprovalHandler,
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
    TypedServerRequest,
    UserInputOption,
    UserInputQuestion,
    UserInputRequest,
)
from .protocol import ServerRequest
from .protocol._turns import as_dict, as_dicts

__all__ = [
    "KNOWN_METHODS",
    "answer_server_request",
    "fallback_answer",
    "typed_server_request",
]

logger = logging.getLogger("codex_app_server_client.server_requests")

_NO_HANDLER: Final = "no handler is set"
_FAILED: Final = "the handler failed"
_MALFORMED: Final = "the handler's answer had the wrong shape"
_TIMED_OUT: Final = "the handler did not decide within approval_timeout"
_CANCELLED: Final = "the turn was cancelled"


class _BadAnswer(Exception):
    """A handler's answer does not fit the request's result shape."""


# ------------------------------------------------------------------------------------------
# Lenient field readers


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _str_or_empty(value: object) -> str:
    return value if isinstance(value, str) else ""


def _list(value: object) -> list[Any]:
    return cast("list[Any]", value) if isinstance(value, list) else []


def _ids(p: Mapping[str, Any]) -> dict[str, str]:
    return {
        "thread_id": _str_or_empty(p.get("threadId")),
        "turn_id": _str_or_empty(p.get("turnId")),
        "item_id": _str_or_empty(p.get("itemId")),
    }


# ------------------------------------------------------------------------------------------
# Builders: raw params → typed request, never raising


def _command_approval(p: dict[str, Any]) -> CommandApprovalRequest:
    return CommandApprovalRequest(
        **_ids(p),
        command=_str(p.get("command")),
        cwd=_str(p.get("cwd")),
        reason=_str(p.get("reason")),
        available_decisions=tuple(_list(p.get("availableDecisions"))),
        params=p,
    )


def _file_change_approval(p: dict[str, Any]) -> FileChangeApprovalRequest:
    return FileChangeApprovalRequest(
        **_ids(p),
        reason=_str(p.get("reason")),
        grant_root=_str(p.get("grantRoot")),
        params=p,
    )


def _permissions_approval(p: dict[str, Any]) -> PermissionsApprovalRequest:
    return PermissionsApprovalRequest(
        **_ids(p),
        cwd=_str(p.get("cwd")),
        reason=_str(p.get("reason")),
        permissions=as_dict(p.get("permissions")),
        environment_id=_str(p.get("environmentId")),
        params=p,
    )


def _question(q: dict[str, Any]) -> UserInputQuestion:
    options = tuple(
        UserInputOption(label=_str_or_empty(o.get("label")), description=_str(o.get("description")))
        for o in as_dicts(q.get("options"))
    )
    return UserInputQuestion(
        id=_str_or_empty(q.get("id")),
        header=_str(q.get("header")),
        question=_str(q.get("question")),
        is_other=q.get("isOther") is True,
        is_secret=q.get("isSecret") is True,
        options=options,
    )


def _user_input(p: dict[str, Any]) -> UserInputRequest:
    questions = tuple(_question(q) for q in as_dicts(p.get("questions")))
    return UserInputRequest(
        **_ids(p),
        is_blocking=p.get("isBlocking") is not False,
        questions=questions,
        params=p,
    )


def _mcp_elicitation(p: dict[str, Any]) -> McpElicitationRequest:
    return McpElicitationRequest(
        thread_id=_str_or_empty(p.get("threadId")),
        turn_id=_str(p.get("turnId")),
        server_name=_str_or_empty(p.get("serverName")),
        mode=_str(p.get("mode")),
        message=_str(p.get("message")),
        requested_schema=p.get("requestedSchema"),
        url=_str(p.get("url")),
        elicitation_id=_str(p.get("elicitationId")),
        params=p,
    )


def _dynamic_tool_call(p: dict[str, Any]) -> DynamicToolCallRequest:
    return DynamicToolCallRequest(
        thread_id=_str_or_empty(p.get("threadId")),
        turn_id=_str_or_empty(p.get("turnId")),
        call_id=_str_or_empty(p.get("callId")),
        tool=_str_or_empty(p.get("tool")),
        namespace=_str(p.get("namespace")),
        arguments=p.get("arguments"),
        params=p,
    )


def _auth_token_refresh(p: dict[str, Any]) -> AuthTokenRefreshRequest:
    return AuthTokenRefreshRequest(
        reason=_str(p.get("reason")),
        previous_account_id=_str(p.get("previousAccountId")),
        params=p,
    )


def _attestation(p: dict[str, Any]) -> AttestationRequest:
    return AttestationRequest(params=p)


def _legacy_exec_approval(p: dict[str, Any]) -> LegacyExecApprovalRequest:
    command = p.get("command")
    if isinstance(command, str):
        argv: tuple[str, ...] = (command,)
    else:
        argv = tuple(c for c in _list(command) if isinstance(c, str))
    return LegacyExecApprovalRequest(
        thread_id=_str_or_empty(p.get("conversationId")),
        call_id=_str_or_empty(p.get("callId")),
        approval_id=_str(p.get("approvalId")),
        command=argv,
        cwd=_str(p.get("cwd")),
        reason=_str(p.get("reason")),
        params=p,
    )


def _legacy_patch_approval(p: dict[str, Any]) -> LegacyPatchApprovalRequest:
    return LegacyPatchApprovalRequest(
        thread_id=_str_or_empty(p.get("conversationId")),
        call_id=_str_or_empty(p.get("callId")),
        file_changes=as_dict(p.get("fileChanges")),
        reason=_str(p.get("reason")),
        grant_root=_str(p.get("grantRoot")),
        params=p,
    )


# ------------------------------------------------------------------------------------------
# Encoders: a handler's answer → the JSON-RPC result, or _BadAnswer

_APPROVAL_STRINGS: Final = frozenset(d.value for d in ApprovalDecision)


def _unwrap_decision(answer: object) -> object:
    """``{"decision": x}`` (the whole result) → ``x``; anything else unchanged."""
    if isinstance(answer, Mapping):
        mapping = cast("Mapping[str, Any]", answer)
        if set(mapping) == {"decision"}:
            return mapping["decision"]
    return cast(object, answer)


def _one_key_object(answer: object) -> dict[str, Any] | None:
    if isinstance(answer, Mapping):
        mapping = cast("Mapping[object, Any]", answer)
        if len(mapping) == 1 and all(isinstance(k, str) for k in mapping):
            return {str(k): v for k, v in mapping.items()}
    return None


def _encode_command_approval(answer: object) -> dict[str, Any]:
    decision = _unwrap_decision(answer)
    if isinstance(decision, str) and decision in _APPROVAL_STRINGS:
        return {"decision": str(decision)}
    obj = _one_key_object(decision)
    if obj is not None:
        return {"decision": obj}
    raise _BadAnswer(
        f"expected an ApprovalDecision, one of {sorted(_APPROVAL_STRINGS)} or a one-key "
        "decision object"
    )


def _encode_file_change_approval(answer: object) -> dict[str, Any]:
    decision = _unwrap_decision(answer)
    if isinstance(decision, str) and decision in _APPROVAL_STRINGS:
        return {"decision": str(decision)}
    raise _BadAnswer(f"expected an ApprovalDecision or one of {sorted(_APPROVAL_STRINGS)}")


_SCOPES: Final = frozenset({"turn", "session"})


def _encode_permissions(answer: object) -> dict[str, Any]:
    if isinstance(answer, PermissionsGrant):
        if not isinstance(answer.permissions, Mapping) or answer.scope not in _SCOPES:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise _BadAnswer("a PermissionsGrant needs a permissions mapping and a valid scope")
        result: dict[str, Any] = {"permissions": dict(answer.permissions), "scope": answer.scope}
        if answer.strict_auto_review is not None:
            result["strictAutoReview"] = bool(answer.strict_auto_review)
        return result
    if isinstance(answer, Mapping):
        raw = dict(cast("Mapping[str, Any]", answer))
        if isinstance(raw.get("permissions"), Mapping) and raw.get("scope", "turn") in _SCOPES:
            raw["permissions"] = dict(cast("Mapping[str, Any]", raw["permissions"]))
            return raw
    raise _BadAnswer('expected a PermissionsGrant or {"permissions": {...}, "scope": ...}')


def _answer_list(value: object) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items = list(cast("Sequence[object]", value))
        if all(isinstance(v, str) for v in items):
            return cast("list[str]", items)
    return None


def _raw_user_input(mapping: Mapping[str, Any]) -> dict[str, Any] | None:
    """``{"answers": {id: {"answers": [...]}}}`` as it goes on the wire, if that is what it is."""
    inner = mapping.get("answers")
    if set(mapping) != {"answers"} or not isinstance(inner, Mapping):
        return None
    answers: dict[str, Any] = {}
    for key, value in cast("Mapping[object, object]", inner).items():
        if not isinstance(key, str) or not isinstance(value, Mapping):
            return None
        texts = cast("Mapping[str, object]", value).get("answers")
        if not isinstance(texts, list):
            return None
        checked = _answer_list(cast("list[object]", texts))
        if checked is None:
            return None
        answers[key] = {"answers": checked}
    return {"answers": answers}


def _encode_user_input(answer: object) -> dict[str, Any]:
    if not isinstance(answer, Mapping):
        raise _BadAnswer("expected a mapping of question id to answer(s)")
    mapping = cast("Mapping[object, Any]", answer)
    if all(isinstance(k, str) for k in mapping):
        raw = _raw_user_input(cast("Mapping[str, Any]", mapping))
        if raw is not None:
            return raw
    answers: dict[str, Any] = {}
    for key, value in mapping.items():
        texts = _answer_list(value)
        if not isinstance(key, str) or texts is None:
            raise _BadAnswer(
                "expected a mapping of question id (str) to a string or a sequence of strings"
            )
        answers[key] = {"answers": texts}
    return {"answers": answers}


_ELICITATION_ACTIONS: Final = frozenset(a.value for a in ElicitationAction)


def _encode_elicitation(answer: object) -> dict[str, Any]:
    if isinstance(answer, str):
        if answer in _ELICITATION_ACTIONS:
            return {"action": str(answer)}
    elif isinstance(answer, McpElicitationResponse):
        if answer.action in _ELICITATION_ACTIONS:
            result: dict[str, Any] = {"action": str(answer.action)}
            if answer.content is not None:
                result["content"] = answer.content
            if answer.meta is not None:
                result["_meta"] = answer.meta
            return result
    elif isinstance(answer, Mapping):
        raw = dict(cast("Mapping[str, Any]", answer))
        if raw.get("action") in _ELICITATION_ACTIONS:
            return raw
    raise _BadAnswer(
        f"expected an ElicitationAction, one of {sorted(_ELICITATION_ACTIONS)}, a "
        'McpElicitationResponse or {"action": ...}'
    )


def _content_items(items: object) -> list[dict[str, Any]] | None:
    if not isinstance(items, Sequence) or isinstance(items, str | bytes | bytearray):
        return None
    result: list[dict[str, Any]] = []
    for item in cast("Sequence[object]", items):
        if not isinstance(item, Mapping):
            return None
        obj = dict(cast("Mapping[str, Any]", item))
        if not isinstance(obj.get("type"), str):
            return None
        result.append(obj)
    return result


def _encode_dynamic_tool(answer: object) -> dict[str, Any]:
    if isinstance(answer, str):
        return {"contentItems": [{"type": "inputText", "text": answer}], "success": True}
    if isinstance(answer, DynamicToolResult):
        items = _content_items(answer.content_items)
        if items is not None and isinstance(answer.success, bool):  # pyright: ignore[reportUnnecessaryIsInstance]
            return {"contentItems": items, "success": answer.success}
    elif isinstance(answer, Mapping):
        raw = dict(cast("Mapping[str, Any]", answer))
        items = _content_items(raw.get("contentItems"))
        if items is not None and isinstance(raw.get("success"), bool):
            raw["contentItems"] = items
            return raw
    raise _BadAnswer(
        'expected a DynamicToolResult, a string, or {"contentItems": [...], "success": bool} '
        "whose items each have a string type"
    )


def _encode_auth_tokens(answer: object) -> dict[str, Any]:
    if isinstance(answer, AuthTokens):
        if isinstance(answer.access_token, str) and isinstance(answer.chatgpt_account_id, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            result: dict[str, Any] = {
                "accessToken": answer.access_token,
                "chatgptAccountId": answer.chatgpt_account_id,
            }
            if answer.chatgpt_plan_type is not None:
                result["chatgptPlanType"] = answer.chatgpt_plan_type
            return result
    elif isinstance(answer, Mapping):
        raw = dict(cast("Mapping[str, Any]", answer))
        if isinstance(raw.get("accessToken"), str) and isinstance(raw.get("chatgptAccountId"), str):
            return raw
    raise _BadAnswer('expected AuthTokens or {"accessToken": str, "chatgptAccountId": str}')


def _encode_attestation(answer: object) -> dict[str, Any]:
    if isinstance(answer, str):
        return {"token": answer}
    if isinstance(answer, Mapping):
        raw = dict(cast("Mapping[str, Any]", answer))
        if isinstance(raw.get("token"), str):
            return raw
    raise _BadAnswer('expected the token string or {"token": str}')


_REVIEW_STRINGS: Final = frozenset(
    {"approved", "approved_for_session", "approved_mcp_policy_amendment", "timed_out", "abort"}
)
_FROM_APPROVAL: Final = {
    ApprovalDecision.ACCEPT.value: ReviewDecision.APPROVED.value,
    ApprovalDecision.ACCEPT_FOR_SESSION.value: ReviewDecision.APPROVED_FOR_SESSION.value,
    ApprovalDecision.DECLINE.value: ReviewDecision.DENIED.value,
    ApprovalDecision.CANCEL.value: ReviewDecision.ABORT.value,
}


def _denied(rejection: str) -> dict[str, Any]:
    return {"denied": {"rejection": rejection}}


def _encode_review(answer: object) -> dict[str, Any]:
    decision = _unwrap_decision(answer)
    if isinstance(decision, str):
        wire = _FROM_APPROVAL.get(str(decision), str(decision))
        if wire == ReviewDecision.DENIED.value:
            return {"decision": _denied("The user denied this request.")}
        if wire in _REVIEW_STRINGS:
            return {"decision": wire}
    obj = _one_key_object(decision)
    if obj is not None:
        return {"decision": obj}
    raise _BadAnswer(
        "expected a ReviewDecision, an ApprovalDecision, one of "
        f"{sorted(_REVIEW_STRINGS | {'denied'})} or a one-key decision object"
    )


# ------------------------------------------------------------------------------------------
# Defaults: (typed request, why) → the JSON-RPC result, or ServerRequestError


def _decline(_typed: object, _why: str) -> dict[str, Any]:
    return {"decision": ApprovalDecision.DECLINE.value}


def _grant_nothing(_typed: object, _why: str) -> dict[str, Any]:
    return {"permissions": {}, "scope": "turn"}


def _legacy_denied(_typed: object, why: str) -> dict[str, Any]:
    return {"decision": _denied(f"The client denied this request: {why}.")}


def _error_default(slot: str) -> Callable[[object, str], Any]:
    def default(typed: object, why: str) -> Any:
        method = getattr(typed, "method", "?")
        code = METHOD_NOT_FOUND if why == _NO_HANDLER else INTERNAL_ERROR
        raise ServerRequestError(
            code,
            f"codex-app-server-client cannot answer {method!r}: {why} "
            f"(set ServerRequestHandlers.{slot})",
        )

    return default


# ------------------------------------------------------------------------------------------
# The table of known requests


@dataclass(frozen=True, slots=True)
class _Kind:
    slot: str
    build: Callable[[dict[str, Any]], TypedServerRequest]
    encode: Callable[[object], dict[str, Any]]
    default: Callable[[object, str], Any]
    uses_approval_handler: bool = False


_KINDS: Final[Mapping[str, _Kind]] = {
    CommandApprovalRequest.method: _Kind(
        "command_approval", _command_approval, _encode_command_approval, _decline, True
    ),
    FileChangeApprovalRequest.method: _Kind(
        "file_change_approval", _file_change_approval, _encode_file_change_approval, _decline, True
    ),
    PermissionsApprovalRequest.method: _Kind(
        "permissions_approval", _permissions_approval, _encode_permissions, _grant_nothing
    ),
    UserInputRequest.method: _Kind(
        "user_input", _user_input, _encode_user_input, _error_default("user_input")
    ),
    McpElicitationRequest.method: _Kind(
        "mcp_elicitation", _mcp_elicitation, _encode_elicitation, _error_default("mcp_elicitation")
    ),
    DynamicToolCallRequest.method: _Kind(
        "dynamic_tool_call",
        _dynamic_tool_call,
        _encode_dynamic_tool,
        _error_default("dynamic_tool_call"),
    ),
    AuthTokenRefreshRequest.method: _Kind(
        "auth_token_refresh",
        _auth_token_refresh,
        _encode_auth_tokens,
        _error_default("auth_token_refresh"),
    ),
    AttestationRequest.method: _Kind(
        "attestation", _attestation, _encode_attestation, _error_default("attestation")
    ),
    LegacyExecApprovalRequest.method: _Kind(
        "legacy_exec_approval", _legacy_exec_approval, _encode_review, _legacy_denied
    ),
    LegacyPatchApprovalRequest.method: _Kind(
        "legacy_patch_approval", _legacy_patch_approval, _encode_review, _legacy_denied
    ),
}

KNOWN_METHODS: Final = frozenset(_KINDS)
"""The server-request methods that have a typed request and a safe default."""


def typed_server_request(method: str, params: Mapping[str, Any]) -> TypedServerRequest | None:
    """The typed form of a server request; ``None`` for a method this SDK does not know."""
    kind = _KINDS.get(method)
    return kind.build(dict(params)) if kind is not None else None


async def answer_server_request(
    request: ServerRequest,
    handlers: ServerRequestHandlers | None = None,
    *,
    approval_handler: ApprovalHandler | None = None,
) -> Any:
    """Answer one server request: the JSON-RPC ``result`` to send back.

    Args:
        request: the request as the connection decoded it.
        handlers: the user's handlers; ``None`` answers everything with the defaults.
        approval_handler: the client's shortcut for command and file-change approvals, used
            when the specific slot is unset.

    Raises:
        ServerRequestError: the answer is a JSON-RPC error (an unknown method, a default that
            is an error, or a handler that raised one on purpose).
    """
    kind = _KINDS.get(request.method)
    if kind is None:
        raise ServerRequestError(
            METHOD_NOT_FOUND,
            f"codex-app-server-client has no handler for {request.method!r}; register one "
            "with CodexClient.set_server_request_handler()",
        )
    typed = kind.build(dict(request.params))
    handler = cast(
        "Callable[[TypedServerRequest], Awaitable[object]] | None",
        getattr(handlers, kind.slot, None) if handlers is not None else None,
    )
    if handler is None and kind.uses_approval_handler and approval_handler is not None:
        handler = cast("Callable[[TypedServerRequest], Awaitable[object]]", approval_handler)
    return await _run(kind, typed, handler, request.method)


def fallback_answer(request: ServerRequest, cancelled: bool) -> Any:
    """The fail-closed answer to a server request our handler never decided.

    ``cancelled``: ``cancel()`` stopped the request's turn, so approvals are answered
    ``cancel`` (legacy ones ``abort``); otherwise ``approval_timeout`` ran out and the request
    gets its kind's safe default (approvals ``decline``, the others the error reply they get
    with no handler).

    Raises:
        ServerRequestError: the answer is a JSON-RPC error.
    """
    kind = _KINDS.get(request.method)
    why = _CANCELLED if cancelled else _TIMED_OUT
    if kind is None:
        raise ServerRequestError(
            INTERNAL_ERROR, f"codex-app-server-client cannot answer {request.method!r}: {why}"
        )
    if cancelled and kind.uses_approval_handler:
        return kind.encode(ApprovalDecision.CANCEL)
    if cancelled and kind.slot.startswith("legacy_"):
        return kind.encode(ReviewDecision.ABORT)
    return kind.default(kind.build(dict(request.params)), why)


async def _run(
    kind: _Kind,
    typed: TypedServerRequest,
    handler: Callable[[TypedServerRequest], Awaitable[object]] | None,
    method: str,
) -> Any:
    if handler is None:
        logger.debug("no handler for %s; answering with the safe default", method)
        return kind.default(typed, _NO_HANDLER)
    try:
        answer = await handler(typed)
    except ServerRequestError:
        raise
    except Exception:
        logger.error(
            "the %s handler raised on %s; answering with the safe default",
            kind.slot,
            method,
            exc_info=True,
        )
        return kind.default(typed, _FAILED)
    try:
        return kind.encode(answer)
    except _BadAnswer as exc:
        logger.error(
            "the %s handler answered %s with %r, which does not fit (%s); answering with "
            "the safe default",
            kind.slot,
            method,
            answer,
            exc,
        )
        return kind.default(typed, _MALFORMED)
