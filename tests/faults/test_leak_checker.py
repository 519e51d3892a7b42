"""The leak check itself: it must notice each kind of leak, or the fault tests prove nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import anyio
import pytest
from _leaks import check_no_leaks, find_leaks, snapshot

pytestmark = pytest.mark.anyio


async def test_an_open_file_descriptor_is_reported() -> None:
    before = snapshot()
    read_end, write_end = os.pipe()
    try:
        leaks = find_leaks(before, snapshot())
    finally:
        os.close(read_end)
        os.close(write_end)
    assert sum("pipe:" in leak for leak in leaks) == 2, leaks
    assert find_leaks(before, snapshot()) == []


async def test_an_unreaped_child_process_is_reported_until_it_is_reaped() -> None:
    before = snapshot()
    # A plain Popen on purpose: this child must stay unreaped until the test waits for it.
    child = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: ASYNC220
    try:
        # Exited or not, it stays our child (a zombie) until it is waited for.
        leaks = find_leaks(before, snapshot())
    finally:
        child.wait()
    assert leaks == [leaks[0]]
    assert leaks[0].startswith(f"child process {child.pid} ")
    assert find_leaks(before, snapshot()) == []


async def test_a_task_still_running_is_reported_by_name() -> None:
    async with anyio.create_task_group() as tg:
        before = snapshot()
        started = anyio.Event()

        async def lingering() -> None:
            started.set()
            await anyio.sleep_forever()

        tg.start_soon(lingering, name="lingering-task")
        await started.wait()
        leaks = find_leaks(before, snapshot())
        tg.cancel_scope.cancel()
    assert leaks == ["task 'lingering-task'"]


async def test_the_check_waits_for_a_release_already_under_way() -> None:
    before = snapshot()
    read_end, write_end = os.pipe()
    async with anyio.create_task_group() as tg:

        async def close_soon() -> None:
            await anyio.wait_all_tasks_blocked()
            os.close(read_end)
            os.close(write_end)

        tg.start_soon(close_soon)
        current = frozenset({anyio.get_current_task().id})
        assert await check_no_leaks(before, current_task_ids=current) == []
