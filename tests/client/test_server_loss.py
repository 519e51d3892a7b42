"""Losing the server mid-request fails the waiter at once, with what the server last said."""

from __future__ import annotations

import sys

import anyio
import pytest

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexTransportError

pytestmark = pytest.mark.anyio

# A stand-in server: answers initialize, then on the next request writes a last word to stderr
# and kills itself with SIGKILL, leaving that request pending forever.
DYING_SERVER = r"""
import json, os, signal, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("method") == "initialize":
        print(json.dumps({"id": msg["id"], "result": {"userAgent": "dying/1"}}), flush=True)
    elif "id" in msg:
        print("fatal: the model exploded", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
"""


async def test_a_killed_stdio_server_fails_the_pending_request_with_its_stderr_tail() -> None:
    async with CodexClient("stdio://", command=[sys.executable, "-c", DYING_SERVER]) as client:
        with anyio.fail_after(1), pytest.raises(CodexTransportError) as info:
            await client.request("thread/start", timeout=30)
    assert info.value.stderr_tail is not None
    assert "fatal: the model exploded" in info.value.stderr_tail
    assert "fatal: the model exploded" in str(info.value)
