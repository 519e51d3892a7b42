"""The stdio transport: ``codex app-server`` as a child process, one JSON message per line.

The child's stdin receives our messages, each followed by ``\\n``; its stdout carries the
server's messages, one per line (a trailing ``\\r`` is tolerated, blank lines are skipped);
its stderr carries logs, of which the transport keeps the last few KiB to explain failures.

On POSIX the child starts in a session (and so a process group) of its own: a Ctrl-C typed in
the caller's terminal, which the terminal sends to its foreground process group, does not
reach the server, and closing the transport ends every process still in that group (the
commands and helpers the server started), not only the child.

Messages built by core are compact JSON and never contain a raw newline byte, so a line is
always exactly one message; this transport does not check for it.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, cast
from urllib.parse import urlsplit

import anyio
from anyio.abc import ByteReceiveStream, ByteSendStream, Process

from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client.plugins import check_options

from ._command import resolve_default_command

__all__ = [
    "DEFAULT_CLOSE_GRACE",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_STDERR_TAIL_BYTES",
    "DEFAULT_TERMINATE_TIMEOUT",
    "OPTIONS",
    "StdioTransport",
    "open_stdio",
]

DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024
"""Longest line accepted from the server (256 MiB); a longer one fails the transport."""

DEFAULT_STDERR_TAIL_BYTES = 64 * 1024
"""How much of the child's stderr is kept for error messages (the most recent 64 KiB)."""

DEFAULT_CLOSE_GRACE = 2.0
"""Seconds ``aclose`` waits for the child to exit after closing its stdin."""

DEFAULT_TERMINATE_TIMEOUT = 1.0
"""Seconds ``aclose`` waits after SIGTERM before it sends SIGKILL."""

_OWN_GROUP = hasattr(os, "killpg") and hasattr(os, "setsid")
"""Whether the child gets a session and process group of its own (POSIX)."""

OPTIONS = (
    "command",
    "env",
    "cwd",
    "max_message_bytes",
    "stderr_tail_bytes",
    "close_grace",
    "terminate_timeout",
)
"""The options ``open_stdio`` accepts."""

# Bytes asked for per read. Large reads keep a 16 MiB message to a few hundred wake-ups.
_READ_CHUNK = 256 * 1024
# Messages up to this size are joined with their newline into one write; bigger ones are
# written as two, to avoid copying megabytes just to append one byte.
_JOIN_LIMIT = 64 * 1024
# Bound on how long an observed stdout EOF waits for the exit code and the last stderr.
_EOF_SETTLE = 0.5
# Bound on the wait after SIGKILL; only a process stuck in the kernel outlives it.
_KILL_WAIT = 5.0
# How often aclose looks whether the processes left in the child's group have exited (they
# are not our children, so there is nothing to wait on).
_GROUP_POLL = 0.02


def _describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name} (exit code {returncode})"
    return f"exited with code {returncode}"


