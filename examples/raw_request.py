"""Call any app-server method directly with `client.request`, and listen to notifications.

    python examples/raw_request.py

`request(method, params)` sends one JSON-RPC request and returns the server's `result` as the
server sent it (a dict; known methods are typed for your type checker). A JSON-RPC error
raises `CodexProtocolError` with the server's `code` and message. `on_notification` shows
every notification the server sends on the connection.
"""

from __future__ import annotations

import anyio

from codex_app_server_client import CodexClient, CodexProtocolError


async def main() -> None:
    async with CodexClient("stdio://") as client:
        print(f"server: {client.user_agent}")
        unsubscribe = client.on_notification(lambda note: print(f"notification: {note.method}"))
        started = await client.request("thread/start", {})
        thread = started["thread"]
        print(f"thread/start -> {thread['id']} (cwd {thread['cwd']})")
        await client.request("thread/name/set", {"threadId": thread["id"], "name": "raw demo"})
        read = await client.request("thread/read", {"threadId": thread["id"]})
        print(f"thread/read -> name {read['thread'].get('name')!r}")
        unsubscribe()
        try:
            await client.request("thread/read", {"threadId": "no-such-thread"})
        except CodexProtocolError as error:
            print(f"thread/read of an unknown id -> error {error.code}: {error.message}")


if __name__ == "__main__":
    anyio.run(main)
