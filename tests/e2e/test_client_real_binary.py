"""CodexClient against the real pinned codex binary, over stdio and over websocket (offline:
see conftest.py)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, suppress
from pathlib import Path

import anyio
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexTransportError

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

OpenRealClient = Callable[..., AbstractAsyncContextManager[tuple[CodexClient, int]]]

STARTUP = 60.0
"""Generous: the first start of a 300 MB binary on a cold, loaded two-core machine is slow."""


async def test_initialize_returns_a_user_agent_and_thread_start_returns_a_thread_id(
    open_real_client: OpenRealClient, tmp_path: Path
) -> None:
    with anyio.fail_after(STARTUP):
        async with open_real_client() as (client, _):
            assert client.user_agent.startswith("codex_app_server_client/")
            assert client.initialize_result["platformFamily"] == "unix"
            started = await client.request("thread/start", {"cwd": str(tmp_path)})
    thread = started["thread"]
    assert isinstance(thread["id"], str)
    assert thread["id"]
    assert thread["status"] == {"type": "idle"}


async def test_an_unknown_method_is_a_protocol_error_and_the_connection_survives(
    open_real_client: OpenRealClient,
) -> None:
    from codex_app_server_client.errors import CodexProtocolError

    with anyio.fail_after(STARTUP):
        async with open_real_client() as (client, _):
            with pytest.raises(CodexProtocolError) as info:
                await client.request("no/suchMethod", {})
            assert info.value.code == -32600
            loaded = await client.request("thread/loaded/list", {})
    assert loaded["data"] == []


async def test_killing_the_server_fails_a_pending_request_within_a_second(
    open_real_client: OpenRealClient,
) -> None:
    errors: list[CodexTransportError] = []
    with anyio.fail_after(STARTUP):
        async with open_real_client() as (client, pid):
            # A stopped process cannot answer, so the request is surely pending when it dies.
            os.kill(pid, signal.SIGSTOP)
            try:
                async with anyio.create_task_group() as tg:

                    async def pending_request() -> None:
                        try:
                            await client.request("thread/start", {}, timeout=30)
                        except CodexTransportError as exc:
                            errors.append(exc)

                    tg.start_soon(pending_request)
                    await anyio.wait_all_tasks_blocked()
                    os.kill(pid, signal.SIGKILL)
                    with anyio.fail_after(1):
                        while not errors:
                            await anyio.wait_all_tasks_blocked()
                            await anyio.lowlevel.checkpoint()
            finally:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
    assert len(errors) == 1
