"""Shared pieces of the benchmark suite: one result row, the table, the JSON file.

Every figure is measured beside a raw baseline in the same run, because absolute times on
shared machines drift; the ratio is what a target is set on.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Result", "machine", "print_table", "write_json"]


@dataclass(frozen=True, slots=True)
class Result:
    """One benchmark figure next to its raw baseline.

    Attributes:
        benchmark: which benchmark (``throughput``, ``latency``, ...).
        figure: what was measured, e.g. ``"stdio item/completed events/s"``.
        sdk: the SDK's value.
        raw: the raw baseline's value, measured in the same run.
        unit: the unit of both values.
        higher_is_better: whether a bigger value is better (events/s) or worse (seconds).
        target: the target for :attr:`ratio` (a floor when higher is better, a ceiling
            otherwise); ``None`` when the figure has no target.
        correct: for benchmarks that also check correctness, whether every check held.
        note: anything a reader needs (sizes, counts).
    """

    benchmark: str
    figure: str
    sdk: float
    raw: float
    unit: str
    higher_is_better: bool
    target: float | None = None
    correct: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        """``sdk/raw``: a share of the raw rate when higher is better (0.6 = 60% of raw), a
        cost multiple when lower is better (1.3 = 30% slower than raw)."""
        if self.raw == 0:
            return float("inf")
        return self.sdk / self.raw

    @property
    def met(self) -> bool | None:
        """Whether the target is met (``None`` without a target)."""
        if self.target is None:
            return None
        if self.higher_is_better:
            return self.ratio >= self.target
        return self.ratio <= self.target


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
    }


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def print_table(results: Sequence[Result]) -> None:
    """Print one table: figure, SDK, raw baseline, ratio, target, verdict."""
    header = ("benchmark", "figure", "SDK", "raw", "unit", "ratio", "target", "met", "correct")
    rows: list[tuple[str, ...]] = [header]
    for r in results:
        if r.target is None:
            target = "-"
        else:
            target = f">= {r.target:g}" if r.higher_is_better else f"<= {r.target:g}"
        rows.append(
            (
                r.benchmark,
                r.figure,
                _fmt(r.sdk),
                _fmt(r.raw),
                r.unit,
                f"{r.ratio:.2f}",
                target,
                {True: "yes", False: "NO", None: "-"}[r.met],
                {True: "yes", False: "NO", None: "-"}[r.correct],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def write_json(results: Sequence[Result], path: Path) -> None:
    """Write the results (with ratios and the machine) as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": machine(),
        "results": [asdict(r) | {"ratio": r.ratio, "met": r.met} for r in results],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
