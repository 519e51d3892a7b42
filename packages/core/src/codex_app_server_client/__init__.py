"""Async Python client for the Codex app-server JSON-RPC protocol.

Start with :class:`CodexClient`. Transports (``stdio://``, ``ws://``, ``wss://`` and any that
a third party ships) are plugins; see :mod:`codex_app_server_client.plugins`.
"""

from __future__ import annotations

from ._version import __version__
from .client import CodexClient
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
from .transport import SupportsSendEof, Transport, TransportSpec

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
    "SupportsSendEof",
    "Transport",
    "TransportSpec",
    "__version__",
]
