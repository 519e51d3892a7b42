"""Benchmark 5: the cost of ``import codex_app_server_client``.

Each measurement is a fresh interpreter running ``python -X importtime -c "import NAME"``; the
figure is the cumulative microseconds on the top-level package's line, median of the runs.
The raw baseline is ``import anyio`` measured the same way (the SDK imports anyio, so the SDK
figure includes it). Target: <= 2x anyio.

Correct only if the import pulled in no transport plugin, no ``websockets`` and no
``pluggy`` (they load when a URL is first resolved), checked in another fresh interpreter.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from _common import Result

__all__ = ["forbidden_imports", "import_time_us", "run"]

PACKAGE = "codex_app_server_client"
BASELINE = "anyio"
FORBIDDEN_PREFIXES = (
    "codex_app_server_client_stdio",
    "codex_app_server_client_ws",
    "codex_app_server_client.plugins",
    "websockets",
    "pluggy",
)


def import_time_us(module: str, statement: str | None = None) -> int:
    """Cumulative µs that ``statement`` (default ``import module``) spends importing ``module``
    and its submodules, in a fresh interpreter (``-X importtime``).

    A submodule loaded lazily after the package (``from pkg import Name`` through the package's
    ``__getattr__``) shows as a top-level line of its own; its time is added.
    """
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement or f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    found = False
    # Lines look like: "import time:       123 |       4567 | codex_app_server_client".
    for line in completed.stderr.splitlines():
        # Nested imports are indented further; top-level ones have exactly one space.
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or parts[2].startswith("  "):
            continue
        name = parts[2].strip()
        if name == module or name.startswith(module + "."):
            total += int(parts[1])
            found = True
    if not found:
        raise RuntimeError(f"no -X importtime line for {module}:\n{completed.stderr[-2000:]}")
    return total


def forbidden_imports() -> list[str]:
    """Modules that ``import codex_app_server_client`` must not load, but did."""
    code = (
        f"import json, sys, {PACKAGE}; "
        f"print(json.dumps([m for m in sys.modules if m.startswith({FORBIDDEN_PREFIXES!r})]))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(completed.stdout)
    return sorted(loaded)


FROM_IMPORT = f"from {PACKAGE} import CodexClient"


def run(smoke: bool) -> list[Result]:
    """``smoke``: 2 runs each; else the median of 7 (after one run each to warm the caches).

    Two figures: ``import codex_app_server_client`` (the issue's target; ``CodexClient``
    loads on first use) and ``from codex_app_server_client import CodexClient``, what a
    program that opens a client pays. Both against ``import anyio``.
    """
    runs = 2 if smoke else 7
    if not smoke:
        import_time_us(PACKAGE)
        import_time_us(PACKAGE, FROM_IMPORT)
        import_time_us(BASELINE)
    sdk: list[int] = []
    full: list[int] = []
    raw: list[int] = []
    for _ in range(runs):  # alternate, so drift hits all alike
        sdk.append(import_time_us(PACKAGE))
        full.append(import_time_us(PACKAGE, FROM_IMPORT))
        raw.append(import_time_us(BASELINE))
    loaded = forbidden_imports()
    note = (
        f"median of {runs} fresh interpreters each, cumulative -X importtime of the package's "
        f"lines. Checked not imported: {', '.join(FORBIDDEN_PREFIXES)}"
    )
    note += f"; IMPORTED: {', '.join(loaded)}" if loaded else " (none was)"
    baseline = statistics.median(raw) / 1000
    return [
        Result(
            benchmark="import_time",
            figure=f"import {PACKAGE} (vs import {BASELINE})",
            sdk=statistics.median(sdk) / 1000,
            raw=baseline,
            unit="ms",
            higher_is_better=False,
            target=2.0,
            correct=not loaded,
            note=note + "; CodexClient loads on first use",
        ),
        Result(
            benchmark="import_time",
            figure=f"{FROM_IMPORT} (vs import {BASELINE})",
            sdk=statistics.median(full) / 1000,
            raw=baseline,
            unit="ms",
            higher_is_better=False,
            target=2.0,
            correct=True,
            note=note + "; includes anyio, orjson, logging, the protocol engine and the models",
        ),
    ]


if __name__ == "__main__":
    from _common import print_table

    print_table(run(smoke="--smoke" in sys.argv))
