"""The sync facade's typed ``request`` overloads stay derived from the async ones.

``codex_app_server_client/_sync_requests.py`` is the blocking twin of the generated
``types/_requests.py`` overloads (``ParamSpec`` cannot carry overloads through a wrapper, so
they are rendered instead). This test renders it again from the committed async file and
compares; after ``nox -s generate`` changes the async overloads, refresh the twin with::

    uv run python tests/sync/test_sync_request_types.py --write
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import codex_app_server_client.types._requests as async_requests

PACKAGE = Path(async_requests.__file__).parent.parent
SOURCE = PACKAGE / "types" / "_requests.py"
TARGET = PACKAGE / "_sync_requests.py"

HEADER = '''\
# Rendered from types/_requests.py by tests/sync/test_sync_request_types.py; do not edit:
# run `uv run python tests/sync/test_sync_request_types.py --write` after regenerating types.

"""Typed blocking ``request``: the overloads of ``types/_requests.py`` without ``async``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:  # annotations only: importing this module does not load _generated
    from typing_extensions import deprecated

    from .types._generated import (
{names}
    )
    from .types._requests import ClientMethod

__all__ = ["SyncTypedRequests"]


'''


def render_sync_requests(source: str) -> str:
    """The text of ``_sync_requests.py`` for the async overloads in ``source``."""
    tree = ast.parse(source)
    [cls] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TypedRequests"]
    lines = source.splitlines()
    body = "\n".join(lines[cls.lineno - 1 : cls.end_lineno])
    body = body.replace("class TypedRequests:", "class SyncTypedRequests:", 1)
    body = body.replace(
        '"""Mixin: ``request`` typed per method. The host class provides ``_request``.',
        '"""Mixin: blocking ``request`` typed per method. The host provides ``_request``.',
        1,
    )
    body = re.sub(r"\basync def (_?request)\(", r"def \1(", body)
    body = body.replace("return await self._request(", "return self._request(")
    generated = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "_generated"
        for alias in node.names
    }
    used = sorted({n.id for n in ast.walk(ast.parse(body)) if isinstance(n, ast.Name)} & generated)
    text = HEADER.format(names="\n".join(f"        {name}," for name in used)) + body + "\n"
    for ruff in (["check", "--select", "I", "--fix-only", "--quiet"], ["format"]):
        text = subprocess.run(
            [sys.executable, "-m", "ruff", *ruff, "--stdin-filename", str(TARGET), "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return text


def test_the_sync_request_overloads_match_the_async_ones() -> None:
    expected = render_sync_requests(SOURCE.read_text())
    assert TARGET.read_text() == expected, (
        "_sync_requests.py is out of date: run "
        "`uv run python tests/sync/test_sync_request_types.py --write`"
    )


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: test_sync_request_types.py --write")
    TARGET.write_text(render_sync_requests(SOURCE.read_text()))
