"""The WebSocket transport's own promises: handshake headers, auth and TLS errors, endings."""

from __future__ import annotations

import logging
import ssl
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import pytest
import trustme
from websockets.http11 import Request

from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client.hookspecs import hookimpl
from codex_app_server_client.plugins import get_plugin_manager, resolve_transport
from codex_app_server_client.transport import SupportsSendEof, Transport, TransportSpec
from codex_app_server_client_ws import WebSocketTransport, open_websocket
from codex_app_server_client_ws._testing import Refusal, require_token, serve_websocket

WAIT = 10.0
TOKEN = "s3cret-token-value-1234"


def refuse_with(status: int, body: str) -> Callable[[Request], Refusal | None]:
    def check(request: Request) -> Refusal | None:
        return Refusal(status, body)

    return check


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert = ca.issue_cert("localhost", "127.0.0.1")
    with cert.private_key_and_cert_chain_pem.tempfile() as pem:
        context.load_cert_chain(pem)
    return context


def free_port() -> int:
    """A loopback port with nothing listening on it (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.anyio
async def test_the_bearer_token_is_sent_as_an_authorization_header() -> None:
    async with serve_websocket(refuse=require_token(TOKEN)) as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {"token": TOKEN}) as transport:
                peer = await server.accept()
                await peer.send(b'{"ok":true}')
                assert await transport.receive() == b'{"ok":true}'
    assert server.requests[0].headers.get_all("Authorization") == [f"Bearer {TOKEN}"]


@pytest.mark.anyio
async def test_extra_headers_are_sent_with_the_handshake() -> None:
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {"headers": {"X-Trace": "abc-123"}}):
                await server.accept()
    assert server.requests[0].headers.get_all("X-Trace") == ["abc-123"]


@pytest.mark.anyio
async def test_no_origin_header_is_sent() -> None:
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {}):
                await server.accept()
    assert "Origin" not in server.requests[0].headers


@pytest.mark.anyio
async def test_no_compression_is_offered_or_negotiated() -> None:
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {}):
                peer = await server.accept()
    assert "Sec-WebSocket-Extensions" not in server.requests[0].headers
    assert "Sec-WebSocket-Extensions" not in server.responses[0].headers
    assert peer.protocol.extensions == []


@pytest.mark.anyio
async def test_an_origin_header_is_refused_before_connecting() -> None:
    with pytest.raises(ValueError, match="Origin"):
        async with open_websocket("ws://127.0.0.1:1", {"headers": {"origin": "http://x"}}):
            pass


@pytest.mark.anyio
async def test_an_unknown_option_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="bogus"):
        async with resolve_transport("ws://127.0.0.1:1").open("ws://127.0.0.1:1", {"bogus": 1}):
            pass


@pytest.mark.anyio
async def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(ValueError, match="token=") as caught:
        async with open_websocket("ws://user:hunter2@127.0.0.1:1", {}):
            pass
    assert "hunter2" not in str(caught.value)


@pytest.mark.anyio
async def test_a_missing_token_gets_a_401_error_that_says_to_pass_one() -> None:
    async with serve_websocket(refuse=require_token(TOKEN)) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError) as caught:
            async with open_websocket(server.url, {}):
                pass
    message = str(caught.value)
    assert "401" in message
    assert "token=" in message
    assert "missing websocket bearer token" in message


@pytest.mark.anyio
async def test_a_wrong_token_gets_a_401_error_that_never_shows_the_token() -> None:
    wrong = "wrong-token-never-shown-9876"
    async with serve_websocket(refuse=require_token(TOKEN)) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError) as caught:
            async with open_websocket(server.url, {"token": wrong}):
                pass
    assert "401" in str(caught.value)
    assert "token" in str(caught.value)
    assert wrong not in str(caught.value)
    assert wrong not in repr(caught.value)
    assert server.requests[0].headers.get("Authorization") == f"Bearer {wrong}"


@pytest.mark.anyio
async def test_a_403_gets_an_error_about_the_refused_connection() -> None:
    async with serve_websocket(refuse=refuse_with(403, "Forbidden")) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError, match="403"):
            async with open_websocket(server.url, {}):
                pass


@pytest.mark.anyio
async def test_an_unreachable_port_gets_an_error_naming_the_url() -> None:
    url = f"ws://127.0.0.1:{free_port()}"
    with anyio.fail_after(WAIT), pytest.raises(CodexTransportError) as caught:
        async with open_websocket(url, {"token": TOKEN}):
            pass
    assert url in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.anyio
async def test_wss_refuses_a_certificate_from_an_unknown_authority_by_default(
    ca: trustme.CA,
) -> None:
    async with serve_websocket(ssl_context=server_tls(ca)) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError) as caught:
            async with open_websocket(server.url, {}):
                pass
    assert "certificate verification failed" in str(caught.value)
    assert "ssl=" in str(caught.value)


@pytest.mark.anyio
async def test_wss_accepts_a_certificate_the_given_ssl_context_trusts(ca: trustme.CA) -> None:
    client_context = ssl.create_default_context()
    client_context.load_verify_locations(cadata=ca.cert_pem.bytes().decode())
    async with serve_websocket(ssl_context=server_tls(ca)) as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {"ssl": client_context}) as transport:
                peer = await server.accept()
                await transport.send(b'{"over":"tls"}')
                assert await peer.receive() == b'{"over":"tls"}'
                await peer.send(b'{"back":"tls"}')
                assert await transport.receive() == b'{"back":"tls"}'


@pytest.mark.anyio
async def test_an_abnormal_close_by_the_server_is_a_transport_error_with_the_code() -> None:
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {}) as transport:
                peer = await server.accept()
                async with anyio.create_task_group() as tg:
                    tg.start_soon(peer.close_with, 1011, "server blew up")
                    with pytest.raises(CodexTransportError, match="1011") as caught:
                        await transport.receive()
                assert "server blew up" in str(caught.value)
                # The failure is sticky, for receive and for send.
                with pytest.raises(CodexTransportError, match="1011"):
                    await transport.receive()
                with pytest.raises(CodexTransportError):
                    await transport.send(b"{}")


@pytest.mark.anyio
async def test_a_server_ending_the_tcp_stream_without_a_close_frame_ends_the_stream() -> None:
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {}) as transport:
                peer = await server.accept()
                await peer.send(b'{"last":1}')
                await peer.drop()
                assert await transport.receive() == b'{"last":1}'
                with pytest.raises(anyio.EndOfStream):
                    await transport.receive()


@pytest.mark.anyio
async def test_a_server_cutting_the_stream_inside_a_frame_is_a_transport_error() -> None:
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {}) as transport:
                peer = await server.accept()
                # A text frame header announcing 5 bytes, then only 2 of them.
                await peer.stream.send(b"\x81\x05ab")
                await peer.drop()
                with pytest.raises(CodexTransportError, match="1006"):
                    await transport.receive()


@pytest.mark.anyio
async def test_a_send_cancelled_while_blocked_never_corrupts_the_stream(
    anyio_backend: str,
) -> None:
    big = b'{"pad":"' + b"x" * (64 * 1024 * 1024) + b'"}'
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT * 3):
            async with open_websocket(server.url, {}) as transport:
                peer = await server.accept()
                peer.pause_reading()
                with anyio.CancelScope() as scope:
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(transport.send, big)
                        await anyio.wait_all_tasks_blocked()
                        scope.cancel()
                peer.resume_reading()
                if anyio_backend == "trio":
                    # Part of the frame may be on the wire: the transport dropped the
                    # connection and says so.
                    with pytest.raises(CodexTransportError, match="cancelled"):
                        await transport.send(b'{"after":1}')
                    with pytest.raises(CodexTransportError, match="cancelled"):
                        await transport.receive()
                else:
                    # asyncio buffers whole frames: the message still arrives, intact.
                    await transport.send(b'{"after":1}')
                    assert await peer.receive() == big
                    assert await peer.receive() == b'{"after":1}'


@pytest.mark.anyio
async def test_a_binary_frame_is_passed_through_as_bytes() -> None:
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {}) as transport:
                peer = await server.accept()
                await peer.send_binary(b'{"binary":true}')
                assert await transport.receive() == b'{"binary":true}'


@pytest.mark.anyio
async def test_receive_batch_takes_a_burst_that_has_arrived_in_one_call(anyio_backend: str) -> None:
    burst = [b'{"n":%d}' % i for i in range(50)]
    batches: list[list[bytes]] = []
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {}) as transport:
                peer = await server.accept()
                for message in burst:
                    await peer.send(message)
                while sum(map(len, batches)) < len(burst):
                    batches.append(await transport.receive_batch())
    assert [message for batch in batches for message in batch] == burst
    if anyio_backend == "asyncio":
        # The frames were queued by websockets before the call: one call drains them, which
        # also shows that the peek at websockets' frame queue still works with this version.
        assert max(map(len, batches)) > 1
    else:
        assert max(map(len, batches)) == 1  # trio: one message per batch, by design


@pytest.mark.anyio
async def test_a_message_over_max_message_bytes_breaks_the_connection() -> None:
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {"max_message_bytes": 1024}) as transport:
                peer = await server.accept()
                await peer.send(b'{"pad":"' + b"x" * 2048 + b'"}')
                with pytest.raises(CodexTransportError, match="1009") as info:
                    await transport.receive()
    assert "max_message_bytes=1024" in str(info.value)


@pytest.mark.anyio
async def test_the_repr_shows_the_url_but_never_the_token() -> None:
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {"token": TOKEN}) as transport:
                await server.accept()
                assert server.url in repr(transport)
                assert TOKEN not in repr(transport)
                assert isinstance(transport, WebSocketTransport)
                assert isinstance(transport, Transport)


@pytest.mark.anyio
async def test_the_token_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="codex_app_server_client.transport.ws")
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {"token": TOKEN}) as transport:
                peer = await server.accept()
                await peer.send(b"{}")
                await transport.receive()
    assert "Authorization" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.anyio
async def test_the_transport_has_no_send_eof() -> None:
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with open_websocket(server.url, {}) as transport:
                await server.accept()
                assert not hasattr(transport, "send_eof")
                assert not isinstance(transport, SupportsSendEof)


def test_the_ws_plugin_serves_ws_and_wss_and_lists_its_options() -> None:
    for url in ("ws://127.0.0.1:1", "wss://example.test:443"):
        spec = resolve_transport(url)
        assert spec.name == "ws"
    assert set(resolve_transport("ws://h:1").options) >= {"token", "headers", "ssl"}


def test_another_plugin_for_ws_overrides_the_first_party_one() -> None:
    class OtherPlugin:
        @hookimpl
        def codex_app_server_client_transports(self) -> Sequence[TransportSpec]:
            def never(url: str, options: Any) -> Any:
                raise AssertionError("not called")

            return [TransportSpec(name="other", schemes=("ws",), open=never)]

    manager = get_plugin_manager()
    manager.register(OtherPlugin(), name="other")
    assert resolve_transport("ws://127.0.0.1:1", manager).name == "other"
    assert resolve_transport("wss://127.0.0.1:1", manager).name == "ws"


def test_loading_the_plugin_does_not_import_websockets() -> None:
    code = (
        "import sys\n"
        "from codex_app_server_client.plugins import resolve_transport\n"
        "assert resolve_transport('ws://127.0.0.1:1').name == 'ws'\n"
        "assert 'websockets' not in sys.modules, 'websockets imported too early'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
