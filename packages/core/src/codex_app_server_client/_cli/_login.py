"""Which codex binary a ``stdio://`` client runs, and whether the server has a usable login."""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ..errors import CodexError, CodexProtocolError, CodexTransportError

if TYPE_CHECKING:
    from ..client import CodexClient


@dataclass(frozen=True, slots=True)
class FoundBinary:
    """The codex binary the stdio transport would start, and where it was found."""

    path: str
    source: str


def find_binary() -> FoundBinary:
    """The binary ``stdio://`` starts, found the way the stdio transport finds it.

    Raises:
        CodexTransportError: the stdio transport is not installed, or no binary was found
            (the message says how to provide one).
    """
    try:
        from codex_app_server_client_stdio import (  # pyright: ignore[reportMissingImports]
            resolve_default_command,  # pyright: ignore[reportUnknownVariableType]
        )
    except ImportError:
        raise CodexTransportError(
            "the stdio transport is not installed, so no local codex can be started: "
            "pip install 'codex-app-server-client[stdio]'"
        ) from None
    try:
        resolved = resolve_default_command()  # pyright: ignore[reportUnknownVariableType]
    except CodexTransportError:
        raise CodexTransportError(
            "no codex binary found: CODEX_BIN is not set, the openai-codex-cli-bin package "
            "is not installed, and there is no `codex` on PATH"
        ) from None
    # The stdio transport's own lookup says where the binary came from; asking it (rather
    # than repeating the lookup here) keeps doctor's answer true to what stdio:// runs.
    return FoundBinary(resolved.argv[0], resolved.source)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def codex_invocation(binary: FoundBinary | None) -> str:
    """How the user should type the codex command: ``codex`` when that is the same binary."""
    if binary is None:
        return "codex"
    on_path = shutil.which("codex")
    if on_path is not None and _same_file(on_path, binary.path):
        return "codex"
    return shlex.quote(binary.path)


@dataclass(frozen=True, slots=True)
class LoginState:
    """What the server says about its login: ``ok``, a description, and the fix if not ok."""

    ok: bool
    detail: str
    fix: str | None = None


def login_fix(codex: str, codex_home: str | None, *, remote: bool) -> str:
    """What to do when there is no login (``codex`` is how to run the binary)."""
    where = f"{codex_home}/config.toml" if codex_home else "$CODEX_HOME/config.toml"
    fix = (
        f"log in with `{codex} login` (ChatGPT account, opens a browser), or with an API key: "
        f"`printenv OPENAI_API_KEY | {codex} login --with-api-key`; or set `model_provider` "
        f"in {where} to a provider that needs no OpenAI login"
    )
    if remote:
        fix = "on the machine that runs the server, " + fix
    return fix


async def read_login(client: CodexClient, *, codex: str, remote: bool) -> LoginState:
    """Ask the server (``account/read``) whether turns can reach a model provider.

    Raises:
        CodexTransportError, CodexTimeoutError: the server could not be asked.
    """
    try:
        answer: dict[str, Any] = dict(await client.account.read())
    except CodexProtocolError as exc:
        said = exc.message.strip() or f"JSON-RPC error {exc.code} without a message"
        return LoginState(True, f"the server cannot report its login ({said}); not checked")
    account = answer.get("account")
    codex_home = client.initialize_result.get("codexHome")
    if isinstance(account, dict):
        details = cast("dict[str, Any]", account)
        kind = details.get("type")
        if kind == "chatgpt":
            who = details.get("email") or "a ChatGPT account"
            plan = details.get("planType")
            return LoginState(
                True, f"logged in with ChatGPT as {who}" + (f" ({plan})" if plan else "")
            )
        if kind == "apiKey":
            return LoginState(True, "logged in with an OpenAI API key")
        return LoginState(True, f"logged in ({kind})")
    provider = await _provider_name(client)
    if answer.get("requiresOpenaiAuth"):
        return LoginState(
            False,
            f"not logged in, and the model provider {provider!r} needs an OpenAI login",
            login_fix(codex, codex_home if isinstance(codex_home, str) else None, remote=remote),
        )
    return LoginState(
        True, f"no login needed: model provider {provider!r} from the server's config"
    )


async def _provider_name(client: CodexClient) -> str:
    try:
        answer: dict[str, Any] = dict(await client.config.read())
    except CodexError:
        return "openai"
    config = answer.get("config")
    if isinstance(config, dict):
        provider = cast("dict[str, Any]", config).get("model_provider")
        if isinstance(provider, str) and provider:
            return provider
    return "openai"


async def require_login(client: CodexClient, *, remote: bool) -> None:
    """Raise :class:`NotLoggedInError` when the server cannot run a turn for lack of a login."""
    from ._exit import NotLoggedInError

    binary: FoundBinary | None = None
    if not remote:
        try:
            binary = find_binary()
        except CodexTransportError:
            binary = None
    state = await read_login(client, codex=codex_invocation(binary), remote=remote)
    if not state.ok:
        raise NotLoggedInError(f"{state.detail}. To fix it, {state.fix}.")
