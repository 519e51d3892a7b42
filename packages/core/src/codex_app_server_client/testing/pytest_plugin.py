"""The SDK's pytest plugin, for this project's tests and for third parties that opt in.

Enable it with ``-p codex_app_server_client.testing.pytest_plugin`` on the command line or
``pytest_plugins = ["codex_app_server_client.testing.pytest_plugin"]`` in a ``conftest.py``.
It is not auto-loaded, so installing the SDK never injects fixtures into unrelated projects.

It provides:

- ``anyio_backend``: ``"asyncio"`` by default; override the fixture (or parametrize it) to
  run on trio as well.
- ``memory_pair``: a connected :func:`~codex_app_server_client.testing.memory_transport_pair`.
"""

from __future__ import annotations

import pytest

from .memory import MemoryTransport, memory_transport_pair

pytest_plugins = ["anyio"]


@pytest.fixture
def anyio_backend() -> str:
    """The anyio backend async tests run on; override to choose another."""
    return "asyncio"


@pytest.fixture
def memory_pair() -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected in-memory transports (client end, server end)."""
    return memory_transport_pair()
