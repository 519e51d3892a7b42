"""Run the benchmark suite: ``python benchmarks/run.py [--smoke] [--only NAME] [--json PATH]``.

``nox -s bench`` runs it in full and writes ``benchmarks/results/latest.json``; the test
suite runs it with ``--smoke`` (tiny sizes) so it cannot rot. Each benchmark module exposes
``run(smoke: bool) -> list[Result]``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import Result, print_table, write_json  # noqa: E402

BENCHMARKS = ("throughput", "latency", "concurrency", "memory", "import_time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check it runs")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only these")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "latest.json")
    args = parser.parse_args(argv)
    results: list[Result] = []
    for name in args.only or BENCHMARKS:
        module = importlib.import_module(f"bench_{name}")
        print(f"running {name}{' (smoke)' if args.smoke else ''} ...", file=sys.stderr, flush=True)
        results.extend(module.run(smoke=args.smoke))
    print_table(results)
    write_json(results, args.json)
    wrong = [r for r in results if r.correct is False]
    if wrong:
        print(f"correctness check failed: {[r.figure for r in wrong]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
