"""The ``codex-client`` console script against the real ``codex`` binary, offline.

Every run gets a CODEX_HOME written by the testing kit first: the only model provider is the
fake Responses API on 127.0.0.1, plugins and analytics are off. The "fresh machine" runs use
a CODEX_HOME with no model provider (so the stock OpenAI one, which needs a login) and with
plugins and analytics still off, so that codex never looks anything up on the internet.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import pytest

from codex_app_server_client.testing.codex_home import write_codex_home
from codex_app_server_client.testing.fake_provider import (
    FakeResponsesProvider,
    http_error,
    stall,
    text,
    tool_call,
)

from .conftest import CliRun, console_script

pytestmark = pytest.mark.e2e

TIMEOUT = 120


@pytest.fixture
def provider() -> Generator[FakeResponsesProvider]:
    with FakeResponsesProvider() as fake:
        yield fake


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
def codex_env(tmp_path: Path, provider: FakeResponsesProvider) -> dict[str, str]:
    return write_codex_home(tmp_path / "codex-home", provider_url=provider.base_url)


def fresh_codex_home(path: Path) -> dict[str, str]:
    """A CODEX_HOME like a fresh machine's (no login, the stock provider), but offline."""
    path.mkdir(parents=True)
    (path / "config.toml").write_text(
        "[features]\nplugins = false\n\n[analytics]\nenabled = false\n", encoding="utf-8"
    )
    return {"CODEX_HOME": str(path)}


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CODEX_CLIENT_TOKEN", "CODEX_HOME")}
    return {**env, **extra}


