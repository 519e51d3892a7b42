"""``python -m codex_app_server_client._cli``: the same as the ``codex-client`` script."""

from __future__ import annotations

from . import main

raise SystemExit(main())
