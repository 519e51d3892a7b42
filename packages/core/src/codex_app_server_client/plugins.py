"""Finding transports: the plugin manager, entry-point loading and URL-scheme resolution.

Transports arrive only through the :mod:`~codex_app_server_client.hookspecs` hook. The
first-party ``stdio`` and ``ws`` transports are ordinary plugins found through the entry-point
group ``codex_app_server_client``, exactly as a third-party transport is.

Entry points are loaded lazily: importing this SDK loads none; the first resolution of a URL
(or :func:`available_transports`) loads them all, once per plugin manager. A plugin whose
import fails is skipped with a logged warning instead of breaking every other transport.

Set the environment variable ``CODEX_APP_SERVER_CLIENT_BLOCK_PLUGINS`` to a comma-separated
list of entry-point names (for example ``ws`` or ``mytransport``) to keep those plugins from
loading, e.g. to recover from a plugin that crashes on import or to let another plugin serve
a scheme.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import pluggy

from . import hookspecs
from .errors import CodexTransportNotFoundError
from .transport import TransportSpec

__all__ = [
    "BLOCK_PLUGINS_ENV",
    "PluginManager",
    "available_transports",
    "check_options",
    "default_plugin_manager",
    "get_plugin_manager",
    "resolve_transport",
    "url_scheme",
]

logger = logging.getLogger("codex_app_server_client.plugins")

BLOCK_PLUGINS_ENV = "CODEX_APP_SERVER_CLIENT_BLOCK_PLUGINS"
"""Comma-separated entry-point names that must not be loaded."""

ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME

# Which extra of the core distribution brings the first-party transport for a scheme: used
# to tell the user what to install when a scheme is missing.
_FIRST_PARTY_EXTRAS = {"stdio": "stdio", "ws": "ws", "wss": "ws"}


class PluginManager(pluggy.PluginManager):
    """A pluggy manager for this SDK's hooks that loads entry points on first use.

    Create one with :func:`get_plugin_manager`. Register extra plugins (an object or module
    with ``@hookimpl`` functions) with :meth:`register` at any time; resolution reflects them
    at the next call.
    """

    def __init__(self, *, load_entry_points: bool = True) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self._entry_points_pending = load_entry_points

    def ensure_loaded(self) -> None:
        """Import and register the entry-point plugins, once; a no-op afterwards."""
        if not self._entry_points_pending:
            return
        self._entry_points_pending = False
        blocked = _blocked_names()
        for name in blocked:
            self.set_blocked(name)
        for ep in _entry_points():
            if self.is_blocked(ep.name) or self.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
            except Exception:
                logger.warning(
                    "transport plugin %r (%s) failed to import and is skipped; add it to %s "
                    "to silence this",
                    ep.name,
                    ep.value,
                    BLOCK_PLUGINS_ENV,
                    exc_info=True,
                )
                continue
            self.register(plugin, name=ep.name)
        self.check_pending()

    def transport_specs(self) -> list[TransportSpec]:
        """All specs the registered plugins declare, in precedence order (winner first)."""
        self.ensure_loaded()
        specs: list[TransportSpec] = []
        for result in self.hook.codex_app_server_client_transports():
            for spec in result:
                if not isinstance(spec, TransportSpec):
                    logger.warning("ignoring a non-TransportSpec value from a plugin: %r", spec)
                    continue
                specs.append(spec)
        return specs

    def schemes(self) -> dict[str, TransportSpec]:
        """Map each served URL scheme to the spec that wins it."""
        table: dict[str, TransportSpec] = {}
        for spec in self.transport_specs():
            for scheme in spec.schemes:
                key = scheme.lower()
                if key in table:
                    if table[key] is not spec:
                        logger.debug(
                            "transport %r for %s:// is shadowed by %r",
                            spec.name,
                            key,
                            table[key].name,
                        )
                    continue
                table[key] = spec
        return table


def _blocked_names() -> list[str]:
    raw = os.environ.get(BLOCK_PLUGINS_ENV, "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def _entry_points() -> Iterable[metadata.EntryPoint]:
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


def get_plugin_manager(*, load_entry_points: bool = True) -> PluginManager:
    """Create a new plugin manager.

    Args:
        load_entry_points: load the installed plugins (lazily, on first resolution). Pass
            ``False`` for a manager that only knows what you :meth:`~PluginManager.register`.
    """
    return PluginManager(load_entry_points=load_entry_points)


_default: PluginManager | None = None


def default_plugin_manager() -> PluginManager:
    """The process-wide manager used when a client is given no ``plugin_manager``."""
    global _default
    if _default is None:
        _default = get_plugin_manager()
    return _default


def url_scheme(url: str) -> str:
    """The lower-case scheme of a transport URL such as ``stdio://`` or ``ws://host:1234``.

    Raises:
        ValueError: the string has no ``scheme://`` prefix.
    """
    if "://" not in url:
        raise ValueError(
            f"transport URL {url!r} has no scheme; write it as 'stdio://', "
            "'ws://HOST:PORT' or 'wss://HOST:PORT'"
        )
    return urlsplit(url).scheme.lower()


def available_transports(plugin_manager: PluginManager | None = None) -> dict[str, TransportSpec]:
    """The installed transports, as a map from URL scheme to the spec that serves it."""
    return (plugin_manager or default_plugin_manager()).schemes()


def resolve_transport(url: str, plugin_manager: PluginManager | None = None) -> TransportSpec:
    """Pick the transport that serves ``url``'s scheme.

    Raises:
        CodexTransportNotFoundError: no installed plugin serves the scheme; the message lists
            the installed schemes and the extra that would provide the missing one.
        ValueError: ``url`` has no scheme.
    """
    scheme = url_scheme(url)
    table = available_transports(plugin_manager)
    spec = table.get(scheme)
    if spec is not None:
        return spec
    installed = tuple(sorted(table))
    listed = ", ".join(f"{s}://" for s in installed) or "none"
    extra = _FIRST_PARTY_EXTRAS.get(scheme)
    if extra is not None:
        hint = (
            f"install it with: pip install 'codex-app-server-client[{extra}]' "
            f"(or [all] for every first-party transport)"
        )
        blocked = _blocked_names()
        if blocked:
            hint += f"; note that {BLOCK_PLUGINS_ENV} blocks: {', '.join(blocked)}"
    else:
        hint = (
            "no first-party transport serves it; install a plugin that does, or pass a "
            "Transport object instead of a URL"
        )
    raise CodexTransportNotFoundError(
        f"no transport is installed for {scheme}:// URLs (installed: {listed}); {hint}",
        scheme=scheme,
        available=installed,
    )


def check_options(transport: str, options: Mapping[str, Any], accepted: Iterable[str]) -> None:
    """Raise a TypeError naming any option the transport does not accept; for openers."""
    allowed = set(accepted)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(
            f"the {transport} transport does not accept the option(s) {', '.join(unknown)}; "
            f"it accepts: {', '.join(sorted(allowed)) or 'none'}"
        )
