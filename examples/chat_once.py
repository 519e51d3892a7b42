"""Ask Codex one question and print its answer.

    python examples/chat_once.py "What does this repository do?"

Starts `codex app-server` as a child process (the binary from $CODEX_BIN, the
openai-codex-cli-bin wheel, or PATH) with your usual configuration ($CODEX_HOME, default
~/.codex), runs one turn on a new thread in the current directory, and prints the final
answer and where the thread can be resumed.
"""

from __future__ import annotations

import sys

import anyio

from codex_app_server_client import CodexClient

DEFAULT_PROMPT = "Summarise this directory in one sentence."


async def main(prompt: str) -> None:
    async with CodexClient("stdio://") as client:
        result = await client.chat_once(prompt)
    print(result.final_text)
    print(f"(thread {result.thread_id}, turn {result.status})")


if __name__ == "__main__":
    anyio.run(main, " ".join(sys.argv[1:]) or DEFAULT_PROMPT)
