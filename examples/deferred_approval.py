"""Decide approvals somewhere else, later: on a web page, in a chat, by whoever is on call.

    python examples/deferred_approval.py "Create notes.txt"

The approval handler does not decide anything itself. It files each request on an
`ApprovalDesk` under a ticket and waits; another part of the program (here a task standing in
for the web request handler behind an "Approve" button) decides the ticket whenever the answer
comes in. `approval_timeout` is the safety net: a ticket nobody decides in time is declined by
the SDK, the waiting handler is cancelled, and the turn goes on. While a ticket waits, the
turn's inactivity clock does not run, so `inactivity_timeout` can stay short.
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from dataclasses import dataclass, field

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from codex_app_server_client import CodexClient
from codex_app_server_client.models import (
    ApprovalDecision,
    ApprovalRequest,
    CommandApprovalRequest,
)


# --8<-- [start:desk]
@dataclass
class Ticket:
    """One approval request waiting for a person's decision."""

    id: str
    request: ApprovalRequest
    filed_at: float = field(default_factory=time.monotonic)
    decision: ApprovalDecision = ApprovalDecision.DECLINE
    decided: anyio.Event = field(default_factory=anyio.Event)


class ApprovalDesk:
    """Parks approval requests until someone decides them, from any task of the program."""

    def __init__(self) -> None:
        self.open_tickets: dict[str, Ticket] = {}
        self._numbers = itertools.count(1)
        # New tickets are announced here: post them to a chat channel, show them on a page.
        self._announce: MemoryObjectSendStream[Ticket]
        self.announcements: MemoryObjectReceiveStream[Ticket]
        self._announce, self.announcements = anyio.create_memory_object_stream[Ticket](math.inf)

    async def approval_handler(self, request: ApprovalRequest) -> ApprovalDecision:
        """The client's approval handler: file a ticket, wait for its decision."""
        ticket = Ticket(f"T{next(self._numbers)}", request)
        self.open_tickets[ticket.id] = ticket
        try:
            self._announce.send_nowait(ticket)
            await ticket.decided.wait()
            return ticket.decision
        except anyio.get_cancelled_exc_class():
            # approval_timeout expired (the SDK answers "decline"), or the server withdrew
            # the request (the turn was interrupted): nobody can decide this ticket any more.
            print(f"{ticket.id}: closed without a decision; Codex is told no", flush=True)
            raise
        finally:
            del self.open_tickets[ticket.id]

    def decide(self, ticket_id: str, decision: ApprovalDecision) -> bool:
        """Record a decision; ``False`` if the ticket is unknown or already closed."""
        ticket = self.open_tickets.get(ticket_id)
        if ticket is None or ticket.decided.is_set():
            return False
        ticket.decision = decision
        ticket.decided.set()
        return True


# --8<-- [end:desk]


# --8<-- [start:web]
def post_decision(desk: ApprovalDesk, ticket_id: str, body: dict[str, str]) -> int:
    """What the route ``POST /approvals/{ticket_id}`` of a web app would do; an HTTP status."""
    try:
        decision = ApprovalDecision(body["decision"])  # "accept", "decline", ...
    except (KeyError, ValueError):
        return 400
    return 200 if desk.decide(ticket_id, decision) else 404  # 404: timed out or withdrawn


def describe(request: ApprovalRequest) -> str:
    if isinstance(request, CommandApprovalRequest):
        return f"run {request.command}"
    return f"change files ({request.reason or 'no reason given'})"


async def simulated_reviewer(desk: ApprovalDesk, delay: float) -> None:
    """Stands in for a person who sees each ticket and clicks "Approve" ``delay`` s later."""

    async def click_approve(ticket: Ticket) -> None:
        await anyio.sleep(delay)  # the person reads, thinks, clicks
        status = post_decision(desk, ticket.id, {"decision": "accept"})
        waited = time.monotonic() - ticket.filed_at
        print(f"{ticket.id}: POST accept -> {status} after {waited:.1f} s", flush=True)

    async with anyio.create_task_group() as clicks:
        async for ticket in desk.announcements:
            print(f"{ticket.id}: approval needed to {describe(ticket.request)}", flush=True)
            clicks.start_soon(click_approve, ticket)


# --8<-- [end:web]


# --8<-- [start:main]
async def main(
    prompt: str, reviewer_delay: float, approval_timeout: float, inactivity_timeout: float
) -> None:
    desk = ApprovalDesk()
    async with (
        CodexClient(
            "stdio://",
            approval_handler=desk.approval_handler,
            approval_timeout=approval_timeout,  # the safety net: decline after this long
            inactivity_timeout=inactivity_timeout,  # paused while a ticket waits
        ) as client,
        anyio.create_task_group() as web_app,
    ):
        web_app.start_soon(simulated_reviewer, desk, reviewer_delay)
        result = await client.chat_once(
            prompt, approval_policy="untrusted", sandbox_policy="workspace-write"
        )
        web_app.cancel_scope.cancel()  # the demo is over: stop the "web app"
    for step in result.steps:
        if step.item_type == "commandExecution":
            print(f"command {step.item.get('command')}: {step.item.get('status')}")
    print(result.final_text)


# --8<-- [end:main]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="Approvals decided elsewhere, later, with approval_timeout as the safety net."
    )
    parser.add_argument("prompt", nargs="?", default="Create notes.txt in this directory.")
    parser.add_argument(
        "--reviewer-delay",
        type=float,
        default=5.0,
        help="seconds the simulated person takes to approve each request (default: 5)",
    )
    parser.add_argument(
        "--approval-timeout",
        type=float,
        default=300.0,
        help="seconds a request may wait for a decision before it is declined (default: 300)",
    )
    parser.add_argument(
        "--inactivity-timeout",
        type=float,
        default=60.0,
        help="seconds the turn may stay silent, not counting approval waits (default: 60)",
    )
    args = parser.parse_args()
    anyio.run(
        main, args.prompt, args.reviewer_delay, args.approval_timeout, args.inactivity_timeout
    )
