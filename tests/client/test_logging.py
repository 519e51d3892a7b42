"""Logging: silent by default, everything under ``codex_app_server_client.*``, and the opt-in
wire tap that logs each message in and out with secrets redacted."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
import textwrap
from typing import Any

import anyio
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client._wire_log import REDACTED, redact, secrets_of
from codex_app_server_client.testing.codex_ws import run_ws_server_process

FAKE_MODULE = "codex_app_server_client.testing.fake_server"
TOKEN = "sk-wiretap-test-0123456789"  # a made-up secret the test hunts for
WAIT = 20.0

pytestmark = pytest.mark.anyio


def wire_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "codex_app_server_client.wire"]


async def test_the_wire_tap_logs_every_message_and_redacts_the_bearer_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="codex_app_server_client.wire")
    argv = [sys.executable, "-m", FAKE_MODULE, "--listen", "ws://127.0.0.1:0"]
    with anyio.fail_after(WAIT):
        async with (
            run_ws_server_process(argv, ready_timeout=WAIT) as server,
            CodexClient(server.url, token=TOKEN, wire_log=True) as client,
        ):
            # The token travels in a message body too (a user storing it in config), and the
            # server echoes it back: both directions must be scrubbed.
            await client.request(
                "config/value/write",
                {
                    "keyPath": "notes.deploy",
                    "value": f"use {TOKEN} to deploy",
                    "mergeStrategy": "replace",
                },
            )
            read: dict[str, Any] = dict(await client.request("config/read", {}))
    assert f"use {TOKEN} to deploy" == read["config"]["notes"]["deploy"]  # it did go round
    records = wire_records(caplog)
    assert any(r.startswith("-> ") and '"method":"initialize"' in r for r in records)
    assert any(r.startswith("<- ") and "userAgent" in r for r in records)
    assert any(r.startswith("-> ") and f"use {REDACTED} to deploy" in r for r in records)
    assert any(r.startswith("<- ") and f"use {REDACTED} to deploy" in r for r in records)
    assert all(TOKEN not in r for r in caplog.text.splitlines())
    assert TOKEN not in caplog.text


async def test_the_wire_tap_is_off_unless_asked_for(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="codex_app_server_client")
    argv = [sys.executable, "-m", FAKE_MODULE, "--listen", "stdio://"]
    with anyio.fail_after(WAIT):
        async with CodexClient("stdio://", command=argv) as client:
            await client.request("config/read", {})
    assert wire_records(caplog) == []


def test_members_named_like_secrets_are_redacted_at_any_depth() -> None:
    message = (
        b'{"id":3,"result":{"accessToken":"abc","nested":[{"apiKey":"k1","Password":"p"}],'
        b'"keep":"visible","refreshToken":null}}'
    )
    text = redact(message)
    for secret in ("abc", "k1", '"p"'):
        assert secret not in text
    assert '"keep":"visible"' in text
    assert text.count(REDACTED) == 4


def test_known_secrets_are_redacted_even_in_text_that_is_not_json() -> None:
    text = redact(b"garbage with Bearer s3cr3t inside", ["s3cr3t"])
    assert text == f"garbage with Bearer {REDACTED} inside"


def test_auth_headers_and_their_bare_credentials_count_as_secrets() -> None:
    found = secrets_of(
        {"token": "t0k", "headers": {"Authorization": "Bearer cr3d", "X-Trace": "not-secret"}}
    )
    assert set(found) == {"t0k", "Bearer cr3d", "cr3d"}


def test_the_sdk_prints_nothing_when_the_application_configures_no_logging() -> None:
    # A malformed server message is logged as a warning; with no logging configured, Python
    # would print warnings through its last-resort handler unless the SDK is silent.
    script = textwrap.dedent(
        """
        import anyio
        from codex_app_server_client import CodexClient
        from codex_app_server_client.testing import memory_transport_pair

        async def main():
            client_end, server_end = memory_transport_pair()
            async def serve():
                request = await server_end.receive()
                await server_end.send(b"this is not json")
                await server_end.send(b'{"id":1,"result":{"userAgent":"x"}}')
                await server_end.receive()  # initialized
            async with anyio.create_task_group() as group:
                group.start_soon(serve)
                async with CodexClient(client_end):
                    pass

        anyio.run(main)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=WAIT, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""


def test_every_sdk_logger_lives_under_the_package_namespace() -> None:
    importlib.import_module("codex_app_server_client.client")
    importlib.import_module("codex_app_server_client_ws._link")
    names = [n for n in logging.Logger.manager.loggerDict if "codex_app_server_client" in n]
    assert names
    assert all(
        n == "codex_app_server_client" or n.startswith("codex_app_server_client.") for n in names
    )
