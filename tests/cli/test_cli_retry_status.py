"""While the server retries the model request, the spinner says so instead of "working (Ns)".

The turn stream's ``retry`` holds the server's latest retry notice (``error`` notifications
with ``willRetry: true``) until the turn moves on; the spinner shows
``model unreachable, retrying (3/5): <message>`` meanwhile, and its usual label after.
"""

from __future__ import annotations

import io

import anyio
import pytest

from codex_app_server_client._cli import run
from codex_app_server_client.testing import FakeAppServer
from codex_app_server_client.testing.fake_server import agent_message, retry_error, stall

from .conftest import WAIT, TerminalOutput, fake_cli

pytestmark = pytest.mark.anyio


_DRAW = "\r\x1b[K"


def _labels(written: list[str]) -> list[str]:
    """What the spinner showed, draw by draw (without the wipe and the turning character)."""
    return [chunk[len(_DRAW) + 2 :] for chunk in written if chunk.startswith(_DRAW) and chunk[4:]]


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        pytest.param(
            "Reconnecting... 3/5 (stream disconnected before completion)",
            "model unreachable, retrying (3/5): Reconnecting... 3/5 (stream disconnected "
            "before completion)",
            id="with-attempts",
        ),
        pytest.param(
            "Reconnecting after an error",
            "model unreachable, retrying: Reconnecting after an error",
            id="attempt-unknown",
        ),
    ],
)
async def test_the_spinner_shows_the_retry_until_the_turn_moves_on(
    message: str, shown: str
) -> None:
    server = FakeAppServer()
    server.script_turn(
        retry_error(message), stall(), agent_message("Partly."), stall(), agent_message("Back.")
    )
    written: list[str] = []
    releases: list[str] = []

    def on_write(chunk: str) -> None:
        written.append(chunk)
        # First stall: the retry is on screen. Second stall: the turn moved on (a message
        # completed), so the usual label is back, with no trace of the retry.
        retrying = "model unreachable" in chunk
        moved_on = len(releases) == 1 and "working (" in chunk and not retrying
        if (not releases and retrying) or moved_on:
            releases.append(chunk)
            server.release()

    out, err = io.StringIO(), TerminalOutput(on_write)
    async with fake_cli(server) as (_, connector):
        with anyio.fail_after(WAIT):
            code = await run(
                ["chat", "hi"], stdin=io.StringIO(""), stdout=out, stderr=err, connect=connector
            )
    assert code == 0, err.getvalue()
    assert len(releases) == 2
    labels = _labels(written)
    # Exactly the retry text (no "(Ns)" after it), and nothing else until the turn moved on.
    start = labels.index(shown)
    end = labels.index(_labels(releases[1:])[0], start)
    assert set(labels[start:end]) == {shown}
    assert out.getvalue().splitlines() == ["Partly.", "Back."]
