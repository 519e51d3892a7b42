"""The small, frozen result objects a caller of :class:`~codex_app_server_client.CodexClient`
sees. They hold plain data; the raw protocol dicts stay available on them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Literal, TypeAlias

__all__ = [
    "ApprovalDecision",
    "ApprovalHandler",
    "ApprovalRequest",
    "AttestationRequest",
    "AuthTokenRefreshRequest",
    "AuthTokens",
    "CancelResult",
    "ChatResult",
    "CommandApprovalRequest",
    "Continuation",
    "DynamicToolCallRequest",
    "DynamicToolResult",
    "ElicitationAction",
    "FileChangeApprovalRequest",
    "FinalTextSource",
    "LegacyExecApprovalRequest",
    "LegacyPatchApprovalRequest",
    "McpElicitationRequest",
    "McpElicitationResponse",
    "PermissionsApprovalRequest",
    "PermissionsGrant",
    "RetryNotice",
    "ReviewDecision",
    "ServerRequestHandlers",
    "Step",
    "TypedServerRequest",
    "UserInputOption",
    "UserInputQuestion",
    "UserInputRequest",
]


@dataclass(frozen=True, slots=True)
class Continuation:
    """Where to resume waiting on a running turn, after an inactivity timeout.

    Pass it to ``chat``/``chat_once`` (``continuation=``) to keep waiting, or to ``cancel``.
    Only meaningful to the client that created it.

    Attributes:
        thread_id: the thread the turn runs on.
        turn_id: the running turn.
        cursor: how many steps of the turn the caller has already been handed.
    """

    thread_id: str
    turn_id: str
    cursor: int


@dataclass(frozen=True, slots=True)
class Step:
    """One completed item of a turn, as the live ``item/completed`` notification carried it.

    Attributes:
        item_id: the item's id.
        item_type: the protocol's item type (``"agentMessage"``, ``"commandExecution"``,
            ``"reasoning"``, ...); unknown types pass through as they are.
        text: best-effort human text: the message, the reasoning summary, the command and
            its output, the changed paths; ``None`` when the item has none.
        item: the raw item dict, untouched.
        partial: ``True`` for an item that started but never completed (a message cut off by
            an interrupt); its ``text`` is what had streamed so far.
    """

    item_id: str
    item_type: str
    text: str | None
    item: dict[str, Any] = field(repr=False)
    partial: bool = False

    @property
    def phase(self) -> str | None:
        """An ``agentMessage``'s phase (``"commentary"``, ``"final_answer"``, ...), if any."""
        phase = self.item.get("phase")
        return phase if isinstance(phase, str) else None


FinalTextSource: TypeAlias = Literal["live", "turn_completed", "thread_turns_list", "thread_read"]
"""Where :attr:`ChatResult.final_text` came from, best first: a live ``item/completed``, the
items of ``turn/completed``, or reading the turn back from the server."""


@dataclass(frozen=True, slots=True)
class ChatResult:
    """The outcome of one turn.

    Attributes:
        final_text: the assistant's answer: the completed ``agentMessage`` marked
            ``phase: "final_answer"`` when phases are present, else the last completed one;
            ``None`` when the turn produced none.
        thread_id: the thread the turn ran on (pass it to the next call to continue).
        turn_id: the turn.
        status: ``"completed"`` or ``"interrupted"`` (a failed turn raises instead).
        steps: every completed item of the turn, in order (plus any ``partial`` one).
        usage: the turn's ``tokenUsage`` (``total``/``last`` breakdowns), if reported.
        final_text_source: which source gave ``final_text``.
        turn: the raw turn object of ``turn/completed``.
    """

    final_text: str | None
    thread_id: str
    turn_id: str
    status: str
    steps: tuple[Step, ...]
    usage: dict[str, Any] | None = None
    final_text_source: FinalTextSource | None = None
    turn: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """The server is retrying the turn's model request (an ``error`` with ``willRetry``).

    A retry is not progress: a turn that only retries for longer than the inactivity timeout
    ends the wait with :class:`~codex_app_server_client.errors.CodexTurnInactiveError`. The
    turn stream's ``retry`` holds the latest notice and clears it once the turn moves on.

    Attributes:
        message: the server's text, e.g. ``"Reconnecting... 2/5 (stream disconnected ...)"``.
        attempt: the retry's number when the message states it (``2`` above), else ``None``.
        max_attempts: how many retries the server will make, when stated (``5``), else ``None``.
        error: the raw ``TurnError`` object (``message``, ``codexErrorInfo``, ...).
    """

    message: str
    attempt: int | None = None
    max_attempts: int | None = None
    error: dict[str, Any] = field(default_factory=dict[str, Any], repr=False)


