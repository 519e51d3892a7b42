"""A leak check for fault tests: open file descriptors, child processes and running tasks.

Take a :func:`snapshot` before a case and call :func:`check_no_leaks` with it afterwards (the
autouse fixture in ``conftest.py`` does both around every test of this folder). Everything
opened, started or spawned in between must be gone again:

- file descriptors: ``/proc/self/fd``, compared by number *and* target, so a descriptor that
  was closed and reused for something else also counts;
- child processes: every process whose parent is this one, zombies included (``/proc/*/stat``),
  so a child that exited but was never reaped is a leak too;
- tasks: :func:`anyio.get_running_tasks`, which walks asyncio's task set or trio's task tree,
  so the same comparison holds on both backends.

Linux only (``/proc``), like the rest of the suite's process tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import anyio

__all__ = ["Snapshot", "check_no_leaks", "find_leaks", "snapshot", "runner_task_ids"]

SETTLE_SECONDS = 5.0
"""How long a check waits for resources that are already being released (a killed child the
kernel has not reparented yet, a task finishing its last step); a real leak outlives it."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What this process held at one moment."""

    fds: frozenset[tuple[int, str]]
    """Open descriptors as ``(number, readlink target)``."""
    children: frozenset[int]
    """Pids of child processes, exited-but-unreaped ones included."""
    tasks: frozenset[int]
    """Ids of the running tasks (anyio task ids)."""
    task_names: dict[int, str]


def _open_fds() -> frozenset[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for entry in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{entry}")
        except OSError:
            # The descriptor listdir used for the directory itself is closed by now.
            continue
        found.add((int(entry), target))
    return frozenset(found)


def _children() -> frozenset[int]:
    me = os.getpid()
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited and reaped while we looked
        # The command name (field 2) is in parentheses and may hold spaces or parentheses;
        # the fields after the last ")" are: state, ppid, ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == me:
            found.add(int(entry.name))
    return frozenset(found)


def snapshot() -> Snapshot:
    """Record the descriptors, children and tasks of this process; call it inside the loop."""
    tasks = anyio.get_running_tasks()
    return Snapshot(
        fds=_open_fds(),
        children=_children(),
        tasks=frozenset(t.id for t in tasks),
        task_names={t.id: t.name or "?" for t in tasks},
    )


def find_leaks(before: Snapshot, after: Snapshot) -> list[str]:
    """Describe what ``after`` holds that ``before`` did not; empty when nothing leaked."""
    leaks: list[str] = []
    for number, target in sorted(after.fds - before.fds):
        leaks.append(f"file descriptor {number} -> {target}")
    for pid in sorted(after.children - before.children):
        leaks.append(f"child process {pid} ({_describe_process(pid)})")
    for task_id in sorted(after.tasks - before.tasks):
        leaks.append(f"task {after.task_names.get(task_id, '?')!r}")
    return leaks


def _describe_process(pid: int) -> str:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").strip()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
    return f"state {state}: {cmdline.decode(errors='replace')[:120]}"


async def check_no_leaks(before: Snapshot, *, current_task_ids: frozenset[int]) -> list[str]:
    """What is still held since ``before``, after giving in-flight releases a bounded moment.

    ``current_task_ids`` are tasks that legitimately exist now and not at ``before`` (the
    caller's own task, say); they are not reported.
    """
    # Polling is the only way to wait here, so it is bounded (SETTLE_SECONDS) and returns as
    # soon as the last release lands. Nothing announces these releases as an event:
    # - a descriptor is closed by whoever owns it (a worker thread, a transport's finaliser);
    #   the kernel offers no notification that /proc/self/fd lost an entry;
    # - a child counts until it is *reaped*, and reaping belongs to the code under test
    #   (asyncio's child watcher, trio's waitpid thread). A pidfd only says that the child
    #   exited, not that it was reaped, and reaping it here ourselves would hide exactly the
    #   leak (a zombie nobody waited for) that this check exists to find;
    # - tasks are other code's tasks on either backend; anyio gives no way to await them.
    # Each round's sleep is also the checkpoint that lets those releasing tasks run.
    with anyio.move_on_after(SETTLE_SECONDS):
        while True:
            leaks = _leaks_now(before, current_task_ids)
            if not leaks:
                return []
            await anyio.sleep(0.02)
    return _leaks_now(before, current_task_ids)


def runner_task_ids() -> frozenset[int]:
    """The current task and the pytest runner's own per-call tasks: expected, not leaks.

    anyio's asyncio test runner wraps every fixture step and test call in a fresh task that
    waits for the runner task, so a new one exists at each teardown.
    """
    ids = {anyio.get_current_task().id}
    for task in anyio.get_running_tasks():
        name = getattr(task.coro, "__qualname__", "")
        if name.endswith("._call_in_runner_task"):
            ids.add(task.id)
    return frozenset(ids)


def _leaks_now(before: Snapshot, current_task_ids: frozenset[int]) -> list[str]:
    after = snapshot()
    after = Snapshot(
        fds=after.fds,
        children=after.children,
        tasks=after.tasks - current_task_ids,
        task_names=after.task_names,
    )
    return find_leaks(before, after)
