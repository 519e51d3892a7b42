"""The benchmark suite runs (``benchmarks/run.py --smoke``), so it cannot rot.

Smoke sizes are tiny: this checks that every benchmark runs, writes its rows and that every
correctness check holds, not that a target is met (that is ``nox -s bench``'s job).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from codex_app_server_client.protocol import TurnRouter, TurnState

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"

EXPECTED: dict[str, int] = {
    "throughput": 1,
    "latency": 1,
    "concurrency": 1,
    "memory": 2,
    "import_time": 1,
}
"""Each benchmark, and the fewest result rows its smoke run must produce."""

CHECKED = frozenset({"concurrency", "memory", "import_time"})
"""Benchmarks whose rows must carry a correctness verdict."""


def _smoke(names: list[str], out: Path) -> list[dict[str, Any]]:
    command = [sys.executable, str(RUN), "--smoke", "--json", str(out)]
    for name in names:
        command += ["--only", name]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )
    assert completed.returncode == 0, (
        f"exit {completed.returncode}\nstdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    )
    payload: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    results: list[dict[str, Any]] = payload["results"]
    return results


def test_every_benchmark_runs_and_is_correct_at_smoke_size(tmp_path: Path) -> None:
    results = _smoke(list(EXPECTED), tmp_path / "x.json")
    for name, fewest in EXPECTED.items():
        rows = [r for r in results if r["benchmark"] == name]
        assert len(rows) >= fewest, f"{name}: {len(rows)} rows, expected at least {fewest}"
    assert {r["benchmark"] for r in results} == set(EXPECTED)
    wrong = [r["figure"] for r in results if r["correct"] is False]
    assert not wrong, f"correctness checks failed: {wrong}"
    for row in results:
        assert row["sdk"] == row["sdk"], f"{row['figure']}: SDK figure is NaN"
        assert row["raw"] > 0, f"{row['figure']}: no raw baseline"
    # These carry a correctness verdict, never None: every concurrent turn saw exactly its
    # own steps in order; the client's turn tables were empty after the memory run; the
    # import loaded no transport plugin, websockets or pluggy.
    for row in results:
        if row["benchmark"] in CHECKED:
            assert row["correct"] is True, f"{row['figure']}: {row['note']}"
            assert row["target"] is not None, f"{row['figure']}: no target"


def _concurrency_failures(monkeypatch: pytest.MonkeyPatch, sabotage: bool) -> list[str]:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # pyright: ignore[reportUnknownMemberType]
    import bench_concurrency  # pyright: ignore[reportMissingImports]

    if sabotage:
        route = TurnRouter.route

        def swap_two_turns(
            self: TurnRouter, method: str, params: dict[str, Any]
        ) -> TurnState | None:
            # A router that is fast and wrong: it files turn 1's steps under turn 2.
            if method == "item/completed" and params.get("turnId") == "tu-1":
                params = {**params, "turnId": "tu-2"}
            return route(self, method, params)

        monkeypatch.setattr(TurnRouter, "route", swap_two_turns)
    sdk_round = bench_concurrency._sdk_round  # pyright: ignore[reportPrivateUsage]
    return anyio.run(sdk_round, 4, 3).failures


def test_the_concurrency_check_fails_a_router_that_mixes_up_turns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _concurrency_failures(monkeypatch, sabotage=False) == []
    failures = _concurrency_failures(monkeypatch, sabotage=True)
    assert any("tu-1" in failure for failure in failures), failures
    assert any("tu-2" in failure for failure in failures), failures
