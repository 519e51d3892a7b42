"""The public surface is what the package exports in ``__all__``, and nothing else.

Derived from the package itself, not from a copied list: every name in ``__all__`` resolves,
every public attribute the package has (its lazily loaded names included) is in ``__all__``,
and the only public submodules are the documented ones.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

import codex_app_server_client
import codex_app_server_client.errors
import codex_app_server_client.models
import codex_app_server_client.protocol

PACKAGE = codex_app_server_client
LAZY: dict[str, str] = PACKAGE._LAZY  # pyright: ignore[reportPrivateUsage]

DOCUMENTED_SUBMODULES = frozenset(
    {
        "client",
        "errors",
        "hookspecs",
        "models",
        "plugins",
        "protocol",
        "sync",
        "testing",
        "transport",
        "types",
    }
)
"""The public submodules, each with a page in the API reference (mkdocs.yml): the only
modules the package may carry as public attributes."""

HEAVY = ("codex_app_server_client.client", "codex_app_server_client.models", "orjson", "anyio")
"""What ``import codex_app_server_client`` must not load (CodexClient loads on first use)."""


def _public(names: Iterable[str]) -> set[str]:
    return {name for name in names if not name.startswith("_")}


def _fresh(code: str) -> Any:
    """Run ``code`` (which prints one JSON value) in a fresh interpreter; its value."""
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


def test_every_name_in_all_resolves_and_is_listed_once() -> None:
    assert len(PACKAGE.__all__) == len(set(PACKAGE.__all__))
    for name in PACKAGE.__all__:
        assert getattr(PACKAGE, name) is not None, name


def test_every_public_attribute_of_the_package_is_in_all() -> None:
    # Load every documented submodule and every lazy name, so the package carries every
    # attribute it can ever get; each must be exported or be a documented submodule.
    for name in DOCUMENTED_SUBMODULES:
        importlib.import_module(f"{PACKAGE.__name__}.{name}")
    for name in LAZY:
        getattr(PACKAGE, name)
    exported = set(PACKAGE.__all__)
    for name in _public(dir(PACKAGE)) | _public(vars(PACKAGE)):
        value: object = getattr(PACKAGE, name)
        if isinstance(value, types.ModuleType):
            assert name in DOCUMENTED_SUBMODULES, f"submodule {name} leaks as a public name"
            assert value.__name__ == f"{PACKAGE.__name__}.{name}", f"{name} is a stray module"
        else:
            assert name in exported, f"{name} is public on the package but not in __all__"
    assert exported <= set(dir(PACKAGE))


def test_the_public_submodules_are_the_documented_ones() -> None:
    found = {m.name for m in pkgutil.iter_modules(PACKAGE.__path__) if not m.name.startswith("_")}
    assert found == DOCUMENTED_SUBMODULES
    # Each has its API reference page, except `client` (its classes are rendered through the
    # package's names) and `protocol` (the raw message types, not rendered yet).
    api = Path(__file__).resolve().parents[1] / "docs" / "api"
    pages = "\n".join(page.read_text(encoding="utf-8") for page in api.glob("*.md"))
    for name in DOCUMENTED_SUBMODULES - {"client", "protocol"}:
        assert f"::: {PACKAGE.__name__}.{name}" in pages, f"{name} has no API reference"


def test_each_lazy_name_comes_from_the_module_the_table_names() -> None:
    assert set(LAZY) <= set(PACKAGE.__all__)
    for name, home in LAZY.items():
        module = importlib.import_module(home, PACKAGE.__name__)
        assert getattr(PACKAGE, name) is getattr(module, name), name


def test_a_fresh_import_binds_the_eager_names_and_lists_the_lazy_ones_without_loading() -> None:
    code = (
        "import json, sys, codex_app_server_client as pkg\n"
        "listed = dir(pkg)\n"
        "print(json.dumps({'bound': sorted(vars(pkg)), 'listed': listed,\n"
        f"    'loaded': [m for m in {HEAVY!r} if m in sys.modules]}}))\n"
    )
    seen: dict[str, list[str]] = _fresh(code)
    assert seen["loaded"] == []  # not even by dir()
    # Everything exported is bound at import, or loaded on first use through the table.
    exported = set(PACKAGE.__all__)
    assert exported - set(seen["bound"]) == set(LAZY)
    assert exported <= set(seen["listed"])


def test_importing_a_result_type_does_not_load_the_client() -> None:
    code = (
        "import json, sys\n"
        "from codex_app_server_client import ChatResult, Step, TurnOptions\n"
        "print(json.dumps([m for m in ('codex_app_server_client.client', 'orjson', 'anyio')\n"
        "    if m in sys.modules]))\n"
    )
    assert _fresh(code) == []


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchName"):
        getattr(PACKAGE, "NoSuchName")  # noqa: B009 - the name must not be known statically


def test_the_results_server_requests_errors_and_turn_types_are_top_level_names() -> None:
    models = codex_app_server_client.models
    errors = codex_app_server_client.errors
    for module in (models, errors):
        for name in module.__all__:
            assert getattr(PACKAGE, name) is getattr(module, name), name
    from codex_app_server_client import (
        CancelResult,
        ChatResult,
        CodexTurnCancelledError,
        Continuation,
        RetryNotice,
        Step,
        TurnOptions,
        TurnStream,
    )
    from codex_app_server_client.client import TurnStream as ClientTurnStream

    assert TurnStream is ClientTurnStream
    assert TurnOptions.__optional_keys__ >= {"approval_policy", "sandbox_policy", "model"}
    assert issubclass(CodexTurnCancelledError, errors.CodexError)
    assert {CancelResult, ChatResult, Continuation, RetryNotice, Step} <= {
        getattr(models, name) for name in models.__all__
    }


def test_every_error_derives_from_codex_error() -> None:
    errors = codex_app_server_client.errors
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.CodexError)
    assert issubclass(errors.CodexTurnInactiveError, errors.CodexTimeoutError)
    assert issubclass(errors.CodexTransportNotFoundError, errors.CodexTransportError)


def test_the_sans_io_engine_imports_no_event_loop_library() -> None:
    package = Path(codex_app_server_client.protocol.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & {"anyio", "trio", "asyncio", "sniffio"}, (source.name, roots)
