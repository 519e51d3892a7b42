"""Talk to a Codex app-server over a WebSocket.

    codex app-server --listen ws://127.0.0.1:8765        # in another terminal, then:
    python examples/websocket.py --url ws://127.0.0.1:8765 "Hello over ws"

    python examples/websocket.py "Hello over ws"         # or let the script start one

A `ws://` or `wss://` URL picks the WebSocket transport (`pip install
"codex-app-server-client[ws]"`); everything else is the same as over stdio. Pass `--token`
when the server was started with `--ws-auth capability-token`: it is sent as an
`Authorization: Bearer` header. Without `--url`, the script starts `codex app-server --listen
ws://127.0.0.1:0` itself on a free loopback port (with your usual configuration) and stops it
at the end.
"""

from __future__ import annotations

import argparse
from contextlib import AsyncExitStack

import anyio

from codex_app_server_client import CodexClient
from codex_app_server_client.testing import run_codex_ws_server


# --8<-- [start:main]
async def main(prompt: str, url: str | None, token: str | None) -> None:
    async with AsyncExitStack() as stack:
        if url is None:
            server = await stack.enter_async_context(run_codex_ws_server(env={}))
            url = server.url
            print(f"started codex app-server (pid {server.pid}) on {url}")
        client = await stack.enter_async_context(CodexClient(url, token=token))
        result = await client.chat_once(prompt)
        print(f"{url} answered: {result.final_text}")


# --8<-- [end:main]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Talk to a Codex app-server over a WebSocket.")
    parser.add_argument("prompt", nargs="?", default="Say hello.")
    parser.add_argument("--url", help="ws:// or wss:// URL of a running app-server")
    parser.add_argument("--token", help="bearer token for a server that requires one")
    args = parser.parse_args()
    anyio.run(main, args.prompt, args.url, args.token)
