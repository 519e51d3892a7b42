"""Validation of the ``ws://`` / ``wss://`` opener's options, done before any I/O.

Kept free of :mod:`websockets` imports so that a bad option fails fast and cheaply.
"""

from __future__ import annotations

import logging
import ssl as ssl_module
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from codex_app_server_client.plugins import check_options

__all__ = ["OPTION_NAMES", "WebSocketSettings", "parse_options", "redacted_url"]

OPTION_NAMES: tuple[str, ...] = (
    "token",
    "headers",
    "ssl",
    "open_timeout",
    "close_timeout",
    "max_message_bytes",
    "ping_interval",
    "ping_timeout",
)
"""The options the WebSocket opener accepts, in documentation order."""

DEFAULT_OPEN_TIMEOUT = 10.0
DEFAULT_CLOSE_TIMEOUT = 2.0
DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024
DEFAULT_PING_INTERVAL = 20.0
DEFAULT_PING_TIMEOUT = 20.0

# Headers the WebSocket handshake itself owns: a second copy would make the upgrade invalid
# or ambiguous, so they are refused instead of silently duplicated.
_HANDSHAKE_HEADERS = frozenset(
    {
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
    }
)

# Header values never written to a log: they usually carry credentials.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


@dataclass(frozen=True, slots=True)
class WebSocketSettings:
    """Everything needed to open one connection, validated; built by :func:`parse_options`."""

    url: str
    display_url: str
    secure: bool
    token: str | None
    headers: tuple[tuple[str, str], ...]
    ssl: ssl_module.SSLContext | None
    open_timeout: float | None
    close_timeout: float
    max_message_bytes: int | None
    ping_interval: float | None
    ping_timeout: float | None

    def __repr__(self) -> str:
        # The token and header values stay out of every repr.
        return f"WebSocketSettings(url={self.display_url!r}, token={'set' if self.token else None})"

    def request_headers(self) -> list[tuple[str, str]]:
        """The extra handshake headers to send, the bearer token first."""
        headers: list[tuple[str, str]] = []
        if self.token is not None:
            headers.append(("Authorization", f"Bearer {self.token}"))
        headers.extend(self.headers)
        return headers

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in a log line or an error message."""
        found: list[str] = []
        if self.token:
            found.append(self.token)
        found.extend(value for name, value in self.headers if name.lower() in SECRET_HEADERS)
        return tuple(s for s in found if s)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``<redacted>``."""
        for secret in self.secrets():
            text = text.replace(secret, "<redacted>")
        return text


def redacted_url(url: str) -> str:
    """``scheme://host:port/path`` of ``url``: no userinfo, query or fragment, safe to show."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path}"


def _timeout(name: str, value: Any, *, allow_none: bool) -> float | None:
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{name} must be a positive number of seconds, not None")
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def _headers(value: Any, *, token: str | None) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise TypeError(
            f"headers must be a mapping of header names to values, got {type(value).__name__}"
        )
    result: list[tuple[str, str]] = []
    for name, header_value in value.items():  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(name, str) or not isinstance(header_value, str):
            raise TypeError("headers must map str header names to str values")
        lower = name.lower()
        if lower == "origin":
            raise ValueError(
                "the Origin header is not allowed: the codex app-server refuses (HTTP 403) any "
                "WebSocket upgrade that carries one; remove it from headers"
            )
        if lower in _HANDSHAKE_HEADERS:
            raise ValueError(
                f"the {name} header belongs to the WebSocket handshake and is set by the "
                "transport; remove it from headers"
            )
        if lower == "authorization" and token is not None:
            raise ValueError(
                "both token= and an Authorization header were given; pass the bearer token "
                "once, as token="
            )
        result.append((name, header_value))
    return tuple(result)


def parse_options(url: str, options: Mapping[str, Any]) -> WebSocketSettings:
    """Check the URL and the options of the WebSocket opener and return the settings.

    Raises:
        TypeError: an unknown option, or an option of the wrong type.
        ValueError: a URL that is not ``ws://`` or ``wss://``, credentials in the URL, an
            ``Origin`` header, or an option value out of range.
    """
    check_options("ws", options, OPTION_NAMES)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError as exc:
        raise ValueError(f"invalid WebSocket URL {redacted_url(url)!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss"):
        raise ValueError(f"the ws transport serves ws:// and wss:// URLs, not {scheme}://")
    if not parts.hostname:
        raise ValueError(f"the WebSocket URL {redacted_url(url)!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "credentials in a WebSocket URL are not supported (the codex app-server only "
            "accepts a bearer token); remove them from the URL and pass token= instead"
        )
    secure = scheme == "wss"

    token = options.get("token")
    if token is not None and (not isinstance(token, str) or not token):
        raise TypeError("token must be a non-empty str (the bearer token) or None")

    ssl_option = options.get("ssl")
    context: ssl_module.SSLContext | None
    if isinstance(ssl_option, ssl_module.SSLContext):
        if not secure:
            raise ValueError("ssl= only applies to wss:// URLs; use wss:// or drop ssl=")
        context = ssl_option
    elif ssl_option is None or ssl_option is True:
        # Verification on, with the system's trust store: the only safe default.
        context = ssl_module.create_default_context() if secure else None
    else:
        raise TypeError(
            "ssl must be an ssl.SSLContext, True or None (certificates are always verified "
            "by default; build a context to trust a private certificate authority)"
        )

    max_bytes = options.get("max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES)
    if max_bytes is not None and (
        isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0
    ):
        raise ValueError(f"max_message_bytes must be a positive int or None, got {max_bytes!r}")

    close_timeout = _timeout(
        "close_timeout", options.get("close_timeout", DEFAULT_CLOSE_TIMEOUT), allow_none=False
    )
    assert close_timeout is not None
    return WebSocketSettings(
        url=url,
        display_url=redacted_url(url),
        secure=secure,
        token=token,
        headers=_headers(options.get("headers"), token=token),
        ssl=context,
        open_timeout=_timeout(
            "open_timeout", options.get("open_timeout", DEFAULT_OPEN_TIMEOUT), allow_none=True
        ),
        close_timeout=close_timeout,
        max_message_bytes=max_bytes,
        ping_interval=_timeout(
            "ping_interval", options.get("ping_interval", DEFAULT_PING_INTERVAL), allow_none=True
        ),
        ping_timeout=_timeout(
            "ping_timeout", options.get("ping_timeout", DEFAULT_PING_TIMEOUT), allow_none=True
        ),
    )


class RedactingLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger for :mod:`websockets` that never writes a secret header value.

    websockets logs every handshake header at DEBUG level; this adapter replaces the values of
    credential headers (and any occurrence of a secret) before the record is created.
    """

    def __init__(self, logger: logging.Logger, settings: WebSocketSettings) -> None:
        super().__init__(logger, {})
        self._settings = settings

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        clean: list[object] = []
        for position, arg in enumerate(args):
            if position == 1 and isinstance(args[0], str) and args[0].lower() in SECRET_HEADERS:
                clean.append("<redacted>")
            elif isinstance(arg, str):
                clean.append(self._settings.redact(arg))
            else:
                clean.append(arg)
        if isinstance(msg, str):
            msg = self._settings.redact(msg)
        super().log(level, msg, *clean, **kwargs)
