"""The same conversation with the blocking client: no async code at all.

    python examples/blocking_chat.py "What is in this directory?"

`codex_app_server_client.sync.CodexClient` takes the same arguments and has the same methods
as the async client, with `with` and plain `for` loops. It suits scripts, REPLs and notebooks.
"""

from __future__ import annotations

import sys

from codex_app_server_client.sync import CodexClient

DEFAULT_PROMPT = "What is in this directory?"


def main(prompt: str) -> None:
    with CodexClient("stdio://") as client:
        first = client.chat_once(prompt)
        print(first.final_text)
        for step in client.chat("Say that again, shorter.", thread_id=first.thread_id):
            print(f"[{step.item_type}] {step.text}")


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or DEFAULT_PROMPT)