class StdioTransport:
    """A running ``codex app-server`` child process, seen as a message transport.

    Get one from :func:`open_stdio` (or through the plugin system with a ``stdio://`` URL);
    the opener starts the process and drains its stderr, and closes everything on exit.

    Beyond the :class:`~codex_app_server_client.transport.Transport` methods it offers
    :meth:`send_eof` and, for diagnostics, :attr:`pid`, :attr:`returncode` and
    :meth:`stderr_tail`.

    ``process_group`` is the id of a process group the child leads and that holds only its
    own process tree (a child started with ``start_new_session=True``, as :func:`open_stdio`
    does on POSIX); :meth:`aclose` then signals that whole group. With ``None`` (the default
    for a process built by hand) only the child itself is signalled.
    """

    def __init__(
        self,
        process: Process,
        *,
        argv: Sequence[str],
        max_message_bytes: int | None = DEFAULT_MAX_MESSAGE_BYTES,
        stderr_tail_bytes: int = DEFAULT_STDERR_TAIL_BYTES,
        close_grace: float = DEFAULT_CLOSE_GRACE,
        terminate_timeout: float = DEFAULT_TERMINATE_TIMEOUT,
        process_group: int | None = None,
    ) -> None:
        stdin, stdout, stderr = process.stdin, process.stdout, process.stderr
        if stdin is None or stdout is None or stderr is None:
            raise ValueError(
                "the process must have been started with stdin, stdout and stderr pipes"
            )
        self._process = process
        self._stdin: ByteSendStream = stdin
        self._stdout: ByteReceiveStream = stdout
        self._stderr: ByteReceiveStream = stderr
        self._program = os.path.basename(argv[0]) if argv else "codex"
        self._max_message_bytes = max_message_bytes
        self._close_grace = close_grace
        self._terminate_timeout = terminate_timeout
        self._process_group = process_group if _OWN_GROUP else None

        # fast_acquire: an uncontended acquire does not yield to the event loop, which
        # would otherwise cost one loop pass per message on the hot path.
        self._send_lock = anyio.Lock(fast_acquire=True)
        self._receive_lock = anyio.Lock(fast_acquire=True)
        # Whole lines read from stdout and not yet handed out (from index _ready_at on), and
        # the pieces of the unfinished last line. Each chunk is split once, in C; a long line
        # arriving over many reads is joined once, when its newline comes.
        self._ready: list[bytes] = []
        self._ready_at = 0
        self._partial: list[bytes] = []
        self._partial_len = 0
        # A sticky end of the receive side: EndOfStream or a CodexTransportError.
        self._receive_end: BaseException | None = None
        # Whether a receive is blocked on the pipe, so that aclose can end it at once.
        self._reading = False
        self._send_broken: str | None = None
        self._eof_sent = False
        self._closing = False
        self._closed = anyio.Event()

        self._stderr_limit = max(0, stderr_tail_bytes)
        self._stderr_buffer = bytearray()
        self._stderr_truncated = False
        self._stderr_done = anyio.Event()

    # -- diagnostics --------------------------------------------------------------------

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The child's exit code once it has exited (negative: killed by that signal)."""
        return self._process.returncode

    def stderr_tail(self) -> str:
        """The most recent stderr output of the child (at most ``stderr_tail_bytes``).

        When older output was dropped, the text starts at the first whole line kept.
        """
        data = bytes(self._stderr_buffer)
        if self._stderr_truncated:
            newline = data.find(b"\n")
            if 0 <= newline < len(data) - 1:
                data = data[newline + 1 :]
        return data.decode("utf-8", errors="replace").rstrip()

    def _tail_or_none(self) -> str | None:
        return self.stderr_tail() or None

    # -- sending ------------------------------------------------------------------------

    async def send(self, message: bytes) -> None:
        """Write one message as one line to the child's stdin; concurrent calls queue up.

        ``message`` must not contain a newline byte (compact JSON never does).

        Cancelling a send that has started writing (possible only while the pipe is full,
        i.e. the server is not reading) may leave half a line in the pipe; the transport then
        refuses further sends with :class:`~codex_app_server_client.errors.CodexTransportError`
        rather than corrupt the next message. Receiving still works.

        Raises:
            CodexTransportError: the transport is closed, stdin was closed by
                :meth:`send_eof`, or the child stopped reading (it exited or closed stdin).
        """
        self._check_can_send()
        lock = self._send_lock
        await _take(lock)  # the checkpoint below is the send's cancellation point
        try:
            self._check_can_send()
            # A cancellation that is already due lands here, before any byte is written, so
            # it leaves the transport usable; only one arriving mid-write breaks it (below).
            await anyio.lowlevel.checkpoint_if_cancelled()
            try:
                if len(message) <= _JOIN_LIMIT:
                    await self._stdin.send(message + b"\n")
                else:
                    await self._stdin.send(message)
                    await self._stdin.send(b"\n")
            except anyio.get_cancelled_exc_class():
                # Part of the line may already be in the pipe; another message written after
                # it would merge with it into one corrupt line, so this stdin is done.
                self._send_broken = (
                    "a send was cancelled part-way, so the line it was writing may be "
                    "incomplete; open a new transport"
                )
                raise
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
                if self._closing:
                    raise CodexTransportError(
                        "cannot send: the stdio transport was closed while sending"
                    ) from exc
                self._send_broken = await self._child_gone_reason("stopped reading its stdin")
                raise CodexTransportError(
                    f"cannot send: {self._send_broken}", stderr_tail=self._tail_or_none()
                ) from exc
        finally:
            lock.release()

    def _check_can_send(self) -> None:
        if self._closing:
            raise CodexTransportError("cannot send: the stdio transport is closed; open a new one")
        if self._eof_sent:
            raise CodexTransportError(
                "cannot send: send_eof() already closed the server's stdin; open a new transport"
            )
        if self._send_broken is not None:
            raise CodexTransportError(
                f"cannot send: {self._send_broken}", stderr_tail=self._tail_or_none()
            )

    async def send_eof(self) -> None:
        """Close the child's stdin: the server sees end of input; replies still arrive.

        ``codex app-server`` exits (code 0) once its stdin ends, so expect
        :class:`anyio.EndOfStream` from :meth:`receive` after the last reply. Idempotent.
        """
        if self._closing or self._eof_sent:
            return
        async with self._send_lock:
            if self._eof_sent:
                return
            self._eof_sent = True
            # A child that is gone already has its stdin as closed as it can be.
            with suppress(anyio.BrokenResourceError, OSError):
                await self._stdin.aclose()

    # -- receiving ----------------------------------------------------------------------

    async def receive(self) -> bytes:
        """Return the next line the child wrote to stdout, without its line terminator.

        A cancelled call loses nothing: bytes already read stay buffered for the next call.

        Raises:
            anyio.EndOfStream: the child closed its stdout and exited cleanly (or is still
                running); raised again by every later call.
            CodexTransportError: the child exited with an error or was killed (the message
                has its exit code and stderr tail), a line exceeded ``max_message_bytes``,
                or the transport is closed.
        """
        await self._wait_for_lines()
        return self._take_one()

    async def receive_batch(self) -> list[bytes]:
        """Return every line already read from stdout, waiting for one if there is none.

        The list is never empty; ends and failures are those of :meth:`receive`, raised once
        the lines read before them have been handed out. A cancelled call loses nothing.
        """
        await self._wait_for_lines()
        return self._take_all()

    def _closed_error(self) -> CodexTransportError:
        return CodexTransportError("cannot receive: the stdio transport is closed; open a new one")

    async def _wait_for_lines(self) -> None:
        """Return once a whole line is buffered, or raise how stdout ended.

        The caller takes its lines right after, with no await in between, so no other
        receiver can take them first.
        """
        if self._closing:
            raise self._closed_error()
        lock = self._receive_lock
        if self._ready_at < len(self._ready) and not lock.locked():
            # Lines already buffered are handed out at once, without a checkpoint.
            return
        await _take(lock)  # the read below is a checkpoint whenever it has to wait
        try:
            while self._ready_at >= len(self._ready):
                if self._closing:
                    raise self._closed_error()
                if self._receive_end is not None:
                    raise self._receive_end
                await self._read_more()
        finally:
            lock.release()

    def _take_one(self) -> bytes:
        ready = self._ready
        at = self._ready_at
        line = ready[at]
        at += 1
        if at == len(ready):
            self._ready = []
            at = 0
        self._ready_at = at
        return line

    def _take_all(self) -> list[bytes]:
        ready, at = self._ready, self._ready_at
        self._ready = []
        self._ready_at = 0
        return ready[at:] if at else ready

    def _add_chunk(self, chunk: bytes) -> None:
        """Split a chunk of stdout into lines: whole ones become ready, the rest waits."""
        lines = chunk.split(b"\n")
        tail = lines.pop()
        partial = self._partial
        if not lines:  # no newline: the unfinished line only grows
            partial.append(tail)
            self._partial_len += len(tail)
            self._check_partial()
            return
        if partial:
            partial.append(lines[0])
            lines[0] = b"".join(partial)
            partial.clear()
        self._partial_len = 0
        if tail:
            partial.append(tail)
            self._partial_len = len(tail)
        # Server lines start with "{" and end without "\r"; min() and memchr check every
        # line at C speed, so the per-line clean-up below runs only for odd input.
        if b"\r" in chunk or lines[0][-1:] == b"\r" or min(lines)[:1] <= b" ":
            lines = _clean_lines(lines)
        limit = self._max_message_bytes
        if limit is not None and lines and (len(chunk) > limit or len(lines[0]) > limit):
            for index, line in enumerate(lines):
                if len(line) > limit:
                    del lines[index:]
                    self._fail_too_long()
                    break
        self._ready.extend(lines)
        self._check_partial()

    def _check_partial(self) -> None:
        limit = self._max_message_bytes
        if limit is not None and self._partial_len > limit:
            self._fail_too_long()

    def _fail_too_long(self) -> None:
        """Record that a line exceeded the limit; lines before it are still handed out."""
        self._partial.clear()
        self._partial_len = 0
        if self._receive_end is not None:
            return
        limit = self._max_message_bytes
        self._receive_end = CodexTransportError(
            f"the codex app-server sent a message longer than max_message_bytes={limit} bytes; "
            "the connection cannot continue. Open the stdio transport with a larger "
            "max_message_bytes (or max_message_bytes=None for no limit) if such messages "
            "are expected."
        )

    async def _read_more(self) -> None:
        """Add the next chunk of stdout to the buffers, or record how stdout ended."""
        # No cancel scope per read (it would cost more than the rest of a small read):
        # aclose ends a read blocked here by closing stdout, which makes it raise.
        self._reading = True
        try:
            chunk = await self._stdout.receive(_READ_CHUNK)
        except anyio.EndOfStream:
            if self._closing:
                raise self._closed_error() from None
            await self._settle_after_eof()
            return
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            if self._closing:
                raise self._closed_error() from exc
            reason = await self._child_gone_reason("broke its stdout pipe")
            self._receive_end = CodexTransportError(
                f"the connection to {reason}", stderr_tail=self._tail_or_none()
            )
            raise self._receive_end from exc
        finally:
            self._reading = False
        if self._closing:
            raise self._closed_error()
        self._add_chunk(chunk)

    async def _settle_after_eof(self) -> None:
        """Decide what stdout EOF means, from the exit code and the final stderr output."""
        with anyio.move_on_after(_EOF_SETTLE):
            await self._process.wait()
            await self._stderr_done.wait()
        returncode = self._process.returncode
        if returncode is None or returncode == 0:
            if self._partial and self._receive_end is None:
                # An unterminated last line: deliver it, since the server ended cleanly.
                self._add_chunk(b"\n")
            if self._receive_end is None:
                self._receive_end = anyio.EndOfStream()
            return
        self._partial.clear()
        self._partial_len = 0
        if self._receive_end is not None:
            return
        self._receive_end = CodexTransportError(
            f"the {self._program} app-server process {_describe_exit(returncode)}; "
            "the connection is lost. Its stderr below usually says why; open a new transport "
            "to continue.",
            stderr_tail=self._tail_or_none(),
        )

    async def _child_gone_reason(self, what: str) -> str:
        """Describe why a pipe broke, waiting briefly for the exit code to explain it."""
        with anyio.move_on_after(_EOF_SETTLE):
            await self._process.wait()
        returncode = self._process.returncode
        if returncode is None:
            return f"the {self._program} app-server process (still running) {what}"
        return f"the {self._program} app-server process {_describe_exit(returncode)}"

    # -- stderr -------------------------------------------------------------------------

    async def drain_stderr(self) -> None:
        """Read the child's stderr until it ends, keeping only the most recent bytes.

        :func:`open_stdio` runs this in a background task; anyone building a transport from
        a process by hand must do the same, or a chatty child blocks on a full stderr pipe.
        """
        try:
            while True:
                chunk = await self._stderr.receive(_READ_CHUNK)
                self._keep_stderr(chunk)
        except (
            anyio.EndOfStream,
            anyio.BrokenResourceError,
            anyio.ClosedResourceError,
            OSError,
        ):
            pass
        finally:
            self._stderr_done.set()

    def _keep_stderr(self, chunk: bytes) -> None:
        buffer = self._stderr_buffer
        buffer += chunk
        excess = len(buffer) - self._stderr_limit
        if excess > 0:
            del buffer[:excess]
            self._stderr_truncated = True

    # -- closing ------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop the child and release the pipes; idempotent, bounded and never cancelled.

        Closes stdin and waits ``close_grace`` seconds for the child to exit, then sends
        SIGTERM and waits ``terminate_timeout`` seconds, then sends SIGKILL. The child is
        always reaped. When the child leads its own process group (see the class docs), the
        signals go to the whole group, and processes still in it after the child has exited
        (commands the server started, say) get SIGTERM, up to ``terminate_timeout`` seconds
        to exit, then SIGKILL. Processes that left the group are not touched. A receive
        waiting in another task ends with
        :class:`~codex_app_server_client.errors.CodexTransportError`.
        """
        if self._closing:
            with anyio.CancelScope(shield=True):
                await self._closed.wait()
            return
        self._closing = True
        with anyio.CancelScope(shield=True):
            if self._reading:
                # Closing stdout makes the blocked read raise (anyio's process streams do
                # so on every backend), which _read_more turns into "transport closed".
                with suppress(anyio.BrokenResourceError, OSError):
                    await self._stdout.aclose()
            try:
                await self._stop_process()
            finally:
                self._closed.set()

    async def _stop_process(self) -> None:
        process = self._process
        if not self._eof_sent:
            self._eof_sent = True
            with suppress(anyio.BrokenResourceError, OSError):
                await self._stdin.aclose()
        if process.returncode is None:
            with anyio.move_on_after(self._close_grace):
                await process.wait()
        if process.returncode is None:
            self._signal(signal.SIGTERM)
            with anyio.move_on_after(self._terminate_timeout):
                await process.wait()
        if process.returncode is None:
            self._signal(signal.SIGKILL)
            with anyio.move_on_after(_KILL_WAIT):
                await process.wait()
        if process.returncode is not None:
            await self._end_group()
            # Let the drain read what the child wrote last, so stderr_tail() is complete
            # after aclose; bounded, as a grandchild may hold the pipe open.
            with anyio.move_on_after(_EOF_SETTLE):
                await self._stderr_done.wait()
            # Reaped: this closes the remaining pipes and returns at once.
            await process.aclose()
        else:  # pragma: no cover - a process that survives SIGKILL is stuck in the kernel
            for stream in (self._stdout, self._stderr):
                await stream.aclose()

    def _signal(self, signum: signal.Signals) -> None:
        """Send ``signum`` to the child's process group, or to the child alone."""
        group = self._process_group
        if group is not None and _signal_group(group, signum):
            return
        # It may exit between the check and the signal; wait() reaps it next.
        with suppress(ProcessLookupError):
            self._process.send_signal(signum)

    async def _end_group(self) -> None:
        """The child has exited: SIGTERM, then SIGKILL, what is left of its process group.

        The kernel does not hand out a process id while a process group of that number
        exists, so a group found non-empty here holds only the child's own descendants.
        """
        group = self._process_group
        if group is None or not _signal_group(group, 0):
            return
        _signal_group(group, signal.SIGTERM)
        with anyio.move_on_after(self._terminate_timeout):
            # They are not our children: no exit status to wait on, so look now and then.
            while _signal_group(group, 0):  # noqa: ASYNC110
                await anyio.sleep(_GROUP_POLL)
        _signal_group(group, signal.SIGKILL)


