"""The fake Responses API provider, checked with a plain HTTP client (no codex involved)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
import pytest

from codex_app_server_client.testing.fake_provider import (
    DEFAULT_TEXT,
    FakeResponsesProvider,
    drop,
    event,
    events,
    http_error,
    reasoning,
    response_failed,
    stall,
    text,
    tool_call,
)

WAIT = 10.0


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def events(self) -> list[tuple[str, dict[str, Any]]]:
        """The body parsed as server-sent events: (event name, JSON data) pairs."""
        parsed: list[tuple[str, dict[str, Any]]] = []
        for block in self.body.decode().split("\n\n"):
            if not block.strip():
                continue
            fields = dict(line.split(": ", 1) for line in block.splitlines())
            parsed.append((fields["event"], json.loads(fields["data"])))
        return parsed

    @property
    def types(self) -> list[str]:
        return [name for name, _ in self.events]


def post(
    provider: FakeResponsesProvider,
    body: dict[str, Any] | None = None,
    *,
    path: str = "/v1/responses",
    headers: dict[str, str] | None = None,
) -> Reply:
    """POST a JSON body and read the whole reply, the way codex would (chunked SSE)."""
    conn = http.client.HTTPConnection("127.0.0.1", provider.port, timeout=WAIT)
    try:
        payload = json.dumps(body if body is not None else {"model": "m", "input": []})
        conn.request(
            "POST",
            path,
            body=payload,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response = conn.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


def get(provider: FakeResponsesProvider, path: str) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", provider.port, timeout=WAIT)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


class Background:
    """Run ``post`` in a thread so the test can act while the stream is open."""

    def __init__(self, provider: FakeResponsesProvider) -> None:
        self.reply: Reply | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(provider,), daemon=True)
        self._thread.start()

    def _run(self, provider: FakeResponsesProvider) -> None:
        try:
            self.reply = post(provider)
        except BaseException as exc:
            self.error = exc

    def join(self) -> None:
        self._thread.join(WAIT)
        assert not self._thread.is_alive(), "the request did not finish"

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()


@pytest.fixture
def provider() -> Iterator[FakeResponsesProvider]:
    with FakeResponsesProvider() as running:
        yield running


def test_base_url_is_a_loopback_v1_url_with_the_bound_port(
    provider: FakeResponsesProvider,
) -> None:
    assert provider.port > 0
    assert provider.base_url == f"http://127.0.0.1:{provider.port}/v1"


def test_an_empty_queue_gets_the_default_text_reply_as_an_event_stream(
    provider: FakeResponsesProvider,
) -> None:
    reply = post(provider)
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/event-stream"
    assert reply.types == ["response.created", "response.output_item.done", "response.completed"]
    item = reply.events[1][1]["item"]
    assert item["type"] == "message"
    assert item["role"] == "assistant"
    assert item["content"] == [{"type": "output_text", "text": DEFAULT_TEXT}]
    assert reply.events[2][1]["response"]["usage"]["total_tokens"] == 15


def test_every_event_has_an_event_line_matching_its_data_type(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(text("x", deltas=["x"]))
    for name, data in post(provider).events:
        assert data["type"] == name


def test_a_streamed_text_announces_an_empty_message_then_deltas_then_the_full_text(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(text("Hello world", deltas=["Hello", " world"]))
    reply = post(provider)
    assert reply.types == [
        "response.created",
        "response.output_item.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_item.done",
        "response.completed",
    ]
    added, first, second, done = (data for _, data in reply.events[1:5])
    assert added["item"]["content"][0]["text"] == ""
    assert [first["delta"], second["delta"]] == ["Hello", " world"]
    assert first["item_id"] == added["item"]["id"] == done["item"]["id"]
    assert done["item"]["content"][0]["text"] == "Hello world"


def test_text_without_usage_leaves_usage_out_of_response_completed(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(text("x", usage=False))
    assert "usage" not in post(provider).events[-1][1]["response"]


def test_queued_replies_are_served_in_order_then_the_default(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(text("first"), text("second"))
    assert provider.pending_replies == 2
    texts = [post(provider).events[1][1]["item"]["content"][0]["text"] for _ in range(3)]
    assert texts == ["first", "second", DEFAULT_TEXT]
    assert provider.pending_replies == 0


def test_a_custom_default_reply_is_used_when_the_queue_is_empty() -> None:
    with FakeResponsesProvider(default_reply=lambda: http_error(503)) as provider:
        assert post(provider).status == 503


def test_each_text_reply_has_fresh_item_and_response_ids(provider: FakeResponsesProvider) -> None:
    provider.enqueue(text("a"), text("a"))
    first, second = post(provider).events, post(provider).events
    assert first[1][1]["item"]["id"] != second[1][1]["item"]["id"]
    assert first[0][1]["response"]["id"] != second[0][1]["response"]["id"]


def test_a_tool_call_is_an_exec_command_function_call_with_json_arguments(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(tool_call("touch a.txt", call_id="call-7", workdir="/w"))
    reply = post(provider)
    assert reply.types == ["response.created", "response.output_item.done", "response.completed"]
    item = reply.events[1][1]["item"]
    assert item["type"] == "function_call"
    assert item["name"] == "exec_command"
    assert item["call_id"] == "call-7"
    assert json.loads(item["arguments"]) == {
        "cmd": "touch a.txt",
        "yield_time_ms": 500,
        "workdir": "/w",
    }


def test_reasoning_streams_a_summary_before_the_following_reply(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(
        reasoning("Thinking it over", deltas=["Thinking", " it over"], then=text("ok"))
    )
    reply = post(provider)
    assert reply.types == [
        "response.created",
        "response.output_item.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.output_item.done",
        "response.output_item.done",
        "response.completed",
    ]
    reasoning_done = reply.events[4][1]["item"]
    assert reasoning_done["type"] == "reasoning"
    assert reasoning_done["summary"] == [{"type": "summary_text", "text": "Thinking it over"}]
    assert reply.events[5][1]["item"]["content"][0]["text"] == "ok"


def test_events_composes_hand_built_events_with_other_replies(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(events(event("response.custom", answer=42), text("done")))
    reply = post(provider)
    assert reply.events[0] == ("response.custom", {"type": "response.custom", "answer": 42})
    assert reply.types[-1] == "response.completed"


def test_http_error_replies_with_the_status_and_an_openai_style_json_body(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(http_error(500), http_error(400, body={"error": {"message": "bad"}}))
    server_error = post(provider)
    assert server_error.status == 500
    assert server_error.headers["content-type"] == "application/json"
    assert json.loads(server_error.body)["error"]["type"] == "server_error"
    client_error = post(provider)
    assert client_error.status == 400
    assert json.loads(client_error.body) == {"error": {"message": "bad"}}


def test_response_failed_ends_the_stream_with_the_message(provider: FakeResponsesProvider) -> None:
    provider.enqueue(response_failed("model exploded"))
    reply = post(provider)
    assert reply.types == ["response.created", "response.failed"]
    assert reply.events[1][1]["response"]["error"]["message"] == "model exploded"


def test_drop_closes_the_socket_before_the_chunked_body_ends(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(drop())
    with pytest.raises(http.client.IncompleteRead) as caught:
        post(provider)
    assert b"response.created" in caught.value.partial


def test_requests_are_recorded_with_lowercase_headers_and_the_parsed_body(
    provider: FakeResponsesProvider,
) -> None:
    body = {
        "model": "mock-model",
        "stream": True,
        "tools": [{"type": "function", "name": "exec_command"}, {"type": "web_search"}],
        "input": [
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "d"}],
            },
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "ctx"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
            {"type": "function_call", "call_id": "c1", "name": "exec_command", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "ran"},
        ],
    }
    post(provider, body, headers={"Session-Id": "s-1"})
    (request,) = provider.wait_for_requests(1, WAIT)
    assert (request.method, request.path) == ("POST", "/v1/responses")
    assert request.headers["session-id"] == "s-1"
    assert request.body == body
    assert json.loads(request.raw_body) == body
    assert request.input_texts() == ["ctx", "Hi"]
    assert request.input_texts(role=None) == ["d", "ctx", "Hi"]
    assert request.input_types() == [
        "message:developer",
        "message:user",
        "message:user",
        "function_call",
        "function_call_output",
    ]
    assert request.function_call_outputs() == {"c1": "ran"}
    assert request.tool_names() == ["exec_command"]


def test_a_body_that_is_not_json_is_kept_raw(provider: FakeResponsesProvider) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", provider.port, timeout=WAIT)
    try:
        conn.request("POST", "/v1/responses", body=b"\x00not json")
        conn.getresponse().read()
    finally:
        conn.close()
    (request,) = provider.requests
    assert request.body is None
    assert request.raw_body == b"\x00not json"
    assert request.input_texts() == []
    assert request.tool_names() == []


def test_models_listing_is_empty_and_recorded_apart_from_model_calls(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(text("kept for the model call"))
    reply = get(provider, "/v1/models?client_version=1")
    assert reply.status == 200
    assert json.loads(reply.body) == {"models": []}
    assert provider.requests == []
    assert [(r.method, r.path) for r in provider.other_requests] == [
        ("GET", "/v1/models?client_version=1")
    ]
    assert provider.pending_replies == 1


def test_unknown_paths_get_404_without_taking_a_queued_reply(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(text("kept"))
    assert post(provider, path="/v1/chat/completions").status == 404
    assert get(provider, "/elsewhere").status == 404
    assert provider.pending_replies == 1
    assert len(provider.other_requests) == 2


def test_wait_for_requests_times_out_with_a_clear_error(provider: FakeResponsesProvider) -> None:
    with pytest.raises(TimeoutError, match="1 model request"):
        provider.wait_for_requests(1, timeout=0.05)


def test_a_stalled_stream_holds_after_its_first_event_until_released(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(stall(then=text("resumed")))
    client = Background(provider)
    provider.wait_for_stalls(1, WAIT)
    assert not client.done
    provider.release()
    client.join()
    assert client.error is None
    assert client.reply is not None
    assert client.reply.types == [
        "response.created",
        "response.output_item.done",
        "response.completed",
    ]
    assert client.reply.events[1][1]["item"]["content"][0]["text"] == "resumed"


def test_a_released_stall_without_a_continuation_just_ends_the_stream(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(stall())
    provider.release()  # a permit given early is used when the stream stalls
    reply = post(provider)
    assert reply.types == ["response.created"]


def test_a_stall_with_its_own_gate_ignores_release_and_waits_for_the_gate(
    provider: FakeResponsesProvider,
) -> None:
    gate = threading.Event()
    provider.enqueue(stall(before=[event("response.created", response={"id": "r"})], gate=gate))
    client = Background(provider)
    provider.wait_for_stalls(1, WAIT)
    provider.release()
    client_still_waiting = not client.done
    gate.set()
    client.join()
    assert client_still_waiting
    assert client.reply is not None
    assert client.reply.events == [
        ("response.created", {"type": "response.created", "response": {"id": "r"}})
    ]


def test_a_client_that_disconnects_from_a_stall_is_noticed(
    provider: FakeResponsesProvider,
) -> None:
    provider.enqueue(stall())
    with socket.create_connection(("127.0.0.1", provider.port), timeout=WAIT) as sock:
        sock.sendall(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        provider.wait_for_stalls(1, WAIT)
    provider.wait_for_disconnects(1, WAIT)
    assert provider.disconnects == 1


@pytest.mark.anyio
async def test_close_drops_stalled_streams_promptly_and_is_idempotent() -> None:
    provider = FakeResponsesProvider().start()
    provider.enqueue(stall())
    client = Background(provider)
    await anyio.to_thread.run_sync(provider.wait_for_stalls, 1, WAIT)
    # close() may wait up to its own timeout for a stream that is not dropped; give it far more
    # than the bounded wait below, so that only dropping the stalled stream lets it return.
    patient = WAIT * 6
    with anyio.fail_after(WAIT):
        await anyio.to_thread.run_sync(provider.close, patient, abandon_on_cancel=True)
        await anyio.to_thread.run_sync(provider.close, patient, abandon_on_cancel=True)
        await anyio.to_thread.run_sync(client.join, abandon_on_cancel=True)
    assert isinstance(client.error, http.client.IncompleteRead)


def test_a_closed_provider_refuses_connections_and_cannot_restart() -> None:
    provider = FakeResponsesProvider()
    assert provider.start() is provider
    port = provider.port
    provider.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
    with pytest.raises(RuntimeError, match="closed"):
        provider.start()


def test_the_port_is_unknown_before_start() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = FakeResponsesProvider().base_url


@pytest.mark.anyio
async def test_it_serves_async_code_on_either_backend_through_a_worker_thread() -> None:
    with FakeResponsesProvider() as provider:
        provider.enqueue(text("from a thread"))
        reply = await anyio.to_thread.run_sync(post, provider)
        await anyio.to_thread.run_sync(provider.wait_for_requests, 1, WAIT)
    assert reply.events[1][1]["item"]["content"][0]["text"] == "from a thread"
