"""Async Python client for the Codex app-server JSON-RPC protocol.

Start with :class:`CodexClient`. Transports (``stdio://``, ``ws://``, ``wss://`` and any that
a third party ships) are plugins; see :mod:`codex_app_server_client.plugins`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    CodexTurnFailedError,
    CodexTurnInactiveError,
)
from .transport import SupportsReceiveBatch, SupportsSendEof, Transport, TransportSpec

if TYPE_CHECKING:
    from .client import CodexClient

__all__ = [
    "CodexClient",
    "CodexContinuationError",
    "CodexError",
    "CodexExperimentalApiError",
    "CodexProtocolError",
    "CodexServerRequestError",
    "CodexTimeoutError",
    "CodexTransportError",
    "CodexTransportNotFoundError",
    "CodexTurnFailedError",
    "CodexTurnInactiveError",
    "SupportsReceiveBatch",
    "SupportsSendEof",
    "Transport",
    "TransportSpec",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # CodexClient (and with it anyio's task machinery, orjson, the protocol engine and the
    # result models) loads on first use, so `import codex_app_server_client` for its errors
    # or version stays cheap. `from codex_app_server_client import CodexClient` pays in full;
    # docs/benchmarks.md reports both costs.
    if name == "CodexClient":
        from .client import CodexClient

        globals()["CodexClient"] = CodexClient
        return CodexClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
