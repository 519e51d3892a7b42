"""Human-readable lines for items, threads and models (the non-``--json`` output)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, cast

_OUTPUT_LINES = 10
"""How many trailing lines of a command's output the terminal view shows."""

_CHANGE_MARKS = {"add": "+", "delete": "-", "update": "~"}


def _dict(value: object) -> dict[str, Any]:
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return cast("list[Any]", value) if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def item_lines(
    item: Mapping[str, Any], *, text: str | None = None, partial: bool = False
) -> list[str]:
    """The lines that show one completed item; ``[]`` for items not worth showing.

    ``text`` is the SDK's best-effort text for the item (``Step.text``), used for item types
    this view has no special layout for.
    """
    kind = _str(item.get("type")) or "unknown"
    cut = " [cut off]" if partial else ""
    if kind == "userMessage":
        return []
    if kind == "agentMessage":
        message = _str(item.get("text")) or text or ""
        return [message + cut] if message or cut else []
    if kind == "reasoning":
        summary = [s for s in (_str(p) for p in _list(item.get("summary"))) if s]
        return [f"(thinking) {line}" for line in summary]
    if kind == "commandExecution":
        return _command_lines(item)
    if kind == "fileChange":
        return _file_change_lines(item)
    label = f"[{kind}]"
    return [f"{label} {text}{cut}" if text else label + cut]


def _command_lines(item: Mapping[str, Any]) -> list[str]:
    command = _str(item.get("command")) or "(command)"
    status = _str(item.get("status")) or "unknown"
    exit_code = item.get("exitCode")
    if isinstance(exit_code, int) and not isinstance(exit_code, bool):
        outcome = f"exit {exit_code}"
    else:
        outcome = status
    lines = [f"$ {command}  [{outcome}]"]
    output = _str(item.get("aggregatedOutput")) or ""
    shown = output.rstrip("\n").splitlines()
    if len(shown) > _OUTPUT_LINES:
        lines.append(f"  | ... {len(shown) - _OUTPUT_LINES} earlier lines")
        shown = shown[-_OUTPUT_LINES:]
    lines.extend(f"  | {line}" for line in shown)
    return lines


def _file_change_lines(item: Mapping[str, Any]) -> list[str]:
    status = _str(item.get("status")) or "unknown"
    changes = [_dict(c) for c in _list(item.get("changes"))]
    suffix = "" if status == "completed" else f"  [{status}]"
    if not changes:
        return [f"~ (file change){suffix}"]
    lines: list[str] = []
    for change in changes:
        kind = _str(_dict(change.get("kind")).get("type")) or _str(change.get("kind")) or "update"
        mark = _CHANGE_MARKS.get(kind, "~")
        lines.append(f"{mark} {change.get('path', '?')}{suffix}")
    return lines


def change_summary(item: Mapping[str, Any]) -> str:
    """The paths a file-change item touches, for an approval prompt."""
    paths = [str(_dict(c).get("path", "?")) for c in _list(item.get("changes"))]
    return ", ".join(paths) if paths else "(paths not announced)"


def when(seconds: object) -> str:
    """An epoch-seconds timestamp as local ``YYYY-MM-DD HH:MM``; ``-`` when absent."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return "-"
    stamp = float(seconds)
    if stamp > 1e11:  # milliseconds
        stamp /= 1000.0
    try:
        return datetime.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return "-"


def one_line(text: object, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` characters."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def thread_line(thread: Mapping[str, Any]) -> str:
    """One line of ``threads list``: id, last update, name or preview."""
    title = _str(thread.get("name")) or _str(thread.get("preview")) or ""
    return f"{thread.get('id', '?')}  {when(thread.get('updatedAt'))}  {one_line(title)}"


def turn_header(turn: Mapping[str, Any]) -> str:
    """The heading line of one turn in ``threads read``."""
    return f"-- turn {turn.get('id', '?')} [{turn.get('status', '?')}]"


def user_lines(item: Mapping[str, Any]) -> list[str]:
    """A user message as ``> text`` lines (``threads read`` shows what was asked)."""
    texts: list[str] = []
    for part in _list(item.get("content")):
        text = _str(_dict(part).get("text"))
        if text:
            texts.extend(text.splitlines() or [""])
    return [f"> {line}" for line in texts]


def model_line(model: Mapping[str, Any]) -> str:
    """One line of ``models``: id, display name, and whether it is the default."""
    default = "  (default)" if model.get("isDefault") else ""
    name = _str(model.get("displayName")) or ""
    shown = f"  {name}" if name and name != model.get("id") else ""
    return f"{model.get('id', '?')}{shown}{default}"
