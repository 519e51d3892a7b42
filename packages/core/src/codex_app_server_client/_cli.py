"""The ``codex-client`` command line: small, dependency-free, built on the public API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import anyio

from .errors import CodexError


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codex-client", description="Talk to a Codex app-server from the terminal."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ping = commands.add_parser(
        "ping", help="connect, perform the handshake and print what the server reports"
    )
    ping.add_argument(
        "--url",
        default="stdio://",
        help="transport URL (default: stdio://, which starts `codex app-server`)",
    )
    ping.add_argument("--token", help="bearer token for a ws:// or wss:// server")
    ping.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each answer")
    commands.add_parser("transports", help="list the installed transports and their schemes")
    return parser


async def _ping(url: str, token: str | None, timeout: float) -> None:
    from .client import CodexClient

    options: dict[str, Any] = {"token": token} if token else {}
    with anyio.fail_after(timeout * 2):
        async with CodexClient(url, request_timeout=timeout, **options) as client:
            info = client.initialize_result
            print(f"connected to {url}")
            print(f"  userAgent:   {info.get('userAgent')}")
            print(f"  codexHome:   {info.get('codexHome')}")
            print(f"  platform:    {info.get('platformFamily')}/{info.get('platformOs')}")


def _transports() -> None:
    from .plugins import default_plugin_manager

    manager = default_plugin_manager()
    seen: set[str] = set()
    for spec in manager.transport_specs():
        if spec.name in seen:
            continue
        seen.add(spec.name)
        schemes = ", ".join(f"{s}://" for s in spec.schemes)
        print(f"{spec.name:<10} {schemes:<20} {spec.summary}")
    if not seen:
        print("no transport installed: pip install 'codex-app-server-client[all]'")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``codex-client`` console script."""
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "ping":
            anyio.run(_ping, args.url, args.token, args.timeout)
        else:
            _transports()
    except (CodexError, TimeoutError) as exc:
        print(f"codex-client: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
