"""``codex-client`` in-process against the scripted fake app-server: output, --json, exit codes."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from codex_app_server_client._cli import run
from codex_app_server_client.testing import FakeAppServer
from codex_app_server_client.testing.fake_server import (
    agent_message,
    command,
    command_approval,
    fail,
    file_change_approval,
    reasoning,
    stall,
)

from .conftest import CliRun, TerminalInput, fake_cli

pytestmark = pytest.mark.anyio


def _closed_port() -> int:
    """A loopback port with nothing listening on it (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _chat(server: FakeAppServer, *argv: str, stdin: Any = None) -> CliRun:
    async with fake_cli(server) as (invoke, _):
        return await invoke("chat", *argv, stdin=stdin)


# -- chat: what it prints ---------------------------------------------------------------------


async def test_chat_prints_agent_text_commands_with_exit_codes_and_thinking() -> None:
    server = FakeAppServer()
    server.script_turn(
        reasoning("Look at the files first"),
        command("ls missing", exit_code=2, output="ls: missing: No such file\n"),
        agent_message("There is no such file.", deltas=3),
    )
    result = await _chat(server, "is there a file called missing?")
    assert result.code == 0, result.err
    assert result.lines == [
        "(thinking) Look at the files first",
        "$ ls missing  [exit 2]",
        "  | ls: missing: No such file",
        "There is no such file.",
    ]
    thread_id = server.thread_ids[0]
    assert f"turn completed on thread {thread_id}" in result.err
    assert f"codex-client chat --thread {thread_id}" in result.err


async def test_chat_shows_file_changes_with_their_paths() -> None:
    server = FakeAppServer()
    server.script_turn(file_change_approval("notes/todo.txt", diff="+buy milk\n"))
    result = await _chat(server, "write a todo", "--approve")
    assert result.code == 0, result.err
    assert "+ notes/todo.txt" in result.lines


async def test_chat_json_writes_only_json_lines_one_object_per_event() -> None:
    server = FakeAppServer()
    server.script_turn(command("true"), agent_message("Done.", phase="final_answer"))
    result = await _chat(server, "--json", "do it")
    assert result.code == 0, result.err
    events = result.events()  # every stdout line is a JSON object
    kinds = [e["type"] for e in events]
    assert kinds == ["turn_started", "step", "step", "step", "result"]
    thread_id, turn_id = events[0]["thread_id"], events[0]["turn_id"]
    assert thread_id == server.thread_ids[0]
    steps = result.of_type("step")
    assert [s["item_type"] for s in steps] == ["userMessage", "commandExecution", "agentMessage"]
    assert all(s["thread_id"] == thread_id and s["turn_id"] == turn_id for s in steps)
    assert steps[0]["text"] == "do it"
    assert steps[1]["item"]["exitCode"] == 0
    final = events[-1]
    assert final["status"] == "completed"
    assert final["final_text"] == "Done."
    assert final["exit_code"] == 0


async def test_chat_thread_option_continues_the_same_thread() -> None:
    server = FakeAppServer()
    server.script_turn(agent_message("first answer"))
    server.script_turn(agent_message("second answer"))
    async with fake_cli(server) as (invoke, _):
        first = await invoke("chat", "--json", "one")
        thread_id = first.of_type("result")[0]["thread_id"]
        second = await invoke("chat", "--json", "--thread", thread_id, "two")
    assert second.code == 0, second.err
    assert second.of_type("result")[0]["thread_id"] == thread_id
    assert second.of_type("result")[0]["final_text"] == "second answer"
    assert server.thread_ids == [thread_id]
    assert len(server.thread_turns(thread_id)) == 2


async def test_chat_passes_turn_options_to_turn_start() -> None:
    server = FakeAppServer()
    result = await _chat(
        server,
        "hi",
        "--model",
        "m-2",
        "--cwd",
        "/srv/project",
        "--approval-policy",
        "untrusted",
        "--sandbox",
        "workspace-write",
    )
    assert result.code == 0, result.err
    starts = [m for m in server.received if m.get("method") == "turn/start"]
    params = starts[0]["params"]
    assert params["model"] == "m-2"
    assert params["cwd"] == "/srv/project"
    assert params["approvalPolicy"] == "untrusted"
    assert params["sandboxPolicy"]["type"] == "workspaceWrite"


# -- chat: approvals ----------------------------------------------------------------------------


async def test_approve_flag_accepts_every_request_and_says_so() -> None:
    server = FakeAppServer()
    server.script_turn(command_approval("touch x", reason="make x"), agent_message("ok"))
    result = await _chat(server, "--json", "--approve", "make x")
    assert result.code == 0, result.err
    assert [d.decision for d in server.decisions] == ["accept"]
    (approval,) = result.of_type("approval")
    assert approval["kind"] == "command"
    assert approval["subject"] == "touch x"
    assert approval["reason"] == "make x"
    assert approval["decision"] == "accept"
    assert approval["decided_by"] == "flag"
    assert "approved run `touch x` (--approve)" in result.err


async def test_without_a_terminal_approvals_are_declined_and_stderr_says_so() -> None:
    server = FakeAppServer()
    server.script_turn(command_approval("rm -rf build"), agent_message("I could not."))
    result = await _chat(server, "clean up")
    assert result.code == 0, result.err
    assert [d.decision for d in server.decisions] == ["decline"]
    assert "declined run `rm -rf build`" in result.err
    assert "pass --approve" in result.err
    assert "$ rm -rf build  [declined]" in result.lines


@pytest.mark.parametrize(
    ("typed", "decision", "code"),
    [
        ("y\n", "accept", 0),
        ("n\n", "decline", 0),
        ("a\n", "acceptForSession", 0),
        ("c\n", "cancel", 5),
        ("perhaps\nyes\n", "accept", 0),
        ("", "decline", 0),
    ],
)
async def test_on_a_terminal_the_user_is_asked_yes_no_always_or_cancel(
    typed: str, decision: str, code: int
) -> None:
    server = FakeAppServer()
    server.script_turn(command_approval("make deploy", reason="ship it"), agent_message("done"))
    result = await _chat(server, "--json", "deploy", stdin=TerminalInput(typed))
    assert result.code == code, result.err
    assert [d.decision for d in server.decisions] == [decision]
    assert "? codex wants to run `make deploy`" in result.err
    assert "reason: ship it" in result.err
    assert "[y]es / [n]o / [a]lways this session / [c]ancel the turn" in result.err
    if typed.startswith("perhaps"):
        assert "please answer y, n, a or c" in result.err
    (approval,) = result.of_type("approval")
    assert approval["decided_by"] == "user"
    final = result.of_type("result")[0]
    assert final["status"] == ("interrupted" if decision == "cancel" else "completed")
    assert final["exit_code"] == code


async def test_a_file_change_prompt_names_the_paths() -> None:
    server = FakeAppServer()
    server.script_turn(file_change_approval("src/app.py", change_kind="add"))
    result = await _chat(server, "add it", stdin=TerminalInput("y\n"))
    assert result.code == 0, result.err
    assert "? codex wants to change files: src/app.py" in result.err
    assert [d.decision for d in server.decisions] == ["accept"]


# -- chat: failures -------------------------------------------------------------------------------


async def test_a_failed_turn_exits_4_with_the_servers_message() -> None:
    server = FakeAppServer()
    server.script_turn(fail("upstream exploded", codex_error_info="internalServerError"))
    result = await _chat(server, "--json", "hi")
    assert result.code == 4
    (error,) = result.of_type("error")
    assert error["kind"] == "turn_failed"
    assert error["message"] == "upstream exploded"
    assert error["error_info"] == "internalServerError"
    assert error["thread_id"] == server.thread_ids[0]
    assert error["exit_code"] == 4
    assert "codex-client: upstream exploded" in result.err
    assert [e["type"] for e in result.events()][-1] == "error"


async def test_a_silent_turn_exits_6_after_the_inactivity_timeout_and_is_interrupted() -> None:
    server = FakeAppServer()
    server.script_turn(stall())
    result = await _chat(server, "--inactivity-timeout", "0.2", "hi")
    assert result.code == 6
    assert "raise --inactivity-timeout" in result.err
    assert any(m.get("method") == "turn/interrupt" for m in server.received)


async def test_an_unreachable_websocket_exits_3_with_the_transport_error() -> None:
    url = f"ws://127.0.0.1:{_closed_port()}"
    out, err = io.StringIO(), io.StringIO()
    code = await run(["chat", "--url", url, "--json", "hi"], stdout=out, stderr=err)
    assert code == 3
    events = CliRun(code, out.getvalue(), err.getvalue()).events()
    assert [e["type"] for e in events] == ["error"]
    assert events[0]["kind"] == "connection"
    assert url in err.getvalue() or "127.0.0.1" in err.getvalue()


async def test_an_unknown_scheme_is_a_connection_error_naming_the_installed_ones() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = await run(["ping", "--url", "carrier-pigeon://coop"], stdout=out, stderr=err)
    assert code == 3
    assert "carrier-pigeon" in err.getvalue()


# -- usage ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["chat"],
        ["fly"],
        ["chat", "hi", "--timeout", "-1"],
        ["chat", "hi", "--approval-policy", "sometimes"],
        ["threads"],
        ["threads", "list", "--limit", "0"],
    ],
)
async def test_usage_errors_exit_2_with_the_usage_on_stderr(argv: list[str]) -> None:
    server = FakeAppServer()
    async with fake_cli(server) as (invoke, connector):
        result = await invoke(*argv)
    assert result.code == 2
    assert "usage: codex-client" in result.err
    assert result.out == ""
    assert connector.urls == []  # nothing was started


