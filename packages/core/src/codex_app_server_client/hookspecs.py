"""The plugin hooks of codex-app-server-client: the whole extension surface in one place.

A plugin is a module with one decorated function, registered under the entry-point group
``codex_app_server_client`` in its distribution's ``pyproject.toml``::

    [project.entry-points.codex_app_server_client]
    mytransport = "my_package._plugin"

and, in ``my_package/_plugin.py``::

    from codex_app_server_client.hookspecs import hookimpl
    from codex_app_server_client.transport import TransportSpec

    @hookimpl
    def codex_app_server_client_transports() -> list[TransportSpec]:
        return [TransportSpec(name="mytransport", schemes=("my",), open=open_my_transport)]

Keep the plugin module cheap to import: import heavy dependencies inside the opener, because
every plugin module is imported the first time any transport is resolved.

Hooks are synchronous. They register factories; all I/O happens later, in the opener.

A broken plugin (one that fails to import, has an ``@hookimpl`` whose name is not a hook
below, raises from its hook, or returns anything but a list of ``TransportSpec``) is skipped
with a :class:`~codex_app_server_client.plugins.CodexPluginWarning` naming it; the other
plugins keep working.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .transport import TransportSpec

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "codex_app_server_client"
"""The pluggy project name, which is also the entry-point group plugins register under."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def codex_app_server_client_transports() -> Sequence[TransportSpec]:  # type: ignore[empty-body]
    """Declare the transports this plugin provides.

    Return a list with one :class:`~codex_app_server_client.transport.TransportSpec` per
    transport (an empty list for none; a tuple is accepted too). When several plugins claim
    the same URL scheme, the spec returned first in pluggy's call order wins: implementations
    marked ``tryfirst`` come first, then unmarked ones (most recently registered first), then
    ``trylast`` ones. The first-party ``stdio`` and ``ws`` plugins are marked ``trylast``, so
    any other installed plugin for ``stdio://``, ``ws://`` or ``wss://`` overrides them on
    purpose, never by accident of install order. Implement it as a plain ``@hookimpl``: a hook
    wrapper is refused.
    """
