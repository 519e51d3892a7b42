"""The public surface of ``codex_app_server_client.sync``: its ``__all__``, the blocking twin
of each async name, and every option and method of the async client."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from types import ModuleType
from typing import ParamSpec, TypeVar

import codex_app_server_client
import codex_app_server_client.sync as sync
from codex_app_server_client import _sync_wrappers, _wrappers
from codex_app_server_client._sync_proxy import blocking, blocking_iter


def _defined_in(module: ModuleType) -> set[str]:
    """The public names a module's own source binds at module level (not its imports)."""
    tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


def test_the_sync_module_exports_what_it_defines_and_nothing_public_from_elsewhere() -> None:
    exported = set(sync.__all__)
    assert len(exported) == len(sync.__all__)
    for name in sync.__all__:
        assert hasattr(sync, name), name
    defined = _defined_in(sync)
    # Type variables are helpers, not API.
    defined = {name for name in defined if not isinstance(getattr(sync, name), TypeVar | ParamSpec)}
    assert defined <= exported, sorted(defined - exported)
    # What it exports without defining it is its own too: from a private module only.
    for name in exported - defined:
        home = getattr(getattr(sync, name), "__module__", "")
        assert home.rsplit(".", 1)[-1].startswith("_"), f"{name} belongs to {home}"


def test_the_sync_module_names_each_sync_version_as_the_package_does() -> None:
    twins: set[str] = set()
    for name in codex_app_server_client.__all__:
        mine: object = vars(sync).get(name)
        if mine is not None and mine is not getattr(codex_app_server_client, name):
            twins.add(name)  # a blocking version of a top-level name, under the same name
    assert twins >= {"CodexClient", "TurnStream", "ServerRequestHandlers", "ApprovalHandler"}
    exported = set(sync.__all__)
    assert twins <= exported, sorted(twins - exported)
    # And what the sync module exports under a top-level name is such a version, never the
    # async object itself.
    assert exported & set(codex_app_server_client.__all__) == twins


def test_the_sync_turn_stream_has_every_public_member_of_the_async_one() -> None:
    from codex_app_server_client import TurnStream as AsyncTurnStream

    async_names = {n for n in dir(AsyncTurnStream) if not n.startswith("_")}
    # aclose is close; deadline_reached is the async client's watchdog hook.
    missing = async_names - set(dir(sync.TurnStream)) - {"aclose", "deadline_reached"}
    assert missing == set()


def test_every_async_wrapper_method_has_a_blocking_twin_of_the_same_kind() -> None:
    for name in _sync_wrappers.__all__:
        async_cls: type = getattr(_wrappers, name)
        sync_cls: type = getattr(_sync_wrappers, name)
        for method_name, method in dict[str, object](vars(async_cls)).items():
            if method_name.startswith("_") or not callable(method):
                continue
            twin: object = vars(sync_cls).get(method_name)
            kind = blocking_iter if inspect.isasyncgenfunction(method) else blocking
            wrapped: object = getattr(twin, "_method", None)
            assert isinstance(twin, kind), f"{name}.{method_name} needs a {kind.__name__} twin"
            assert wrapped is method


def test_the_sync_client_has_every_public_method_of_the_async_client() -> None:
    from codex_app_server_client import CodexClient as AsyncCodexClient

    async_names = {n for n in dir(AsyncCodexClient) if not n.startswith("_")}
    missing = async_names - set(dir(sync.CodexClient)) - {"aclose"}
    assert missing == set()
    assert "close" in dir(sync.CodexClient)


def test_the_sync_server_request_handlers_have_the_async_slots() -> None:
    from dataclasses import fields

    from codex_app_server_client.models import ServerRequestHandlers

    assert [f.name for f in fields(sync.ServerRequestHandlers)] == [
        f.name for f in fields(ServerRequestHandlers)
    ]


def test_the_blocking_client_takes_every_option_of_the_async_client() -> None:
    import inspect

    from codex_app_server_client import CodexClient as AsyncCodexClient
    from codex_app_server_client.sync import CodexClient as SyncCodexClient

    async_options = set(inspect.signature(AsyncCodexClient.__init__).parameters)
    sync_options = set(inspect.signature(SyncCodexClient.__init__).parameters)
    assert async_options <= sync_options, sorted(async_options - sync_options)