async def test_help_exits_0_and_documents_the_exit_codes() -> None:
    server = FakeAppServer()
    async with fake_cli(server) as (invoke, _):
        result = await invoke("--help")
    assert result.code == 0
    assert "7 not logged in" in result.out
    for name in ("chat", "threads", "models", "doctor", "ping", "transports"):
        assert name in result.out


# -- threads, models, ping, transports ------------------------------------------------------------


async def test_threads_list_and_read_show_what_chat_left_behind() -> None:
    server = FakeAppServer()
    server.script_turn(command("pytest -q", output="3 passed\n"), agent_message("All green."))
    async with fake_cli(server) as (invoke, _):
        chat = await invoke("chat", "run the tests")
        thread_id = server.thread_ids[0]
        listed = await invoke("threads", "list")
        listed_json = await invoke("threads", "list", "--json")
        read = await invoke("threads", "read", thread_id)
        read_json = await invoke("threads", "read", thread_id, "--json")
    assert chat.code == listed.code == listed_json.code == read.code == read_json.code == 0
    assert len(listed.lines) == 1
    assert listed.lines[0].startswith(thread_id)
    assert "run the tests" in listed.lines[0]
    assert [e["thread"]["id"] for e in listed_json.of_type("thread")] == [thread_id]
    assert read.lines[0].startswith(f"thread {thread_id}")
    assert "> run the tests" in read.lines
    assert "$ pytest -q  [exit 0]" in read.lines
    assert "All green." in read.lines
    (thread,) = read_json.events()
    assert thread["type"] == "thread"
    assert thread["thread"]["id"] == thread_id
    items = [i["type"] for t in thread["thread"]["turns"] for i in t["items"]]
    assert items == ["userMessage", "commandExecution", "agentMessage"]


