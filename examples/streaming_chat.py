"""Watch a turn step by step, then continue the conversation on the same thread.

    python examples/streaming_chat.py "List the files here" "Which one is the largest?"

Each prompt runs one turn. `client.chat()` yields one Step per completed item (the user
message, reasoning summaries, commands and their output, the agent's messages) as soon as the
server reports it, and keeps none it has handed out; the stream's `result` holds the turn's
outcome once the loop ends. The second and later prompts reuse the first turn's thread, so the
agent remembers the context.
"""

from __future__ import annotations

import sys

import anyio

from codex_app_server_client import CodexClient

DEFAULT_PROMPTS = ("List the files in this directory.", "Which one looks most important?")


# --8<-- [start:main]
async def main(prompts: list[str]) -> None:
    async with CodexClient("stdio://") as client:
        thread_id: str | None = None
        for prompt in prompts:
            print(f"> {prompt}")
            count = 0
            async with client.chat(prompt, thread_id=thread_id) as steps:
                async for step in steps:
                    count += 1
                    text = (step.text or "").rstrip().replace("\n", "\n    ")
                    print(f"  [{step.item_type}] {text}")
                # The stream handed every step to the loop and kept none: its result has the
                # outcome (status, final text, usage), and result.steps is empty.
                result = steps.result
            thread_id = result.thread_id
            tokens = (result.usage or {}).get("total", {}).get("totalTokens")
            print(f"  = {result.status}, {count} steps, {tokens} tokens so far")


# --8<-- [end:main]


if __name__ == "__main__":
    anyio.run(main, sys.argv[1:] or list(DEFAULT_PROMPTS))
