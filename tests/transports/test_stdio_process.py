"""How the stdio transport runs its child process: output framing, exits, stderr, shutdown.

Each test runs a tiny Python program as a stand-in for ``codex app-server``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest

from codex_app_server_client.errors import CodexTransportError
from codex_app_server_client_stdio import StdioTransport, open_stdio

WAIT = 10.0


def python(code: str) -> list[str]:
    """The argv that runs ``code`` with this interpreter."""
    return [sys.executable, "-c", textwrap.dedent(code)]


def options(code: str, **extra: Any) -> Mapping[str, Any]:
    return {"command": python(code), **extra}


def assert_reaped(pid: int) -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@pytest.mark.anyio
async def test_lines_end_with_lf_or_crlf_and_blank_lines_are_skipped() -> None:
    code = r"""
        import sys
        sys.stdout.buffer.write(b'{"a":1}\r\n\r\n\n  \n{"b":2}\n{"c":3}')
    """
    async with open_stdio("stdio://", options(code)) as transport:
        with anyio.fail_after(WAIT):
            assert await transport.receive() == b'{"a":1}'
            assert await transport.receive() == b'{"b":2}'
            # An unterminated last line still arrives when the server ends cleanly.
            assert await transport.receive() == b'{"c":3}'
            with pytest.raises(anyio.EndOfStream):
                await transport.receive()
            with pytest.raises(anyio.EndOfStream):
                await transport.receive()


@pytest.mark.anyio
async def test_send_eof_lets_the_server_finish_and_exit_cleanly() -> None:
    code = """
        import sys
        lines = sys.stdin.buffer.read().splitlines()
        print(f'{{"got":{len(lines)}}}', flush=True)
    """
    async with open_stdio("stdio://", options(code)) as transport:
        with anyio.fail_after(WAIT):
            await transport.send(b'{"n":1}')
            await transport.send(b'{"n":2}')
            await transport.send_eof()
            await transport.send_eof()
            assert await transport.receive() == b'{"got":2}'
            with pytest.raises(anyio.EndOfStream):
                await transport.receive()
            with pytest.raises(CodexTransportError, match="send_eof"):
                await transport.send(b'{"n":3}')
    assert transport.returncode == 0


@pytest.mark.anyio
async def test_a_server_that_exits_non_zero_fails_receive_with_its_exit_code_and_stderr() -> None:
    code = """
        import sys
        sys.stderr.write("fatal: config is broken\\n")
        sys.exit(3)
    """
    async with open_stdio("stdio://", options(code)) as transport:
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError) as caught:
            await transport.receive()
        assert "exited with code 3" in str(caught.value)
        assert caught.value.stderr_tail == "fatal: config is broken"
        assert "fatal: config is broken" in str(caught.value)
        # The failure is sticky.
        with anyio.fail_after(WAIT), pytest.raises(CodexTransportError, match="code 3"):
            await transport.receive()


@pytest.mark.anyio
async def test_killing_the_server_fails_a_waiting_receive_with_its_stderr_tail() -> None:
    code = """
        import sys, time
        sys.stderr.write("server log: working\\n")
        sys.stderr.flush()
        print('{"ready":true}', flush=True)
        time.sleep(60)
    """
    async with open_stdio("stdio://", options(code)) as transport:
        with anyio.fail_after(WAIT):
            assert await transport.receive() == b'{"ready":true}'
        failures: list[CodexTransportError] = []

        async def receive_until_failure() -> None:
            with pytest.raises(CodexTransportError) as caught:
                await transport.receive()
            failures.append(caught.value)

        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(receive_until_failure)
                await anyio.wait_all_tasks_blocked()
                os.kill(transport.pid, signal.SIGKILL)
        [failure] = failures
        assert "SIGKILL" in str(failure)
        assert failure.stderr_tail == "server log: working"
        assert transport.returncode == -signal.SIGKILL


@pytest.mark.anyio
async def test_sending_to_a_server_that_has_exited_raises_transport_error() -> None:
    code = """
        import sys
        sys.stderr.write("bye\\n")
    """
    async with open_stdio("stdio://", options(code)) as transport:
        with anyio.fail_after(WAIT):
            with pytest.raises(anyio.EndOfStream):
                await transport.receive()

            async def send_until_refused() -> None:
                # A pipe may accept a first write before the closed reader is noticed.
                for _ in range(100):
                    await transport.send(b'{"late":true}')

            with pytest.raises(CodexTransportError, match="exited with code 0") as caught:
                await send_until_refused()
            assert caught.value.stderr_tail == "bye"


@pytest.mark.anyio
async def test_the_stderr_tail_keeps_only_the_most_recent_output() -> None:
    code = """
        import sys
        for i in range(2000):
            sys.stderr.write(f"log line {i:04d}\\n")
    """
    async with open_stdio("stdio://", options(code, stderr_tail_bytes=200)) as transport:
        with anyio.fail_after(WAIT), pytest.raises(anyio.EndOfStream):
            await transport.receive()
        tail = transport.stderr_tail()
    assert len(tail.encode()) <= 200
    assert tail.endswith("log line 1999")
    assert "log line 0000" not in tail
    # The tail starts at a whole line.
    assert tail.startswith("log line ")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "written",
    [
        pytest.param(b"x" * 5000 + b"\n", id="complete-line"),
        pytest.param(b"x" * 5000, id="line-still-arriving"),
    ],
)
async def test_a_line_over_max_message_bytes_fails_with_a_clear_error(written: bytes) -> None:
    code = f"""
        import sys, time
        sys.stdout.buffer.write(b'{{"small":1}}\\n' + {written!r})
        sys.stdout.flush()
        time.sleep(60)
    """
    async with open_stdio(
        "stdio://", options(code, max_message_bytes=1000, close_grace=0)
    ) as transport:
        with anyio.fail_after(WAIT):
            assert await transport.receive() == b'{"small":1}'
            with pytest.raises(CodexTransportError) as caught:
                await transport.receive()
            message = str(caught.value)
            assert "max_message_bytes=1000" in message
            assert "larger max_message_bytes" in message
            with pytest.raises(CodexTransportError, match="max_message_bytes"):
                await transport.receive()


@pytest.mark.anyio
async def test_env_is_merged_over_the_inherited_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STDIO_TEST_INHERITED", "from-parent")
    monkeypatch.setenv("STDIO_TEST_REMOVED", "should-vanish")
    code = """
        import json, os
        names = ["STDIO_TEST_INHERITED", "STDIO_TEST_ADDED", "STDIO_TEST_REMOVED"]
        print(json.dumps({n: os.environ.get(n) for n in names}), flush=True)
    """
    env = {"STDIO_TEST_ADDED": "from-option", "STDIO_TEST_REMOVED": None}
    async with open_stdio("stdio://", options(code, env=env)) as transport:
        with anyio.fail_after(WAIT):
            seen = json.loads(await transport.receive())
    assert seen == {
        "STDIO_TEST_INHERITED": "from-parent",
        "STDIO_TEST_ADDED": "from-option",
        "STDIO_TEST_REMOVED": None,
    }


@pytest.mark.anyio
async def test_cwd_sets_the_server_working_directory(tmp_path: Path) -> None:
    code = """
        import json, os
        print(json.dumps(os.getcwd()), flush=True)
    """
    async with open_stdio("stdio://", options(code, cwd=tmp_path)) as transport:
        with anyio.fail_after(WAIT):
            seen = json.loads(await transport.receive())
    assert await anyio.Path(seen).resolve() == await anyio.Path(tmp_path).resolve()


@pytest.mark.anyio
async def test_shell_metacharacters_in_the_command_are_passed_literally(tmp_path: Path) -> None:
    literal = ["$(touch pwned)", "a; touch pwned", "| cat", "*", "`touch pwned`", "> pwned"]
    code = """
        import json, sys
        print(json.dumps(sys.argv[1:]), flush=True)
    """
    command = [*python(code), *literal]
    async with open_stdio("stdio://", {"command": command, "cwd": tmp_path}) as transport:
        with anyio.fail_after(WAIT):
            assert json.loads(await transport.receive()) == literal
    assert [entry async for entry in anyio.Path(tmp_path).iterdir()] == []


@pytest.mark.anyio
async def test_close_reaps_a_server_that_exits_when_its_stdin_closes() -> None:
    code = """
        import sys
        print('{"ready":true}', flush=True)
        sys.stdin.read()
    """
    async with open_stdio("stdio://", options(code)) as transport:
        with anyio.fail_after(WAIT):
            assert await transport.receive() == b'{"ready":true}'
            await transport.aclose()
        assert transport.returncode == 0
        assert_reaped(transport.pid)
        assert not await anyio.Path(f"/proc/{transport.pid}").exists()


@pytest.mark.anyio
async def test_close_is_bounded_when_the_server_ignores_sigterm_and_stdin() -> None:
    code = """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('{"ready":true}', flush=True)
        while True:
            time.sleep(60)
    """
    opts = options(code, close_grace=0.1, terminate_timeout=0.1)
    async with open_stdio("stdio://", opts) as transport:
        with anyio.fail_after(WAIT):
            # Once this line arrives the SIGTERM handler is in place.
            assert await transport.receive() == b'{"ready":true}'
            await transport.aclose()
        assert transport.returncode == -signal.SIGKILL
        assert_reaped(transport.pid)


@pytest.mark.anyio
async def test_close_finishes_even_inside_a_cancelled_scope() -> None:
    code = """
        import time
        print('{"ready":true}', flush=True)
        time.sleep(60)
    """
    opts = options(code, close_grace=0.1, terminate_timeout=1)
    async with open_stdio("stdio://", opts) as transport:
        with anyio.fail_after(WAIT):
            assert await transport.receive() == b'{"ready":true}'
        with anyio.fail_after(WAIT), anyio.CancelScope() as scope:
            scope.cancel()
            await transport.aclose()
        assert transport.returncode == -signal.SIGTERM
        assert_reaped(transport.pid)


@pytest.mark.anyio
async def test_leaving_the_opener_closes_the_transport_and_reaps_the_child() -> None:
    code = """
        import sys
        sys.stdin.read()
    """
    async with open_stdio("stdio://", options(code)) as transport:
        pid = transport.pid
    assert transport.returncode == 0
    assert_reaped(pid)
    with pytest.raises(CodexTransportError, match="closed"):
        await transport.send(b"{}")
    with pytest.raises(CodexTransportError, match="closed"):
        await transport.receive()


@pytest.mark.anyio
async def test_the_opener_yields_a_stdio_transport_with_diagnostics() -> None:
    code = """
        import sys
        sys.stderr.write("hello from stderr\\n")
        sys.stderr.flush()
        sys.stdin.read()
    """
    async with open_stdio("stdio://", options(code)) as transport:
        assert isinstance(transport, StdioTransport)
        assert transport.pid > 0
        assert transport.returncode is None
    assert transport.stderr_tail() == "hello from stderr"


@pytest.mark.anyio
async def test_a_program_that_cannot_start_raises_transport_error_naming_it() -> None:
    with pytest.raises(CodexTransportError, match="could not start '/nonexistent/codex'"):
        async with open_stdio("stdio://", {"command": ["/nonexistent/codex", "app-server"]}):
            pass


@pytest.mark.anyio
async def test_a_send_cancelled_before_it_starts_leaves_the_transport_usable() -> None:
    code = """
        import sys
        for line in sys.stdin:
            print(line.strip(), flush=True)
    """
    async with open_stdio("stdio://", options(code)) as transport:
        with anyio.CancelScope() as scope:
            scope.cancel()
            await transport.send(b'{"dropped":true}')
        assert scope.cancelled_caught
        with anyio.fail_after(WAIT):
            await transport.send(b'{"kept":true}')
            assert await transport.receive() == b'{"kept":true}'