@dataclass(frozen=True, slots=True)
class CancelResult:
    """What :meth:`~codex_app_server_client.CodexClient.cancel` found.

    Attributes:
        status: ``"interrupted"``, or the status the turn had already ended with, or
            ``"inProgress"`` when it had not ended by the timeout.
        interrupted: whether the server confirmed the interrupt (the turn ended
            ``interrupted`` after the request was accepted).
        steps: the steps not yet handed to the caller since the continuation's cursor.
        thread_id: the turn's thread, free for a new turn.
        turn_id: the cancelled turn.
    """

    status: str
    interrupted: bool
    steps: tuple[Step, ...]
    thread_id: str
    turn_id: str


class ApprovalDecision(StrEnum):
    """How to answer an approval request; the values are the wire strings."""

    ACCEPT = "accept"
    """Run it (this once)."""
    ACCEPT_FOR_SESSION = "acceptForSession"
    """Run it, and similar requests for the rest of the session."""
    DECLINE = "decline"
    """Do not run it; the turn continues and the model is told."""
    CANCEL = "cancel"
    """Do not run it, and interrupt the turn."""


@dataclass(frozen=True, slots=True)
class CommandApprovalRequest:
    """The server asks whether a command may run (``item/commandExecution/requestApproval``).

    Attributes:
        thread_id, turn_id, item_id: where the command belongs.
        command: the command line as the server shows it.
        cwd: the directory it would run in.
        reason: the model's justification, when it gave one.
        available_decisions: what the server offers (strings or objects); ``decline`` is
            accepted even when not listed.
        params: the raw request params.
    """

    method: ClassVar[str] = "item/commandExecution/requestApproval"
    thread_id: str
    turn_id: str
    item_id: str
    command: str | None
    cwd: str | None
    reason: str | None
    available_decisions: tuple[Any, ...]
    params: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class FileChangeApprovalRequest:
    """The server asks whether a file change may be applied (``item/fileChange/requestApproval``).

    Attributes:
        thread_id, turn_id, item_id: where the change belongs.
        reason: the model's justification, when it gave one.
        grant_root: a directory the change would be granted write access to, if any.
        params: the raw request params.
    """

    method: ClassVar[str] = "item/fileChange/requestApproval"
    thread_id: str
    turn_id: str
    item_id: str
    reason: str | None
    grant_root: str | None
    params: dict[str, Any] = field(repr=False)


ApprovalRequest: TypeAlias = CommandApprovalRequest | FileChangeApprovalRequest
"""Every approval request an ``approval_handler`` may receive."""

ApprovalHandler: TypeAlias = Callable[
    [ApprovalRequest], Awaitable[ApprovalDecision | str | Mapping[str, Any]]
]
"""``async def handler(request) -> decision``: an :class:`ApprovalDecision`, its wire string,
or a decision object such as ``{"acceptWithExecpolicyAmendment": {...}}``."""


# ------------------------------------------------------------------------------------------
# Every other server request, typed. The builders (lenient: a missing or ill-typed field
# becomes ``None`` or empty, never an exception) and the dispatcher that applies the safe
# defaults live in ``_server_requests.py``.


