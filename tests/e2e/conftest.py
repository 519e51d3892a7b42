"""The real-binary tests spawn processes with anyio on asyncio only (trio adds nothing here)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
