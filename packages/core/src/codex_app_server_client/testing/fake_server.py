"""A scriptable fake Codex app-server: the server side of the protocol, shaped like the binary.

:class:`FakeAppServer` answers the handshake and the thread and turn methods with the same
message shapes the real ``codex app-server`` sends (no ``"jsonrpc"`` member, ``emittedAtMs`` on
notifications, server request ids counted from 0 per connection), keeps an in-memory thread
store so history reads answer truthfully, and runs each turn from a *script* of actions
(see :mod:`codex_app_server_client.testing._fake_script`; the helpers are re-exported here)::

    from codex_app_server_client.testing import memory_transport_pair
    from codex_app_server_client.testing.fake_server import (
        FakeAppServer, agent_message, command_approval,
    )

    server = FakeAppServer()
    server.script_turn(command_approval("touch x"), agent_message("done", deltas=2))
    client_end, server_end = memory_transport_pair()
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, server_end)
        ...  # drive client_end, then close it; serve() returns at end of stream
    assert server.decisions[0].decision == "accept"

Without a queued script a turn plays the default one: the user message, one agent message
``"Hello from the fake app-server"``, token usage, idle status, ``turn/completed``.

It also runs as a process, for tests of real transports::

    python -m codex_app_server_client.testing.fake_server --listen stdio://
    python -m codex_app_server_client.testing.fake_server --listen ws://127.0.0.1:0 \\
        --script turns.json

``stdio://`` speaks newline-delimited JSON on stdin/stdout and exits 0 at end of input;
``ws://HOST:PORT`` serves one JSON message per text frame, prints
``listening on: ws://HOST:PORT`` on stderr once ready, and treats each connection as its own
session. Logs go to stderr.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import logging
import os
import posixpath
import shlex
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

import anyio
import orjson

from ..errors import CodexTransportError
from ._fake_script import (
    Action,
    AgentMessage,
    BeforeResponse,
    Command,
    CommandApproval,
    Complete,
    Disconnect,
    ExitProcess,
    Fail,
    FileChangeApproval,
    Garbage,
    Item,
    Notify,
    Reasoning,
    RetryError,
    ServerRequest,
    Stall,
    TurnStarted,
    action_from_dict,
    actions_from_json,
    agent_message,
    before_response,
    command,
    command_approval,
    complete,
    disconnect,
    exit_process,
    fail,
    file_change_approval,
    garbage,
    item,
    notify,
    reasoning,
    retry_error,
    server_request,
    stall,
    turn_started,
)

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from websockets.asyncio.server import ServerConnection
    from websockets.http11 import Request, Response

    from ..transport import Transport

__all__ = [
    "DEFAULT_AGENT_TEXT",
    "IGNORE_NEXT_NOTIFICATION",
    "RELEASE_NOTIFICATION",
    "Action",
    "ApprovalDecision",
    "FakeAppServer",
    "ServerRequestReply",
    "action_from_dict",
    "actions_from_json",
    "agent_message",
    "before_response",
    "command",
    "command_approval",
    "complete",
    "disconnect",
    "exit_process",
    "fail",
    "file_change_approval",
    "garbage",
    "item",
    "main",
    "notify",
    "reasoning",
    "retry_error",
    "server_request",
    "stall",
    "turn_started",
]

log = logging.getLogger("codex_app_server_client.testing.fake_server")

DEFAULT_AGENT_TEXT: Final = "Hello from the fake app-server"
"""The agent message text of the default turn script."""

INVALID_REQUEST: Final = -32600
OVERLOADED: Final = -32001

_NO_PARAMS_METHODS: Final = frozenset(
    {"config/mcpServer/reload", "account/logout", "account/rateLimits/read"}
)

_APPROVAL_METHODS: Final = frozenset(
    {"item/commandExecution/requestApproval", "item/fileChange/requestApproval"}
)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _new_id() -> str:
    return str(uuid.uuid4())


# ------------------------------------------------------------------------------------------
# Records exposed to tests


@dataclass(frozen=True)
class ApprovalDecision:
    """What the client answered to one approval request.

    Attributes:
        method: ``item/commandExecution/requestApproval`` or ``item/fileChange/requestApproval``.
        request_id: the server request id (an int counted from 0 per connection).
        thread_id, turn_id, item_id: where the approval belongs.
        decision: the ``decision`` the client sent, or ``None`` when it answered with an error.
        error: the JSON-RPC error object when the client answered with one (counts as decline).
    """

    method: str
    request_id: int
    thread_id: str
    turn_id: str
    item_id: str
    decision: Any
    error: Any = None


@dataclass(frozen=True)
class ServerRequestReply:
    """The client's reply to any server request: exactly one of ``result`` or ``error``.

    ``has_result`` tells a ``null`` result apart from an error reply.
    """

    method: str
    request_id: int
    params: Any
    result: Any = None
    error: Any = None
    has_result: bool = False


class _RpcError(Exception):
    def __init__(self, message: str, code: int = INVALID_REQUEST, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.data = data


class _EndTurn(Exception):
    def __init__(self, status: str, items: list[Any] | None = None, error: Any = None) -> None:
        super().__init__(status)
        self.status = status
        self.items = items
        self.error = error


class _Disconnected(Exception):
    pass


@dataclass
class _TurnRecord:
    id: str
    status: str = "inProgress"
    items: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    error: Any = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    started_mono: float = 0.0
    item_times: dict[str, tuple[int | None, int | None]] = field(
        default_factory=dict[str, tuple[int | None, int | None]]
    )

    def to_json(self, items: list[Any] | None = None, items_view: str = "notLoaded") -> Any:
        return {
            "id": self.id,
            "rootTurnId": self.id,
            "items": items if items is not None else [],
            "itemsView": items_view,
            "status": self.status,
            "error": self.error,
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
            "durationMs": self.duration_ms,
        }


@dataclass
class _Pending:
    request_id: int
    method: str
    params: Any
    event: anyio.Event
    scoped: bool
    wait: bool
    thread_id: str | None = None
    reply: ServerRequestReply | None = None


@dataclass
class _ActiveTurn:
    thread: _ThreadRecord
    record: _TurnRecord
    conn: _Connection
    response_id: Any
    input: list[Any]
    client_id: Any
    scope: anyio.CancelScope | None = None
    response_sent: bool = False
    started_sent: bool = False
    interrupted: bool = False
    finishing: bool = False
    stall_event: anyio.Event | None = None
    pending: dict[int, _Pending] = field(default_factory=dict[int, "_Pending"])
    last_agent_message: dict[str, Any] | None = None


@dataclass
class _ThreadRecord:
    id: str
    cwd: str
    model: str
    model_provider: str
    approval_policy: Any
    sandbox: Any
    ephemeral: bool
    originator: str | None
    created_at: int
    updated_at: int
    preview: str = ""
    name: str | None = None
    archived: bool = False
    status: Any = field(default_factory=lambda: {"type": "idle"})
    turns: list[_TurnRecord] = field(default_factory=list["_TurnRecord"])
    active: _ActiveTurn | None = None
    cli_version: str = "0.169.0"
    codex_home: str = ""
    forked_from: str | None = None

    def to_json(self, *, with_turns: bool = False) -> Any:
        path = (
            None if self.ephemeral else f"{self.codex_home}/sessions/fake/rollout-{self.id}.jsonl"
        )
        return {
            "id": self.id,
            "environments": [
                {"environmentId": "local", "cwd": self.cwd, "runtimeWorkspaceRoots": [self.cwd]}
            ],
            "extra": None,
            "sessionId": self.id,
            "forkedFromId": self.forked_from,
            "attachedToThreadId": None,
            "parentThreadId": None,
            "preview": self.preview,
            "ephemeral": self.ephemeral,
            "section": None,
            "sectionEnteredAt": None,
            "projectId": None,
            "historyMode": "legacy" if self.ephemeral else "paginated",
            "modelProvider": self.model_provider,
            "model": self.model,
            "reasoningEffort": None,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "recencyAt": self.updated_at,
            "status": self.status,
            "path": path,
            "cwd": self.cwd,
            "cliVersion": self.cli_version,
            "originator": self.originator,
            "source": "vscode",
            "canAcceptDirectInput": True,
            "threadSource": None,
            "agentNickname": None,
            "agentRole": None,
            "gitInfo": None,
            "name": self.name,
            "daybreakEnabled": None,
            "turns": [t.to_json(list(t.items), "full") for t in self.turns] if with_turns else [],
        }


def _dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty dict (for lenient lookups)."""
    if isinstance(value, dict):
        return cast("dict[str, Any]", value)
    return {}


def _substitute(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, list):
        return [_substitute(v, mapping) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, Mapping):
        return {k: _substitute(v, mapping) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    return value


def _require(params: Mapping[str, Any], name: str) -> Any:
    if name not in params:
        raise _RpcError(f"Invalid request: missing field `{name}`")
    return params[name]


def _require_str(params: Mapping[str, Any], name: str) -> str:
    value = _require(params, name)
    if not isinstance(value, str):
        raise _RpcError(f"Invalid request: invalid type: {_describe(value)}, expected a string")
    return value


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, list):
        return "sequence"
    if isinstance(value, dict):
        return "map"
    return f"string {value!r}"


_SANDBOX_MODES: Final[dict[str, Callable[[str], dict[str, Any]]]] = {
    "read-only": lambda _cwd: {"type": "readOnly", "networkAccess": False},
    "workspace-write": lambda cwd: {
        "type": "workspaceWrite",
        "writableRoots": [cwd],
        "networkAccess": False,
        "excludeTmpdirEnvVar": False,
        "excludeSlashTmp": False,
    },
    "danger-full-access": lambda _cwd: {"type": "dangerFullAccess"},
}

_APPROVAL_POLICIES: Final = ("untrusted", "on-failure", "on-request", "never")


def _zero_usage() -> dict[str, int]:
    return {
        "totalTokens": 0,
        "inputTokens": 0,
        "cachedInputTokens": 0,
        "cacheWriteInputTokens": 0,
        "outputTokens": 0,
        "reasoningOutputTokens": 0,
    }


