"""Let the agent run commands, deciding each one in an approval handler.

    python examples/approvals.py "Create notes.txt and list the directory"

With `approval_policy="untrusted"`, Codex asks before it runs any command that is not known to
be harmless. The handler below is a small policy: it accepts commands whose program is on an
allow-list and declines the rest (the turn goes on and the model is told). Without a handler
every approval would be declined: the SDK never accepts on your behalf.
"""

from __future__ import annotations

import shlex
import sys

import anyio

from codex_app_server_client import CodexClient
from codex_app_server_client.models import (
    ApprovalDecision,
    ApprovalRequest,
    CommandApprovalRequest,
)

# --8<-- [start:handler]
ALLOWED_PROGRAMS = frozenset({"cat", "echo", "git", "ls", "mkdir", "pwd", "touch"})
DEFAULT_PROMPT = "Create notes.txt, then clean up the directory."


def program_of(command: str) -> str:
    """The program a command line runs, looking inside a `bash -lc '...'` wrapper."""
    words = shlex.split(command)
    if len(words) >= 3 and words[0].endswith("sh") and words[1] in ("-c", "-lc"):
        words = shlex.split(words[2])
    return words[0] if words else ""


async def decide(request: ApprovalRequest) -> ApprovalDecision:
    if isinstance(request, CommandApprovalRequest) and request.command:
        program = program_of(request.command)
        decision = (
            ApprovalDecision.ACCEPT if program in ALLOWED_PROGRAMS else ApprovalDecision.DECLINE
        )
        print(f"approval: {request.command} -> {decision.value}")
        return decision
    print(f"approval: file change in turn {request.turn_id} -> decline")
    return ApprovalDecision.DECLINE


async def main(prompt: str) -> None:
    async with CodexClient("stdio://", approval_handler=decide) as client:
        result = await client.chat_once(
            prompt, approval_policy="untrusted", sandbox_policy="workspace-write"
        )
    for step in result.steps:
        if step.item_type == "commandExecution":
            print(f"command {step.item.get('command')}: {step.item.get('status')}")
    print(result.final_text)


# --8<-- [end:handler]


if __name__ == "__main__":
    anyio.run(main, " ".join(sys.argv[1:]) or DEFAULT_PROMPT)
