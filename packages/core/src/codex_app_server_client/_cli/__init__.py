"""The ``codex-client`` command line: stdlib argparse on top of the public client API.

``main`` is the console script's entry point (see ``[project.scripts]``); ``run`` is the same
command run inside an existing event loop, with injectable streams and connector for tests.
Usage, exit codes and the ``--json`` event schema are documented in ``docs/cli.md``.
"""

from __future__ import annotations

from ._app import build_parser, main, run

__all__ = ["build_parser", "main", "run"]
