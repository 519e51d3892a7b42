"""How callers wait on the reader: one-shot wake-ups and one deadline watchdog per client.

A turn with many events wakes its caller once per event batch, so the cost of one wait is
paid thousands of times per turn. Two things keep it small:

- :class:`WaitKit` hands out one-shot wake-ups. On asyncio it uses a bare future of the
  running loop (an ``anyio.Event`` costs a backend lookup and a wrapper per wait); on any
  other backend it falls back to ``anyio.Event``. Its clock is the loop's own.
- :class:`Watchdog` enforces inactivity deadlines with one task per client instead of a
  timer per wait. Each watched object holds at most one heap entry; when that entry falls
  due the watched object is asked whether its deadline really passed (it moves later with
  every event), and re-armed if not. A turn that keeps streaming therefore touches the heap
  about once per timeout period, not once per event.
"""

from __future__ import annotations

import heapq
import itertools
import math
import sys
import weakref
from collections.abc import Awaitable, Callable, Generator
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import anyio

if TYPE_CHECKING:
    import asyncio

__all__ = ["Wake", "WaitKit", "Watched", "Watchdog"]

Wake = Callable[[], None]
"""Ends one wait; calling it again, or after the wait was given up, does nothing."""


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _EventWait:
    """Awaits an ``anyio.Event``, making its coroutine only when awaited.

    A caller cancelled between :meth:`WaitKit.new_wait` and its ``await`` (while sending the
    request, say) would otherwise drop a never-awaited ``Event.wait()`` coroutine, which
    Python reports as a ``RuntimeWarning`` (an error under ``-W error``).
    """

    __slots__ = ("_event",)

    def __init__(self, event: anyio.Event) -> None:
        self._event = event

    def __await__(self) -> Generator[Any, Any, None]:
        return self._event.wait().__await__()


class WaitKit:
    """The running event loop's clock and one-shot wake-ups; create inside the loop."""

    __slots__ = ("_loop", "now")

    def __init__(self) -> None:
        loop: asyncio.AbstractEventLoop | None = None
        # Not imported here: a program on trio should not pay for importing asyncio, and one
        # on asyncio has imported it already.
        running_asyncio = sys.modules.get("asyncio")
        if running_asyncio is not None:
            try:
                if running_asyncio.current_task() is not None:
                    loop = running_asyncio.get_running_loop()
            except RuntimeError:  # not asyncio (trio, or another anyio backend)
                loop = None
        self._loop = loop
        self.now: Callable[[], float] = loop.time if loop is not None else anyio.current_time
        """The backend's clock, the one cancel-scope deadlines use."""

    def new_wait(self) -> tuple[Wake, Awaitable[None]]:
        """A fresh one-shot wait: await the second item, call the first to end the wait."""
        loop = self._loop
        if loop is not None:
            future: asyncio.Future[None] = loop.create_future()
            return partial(_resolve, future), future
        event = anyio.Event()
        return event.set, _EventWait(event)


class Watched(Protocol):
    """Something with a deadline the :class:`Watchdog` keeps."""

    def deadline_reached(self, now: float) -> float | None:
        """The watchdog found this entry due at ``now``.

        Return a later deadline to be checked again then, or ``None`` when there is nothing
        left to watch (the deadline passed and was acted on, or the wait ended).
        """
        ...


class Watchdog:
    """One task that fires the deadlines of many waits; run :meth:`run` in a task group."""

    __slots__ = ("_counter", "_dead", "_heap", "_now", "_scope", "_sleeping_until")

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        # Weak references: a stream its caller dropped (``break`` out of ``async for``) must be
        # collected at once, not kept alive by its pending deadline.
        self._heap: list[tuple[float, int, weakref.ref[Watched]]] = []
        self._counter = itertools.count()
        self._dead: set[int] = set()
        self._scope: anyio.CancelScope | None = None
        self._sleeping_until = math.inf

    def __len__(self) -> int:
        """Entries still to be checked (for tests: zero once every wait has ended).

        An entry whose object was collected is not counted: it is dropped, unchecked, when
        it falls due (a finalizer must not rebuild the heap under the running watchdog).
        """
        dead = self._dead
        return sum(1 for _, key, ref in self._heap if key not in dead and ref() is not None)

    def arm(self, watched: Watched, deadline: float) -> int:
        """Check ``watched`` at ``deadline``; returns a key for :meth:`disarm`.

        Arm once and let :meth:`Watched.deadline_reached` push the deadline later; arming again
        for every event would make the heap grow with the event count.
        """
        key = next(self._counter)
        heapq.heappush(self._heap, (deadline, key, weakref.ref(watched)))
        if deadline < self._sleeping_until:
            self._sleeping_until = deadline
            if self._scope is not None:
                self._scope.cancel()  # sleeping too long: wake up and sleep again, shorter
        return key

    def disarm(self, key: int) -> None:
        """Drop an entry whose object is gone, so that it is not kept alive until it falls due."""
        self._dead.add(key)
        if len(self._dead) * 2 >= len(self._heap):
            # Mostly dead entries: rebuild (amortised O(1) per disarm), so nothing lingers.
            dead = self._dead
            self._heap[:] = [entry for entry in self._heap if entry[1] not in dead]
            heapq.heapify(self._heap)
            dead.clear()

    async def run(self) -> None:
        """Fire deadlines as they fall due, until cancelled."""
        while True:
            now = self._now()
            heap = self._heap
            while heap and heap[0][0] <= now:
                _, key, ref = heapq.heappop(heap)
                if key in self._dead:
                    self._dead.discard(key)
                    continue
                watched = ref()
                if watched is None:
                    continue
                later = watched.deadline_reached(now)
                if later is not None:
                    heapq.heappush(heap, (later, key, ref))
            wake_at = self._heap[0][0] if self._heap else math.inf
            self._sleeping_until = wake_at
            with anyio.CancelScope(deadline=wake_at) as scope:
                self._scope = scope
                await anyio.sleep_forever()
            self._scope = None
