"""Finding transports: the plugin manager, entry-point loading and URL-scheme resolution.

Transports arrive only through the :mod:`~codex_app_server_client.hookspecs` hook. The
first-party ``stdio`` and ``ws`` transports are ordinary plugins found through the entry-point
group ``codex_app_server_client``, exactly as a third-party transport is.

Entry points are loaded lazily: importing this SDK loads none; the first resolution of a URL
(or :func:`available_transports`) loads them all, once per plugin manager.

One broken plugin never breaks the others. A plugin that fails to import, that pluggy rejects
(a misspelt hook name, a hook taking arguments the hookspec does not have, a hook wrapper),
whose hook raises, or whose hook returns anything but a list of
:class:`~codex_app_server_client.transport.TransportSpec` is skipped with a
:class:`CodexPluginWarning` that names it, says what is wrong and what to do; the other
plugins keep serving their schemes. Each problem is reported once per plugin manager; the
traceback, when there is one, is logged at DEBUG level on ``codex_app_server_client.plugins``.

Set the environment variable ``CODEX_APP_SERVER_CLIENT_BLOCK_PLUGINS`` to a comma-separated
list of entry-point names (for example ``ws`` or ``mytransport``) to keep those plugins from
loading, e.g. to recover from a plugin that crashes on import or to let another plugin serve
a scheme.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Mapping
from importlib import metadata
from types import ModuleType
from typing import Any, cast
from urllib.parse import urlsplit

import pluggy

from . import hookspecs
from .errors import CodexTransportNotFoundError
from .transport import TransportSpec

__all__ = [
    "BLOCK_PLUGINS_ENV",
    "CodexPluginWarning",
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

_HOOK_NAME = "codex_app_server_client_transports"
_HOOK_PART = f"has a {_HOOK_NAME} hook that"


class CodexPluginWarning(UserWarning):
    """A transport plugin is broken and was skipped; the other plugins still work.

    The message names the plugin (its entry-point name and module), says what is wrong and
    what to do. Filter on this category to silence it or, in a plugin's own test suite, to
    turn it into an error.
    """


class PluginManager(pluggy.PluginManager):
    """A pluggy manager for this SDK's hooks that loads entry points on first use.

    Create one with :func:`get_plugin_manager`. Register extra plugins (an object or module
    with ``@hookimpl`` functions) with :meth:`register` at any time; resolution reflects them
    at the next call. A broken plugin is skipped with a :class:`CodexPluginWarning` rather
    than breaking the others.
    """

    def __init__(self, *, load_entry_points: bool = True) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self._entry_points_pending = load_entry_points
        # Where each entry-point plugin came from ("module:attr"), for messages.
        self._origins: dict[str, str] = {}
        # (plugin name, problem) pairs already reported, so a lookup repeated for every
        # client does not repeat the warning.
        self._reported: set[tuple[str, str]] = set()

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
            self._origins[ep.name] = ep.value
            try:
                plugin = ep.load()
            except Exception as exc:
                self._report(ep.name, "import", f"failed to import ({exc!r})", exc)
                continue
            self.register(plugin, name=ep.name)

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` (a module or object with ``@hookimpl`` functions).

        Returns its name, or ``None`` when it was not registered: it is blocked, or it is
        broken (an ``@hookimpl`` whose name is not a hook of this SDK, a hook whose arguments
        do not match the hookspec, a hook wrapper), which is reported with a
        :class:`CodexPluginWarning`. Registering the same object or name twice raises
        :class:`ValueError`, as in pluggy.
        """
        label = name if name is not None else self.get_canonical_name(plugin)
        try:
            registered = super().register(plugin, name)
        except pluggy.PluginValidationError as exc:
            self._report(label, "invalid", f"was rejected by pluggy: {exc}", plugin=plugin)
            return None
        if registered is None:
            return None
        problem = self._hook_problem(plugin)
        if problem is not None:
            self.unregister(plugin)
            self._report(registered, "invalid", problem, plugin=plugin)
            return None
        return registered

    def _hook_problem(self, plugin: object) -> str | None:
        """What is wrong with a just-registered plugin's hooks, or ``None``."""
        for caller in self.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                if not caller.has_spec() and not impl.optionalhook:
                    return (
                        f"has an @hookimpl function named {caller.name!r}, which is not a hook "
                        f"of this SDK (misspelt? the hook is {_HOOK_NAME!r})"
                    )
                if caller.name == _HOOK_NAME and (impl.hookwrapper or impl.wrapper):
                    return (
                        f"implements {_HOOK_NAME!r} as a hook wrapper, which this hook does not "
                        "support; make it a plain @hookimpl that returns a list of TransportSpec"
                    )
        return None

    def transport_specs(self) -> list[TransportSpec]:
        """All specs the registered plugins declare, in precedence order (winner first).

        A plugin whose hook raises or returns anything but a list (or tuple) of
        :class:`TransportSpec` is skipped, whole, with a :class:`CodexPluginWarning`.
        """
        self.ensure_loaded()
        specs: list[TransportSpec] = []
        # pluggy's call order: tryfirst, then plain (last registered first), then trylast.
        # Each implementation is called on its own so that one failure stays contained.
        for impl in reversed(self.hook.codex_app_server_client_transports.get_hookimpls()):
            try:
                result: object = impl.function()
            except Exception as exc:
                self._report(impl.plugin_name, "raised", f"{_HOOK_PART} raised {exc!r}", exc)
                continue
            problem = _result_problem(result)
            if problem is not None:
                self._report(impl.plugin_name, "returned", f"{_HOOK_PART} {problem}")
                continue
            assert isinstance(result, list | tuple)
            specs.extend(cast("list[TransportSpec] | tuple[TransportSpec, ...]", result))
        return specs

    def _report(
        self,
        name: str,
        kind: str,
        problem: str,
        exc: BaseException | None = None,
        *,
        plugin: object = None,
    ) -> None:
        """Warn, once per plugin and kind of problem, that a plugin is broken and skipped."""
        if (name, kind) in self._reported:
            return
        self._reported.add((name, kind))
        origin = self._origins.get(name)
        if origin is None and plugin is None:
            plugin = self.get_plugin(name)
        if origin is not None:
            where = f"transport plugin {name!r} (entry point {origin})"
            advice = (
                f"upgrade or fix that package, uninstall it, or set {BLOCK_PLUGINS_ENV}={name} "
                "to stop loading it"
            )
        else:
            where = f"transport plugin {name!r} ({_plugin_origin(plugin)})"
            advice = "fix the plugin, or stop registering it"
        message = (
            f"{where} {problem}; it is skipped and the other transports still work. To fix: "
            f"{advice}."
        )
        warnings.warn(message, CodexPluginWarning, stacklevel=3)
        if exc is not None:
            logger.debug("traceback of the skipped plugin %r", name, exc_info=exc)

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


def _result_problem(result: object) -> str | None:
    """Why a hook's return value is not a list of specs, or ``None`` when it is one."""
    if not isinstance(result, list | tuple):
        return (
            f"returned {_short_repr(result)} instead of a list of TransportSpec "
            "(return an empty list to offer none)"
        )
    items = cast("list[object] | tuple[object, ...]", result)
    for index, item in enumerate(items):
        if not isinstance(item, TransportSpec):
            return (
                f"returned a list whose item {index} is {_short_repr(item)}, not a "
                "codex_app_server_client.transport.TransportSpec"
            )
    return None


def _short_repr(value: object) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__qualname__})"


def _plugin_origin(plugin: object) -> str:
    """Where a registered plugin's code lives: a module name or ``module.Class``."""
    if isinstance(plugin, ModuleType):
        return f"module {plugin.__name__}"
    kind = type(plugin)
    return f"{kind.__module__}.{kind.__qualname__}"


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
