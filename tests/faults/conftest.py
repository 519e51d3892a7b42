"""Every fault test runs inside a leak check: descriptors, child processes and tasks held
after the test (past a short settling moment) fail it, as an error in its teardown."""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator
from pathlib import Path

import pytest

# The shared helpers of this folder (_leaks.py, _peers.py) are imported as top-level modules:
# the suite runs in importlib mode, which puts no test folder on sys.path by itself.
sys.path.insert(0, str(Path(__file__).parent))

from _leaks import check_no_leaks, runner_task_ids, snapshot


@pytest.fixture(autouse=True)
async def no_leaks() -> AsyncGenerator[None]:
    """Fail the test if it leaves a descriptor, a child process or a task behind."""
    before = snapshot()
    yield
    leaks = await check_no_leaks(before, current_task_ids=runner_task_ids())
    assert not leaks, "the test leaked:\n  " + "\n  ".join(leaks)
