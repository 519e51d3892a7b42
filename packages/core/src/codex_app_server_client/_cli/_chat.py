"""``codex-client chat``: run one turn and show each step as it completes."""

from __future__ import annotations

import signal
import sys
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TextIO

import anyio

from ..errors import CodexError, CodexTurnFailedError, CodexTurnInactiveError
from ..models import (
    ApprovalDecision,
    ApprovalRequest,
    CommandApprovalRequest,
    Continuation,
    Step,
)
from . import _render
from ._console import is_tty
from ._errors import describe, inactive_fact
from ._exit import (
    EXIT_CTRL_C,
    EXIT_OK,
    EXIT_TURN_INTERRUPTED,
    error_kind,
    exit_code_for,
)
from ._login import require_login

if TYPE_CHECKING:
    from .._turn_stream import TurnStream
    from ..client import CodexClient
    from ..protocol import Notification
    from ._context import Context

_ANSWERS = {
    "y": ApprovalDecision.ACCEPT,
    "yes": ApprovalDecision.ACCEPT,
    "n": ApprovalDecision.DECLINE,
    "no": ApprovalDecision.DECLINE,
    "a": ApprovalDecision.ACCEPT_FOR_SESSION,
    "always": ApprovalDecision.ACCEPT_FOR_SESSION,
    "c": ApprovalDecision.CANCEL,
    "cancel": ApprovalDecision.CANCEL,
}

_CANCEL_SECONDS = 10.0
"""How long Ctrl-C waits for the server to confirm the interrupt before giving up."""

_LABELS = {
    "agentMessage": "writing",
    "reasoning": "thinking",
    "commandExecution": "running",
    "fileChange": "editing files",
    "mcpToolCall": "calling a tool",
    "webSearch": "searching the web",
}


class _Approver:
    """Answers approval requests: ``--approve``, a y/n/a/c prompt on a terminal, else decline."""

    def __init__(self, ctx: Context, items: dict[str, dict[str, Any]]) -> None:
        self._ctx = ctx
        self._items = items
        self._lock = anyio.Lock()

    async def __call__(self, request: ApprovalRequest) -> ApprovalDecision:
        console = self._ctx.console
        if isinstance(request, CommandApprovalRequest):
            kind, subject = "command", request.command or "(command not shown)"
        else:
            item = self._items.get(request.item_id, {})
            kind, subject = "fileChange", _render.change_summary(item)
        # One prompt at a time: parallel requests would garble the terminal.
        async with self._lock:
            if self._ctx.args.approve:
                decision, decided_by = ApprovalDecision.ACCEPT, "flag"
                console.note(f"codex-client: approved {_what(kind, subject)} (--approve)")
            elif is_tty(console.stdin):
                decision, decided_by = await self._ask(kind, subject, request), "user"
            else:
                decision, decided_by = ApprovalDecision.DECLINE, "default"
                console.note(
                    f"codex-client: declined {_what(kind, subject)}: stdin is not a terminal, "
                    "so nobody can be asked; pass --approve to allow such requests"
                )
        if console.json_mode:
            console.event(
                "approval",
                kind=kind,
                thread_id=request.thread_id,
                turn_id=request.turn_id,
                item_id=request.item_id,
                subject=subject,
                reason=request.reason,
                decision=str(decision),
                decided_by=decided_by,
            )
        return decision

    async def _ask(self, kind: str, subject: str, request: ApprovalRequest) -> ApprovalDecision:
        console = self._ctx.console
        resume = console.pause()
        try:
            console.note(f"? codex wants to {_what(kind, subject)}")
            if isinstance(request, CommandApprovalRequest) and request.cwd:
                console.note(f"  in {request.cwd}")
            if request.reason:
                console.note(f"  reason: {request.reason}")
            while True:
                console.stderr.write(
                    "  allow? [y]es / [n]o / [a]lways this session / [c]ancel the turn: "
                )
                console.stderr.flush()
                line = await _read_line(console.stdin)
                if not line:  # end of input: nobody is there to say yes
                    console.note("")
                    return ApprovalDecision.DECLINE
                answer = _ANSWERS.get(line.strip().lower())
                if answer is not None:
                    return answer
                console.note("  please answer y, n, a or c")
        finally:
            resume()


def _what(kind: str, subject: str) -> str:
    return f"run `{subject}`" if kind == "command" else f"change files: {subject}"


async def _read_line(stream: TextIO) -> str:
    """Read one line without blocking the event loop; ``""`` at end of input."""
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return stream.readline()  # an in-memory stream never blocks
    wait_readable: Callable[[int], Any] | None = getattr(anyio, "wait_readable", None)
    if wait_readable is not None and sys.platform != "win32":
        # Waiting on the descriptor (rather than a worker thread) keeps Ctrl-C prompt: a
        # thread blocked in readline() could not be stopped and would hold the exit.
        await wait_readable(fd)
        return stream.readline()
    return await anyio.to_thread.run_sync(stream.readline, abandon_on_cancel=True)