# ------------------------------------------------------------------------------------------
# The server


class FakeAppServer:
    """A scriptable app-server that serves any number of connections over any transport.

    One instance holds the thread store; each :meth:`serve` call serves one connection (each
    must ``initialize`` itself), so several may run at once, as with websocket clients.

    Args:
        user_agent: the ``initialize`` result's ``userAgent``; default built from the
            client's ``clientInfo`` like the real server does.
        codex_home: the ``initialize`` result's ``codexHome`` (never touched on disk).
        post_initialize_notifications: send ``configWarning`` and
            ``remoteControl/status/changed`` right after the ``initialize`` response, as the
            real server does on Linux.
        rate_limit_notifications: send ``account/rateLimits/updated`` (all null) after each
            completed turn, as the real server does.
        model: reported in threads and ``thread/start``.
        model_provider: reported in threads and ``thread/start``.
        models: the model slugs ``model/list`` offers (default: just ``model``); the first is
            the default one.
        cwd: default thread working directory (default: the process's cwd).
        cli_version: the version reported in threads and the default user agent.

    Attributes:
        received: every decoded client message, in arrival order (all connections).
        decisions: every reply to an approval request, as :class:`ApprovalDecision`.
        replies: every reply to any server request, as :class:`ServerRequestReply`.
        stalls: how many times a turn has reached a :func:`stall` so far.
        turns_completed: how many ``turn/completed`` notifications were sent so far.
    """

    def __init__(
        self,
        *,
        user_agent: str | None = None,
        codex_home: str = "/tmp/codex-fake-home",
        post_initialize_notifications: bool = True,
        rate_limit_notifications: bool = False,
        model: str = "fake-model",
        model_provider: str = "fake",
        cwd: str | None = None,
        cli_version: str = "0.169.0",
        models: Sequence[str] | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.codex_home = codex_home
        self.post_initialize_notifications = post_initialize_notifications
        self.rate_limit_notifications = rate_limit_notifications
        self.model = model
        self.model_provider = model_provider
        self.cwd = cwd if cwd is not None else os.getcwd()
        self.cli_version = cli_version
        self.received: list[Any] = []
        self.decisions: list[ApprovalDecision] = []
        self.replies: list[ServerRequestReply] = []
        self.stalls = 0
        self.turns_completed = 0
        self._threads: dict[str, _ThreadRecord] = {}
        self._scripts: list[tuple[Action, ...]] = []
        self._thread_scripts: dict[str, list[tuple[Action, ...]]] = {}
        self._overload = 0
        self._ignore = 0
        self._pending_releases = 0
        self._stalled: list[_ActiveTurn] = []
        self._waiters: list[anyio.Event] = []
        self._counter = 0
        self.models: list[str] = list(models) if models else [model]
        self.config: dict[str, Any] = {
            "model": model,
            "model_provider": model_provider,
            "approval_policy": "never",
            "sandbox_mode": "read-only",
        }
        """What ``config/read`` answers as ``config``; ``config/*Write`` change it."""
        self.files: dict[str, bytes] = {}
        """The ``fs/*`` methods' file system: absolute path to content, held in memory."""
        self.directories: set[str] = {"/"}
        """Directories made with ``fs/createDirectory`` (parents of files exist implicitly)."""
        self.mcp_servers: list[dict[str, Any]] = []
        """What ``mcpServerStatus/list`` pages through (``McpServerStatus`` objects)."""
        self.account: dict[str, Any] | None = None
        """What ``account/read`` answers as ``account``; ``account/login/start`` sets it."""
        self.logins: set[str] = set()
        """Login ids of browser logins started and neither completed nor cancelled."""
        self.process_exit: Callable[[int], None] | None = None
        """How an :func:`exit_process` action ends the process (``os._exit`` when the fake
        runs as a process); ``None`` in-process, where the action closes the connection."""

    # -- scripting ----------------------------------------------------------------------

    def script_turn(self, *actions: Action, thread_id: str | None = None) -> None:
        """Queue a script for the next ``turn/start``.

        Scripts queued with ``thread_id`` are used first for turns on that thread; the
        others serve any thread, in order. The user message item is always sent first; the
        turn completes normally after the last action unless an action ends it.
        """
        for a in actions:
            if not isinstance(a, Action):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise TypeError(f"not a script action: {a!r}")
        if thread_id is None:
            self._scripts.append(tuple(actions))
        else:
            self._thread_scripts.setdefault(thread_id, []).append(tuple(actions))

    def script_turns(self, scripts: Iterable[Sequence[Action]]) -> None:
        """Queue several scripts, one per future turn (what ``--script FILE`` does)."""
        for s in scripts:
            self.script_turn(*s)

    def load_script_file(self, path: str | os.PathLike[str]) -> None:
        """Queue the scripts of a JSON file: a list of turn scripts, each a list of action
        dicts as produced by ``Action.to_dict()``."""
        with open(path, "rb") as fh:
            self.script_turns(actions_from_json(orjson.loads(fh.read())))

    def overload_next(self, count: int = 1) -> None:
        """Answer the next ``count`` requests with ``-32001 "Server overloaded; retry later."``."""
        self._overload += count

    def ignore_next(self, count: int = 1) -> None:
        """Never answer the next ``count`` requests (as the real server does with bad input)."""
        self._ignore += count

    def release(self) -> None:
        """Let every stalled turn go on; if none is stalled, the next stall passes at once.

        Call it from the event loop that runs the server.
        """
        stalled, self._stalled = self._stalled, []
        if not stalled:
            self._pending_releases += 1
        for active in stalled:
            if active.stall_event is not None:
                active.stall_event.set()

    # -- observation ---------------------------------------------------------------------

    async def wait_stalled(self, count: int = 1) -> None:
        """Wait until turns have reached a :func:`stall` ``count`` times in total."""
        await self._wait_until(lambda: self.stalls >= count)

    async def wait_received(self, method: str, count: int = 1) -> Any:
        """Wait until ``count`` client messages with ``method`` arrived; return the last."""

        def matching() -> list[Any]:
            return [m for m in self.received if _dict(m).get("method") == method]

        await self._wait_until(lambda: len(matching()) >= count)
        return matching()[count - 1]

    async def wait_turns_completed(self, count: int = 1) -> None:
        """Wait until ``count`` ``turn/completed`` notifications were sent in total."""
        await self._wait_until(lambda: self.turns_completed >= count)

    async def wait_replies(self, count: int = 1) -> None:
        """Wait until the client answered ``count`` server requests in total."""
        await self._wait_until(lambda: len(self.replies) >= count)

    @property
    def thread_ids(self) -> list[str]:
        """Ids of every thread created so far, oldest first."""
        return list(self._threads)

    def thread_turns(self, thread_id: str) -> list[Any]:
        """A thread's turns as the server records them (full items)."""
        return [t.to_json(list(t.items), "full") for t in self._threads[thread_id].turns]

    async def _wait_until(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            event = anyio.Event()
            self._waiters.append(event)
            await event.wait()

    def _changed(self) -> None:
        waiters, self._waiters = self._waiters, []
        for event in waiters:
            event.set()

    def _next(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}_fake_{self._counter}"

    def _take_script(self, thread_id: str) -> tuple[Action, ...] | None:
        queue = self._thread_scripts.get(thread_id)
        if queue:
            return queue.pop(0)
        if self._scripts:
            return self._scripts.pop(0)
        return None

    # -- serving -------------------------------------------------------------------------

    async def serve(self, transport: Transport) -> None:
        """Serve one connection until its peer ends it; return normally at end of stream.

        Turns still running when the connection ends are cancelled; the transport is closed
        on return.
        """
        conn = _Connection(self, transport)
        try:
            await conn.run()
        finally:
            for thread in self._threads.values():
                if thread.active is not None and thread.active.conn is conn:
                    thread.active = None
                    thread.status = {"type": "idle"}
            with anyio.CancelScope(shield=True):
                await transport.aclose()


RELEASE_NOTIFICATION = "fake/release"
"""A client notification the fake understands as :meth:`FakeAppServer.release`, so tests can
let stalled turns go on in a fake that runs as a subprocess
(``await client.notify("fake/release")``)."""


IGNORE_NEXT_NOTIFICATION = "fake/ignoreNext"
"""A client notification (``{"count": N}``) the fake takes as :meth:`FakeAppServer.ignore_next`."""


class _Connection:
    """One client connection: handshake state, server request ids, the write lock."""

    def __init__(self, server: FakeAppServer, transport: Transport) -> None:
        self.server = server
        self.transport = transport
        self.initialized = False
        self.closed = False
        self.next_request_id = 0
        self.pending: dict[int, _Pending] = {}
        self.lock = anyio.Lock()
        self.task_group: TaskGroup | None = None
        self.processes: dict[str, _FakeProcess] = {}

    # -- writing -------------------------------------------------------------------------

    async def send_raw(self, data: bytes) -> None:
        if self.closed:
            return
        async with self.lock:
            with anyio.CancelScope(shield=True):
                try:
                    await self.transport.send(data)
                except (CodexTransportError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                    self.closed = True

    async def send(self, message: Any) -> None:
        await self.send_raw(orjson.dumps(message))

    async def respond(self, request_id: Any, result: Any) -> None:
        await self.send({"id": request_id, "result": result})

    async def respond_error(
        self, request_id: Any, code: int, message: str, data: Any = None
    ) -> None:
        error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        await self.send({"error": error, "id": request_id})

    async def notify(self, method: str, params: Any) -> None:
        await self.send({"method": method, "params": params, "emittedAtMs": _now_ms()})

    async def disconnect(self) -> None:
        self.closed = True
        with anyio.CancelScope(shield=True):
            await self.transport.aclose()
        if self.task_group is not None:
            self.task_group.cancel_scope.cancel()

    # -- reading -------------------------------------------------------------------------

    async def run(self) -> None:
        async with anyio.create_task_group() as tg:
            self.task_group = tg
            while True:
                try:
                    raw = await self.transport.receive()
                except (anyio.EndOfStream, CodexTransportError, anyio.ClosedResourceError):
                    break
                except anyio.BrokenResourceError:
                    break
                await self.handle(raw)
            tg.cancel_scope.cancel()

    async def handle(self, raw: bytes) -> None:
        try:
            message: Any = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            log.error("Failed to deserialize JSONRPCMessage: %s", exc)
            return
        self.server.received.append(message)
        self.server._changed()  # pyright: ignore[reportPrivateUsage]
        if not isinstance(message, dict):
            log.error("Failed to deserialize JSONRPCMessage: not an object")
            return
        msg: dict[str, Any] = message  # pyright: ignore[reportUnknownVariableType]
        method = msg.get("method")
        if method is not None:
            if not isinstance(method, str):
                log.error("Failed to deserialize JSONRPCMessage: method is not a string")
                return
            if "id" in msg:
                request_id = msg["id"]
                if isinstance(request_id, bool) or not isinstance(request_id, int | str):
                    log.error("Failed to deserialize JSONRPCMessage: bad id %r", request_id)
                    return
                await self.handle_request(request_id, method, msg)
            elif method == "initialized":
                log.info("client sent initialized")
            elif method == RELEASE_NOTIFICATION:
                # Test control, for a fake running in another process: same as release().
                self.server.release()
            elif method == IGNORE_NEXT_NOTIFICATION:
                params = msg.get("params")
                count = params.get("count", 1) if isinstance(params, dict) else 1  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
                self.server.ignore_next(count if isinstance(count, int) else 1)
            else:
                log.warning("ignoring unknown client notification %s", method)
            return
        if "id" in msg and ("result" in msg or "error" in msg):
            self.handle_reply(msg)
            return
        log.error("Failed to deserialize JSONRPCMessage: %r", msg)

    def handle_reply(self, msg: dict[str, Any]) -> None:
        request_id = msg["id"]
        pending = self.pending.pop(request_id, None) if isinstance(request_id, int) else None
        if pending is None:
            log.warning("could not find callback for %r", request_id)
            return
        has_result = "result" in msg
        reply = ServerRequestReply(
            pending.method,
            pending.request_id,
            pending.params,
            msg.get("result"),
            None if has_result else msg.get("error"),
            has_result,
        )
        pending.reply = reply
        self.server.replies.append(reply)
        pending.event.set()
        self.server._changed()  # pyright: ignore[reportPrivateUsage]
        if not pending.wait and pending.scoped and pending.thread_id and self.task_group:
            self.task_group.start_soon(
                self.notify,
                "serverRequest/resolved",
                {"threadId": pending.thread_id, "requestId": pending.request_id},
            )

    async def handle_request(self, request_id: Any, method: str, msg: dict[str, Any]) -> None:
        server = self.server
        if server._overload > 0:  # pyright: ignore[reportPrivateUsage]
            server._overload -= 1  # pyright: ignore[reportPrivateUsage]
            await self.respond_error(request_id, OVERLOADED, "Server overloaded; retry later.")
            return
        if server._ignore > 0:  # pyright: ignore[reportPrivateUsage]
            server._ignore -= 1  # pyright: ignore[reportPrivateUsage]
            log.warning("ignoring request %r (%s) as told", request_id, method)
            return
        handler = _HANDLERS.get(method)
        if method != "initialize" and not self.initialized:
            await self.respond_error(request_id, INVALID_REQUEST, "Not initialized")
            return
        if handler is None:
            expected = ", ".join(f"`{m}`" for m in _HANDLERS)
            await self.respond_error(
                request_id,
                INVALID_REQUEST,
                f"Invalid request: unknown variant `{method}`, expected one of {expected}",
            )
            return
        if "params" not in msg and method not in _NO_PARAMS_METHODS:
            await self.respond_error(
                request_id, INVALID_REQUEST, "Invalid request: missing field `params`"
            )
            return
        params: Any = msg.get("params")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            await self.respond_error(
                request_id,
                INVALID_REQUEST,
                f"Invalid request: invalid type: {_describe(params)}, expected a map",
            )
            return
        try:
            await handler(self, request_id, _dict(params))
        except _RpcError as exc:
            await self.respond_error(request_id, exc.code, exc.message, exc.data)

    # -- helpers for handlers -----------------------------------------------------------

    def thread(self, thread_id: str, *, missing: str = "thread not found") -> _ThreadRecord:
        thread = self.server._threads.get(thread_id)  # pyright: ignore[reportPrivateUsage]
        if thread is None:
            raise _RpcError(f"{missing}: {thread_id}")
        return thread

    def thread_response(self, thread: _ThreadRecord, *, with_turns: bool = False) -> Any:
        return {
            "thread": thread.to_json(with_turns=with_turns),
            "model": thread.model,
            "modelProvider": thread.model_provider,
            "serviceTier": None,
            "disabledPluginIds": [],
            "cwd": thread.cwd,
            "runtimeWorkspaceRoots": [thread.cwd],
            "instructionSources": [],
            "approvalPolicy": thread.approval_policy,
            "approvalsReviewer": "user",
            "sandbox": thread.sandbox,
            "activePermissionProfile": None,
            "reasoningEffort": None,
            "multiAgentMode": "explicitRequestOnly",
        }


# ------------------------------------------------------------------------------------------
# Request handlers

_Handler = Callable[[_Connection, Any, dict[str, Any]], Any]
_HANDLERS: dict[str, _Handler] = {}


def _handles(method: str) -> Callable[[_Handler], _Handler]:
    def register(fn: _Handler) -> _Handler:
        _HANDLERS[method] = fn
        return fn

    return register


@_handles("initialize")
async def _initialize(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    if conn.initialized:
        raise _RpcError("Already initialized")
    info = _require(params, "clientInfo")
    if not isinstance(info, dict):
        raise _RpcError(f"Invalid request: invalid type: {_describe(info)}, expected a map")
    client_info: dict[str, Any] = info  # pyright: ignore[reportUnknownVariableType]
    name = _require_str(client_info, "name")
    version = _require_str(client_info, "version")
    server = conn.server
    user_agent = server.user_agent or (
        f"{name}/{server.cli_version} (Linux; x86_64) fake-app-server ({name}; {version})"
    )
    conn.initialized = True
    await conn.respond(
        request_id,
        {
            "userAgent": user_agent,
            "codexHome": server.codex_home,
            "platformFamily": "unix",
            "platformOs": "linux",
        },
    )
    if server.post_initialize_notifications:
        await conn.notify(
            "configWarning",
            {
                "summary": "Codex could not find bubblewrap on PATH (fake app-server notice).",
                "details": None,
            },
        )
        await conn.notify(
            "remoteControl/status/changed",
            {
                "status": "disabled",
                "serverName": "fake",
                "installationId": "00000000-0000-0000-0000-000000000000",
                "environmentId": None,
            },
        )


def _thread_settings(
    conn: _Connection, params: dict[str, Any], base: _ThreadRecord | None
) -> tuple[str, str, Any, Any]:
    server = conn.server
    cwd = base.cwd if base else server.cwd
    if params.get("cwd") is not None:
        cwd = _require_str(params, "cwd")
    model = base.model if base else server.model
    if params.get("model") is not None:
        model = _require_str(params, "model")
    policy: Any = base.approval_policy if base else "never"
    if params.get("approvalPolicy") is not None:
        policy = params["approvalPolicy"]
        if isinstance(policy, str) and policy not in _APPROVAL_POLICIES:
            expected = ", ".join(f"`{p}`" for p in _APPROVAL_POLICIES)
            raise _RpcError(
                f"Invalid request: unknown variant `{policy}`, expected one of {expected}"
            )
    sandbox: Any = base.sandbox if base else _SANDBOX_MODES["read-only"](cwd)
    if params.get("sandbox") is not None:
        mode = params["sandbox"]
        if not isinstance(mode, str) or mode not in _SANDBOX_MODES:
            expected = ", ".join(f"`{m}`" for m in _SANDBOX_MODES)
            raise _RpcError(
                f"Invalid request: unknown variant `{mode}`, expected one of {expected}"
            )
        sandbox = _SANDBOX_MODES[mode](cwd)
    return cwd, model, policy, sandbox


@_handles("thread/start")
async def _thread_start(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    server = conn.server
    cwd, model, policy, sandbox = _thread_settings(conn, params, None)
    now = int(time.time())
    thread = _ThreadRecord(
        id=_new_id(),
        cwd=cwd,
        model=model,
        model_provider=server.model_provider,
        approval_policy=policy,
        sandbox=sandbox,
        ephemeral=bool(params.get("ephemeral") or False),
        originator=None,
        created_at=now,
        updated_at=now,
        cli_version=server.cli_version,
        codex_home=server.codex_home,
    )
    server._threads[thread.id] = thread  # pyright: ignore[reportPrivateUsage]
    await conn.respond(request_id, conn.thread_response(thread))
    await conn.notify("thread/started", {"thread": thread.to_json()})


@_handles("thread/resume")
async def _thread_resume(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread = conn.thread(_require_str(params, "threadId"))
    cwd, model, policy, sandbox = _thread_settings(conn, params, thread)
    thread.cwd, thread.model, thread.approval_policy, thread.sandbox = cwd, model, policy, sandbox
    thread.archived = False
    result = conn.thread_response(thread, with_turns=not params.get("excludeTurns"))
    await conn.respond(request_id, result)


@_handles("thread/read")
async def _thread_read(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread = conn.thread(_require_str(params, "threadId"), missing="thread not loaded")
    include = bool(params.get("includeTurns") or False)
    if include and thread.ephemeral:
        raise _RpcError("ephemeral threads do not support includeTurns")
    if include:
        await conn.notify(
            "deprecationNotice",
            {
                "summary": "Full-history hydration is deprecated for paginated threads; omit "
                "`includeTurns` or set it to `false`, then page with `thread/turns/list` "
                "and `thread/items/list`.",
                "details": None,
            },
        )
    await conn.respond(request_id, {"thread": thread.to_json(with_turns=include)})


@_handles("thread/list")
async def _thread_list(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    archived = bool(params.get("archived") or False)
    threads = [
        t
        for t in conn.server._threads.values()  # pyright: ignore[reportPrivateUsage]
        if t.archived == archived and not t.ephemeral
    ]
    threads.reverse()
    data, next_cursor = _page(threads, params)
    await conn.respond(
        request_id,
        {
            "data": [t.to_json() for t in data],
            "readStates": {},
            "nextCursor": next_cursor,
            "backwardsCursor": None,
        },
    )


@_handles("thread/loaded/list")
async def _thread_loaded_list(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    ids = [
        t.id
        for t in conn.server._threads.values()  # pyright: ignore[reportPrivateUsage]
        if not t.archived
    ]
    data, next_cursor = _page(ids, params)
    await conn.respond(request_id, {"data": data, "nextCursor": next_cursor})


def _page(values: list[Any], params: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    cursor = params.get("cursor")
    start = 0
    if cursor is not None:
        if not isinstance(cursor, str) or not (cursor.isascii() and cursor.isdigit()):
            raise _RpcError(f"invalid cursor: {cursor!r}")
        start = int(cursor)
    limit = params.get("limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        end = start + limit
        return values[start:end], (str(end) if end < len(values) else None)
    return values[start:], None


@_handles("thread/turns/list")
async def _thread_turns_list(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread = conn.thread(_require_str(params, "threadId"))
    turns = list(thread.turns)
    if params.get("sortDirection", "desc") != "asc":
        turns.reverse()
    view = params.get("itemsView") or "summary"
    data, next_cursor = _page(turns, params)
    rendered = [t.to_json([] if view == "notLoaded" else list(t.items), str(view)) for t in data]
    await conn.respond(
        request_id, {"data": rendered, "nextCursor": next_cursor, "backwardsCursor": None}
    )


@_handles("thread/items/list")
async def _thread_items_list(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread = conn.thread(_require_str(params, "threadId"))
    turn_id = params.get("turnId")
    rows: list[Any] = []
    for turn in thread.turns:
        if turn_id is not None and turn.id != turn_id:
            continue
        for it in turn.items:
            started, completed = turn.item_times.get(str(it.get("id")), (None, None))
            rows.append(
                {"turnId": turn.id, "item": it, "startedAtMs": started, "completedAtMs": completed}
            )
    if params.get("sortDirection") == "desc":
        rows.reverse()
    anchor = params.get("cursor")
    if isinstance(anchor, dict):  # an item anchor: start at that item
        item_id = _dict(anchor).get("itemId")
        ids = [row["item"].get("id") for row in rows]
        if item_id not in ids:
            raise _RpcError(f"item not found: {item_id}")
        params = {**params, "cursor": str(ids.index(item_id))}
    data, next_cursor = _page(rows, params)
    await conn.respond(
        request_id, {"data": data, "nextCursor": next_cursor, "backwardsCursor": None}
    )


@_handles("thread/name/set")
async def _thread_name_set(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread = conn.thread(_require_str(params, "threadId"))
    thread.name = _require_str(params, "name")
    await conn.respond(request_id, {})
    await conn.notify("thread/name/updated", {"threadId": thread.id, "threadName": thread.name})


@_handles("thread/archive")
async def _thread_archive(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread = conn.thread(_require_str(params, "threadId"))
    thread.archived = True
    thread.status = {"type": "notLoaded"}
    await conn.notify("thread/status/changed", {"threadId": thread.id, "status": thread.status})
    await conn.respond(request_id, {})
    await conn.notify("thread/archived", {"threadId": thread.id})


@_handles("thread/unarchive")
async def _thread_unarchive(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread = conn.thread(_require_str(params, "threadId"))
    thread.archived = False
    thread.status = {"type": "idle"}
    await conn.respond(request_id, {"thread": thread.to_json()})
    await conn.notify("thread/unarchived", {"threadId": thread.id})


@_handles("thread/unsubscribe")
async def _thread_unsubscribe(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    conn.thread(_require_str(params, "threadId"))
    await conn.respond(request_id, {"status": "unsubscribed"})


def _model_entry(slug: str, *, default: bool) -> dict[str, Any]:
    efforts = [
        {"reasoningEffort": e, "description": f"{e} reasoning"} for e in ("low", "medium", "high")
    ]
    return {
        "id": slug,
        "model": slug,
        "displayName": slug,
        "description": f"The fake app-server's model {slug}.",
        "hidden": False,
        "isDefault": default,
        "defaultReasoningEffort": "medium",
        "supportedReasoningEfforts": efforts,
        "inputModalities": ["text", "image"],
        "supportsPersonality": False,
        "upgrade": None,
    }


@_handles("model/list")
async def _model_list(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    entries = [_model_entry(m, default=i == 0) for i, m in enumerate(conn.server.models)]
    data, next_cursor = _page(entries, params)
    await conn.respond(request_id, {"data": data, "nextCursor": next_cursor})


@_handles("config/mcpServer/reload")
async def _mcp_reload(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    await conn.respond(request_id, {})


@_handles("mcpServerStatus/list")
async def _mcp_status_list(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    servers = conn.server.mcp_servers
    name = params.get("serverName")
    if name is not None:
        servers = [s for s in servers if s.get("name") == name]
    data, next_cursor = _page(servers, params)
    await conn.respond(request_id, {"data": data, "nextCursor": next_cursor})


@_handles("skills/list")
async def _skills_list(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    cwds = params.get("cwds") or [conn.server.cwd]
    data = [
        {
            "cwd": cwd,
            "skills": [
                {
                    "name": "fake-skill",
                    "description": "A skill the fake app-server lists for every directory.",
                    "shortDescription": None,
                    "enabled": True,
                    "path": f"{conn.server.codex_home}/skills/fake-skill/SKILL.md",
                    "scope": "user",
                    "interface": None,
                    "dependencies": None,
                    "pluginId": None,
                }
            ],
            "errors": [],
        }
        for cwd in cwds
    ]
    await conn.respond(request_id, {"data": data})


# -- threads: fork, delete, compaction, review --------------------------------------------


@_handles("thread/fork")
async def _thread_fork(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    source = conn.thread(_require_str(params, "threadId"), missing="no rollout found for thread id")
    cwd, model, policy, sandbox = _thread_settings(conn, params, source)
    turns = list(source.turns)
    last = params.get("lastTurnId")
    if last is not None:
        ids = [t.id for t in turns]
        if last not in ids:
            raise _RpcError(f"turn not found: {last}")
        turns = turns[: ids.index(last) + 1]
    now = int(time.time())
    server = conn.server
    thread = _ThreadRecord(
        id=_new_id(),
        cwd=cwd,
        model=model,
        model_provider=source.model_provider,
        approval_policy=policy,
        sandbox=sandbox,
        ephemeral=bool(params.get("ephemeral") or False),
        originator=source.originator,
        created_at=now,
        updated_at=now,
        preview=source.preview,
        turns=[
            _TurnRecord(
                _new_id(),
                status="interrupted" if t.status == "inProgress" else t.status,
                items=[dict(i) for i in t.items],
                error=t.error,
                started_at=t.started_at,
                completed_at=t.completed_at,
                duration_ms=t.duration_ms,
            )
            for t in turns
        ],
        cli_version=server.cli_version,
        codex_home=server.codex_home,
        forked_from=source.id,
    )
    server._threads[thread.id] = thread  # pyright: ignore[reportPrivateUsage]
    result = conn.thread_response(thread, with_turns=not params.get("excludeTurns"))
    await conn.respond(request_id, result)
    await conn.notify("thread/started", {"thread": thread.to_json()})


@_handles("thread/delete")
async def _thread_delete(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread = conn.thread(_require_str(params, "threadId"))
    if thread.active is not None:
        raise _RpcError(f"thread {thread.id} has a running turn")
    del conn.server._threads[thread.id]  # pyright: ignore[reportPrivateUsage]
    await conn.respond(request_id, {})
    await conn.notify("thread/deleted", {"threadId": thread.id})


def _begin_turn(conn: _Connection, thread: _ThreadRecord, request_id: Any) -> _ActiveTurn:
    """A new turn on an idle thread, for the turns that are not a ``turn/start``."""
    if thread.active is not None and not thread.active.finishing:
        raise _RpcError(
            "active turn is not steerable",
            data={"codexErrorInfo": {"activeTurnNotSteerable": {"turnKind": "regular"}}},
        )
    record = _TurnRecord(_new_id(), started_mono=time.monotonic())
    thread.turns.append(record)
    thread.updated_at = int(time.time())
    active = _ActiveTurn(thread, record, conn, request_id, [], None)
    active.response_sent = True  # the caller answers with its own result shape
    thread.active = active
    return active


async def _run_compaction(active: _ActiveTurn) -> None:
    with anyio.CancelScope() as scope:
        active.scope = scope
        await _ensure_started(active)
        server = active.conn.server
        compaction = {"type": "contextCompaction", "id": server._next("compact")}  # pyright: ignore[reportPrivateUsage]
        await _emit_item(active, compaction)
        await active.conn.notify(
            "thread/compacted", {"threadId": active.thread.id, "turnId": active.record.id}
        )
    await _finish(active, _EndTurn("interrupted") if active.interrupted else None)


@_handles("thread/compact/start")
async def _thread_compact_start(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread = conn.thread(_require_str(params, "threadId"))
    active = _begin_turn(conn, thread, request_id)
    await conn.respond(request_id, {})
    assert conn.task_group is not None
    conn.task_group.start_soon(_run_compaction, active)


_REVIEW_PROMPTS: Final[Mapping[str, str]] = {
    "uncommittedChanges": "Review the current code changes (staged, unstaged, and untracked).",
    "baseBranch": "Review the code changes against the base branch '{branch}'.",
    "commit": "Review the code changes introduced by commit {sha}.",
}


@_handles("review/start")
async def _review_start(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread = conn.thread(_require_str(params, "threadId"))
    target = _dict(_require(params, "target"))
    kind = target.get("type")
    if kind == "custom":
        prompt = str(target.get("instructions", ""))
    elif isinstance(kind, str) and kind in _REVIEW_PROMPTS:
        prompt = _REVIEW_PROMPTS[kind].format_map(target)
    else:
        raise _RpcError(f"Invalid request: unknown variant `{kind}`")
    if params.get("delivery") not in (None, "inline"):
        raise _RpcError("only inline review delivery is supported")
    active = _begin_turn(conn, thread, request_id)
    active.input = [{"type": "text", "text": prompt}]
    if not thread.preview:
        thread.preview = prompt
    user = _user_message_item(active.input, None)
    turn = active.record.to_json([user])
    await conn.respond(request_id, {"turn": turn, "reviewThreadId": thread.id})
    script: list[Action] = [
        item({"type": "enteredReviewMode", "review": prompt}),
        agent_message("The fake app-server found nothing to flag."),
        item({"type": "exitedReviewMode", "review": "No findings."}),
    ]
    assert conn.task_group is not None
    conn.task_group.start_soon(_run_turn, active, list[Action](), script)


# -- account ----------------------------------------------------------------------------


@_handles("account/read")
async def _account_read(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    await conn.respond(request_id, {"account": conn.server.account, "requiresOpenaiAuth": False})


@_handles("account/rateLimits/read")
async def _account_rate_limits(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    snapshot = {
        "limitId": "codex",
        "limitName": None,
        "primary": {"usedPercent": 12, "windowDurationMins": 300, "resetsAt": None},
        "secondary": None,
        "credits": None,
        "planType": None,
    }
    await conn.respond(
        request_id, {"rateLimits": snapshot, "rateLimitsByLimitId": {"codex": snapshot}}
    )


@_handles("account/login/start")
async def _account_login_start(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    server = conn.server
    kind = _require_str(params, "type")
    if kind == "apiKey":
        _require_str(params, "apiKey")
        server.account = {"type": "apiKey"}
        await conn.respond(request_id, {"type": "apiKey"})
        await conn.notify("account/login/completed", {"loginId": None, "success": True})
        await conn.notify("account/updated", {"authMode": "apikey", "planType": None})
        return
    login_id = _new_id()
    if kind == "chatgpt":
        result = {
            "type": "chatgpt",
            "loginId": login_id,
            "authUrl": f"http://127.0.0.1:1455/fake-auth?login={login_id}",
        }
    elif kind == "chatgptDeviceCode":
        result = {
            "type": "chatgptDeviceCode",
            "loginId": login_id,
            "verificationUrl": "http://127.0.0.1:1455/fake-device",
            "userCode": "FAKE-CODE",
        }
    else:
        raise _RpcError(f"Invalid request: unknown variant `{kind}`")
    server.logins.add(login_id)
    await conn.respond(request_id, result)


@_handles("account/login/cancel")
async def _account_login_cancel(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    login_id = _require_str(params, "loginId")
    logins = conn.server.logins
    if login_id not in logins:
        await conn.respond(request_id, {"status": "notFound"})
        return
    logins.discard(login_id)
    await conn.respond(request_id, {"status": "canceled"})
    await conn.notify(
        "account/login/completed",
        {"loginId": login_id, "success": False, "error": "login was cancelled"},
    )


@_handles("account/logout")
async def _account_logout(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    conn.server.account = None
    await conn.respond(request_id, {})
    await conn.notify("account/updated", {"authMode": None, "planType": None})


# -- config -----------------------------------------------------------------------------


def _config_version(config: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(orjson.dumps(config, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"sha256:{digest}"


def _config_set(config: dict[str, Any], key_path: str, value: Any, strategy: Any) -> None:
    if strategy not in ("replace", "upsert"):
        raise _RpcError(f"Invalid request: unknown variant `{strategy}`")
    *parents, leaf = key_path.split(".")
    table = config
    for name in parents:
        child = table.get(name)
        if not isinstance(child, dict):
            child = {}
            table[name] = child
        table = cast("dict[str, Any]", child)
    current = table.get(leaf)
    if strategy == "upsert" and isinstance(current, dict) and isinstance(value, dict):
        table[leaf] = {**cast("dict[str, Any]", current), **cast("dict[str, Any]", value)}
    elif value is None:
        table.pop(leaf, None)
    else:
        table[leaf] = value


async def _config_write(
    conn: _Connection, request_id: Any, params: dict[str, Any], edits: list[Any]
) -> None:
    server = conn.server
    expected = params.get("expectedVersion")
    if expected is not None and expected != _config_version(server.config):
        raise _RpcError(
            "config file changed since it was read", data={"reason": "configVersionConflict"}
        )
    updated = orjson.loads(orjson.dumps(server.config))
    for edit in edits:
        e = _dict(edit)
        _config_set(
            updated, _require_str(e, "keyPath"), _require(e, "value"), _require(e, "mergeStrategy")
        )
    server.config = updated
    await conn.respond(
        request_id,
        {
            "status": "ok",
            "version": _config_version(updated),
            "filePath": params.get("filePath") or f"{server.codex_home}/config.toml",
            "overriddenMetadata": None,
        },
    )


@_handles("config/read")
async def _config_read(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    result: dict[str, Any] = {"config": conn.server.config, "origins": {}}
    if params.get("includeLayers"):
        result["layers"] = []
    await conn.respond(request_id, result)


@_handles("config/value/write")
async def _config_value_write(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    await _config_write(conn, request_id, params, [params])


@_handles("config/batchWrite")
async def _config_batch_write(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    edits = _require(params, "edits")
    if not isinstance(edits, list):
        raise _RpcError(f"Invalid request: invalid type: {_describe(edits)}, expected a sequence")
    await _config_write(conn, request_id, params, cast("list[Any]", edits))


# -- command/exec -----------------------------------------------------------------------


@dataclass
class _FakeProcess:
    """A ``command/exec`` with a ``processId``: it runs until stdin closes or it is killed."""

    argv: list[str]
    stdin: bytearray = field(default_factory=bytearray)
    done: anyio.Event = field(default_factory=anyio.Event)
    terminated: bool = False
    size: Any = None


def _fake_output(argv: list[str], stdin: bytes) -> tuple[int, bytes, bytes]:
    """What the fake "runs": ``echo`` and ``cat``; anything else is not found (127)."""
    name = argv[0].rsplit("/", 1)[-1]
    if name == "echo":
        return 0, (" ".join(argv[1:]) + "\n").encode(), b""
    if name == "cat" and len(argv) == 1:
        return 0, stdin, b""
    return 127, b"", f"fake app-server: {argv[0]}: command not found\n".encode()


@_handles("command/exec")
async def _command_exec(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    argv_value = _require(params, "command")
    if not isinstance(argv_value, list) or not argv_value:
        raise _RpcError("Invalid request: command must be a non-empty array of strings")
    argv = [str(a) for a in cast("list[Any]", argv_value)]
    process_id = params.get("processId")
    streaming = bool(params.get("streamStdin") or params.get("tty"))
    if streaming and not isinstance(process_id, str):
        raise _RpcError("processId is required when streaming stdin or using a tty")
    if not isinstance(process_id, str):
        code, out, err = _fake_output(argv, b"")
        await conn.respond(
            request_id, {"exitCode": code, "stdout": out.decode(), "stderr": err.decode()}
        )
        return
    if process_id in conn.processes:
        raise _RpcError(f"processId {process_id} is already in use")
    process = _FakeProcess(argv, size=params.get("size"))
    conn.processes[process_id] = process
    if not params.get("streamStdin"):
        process.done.set()
    assert conn.task_group is not None
    conn.task_group.start_soon(
        _finish_process, conn, request_id, process_id, bool(params.get("streamStdoutStderr"))
    )


async def _finish_process(
    conn: _Connection, request_id: Any, process_id: str, stream: bool
) -> None:
    process = conn.processes[process_id]
    try:
        await process.done.wait()
    finally:
        conn.processes.pop(process_id, None)
    if process.terminated:
        code, out, err = 143, b"", b""
    else:
        code, out, err = _fake_output(process.argv, bytes(process.stdin))
    if stream:
        for name, data in (("stdout", out), ("stderr", err)):
            if data:
                await conn.notify(
                    "command/exec/outputDelta",
                    {
                        "processId": process_id,
                        "stream": name,
                        "deltaBase64": base64.b64encode(data).decode("ascii"),
                        "capReached": False,
                    },
                )
        out, err = b"", b""
    await conn.respond(
        request_id, {"exitCode": code, "stdout": out.decode(), "stderr": err.decode()}
    )


def _process(conn: _Connection, params: Mapping[str, Any]) -> _FakeProcess:
    process_id = _require_str(params, "processId")
    process = conn.processes.get(process_id)
    if process is None:
        raise _RpcError(f"no running command/exec with processId {process_id}")
    return process


@_handles("command/exec/write")
async def _command_write(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    process = _process(conn, params)
    delta = params.get("deltaBase64")
    if isinstance(delta, str):
        try:
            process.stdin.extend(base64.b64decode(delta, validate=True))
        except ValueError as exc:
            raise _RpcError(f"invalid deltaBase64: {exc}") from None
    if params.get("closeStdin"):
        process.done.set()
    await conn.respond(request_id, {})


@_handles("command/exec/resize")
async def _command_resize(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    process = _process(conn, params)
    process.size = _require(params, "size")
    await conn.respond(request_id, {})


@_handles("command/exec/terminate")
async def _command_terminate(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    process = _process(conn, params)
    process.terminated = True
    process.done.set()
    await conn.respond(request_id, {})


# -- fs: an in-memory file system -------------------------------------------------------


def _fs_path(params: Mapping[str, Any], name: str = "path") -> str:
    path = _require_str(params, name)
    if not posixpath.isabs(path):
        raise _RpcError("Invalid request: AbsolutePathBuf deserialized without a base path")
    return posixpath.normpath(path)


def _fs_is_dir(server: FakeAppServer, path: str) -> bool:
    if path in server.directories:
        return True
    prefix = path.rstrip("/") + "/"
    return any(p.startswith(prefix) for p in (*server.files, *server.directories))


def _fs_children(server: FakeAppServer, path: str) -> dict[str, bool]:
    """Immediate children of a directory: name to "is a directory"."""
    prefix = path.rstrip("/") + "/"
    children: dict[str, bool] = {}
    for p in (*server.files, *server.directories):
        if p.startswith(prefix) and p != prefix:
            name, _, rest = p[len(prefix) :].partition("/")
            children[name] = children.get(name, False) or bool(rest) or p in server.directories
    return children


def _not_found(path: str) -> _RpcError:
    return _RpcError(f"No such file or directory (os error 2): {path}", code=-32603)


@_handles("fs/readFile")
async def _fs_read_file(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    path = _fs_path(params)
    data = conn.server.files.get(path)
    if data is None:
        raise _not_found(path)
    await conn.respond(request_id, {"dataBase64": base64.b64encode(data).decode("ascii")})


@_handles("fs/writeFile")
async def _fs_write_file(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    path = _fs_path(params)
    encoded = _require_str(params, "dataBase64")
    if _fs_is_dir(conn.server, path):
        raise _RpcError(f"Is a directory (os error 21): {path}", code=-32603)
    try:
        conn.server.files[path] = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise _RpcError(f"invalid dataBase64: {exc}") from None
    await conn.respond(request_id, {})


@_handles("fs/createDirectory")
async def _fs_create_directory(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    server = conn.server
    path = _fs_path(params)
    parent = posixpath.dirname(path)
    if path in server.files:
        raise _RpcError(f"File exists (os error 17): {path}", code=-32603)
    if not params.get("recursive") and not _fs_is_dir(server, parent):
        raise _not_found(path)
    server.directories.add(path)
    await conn.respond(request_id, {})


@_handles("fs/getMetadata")
async def _fs_get_metadata(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    server = conn.server
    path = _fs_path(params)
    is_file = path in server.files
    if not is_file and not _fs_is_dir(server, path):
        raise _not_found(path)
    await conn.respond(
        request_id,
        {
            "isDirectory": not is_file,
            "isFile": is_file,
            "isSymlink": False,
            "createdAtMs": 0,
            "modifiedAtMs": _now_ms(),
        },
    )


@_handles("fs/readDirectory")
async def _fs_read_directory(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    server = conn.server
    path = _fs_path(params)
    if not _fs_is_dir(server, path):
        raise _not_found(path)
    entries = [
        {"fileName": name, "isDirectory": is_dir, "isFile": not is_dir}
        for name, is_dir in sorted(_fs_children(server, path).items())
    ]
    await conn.respond(request_id, {"entries": entries})


@_handles("fs/remove")
async def _fs_remove(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    server = conn.server
    path = _fs_path(params)
    if path in server.files:
        del server.files[path]
    elif _fs_is_dir(server, path):
        prefix = path.rstrip("/") + "/"
        if _fs_children(server, path) and not params.get("recursive"):
            raise _RpcError(f"Directory not empty (os error 39): {path}", code=-32603)
        server.files = {p: d for p, d in server.files.items() if not p.startswith(prefix)}
        server.directories = {
            d for d in server.directories if d != path and not d.startswith(prefix)
        }
    elif not params.get("force"):
        raise _not_found(path)
    await conn.respond(request_id, {})


@_handles("fs/copy")
async def _fs_copy(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    server = conn.server
    source = _fs_path(params, "sourcePath")
    destination = _fs_path(params, "destinationPath")
    if source in server.files:
        server.files[destination] = server.files[source]
    elif _fs_is_dir(server, source):
        if not params.get("recursive"):
            raise _RpcError(f"{source} is a directory; copy it with recursive: true")
        prefix = source.rstrip("/") + "/"
        server.directories.add(destination)
        for d in [d for d in server.directories if d.startswith(prefix)]:
            server.directories.add(destination + d[len(source) :])
        for p, data in list(server.files.items()):
            if p.startswith(prefix):
                server.files[destination + p[len(source) :]] = data
    else:
        raise _not_found(source)
    await conn.respond(request_id, {})


def _user_message_item(input_items: list[Any], client_id: Any) -> dict[str, Any]:
    content: list[Any] = []
    for entry in input_items:
        entry_dict = _dict(entry)
        if entry_dict.get("type") == "text":
            entry = {"text_elements": list[Any](), **entry_dict}
        content.append(entry)
    return {
        "type": "userMessage",
        "id": _new_id(),
        "clientId": client_id,
        "content": content,
    }


def _first_text(input_items: list[Any]) -> str:
    for entry in input_items:
        entry_dict = _dict(entry)
        if entry_dict.get("type") == "text":
            text = entry_dict.get("text")
            if isinstance(text, str):
                return text
    return ""


def _input_list(params: Mapping[str, Any]) -> list[Any]:
    value = _require(params, "input")
    if not isinstance(value, list):
        raise _RpcError(f"Invalid request: invalid type: {_describe(value)}, expected a sequence")
    return value  # pyright: ignore[reportUnknownVariableType]


@_handles("turn/start")
async def _turn_start(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread_id = _require_str(params, "threadId")
    input_items = _input_list(params)
    thread = conn.thread(thread_id)
    client_id = params.get("clientUserMessageId")
    active = thread.active
    if active is not None and not active.finishing:
        # Like the real server: a turn/start during an active turn steers into it.
        await conn.respond(request_id, {"turn": active.record.to_json()})
        await _steer_into(active, input_items, client_id)
        return
    server = conn.server
    script = server._take_script(thread.id)  # pyright: ignore[reportPrivateUsage]
    if script is None:
        script = (agent_message(DEFAULT_AGENT_TEXT),)
    before: list[Action] = []
    actions: list[Action] = []
    for a in script:
        if isinstance(a, BeforeResponse):
            before.extend(a.actions)
        else:
            actions.append(a)
    record = _TurnRecord(_new_id(), started_mono=time.monotonic())
    thread.turns.append(record)
    if not thread.preview:
        thread.preview = _first_text(input_items)
    thread.updated_at = int(time.time())
    active = _ActiveTurn(thread, record, conn, request_id, input_items, client_id)
    thread.active = active
    if not before:
        active.response_sent = True
        await conn.respond(request_id, {"turn": record.to_json()})
    assert conn.task_group is not None
    conn.task_group.start_soon(_run_turn, active, before, actions)


@_handles("turn/steer")
async def _turn_steer(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread_id = _require_str(params, "threadId")
    input_items = _input_list(params)
    expected = _require_str(params, "expectedTurnId")
    thread = conn.thread(thread_id)
    active = thread.active
    if active is None or active.finishing:
        raise _RpcError("no active turn to steer")
    if expected != active.record.id:
        raise _RpcError(f"expected active turn id `{expected}` but found `{active.record.id}`")
    await conn.respond(request_id, {"turnId": active.record.id})
    await _steer_into(active, input_items, params.get("clientUserMessageId"))


@_handles("turn/interrupt")
async def _turn_interrupt(conn: _Connection, request_id: Any, params: dict[str, Any]) -> None:
    thread = conn.thread(_require_str(params, "threadId"))
    turn_id = _require_str(params, "turnId")
    active = thread.active
    if active is None or active.finishing:
        raise _RpcError("no active turn to interrupt")
    if turn_id != active.record.id:
        raise _RpcError(f"expected active turn id `{turn_id}` but found `{active.record.id}`")
    active.interrupted = True
    await conn.respond(request_id, {})
    if active.scope is not None:
        active.scope.cancel()


async def _steer_into(active: _ActiveTurn, input_items: list[Any], client_id: Any) -> None:
    await _ensure_started(active)
    await _emit_item(active, _user_message_item(input_items, client_id))
    if active.stall_event is not None:
        active.stall_event.set()


# ------------------------------------------------------------------------------------------
# Running a turn


async def _status(active: _ActiveTurn, status: Any) -> None:
    active.thread.status = status
    await active.conn.notify(
        "thread/status/changed", {"threadId": active.thread.id, "status": status}
    )


async def _ensure_started(active: _ActiveTurn) -> None:
    if active.started_sent:
        return
    active.started_sent = True
    active.record.started_at = int(time.time())
    await _status(active, {"type": "active", "activeFlags": []})
    await active.conn.notify(
        "turn/started", {"threadId": active.thread.id, "turn": active.record.to_json()}
    )


async def _item_started(active: _ActiveTurn, item_obj: dict[str, Any]) -> int:
    started = _now_ms()
    item_obj.setdefault("startedAtMs", started)
    item_obj.setdefault("completedAtMs", None)
    await active.conn.notify(
        "item/started",
        {
            "item": item_obj,
            "threadId": active.thread.id,
            "turnId": active.record.id,
            "startedAtMs": item_obj["startedAtMs"],
        },
    )
    return started


async def _item_completed(active: _ActiveTurn, item_obj: dict[str, Any]) -> None:
    completed = _now_ms()
    item_obj["completedAtMs"] = completed
    item_obj.setdefault("startedAtMs", completed)
    record = active.record
    record.items.append(item_obj)
    record.item_times[str(item_obj.get("id"))] = (item_obj.get("startedAtMs"), completed)
    if item_obj.get("type") == "agentMessage":
        active.last_agent_message = item_obj
    await active.conn.notify(
        "item/completed",
        {
            "item": item_obj,
            "threadId": active.thread.id,
            "turnId": record.id,
            "contentTokenCount": None,
            "completedAtMs": completed,
        },
    )


async def _emit_item(active: _ActiveTurn, item_obj: dict[str, Any]) -> None:
    await _item_started(active, dict(item_obj))
    await _item_completed(active, dict(item_obj))


async def _turn_notify(active: _ActiveTurn, method: str, params: dict[str, Any]) -> None:
    await active.conn.notify(
        method, {"threadId": active.thread.id, "turnId": active.record.id, **params}
    )


async def _stall(active: _ActiveTurn, until: anyio.Event | None) -> None:
    server = active.conn.server
    event = anyio.Event()
    active.stall_event = event
    server.stalls += 1
    if server._pending_releases:  # pyright: ignore[reportPrivateUsage]
        server._pending_releases -= 1  # pyright: ignore[reportPrivateUsage]
        event.set()
    else:
        server._stalled.append(active)  # pyright: ignore[reportPrivateUsage]
    server._changed()  # pyright: ignore[reportPrivateUsage]
    try:
        if until is None:
            await event.wait()
        else:
            async with anyio.create_task_group() as tg:

                async def relay() -> None:
                    await until.wait()
                    event.set()

                tg.start_soon(relay)
                await event.wait()
                tg.cancel_scope.cancel()
    finally:
        active.stall_event = None
        if active in server._stalled:  # pyright: ignore[reportPrivateUsage]
            server._stalled.remove(active)  # pyright: ignore[reportPrivateUsage]


async def _server_request(
    active: _ActiveTurn, method: str, params: Any, *, scoped: bool = True, wait: bool = True
) -> _Pending:
    conn = active.conn
    request_id = conn.next_request_id
    conn.next_request_id += 1
    pending = _Pending(request_id, method, params, anyio.Event(), scoped, wait, active.thread.id)
    conn.pending[request_id] = pending
    if scoped and wait:
        active.pending[request_id] = pending
    await conn.send({"method": method, "id": request_id, "params": params})
    if not wait:
        return pending
    await pending.event.wait()
    active.pending.pop(request_id, None)
    if scoped:
        await conn.notify(
            "serverRequest/resolved", {"threadId": active.thread.id, "requestId": request_id}
        )
    return pending


def _decision_of(pending: _Pending) -> tuple[str, Any, Any]:
    """Classify a reply to an approval: ("accept"|"decline"|"cancel", decision, error)."""
    reply = pending.reply
    if reply is None or not reply.has_result:
        return "decline", None, reply.error if reply else None
    result = reply.result
    decision: Any = _dict(result).get("decision")
    if decision in ("accept", "acceptForSession") or _dict(decision):
        return "accept", decision, None
    if decision == "cancel":
        return "cancel", decision, None
    return "decline", decision, None


def _record_decision(active: _ActiveTurn, pending: _Pending, item_id: str) -> str:
    outcome, decision, error = _decision_of(pending)
    active.conn.server.decisions.append(
        ApprovalDecision(
            pending.method,
            pending.request_id,
            active.thread.id,
            active.record.id,
            item_id,
            decision,
            error,
        )
    )
    return outcome


def _command_item(active: _ActiveTurn, item_id: str, cmd: str, cwd: str | None) -> dict[str, Any]:
    return {
        "type": "commandExecution",
        "id": item_id,
        "pluginId": None,
        "scriptPath": None,
        "command": cmd,
        "cwd": cwd or active.thread.cwd,
        "processId": None,
        "source": "agent",
        "status": "inProgress",
        "commandActions": [{"type": "unknown", "command": cmd}],
        "aggregatedOutput": None,
        "exitCode": None,
        "durationMs": None,
    }


def _split_command(cmd: str) -> list[str]:
    try:
        return shlex.split(cmd)
    except ValueError:
        return cmd.split()


async def _perform(active: _ActiveTurn, action: Action) -> None:
    conn = active.conn
    server = conn.server
    if isinstance(action, TurnStarted):
        await _ensure_started(active)
    elif isinstance(action, AgentMessage):
        await _do_agent_message(active, action)
    elif isinstance(action, Reasoning):
        item_id = action.item_id or server._next("rs")  # pyright: ignore[reportPrivateUsage]
        base: dict[str, Any] = {"type": "reasoning", "id": item_id, "summary": [], "content": []}
        started = await _item_started(active, dict(base))
        for index, part in enumerate(action.summary):
            if index:
                await _turn_notify(
                    active,
                    "item/reasoning/summaryPartAdded",
                    {"itemId": item_id, "summaryIndex": index},
                )
            await _turn_notify(
                active,
                "item/reasoning/summaryTextDelta",
                {"itemId": item_id, "delta": part, "summaryIndex": index},
            )
        done = {**base, "summary": list(action.summary), "startedAtMs": started}
        await _item_completed(active, done)
    elif isinstance(action, Command):
        item_id = action.item_id or server._next("call")  # pyright: ignore[reportPrivateUsage]
        base = _command_item(active, item_id, action.command, action.cwd)
        started = await _item_started(active, dict(base))
        if action.output:
            await _turn_notify(
                active,
                "item/commandExecution/outputDelta",
                {"itemId": item_id, "delta": action.output},
            )
        await _item_completed(
            active,
            {
                **base,
                "processId": "4242",
                "status": "completed" if action.exit_code == 0 else "failed",
                "aggregatedOutput": action.output,
                "exitCode": action.exit_code,
                "durationMs": 0,
                "startedAtMs": started,
            },
        )
    elif isinstance(action, CommandApproval):
        await _do_command_approval(active, action)
    elif isinstance(action, FileChangeApproval):
        await _do_file_change_approval(active, action)
    elif isinstance(action, ServerRequest):
        params: dict[str, Any] = dict(action.params)
        if action.scoped:
            params = {"threadId": active.thread.id, "turnId": active.record.id, **params}
        await _server_request(active, action.method, params, scoped=action.scoped, wait=action.wait)
    elif isinstance(action, Notify):
        mapping = {"$threadId": active.thread.id, "$turnId": active.record.id}
        await conn.notify(action.method, _substitute(action.params, mapping))
    elif isinstance(action, Item):
        mapping = {"$threadId": active.thread.id, "$turnId": active.record.id}
        first: dict[str, Any] = _substitute(dict(action.item), mapping)
        first.setdefault("id", server._next("item"))  # pyright: ignore[reportPrivateUsage]
        last: dict[str, Any] = (
            _substitute(dict(action.completed), mapping) if action.completed else dict(first)
        )
        last.setdefault("id", first["id"])
        started = await _item_started(active, first)
        last.setdefault("startedAtMs", started)
        await _item_completed(active, last)
    elif isinstance(action, Stall):
        await _stall(active, action.until)
    elif isinstance(action, Fail):
        error = {
            "message": action.message,
            "codexErrorInfo": action.codex_error_info,
            "additionalDetails": action.additional_details,
            "misalignment": None,
        }
        await _status(active, {"type": "systemError"})
        await _turn_notify(active, "error", {"error": error, "willRetry": False})
        raise _EndTurn("failed", [], error)
    elif isinstance(action, RetryError):
        error = {
            "message": action.message,
            "codexErrorInfo": action.codex_error_info,
            "additionalDetails": None,
            "misalignment": None,
        }
        await _turn_notify(active, "error", {"error": error, "willRetry": True})
    elif isinstance(action, Disconnect):
        raise _Disconnected
    elif isinstance(action, ExitProcess):
        if server.process_exit is None:
            raise _Disconnected
        if action.stderr:
            text = action.stderr if action.stderr.endswith("\n") else action.stderr + "\n"
            os.write(2, text.encode())
        server.process_exit(action.code)
    elif isinstance(action, Garbage):
        await conn.send_raw(action.data)
    elif isinstance(action, Complete):
        items = [dict(i) for i in action.items] if action.items is not None else None
        raise _EndTurn(action.status, items)
    elif isinstance(action, BeforeResponse):
        for inner in action.actions:
            await _perform(active, inner)
    else:  # pragma: no cover - every Action subclass is handled above
        raise TypeError(f"unsupported action {action!r}")


async def _do_agent_message(active: _ActiveTurn, action: AgentMessage) -> None:
    server = active.conn.server
    item_id = action.item_id or server._next("msg")  # pyright: ignore[reportPrivateUsage]
    base = {
        "type": "agentMessage",
        "moderation": None,
        "id": item_id,
        "text": action.text,
        "phase": action.phase,
        "memoryCitation": None,
        "delivery": None,
        "questions": None,
    }
    if action.deltas is None:
        started = await _item_started(active, dict(base))
    else:
        started = await _item_started(active, {**base, "text": ""})
        for index, chunk in enumerate(action.deltas):
            if action.stall_after == index:
                await _stall(active, None)
            await _turn_notify(
                active, "item/agentMessage/delta", {"itemId": item_id, "delta": chunk}
            )
        if action.stall_after is not None and action.stall_after >= len(action.deltas):
            await _stall(active, None)
    await _item_completed(active, {**base, "startedAtMs": started})


async def _do_command_approval(active: _ActiveTurn, action: CommandApproval) -> None:
    server = active.conn.server
    item_id = action.item_id or server._next("call")  # pyright: ignore[reportPrivateUsage]
    base = _command_item(active, item_id, action.command, action.cwd)
    argv = _split_command(action.command)
    decisions: list[Any] = (
        list(action.available_decisions)
        if action.available_decisions is not None
        else ["accept", {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": argv}}, "cancel"]
    )
    await _status(active, {"type": "active", "activeFlags": ["waitingOnApproval"]})
    started = await _item_started(active, dict(base))
    params: dict[str, Any] = {
        "kind": "command",
        "threadId": active.thread.id,
        "turnId": active.record.id,
        "itemId": item_id,
        "startedAtMs": started,
        "environmentId": "local",
        "command": action.command,
        "cwd": base["cwd"],
        "commandActions": base["commandActions"],
        "proposedExecpolicyAmendment": argv,
        "availableDecisions": decisions,
    }
    if action.reason is not None:
        params["reason"] = action.reason
    pending = await _server_request(active, "item/commandExecution/requestApproval", params)
    outcome = _record_decision(active, pending, item_id)
    declined = {**base, "status": "declined", "startedAtMs": started}
    if outcome == "cancel":
        await _item_completed(active, declined)
        await _status(active, {"type": "active", "activeFlags": []})
        raise _EndTurn("interrupted")
    await _status(active, {"type": "active", "activeFlags": []})
    if outcome == "decline":
        await _item_completed(active, declined)
        return
    await _item_completed(
        active,
        {
            **base,
            "processId": "4242",
            "source": "unifiedExecStartup",
            "status": "completed" if action.exit_code == 0 else "failed",
            "aggregatedOutput": action.output,
            "exitCode": action.exit_code,
            "durationMs": 0,
            "startedAtMs": started,
        },
    )


async def _do_file_change_approval(active: _ActiveTurn, action: FileChangeApproval) -> None:
    server = active.conn.server
    item_id = action.item_id or server._next("call")  # pyright: ignore[reportPrivateUsage]
    kind: dict[str, Any] = {"type": action.change_kind}
    if action.change_kind == "update":
        kind["move_path"] = None
    base = {
        "type": "fileChange",
        "id": item_id,
        "changes": [{"path": action.path, "kind": kind, "diff": action.diff}],
        "status": "inProgress",
    }
    started = await _item_started(active, dict(base))
    await _status(active, {"type": "active", "activeFlags": ["waitingOnApproval"]})
    params = {
        "threadId": active.thread.id,
        "turnId": active.record.id,
        "itemId": item_id,
        "startedAtMs": started,
        "reason": action.reason,
        "grantRoot": action.grant_root,
    }
    pending = await _server_request(active, "item/fileChange/requestApproval", params)
    outcome = _record_decision(active, pending, item_id)
    declined = {**base, "status": "declined", "startedAtMs": started}
    if outcome == "cancel":
        await _item_completed(active, declined)
        await _status(active, {"type": "active", "activeFlags": []})
        raise _EndTurn("interrupted")
    await _status(active, {"type": "active", "activeFlags": []})
    if outcome == "decline":
        await _item_completed(active, declined)
        return
    await _item_completed(active, {**base, "status": "completed", "startedAtMs": started})


async def _run_turn(active: _ActiveTurn, before: list[Action], actions: list[Action]) -> None:
    conn = active.conn
    outcome: _EndTurn | None = None
    with anyio.CancelScope() as scope:
        active.scope = scope
        try:
            for a in before:
                await _perform(active, a)
            if not active.response_sent:
                active.response_sent = True
                await conn.respond(active.response_id, {"turn": active.record.to_json()})
            await _ensure_started(active)
            await _emit_item(active, _user_message_item(active.input, active.client_id))
            for a in actions:
                await _perform(active, a)
        except _EndTurn as end:
            outcome = end
        except _Disconnected:
            active.finishing = True
            await conn.disconnect()
            return
    if active.interrupted:
        outcome = _EndTurn("interrupted")
    await _finish(active, outcome)


async def _finish(active: _ActiveTurn, outcome: _EndTurn | None) -> None:
    conn = active.conn
    server = conn.server
    thread = active.thread
    record = active.record
    active.finishing = True
    if active.stall_event is not None:
        active.stall_event.set()
    if not active.response_sent:
        active.response_sent = True
        await conn.respond(active.response_id, {"turn": record.to_json()})
    await _ensure_started(active)
    for request_id in list(active.pending):
        active.pending.pop(request_id)
        await conn.notify(
            "serverRequest/resolved", {"threadId": thread.id, "requestId": request_id}
        )
    status = outcome.status if outcome else "completed"
    error = outcome.error if outcome else None
    if status == "completed":
        if outcome is not None and outcome.items is not None:
            summary: list[Any] = outcome.items
        else:
            last = active.last_agent_message
            summary = [last] if last is not None else []
        items_view = "summary"
        await _turn_notify(
            active,
            "thread/tokenUsage/updated",
            {
                "tokenUsage": {
                    "total": _zero_usage(),
                    "last": _zero_usage(),
                    "modelContextWindow": 258400,
                }
            },
        )
        if server.rate_limit_notifications:
            await conn.notify(
                "account/rateLimits/updated",
                {
                    "rateLimits": {
                        "limitId": "codex",
                        "limitName": None,
                        "primary": None,
                        "secondary": None,
                        "credits": None,
                        "planType": None,
                    }
                },
            )
    else:
        summary = outcome.items if outcome is not None and outcome.items else []
        items_view = "summary" if summary else "notLoaded"
    if status != "failed":
        await _status(active, {"type": "idle"})
    elif thread.status.get("type") != "systemError":
        await _status(active, {"type": "systemError"})
    record.status = status
    record.error = error
    record.completed_at = int(time.time())
    record.duration_ms = int((time.monotonic() - record.started_mono) * 1000)
    thread.updated_at = record.completed_at
    await conn.notify(
        "turn/completed", {"threadId": thread.id, "turn": record.to_json(summary, items_view)}
    )
    if thread.active is active:
        thread.active = None
    server.turns_completed += 1
    server._changed()  # pyright: ignore[reportPrivateUsage]


# ------------------------------------------------------------------------------------------
# Subprocess mode


class _StdioTransport:
    """Newline-delimited JSON over two file descriptors, without threads."""

    def __init__(self, read_fd: int = 0, write_fd: int = 1) -> None:
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._buffer = bytearray()
        self._eof = False
        self._closed = False
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)

    async def receive(self) -> bytes:
        while True:
            if self._closed:
                raise CodexTransportError("stdio transport closed")
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                line = line.rstrip(b"\r")
                if line.strip():
                    return line
                continue
            if self._eof:
                if self._buffer.strip():
                    line = bytes(self._buffer).rstrip(b"\r")
                    self._buffer.clear()
                    return line
                raise anyio.EndOfStream
            try:
                chunk = os.read(self._read_fd, 1 << 16)
            except BlockingIOError:
                await anyio.wait_readable(self._read_fd)
                continue
            if not chunk:
                self._eof = True
            else:
                self._buffer.extend(chunk)

    async def send(self, message: bytes) -> None:
        if self._closed:
            raise CodexTransportError("stdio transport closed")
        view = memoryview(message + b"\n")
        while view:
            try:
                written = os.write(self._write_fd, view)
            except BlockingIOError:
                await anyio.wait_writable(self._write_fd)
                continue
            except OSError as exc:
                raise CodexTransportError(f"cannot write to stdout: {exc}") from exc
            view = view[written:]

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.set_blocking(fd, True)


class _WebSocketTransport:
    """One websocket connection as a transport: one JSON message per text frame."""

    def __init__(self, websocket: ServerConnection) -> None:
        self._ws = websocket

    async def receive(self) -> bytes:
        from websockets.exceptions import ConnectionClosed

        while True:
            try:
                frame = await self._ws.recv()
            except ConnectionClosed:
                raise anyio.EndOfStream from None
            if isinstance(frame, bytes):
                log.error("ignoring a binary websocket frame")
                continue
            return frame.encode()

    async def send(self, message: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            # Bytes in a text frame, undecoded: a scripted garbage() message may be invalid
            # UTF-8 on purpose, and the client must be the one to notice.
            await self._ws.send(message, text=True)
        except ConnectionClosed as exc:
            raise CodexTransportError("websocket closed") from exc

    async def aclose(self) -> None:
        await self._ws.close()


async def _serve_stdio(server: FakeAppServer) -> None:
    transport = _StdioTransport(sys.stdin.fileno(), sys.stdout.fileno())
    await server.serve(transport)


async def _serve_ws(server: FakeAppServer, host: str, port: int) -> None:
    import signal
    from http import HTTPStatus

    from websockets.asyncio.server import serve

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if request.path in ("/readyz", "/healthz"):
            return connection.respond(HTTPStatus.OK, "ok\n")
        if "Origin" in request.headers:
            return connection.respond(HTTPStatus.FORBIDDEN, "Origin header not allowed\n")
        return None

    async def handler(websocket: ServerConnection) -> None:
        await server.serve(_WebSocketTransport(websocket))

    async with serve(
        handler,
        host,
        port,
        max_size=None,
        compression=None,
        ping_interval=None,
        process_request=process_request,
    ) as ws_server:
        bound = ws_server.sockets[0].getsockname()[1] if ws_server.sockets else port
        print(f"listening on: ws://{host}:{bound}", file=sys.stderr, flush=True)
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for _ in signals:
                break


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fake app-server as a process; see the module docstring. Returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m codex_app_server_client.testing.fake_server",
        description="A scriptable fake Codex app-server for tests.",
    )
    parser.add_argument("--listen", default="stdio://", help="stdio:// or ws://HOST:PORT")
    parser.add_argument("--script", help="JSON file: a list of turn scripts (lists of actions)")
    parser.add_argument("--user-agent", help="userAgent reported by initialize")
    parser.add_argument("--codex-home", default="/tmp/codex-fake-home")
    parser.add_argument(
        "--quiet-initialize",
        action="store_true",
        help="do not send configWarning / remoteControl/status/changed after initialize",
    )
    parser.add_argument("--backend", default="asyncio", choices=["asyncio", "trio"])
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(levelname)s fake-app-server: %(message)s"
    )
    server = FakeAppServer(
        user_agent=args.user_agent,
        codex_home=args.codex_home,
        post_initialize_notifications=not args.quiet_initialize,
    )
    # The process is the server here: a scripted crash ends it at once, with no cleanup,
    # exactly as a crashing codex would.
    server.process_exit = os._exit
    if args.script:
        server.load_script_file(args.script)
    listen: str = args.listen
    if listen == "stdio://":
        anyio.run(_serve_stdio, server, backend=args.backend)
        return 0
    if listen.startswith("ws://"):
        hostport = listen[len("ws://") :].rstrip("/")
        host, _, port_text = hostport.rpartition(":")
        if not host or not port_text.isdigit():
            parser.error(f"expected ws://HOST:PORT, got {listen!r}")
        anyio.run(_serve_ws, server, host.strip("[]"), int(port_text), backend="asyncio")
        return 0
    parser.error(f"unsupported --listen value {listen!r} (use stdio:// or ws://HOST:PORT)")
    return 2  # pragma: no cover - parser.error exits


if __name__ == "__main__":
    sys.exit(main())
