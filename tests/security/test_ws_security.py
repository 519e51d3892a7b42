"""Security of the websocket path, seen from the client: the bearer token stays secret,
``wss://`` verifies certificates, 401 and 403 are told apart, no ``Origin`` header goes out.

The transport's own tests (tests/transports/test_ws_transport.py) pin the same promises one
layer down, on ``open_websocket``; these go through :class:`CodexClient`, the way users do,
against the ws transport's test server on 127.0.0.1 (with a local CA from ``trustme``).
"""

from __future__ import annotations

import datetime
import logging
import ssl
import traceback
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import orjson
import pytest
import trustme

from codex_app_server_client import CodexClient
from codex_app_server_client.errors import CodexError, CodexTransportError
from codex_app_server_client_ws._testing import (
    Refusal,
    WebSocketPeer,
    WebSocketTestServer,
    require_token,
    serve_websocket,
)

pytestmark = pytest.mark.anyio

WAIT = 10.0
TOKEN = "tok-SECRET-4f9a1c-never-shown"


async def greet(server: WebSocketTestServer) -> WebSocketPeer:
    """Accept one connection and answer its ``initialize``."""
    peer = await server.accept()
    init = orjson.loads(await peer.receive())
    await peer.send(orjson.dumps({"id": init["id"], "result": {"userAgent": "test/1"}}))
    return peer


@asynccontextmanager
async def connected(
    server: WebSocketTestServer, url: str | None = None, **options: Any
) -> AsyncGenerator[tuple[CodexClient, WebSocketPeer]]:
    peers: list[WebSocketPeer] = []

    async def accept() -> None:
        peers.append(await greet(server))

    async with anyio.create_task_group() as tg:
        tg.start_soon(accept)
        async with CodexClient(url or server.url, **options) as client:
            yield client, peers[0]


def client_log(caplog: pytest.LogCaptureFixture) -> str:
    """Every log line of the client side: all loggers but the test server's own."""
    return "\n".join(
        caplog.handler.format(r)
        for r in caplog.records
        if not r.name.startswith("websockets.server")
    )


def everything_said(error: BaseException) -> str:
    """The whole traceback text of ``error``, its causes and contexts included."""
    return "".join(traceback.format_exception(error))


def server_tls(ca: trustme.CA, *identities: str, expired: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    not_before: datetime.datetime | None = None
    not_after: datetime.datetime | None = None
    if expired:
        now = datetime.datetime.now(datetime.UTC)
        not_before, not_after = now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)
    cert = ca.issue_cert(
        *(identities or ("localhost", "127.0.0.1")), not_before=not_before, not_after=not_after
    )
    with cert.private_key_and_cert_chain_pem.tempfile() as pem:
        context.load_cert_chain(pem)
    return context


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.load_verify_locations(cadata=ca.cert_pem.bytes().decode())
    return context


# ------------------------------------------------------------------------------------------
# The bearer token never shows


async def test_the_token_is_sent_and_never_appears_in_reprs_or_debug_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, websockets' own included
    async with serve_websocket(refuse=require_token(TOKEN)) as server:
        with anyio.fail_after(WAIT):
            async with connected(server, token=TOKEN) as (client, peer):
                await peer.send(b'{"method":"warning","params":{"message":"hi"}}')
                shown = [repr(client), str(client), repr(client.transport)]
    assert server.requests[0].headers.get("Authorization") == f"Bearer {TOKEN}"
    logged = client_log(caplog)
    assert "Authorization" in logged  # the handshake was logged, only without the value
    assert TOKEN not in logged
    for text in shown:
        assert TOKEN not in text


async def test_a_rejected_token_is_named_as_the_problem_but_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serve_websocket(refuse=require_token("the-right-one")) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError) as caught:
            async with CodexClient(server.url, token=TOKEN):
                pass
    message = str(caught.value)
    assert "401" in message
    assert "check the token= you passed" in message
    assert TOKEN not in everything_said(caught.value)
    assert TOKEN not in client_log(caplog)


async def test_losing_an_authenticated_connection_never_shows_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[CodexError] = []
    async with serve_websocket(refuse=require_token(TOKEN)) as server:
        with anyio.fail_after(WAIT):
            async with connected(server, token=TOKEN) as (client, peer):

                async def ask() -> None:
                    try:
                        await client.request("thread/loaded/list", {})
                    except CodexError as exc:
                        errors.append(exc)

                async with anyio.create_task_group() as tg:
                    tg.start_soon(ask)
                    await peer.receive()  # initialized
                    await peer.receive()  # the request
                    await peer.close_with(1011, "boom")
                with pytest.raises(CodexTransportError) as later:
                    await client.request("thread/loaded/list", {})
    assert len(errors) == 1
    for error in (errors[0], later.value):
        assert "1011" in str(error)
        assert TOKEN not in everything_said(error)
    assert TOKEN not in client_log(caplog)