@asynccontextmanager
async def _sigint_cancels(scope: anyio.CancelScope, flag: list[bool]) -> AsyncGenerator[None]:
    """While inside, Ctrl-C (SIGINT) cancels ``scope`` and sets ``flag[0]``."""
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            try:
                with anyio.open_signal_receiver(signal.SIGINT) as signals:
                    async for _ in signals:
                        flag[0] = True
                        scope.cancel()
                        return
            except (NotImplementedError, RuntimeError, ValueError):
                # Not the main thread, or a platform without signal handling: Ctrl-C then
                # arrives as KeyboardInterrupt, which main() turns into exit status 130.
                return

        tg.start_soon(watch)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


async def run_chat(ctx: Context) -> int:
    """Run the ``chat`` command; returns the exit code."""
    args = ctx.args
    console = ctx.console
    items: dict[str, dict[str, Any]] = {}
    approver = _Approver(ctx, items)
    inactivity = args.inactivity_timeout if args.inactivity_timeout > 0 else None
    client = ctx.open_client(approval_handler=approver, inactivity_timeout=inactivity)
    turn_options: dict[str, Any] = {
        "model": args.model,
        "cwd": args.cwd,
        "effort": args.effort,
        "approval_policy": args.approval_policy,
        "sandbox_policy": args.sandbox,
    }
    turn_options = {k: v for k, v in turn_options.items() if v is not None}

    async def work() -> int:
        console.status("connecting")
        async with client:
            console.status("checking the login")
            await require_login(client, remote=not args.url.startswith("stdio:"))
            unsubscribe = client.on_notification(_progress(console, items))
            try:
                return await _run_turn(ctx, client, turn_options)
            finally:
                unsubscribe()

    return await console.with_spinner(work)


def _progress(console: Any, items: dict[str, dict[str, Any]]) -> Callable[[Notification], None]:
    """A notification listener that keeps the spinner's label and the started items current."""

    def listen(note: Notification) -> None:
        if note.method == "item/started":
            item = note.params.get("item")
            if isinstance(item, dict):
                raw: dict[str, Any] = item  # pyright: ignore[reportUnknownVariableType]
                item_id = raw.get("id")
                if isinstance(item_id, str):
                    items[item_id] = raw
                kind = raw.get("type")
                label = _LABELS.get(kind) if isinstance(kind, str) else None
                if label == "running":
                    label = f"running {_render.one_line(raw.get('command'), 40)}"
                if label is not None:
                    console.status(label)
        elif note.method == "item/completed":
            console.status("working")
        elif note.method == "turn/started":
            console.status("waiting for the model")

    return listen


async def _run_turn(ctx: Context, client: CodexClient, turn_options: dict[str, Any]) -> int:
    args = ctx.args
    console = ctx.console
    stream = client.chat(args.prompt, thread_id=args.thread, **turn_options)
    shown = 0
    announced = False
    error: CodexError | None = None
    interrupted = [False]
    console.status("starting the turn")
    console.status_override(lambda: _retry_status(stream))
    try:
        with anyio.CancelScope() as scope:
            async with _sigint_cancels(scope, interrupted):
                try:
                    async for step in stream:
                        if not announced:
                            announced = True
                            _announce(ctx, stream.thread_id, stream.turn_id)
                        shown += 1
                        _show_step(ctx, step, stream.thread_id, stream.turn_id)
                except CodexError as exc:
                    error = exc
    finally:
        console.status_override(None)
    if interrupted[0]:
        return await _interrupt(ctx, client, stream.thread_id, stream.turn_id, shown)
    if isinstance(error, CodexTurnInactiveError):
        return await _give_up_inactive(ctx, client, error)
    if error is not None:
        return _report_error(ctx, error)
    result = stream.result
    if not announced:
        _announce(ctx, result.thread_id, result.turn_id)
    code = EXIT_OK if result.status == "completed" else EXIT_TURN_INTERRUPTED
    if console.json_mode:
        console.event(
            "result",
            thread_id=result.thread_id,
            turn_id=result.turn_id,
            status=result.status,
            final_text=result.final_text,
            usage=result.usage,
            exit_code=code,
        )
    console.note(f"codex-client: turn {result.status} on thread {result.thread_id}")
    if result.status == "completed":
        console.note(f'  continue it with: codex-client chat --thread {result.thread_id} "..."')
    else:
        console.note("  the turn was interrupted (an approval answered 'cancel', or the server)")
    return code


