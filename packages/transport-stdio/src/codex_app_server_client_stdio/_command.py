"""Finding the ``codex`` binary to run when the caller gives no ``command``.

The lookup order is fixed and documented, so that a user can always tell which binary runs:

1. the ``CODEX_BIN`` environment variable, when set and not empty;
2. the binary shipped by an installed ``openai-codex-cli-bin`` wheel (module ``codex_cli_bin``);
3. ``codex`` on ``PATH``.

This module only imports the standard library: it is imported when the package is.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from codex_app_server_client.errors import CodexTransportError

__all__ = ["CODEX_BIN_ENV", "ResolvedCommand", "default_codex_command", "resolve_default_command"]

CODEX_BIN_ENV = "CODEX_BIN"
"""Environment variable naming the codex binary to run; it wins over every other lookup."""

_WHEEL_NAME = "openai-codex-cli-bin"


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


def _codex_bin_from_env() -> str | None:
    """The value of ``CODEX_BIN``, or ``None`` when it is unset or empty."""
    value = os.environ.get(CODEX_BIN_ENV, "")
    return value or None


def _codex_from_wheel() -> tuple[str, str | None] | None:
    """The wheel's binary and its helper-tool folder, or ``None`` when the wheel is absent."""
    try:
        # Optional dependency: imported here so that the package works without it.
        import codex_cli_bin
    except ImportError:
        return None
    try:
        binary = os.fspath(codex_cli_bin.bundled_codex_path())
        helpers = codex_cli_bin.bundled_path_dir()
    except (OSError, AttributeError):
        # A broken or unfamiliar install of the wheel counts as no wheel; the next lookup runs.
        return None
    helper_dir: str | None = os.fspath(helpers) if helpers is not None else None
    return str(binary), helper_dir


def _codex_on_path() -> str | None:
    """The ``codex`` found on ``PATH``, or ``None``."""
    return shutil.which("codex")


def resolve_default_command() -> ResolvedCommand:
    """Find the codex binary in the documented order and build ``[binary, "app-server"]``.

    Raises:
        CodexTransportError: no binary was found in any of the three places; the message
            names them and the three ways to fix it.
    """
    from_env = _codex_bin_from_env()
    if from_env is not None:
        return ResolvedCommand([from_env, "app-server"], f"${CODEX_BIN_ENV}")
    from_wheel = _codex_from_wheel()
    if from_wheel is not None:
        binary, helpers = from_wheel
        return ResolvedCommand(
            [binary, "app-server"], f"the {_WHEEL_NAME} package", path_prepend=helpers
        )
    on_path = _codex_on_path()
    if on_path is not None:
        return ResolvedCommand([on_path, "app-server"], "PATH")
    raise CodexTransportError(
        "cannot find the codex binary to run `codex app-server`: the "
        f"{CODEX_BIN_ENV} environment variable is not set, the {_WHEEL_NAME} package is "
        "not installed, and there is no `codex` on PATH. Fix it in one of these ways: "
        f"`pip install {_WHEEL_NAME}`; set {CODEX_BIN_ENV}=/path/to/codex; or pass "
        "command=['/path/to/codex', 'app-server'] when opening the stdio transport."
    )


def default_codex_command() -> list[str]:
    """The argv the stdio transport runs when no ``command`` is given.

    It is ``[codex, "app-server"]`` where ``codex`` comes from, in order: ``$CODEX_BIN``, the
    ``openai-codex-cli-bin`` wheel, ``codex`` on ``PATH``. Call it to see (or log) what would
    run; pass your own ``command=[...]`` to run something else.

    Raises:
        CodexTransportError: no codex binary was found; the message says how to provide one.
    """
    return resolve_default_command().argv