def cli(argv: Sequence[str], env: dict[str, str], cwd: Path) -> CliRun:
    """Run ``codex-client ARGV`` to its end (stdin is not a terminal)."""
    done = subprocess.run(
        [*console_script(), *argv],
        env=_env(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


# -- chat -----------------------------------------------------------------------------------------


def test_chat_streams_the_steps_of_a_real_turn_with_command_exit_codes(
    provider: FakeResponsesProvider, codex_env: dict[str, str], workspace: Path
) -> None:
    provider.enqueue(
        tool_call("sh -c 'echo checked; exit 3'", call_id="call-1"),
        text("The check failed with status 3."),
    )
    result = cli(["chat", "run the check"], codex_env, workspace)
    assert result.code == 0, result.err
    command_lines = [line for line in result.lines if line.startswith("$ ")]
    assert len(command_lines) == 1
    assert "echo checked; exit 3" in command_lines[0]
    assert command_lines[0].endswith("[exit 3]")
    assert "  | checked" in result.lines
    assert result.lines[-1] == "The check failed with status 3."
    assert "turn completed on thread " in result.err
    assert provider.requests[0].input_texts()[-1] == "run the check"


def test_chat_json_gives_one_json_object_per_event_and_the_thread_continues(
    provider: FakeResponsesProvider, codex_env: dict[str, str], workspace: Path
) -> None:
    provider.enqueue(text("Paris."), text("About two million people."))
    first = cli(["chat", "--json", "capital of France?"], codex_env, workspace)
    assert first.code == 0, first.err
    events = first.events()
    assert events[0]["type"] == "turn_started"
    assert events[-1]["type"] == "result"
    assert {e["type"] for e in events[1:-1]} == {"step"}
    steps = first.of_type("step")
    assert [s["item_type"] for s in steps] == ["userMessage", "agentMessage"]
    result = events[-1]
    assert result["final_text"] == "Paris."
    assert result["status"] == "completed"
    thread_id = result["thread_id"]

    second = cli(
        ["chat", "--json", "--thread", thread_id, "and its population?"], codex_env, workspace
    )
    assert second.code == 0, second.err
    assert second.of_type("result")[0]["thread_id"] == thread_id
    assert second.of_type("result")[0]["final_text"] == "About two million people."
    # The second model request carries the first exchange: the same thread, continued.
    history = provider.requests[1].input_texts()
    assert "capital of France?" in history
    assert history[-1] == "and its population?"


def test_approve_lets_the_command_run(
    provider: FakeResponsesProvider, codex_env: dict[str, str], workspace: Path
) -> None:
    provider.enqueue(tool_call("sh -c 'touch approved.txt'", call_id="call-1"), text("Done"))
    result = cli(
        [
            "chat",
            "--json",
            "--approve",
            "--approval-policy",
            "untrusted",
            "--sandbox",
            "workspace-write",
            "make the file",
        ],
        codex_env,
        workspace,
    )
    assert result.code == 0, result.err
    (approval,) = result.of_type("approval")
    assert approval["kind"] == "command"
    assert approval["decision"] == "accept"
    assert approval["decided_by"] == "flag"
    assert "touch approved.txt" in approval["subject"]
    commands = [s["item"] for s in result.of_type("step") if s["item_type"] == "commandExecution"]
    assert commands[0]["status"] == "completed", commands[0]
    assert commands[0]["exitCode"] == 0, commands[0]
    assert (workspace / "approved.txt").exists(), commands[0]


def test_without_approve_or_a_terminal_the_command_is_declined_and_stderr_says_why(
    provider: FakeResponsesProvider, codex_env: dict[str, str], workspace: Path
) -> None:
    provider.enqueue(tool_call("sh -c 'touch denied.txt'", call_id="call-1"), text("Declined."))
    result = cli(["chat", "--approval-policy", "untrusted", "make the file"], codex_env, workspace)
    assert result.code == 0, result.err
    assert not (workspace / "denied.txt").exists()
    assert "declined run `" in result.err
    assert "stdin is not a terminal" in result.err
    assert "pass --approve" in result.err
    command_lines = [line for line in result.lines if line.startswith("$ ")]
    assert command_lines[0].endswith("[declined]")
    assert "rejected by user" in provider.requests[1].function_call_outputs()["call-1"]


def test_a_failed_turn_exits_4_with_the_providers_error(
    provider: FakeResponsesProvider, codex_env: dict[str, str], workspace: Path
) -> None:
    provider.enqueue(http_error(500))
    result = cli(["chat", "--json", "hi"], codex_env, workspace)
    assert result.code == 4, result.err
    (error,) = result.of_type("error")
    assert error["kind"] == "turn_failed"
    assert error["error_info"] == "internalServerError"
    assert error["exit_code"] == 4


def test_ctrl_c_interrupts_the_running_turn_and_exits_130(
    provider: FakeResponsesProvider, codex_env: dict[str, str], workspace: Path
) -> None:
    provider.enqueue(stall())
    process = subprocess.Popen(
        [*console_script(), "chat", "--json", "--inactivity-timeout", "60", "wait for it"],
        env=_env(codex_env),
        cwd=workspace,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        seen: list[dict[str, Any]] = []
        # The turn is running once its user message step is out; then press Ctrl-C.
        for line in process.stdout:
            seen.append(json.loads(line))
            if seen[-1]["type"] == "step":
                break
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    events = [*seen, *(json.loads(line) for line in rest.splitlines())]
    final = events[-1]
    assert final["type"] == "interrupted"
    assert final["status"] == "interrupted"
    assert final["confirmed"] is True
    assert final["exit_code"] == 130
    assert "interrupted by Ctrl-C" in err


def test_chat_over_a_websocket_url(
    provider: FakeResponsesProvider, codex_env: dict[str, str], workspace: Path
) -> None:
    import anyio

    from codex_app_server_client.testing.codex_ws import run_codex_ws_server

    provider.enqueue(text("Hello over the socket."))
    results: list[CliRun] = []

    async def main() -> None:
        async with run_codex_ws_server(env=codex_env, cwd=workspace) as server:
            results.append(
                await anyio.to_thread.run_sync(
                    cli, ["chat", "--url", server.url, "hi"], codex_env, workspace
                )
            )
            results.append(
                await anyio.to_thread.run_sync(
                    cli, ["doctor", "--url", server.url, "--json"], codex_env, workspace
                )
            )

    anyio.run(main)
    chat, doctor = results
    assert chat.code == 0, chat.err
    assert chat.lines[-1] == "Hello over the socket."
    assert doctor.code == 0, doctor.out + doctor.err
    checks = {e["name"]: e["status"] for e in doctor.of_type("check")}
    assert checks == {"binary": "ok", "app-server": "ok", "server": "ok", "login": "ok"}


# -- threads and models ---------------------------------------------------------------------------


def test_threads_list_and_read_show_the_real_servers_threads(
    provider: FakeResponsesProvider, codex_env: dict[str, str], workspace: Path
) -> None:
    provider.enqueue(text("Forty-two."))
    chat = cli(["chat", "--json", "what is the answer?"], codex_env, workspace)
    assert chat.code == 0, chat.err
    thread_id = chat.of_type("result")[0]["thread_id"]

    listed = cli(["threads", "list"], codex_env, workspace)
    assert listed.code == 0, listed.err
    assert any(line.startswith(thread_id) for line in listed.lines)
    listed_json = cli(["threads", "list", "--json"], codex_env, workspace)
    assert thread_id in [e["thread"]["id"] for e in listed_json.of_type("thread")]

    read = cli(["threads", "read", thread_id], codex_env, workspace)
    assert read.code == 0, read.err
    assert read.lines[0].startswith(f"thread {thread_id}")
    assert "> what is the answer?" in read.lines
    assert "Forty-two." in read.lines
    read_json = cli(["threads", "read", thread_id, "--json"], codex_env, workspace)
    (thread,) = read_json.events()
    assert thread["thread"]["id"] == thread_id
    kinds = [i["type"] for t in thread["thread"]["turns"] for i in t["items"]]
    assert kinds == ["userMessage", "agentMessage"]

    missing = cli(["threads", "read", "00000000-0000-0000-0000-000000000000"], codex_env, workspace)
    assert missing.code == 1
    assert "codex-client: thread/read failed" in missing.err


def test_models_lists_what_the_real_server_offers(
    codex_env: dict[str, str], workspace: Path
) -> None:
    text_run = cli(["models"], codex_env, workspace)
    json_run = cli(["models", "--json"], codex_env, workspace)
    assert text_run.code == json_run.code == 0, text_run.err
    models = json_run.of_type("model")
    assert models, "the server listed no model"
    assert len(text_run.lines) == len(models)
    assert text_run.lines[0].startswith(models[0]["model"]["id"])


# -- doctor and the login -------------------------------------------------------------------------


def test_doctor_passes_with_the_offline_provider(
    codex_env: dict[str, str], workspace: Path
) -> None:
    result = cli(["doctor"], codex_env, workspace)
    assert result.code == 0, result.out + result.err
    assert [line[:16] for line in result.lines] == [
        "OK    binary    ",
        "OK    app-server",
        "OK    login     ",
    ]
    assert "codex-cli 0.163.0" in result.lines[0]
    assert "(codex 0.163.0, CODEX_HOME " in result.lines[1]
    assert result.lines[2].endswith(
        "no login needed: model provider 'mock' from the server's config"
    )


def test_on_a_fresh_machine_doctor_fails_the_login_check_with_what_to_do(
    tmp_path: Path, workspace: Path
) -> None:
    home = tmp_path / "fresh-home"
    env = fresh_codex_home(home)
    result = cli(["doctor"], env, workspace)
    assert result.code == 7, result.out + result.err
    assert result.lines[0].startswith("OK    binary")
    assert result.lines[1].startswith("OK    app-server")
    assert result.lines[2] == (
        "FAIL  login       not logged in, and the model provider 'openai' needs an OpenAI login"
    )
    fix = result.lines[3]
    assert fix.startswith("      fix: log in with `")
    assert " login` (ChatGPT account, opens a browser)" in fix
    assert "login --with-api-key" in fix
    assert f"{home}/config.toml" in fix
    as_json = cli(["doctor", "--json"], env, workspace)
    assert as_json.code == 7
    assert as_json.events()[-1] == {"type": "result", "ok": False, "exit_code": 7}


def test_chat_without_a_login_exits_7_before_any_turn_and_says_how_to_log_in(
    tmp_path: Path, workspace: Path
) -> None:
    env = fresh_codex_home(tmp_path / "fresh-home")
    result = cli(["chat", "--json", "hello"], env, workspace)
    assert result.code == 7, result.err
    (error,) = result.events()
    assert error["type"] == "error"
    assert error["kind"] == "not_logged_in"
    assert "login --with-api-key" in error["message"]
    assert "codex-client: not logged in" in result.err
