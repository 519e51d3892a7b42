"""Exit codes of ``codex-client`` and how errors map onto them (documented in docs/cli.md)."""

from __future__ import annotations

from typing import Final

from ..errors import (
    CodexError,
    CodexProtocolError,
    CodexTimeoutError,
    CodexTransportError,
    CodexTurnFailedError,
)

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
"""The server answered with an error, or another error this table does not name."""
EXIT_USAGE: Final = 2
EXIT_CONNECTION: Final = 3
EXIT_TURN_FAILED: Final = 4
EXIT_TURN_INTERRUPTED: Final = 5
EXIT_TIMEOUT: Final = 6
EXIT_NOT_LOGGED_IN: Final = 7
EXIT_CTRL_C: Final = 130


class NotLoggedInError(CodexError):
    """The server's model provider needs an OpenAI login and there is none.

    The message says how to log in; the command exits with :data:`EXIT_NOT_LOGGED_IN`.
    """


class UsageError(CodexError):
    """The command line asks for something impossible; the message says what to change."""


def exit_code_for(error: BaseException) -> int:
    """The exit code for an error that ended a command."""
    if isinstance(error, NotLoggedInError):
        return EXIT_NOT_LOGGED_IN
    if isinstance(error, UsageError):
        return EXIT_USAGE
    if isinstance(error, CodexTurnFailedError):
        return EXIT_TURN_FAILED
    if isinstance(error, CodexTimeoutError | TimeoutError):
        return EXIT_TIMEOUT
    if isinstance(error, CodexTransportError):
        return EXIT_CONNECTION
    if isinstance(error, CodexProtocolError):
        return EXIT_ERROR
    return EXIT_ERROR


def error_kind(error: BaseException) -> str:
    """The ``kind`` field of a ``--json`` error event."""
    if isinstance(error, NotLoggedInError):
        return "not_logged_in"
    if isinstance(error, UsageError):
        return "usage"
    if isinstance(error, CodexTurnFailedError):
        return "turn_failed"
    if isinstance(error, CodexTimeoutError | TimeoutError):
        return "timeout"
    if isinstance(error, CodexTransportError):
        return "connection"
    if isinstance(error, CodexProtocolError):
        return "server_error"
    return "error"
