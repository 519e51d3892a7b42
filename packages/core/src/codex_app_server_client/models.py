"""The small, frozen result objects a caller of :class:`~codex_app_server_client.CodexClient`
sees. They hold plain data; the raw protocol dicts stay available on them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Literal, TypeAlias

__all__ = [
    "ApprovalDecision",
    "ApprovalHandler",
    "ApprovalRequest",
    "CancelResult",
    "ChatResult",
    "CommandApprovalRequest",
    "Continuation",
    "FileChangeApprovalRequest",
    "FinalTextSource",
    "Step",
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
