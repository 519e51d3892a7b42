"""The command the stdio transport runs when the caller gives no ``command``.

The ``codex`` binary is looked up in a fixed, documented order, so that a user can always tell
which binary runs:

1. the ``CODEX_BIN`` environment variable, when set and not empty;
2. the binary shipped by an installed ``openai-codex-cli-bin`` wheel (module ``codex_cli_bin``);
3. ``codex`` on ``PATH``.

The lookup itself lives in core (``codex_app_server_client._codex_binary``) and is shared with
the testing kit's ``find_codex_binary``; this module turns its answer into an argv.

This module only imports the standard library and core: it is imported when the package is.
"""

from __future__ import annotations

from dataclasses import dataclass

from codex_app_server_client._codex_binary import CODEX_BIN_ENV, WHEEL_NAME, locate_codex
from codex_app_server_client.errors import CodexTransportError

__all__ = ["CODEX_BIN_ENV", "ResolvedCommand", "default_codex_command", "resolve_default_command"]


@dataclass(frozen=True, slots=True)
class ResolvedCommand:
    """A resolved default command and what the child process needs alongside it.

    Attributes:
        argv: the full argument vector, ending in ``app-server``.
        source: where the binary was found, for error messages.
        path_prepend: a directory to put in front of the child's ``PATH`` (the wheel's
            ``codex-path`` folder, which ships helper tools such as ``rg``), or ``None``.
    """

    argv: list[str]
    source: str
    path_prepend: str | None = None


def resolve_default_command() -> ResolvedCommand:
    """Find the codex binary in the documented order and build ``[binary, "app-server"]``.

    Raises:
        CodexTransportError: no binary was found in any of the three places; the message
            names them and the three ways to fix it.
    """
    found = locate_codex()
    if found is None:
        raise CodexTransportError(
            "cannot find the codex binary to run `codex app-server`: the "
            f"{CODEX_BIN_ENV} environment variable is not set, the {WHEEL_NAME} package is "
            "not installed, and there is no `codex` on PATH. Fix it in one of these ways: "
            f"`pip install {WHEEL_NAME}`; set {CODEX_BIN_ENV}=/path/to/codex; or pass "
            "command=['/path/to/codex', 'app-server'] when opening the stdio transport."
        )
    return ResolvedCommand([found.path, "app-server"], found.source, found.helper_dir)


def default_codex_command() -> list[str]:
    """The argv the stdio transport runs when no ``command`` is given.

    It is ``[codex, "app-server"]`` where ``codex`` comes from, in order: ``$CODEX_BIN``, the
    ``openai-codex-cli-bin`` wheel, ``codex`` on ``PATH``. Call it to see (or log) what would
    run; pass your own ``command=[...]`` to run something else.

    Raises:
        CodexTransportError: no codex binary was found; the message says how to provide one.
    """
    return resolve_default_command().argv
