# pyright: reportUnnecessaryTypeIgnoreComment=true
"""Static checks of the typed ``request`` overloads, run by pyright (``nox -s typecheck``).

Not a pytest module. Each ``pyright: ignore`` marks a call pyright must reject: if it ever
accepts one, the ignore becomes unnecessary and pyright fails on this file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_type

from codex_app_server_client import CodexClient
from codex_app_server_client.protocol import Notification
from codex_app_server_client.types import (
    CodexErrorInfo,
    SandboxMode,
    ThreadListResponse,
    ThreadReadResponse,
    ThreadStartParams,
    TurnCompletedNotification,
    TurnStatus,
    notification_params,
)


async def typed_requests(client: CodexClient) -> None:
    assert_type(await client.request("thread/list", {"limit": 5}), ThreadListResponse)
    assert_type(await client.request("thread/list"), ThreadListResponse)
    assert_type(await client.request("thread/read", {"threadId": "t"}), ThreadReadResponse)
    assert_type(await client.request("thread/list", {"limit": 5}, timeout=1.0), ThreadListResponse)
    assert_type(await client.request("some/futureMethod", {"x": 1}), Any)

    await client.request("thread/list", {"limmit": 5})  # pyright: ignore[reportDeprecated]
    await client.request("thread/read")  # pyright: ignore[reportDeprecated]
    await client.request("thread/read", {"threadId": 5})  # pyright: ignore[reportDeprecated]


def typed_notifications(note: Notification) -> None:
    params = notification_params(note, "turn/completed")
    assert_type(params, TurnCompletedNotification)
    assert_type(params["turn"]["id"], str)
    assert_type(notification_params(note, "some/futureNotification"), Mapping[str, Any])


async def open_and_closed_enums(client: CodexClient, params: ThreadStartParams) -> None:
    # Sent only by the server: open, a newer server's values type-check.
    status: TurnStatus = "someNewStatus"
    error: CodexErrorInfo = {"someNewError": {"httpStatusCode": 500}}
    # Sent by the client (and back in thread/start's result): closed, a typo is caught.
    sandbox: SandboxMode = "read-only"
    typo: SandboxMode = "readonly"  # pyright: ignore[reportAssignmentType]
    params["sandbox"] = "workspace-writ"  # pyright: ignore[reportGeneralTypeIssues]
    await client.request("thread/start", {"sandbox": "readonly"})  # pyright: ignore[reportDeprecated]
    del status, error, sandbox, typo
