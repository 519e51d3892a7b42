"""``codex-client doctor``: is everything in place to chat, and if not, what to do."""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import anyio

from ..errors import CodexError, CodexTransportError
from ._errors import describe
from ._exit import EXIT_CONNECTION, EXIT_NOT_LOGGED_IN, EXIT_OK
from ._login import FoundBinary, codex_invocation, find_binary, read_login

if TYPE_CHECKING:
    from ..client import CodexClient
    from ._context import Context

Status = Literal["ok", "fail", "warn", "skip"]

_VERSION = re.compile(r"/(\d+\.\d+\.\d+\S*)")


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: what was checked, how it went, and the fix on failure."""

    name: str
    status: Status
    detail: str
    fix: str | None = None
    exit_code: int = EXIT_OK


def _first_line(
    error: BaseException, args: argparse.Namespace, *, waited: float | None = None
) -> tuple[str, str]:
    """The error's text (in CLI terms, never empty): its first line, and the rest."""
    text = describe(error, args, waited=waited).strip()
    first, _, rest = text.partition("\n")
    return first.strip() or type(error).__name__, rest


class _Doctor:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.remote = not ctx.args.url.startswith("stdio:")
        self.failed: list[Check] = []

    def report(self, check: Check, more: str = "") -> None:
        console = self.ctx.console
        if check.status == "fail":
            self.failed.append(check)
        if console.json_mode:
            console.event(
                "check", name=check.name, status=check.status, detail=check.detail, fix=check.fix
            )
            return
        console.out(f"{check.status.upper():<4}  {check.name:<10}  {check.detail}")
        for line in more.strip("\n").splitlines():
            console.out(f"      | {line}")
        if check.fix:
            console.out(f"      fix: {check.fix}")

    def local_failure(self, name: str, detail: str, fix: str, more: str = "") -> None:
        # With --url the local binary is not what chat would use: its trouble is a warning.
        status: Status = "warn" if self.remote else "fail"
        self.report(Check(name, status, detail, fix, EXIT_CONNECTION), more)

    async def binary(self) -> FoundBinary | None:
        try:
            found = find_binary()
        except CodexTransportError as exc:
            fix = (
                "pip install 'codex-app-server-client[stdio]'"
                if "stdio transport" in str(exc)
                else "pip install openai-codex-cli-bin (in this repository: uv sync), or set "
                "CODEX_BIN=/path/to/codex, or put `codex` on PATH"
            )
            self.local_failure("binary", _first_line(exc, self.ctx.args)[0], fix)
            return None
        timeout: float = self.ctx.args.timeout
        try:
            with anyio.fail_after(timeout):
                done = await anyio.run_process([found.path, "--version"], check=False)
        except TimeoutError:
            self.local_failure(
                "binary",
                f"`{found.path} --version` (found via {found.source}) gave no answer within "
                f"{timeout:g} s (--timeout {timeout:g})",
                "check that it is a codex executable and that it can run here (try it by "
                "hand); raise --timeout if the machine is just slow",
            )
            return None
        except OSError as exc:
            reason = exc.strerror or _first_line(exc, self.ctx.args)[0]
            self.local_failure(
                "binary",
                f"{found.path} (found via {found.source}) does not run: {reason}",
                "point CODEX_BIN at a codex executable built for this machine, or reinstall "
                "openai-codex-cli-bin",
            )
            return None
        version = done.stdout.decode("utf-8", "replace").strip() or "version unknown"
        if done.returncode != 0:
            self.local_failure(
                "binary",
                f"`{found.path} --version` exited with status {done.returncode}",
                "point CODEX_BIN at a working codex executable, or reinstall openai-codex-cli-bin",
                done.stderr.decode("utf-8", "replace"),
            )
            return None
        self.report(Check("binary", "ok", f"{found.path} (found via {found.source}), {version}"))
        return found

    async def app_server(self, found: FoundBinary) -> None:
        """Start ``codex app-server``; without ``--url`` also check its login meanwhile."""
        ctx = self.ctx
        started = time.monotonic()
        client = ctx.connect("stdio://", {}, request_timeout=ctx.args.timeout)
        answered = False
        try:
            # The whole visit is bounded: spawn, handshake, and the login questions.
            with anyio.fail_after(ctx.args.timeout * 3):
                async with client:
                    answered = True
                    info = client.initialize_result
                    match = _VERSION.search(str(info.get("userAgent", "")))
                    version = f"codex {match.group(1)}, " if match else ""
                    self.report(
                        Check(
                            "app-server",
                            "ok",
                            f"started and answered initialize in "
                            f"{time.monotonic() - started:.2f} s "
                            f"({version}CODEX_HOME {info.get('codexHome', '?')})",
                        )
                    )
                    if not self.remote:
                        await self.login(client, found)
        except (CodexError, TimeoutError) as exc:
            first, rest = _first_line(exc, ctx.args, waited=ctx.args.timeout * 3)
            if answered:
                self.report(self.lost("login", exc))
                return
            self.local_failure(
                "app-server",
                f"`{found.path} app-server` did not answer initialize: {first}",
                f"run `{codex_invocation(found)} app-server` by hand to see why; a bad "
                "setting in $CODEX_HOME/config.toml (default ~/.codex) is the usual cause",
                rest,
            )
            if not self.remote:
                self.report(Check("login", "skip", "no server answered, so the login is unknown"))

    async def server(self, found: FoundBinary | None) -> None:
        """``--url``: reach the server, then check its login."""
        ctx = self.ctx
        url: str = ctx.args.url
        answered = False
        try:
            client = ctx.open_client()
            with anyio.fail_after(ctx.args.timeout * 3):
                async with client:
                    answered = True
                    agent = client.initialize_result.get("userAgent", "?")
                    self.report(Check("server", "ok", f"{url} answered initialize ({agent})"))
                    await self.login(client, found)
        except (CodexError, TimeoutError, ValueError) as exc:
            if answered:
                self.report(self.lost("login", exc))
                return
            first, rest = _first_line(exc, ctx.args, waited=ctx.args.timeout * 3)
            self.report(
                Check(
                    "server",
                    "fail",
                    f"{url} is not reachable: {first}",
                    "start it with `codex app-server --listen ws://127.0.0.1:PORT` (on the "
                    "server's machine), check the URL, and pass --token if it requires auth",
                    EXIT_CONNECTION,
                ),
                rest,
            )
            self.report(Check("login", "skip", "no server answered, so the login is unknown"))

    def lost(self, name: str, exc: BaseException) -> Check:
        return Check(
            name,
            "fail",
            f"the server stopped answering: "
            f"{_first_line(exc, self.ctx.args, waited=self.ctx.args.timeout * 3)[0]}",
            "run the doctor again; if it persists, run the server by hand to see its errors",
            EXIT_CONNECTION,
        )

    async def login(self, client: CodexClient, found: FoundBinary | None) -> None:
        state = await read_login(client, codex=codex_invocation(found), remote=self.remote)
        if state.ok:
            self.report(Check("login", "ok", state.detail))
        else:
            self.report(Check("login", "fail", state.detail, state.fix, EXIT_NOT_LOGGED_IN))


async def run_doctor(ctx: Context) -> int:
    """Run the checks in order (binary, app-server, server for ``--url``, login)."""
    doctor = _Doctor(ctx)
    found = await doctor.binary()
    if found is not None:
        await doctor.app_server(found)
    else:
        doctor.report(Check("app-server", "skip", "no binary to start"))
        if not doctor.remote:
            doctor.report(Check("login", "skip", "no server answered, so the login is unknown"))
    if doctor.remote:
        await doctor.server(found)
    code = doctor.failed[0].exit_code if doctor.failed else EXIT_OK
    console = ctx.console
    if console.json_mode:
        console.event("result", ok=not doctor.failed, exit_code=code)
    elif doctor.failed:
        console.note(f"codex-client: {len(doctor.failed)} check(s) failed; see the fix lines")
    else:
        console.note("codex-client: all checks passed")
    return code
