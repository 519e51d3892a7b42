"""The argument parser, the dispatch to each command, and the error-to-exit-code boundary."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TextIO

import anyio

from ..errors import CodexError
from ._console import Console
from ._context import Connector, Context, connect_by_url
from ._errors import describe
from ._exit import EXIT_CTRL_C, EXIT_USAGE, UsageError, error_kind, exit_code_for

_EPILOG = """\
exit codes: 0 ok, 1 server error, 2 usage error, 3 connection or transport failure,
4 turn failed, 5 turn interrupted, 6 timed out, 7 not logged in, 130 Ctrl-C.
Full documentation: docs/cli.md
"""


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default="stdio://",
        help="server URL: stdio:// (default: starts `codex app-server`) or ws://HOST:PORT",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("CODEX_CLIENT_TOKEN") or None,
        help="bearer token for a ws:// or wss:// server (default: $CODEX_CLIENT_TOKEN)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=30.0,
        metavar="SECONDS",
        help="seconds to wait for each answer of the server (default: 30)",
    )


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per line on stdout instead of text (see docs/cli.md)",
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``codex-client`` argument parser (its help is the reference of every option)."""
    parser = argparse.ArgumentParser(
        prog="codex-client",
        description="Talk to a Codex app-server from the terminal.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = commands.add_parser(
        "chat",
        help="run one turn and print each step as it completes",
        description="Send PROMPT to the agent and print each step (messages, commands with "
        "their exit codes, file changes) as it completes. Ctrl-C interrupts the turn.",
    )
    chat.add_argument("prompt", metavar="PROMPT", help="what to ask the agent")
    chat.add_argument("--thread", metavar="ID", help="continue this thread (default: a new one)")
    chat.add_argument(
        "--approve",
        action="store_true",
        help="accept every approval request (default: ask on a terminal, else decline)",
    )
    chat.add_argument("--model", help="the model for this turn")
    chat.add_argument("--cwd", metavar="DIR", help="the working directory for this turn")
    chat.add_argument("--effort", help="reasoning effort for this turn (e.g. low, medium, high)")
    chat.add_argument(
        "--approval-policy",
        choices=["untrusted", "on-failure", "on-request", "never"],
        help="when the agent must ask before acting (default: the server's config)",
    )
    chat.add_argument(
        "--sandbox",
        choices=["read-only", "workspace-write", "danger-full-access"],
        help="the sandbox for this turn's commands (default: the server's config)",
    )
    chat.add_argument(
        "--inactivity-timeout",
        type=_non_negative_float,
        default=300.0,
        metavar="SECONDS",
        help="give up (and interrupt the turn) after this long without any event; "
        "0 waits without limit (default: 300)",
    )
    _connection_options(chat)
    _json_option(chat)

    threads = commands.add_parser("threads", help="list threads, or read one")
    thread_commands = threads.add_subparsers(
        dest="threads_command", required=True, metavar="ACTION"
    )
    listing = thread_commands.add_parser("list", help="the stored threads, newest first")
    listing.add_argument(
        "--limit", type=_positive_int, default=20, help="how many to show (default: 20)"
    )
    listing.add_argument("--archived", action="store_true", help="list archived threads instead")
    _connection_options(listing)
    _json_option(listing)
    reading = thread_commands.add_parser("read", help="one thread with its turns and items")
    reading.add_argument("thread_id", metavar="ID", help="the thread to read")
    _connection_options(reading)
    _json_option(reading)

    models = commands.add_parser("models", help="the models the server offers")
    models.add_argument("--all", action="store_true", help="include hidden models")
    _connection_options(models)
    _json_option(models)

    doctor = commands.add_parser(
        "doctor",
        help="check the binary, the app-server, the login (and the websocket with --url)",
        description="Check, in order: which codex binary stdio:// would start and its "
        "version; that `codex app-server` starts and answers initialize; with --url, that "
        "the server is reachable; and that the server has a login. One line per check; each "
        "failure says what to do.",
    )
    _connection_options(doctor)
    _json_option(doctor)

    ping = commands.add_parser(
        "ping", help="connect, perform the handshake and print what the server reports"
    )
    _connection_options(ping)
    _json_option(ping)

    transports = commands.add_parser(
        "transports", help="list the installed transports and their URL schemes"
    )
    _json_option(transports)
    return parser


async def _dispatch(ctx: Context) -> int:
    from . import _chat, _doctor, _info

    command: str = ctx.args.command
    if command == "chat":
        return await _chat.run_chat(ctx)
    if command == "threads":
        if ctx.args.threads_command == "list":
            return await _info.run_threads_list(ctx)
        return await _info.run_threads_read(ctx)
    if command == "models":
        return await _info.run_models(ctx)
    if command == "doctor":
        return await _doctor.run_doctor(ctx)
    if command == "ping":
        return await _info.run_ping(ctx)
    return _info.run_transports(ctx)


def parse(argv: Sequence[str] | None, stdout: TextIO, stderr: TextIO) -> argparse.Namespace | int:
    """Parse ``argv``; an ``int`` is the exit code when parsing ended the run (help, error)."""
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            return parser.parse_args(argv)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else EXIT_USAGE


async def run(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    connect: Connector = connect_by_url,
) -> int:
    """Run one ``codex-client`` command inside an event loop; returns the exit code.

    Tests call this with their own streams and a ``connect`` that serves a fake app-server.
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parsed = parse(argv, out, err)
    if isinstance(parsed, int):
        return parsed
    console = Console(
        stdin if stdin is not None else sys.stdin,
        out,
        err,
        json_mode=bool(getattr(parsed, "json", False)),
    )
    ctx = Context(parsed, console, connect)
    try:
        return await _dispatch(ctx)
    except (CodexError, TimeoutError, ValueError) as exc:
        if isinstance(exc, ValueError) and not isinstance(exc, CodexError):
            # A URL or option the transport refuses: a usage error, with its own message.
            exc = UsageError(str(exc))
        code = exit_code_for(exc)
        message = describe(exc, parsed)
        if console.json_mode:
            console.event("error", kind=error_kind(exc), message=message, exit_code=code)
        console.note(f"codex-client: {message}")
        return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``codex-client`` console script; returns the exit status."""
    try:
        return anyio.run(run, argv)
    except KeyboardInterrupt:
        # Ctrl-C outside a turn (while connecting, listing, ...): nothing to interrupt.
        print("codex-client: interrupted", file=sys.stderr)
        return EXIT_CTRL_C
