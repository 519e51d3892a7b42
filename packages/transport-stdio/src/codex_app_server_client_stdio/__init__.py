"""stdio transport for codex-app-server-client."""
