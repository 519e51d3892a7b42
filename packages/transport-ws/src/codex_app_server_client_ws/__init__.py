"""WebSocket transport for codex-app-server-client."""
