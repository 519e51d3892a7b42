"""The public surface is exactly what the packages export in ``__all__``."""

from __future__ import annotations

import ast
from pathlib import Path

import codex_app_server_client
import codex_app_server_client.errors
import codex_app_server_client.protocol


def test_core_exports_exactly_the_public_names() -> None:
    assert sorted(codex_app_server_client.__all__) == [
        "CodexClient",
        "CodexContinuationError",
        "CodexError",
        "CodexExperimentalApiError",
        "CodexProtocolError",
        "CodexServerRequestError",
        "CodexTimeoutError",
        "CodexTransportError",
        "CodexTransportNotFoundError",
        "CodexTurnFailedError",
        "CodexTurnInactiveError",
        "SupportsReceiveBatch",
        "SupportsSendEof",
        "Transport",
        "TransportSpec",
        "__version__",
    ]
    for name in codex_app_server_client.__all__:
        assert hasattr(codex_app_server_client, name)


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
