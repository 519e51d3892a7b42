"""Give up waiting on a quiet turn, resume the wait, and finally cancel the turn.

    python examples/continuation_and_cancel.py --inactivity-timeout 20 "Run the test suite"

There is no whole-turn timeout: `inactivity_timeout` bounds how long a turn may stay silent.
When it expires, `CodexTurnInactiveError` carries a `continuation`; the turn keeps running on
the server. This script resumes the wait once with that continuation (the clock starts
afresh), and if the turn is still quiet, cancels it: `cancel()` interrupts the turn and hands
back the steps not yet seen. The thread is free for a new turn straight away.
"""

from __future__ import annotations

import argparse

import anyio

from codex_app_server_client import CodexClient, CodexTurnInactiveError


# --8<-- [start:main]
async def main(prompt: str, inactivity_timeout: float) -> None:
    async with CodexClient("stdio://", inactivity_timeout=inactivity_timeout) as client:
        try:
            result = await client.chat_once(prompt)
        except CodexTurnInactiveError as quiet:
            print(f"no event for {quiet.idle_seconds:.1f} s; waiting once more", flush=True)
            try:
                result = await client.chat_once(continuation=quiet.continuation)
            except CodexTurnInactiveError as still_quiet:
                print(f"still quiet after {still_quiet.idle_seconds:.1f} s; cancelling", flush=True)
                cancelled = await client.cancel(still_quiet.continuation)
                print(f"turn {cancelled.status} (interrupt confirmed: {cancelled.interrupted})")
                for step in cancelled.steps:
                    print(f"  unseen [{step.item_type}] {step.text}")
                return
        print(result.final_text)


# --8<-- [end:main]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="Resume a quiet turn once with its continuation, then cancel it."
    )
    parser.add_argument("prompt", nargs="?", default="Run the test suite and summarise it.")
    parser.add_argument(
        "--inactivity-timeout",
        type=float,
        default=60.0,
        help="seconds a turn may stay silent before the wait gives up (default: 60)",
    )
    args = parser.parse_args()
    anyio.run(main, args.prompt, args.inactivity_timeout)
