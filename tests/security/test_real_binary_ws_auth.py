"""The real ``codex app-server --ws-auth capability-token``: the client's token opens it, a
missing or wrong one gets a 401 error that says which, and the token never shows in errors or
in the client's logs. Offline: CODEX_HOME points codex at a fake provider on 127.0.0.1.
Runs on both anyio backends, like the other real-binary tests.
"""

from __future__ import annotations

import logging
import traceback
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
TOKEN = "capability-SECRET-7c1e-never-shown"


async def test_the_real_server_takes_the_token_and_refuses_a_missing_or_wrong_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    args = ["--ws-auth", "capability-token", "--ws-token-file", str(token_file)]
    refusals: dict[str, CodexTransportError] = {}
    with FakeResponsesProvider() as provider, anyio.fail_after(STARTUP):
        env = write_codex_home(tmp_path / "codex-home", provider_url=provider.base_url)
        async with run_codex_ws_server(env=env, args=args, cwd=tmp_path) as server:
            async with CodexClient(server.url, token=TOKEN) as client:
                loaded = await client.request("thread/loaded/list", {})
                shown = repr(client) + repr(client.transport)
            attempts: list[tuple[str, dict[str, Any]]] = [
                ("missing", {}),
                ("wrong", {"token": "not-" + TOKEN}),
            ]
            for name, options in attempts:
                with pytest.raises(CodexTransportError) as caught:
                    async with CodexClient(server.url, **options):
                        pass
                refusals[name] = caught.value
    assert loaded["data"] == []
    assert TOKEN not in shown
    assert "pass the server's token with token=" in str(refusals["missing"])
    assert "missing websocket bearer token" in str(refusals["missing"])
    assert "check the token= you passed" in str(refusals["wrong"])
    assert "invalid websocket bearer token" in str(refusals["wrong"])
    for error in refusals.values():
        assert "HTTP 401" in str(error)
        assert TOKEN not in "".join(traceback.format_exception(error))
    assert TOKEN not in caplog.text
