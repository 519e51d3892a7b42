"""A throw-away CODEX_HOME that keeps the real ``codex`` binary offline, for tests.

:func:`write_codex_home` writes a ``config.toml`` whose only model provider is a local fake
(usually :class:`~codex_app_server_client.testing.fake_provider.FakeResponsesProvider`) and
turns off the features that make codex reach the internet at start-up. Merge the returned
environment into the child's environment and start ``codex app-server``.
:func:`find_codex_binary` locates a binary to start.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from .._codex_binary import locate_codex

__all__ = ["find_codex_binary", "render_config_toml", "write_codex_home"]

_PROVIDER_ID = "mock"


def _toml_value(value: object) -> str:
    """A TOML literal for a str, bool, int, float, list or table (inline) value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML cannot hold a non-finite float: {value!r}")
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string (same escapes) for everything we emit.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        items: list[object] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        return "[" + ", ".join(_toml_value(item) for item in items) + "]"
    if isinstance(value, Mapping):
        table: Mapping[object, object] = value  # pyright: ignore[reportUnknownVariableType]
        return (
            "{ "
            + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in table.items())
            + " }"
        )
    raise TypeError(f"cannot write {type(value).__name__} to TOML: {value!r}")


def _toml_key(key: str) -> str:
    if key and all(c.isalnum() or c in "-_" for c in key):
        return key
    return json.dumps(key, ensure_ascii=False)


def render_config_toml(
    *,
    provider_url: str,
    model: str = "mock-model",
    approval_policy: str = "never",
    sandbox_mode: str = "read-only",
    stream_idle_timeout_ms: int | None = None,
    extra_config: Mapping[str, object] | None = None,
    provider_options: Mapping[str, object] | None = None,
) -> str:
    """The text :func:`write_codex_home` writes to ``config.toml``; see there for the arguments."""
    if approval_policy == "untrusted":
        raise ValueError(
            'approval_policy = "untrusted" in config.toml makes codex exit at start-up '
            '("no longer supported"); write another policy here and pass '
            '{"approvalPolicy": "untrusted"} in thread/start or turn/start params instead'
        )
    lines = [
        "# Written by codex_app_server_client.testing.codex_home: offline, for tests only.",
        f"model = {_toml_value(model)}",
        f"model_provider = {_toml_value(_PROVIDER_ID)}",
        f"approval_policy = {_toml_value(approval_policy)}",
        f"sandbox_mode = {_toml_value(sandbox_mode)}",
    ]
    tables: dict[str, Mapping[str, object]] = {}
    extra: Mapping[str, object] = extra_config or {}
    for key, value in extra.items():
        if key in ("features", "analytics"):
            continue
        if isinstance(value, Mapping):
            tables[key] = cast("Mapping[str, object]", value)
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    features: dict[str, object] = {"plugins": False}
    extra_features = extra.get("features")
    if isinstance(extra_features, Mapping):
        features.update(cast("Mapping[str, object]", extra_features))
    analytics: dict[str, object] = {"enabled": False}
    extra_analytics = extra.get("analytics")
    if isinstance(extra_analytics, Mapping):
        analytics.update(cast("Mapping[str, object]", extra_analytics))
    provider: dict[str, object] = {
        "name": "Fake Responses API",
        "base_url": provider_url,
        "wire_api": "responses",
        "request_max_retries": 0,
        "stream_max_retries": 0,
    }
    if stream_idle_timeout_ms is not None:
        provider["stream_idle_timeout_ms"] = stream_idle_timeout_ms
    provider.update(provider_options or {})
    sections: list[tuple[str, Mapping[str, object]]] = [
        ("features", features),
        ("analytics", analytics),
        (f"model_providers.{_PROVIDER_ID}", provider),
        *tables.items(),
    ]
    for name, body in sections:
        lines.append("")
        lines.append(f"[{name}]")
        lines.extend(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in body.items())
    return "\n".join(lines) + "\n"


def write_codex_home(
    path: str | os.PathLike[str],
    *,
    provider_url: str,
    model: str = "mock-model",
    approval_policy: str = "never",
    sandbox_mode: str = "read-only",
    stream_idle_timeout_ms: int | None = None,
    extra_config: Mapping[str, object] | None = None,
    provider_options: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """Create ``path`` as a CODEX_HOME whose only model provider is ``provider_url``.

    The ``config.toml`` names a provider ``mock`` (``wire_api = "responses"``, no retries, no
    API key), turns off ``[features] plugins`` and ``[analytics]`` (with them on, codex looks
    up public hosts at start-up), and sets the model, approval policy and sandbox mode.

    Args:
        path: the directory to create (parents too); an existing ``config.toml`` is replaced.
            Prefer a folder outside the system temp dir to avoid a harmless stderr warning.
        provider_url: the provider's base URL, e.g. ``FakeResponsesProvider.base_url``.
        model: the model slug sent to the provider. Unknown slugs make codex emit a
            "Model metadata ... not found" ``warning`` notification on every turn.
        approval_policy: ``"never"``, ``"on-request"`` or ``"on-failure"``. ``"untrusted"``
            raises :class:`ValueError`: codex refuses it in the file, pass it per thread.
        sandbox_mode: ``"read-only"``, ``"workspace-write"`` or ``"danger-full-access"``.
        stream_idle_timeout_ms: set the provider's SSE idle timeout (for stall tests).
        extra_config: more top-level keys; mapping values become tables, and the
            ``features`` / ``analytics`` mappings are merged over the offline defaults.
        provider_options: more keys of the ``[model_providers.mock]`` table, merged over the
            defaults above, e.g. ``{"stream_max_retries": 2}`` to let codex retry a failed
            model call. Codex 0.163 retries a refused connection without limit whatever these
            say ("Reconnecting... waiting for network", then waits of 5, 10, 20, 40 and 60 s),
            unless ``extra_config={"features": {"unbounded_connection_retries": False}}``.

    Returns:
        The environment variables to add to the child's environment (today just
        ``CODEX_HOME``). Start ``codex app-server`` with
        ``{**os.environ, **env}`` or a smaller base environment; keep API keys out of it.
    """
    home = Path(path).absolute()
    home.mkdir(parents=True, exist_ok=True)
    config = render_config_toml(
        provider_url=provider_url,
        model=model,
        approval_policy=approval_policy,
        sandbox_mode=sandbox_mode,
        stream_idle_timeout_ms=stream_idle_timeout_ms,
        extra_config=extra_config,
        provider_options=provider_options,
    )
    (home / "config.toml").write_text(config, encoding="utf-8")
    # CODEX_HOME is all 0.163.0 needs: with this config, strace showed no connection other
    # than to the provider, and nothing was written outside CODEX_HOME.
    return {"CODEX_HOME": str(home)}


def find_codex_binary() -> str | None:
    """A ``codex`` executable to test against, or ``None``.

    Looks at ``$CODEX_BIN``, then the ``openai-codex-cli-bin`` wheel (``codex_cli_bin``), then
    ``PATH``: the same lookup, in the same order, as the stdio transport's default command.
    Tests usually skip when this returns ``None``.
    """
    found = locate_codex()
    return None if found is None else found.path
