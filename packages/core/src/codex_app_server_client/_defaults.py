"""The "use the client's setting" marker, for options where ``None`` already means "no limit"."""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT", "Default"]


class Default:
    """Marks "use the client's setting" (for a continuation: "keep the turn's setting")."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<client default>"


DEFAULT: Final = Default()
