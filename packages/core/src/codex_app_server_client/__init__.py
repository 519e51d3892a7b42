"""Async Python client for the Codex app-server JSON-RPC protocol.

Start with :class:`CodexClient`. Its results (:class:`Step`, :class:`ChatResult`,
:class:`CancelResult`, :class:`Continuation`), its turn options (:class:`TurnOptions`) and the
typed server requests a handler receives and the answers it gives are importable from here
too; their home is :mod:`codex_app_server_client.models`. The blocking client is
:mod:`codex_app_server_client.sync`. Transports (``stdio://``, ``ws://``, ``wss://`` and any
that a third party ships) are plugins; see :mod:`codex_app_server_client.plugins`.
"""

# No `from __future__ import annotations` and no `from typing import ...` here: either would
# leave a public name (`annotations`, `TYPE_CHECKING`) on the package that is not its API.
import typing as _typing

from ._version import __version__
from .errors import (
    CodexContinuationError,
    CodexError,
    CodexExperimentalApiError,
    CodexProtocolError,
    CodexServerRequestError,
    CodexTimeoutError,
    CodexTransportError,
    CodexTransportNotFoundError,
    CodexTurnCancelledError,
    CodexTurnFailedError,
    CodexTurnInactiveError,
)
from .transport import SupportsReceiveBatch, SupportsSendEof, Transport, TransportSpec

if _typing.TYPE_CHECKING:
    # Loaded on first use at run time (see __getattr__); declared here for type checkers.
    from ._turn_options import SandboxShorthand, TurnOptions
    from ._turn_stream import TurnStream
    from .client import CodexClient
    from .models import (
        ApprovalDecision,
        ApprovalHandler,
        ApprovalRequest,
        AttestationRequest,
        AuthTokenRefreshRequest,
        AuthTokens,
        CancelResult,
        ChatResult,
        CommandApprovalRequest,
        Continuation,
        DynamicToolCallRequest,
        DynamicToolResult,
        ElicitationAction,
        FileChangeApprovalRequest,
        FinalTextSource,
        LegacyExecApprovalRequest,
        LegacyPatchApprovalRequest,
        McpElicitationRequest,
        McpElicitationResponse,
        PermissionsApprovalRequest,
        PermissionsGrant,
        RetryNotice,
        ReviewDecision,
        ServerRequestHandlers,
        Step,
        TypedServerRequest,
        UserInputOption,
        UserInputQuestion,
        UserInputRequest,
    )

__all__ = [
    "ApprovalDecision",
    "ApprovalHandler",
    "ApprovalRequest",
    "AttestationRequest",
    "AuthTokenRefreshRequest",
    "AuthTokens",
    "CancelResult",
    "ChatResult",
    "CodexClient",
    "CodexContinuationError",
    "CodexError",
    "CodexExperimentalApiError",
    "CodexProtocolError",
    "CodexServerRequestError",
    "CodexTimeoutError",
    "CodexTransportError",
    "CodexTransportNotFoundError",
    "CodexTurnCancelledError",
    "CodexTurnFailedError",
    "CodexTurnInactiveError",
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
    "SandboxShorthand",
    "ServerRequestHandlers",
    "Step",
    "SupportsReceiveBatch",
    "SupportsSendEof",
    "Transport",
    "TransportSpec",
    "TurnOptions",
    "TurnStream",
    "TypedServerRequest",
    "UserInputOption",
    "UserInputQuestion",
    "UserInputRequest",
    "__version__",
]

_MODELS = ".models"
_LAZY: _typing.Final[dict[str, str]] = {
    "CodexClient": ".client",
    "TurnStream": "._turn_stream",
    "SandboxShorthand": "._turn_options",
    "TurnOptions": "._turn_options",
    "ApprovalDecision": _MODELS,
    "ApprovalHandler": _MODELS,
    "ApprovalRequest": _MODELS,
    "AttestationRequest": _MODELS,
    "AuthTokenRefreshRequest": _MODELS,
    "AuthTokens": _MODELS,
    "CancelResult": _MODELS,
    "ChatResult": _MODELS,
    "CommandApprovalRequest": _MODELS,
    "Continuation": _MODELS,
    "DynamicToolCallRequest": _MODELS,
    "DynamicToolResult": _MODELS,
    "ElicitationAction": _MODELS,
    "FileChangeApprovalRequest": _MODELS,
    "FinalTextSource": _MODELS,
    "LegacyExecApprovalRequest": _MODELS,
    "LegacyPatchApprovalRequest": _MODELS,
    "McpElicitationRequest": _MODELS,
    "McpElicitationResponse": _MODELS,
    "PermissionsApprovalRequest": _MODELS,
    "PermissionsGrant": _MODELS,
    "RetryNotice": _MODELS,
    "ReviewDecision": _MODELS,
    "ServerRequestHandlers": _MODELS,
    "Step": _MODELS,
    "TypedServerRequest": _MODELS,
    "UserInputOption": _MODELS,
    "UserInputQuestion": _MODELS,
    "UserInputRequest": _MODELS,
}
"""The exports loaded on first use, by name: the submodule (relative) that defines each.

CodexClient brings anyio's task machinery, orjson, the protocol engine and the result models;
the models alone cost more than the rest of the package. So `import codex_app_server_client`
for its errors or version stays cheap, and `from codex_app_server_client import CodexClient`
(or `Step`, ...) pays for what it names; docs/benchmarks.md reports both costs.
"""


def __getattr__(name: str) -> object:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value: object = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    # The lazy names too, without loading them.
    return sorted({*globals(), *_LAZY})
