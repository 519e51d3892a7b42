"""stdio transport for codex-app-server-client: ``codex app-server`` as a child process.

Installing this distribution makes ``stdio://`` URLs work in the client; nothing needs to be
imported. Import from here to open a transport directly (:func:`open_stdio`), to see which
binary would run (:func:`default_codex_command`), or for the :class:`StdioTransport` type.

The transport classes load lazily, so importing this package (as the plugin loader does) stays
cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._command import (
    CODEX_BIN_ENV,
    ResolvedCommand,
    default_codex_command,
    resolve_default_command,
)

if TYPE_CHECKING:
    from ._transport import (
        DEFAULT_CLOSE_GRACE,
        DEFAULT_MAX_MESSAGE_BYTES,
        DEFAULT_STDERR_TAIL_BYTES,
        DEFAULT_TERMINATE_TIMEOUT,
        StdioTransport,
        open_stdio,
    )

__all__ = [
    "CODEX_BIN_ENV",
    "DEFAULT_CLOSE_GRACE",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_STDERR_TAIL_BYTES",
    "DEFAULT_TERMINATE_TIMEOUT",
    "ResolvedCommand",
    "StdioTransport",
    "default_codex_command",
    "open_stdio",
    "resolve_default_command",
]

_LAZY = frozenset(
    {
        "DEFAULT_CLOSE_GRACE",
        "DEFAULT_MAX_MESSAGE_BYTES",
        "DEFAULT_STDERR_TAIL_BYTES",
        "DEFAULT_TERMINATE_TIMEOUT",
        "StdioTransport",
        "open_stdio",
    }
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import _transport

        return getattr(_transport, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
