"""Turn options: the typed keywords ``chat``/``chat_once`` accept, and the ``turn/start``
params built from them."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypedDict

if TYPE_CHECKING:
    # Types only: the generated module is large and stays unloaded at run time.
    from .types import (
        ApprovalsReviewer,
        AskForApproval,
        Personality,
        ReasoningEffort,
        ReasoningSummary,
        SandboxPolicy,
    )

__all__ = ["SandboxShorthand", "TURN_OPTIONS", "TurnOptions", "turn_params"]

SandboxShorthand: TypeAlias = Literal["read-only", "workspace-write", "danger-full-access"]
"""The sandbox modes by name, for ``sandbox_policy=``."""


class TurnOptions(TypedDict, total=False):
    """Options of a new turn, given as keywords to ``chat``/``chat_once``.

    Each maps to the camelCase field of ``turn/start`` (``approval_policy`` →
    ``approvalPolicy``); ``None`` leaves a field out. Most apply to this turn and the thread's
    later turns, as the server defines. A misspelt name or value is a type error.
    """

    cwd: str | None
    """Working directory for the turn (a path on the server's machine)."""
    model: str | None
    """Model name."""
    effort: ReasoningEffort | None
    """Reasoning effort, e.g. ``"low"``, ``"medium"``, ``"high"``."""
    summary: ReasoningSummary | None
    """Reasoning summary: ``"auto"``, ``"concise"``, ``"detailed"`` or ``"none"``."""
    personality: Personality | None
    """Deprecated by the server; kept for older servers."""
    approval_policy: AskForApproval | None
    """When the server asks before acting: ``"untrusted"``, ``"on-request"``, ``"never"``
    (or the granular object)."""
    approvals_reviewer: ApprovalsReviewer | None
    """Where approval requests go: ``"user"`` (our handlers), ``"auto_review"``, ..."""
    sandbox_policy: SandboxPolicy | SandboxShorthand | None
    """A ``SandboxPolicy`` object, or a mode by name."""
    output_schema: Mapping[str, Any] | None
    """JSON Schema the final message must follow."""
    service_tier: str | None
    """Service tier for the turn and the thread's later turns."""
    client_user_message_id: str | None
    """An id of the caller's own for the user message."""


TURN_OPTIONS: Final[Mapping[str, str]] = {
    "cwd": "cwd",
    "model": "model",
    "effort": "effort",
    "summary": "summary",
    "personality": "personality",
    "approval_policy": "approvalPolicy",
    "approvals_reviewer": "approvalsReviewer",
    "sandbox_policy": "sandboxPolicy",
    "output_schema": "outputSchema",
    "service_tier": "serviceTier",
    "client_user_message_id": "clientUserMessageId",
}
"""Turn options accepted as keywords, mapped to their ``turn/start`` field."""

_SANDBOX_SHORTHANDS: Final[Mapping[str, dict[str, str]]] = {
    "read-only": {"type": "readOnly"},
    "workspace-write": {"type": "workspaceWrite"},
    "danger-full-access": {"type": "dangerFullAccess"},
}


def turn_params(
    text: str,
    images: Sequence[str],
    local_images: Sequence[str | os.PathLike[str]],
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """The ``turn/start`` params (without ``threadId``) for a text and its options.

    Raises:
        TypeError: an unknown option (for callers without a type checker).
        ValueError: an unknown sandbox mode name.
    """
    unknown = sorted(set(options) - set(TURN_OPTIONS))
    if unknown:
        raise TypeError(
            f"unknown turn option(s): {', '.join(unknown)}; accepted: "
            + ", ".join(sorted(TURN_OPTIONS))
        )
    items: list[dict[str, Any]] = [{"type": "text", "text": text, "text_elements": []}]
    items += [{"type": "image", "url": url} for url in images]
    items += [{"type": "localImage", "path": os.fspath(path)} for path in local_images]
    params: dict[str, Any] = {"input": items}
    for name, value in options.items():
        if value is None:
            continue
        if name == "sandbox_policy" and isinstance(value, str):
            if value not in _SANDBOX_SHORTHANDS:
                raise ValueError(
                    f"sandbox_policy {value!r} is not one of {sorted(_SANDBOX_SHORTHANDS)}; "
                    "pass a SandboxPolicy object for anything finer"
                )
            value = _SANDBOX_SHORTHANDS[value]
        params[TURN_OPTIONS[name]] = value
    return params
