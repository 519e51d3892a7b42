"""Tools for testing code that uses this SDK, and for testing transports.

- :func:`memory_transport_pair`: an in-process connected pair of transports.
- :class:`FakeResponsesProvider` and :func:`write_codex_home`: run the real ``codex`` binary
  offline, against a scripted fake of the model provider on 127.0.0.1;
  :func:`run_codex_ws_server` starts it in websocket mode.
- :class:`FakeAppServer`: a scriptable app-server that speaks the real protocol's shapes,
  in-process over any transport or as a subprocess
  (``python -m codex_app_server_client.testing.fake_server --listen stdio://``).
- :mod:`.conformance`: the transport contract as an abstract pytest class.
- :mod:`.pytest_plugin`: fixtures, opt-in.

Importing this package needs no test framework; :mod:`.conformance` and :mod:`.pytest_plugin`
need pytest (``pip install 'codex-app-server-client[testing]'``).
"""

from __future__ import annotations

from .codex_home import find_codex_binary, write_codex_home
from .codex_ws import CodexWebSocketServer, run_codex_ws_server
from .fake_provider import FakeResponsesProvider
from .fake_server import FakeAppServer
from .memory import MemoryTransport, memory_transport_pair

__all__ = [
    "CodexWebSocketServer",
    "FakeAppServer",
    "FakeResponsesProvider",
    "MemoryTransport",
    "find_codex_binary",
    "memory_transport_pair",
    "run_codex_ws_server",
    "write_codex_home",
]