async def test_an_unreachable_server_error_never_shows_the_token() -> None:
    async with serve_websocket() as server:
        url = server.url
    # The server is gone: nothing listens on that port any more.
    with anyio.fail_after(WAIT), pytest.raises(CodexTransportError) as caught:
        async with CodexClient(url, token=TOKEN):
            pass
    assert url in str(caught.value)
    assert TOKEN not in everything_said(caught.value)


# ------------------------------------------------------------------------------------------
# 401 and 403 are told apart


async def test_a_401_without_a_token_says_to_pass_one() -> None:
    async with serve_websocket(refuse=require_token(TOKEN)) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError) as caught:
            async with CodexClient(server.url):
                pass
    message = str(caught.value)
    assert "rejected the bearer token with HTTP 401" in message
    assert "pass the server's token with token=" in message


async def test_a_403_says_the_connection_was_forbidden_not_the_token() -> None:
    async with serve_websocket(refuse=lambda _: Refusal(403, "Forbidden")) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError) as caught:
            async with CodexClient(server.url, token=TOKEN):
                pass
    message = str(caught.value)
    assert "refused the connection with HTTP 403" in message
    assert "Origin" in message
    assert "HTTP 401" not in message  # (the port number may contain 401)
    assert TOKEN not in everything_said(caught.value)


# ------------------------------------------------------------------------------------------
# No Origin header


async def test_no_origin_header_is_sent_by_the_client() -> None:
    async with serve_websocket() as server:
        with anyio.fail_after(WAIT):
            async with connected(server):
                pass
    assert "Origin" not in server.requests[0].headers
    assert "Sec-WebSocket-Origin" not in server.requests[0].headers


async def test_no_origin_header_is_sent_over_wss_either() -> None:
    ca = trustme.CA()
    # Refused after it was recorded: the handshake request is all this test needs to see.
    async with serve_websocket(
        ssl_context=server_tls(ca), refuse=lambda _: Refusal(403, "seen")
    ) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError, match="403"):
            async with CodexClient(server.url, ssl=trusting(ca)):
                pass
    assert len(server.requests) == 1
    assert "Origin" not in server.requests[0].headers


async def test_an_origin_header_is_refused_before_anything_is_sent() -> None:
    async with serve_websocket() as server:
        with pytest.raises(ValueError, match="Origin header is not allowed"):
            async with CodexClient(server.url, headers={"Origin": "http://localhost"}):
                pass
    assert server.requests == []


# ------------------------------------------------------------------------------------------
# wss:// verifies certificates


async def test_wss_by_default_refuses_a_certificate_from_an_authority_it_does_not_trust() -> None:
    async with serve_websocket(ssl_context=server_tls(trustme.CA())) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError) as caught:
            async with CodexClient(server.url):
                pass
    assert "TLS certificate verification failed" in str(caught.value)
    assert server.requests == []  # nothing was sent over the untrusted connection


async def test_ssl_true_verifies_exactly_like_the_default() -> None:
    async with serve_websocket(ssl_context=server_tls(trustme.CA())) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError, match="verification"):
            async with CodexClient(server.url, ssl=True):
                pass


async def test_wss_reaches_the_server_with_a_context_that_trusts_the_private_authority() -> None:
    ca = trustme.CA()
    # The server refuses the upgrade with 401 once it has read it: the request could only
    # arrive over a TLS connection the client accepted.
    async with serve_websocket(
        ssl_context=server_tls(ca), refuse=require_token("not-this-one")
    ) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError, match="401"):
            async with CodexClient(server.url, ssl=trusting(ca), token=TOKEN):
                pass
    assert server.url.startswith("wss://")
    assert server.requests[0].headers.get("Authorization") == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "problem", ["certificate for another host", "expired certificate"], ids=["host", "expired"]
)
async def test_an_invalid_certificate_is_refused_even_from_a_trusted_authority(
    problem: str,
) -> None:
    ca = trustme.CA()
    if problem == "expired certificate":
        tls = server_tls(ca, expired=True)
    else:
        tls = server_tls(ca, "other.example")
    async with serve_websocket(ssl_context=tls) as server:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError) as caught:
            async with CodexClient(server.url, ssl=trusting(ca)):
                pass
    message = str(caught.value)
    assert "TLS certificate verification failed" in message
    expected = "expired" if problem == "expired certificate" else "mismatch"
    assert expected in message.lower()
    assert server.requests == []
