"""CodexClient against the real pinned codex binary, over stdio and over websocket.

Every test writes an offline CODEX_HOME first: the only model provider is a fake on
127.0.0.1, plugins and analytics are off, so nothing leaves the machine.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncGenerator, Generator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import anyio
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client.testing.codex_home import write_codex_home
from codex_app_server_client.testing.codex_ws import run_codex_ws_server
from codex_app_server_client.testing.fake_provider import FakeResponsesProvider

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

STARTUP = 60.0
"""Generous: the first start of a 300 MB binary on a cold, loaded two-core machine is slow."""


@pytest.fixture
def provider() -> Generator[FakeResponsesProvider]:
    with FakeResponsesProvider() as fake:
        yield fake


@pytest.fixture
def codex_env(tmp_path: Path, provider: FakeResponsesProvider) -> dict[str, str]:
    return write_codex_home(tmp_path / "codex-home", provider_url=provider.base_url)


@pytest.fixture(params=["stdio", "ws"])
def transport_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def real_client(
    kind: str, env: dict[str, str], cwd: Path, **kwargs: Any
) -> AsyncGenerator[tuple[CodexClient, int]]:
    """A connected client and the pid of the codex process behind it."""
    if kind == "stdio":
        async with CodexClient("stdio://", env=env, cwd=str(cwd), **kwargs) as client:
            pid = getattr(client.transport, "pid")  # noqa: B009 - stdio transport attribute
            yield client, int(pid)
    else:
        async with (
            run_codex_ws_server(env=env, cwd=cwd) as server,
            CodexClient(server.url, **kwargs) as client,
        ):
            yield client, server.pid


async def test_initialize_returns_a_user_agent_and_thread_start_returns_a_thread_id(
    transport_kind: str, codex_env: dict[str, str], tmp_path: Path
) -> None:
    with anyio.fail_after(STARTUP):
        async with real_client(transport_kind, codex_env, tmp_path) as (client, _):
            assert client.user_agent.startswith("codex_app_server_client/")
            assert client.initialize_result["platformFamily"] == "unix"
            started = await client.request("thread/start", {"cwd": str(tmp_path)})
    thread = started["thread"]
    assert isinstance(thread["id"], str)
    assert thread["id"]
    assert thread["status"] == {"type": "idle"}


async def test_an_unknown_method_is_a_protocol_error_and_the_connection_survives(
    transport_kind: str, codex_env: dict[str, str], tmp_path: Path
) -> None:
    from codex_app_server_client.errors import CodexProtocolError

    with anyio.fail_after(STARTUP):
        async with real_client(transport_kind, codex_env, tmp_path) as (client, _):
            with pytest.raises(CodexProtocolError) as info:
                await client.request("no/suchMethod", {})
            assert info.value.code == -32600
            loaded = await client.request("thread/loaded/list", {})
    assert loaded["data"] == []


async def test_killing_the_server_fails_a_pending_request_within_a_second(
    transport_kind: str, codex_env: dict[str, str], tmp_path: Path
) -> None:
    errors: list[CodexTransportError] = []
    with anyio.fail_after(STARTUP):
        async with real_client(transport_kind, codex_env, tmp_path) as (client, pid):
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
