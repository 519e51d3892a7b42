"""``codex-client`` speaks in its own options, never in the SDK's keyword names.

The SDK's messages advise a Python caller (``timeout=``, ``request_timeout=``,
``inactivity_timeout=``, ``.continuation``, ``chat()``); the CLI composes its own text from the
error's attributes and its options (``--timeout``, ``--inactivity-timeout``, ``--thread``), and
never prints an empty reason.
"""

from __future__ import annotations

import argparse
import io
from typing import Any

import anyio
import pytest

from codex_app_server_client._cli import build_parser, run
from codex_app_server_client._cli._errors import describe
from codex_app_server_client.errors import (
    CodexTimeoutError,
    CodexTransportError,
    CodexTurnInactiveError,
)
from codex_app_server_client.models import Continuation
from codex_app_server_client.testing import FakeAppServer
from codex_app_server_client.testing.fake_server import stall

from .conftest import WAIT, CliRun, fake_cli

pytestmark = pytest.mark.anyio

SDK_WORDS = (
    "timeout=",
    "request_timeout",
    "inactivity_timeout",
    ".continuation",
    "thread_id=",
    "chat()",
    "chat_once()",
    "cancel()",
)


def assert_cli_words(text: str) -> None:
    for word in SDK_WORDS:
        assert word not in text, f"{word!r} in {text!r}"


def chat_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["chat", *argv, "hi"])


async def test_an_inactive_turn_is_reported_with_the_cli_options_and_the_thread_to_continue() -> (
    None
):
    server = FakeAppServer()
    server.script_turn(stall())
    async with fake_cli(server) as (invoke, _):
        result = await invoke("chat", "--json", "--inactivity-timeout", "0.2", "hi")
    assert result.code == 6, result.err
    thread_id = server.thread_ids[0]
    (error,) = result.of_type("error")
    assert error["kind"] == "timeout"
    assert error["thread_id"] == thread_id
    message: str = error["message"]
    assert message.startswith(f"turn {error['turn_id']} on thread {thread_id} produced no event")
    assert "(--inactivity-timeout 0.2), so it was interrupted" in message
    assert f"codex-client: {message}" in result.err
    assert "raise --inactivity-timeout (0 waits without limit)" in result.err
    assert f'codex-client chat --thread {thread_id} "..."' in result.err
    assert_cli_words(result.out + result.err)


async def test_a_request_timeout_names_the_timeout_option_not_the_sdk_keywords() -> None:
    server = FakeAppServer()
    server.ignore_next()  # initialize goes unanswered
    async with fake_cli(server) as (invoke, _):
        result = await invoke("ping", "--json", "--timeout", "0.2")
    assert result.code == 6, result.err
    (error,) = result.of_type("error")
    assert error["kind"] == "timeout"
    assert error["message"].startswith(
        "the server did not answer initialize within 0.2 s (--timeout 0.2)"
    )
    assert "raise --timeout" in error["message"]
    assert f"codex-client: {error['message']}" in result.err
    assert_cli_words(result.out + result.err)


async def test_an_error_without_a_message_is_still_explained() -> None:
    class SilentClient:
        async def __aenter__(self) -> Any:
            raise TimeoutError

        async def __aexit__(self, *exc: object) -> None:
            return None

    def connect(url: str, transport_options: dict[str, Any], /, **options: Any) -> Any:
        return SilentClient()

    out, err = io.StringIO(), io.StringIO()
    with anyio.fail_after(WAIT):
        code = await run(["ping"], stdout=out, stderr=err, connect=connect)
    result = CliRun(code, out.getvalue(), err.getvalue())
    assert result.code == 6
    line = result.err.strip()
    assert line != "codex-client:"
    assert line.startswith("codex-client: timed out (TimeoutError)")
    assert "raise --timeout" in line


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(
            CodexTransportError("rejected with HTTP 401; pass the server's token with token=..."),
            "rejected with HTTP 401; pass the server's token with --token",
            id="token",
        ),
        pytest.param(
            CodexTransportError("raise timeout= or request_timeout=, or pass thread_id="),
            "raise --timeout or --timeout, or pass --thread",
            id="timeouts-and-thread",
        ),
        pytest.param(
            CodexTransportError("   "),
            "CodexTransportError (no details given); `codex-client doctor` may say why",
            id="blank",
        ),
    ],
)
def test_other_messages_keep_their_text_with_sdk_keywords_turned_into_options(
    error: BaseException, expected: str
) -> None:
    assert describe(error, chat_args()) == expected


def test_the_inactivity_text_comes_from_the_errors_attributes() -> None:
    error = CodexTurnInactiveError(
        "turn t-1 produced no event (inactivity_timeout=5); pass .continuation to chat()",
        continuation=Continuation("th-1", "t-1", 3),
        idle_seconds=5.04,
    )
    text = describe(error, chat_args("--inactivity-timeout", "5"))
    assert text == (
        "turn t-1 on thread th-1 produced no event for 5.0 s (--inactivity-timeout 5); "
        "raise --inactivity-timeout (0 waits without limit) if the model is just slow"
    )


def test_a_request_timeout_whose_text_names_no_method_is_still_worded_for_the_cli() -> None:
    error = CodexTimeoutError("something else; pass timeout=")
    text = describe(error, chat_args("--timeout", "7"))
    assert text.startswith("the server did not answer within 7 s (--timeout 7)")
    assert_cli_words(text)
