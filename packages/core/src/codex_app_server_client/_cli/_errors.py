"""How ``codex-client`` words an error: in the command line's terms, never the SDK's.

The SDK's messages tell a Python caller what to pass (``timeout=``, ``.continuation``, ...);
a command-line user needs the options instead (``--timeout``, ``--thread``, ...). For the
errors whose advice names SDK keywords, the CLI composes its own text from the error's
attributes and its own options. Any other message is used as is, except that a stray SDK
keyword in it is still replaced by the matching option, as a safety net.
"""

from __future__ import annotations

import argparse
import re

from ..errors import CodexTimeoutError, CodexTurnInactiveError

__all__ = ["cli_words", "describe", "inactive_fact"]

_METHOD = re.compile(r"^(\S+) got no answer within ")

_KEYWORDS = (
    (re.compile(r"\binactivity_timeout=(?:\.\.\.)?"), "--inactivity-timeout"),
    (re.compile(r"\brequest_timeout=(?:\.\.\.)?"), "--timeout"),
    (re.compile(r"\btimeout=(?:\.\.\.)?"), "--timeout"),
    (re.compile(r"\bthread_id=(?:\.\.\.)?"), "--thread"),
    (re.compile(r"\btoken=(?:\.\.\.)?"), "--token"),
)
"""SDK keywords (optionally followed by ``...``) and the options that set the same thing."""


def cli_words(text: str) -> str:
    """``text`` with each SDK keyword it names replaced by the matching CLI option."""
    for pattern, option in _KEYWORDS:
        text = pattern.sub(option, text)
    return text


def _seconds(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def inactive_fact(error: CodexTurnInactiveError, args: argparse.Namespace) -> str:
    """What happened, in CLI terms: which turn went quiet, for how long, and the limit."""
    limit = getattr(args, "inactivity_timeout", None)
    option = f" (--inactivity-timeout {limit:g})" if isinstance(limit, int | float) else ""
    where = error.continuation
    return (
        f"turn {where.turn_id} on thread {where.thread_id} produced no event for "
        f"{_seconds(error.idle_seconds)} s{option}"
    )


def describe(error: BaseException, args: argparse.Namespace, *, waited: float | None = None) -> str:
    """The text ``codex-client`` prints for ``error`` (never empty).

    ``waited`` is how long the command waited, for a bare :class:`TimeoutError` of its own
    (which carries no message).
    """
    if isinstance(error, CodexTurnInactiveError):
        return (
            f"{inactive_fact(error, args)}; raise --inactivity-timeout (0 waits without "
            "limit) if the model is just slow"
        )
    timeout = getattr(args, "timeout", None)
    if isinstance(error, CodexTimeoutError) and isinstance(timeout, int | float):
        # The SDK's message names the request (its only detail this error does not carry
        # as an attribute) and then advises on timeout= and request_timeout=.
        match = _METHOD.match(str(error))
        what = f"answer {match.group(1)}" if match else "answer"
        return (
            f"the server did not {what} within {timeout:g} s (--timeout {timeout:g}); it may "
            "be busy or stuck. Try again, or raise --timeout if it is just slow"
        )
    text = str(error).strip()
    if isinstance(error, TimeoutError) and not text:
        after = f" after {waited:g} s" if waited is not None else ""
        return f"timed out{after} (TimeoutError); raise --timeout if the server is just slow"
    if not text:
        return f"{type(error).__name__} (no details given); `codex-client doctor` may say why"
    return cli_words(text)
