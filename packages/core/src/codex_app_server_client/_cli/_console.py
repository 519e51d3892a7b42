"""Where ``codex-client`` writes: results to stdout, progress and notes to stderr.

With ``--json`` stdout carries only JSON lines (one object per event); everything meant for a
human goes to stderr. The spinner is drawn on stderr only when stderr is a terminal, and is
wiped before any other line is written so that the two never interleave on one line.
"""

from __future__ import annotations

import io
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO, TypeVar

import anyio
import orjson

T = TypeVar("T")

_FRAMES = "|/-\\"
_TICK_SECONDS = 0.1


def is_tty(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal (``False`` for anything odd)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class Console:
    """The three standard streams of one command run, plus the JSON and spinner rules.

    Args:
        stdin, stdout, stderr: the streams to use (the process's own by default).
        json_mode: stdout carries JSON lines only.
    """

    def __init__(self, stdin: TextIO, stdout: TextIO, stderr: TextIO, *, json_mode: bool) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.json_mode = json_mode
        self.spinner_enabled = is_tty(stderr)
        self._label: str | None = None
        self._override: Callable[[], str | None] | None = None
        self._since = 0.0
        self._drawn = False
        self._paused = 0

    # -- output ---------------------------------------------------------------------------

    def out(self, line: str = "") -> None:
        """Write a line for the user to stdout (never in JSON mode: use :meth:`event`)."""
        self._wipe()
        self.stdout.write(line + "\n")
        self.stdout.flush()

    def note(self, line: str) -> None:
        """Write a line to stderr: progress, hints, warnings, errors."""
        self._wipe()
        self.stderr.write(line + "\n")
        self.stderr.flush()

    def event(self, kind: str, /, **fields: Any) -> None:
        """Write one JSON object ``{"type": kind, **fields}`` as a line on stdout."""
        self._wipe()
        data = orjson.dumps({"type": kind, **fields}, option=orjson.OPT_NON_STR_KEYS)
        self.stdout.write(data.decode("utf-8") + "\n")
        self.stdout.flush()

    # -- spinner --------------------------------------------------------------------------

    def status(self, label: str | None) -> None:
        """Show ``label`` beside the spinner (``None`` hides the spinner)."""
        if label != self._label:
            self._since = time.monotonic()
        self._label = label
        if label is None:
            self._wipe()

    def status_override(self, source: Callable[[], str | None] | None) -> None:
        """While the spinner shows, ``source()``, when not ``None``, replaces its label.

        The override is asked at every tick and shown as it is, without the elapsed time
        (``None`` removes the override).
        """
        self._override = source

    def pause(self) -> Callable[[], None]:
        """Hide the spinner until the returned function is called (for a prompt)."""
        self._paused += 1
        self._wipe()
        done = False

        def resume() -> None:
            nonlocal done
            if not done:
                done = True
                self._paused -= 1

        return resume

    async def with_spinner(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work()`` while the spinner turns; its exception propagates unwrapped."""
        result: list[T] = []
        failure: list[Exception] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.run_spinner)
            try:
                result.append(await work())
            except Exception as exc:  # re-raised below, outside the task group's wrapping
                failure.append(exc)
            finally:
                self.status(None)
                tg.cancel_scope.cancel()
        if failure:
            raise failure[0]
        return result[0]

    async def run_spinner(self) -> None:
        """Draw the spinner until cancelled; returns at once when stderr is not a terminal."""
        if not self.spinner_enabled:
            return
        frame = 0
        try:
            while True:
                if self._label is not None and not self._paused:
                    shown = self._override() if self._override is not None else None
                    if shown is None:
                        elapsed = time.monotonic() - self._since
                        shown = f"{self._label} ({elapsed:.0f}s)"
                    text = f"{_FRAMES[frame % len(_FRAMES)]} {shown}"
                    self.stderr.write("\r\x1b[K" + text)
                    self.stderr.flush()
                    self._drawn = True
                    frame += 1
                await anyio.sleep(_TICK_SECONDS)
        finally:
            self._wipe()

    def _wipe(self) -> None:
        if self._drawn:
            self._drawn = False
            try:
                self.stderr.write("\r\x1b[K")
                self.stderr.flush()
            except (ValueError, OSError, io.UnsupportedOperation):
                pass
