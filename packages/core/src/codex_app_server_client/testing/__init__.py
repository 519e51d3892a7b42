"""Tools for testing code that uses this SDK, and for testing transports.

- :func:`memory_transport_pair`: an in-process connected pair of transports.
- :class:`FakeAppServer`: a scriptable app-server that speaks the real protocol's shapes,
  in-process over any transport or as a subprocess
  (``python -m codex_app_server_client.testing.fake_server --listen stdio://``).
- :mod:`.conformance`: the transport contract as an abstract pytest class.
- :mod:`.pytest_plugin`: fixtures, opt-in.

Importing this package needs no test framework; :mod:`.conformance` and :mod:`.pytest_plugin`
need pytest (``pip install 'codex-app-server-client[testing]'``).
"""

from __future__ import annotations

from .fake_server import FakeAppServer
from .memory import MemoryTransport, memory_transport_pair

__all__ = ["FakeAppServer", "MemoryTransport", "memory_transport_pair"]
