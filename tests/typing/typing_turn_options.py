# pyright: reportUnnecessaryTypeIgnoreComment=true
"""Static checks of the turn options and per-call timeouts of ``chat``/``chat_once``, on the
async and the blocking client alike; run by pyright (``nox -s typecheck``).

Not a pytest module. Each ``pyright: ignore`` marks a call pyright must reject: if it ever
accepts one (a blocking method that lost its typed parameters, say), the ignore becomes
unnecessary and pyright fails on this file.
"""

from __future__ import annotations

from typing import assert_type

from codex_app_server_client import (
    ChatResult,
    CodexClient,
    Continuation,
    RetryNotice,
    SandboxShorthand,
    TurnOptions,
    TurnStream,
)
from codex_app_server_client.sync import CodexClient as SyncCodexClient
from codex_app_server_client.sync import TurnStream as SyncTurnStream


async def async_client(client: CodexClient, options: TurnOptions, resume: Continuation) -> None:
    assert_type(
        await client.chat_once(
            "fix the tests",
            approval_policy="untrusted",
            sandbox_policy="workspace-write",
            model="gpt-5",
            effort="high",
            approval_timeout=60.0,
            inactivity_timeout=None,
        ),
        ChatResult,
    )
    stream = client.chat("go", approval_timeout=None, **options)
    assert_type(stream, TurnStream)
    assert_type(stream.retry, RetryNotice | None)
    assert_type(await client.chat_once(continuation=resume, approval_timeout=5.0), ChatResult)

    await client.chat_once("x", approval_policy="untrustd")  # pyright: ignore[reportArgumentType]
    client.chat("x", approval_policy="untrustd")  # pyright: ignore[reportArgumentType]
    client.chat("x", sandbox_policy="read_only")  # pyright: ignore[reportArgumentType]
    client.chat("x", aproval_policy="untrusted")  # pyright: ignore[reportCallIssue]
    client.chat("x", approval_timeout="soon")  # pyright: ignore[reportArgumentType]


def sync_client(client: SyncCodexClient, options: TurnOptions, resume: Continuation) -> None:
    assert_type(
        client.chat_once(
            "fix the tests",
            approval_policy="untrusted",
            sandbox_policy="workspace-write",
            model="gpt-5",
            effort="high",
            approval_timeout=60.0,
            inactivity_timeout=None,
        ),
        ChatResult,
    )
    stream = client.chat("go", approval_timeout=None, **options)
    assert_type(stream, SyncTurnStream)
    assert_type(stream.retry, RetryNotice | None)
    assert_type(client.chat_once(continuation=resume, approval_timeout=5.0), ChatResult)
    assert_type(client.approval_timeout, float | None)
    client.approval_timeout = 30.0

    client.chat_once("x", approval_policy="untrustd")  # pyright: ignore[reportArgumentType]
    client.chat("x", approval_policy="untrustd")  # pyright: ignore[reportArgumentType]
    client.chat("x", sandbox_policy="read_only")  # pyright: ignore[reportArgumentType]
    client.chat("x", aproval_policy="untrusted")  # pyright: ignore[reportCallIssue]
    client.chat("x", approval_timeout="soon")  # pyright: ignore[reportArgumentType]
    client.approval_timeout = "soon"  # pyright: ignore[reportAttributeAccessIssue]


def shorthands() -> None:
    mode: SandboxShorthand = "danger-full-access"
    typo: SandboxShorthand = "danger_full_access"  # pyright: ignore[reportAssignmentType]
    del mode, typo