@dataclass(frozen=True, slots=True)
class PermissionsApprovalRequest:
    """The server asks for extra permissions (``item/permissions/requestApproval``).

    Attributes:
        thread_id, turn_id, item_id: where the request belongs.
        cwd: the directory relative paths refer to.
        reason: the model's justification, when it gave one.
        permissions: the requested profile, raw (``fileSystem``, ``network``).
        environment_id: the environment the permissions are for, if named.
        params: the raw request params.
    """

    method: ClassVar[str] = "item/permissions/requestApproval"
    thread_id: str
    turn_id: str
    item_id: str
    cwd: str | None
    reason: str | None
    permissions: dict[str, Any]
    environment_id: str | None
    params: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class PermissionsGrant:
    """What a ``permissions_approval`` handler grants.

    Attributes:
        permissions: the granted subset of the requested profile, in wire shape
            (``{"fileSystem": {...}, "network": {"enabled": True}}``); ``{}`` grants nothing.
        scope: ``"turn"`` (this turn only) or ``"session"``.
        strict_auto_review: ask the server to review every later command of the turn.
    """

    permissions: Mapping[str, Any]
    scope: Literal["turn", "session"] = "turn"
    strict_auto_review: bool | None = None


@dataclass(frozen=True, slots=True)
class UserInputOption:
    """One selectable answer of a :class:`UserInputQuestion`."""

    label: str
    description: str | None


@dataclass(frozen=True, slots=True)
class UserInputQuestion:
    """One question of a :class:`UserInputRequest`.

    Attributes:
        id: the key to answer it under.
        header: a short title.
        question: the question text.
        is_other: whether a free-form answer besides the options is allowed.
        is_secret: whether the answer is a secret (do not echo it).
        options: the offered answers (empty when free-form).
    """

    id: str
    header: str | None
    question: str | None
    is_other: bool
    is_secret: bool
    options: tuple[UserInputOption, ...]


@dataclass(frozen=True, slots=True)
class UserInputRequest:
    """The model asks the user questions (``item/tool/requestUserInput``).

    Attributes:
        thread_id, turn_id, item_id: where the request belongs.
        is_blocking: whether the turn waits for the answer.
        questions: the questions, in order.
        params: the raw request params.
    """

    method: ClassVar[str] = "item/tool/requestUserInput"
    thread_id: str
    turn_id: str
    item_id: str
    is_blocking: bool
    questions: tuple[UserInputQuestion, ...]
    params: dict[str, Any] = field(repr=False)


class ElicitationAction(StrEnum):
    """How to answer an MCP elicitation; the values are the wire strings."""

    ACCEPT = "accept"
    """Give the requested input (in ``content``)."""
    DECLINE = "decline"
    """Refuse to give it."""
    CANCEL = "cancel"
    """Dismiss the request."""


@dataclass(frozen=True, slots=True)
class McpElicitationRequest:
    """An MCP server asks the user for input (``mcpServer/elicitation/request``).

    Attributes:
        thread_id: the thread the MCP server serves.
        turn_id: the turn it was observed in, when the server could tell.
        server_name: the MCP server asking.
        mode: ``"form"``, ``"url"``, ``"openai/form"``, ... (unknown modes pass through).
        message: what to show the user.
        requested_schema: the form's JSON schema (form modes).
        url: the page to open (``url`` mode).
        elicitation_id: the elicitation's id (``url`` mode).
        params: the raw request params.
    """

    method: ClassVar[str] = "mcpServer/elicitation/request"
    thread_id: str
    turn_id: str | None
    server_name: str
    mode: str | None
    message: str | None
    requested_schema: Any
    url: str | None
    elicitation_id: str | None
    params: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class McpElicitationResponse:
    """What an ``mcp_elicitation`` handler answers.

    Attributes:
        action: accept (with ``content``), decline or cancel.
        content: the user's input for an accepted form.
        meta: optional client metadata (``_meta`` on the wire).
    """

    action: ElicitationAction | Literal["accept", "decline", "cancel"]
    content: Any = None
    meta: Any = None


@dataclass(frozen=True, slots=True)
class DynamicToolCallRequest:
    """The model calls a client-provided dynamic tool (``item/tool/call``).

    Attributes:
        thread_id, turn_id: where the call belongs.
        call_id: the call's id.
        tool: the tool's name.
        namespace: the tool's namespace, if any.
        arguments: the arguments, as the model gave them (any JSON value).
        params: the raw request params.
    """

    method: ClassVar[str] = "item/tool/call"
    thread_id: str
    turn_id: str
    call_id: str
    tool: str
    namespace: str | None
    arguments: Any
    params: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class DynamicToolResult:
    """What a ``dynamic_tool_call`` handler answers.

    Attributes:
        content_items: output items in wire shape: ``{"type": "inputText", "text": ...}``,
            ``{"type": "inputImage", "imageUrl": ...}``, ``{"type": "inputAudio",
            "audioUrl": ...}``.
        success: whether the tool call succeeded.
    """

    content_items: Sequence[Mapping[str, Any]]
    success: bool = True

    @classmethod
    def text(cls, text: str, *, success: bool = True) -> DynamicToolResult:
        """A result made of one text item."""
        return cls(({"type": "inputText", "text": text},), success)


