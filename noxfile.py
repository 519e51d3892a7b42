"""Developer and CI tasks. Every session installs the locked workspace into its own venv.

nox -s lint typecheck tests docs   # what CI runs (the README's test command)
nox -s conformance              # the transport contract over every first-party transport
nox -s e2e                      # only the tests that drive the real codex binary
nox -s generate                 # regenerate the wire types from the pinned codex binary
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"


def _sync(session: nox.Session, *groups: str) -> None:
    """Install the workspace exactly as locked (all members, extras and the given groups)."""
    args = ["uv", "sync", "--frozen", "--inexact"]
    for group in groups:
        args += ["--group", group]
    session.run_install(
        *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        silent=True,
    )


def _pytest(session: nox.Session, *args: str) -> None:
    session.run("python", "-m", "pytest", *args, *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite, real-binary end-to-end tests included."""
    _sync(session)
    _pytest(session)


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """The transport conformance contract over in-memory, stdio, ws and a third-party one."""
    _sync(session)
    _pytest(session, "tests/conformance")


@nox.session(python=PYTHON)
def e2e(session: nox.Session) -> None:
    """Only the tests that run the real codex binary (offline, against a fake provider)."""
    _sync(session)
    _pytest(session, "-m", "e2e")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    _sync(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """pyright in strict mode over the packages, tests, benchmarks, examples and docs hooks."""
    _sync(session, "lint", "docs")  # docs: the griffe extension under docs/_griffe
    session.run("pyright")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site (mkdocs.yml) in strict mode: any warning fails it."""
    _sync(session, "docs")
    # NO_MKDOCS_2_WARNING silences mkdocs-material's notice about its own end of life, which
    # says nothing about this site; real build warnings still fail the build (--strict).
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--clean",
        *session.posargs,
        env={"NO_MKDOCS_2_WARNING": "1"},
    )


@nox.session(python=PYTHON)
def generate(session: nox.Session) -> None:
    """Regenerate codex_app_server_client.types from the pinned binary's JSON Schema."""
    _sync(session, "generate", "lint")
    session.run("python", "packages/core/scripts/generate_types.py", *session.posargs)
    # The blocking client's typed request overloads are rendered from the async ones.
    session.run("python", "tests/sync/test_sync_request_types.py", "--write")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """The benchmark suite at full size: prints the table, writes benchmarks/results/latest.json."""
    _sync(session)
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python=PYTHON)
def soak(session: nox.Session) -> None:
    """Minutes of turns with random faults against the fake server; fails on a lost event or
    a leak. Default: 120 s over 4 clients; pass e.g. ``-- --duration 600 --seed 7``."""
    _sync(session)
    args = session.posargs or ["--duration", "120"]
    session.run("python", "tests/robustness/soak.py", *args)
