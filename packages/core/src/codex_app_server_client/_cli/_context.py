"""What every command gets: the parsed arguments, the console, and how to open a client."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ._console import Console

if TYPE_CHECKING:
    from ..client import CodexClient


class Connector(Protocol):
    """Builds the (not yet entered) client a command talks through.

    ``url`` and ``transport_options`` come from ``--url``/``--token``; ``client_options`` are
    :class:`~codex_app_server_client.CodexClient` keywords (timeouts, approval handler). Tests
    pass a connector that serves the client from an in-memory fake app-server.
    """

    def __call__(
        self, url: str, transport_options: dict[str, Any], /, **client_options: Any
    ) -> CodexClient: ...


def connect_by_url(
    url: str, transport_options: dict[str, Any], /, **client_options: Any
) -> CodexClient:
    """The default connector: ``CodexClient(url, **client_options, **transport_options)``."""
    from ..client import CodexClient

    return CodexClient(url, **client_options, **transport_options)


@dataclass
class Context:
    """One command run: its arguments, its streams and its way to reach a server."""

    args: argparse.Namespace
    console: Console
    connect: Connector

    def open_client(self, **client_options: Any) -> CodexClient:
        """The client for ``--url`` (and ``--token``), with ``--timeout`` as request timeout."""
        options: dict[str, Any] = {}
        token = getattr(self.args, "token", None)
        if token:
            options["token"] = token
        client_options.setdefault("request_timeout", self.args.timeout)
        return self.connect(self.args.url, options, **client_options)
