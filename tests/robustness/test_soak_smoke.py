"""The soak (``tests/robustness/soak.py``, run at length by ``nox -s soak``) at smoke size.

A few dozen turns with random faults over two concurrent clients, on each backend, in a child
process (so that its before/after counts of tasks, file descriptors and threads are its own):
it must end with nothing lost, nothing leaked and no unexpected outcome.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).with_name("soak.py")
ROOT = Path(__file__).resolve().parents[2]

LAST_LINE = re.compile(
    r"^soak: turns=(?P<turns>\d+) faults=(?P<faults>\d+) lost=(?P<lost>\d+) "
    r"leaks=(?P<leaks>\d+) errors=(?P<errors>\d+)$"
)


@pytest.mark.parametrize(("backend", "seed"), [("asyncio", 1), ("trio", 2)])
def test_a_short_soak_with_random_faults_loses_no_event_and_leaks_nothing(
    backend: str, seed: int
) -> None:
    command = [sys.executable, str(SOAK), "--turns", "40", "--workers", "2"]
    command += ["--seed", str(seed), "--backend", backend]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )
    report = f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    lines = completed.stdout.strip().splitlines()
    assert lines, report
    match = LAST_LINE.match(lines[-1])
    assert match is not None, report
    assert int(match["turns"]) == 40, report
    assert int(match["faults"]) > 0, report
    assert (match["lost"], match["leaks"], match["errors"]) == ("0", "0", "0"), report
    assert completed.returncode == 0, report
