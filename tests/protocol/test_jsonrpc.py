"""The sans-I/O JSON-RPC engine: encoding, decoding, correlation; never raising."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from codex_app_server_client.protocol import (
    ErrorResponse,
    Event,
    JsonRpcConnection,
    Malformed,
    Notification,
    Response,
    ServerRequest,
)


def test_requests_omit_jsonrpc_and_always_carry_params() -> None:
    conn = JsonRpcConnection()
    _, data = conn.send_request("thread/loaded/list")
    assert orjson.loads(data) == {"id": 1, "method": "thread/loaded/list", "params": {}}
    _, data = conn.send_request("thread/start", {"cwd": "/tmp"})
    assert orjson.loads(data) == {"id": 2, "method": "thread/start", "params": {"cwd": "/tmp"}}


def test_notifications_without_params_omit_them() -> None:
    conn = JsonRpcConnection()
    assert orjson.loads(conn.send_notification("initialized")) == {"method": "initialized"}


def test_a_response_is_correlated_to_its_request_and_carries_the_method() -> None:
    conn = JsonRpcConnection()
    request_id, _ = conn.send_request("initialize", {})
    event = conn.receive(b'{"id":%d,"result":{"userAgent":"x"}}' % request_id)
    assert event == Response(request_id, "initialize", {"userAgent": "x"})
    assert conn.pending == {}


def test_jsonrpc_member_and_emitted_at_are_tolerated_on_receive() -> None:
    conn = JsonRpcConnection()
    event = conn.receive(
        b'{"jsonrpc":"2.0","method":"turn/started","params":{"threadId":"t"},"emittedAtMs":17}'
    )
    assert event == Notification("turn/started", {"threadId": "t"})


def test_a_notification_without_params_gets_empty_params() -> None:
    assert JsonRpcConnection().receive(b'{"method":"skills/changed"}') == Notification(
        "skills/changed", {}
    )


def test_server_request_ids_are_kept_apart_from_ours() -> None:
    conn = JsonRpcConnection()
    ours, _ = conn.send_request("turn/start", {})
    assert ours == 1
    event = conn.receive(b'{"id":1,"method":"item/commandExecution/requestApproval","params":{}}')
    assert event == ServerRequest(1, "item/commandExecution/requestApproval", {})
    assert conn.pending == {1: "turn/start"}
    assert orjson.loads(conn.send_result(1, {"decision": "decline"})) == {
        "id": 1,
        "result": {"decision": "decline"},
    }


def test_a_string_server_request_id_is_answered_verbatim() -> None:
    conn = JsonRpcConnection()
    event = conn.receive(b'{"id":"abc","method":"x/y","params":{}}')
    assert isinstance(event, ServerRequest)
    assert orjson.loads(conn.send_error(event.request_id, -32601, "nope")) == {
        "id": "abc",
        "error": {"code": -32601, "message": "nope"},
    }


def test_an_error_response_keeps_code_message_and_data() -> None:
    conn = JsonRpcConnection()
    rid, _ = conn.send_request("thread/read", {})
    event = conn.receive(
        b'{"id":%d,"error":{"code":-32600,"message":"thread not loaded: x","data":{"a":1}}}' % rid
    )
    assert event == ErrorResponse(rid, "thread/read", -32600, "thread not loaded: x", {"a": 1})


def test_a_malformed_error_object_still_fails_the_request() -> None:
    conn = JsonRpcConnection()
    rid, _ = conn.send_request("x", {})
    event = conn.receive(b'{"id":%d,"error":"boom"}' % rid)
    assert isinstance(event, ErrorResponse)
    assert event.code == -32603
    assert "boom" in event.message
    assert conn.pending == {}


def test_a_duplicate_response_is_reported_as_malformed_with_its_id() -> None:
    conn = JsonRpcConnection()
    rid, _ = conn.send_request("x", {})
    assert isinstance(conn.receive(b'{"id":%d,"result":{}}' % rid), Response)
    event = conn.receive(b'{"id":%d,"result":{}}' % rid)
    assert isinstance(event, Malformed)
    assert event.request_id == rid


def test_a_forgotten_request_turns_its_late_answer_into_malformed() -> None:
    conn = JsonRpcConnection()
    rid, _ = conn.send_request("x", {})
    conn.forget(rid)
    assert isinstance(conn.receive(b'{"id":%d,"result":{}}' % rid), Malformed)


def test_a_numeric_string_id_in_a_response_correlates() -> None:
    conn = JsonRpcConnection()
    rid, _ = conn.send_request("x", {})
    assert conn.receive(b'{"id":"%d","result":1}' % rid) == Response(rid, "x", 1)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[1,2,3]",
        b'[{"id":1,"result":{}}]',
        b"null",
        b'"str"',
        b"{}",
        b'{"id":1}',
        b'{"id":null,"result":{}}',
        b'{"id":true,"result":{}}',
        b'{"method":5}',
        b'{"method":"x","params":[1]}',
        b'{"method":"x","id":1.5,"params":{}}',
        b'{"method":"x","id":{"a":1},"params":{}}',
        b"9" * 400,
        b"[" * 100_000,
    ],
)
def test_malformed_input_becomes_an_event_not_an_exception(data: bytes) -> None:
    assert isinstance(JsonRpcConnection().receive(data), Malformed)


def test_unencodable_params_raise_type_error_and_track_nothing() -> None:
    conn = JsonRpcConnection()
    with pytest.raises(TypeError, match="cannot encode"):
        conn.send_request("x", {"bad": object()})
    assert conn.pending == {}


# -- properties -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)

message_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.integers(-5, 20), st.text(max_size=3), st.none(), st.booleans()),
        "method": st.one_of(st.text(max_size=10), st.integers(-1000, 1000)),
        "params": json_values,
        "result": json_values,
        "error": json_values,
        "jsonrpc": st.just("2.0"),
        "emittedAtMs": st.integers(0, 2**40),
    },
)


@settings(max_examples=300)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    conn = JsonRpcConnection()
    conn.send_request("x", {})
    conn.receive(data)


@settings(max_examples=300)
@given(message_like, st.integers(0, 5))
@example({"id": "\u00b2", "result": None}, 0)  # found by hypothesis: "²".isdigit() is True
@example({"id": "9" * 5000, "result": None}, 0)
def test_arbitrary_message_shapes_never_raise(message: dict[str, Any], outstanding: int) -> None:
    conn = JsonRpcConnection()
    for _ in range(outstanding):
        conn.send_request("x", {})
    event = conn.receive(orjson.dumps(message))
    assert isinstance(event, Response | ErrorResponse | Notification | ServerRequest | Malformed)


@settings(max_examples=100)
@given(st.integers(1, 300))
def test_request_ids_stay_unique(count: int) -> None:
    conn = JsonRpcConnection()
    ids = [conn.send_request("m", {})[0] for _ in range(count)]
    assert len(set(ids)) == count
    assert set(conn.pending) == set(ids)


@settings(max_examples=200)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=40), st.randoms())
def test_out_of_order_responses_reach_the_right_request(methods: list[str], rnd: Any) -> None:
    conn = JsonRpcConnection()
    sent = [(conn.send_request(method, {})[0], method) for method in methods]
    answers = list(sent)
    rnd.shuffle(answers)
    for request_id, method in answers:
        event = conn.receive(orjson.dumps({"id": request_id, "result": {"echo": method}}))
        assert event == Response(request_id, method, {"echo": method})
    assert conn.pending == {}


def _batch_events(conn: JsonRpcConnection, batch: list[bytes]) -> list[Event]:
    events: list[Event] = []
    conn.receive_batch(
        batch, lambda method, params: events.append(Notification(method, params)), events.append
    )
    return events


@settings(max_examples=200)
@given(st.lists(message_like, max_size=8), st.integers(0, 5), st.lists(st.binary(max_size=12)))
def test_a_batch_yields_the_events_of_its_messages_received_one_by_one_in_order(
    messages: list[dict[str, Any]], outstanding: int, junk: list[bytes]
) -> None:
    batch = [orjson.dumps(m) for m in messages] + junk
    one_by_one, batched = JsonRpcConnection(), JsonRpcConnection()
    for conn in (one_by_one, batched):
        for _ in range(outstanding):
            conn.send_request("x", {})
    assert _batch_events(batched, batch) == [one_by_one.receive(data) for data in batch]
    assert batched.pending == one_by_one.pending


def test_a_callback_error_propagates_and_leaves_the_rest_of_the_batch_unread() -> None:
    seen: list[str] = []

    def fail_on_b(method: str, params: dict[str, Any]) -> None:
        seen.append(method)
        if method == "b":
            raise RuntimeError("listener bug")

    batch = [orjson.dumps({"method": name}) for name in ("a", "b", "c")]
    with pytest.raises(RuntimeError, match="listener bug"):
        JsonRpcConnection().receive_batch(batch, fail_on_b, lambda event: None)
    assert seen == ["a", "b"]
