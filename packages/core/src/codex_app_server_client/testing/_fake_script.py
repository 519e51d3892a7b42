"""Turn-script actions for :class:`~codex_app_server_client.testing.FakeAppServer`.

A turn script is a sequence of small frozen dataclasses. Each one is a step the fake server
performs while a turn runs: stream an agent message, ask for an approval, stall, fail, and so
on. Every action converts to and from a plain JSON-compatible ``dict`` (``to_dict`` /
:func:`action_from_dict`), which is how the subprocess mode loads scripts from a file::

    [
      [{"action": "agent_message", "text": "hi", "deltas": ["h", "i"]}],
      [{"action": "command_approval", "command": "touch x"}, {"action": "stall"}]
    ]

Build actions with the helper functions (:func:`agent_message`, :func:`command_approval`, ...)
rather than with the classes directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

if TYPE_CHECKING:
    import anyio

__all__ = [
    "Action",
    "AgentMessage",
    "BeforeResponse",
    "Command",
    "CommandApproval",
    "Complete",
    "Disconnect",
    "ExitProcess",
    "Fail",
    "FileChangeApproval",
    "Garbage",
    "Item",
    "Notify",
    "Reasoning",
    "RetryError",
    "ServerRequest",
    "Stall",
    "TurnStarted",
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
    "notify",
    "reasoning",
    "retry_error",
    "server_request",
    "stall",
    "turn_started",
]

_REGISTRY: dict[str, type[Action]] = {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in cast("Sequence[Any]", value)]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in cast("Mapping[Any, Any]", value).items()}
    return value


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(cast("list[Any]", value))
    return value


@dataclass(frozen=True)
class Action:
    """Base class of every script action; see the helper functions for each kind."""

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _REGISTRY[cls.kind] = cls

    def to_dict(self) -> dict[str, Any]:
        """This action as a JSON-compatible dict with an ``"action"`` key naming its kind."""
        out: dict[str, Any] = {"action": self.kind}
        for f in dataclasses.fields(self):
            if not f.metadata.get("serialise", True):
                continue
            out[f.name] = _jsonable(getattr(self, f.name))
        return out

    @classmethod
    def _from_fields(cls, data: Mapping[str, Any]) -> Action:
        names = {f.name for f in dataclasses.fields(cls) if f.metadata.get("serialise", True)}
        unknown = set(data) - names - {"action"}
        if unknown:
            raise ValueError(f"unknown fields for action {cls.kind!r}: {sorted(unknown)}")
        kwargs = {k: _tupled(v) for k, v in data.items() if k != "action"}
        return cls(**kwargs)


def action_from_dict(data: Mapping[str, Any]) -> Action:
    """Rebuild an action from :meth:`Action.to_dict` output.

    Raises:
        ValueError: the ``"action"`` kind is unknown or a field is not recognised.
    """
    kind = data.get("action")
    cls = _REGISTRY.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown action kind {kind!r}; known: {sorted(_REGISTRY)}")
    return cls._from_fields(data)  # pyright: ignore[reportPrivateUsage]


def actions_from_json(scripts: Any) -> list[list[Action]]:
    """Parse a decoded script file: a list of turn scripts, each a list of action dicts."""
    if not isinstance(scripts, list):
        raise ValueError("a script file holds a JSON list of turn scripts")
    result: list[list[Action]] = []
    for turn in scripts:  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(turn, list):
            raise ValueError("each turn script is a JSON list of action objects")
        result.append([action_from_dict(a) for a in turn])  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    return result


# --------------------------------------------------------------------------------------------
# Action classes


@dataclass(frozen=True)
class AgentMessage(Action):
    """An ``agentMessage`` item; see :func:`agent_message`."""

    kind: ClassVar[str] = "agent_message"
    text: str
    phase: str | None = None
    deltas: tuple[str, ...] | None = None
    stall_after: int | None = None
    item_id: str | None = None


@dataclass(frozen=True)
class Reasoning(Action):
    """A ``reasoning`` item; see :func:`reasoning`."""

    kind: ClassVar[str] = "reasoning"
    summary: tuple[str, ...]
    item_id: str | None = None


@dataclass(frozen=True)
class Command(Action):
    """A ``commandExecution`` item that runs without approval; see :func:`command`."""

    kind: ClassVar[str] = "command"
    command: str
    exit_code: int = 0
    output: str = ""
    cwd: str | None = None
    item_id: str | None = None


@dataclass(frozen=True)
class CommandApproval(Action):
    """A command that needs approval; see :func:`command_approval`."""

    kind: ClassVar[str] = "command_approval"
    command: str
    reason: str | None = None
    available_decisions: tuple[Any, ...] | None = None
    exit_code: int = 0
    output: str = ""
    cwd: str | None = None
    item_id: str | None = None


@dataclass(frozen=True)
class FileChangeApproval(Action):
    """A file change that needs approval; see :func:`file_change_approval`."""

    kind: ClassVar[str] = "file_change_approval"
    path: str
    diff: str = ""
    change_kind: str = "add"
    reason: str | None = None
    grant_root: str | None = None
    item_id: str | None = None


@dataclass(frozen=True)
class ServerRequest(Action):
    """Any server-to-client request; see :func:`server_request`."""

    kind: ClassVar[str] = "server_request"
    method: str
    params: Mapping[str, Any] = field(default_factory=dict[str, Any])
    scoped: bool = True
    wait: bool = True


@dataclass(frozen=True)
class Notify(Action):
    """An arbitrary notification; see :func:`notify`."""

    kind: ClassVar[str] = "notify"
    method: str
    params: Any = None


@dataclass(frozen=True)
class Item(Action):
    """An arbitrary item started then completed; see :func:`item`."""

    kind: ClassVar[str] = "item"
    item: Mapping[str, Any]
    completed: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Stall(Action):
    """Stop sending until interrupted, steered or released; see :func:`stall`."""

    kind: ClassVar[str] = "stall"
    until: anyio.Event | None = field(
        default=None, compare=False, repr=False, metadata={"serialise": False}
    )


@dataclass(frozen=True)
class Fail(Action):
    """End the turn ``failed``; see :func:`fail`."""

    kind: ClassVar[str] = "fail"
    message: str = (
        "We\u2019re currently experiencing high demand, which may cause temporary errors."
    )
    codex_error_info: Any = "internalServerError"
    additional_details: str | None = None


@dataclass(frozen=True)
class RetryError(Action):
    """An ``error`` notification with ``willRetry: true``; see :func:`retry_error`."""

    kind: ClassVar[str] = "retry_error"
    message: str = "Reconnecting... 1/5"
    codex_error_info: Any = None


@dataclass(frozen=True)
class TurnStarted(Action):
    """Send ``thread/status/changed`` active and ``turn/started`` now; see :func:`turn_started`."""

    kind: ClassVar[str] = "turn_started"


@dataclass(frozen=True)
class BeforeResponse(Action):
    """Actions run before the ``turn/start`` response; see :func:`before_response`."""

    kind: ClassVar[str] = "before_response"
    actions: tuple[Action, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.kind, "actions": [a.to_dict() for a in self.actions]}

    @classmethod
    def _from_fields(cls, data: Mapping[str, Any]) -> Action:
        raw: Any = data.get("actions", [])
        if not isinstance(raw, list):
            raise ValueError("before_response.actions must be a list")
        return cls(tuple(action_from_dict(a) for a in raw))  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]


@dataclass(frozen=True)
class Disconnect(Action):
    """Close the connection mid-turn; see :func:`disconnect`."""

    kind: ClassVar[str] = "disconnect"


@dataclass(frozen=True)
class ExitProcess(Action):
    """End the fake's whole process mid-turn; see :func:`exit_process`."""

    kind: ClassVar[str] = "exit_process"
    code: int = 1
    stderr: str = ""


