"""Every script in ``examples/`` runs against the real codex binary and the fake model provider.

The scripts are found by glob, so a new example fails ``test_every_example_has_a_scenario``
until it gets a scenario here. Each scenario scripts the model's replies, runs the example as
``python examples/NAME.py ARGS`` in a fresh workspace with only ``CODEX_HOME`` pointing at the
offline configuration (exactly how a user points it at theirs), and checks what it printed
and what the model was asked.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest
from anyio.abc import ByteReceiveStream
from anyio.streams.text import TextReceiveStream

from codex_app_server_client.testing.codex_home import write_codex_home
from codex_app_server_client.testing.codex_ws import run_codex_ws_server
from codex_app_server_client.testing.fake_provider import (
    FakeResponsesProvider,
    Reply,
    reasoning,
    stall,
    text,
    tool_call,
)

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
EXAMPLES = sorted(path.stem for path in EXAMPLES_DIR.glob("*.py"))
RUN_LIMIT = 120.0  # seconds for one example run, codex start-up included


@dataclass
class Outcome:
    """What one run of an example left behind."""

    returncode: int
    lines: list[str]
    stderr: str
    provider: FakeResponsesProvider
    workspace: Path

    def line_matching(self, pattern: str) -> str:
        found = [line for line in self.lines if re.fullmatch(pattern, line)]
        assert found, f"no output line matches {pattern!r} in:\n" + "\n".join(self.lines)
        return found[0]


@dataclass(frozen=True)
class Scenario:
    """One run of an example: the model's replies, the arguments and what must come out.

    ``args`` may contain ``{ws_url}``: the scenario then starts a codex websocket server
    first and passes its URL. ``on_line`` sees each output line as it is printed, to act on
    the provider mid-run.
    """

    id: str
    replies: Callable[[], Sequence[Reply]]
    check: Callable[[Outcome], None]
    args: Sequence[str] = ()
    files: dict[str, str] = field(default_factory=dict[str, str])
    on_line: Callable[[str, FakeResponsesProvider], None] | None = None


# ---- what each example must do ------------------------------------------------------------


def _check_chat_once(out: Outcome) -> None:
    assert out.lines[0] == "It is a small test workspace."
    assert re.fullmatch(r"\(thread [0-9a-f-]{36}, turn completed\)", out.lines[1]), out.lines
    assert out.provider.requests[0].input_texts()[-1] == "What is this?"


def _check_streaming_chat(out: Outcome) -> None:
    lines = out.lines
    second = lines.index("> Which is the largest?")
    first_turn, second_turn = lines[:second], lines[second:]
    assert first_turn[:3] == [
        "> List the files",
        "  [userMessage] List the files",
        "  [reasoning] I will list the files.",
    ]
    assert re.fullmatch(r"  \[commandExecution\] \$ .*ls -1.*", first_turn[3]), first_turn
    assert "    notes.txt" in first_turn  # the command's real output, indented under it
    assert "  [agentMessage] There is one file: notes.txt." in first_turn
    assert re.fullmatch(r"  = completed, 4 steps, \d+ tokens so far", first_turn[-1])
    assert second_turn[1:3] == [
        "  [userMessage] Which is the largest?",
        "  [agentMessage] notes.txt, as it is the only one.",
    ]
    assert re.fullmatch(r"  = completed, 2 steps, \d+ tokens so far", second_turn[-1])
    # The second prompt went to the same thread: the model saw the whole conversation.
    last_request = out.provider.requests[-1]
    assert last_request.input_texts()[-2:] == ["List the files", "Which is the largest?"]


def _check_cancelled(out: Outcome) -> None:
    assert len(out.lines) == 4, out.lines
    assert re.fullmatch(r"no event for \d+\.\d s; waiting once more", out.lines[0])
    assert re.fullmatch(r"still quiet after \d+\.\d s; cancelling", out.lines[1])
    assert out.lines[2] == "turn interrupted (interrupt confirmed: True)"
    assert out.lines[3] == "  unseen [userMessage] Run the tests"
    assert len(out.provider.requests) == 1


def _release_when_waiting_again(line: str, provider: FakeResponsesProvider) -> None:
    if line.startswith("no event for"):
        provider.release()


def _check_resumed(out: Outcome) -> None:
    assert len(out.lines) == 2, out.lines
    assert re.fullmatch(r"no event for \d+\.\d s; waiting once more", out.lines[0])
    assert out.lines[1] == "All 12 tests pass."


def _check_approvals(out: Outcome) -> None:
    assert out.line_matching(r"approval: .*touch notes\.txt.* -> accept")
    assert out.line_matching(r"approval: .*rm -f notes\.txt.* -> decline")
    assert out.line_matching(r"command .*touch notes\.txt.*: completed")
    assert out.line_matching(r"command .*rm -f notes\.txt.*: declined")
    assert out.lines[-1] == "Created notes.txt; removing it was declined."
    assert (out.workspace / "notes.txt").exists()
    outputs = out.provider.requests[-1].function_call_outputs()
    assert "rejected" in outputs["call-rm"]


def _check_deferred_approval_decided(out: Outcome) -> None:
    assert out.line_matching(r"T1: approval needed to run .*touch notes\.txt.*")
    # Accepted about 2 s later, longer than the 1 s inactivity timeout: the clock did not run.
    waited = out.line_matching(r"T1: POST accept -> 200 after \d+\.\d s")
    assert float(waited.rsplit(" ", 2)[-2]) > 1.5
    assert out.line_matching(r"command .*touch notes\.txt.*: completed")
    assert out.lines[-1] == "Created notes.txt."
    assert (out.workspace / "notes.txt").exists()


def _check_deferred_approval_timed_out(out: Outcome) -> None:
    assert out.line_matching(r"T1: approval needed to run .*touch notes\.txt.*")
    assert "T1: closed without a decision; Codex is told no" in out.lines
    assert not any("POST accept" in line for line in out.lines), out.lines
    assert out.line_matching(r"command .*touch notes\.txt.*: declined")
    assert out.lines[-1] == "Nobody approved; notes.txt was not created."
    assert not (out.workspace / "notes.txt").exists()
    assert "rejected" in out.provider.requests[-1].function_call_outputs()["call-touch"]


def _check_raw_request(out: Outcome) -> None:
    assert out.lines[0].startswith("server: codex_app_server_client/"), out.lines
    assert out.line_matching(
        rf"thread/start -> [0-9a-f-]{{36}} \(cwd {re.escape(str(out.workspace))}\)"
    )
    assert "notification: thread/started" in out.lines
    assert "thread/read -> name 'raw demo'" in out.lines
    assert out.lines[-1].startswith("thread/read of an unknown id -> error -32600: ")
    assert out.provider.requests == []  # no model call: only thread methods


def _check_websocket_own_server(out: Outcome) -> None:
    url = out.line_matching(r"started codex app-server \(pid \d+\) on ws://127\.0\.0\.1:\d+")
    assert out.lines[-1] == f"{url.rsplit(' ', 1)[-1]} answered: Hello back over ws"


def _check_websocket_given_url(out: Outcome) -> None:
    assert len(out.lines) == 1, out.lines
    assert re.fullmatch(r"ws://127\.0\.0\.1:\d+ answered: Hello back over ws", out.lines[0])


def _check_blocking_chat(out: Outcome) -> None:
    assert out.lines == [
        "A notes file.",
        "[userMessage] Say that again, shorter.",
        "[agentMessage] Notes.",
    ]
    assert out.provider.requests[-1].input_texts()[-2:] == [
        "What is in this directory?",
        "Say that again, shorter.",
    ]


SCENARIOS: dict[str, list[Scenario]] = {
    "chat_once": [
        Scenario(
            "answers",
            lambda: [text("It is a small test workspace.")],
            _check_chat_once,
            args=["What is this?"],
        )
    ],
    "streaming_chat": [
        Scenario(
            "two-turns",
            lambda: [
                reasoning("I will list the files.", then=tool_call("ls -1", call_id="call-ls")),
                text("There is one file: notes.txt."),
                text("notes.txt, as it is the only one."),
            ],
            _check_streaming_chat,
            args=["List the files", "Which is the largest?"],
            files={"notes.txt": "remember the milk\n"},
        )
    ],
    "continuation_and_cancel": [
        Scenario(
            "cancelled",
            lambda: [stall()],
            _check_cancelled,
            args=["--inactivity-timeout", "2", "Run the tests"],
        ),
        Scenario(
            "resumed",
            lambda: [stall(then=text("All 12 tests pass."))],
            _check_resumed,
            args=["--inactivity-timeout", "2", "Run the tests"],
            on_line=_release_when_waiting_again,
        ),
    ],
    "approvals": [
        Scenario(
            "accept-and-decline",
            lambda: [
                tool_call("touch notes.txt", call_id="call-touch"),
                tool_call("rm -f notes.txt", call_id="call-rm"),
                text("Created notes.txt; removing it was declined."),
            ],
            _check_approvals,
        )
    ],
    "deferred_approval": [
        Scenario(
            "decided-later",
            lambda: [
                tool_call("touch notes.txt", call_id="call-touch"),
                text("Created notes.txt."),
            ],
            _check_deferred_approval_decided,
            args=["--reviewer-delay", "2", "--inactivity-timeout", "1", "Create notes.txt"],
        ),
        Scenario(
            "timed-out",
            lambda: [
                tool_call("touch notes.txt", call_id="call-touch"),
                text("Nobody approved; notes.txt was not created."),
            ],
            _check_deferred_approval_timed_out,
            args=["--reviewer-delay", "600", "--approval-timeout", "1", "Create notes.txt"],
        ),
    ],
    "raw_request": [Scenario("thread-methods", list, _check_raw_request)],
    "websocket": [
        Scenario(
            "own-server",
            lambda: [text("Hello back over ws")],
            _check_websocket_own_server,
            args=["Hello over ws"],
        ),
        Scenario(
            "given-url",
            lambda: [text("Hello back over ws")],
            _check_websocket_given_url,
            args=["--url", "{ws_url}", "Hello over ws"],
        ),
    ],
    "blocking_chat": [
        Scenario(
            "two-turns",
            lambda: [text("A notes file."), text("Notes.")],
            _check_blocking_chat,
        )
    ],
}


# ---- running them -------------------------------------------------------------------------


async def _run(
    example: str,
    scenario: Scenario,
    provider: FakeResponsesProvider,
    codex_env: dict[str, str],
    workspace: Path,
    ws_url: str | None,
) -> Outcome:
    args = [arg.replace("{ws_url}", ws_url or "") for arg in scenario.args]
    # Without PYTHONUNBUFFERED a piped child's stdout is block-buffered, as it is for a user
    # who pipes an example's output: a progress line is seen mid-run only if it is flushed.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    env.update(codex_env)
    stderr_path = workspace.parent / f"{example}-{scenario.id}.stderr"
    lines: list[str] = []
    with stderr_path.open("wb") as stderr:
        process = await anyio.open_process(
            [sys.executable, str(EXAMPLES_DIR / f"{example}.py"), *args],
            env=env,
            cwd=workspace,
            stdin=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            assert process.stdout is not None
            with anyio.fail_after(RUN_LIMIT):
                await _read_lines(process.stdout, lines, scenario, provider)
                await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                with anyio.CancelScope(shield=True):
                    await process.wait()
            await process.aclose()
    return Outcome(
        returncode=-1 if process.returncode is None else process.returncode,
        lines=lines,
        stderr=stderr_path.read_text(errors="replace"),
        provider=provider,
        workspace=workspace,
    )


async def _read_lines(
    stdout: ByteReceiveStream,
    lines: list[str],
    scenario: Scenario,
    provider: FakeResponsesProvider,
) -> None:
    pending = ""
    async for chunk in TextReceiveStream(stdout):
        pending += chunk
        *complete, pending = pending.split("\n")
        for line in complete:
            lines.append(line)
            if scenario.on_line is not None:
                scenario.on_line(line, provider)
    if pending:
        lines.append(pending)


def test_every_example_has_a_scenario() -> None:
    assert EXAMPLES, f"no examples found in {EXAMPLES_DIR}"
    missing = sorted(set(EXAMPLES) - set(SCENARIOS))
    assert not missing, f"examples without a scenario in {__file__}: {missing}"
    stale = sorted(set(SCENARIOS) - set(EXAMPLES))
    assert not stale, f"scenarios for examples that no longer exist: {stale}"


# The backend only drives this test's watch over the child; each example runs its own loop, so
# running every example once more under trio would test nothing new.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("example", EXAMPLES)
async def test_the_example_runs_against_the_real_binary_and_prints_what_it_should(
    example: str, tmp_path: Path
) -> None:
    if example not in SCENARIOS:
        pytest.fail(f"examples/{example}.py has no scenario in {__file__}; add one")
    for scenario in SCENARIOS[example]:
        # A fresh provider and an offline CODEX_HOME naming it, written before codex starts.
        with FakeResponsesProvider() as provider:
            env = write_codex_home(tmp_path / f"home-{scenario.id}", provider_url=provider.base_url)
            workspace = tmp_path / f"workspace-{scenario.id}"
            workspace.mkdir()
            for name, content in scenario.files.items():
                (workspace / name).write_text(content, encoding="utf-8")
            provider.enqueue(*scenario.replies())
            if "{ws_url}" in scenario.args:
                async with run_codex_ws_server(env=env, cwd=workspace) as server:
                    outcome = await _run(example, scenario, provider, env, workspace, server.url)
            else:
                outcome = await _run(example, scenario, provider, env, workspace, None)
        assert outcome.returncode == 0, (
            f"{example} [{scenario.id}] exited {outcome.returncode}\n"
            + "\n".join(outcome.lines)
            + f"\n--- stderr ---\n{outcome.stderr}"
        )
        scenario.check(outcome)


DOCS_SNIPPETS = Path(__file__).resolve().parents[2] / "docs" / "snippets"


def test_the_test_samples_in_the_docs_pass_as_a_users_suite(tmp_path: Path) -> None:
    """docs/testing.md and docs/transports.md include these files; run them as a user would."""
    suite = tmp_path / "user-project"
    (suite / "my_transport").mkdir(parents=True)
    (suite / "my_transport" / "__init__.py").write_text("", encoding="utf-8")
    (suite / "my_transport" / "_plugin.py").write_text(
        (DOCS_SNIPPETS / "fake_transport_plugin.py").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    samples = sorted(DOCS_SNIPPETS.glob("test_*.py"))
    assert len(samples) == 3, samples
    for sample in samples:
        (suite / sample.name).write_text(sample.read_text(encoding="utf-8"), encoding="utf-8")
    (suite / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "."],
        env={**os.environ, "PYTHONPATH": str(suite)},
        cwd=suite,
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Only "N passed in ...": a skipped or failed sample would add to that line.
    assert re.search(r"^\d+ passed in [\d.]+s", done.stdout, re.MULTILINE), done.stdout
