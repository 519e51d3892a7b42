"""The turn state's own bookkeeping: the steps it builds, lets go of, and the answer it tracks."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from codex_app_server_client.models import Step
from codex_app_server_client.protocol import TurnState, pick_final_text
from codex_app_server_client.protocol._turns import step_from_item


def completed(item: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "item/completed", {"threadId": "th", "turnId": "tu", "item": item}


def message(item_id: str, text: str, phase: str | None = None) -> dict[str, Any]:
    return {"type": "agentMessage", "id": item_id, "text": text, "phase": phase}


def test_a_step_the_state_builds_equals_one_built_by_hand_and_is_frozen() -> None:
    state = TurnState("th", "tu")
    item = message("m1", "hello")
    state.apply(*completed(item))
    (step,) = state.steps
    assert type(step) is Step
    assert step == Step("m1", "agentMessage", "hello", item)
    assert repr(step) == repr(Step("m1", "agentMessage", "hello", item))
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.text = "changed"  # pyright: ignore[reportAttributeAccessIssue]
    other = step_from_item({"type": "commandExecution", "id": 7, "command": "ls"})
    assert other == Step("7", "commandExecution", "$ ls", other.item)


@pytest.mark.parametrize(
    "items",
    [
        [message("a", "draft", "commentary"), message("b", "answer", "final_answer")],
        [message("a", "one"), message("b", "two")],
        [message("a", "final", "final_answer"), message("b", "later unphased")],
        [message("a", "note", "commentary")],
        [{"type": "reasoning", "id": "r", "summary": ["think"]}, message("b", "x", "other")],
        [message("a", "first", "final_answer"), message("b", "second", "final_answer")],
        [{"type": "agentMessage", "id": "a", "text": None}],
    ],
)
def test_the_tracked_answer_is_what_pick_final_text_picks_from_the_same_items(
    items: list[dict[str, Any]],
) -> None:
    state = TurnState("th", "tu")
    for item in items:
        state.apply(*completed(item))
    assert state.live_final_text == pick_final_text(items)


def test_letting_go_of_steps_keeps_the_answer_and_the_step_numbers() -> None:
    state = TurnState("th", "tu")
    for index in range(5):
        state.apply(*completed(message(f"m{index}", f"text {index}")))
    state.let_go(3)
    assert [s.item_id for s in state.steps] == ["m3", "m4"]
    assert state.dropped == 3
    assert [s.item_id for s in state.steps_since(4)] == ["m4"]
    # A cursor from before the let-go gets what is still held, not an error.
    assert [s.item_id for s in state.steps_since(1)] == ["m3", "m4"]
    state.let_go(10)
    assert state.steps == []
    assert state.dropped == 5
    assert state.live_final_text == "text 4"


def test_deltas_of_an_item_are_dropped_when_it_completes_even_if_it_never_started() -> None:
    state = TurnState("th", "tu")
    for piece in ("he", "llo"):
        state.apply(
            "item/agentMessage/delta",
            {"threadId": "th", "turnId": "tu", "itemId": "m1", "delta": piece},
        )
    assert state.deltas == {"m1": ["he", "llo"]}
    state.apply(*completed(message("m1", "hello")))
    assert state.deltas == {}
