"""Fixtures for the tests that drive the real codex binary, offline.

Every client these fixtures open runs codex with a CODEX_HOME written first: the only model
provider is a fake on 127.0.0.1, plugins and analytics are off, so nothing leaves the machine.
Like every async test of the suite, they run on asyncio and on trio (the root conftest's
``anyio_backend``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.testing.codex_home import write_codex_home
from codex_app_server_client.testing.codex_ws import run_codex_ws_server
from codex_app_server_client.testing.fake_provider import FakeResponsesProvider

OpenRealClient = Callable[..., AbstractAsyncContextManager[tuple[CodexClient, int]]]


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


@pytest.fixture
def open_real_client(
    transport_kind: str, codex_env: dict[str, str], tmp_path: Path
) -> OpenRealClient:
    """``async with open_real_client(**client_kwargs) as (client, pid):`` over the test's
    transport kind, against a real codex started with the offline CODEX_HOME."""
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)

    @asynccontextmanager
    async def open_client(**kwargs: Any) -> AsyncGenerator[tuple[CodexClient, int]]:
        if transport_kind == "stdio":
            async with CodexClient("stdio://", env=codex_env, cwd=str(workspace), **kwargs) as c:
                yield c, int(getattr(c.transport, "pid"))  # noqa: B009 - stdio transport attribute
        else:
            async with (
                run_codex_ws_server(env=codex_env, cwd=workspace) as server,
                CodexClient(server.url, **kwargs) as c,
            ):
                yield c, server.pid

    return open_client