@dataclass(frozen=True)
class Garbage(Action):
    """Send raw bytes as one message; see :func:`garbage`."""

    kind: ClassVar[str] = "garbage"
    data: bytes = b"{this is not json"

    def to_dict(self) -> dict[str, Any]:
        # latin-1 maps every byte to one code point, so the round trip is lossless.
        return {"action": self.kind, "data": self.data.decode("latin-1")}

    @classmethod
    def _from_fields(cls, data: Mapping[str, Any]) -> Action:
        raw = data.get("data", "")
        return cls(raw.encode("latin-1") if isinstance(raw, str) else bytes(raw))


@dataclass(frozen=True)
class Complete(Action):
    """End the turn explicitly; see :func:`complete`."""

    kind: ClassVar[str] = "complete"
    status: str = "completed"
    items: tuple[Mapping[str, Any], ...] | None = None


# --------------------------------------------------------------------------------------------
# Helper constructors (the public way to build scripts)


def agent_message(
    text: str,
    *,
    phase: str | None = None,
    deltas: Sequence[str] | int | None = None,
    stall_after: int | None = None,
    item_id: str | None = None,
) -> AgentMessage:
    """An ``agentMessage`` item.

    Without ``deltas`` the ``item/started`` already holds the full text (what the real server
    does when the model streamed none). With ``deltas`` the item starts with text ``""``, then
    one ``item/agentMessage/delta`` per chunk, then ``item/completed`` with the full ``text``.

    Args:
        text: the final text.
        phase: ``"commentary"``, ``"final_answer"``, ... or ``None``.
        deltas: the chunks, or a number of roughly equal chunks to cut ``text`` into.
        stall_after: stall after this many deltas, like a model stream that hangs; an
            interrupt then ends the turn and the item never gets ``item/completed``.
        item_id: a fixed item id (default: generated).
    """
    chunks: tuple[str, ...] | None
    if isinstance(deltas, int):
        n = max(1, deltas)
        size = max(1, -(-len(text) // n))
        chunks = tuple(text[i : i + size] for i in range(0, len(text), size)) or ("",)
    elif deltas is None:
        chunks = None
    else:
        chunks = tuple(deltas)
    if stall_after is not None and chunks is None:
        chunks = (text,)
    return AgentMessage(text, phase, chunks, stall_after, item_id)


def reasoning(summary: str | Iterable[str], *, item_id: str | None = None) -> Reasoning:
    """A ``reasoning`` item: started empty, one ``summaryTextDelta`` per part, completed."""
    parts = (summary,) if isinstance(summary, str) else tuple(summary)
    return Reasoning(parts, item_id)


def command(
    command: str,
    *,
    exit_code: int = 0,
    output: str = "",
    cwd: str | None = None,
    item_id: str | None = None,
) -> Command:
    """A ``commandExecution`` item, ``inProgress`` then ``completed`` (``failed`` if the exit
    code is not 0), with an ``item/commandExecution/outputDelta`` when there is output."""
    return Command(command, exit_code, output, cwd, item_id)


def command_approval(
    command: str,
    *,
    reason: str | None = None,
    available_decisions: Sequence[Any] | None = None,
    exit_code: int = 0,
    output: str = "",
    cwd: str | None = None,
    item_id: str | None = None,
) -> CommandApproval:
    """A command that asks ``item/commandExecution/requestApproval`` before it runs.

    Order, as on the real server: ``thread/status/changed`` (``waitingOnApproval``),
    ``item/started``, the request, the client's reply, ``serverRequest/resolved``,
    ``thread/status/changed`` (no flags), ``item/completed``. ``accept`` /
    ``acceptForSession`` / amendment decisions complete the item, ``decline`` (or a JSON-RPC
    error reply) ends it ``declined`` and the turn goes on, ``cancel`` ends it ``declined``
    and the turn ``interrupted``. Every reply is recorded in ``FakeAppServer.decisions``.
    """
    decisions = tuple(available_decisions) if available_decisions is not None else None
    return CommandApproval(command, reason, decisions, exit_code, output, cwd, item_id)


def file_change_approval(
    path: str,
    *,
    diff: str = "",
    change_kind: str = "add",
    reason: str | None = None,
    grant_root: str | None = None,
    item_id: str | None = None,
) -> FileChangeApproval:
    """A ``fileChange`` item that asks ``item/fileChange/requestApproval``; outcomes as for
    :func:`command_approval`."""
    return FileChangeApproval(path, diff, change_kind, reason, grant_root, item_id)


def server_request(
    method: str,
    params: Mapping[str, Any] | None = None,
    *,
    scoped: bool = True,
    wait: bool = True,
) -> ServerRequest:
    """Any server-to-client request (``item/tool/requestUserInput``,
    ``mcpServer/elicitation/request``, an unknown method, ...).

    The reply (result or error) is recorded in ``FakeAppServer.replies``.

    Args:
        params: the request's params.
        scoped: add ``threadId`` and ``turnId`` (unless present) and send
            ``serverRequest/resolved`` once answered.
        wait: wait for the reply before the next action (otherwise it is recorded whenever
            it arrives).
    """
    return ServerRequest(method, dict(params or {}), scoped, wait)


def notify(method: str, params: Any = None) -> Notify:
    """An arbitrary notification. String values ``"$threadId"`` and ``"$turnId"`` anywhere
    in ``params`` are replaced with the running turn's ids."""
    return Notify(method, params if params is not None else {})


def item(item: Mapping[str, Any], *, completed: Mapping[str, Any] | None = None) -> Item:
    """Any item (also an unknown ``type``): ``item/started`` with ``item``, then
    ``item/completed`` with ``completed`` (default: the same item). An ``id`` is added when
    missing."""
    return Item(dict(item), dict(completed) if completed is not None else None)


def stall(until: anyio.Event | None = None) -> Stall:
    """Stop sending until the turn is interrupted (``turn/interrupt``) or steered, until
    ``FakeAppServer.release()`` is called, or until ``until`` is set.

    ``await FakeAppServer.wait_stalled()`` returns once a turn reaches the stall.
    """
    return Stall(until)


def fail(message: str | None = None, codex_error_info: Any = "internalServerError") -> Fail:
    """End the turn ``failed``, like an upstream HTTP error without retries:
    ``thread/status/changed`` ``systemError``, ``error`` (``willRetry: false``), then
    ``turn/completed`` with ``status: "failed"`` and the error. ``codex_error_info`` may be a
    string (``"other"``) or an object (``{"httpConnectionFailed": {"httpStatusCode": 401}}``).
    """
    if message is None:
        return Fail(codex_error_info=codex_error_info)
    return Fail(message, codex_error_info)


def retry_error(message: str = "Reconnecting... 1/5", codex_error_info: Any = None) -> RetryError:
    """An ``error`` notification with ``willRetry: true``; the turn continues."""
    return RetryError(message, codex_error_info)


def turn_started() -> TurnStarted:
    """Send ``thread/status/changed`` (active) and ``turn/started`` at this point.

    Only useful inside :func:`before_response`, to put ``turn/started`` before the
    ``turn/start`` response, which the real server sometimes does.
    """
    return TurnStarted()


def before_response(*actions: Action) -> BeforeResponse:
    """Run ``actions`` before the ``turn/start`` response is sent.

    The real server sends a ``warning`` this early, and sometimes ``turn/started``: write
    ``before_response(notify("warning", {...}), turn_started())``. Items placed here come
    before ``turn/started`` unless :func:`turn_started` precedes them.
    """
    return BeforeResponse(tuple(actions))


def disconnect() -> Disconnect:
    """Close the transport mid-turn; ``serve`` then returns."""
    return Disconnect()


def exit_process(code: int = 1, stderr: str = "") -> ExitProcess:
    """End the fake's process at once with exit status ``code``, after writing ``stderr``.

    This is how a crashing server looks to a client: no goodbye, no answer to anything still
    pending, the exit code and the last stderr lines as the only explanation. Only a fake run
    as a process (``python -m ...fake_server``) can exit; an in-process fake, which must not
    end the test's own process, closes the connection instead, like :func:`disconnect`.
    """
    return ExitProcess(code, stderr)


def garbage(data: bytes | str = b"{this is not json") -> Garbage:
    """Send ``data`` as one raw message (malformed JSON, a JSON array, ...)."""
    return Garbage(data.encode() if isinstance(data, str) else data)


def complete(
    status: str = "completed", items: Sequence[Mapping[str, Any]] | None = None
) -> Complete:
    """End the turn now with ``status`` (``completed``, ``interrupted`` or ``failed``).

    ``items`` replaces the ``turn/completed`` summary (default: the last completed agent
    message for ``completed``, nothing otherwise). Without this action a script ends with a
    normal completion after its last action.
    """
    return Complete(status, tuple(dict(i) for i in items) if items is not None else None)