@dataclass(frozen=True, slots=True)
class AuthTokenRefreshRequest:
    """The server needs fresh ChatGPT tokens (``account/chatgptAuthTokens/refresh``).

    Only sent in the ``chatgptAuthTokens`` auth mode, where the client owns the tokens.

    Attributes:
        reason: why (``"unauthorized"``: a backend request got 401).
        previous_account_id: the workspace/account the server was using, if known.
        params: the raw request params.
    """

    method: ClassVar[str] = "account/chatgptAuthTokens/refresh"
    reason: str | None
    previous_account_id: str | None
    params: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class AuthTokens:
    """What an ``auth_token_refresh`` handler answers."""

    access_token: str
    chatgpt_account_id: str
    chatgpt_plan_type: str | None = None


@dataclass(frozen=True, slots=True)
class AttestationRequest:
    """The server asks for a client attestation token (``attestation/generate``).

    Attributes:
        params: the raw request params (empty today).
    """

    method: ClassVar[str] = "attestation/generate"
    params: dict[str, Any] = field(repr=False)


class ReviewDecision(StrEnum):
    """How to answer a legacy (v1) approval request.

    The values are the wire strings, except ``DENIED``, which is sent in the object form the
    schema requires (``{"denied": {"rejection": ...}}``).
    """

    APPROVED = "approved"
    """Run it (this once)."""
    APPROVED_FOR_SESSION = "approved_for_session"
    """Run it, and similar requests for the rest of the session."""
    DENIED = "denied"
    """Do not run it; the session continues and the model tries something else."""
    ABORT = "abort"
    """Do not run it, and stop until the user's next message."""


@dataclass(frozen=True, slots=True)
class LegacyExecApprovalRequest:
    """The v1 form of a command approval (``execCommandApproval``).

    Attributes:
        thread_id: the thread (``conversationId`` on the wire).
        call_id: the command's call id.
        approval_id: this approval callback's id, if distinct.
        command: the argv.
        cwd: the directory it would run in.
        reason: the model's justification, when it gave one.
        params: the raw request params.
    """

    method: ClassVar[str] = "execCommandApproval"
    thread_id: str
    call_id: str
    approval_id: str | None
    command: tuple[str, ...]
    cwd: str | None
    reason: str | None
    params: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class LegacyPatchApprovalRequest:
    """The v1 form of a file-change approval (``applyPatchApproval``).

    Attributes:
        thread_id: the thread (``conversationId`` on the wire).
        call_id: the patch's call id.
        file_changes: path → change, raw (``{"type": "add", "content": ...}``, ...).
        reason: the model's justification, when it gave one.
        grant_root: a directory the change would be granted write access to, if any.
        params: the raw request params.
    """

    method: ClassVar[str] = "applyPatchApproval"
    thread_id: str
    call_id: str
    file_changes: dict[str, Any]
    reason: str | None
    grant_root: str | None
    params: dict[str, Any] = field(repr=False)


TypedServerRequest: TypeAlias = (
    CommandApprovalRequest
    | FileChangeApprovalRequest
    | PermissionsApprovalRequest
    | UserInputRequest
    | McpElicitationRequest
    | DynamicToolCallRequest
    | AuthTokenRefreshRequest
    | AttestationRequest
    | LegacyExecApprovalRequest
    | LegacyPatchApprovalRequest
)
"""Every server request this SDK knows, typed."""

