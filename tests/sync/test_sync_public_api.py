"""The public surface of ``codex_app_server_client.sync`` is exactly its ``__all__``."""

from __future__ import annotations

import inspect

import codex_app_server_client.sync as sync
from codex_app_server_client import _sync_wrappers, _wrappers
from codex_app_server_client._sync_proxy import blocking, blocking_iter


def test_the_sync_module_exports_exactly_the_public_names() -> None:
    assert sorted(sync.__all__) == [
        "ApprovalHandler",
        "Backend",
        "CodexClient",
        "Handler",
        "ServerRequestHandlers",
        "SyncIterator",
        "TurnStream",
    ]
    for name in sync.__all__:
        assert hasattr(sync, name)


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