async def test_threads_list_respects_the_limit_across_pages() -> None:
    server = FakeAppServer()
    async with fake_cli(server) as (invoke, _):
        for n in range(3):
            assert (await invoke("chat", f"question {n}")).code == 0
        limited = await invoke("threads", "list", "--limit", "2", "--json")
    assert len(limited.of_type("thread")) == 2


async def test_threads_list_says_when_there_are_none() -> None:
    async with fake_cli(FakeAppServer()) as (invoke, _):
        result = await invoke("threads", "list")
    assert result.code == 0
    assert result.out == ""
    assert "no threads yet" in result.err


async def test_reading_an_unknown_thread_exits_1_with_the_servers_error() -> None:
    async with fake_cli(FakeAppServer()) as (invoke, _):
        result = await invoke("threads", "read", "no-such-thread", "--json")
    assert result.code == 1
    (error,) = result.events()
    assert error["type"] == "error"
    assert error["kind"] == "server_error"
    assert "no-such-thread" in error["message"]


async def test_models_lists_each_model_and_marks_the_default() -> None:
    server = FakeAppServer(models=["model-a", "model-b"])
    async with fake_cli(server) as (invoke, _):
        text = await invoke("models")
        as_json = await invoke("models", "--json")
    assert text.code == as_json.code == 0
    assert text.lines == ["model-a  (default)", "model-b"]
    assert [e["model"]["id"] for e in as_json.of_type("model")] == ["model-a", "model-b"]


