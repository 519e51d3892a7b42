"""The stdio plugin: registers the ``stdio://`` transport with codex-app-server-client.

Loaded through the entry point ``stdio`` of the group ``codex_app_server_client``. It imports
only core at module level; the transport itself (and anyio) is imported when a ``stdio://``
URL is actually opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from codex_app_server_client.hookspecs import hookimpl
from codex_app_server_client.transport import TransportSpec

if TYPE_CHECKING:
    from ._transport import StdioTransport

__all__ = ["codex_app_server_client_transports", "open_stdio"]

# Kept in step with ``_transport.OPTIONS`` (a test checks it); repeated here so that listing
# the installed transports does not import the transport module.
_OPTIONS = (
    "command",
    "env",
    "cwd",
    "max_message_bytes",
    "stderr_tail_bytes",
    "close_grace",
    "terminate_timeout",
)


def open_stdio(url: str, options: Mapping[str, Any]) -> AbstractAsyncContextManager[StdioTransport]:
    """Open a stdio transport; see :func:`codex_app_server_client_stdio.open_stdio`."""
    from ._transport import open_stdio as _open

    return _open(url, options)


@hookimpl(trylast=True)
def codex_app_server_client_transports() -> list[TransportSpec]:
    """Declare the ``stdio`` transport.

    Marked ``trylast``: a third-party plugin that also serves ``stdio://`` wins on purpose.
    """
    return [
        TransportSpec(
            name="stdio",
            schemes=("stdio",),
            open=open_stdio,
            summary="runs `codex app-server` as a child process and talks JSON lines over "
            "its stdin and stdout",
            options=_OPTIONS,
        )
    ]
