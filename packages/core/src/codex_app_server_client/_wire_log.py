"""The wire tap: every message in and out, logged with secrets redacted (opt-in).

Turn it on with ``CodexClient(..., wire_log=True)`` and let the logger
``codex_app_server_client.wire`` emit DEBUG records (configure logging as usual). Each record
is one message: ``"-> {json}"`` for what the client sent, ``"<- {json}"`` for what it
received.

Redaction happens before a record is formatted, in two ways: the value of any member whose
name says it holds a secret (``token``, ``accessToken``, ``apiKey``, ``password``, ...) is
replaced, at any depth; and every secret the client was given (the websocket bearer token, an
``Authorization`` header) is replaced wherever it appears, even inside an ordinary string.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final

import orjson

__all__ = ["REDACTED", "WireTap", "redact", "secrets_of"]

logger = logging.getLogger("codex_app_server_client.wire")

REDACTED: Final = "[redacted]"

_SECRET_WORDS: Final = ("token", "apikey", "api_key", "password", "secret", "authorization")
"""A member whose lowercased name contains one of these holds a secret."""


def _is_secret_key(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: (REDACTED if isinstance(key, str) and _is_secret_key(key) else _scrub(item))
            for key, item in value.items()  # pyright: ignore[reportUnknownVariableType]
        }
    if isinstance(value, list):
        return [_scrub(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def redact(data: bytes, secrets: Iterable[str] = ()) -> str:
    """One wire message as loggable text, secret members and known secret strings replaced.

    A message that is not JSON is logged as (lossily decoded) text, still scrubbed of the
    known secrets.
    """
    try:
        text = orjson.dumps(_scrub(orjson.loads(data))).decode()
    except orjson.JSONDecodeError:
        text = data.decode("utf-8", errors="replace")
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class WireTap:
    """Logs each message to ``codex_app_server_client.wire`` at DEBUG, redacted."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def sent(self, data: bytes) -> None:
        """Record a message the client sent."""
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("-> %s", redact(data, self._secrets))

    def received(self, data: bytes) -> None:
        """Record a message the client received."""
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("<- %s", redact(data, self._secrets))


def secrets_of(options: Mapping[str, Any]) -> list[str]:
    """The secret strings among a transport's options: the token and auth-like headers."""
    found: list[str] = []
    token = options.get("token")
    if isinstance(token, str):
        found.append(token)
    headers = options.get("headers")
    if isinstance(headers, Mapping):
        for name, value in headers.items():  # pyright: ignore[reportUnknownVariableType]
            if isinstance(name, str) and isinstance(value, str) and _is_secret_key(name):
                found.append(value)
                # "Bearer abc": the bare credential must not leak either.
                scheme, _, credential = value.partition(" ")
                if credential and scheme.isalpha():
                    found.append(credential)
    return found