def _signal_group(group: int, signum: int) -> bool:
    """``os.killpg``; whether the group had a process we may signal (signal 0 only checks)."""
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _parse_options(options: Mapping[str, Any]) -> dict[str, Any]:
    check_options("stdio", options, OPTIONS)
    parsed: dict[str, Any] = {}

    command = options.get("command")
    if isinstance(command, str | bytes):
        raise TypeError(
            "the stdio transport's command option must be a list of arguments, such as "
            "['codex', 'app-server'], not a string: it is never run through a shell"
        )
    if command is not None:
        if not isinstance(command, Sequence):
            raise TypeError(
                f"the stdio transport's command option must be a list of strings, "
                f"not {type(command).__name__}"
            )
        argv = [_as_argument(item) for item in cast("Sequence[object]", command)]
        if not argv:
            raise ValueError("the stdio transport's command option is empty; name a program")
        parsed["command"] = argv

    env = options.get("env")
    if env is not None and not isinstance(env, Mapping):
        raise TypeError(
            "the stdio transport's env option must be a mapping of variable names to "
            "strings (or None to remove a variable)"
        )
    parsed["env"] = env

    cwd = options.get("cwd")
    if cwd is not None and not isinstance(cwd, str | os.PathLike):
        raise TypeError("the stdio transport's cwd option must be a path")
    parsed["cwd"] = cwd

    limit = options.get("max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError("max_message_bytes must be a positive integer, or None for no limit")
    parsed["max_message_bytes"] = limit

    tail = options.get("stderr_tail_bytes", DEFAULT_STDERR_TAIL_BYTES)
    if isinstance(tail, bool) or not isinstance(tail, int) or tail < 0:
        raise ValueError("stderr_tail_bytes must be a non-negative integer")
    parsed["stderr_tail_bytes"] = tail

    for name, default in (
        ("close_grace", DEFAULT_CLOSE_GRACE),
        ("terminate_timeout", DEFAULT_TERMINATE_TIMEOUT),
    ):
        value = options.get(name, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValueError(f"{name} must be a finite number of seconds, zero or more")
        parsed[name] = float(value)
    return parsed


def _as_argument(item: object) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, os.PathLike):
        return os.fsdecode(item)  # pyright: ignore[reportUnknownArgumentType]
    raise TypeError(
        f"every item of the stdio transport's command must be a string or a path, "
        f"not {type(item).__name__}"
    )


def _child_env(
    overrides: Mapping[str, str | None] | None, path_prepend: str | None
) -> dict[str, str] | None:
    """The child's environment: ours, with the caller's changes and the wheel's tool folder."""
    if overrides is None and path_prepend is None:
        return None
    env = dict(os.environ)
    for key, value in (overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    if path_prepend is not None:
        current = env.get("PATH")
        env["PATH"] = path_prepend + os.pathsep + current if current else path_prepend
    return env


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if (
        parts.scheme.lower() != "stdio"
        or parts.netloc
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise ValueError(
            f"the stdio transport takes the URL 'stdio://' with nothing after it, not {url!r}; "
            "choose the program with the command option instead"
        )


@asynccontextmanager
async def open_stdio(url: str, options: Mapping[str, Any]) -> AsyncGenerator[StdioTransport, None]:
    """Start ``codex app-server`` (or ``command``) and yield it as a :class:`StdioTransport`.

    This is the stdio plugin's opener; most callers reach it through a ``stdio://`` URL.
    Leaving the ``async with`` block closes the transport (see :meth:`StdioTransport.aclose`).

    Args:
        url: must be ``stdio://``.
        options: ``command`` (argument list, never a string: no shell is used; default
            :func:`~codex_app_server_client_stdio.default_codex_command`), ``env`` (merged
            over this process's environment; a ``None`` value removes a variable), ``cwd``,
            ``max_message_bytes`` (default 256 MiB; ``None`` for no limit),
            ``stderr_tail_bytes`` (default 64 KiB), ``close_grace`` (default 2 s) and
            ``terminate_timeout`` (default 1 s).

    Raises:
        TypeError: an unknown option, or a badly typed one (such as a string command).
        ValueError: a URL other than ``stdio://`` or an out-of-range option.
        CodexTransportError: no codex binary was found, or the program could not be started.
    """
    _check_url(url)
    parsed = _parse_options(options)
    argv: list[str] | None = parsed.get("command")
    path_prepend: str | None = None
    source = "the command option"
    if argv is None:
        resolved = resolve_default_command()
        argv, path_prepend, source = resolved.argv, resolved.path_prepend, resolved.source
    env = _child_env(parsed["env"], path_prepend)
    try:
        process = await anyio.open_process(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=parsed["cwd"],
            env=env,
            # A session of its own: the terminal's Ctrl-C (sent to the foreground process
            # group) does not reach the server, and aclose can end its whole process tree.
            start_new_session=_OWN_GROUP,
        )
    except OSError as exc:
        raise CodexTransportError(
            f"could not start {argv[0]!r} (taken from {source}): {exc.strerror or exc}. "
            "Check that the program exists and is executable, and that cwd exists."
        ) from exc
    transport = StdioTransport(
        process,
        argv=argv,
        max_message_bytes=parsed["max_message_bytes"],
        stderr_tail_bytes=parsed["stderr_tail_bytes"],
        close_grace=parsed["close_grace"],
        terminate_timeout=parsed["terminate_timeout"],
        process_group=process.pid if _OWN_GROUP else None,
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(transport.drain_stderr)
        try:
            yield transport
        finally:
            await transport.aclose()
            # The drain normally ends when the pipe closes; a grandchild holding the
            # stderr pipe open must not keep this block from exiting.
            tg.cancel_scope.cancel()


async def _take(lock: anyio.Lock) -> None:
    """Acquire ``lock``; when it is free (nearly always), without a checkpoint of its own.

    ``Lock.acquire`` checks for cancellation even when the lock is free; both callers reach
    a checkpoint right after anyway, so on the hot path that check would only be paid twice.
    """
    try:
        lock.acquire_nowait()
    except anyio.WouldBlock:
        await lock.acquire()


def _clean_lines(lines: list[bytes]) -> list[bytes]:
    """Drop one trailing ``\\r`` from each line, then the lines that are blank."""
    stripped = (line[:-1] if line[-1:] == b"\r" else line for line in lines)
    return [line for line in stripped if line and not line.isspace()]