async def test_ping_prints_what_the_server_reports() -> None:
    server = FakeAppServer(codex_home="/home/me/.codex")
    async with fake_cli(server) as (invoke, connector):
        result = await invoke("ping", "--url", "ws://127.0.0.1:9", "--token", "s3cret")
    assert result.code == 0, result.err
    assert result.lines[0] == "connected to ws://127.0.0.1:9"
    assert "codexHome:   /home/me/.codex" in result.out
    assert connector.transport_options == [{"token": "s3cret"}]


async def test_transports_lists_the_installed_plugins() -> None:
    async with fake_cli(FakeAppServer()) as (invoke, _):
        text = await invoke("transports")
        as_json = await invoke("transports", "--json")
    assert any(line.startswith("stdio") and "stdio://" in line for line in text.lines)
    assert any(line.startswith("ws") and "wss://" in line for line in text.lines)
    names = {e["name"] for e in as_json.of_type("transport")}
    assert {"stdio", "ws"} <= names


# -- progress ---------------------------------------------------------------------------------


class _TerminalOutput(io.StringIO):
    """A stderr that claims to be a terminal and calls ``on_write`` with each write."""

    def __init__(self, on_write: Callable[[str], None]) -> None:
        super().__init__()
        self._on_write = on_write

    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> int:
        written = super().write(s)
        self._on_write(s)
        return written


@pytest.mark.parametrize("json_mode", [False, True])
async def test_on_a_terminal_a_spinner_turns_on_stderr_while_waiting_and_stdout_stays_clean(
    json_mode: bool,
) -> None:
    server = FakeAppServer()
    server.script_turn(command("make build", output="built\n"), stall(), agent_message("Built."))
    released: list[str] = []

    def on_write(chunk: str) -> None:
        # The turn is stalled after the command: once the spinner shows that wait, go on.
        if "working (" in chunk and not released:
            released.append(chunk)
            server.release()

    out, err = io.StringIO(), _TerminalOutput(on_write)
    argv = ["chat", "build it", *(["--json"] if json_mode else [])]
    async with fake_cli(server) as (_, connector):
        with anyio.fail_after(10):
            code = await run(argv, stdin=io.StringIO(""), stdout=out, stderr=err, connect=connector)
    assert code == 0, err.getvalue()
    assert released
    assert released[0].startswith("\r\x1b[K")
    assert "\r" not in out.getvalue()
    assert "working (" not in out.getvalue()
    assert err.getvalue().rstrip("\n").endswith('"..."')  # the hint line, spinner wiped
    if json_mode:
        result = CliRun(code, out.getvalue(), err.getvalue())
        assert result.events()[-1]["final_text"] == "Built."
    else:
        assert out.getvalue().splitlines()[-1] == "Built."


async def test_without_a_terminal_no_spinner_is_drawn() -> None:
    server = FakeAppServer()
    server.script_turn(command("make build"), agent_message("Built."))
    async with fake_cli(server) as (invoke, _):
        result = await invoke("chat", "build it")
    assert result.code == 0
    assert "\r" not in result.err
    assert "\x1b[" not in result.err