def _retry_status(stream: TurnStream) -> str | None:
    """The spinner's label while the server retries the model request, else ``None``."""
    notice = stream.retry
    if notice is None:
        return None
    if notice.attempt is None:
        count = ""
    elif notice.max_attempts is None:
        count = f" ({notice.attempt})"
    else:
        count = f" ({notice.attempt}/{notice.max_attempts})"
    return f"model unreachable, retrying{count}: {_render.one_line(notice.message, 80)}"


def _announce(ctx: Context, thread_id: str | None, turn_id: str | None) -> None:
    if ctx.console.json_mode:
        ctx.console.event("turn_started", thread_id=thread_id, turn_id=turn_id)


def _show_step(ctx: Context, step: Step, thread_id: str | None, turn_id: str | None) -> None:
    console = ctx.console
    if console.json_mode:
        console.event(
            "step",
            thread_id=thread_id,
            turn_id=turn_id,
            item_id=step.item_id,
            item_type=step.item_type,
            text=step.text,
            partial=step.partial,
            item=step.item,
        )
        return
    for line in _render.item_lines(step.item, text=step.text, partial=step.partial):
        console.out(line)


async def _interrupt(
    ctx: Context, client: CodexClient, thread_id: str | None, turn_id: str | None, shown: int
) -> int:
    """Ctrl-C: interrupt the turn (best effort), show what it did meanwhile, exit 130."""
    console = ctx.console
    console.status(None)
    status = "unknown"
    confirmed = False
    if thread_id is not None and turn_id is not None:
        console.note("codex-client: interrupting the turn (Ctrl-C again to quit at once)")
        try:
            with anyio.move_on_after(_CANCEL_SECONDS):
                cancelled = await client.cancel(
                    Continuation(thread_id, turn_id, shown), timeout=_CANCEL_SECONDS
                )
                status, confirmed = cancelled.status, cancelled.interrupted
                for step in cancelled.steps:
                    _show_step(ctx, step, thread_id, turn_id)
        except CodexError as exc:
            console.note(f"codex-client: could not interrupt the turn: {describe(exc, ctx.args)}")
        if not confirmed and client.closed:
            console.note(
                "codex-client: the connection to the server ended before it confirmed the interrupt"
            )
    if console.json_mode:
        console.event(
            "interrupted",
            thread_id=thread_id,
            turn_id=turn_id,
            status=status,
            confirmed=confirmed,
            exit_code=EXIT_CTRL_C,
        )
    where = f" on thread {thread_id}" if thread_id else ""
    console.note(f"codex-client: interrupted by Ctrl-C{where} (turn status: {status})")
    return EXIT_CTRL_C


async def _give_up_inactive(
    ctx: Context, client: CodexClient, error: CodexTurnInactiveError
) -> int:
    """The turn went quiet for ``--inactivity-timeout``: interrupt it, say so, exit 6."""
    status: str | None = None
    # Stop the turn we are giving up on, so it does not run on unseen.
    with anyio.move_on_after(_CANCEL_SECONDS):
        try:
            status = (await client.cancel(error.continuation, timeout=_CANCEL_SECONDS)).status
        except CodexError:
            status = None
    fact = inactive_fact(error, ctx.args)
    if status == "interrupted":
        message = f"{fact}, so it was interrupted"
    elif status is not None and status != "inProgress":
        message = f"{fact}; it has ended since ({status})"
    else:
        message = f"{fact}; it may still be running (the interrupt was not confirmed)"
    thread_id = error.continuation.thread_id
    hint = (
        "\n  raise --inactivity-timeout (0 waits without limit) if the model is just slow; "
        f'the thread can take a new turn: codex-client chat --thread {thread_id} "..."'
    )
    return _report_error(ctx, error, message=message, hint=hint)


def _report_error(
    ctx: Context, error: CodexError, *, message: str | None = None, hint: str = ""
) -> int:
    code = exit_code_for(error)
    console = ctx.console
    if message is None:
        message = describe(error, ctx.args)
    if console.json_mode:
        fields: dict[str, Any] = {"kind": error_kind(error), "message": message}
        if isinstance(error, CodexTurnFailedError):
            fields.update(
                thread_id=error.thread_id, turn_id=error.turn_id, error_info=error.error_info
            )
        if isinstance(error, CodexTurnInactiveError):
            fields.update(
                thread_id=error.continuation.thread_id, turn_id=error.continuation.turn_id
            )
        console.event("error", **fields, exit_code=code)
    if isinstance(error, CodexTurnFailedError):
        hint = (
            f"\n  the thread can take a new turn: codex-client chat --thread {error.thread_id} ..."
        )
    console.note(f"codex-client: {message}{hint}")
    return code
