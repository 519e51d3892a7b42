"""Where the ``codex`` binary is: the one lookup that every part of the SDK uses.

The stdio transport's default command (``codex_app_server_client_stdio.resolve_default_command``),
the testing kit's :func:`~codex_app_server_client.testing.find_codex_binary` and, through the
stdio transport, ``codex-client doctor`` all call :func:`locate_codex`, so they cannot disagree
about which binary runs. The order is fixed and documented:

1. the ``CODEX_BIN`` environment variable, when set and not empty;
2. the binary shipped by an installed ``openai-codex-cli-bin`` wheel (module ``codex_cli_bin``),
   together with the wheel's folder of helper tools;
3. ``codex`` on ``PATH``.

Only the standard library is imported here, and ``import codex_app_server_client`` does not
import this module: the stdio transport and the testing kit load it when they are loaded.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Protocol, cast

__all__ = ["CODEX_BIN_ENV", "WHEEL_NAME", "FoundCodex", "locate_codex"]

CODEX_BIN_ENV = "CODEX_BIN"
"""Environment variable naming the codex binary to run; it wins over every other lookup."""

WHEEL_NAME = "openai-codex-cli-bin"
"""The distribution that ships a codex binary (import name ``codex_cli_bin``)."""

_WHEEL_MODULE = "codex_cli_bin"


class _Wheel(Protocol):
    """The part of the ``codex_cli_bin`` module that the lookup uses."""

    def bundled_codex_path(self) -> os.PathLike[str]: ...

    def bundled_path_dir(self) -> os.PathLike[str] | None: ...


@dataclass(frozen=True, slots=True)
class FoundCodex:
    """A codex binary and where it was found.

    Attributes:
        path: the binary to run.
        source: where it was found, for messages: ``"$CODEX_BIN"``, ``"the
            openai-codex-cli-bin package"`` or ``"PATH"``.
        helper_dir: the wheel's ``codex-path`` folder of helper tools (such as ``rg``), to put
            in front of the child's ``PATH``; ``None`` when there is none.
    """

    path: str
    source: str
    helper_dir: str | None = None


def _codex_bin_from_env() -> str | None:
    """The value of ``CODEX_BIN``, or ``None`` when it is unset or empty."""
    value = os.environ.get(CODEX_BIN_ENV, "")
    return value or None


def _codex_from_wheel() -> tuple[str, str | None] | None:
    """The wheel's binary and its helper-tool folder, or ``None`` when there is no usable wheel."""
    try:
        # Optional dependency, imported by name so that the SDK (and its type check) works
        # without it.
        wheel = cast("_Wheel", importlib.import_module(_WHEEL_MODULE))
    except ImportError:
        return None
    try:
        binary = os.fspath(wheel.bundled_codex_path())
        helpers = wheel.bundled_path_dir()
        helper_dir: str | None = os.fspath(helpers) if helpers is not None else None
    except (OSError, AttributeError, TypeError):
        # A broken or unfamiliar install of the wheel counts as no wheel; the next lookup runs.
        return None
    if not os.path.isfile(binary):
        # The wheel says where its binary should be, but nothing is there: no wheel either.
        return None
    return binary, helper_dir


def _codex_on_path() -> str | None:
    """The ``codex`` found on ``PATH``, or ``None``."""
    # shutil pulls in bz2, lzma and zlib; only this last lookup needs it, so it loads here.
    import shutil

    return shutil.which("codex")


def locate_codex() -> FoundCodex | None:
    """The codex binary to run, looked up in the documented order, or ``None`` if none is found."""
    from_env = _codex_bin_from_env()
    if from_env is not None:
        return FoundCodex(from_env, f"${CODEX_BIN_ENV}")
    from_wheel = _codex_from_wheel()
    if from_wheel is not None:
        binary, helpers = from_wheel
        return FoundCodex(binary, f"the {WHEEL_NAME} package", helpers)
    on_path = _codex_on_path()
    if on_path is not None:
        return FoundCodex(on_path, "PATH")
    return None
