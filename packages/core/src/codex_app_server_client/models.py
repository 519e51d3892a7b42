"""The small, frozen result objects a caller of :class:`~codex_app_server_client.CodexClient`
sees. They hold plain data; the raw protocol dicts stay available on them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Continuation"]


@dataclass(frozen=True, slots=True)
class Continuation:
    """Where to resume waiting on a running turn, after an inactivity timeout.

    Only meaningful to the client that created it.

    Attributes:
        thread_id: the thread the turn runs on.
        turn_id: the running turn.
        cursor: how many steps of the turn the caller has already been handed.
    """

    thread_id: str
    turn_id: str
    cursor: int