_ReviewAnswer: TypeAlias = ReviewDecision | ApprovalDecision | str | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ServerRequestHandlers:
    """One optional async handler per kind of server request; pass it to ``CodexClient``.

    Each handler receives the typed request and returns an answer of one of the shapes listed
    below. It runs in its own task; while it runs, its turn's inactivity clock is paused. No
    handler, a handler that raises, or an answer of the wrong shape gets the **safe default**
    (logged when it replaces a failed or malformed answer); nothing is ever accepted on the
    user's behalf. Raise
    :class:`~codex_app_server_client.errors.CodexServerRequestError` to answer with a specific
    JSON-RPC error instead.

    Attributes:
        command_approval: ``item/commandExecution/requestApproval`` → an
            :class:`ApprovalDecision`, its wire string, or a one-key decision object such as
            ``{"acceptWithExecpolicyAmendment": {"execpolicy_amendment": [...]}}``.
            Default: ``decline``. Falls back to the client's ``approval_handler`` when unset.
        file_change_approval: ``item/fileChange/requestApproval`` → an
            :class:`ApprovalDecision` or its wire string. Default: ``decline``. Falls back to
            ``approval_handler`` when unset.
        permissions_approval: ``item/permissions/requestApproval`` → a
            :class:`PermissionsGrant`, or the raw result (``{"permissions": {...}, ...}``).
            Default: nothing granted (``{"permissions": {}, "scope": "turn"}``).
        user_input: ``item/tool/requestUserInput`` → a mapping of question id to the answer
            (a string or a sequence of strings), or the raw result
            (``{"answers": {id: {"answers": [...]}}}``). Default: a JSON-RPC error reply (no
            answer is made up).
        mcp_elicitation: ``mcpServer/elicitation/request`` → an :class:`ElicitationAction`
            or its string, a :class:`McpElicitationResponse`, or the raw result
            (``{"action": ..., "content": ...}``). Default: a JSON-RPC error reply.
        dynamic_tool_call: ``item/tool/call`` → a :class:`DynamicToolResult`, a string (one
            successful text item), or the raw result (``{"contentItems": [...], "success":
            ...}``). Default: a JSON-RPC error reply.
        auth_token_refresh: ``account/chatgptAuthTokens/refresh`` → :class:`AuthTokens` or
            the raw result (``{"accessToken", "chatgptAccountId", ...}``). Default: a JSON-RPC
            error reply.
        attestation: ``attestation/generate`` → the token string, or the raw result
            (``{"token": ...}``). Default: a JSON-RPC error reply.
        legacy_exec_approval: ``execCommandApproval`` (v1) → a :class:`ReviewDecision`, its
            wire string, an :class:`ApprovalDecision` (mapped: accept → approved, decline →
            denied, cancel → abort), or a one-key decision object. Default: denied.
        legacy_patch_approval: ``applyPatchApproval`` (v1) → as ``legacy_exec_approval``.
            Default: denied.

    Requests of any other method get a JSON-RPC ``-32601`` error reply (register a raw
    handler with ``CodexClient.set_server_request_handler`` to answer them).
    """

    command_approval: (
        Callable[[CommandApprovalRequest], Awaitable[ApprovalDecision | str | Mapping[str, Any]]]
        | None
    ) = None
    file_change_approval: (
        Callable[[FileChangeApprovalRequest], Awaitable[ApprovalDecision | str]] | None
    ) = None
    permissions_approval: (
        Callable[[PermissionsApprovalRequest], Awaitable[PermissionsGrant | Mapping[str, Any]]]
        | None
    ) = None
    user_input: Callable[[UserInputRequest], Awaitable[Mapping[str, Any]]] | None = None
    mcp_elicitation: (
        Callable[
            [McpElicitationRequest],
            Awaitable[ElicitationAction | str | McpElicitationResponse | Mapping[str, Any]],
        ]
        | None
    ) = None
    dynamic_tool_call: (
        Callable[[DynamicToolCallRequest], Awaitable[DynamicToolResult | str | Mapping[str, Any]]]
        | None
    ) = None
    auth_token_refresh: (
        Callable[[AuthTokenRefreshRequest], Awaitable[AuthTokens | Mapping[str, Any]]] | None
    ) = None
    attestation: Callable[[AttestationRequest], Awaitable[str | Mapping[str, Any]]] | None = None
    legacy_exec_approval: Callable[[LegacyExecApprovalRequest], Awaitable[_ReviewAnswer]] | None = (
        None
    )
    legacy_patch_approval: (
        Callable[[LegacyPatchApprovalRequest], Awaitable[_ReviewAnswer]] | None
    ) = None
